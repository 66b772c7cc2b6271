/* http_stats.c: see http_stats.h. */
#include "receiver/http_stats.h"
#include "base/prom.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const rcv_route_names[RCV_N_ROUTES] = {
    "/webhooks/magento", "/healthz", "/readyz", "/metrics", "/admin", "other",
};
const double rcv_latency_bounds[RCV_N_BOUNDS] = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
};

typedef struct block {
    _Atomic unsigned long long requests[RCV_N_ROUTES][RCV_N_STATUS];
    _Atomic unsigned long long buckets[RCV_N_ROUTES][RCV_N_BOUNDS + 1];
    _Atomic unsigned long long sum_us[RCV_N_ROUTES];
    struct block *next;
} block;

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static block *g_blocks;
static _Thread_local block *t_block;

static block *my_block(void)
{
    if (t_block)
        return t_block;
    block *b = calloc(1, sizeof *b);
    if (!b)
        return NULL; /* not counted: figures must never cost a request */
    pthread_mutex_lock(&g_lock);
    b->next = g_blocks;
    g_blocks = b;
    pthread_mutex_unlock(&g_lock);
    return t_block = b;
}

static int route_of(const char *path)
{
    for (int i = 0; i < RCV_ROUTE_OTHER; i++)
        if (path && strcmp(path, rcv_route_names[i]) == 0)
            return i;
    return RCV_ROUTE_OTHER;
}

void rcv_http_observe(const char *path, int status, long long us)
{
    block *b = my_block();
    if (!b || status < 100 || status > 599)
        return;
    int r = route_of(path);
    if (us < 0)
        us = 0;
    int k = 0;
    while (k < RCV_N_BOUNDS && (double)us / 1e6 > rcv_latency_bounds[k])
        k++;
    atomic_fetch_add_explicit(&b->requests[r][status - 100], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&b->buckets[r][k], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&b->sum_us[r], (unsigned long long)us, memory_order_relaxed);
}

void rcv_http_snapshot(rcv_http_totals *out)
{
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&g_lock);
    for (block *b = g_blocks; b; b = b->next) {
        for (int r = 0; r < RCV_N_ROUTES; r++) {
            for (int s = 0; s < RCV_N_STATUS; s++)
                out->requests[r][s] += atomic_load_explicit(&b->requests[r][s], memory_order_relaxed);
            for (int k = 0; k <= RCV_N_BOUNDS; k++)
                out->buckets[r][k] += atomic_load_explicit(&b->buckets[r][k], memory_order_relaxed);
            out->sum_us[r] += atomic_load_explicit(&b->sum_us[r], memory_order_relaxed);
        }
    }
    pthread_mutex_unlock(&g_lock);
}

#define CHECK(x) do { m2j_rc rc_ = (x); if (rc_ != M2J_OK) return rc_; } while (0)

m2j_rc rcv_http_prom(const rcv_http_totals *t, m2j_buf *b)
{
    static const char *const REQ = "m2jortt_http_requests_total";
    static const char *const LAT = "m2jortt_http_request_duration_seconds";
    CHECK(m2j_prom_header(b, REQ, "counter", "HTTP requests answered by this receiver, by route and status."));
    for (int r = 0; r < RCV_N_ROUTES; r++) {
        for (int s = 0; s < RCV_N_STATUS; s++) {
            if (!t->requests[r][s])
                continue;
            char st[16];
            snprintf(st, sizeof st, "%d", s + 100);
            m2j_prom_label l[2] = { { "route", rcv_route_names[r] }, { "status", st } };
            CHECK(m2j_prom_int(b, REQ, l, 2, (long long)t->requests[r][s]));
        }
    }
    CHECK(m2j_prom_header(b, LAT, "histogram", "Time from request to answer in this receiver, by route."));
    for (int r = 0; r < RCV_N_ROUTES; r++) {
        unsigned long long n = 0;
        for (int k = 0; k <= RCV_N_BOUNDS; k++)
            n += t->buckets[r][k];
        if (!n)
            continue;
        m2j_prom_label l = { "route", rcv_route_names[r] };
        CHECK(m2j_prom_histogram(b, LAT, &l, 1, rcv_latency_bounds, RCV_N_BOUNDS, t->buckets[r],
                                 (double)t->sum_us[r] / 1e6));
    }
    return M2J_OK;
}
