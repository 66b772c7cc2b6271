/* m2jortt-worker: takes events from the Redis queue and turns them into Jortt
 * customers and invoices. Many of these run at once, on many hosts; all
 * coordination goes through Redis (queue, locks, token, rate limit, breaker).
 *
 *   m2jortt-worker --config FILE [--consumer NAME] [--once]
 *
 * --once processes until the queue has nothing to hand out, then exits
 * (tests). SIGTERM/SIGINT: stop taking, finish the job in hand, exit 0; a
 * job still running worker.shutdown_grace_seconds after the signal is cut
 * short (its Jortt call aborted) and released back to the stream. */
#include "alert/alert_loop.h"
#include "jortt/breaker.h"
#include "config/config.h"
#include "base/clock.h"
#include "base/crypto_util.h"
#include "worker/customer_sync.h"
#include "jortt/jortt_api.h"
#include "base/json_util.h"
#include "base/log.h"
#include "worker/heartbeat.h"
#include "worker/magento_link.h"
#include "worker/liveness.h"
#include "worker/metrics_listen.h"
#include "worker/processor.h"
#include "worker/retention_sweep.h"
#include "queue/queue.h"
#include "queue/redis_cmd.h"
#include "queue/durability.h"

#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RECONNECT_MIN_MS   100
#define RECONNECT_MAX_MS   5000
#define PROMOTE_EVERY_MS   1000
#define PROMOTE_LIMIT      100
#define BREAKER_POLL_MS    500
/* Runs of the job in hand after Redis came back before it is left to the
 * visibility timeout: Redis that answers PING but keeps failing the
 * outcome (disk full under appendonly, say) must not make one worker
 * repeat its Jortt searches forever. */
#define RERUN_MAX          5

static volatile sig_atomic_t g_stop = 0;
/* CLOCK_MONOTONIC seconds of the first stop signal: the grace is counted in
 * whole seconds because only an int can be written from a signal handler. */
static volatile sig_atomic_t g_stop_at_s = 0;
static long g_grace_s = 30;

static void on_signal(int sig)
{
    (void)sig;
    if (!g_stop)
        g_stop_at_s = (sig_atomic_t)(m2j_mono_ms() / 1000); /* only clock_gettime: async-signal-safe */
    g_stop = 1;
}

/* worker.shutdown_grace_seconds after SIGTERM/SIGINT the job in hand is cut
 * short (transfer aborted, no new call) and released to the stream. */
static bool grace_over(void *ud)
{
    (void)ud;
    return g_stop && (long)(m2j_mono_ms() / 1000) - (long)g_stop_at_s >= g_grace_s;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: m2jortt-worker --config FILE [--consumer NAME] [--once]\n");
}

/* Logs Redis going away and coming back once each, not once per retry. */
typedef struct {
    bool      down;
    long long backoff_ms;
} conn_state;

static void redis_failed(conn_state *cs, const char *what, const m2j_err *e)
{
    if (!cs->down) {
        m2j_log(M2J_LOG_ERROR, "redis unavailable; retrying with back-off", "during", what, "error", e->msg, NULL);
        cs->down = true;
        cs->backoff_ms = RECONNECT_MIN_MS;
    }
    m2j_sleep_ms(cs->backoff_ms, &g_stop);
    cs->backoff_ms *= 2;
    if (cs->backoff_ms > RECONNECT_MAX_MS)
        cs->backoff_ms = RECONNECT_MAX_MS;
}

static void redis_ok(conn_state *cs)
{
    if (cs->down)
        m2j_log(M2J_LOG_INFO, "redis available again", NULL);
    cs->down = false;
    cs->backoff_ms = RECONNECT_MIN_MS;
}

/* A Redis that would lose acknowledged events is refused (durability.h). */
static bool redis_durable_enough(m2j_queue *q, const m2j_config *cfg)
{
    m2j_durability d = M2J_UNCHECKED;
    m2j_buf why = {0};
    m2j_err e = {0};
    if (m2j_durability_check(m2j_queue_redis(q), &d, &why, &e) != M2J_OK) {
        m2j_buf_free(&why);
        return true; /* connection trouble: the loop reconnects and reports it */
    }
    bool ok = d != M2J_VOLATILE || cfg->redis.allow_volatile;
    if (d != M2J_DURABLE)
        m2j_log(ok ? M2J_LOG_WARN : M2J_LOG_ERROR, ok ? "redis is not durable" : "refusing a volatile redis",
                "reason", m2j_buf_str(&why), "allow_volatile", cfg->redis.allow_volatile ? "true" : "false", NULL);
    m2j_buf_free(&why);
    return ok;
}

