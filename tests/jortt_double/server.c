/* server.c: request dispatch of the Jortt double: counting, rate limit,
 * injected faults, routing, authentication, body parsing, and sending the
 * reply (now, after a latency, or not at all when a drop is injected). */
#include "jd.h"
#include "server.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

/* ---- replies ---- */

void jd_reply(jd_ctx *c, int status, json_object *body)
{
    json_object_put(c->out);
    c->status = status;
    c->out = body;
}

void jd_error(jd_ctx *c, int status, const char *key, const char *message, json_object *details)
{
    json_object *e = json_object_new_object();
    json_object_object_add(e, "code", json_object_new_int(status));
    json_object_object_add(e, "key", json_object_new_string(key));
    json_object_object_add(e, "message", json_object_new_string(message));
    if (details)
        json_object_object_add(e, "details", details);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "error", e);
    jd_reply(c, status, o);
}

void jd_invalid(jd_ctx *c, json_object *details)
{
    jd_error(c, 422, "params.invalid",
             "The parameters are invalid (either missing, not of the correct type or incorrect format).", details);
}

static const char *reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 413: return "Payload Too Large";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Unknown";
    }
}

/* ---- sending, delayed sending, dropping ---- */

struct jd_pending {
    jd_pending *prev, *next;
    jd_server *srv;
    struct evhttp_request *req;
    struct event *timer;
    int status;
    const char *ctype;
    struct evbuffer *body;
    bool drop;
};

static void send_now(struct evhttp_request *req, int status, const char *ctype, struct evbuffer *body)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    if (ctype && status != 204)
        evhttp_add_header(h, "Content-Type", ctype);
    evhttp_send_reply(req, status, reason(status), status == 204 ? NULL : body);
}

static void pending_unlink(jd_pending *p)
{
    if (p->prev)
        p->prev->next = p->next;
    else
        p->srv->pending = p->next;
    if (p->next)
        p->next->prev = p->prev;
}

static void pending_free(jd_pending *p)
{
    event_free(p->timer);
    if (p->body)
        evbuffer_free(p->body);
    free(p);
}

static void pending_fire(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    jd_pending *p = arg;
    pending_unlink(p);
    struct evhttp_connection *evcon = evhttp_request_get_connection(p->req);
    if (p->drop && evcon) {
        /* Closing the connection without a byte of response is what a
         * client sees when a proxy dies after the server applied the POST.
         * This runs from a timer, outside libevent's HTTP callbacks, where
         * freeing the connection (and with it the request) is safe. */
        evhttp_connection_free(evcon);
    } else {
        /* If the client went away, libevent detached the request and this
         * just frees it. */
        send_now(p->req, p->status, p->ctype, p->body);
    }
    pending_free(p);
}

/* Sends the reply after delay_ms, or drops the connection instead. */
static void finish(jd_server *s, struct evhttp_request *req, int status, const char *ctype, struct evbuffer *body,
                   long delay_ms, bool drop)
{
    if (delay_ms <= 0 && !drop) {
        send_now(req, status, ctype, body);
        evbuffer_free(body);
        return;
    }
    jd_pending *p = calloc(1, sizeof *p);
    if (p)
        p->timer = evtimer_new(s->base, pending_fire, p);
    if (!p || !p->timer) {
        free(p);
        send_now(req, status, ctype, body);
        evbuffer_free(body);
        return;
    }
    p->srv = s;
    p->req = req;
    p->status = status;
    p->ctype = ctype;
    p->body = body;
    p->drop = drop;
    p->next = s->pending;
    if (s->pending)
        s->pending->prev = p;
    s->pending = p;
    struct timeval tv = {delay_ms / 1000, (delay_ms % 1000) * 1000};
    evtimer_add(p->timer, &tv);
}

void jd_pending_flush(jd_server *s)
{
    while (s->pending) {
        jd_pending *p = s->pending;
        pending_unlink(p);
        send_now(p->req, p->status, p->ctype, p->body);
        pending_free(p);
    }
}

