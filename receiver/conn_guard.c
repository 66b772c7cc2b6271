/* conn_guard.c: see conn_guard.h.
 *
 * How it hooks into evhttp 2.1 without its internals:
 *  - evhttp_set_bevcb lets us create each accepted connection's bufferevent.
 *    We keep a reference to it and an evbuffer callback on its input, which
 *    runs as bytes are added, before evhttp's read callback parses them: the
 *    framer sees every byte first, and a refusal drains the input so evhttp
 *    never acts on it.
 *  - Right after the accept (an event made active from the bevcb) the
 *    bufferevent's callback argument is the evhttp_connection: we set its
 *    close callback, and find it again from a request through its fd.
 *  - Closing is always evhttp_connection_free from our own timer, never
 *    from inside an evhttp callback, so evhttp frees its request and
 *    connection its usual way and tells us through the close callback. */
#include "receiver/conn_guard.h"
#include "receiver/json_error.h"
#include "base/buf.h"
#include "base/log.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define SHED_MIN_AGE_MS   1000  /* a request younger than this is never "slow" */
#define LINGER_MS         2000  /* after a refusal: time for the client to read it */
#define BACKOFF_FIRST_MS  50
#define BACKOFF_MAX_MS    1000
#define ACCEPT_LOG_MS     10000 /* one "accept failing" line per this */
#define CONN_LOGS_PER_S   20    /* connection close lines per second, then a count */

struct rcv_conn {
    rcv_guard                *g;
    rcv_conn                 *prev, *next;
    struct bufferevent       *bev;        /* our reference, dropped at close */
    struct evhttp_connection *evcon;      /* NULL until adopted */
    int                       fd;
    struct evbuffer_cb_entry *cbe;
    struct event             *timer;      /* adoption, deadlines, the close itself */
    rf_frame                 *fr;
    long long                 t_idle, t_req, t_body; /* ms, monotonic */
    size_t                    cur;        /* bytes of the request being framed */
    size_t                   *done;       /* bytes of each framed request not yet answered (FIFO) */
    size_t                    n_done, cap_done;
    bool                      in_input;   /* inside on_input: the input must not be drained yet */
    bool                      reject;     /* close on adoption: over the cap with nothing to shed, or shed */
    const char               *reject_reason; /* static text; NULL: over the cap */
    bool                      closing;
    long long                 close_at;
    rcv_reply_done_fn         reply_done;
    void                     *reply_arg;
    bool                      reply_pending;
    void                    (*gone)(void *arg);
    void                     *gone_arg;
};

struct rcv_guard {
    struct event_base   *base;
    struct evhttp       *http;
    rcv_guard_limits     conf;    /* as configured */
    rcv_guard_limits     lim;     /* this loop's share */
    rcv_head_check_fn    check;
    void                *check_arg;
    rcv_conn            *conns;   /* newest first */
    size_t               n_conns, n_closing;
    rcv_conn           **by_fd;
    size_t               by_fd_cap;
    size_t               inflight;
    size_t               unflushed;
    struct evconnlistener *lev;
    struct event        *accept_retry;
    long                 backoff_ms;
    long long            accept_log_at;
    unsigned long        accept_failures;
    long long            log_second;
    unsigned             logs_this_second;
    unsigned long        logs_suppressed;
    rcv_guard           *reg_next;
};

/* evhttp owns the listener and passes itself, not us, to the error
 * callback: the guards are found by listener in this registry. */
static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static rcv_guard      *reg_head;

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool conn_busy(const rcv_conn *c) { return c->n_done > 0; }

/* ---- logging, bounded ---- */

static void log_close(rcv_guard *g, const char *reason, int status, const char *phase)
{
    long long sec = now_ms() / 1000;
    if (sec != g->log_second) {
        if (g->logs_suppressed) {
            char n[24];
            snprintf(n, sizeof n, "%lu", g->logs_suppressed);
            m2j_log(M2J_LOG_WARN, "connection close lines suppressed", "count", n, NULL);
        }
        g->log_second = sec;
        g->logs_this_second = 0;
        g->logs_suppressed = 0;
    }
    if (g->logs_this_second++ >= CONN_LOGS_PER_S) {
        g->logs_suppressed++;
        return;
    }
    char st[8];
    snprintf(st, sizeof st, "%d", status);
    m2j_log(status >= 500 || status == 0 ? M2J_LOG_WARN : M2J_LOG_INFO, "connection closed", "reason", reason,
            "status", status ? st : "-", "phase", phase, NULL);
}