typedef struct {
    json_object *selectable; /* set of ids */
} ledger_ctx;

static bool ledger_cb(json_object *item, void *ud)
{
    ledger_ctx *lc = ud;
    const char *id = m2j_json_str(item, "ledger_account_id");
    bool sel = false;
    if (id && m2j_json_bool(item, "selectable", &sel) == M2J_OK && sel)
        json_object_object_add(lc->selectable, id, json_object_new_boolean(1));
    return true;
}

static bool ledger_known(ledger_ctx *lc, const char *what, const char *key, const char *id)
{
    if (!id || !*id || json_object_object_get_ex(lc->selectable, id, NULL))
        return true;
    m2j_log(M2J_LOG_ERROR, "configured ledger account is not a selectable Jortt invoice ledger account",
            "setting", what, "key", key, "ledger_account_id", id, NULL);
    return false;
}

/* Returns 1 when a configured ledger account is unknown to Jortt (a config
 * error: exit), 0 otherwise (also when Jortt cannot be asked right now). */
static int check_ledger_accounts(m2j_worker *w)
{
    const m2j_config *cfg = w->cfg;
    bool any = cfg->orders.n_revenue_account_by_country > 0;
    for (size_t i = 0; i < cfg->orders.n_shipping_methods; i++)
        any |= cfg->orders.shipping_methods[i].v.ledger_account_id != NULL;
    for (size_t i = 0; i < cfg->customers.n_groups; i++)
        any |= cfg->customers.groups[i].v.ledger_account_id != NULL;
    if (!any)
        return 0;
    ledger_ctx lc = { json_object_new_object() };
    m2j_jortt_response r;
    m2j_call_class cls;
    m2j_err e;
    m2j_rc rc = m2j_jortt_call(&w->api, "GET", M2J_PATH_LEDGER_ACCOUNTS, NULL, 0, NULL, &r, &cls, &e);
    int bad = 0;
    if (rc != M2J_OK || cls != M2J_CLASS_SUCCESS) {
        m2j_buf d = {0};
        if (rc == M2J_OK)
            m2j_jortt_describe(&r, &d);
        m2j_log(M2J_LOG_WARN, "cannot check the configured ledger accounts against Jortt now; continuing",
                "error", rc == M2J_OK ? m2j_buf_str(&d) : e.msg, NULL);
        m2j_buf_free(&d);
    } else {
        json_object *data = r.json ? m2j_json_path(r.json, "data") : NULL;
        size_t n = data && json_object_is_type(data, json_type_array) ? json_object_array_length(data) : 0;
        for (size_t i = 0; i < n; i++)
            ledger_cb(json_object_array_get_idx(data, i), &lc);
        for (size_t i = 0; i < cfg->orders.n_revenue_account_by_country; i++)
            bad |= !ledger_known(&lc, "orders.revenue_account_by_country", cfg->orders.revenue_account_by_country[i].key,
                                 cfg->orders.revenue_account_by_country[i].v);
        for (size_t i = 0; i < cfg->orders.n_shipping_methods; i++)
            bad |= !ledger_known(&lc, "orders.shipping_methods", cfg->orders.shipping_methods[i].key,
                                 cfg->orders.shipping_methods[i].v.ledger_account_id);
        for (size_t i = 0; i < cfg->customers.n_groups; i++)
            bad |= !ledger_known(&lc, "customers.groups", cfg->customers.groups[i].key,
                                 cfg->customers.groups[i].v.ledger_account_id);
    }
    m2j_jortt_response_clear(&r);
    json_object_put(lc.selectable);
    return bad;
}

/* Runs the job in hand until its outcome is recorded. When Redis goes away
 * before that (outcome not_recorded), the worker keeps the job, waits for
 * Redis with back-off, releases the locks it could not release, checks the
 * entry is still its own (m2j_queue_hold) and runs the event again from the
 * job as it was taken: the exactly-once records
 * (intent, search by reference, recorded id) make the second run adopt
 * what the first one did, so the event is done seconds after Redis returns
 * instead of after the visibility timeout, and other events of the same
 * order or customer do not wait out the lock TTL. On shutdown, or after
 * RERUN_MAX runs, the entry stays pending for another worker to claim. */