static struct evbuffer *json_body(json_object *o)
{
    struct evbuffer *b = evbuffer_new();
    if (b && o)
        evbuffer_add_printf(b, "%s",
                            json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    return b;
}

/* ---- routing ---- */

enum { V0 = 1, V1 = 2, V2 = 4, V3 = 8, VALL = 15 };

typedef struct {
    const char *pattern; /* segments after the version; {id} matches one */
    unsigned versions;
    const char *method;
    void (*fn)(jd_ctx *);
    const char *scope;
} route;

static const route routes[] = {
    {"customers", V0 | V1 | V3, "GET", jd_customers_list, "customers:read"},
    {"customers", V0 | V1 | V3, "POST", jd_customers_create, "customers:write"},
    {"customers/{id}", V0 | V1 | V3, "GET", jd_customers_get, "customers:read"},
    {"customers/{id}", V0 | V1 | V3, "PUT", jd_customers_update, "customers:write"},
    {"customers/{id}", V0 | V1 | V3, "DELETE", jd_customers_delete, "customers:write"},
    {"invoices", VALL, "GET", jd_invoices_list, "invoices:read"},
    {"invoices", VALL, "POST", jd_invoices_create, "invoices:write"},
    {"invoices/{id}", VALL, "GET", jd_invoices_get, "invoices:read"},
    {"invoices/{id}", VALL, "DELETE", jd_invoices_delete, "invoices:write"},
    {"invoices/{id}/credit", VALL, "POST", jd_invoices_credit, "invoices:write"},
    {"ledger_accounts/invoices", V0 | V1, "GET", jd_ledger_list, "invoices:write"},
    {"tradenames", V0 | V1 | V3, "GET", jd_tradenames_list, "organizations:read"},
    {"organizations/me", V0 | V1 | V3, "GET", jd_organization_me, "organizations:read"},
};

#define TOKEN_PATH "/oauth-provider/oauth/token"

static bool pattern_matches(const char *pattern, char **seg, size_t nseg)
{
    size_t i = 0;
    const char *p = pattern;
    while (*p) {
        size_t n = strcspn(p, "/");
        if (i >= nseg)
            return false;
        if (!(n == 4 && strncmp(p, "{id}", 4) == 0) && (strlen(seg[i]) != n || strncmp(p, seg[i], n) != 0))
            return false;
        i++;
        p += n;
        if (*p == '/')
            p++;
    }
    return i == nseg;
}

/* Splits the decoded path into segments (empty ones skipped) and takes a
 * leading v1/v2/v3 off as the version. */
static bool split_path(jd_ctx *c)
{
    const char *p = c->path;
    size_t cap = 8;
    c->seg = calloc(cap, sizeof *c->seg);
    if (!c->seg)
        return false;
    while (*p) {
        while (*p == '/')
            p++;
        size_t n = strcspn(p, "/");
        if (n == 0)
            break;
        if (c->nseg == cap) {
            if (cap >= 64)
                return false; /* no route is that deep */
            char **g = realloc(c->seg, 2 * cap * sizeof *g);
            if (!g)
                return false;
            c->seg = g;
            cap *= 2;
        }
        c->seg[c->nseg] = strndup(p, n);
        if (!c->seg[c->nseg])
            return false;
        c->nseg++;
        p += n;
    }
    c->version = "";
    if (c->nseg > 0 && (strcmp(c->seg[0], "v1") == 0 || strcmp(c->seg[0], "v2") == 0 ||
                        strcmp(c->seg[0], "v3") == 0)) {
        static const char *const names[] = {"v1", "v2", "v3"};
        c->version = names[c->seg[0][1] - '1'];
        free(c->seg[0]);
        memmove(c->seg, c->seg + 1, (c->nseg - 1) * sizeof *c->seg);
        c->nseg--;
    }
    return true;
}

static unsigned version_bit(const char *v)
{
    return *v ? (unsigned)(1u << (v[1] - '0')) : V0;
}

/* ---- rate limit and faults ---- */

/* Token bucket holding up to rate_limit requests, refilled at rate_limit per
 * second. A client that spaces its calls 1/rate_limit s apart is never
 * throttled however its packets jitter; one that sends more than that on
 * average, or bursts past rate_limit, is. Integer µs arithmetic. */
static bool rate_limited(jd_server *s)
{
    if (s->rate_limit <= 0)
        return false;
    const int64_t one = 1000000, cap = s->rate_limit * one;
    uint64_t now = jd_mono_us(), elapsed = now - s->rate_last_us;
    s->rate_last_us = now;
    if (elapsed >= (uint64_t)one)
        s->rate_tokens = cap;
    else if ((s->rate_tokens += (int64_t)elapsed * s->rate_limit) > cap)
        s->rate_tokens = cap;
    if (s->rate_tokens < one)
        return true;
    s->rate_tokens -= one;
    return false;
}

m2j_rc jd_set_rate_limit(jd_server *s, long per_second)
{
    if (per_second < 0 || per_second > 1000000)
        return M2J_ERR_INVALID;
    s->rate_limit = per_second;
    s->rate_tokens = per_second * 1000000;
    s->rate_last_us = jd_mono_us();
    return M2J_OK;
}

/* The token endpoint is faulted only by a match that names it: a fault aimed
 * at "POST" or a path prefix means the API calls, and faulting the token
 * fetch as well would test something else than the fault's author meant. */
static bool fault_matches(const jd_faults *f, const char *method, const char *path, bool api)
{
    if (!f->match_method && !f->match_path)
        return api;
    if (!api && !(f->match_path && strcasestr(f->match_path, "oauth")))
        return false;
    if (f->match_method && strcmp(f->match_method, "*") != 0 && strcasecmp(f->match_method, method) != 0)
        return false;
    if (f->match_path && strncmp(path, f->match_path, strlen(f->match_path)) != 0)
        return false;
    return true;
}

static uint64_t rng_next(jd_server *s)
{
    uint64_t x = s->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    s->rng = x;
    return x;
}

static void fault_reply(jd_ctx *c, int status, const char **ctype, struct evbuffer **html)
{
    long ra = c->srv->faults.retry_after;
    if (ra > 0 && (status == 429 || status == 500 || status == 502 || status == 503)) {
        char v[24];
        snprintf(v, sizeof v, "%ld", ra);
        evhttp_add_header(evhttp_request_get_output_headers(c->req), "Retry-After", v);
    }
    switch (status) {
    case 502:
    case 504:
        *ctype = "text/html";
        *html = evbuffer_new();
        evbuffer_add_printf(*html,
                            "<html>\r\n<head><title>%d %s</title></head>\r\n<body>\r\n<center><h1>%d %s</h1>"
                            "</center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n",
                            status, reason(status), status, reason(status));
        c->status = status;
        break;
    case 503:
        jd_error(c, 503, "server.maintenance", "The server is down for maintenance.", NULL);
        break;
    case 429:
        jd_error(c, 429, "request.throttled", "The request was throttled, please try again later.", NULL);
        break;
    case 422: {
        /* A permanent rejection on demand, for dead-letter tests. */
        json_object *d = NULL;
        jd_detail(&d, "is_invalid", "injected", "rejected by the test double's fault injection");
        jd_invalid(c, d);
        break;
    }
    default:
        jd_error(c, status, "server.internal_error", "An internal server error occurred.", NULL);
        break;
    }
}

static void count(jd_server *s, const char *key)
{
    json_object *v;
    int64_t n = 0;
    if (json_object_object_get_ex(s->by_endpoint, key, &v))
        n = json_object_get_int64(v);
    json_object_object_add(s->by_endpoint, key, json_object_new_int64(n + 1));
    s->calls_total++;
}

/* ---- body ---- */

static bool read_body(jd_ctx *c)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(c->req);
    size_t n = evbuffer_get_length(in);
    if (n == 0)
        return true;
    if (n > JD_MAX_BODY) {
        jd_error(c, 413, "request.too_large", "The request body is too large.", NULL);
        return false;
    }
    c->raw = malloc(n + 1);
    if (!c->raw) {
        jd_error(c, 500, "server.internal_error", "Out of memory.", NULL);
        return false;
    }
    evbuffer_copyout(in, c->raw, n);
    c->raw[n] = '\0';
    c->raw_len = n;
    return true;
}

