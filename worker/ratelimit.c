/* ratelimit.c: the fleet-wide GCRA; see ratelimit.h for why. */
#include "ratelimit.h"
#include "wredis.h"

#include <stdio.h>

/* KEYS[1] P:rl (theoretical arrival time, µs), KEYS[2] P:rl:pause,
 * KEYS[3] P:jortt:calls: (prefix of the per-second counters)
 * ARGV[1] emission interval in µs.
 * Reply: 0 = go (counted), else ms to wait.
 * Numbers are formatted with %.0f: Lua 5.1's tostring would print a µs
 * timestamp in exponent form and lose digits. */
static const char *const RL_SCRIPT =
    "local pause = redis.call('PTTL', KEYS[2])\n"
    "if pause > 0 then return pause end\n"
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000000 + tonumber(t[2])\n"
    "local interval = tonumber(ARGV[1])\n"
    "local tat = tonumber(redis.call('GET', KEYS[1]) or '0') or 0\n"
    "if tat < now then tat = now end\n"
    "if tat > now then\n"
    "  return math.max(1, math.ceil((tat - now) / 1000))\n"
    "end\n"
    "local new_tat = tat + interval\n"
    "redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX',\n"
    "           math.ceil((new_tat - now) / 1000) + 1000)\n"
    "local ck = KEYS[3] .. t[1]\n"
    "redis.call('INCR', ck)\n"
    "redis.call('EXPIRE', ck, 120)\n"
    "return 0\n";

m2j_rc m2j_ratelimit_ask(m2j_queue *q, int rps, long long *wait_ms, m2j_err *err)
{
    *wait_ms = 0;
    if (rps <= 0)
        rps = 10;
    /* 1 % slack: our clock granularity and Jortt's window edges must not
     * turn exactly `rps` calls into rps+1 in Jortt's eyes. */
    long long interval_us = 1000000LL * 101 / 100 / rps;
    char interval[32];
    snprintf(interval, sizeof interval, "%lld", interval_us);
    m2j_buf k1 = {0}, k2 = {0}, k3 = {0};
    m2j_rc rc = M2J_OK;
    if (m2j_wkey(q, &k1, "rl") || m2j_wkey(q, &k2, "rl:pause") || m2j_wkey(q, &k3, "jortt:calls:")) {
        rc = m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
        goto out;
    }
    const char *keys[3] = { k1.data, k2.data, k3.data };
    const char *args[1] = { interval };
    redisReply *r = NULL;
    rc = m2j_weval(q, RL_SCRIPT, 3, keys, 1, args, &r, err);
    if (rc != M2J_OK)
        goto out;
    if (r->type == REDIS_REPLY_INTEGER)
        *wait_ms = r->integer;
    else
        rc = m2j_fail(err, M2J_ERR_INTERNAL, "rate limit script: unexpected reply type %d", r->type);
    freeReplyObject(r);
out:
    m2j_buf_free(&k1);
    m2j_buf_free(&k2);
    m2j_buf_free(&k3);
    return rc;
}

m2j_rc m2j_ratelimit_pause(m2j_queue *q, long retry_after_s, m2j_err *err)
{
    long long ms = retry_after_s > 0 ? retry_after_s * 1000LL : 0;
    if (ms < 1000)
        ms = 1000;
    char px[32];
    snprintf(px, sizeof px, "%lld", ms);
    m2j_buf k = {0};
    if (m2j_wkey(q, &k, "rl:pause")) {
        m2j_buf_free(&k);
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    }
    m2j_rc rc = m2j_wcmd(q, NULL, err, "SET", k.data, "1", "PX", px, NULL);
    m2j_buf_free(&k);
    return rc;
}
