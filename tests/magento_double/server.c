/* server.c: the double's HTTP side: routing, authentication, faults, the
 * control API. */
#include "md.h"
#include "base/json_util.h"
#include "magento/magento_client.h"
#include "magento/oauth1.h"

#include <event2/buffer.h>
#include <netinet/in.h>
#include <stddef.h>
#include <sys/socket.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define MAX_NONCES 100000

typedef struct {
    struct evhttp_request *req;
    int                    status;
    char                  *body;
    struct event          *ev;
    bool                   retry_after;
    long                   retry_after_s;
} delayed;

static json_object *g_nonces; /* nonce -> 1, bounded: Magento refuses a reused nonce */

static void send_json(struct evhttp_request *req, int status, const char *text, long retry_after)
{
    struct evbuffer *b = evbuffer_new();
    evbuffer_add(b, text, strlen(text));
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Content-Type", "application/json; charset=utf-8");
    if (retry_after > 0) {
        char ra[24];
        snprintf(ra, sizeof ra, "%ld", retry_after);
        evhttp_add_header(h, "Retry-After", ra);
    }
    evhttp_send_reply(req, status, status < 300 ? "OK" : "Error", b);
    evbuffer_free(b);
}

static void delayed_fire(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    delayed *d = arg;
    send_json(d->req, d->status, d->body, d->retry_after_s);
    event_free(d->ev);
    free(d->body);
    free(d);
}

static void reply(md_server *s, struct evhttp_request *req, int status, json_object *o, long delay_ms,
                  long retry_after)
{
    const char *text = o ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN) : "null";
    if (delay_ms <= 0) {
        send_json(req, status, text, retry_after);
    } else {
        delayed *d = calloc(1, sizeof *d);
        d->req = req;
        d->status = status;
        d->body = strdup(text);
        d->retry_after_s = retry_after;
        d->ev = evtimer_new(s->base, delayed_fire, d);
        struct timeval tv = { delay_ms / 1000, (delay_ms % 1000) * 1000 };
        evtimer_add(d->ev, &tv);
    }
    if (o)
        json_object_put(o);
}

static json_object *message(const char *msg, const char *pname, const char *pval)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "message", json_object_new_string(msg));
    if (pname) {
        json_object *p = json_object_new_object();
        json_object_object_add(p, pname, json_object_new_string(pval));
        json_object_object_add(o, "parameters", p);
    }
    return o;
}

static void now_text(char out[20])
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 20, "%Y-%m-%d %H:%M:%S", &tm);
}

/* ---- query strings ---- */

static json_object *parse_query(const char *q)
{
    json_object *out = json_object_new_object();
    if (!q)
        return out;
    size_t len = strlen(q), i = 0;
    while (i < len) {
        size_t j = i;
        while (j < len && q[j] != '&')
            j++;
        size_t eq = i;
        while (eq < j && q[eq] != '=')
            eq++;
        char *k = strndup(q + i, eq - i), *v = strndup(q + (eq < j ? eq + 1 : j), eq < j ? j - eq - 1 : 0);
        char *dk = evhttp_uridecode(k, 1, NULL), *dv = evhttp_uridecode(v, 1, NULL);
        if (dk && dv && *dk)
            json_object_object_add(out, dk, json_object_new_string(dv));
        free(k), free(v), free(dk), free(dv);
        i = j + 1;
    }
    return out;
}

/* ---- authentication ---- */

/* Parses `OAuth a="x", b="y"` into an object of decoded values. */
static json_object *oauth_params(const char *h)
{
    json_object *o = json_object_new_object();
    const char *p = h + 6;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *eq = strchr(p, '=');
        if (!eq || eq[1] != '"')
            break;
        const char *end = strchr(eq + 2, '"');
        if (!end)
            break;
        char *k = strndup(p, (size_t)(eq - p)), *v = strndup(eq + 2, (size_t)(end - eq - 2));
        char *dv = evhttp_uridecode(v, 0, NULL);
        json_object_object_add(o, k, json_object_new_string(dv ? dv : ""));
        free(k), free(v), free(dv);
        p = end + 1;
    }
    return o;
}