static bool parse_json_body(jd_ctx *c)
{
    if (!c->raw)
        return true;
    if (strlen(c->raw) != c->raw_len) {
        jd_error(c, 422, "params.invalid_format", "The request body contains a NUL byte.", NULL);
        return false;
    }
    if (c->raw[strspn(c->raw, " \t\r\n")] == '\0')
        return true;
    json_tokener *tok = json_tokener_new_ex(64);
    if (!tok) {
        jd_error(c, 500, "server.internal_error", "Out of memory.", NULL);
        return false;
    }
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    json_object *o = json_tokener_parse_ex(tok, c->raw, (int)c->raw_len);
    enum json_tokener_error err = json_tokener_get_error(tok);
    size_t used = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    if (err == json_tokener_error_parse_utf8_string) {
        json_object_put(o);
        jd_error(c, 422, "params.invalid_encoding", "The request body is not valid UTF-8.", NULL);
        return false;
    }
    if (err != json_tokener_success || c->raw[used + strspn(c->raw + used, " \t\r\n")] != '\0') {
        json_object_put(o);
        jd_error(c, 422, "params.invalid_format", "The request body is not valid JSON.", NULL);
        return false;
    }
    c->body = o;
    return true;
}

/* ---- dispatch ---- */

static const char *method_name(enum evhttp_cmd_type t)
{
    switch (t) {
    case EVHTTP_REQ_GET: return "GET";
    case EVHTTP_REQ_POST: return "POST";
    case EVHTTP_REQ_PUT: return "PUT";
    case EVHTTP_REQ_DELETE: return "DELETE";
    case EVHTTP_REQ_HEAD: return "HEAD";
    case EVHTTP_REQ_PATCH: return "PATCH";
    case EVHTTP_REQ_OPTIONS: return "OPTIONS";
    default: return "OTHER";
    }
}

