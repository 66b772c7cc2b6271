/* fleet_prom.h: a fleet snapshot (fleet_stats.h) as Prometheus text.
 *
 * Metric names (all m2jortt_, units in the name, counters end in _total):
 *   m2jortt_redis_up                                      1 when the snapshot was read, else 0
 *   m2jortt_events_received_total                         events accepted into the queue
 *   m2jortt_events_total{kind,outcome}                    processed|skipped|retried|dead_lettered|duplicate
 *   m2jortt_events_replayed_total                         dead letters put back
 *   m2jortt_queue_events{state}                           queued|in_progress|retry_scheduled|dead
 *   m2jortt_queue_oldest_waiting_age_seconds              0 when nothing waits
 *   m2jortt_jortt_requests_total{endpoint,status}         status "error" when no answer came
 *   m2jortt_jortt_rate_limited_total                      Jortt's 429 answers
 *   m2jortt_jortt_circuit_open                            1 while the breaker is open
 *   m2jortt_jortt_circuit_failures                        consecutive outage failures
 *   m2jortt_workers_alive                                 heartbeats younger than 30 s
 *   m2jortt_magento_polls_total{result}                   ok|failed (only with polling)
 *   m2jortt_magento_poll_last_success_timestamp_seconds   0 when never (only with polling)
 *
 * Pure; ownership: appends to the caller's buffer. */
#ifndef M2J_FLEET_PROM_H
#define M2J_FLEET_PROM_H

#include "base/buf.h"
#include "metrics/fleet_stats.h"
#include <stdbool.h>

/* s NULL: Redis could not be read; only m2jortt_redis_up 0 is written. */
m2j_rc m2j_fleet_prom(const m2j_fleet_stats *s, bool magento_polling, m2j_buf *out);

#endif