static m2j_rc run_job(m2j_worker *w, conn_state *cs, m2j_job *job)
{
    json_object *taken = NULL;
    if (json_object_deep_copy(job->job, &taken, NULL) != 0)
        taken = NULL;
    m2j_err e;
    m2j_rc rc = m2j_process_job(w, job, &e);
    int reruns = 0;
    while (rc == M2J_ERR_IO && taken && reruns < RERUN_MAX && !g_stop) {
        redis_failed(cs, "outcome", &e);
        if (g_stop)
            break;
        if (m2j_wcmd(w->q, NULL, &e, "PING", NULL) != M2J_OK || m2j_worker_release_unreleased(w, &e) != M2J_OK)
            continue;
        redis_ok(cs);
        /* An outage longer than the visibility timeout lets another worker
         * take the entry over the moment Redis is back: then it is theirs. */
        m2j_rc held = m2j_queue_hold(w->q, job, w->consumer, &e);
        if (held == M2J_ERR_IO)
            continue;
        if (held != M2J_OK) {
            m2j_log(M2J_LOG_INFO, "the event in hand was taken over while Redis was away; leaving it",
                    "stream_id", job->stream_id, "detail", e.msg, NULL);
            rc = M2J_OK;
            break;
        }
        json_object *again = NULL;
        if (json_object_deep_copy(taken, &again, NULL) != 0)
            break;
        json_object_put(job->job);
        job->job = again;
        reruns++;
        m2j_log(M2J_LOG_INFO, "running the event in hand again after its outcome was not recorded",
                "stream_id", job->stream_id, NULL);
        rc = m2j_process_job(w, job, &e);
    }
    if (rc == M2J_ERR_IO && !g_stop)
        redis_failed(cs, "outcome", &e);
    json_object_put(taken);
    return rc;
}

/* While the breaker is open no events are taken. Returns true when it is
 * open (the caller loops), after sleeping or probing. */
static bool breaker_gate(m2j_worker *w, conn_state *cs, bool *was_open)
{
    m2j_breaker_state st;
    m2j_err e;
    if (m2j_breaker_get(w->q, &st, &e) != M2J_OK) {
        redis_failed(cs, "breaker", &e);
        return true;
    }
    if (!st.open) {
        if (*was_open)
            m2j_log(M2J_LOG_INFO, "circuit breaker closed: taking events again", NULL);
        *was_open = false;
        return false;
    }
    if (!*was_open) {
        m2j_log(M2J_LOG_WARN, "circuit breaker open: Jortt looks down; not taking events", NULL);
        *was_open = true;
    }
    long long now = m2j_now_ms();
    if (now < st.open_until_ms) {
        long long wait = st.open_until_ms - now;
        m2j_sleep_ms(wait < 1000 ? wait : 1000, &g_stop);
        return true;
    }
    char token[33];
    if (m2j_random_hex(token) != M2J_OK || m2j_breaker_claim_probe(w->q, token, &e) != M2J_OK) {
        m2j_sleep_ms(BREAKER_POLL_MS, &g_stop);
        return true;
    }
    m2j_jortt_response r;
    m2j_call_class cls;
    m2j_rc rc = m2j_jortt_call(&w->api, "GET", M2J_PATH_LEDGER_ACCOUNTS, NULL, 0, NULL, &r, &cls, &e);
    m2j_buf d = {0};
    if (rc == M2J_OK)
        m2j_jortt_describe(&r, &d);
    m2j_log(M2J_LOG_INFO, "circuit breaker probe", "result",
            rc == M2J_OK ? m2j_call_class_name(cls) : "not_sent",
            "detail", rc == M2J_OK ? m2j_buf_str(&d) : e.msg, NULL);
    m2j_buf_free(&d);
    m2j_jortt_response_clear(&r);
    return true;
}

