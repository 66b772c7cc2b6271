/* breaker.c: see breaker.h. */
#include "jortt/breaker.h"
#include "queue/redis_cmd.h"

#include <stdio.h>
#include <stdlib.h>

/* KEYS[1] P:breaker; ARGV now_ms, threshold, min_ms, max_ms.
 * Reply {failures, open_until_ms}. backoff_ms holds the NEXT open period. */
static const char *const FAIL_SCRIPT =
    "local f = redis.call('HINCRBY', KEYS[1], 'failures', 1)\n"
    "local now = tonumber(ARGV[1])\n"
    "local untl = tonumber(redis.call('HGET', KEYS[1], 'open_until_ms') or '0') or 0\n"
    "if f >= tonumber(ARGV[2]) and untl <= now then\n"
    "  local b = tonumber(redis.call('HGET', KEYS[1], 'backoff_ms') or '0') or 0\n"
    "  if b <= 0 then b = tonumber(ARGV[3]) end\n"
    "  untl = now + b\n"
    "  redis.call('HSET', KEYS[1], 'open_until_ms', string.format('%.0f', untl),\n"
    "             'backoff_ms', string.format('%.0f', math.min(b * 2, tonumber(ARGV[4]))))\n"
    "end\n"
    "redis.call('PEXPIRE', KEYS[1], 3600000)\n"
    "return {f, string.format('%.0f', untl)}\n";

/* The hash expires after an hour without failures so a stale count from a
 * long-gone outage cannot open the breaker on the next single failure. */

static m2j_rc bkey(m2j_queue *q, m2j_buf *k, const char *suffix, m2j_err *err)
{
    if (m2j_wkey(q, k, "%s", suffix) != M2J_OK)
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    return M2J_OK;
}

m2j_rc m2j_breaker_get(m2j_queue *q, m2j_breaker_state *out, m2j_err *err)
{
    out->open = false;
    out->open_until_ms = 0;
    out->failures = 0;
    m2j_buf k = {0};
    m2j_rc rc = bkey(q, &k, "breaker", err);
    redisReply *r = NULL;
    if (rc == M2J_OK)
        rc = m2j_wcmd(q, &r, err, "HMGET", k.data, "failures", "open_until_ms", NULL);
    if (rc == M2J_OK) {
        if (r->type == REDIS_REPLY_ARRAY && r->elements == 2) {
            if (r->element[0]->type == REDIS_REPLY_STRING)
                out->failures = strtol(r->element[0]->str, NULL, 10);
            if (r->element[1]->type == REDIS_REPLY_STRING)
                out->open_until_ms = strtoll(r->element[1]->str, NULL, 10);
        }
        out->open = out->failures >= M2J_BREAKER_THRESHOLD && out->open_until_ms > 0;
        freeReplyObject(r);
    }
    m2j_buf_free(&k);
    return rc;
}

m2j_rc m2j_breaker_failure(m2j_queue *q, long long now_ms, m2j_breaker_state *out, m2j_err *err)
{
    m2j_buf k = {0};
    m2j_rc rc = bkey(q, &k, "breaker", err);
    if (rc != M2J_OK)
        return rc;
    char now[32], thr[16], mn[16], mx[16];
    snprintf(now, sizeof now, "%lld", now_ms);
    snprintf(thr, sizeof thr, "%d", M2J_BREAKER_THRESHOLD);
    snprintf(mn, sizeof mn, "%d", M2J_BREAKER_MIN_OPEN_MS);
    snprintf(mx, sizeof mx, "%d", M2J_BREAKER_MAX_OPEN_MS);
    const char *keys[1] = { k.data };
    const char *args[4] = { now, thr, mn, mx };
    redisReply *r = NULL;
    rc = m2j_weval(q, FAIL_SCRIPT, 1, keys, 4, args, &r, err);
    if (rc == M2J_OK) {
        if (out) {
            out->failures = 0;
            out->open_until_ms = 0;
            if (r->type == REDIS_REPLY_ARRAY && r->elements == 2) {
                if (r->element[0]->type == REDIS_REPLY_INTEGER)
                    out->failures = (long)r->element[0]->integer;
                if (r->element[1]->type == REDIS_REPLY_STRING)
                    out->open_until_ms = strtoll(r->element[1]->str, NULL, 10);
            }
            out->open = out->failures >= M2J_BREAKER_THRESHOLD && out->open_until_ms > 0;
        }
        freeReplyObject(r);
    }
    m2j_buf_free(&k);
    return rc;
}

m2j_rc m2j_breaker_success(m2j_queue *q, m2j_err *err)
{
    m2j_buf k = {0};
    m2j_rc rc = bkey(q, &k, "breaker", err);
    if (rc == M2J_OK)
        rc = m2j_wcmd(q, NULL, err, "UNLINK", k.data, NULL);
    m2j_buf_free(&k);
    return rc;
}

m2j_rc m2j_breaker_claim_probe(m2j_queue *q, const char *token, m2j_err *err)
{
    m2j_buf k = {0};
    m2j_rc rc = bkey(q, &k, "breaker:probe", err);
    redisReply *r = NULL;
    if (rc == M2J_OK)
        rc = m2j_wcmd(q, &r, err, "SET", k.data, token, "NX", "PX", "10000", NULL);
    if (rc == M2J_OK) {
        if (r->type != REDIS_REPLY_STATUS)
            rc = M2J_ERR_CONFLICT;
        freeReplyObject(r);
    }
    m2j_buf_free(&k);
    return rc;
}
