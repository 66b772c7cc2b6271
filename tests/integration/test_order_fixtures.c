/* test_order_fixtures.c: the order-mapping fixtures (tests/fixtures/orders)
 * sent through the real pipeline (signed CloudEvent -> receiver -> Redis ->
 * worker) into the Jortt double, so what the unit tests check on the plan is
 * also what Jortt ends up holding; then the Jortt calls per order are counted
 * for new and for returning buyers.
 *
 * The fixtures' ledger accounts are made-up UUIDs; the worker refuses to start
 * when a configured account is not selectable in Jortt, so each fixture's text
 * is remapped, consistently, to the double's fixed selectable accounts before
 * use. Their fixed default customer id is remapped to a customer created in
 * the double first, for the same reason. */
#include "harness.h"

#include <dirent.h>
#include <signal.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIXTURE_DIR "tests/fixtures/orders"
#define FIXTURE_CUSTOMER_ID "aaaaaaaa-0000-4000-8000-000000000001"

static h_env *E;

static void setup(void) { E = NULL; }
static void teardown(void) { h_env_free(E); E = NULL; }

/* fixture UUID -> the double's selectable account (tests/jortt_double/README.md) */
static const char *const ledger_map[][2] = {
    { "11111111-1111-4111-8111-111111111111", "00000000-0000-4000-8000-000000000001" },
    { "22222222-2222-4222-8222-222222222222", "00000000-0000-4000-8000-000000000002" },
    { "33333333-3333-4333-8333-333333333333", "00000000-0000-4000-8000-000000000003" },
    { "44444444-4444-4444-8444-444444444444", "00000000-0000-4000-8000-000000000004" },
    { "55555555-5555-4555-8555-555555555555", "00000000-0000-4000-8000-000000000005" },
};

/* New string: s with every `from` replaced by `to`. */
static char *replace_all(const char *s, const char *from, const char *to)
{
    size_t fl = strlen(from), tl = strlen(to), n = 0;
    for (const char *p = strstr(s, from); p; p = strstr(p + fl, from)) n++;
    char *out = malloc(strlen(s) + n * (tl > fl ? tl - fl : 0) + 1);
    ck_assert_ptr_nonnull(out);
    char *o = out;
    for (;;) {
        const char *p = strstr(s, from);
        if (!p) break;
        memcpy(o, s, (size_t)(p - s));
        o += p - s;
        memcpy(o, to, tl);
        o += tl;
        s = p + fl;
    }
    strcpy(o, s);
    return out;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted fixture file names; count in *n. */
static char **fixture_names(size_t *n)
{
    char **names = NULL;
    *n = 0;
    DIR *d = opendir(FIXTURE_DIR);
    ck_assert_msg(d != NULL, "cannot open %s (run from the repo root)", FIXTURE_DIR);
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (l < 6 || strcmp(de->d_name + l - 5, ".json") != 0) continue;
        names = realloc(names, (*n + 1) * sizeof *names);
        names[(*n)++] = strdup(de->d_name);
    }
    closedir(d);
    qsort(names, *n, sizeof *names, cmp_names);
    return names;
}

