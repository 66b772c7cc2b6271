/* server.c: routes and the webhook path of the receiver (see main.c for the
 * whole HTTP contract).
 *
 * One POST: Content-Type -> size -> signature on the raw bytes -> envelope
 * (one pass over the body, entities written as job text from its bytes) ->
 * one EVALSHA of the enqueue script -> the answer, sent only from the
 * Redis reply callback, so a 2xx always means the events are in Redis.
 * Nothing blocks the loop: Redis is asynchronous (redis_link.c, one of the
 * loop's receiver.redis_connections picked per command by redis_pool.c) and the body
 * is read from evhttp's buffer in place (one pullup when it arrived in
 * pieces).
 *
 * A client that disconnects while its request waits on Redis: evhttp frees
 * the request, so the connection's close callback clears our pointer to it;
 * the Redis reply is then only logged (the sender will retry and get
 * "duplicate"). */
#include "receiver/server.h"
#include "ingest/envelope.h"
#include "base/clock.h"
#include "base/log.h"
#include "queue/queue.h"
#include "receiver/admin.h"
#include "receiver/conn_guard.h"
#include "receiver/json_error.h"
#include "receiver/http_stats.h"
#include "receiver/metrics.h"
#include "receiver/redis_pool.h"
#include "ingest/replay.h"
#include "ingest/signature.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

#define PATH_WEBHOOK   "/webhooks/magento"
#define MAX_CHALLENGE  512
#define MAX_HEADERS    (64 * 1024)
#define HTTP_TIMEOUT_S 30
#define FD_RESERVE     64 /* descriptors kept for Redis, logs, the listener */
/* Redis commands in flight for the whole process (each pending enqueue holds
 * its job text, ~10 KB): split between the event loops, then between each
 * loop's connections (redis_pool.h). Beyond it: 503 at once. */
#define MAX_PENDING_LOOP 4096
/* Spare enqueue argument buffers kept per loop (queue.h's
 * m2j_enqueue_args_build_in): each request holds one until Redis answers,
 * so one per request in flight is reused, up to this many; one that grew
 * past SPARE_KEEP_BYTES for a large request is freed. */
#define N_SPARES         16
#define SPARE_KEEP_BYTES (256 * 1024)

struct rcv_server {
    const m2j_config            *cfg;
    struct event_base           *base;
    struct evhttp               *http;
    struct evhttp_bound_socket  *sock;
    int                          port;
    m2j_sigcheck                *sig;
    /* This loop's parse buffers (envelope.h), reused by every request it
     * parses; owned here, so each loop (receiver.threads) has its own. */
    m2j_envelope_ws             *ws;
    m2j_buf                      spares[N_SPARES]; /* enqueue argument buffers, owned here */
    size_t                       n_spares;
    rpool                       *redis;     /* receiver.redis_connections links */
    rcv_admin                   *admin;     /* the dashboard; NULL without admin.token */
    char                         sha[41];
    rcv_guard                   *guard;
    size_t                       awaiting;  /* requests waiting on Redis */
    bool                         draining;
    long long                    drain_deadline;
    struct event                *drain_ev;
    /* other event loops of the process (receiver.threads): */
    struct event                *drain_req;   /* rcv_server_drain_async -> drain here */
    long                         drain_req_grace_ms;
    rcv_server *const           *group;       /* every loop's server, this one included */
    size_t                       n_group;
};

typedef struct {
    rcv_server                 *s;
    struct evhttp_request      *req;   /* NULL once the client went away */
    rcv_conn                   *watch;
    struct evhttp_connection   *conn;  /* watched without the guard (unguarded connection) */
    m2j_envelope                env;
    m2j_enqueue_args            args;
    long long                   t0_us;
} pend;

/* ---- answers ---- */

static const char *method_name(enum evhttp_cmd_type c)
{
    switch (c) {
    case EVHTTP_REQ_GET: return "GET";
    case EVHTTP_REQ_POST: return "POST";
    case EVHTTP_REQ_HEAD: return "HEAD";
    case EVHTTP_REQ_PUT: return "PUT";
    case EVHTTP_REQ_DELETE: return "DELETE";
    case EVHTTP_REQ_OPTIONS: return "OPTIONS";
    case EVHTTP_REQ_TRACE: return "TRACE";
    case EVHTTP_REQ_CONNECT: return "CONNECT";
    case EVHTTP_REQ_PATCH: return "PATCH";
    }
    return "?";
}

/* One request's log line, written once we know whether the answer reached
 * the client: a 202 that a reset connection never received is logged as
 * such (the events are stored all the same). */
