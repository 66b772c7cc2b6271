/* fault_util.c: see fault_util.h. */
#include "fault_util.h"
#include "base/buf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ORDER_FIXTURE    "tests/fixtures/integration/order-nl-processing.json"
#define CUSTOMER_FIXTURE "tests/fixtures/integration/customer-nl-save.json"
/* Jortt refuses strings over 1000 bytes (the double's is_invalid). */
#define REJECT_NAME_LEN  1200

/* ------------------------------------------------------------ helpers */

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {}
}

static long long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static json_object *parse(const char *text)
{
    if (!text) return NULL;
    json_tokener *tok = json_tokener_new();
    json_object *o = json_tokener_parse_ex(tok, text, (int)strlen(text));
    if (json_tokener_get_error(tok) != json_tokener_success) {
        if (o) json_object_put(o);
        o = NULL;
    }
    json_tokener_free(tok);
    return o;
}

static json_object *get(json_object *o, const char *key)
{
    json_object *v = NULL;
    if (!o || !json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, key, &v)) return NULL;
    return v;
}

static const char *get_str(json_object *o, const char *key)
{
    json_object *v = get(o, key);
    return v && !json_object_is_type(v, json_type_null) ? json_object_get_string(v) : NULL;
}

static long long get_ll(json_object *o, const char *key)
{
    json_object *v = get(o, key);
    if (!v) return -1;
    if (json_object_is_type(v, json_type_string)) return strtoll(json_object_get_string(v), NULL, 10);
    return json_object_get_int64(v);
}

static void put_str(json_object *o, const char *key, const char *val)
{
    json_object_object_add(o, key, json_object_new_string(val));
}

/* A JSON number that keeps its exact text ("12.34"): the code under test
 * reads amounts from the number's text, as it does with Magento's. */
static void put_num(json_object *o, const char *key, const char *text)
{
    json_object_object_add(o, key, json_object_new_double_s(strtod(text, NULL), text));
}

static void cents_text(long long c, char *out, size_t n)
{
    snprintf(out, n, "%s%lld.%02lld", c < 0 ? "-" : "", (c < 0 ? -c : c) / 100, (c < 0 ? -c : c) % 100);
}

static void put_cents(json_object *o, const char *key, long long c)
{
    char t[32];
    cents_text(c, t, sizeof t);
    put_num(o, key, t);
}

static bool contains_ci(const char *hay, const char *needle)
{
    if (!hay) return false;
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (strncasecmp(hay, needle, n) == 0) return true;
    return n == 0;
}

/* Small deterministic generator: runs are reproducible from the seed. */
static unsigned next_rand(unsigned *s)
{
    *s = *s * 1103515245u + 12345u;
    return (*s >> 8) & 0xffffff;
}

/* ---------------------------------------------------------------- mix */

/* The fixture order with item 1 bought qty times: 14.95 excl. (18.09 incl.,
 * 21 %) per unit, item 2 one at 41.32 (50.00 incl.), shipping 4.95 (5.99
 * incl.). Magento rounds the row tax of item 1: 3.1395 per unit, so for
 * qty 1..9 the row incl. VAT is exactly 18.09 * qty. Amounts in cents. */
typedef struct {
    long long row1, tax1, row1_incl, subtotal, subtotal_incl, tax, grand;
} order_amounts;

static order_amounts amounts(int qty)
{
    order_amounts a;
    a.row1 = 1495LL * qty;
    a.tax1 = (31395LL * qty + 50) / 100;
    a.row1_incl = a.row1 + a.tax1;
    a.subtotal = a.row1 + 4132;
    a.subtotal_incl = a.row1_incl + 5000;
    a.tax = a.tax1 + 868 + 104;
    a.grand = a.subtotal_incl + 599;
    return a;
}

int f_count(const f_mix *m, f_kind k)
{
    int c = 0;
    for (size_t i = 0; i < m->n; i++) c += m->ev[i].kind == k;
    return c;
}

