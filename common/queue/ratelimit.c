/* ratelimit.c: the fleet-wide GCRA; see ratelimit.h for why. */
#include "queue/ratelimit.h"
#include "base/clock.h"
#include "queue/redis_cmd.h"

#include <stdio.h>

const m2j_ratelimit_keys M2J_RL_JORTT = { "rl", "rl:pause", "jortt:calls:" };
const m2j_ratelimit_keys M2J_RL_MAGENTO = { "magento:rl", "magento:rl:pause", "magento:calls:" };

/* KEYS[1] the state (theoretical arrival time, µs), KEYS[2] the pause key,
 * KEYS[3] the prefix of the per-second counters
 * ARGV[1] emission interval in µs, ARGV[2] tolerance in µs.
 * Reply: 0 = go (counted), else ms to wait.
 *
 * The stored arrival time may lag `now` by up to the tolerance: a worker that
 * comes back a few ms after its turn (timer granularity, a Redis round trip,
 * a busy machine) keeps its slot instead of losing that lateness for good,
 * which otherwise cost the fleet 5-10 % of Jortt's limit (bench/findings.md).
 * Numbers are formatted with %.0f: Lua 5.1's tostring would print a µs
 * timestamp in exponent form and lose digits. */
static const char *const RL_SCRIPT =
    "local pause = redis.call('PTTL', KEYS[2])\n"
    "if pause > 0 then return pause end\n"
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000000 + tonumber(t[2])\n"
    "local interval = tonumber(ARGV[1])\n"
    "local tau = tonumber(ARGV[2])\n"
    "local tat = tonumber(redis.call('GET', KEYS[1]) or '0') or 0\n"
    "if tat < now - tau then tat = now - tau end\n"
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

m2j_rc m2j_ratelimit_ask(m2j_queue *q, const m2j_ratelimit_keys *k, int rps, long long *wait_ms, m2j_err *err)
{
    *wait_ms = 0;
    if (rps <= 0)
        rps = 10;
    /* GCRA with interval I and tolerance tau grants at most
     * 1 + (T + tau) / I calls in any window T. With I = 1.03 s / rps and
     * tau = 20 ms that is at most rps calls in every 1 s window (since
     * (1 s + 20 ms) / I < rps), while up to 20 ms of a worker's lateness is
     * made up: the fleet runs at ~97 % of the limit and never above it. */
    long long interval_us = 1000000LL * 103 / 100 / rps;
    long long tau_us = 20000;
    char interval[32], tau[32];
    snprintf(interval, sizeof interval, "%lld", interval_us);
    snprintf(tau, sizeof tau, "%lld", tau_us);
    m2j_buf k1 = {0}, k2 = {0}, k3 = {0};
    m2j_rc rc = M2J_OK;
    if (m2j_wkey(q, &k1, "%s", k->state) || m2j_wkey(q, &k2, "%s", k->pause) || m2j_wkey(q, &k3, "%s", k->counter)) {
        rc = m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
        goto out;
    }
    const char *keys[3] = { k1.data, k2.data, k3.data };
    const char *args[2] = { interval, tau };
    redisReply *r = NULL;
    rc = m2j_weval(q, RL_SCRIPT, 3, keys, 2, args, &r, err);
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

m2j_rc m2j_ratelimit_pause(m2j_queue *q, const m2j_ratelimit_keys *rk, long retry_after_s, m2j_err *err)
{
    long long ms = retry_after_s > 0 ? retry_after_s * 1000LL : 0;
    if (ms < 1000)
        ms = 1000;
    char px[32];
    snprintf(px, sizeof px, "%lld", ms);
    m2j_buf k = {0};
    if (m2j_wkey(q, &k, "%s", rk->pause)) {
        m2j_buf_free(&k);
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    }
    m2j_rc rc = m2j_wcmd(q, NULL, err, "SET", k.data, "1", "PX", px, NULL);
    m2j_buf_free(&k);
    return rc;
}

m2j_rc m2j_ratelimit_wait(m2j_queue *q, const m2j_ratelimit_keys *k, int requests_per_second, long long max_wait_ms,
                          const volatile sig_atomic_t *stop, m2j_err *err)
{
    long long waited = 0;
    for (;;) {
        long long w = 0;
        m2j_rc rc = m2j_ratelimit_ask(q, k, requests_per_second, &w, err);
        if (rc != M2J_OK)
            return rc;
        if (w == 0)
            return M2J_OK;
        if (waited + w > max_wait_ms || (stop && *stop))
            return m2j_fail(err, M2J_ERR_CONFLICT, "rate limit: no call slot (waited %lld ms)", waited);
        long long s = w < 1000 ? w : 1000;
        m2j_sleep_ms(s, stop);
        waited += s;
    }
}