static const char *phase_name(const rcv_conn *c)
{
    if (conn_busy(c))
        return "answering";
    if (!rf_in_request(c->fr))
        return "idle";
    return rf_in_body(c->fr) ? "body" : "head";
}

/* ---- accounting ---- */

static void release_all(rcv_conn *c)
{
    size_t n = c->cur;
    for (size_t i = 0; i < c->n_done; i++)
        n += c->done[i];
    c->g->inflight -= n < c->g->inflight ? n : c->g->inflight;
    c->cur = 0;
    c->n_done = 0;
}

/* ---- timers ---- */

static long long deadline(const rcv_conn *c)
{
    const rcv_guard *g = c->g;
    if (c->closing)
        return c->close_at;
    if (!c->evcon || conn_busy(c) || !rf_in_request(c->fr))
        return -1;
    return rf_in_body(c->fr) ? c->t_body + g->lim.body_timeout_ms : c->t_req + g->lim.header_timeout_ms;
}

static void arm(rcv_conn *c)
{
    long long d = deadline(c);
    if (d < 0) {
        event_del(c->timer);
        return;
    }
    long long left = d - now_ms();
    if (left < 0)
        left = 0;
    struct timeval tv = { (time_t)(left / 1000), (suseconds_t)(left % 1000) * 1000 };
    event_add(c->timer, &tv);
}

/* ---- closing ---- */

static void drain_input(rcv_conn *c)
{
    struct evbuffer *in = bufferevent_get_input(c->bev);
    evbuffer_drain(in, evbuffer_get_length(in));
}

/* Decides that c goes. With a status and nothing of c answered yet, the
 * JSON answer is written straight to the socket (evhttp has no request to
 * answer); linger keeps reading (and discarding) for a moment so that the
 * close does not reset the answer away. */
static void conn_close(rcv_conn *c, int status, const char *error, const char *message, bool linger,
                       const char *reason)
{
    if (c->closing)
        return;
    rcv_guard *g = c->g;
    log_close(g, reason, status, phase_name(c));
    bool answered = false;
    if (status && c->fd >= 0 && !conn_busy(c) && !c->reply_pending) {
        m2j_buf b = {0};
        if (rcv_raw_error_response(&b, status, error, message) == M2J_OK) {
            ssize_t w = send(c->fd, b.data, b.len, MSG_NOSIGNAL | MSG_DONTWAIT);
            answered = w == (ssize_t)b.len;
        }
        m2j_buf_free(&b);
        if (answered && linger)
            shutdown(c->fd, SHUT_WR);
    }
    c->closing = true;
    g->n_closing++;
    release_all(c);
    if (!c->in_input)
        drain_input(c);
    c->close_at = now_ms() + (answered && linger ? LINGER_MS : 0);
    arm(c);
}

static void conn_destroy(rcv_conn *c)
{
    rcv_guard *g = c->g;
    if (c->prev)
        c->prev->next = c->next;
    else
        g->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    g->n_conns--;
    if (c->closing)
        g->n_closing--;
    if (c->fd >= 0 && (size_t)c->fd < g->by_fd_cap && g->by_fd[c->fd] == c)
        g->by_fd[c->fd] = NULL;
    release_all(c);
    if (c->cbe)
        evbuffer_remove_cb_entry(bufferevent_get_input(c->bev), c->cbe);
    if (c->timer)
        event_free(c->timer);
    rf_free(c->fr);
    free(c->done);
    bufferevent_decref(c->bev);
    free(c);
}

/* evhttp is freeing the connection (client gone, timeout, our close). */
static void on_close(struct evhttp_connection *evcon, void *arg)
{
    (void)evcon;
    rcv_conn *c = arg;
    rcv_guard *g = c->g;
    if (c->reply_pending) {
        c->reply_pending = false;
        g->unflushed--;
        c->reply_done(c->reply_arg, false);
    }
    if (c->gone) {
        void (*gone)(void *) = c->gone;
        c->gone = NULL;
        gone(c->gone_arg);
    }
    conn_destroy(c);
}

/* ---- shedding ---- */