typedef struct {
    m2j_log_level lvl;
    const char   *method;  /* static */
    const char   *path;    /* static */
    int           code;
    long long     t0_us;
    char         *id;      /* sanitised event id, or NULL */
    const char   *kind;    /* static, or NULL */
    size_t        n, dups;
    char         *why;
} outcome;

static outcome *outcome_new(m2j_log_level lvl, const char *method, const char *path, int code, long long t0_us,
                            const char *id, const char *kind, size_t n, size_t dups, const char *why)
{
    outcome *o = calloc(1, sizeof *o);
    if (!o)
        return NULL;
    *o = (outcome){ lvl, method, path, code, t0_us, id ? strdup(id) : NULL, kind, n, dups,
                    why ? strdup(why) : NULL };
    return o;
}

/* The request's log line. The numbers as "%d", "%lld.%03lld" and "%zu"
 * wrote them, without printf: this runs once per request. */
static void outcome_line(const outcome *o, m2j_log_level lvl, const char *why, bool delivered, long long us)
{
    char st[M2J_INT_TEXT_MAX], ms[M2J_INT_TEXT_MAX + 4], ns[M2J_INT_TEXT_MAX], ds[M2J_INT_TEXT_MAX];
    m2j_fmt_int(st, o->code);
    if (us < 0)
        us = 0; /* a monotonic clock: never, but "-1.-500" must not be possible */
    size_t k = m2j_fmt_int(ms, us / 1000);
    long long frac = us % 1000;
    ms[k] = '.';
    ms[k + 1] = (char)('0' + frac / 100);
    ms[k + 2] = (char)('0' + frac / 10 % 10);
    ms[k + 3] = (char)('0' + frac % 10);
    ms[k + 4] = '\0';
    m2j_fmt_int(ns, (long long)o->n);
    m2j_fmt_int(ds, (long long)o->dups);
    const char *dl = delivered ? "yes" : "no";
    if (o->id)
        m2j_log(lvl, "request", "method", o->method, "path", o->path, "status", st, "written", dl, "id", o->id,
                "kind", o->kind ? o->kind : "-", "events", ns, "duplicates", ds, "ms", ms, why ? "reason" : NULL,
                why, NULL);
    else
        m2j_log(lvl, "request", "method", o->method, "path", o->path, "status", st, "written", dl, "ms", ms,
                why ? "reason" : NULL, why, NULL);
}

/* One line per request outcome; ids are sanitised (no personal data). The
 * line is only formatted when its level is written. */
static void outcome_log(outcome *o, bool delivered)
{
    if (!o)
        return;
    long long us = m2j_mono_us() - o->t0_us;
    rcv_http_observe(o->path, o->code, us);
    const char *why = o->why;
    m2j_log_level lvl = o->lvl;
    if (!delivered) {
        why = why ? why : "client went away before the answer was written";
        lvl = lvl < M2J_LOG_INFO ? M2J_LOG_INFO : lvl;
    }
    if (m2j_log_enabled(lvl))
        outcome_line(o, lvl, why, delivered, us);
    free(o->id);
    free(o->why);
    free(o);
}

static void on_reply_done(void *arg, bool delivered)
{
    outcome_log(arg, delivered);
}

/* Sends the answer; o (may be NULL) is logged once it is written or lost.
 * HEAD gets the headers GET would get, Content-Length included, and no
 * body (evhttp would send the body and no length). */
static void send_json(rcv_server *s, struct evhttp_request *req, int code, const char *json, size_t len, outcome *o)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Content-Type", "application/json");
    if (code == 503)
        evhttp_add_header(h, "Retry-After", RCV_RETRY_AFTER);
    if (s->draining)
        evhttp_add_header(h, "Connection", "close");
    if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
        char cl[24];
        snprintf(cl, sizeof cl, "%zu", len);
        evhttp_add_header(h, "Content-Length", cl);
    } else {
        evbuffer_add(evhttp_request_get_output_buffer(req), json, len);
    }
    rcv_guard_reply(s->guard, req, on_reply_done, o);
    evhttp_send_reply(req, code, NULL, NULL);
}

static void send_error(rcv_server *s, struct evhttp_request *req, int code, const char *error, const char *message,
                       outcome *o)
{
    m2j_buf b = {0};
    if (rcv_json_error(&b, error, message) != M2J_OK) {
        m2j_buf_reset(&b);
        m2j_buf_puts(&b, "{\"error\":\"internal\",\"message\":\"out of memory\"}");
    }
    send_json(s, req, code, m2j_buf_str(&b), b.len, o);
    m2j_buf_free(&b);
}

