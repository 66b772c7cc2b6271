/* m2jortt-receiver: accepts Magento webhooks and stores them durably in Redis.
 * It never calls Jortt; workers do (worker/).
 *
 *   m2jortt-receiver [--config FILE]     (default ./m2jortt.json)
 *
 * Endpoints
 *   POST /webhooks/magento[?type=order|customer|creditmemo]
 *     Body: an Adobe I/O Events CloudEvent (or a JSON array of them), an
 *     Adobe Commerce webhook ({"eventName","data"} or the plugin shape
 *     {"order":…}), or a bare Magento REST order/customer/credit memo
 *     (common/envelope.c has the detection rules).
 *     Checks, in order, each with a JSON error {"error","message"}:
 *       415 Content-Type present and not application/json or application/…+json
 *           (a missing Content-Type is accepted: the parser decides);
 *       413 body over receiver.max_body_bytes (a declared Content-Length is
 *           refused from the head, before the body is read);
 *       401 signature (Standard Webhooks, or the Adobe RSA schemes when
 *           keys are configured; common/signature.c) or, with
 *           receiver.io_events_client_id set, a CloudEvent recipient_client_id
 *           that does not match;
 *       400 malformed JSON or an unknown/unusable envelope;
 *       413 more than receiver.max_batch_events events;
 *       503 + Retry-After: 5 while Redis is unreachable or refuses the write
 *           (never a 4xx: Adobe only retries 429 and 5xx).
 *     Success, sent only after Redis confirmed the write (one atomic script
 *     for the whole batch, with dedup on the event id):
 *       202 {"status":"queued","id":"…"}        batch: {"status":"queued","ids":[…],"duplicates":N}
 *       200 {"status":"duplicate","id":"…"}     every event was already accepted
 *       200 {"op":"success"}                    Adobe Commerce Webhooks (needs exactly that)
 *   GET /webhooks/magento?challenge=X  -> 200 {"challenge":"X"}  (I/O Events registration)
 *   GET /healthz -> 200 {"status":"ok"}      (liveness: the process answers)
 *   GET /readyz  -> 200 when Redis answers a PING now, else 503
 *   GET /metrics -> the fleet's Prometheus figures (receiver/metrics.h)
 *   /admin...    -> the dashboard, only with admin.token (receiver/admin.h)
 *   Other methods on these paths -> 405 with Allow; other paths -> 404.
 *
 * Runtime: receiver.threads libevent loops (default 1; 0 = one per CPU), each in
 * its own thread with its own HTTP server, signature keys and
 * receiver.redis_connections Redis connections (default 8; each enqueue on
 * the one with the fewest commands in flight, receiver/redis_pool.c),
 * accepting on one shared listening socket; Redis through hiredis's async
 * API (receiver/redis_link.c), so no request ever blocks another. /readyz is
 * 200 only when every loop has a ready Redis connection. The receiver
 * starts even when Redis is down and reconnects with back-off (100 ms
 * doubling to 5 s). The enqueue script is run by EVALSHA (its SHA is computed
 * locally and SCRIPT LOADed on each connect), falling back to EVAL on
 * NOSCRIPT.
 *
 * SIGTERM/SIGINT: every loop stops accepting connections, answers new
 * requests on open connections 503, waits (at most 10 s) until every request
 * waiting on Redis has been answered and written; then exit 0. A second signal exits at once.
 *
 * Before evhttp parses a byte, receiver/conn_guard.c frames it: malformed or
 * ambiguous HTTP, slow heads and bodies, too many connections or too many
 * bytes in flight are refused there, in the same JSON (README: "Receiver
 * limits"); a webhook POST's head is checked (signature headers present,
 * timestamp in its window) before its body is read.
 *
 * Logs: logfmt on stderr, one line per request outcome (status, whether the
 * answer was written, event id, kind, duration); no personal data. Written
 * by a thread through a bounded queue (base/log.h), so a slow log reader
 * never holds up a loop. */
#include "alert/alert_loop.h"
#include "config/config.h"
#include "base/log.h"
#include "receiver/server.h"
#include "queue/durability.h"
#include "queue/redis_conn.h"

#include <curl/curl.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <pthread.h>
#include <malloc.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DRAIN_GRACE_MS 10000
#define MAX_LOOPS      64
/* Log lines waiting for a slow log reader (about 1,500 request lines);
 * beyond it lines are dropped and counted. A constant until config has a
 * log key for it. */
#define LOG_QUEUE_BYTES (256 * 1024)

