/* liveness.c: see liveness.h. */
#include "worker/liveness.h"
#include "queue/redis_cmd.h"

#include <stdio.h>

#define BEAT_TTL_S  30
#define PRUNE_MS    86400000LL

/* KEYS[1] P:worker:<consumer>, KEYS[2] P:workers
 * ARGV[1] now ms, ARGV[2] consumer, ARGV[3] ttl s, ARGV[4] prune before ms */
static const char *const BEAT_SCRIPT =
    "redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3])\n"
    "redis.call('ZADD', KEYS[2], ARGV[1], ARGV[2])\n"
    "redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[4])\n"
    "return 1\n";

static m2j_rc keys_for(m2j_queue *q, const char *consumer, m2j_buf *one, m2j_buf *all, m2j_err *err)
{
    if (m2j_wkey(q, one, "worker:%s", consumer) != M2J_OK || m2j_wkey(q, all, "workers") != M2J_OK)
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    return M2J_OK;
}

m2j_rc m2j_liveness_beat(m2j_queue *q, const char *consumer, long long now_ms, m2j_err *err)
{
    m2j_buf one = {0}, all = {0};
    m2j_rc rc = keys_for(q, consumer, &one, &all, err);
    if (rc == M2J_OK) {
        char now[32], ttl[16], prune[32];
        snprintf(now, sizeof now, "%lld", now_ms);
        snprintf(ttl, sizeof ttl, "%d", BEAT_TTL_S);
        snprintf(prune, sizeof prune, "%lld", now_ms - PRUNE_MS);
        const char *keys[] = { one.data, all.data };
        const char *args[] = { now, consumer, ttl, prune };
        redisReply *r = NULL;
        rc = m2j_weval(q, BEAT_SCRIPT, 2, keys, 4, args, &r, err);
        if (r)
            freeReplyObject(r);
    }
    m2j_buf_free(&one);
    m2j_buf_free(&all);
    return rc;
}

m2j_rc m2j_liveness_gone(m2j_queue *q, const char *consumer, m2j_err *err)
{
    m2j_buf one = {0}, all = {0};
    m2j_rc rc = keys_for(q, consumer, &one, &all, err);
    if (rc == M2J_OK)
        rc = m2j_wcmd(q, NULL, err, "DEL", one.data, NULL);
    if (rc == M2J_OK)
        rc = m2j_wcmd(q, NULL, err, "ZREM", all.data, consumer, NULL);
    m2j_buf_free(&one);
    m2j_buf_free(&all);
    return rc;
}