static const char *oauth_check(md_server *s, struct evhttp_request *req, const char *auth)
{
    json_object *p = oauth_params(auth);
    const char *ck = m2j_json_get_string(p, "oauth_consumer_key"), *tok = m2j_json_get_string(p, "oauth_token");
    const char *sm = m2j_json_get_string(p, "oauth_signature_method"), *sig = m2j_json_get_string(p, "oauth_signature");
    const char *nonce = m2j_json_get_string(p, "oauth_nonce"), *ts = m2j_json_get_string(p, "oauth_timestamp");
    const char *why = NULL;
    if (!ck || !tok || !sm || !sig || !nonce || !ts)
        why = "oauth_problem=parameter_absent";
    else if (strcmp(ck, s->consumer_key) != 0 || strcmp(tok, s->token) != 0)
        why = "The consumer isn't authorized to access %resources.";
    else if (strcmp(sm, "HMAC-SHA256") != 0 && strcmp(sm, "HMAC-SHA1") != 0)
        why = "Signature method %1 is not supported";
    else if (labs((long)(time(NULL) - atol(ts))) > 600)
        why = "The timestamp is out of range.";
    if (!why) {
        const char *host = evhttp_find_header(evhttp_request_get_input_headers(req), "Host");
        char url[8192];
        snprintf(url, sizeof url, "http://%s%s", host ? host : "127.0.0.1", evhttp_request_get_uri(req));
        m2j_oauth1_creds cr = { s->consumer_key, s->consumer_secret, s->token, s->token_secret };
        m2j_oauth1_method m = strcmp(sm, "HMAC-SHA1") == 0 ? M2J_OAUTH1_HMAC_SHA1 : M2J_OAUTH1_HMAC_SHA256;
        m2j_buf base = {0}, want = {0};
        const char *method = evhttp_request_get_command(req) == EVHTTP_REQ_POST ? "POST" : "GET";
        if (m2j_oauth1_base_string(&cr, m, method, url, NULL, nonce, atoll(ts), &base, NULL) != M2J_OK ||
            m2j_oauth1_sign(&cr, m, base.data, &want, NULL) != M2J_OK || strcmp(want.data, sig) != 0)
            why = "The signature is invalid. Verify and try again.";
        m2j_buf_free(&base);
        m2j_buf_free(&want);
    }
    if (!why) {
        if (json_object_object_get_ex(g_nonces, nonce, NULL))
            why = "The nonce is already being used by the consumer with ID %1.";
        else if (json_object_object_length(g_nonces) < MAX_NONCES)
            json_object_object_add(g_nonces, nonce, json_object_new_boolean(1));
    }
    json_object_put(p);
    return why;
}

/* NULL when the request may go on, else the 401 message. */
static const char *authenticate(md_server *s, struct evhttp_request *req, const char *api, const char **acl)
{
    *acl = m2j_magento_acl_for(api);
    if (s->faults.revoked)
        return "The consumer isn't authorized to access %resources.";
    const char *auth = evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
    if (!auth)
        return "The consumer isn't authorized to access %resources.";
    const char *why;
    if (strncasecmp(auth, "Bearer ", 7) == 0)
        why = s->allow_bearer && strcmp(auth + 7, s->token) == 0 ? NULL
                                                                 : "The consumer isn't authorized to access %resources.";
    else if (strncmp(auth, "OAuth ", 6) == 0)
        why = oauth_check(s, req, auth);
    else
        why = "The consumer isn't authorized to access %resources.";
    if (!why && s->faults.deny && *acl && strcmp(s->faults.deny, *acl) == 0)
        why = "The consumer isn't authorized to access %resources.";
    return why;
}

/* ---- entities ---- */

static json_object *find(json_object *arr, const char *key, const char *id)
{
    for (size_t i = 0; i < json_object_array_length(arr); i++) {
        json_object *o = json_object_array_get_idx(arr, i);
        const char *v = m2j_json_scalar(o, key);
        if (*v && strcmp(v, id) == 0)
            return o;
    }
    return NULL;
}