f_mix *f_mix_new(const char *tag, long ref_base, const f_spec *spec, unsigned seed)
{
    f_mix *m = calloc(1, sizeof *m);
    ck_assert_ptr_nonnull(m);
    snprintf(m->tag, sizeof m->tag, "%s", tag);
    m->spec = *spec;
    if (m->spec.customers < 1) m->spec.customers = 1;
    size_t total = (size_t)(spec->orders + spec->dups + spec->pending + spec->foreign + spec->rejects +
                            spec->customer_events);
    m->ev = calloc(total ? total : 1, sizeof *m->ev);
    ck_assert_ptr_nonnull(m->ev);
    unsigned s = seed ? seed : 1;
    long next_ref = ref_base;
    size_t n = 0;
    for (int i = 0; i < spec->orders; i++, n++) {
        f_ev *ev = &m->ev[n];
        ev->kind = F_ORDER;
        snprintf(ev->id, sizeof ev->id, "%s-o%d", tag, i);
        snprintf(ev->ref, sizeof ev->ref, "%ld", next_ref++);
        ev->cust = i % m->spec.customers;
        ev->qty = 1 + (int)(next_rand(&s) % 9);
    }
    for (int i = 0; i < spec->dups; i++, n++) {
        f_ev *ev = &m->ev[n];
        ck_assert_msg(spec->orders > 0, "duplicates need orders");
        *ev = m->ev[next_rand(&s) % (unsigned)spec->orders];
        ev->kind = F_DUP;
        snprintf(ev->id, sizeof ev->id, "%s-d%d", tag, i);
    }
    static const struct { f_kind k; const char *letter; } others[] = {
        { F_PENDING, "p" }, { F_FOREIGN, "g" }, { F_REJECT, "r" } };
    const int counts[] = { spec->pending, spec->foreign, spec->rejects };
    for (size_t o = 0; o < 3; o++) {
        for (int i = 0; i < counts[o]; i++, n++) {
            f_ev *ev = &m->ev[n];
            ev->kind = others[o].k;
            snprintf(ev->id, sizeof ev->id, "%s-%s%d", tag, others[o].letter, i);
            snprintf(ev->ref, sizeof ev->ref, "%ld", next_ref++);
            ev->cust = (int)(next_rand(&s) % (unsigned)m->spec.customers);
            ev->qty = 1 + (int)(next_rand(&s) % 9);
        }
    }
    for (int i = 0; i < spec->customer_events; i++, n++) {
        f_ev *ev = &m->ev[n];
        ev->kind = F_CUSTOMER;
        snprintf(ev->id, sizeof ev->id, "%s-c%d", tag, i);
        ev->cust = i % m->spec.customers;
    }
    m->n = n;
    for (size_t i = 0; i < n; i++) {
        if (m->ev[i].kind == F_CUSTOMER) continue;
        cents_text(amounts(m->ev[i].qty).grand, m->ev[i].total, sizeof m->ev[i].total);
    }
    for (size_t i = n; i > 1; i--) {
        size_t j = next_rand(&s) % i;
        f_ev t = m->ev[i - 1];
        m->ev[i - 1] = m->ev[j];
        m->ev[j] = t;
    }
    return m;
}

void f_mix_free(f_mix *m)
{
    if (!m) return;
    free(m->ev);
    free(m);
}

char *f_email(const f_mix *m, int cust)
{
    char b[96];
    snprintf(b, sizeof b, "b%d.%s@example.com", cust, m->tag);
    return strdup(b);
}

static void customer_id(const f_mix *m, int cust, char *out, size_t n)
{
    /* Magento customer ids: stable per buyer, distinct between mixes. */
    unsigned h = 5381;
    for (const char *p = m->tag; *p; p++) h = h * 33 + (unsigned char)*p;
    snprintf(out, n, "%u", (h % 90000u + 10000u) * 1000u + (unsigned)cust);
}

static json_object *fixture(const char *path)
{
    char *t = h_read_file(path, NULL);
    json_object *o = parse(t);
    free(t);
    ck_assert_msg(o != NULL, "fixture %s is not JSON", path);
    return o;
}

static json_object *copy(json_object *src)
{
    json_object *dst = NULL;
    ck_assert_msg(json_object_deep_copy(src, &dst, NULL) == 0, "deep copy failed");
    return dst;
}

static void set_person(json_object *o, const char *first, const char *last, const char *email)
{
    put_str(o, "firstname", first);
    put_str(o, "lastname", last);
    if (email) put_str(o, "email", email);
}