static json_object *get(json_object *o, const char *key)
{
    json_object *v = NULL;
    return o && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

static const char *get_str(json_object *o, const char *key)
{
    json_object *v = get(o, key);
    return v && !json_object_is_type(v, json_type_null) ? json_object_get_string(v) : NULL;
}

/* A token from the double (no scope = every scope). New string. */
static char *double_token(void)
{
    char url[128];
    snprintf(url, sizeof url, "%s/oauth-provider/oauth/token", E->double_url);
    const char *hdr[] = { "Content-Type: application/x-www-form-urlencoded", NULL };
    const char *body = "grant_type=client_credentials&client_id=m2jortt-test&client_secret=test-secret";
    h_resp r;
    h_http("POST", url, hdr, body, strlen(body), &r);
    H_ASSERT(E, r.status == 200, "token: %ld %s", r.status, r.body);
    json_object *o = json_tokener_parse(r.body);
    const char *t = get_str(o, "access_token");
    H_ASSERT(E, t != NULL, "token answer without access_token: %s", r.body);
    char *tok = strdup(t);
    json_object_put(o);
    h_resp_clear(&r);
    return tok;
}

/* The customer the default_customer_id fixtures invoice to. New id string. */
static char *create_default_customer(void)
{
    char *tok = double_token();
    char auth[256], url[128];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", tok);
    snprintf(url, sizeof url, "%s/customers", E->double_url);
    const char *hdr[] = { "Content-Type: application/json", auth, NULL };
    const char *body = "{\"is_private\":true,\"customer_name\":\"Webshop particulier\"}";
    h_resp r;
    h_http("POST", url, hdr, body, strlen(body), &r);
    H_ASSERT(E, r.status == 201, "create customer: %ld %s", r.status, r.body);
    json_object *o = json_tokener_parse(r.body);
    const char *id = get_str(get(o, "data"), "id");
    H_ASSERT(E, id != NULL, "create customer answer without data.id: %s", r.body);
    char *out = strdup(id);
    json_object_put(o);
    h_resp_clear(&r);
    free(tok);
    return out;
}

/* New CloudEvent text: the integration order event with data.value = order. */
static char *event_with_order(const char *event_id, json_object *order)
{
    char *base = h_read_file(H_ORDER_FIXTURE, NULL);
    json_object *ev = json_tokener_parse(base);
    free(base);
    ck_assert_ptr_nonnull(ev);
    json_object_object_add(ev, "id", json_object_new_string(event_id));
    json_object_object_add(ev, "event_id", json_object_new_string(event_id));
    json_object_object_add(get(ev, "data"), "value", json_object_get(order));
    char *out = h_json_text(ev);
    json_object_put(ev);
    return out;
}

static long long stat_now(const char *name)
{
    json_object *s = h_stats(E);
    H_ASSERT(E, s != NULL, "stats --json gave no JSON");
    long long v = h_stat(s, name);
    json_object_put(s);
    return v < 0 ? 0 : v;
}

static bool pred_skipped(h_env *e, void *arg)
{
    json_object *s = h_stats(e);
    bool ok = s && h_stat(s, "skipped") >= *(long long *)arg;
    if (s) json_object_put(s);
    return ok;
}

/* Decimal texts equal as money; both absent/null also counts as equal. */
static bool dec_eq(const char *a, const char *b)
{
    if (!a || !b) return a == b;
    return h_money_eq(a, b);
}

static void check_invoice(const char *name, const char *ref, json_object *expect)
{
    json_object *st = h_double_state(E);
    H_ASSERT(E, st != NULL, "no double state");
    int n = h_state_invoices(st, ref);
    H_ASSERT(E, n == 1, "%s: want exactly 1 invoice %s, got %d", name, ref, n);
    json_object *inv = h_state_invoice(st, ref);
    const char *total = h_invoice_total(inv);
    const char *want_total = get_str(expect, "total_incl");
    H_ASSERT(E, want_total && total && strcmp(total, want_total) == 0 && h_money_eq(total, want_total),
             "%s: invoice total %s, want %s", name, total ? total : "(none)", want_total ? want_total : "(none)");

    json_object *lines = get(inv, "line_items");
    json_object *want = get(get(expect, "invoice"), "line_items");
    H_ASSERT(E, lines && want && json_object_is_type(lines, json_type_array), "%s: no line_items", name);
    size_t nl = json_object_array_length(lines), nw = json_object_array_length(want);
    H_ASSERT(E, nl == nw, "%s: %zu lines, want %zu: %s", name, nl, nw, json_object_to_json_string(lines));
    for (size_t i = 0; i < nl; i++) {
        json_object *l = json_object_array_get_idx(lines, i), *w = json_object_array_get_idx(want, i);
        const char *la = get_str(get(l, "amount"), "amount"), *wa = get_str(get(w, "amount"), "amount");
        const char *lq = get_str(l, "quantity"), *wq = get_str(w, "quantity");
        const char *lv = get_str(get(l, "vat"), "value"), *wv = get_str(get(w, "vat"), "value");
        H_ASSERT(E, dec_eq(la, wa), "%s line %zu: amount %s, want %s", name, i, la ? la : "-", wa ? wa : "-");
        H_ASSERT(E, dec_eq(lq, wq), "%s line %zu: quantity %s, want %s", name, i, lq ? lq : "-", wq ? wq : "-");
        H_ASSERT(E, dec_eq(lv, wv), "%s line %zu: vat %s, want %s", name, i, lv ? lv : "-", wv ? wv : "-");
    }
    json_object_put(st);
}

static void wait_drained(const char *what)
{
    H_WAIT(E, 20000, h_pred_drained, NULL, "%s: queue did not drain", what);
}

static void run_fixture(const char *name, const char *customer_id, int *n_inv, int *n_other)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", FIXTURE_DIR, name);
    char *text = h_read_file(path, NULL);
    for (size_t i = 0; i < sizeof ledger_map / sizeof ledger_map[0]; i++) {
        char *t = replace_all(text, ledger_map[i][0], ledger_map[i][1]);
        free(text);
        text = t;
    }
    char *t = replace_all(text, FIXTURE_CUSTOMER_ID, customer_id);
    free(text);
    text = t;
    json_object *fx = json_tokener_parse(text);
    free(text);
    H_ASSERT(E, fx != NULL, "%s does not parse", name);
    json_object *expect = get(fx, "expect"), *order = get(fx, "order");
    const char *action = get_str(expect, "action");
    const char *ref = get_str(order, "increment_id");
    H_ASSERT(E, action && ref && get(fx, "config"), "%s: no expect.action, order.increment_id or config", name);

    /* Every run starts from the harness base (Redis, Jortt, receiver stay as
     * they are), so one fixture's settings never leak into the next. */
    char *ov = h_json_text(get(fx, "config"));
    h_config_write(E, ov);
    free(ov);
    long long failed0 = stat_now("failed"), skipped0 = stat_now("skipped");
    int before = h_count_invoices(E, ref);
    pid_t w = h_worker_start(E);

    char id[96];
    snprintf(id, sizeof id, "evt-fx-%s", name);
    char *body = event_with_order(id, order);
    h_resp r;
    long st = h_post_signed(E, id, body, &r);
    H_ASSERT(E, st == 202, "%s: post: want 202, got %ld %s", name, st, r.body);
    h_resp_clear(&r);
    free(body);

    if (strcmp(action, "invoice") == 0) {
        h_invoices_arg one = { ref, before + 1 };
        H_WAIT(E, 20000, h_pred_invoices, &one, "%s: no invoice %s in the double", name, ref);
        wait_drained(name);
        H_ASSERT(E, before == 0, "%s: invoice %s already existed before the fixture", name, ref);
        check_invoice(name, ref, expect);
        (*n_inv)++;
    } else if (strcmp(action, "skip") == 0) {
        long long want = skipped0 + 1;
        H_WAIT(E, 20000, pred_skipped, &want, "%s: not skipped", name);
        wait_drained(name);
        H_ASSERT(E, h_count_invoices(E, ref) == before, "%s: a skipped order made an invoice", name);
        (*n_other)++;
    } else {
        long long want = failed0 + 1;
        H_WAIT(E, 20000, h_pred_dead, &want, "%s: not dead-lettered", name);
        wait_drained(name);
        H_ASSERT(E, h_count_invoices(E, ref) == before, "%s: a failing order made an invoice", name);
        char *out = NULL;
        int rc = h_cli(E, &out, "failed", "--json", NULL);
        H_ASSERT(E, rc == 0 && out && strstr(out, id), "%s: `failed --json` lacks %s (rc %d): %s", name, id, rc,
                 out ? out : "(none)");
        free(out);
        (*n_other)++;
    }
    int ws = h_stop_pid(E, w, SIGTERM, h_ms(5000));
    H_ASSERT(E, ws != -1 && WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "%s: worker did not stop cleanly (status %d)",
             name, ws);
    json_object_put(fx);
}

