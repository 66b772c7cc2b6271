/* retention.c: see retention.h.
 *
 * The scripts name only the keys they are handed, except the dead-letter
 * sweep, which builds P:dead:<id> from the index it reads (like the enqueue
 * script builds its statistics key): m2jortt runs on one Redis, not a
 * cluster, and the index is the only list of dead letters there is. */
#include "queue/retention.h"
#include "queue/queue_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BATCH 500
#define DAY_MS (86400LL * 1000)

void m2j_retention_cutoffs(const m2j_config *cfg, long long now_ms, long long *dead_before_ms,
                           long long *processed_before_ms)
{
    *dead_before_ms = now_ms - cfg->retention.failed_days * DAY_MS;
    *processed_before_ms = now_ms - cfg->retention.processed_days * DAY_MS;
}

/* KEYS[1] dead index; ARGV[1] prefix, ARGV[2] cut-off ms, ARGV[3] batch.
 * Deletes up to a batch of dead letters that died before the cut-off (the
 * score, read again here: a replayed-and-died-again event has a new one).
 * Reply: how many went. */
static const char *const DEAD_SCRIPT =
    "local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[2], 'LIMIT', 0, tonumber(ARGV[3]))\n"
    "for _, id in ipairs(ids) do\n"
    "  redis.call('DEL', ARGV[1] .. ':dead:' .. id)\n"
    "  redis.call('ZREM', KEYS[1], id)\n"
    "end\n"
    "return #ids\n";

/* KEYS: records of one SCAN batch, then P:retention:processed_before;
 * ARGV[1] cut-off ms, ARGV[2] '1' to delete, ARGV[3] 'order' | 'credit'.
 * Reply: how many qualify (and went). Removing an order record raises the
 * horizon to the cut-off (never lowers it) in the same step, so no reader
 * ever finds a record gone without the horizon saying it may be. */
static const char *const RECORD_SCRIPT =
    "local cutoff, apply, kind = tonumber(ARGV[1]), ARGV[2] == '1', ARGV[3]\n"
    "local n = 0\n"
    "for i = 1, #KEYS - 1 do\n"
    "  local k = KEYS[i]\n"
    "  if redis.call('TYPE', k).ok == 'hash' then\n"
    "    local v = redis.call('HMGET', k, 'state', 'at', 'credit_pending')\n"
    "    local st, at, cp = v[1], tonumber(v[2]), v[3]\n"
    "    local settled\n"
    "    if kind == 'order' then\n"
    "      settled = (st == 'done' or st == 'cancelled' or st == 'closed') and (not cp or cp == '')\n"
    "    else\n"
    "      settled = st == 'done'\n"
    "    end\n"
    "    if settled and at and at < cutoff then\n"
    "      n = n + 1\n"
    "      if apply then\n"
    "        if kind == 'order' then\n"
    "          local h = tonumber(redis.call('GET', KEYS[#KEYS]) or '0') or 0\n"
    "          if cutoff > h then redis.call('SET', KEYS[#KEYS], ARGV[1]) end\n"
    "        end\n"
    "        redis.call('DEL', k)\n"
    "      end\n"
    "    end\n"
    "  end\n"
    "end\n"
    "return n\n";

/* KEYS[1] P:skipped; ARGV[1] cut-off ms, ARGV[2] '1' to delete. Stream ids
 * are their time in ms. Reply: entries older than the cut-off. */
static const char *const SKIPPED_SCRIPT =
    "if redis.call('TYPE', KEYS[1]).ok ~= 'stream' then return 0 end\n"
    "local cut = tostring(tonumber(ARGV[1]) - 1) .. '-18446744073709551615'\n"
    "local n = #redis.call('XRANGE', KEYS[1], '-', cut)\n"
    "if ARGV[2] == '1' and n > 0 then redis.call('XTRIM', KEYS[1], 'MINID', ARGV[1]) end\n"
    "return n\n";

static m2j_rc int_reply(m2j_rc rc, redisReply *r, long long *out, m2j_err *err)
{
    if (rc != M2J_OK)
        return rc;
    if (r->type != REDIS_REPLY_INTEGER) {
        freeReplyObject(r);
        return m2j_fail(err, M2J_ERR_INTERNAL, "retention: unexpected reply");
    }
    *out = r->integer;
    freeReplyObject(r);
    return M2J_OK;
}