static void usage(FILE *f)
{
    fprintf(f,
            "usage: m2jortt-receiver [--config FILE]\n"
            "  --config FILE  configuration file (default %s)\n"
            "  --help         this text\n"
            "Receives Magento webhooks on POST /webhooks/magento and queues them in Redis.\n",
            M2J_CONFIG_DEFAULT_PATH);
}

/* One event loop: receiver.threads of them, each with its own server and
 * Redis link, run by its own thread (loop 0 by the main thread, which also
 * takes the signals). */
typedef struct {
    struct event_base *base;
    rcv_server        *srv;
    pthread_t          thread;
    bool               running;
} loop;

typedef struct {
    loop  *loops;
    size_t n;
} sig_ctx;

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    sig_ctx *c = arg;
    static int seen;
    if (seen++) {
        m2j_log(M2J_LOG_WARN, "second signal: exiting now", NULL);
        for (size_t i = 0; i < c->n; i++)
            event_base_loopbreak(c->loops[i].base);
        return;
    }
    m2j_log(M2J_LOG_INFO, "shutting down", "signal", sig == SIGTERM ? "TERM" : "INT", NULL);
    rcv_server_drain(c->loops[0].srv, DRAIN_GRACE_MS);
    for (size_t i = 1; i < c->n; i++)
        rcv_server_drain_async(c->loops[i].srv, DRAIN_GRACE_MS);
}

static void *loop_run(void *arg)
{
    loop *l = arg;
    if (event_base_dispatch(l->base) < 0)
        m2j_log(M2J_LOG_ERROR, "event loop failed", NULL);
    return NULL;
}

/* receiver.threads, 0 meaning one loop per CPU. */
static size_t loop_count(const m2j_config *cfg)
{
    long n = cfg->receiver.threads;
    if (n <= 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        n = cpus > 0 ? cpus : 1;
    }
    return n > MAX_LOOPS ? MAX_LOOPS : (size_t)n;
}

/* A 202 promises the event is kept, so a Redis that would lose it is refused
 * at start (durability.h). Redis away at start: the receiver still starts
 * (it answers 503 until Redis is back) and says the check was not made. */
static bool redis_durable_enough(const m2j_config *cfg)
{
    redisContext *c = NULL;
    m2j_err e = {0};
    m2j_durability d = M2J_UNCHECKED;
    m2j_buf why = {0};
    if (m2j_redis_connect(&cfg->redis, 2000, &c, &e) != M2J_OK ||
        m2j_durability_check(c, &d, &why, &e) != M2J_OK) {
        m2j_log(M2J_LOG_WARN, "redis durability not checked: redis did not answer at start", "error", e.msg, NULL);
        if (c)
            redisFree(c);
        m2j_buf_free(&why);
        return true;
    }
    redisFree(c);
    bool ok = d != M2J_VOLATILE || cfg->redis.allow_volatile;
    if (d != M2J_DURABLE)
        m2j_log(ok ? M2J_LOG_WARN : M2J_LOG_ERROR, ok ? "redis is not durable" : "refusing a volatile redis",
                "reason", m2j_buf_str(&why), "allow_volatile", cfg->redis.allow_volatile ? "true" : "false", NULL);
    m2j_buf_free(&why);
    return ok;
}

