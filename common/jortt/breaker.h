/* breaker.h: a circuit breaker shared by the fleet (hash P:breaker:
 * failures, open_until_ms, backoff_ms).
 *
 * Why: during a Jortt outage every event would fail and burn one of its
 * retry attempts; after 12 failures a perfectly good order would be dead.
 * Instead, after M2J_BREAKER_THRESHOLD consecutive outage failures (5xx,
 * maintenance, connection refused, timeouts) the breaker opens: workers stop
 * taking events, for 5 s doubling up to 60 s. When the open period ends one
 * worker (P:breaker:probe, SET NX PX 10000) probes with a cheap GET; success
 * closes the breaker, failure reopens it with the doubled back-off. Any
 * successful call anywhere closes it too. */
#ifndef M2J_BREAKER_H
#define M2J_BREAKER_H

#include "queue/queue.h"
#include <stdbool.h>

#define M2J_BREAKER_THRESHOLD   5
#define M2J_BREAKER_MIN_OPEN_MS 5000
#define M2J_BREAKER_MAX_OPEN_MS 60000

typedef struct {
    bool      open;           /* failures >= threshold: take no events */
    long long open_until_ms;  /* probe allowed from then on */
    long      failures;
} m2j_breaker_state;

m2j_rc m2j_breaker_get(m2j_queue *q, m2j_breaker_state *out, m2j_err *err);
/* Records one outage failure; *out (may be NULL) gets the state after it.
 * Reaching the threshold (or failing while open and past open_until, i.e. a
 * failed probe) (re)opens it with the next back-off. */
m2j_rc m2j_breaker_failure(m2j_queue *q, long long now_ms, m2j_breaker_state *out, m2j_err *err);
/* Any success: closes and resets. Cheap when already closed. */
m2j_rc m2j_breaker_success(m2j_queue *q, m2j_err *err);
/* One prober at a time: M2J_OK when this caller may probe, M2J_ERR_CONFLICT
 * when another one is probing. */
m2j_rc m2j_breaker_claim_probe(m2j_queue *q, const char *token, m2j_err *err);

#endif
