/* http_stats.h: the receiver's own HTTP figures for /metrics: requests by
 * route and status, and a latency histogram per route.
 *
 * The receiver runs receiver.threads event loops. Each thread counts into
 * its own block (registered once, on its first request) with relaxed
 * atomic adds: no lock and no shared cache line on the request path. A
 * scrape sums every block; a sum taken while other loops count may miss a
 * request in flight, which the next scrape shows.
 *
 * Ownership: blocks live until the process ends (they are reachable from
 * the registry, so leak checkers stay quiet). Totals are plain values. */
#ifndef M2J_RECEIVER_HTTP_STATS_H
#define M2J_RECEIVER_HTTP_STATS_H

#include "base/buf.h"

/* Every dashboard page counts as "/admin". */
enum { RCV_ROUTE_WEBHOOK, RCV_ROUTE_HEALTHZ, RCV_ROUTE_READYZ, RCV_ROUTE_METRICS, RCV_ROUTE_ADMIN, RCV_ROUTE_OTHER,
       RCV_N_ROUTES };
#define RCV_N_STATUS   500  /* 100..599 */
#define RCV_N_BOUNDS   11

extern const char *const rcv_route_names[RCV_N_ROUTES];
extern const double rcv_latency_bounds[RCV_N_BOUNDS];

typedef struct {
    unsigned long long requests[RCV_N_ROUTES][RCV_N_STATUS];
    unsigned long long buckets[RCV_N_ROUTES][RCV_N_BOUNDS + 1]; /* per bucket, not cumulative */
    unsigned long long sum_us[RCV_N_ROUTES];
} rcv_http_totals;

/* Counts one answered request; path as logged ("-" for an unknown path). */
void rcv_http_observe(const char *path, int status, long long us);
/* Sums every thread's block into *out. */
void rcv_http_snapshot(rcv_http_totals *out);
/* Pure: the totals as Prometheus text (m2jortt_http_requests_total and
 * m2jortt_http_request_duration_seconds); routes never asked are left out. */
m2j_rc rcv_http_prom(const rcv_http_totals *t, m2j_buf *out);

#endif
