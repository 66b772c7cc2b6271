/* fleet_prom.c: see fleet_prom.h. */
#include "metrics/fleet_prom.h"
#include "base/prom.h"

#include <string.h>

#define CHECK(x) do { m2j_rc rc_ = (x); if (rc_ != M2J_OK) return rc_; } while (0)

static m2j_rc one(m2j_buf *b, const char *name, const char *type, const char *help, long long v)
{
    CHECK(m2j_prom_header(b, name, type, help));
    return m2j_prom_int(b, name, NULL, 0, v);
}

static m2j_rc pairs(m2j_buf *b, const char *name, const char *help, const char *la, const char *lb,
                    const m2j_fleet_count *c, size_t n)
{
    CHECK(m2j_prom_header(b, name, "counter", help));
    for (size_t i = 0; i < n; i++) {
        m2j_prom_label l[2] = { { la, c[i].a }, { lb, c[i].b } };
        CHECK(m2j_prom_int(b, name, l, 2, c[i].n));
    }
    return M2J_OK;
}

m2j_rc m2j_fleet_prom(const m2j_fleet_stats *s, bool magento_polling, m2j_buf *b)
{
    CHECK(one(b, "m2jortt_redis_up", "gauge", "Whether the fleet's figures could be read from Redis.", s ? 1 : 0));
    if (!s)
        return M2J_OK;
    CHECK(one(b, "m2jortt_events_received_total", "counter", "Events accepted into the queue.", s->received));
    CHECK(pairs(b, "m2jortt_events_total", "Events by kind and outcome.", "kind", "outcome", s->events,
                s->n_events));
    CHECK(one(b, "m2jortt_events_replayed_total", "counter", "Dead letters put back into the queue.",
              s->replayed));
    CHECK(m2j_prom_header(b, "m2jortt_queue_events", "gauge", "Events in the queue by state."));
    const struct { const char *state; long long v; } q[] = {
        { "queued", s->queued }, { "in_progress", s->in_progress },
        { "retry_scheduled", s->scheduled_retries }, { "dead", s->dead },
    };
    for (size_t i = 0; i < sizeof q / sizeof q[0]; i++) {
        m2j_prom_label l = { "state", q[i].state };
        CHECK(m2j_prom_int(b, "m2jortt_queue_events", &l, 1, q[i].v));
    }
    CHECK(m2j_prom_header(b, "m2jortt_queue_oldest_waiting_age_seconds", "gauge",
                          "Age of the oldest event waiting in the stream (0 when none)."));
    CHECK(m2j_prom_num(b, "m2jortt_queue_oldest_waiting_age_seconds", NULL, 0, (double)s->oldest_age_ms / 1000.0));
    CHECK(pairs(b, "m2jortt_jortt_requests_total", "Jortt API requests by endpoint and HTTP status.", "endpoint",
                "status", s->jortt, s->n_jortt));
    long long limited = 0;
    for (size_t i = 0; i < s->n_jortt; i++)
        if (strcmp(s->jortt[i].b, "429") == 0)
            limited += s->jortt[i].n;
    CHECK(one(b, "m2jortt_jortt_rate_limited_total", "counter", "Jortt answers 429 (rate limited).", limited));
    CHECK(one(b, "m2jortt_jortt_circuit_open", "gauge", "1 while the Jortt circuit breaker is open.",
              s->breaker_open));
    CHECK(one(b, "m2jortt_jortt_circuit_failures", "gauge", "Consecutive Jortt outage failures.",
              s->breaker_failures));
    CHECK(one(b, "m2jortt_workers_alive", "gauge", "Workers with a heartbeat in the last 30 seconds.",
              s->workers_alive));
    if (!magento_polling)
        return M2J_OK;
    CHECK(m2j_prom_header(b, "m2jortt_magento_polls_total", "counter", "Magento polls by result."));
    m2j_prom_label ok = { "result", "ok" }, failed = { "result", "failed" };
    CHECK(m2j_prom_int(b, "m2jortt_magento_polls_total", &failed, 1, s->magento_polls_failed));
    CHECK(m2j_prom_int(b, "m2jortt_magento_polls_total", &ok, 1, s->magento_polls_ok));
    CHECK(m2j_prom_header(b, "m2jortt_magento_poll_last_success_timestamp_seconds", "gauge",
                          "When a Magento poll last succeeded (Unix time; 0 when never)."));
    return m2j_prom_num(b, "m2jortt_magento_poll_last_success_timestamp_seconds", NULL, 0,
                        (double)s->magento_last_ok_ms / 1000.0);
}
