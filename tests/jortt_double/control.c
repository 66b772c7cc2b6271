/* control.c: the /_double/ control API that tests use to inspect state and
 * inject faults. No auth, never counted, never rate-limited or faulted. */
#include "jd.h"
#include "server.h"

#include <stdlib.h>
#include <string.h>

void jd_faults_clear(jd_faults *f)
{
    free(f->match_method);
    free(f->match_path);
    memset(f, 0, sizeof *f);
    f->status = 500;
}

void jd_state_reset(jd_server *s)
{
    json_object_put(s->customers);
    json_object_put(s->invoices);
    json_object_put(s->deleted_invoices);
    json_object_put(s->by_endpoint);
    s->customers = json_object_new_object();
    s->invoices = json_object_new_object();
    s->deleted_invoices = json_object_new_object();
    s->by_endpoint = json_object_new_object();
    s->invoice_seq = 0;
    s->calls_total = s->calls_throttled = s->calls_faulted = s->calls_dropped = 0;
    jd_faults_clear(&s->faults);
    jd_set_rate_limit(s, s->rate_limit); /* full bucket */
}

/* Entities of map in creation order; deleted: which customers to take
 * (-1 = all). */
static json_object *values_of(json_object *map, int deleted)
{
    json_object *a = json_object_new_array();
    json_object_object_foreach(map, k, v)
    {
        (void)k;
        json_object *d = NULL;
        int is_del = json_object_object_get_ex(v, "deleted", &d) && json_object_get_boolean(d);
        if (deleted < 0 || deleted == is_del)
            json_object_array_add(a, json_object_get(v));
    }
    return a;
}

static void state(jd_ctx *c)
{
    jd_server *s = c->srv;
    json_object *calls = json_object_new_object();
    json_object_object_add(calls, "total", json_object_new_int64(s->calls_total));
    json_object_object_add(calls, "by_endpoint", json_object_get(s->by_endpoint));
    json_object_object_add(calls, "throttled", json_object_new_int64(s->calls_throttled));
    json_object_object_add(calls, "faulted", json_object_new_int64(s->calls_faulted));
    json_object_object_add(calls, "dropped", json_object_new_int64(s->calls_dropped));
    json_object *o = json_object_new_object();
    /* Deleted customers are listed apart so that "customers" is what the
     * API still knows, which is what duplicate checks want. */
    json_object_object_add(o, "customers", values_of(s->customers, 0));
    json_object_object_add(o, "deleted_customers", values_of(s->customers, 1));
    json_object_object_add(o, "invoices", values_of(s->invoices, -1));
    json_object_object_add(o, "deleted_invoices", values_of(s->deleted_invoices, -1));
    json_object_object_add(o, "calls", calls);
    json_object_object_add(o, "tokens", json_object_new_int64(json_object_object_length(s->tokens)));
    json_object_object_add(o, "rate_limit", json_object_new_int64(s->rate_limit));
    jd_reply(c, 200, o);
}

static json_object *faults_json(const jd_faults *f)
{
    json_object *o = json_object_new_object();
    json_object *m = NULL;
    if (f->match_method || f->match_path) {
        char buf[1100];
        snprintf(buf, sizeof buf, "%s%s%s", f->match_method ? f->match_method : "",
                 f->match_method && f->match_path ? " " : "", f->match_path ? f->match_path : "");
        m = json_object_new_string(buf);
    }
    json_object_object_add(o, "match", m);
    json_object_object_add(o, "fail_next", json_object_new_int64(f->fail_next));
    json_object_object_add(o, "status", json_object_new_int(f->status));
    json_object_object_add(o, "latency_ms", json_object_new_int64(f->latency_ms));
    json_object_object_add(o, "drop_after_apply", json_object_new_int64(f->drop_after_apply));
    json_object_object_add(o, "fail_rate_percent", json_object_new_int(f->fail_rate_percent));
    json_object_object_add(o, "maintenance", json_object_new_boolean(f->maintenance));
    json_object_object_add(o, "token_ttl_seconds", json_object_new_int64(f->token_ttl));
    json_object_object_add(o, "retry_after", json_object_new_int64(f->retry_after));
    json_object_object_add(o, "requires_mkb_plan", json_object_new_boolean(f->requires_mkb_plan));
    json_object_object_add(o, "one_stop_shop", json_object_new_boolean(f->one_stop_shop));
    return o;
}

