/* metrics_listen.c: see metrics_listen.h. */
#include "worker/metrics_listen.h"
#include "base/log.h"
#include "base/prom.h"
#include "metrics/fleet_prom.h"
#include "metrics/metrics_auth.h"
#include "queue/queue.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/thread.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct wrk_metrics {
    const m2j_config           *cfg;
    char                       *consumer;
    struct event_base          *base;
    struct evhttp              *http;
    struct evhttp_bound_socket *sock;
    int                         port;
    pthread_t                   thread;
    bool                        running;
    m2j_queue                  *q;
};

static bool polling(const m2j_config *cfg)
{
    return cfg->magento.rest_url && *cfg->magento.rest_url && cfg->magento.poll_interval_seconds > 0;
}

static void reply(struct evhttp_request *req, int code, const char *ctype, const m2j_buf *b)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Content-Type", ctype);
    evhttp_add_header(h, "Cache-Control", "no-store");
    if (code == 401)
        evhttp_add_header(h, "WWW-Authenticate", "Bearer realm=\"m2jortt\"");
    if (b && b->len && evhttp_request_get_command(req) != EVHTTP_REQ_HEAD)
        evbuffer_add(evhttp_request_get_output_buffer(req), b->data, b->len);
    evhttp_send_reply(req, code, NULL, NULL);
}

static void on_request(struct evhttp_request *req, void *arg)
{
    wrk_metrics *m = arg;
    const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
    enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
    m2j_buf b = {0};
    if (!path || strcmp(path, "/metrics") != 0) {
        m2j_buf_puts(&b, "not found\n");
        reply(req, 404, "text/plain", &b);
    } else if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
        evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "GET, HEAD");
        reply(req, 405, "text/plain", NULL);
    } else if (!m2j_metrics_auth_ok(evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization"),
                                    m->cfg->admin.token)) {
        m2j_buf_puts(&b, "a Bearer token (admin.token) is required\n");
        reply(req, 401, "text/plain", &b);
    } else {
        m2j_err e;
        m2j_fleet_stats *s = malloc(sizeof *s);
        bool ok = s && (m->q || m2j_queue_open(m->cfg, &m->q, &e) == M2J_OK) &&
                  m2j_fleet_stats_get(m->q, s, &e) == M2J_OK;
        m2j_prom_label l = { "consumer", m->consumer };
        m2j_rc rc = m2j_fleet_prom(ok ? s : NULL, polling(m->cfg), &b);
        if (rc == M2J_OK)
            rc = m2j_prom_header(&b, "m2jortt_worker_info", "gauge", "This worker process (always 1).");
        if (rc == M2J_OK)
            rc = m2j_prom_int(&b, "m2jortt_worker_info", &l, 1, 1);
        free(s);
        if (rc == M2J_OK) {
            reply(req, 200, M2J_PROM_CONTENT_TYPE, &b);
        } else {
            m2j_buf_reset(&b);
            m2j_buf_puts(&b, "out of memory\n");
            reply(req, 503, "text/plain", &b);
        }
    }
    m2j_buf_free(&b);
}

static void *run(void *arg)
{
    wrk_metrics *m = arg;
    event_base_dispatch(m->base);
    return NULL;
}

static void free_parts(wrk_metrics *m)
{
    if (m->http)
        evhttp_free(m->http);
    if (m->base)
        event_base_free(m->base);
    m2j_queue_close(m->q);
    free(m->consumer);
    free(m);
}

m2j_rc wrk_metrics_start(const m2j_config *cfg, const char *consumer, wrk_metrics **out, m2j_err *err)
{
    *out = NULL;
    if (!cfg->worker.metrics_host)
        return M2J_OK;
    /* The stop comes from the main thread: libevent must know about threads. */
    if (evthread_use_pthreads() != 0)
        return m2j_fail(err, M2J_ERR_INTERNAL, "cannot enable libevent threads");
    wrk_metrics *m = calloc(1, sizeof *m);
    if (!m || !(m->consumer = strdup(consumer))) {
        free(m);
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    }
    m->cfg = cfg;
    if (!(m->base = event_base_new()) || !(m->http = evhttp_new(m->base))) {
        free_parts(m);
        return m2j_fail(err, M2J_ERR_NOMEM, "cannot create the metrics listener");
    }
    evhttp_set_gencb(m->http, on_request, m);
    evhttp_set_timeout(m->http, 10);
    m->sock = evhttp_bind_socket_with_handle(m->http, cfg->worker.metrics_host, (ev_uint16_t)cfg->worker.metrics_port);
    if (!m->sock) {
        int e = errno;
        free_parts(m);
        return m2j_fail(err, M2J_ERR_IO, "worker.metrics_listen %s: %s", cfg->worker.metrics_listen,
                        e == EADDRINUSE ? "address in use" : strerror(e));
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    m->port = cfg->worker.metrics_port;
    if (getsockname(evhttp_bound_socket_get_fd(m->sock), (struct sockaddr *)&ss, &sl) == 0)
        m->port = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                           : ntohs(((struct sockaddr_in *)&ss)->sin_port);
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    m->running = pthread_create(&m->thread, NULL, run, m) == 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (!m->running) {
        free_parts(m);
        return m2j_fail(err, M2J_ERR_IO, "cannot start the metrics thread");
    }
    *out = m;
    return M2J_OK;
}

int wrk_metrics_port(const wrk_metrics *m)
{
    return m ? m->port : 0;
}

void wrk_metrics_stop(wrk_metrics *m)
{
    if (!m)
        return;
    if (m->running) {
        event_base_loopbreak(m->base);
        pthread_join(m->thread, NULL);
    }
    free_parts(m);
}
