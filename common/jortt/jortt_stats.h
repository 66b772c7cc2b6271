/* jortt_stats.h: counting Jortt requests by endpoint and status in
 * P:stats:jortt (field "<endpoint> <status>"), for /metrics.
 *
 * The endpoint is the request path without query and with ids replaced by
 * ":id", so the number of series stays small whatever the ids are. The
 * status is the HTTP status, or "error" when no answer came.
 *
 * Ownership: borrowed arguments; out is the caller's buffer. */
#ifndef M2J_JORTT_STATS_H
#define M2J_JORTT_STATS_H

#include "jortt/jortt_client.h"
#include "queue/queue.h"

/* "/customers/1f0c..-..?x=1" -> "/customers/:id". Pure. */
void m2j_jortt_endpoint(const char *path, char *out, size_t n);

/* One HINCRBY. Failure is only logged by the caller's choice: counting must
 * never fail a call, so errors are returned and may be ignored. */
m2j_rc m2j_jortt_count(m2j_queue *q, const char *path, const m2j_jortt_response *r, m2j_err *err);

#endif