int main(int argc, char **argv)
{
    const char *path = M2J_CONFIG_DEFAULT_PATH;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else if ((strcmp(argv[i], "--config") == 0 || strcmp(argv[i], "-c") == 0) && i + 1 < argc) {
            path = argv[++i];
        } else if (strncmp(argv[i], "--config=", 9) == 0) {
            path = argv[i] + 9;
        } else {
            fprintf(stderr, "m2jortt-receiver: unknown argument \"%s\"\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    /* glibc gives the top of the heap back to the kernel (brk, with a TLB
     * flush) whenever more than M_TRIM_THRESHOLD is free there (128 KB by
     * default). With tens of requests in flight, each holding its job text
     * until Redis answers, the top of the heap rises and falls by more than
     * that all the time: under wrk -c 64 strace counted 0.06 brk calls per
     * request (bench/profile.sh receiver-strace; brk was ~4% of the
     * receiver in perf, bench/findings.md), and 15 in a whole run (heap
     * growth only) with 4 MB. The peak (RSS under load) does not change;
     * at most 4 MB freed after a burst stays with the process. */
    mallopt(M_TRIM_THRESHOLD, 4 << 20);
    m2j_log_set_component("receiver");
    /* The loops must never wait for the log reader; flushed at exit. */
    if (m2j_log_start_writer(LOG_QUEUE_BYTES) != 0)
        m2j_log(M2J_LOG_WARN, "log writer thread did not start: logging directly", NULL);
    signal(SIGPIPE, SIG_IGN); /* a client that hangs up must not kill us */

    m2j_err err = {0};
    m2j_config *cfg = NULL;
    if (m2j_config_load(path, &cfg, &err) != M2J_OK) {
        m2j_log(M2J_LOG_ERROR, "cannot load configuration", "path", path, "error", err.msg, NULL);
        return 1;
    }
    /* No installation key: the receiver logs no personal data (pseudonyms
     * would read "h:?"), so it starts whether or not Redis is up yet. */
    m2j_log_apply(cfg->log.level, cfg->log.format);

    if (!redis_durable_enough(cfg)) {
        m2j_config_free(cfg);
        return 1;
    }

    int code = 1;
    size_t n = loop_count(cfg);
    loop *loops = calloc(n, sizeof *loops);
    rcv_server **all = calloc(n, sizeof *all);
    struct event *sterm = NULL, *sint = NULL;
    m2j_alert_loop *alerts = NULL;
    sig_ctx sc = { loops, 0 };
    if (!loops || !all) {
        m2j_log(M2J_LOG_ERROR, "out of memory", NULL);
        goto out;
    }
    /* Only a process with several loops pays for libevent's locking (one
     * loop wakes another to drain). */
    if (n > 1 && evthread_use_pthreads() != 0) {
        m2j_log(M2J_LOG_ERROR, "cannot enable libevent threads", NULL);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        if (!(loops[i].base = event_base_new())) {
            m2j_log(M2J_LOG_ERROR, "cannot create the event loop", NULL);
            goto out;
        }
        sc.n = i + 1;
        m2j_rc rc = i == 0 ? rcv_server_new(cfg, loops[i].base, &loops[i].srv, &err)
                           : rcv_server_new_sibling(loops[0].srv, loops[i].base, &loops[i].srv, &err);
        if (rc != M2J_OK) {
            m2j_log(M2J_LOG_ERROR, "cannot start", "error", err.msg, NULL);
            goto out;
        }
        all[i] = loops[i].srv;
    }
    for (size_t i = 0; i < n; i++)
        rcv_server_set_group(all[i], all, n);
    sterm = evsignal_new(loops[0].base, SIGTERM, on_signal, &sc);
    sint = evsignal_new(loops[0].base, SIGINT, on_signal, &sc);
    if (!sterm || !sint || evsignal_add(sterm, NULL) != 0 || evsignal_add(sint, NULL) != 0) {
        m2j_log(M2J_LOG_ERROR, "cannot install signal handlers", NULL);
        goto out;
    }
    /* The loop threads block the stop signals, so the kernel always hands
     * them to the main thread, whose loop owns the signal events. */
    sigset_t stop, old;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, &old);
    bool started = true;
    for (size_t i = 1; i < n && started; i++) {
        started = pthread_create(&loops[i].thread, NULL, loop_run, &loops[i]) == 0;
        loops[i].running = started;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (!started) {
        m2j_log(M2J_LOG_ERROR, "cannot start an event loop thread", NULL);
        goto out;
    }
    char listen[300], threads[24];
    snprintf(listen, sizeof listen, "%s:%d", cfg->receiver.listen_host ? cfg->receiver.listen_host : "127.0.0.1",
             rcv_server_port(loops[0].srv));
    snprintf(threads, sizeof threads, "%zu", n);
    m2j_log(M2J_LOG_INFO, "receiver listening", "listen", listen, "threads", threads, "config", path, NULL);
    /* The receiver evaluates alerts too: it is who notices no worker is alive. */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0 || m2j_alert_loop_start(cfg, &alerts, &err) != M2J_OK)
        m2j_log(M2J_LOG_ERROR, "alerts not started", "error", err.msg, NULL);
    if (event_base_dispatch(loops[0].base) < 0) {
        m2j_log(M2J_LOG_ERROR, "event loop failed", NULL);
        goto out;
    }
    code = 0;
out:
    /* The other loops end by themselves after a drain; on any other way
     * out they are stopped here. */
    for (size_t i = 1; i < sc.n; i++) {
        if (!loops[i].running)
            continue;
        if (code != 0)
            event_base_loopbreak(loops[i].base);
        pthread_join(loops[i].thread, NULL);
    }
    m2j_alert_loop_stop(alerts);
    if (code == 0)
        m2j_log(M2J_LOG_INFO, "receiver stopped", NULL);
    if (sterm)
        event_free(sterm);
    if (sint)
        event_free(sint);
    for (size_t i = sc.n; i-- > 0;) {
        rcv_server_free(loops[i].srv);
        if (loops[i].base)
            event_base_free(loops[i].base);
    }
    free(all);
    free(loops);
    m2j_config_free(cfg);
    return code;
}