/* The connection to give up for a newcomer: an idle keep-alive one (oldest
 * first), else, when allowed, the request in progress for the longest, if
 * it has taken at least SHED_MIN_AGE_MS. Never one being answered. */
static rcv_conn *pick_victim(rcv_guard *g, const rcv_conn *except, bool idle_too)
{
    long long now = now_ms();
    rcv_conn *idle = NULL, *slow = NULL;
    for (rcv_conn *c = g->conns; c; c = c->next) {
        if (c == except || c->closing || c->reject || conn_busy(c) || c->reply_pending)
            continue;
        /* Accepted but not yet adopted: listen() hands a burst over in one
         * callback and adoption waits for the loop, so in a burst these are
         * the only candidates. Nothing has been read from them: idle. */
        if (!c->evcon) {
            if (idle_too && (!idle || c->t_idle < idle->t_idle))
                idle = c;
            continue;
        }
        if (!rf_in_request(c->fr)) {
            if (idle_too && (!idle || c->t_idle < idle->t_idle))
                idle = c;
        } else if (now - c->t_req >= SHED_MIN_AGE_MS && (!slow || c->t_req < slow->t_req)) {
            slow = c;
        }
    }
    return idle ? idle : slow;
}

static void shed(rcv_conn *v, const char *reason)
{
    if (!v->evcon) {
        /* closed on adoption (adopt); until then it still counts, so each
         * newcomer of a burst gives up one connection of its own */
        v->reject = true;
        v->reject_reason = reason;
        return;
    }
    if (rf_in_request(v->fr))
        conn_close(v, 503, "overloaded", "too many slow requests; retry later", false, reason);
    else
        conn_close(v, 0, NULL, NULL, false, reason);
}

static bool reserve(rcv_conn *c, size_t n)
{
    rcv_guard *g = c->g;
    while (g->inflight + n > g->lim.max_inflight_bytes) {
        rcv_conn *v = pick_victim(g, c, false);
        if (!v)
            break;
        shed(v, "shed_memory");
    }
    if (g->inflight + n > g->lim.max_inflight_bytes) {
        conn_close(c, 503, "overloaded", "too many request bytes in progress; retry later", true, "inflight_bytes");
        return false;
    }
    g->inflight += n;
    c->cur += n;
    return true;
}

/* ---- framing ---- */

static bool check_head(rcv_conn *c)
{
    rcv_guard *g = c->g;
    const rf_head *h = rf_head_get(c->fr);
    if (h->has_body && h->has_length && h->length > g->lim.max_body_bytes) {
        conn_close(c, 413, "payload_too_large", "body exceeds receiver.max_body_bytes", true, "body_too_large");
        return false;
    }
    const char *error = NULL, *message = NULL;
    int st = g->check ? g->check(g->check_arg, h, &error, &message) : 0;
    if (st) {
        conn_close(c, st, error ? error : "bad_request", message, true, "refused_head");
        return false;
    }
    return true;
}

/* Frames n bytes; false once c is closing. */
static bool feed(rcv_conn *c, const char *p, size_t n)
{
    rcv_guard *g = c->g;
    for (;;) {
        if (n && !rf_in_request(c->fr))
            c->t_req = c->t_body = now_ms();
        size_t used = 0;
        rf_step st = rf_feed(c->fr, p, n, &used);
        p += used;
        n -= used;
        if (used && !reserve(c, used))
            return false;
        switch (st) {
        case RF_MORE:
            return true;
        case RF_HEAD:
            c->t_body = now_ms();
            if (!check_head(c))
                return false;
            break;
        case RF_CHUNK:
            if (rf_body_declared(c->fr) > g->lim.max_body_bytes) {
                conn_close(c, 413, "payload_too_large", "body exceeds receiver.max_body_bytes", true,
                           "body_too_large");
                return false;
            }
            break;
        case RF_END: {
            /* Pipelined requests wait here for their answers; their bytes
             * count in flight, which is what bounds how many there can be. */
            if (c->n_done == c->cap_done) {
                size_t cap = c->cap_done ? 2 * c->cap_done : 4;
                size_t *d = realloc(c->done, cap * sizeof *d);
                if (!d) {
                    conn_close(c, 0, NULL, NULL, false, "out_of_memory");
                    return false;
                }
                c->done = d;
                c->cap_done = cap;
            }
            c->done[c->n_done++] = c->cur;
            c->cur = 0;
            break;
        }
        case RF_BAD:
            conn_close(c, rf_status(c->fr), rf_error(c->fr), rf_message(c->fr), true, "bad_framing");
            return false;
        }
    }
}