static void ctx_free(jd_ctx *c)
{
    free(c->path);
    for (size_t i = 0; i < c->nseg; i++)
        free(c->seg[i]);
    free(c->seg);
    json_object_put(c->query);
    json_object_put(c->body);
    json_object_put(c->out);
    free(c->raw);
}

/* Everything between counting and the handler, for API requests. Leaves the
 * reply in c; *delay_ms and *drop say how to deliver it. */
static void handle_api(jd_ctx *c, long *delay_ms, bool *drop, const char **ctype, struct evbuffer **raw_out)
{
    jd_server *s = c->srv;
    bool is_token = strcmp(c->path, TOKEN_PATH) == 0;

    const route *hit = NULL;
    bool path_known = is_token;
    for (size_t i = 0; !is_token && i < sizeof routes / sizeof routes[0]; i++) {
        if (!(routes[i].versions & version_bit(c->version)) || !pattern_matches(routes[i].pattern, c->seg, c->nseg))
            continue;
        path_known = true;
        if (strcmp(routes[i].method, c->method) == 0) {
            hit = &routes[i];
            break;
        }
    }
    char key[128];
    if (is_token)
        snprintf(key, sizeof key, "%s %s", c->method, TOKEN_PATH);
    else if (hit)
        snprintf(key, sizeof key, "%s /%s%s%s", c->method, c->version, *c->version ? "/" : "", hit->pattern);
    else
        snprintf(key, sizeof key, "%s (unknown)", c->method);
    count(s, key);

    const jd_faults *f = &s->faults;
    bool applies = fault_matches(f, c->method, c->path, !is_token);
    *delay_ms = applies ? f->latency_ms : 0;

    if (!is_token && rate_limited(s)) {
        s->calls_throttled++;
        jd_error(c, 429, "request.throttled", "The request was throttled, please try again later.", NULL);
        return;
    }
    if (!is_token && f->maintenance) {
        s->calls_faulted++;
        fault_reply(c, 503, ctype, raw_out);
        return;
    }
    if (applies && f->fail_next > 0) {
        s->faults.fail_next--;
        s->calls_faulted++;
        fault_reply(c, f->status, ctype, raw_out);
        return;
    }
    if (applies && f->fail_rate_percent > 0 && (int)(rng_next(s) % 100) < f->fail_rate_percent) {
        s->calls_faulted++;
        fault_reply(c, f->status, ctype, raw_out);
        return;
    }

    if (is_token && strcmp(c->method, "POST") != 0) {
        jd_error(c, 405, "resource.method_not_allowed", "The method is not allowed for this resource.", NULL);
        return;
    }
    if (!is_token && !hit) {
        if (path_known)
            jd_error(c, 405, "resource.method_not_allowed", "The method is not allowed for this resource.", NULL);
        else
            jd_error(c, 404, "endpoint.not_found", "The requested endpoint could not be found.", NULL);
        return;
    }
    if (!read_body(c))
        return;
    if (is_token) {
        jd_handle_token(c);
    } else {
        if (!jd_authenticate(c))
            return;
        if (f->requires_mkb_plan) {
            /* Jortt checks the plan after the token: an administration
             * without an MKB or Plus plan gets this for every call. */
            s->calls_faulted++;
            jd_error(c, 401, "organization.requires_mkb_plan",
                     "This organization requires a jortt MKB or jortt Plus plan to use the API.", NULL);
            return;
        }
        if (!jd_token_has_scope(c->token, hit->scope)) {
            jd_error(c, 401, "scopes.insufficient", "The access token lacks a scope this endpoint needs.", NULL);
            return;
        }
        if (strcmp(c->method, "GET") != 0 && !parse_json_body(c))
            return;
        hit->fn(c);
    }
    if (applies && f->drop_after_apply > 0 && strcmp(c->method, "GET") != 0 && c->status >= 200 &&
        c->status < 300) {
        s->faults.drop_after_apply--;
        s->calls_dropped++;
        *drop = true;
    }
}

