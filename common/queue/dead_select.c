/* dead_select.c: see dead_select.h. */
#include "queue/dead_select.h"
#include "queue/queue_internal.h"
#include "queue/redis_cmd.h"
#include "base/json_util.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* KEYS[1] dead index
 * ARGV[1] the dead records' key prefix ("P:dead:"; the records are named
 * after the ids in the index), ARGV[2] lowest dead_at ("-inf" or ms),
 * ARGV[3] the reason filter in lower case ("" = any), ARGV[4] rows at most
 * (0 = all, -1 = none), ARGV[5] "1" = whole records, "0" = without job and
 * error details.
 * Reply: {count matching, {{event id, {field, value, ...}}, ...}}. Read only. */
static const char *const SELECT_SCRIPT =
    "local ids = redis.call('ZREVRANGEBYSCORE', KEYS[1], '+inf', ARGV[2])\n"
    "local q, limit, whole = ARGV[3], tonumber(ARGV[4]), ARGV[5] == '1'\n"
    "local fields = {'event_id', 'kind', 'ref', 'reason', 'http_status', 'error_key', 'attempts',\n"
    "                'first_try', 'last_try', 'dead_at'}\n"
    "local total, out = 0, {}\n"
    "for _, id in ipairs(ids) do\n"
    "  local k = ARGV[1] .. id\n"
    "  local ok\n"
    "  if q ~= '' then\n"
    "    local r = redis.call('HGET', k, 'reason')\n"
    "    ok = r and string.find(string.lower(r), q, 1, true)\n"
    "  else\n"
    "    ok = redis.call('EXISTS', k) == 1\n"
    "  end\n"
    "  if ok then\n"
    "    total = total + 1\n"
    "    if limit == 0 or #out < limit then\n"
    "      if whole then\n"
    "        out[#out + 1] = {id, redis.call('HGETALL', k)}\n"
    "      else\n"
    "        local v, flat = redis.call('HMGET', k, unpack(fields)), {}\n"
    "        for i, f in ipairs(fields) do\n"
    "          if v[i] then flat[#flat + 1] = f; flat[#flat + 1] = v[i] end\n"
    "        end\n"
    "        out[#out + 1] = {id, flat}\n"
    "      end\n"
    "    end\n"
    "  end\n"
    "end\n"
    "return {total, out}\n";

m2j_rc m2j_dead_select_args(const char *prefix, const m2j_dead_query *dq, m2j_redis_args *out, m2j_err *err)
{
    memset(out, 0, sizeof *out);
    const char *reason = dq->reason ? dq->reason : "";
    size_t n = strlen(reason);
    if (n > M2J_DEAD_REASON_QUERY_MAX)
        return m2j_fail(err, M2J_ERR_INVALID, "a reason filter is at most %d characters", M2J_DEAD_REASON_QUERY_MAX);
    char low[M2J_DEAD_REASON_QUERY_MAX + 1];
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)reason[i];
        if (c < 0x20 || c == 0x7f)
            return m2j_fail(err, M2J_ERR_INVALID, "a reason filter has no control characters");
        low[i] = c < 0x80 ? (char)tolower(c) : (char)c;
    }
    low[n] = '\0';
    m2j_redis_args_adds(out, "EVAL");
    m2j_redis_args_adds(out, SELECT_SCRIPT);
    m2j_redis_args_adds(out, "1");
    m2j_redis_args_addf(out, "%s:dead:index", prefix);
    m2j_redis_args_addf(out, "%s:dead:", prefix);
    if (dq->since_ms > 0)
        m2j_redis_args_addll(out, dq->since_ms);
    else
        m2j_redis_args_adds(out, "-inf");
    m2j_redis_args_adds(out, low);
    m2j_redis_args_addll(out, dq->count_only ? -1 : (long long)dq->limit);
    m2j_redis_args_adds(out, dq->whole ? "1" : "0");
    m2j_rc rc = m2j_redis_args_check(out, err);
    if (rc != M2J_OK)
        m2j_redis_args_free(out);
    return rc;
}

void m2j_dead_entries_free(m2j_dead_entry *arr, size_t n)
{
    for (size_t i = 0; arr && i < n; i++)
        m2j_dead_entry_clear(&arr[i]);
    free(arr);
}