/* Jortt API calls counted by the double, without the token endpoint and the
 * ledger-account check a worker makes when it starts. */
static long long api_calls(long long *ledger)
{
    json_object *st = h_double_state(E);
    H_ASSERT(E, st != NULL, "no double state");
    json_object *by = get(get(st, "calls"), "by_endpoint");
    long long n = 0, l = 0;
    json_object_object_foreach(by, k, v) {
        long long c = json_object_get_int64(v);
        if (strstr(k, "oauth")) continue;
        if (strstr(k, "ledger_accounts")) { l += c; continue; }
        n += c;
    }
    if (ledger) *ledger = l;
    json_object_put(st);
    return n;
}

static char *calls_text(void)
{
    json_object *st = h_double_state(E);
    char *t = h_json_text(get(st, "calls"));
    json_object_put(st);
    return t;
}

static bool pred_worker_checked_ledger(h_env *e, void *arg)
{
    (void)e;
    long long l = 0;
    api_calls(&l);
    return l >= *(long long *)arg;
}

static void post_buyers(int round, int n)
{
    for (int i = 0; i < n; i++) {
        char id[64], ref[32], email[64], cid[32];
        snprintf(id, sizeof id, "evt-calls-%d-%d", round, i);
        snprintf(ref, sizeof ref, "2000%d%04d", round, i);
        snprintf(email, sizeof email, "\"koper%d@example.com\"", i);
        /* The worker knows a registered buyer by the Magento customer id:
         * five buyers need five ids, not only five e-mails. */
        snprintf(cid, sizeof cid, "\"%d\"", 9000 + i);
        char *base = h_event(H_ORDER_FIXTURE, id, ref, "processing");
        char *body = h_json_with(base, "data.value.customer_email", email, "data.value.customer_id", cid, NULL);
        long st = h_post_signed(E, id, body, NULL);
        H_ASSERT(E, st == 202, "calls round %d order %d: want 202, got %ld", round, i, st);
        free(base);
        free(body);
    }
}