static void on_request(struct evhttp_request *req, void *arg)
{
    jd_server *s = arg;
    jd_ctx c = {0};
    c.srv = s;
    c.req = req;
    c.method = method_name(evhttp_request_get_command(req));
    c.status = 500;

    long delay_ms = 0;
    bool drop = false;
    const char *ctype = "application/json; charset=utf-8";
    struct evbuffer *raw_out = NULL;

    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *rawpath = uri ? evhttp_uri_get_path(uri) : NULL;
    size_t plen = 0;
    c.path = rawpath ? evhttp_uridecode(rawpath, 0, &plen) : NULL;
    const char *rawq = uri ? evhttp_uri_get_query(uri) : NULL;
    c.query = jd_parse_form(rawq ? rawq : "", rawq ? strlen(rawq) : 0);

    if (!c.path || strlen(c.path) != plen || !c.query || !split_path(&c)) {
        if (!c.query)
            c.query = json_object_new_object();
        jd_error(&c, 400, "params.invalid_encoding", "The request URI could not be decoded.", NULL);
    } else if (strncmp(c.path, "/_double/", 9) == 0 || strcmp(c.path, "/_double") == 0) {
        if (read_body(&c) && parse_json_body(&c))
            jd_control(&c);
    } else {
        handle_api(&c, &delay_ms, &drop, &ctype, &raw_out);
    }

    if (s->verbose)
        fprintf(stderr, "jortt-double: %s %s -> %d%s\n", c.method, c.path ? c.path : "?", c.status,
                drop ? " (dropped)" : "");
    struct evbuffer *body = raw_out ? raw_out : json_body(c.out);
    if (!body) {
        ctx_free(&c);
        evhttp_send_error(req, 500, NULL);
        return;
    }
    finish(s, req, c.status, ctype, body, delay_ms, drop);
    ctx_free(&c);
}

m2j_rc jd_server_start(jd_server *s, const char *host, int port, int *bound_port)
{
    s->http = evhttp_new(s->base);
    if (!s->http)
        return M2J_ERR_NOMEM;
    evhttp_set_max_body_size(s->http, JD_MAX_BODY);
    evhttp_set_max_headers_size(s->http, JD_MAX_HEADERS);
    evhttp_set_allowed_methods(s->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
                                            EVHTTP_REQ_PATCH | EVHTTP_REQ_HEAD | EVHTTP_REQ_OPTIONS);
    evhttp_set_timeout(s->http, 60);
    evhttp_set_gencb(s->http, on_request, s);
    struct evhttp_bound_socket *bs = evhttp_bind_socket_with_handle(s->http, host, (ev_uint16_t)port);
    if (!bs)
        return M2J_ERR_IO;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&ss, &sl) != 0)
        return M2J_ERR_IO;
    if (ss.ss_family == AF_INET)
        *bound_port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    else
        *bound_port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    snprintf(s->base_url, sizeof s->base_url, "http://%s:%d", host, *bound_port);
    return M2J_OK;
}