static char *order_json(const f_mix *m, const f_ev *ev)
{
    static json_object *tmpl;
    if (!tmpl) tmpl = fixture(ORDER_FIXTURE);
    json_object *root = copy(tmpl);
    put_str(root, "id", ev->id);
    put_str(root, "event_id", ev->id);
    json_object *v = get(get(root, "data"), "value");
    char *email = f_email(m, ev->cust);
    char cid[32], last[64], street[64];
    customer_id(m, ev->cust, cid, sizeof cid);
    snprintf(last, sizeof last, "Koper %d %s", ev->cust, m->tag);
    snprintf(street, sizeof street, "Teststraat %d", ev->cust + 1);

    put_str(v, "entity_id", ev->ref);
    put_str(v, "increment_id", ev->ref);
    const char *status = ev->kind == F_PENDING ? "pending" : (ev->kind == F_DUP ? "complete" : "processing");
    put_str(v, "status", status);
    put_str(v, "state", ev->kind == F_PENDING ? "new" : status);
    put_str(v, "customer_id", cid);
    put_str(v, "customer_email", email);
    put_str(v, "customer_firstname", "Klant");
    put_str(v, "customer_lastname", last);
    if (ev->kind == F_FOREIGN) {
        put_str(v, "base_currency_code", "GBP");
        put_str(v, "global_currency_code", "GBP");
        put_str(v, "order_currency_code", "GBP");
        put_str(v, "store_currency_code", "GBP");
    }
    order_amounts a = amounts(ev->qty);
    put_cents(v, "subtotal", a.subtotal);
    put_cents(v, "base_subtotal", a.subtotal);
    put_cents(v, "subtotal_incl_tax", a.subtotal_incl);
    put_cents(v, "base_subtotal_incl_tax", a.subtotal_incl);
    put_cents(v, "tax_amount", a.tax);
    put_cents(v, "base_tax_amount", a.tax);
    put_cents(v, "grand_total", a.grand);
    put_cents(v, "base_grand_total", a.grand);
    json_object_object_add(v, "total_qty_ordered", json_object_new_int(ev->qty + 1));

    json_object *items = get(v, "items");
    json_object *it1 = json_object_array_get_idx(items, 0), *it2 = json_object_array_get_idx(items, 1);
    json_object_object_add(it1, "qty_ordered", json_object_new_int(ev->qty));
    put_cents(it1, "row_total", a.row1);
    put_cents(it1, "base_row_total", a.row1);
    put_cents(it1, "row_total_incl_tax", a.row1_incl);
    put_cents(it1, "base_row_total_incl_tax", a.row1_incl);
    put_cents(it1, "tax_amount", a.tax1);
    put_cents(it1, "base_tax_amount", a.tax1);
    for (size_t i = 0; i < 2; i++) {
        json_object *it = json_object_array_get_idx(items, i);
        put_str(it, "order_id", ev->ref);
    }
    if (ev->kind == F_REJECT) {
        char *name = malloc(REJECT_NAME_LEN + 1);
        ck_assert_ptr_nonnull(name);
        memset(name, 'x', REJECT_NAME_LEN);
        memcpy(name, "Melkopschuimer ", 15);
        name[REJECT_NAME_LEN] = '\0';
        put_str(it2, "name", name);
        free(name);
    }
    json_object *addrs = get(v, "addresses");
    for (size_t i = 0; addrs && i < json_object_array_length(addrs); i++) {
        json_object *ad = json_object_array_get_idx(addrs, i);
        set_person(ad, "Klant", last, email);
        put_str(ad, "street", street);
        put_str(ad, "parent_id", ev->ref);
    }
    json_object *pay = get(v, "payment");
    put_cents(pay, "amount_ordered", a.grand);
    put_cents(pay, "base_amount_ordered", a.grand);

    char *out = h_json_text(root);
    json_object_put(root);
    free(email);
    return out;
}

static char *customer_json(const f_mix *m, const f_ev *ev)
{
    static json_object *tmpl;
    if (!tmpl) tmpl = fixture(CUSTOMER_FIXTURE);
    json_object *root = copy(tmpl);
    put_str(root, "id", ev->id);
    put_str(root, "event_id", ev->id);
    json_object *v = get(get(root, "data"), "value");
    char *email = f_email(m, ev->cust);
    char cid[32], last[64], street[64];
    customer_id(m, ev->cust, cid, sizeof cid);
    snprintf(last, sizeof last, "Koper %d %s", ev->cust, m->tag);
    snprintf(street, sizeof street, "Teststraat %d", ev->cust + 1);
    put_str(v, "id", cid);
    set_person(v, "Klant", last, email);
    json_object *addrs = get(v, "addresses");
    for (size_t i = 0; addrs && i < json_object_array_length(addrs); i++) {
        json_object *ad = json_object_array_get_idx(addrs, i);
        set_person(ad, "Klant", last, NULL);
        put_str(ad, "customer_id", cid);
        json_object *st = json_object_new_array();
        json_object_array_add(st, json_object_new_string(street));
        json_object_object_add(ad, "street", st);
    }
    char *out = h_json_text(root);
    json_object_put(root);
    free(email);
    return out;
}

char *f_event_json(const f_mix *m, const f_ev *ev)
{
    return ev->kind == F_CUSTOMER ? customer_json(m, ev) : order_json(m, ev);
}

/* ------------------------------------------------------------ posting */

static long post_body(h_env *e, const char *delivery, const char *body, long deadline_ms)
{
    long n503 = 0;
    long long until = mono_ms() + h_ms(deadline_ms);
    for (;;) {
        h_resp r;
        h_post(e, "/webhooks/magento", delivery, body, strlen(body), H_SIGNED, &r);
        long st = r.status;
        if (st >= 200 && st <= 299) {
            h_resp_clear(&r);
            return n503;
        }
        /* 503: Redis is away (the receiver says so and Magento retries);
         * 0: the receiver itself is restarting. Anything else is a bug. */
        bool again = st == 503 || st == 0;
        if (!again || mono_ms() >= until) {
            char msg[300];
            snprintf(msg, sizeof msg, "%.280s", r.body ? r.body : "");
            h_resp_clear(&r);
            H_ASSERT(e, false, "posting %s: HTTP %ld %s", delivery, st, msg);
        }
        if (st == 503) n503++;
        h_resp_clear(&r);
        sleep_ms(100);
    }
}