static void on_input(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
    rcv_conn *c = arg;
    if (!info->n_added || c->in_input)
        return;
    if (c->closing) {
        evbuffer_drain(buf, evbuffer_get_length(buf));
        return;
    }
    size_t len = evbuffer_get_length(buf);
    size_t left = info->n_added <= len ? info->n_added : len;
    struct evbuffer_ptr pos;
    if (evbuffer_ptr_set(buf, &pos, len - left, EVBUFFER_PTR_SET) != 0)
        return;
    int nv = evbuffer_peek(buf, (ev_ssize_t)left, &pos, NULL, 0);
    /* What one read added is a chunk or two: on the stack then (this runs
     * per read of every request); allocated beyond. */
    struct evbuffer_iovec v_small[8];
    struct evbuffer_iovec *v = nv <= 0 ? NULL : nv <= 8 ? v_small : calloc((size_t)nv, sizeof *v);
    c->in_input = true;
    if (!v) {
        conn_close(c, 503, "internal", "out of memory", false, "out_of_memory");
    } else {
        nv = evbuffer_peek(buf, (ev_ssize_t)left, &pos, v, nv);
        for (int i = 0; i < nv && left; i++) {
            size_t n = v[i].iov_len < left ? v[i].iov_len : left;
            left -= n;
            if (!feed(c, v[i].iov_base, n))
                break;
        }
    }
    if (v != v_small)
        free(v);
    c->in_input = false;
    if (c->closing)
        evbuffer_drain(buf, evbuffer_get_length(buf));
    else
        arm(c);
}

/* ---- connection life ---- */

static void adopt(rcv_conn *c)
{
    rcv_guard *g = c->g;
    bufferevent_data_cb rcb = NULL;
    void *arg = NULL;
    bufferevent_getcb(c->bev, &rcb, NULL, NULL, &arg);
    if (!rcb || !arg) { /* evhttp could not set the connection up and freed it */
        conn_destroy(c);
        return;
    }
    c->evcon = arg;
    evhttp_connection_set_closecb(c->evcon, on_close, c);
    c->fd = (int)bufferevent_getfd(c->bev);
    if (c->fd >= 0 && (size_t)c->fd >= g->by_fd_cap) {
        size_t cap = g->by_fd_cap ? g->by_fd_cap : 256;
        while (cap <= (size_t)c->fd)
            cap *= 2;
        rcv_conn **t = realloc(g->by_fd, cap * sizeof *t);
        if (!t) {
            conn_close(c, 0, NULL, NULL, false, "out_of_memory");
            return;
        }
        memset(t + g->by_fd_cap, 0, (cap - g->by_fd_cap) * sizeof *t);
        g->by_fd = t;
        g->by_fd_cap = cap;
    }
    if (c->fd >= 0)
        g->by_fd[c->fd] = c;
    if (c->reject)
        conn_close(c, 0, NULL, NULL, false, c->reject_reason ? c->reject_reason : "over_connection_cap");
    else
        arm(c);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    rcv_conn *c = arg;
    if (!c->evcon) {
        adopt(c);
        return;
    }
    long long now = now_ms();
    if (c->closing) {
        if (now >= c->close_at)
            evhttp_connection_free(c->evcon); /* on_close frees c */
        else
            arm(c);
        return;
    }
    long long d = deadline(c);
    if (d >= 0 && now >= d) {
        bool body = rf_in_body(c->fr);
        conn_close(c, 408, "request_timeout",
                   body ? "request body not complete in time" : "request head not complete in time", false,
                   body ? "body_timeout" : "header_timeout");
        return;
    }
    arm(c);
}