static m2j_rc dead_letters(m2j_queue *q, long long before, bool apply, long long *n, m2j_err *err)
{
    char cut[32], batch[16];
    snprintf(cut, sizeof cut, "%lld", before);
    snprintf(batch, sizeof batch, "%d", BATCH);
    redisReply *r;
    if (!apply) {
        char excl[40];
        snprintf(excl, sizeof excl, "(%lld", before);
        const char *argv[] = { "ZCOUNT", q->k_dead_index, "-inf", excl };
        m2j_rc rc = m2j_q_cmd(q, 4, argv, &r, err);
        return int_reply(rc, r, n, err);
    }
    *n = 0;
    for (;;) {
        const char *keys[] = { q->k_dead_index };
        const char *args[] = { q->prefix, cut, batch };
        long long got = 0;
        m2j_rc rc = m2j_q_eval(q, DEAD_SCRIPT, 1, keys, 3, args, &r, err);
        rc = int_reply(rc, r, &got, err);
        if (rc != M2J_OK)
            return rc;
        *n += got;
        if (got < BATCH)
            return M2J_OK;
    }
}

typedef struct {
    const char *kind;
    char        cut[32];
    bool        apply;
    const char *horizon; /* P:retention:processed_before */
    long long   n;
} record_walk;

static m2j_rc record_batch(m2j_queue *q, const char *const *keys, size_t n, void *ud, m2j_err *err)
{
    record_walk *w = ud;
    const char **all = calloc(n + 1, sizeof *all);
    if (!all)
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    memcpy(all, keys, n * sizeof *all);
    all[n] = w->horizon;
    const char *args[] = { w->cut, w->apply ? "1" : "0", w->kind };
    redisReply *r;
    long long got = 0;
    m2j_rc rc = m2j_q_eval(q, RECORD_SCRIPT, (int)n + 1, all, 3, args, &r, err);
    free(all);
    rc = int_reply(rc, r, &got, err);
    w->n += got;
    return rc;
}

static m2j_rc records(m2j_queue *q, const char *pattern, const char *kind, long long before, bool apply,
                      long long *n, m2j_err *err)
{
    m2j_buf match = {0};
    if (m2j_queue_glob(q, &match, pattern) != M2J_OK) {
        m2j_buf_free(&match);
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    }
    char *horizon = m2j_q_key_dup(q->prefix, "retention:processed_before");
    if (!horizon) {
        m2j_buf_free(&match);
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    }
    record_walk w = { .kind = kind, .apply = apply, .horizon = horizon };
    snprintf(w.cut, sizeof w.cut, "%lld", before);
    m2j_rc rc = m2j_queue_scan(q, match.data, BATCH, record_batch, &w, err);
    m2j_buf_free(&match);
    free(horizon);
    *n = w.n;
    return rc;
}

m2j_rc m2j_retention_run(m2j_queue *q, long long dead_before_ms, long long processed_before_ms, bool apply,
                         m2j_retention_counts *out, m2j_err *err)
{
    memset(out, 0, sizeof *out);
    m2j_rc rc = dead_letters(q, dead_before_ms, apply, &out->dead, err);
    if (rc == M2J_OK)
        rc = records(q, "order:*", "order", processed_before_ms, apply, &out->orders, err);
    if (rc == M2J_OK)
        rc = records(q, "credit:*", "credit", processed_before_ms, apply, &out->credits, err);
    if (rc == M2J_OK) {
        char cut[32];
        snprintf(cut, sizeof cut, "%lld", processed_before_ms);
        const char *keys[] = { q->k_skipped };
        const char *args[] = { cut, apply ? "1" : "0" };
        redisReply *r;
        rc = m2j_q_eval(q, SKIPPED_SCRIPT, 1, keys, 2, args, &r, err);
        rc = int_reply(rc, r, &out->skipped, err);
    }
    return rc;
}

m2j_rc m2j_retention_horizon(m2j_queue *q, long long *ms, m2j_err *err)
{
    *ms = 0;
    char *k = m2j_q_key_dup(q->prefix, "retention:processed_before");
    if (!k)
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    const char *argv[] = { "GET", k };
    redisReply *r;
    m2j_rc rc = m2j_q_cmd(q, 2, argv, &r, err);
    free(k);
    if (rc != M2J_OK)
        return rc;
    if (r->type == REDIS_REPLY_STRING)
        *ms = strtoll(r->str, NULL, 10);
    freeReplyObject(r);
    return M2J_OK;
}