static void refuse(rcv_server *s, struct evhttp_request *req, const char *path, long long t0, int code,
                   const char *error, const char *message)
{
    outcome *o = outcome_new(code >= 500 ? M2J_LOG_WARN : M2J_LOG_INFO,
                             method_name(evhttp_request_get_command(req)), path, code, t0, NULL, NULL, 0, 0, message);
    send_error(s, req, code, error, message, o);
}

/* ---- drain ---- */

static void drain_check(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    rcv_server *s = arg;
    if ((s->awaiting == 0 && rcv_guard_unflushed(s->guard) == 0) || m2j_mono_us() / 1000 >= s->drain_deadline)
        event_base_loopexit(s->base, NULL);
}

void rcv_server_drain(rcv_server *s, long grace_ms)
{
    if (s->draining)
        return;
    s->draining = true;
    rpool_stop_connecting(s->redis);
    if (s->sock) {
        rcv_guard_listener(s->guard, NULL);
        evhttp_del_accept_socket(s->http, s->sock);
        s->sock = NULL;
    }
    s->drain_deadline = m2j_mono_us() / 1000 + grace_ms;
    s->drain_ev = event_new(s->base, -1, EV_PERSIST, drain_check, s);
    struct timeval tv = { 0, 10 * 1000 };
    if (!s->drain_ev || event_add(s->drain_ev, &tv) != 0)
        event_base_loopexit(s->base, NULL);
}

/* ---- pending requests ---- */

static void pend_gone(void *arg)
{
    pend *p = arg;
    p->req = NULL;
    p->watch = NULL;
    p->conn = NULL;
}

static void on_conn_close(struct evhttp_connection *conn, void *arg)
{
    (void)conn;
    pend_gone(arg);
}

static void pend_free(pend *p)
{
    /* The argument buffer goes back to the loop's spares while there is
     * room (the first empty slot; release leaves it empty when it frees). */
    rcv_server *s = p->s;
    m2j_buf *slot = s->n_spares < N_SPARES ? &s->spares[s->n_spares] : NULL;
    m2j_enqueue_args_release(&p->args, slot, SPARE_KEEP_BYTES);
    if (slot && slot->data)
        s->n_spares++;
    m2j_envelope_clear(&p->env);
    free(p);
}

/* Detaches from the connection before answering, so a later close of a
 * keep-alive connection does not call back into freed memory. */
static struct evhttp_request *pend_take_req(pend *p)
{
    struct evhttp_request *req = p->req;
    rcv_conn_unwatch(p->watch);
    if (p->conn)
        evhttp_connection_set_closecb(p->conn, NULL, NULL);
    p->req = NULL;
    p->watch = NULL;
    p->conn = NULL;
    return req;
}

static void pend_attach(pend *p, struct evhttp_request *req)
{
    p->req = req;
    /* The guard owns the connection's close callback; a connection it does
     * not know (it ran out of memory at accept) is watched directly. */
    p->watch = rcv_guard_watch(p->s->guard, req, pend_gone, p);
    if (!p->watch && (p->conn = evhttp_request_get_connection(req)))
        evhttp_connection_set_closecb(p->conn, on_conn_close, p);
    p->s->awaiting++;
}

static void enqueue_done(redisReply *r, void *arg)
{
    pend *p = arg;
    rcv_server *s = p->s;
    s->awaiting--;
    size_t n = p->env.n_events;
    const m2j_event *ev = p->env.events;
    m2j_enqueue_result *res = calloc(n, sizeof *res);
    m2j_err err = {0};
    m2j_rc rc;
    if (!res)
        rc = m2j_fail(&err, M2J_ERR_NOMEM, "out of memory");
    else if (!r)
        rc = m2j_fail(&err, M2J_ERR_IO, "redis connection lost before the reply");
    else
        rc = m2j_enqueue_reply_parse(r, n, res, &err);
    size_t dups = 0;
    for (size_t i = 0; rc == M2J_OK && i < n; i++)
        dups += res[i].duplicate;
    bool all_dup = rc == M2J_OK && dups == n;
    int code = rc != M2J_OK ? 503 : p->env.commerce_webhook ? 200 : all_dup ? 200 : 202;
    m2j_buf b = {0};
    if (rc != M2J_OK) {
        rcv_json_error(&b, "redis_unavailable", "the event could not be stored now; retry later");
    } else if (p->env.commerce_webhook) {
        m2j_buf_puts(&b, "{\"op\":\"success\"}");
    } else if (!p->env.batch) {
        /* the usual answer, per request: appends, not printf */
        if (m2j_buf_puts(&b, all_dup ? "{\"status\":\"duplicate\",\"id\":\"" : "{\"status\":\"queued\",\"id\":\"") !=
                M2J_OK ||
            m2j_buf_puts(&b, ev[0].event_id) != M2J_OK || m2j_buf_puts(&b, "\"}") != M2J_OK)
            m2j_buf_free(&b);
    } else {
        /* ids are sanitised to [A-Za-z0-9._:-]: no escaping needed */
        m2j_buf_printf(&b, "{\"status\":\"%s\",\"ids\":[", all_dup ? "duplicate" : "queued");
        for (size_t i = 0; i < n; i++)
            m2j_buf_printf(&b, "%s\"%s\"", i ? "," : "", ev[i].event_id);
        m2j_buf_printf(&b, "],\"duplicates\":%zu}", dups);
    }
    if (!b.data) {
        code = 503;
        rcv_json_error(&b, "internal", "out of memory");
    }
    outcome *o = outcome_new(code >= 500 ? M2J_LOG_WARN : M2J_LOG_INFO, "POST", PATH_WEBHOOK, code, p->t0_us,
                             ev[0].event_id, m2j_kind_name(ev[0].kind), n, dups, rc != M2J_OK ? err.msg : NULL);
    struct evhttp_request *req = pend_take_req(p);
    if (req)
        send_json(s, req, code, m2j_buf_str(&b), b.len, o);
    else /* stored (or not) all the same: the log says which, and that no one heard it */
        outcome_log(o, false);
    m2j_buf_free(&b);
    if (res)
        m2j_enqueue_results_clear(res, n);
    free(res);
    pend_free(p);
}

