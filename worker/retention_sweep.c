/* retention_sweep.c: see retention_sweep.h. */
#include "worker/retention_sweep.h"
#include "base/crypto_util.h"
#include "base/log.h"
#include "queue/redis_cmd.h"
#include "queue/retention.h"

#include <stdio.h>
#include <stdlib.h>

/* Longer than a sweep of millions of keys in batches of 500. */
#define SWEEP_LOCK_MS (15L * 60 * 1000)

/* The worker loop is one thread: one next-check time per process. */
static long long g_next_check_ms;

static void log_counts(const m2j_worker *w, const m2j_retention_counts *n)
{
    char a[24], b[24], c[24], d[24], days[24];
    if (n->dead > 0) {
        snprintf(a, sizeof a, "%lld", n->dead);
        snprintf(days, sizeof days, "%ld", w->cfg->retention.failed_days);
        m2j_log(M2J_LOG_INFO, "dead letters past retention removed", "count", a, "failed_days", days, NULL);
    }
    if (n->orders + n->credits + n->skipped > 0) {
        snprintf(b, sizeof b, "%lld", n->orders);
        snprintf(c, sizeof c, "%lld", n->credits);
        snprintf(d, sizeof d, "%lld", n->skipped);
        snprintf(days, sizeof days, "%ld", w->cfg->retention.processed_days);
        m2j_log(M2J_LOG_INFO, "settled records past retention removed", "orders", b, "credits", c, "skipped", d,
                "processed_days", days, NULL);
    }
}

/* When the fleet last swept (ms), 0 never. */
static m2j_rc last_sweep(m2j_worker *w, const char *key, long long *ms, m2j_err *e)
{
    redisReply *r = NULL;
    m2j_rc rc = m2j_wcmd(w->q, &r, e, "GET", key, NULL);
    if (rc != M2J_OK)
        return rc;
    *ms = r->type == REDIS_REPLY_STRING ? m2j_reply_ll(r->str) : 0;
    freeReplyObject(r);
    return M2J_OK;
}

void m2j_retention_tick(m2j_worker *w, long long now_ms)
{
    if (now_ms < g_next_check_ms)
        return;
    g_next_check_ms = now_ms + M2J_RETENTION_CHECK_MS;
    m2j_err e;
    m2j_buf key = {0};
    long long last = 0;
    if (m2j_wkey(w->q, &key, "retention:last_ms") != M2J_OK || last_sweep(w, key.data, &last, &e) != M2J_OK ||
        now_ms - last < M2J_RETENTION_EVERY_MS) {
        m2j_buf_free(&key);
        return;
    }
    char token[33];
    if (m2j_random_hex(token) != M2J_OK || m2j_lock_acquire(w->q, "retention", token, SWEEP_LOCK_MS, &e) != M2J_OK) {
        m2j_buf_free(&key);
        return; /* another worker sweeps, or Redis is away: the loop says so */
    }
    /* read again under the lock: the holder before us may just have finished */
    if (last_sweep(w, key.data, &last, &e) == M2J_OK && now_ms - last >= M2J_RETENTION_EVERY_MS) {
        long long dead_before, processed_before;
        m2j_retention_cutoffs(w->cfg, m2j_now_ms(), &dead_before, &processed_before);
        m2j_retention_counts n;
        if (m2j_retention_run(w->q, dead_before, processed_before, true, &n, &e) == M2J_OK) {
            log_counts(w, &n);
            char now[32];
            snprintf(now, sizeof now, "%lld", m2j_now_ms());
            m2j_wcmd(w->q, NULL, NULL, "SET", key.data, now, NULL);
        } else {
            /* what was removed stays removed; the rest waits for the next check */
            log_counts(w, &n);
            m2j_log(M2J_LOG_WARN, "retention sweep stopped; the next check tries again", "error", e.msg, NULL);
        }
    }
    m2j_lock_release(w->q, "retention", token, NULL);
    m2j_buf_free(&key);
}