static struct bufferevent *on_new_connection(struct event_base *base, void *arg)
{
    rcv_guard *g = arg;
    g->backoff_ms = 0; /* accept() works again */
    bool reject = false;
    if (g->n_conns - g->n_closing >= g->lim.max_connections) {
        rcv_conn *v = pick_victim(g, NULL, true);
        if (v)
            shed(v, "shed_connection_cap");
        else
            reject = true;
    }
    rcv_conn *c = calloc(1, sizeof *c);
    struct bufferevent *bev = bufferevent_socket_new(base, -1, 0);
    if (!c || !bev || !(c->fr = rf_new(g->lim.max_head_bytes)) ||
        !(c->timer = evtimer_new(base, on_timer, c)) ||
        !(c->cbe = evbuffer_add_cb(bufferevent_get_input(bev), on_input, c))) {
        /* evhttp makes its own bufferevent; this connection goes unguarded */
        if (c) {
            if (c->timer)
                event_free(c->timer);
            rf_free(c->fr);
        }
        if (bev)
            bufferevent_free(bev);
        free(c);
        return NULL;
    }
    bufferevent_incref(bev);
    c->g = g;
    c->bev = bev;
    c->fd = -1;
    c->reject = reject;
    c->t_idle = now_ms();
    c->next = g->conns;
    if (g->conns)
        g->conns->prev = c;
    g->conns = c;
    g->n_conns++;
    /* evhttp sets the connection up after this returns; adopt it then. */
    event_active(c->timer, EV_TIMEOUT, 1);
    return bev;
}

/* ---- accept failures ---- */

static void accept_retry(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    rcv_guard *g = arg;
    if (g->lev)
        evconnlistener_enable(g->lev);
}

static void on_accept_error(struct evconnlistener *lev, void *arg)
{
    (void)arg;
    int e = errno;
    rcv_guard *g = NULL;
    pthread_mutex_lock(&reg_lock);
    for (rcv_guard *r = reg_head; r && !g; r = r->reg_next)
        if (r->lev == lev)
            g = r;
    pthread_mutex_unlock(&reg_lock);
    if (!g)
        return;
    /* The listening socket stays readable while accept() fails: without a
     * pause the loop would spin on it. */
    evconnlistener_disable(lev);
    g->backoff_ms = g->backoff_ms ? g->backoff_ms * 2 : BACKOFF_FIRST_MS;
    if (g->backoff_ms > BACKOFF_MAX_MS)
        g->backoff_ms = BACKOFF_MAX_MS;
    struct timeval tv = { g->backoff_ms / 1000, (g->backoff_ms % 1000) * 1000 };
    event_add(g->accept_retry, &tv);
    if (e == EMFILE || e == ENFILE) {
        /* The descriptors ran out below the cap (the limit was lowered, or
         * others use them): the cap comes down to what fits, so the next
         * newcomers shed old connections instead of failing to be accepted. */
        size_t live = g->n_conns - g->n_closing;
        size_t cap = live * 3 / 4 ? live * 3 / 4 : 1;
        if (cap < g->lim.max_connections)
            g->lim.max_connections = cap;
        rcv_conn *v = pick_victim(g, NULL, true);
        if (v)
            shed(v, "shed_descriptors");
    }
    g->accept_failures++;
    long long now = now_ms();
    if (!g->accept_log_at || now - g->accept_log_at >= ACCEPT_LOG_MS) {
        char n[24], ms[24], conns[24], cap[24];
        snprintf(n, sizeof n, "%lu", g->accept_failures);
        snprintf(ms, sizeof ms, "%ld", g->backoff_ms);
        snprintf(conns, sizeof conns, "%zu", g->n_conns);
        snprintf(cap, sizeof cap, "%zu", g->lim.max_connections);
        m2j_log(M2J_LOG_WARN, "accept failing; pausing", "error", strerror(e), "failures", n, "pause_ms", ms,
                "connections", conns, "max_connections", cap, NULL);
        g->accept_log_at = now;
        g->accept_failures = 0;
    }
}

void rcv_guard_listener(rcv_guard *g, struct evhttp_bound_socket *sock)
{
    pthread_mutex_lock(&reg_lock);
    g->lev = sock ? evhttp_bound_socket_get_listener(sock) : NULL;
    pthread_mutex_unlock(&reg_lock);
    if (g->lev)
        evconnlistener_set_error_cb(g->lev, on_accept_error);
    else
        event_del(g->accept_retry);
}

/* ---- the server's side ---- */