static void ping_done(redisReply *r, void *arg)
{
    pend *p = arg;
    rcv_server *s = p->s;
    s->awaiting--;
    struct evhttp_request *req = pend_take_req(p);
    bool ok = r && (r->type == REDIS_REPLY_STATUS || r->type == REDIS_REPLY_STRING) && r->str &&
              strcmp(r->str, "PONG") == 0;
    outcome *o = outcome_new(M2J_LOG_DEBUG, "GET", "/readyz", ok ? 200 : 503, p->t0_us, NULL, NULL, 0, 0, NULL);
    if (!req) {
        outcome_log(o, false);
    } else if (ok) {
        static const char body[] = "{\"status\":\"ready\"}";
        send_json(s, req, 200, body, sizeof body - 1, o);
    } else {
        send_error(s, req, 503, "redis_unavailable", "redis did not answer PING", o);
    }
    free(p);
}

/* ---- handlers ---- */

static const char *hdr_fn(void *ctx, const char *name)
{
    return evhttp_find_header(ctx, name);
}

/* application/json (any parameters), or application/<anything>+json. */
static bool is_json_type(const char *ct)
{
    while (*ct == ' ' || *ct == '\t')
        ct++;
    size_t n = strcspn(ct, ";");
    while (n && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
        n--;
    if (n == 16 && strncasecmp(ct, "application/json", 16) == 0)
        return true;
    return n > 17 && strncasecmp(ct, "application/", 12) == 0 && strncasecmp(ct + n - 5, "+json", 5) == 0;
}

static void handle_post(rcv_server *s, struct evhttp_request *req, const struct evhttp_uri *uri, long long t0)
{
    const m2j_receiver_config *rc = &s->cfg->receiver;
    struct evkeyvalq *in = evhttp_request_get_input_headers(req);
    /* A missing Content-Type is accepted (the parser decides); a declared
     * non-JSON one is refused, since a signature over it says nothing about
     * what we would be parsing. */
    const char *ct = evhttp_find_header(in, "Content-Type");
    if (ct && !is_json_type(ct)) {
        refuse(s, req, PATH_WEBHOOK, t0, 415, "unsupported_media_type", "Content-Type must be application/json");
        return;
    }
    struct evbuffer *buf = evhttp_request_get_input_buffer(req);
    size_t len = evbuffer_get_length(buf);
    if (len > rc->max_body_bytes) {
        refuse(s, req, PATH_WEBHOOK, t0, 413, "payload_too_large", "body exceeds receiver.max_body_bytes");
        return;
    }
    const char *body = len ? (const char *)evbuffer_pullup(buf, (ev_ssize_t)len) : "";
    if (!body) {
        refuse(s, req, PATH_WEBHOOK, t0, 503, "internal", "out of memory");
        return;
    }
    m2j_err err = {0};
    m2j_sig_scheme scheme;
    if (m2j_sigcheck_verify_scheme(s->sig, hdr_fn, in, body, len, (long long)time(NULL), &scheme, &err) != M2J_OK) {
        /* RFC 7235: a 401 names the scheme it wants; only Basic has one */
        if (*rc->basic_auth_username)
            evhttp_add_header(evhttp_request_get_output_headers(req), "WWW-Authenticate",
                              "Basic realm=\"m2jortt\", charset=\"UTF-8\"");
        refuse(s, req, PATH_WEBHOOK, t0, 401, "unauthorized", err.msg);
        return;
    }
    const char *type = NULL;
    struct evkeyvalq q;
    TAILQ_INIT(&q);
    const char *query = evhttp_uri_get_query(uri);
    if (query && evhttp_parse_query_str(query, &q) != 0) {
        evhttp_clear_headers(&q);
        refuse(s, req, PATH_WEBHOOK, t0, 400, "bad_request", "malformed query string");
        return;
    }
    type = evhttp_find_header(&q, "type");
    /* only an id the signature covers (replay.h) */
    const char *delivery = m2j_replay_delivery_id(scheme, hdr_fn, in);

    pend *p = calloc(1, sizeof *p);
    if (!p) {
        evhttp_clear_headers(&q);
        refuse(s, req, PATH_WEBHOOK, t0, 503, "internal", "out of memory");
        return;
    }
    p->s = s;
    p->t0_us = t0;
    /* Entities as text straight from the body's bytes: no json-c tree on
     * this path (envelope.h). */
    m2j_rc r = m2j_envelope_parse_text_ws(s->ws, body, len, delivery, type, rc->max_batch_events, m2j_now_ms(),
                                          &p->env, &err);
    evhttp_clear_headers(&q);
    if (r != M2J_OK) {
        pend_free(p);
        if (r == M2J_ERR_TOO_LARGE)
            refuse(s, req, PATH_WEBHOOK, t0, 413, "too_many_events", err.msg);
        else if (r == M2J_ERR_INVALID)
            refuse(s, req, PATH_WEBHOOK, t0, 400, "bad_request", err.msg);
        else
            refuse(s, req, PATH_WEBHOOK, t0, 503, "internal", err.msg);
        return;
    }
    if (m2j_replay_check(&p->env, scheme, (long long)time(NULL), rc->dedup_ttl_seconds,
                         rc->timestamp_tolerance_seconds, &err) != M2J_OK) {
        pend_free(p);
        refuse(s, req, PATH_WEBHOOK, t0, 401, "unauthorized", err.msg);
        return;
    }
    /* I/O Events: an event addressed to another client id was not meant for
     * us, even with a valid Adobe signature (the keys are Adobe's, shared by
     * every subscriber). */
    if (rc->io_events_client_id && *rc->io_events_client_id && p->env.n_cloudevents &&
        (p->env.recipient_client_id_mixed || !p->env.recipient_client_id ||
         strcmp(p->env.recipient_client_id, rc->io_events_client_id) != 0)) {
        pend_free(p);
        refuse(s, req, PATH_WEBHOOK, t0, 401, "unauthorized", "recipient_client_id does not match");
        return;
    }
    /* The connection with the fewest commands in flight (redis_pool.h);
     * the whole body is one script run on it, so a batch is all or nothing. */
    rlink *link = rpool_pick(s->redis);
    if (!link) {
        pend_free(p);
        refuse(s, req, PATH_WEBHOOK, t0, 503, "redis_unavailable", "redis is not reachable; retry later");
        return;
    }
    m2j_buf *spare = s->n_spares ? &s->spares[--s->n_spares] : NULL;
    r = m2j_enqueue_args_build_in(spare, s->cfg->redis.key_prefix, p->env.events, p->env.n_events,
                                  rc->dedup_ttl_seconds, &p->args, &err);
    if (r != M2J_OK) {
        pend_free(p);
        refuse(s, req, PATH_WEBHOOK, t0, 503, "internal", err.msg);
        return;
    }
    /* The jobs now hold their own copies; only ids and kinds are needed for
     * the answer. */
    for (size_t i = 0; i < p->env.n_events; i++) {
        free(p->env.events[i].entity_text);
        p->env.events[i].entity_text = NULL;
        p->env.events[i].entity_text_len = 0;
    }
    if (rlink_eval(link, s->sha, p->args.argc, (const char **)p->args.argv, p->args.lens,
                   enqueue_done, p) != M2J_OK) {
        pend_free(p);
        refuse(s, req, PATH_WEBHOOK, t0, 503, "redis_unavailable", "redis is not reachable; retry later");
        return;
    }
    pend_attach(p, req);
}

static void handle_challenge(rcv_server *s, struct evhttp_request *req, const struct evhttp_uri *uri, long long t0)
{
    struct evkeyvalq q;
    TAILQ_INIT(&q);
    const char *query = evhttp_uri_get_query(uri);
    const char *ch = NULL;
    if (query && evhttp_parse_query_str(query, &q) == 0)
        ch = evhttp_find_header(&q, "challenge");
    if (!ch) {
        evhttp_clear_headers(&q);
        refuse(s, req, PATH_WEBHOOK, t0, 400, "bad_request", "GET needs ?challenge=");
        return;
    }
    if (strlen(ch) > MAX_CHALLENGE) {
        evhttp_clear_headers(&q);
        refuse(s, req, PATH_WEBHOOK, t0, 400, "bad_request", "challenge too long");
        return;
    }
    json_object *o = json_object_new_object();
    json_object_object_add(o, "challenge", json_object_new_string(ch));
    const char *txt = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    send_json(s, req, 200, txt, strlen(txt),
              outcome_new(M2J_LOG_INFO, method_name(evhttp_request_get_command(req)), PATH_WEBHOOK, 200, t0, NULL,
                          NULL, 0, 0, "challenge"));
    json_object_put(o);
    evhttp_clear_headers(&q);
}

/* Ready means every event loop can take an event now: a sender's next
 * connection may land on any of them. */
static bool group_ready(const rcv_server *s)
{
    for (size_t i = 0; i < s->n_group; i++)
        if (s->group[i] != s && !rpool_ready_seen(s->group[i]->redis))
            return false;
    return rpool_ready(s->redis);
}

static void handle_readyz(rcv_server *s, struct evhttp_request *req, long long t0)
{
    if (!group_ready(s)) {
        send_error(s, req, 503, "redis_unavailable", "redis is not reachable",
                   outcome_new(M2J_LOG_DEBUG, "GET", "/readyz", 503, t0, NULL, NULL, 0, 0, NULL));
        return;
    }
    pend *p = calloc(1, sizeof *p);
    static const char *ping[] = { "PING" };
    if (!p) {
        refuse(s, req, "/readyz", t0, 503, "internal", "out of memory");
        return;
    }
    p->s = s;
    p->t0_us = t0;
    if (rlink_command(rpool_pick(s->redis), 1, ping, NULL, ping_done, p) != M2J_OK) {
        free(p);
        refuse(s, req, "/readyz", t0, 503, "redis_unavailable", "redis is not reachable");
        return;
    }
    pend_attach(p, req);
}

static void method_not_allowed(rcv_server *s, struct evhttp_request *req, const char *path, long long t0,
                               const char *allow)
{
    evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", allow);
    refuse(s, req, path, t0, 405, "method_not_allowed", "method not allowed on this path");
}

/* What a webhook POST's head alone can refuse, before its body is read
 * (and buffered): a declared non-JSON type, and signature headers that no
 * configured scheme could verify, the Standard Webhooks timestamp window
 * included. The full check (signature.c) runs on the body later. */
static int check_head(void *arg, const rf_head *h, const char **error, const char **message)
{
    rcv_server *s = arg;
    const m2j_receiver_config *rc = &s->cfg->receiver;
    if (!h->webhook || h->method != RFM_POST || s->draining)
        return 0;
    if (h->content_type && !is_json_type(h->content_type)) {
        *error = "unsupported_media_type";
        *message = "Content-Type must be application/json";
        return 415;
    }
    bool adobe = (rc->commerce_public_key_file && *rc->commerce_public_key_file && h->commerce_signature) ||
                 (rc->n_io_events_public_key_files && h->io_signature);
    bool basic = rc->basic_auth_username && *rc->basic_auth_username;
    if (adobe)
        return 0; /* verified on the body's path (signature.c); nothing to check from the head */
    bool sw_headers = h->webhook_id && h->webhook_timestamp && h->webhook_signature;
    /* With HTTP Basic configured, a request without Standard Webhooks headers
     * is judged on the body's path, which names what is wrong with its
     * credentials; the in-flight byte budget still bounds what it may send. */
    if (basic && !sw_headers)
        return 0;
    if (!sw_headers) {
        *error = "unauthorized";
        *message = "missing signature headers";
        return 401;
    }
    const char *ts = h->webhook_timestamp;
    size_t n = strspn(ts, "0123456789");
    long tol = rc->timestamp_tolerance_seconds > 0 ? rc->timestamp_tolerance_seconds : 300;
    if (n == 0 || n > 20 || ts[n]) {
        *error = "unauthorized";
        *message = "webhook-timestamp is not a number of seconds";
        return 401;
    }
    long long t = strtoll(ts, NULL, 10), now = (long long)time(NULL);
    if (t > now + tol || t < now - tol) {
        *error = "unauthorized";
        *message = "webhook-timestamp outside tolerance";
        return 401;
    }
    return 0;
}

static void on_request(struct evhttp_request *req, void *arg)
{
    rcv_server *s = arg;
    long long t0 = m2j_mono_us();
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
    if (!path || !*path)
        path = "/";
    enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
    bool get = cmd == EVHTTP_REQ_GET || cmd == EVHTTP_REQ_HEAD;
    if (s->draining) {
        refuse(s, req, strcmp(path, PATH_WEBHOOK) == 0 ? PATH_WEBHOOK : "-", t0, 503, "shutting_down",
               "the receiver is shutting down; retry later");
        return;
    }
    if (strcmp(path, PATH_WEBHOOK) == 0) {
        if (cmd == EVHTTP_REQ_POST)
            handle_post(s, req, uri, t0);
        else if (get)
            handle_challenge(s, req, uri, t0);
        else
            method_not_allowed(s, req, PATH_WEBHOOK, t0, "GET, HEAD, POST");
    } else if (strcmp(path, "/healthz") == 0) {
        if (get) {
            static const char body[] = "{\"status\":\"ok\"}";
            send_json(s, req, 200, body, sizeof body - 1,
                      outcome_new(M2J_LOG_DEBUG, method_name(cmd), "/healthz", 200, t0, NULL, NULL, 0, 0, NULL));
        } else {
            method_not_allowed(s, req, "/healthz", t0, "GET, HEAD");
        }
    } else if (strcmp(path, "/readyz") == 0) {
        if (get)
            handle_readyz(s, req, t0);
        else
            method_not_allowed(s, req, "/readyz", t0, "GET, HEAD");
    } else if (strcmp(path, RCV_PATH_METRICS) == 0) {
        rcv_metrics_serve(s->cfg, rpool_pick(s->redis), s->guard, req, t0);
    } else if (s->admin && rcv_admin_path(path)) {
        rcv_admin_serve(s->admin, req, path, t0);
    } else {
        /* The raw path is not logged: it is outside input of any length. */
        refuse(s, req, "-", t0, 404, "not_found", "no such path");
    }
}

/* ---- lifecycle ---- */

static void drain_req_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    rcv_server *s = arg;
    rcv_server_drain(s, s->drain_req_grace_ms);
}