START_TEST(order_fixtures_through_jortt_double)
{
    E = h_env_new("orderfx");
    h_redis_start(E);
    h_double_start(E);
    {
        char url[128];
        snprintf(url, sizeof url, "%s/_double/config", E->double_url);
        const char *hdr[] = { "Content-Type: application/json", NULL };
        h_resp r;
        h_http("POST", url, hdr, "{\"rate_limit\":0}", 16, &r);
        H_ASSERT(E, r.status == 200, "double config: %ld %s", r.status, r.body);
        h_resp_clear(&r);
    }
    h_config_write(E, NULL);
    h_receiver_start(E);
    char *customer_id = create_default_customer();

    size_t n = 0;
    char **names = fixture_names(&n);
    H_ASSERT(E, n >= 40, "only %zu order fixtures found", n);
    int n_inv = 0, n_other = 0;
    for (size_t i = 0; i < n; i++) {
        run_fixture(names[i], customer_id, &n_inv, &n_other);
        free(names[i]);
    }
    free(names);
    free(customer_id);
    fprintf(stderr, "order fixtures: %d invoiced and checked, %d skipped/dead-lettered as expected\n", n_inv, n_other);
    json_object *st = h_double_state(E);
    char why[256] = "";
    H_ASSERT(E, h_state_no_duplicates(st, why, sizeof why), "duplicate in Jortt: %s", why);
    json_object_put(st);

    /* Calls per order: the worker starts (token, ledger check) BEFORE the
     * reset, so only the orders' own calls are counted. */
    h_config_write(E, "{}");
    long long l0 = 0;
    api_calls(&l0);
    l0++;
    pid_t w = h_worker_start(E);
    H_WAIT(E, 10000, pred_worker_checked_ledger, &l0, "worker did not check the ledger accounts");
    H_ASSERT(E, h_double_reset(E) == 200, "double reset failed");
    H_ASSERT(E, api_calls(NULL) == 0, "calls after reset not 0");

    post_buyers(1, 5);
    h_invoices_arg five = { NULL, 5 };
    H_WAIT(E, 20000, h_pred_invoices, &five, "new buyers: not 5 invoices");
    wait_drained("new buyers");
    long long c_new = api_calls(NULL);

    post_buyers(2, 5);
    h_invoices_arg ten = { NULL, 10 };
    H_WAIT(E, 20000, h_pred_invoices, &ten, "returning buyers: not 10 invoices");
    wait_drained("returning buyers");
    long long c_all = api_calls(NULL);
    char *calls = calls_text();
    fprintf(stderr, "calls per order: new %.2f, returning %.2f (%s)\n", (double)c_new / 5.0,
            (double)(c_all - c_new) / 5.0, calls);
    st = h_double_state(E);
    H_ASSERT(E, h_state_customers(st, NULL) == 5, "want 5 customers, got %d: %s", h_state_customers(st, NULL), calls);
    json_object_put(st);
    H_ASSERT(E, c_new == 10, "new buyers: %lld calls for 5 orders, want 10: %s", c_new, calls);
    H_ASSERT(E, c_all - c_new == 5, "returning buyers: %lld calls for 5 orders, want 5: %s", c_all - c_new, calls);
    free(calls);
    h_stop_pid(E, w, SIGTERM, h_ms(5000));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("order_fixtures");
    TCase *tc = h_tcase("order_fixtures");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, order_fixtures_through_jortt_double);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
