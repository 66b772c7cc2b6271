/* ratelimit.h: one rate limit for the whole fleet of workers, in Redis.
 *
 * Jortt allows 10 requests per second per administration, and every worker
 * on every host talks to the same administration, so the limit has to be
 * shared. A GCRA (generic cell rate algorithm) in one Lua script over P:rl,
 * timed by Redis's own clock (TIME) so hosts with skewed clocks still agree.
 * Burst is 1: calls are spaced at least 1/rate apart, so no one-second window
 * holds more than `rate` calls and the fleet sees no 429 in steady state.
 * After a 429 anyway (someone else using the same administration) the whole
 * fleet pauses: P:rl:pause, honoured by the script.
 * Each granted call also counts in P:jortt:calls:<unix second> (EX 120). */
#ifndef M2J_RATELIMIT_H
#define M2J_RATELIMIT_H

#include "queue/queue.h"

/* Asks for permission for one call. *wait_ms = 0: go (the call is counted);
 * else wait that long and ask again. */
m2j_rc m2j_ratelimit_ask(m2j_queue *q, int requests_per_second, long long *wait_ms, m2j_err *err);

/* Pauses the whole fleet for max(1000, retry_after_s * 1000) ms. */
m2j_rc m2j_ratelimit_pause(m2j_queue *q, long retry_after_s, m2j_err *err);

#endif