static rcv_conn *conn_of(rcv_guard *g, struct evhttp_request *req)
{
    struct evhttp_connection *evcon = evhttp_request_get_connection(req);
    if (!evcon)
        return NULL;
    evutil_socket_t fd = bufferevent_getfd(evhttp_connection_get_bufferevent(evcon));
    if (fd < 0 || (size_t)fd >= g->by_fd_cap)
        return NULL;
    rcv_conn *c = g->by_fd[fd];
    return c && c->evcon == evcon ? c : NULL;
}

static void on_complete(struct evhttp_request *req, void *arg)
{
    (void)req;
    rcv_conn *c = arg;
    rcv_guard *g = c->g;
    if (c->n_done) {
        g->inflight -= c->done[0] < g->inflight ? c->done[0] : g->inflight;
        memmove(c->done, c->done + 1, (c->n_done - 1) * sizeof *c->done);
        c->n_done--;
    }
    if (c->reply_pending) {
        c->reply_pending = false;
        g->unflushed--;
        c->reply_done(c->reply_arg, true);
    }
    if (!conn_busy(c)) {
        /* a pipelined request's clock starts now, not while we answered */
        c->t_idle = c->t_req = c->t_body = now_ms();
        if (!c->closing)
            arm(c);
    }
}

void rcv_guard_reply(rcv_guard *g, struct evhttp_request *req, rcv_reply_done_fn done, void *arg)
{
    rcv_conn *c = conn_of(g, req);
    if (!c || c->reply_pending) { /* unguarded (out of memory at accept): nothing to wait for */
        done(arg, true);
        return;
    }
    c->reply_pending = true;
    c->reply_done = done;
    c->reply_arg = arg;
    g->unflushed++;
    evhttp_request_set_on_complete_cb(req, on_complete, c);
}

rcv_conn *rcv_guard_watch(rcv_guard *g, struct evhttp_request *req, void (*gone)(void *arg), void *arg)
{
    rcv_conn *c = conn_of(g, req);
    if (c) {
        c->gone = gone;
        c->gone_arg = arg;
    }
    return c;
}

void rcv_conn_unwatch(rcv_conn *c)
{
    if (c)
        c->gone = NULL;
}

size_t rcv_guard_unflushed(const rcv_guard *g) { return g->unflushed; }
size_t rcv_guard_connections(const rcv_guard *g) { return g->n_conns; }

static void apply_share(rcv_guard *g, size_t n)
{
    g->lim = g->conf;
    if (n > 1) {
        g->lim.max_connections = g->conf.max_connections / n ? g->conf.max_connections / n : 1;
        g->lim.max_inflight_bytes = g->conf.max_inflight_bytes / n;
        if (g->lim.max_inflight_bytes < g->conf.max_body_bytes + g->conf.max_head_bytes)
            g->lim.max_inflight_bytes = g->conf.max_body_bytes + g->conf.max_head_bytes;
    }
}

void rcv_guard_share(rcv_guard *g, size_t n) { apply_share(g, n); }

m2j_rc rcv_guard_new(struct event_base *base, struct evhttp *http, const rcv_guard_limits *lim,
                     rcv_head_check_fn check, void *check_arg, rcv_guard **out, m2j_err *err)
{
    *out = NULL;
    rcv_guard *g = calloc(1, sizeof *g);
    if (!g || !(g->accept_retry = evtimer_new(base, accept_retry, g))) {
        free(g);
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    }
    g->base = base;
    g->http = http;
    g->conf = *lim;
    apply_share(g, 1);
    g->check = check;
    g->check_arg = check_arg;
    evhttp_set_bevcb(http, on_new_connection, g);
    pthread_mutex_lock(&reg_lock);
    g->reg_next = reg_head;
    reg_head = g;
    pthread_mutex_unlock(&reg_lock);
    *out = g;
    return M2J_OK;
}

void rcv_guard_free(rcv_guard *g)
{
    if (!g)
        return;
    pthread_mutex_lock(&reg_lock);
    for (rcv_guard **r = &reg_head; *r; r = &(*r)->reg_next)
        if (*r == g) {
            *r = g->reg_next;
            break;
        }
    pthread_mutex_unlock(&reg_lock);
    /* evhttp_free closed every adopted connection; what is left was never
     * adopted. */
    while (g->conns)
        conn_destroy(g->conns);
    event_free(g->accept_retry);
    free(g->by_fd);
    free(g);
}