/* Adds or replaces one entity (by key; a missing key gets the next id),
 * stamping created_at/updated_at when the test did not give them. */
static json_object *upsert(md_server *s, json_object *arr, const char *key, json_object *e)
{
    char now[20], idb[24];
    now_text(now);
    const char *id = m2j_json_scalar(e, key);
    if (!*id) {
        snprintf(idb, sizeof idb, "%ld", ++s->seq);
        json_object_object_add(e, key, json_object_new_int64(s->seq));
        id = idb;
    } else if (atol(id) > s->seq) {
        s->seq = atol(id);
    }
    if (!m2j_json_get(e, "created_at"))
        json_object_object_add(e, "created_at", json_object_new_string(now));
    if (!m2j_json_get(e, "updated_at"))
        json_object_object_add(e, "updated_at", json_object_new_string(now));
    for (size_t i = 0; i < json_object_array_length(arr); i++) {
        json_object *o = json_object_array_get_idx(arr, i);
        if (strcmp(m2j_json_scalar(o, key), id) == 0) {
            json_object *h = m2j_json_get(o, "status_histories"); /* comments survive an update */
            if (h && !m2j_json_get(e, "status_histories"))
                json_object_object_add(e, "status_histories", json_object_get(h));
            json_object_array_put_idx(arr, i, json_object_get(e));
            return e;
        }
    }
    json_object_array_add(arr, json_object_get(e));
    return e;
}

static void count_call(md_server *s, const char *what)
{
    json_object *v = NULL;
    int64_t n = json_object_object_get_ex(s->calls, what, &v) ? json_object_get_int64(v) : 0;
    json_object_object_add(s->calls, what, json_object_new_int64(n + 1));
}

static char *read_body(struct evhttp_request *req)
{
    struct evbuffer *b = evhttp_request_get_input_buffer(req);
    size_t n = evbuffer_get_length(b);
    char *t = malloc(n + 1);
    evbuffer_copyout(b, t, n);
    t[n] = '\0';
    return t;
}

static void control(md_server *s, struct evhttp_request *req, const char *path, bool post)
{
    char *text = post ? read_body(req) : NULL;
    json_object *body = text && *text ? json_tokener_parse(text) : NULL;
    free(text);
    static const struct { const char *path, *key; size_t off; } stores[] = {
        { "/_magento/orders", "entity_id", offsetof(md_server, orders) },
        { "/_magento/creditmemos", "entity_id", offsetof(md_server, memos) },
        { "/_magento/customers", "id", offsetof(md_server, customers) },
        { "/_magento/customer_groups", "id", offsetof(md_server, groups) },
        { "/_magento/store_views", "id", offsetof(md_server, store_views) },
        { "/_magento/store_configs", "id", offsetof(md_server, store_configs) },
    };
    for (size_t i = 0; i < sizeof stores / sizeof stores[0]; i++) {
        json_object *arr = *(json_object **)((char *)s + stores[i].off);
        size_t pl = strlen(stores[i].path);
        if (strncmp(path, stores[i].path, pl) != 0)
            continue;
        if (post && path[pl] == '\0' && body) {
            json_object *out = json_object_new_array();
            if (json_object_is_type(body, json_type_array)) {
                for (size_t k = 0; k < json_object_array_length(body); k++)
                    json_object_array_add(out, json_object_get(upsert(s, arr, stores[i].key,
                                                                      json_object_array_get_idx(body, k))));
            } else {
                json_object_array_add(out, json_object_get(upsert(s, arr, stores[i].key, body)));
            }
            json_object_put(body);
            reply(s, req, 200, out, 0, 0);
            return;
        }
        if (!post && path[pl] == '/') {
            json_object *o = find(arr, stores[i].key, path + pl + 1);
            reply(s, req, o ? 200 : 404, o ? json_object_get(o) : message("no such entity", NULL, NULL), 0, 0);
            json_object_put(body);
            return;
        }
    }
    if (post && strcmp(path, "/_magento/faults") == 0 && body) {
        free(s->faults.match_path);
        free(s->faults.deny);
        memset(&s->faults, 0, sizeof s->faults);
        const char *mp = m2j_json_get_string(body, "match_path"), *deny = m2j_json_get_string(body, "deny");
        s->faults.match_path = mp ? strdup(mp) : NULL;
        s->faults.deny = deny ? strdup(deny) : NULL;
        int64_t v = 0;
        if (m2j_json_int(body, "fail_next", &v) == M2J_OK) s->faults.fail_next = (long)v;
        s->faults.status = m2j_json_int(body, "status", &v) == M2J_OK ? (int)v : 503;
        if (m2j_json_int(body, "latency_ms", &v) == M2J_OK) s->faults.latency_ms = (long)v;
        if (m2j_json_int(body, "retry_after", &v) == M2J_OK) s->faults.retry_after = (long)v;
        bool b = false;
        if (m2j_json_bool(body, "revoked", &b) == M2J_OK) s->faults.revoked = b;
        json_object_put(body);
        reply(s, req, 200, json_object_new_boolean(1), 0, 0);
        return;
    }
    if (!post && strcmp(path, "/_magento/stats") == 0) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "calls", json_object_get(s->calls));
        json_object_object_add(o, "auth_failures", json_object_new_int64(s->auth_failures));
        json_object_object_add(o, "orders", json_object_new_int64((int64_t)json_object_array_length(s->orders)));
        reply(s, req, 200, o, 0, 0);
        json_object_put(body);
        return;
    }
    json_object_put(body);
    reply(s, req, 404, message("unknown control path", NULL, NULL), 0, 0);
}

