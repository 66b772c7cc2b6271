/* activity.c: see activity.h. The writing side is in the outcome scripts
 * (queue_scripts.c); this file reads. */
#include "queue/activity.h"
#include "queue/redis_cmd.h"

#include <stdlib.h>
#include <string.h>

const char *const m2j_activity_outcomes[M2J_ACT_N] = { "processed", "skipped", "retried", "dead_lettered",
                                                        "replayed" };

int m2j_activity_outcome_index(const char *s)
{
    for (int i = 0; s && i < M2J_ACT_N; i++)
        if (strcmp(s, m2j_activity_outcomes[i]) == 0)
            return i;
    return -1;
}

size_t m2j_activity_cut(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n <= max)
        return n;
    n = max;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    return n;
}

/* KEYS[1] P:activity
 * ARGV[1] rows wanted, ARGV[2] outcome ("" = any), ARGV[3] part of the ref
 * ("" = any), ARGV[4] where to start ("+" or "(<id>", exclusive), ARGV[5]
 * entries to read at most.
 * Reply: {rows, next}: rows as XREVRANGE gives them, next the id to go on
 * from (false when the log was read to its end). Read only. */
static const char *const READ_SCRIPT =
    "local want, outcome, q = tonumber(ARGV[1]), ARGV[2], ARGV[3]\n"
    "local cursor, budget = ARGV[4], tonumber(ARGV[5])\n"
    "local out, nxt = {}, false\n"
    "while budget > 0 do\n"
    "  local n = math.min(budget, 500)\n"
    "  local batch = redis.call('XREVRANGE', KEYS[1], cursor, '-', 'COUNT', n)\n"
    "  budget = budget - #batch\n"
    "  for i, e in ipairs(batch) do\n"
    "    local f, o, r = e[2], '', ''\n"
    "    for k = 1, #f, 2 do\n"
    "      if f[k] == 'outcome' then o = f[k + 1] elseif f[k] == 'ref' then r = f[k + 1] end\n"
    "    end\n"
    "    if (outcome == '' or o == outcome) and (q == '' or string.find(r, q, 1, true)) then\n"
    "      out[#out + 1] = e\n"
    "      if #out == want then\n"
    "        if i < #batch or #batch == n then nxt = e[1] end\n"
    "        return {out, nxt}\n"
    "      end\n"
    "    end\n"
    "  end\n"
    "  if #batch < n then return {out, false} end\n"
    "  cursor = '(' .. batch[#batch][1]\n"
    "  nxt = batch[#batch][1]\n"
    "end\n"
    "return {out, nxt}\n";

static bool stream_id_ok(const char *s)
{
    size_t d = strspn(s, "0123456789");
    if (d == 0 || d > 20 || s[d] != '-')
        return false;
    size_t e = strspn(s + d + 1, "0123456789");
    return e > 0 && e <= 20 && s[d + 1 + e] == '\0';
}

