/* ratelimit.h: one rate limit for the whole fleet of workers, in Redis, per
 * remote API (Jortt, the shop's Magento).
 *
 * Jortt allows 10 requests per second per administration and a Magento shop
 * has its own budget (magento.requests_per_second); every worker on every
 * host talks to the same administration and the same shop, so each limit has
 * to be shared. A GCRA (generic cell rate algorithm) in one Lua script over
 * the limit's state key, timed by Redis's own clock (TIME) so hosts with
 * skewed clocks still agree. Burst is 1: calls are spaced at least 1/rate
 * apart, so no one-second window holds more than `rate` calls and the fleet
 * sees no 429 in steady state. After a 429 anyway (someone else using the
 * same account) the whole fleet pauses that limit: its pause key, honoured by
 * the script. Each granted call also counts in <counter><unix second> (EX
 * 120), for the stats.
 *
 * Keys (P = redis.key_prefix), named by an m2j_ratelimit_keys:
 *   Jortt:   P:rl, P:rl:pause, P:jortt:calls:<sec> (unchanged from before
 *            Magento had a limit: a rolling deploy keeps one shared limiter)
 *   Magento: P:magento:rl, P:magento:rl:pause, P:magento:calls:<sec> */
#ifndef M2J_RATELIMIT_H
#define M2J_RATELIMIT_H

#include "queue/queue.h"
#include <signal.h>

typedef struct {
    const char *state;   /* suffix of the GCRA state key ("rl") */
    const char *pause;   /* suffix of the fleet pause key ("rl:pause") */
    const char *counter; /* suffix before the unix second of the call counters ("jortt:calls:") */
} m2j_ratelimit_keys;

extern const m2j_ratelimit_keys M2J_RL_JORTT;
extern const m2j_ratelimit_keys M2J_RL_MAGENTO;

/* Asks for permission for one call. *wait_ms = 0: go (the call is counted);
 * else wait that long and ask again. */
m2j_rc m2j_ratelimit_ask(m2j_queue *q, const m2j_ratelimit_keys *k, int requests_per_second, long long *wait_ms,
                         m2j_err *err);

/* Asks until a slot is granted, sleeping what the limiter says in steps of
 * at most 1 s so a stop is noticed. M2J_ERR_CONFLICT (no slot taken) when the
 * wait would pass max_wait_ms or *stop (may be NULL) became set; Redis
 * trouble as m2j_ratelimit_ask. One loop for every caller: Jortt's calls and
 * token fetch, Magento's requests. */
m2j_rc m2j_ratelimit_wait(m2j_queue *q, const m2j_ratelimit_keys *k, int requests_per_second, long long max_wait_ms,
                          const volatile sig_atomic_t *stop, m2j_err *err);

/* Pauses every caller of that limit for max(1000, retry_after_s * 1000) ms. */
m2j_rc m2j_ratelimit_pause(m2j_queue *q, const m2j_ratelimit_keys *k, long retry_after_s, m2j_err *err);

#endif
