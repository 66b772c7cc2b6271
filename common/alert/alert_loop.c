/* alert_loop.c: see alert_loop.h. */
#include "alert/alert_loop.h"
#include "alert/alert_send.h"
#include "alert/alert_store.h"
#include "base/clock.h"
#include "base/crypto_util.h"
#include "base/log.h"
#include "queue/queue.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ROUND_MS        1000    /* how often the lease holder looks */
#define LEASE_MS        10000   /* a holder that died is replaced after this */
#define DEAD_BATCH_MS   300000  /* news of more dead letters at most every 5 min */
#define WORKERS_HOLD_MS 60000
#define RETRY_MAX_MS    300000
#define PER_ROUND       5       /* messages per channel per round */

enum { CH_WEBHOOK, CH_EMAIL, CH_N };
static const char *const CH_NAME[CH_N] = { "webhook", "email" };

struct m2j_alert_loop {
    const m2j_config *cfg;
    pthread_t         thread;
    pthread_mutex_t   mu;
    pthread_cond_t    cv;
    bool              stop;
    char              token[33];
    bool              on[CH_N];
    long long         retry_at[CH_N], backoff[CH_N];
    m2j_queue        *q;
    m2j_http         *http;
    bool              redis_down;
};

static void deliver(m2j_alert_loop *l, int ch, long long now)
{
    if (!l->on[ch] || now < l->retry_at[ch])
        return;
    for (int i = 0; i < PER_ROUND; i++) {
        char *text = NULL;
        m2j_err e;
        if (m2j_alert_outbox_head(l->q, CH_NAME[ch], &text, &e) != M2J_OK || !text)
            return;
        m2j_rc rc = ch == CH_WEBHOOK ? m2j_alert_webhook(l->http, l->cfg->alerts.webhook_url, text, &e)
                                     : m2j_alert_email(&l->cfg->alerts, text, m2j_now_ms(), &e);
        if (rc != M2J_OK) {
            l->backoff[ch] = l->backoff[ch] ? l->backoff[ch] * 2 : 5000;
            if (l->backoff[ch] > RETRY_MAX_MS)
                l->backoff[ch] = RETRY_MAX_MS;
            l->retry_at[ch] = now + l->backoff[ch];
            char wait[24];
            snprintf(wait, sizeof wait, "%lld", l->backoff[ch] / 1000);
            m2j_log(M2J_LOG_WARN, "alert channel failed; the message waits", "channel", CH_NAME[ch], "error",
                    e.msg, "retry_in_s", wait, NULL);
            free(text);
            return;
        }
        if (l->backoff[ch])
            m2j_log(M2J_LOG_INFO, "alert channel delivers again", "channel", CH_NAME[ch], NULL);
        l->backoff[ch] = 0;
        m2j_alert_outbox_pop(l->q, CH_NAME[ch], text, NULL);
        m2j_log(M2J_LOG_INFO, "alert sent", "channel", CH_NAME[ch], NULL);
        free(text);
    }
}

void m2j_alert_policy_for(const m2j_config *cfg, m2j_alert_policy *p)
{
    *p = (m2j_alert_policy){
        .name = cfg->redis.key_prefix,
        .max_age_ms = cfg->alerts.max_age_seconds * 1000LL,
        .repeat_ms = cfg->alerts.repeat_seconds * 1000LL,
        .dead_batch_ms = DEAD_BATCH_MS,
        .magento_stale_ms = (3 * cfg->magento.poll_interval_seconds + 60) * 1000LL,
        .workers_hold_ms = WORKERS_HOLD_MS,
    };
}

static void evaluate(m2j_alert_loop *l)
{
    const m2j_config *cfg = l->cfg;
    m2j_err e;
    m2j_alert_state st;
    m2j_alert_obs *o = malloc(sizeof *o);
    if (!o)
        return;
    m2j_alert_policy p;
    m2j_alert_policy_for(cfg, &p);
    m2j_alert_msg msgs[M2J_INC_N];
    if (m2j_alert_state_load(l->q, &st, &e) != M2J_OK || m2j_alert_observe(l->q, cfg, &st, o, &e) != M2J_OK) {
        free(o);
        return;
    }
    size_t n = m2j_alert_evaluate(&st, o, &p, msgs, M2J_INC_N);
    free(o);
    const char *chans[CH_N];
    size_t nch = 0;
    for (int c = 0; c < CH_N; c++)
        if (l->on[c])
            chans[nch++] = CH_NAME[c];
    if (m2j_alert_commit(l->q, l->token, &st, msgs, n, chans, nch, &e) != M2J_OK)
        return;
    for (size_t i = 0; i < n; i++)
        m2j_log(msgs[i].event == M2J_ALERT_ENDED ? M2J_LOG_INFO : M2J_LOG_WARN, "alert",
                "incident", m2j_incident_name(msgs[i].kind),
                "event", msgs[i].event == M2J_ALERT_STARTED ? "started" : msgs[i].event == M2J_ALERT_ENDED ? "ended"
                         : msgs[i].event == M2J_ALERT_UPDATE ? "update" : "reminder", NULL);
}