/* ---- the API ---- */

static void api(md_server *s, struct evhttp_request *req, const char *api_path, const char *query, bool post)
{
    char what[160];
    /* count by route, ids folded: "GET /V1/orders/{id}" */
    const char *p = api_path;
    size_t o = 0;
    o += (size_t)snprintf(what, sizeof what, "%s ", post ? "POST" : "GET");
    while (*p && o + 6 < sizeof what) {
        if (p[0] == '/' && p[1] >= '0' && p[1] <= '9') {
            o += (size_t)snprintf(what + o, sizeof what - o, "/{id}");
            p++;
            while (*p && *p != '/')
                p++;
        } else {
            what[o++] = *p++;
        }
    }
    what[o] = '\0';
    count_call(s, what);

    const char *acl = NULL, *why = authenticate(s, req, api_path, &acl);
    if (why) {
        s->auth_failures++;
        reply(s, req, 401, message(why, strstr(why, "%resources") ? "resources" : NULL, acl ? acl : ""), 0, 0);
        return;
    }
    md_faults *f = &s->faults;
    if (f->fail_next > 0 && (!f->match_path || strncmp(api_path, f->match_path, strlen(f->match_path)) == 0)) {
        f->fail_next--;
        reply(s, req, f->status,
              message(f->status == 429 ? "Too many requests" : "Internal Error. Details are available in Magento log "
                                                               "file. Report ID: webapi-double", NULL, NULL),
              f->latency_ms, f->retry_after);
        return;
    }
    long lat = f->latency_ms;
    json_object *q = parse_query(query);
    const char *swhy = NULL;
    json_object *out = NULL;
    int status = 200;
    char id[64];
    if (!post && strcmp(api_path, "/V1/orders") == 0) {
        out = md_search(s->orders, q, &swhy);
    } else if (!post && strcmp(api_path, "/V1/creditmemos") == 0) {
        out = md_search(s->memos, q, &swhy);
    } else if (!post && strcmp(api_path, "/V1/customers/search") == 0) {
        out = md_search(s->customers, q, &swhy);
    } else if (!post && strcmp(api_path, "/V1/customerGroups/search") == 0) {
        out = md_search(s->groups, q, &swhy);
    } else if (!post && strcmp(api_path, "/V1/store/storeViews") == 0) {
        out = json_object_get(s->store_views); /* Magento answers a bare array here */
    } else if (!post && strcmp(api_path, "/V1/store/storeConfigs") == 0) {
        out = json_object_get(s->store_configs);
    } else if (!post && sscanf(api_path, "/V1/orders/%63[0-9]", id) == 1 && strlen(api_path) == 11 + strlen(id)) {
        json_object *e = find(s->orders, "entity_id", id);
        if (e) {
            out = json_object_get(e);
        } else {
            status = 404;
            out = message("The entity that was requested doesn't exist. Verify the entity and try again.", NULL, NULL);
        }
    } else if (post && sscanf(api_path, "/V1/orders/%63[0-9]/comments", id) == 1 &&
               strcmp(api_path + 11 + strlen(id), "/comments") == 0) {
        json_object *e = find(s->orders, "entity_id", id);
        char *text = read_body(req);
        json_object *body = json_tokener_parse(text);
        free(text);
        json_object *h = m2j_json_get_obj(body, "statusHistory");
        if (!e) {
            status = 404;
            out = message("The entity that was requested doesn't exist. Verify the entity and try again.", NULL, NULL);
        } else if (!h || !*m2j_json_scalar(h, "comment")) {
            status = 400;
            out = message("\"%fieldName\" is required. Enter and try again.", "fieldName", "comment");
        } else {
            json_object *hist = m2j_json_get_arr(e, "status_histories");
            if (!hist) {
                hist = json_object_new_array();
                json_object_object_add(e, "status_histories", hist);
            }
            json_object_array_add(hist, json_object_get(h));
            out = json_object_new_boolean(1);
        }
        json_object_put(body);
    } else {
        status = 404;
        out = message("Request does not match any route.", NULL, NULL);
    }
    if (!out && swhy) {
        status = 400;
        out = message(swhy, strstr(swhy, "%fieldName") ? "fieldName" : NULL, "field");
    }
    json_object_put(q);
    reply(s, req, status, out, lat, 0);
}

