/* fleet_stats.h: the whole fleet's state as one snapshot read from Redis,
 * for /metrics (receiver and worker) and the alerts.
 *
 * The metrics room (common/metrics/) turns what m2jortt already keeps in
 * Redis into figures: this snapshot (one Lua script, so queue depths and
 * counters are read at one instant), its Prometheus text (fleet_prom.h),
 * and the counters the receiver keeps per event loop (http_stats.h). It
 * decides nothing about the queue: it only reads.
 *
 * Keys read (P = redis.key_prefix): P:events, P:retry, P:dead:index,
 * P:stats, P:stats:events (hash "<kind>:<outcome>" -> count, written by the
 * queue's outcome scripts), P:stats:jortt (hash "<endpoint> <status>" ->
 * count, jortt/jortt_stats.h), P:breaker, P:workers (zset consumer -> last
 * heartbeat ms, worker/liveness.h), P:magento:poll:last_ok_ms (string, ms)
 * and P:magento:poll:stats (hash ok, failed) written by the Magento poller.
 *
 * Ownership: m2j_fleet_args owns its strings (m2j_fleet_args_free); a
 * snapshot is a plain value. */
#ifndef M2J_FLEET_STATS_H
#define M2J_FLEET_STATS_H

#include "base/m2j.h"
#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stddef.h>

struct m2j_queue;

#define M2J_FLEET_MAX_COUNTS 96
#define M2J_WORKER_ALIVE_MS  30000 /* a heartbeat older than this is a dead worker */

typedef struct {
    char      a[64];   /* kind | endpoint */
    char      b[32];   /* outcome | status */
    long long n;
} m2j_fleet_count;

typedef struct {
    long long now_ms;             /* Redis's clock */
    long long queued, in_progress, scheduled_retries, dead;
    long long oldest_age_ms;      /* oldest event still in the stream; 0 when none */
    long long received, replayed;
    m2j_fleet_count events[M2J_FLEET_MAX_COUNTS]; size_t n_events; /* sorted by kind, outcome */
    m2j_fleet_count jortt[M2J_FLEET_MAX_COUNTS];  size_t n_jortt;  /* sorted by endpoint, status */
    bool      breaker_open;
    long long breaker_failures;
    long long workers_alive;
    long long magento_last_ok_ms; /* 0 when never */
    long long magento_polls_ok, magento_polls_failed;
} m2j_fleet_stats;

/* The full EVAL argv (EVAL, script, numkeys, keys..., args...). */
typedef struct {
    int     argc;
    char  **argv;
    size_t *lens;
} m2j_fleet_args;
extern const char *const M2J_FLEET_SCRIPT;
m2j_rc m2j_fleet_args_build(const char *prefix, m2j_fleet_args *out, m2j_err *err);
void   m2j_fleet_args_free(m2j_fleet_args *a);

/* Interprets the script's reply. Pure. */
m2j_rc m2j_fleet_stats_parse(const redisReply *r, m2j_fleet_stats *out, m2j_err *err);

/* Synchronous read over the queue's connection (worker, alerts). */
m2j_rc m2j_fleet_stats_get(struct m2j_queue *q, m2j_fleet_stats *out, m2j_err *err);

#endif