long f_post_range(h_env *e, const f_mix *m, size_t from, size_t to, size_t batch, long deadline_ms)
{
    if (batch < 1) batch = 1;
    if (batch > 100) batch = 100;
    if (to > m->n) to = m->n;
    long n503 = 0;
    for (size_t i = from; i < to; i += batch) {
        m2j_buf b = {0};
        m2j_buf_puts(&b, "[");
        for (size_t j = i; j < i + batch && j < to; j++) {
            char *t = f_event_json(m, &m->ev[j]);
            if (j > i) m2j_buf_puts(&b, ",");
            m2j_buf_puts(&b, t);
            free(t);
        }
        m2j_buf_puts(&b, "]");
        char delivery[96];
        snprintf(delivery, sizeof delivery, "%s-batch-%zu-%zu", m->tag, i, to);
        n503 += post_body(e, delivery, m2j_buf_str(&b), deadline_ms);
        m2j_buf_free(&b);
    }
    return n503;
}

void f_post_all(h_env *e, const f_mix *m)
{
    f_post_range(e, m, 0, m->n, 100, 30000);
}

long f_post_one(h_env *e, const f_mix *m, const f_ev *ev)
{
    char *t = f_event_json(m, ev);
    long st = h_post_signed(e, ev->id, t, NULL);
    free(t);
    return st;
}

/* ------------------------------------------------------------- config */

static void merge(json_object *dst, json_object *src)
{
    json_object_object_foreach(src, k, v) {
        json_object *cur = get(dst, k);
        if (cur && v && json_object_is_type(cur, json_type_object) && json_object_is_type(v, json_type_object))
            merge(cur, v);
        else
            json_object_object_add(dst, k, v ? json_object_get(v) : NULL);
    }
}

char *f_config(const char *override_json)
{
    /* The visibility timeout grows with the slowdown (sanitizers,
     * valgrind): a job that merely takes long must not be handed to a
     * second worker while the first still works on it, or the event that
     * invoiced can end up recorded as skipped. */
    char text[512];
    snprintf(text, sizeof text,
             "{\"receiver\":{\"max_body_bytes\":8388608},"
             " \"jortt\":{\"requests_per_second\":1000},"
             " \"worker\":{\"visibility_timeout_seconds\":%ld,"
             "   \"retry\":{\"base_seconds\":1,\"max_seconds\":2,\"max_attempts\":20}},"
             " \"log\":{\"level\":\"info\"}}",
             h_ms(2000) / 1000);
    json_object *base = parse(text);
    ck_assert_ptr_nonnull(base);
    if (override_json) {
        json_object *ov = parse(override_json);
        ck_assert_msg(ov && json_object_is_type(ov, json_type_object), "override is not a JSON object: %s",
                      override_json);
        merge(base, ov);
        json_object_put(ov);
    }
    char *s = h_json_text(base);
    json_object_put(base);
    return s;
}

void f_double_rate(h_env *e, int rps)
{
    char url[128], body[64];
    snprintf(url, sizeof url, "%s/_double/config", e->double_url);
    snprintf(body, sizeof body, "{\"rate_limit\":%d}", rps);
    const char *hdrs[] = { "Content-Type: application/json", NULL };
    h_resp r;
    h_http("POST", url, hdrs, body, strlen(body), &r);
    long st = r.status;
    h_resp_clear(&r);
    H_ASSERT(e, st == 200, "double refused %s: %ld", body, st);
}

void f_faults(h_env *e, const char *json)
{
    H_ASSERT(e, h_double_faults(e, json) == 200, "double refused faults %s", json);
}

h_env *f_env_up(const char *name, const char *override_json, int double_rps, int n_workers)
{
    h_env *e = h_env_new(name);
    h_redis_start(e);
    h_double_start(e);
    f_double_rate(e, double_rps);
    char *cfg = f_config(override_json);
    h_config_write(e, cfg);
    free(cfg);
    h_receiver_start(e);
    h_workers_start(e, n_workers);
    return e;
}

/* ------------------------------------------------------------- double */

static int pick_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_msg(fd >= 0, "socket: %s", strerror(errno));
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t sl = sizeof a;
    int port = 0;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(fd, (struct sockaddr *)&a, &sl) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    ck_assert_msg(port > 0, "no free port");
    return port;
}

static bool double_healthy(h_env *e)
{
    char url[128];
    snprintf(url, sizeof url, "%s/_double/healthz", e->double_url);
    h_resp r;
    h_http("GET", url, NULL, NULL, 0, &r);
    bool ok = r.status == 200;
    h_resp_clear(&r);
    return ok;
}