static void round_once(m2j_alert_loop *l)
{
    m2j_err e;
    if (!l->q && m2j_queue_open(l->cfg, &l->q, &e) != M2J_OK) {
        if (!l->redis_down)
            m2j_log(M2J_LOG_WARN, "alerts: redis unavailable", "error", e.msg, NULL);
        l->redis_down = true;
        return;
    }
    m2j_rc rc = m2j_alert_lease(l->q, l->token, LEASE_MS, &e);
    if (rc == M2J_ERR_CONFLICT)
        return;
    if (rc != M2J_OK) {
        if (!l->redis_down)
            m2j_log(M2J_LOG_WARN, "alerts: redis unavailable", "error", e.msg, NULL);
        l->redis_down = true;
        return;
    }
    l->redis_down = false;
    evaluate(l);
    long long now = m2j_now_ms();
    for (int c = 0; c < CH_N; c++)
        deliver(l, c, now);
}

static void *run(void *arg)
{
    m2j_alert_loop *l = arg;
    pthread_mutex_lock(&l->mu);
    while (!l->stop) {
        pthread_mutex_unlock(&l->mu);
        round_once(l);
        pthread_mutex_lock(&l->mu);
        if (l->stop)
            break;
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_nsec += (ROUND_MS % 1000) * 1000000L;
        until.tv_sec += ROUND_MS / 1000 + until.tv_nsec / 1000000000L;
        until.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&l->cv, &l->mu, &until);
    }
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

static bool stop_abort(void *ud)
{
    m2j_alert_loop *l = ud;
    pthread_mutex_lock(&l->mu);
    bool s = l->stop;
    pthread_mutex_unlock(&l->mu);
    return s;
}

m2j_rc m2j_alert_loop_start(const m2j_config *cfg, m2j_alert_loop **out, m2j_err *err)
{
    *out = NULL;
    bool web = cfg->alerts.webhook_url && *cfg->alerts.webhook_url;
    bool mail = cfg->alerts.smtp_url && *cfg->alerts.smtp_url;
    if (!web && !mail)
        return M2J_OK;
    m2j_alert_loop *l = calloc(1, sizeof *l);
    if (!l)
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    l->cfg = cfg;
    l->on[CH_WEBHOOK] = web;
    l->on[CH_EMAIL] = mail;
    pthread_mutex_init(&l->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&l->cv, &ca);
    pthread_condattr_destroy(&ca);
    m2j_rc rc = m2j_random_hex(l->token);
    if (rc == M2J_OK)
        rc = m2j_http_new(M2J_ALERT_SEND_TIMEOUT_S, 64 * 1024, &l->http, err);
    else
        m2j_fail(err, rc, "no randomness for the alert lease token");
    if (rc == M2J_OK) {
        m2j_http_set_abort(l->http, stop_abort, l);
        sigset_t block, old;
        sigemptyset(&block);
        sigaddset(&block, SIGTERM);
        sigaddset(&block, SIGINT);
        pthread_sigmask(SIG_BLOCK, &block, &old);
        if (pthread_create(&l->thread, NULL, run, l) != 0)
            rc = m2j_fail(err, M2J_ERR_IO, "cannot start the alert thread");
        pthread_sigmask(SIG_SETMASK, &old, NULL);
    }
    if (rc != M2J_OK) {
        m2j_http_free(l->http);
        pthread_cond_destroy(&l->cv);
        pthread_mutex_destroy(&l->mu);
        free(l);
        return rc;
    }
    *out = l;
    return M2J_OK;
}

void m2j_alert_loop_stop(m2j_alert_loop *l)
{
    if (!l)
        return;
    pthread_mutex_lock(&l->mu);
    l->stop = true;
    pthread_cond_signal(&l->cv);
    pthread_mutex_unlock(&l->mu);
    pthread_join(l->thread, NULL);
    m2j_queue_close(l->q);
    m2j_http_free(l->http);
    pthread_cond_destroy(&l->cv);
    pthread_mutex_destroy(&l->mu);
    free(l);
}