int main(int argc, char **argv)
{
    const char *config_path = NULL, *consumer_arg = NULL;
    bool once = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            config_path = argv[++i];
        } else if (strcmp(argv[i], "--consumer") == 0 && i + 1 < argc) {
            consumer_arg = argv[++i];
        } else if (strcmp(argv[i], "--once") == 0) {
            once = true;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (!config_path)
        config_path = M2J_CONFIG_DEFAULT_PATH;

    m2j_log_set_component("worker");
    m2j_config *cfg = NULL;
    m2j_err e;
    if (m2j_config_load(config_path, &cfg, &e) != M2J_OK) {
        m2j_log(M2J_LOG_ERROR, "cannot load configuration", "path", config_path, "error", e.msg, NULL);
        return 1;
    }
    m2j_log_apply(cfg->log.level, cfg->log.format);

    char consumer[320];
    if (consumer_arg) {
        snprintf(consumer, sizeof consumer, "%s", consumer_arg);
    } else {
        char host[256] = "host";
        gethostname(host, sizeof host - 1);
        host[sizeof host - 1] = '\0';
        snprintf(consumer, sizeof consumer, "%s:%ld", host, (long)getpid());
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    /* no SA_RESTART: sleeps and blocking reads return early on a signal */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
        m2j_log(M2J_LOG_ERROR, "curl initialisation failed", NULL);
        m2j_config_free(cfg);
        return 1;
    }
    int exit_code = 0;
    m2j_jortt_client *http = NULL;
    m2j_queue *q = NULL;
    m2j_heartbeat *leases = NULL;
    if (m2j_jortt_client_new(cfg->jortt.timeout_seconds, &http, &e) != M2J_OK) {
        m2j_log(M2J_LOG_ERROR, "cannot create the HTTP client", "error", e.msg, NULL);
        exit_code = 1;
        goto done;
    }

    conn_state cs = { false, RECONNECT_MIN_MS };
    while (!g_stop) {
        if (m2j_queue_open(cfg, &q, &e) == M2J_OK)
            break;
        redis_failed(&cs, "connect", &e);
    }
    if (g_stop)
        goto done;
    redis_ok(&cs);
    m2j_log(M2J_LOG_INFO, "worker started", "consumer", consumer, "once", once ? "true" : "false", NULL);
    if (!redis_durable_enough(q, cfg)) {
        exit_code = 1;
        goto done;
    }
    /* The installation key (base/pseudonym.h) before any pseudonym is
     * logged or any customer looked up: read, or created by the first
     * program of the installation. Never logged. */
    for (;;) {
        unsigned char key[M2J_INSTALL_KEY_LEN];
        bool created = false;
        m2j_rc krc = m2j_queue_install_key(q, key, &created, &e);
        if (krc == M2J_OK) {
            m2j_log_set_install_key(key);
            explicit_bzero(key, sizeof key);
            if (created)
                m2j_log(M2J_LOG_INFO, "installation key created in Redis (first start of this installation, or "
                        "after an upgrade): the customer index is read again under it", NULL);
            break;
        }
        if (krc != M2J_ERR_IO) {
            m2j_log(M2J_LOG_ERROR, "cannot use the installation key", "error", e.msg, NULL);
            exit_code = 1;
            goto done;
        }
        redis_failed(&cs, "installation key", &e);
        if (g_stop)
            goto done;
    }
    redis_ok(&cs);

    m2j_worker w = { .cfg = cfg, .q = q, .consumer = consumer, .stop = &g_stop };
    if (m2j_heartbeat_start(cfg, q, consumer, &leases, &e) != M2J_OK) {
        m2j_log(M2J_LOG_ERROR, "cannot start the heartbeat", "error", e.msg, NULL);
        exit_code = 1;
        goto done;
    }
    w.hb = leases;
    m2j_jortt_client_set_gate(http, m2j_heartbeat_may_send, leases);
    w.api.cfg = cfg;
    w.api.q = q;
    w.api.http = http;
    w.api.stop = &g_stop;
    g_grace_s = cfg->worker.shutdown_grace_seconds;
    w.api.grace_over = grace_over;
    m2j_jortt_client_set_abort(http, grace_over, NULL);

    if (check_ledger_accounts(&w)) {
        m2j_log(M2J_LOG_ERROR, "configuration error: unknown ledger account(s); exiting", NULL);
        exit_code = 1;
        goto done;
    }
    if (m2j_magento_link_open(&w, &e) != M2J_OK) {
        m2j_log(M2J_LOG_ERROR, "cannot create the Magento client", "error", e.msg, NULL);
        exit_code = 1;
        goto done;
    }
    long filled = 0;
    m2j_rc rc = m2j_customer_index_warm(&w, &filled, &e);
    if (rc == M2J_OK && filled > 0) {
        char n[24];
        snprintf(n, sizeof n, "%ld", filled);
        m2j_log(M2J_LOG_INFO, "customer index warmed", "customers", n, NULL);
    } else if (rc != M2J_OK && rc != M2J_ERR_CONFLICT) {
        m2j_log(M2J_LOG_WARN, "customer index not warmed (new buyers are searched first)", "error", e.msg, NULL);
    }

    wrk_metrics *metrics = NULL;
    if (wrk_metrics_start(cfg, consumer, &metrics, &e) != M2J_OK) {
        m2j_log(M2J_LOG_ERROR, "cannot serve worker.metrics_listen", "error", e.msg, NULL);
        exit_code = 1;
        goto done;
    }
    if (metrics) {
        char port[16];
        snprintf(port, sizeof port, "%d", wrk_metrics_port(metrics));
        m2j_log(M2J_LOG_INFO, "worker metrics listening", "listen", cfg->worker.metrics_listen, "port", port, NULL);
    }
    m2j_alert_loop *alerts = NULL;
    if (m2j_alert_loop_start(cfg, &alerts, &e) != M2J_OK)
        m2j_log(M2J_LOG_ERROR, "alerts not started", "error", e.msg, NULL);
    long long last_promote = 0, last_beat = 0;
    bool breaker_was_open = false;
    while (!g_stop) {
        long long now = m2j_now_ms();
        if (now - last_beat >= 1000) {
            if (m2j_liveness_beat(q, consumer, now, &e) != M2J_OK) {
                redis_failed(&cs, "heartbeat", &e);
                continue;
            }
            redis_ok(&cs);
            last_beat = now;
        }
        if (now - last_promote >= PROMOTE_EVERY_MS) {
            if (m2j_queue_promote_due(q, now, PROMOTE_LIMIT, NULL, &e) != M2J_OK) {
                redis_failed(&cs, "promote", &e);
                continue;
            }
            redis_ok(&cs);
            last_promote = now;
        }
        m2j_magento_link_tick(&w, now); /* Magento, not Jortt: runs while the breaker is open */
        m2j_retention_tick(&w, now);     /* Redis only, likewise */
        /* redis_ok only follows a call that really reached Redis: declaring
         * it back on an idle turn made an outage log up/down ten times a
         * second and kept the back-off from ever growing. */
        if (breaker_gate(&w, &cs, &breaker_was_open))
            continue;

        m2j_job job;
        memset(&job, 0, sizeof job);
        rc = m2j_queue_take(q, consumer, cfg->worker.block_ms,
                            cfg->worker.visibility_timeout_seconds * 1000, &job, &e);
        if (rc == M2J_OK || rc == M2J_ERR_EMPTY)
            redis_ok(&cs);
        if (rc == M2J_ERR_EMPTY) {
            if (once)
                break;
            continue;
        }
        if (rc != M2J_OK) {
            if (rc == M2J_ERR_IO) {
                redis_failed(&cs, "take", &e);
            } else {
                m2j_log(M2J_LOG_ERROR, "taking a job failed", "error", e.msg, NULL);
                m2j_sleep_ms(RECONNECT_MIN_MS, &g_stop);
            }
            continue;
        }
        run_job(&w, &cs, &job);
        m2j_job_clear(&job);
    }
    m2j_alert_loop_stop(alerts);
    wrk_metrics_stop(metrics);
    if (q) {
        m2j_worker_release_unreleased(&w, NULL);
        m2j_liveness_gone(q, consumer, NULL);
    }
    m2j_worker_clear(&w);
    m2j_magento_link_close(&w);
    char calls[24];
    snprintf(calls, sizeof calls, "%ld", w.api.calls);
    m2j_log(M2J_LOG_INFO, "worker stopped", "consumer", consumer, "jortt_calls", calls, NULL);

done:
    m2j_heartbeat_stop(leases);
    m2j_queue_close(q);
    m2j_jortt_client_free(http);
    curl_global_cleanup();
    m2j_config_free(cfg);
    return exit_code;
}