void f_double_fixed_start(h_env *e)
{
    if (!e->double_port) {
        e->double_port = pick_port();
        snprintf(e->double_url, sizeof e->double_url, "http://127.0.0.1:%d", e->double_port);
    }
    char listen[64], state[400];
    snprintf(listen, sizeof listen, "127.0.0.1:%d", e->double_port);
    snprintf(state, sizeof state, "%s/double-state.json", e->dir);
    const char *args[] = { "--listen", listen, "--rate-limit", "0", "--state-file", state, "--client-id", H_CLIENT_ID,
                           "--client-secret", H_CLIENT_SECRET, NULL };
    /* The old process may still hold the port for a moment after exiting. */
    for (int attempt = 0; attempt < 20; attempt++) {
        pid_t pid = h_spawn(e, H_ROLE_DOUBLE, "double", "jortt-double", args);
        long long until = mono_ms() + h_ms(5000);
        while (mono_ms() < until && h_alive(e, pid)) {
            if (double_healthy(e)) return;
            sleep_ms(20);
        }
        if (h_alive(e, pid)) break;
        sleep_ms(100);
    }
    H_ASSERT(e, false, "jortt-double did not start on %s", listen);
}

void f_double_fixed_stop(h_env *e)
{
    pid_t p;
    while (h_pids(e, H_ROLE_DOUBLE, &p, 1) == 1) {
        int st = h_stop_pid(e, p, SIGTERM, h_ms(5000));
        H_ASSERT(e, st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
                 "the double did not exit cleanly (status %d): its state file may be incomplete", st);
    }
}

long long f_state_calls(json_object *state, const char *field)
{
    json_object *v = get(get(state, "calls"), field);
    return v ? json_object_get_int64(v) : -1;
}

long long f_calls(h_env *e, const char *field)
{
    json_object *st = h_double_state(e);
    long long n = f_state_calls(st, field);
    if (st) json_object_put(st);
    return n;
}

long long f_calls_to(h_env *e, const char *key)
{
    json_object *st = h_double_state(e);
    json_object *v = get(get(get(st, "calls"), "by_endpoint"), key);
    long long n = v ? json_object_get_int64(v) : 0;
    if (st) json_object_put(st);
    return n;
}

/* ---------------------------------------------------------- processes */

int f_workers(h_env *e, pid_t *out)
{
    return h_pids(e, H_ROLE_WORKER, out, H_MAX_WORKERS);
}

pid_t f_kill_replace(h_env *e, pid_t pid)
{
    h_stop_pid(e, pid, SIGKILL, h_ms(2000));
    return h_worker_start(e);
}

/* -------------------------------------------------------------- redis */

static redisReply *vcmd(h_env *e, const char *fmt, va_list ap)
{
    struct timeval tv = { 2, 0 };
    redisContext *c = redisConnectWithTimeout("127.0.0.1", e->redis_port, tv);
    if (!c || c->err) {
        if (c) redisFree(c);
        return NULL;
    }
    redisSetTimeout(c, tv);
    redisReply *r = redisvCommand(c, fmt, ap);
    redisFree(c);
    return r;
}

long long f_redis_int(h_env *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = vcmd(e, fmt, ap);
    va_end(ap);
    long long v = r && r->type == REDIS_REPLY_INTEGER ? r->integer : -100;
    if (r) freeReplyObject(r);
    return v;
}

long f_redis_keys(h_env *e, const char *pattern)
{
    redisReply *r = h_redis_cmd(e, "KEYS %s:%s", e->prefix, pattern);
    long n = r && r->type == REDIS_REPLY_ARRAY ? (long)r->elements : -1;
    if (r) freeReplyObject(r);
    return n;
}

/* ------------------------------------------------------------ waiting */

typedef struct {
    long long want;  /* outcomes expected; -1: only drained */
    long long seen;  /* last figures, for the failure message */
    json_object *last;
} drain_arg;

static bool pred_settled(h_env *e, void *arg)
{
    drain_arg *a = arg;
    json_object *s = h_stats(e);
    if (!s) return false;
    bool drained = h_stat(s, "queued") == 0 && h_stat(s, "in_progress") == 0 && h_stat(s, "scheduled_retries") == 0;
    long long out = h_stat(s, "processed") + h_stat(s, "skipped") + h_stat(s, "failed");
    a->seen = out;
    if (a->last) json_object_put(a->last);
    a->last = s;
    /* More outcomes than events is a failure too: stop waiting for it. */
    if (drained && (a->want < 0 || out >= a->want)) return true;
    /* Every poll forks the CLI: on two cores, poll gently. */
    sleep_ms(150);
    return false;
}

void f_wait_drained(h_env *e, long deadline_ms)
{
    drain_arg a = { -1, 0, NULL };
    bool ok = h_wait_until(e, deadline_ms, pred_settled, &a);
    char last[512];
    snprintf(last, sizeof last, "%.500s", a.last ? json_object_to_json_string(a.last) : "(no stats)");
    if (a.last) json_object_put(a.last);
    H_ASSERT(e, ok, "queue did not drain within %ld ms: %s", h_ms(deadline_ms), last);
}

bool f_pred_outcomes(h_env *e, void *arg)
{
    long long want = *(long long *)arg;
    json_object *s = h_stats(e);
    bool ok = s && h_stat(s, "processed") + h_stat(s, "skipped") + h_stat(s, "failed") >= want;
    if (s) json_object_put(s);
    if (!ok) sleep_ms(100);
    return ok;
}