/* Integer field in [lo, hi]; absent leaves *out alone. */
static void int_field(json_object *b, const char *key, long lo, long hi, long *out, json_object **details)
{
    json_object *v;
    if (!json_object_object_get_ex(b, key, &v) || v == NULL)
        return;
    if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < lo || json_object_get_int64(v) > hi) {
        jd_detail(details, "is_invalid", key, "is invalid");
        return;
    }
    *out = (long)json_object_get_int64(v);
}

static void set_faults(jd_ctx *c)
{
    static const char *const known[] = {"fail_next", "status", "match", "latency_ms", "drop_after_apply",
                                        "fail_rate_percent", "maintenance", "expire_tokens",
                                        "token_ttl_seconds", "seed", "retry_after", "requires_mkb_plan",
                                        "one_stop_shop", NULL};
    json_object *b = c->body, *details = NULL;
    if (!b)
        b = json_object_new_object(), c->body = b;
    if (!json_object_is_type(b, json_type_object)) {
        jd_error(c, 422, "params.invalid_format", "The request body must be a JSON object.", NULL);
        return;
    }
    json_object_object_foreach(b, k, val)
    {
        (void)val;
        const char *const *n = known;
        while (*n && strcmp(*n, k) != 0)
            n++;
        if (!*n)
            jd_detail(&details, "is_unknown", k, "is not a known parameter");
    }
    jd_faults f = {0};
    f.status = 500;
    long status = 500, rate = 0, seed = 0;
    int_field(b, "fail_next", 0, 1000000000, &f.fail_next, &details);
    int_field(b, "status", 400, 599, &status, &details);
    int_field(b, "latency_ms", 0, 600000, &f.latency_ms, &details);
    int_field(b, "drop_after_apply", 0, 1000000000, &f.drop_after_apply, &details);
    int_field(b, "fail_rate_percent", 0, 100, &rate, &details);
    int_field(b, "token_ttl_seconds", 0, 100000000, &f.token_ttl, &details);
    int_field(b, "seed", 1, 2147483647, &seed, &details);
    int_field(b, "retry_after", 0, 100000000, &f.retry_after, &details);
    if (status != 500 && status != 502 && status != 503 && status != 504 && status != 429 && status != 422)
        jd_detail(&details, "is_invalid", "status", "must be 422, 429, 500, 502, 503 or 504");
    f.status = (int)status;
    f.fail_rate_percent = (int)rate;
    json_object *v;
    bool expire = false;
    if (json_object_object_get_ex(b, "maintenance", &v) && v) {
        if (json_object_is_type(v, json_type_boolean))
            f.maintenance = json_object_get_boolean(v);
        else
            jd_detail(&details, "is_invalid", "maintenance", "is invalid");
    }
    const char *flags[] = {"requires_mkb_plan", "one_stop_shop"};
    bool *slots[] = {&f.requires_mkb_plan, &f.one_stop_shop};
    for (int i = 0; i < 2; i++) {
        if (json_object_object_get_ex(b, flags[i], &v) && v) {
            if (json_object_is_type(v, json_type_boolean))
                *slots[i] = json_object_get_boolean(v);
            else
                jd_detail(&details, "is_invalid", flags[i], "is invalid");
        }
    }
    if (json_object_object_get_ex(b, "expire_tokens", &v) && v) {
        if (json_object_is_type(v, json_type_boolean))
            expire = json_object_get_boolean(v);
        else
            jd_detail(&details, "is_invalid", "expire_tokens", "is invalid");
    }
    const char *match = jd_get_str(b, "match");
    if (json_object_object_get_ex(b, "match", &v) && v && !match)
        jd_detail(&details, "is_invalid", "match", "is invalid");
    if (match && *match && strlen(match) < 1000) {
        /* "METHOD /path-prefix", "METHOD" or "/path-prefix". */
        const char *sp = strchr(match, ' ');
        if (match[0] == '/') {
            f.match_path = strdup(match);
        } else if (sp) {
            f.match_method = strndup(match, (size_t)(sp - match));
            while (*sp == ' ')
                sp++;
            if (*sp)
                f.match_path = strdup(sp);
        } else {
            f.match_method = strdup(match);
        }
    } else if (match && *match) {
        jd_detail(&details, "is_invalid", "match", "is too long");
    }
    if (details) {
        free(f.match_method);
        free(f.match_path);
        jd_invalid(c, details);
        return;
    }
    jd_faults_clear(&c->srv->faults);
    c->srv->faults = f;
    if (seed)
        c->srv->rng = (uint64_t)seed * 0x9E3779B97F4A7C15ull;
    if (expire)
        jd_tokens_expire_all(c->srv);
    jd_reply(c, 200, faults_json(&c->srv->faults));
}

