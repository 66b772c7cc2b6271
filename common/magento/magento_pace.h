/* magento_pace.h: the Magento client's pace hook (magento_client.h) backed by
 * the fleet-wide rate limit in Redis (queue/ratelimit.h, M2J_RL_MAGENTO), so
 * every worker and CLI run together stays within magento.requests_per_second.
 *
 * Ownership: m2j_magento_pace borrows q and stop; it must outlive the client
 * it is set on. */
#ifndef M2J_MAGENTO_PACE_H
#define M2J_MAGENTO_PACE_H

#include "magento/magento_client.h"
#include "queue/queue.h"
#include <signal.h>

typedef struct {
    m2j_queue                   *q;
    int                          requests_per_second;
    const volatile sig_atomic_t *stop;         /* may be NULL */
    long long                    max_wait_ms;  /* give up (request not sent) past this; 0 = 30 s */
} m2j_magento_pace;

/* Sets the hook: the client then waits for a fleet slot before each request.
 * A slot not granted within max_wait_ms, a stop, or Redis trouble means the
 * request is not sent (the caller sees RETRY). */
void m2j_magento_pace_attach(m2j_magento_client *c, m2j_magento_pace *p);

/* After a 429 from Magento: the whole fleet pauses its Magento calls
 * (Retry-After, at least 1 s). Errors are ignored: the limiter goes on. */
void m2j_magento_pace_after(m2j_magento_pace *p, const m2j_magento_response *r);

#endif