m2j_rc m2j_dead_record_parse(const redisReply *r, json_object **out, m2j_err *err)
{
    static const char *const ints[] = { "http_status", "attempts", "first_try", "last_try", "dead_at", NULL };
    *out = NULL;
    if (!r || r->type != REDIS_REPLY_ARRAY)
        return m2j_fail(err, M2J_ERR_INTERNAL, "dead record: unexpected reply");
    json_object *o = json_object_new_object();
    if (!o)
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i + 1 < r->elements; i += 2) {
        const redisReply *f = r->element[i], *v = r->element[i + 1];
        if (f->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
            continue;
        json_object *val = NULL;
        if (!strcmp(f->str, "job") || !strcmp(f->str, "error_details")) {
            if (v->len == 0 || m2j_json_parse(v->str, v->len, &val, NULL) != M2J_OK)
                val = v->len ? json_object_new_string_len(v->str, (int)v->len) : NULL;
        } else {
            bool is_int = false;
            for (int k = 0; ints[k]; k++)
                is_int = is_int || !strcmp(f->str, ints[k]);
            val = is_int ? json_object_new_int64(m2j_reply_ll(v->str)) : json_object_new_string_len(v->str, (int)v->len);
        }
        json_object_object_add(o, f->str, val);
    }
    *out = o;
    return M2J_OK;
}

static const char *field_of(const redisReply *flat, const char *name, size_t *len)
{
    for (size_t i = 0; i + 1 < flat->elements; i += 2) {
        const redisReply *f = flat->element[i], *v = flat->element[i + 1];
        if (f->type == REDIS_REPLY_STRING && v->type == REDIS_REPLY_STRING && strcmp(f->str, name) == 0) {
            *len = v->len;
            return v->str;
        }
    }
    return NULL;
}

m2j_rc m2j_dead_select_parse(const redisReply *r, m2j_dead_entry **out, size_t *n, long long *total, m2j_err *err)
{
    *out = NULL;
    *n = 0;
    *total = 0;
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2 || r->element[0]->type != REDIS_REPLY_INTEGER ||
        r->element[1]->type != REDIS_REPLY_ARRAY)
        return m2j_fail(err, M2J_ERR_INTERNAL, "dead letter selection: unexpected reply");
    const redisReply *rows = r->element[1];
    m2j_dead_entry *arr = rows->elements ? calloc(rows->elements, sizeof *arr) : NULL;
    if (rows->elements && !arr)
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    size_t k = 0;
    for (size_t i = 0; i < rows->elements; i++) {
        const redisReply *e = rows->element[i];
        if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 || e->element[0]->type != REDIS_REPLY_STRING ||
            e->element[1]->type != REDIS_REPLY_ARRAY)
            continue;
        m2j_dead_entry *d = &arr[k++];
        size_t jl = 0;
        const char *job = field_of(e->element[1], "job", &jl);
        m2j_rc rc = m2j_dead_record_parse(e->element[1], &d->record, err);
        if (rc == M2J_OK && (!(d->event_id = strdup(e->element[0]->str)) || (job && !(d->job_text = strndup(job, jl)))))
            rc = m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
        if (rc != M2J_OK) {
            m2j_dead_entries_free(arr, k);
            return rc;
        }
    }
    if (k == 0) {
        free(arr);
        arr = NULL;
    }
    *out = arr;
    *n = k;
    *total = r->element[0]->integer;
    return M2J_OK;
}

m2j_rc m2j_queue_dead_select(m2j_queue *q, const m2j_dead_query *dq, m2j_dead_entry **out, size_t *n,
                             long long *total, m2j_err *err)
{
    *out = NULL;
    *n = 0;
    *total = 0;
    m2j_redis_args a;
    m2j_rc rc = m2j_dead_select_args(m2j_queue_prefix(q), dq, &a, err);
    if (rc != M2J_OK)
        return rc;
    redisReply *r = NULL;
    rc = m2j_q_eval(q, a.argv[1], 1, (const char **)a.argv + 3, a.argc - 4, (const char **)a.argv + 4, &r, err);
    if (rc == M2J_OK)
        rc = m2j_dead_select_parse(r, out, n, total, err);
    if (r)
        freeReplyObject(r);
    m2j_redis_args_free(&a);
    return rc;
}