static void on_request(struct evhttp_request *req, void *arg)
{
    md_server *s = arg;
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
    const char *query = uri ? evhttp_uri_get_query(uri) : NULL;
    enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
    bool post = cmd == EVHTTP_REQ_POST;
    if (!path || (cmd != EVHTTP_REQ_GET && !post)) {
        reply(s, req, 405, message("Method not allowed", NULL, NULL), 0, 0);
        return;
    }
    if (s->verbose)
        fprintf(stderr, "magento-double: %s %s\n", post ? "POST" : "GET", path);
    if (strncmp(path, "/_magento/", 10) == 0) {
        control(s, req, path, post);
        return;
    }
    const char *v1 = strstr(path, "/V1/");
    if (!v1) {
        reply(s, req, 404, message("Request does not match any route.", NULL, NULL), 0, 0);
        return;
    }
    api(s, req, v1, query, post);
}

int md_server_start(md_server *s, const char *host, int port)
{
    g_nonces = json_object_new_object();
    s->orders = json_object_new_array();
    s->memos = json_object_new_array();
    s->customers = json_object_new_array();
    s->groups = json_object_new_array();
    s->store_views = json_object_new_array();
    s->store_configs = json_object_new_array();
    s->calls = json_object_new_object();
    s->http = evhttp_new(s->base);
    evhttp_set_max_body_size(s->http, MD_MAX_BODY);
    evhttp_set_allowed_methods(s->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE);
    evhttp_set_gencb(s->http, on_request, s);
    struct evhttp_bound_socket *bs = evhttp_bind_socket_with_handle(s->http, host, (ev_uint16_t)port);
    if (!bs)
        return -1;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&ss, &sl) != 0)
        return -1;
    s->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    return 0;
}

void md_server_free(md_server *s)
{
    if (s->http)
        evhttp_free(s->http);
    json_object_put(s->orders);
    json_object_put(s->memos);
    json_object_put(s->customers);
    json_object_put(s->groups);
    json_object_put(s->store_views);
    json_object_put(s->store_configs);
    json_object_put(s->calls);
    json_object_put(g_nonces);
    free(s->faults.match_path);
    free(s->faults.deny);
}