/* The connection cap, kept under the descriptor limit: beyond it accept()
 * fails, and shedding a connection is better than refusing the newcomer. */
static size_t connection_cap(size_t cap)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
        size_t room = rl.rlim_cur > 2 * FD_RESERVE ? (size_t)rl.rlim_cur - FD_RESERVE : (size_t)rl.rlim_cur / 2;
        if (room < cap)
            cap = room;
    }
    return cap ? cap : 1;
}

/* listen_fd < 0: bind cfg's address; else accept on a duplicate of that
 * already listening socket (another event loop of the same process). */
static m2j_rc server_create(const m2j_config *cfg, struct event_base *base, evutil_socket_t listen_fd,
                            rcv_server **out, m2j_err *err)
{
    *out = NULL;
    rcv_server *s = calloc(1, sizeof *s);
    if (!s)
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    s->cfg = cfg;
    s->base = base;
    m2j_rc rc = m2j_sigcheck_new(&cfg->receiver, &s->sig, err);
    if (rc != M2J_OK)
        goto fail;
    rlink_script_sha(M2J_ENQUEUE_SCRIPT, s->sha);
    if (!(s->ws = m2j_envelope_ws_new())) {
        rc = m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
        goto fail;
    }
    if (!(s->http = evhttp_new(base))) {
        rc = m2j_fail(err, M2J_ERR_NOMEM, "cannot create the HTTP server");
        goto fail;
    }
    evhttp_set_allowed_methods(s->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT |
                                            EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE |
                                            EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
    /* The guard frames every request before evhttp and refuses (in JSON)
     * what is too large; evhttp's own limits, a little wider, are only a
     * backstop that never answers first. Its per-byte timeout stays for
     * idle keep-alive connections and slow readers of our answers. */
    evhttp_set_max_body_size(s->http, (ev_ssize_t)cfg->receiver.max_body_bytes + 1);
    evhttp_set_max_headers_size(s->http, 2 * MAX_HEADERS);
    evhttp_set_timeout(s->http, HTTP_TIMEOUT_S);
    evhttp_set_gencb(s->http, on_request, s);
    rcv_guard_limits lim = {
        .max_connections = connection_cap(cfg->receiver.max_connections),
        .header_timeout_ms = cfg->receiver.header_timeout_seconds * 1000,
        .body_timeout_ms = cfg->receiver.body_timeout_seconds * 1000,
        .max_inflight_bytes = cfg->receiver.max_inflight_body_bytes,
        .max_head_bytes = MAX_HEADERS,
        .max_body_bytes = cfg->receiver.max_body_bytes,
    };
    if ((rc = rcv_guard_new(base, s->http, &lim, check_head, s, &s->guard, err)) != M2J_OK)
        goto fail;
    if (!(s->drain_req = event_new(base, -1, 0, drain_req_cb, s))) {
        rc = m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
        goto fail;
    }
    const char *host = cfg->receiver.listen_host ? cfg->receiver.listen_host : "127.0.0.1";
    if (listen_fd >= 0) {
        /* One listening socket shared by every loop rather than one
         * SO_REUSEPORT socket each: a second receiver started on the same
         * port by mistake must still fail with "address in use" instead of
         * silently taking half of the traffic. Connections are long-lived
         * (keep-alive), so waking every loop on accept costs little. */
        evutil_socket_t fd = fcntl(listen_fd, F_DUPFD_CLOEXEC, 0);
        if (fd < 0 || evutil_make_socket_nonblocking(fd) != 0) {
            rc = m2j_fail(err, M2J_ERR_IO, "cannot share the listening socket: %s", strerror(errno));
            if (fd >= 0)
                close(fd);
            goto fail;
        }
        if (!(s->sock = evhttp_accept_socket_with_handle(s->http, fd))) {
            close(fd);
            rc = m2j_fail(err, M2J_ERR_IO, "cannot accept on the shared listening socket");
            goto fail;
        }
    } else {
        s->sock = evhttp_bind_socket_with_handle(s->http, host, (ev_uint16_t)cfg->receiver.listen_port);
    }
    if (!s->sock) {
        int e = errno;
        rc = m2j_fail(err, M2J_ERR_IO, "cannot listen on %s:%d: %s", host, cfg->receiver.listen_port,
                      e == EADDRINUSE ? "address in use" : strerror(e));
        goto fail;
    }
    rcv_guard_listener(s->guard, s->sock);
    s->port = cfg->receiver.listen_port;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    evutil_socket_t fd = evhttp_bound_socket_get_fd(s->sock);
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
        if (ss.ss_family == AF_INET)
            s->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
        else if (ss.ss_family == AF_INET6)
            s->port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    }
    rc = rpool_new(base, &cfg->redis, M2J_ENQUEUE_SCRIPT, (size_t)cfg->receiver.redis_connections, &s->redis, err);
    if (rc != M2J_OK)
        goto fail;
    rpool_set_max_pending(s->redis, MAX_PENDING_LOOP);
    if ((rc = rcv_admin_new(cfg, s->redis, s->guard, &s->admin, err)) != M2J_OK)
        goto fail;
    *out = s;
    return M2J_OK;
fail:
    rcv_server_free(s);
    return rc;
}

