/* metrics.h: GET /metrics on the receiver's listener: the whole fleet's
 * figures read from Redis in one script over one of the loop's connections
 * (so a scrape never blocks the loop), followed by this receiver's own HTTP
 * figures (http_stats.h). Guarded by admin.token when it is set.
 *
 * A scrape while Redis is down still answers 200, with m2jortt_redis_up 0
 * and the HTTP figures, so the scrape itself does not look like the outage.
 *
 * Ownership: the request is evhttp's; everything else is borrowed. */
#ifndef M2J_RECEIVER_METRICS_H
#define M2J_RECEIVER_METRICS_H

#include "config/config.h"
#include "receiver/conn_guard.h"
#include "receiver/redis_link.h"

struct evhttp_request;

#define RCV_PATH_METRICS "/metrics"

/* Answers req (now, or from the Redis reply). redis: a ready connection of
 * the loop's pool, or NULL (then the fleet figures are reported missing).
 * t0_us: m2j_mono_us() at arrival. */
void rcv_metrics_serve(const m2j_config *cfg, rlink *redis, rcv_guard *guard, struct evhttp_request *req,
                       long long t0_us);

#endif
