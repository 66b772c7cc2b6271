/* metrics.c: see metrics.h. */
#include "receiver/metrics.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/prom.h"
#include "metrics/fleet_prom.h"
#include "metrics/metrics_auth.h"
#include "receiver/conn_guard.h"
#include "receiver/http_stats.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const m2j_config         *cfg;
    rcv_guard                *guard;
    struct evhttp_request    *req;   /* NULL once the client went away */
    rcv_conn                 *watch; /* the guard's watch on req's connection, or */
    struct evhttp_connection *conn;  /* the connection watched directly (unguarded) */
    m2j_fleet_args            args;  /* must outlive the command (NOSCRIPT resend) */
    long long                 t0_us;
} scrape;

static bool polling(const m2j_config *cfg)
{
    return cfg->magento.rest_url && *cfg->magento.rest_url && cfg->magento.poll_interval_seconds > 0;
}

static void reply_done(void *arg, bool delivered)
{
    (void)arg, (void)delivered; /* the request line is logged at send: nothing waits on delivery */
}

static void finish(rcv_guard *g, struct evhttp_request *req, int code, const char *ctype, const m2j_buf *body,
                   long long t0)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Content-Type", ctype);
    evhttp_add_header(h, "Cache-Control", "no-store");
    if (code == 401)
        evhttp_add_header(h, "WWW-Authenticate", "Bearer realm=\"m2jortt\"");
    if (body && body->len && evhttp_request_get_command(req) != EVHTTP_REQ_HEAD)
        evbuffer_add(evhttp_request_get_output_buffer(req), body->data, body->len);
    /* counted by the guard until written, so a shutdown drains it */
    rcv_guard_reply(g, req, reply_done, NULL);
    evhttp_send_reply(req, code, NULL, NULL);
    long long us = m2j_mono_us() - t0;
    char st[8], ms[32];
    snprintf(st, sizeof st, "%d", code);
    snprintf(ms, sizeof ms, "%lld.%03lld", us / 1000, us % 1000);
    m2j_log(code == 200 ? M2J_LOG_DEBUG : M2J_LOG_INFO, "request", "method", "GET", "path", RCV_PATH_METRICS,
            "status", st, "ms", ms, NULL);
    rcv_http_observe(RCV_PATH_METRICS, code, us);
}

/* The fleet's part (s NULL: Redis unreadable), then this receiver's. */
static void answer(rcv_guard *g, struct evhttp_request *req, const m2j_config *cfg, const m2j_fleet_stats *s,
                   long long t0)
{
    m2j_buf b = {0};
    rcv_http_totals *t = malloc(sizeof *t);
    m2j_rc rc = t ? m2j_fleet_prom(s, polling(cfg), &b) : M2J_ERR_NOMEM;
    if (rc == M2J_OK) {
        rcv_http_snapshot(t);
        rc = rcv_http_prom(t, &b);
    }
    free(t);
    if (rc == M2J_OK) {
        finish(g, req, 200, M2J_PROM_CONTENT_TYPE, &b, t0);
    } else {
        m2j_buf m = {0};
        m2j_buf_puts(&m, "out of memory\n");
        finish(g, req, 503, "text/plain", &m, t0);
        m2j_buf_free(&m);
    }
    m2j_buf_free(&b);
}

static void scrape_gone(void *arg)
{
    scrape *sc = arg;
    sc->req = NULL;
    sc->watch = NULL;
    sc->conn = NULL;
}

static void on_close(struct evhttp_connection *conn, void *arg)
{
    (void)conn;
    scrape_gone(arg);
}

static void on_reply(redisReply *r, void *arg)
{
    scrape *sc = arg;
    struct evhttp_request *req = sc->req;
    if (sc->watch)
        rcv_conn_unwatch(sc->watch);
    else if (sc->conn)
        evhttp_connection_set_closecb(sc->conn, NULL, NULL);
    if (req) {
        m2j_fleet_stats *s = malloc(sizeof *s);
        m2j_err e;
        bool ok = s && r && m2j_fleet_stats_parse(r, s, &e) == M2J_OK;
        if (s && r && !ok)
            m2j_log(M2J_LOG_WARN, "metrics: unreadable fleet figures", "error", e.msg, NULL);
        answer(sc->guard, req, sc->cfg, ok ? s : NULL, sc->t0_us);
        free(s);
    }
    m2j_fleet_args_free(&sc->args);
    free(sc);
}

void rcv_metrics_serve(const m2j_config *cfg, rlink *redis, rcv_guard *guard, struct evhttp_request *req,
                       long long t0_us)
{
    enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
    if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
        evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "GET, HEAD");
        finish(guard, req, 405, "text/plain", NULL, t0_us);
        return;
    }
    const char *auth = evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
    if (!m2j_metrics_auth_ok(auth, cfg->admin.token)) {
        m2j_buf m = {0};
        m2j_buf_puts(&m, "a Bearer token (admin.token) is required\n");
        finish(guard, req, 401, "text/plain", &m, t0_us);
        m2j_buf_free(&m);
        return;
    }
    scrape *sc = calloc(1, sizeof *sc);
    m2j_err e;
    const char *prefix = cfg->redis.key_prefix && *cfg->redis.key_prefix ? cfg->redis.key_prefix : "m2jortt";
    if (!sc || m2j_fleet_args_build(prefix, &sc->args, &e) != M2J_OK) {
        free(sc);
        answer(guard, req, cfg, NULL, t0_us);
        return;
    }
    sc->cfg = cfg;
    sc->guard = guard;
    sc->t0_us = t0_us;
    char sha[41];
    rlink_script_sha(M2J_FLEET_SCRIPT, sha);
    if (rlink_eval(redis, sha, sc->args.argc, (const char **)sc->args.argv, sc->args.lens, on_reply, sc) != M2J_OK) {
        m2j_fleet_args_free(&sc->args);
        free(sc);
        answer(guard, req, cfg, NULL, t0_us);
        return;
    }
    /* Waiting on Redis: a client that leaves must not be answered into
     * freed memory. The guard owns the connection's close callback (as on
     * the webhook path); one it does not know is watched directly. */
    sc->req = req;
    sc->watch = rcv_guard_watch(guard, req, scrape_gone, sc);
    if (!sc->watch && (sc->conn = evhttp_request_get_connection(req)))
        evhttp_connection_set_closecb(sc->conn, on_close, sc);
}