m2j_rc rcv_server_new(const m2j_config *cfg, struct event_base *base, rcv_server **out, m2j_err *err)
{
    return server_create(cfg, base, -1, out, err);
}

m2j_rc rcv_server_new_sibling(const rcv_server *first, struct event_base *base, rcv_server **out, m2j_err *err)
{
    if (!first->sock)
        return m2j_fail(err, M2J_ERR_INVALID, "the first server is not listening");
    return server_create(first->cfg, base, evhttp_bound_socket_get_fd(first->sock), out, err);
}

void rcv_server_set_group(rcv_server *s, rcv_server *const *all, size_t n)
{
    s->group = all;
    s->n_group = n;
    /* The in-flight bound is a memory budget for the whole process. */
    if (n > 1) {
        rpool_set_max_pending(s->redis, MAX_PENDING_LOOP / n > 256 ? MAX_PENDING_LOOP / n : 256);
        rcv_guard_share(s->guard, n);
    }
}

void rcv_server_drain_async(rcv_server *s, long grace_ms)
{
    s->drain_req_grace_ms = grace_ms;
    event_active(s->drain_req, EV_TIMEOUT, 1);
}

int rcv_server_port(const rcv_server *s)
{
    return s->port;
}

void rcv_server_free(rcv_server *s)
{
    if (!s)
        return;
    /* Redis first: its pending callbacks answer into the still-living
     * evhttp. */
    rpool_free(s->redis);
    s->redis = NULL;
    rcv_admin_free(s->admin); /* after the link: its callbacks still answered through it */
    if (s->http)
        evhttp_free(s->http);
    rcv_guard_free(s->guard);
    if (s->drain_ev)
        event_free(s->drain_ev);
    if (s->drain_req)
        event_free(s->drain_req);
    m2j_sigcheck_free(s->sig);
    m2j_envelope_ws_free(s->ws);
    for (size_t i = 0; i < s->n_spares; i++)
        m2j_buf_free(&s->spares[i]);
    free(s);
}