bool f_pred_warm(h_env *e, void *arg)
{
    (void)arg;
    if (f_redis_int(e, "EXISTS %s:cust:index-warm", e->prefix) == 1) return true;
    sleep_ms(30);
    return false;
}

/* -------------------------------------------------------------- audit */

typedef struct {
    char *id;
    char *reason;
} skip_rec;

static skip_rec *read_skipped(h_env *e, size_t *n)
{
    redisReply *r = h_redis_cmd(e, "XRANGE %s:skipped - +", e->prefix);
    *n = 0;
    size_t cap = r && r->type == REDIS_REPLY_ARRAY ? r->elements : 0;
    skip_rec *out = calloc(cap ? cap : 1, sizeof *out);
    ck_assert_ptr_nonnull(out);
    for (size_t i = 0; i < cap; i++) {
        redisReply *ent = r->element[i];
        if (ent->type != REDIS_REPLY_ARRAY || ent->elements < 2) continue;
        redisReply *f = ent->element[1];
        const char *id = NULL, *reason = NULL;
        for (size_t j = 0; f->type == REDIS_REPLY_ARRAY && j + 1 < f->elements; j += 2) {
            if (!strcmp(f->element[j]->str, "event_id")) id = f->element[j + 1]->str;
            else if (!strcmp(f->element[j]->str, "reason")) reason = f->element[j + 1]->str;
        }
        out[*n].id = strdup(id ? id : "");
        out[*n].reason = strdup(reason ? reason : "");
        (*n)++;
    }
    if (r) freeReplyObject(r);
    return out;
}

static const char *skip_reason(const skip_rec *s, size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(s[i].id, id)) return s[i].reason;
    return NULL;
}

static json_object *failed_entry(json_object *failed, const char *id)
{
    size_t n = json_object_array_length(failed);
    for (size_t i = 0; i < n; i++) {
        json_object *f = json_object_array_get_idx(failed, i);
        const char *fid = get_str(f, "id");
        if (fid && !strcmp(fid, id)) return f;
    }
    return NULL;
}

static size_t count_list(const char *const *l)
{
    size_t n = 0;
    while (l && l[n]) n++;
    return n;
}

/* e-mail of the customer with that Jortt id in the state, or NULL. */
static const char *customer_email_of(json_object *state, const char *id)
{
    json_object *cs = get(state, "customers");
    size_t n = cs ? json_object_array_length(cs) : 0;
    for (size_t i = 0; id && i < n; i++) {
        json_object *c = json_object_array_get_idx(cs, i);
        const char *cid = get_str(c, "id");
        if (cid && !strcmp(cid, id)) return get_str(c, "email");
    }
    return NULL;
}