static void set_config(jd_ctx *c)
{
    json_object *b = c->body, *details = NULL;
    if (!b || !json_object_is_type(b, json_type_object)) {
        jd_error(c, 422, "params.invalid_format", "The request body must be a JSON object.", NULL);
        return;
    }
    long rate = c->srv->rate_limit;
    json_object_object_foreach(b, k, v)
    {
        (void)v;
        if (strcmp(k, "rate_limit") != 0)
            jd_detail(&details, "is_unknown", k, "is not a known parameter");
    }
    int_field(b, "rate_limit", 0, 100000, &rate, &details);
    if (details) {
        jd_invalid(c, details);
        return;
    }
    if (jd_set_rate_limit(c->srv, rate) != M2J_OK) {
        jd_error(c, 500, "server.internal_error", "Out of memory.", NULL);
        return;
    }
    json_object *o = json_object_new_object();
    json_object_object_add(o, "rate_limit", json_object_new_int64(rate));
    jd_reply(c, 200, o);
}

/* POST /_double/invoices/{id}/send [{"send_method":"self"|"email"}]: the
 * merchant sends a draft from Jortt's web app. 200 {"data":entity}; 404
 * unknown or deleted; 422 already sent or a bad body. */
static void send_invoice(jd_ctx *c, const char *id_and_rest)
{
    size_t n = strcspn(id_and_rest, "/");
    char id[64], key[37];
    json_object *e = NULL;
    if (n >= sizeof id || strcmp(id_and_rest + n, "/send") != 0) {
        jd_error(c, 404, "endpoint.not_found", "The requested endpoint could not be found.", NULL);
        return;
    }
    memcpy(id, id_and_rest, n);
    id[n] = '\0';
    if (!jd_uuid_key(id, key) || !json_object_object_get_ex(c->srv->invoices, key, &e)) {
        jd_error(c, 404, "resource.not_found", "The resource could not be found.", NULL);
        return;
    }
    const char *method = c->body ? jd_get_str(c->body, "send_method") : NULL;
    if ((c->body && !json_object_is_type(c->body, json_type_object)) ||
        (method && strcmp(method, "self") != 0 && strcmp(method, "email") != 0)) {
        json_object *d = NULL;
        jd_detail(&d, "values_not_valid", "send_method", "does not have a valid value");
        jd_invalid(c, d);
        return;
    }
    if (!jd_invoice_mark_sent(c->srv, e, method)) {
        jd_error(c, 422, "operation.invalid", "The invoice was sent already.", NULL);
        return;
    }
    json_object *o = json_object_new_object();
    json_object_object_add(o, "data", json_object_get(e));
    jd_reply(c, 200, o);
}

void jd_control(jd_ctx *c)
{
    const char *p = c->path + strlen("/_double");
    bool get = strcmp(c->method, "GET") == 0, post = strcmp(c->method, "POST") == 0;
    if (strcmp(p, "/healthz") == 0 && get) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "status", json_object_new_string("ok"));
        jd_reply(c, 200, o);
    } else if (strcmp(p, "/state") == 0 && get) {
        state(c);
    } else if (strcmp(p, "/reset") == 0 && post) {
        jd_state_reset(c->srv);
        json_object *o = json_object_new_object();
        json_object_object_add(o, "reset", json_object_new_boolean(1));
        jd_reply(c, 200, o);
    } else if (strcmp(p, "/faults") == 0 && post) {
        set_faults(c);
    } else if (strcmp(p, "/faults") == 0 && get) {
        jd_reply(c, 200, faults_json(&c->srv->faults));
    } else if (strcmp(p, "/config") == 0 && post) {
        set_config(c);
    } else if (strncmp(p, "/invoices/", 10) == 0 && post) {
        send_invoice(c, p + 10);
    } else if (strcmp(p, "/healthz") == 0 || strcmp(p, "/state") == 0 || strcmp(p, "/reset") == 0 ||
               strcmp(p, "/faults") == 0 || strcmp(p, "/config") == 0) {
        jd_error(c, 405, "resource.method_not_allowed", "The method is not allowed for this resource.", NULL);
    } else {
        jd_error(c, 404, "endpoint.not_found", "The requested endpoint could not be found.", NULL);
    }
}