m2j_rc m2j_activity_args(const char *prefix, const m2j_activity_query *q, m2j_redis_args *out, m2j_err *err)
{
    memset(out, 0, sizeof *out);
    const char *outcome = q->outcome ? q->outcome : "";
    const char *ref = q->ref ? q->ref : "";
    if (*outcome && m2j_activity_outcome_index(outcome) < 0)
        return m2j_fail(err, M2J_ERR_INVALID, "unknown outcome");
    if (strlen(ref) > M2J_ACTIVITY_QUERY_MAX)
        return m2j_fail(err, M2J_ERR_INVALID, "an order number is at most %d characters", M2J_ACTIVITY_QUERY_MAX);
    for (const char *p = ref; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return m2j_fail(err, M2J_ERR_INVALID, "an order number has no control characters");
    if (q->before && !stream_id_ok(q->before))
        return m2j_fail(err, M2J_ERR_INVALID, "malformed position");
    size_t limit = q->limit == 0 ? 50 : q->limit > M2J_ACTIVITY_MAX_ROWS ? M2J_ACTIVITY_MAX_ROWS : q->limit;
    m2j_redis_args_adds(out, "EVAL");
    m2j_redis_args_adds(out, READ_SCRIPT);
    m2j_redis_args_adds(out, "1");
    m2j_redis_args_addf(out, "%s:activity", prefix);
    m2j_redis_args_addll(out, (long long)limit);
    m2j_redis_args_adds(out, outcome);
    m2j_redis_args_adds(out, ref);
    if (q->before)
        m2j_redis_args_addf(out, "(%s", q->before);
    else
        m2j_redis_args_adds(out, "+");
    m2j_redis_args_addll(out, M2J_ACTIVITY_SCAN_MAX);
    m2j_rc rc = m2j_redis_args_check(out, err);
    if (rc != M2J_OK)
        m2j_redis_args_free(out);
    return rc;
}

void m2j_activity_rows_free(m2j_activity_row *rows, size_t n)
{
    for (size_t i = 0; rows && i < n; i++) {
        m2j_activity_row *r = &rows[i];
        free(r->id);
        free(r->event_id);
        free(r->kind);
        free(r->outcome);
        free(r->ref);
        free(r->jortt_id);
        free(r->reason);
    }
    free(rows);
}

static char *field_dup(const redisReply *fields, const char *name)
{
    for (size_t k = 0; k + 1 < fields->elements; k += 2) {
        const redisReply *f = fields->element[k], *v = fields->element[k + 1];
        if (f->type == REDIS_REPLY_STRING && v->type == REDIS_REPLY_STRING && strcmp(f->str, name) == 0)
            return strndup(v->str, v->len);
    }
    return strdup("");
}

m2j_rc m2j_activity_parse(const redisReply *r, m2j_activity_row **rows, size_t *n, char **next, m2j_err *err)
{
    *rows = NULL;
    *n = 0;
    *next = NULL;
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2 || r->element[0]->type != REDIS_REPLY_ARRAY)
        return m2j_fail(err, M2J_ERR_INTERNAL, "activity script: unexpected reply");
    const redisReply *list = r->element[0];
    m2j_activity_row *out = list->elements ? calloc(list->elements, sizeof *out) : NULL;
    if (list->elements && !out)
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    size_t k = 0;
    bool oom = false;
    for (size_t i = 0; i < list->elements && !oom; i++) {
        const redisReply *e = list->element[i];
        if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 || e->element[0]->type != REDIS_REPLY_STRING ||
            e->element[1]->type != REDIS_REPLY_ARRAY)
            continue;
        m2j_activity_row *row = &out[k++];
        const redisReply *f = e->element[1];
        row->id = strdup(e->element[0]->str);
        row->at_ms = m2j_reply_ll(e->element[0]->str);
        row->event_id = field_dup(f, "event_id");
        row->kind = field_dup(f, "kind");
        row->outcome = field_dup(f, "outcome");
        row->ref = field_dup(f, "ref");
        row->jortt_id = field_dup(f, "jortt_id");
        row->reason = field_dup(f, "reason");
        oom = !row->id || !row->event_id || !row->kind || !row->outcome || !row->ref || !row->jortt_id ||
              !row->reason;
    }
    if (!oom && r->element[1]->type == REDIS_REPLY_STRING)
        oom = !(*next = strdup(r->element[1]->str));
    if (oom) {
        m2j_activity_rows_free(out, k);
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    }
    *rows = out;
    *n = k;
    return M2J_OK;
}

/* KEYS[1] P:activity (the minute hashes are named after it)
 * Reply: {current unix minute, then 60 HGETALL replies, oldest first}. */
static const char *const THROUGHPUT_SCRIPT =
    "local t = redis.call('TIME')\n"
    "local m0 = math.floor(tonumber(t[1]) / 60)\n"
    "local out = {m0}\n"
    "for i = 59, 0, -1 do\n"
    "  out[#out + 1] = redis.call('HGETALL', KEYS[1] .. ':minute:' .. string.format('%d', m0 - i))\n"
    "end\n"
    "return out\n";

m2j_rc m2j_throughput_args(const char *prefix, m2j_redis_args *out, m2j_err *err)
{
    memset(out, 0, sizeof *out);
    m2j_redis_args_adds(out, "EVAL");
    m2j_redis_args_adds(out, THROUGHPUT_SCRIPT);
    m2j_redis_args_adds(out, "1");
    m2j_redis_args_addf(out, "%s:activity", prefix);
    m2j_rc rc = m2j_redis_args_check(out, err);
    if (rc != M2J_OK)
        m2j_redis_args_free(out);
    return rc;
}

m2j_rc m2j_throughput_parse(const redisReply *r, m2j_throughput *out, m2j_err *err)
{
    memset(out, 0, sizeof *out);
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 61 || r->element[0]->type != REDIS_REPLY_INTEGER)
        return m2j_fail(err, M2J_ERR_INTERNAL, "throughput script: unexpected reply");
    out->first_minute = r->element[0]->integer - 59;
    for (size_t i = 0; i < 60; i++) {
        const redisReply *h = r->element[1 + i];
        if (h->type != REDIS_REPLY_ARRAY)
            continue;
        for (int o = 0; o < M2J_ACT_N; o++) {
            long long v = m2j_reply_ll(m2j_reply_field(h, m2j_activity_outcomes[o]));
            out->minute[i][o] = v;
            out->total[o] += v;
        }
    }
    return M2J_OK;
}