void f_audit(h_env *e, const f_mix *m, const f_audit_opts *opts)
{
    static const f_audit_opts none;
    const f_audit_opts *o = opts ? opts : &none;
    const int n_orders = f_count(m, F_ORDER), n_foreign = f_count(m, F_FOREIGN),
              n_reject = f_count(m, F_REJECT), n_cust_ev = f_count(m, F_CUSTOMER);
    const long long want_received = (long long)m->n + o->extra_received;
    const long long want_outcomes = want_received + o->direct;
    const size_t n_extra_failed = count_list(o->extra_failed), n_extra_inv = count_list(o->extra_invoices);

    /* 1. Everything reached an outcome and nothing waits any more. */
    drain_arg a = { want_outcomes, 0, NULL };
    bool settled = h_wait_until(e, o->drain_ms ? o->drain_ms : 60000, pred_settled, &a);
    json_object *s = a.last;
    H_ASSERT(e, s != NULL, "audit: stats --json gave nothing");
    char stxt[600];
    snprintf(stxt, sizeof stxt, "%.580s", json_object_to_json_string(s));
    long long received = h_stat(s, "received"), processed = h_stat(s, "processed"), skipped = h_stat(s, "skipped"),
              failed = h_stat(s, "failed");
    H_ASSERT(e, h_stat(s, "queued") == 0 && h_stat(s, "in_progress") == 0 && h_stat(s, "scheduled_retries") == 0,
             "audit: work still waiting after the deadline: %s", stxt);
    H_ASSERT(e, received == want_received, "audit: received %lld, want %lld (events lost or counted twice): %s",
             received, want_received, stxt);
    H_ASSERT(e, settled && processed + skipped + failed == want_outcomes,
             "audit: processed %lld + skipped %lld + failed %lld = %lld, want %lld outcomes: %s", processed, skipped,
             failed, processed + skipped + failed, want_outcomes, stxt);

    /* 2. The dead letters: exactly the events that must fail, each with
     * its reason. */
    int cst = -1;
    json_object *fl = h_cli_json(e, &cst, "failed", "--json", NULL);
    H_ASSERT(e, cst == 0 && fl && json_object_is_type(fl, json_type_array), "audit: failed --json: exit %d", cst);
    size_t n_fl = json_object_array_length(fl);
    for (size_t i = 0; i < n_fl; i++) {
        json_object *f = json_object_array_get_idx(fl, i);
        const char *id = get_str(f, "id"), *reason = get_str(f, "reason");
        H_ASSERT(e, id && reason && *reason, "audit: dead letter without a reason: %s", json_object_to_json_string(f));
        bool expected = false;
        for (size_t k = 0; k < n_extra_failed && !expected; k++) expected = !strcmp(o->extra_failed[k], id);
        for (size_t k = 0; k < m->n && !expected; k++)
            expected = !strcmp(m->ev[k].id, id) && (m->ev[k].kind == F_FOREIGN || m->ev[k].kind == F_REJECT);
        H_ASSERT(e, expected, "audit: event %s should not be dead: %s", id, json_object_to_json_string(f));
    }
    H_ASSERT(e, (long long)n_fl == failed, "audit: failed --json lists %zu, stats say %lld", n_fl, failed);
    H_ASSERT(e, n_fl == (size_t)(n_foreign + n_reject) + n_extra_failed,
             "audit: %zu dead letters, want %d foreign + %d refused + %zu others", n_fl, n_foreign, n_reject,
             n_extra_failed);
    for (size_t k = 0; k < n_extra_failed; k++)
        H_ASSERT(e, failed_entry(fl, o->extra_failed[k]) != NULL, "audit: %s is not in the dead letters",
                 o->extra_failed[k]);

    /* 3. Skipped events and their reasons. */
    size_t n_sk = 0;
    skip_rec *sk = read_skipped(e, &n_sk);
    for (size_t i = 0; i < n_sk; i++)
        H_ASSERT(e, sk[i].reason[0], "audit: skipped event %s has no reason", sk[i].id);
    int cust_skipped = 0, orders_all_skipped = 0;
    for (size_t i = 0; i < m->n; i++) {
        const f_ev *ev = &m->ev[i];
        const char *sr = skip_reason(sk, n_sk, ev->id);
        json_object *fe = failed_entry(fl, ev->id);
        switch (ev->kind) {
        case F_PENDING:
            H_ASSERT(e, sr && contains_ci(sr, "status"), "audit: pending order %s (%s) not skipped for its status: %s",
                     ev->ref, ev->id, sr ? sr : "(not skipped)");
            break;
        case F_FOREIGN:
            H_ASSERT(e, fe && contains_ci(get_str(fe, "reason"), "currency"),
                     "audit: GBP order %s should be dead for its currency: %s", ev->id,
                     fe ? json_object_to_json_string(fe) : "(not dead)");
            break;
        case F_REJECT: {
            H_ASSERT(e, fe != NULL, "audit: refused order %s is not dead", ev->id);
            const char *key = get_str(fe, "error_key");
            H_ASSERT(e, get_ll(fe, "http_status") == 422 && key && *key,
                     "audit: refused order %s: want HTTP 422 and Jortt's error key: %s", ev->id,
                     json_object_to_json_string(fe));
            /* Not retried: no retry in its history was for the 422 (earlier
             * transient failures of the same order may have been). */
            int sst = -1;
            json_object *rec = h_cli_json(e, &sst, "show", ev->id, "--json", NULL);
            json_object *hist = get(get(rec, "job"), "history");
            H_ASSERT(e, sst == 0 && hist && json_object_is_type(hist, json_type_array),
                     "audit: show %s --json has no history", ev->id);
            for (size_t h = 0; h < json_object_array_length(hist); h++) {
                json_object *he = json_object_array_get_idx(hist, h);
                const char *oc = get_str(he, "outcome"), *why = get_str(he, "reason");
                H_ASSERT(e, !(oc && !strcmp(oc, "retry") && why && strstr(why, "422")),
                         "audit: a 422 was retried: %s", json_object_to_json_string(hist));
            }
            json_object_put(rec);
            break;
        }
        case F_CUSTOMER:
            H_ASSERT(e, !fe, "audit: customer event %s failed: %s", ev->id, json_object_to_json_string(fe));
            cust_skipped += sr != NULL;
            break;
        case F_ORDER: {
            /* All events of this order: one invoiced it, the others were
             * skipped, none failed. One exception is tolerated and noted:
             * every event skipped as "already invoiced", which is what
             * happens when the invoicing event's own outcome was lost after
             * the invoice was recorded (Redis gone, or the job taken over
             * between the two writes) and its redelivery found the order
             * done. Jortt still has exactly one invoice (checked below). */
            int events = 0, sks = 0, already = 0;
            for (size_t j = 0; j < m->n; j++) {
                if ((m->ev[j].kind != F_ORDER && m->ev[j].kind != F_DUP) || strcmp(m->ev[j].ref, ev->ref)) continue;
                events++;
                H_ASSERT(e, !failed_entry(fl, m->ev[j].id), "audit: event %s of order %s failed", m->ev[j].id,
                         ev->ref);
                const char *r = skip_reason(sk, n_sk, m->ev[j].id);
                sks += r != NULL;
                already += r && contains_ci(r, "already invoiced");
            }
            if (sks == events && already == events && !o->strict_processed) {
                orders_all_skipped++;
                fprintf(stderr, "audit %s: note: order %s: the event that invoiced it was recorded as skipped "
                        "(its outcome was lost after the invoice was recorded)\n", m->tag, ev->ref);
                break;
            }
            H_ASSERT(e, sks == events - 1, "audit: order %s: %d events, %d skipped (want %d)", ev->ref, events, sks,
                     events - 1);
            break;
        }
        case F_DUP:
            break;
        }
    }
    long long want_processed = n_orders - orders_all_skipped + (n_cust_ev - cust_skipped) + o->extra_processed;
    H_ASSERT(e, processed == want_processed,
             "audit: processed %lld, want %lld (%d orders (%d with every event skipped) + %d customer events "
             "processed + %ld others): %s",
             processed, want_processed, n_orders, orders_all_skipped, n_cust_ev - cust_skipped, o->extra_processed,
             stxt);

    /* 4. Jortt: one invoice per qualifying order with its grand total,
     * for its buyer; one customer per buyer; nothing else. */
    json_object *st = h_double_state(e);
    H_ASSERT(e, st != NULL, "audit: no state from the double");
    char why[256] = "";
    H_ASSERT(e, h_state_no_duplicates(st, why, sizeof why), "audit: duplicate in Jortt: %s", why);
    for (size_t i = 0; i < m->n; i++) {
        const f_ev *ev = &m->ev[i];
        if (ev->kind == F_CUSTOMER || ev->kind == F_DUP) continue;
        int inv = h_state_invoices(st, ev->ref);
        if (ev->kind != F_ORDER) {
            H_ASSERT(e, inv == 0, "audit: order %s (%s) must not be invoiced, has %d", ev->ref, ev->id, inv);
            continue;
        }
        H_ASSERT(e, inv == 1, "audit: order %s has %d invoices, want 1", ev->ref, inv);
        json_object *invoice = h_state_invoice(st, ev->ref);
        const char *total = h_invoice_total(invoice);
        H_ASSERT(e, h_money_eq(total, ev->total), "audit: order %s: invoice total %s, order total %s", ev->ref,
                 total ? total : "(none)", ev->total);
        char *email = f_email(m, ev->cust);
        const char *to = customer_email_of(st, get_str(invoice, "customer_id"));
        H_ASSERT(e, to && !strcasecmp(to, email), "audit: order %s invoiced to %s, buyer %s", ev->ref,
                 to ? to : "(unknown customer)", email);
        free(email);
    }
    for (size_t k = 0; k < n_extra_inv; k++)
        H_ASSERT(e, h_state_invoices(st, o->extra_invoices[k]) == 1, "audit: order %s has %d invoices, want 1",
                 o->extra_invoices[k], h_state_invoices(st, o->extra_invoices[k]));
    int n_inv = h_state_invoices(st, NULL);
    H_ASSERT(e, n_inv == n_orders + (int)n_extra_inv, "audit: %d invoices in Jortt, want %d", n_inv,
             n_orders + (int)n_extra_inv);

    /* Buyers that must exist: those with a qualifying order or a customer
     * event. Others (only pending/foreign/refused orders) may exist once,
     * since an order's customer can be made before Jortt refuses it. */
    int must = 0, may = 0;
    for (int c = 0; c < m->spec.customers; c++) {
        bool needed = false;
        for (size_t i = 0; i < m->n && !needed; i++)
            needed = m->ev[i].cust == c && (m->ev[i].kind == F_ORDER || m->ev[i].kind == F_CUSTOMER);
        char *email = f_email(m, c);
        int have = h_state_customers(st, email);
        if (needed) {
            H_ASSERT(e, have == 1, "audit: buyer %s has %d Jortt customers, want 1", email, have);
            must++;
        } else {
            H_ASSERT(e, have <= 1, "audit: buyer %s has %d Jortt customers", email, have);
            may += have;
        }
        free(email);
    }
    int n_cust = h_state_customers(st, NULL);
    H_ASSERT(e, n_cust == must + may, "audit: %d customers in Jortt, want %d (one per buyer)", n_cust, must + may);

    fprintf(stderr,
            "audit %s: %zu events (+%lld) -> %d invoices, %d customers; processed %lld skipped %lld failed %lld; "
            "jortt calls %lld (faulted %lld, throttled %lld, dropped %lld)\n",
            m->tag, m->n, (long long)(o->extra_received + o->direct), n_inv, n_cust, processed, skipped, failed,
            f_state_calls(st, "total"), f_state_calls(st, "faulted"), f_state_calls(st, "throttled"),
            f_state_calls(st, "dropped"));
    json_object_put(st);
    for (size_t i = 0; i < n_sk; i++) {
        free(sk[i].id);
        free(sk[i].reason);
    }
    free(sk);
    json_object_put(fl);
    json_object_put(s);
}
