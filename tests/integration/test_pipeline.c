/* test_pipeline.c: the whole path with real processes: signed POST ->
 * receiver -> Redis -> two workers -> the Jortt double, and what the receiver
 * answers to everything that is not a good delivery. */
#include "harness.h"
#include "base/buf.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ORDER_REF     "100000123"
#define ORDER_TOTAL   H_ORDER_TOTAL
#define ORDER_EMAIL   H_ORDER_EMAIL
#define SAMPLES       "tests/fixtures/integration/samples"

static h_env *E;

static void setup(void) { E = NULL; }
static void teardown(void) { h_env_free(E); E = NULL; }

static char *order_event(const char *event_id, const char *ref, const char *status)
{
    return h_event(H_ORDER_FIXTURE, event_id, ref, status);
}

static char *sample(const char *name)
{
    char p[512];
    const char *dir = getenv("M2JORTT_SAMPLES_DIR");
    snprintf(p, sizeof p, "%s/%s", dir && *dir ? dir : SAMPLES, name);
    return h_read_file(p, NULL);
}

static void wait_drained(void)
{
    H_WAIT(E, 20000, h_pred_drained, NULL, "queue did not drain (stream or retries not empty)");
}

/* The invariant every test ends with: nothing duplicated in Jortt. */
static void assert_no_duplicates(void)
{
    json_object *st = h_double_state(E);
    char why[256] = "";
    H_ASSERT(E, st != NULL, "no double state");
    H_ASSERT(E, h_state_no_duplicates(st, why, sizeof why), "duplicate in Jortt: %s", why);
    json_object_put(st);
}

START_TEST(order_is_invoiced_once)
{
    E = h_env_up("pipeline", NULL, 2);
    char *body = order_event("evt-nl-1", ORDER_REF, "processing");
    h_resp r;
    long st = h_post_signed(E, "evt-nl-1", body, &r);
    H_ASSERT(E, st == 202, "signed order: want 202, got %ld %s", st, r.body);
    h_resp_clear(&r);

    h_invoices_arg one = { ORDER_REF, 1 };
    H_WAIT(E, 20000, h_pred_invoices, &one, "no invoice for %s in the double", ORDER_REF);
    wait_drained();

    json_object *state = h_double_state(E);
    H_ASSERT(E, h_state_invoices(state, NULL) == 1, "want exactly 1 invoice, got %d", h_state_invoices(state, NULL));
    json_object *inv = h_state_invoice(state, ORDER_REF);
    const char *total = h_invoice_total(inv);
    H_ASSERT(E, h_money_eq(total, ORDER_TOTAL), "invoice total %s, want %s", total ? total : "(none)", ORDER_TOTAL);
    json_object *lines = NULL;
    H_ASSERT(E, json_object_object_get_ex(inv, "line_items", &lines) && json_object_is_type(lines, json_type_array),
             "invoice has no line_items");
    /* two products and the shipping line */
    H_ASSERT(E, json_object_array_length(lines) == 3, "want 3 lines, got %zu: %s",
             json_object_array_length(lines), json_object_to_json_string(lines));
    H_ASSERT(E, h_state_customers(state, ORDER_EMAIL) == 1, "want one customer for the buyer, got %d",
             h_state_customers(state, ORDER_EMAIL));
    H_ASSERT(E, h_state_customers(state, NULL) == 1, "want one customer in all, got %d", h_state_customers(state, NULL));
    json_object_put(state);

    json_object *s = h_stats(E);
    H_ASSERT(E, s != NULL, "stats --json gave no JSON");
    H_ASSERT(E, h_stat(s, "received") == 1, "received %lld", h_stat(s, "received"));
    H_ASSERT(E, h_stat(s, "processed") == 1, "processed %lld", h_stat(s, "processed"));
    H_ASSERT(E, h_stat(s, "failed") == 0, "failed %lld", h_stat(s, "failed"));
    H_ASSERT(E, h_stat(s, "duplicates") == 0, "duplicates %lld", h_stat(s, "duplicates"));
    json_object_put(s);
    free(body);
}
END_TEST

START_TEST(duplicate_delivery_is_not_invoiced_twice)
{
    E = h_env_up("dup", NULL, 2);
    char *body = order_event("evt-dup-1", "100000200", "processing");
    long st1 = h_post_signed(E, "evt-dup-1", body, NULL);
    H_ASSERT(E, st1 == 202, "first delivery: want 202, got %ld", st1);
    h_resp r;
    long st2 = h_post_signed(E, "evt-dup-1", body, &r);
    H_ASSERT(E, st2 == 200, "duplicate delivery: want 200, got %ld %s", st2, r.body);
    H_ASSERT(E, strstr(r.body, "duplicate") != NULL, "duplicate answer should say so: %s", r.body);
    h_resp_clear(&r);

    h_invoices_arg one = { "100000200", 1 };
    H_WAIT(E, 20000, h_pred_invoices, &one, "no invoice");
    wait_drained();
    /* A third delivery after processing is still a duplicate. */
    long st3 = h_post_signed(E, "evt-dup-1", body, NULL);
    H_ASSERT(E, st3 == 200, "late duplicate: want 200, got %ld", st3);
    wait_drained();
    H_ASSERT(E, h_count_invoices(E, "100000200") == 1, "invoices: %d", h_count_invoices(E, "100000200"));

    json_object *s = h_stats(E);
    H_ASSERT(E, h_stat(s, "received") == 1, "received %lld", h_stat(s, "received"));
    H_ASSERT(E, h_stat(s, "duplicates") == 2, "duplicates %lld", h_stat(s, "duplicates"));
    H_ASSERT(E, h_stat(s, "processed") == 1, "processed %lld", h_stat(s, "processed"));
    json_object_put(s);
    assert_no_duplicates();
    free(body);
}
END_TEST

START_TEST(one_order_three_events_one_invoice)
{
    E = h_env_up("three", NULL, 2);
    static const char *const statuses[] = { "processing", "processing", "complete" };
    for (int i = 0; i < 3; i++) {
        char id[64];
        snprintf(id, sizeof id, "evt-three-%d", i);
        char *body = order_event(id, "100000300", statuses[i]);
        long st = h_post_signed(E, id, body, NULL);
        H_ASSERT(E, st == 202, "event %d: want 202, got %ld", i, st);
        free(body);
    }
    h_invoices_arg one = { "100000300", 1 };
    H_WAIT(E, 20000, h_pred_invoices, &one, "no invoice");
    wait_drained();
    H_ASSERT(E, h_count_invoices(E, "100000300") == 1, "invoices: %d", h_count_invoices(E, "100000300"));
    json_object *s = h_stats(E);
    H_ASSERT(E, h_stat(s, "received") == 3, "received %lld", h_stat(s, "received"));
    H_ASSERT(E, h_stat(s, "processed") + h_stat(s, "skipped") == 3, "processed %lld + skipped %lld != 3",
             h_stat(s, "processed"), h_stat(s, "skipped"));
    H_ASSERT(E, h_stat(s, "skipped") >= 2, "the later events should be skipped as already invoiced: skipped %lld",
             h_stat(s, "skipped"));
    H_ASSERT(E, h_stat(s, "failed") == 0, "failed %lld", h_stat(s, "failed"));
    json_object_put(s);
    assert_no_duplicates();
}
END_TEST

/* Reasons recorded in P:skipped, joined, as a new string. */
static char *skip_reasons(void)
{
    redisReply *r = h_redis_cmd(E, "XRANGE %s:skipped - +", E->prefix);
    char *out = calloc(1, 1);
    size_t len = 0;
    for (size_t i = 0; r && r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
        redisReply *fields = r->element[i]->element[1];
        for (size_t j = 0; j + 1 < fields->elements; j += 2) {
            const char *v = fields->element[j + 1]->str;
            size_t vl = strlen(v);
            out = realloc(out, len + vl + 2);
            memcpy(out + len, v, vl);
            out[len + vl] = '|';
            out[len + vl + 1] = '\0';
            len += vl + 1;
        }
    }
    if (r) freeReplyObject(r);
    return out;
}

START_TEST(status_not_configured_is_skipped)
{
    E = h_env_up("skip", NULL, 2);
    char *body = order_event("evt-skip-1", "100000400", "pending_payment");
    long st = h_post_signed(E, "evt-skip-1", body, NULL);
    H_ASSERT(E, st == 202, "want 202, got %ld", st);
    wait_drained();
    json_object *s = h_stats(E);
    H_ASSERT(E, h_stat(s, "skipped") == 1, "skipped %lld", h_stat(s, "skipped"));
    H_ASSERT(E, h_stat(s, "processed") == 0, "processed %lld", h_stat(s, "processed"));
    json_object_put(s);
    H_ASSERT(E, h_count_invoices(E, NULL) == 0, "a skipped status made an invoice");
    char *reasons = skip_reasons();
    H_ASSERT(E, strstr(reasons, "100000400") != NULL, "skip record lacks the order ref: %s", reasons);
    H_ASSERT(E, strstr(reasons, "status") != NULL, "skip reason should name the status: %s", reasons);
    free(reasons);

    /* The same order reaching a configured status later is invoiced. */
    char *later = order_event("evt-skip-2", "100000400", "processing");
    st = h_post_signed(E, "evt-skip-2", later, NULL);
    H_ASSERT(E, st == 202, "want 202, got %ld", st);
    h_invoices_arg one = { "100000400", 1 };
    H_WAIT(E, 20000, h_pred_invoices, &one, "order not invoiced after reaching processing");
    free(later);
    free(body);
}
END_TEST

START_TEST(shared_samples)
{
    E = h_env_up("samples", NULL, 2);
    h_resp r;

    /* Real I/O Events order in USD: accepted, then dead-lettered. */
    char *usd = sample("io-event-sales_order_save_commit_after-guest-discount.json");
    long st = h_post_signed(E, "sample-usd", usd, &r);
    H_ASSERT(E, st == 202, "USD order sample: want 202, got %ld %s", st, r.body);
    h_resp_clear(&r);

    /* customer_login: accepted, recorded, no Jortt effect. */
    char *login = sample("io-event-customer_login.json");
    st = h_post_signed(E, "sample-login", login, &r);
    H_ASSERT(E, st == 200 || st == 202, "customer_login sample: want 2xx, got %ld %s", st, r.body);
    h_resp_clear(&r);

    /* A bare REST order (status pending): skipped with a reason. */
    char *rest = sample("rest-order-registered-bundle-configurable.json");
    h_post(E, "/webhooks/magento?type=order", "sample-rest", rest, strlen(rest), H_SIGNED, &r);
    H_ASSERT(E, r.status == 202, "REST order sample: want 202, got %ld %s", r.status, r.body);
    h_resp_clear(&r);

    /* Adobe Commerce Webhooks need exactly 200 {"op":"success"}. */
    char *cw = sample("commerce-webhook-observer-sales_order_place_before.json");
    st = h_post_signed(E, "sample-commerce", cw, &r);
    H_ASSERT(E, st == 200, "commerce webhook sample: want 200, got %ld %s", st, r.body);
    json_object *ans = json_tokener_parse(r.body);
    json_object *op = NULL;
    H_ASSERT(E, ans && json_object_object_get_ex(ans, "op", &op) &&
             strcmp(json_object_get_string(op), "success") == 0,
             "commerce webhook answer must be {\"op\":\"success\"}: %s", r.body);
    json_object_put(ans);
    h_resp_clear(&r);

    long long one = 1;
    H_WAIT(E, 20000, h_pred_dead, &one, "the USD order never reached the dead letters");
    wait_drained();

    int cst;
    json_object *failed = h_cli_json(E, &cst, "failed", "--json", NULL);
    H_ASSERT(E, cst == 0 && failed, "failed --json: exit %d, no JSON", cst);
    const char *ftxt = json_object_to_json_string(failed);
    H_ASSERT(E, strstr(ftxt, "currency") != NULL, "dead letter should say currency not supported: %s", ftxt);
    H_ASSERT(E, strstr(ftxt, "bdc6d818-d6d8-4e80-b78f-d8c47890ff40") != NULL,
             "dead letter should carry the sample's event_id: %s", ftxt);
    json_object_put(failed);

    char *reasons = skip_reasons();
    H_ASSERT(E, strstr(reasons, "000000003") != NULL, "REST pending order should be skipped with its ref: %s", reasons);
    free(reasons);

    H_ASSERT(E, h_count_invoices(E, NULL) == 0, "no sample may produce an invoice, got %d", h_count_invoices(E, NULL));

    /* Everything accepted has exactly one outcome. */
    json_object *s = h_stats(E);
    long long recv = h_stat(s, "received"), proc = h_stat(s, "processed"), skip = h_stat(s, "skipped"),
              fail = h_stat(s, "failed");
    H_ASSERT(E, recv == 4, "received %lld, want 4", recv);
    H_ASSERT(E, fail >= 1, "failed %lld", fail);
    H_ASSERT(E, proc + skip + fail == recv, "stats do not add up: processed %lld + skipped %lld + failed %lld != received %lld",
             proc, skip, fail, recv);
    json_object_put(s);
    free(usd); free(login); free(rest); free(cw);
}
END_TEST

START_TEST(customer_event_then_order_one_customer)
{
    E = h_env_up("customer", NULL, 2);
    char *base = h_read_file("tests/fixtures/integration/customer-nl-save.json", NULL);
    long st = h_post_signed(E, "evt-cust-1", base, NULL);
    H_ASSERT(E, st == 202, "customer event: want 202, got %ld", st);
    H_WAIT(E, 20000, h_pred_drained, NULL, "customer event not processed");
    json_object *state = h_double_state(E);
    H_ASSERT(E, h_state_customers(state, ORDER_EMAIL) == 1, "customer event: %d customers for the e-mail, want 1",
             h_state_customers(state, ORDER_EMAIL));
    json_object_put(state);

    /* The same customer saved again (new event, changed name): updated, not added. */
    char *again = h_json_with(base, "id", "\"evt-cust-2\"", "event_id", "\"evt-cust-2\"",
                              "data.value.lastname", "\"de Vries-Jansen\"", NULL);
    st = h_post_signed(E, "evt-cust-2", again, NULL);
    H_ASSERT(E, st == 202, "second customer event: want 202, got %ld", st);
    /* And an order by that customer: the invoice goes to the same Jortt customer. */
    char *order = order_event("evt-cust-order", "100000600", "processing");
    st = h_post_signed(E, "evt-cust-order", order, NULL);
    H_ASSERT(E, st == 202, "order: want 202, got %ld", st);
    h_invoices_arg one = { "100000600", 1 };
    H_WAIT(E, 20000, h_pred_invoices, &one, "order not invoiced");
    wait_drained();
    state = h_double_state(E);
    H_ASSERT(E, h_state_customers(state, NULL) == 1, "%d customers in Jortt, want 1", h_state_customers(state, NULL));
    json_object_put(state);
    json_object *s = h_stats(E);
    H_ASSERT(E, h_stat(s, "failed") == 0, "failed %lld", h_stat(s, "failed"));
    H_ASSERT(E, h_stat(s, "received") == 3, "received %lld", h_stat(s, "received"));
    json_object_put(s);
    assert_no_duplicates();
    free(order);
    free(again);
    free(base);
}
END_TEST

/* I/O Events batch delivery: a JSON array, one signature over all of it. */
START_TEST(batch_delivery_each_event_once)
{
    E = h_env_up("batch", NULL, 2);
    char *a = order_event("evt-batch-a", "100000701", "processing");
    char *b = order_event("evt-batch-b", "100000702", "processing");
    char *c = order_event("evt-batch-c", "100000703", "complete");
    size_t n = strlen(a) + strlen(b) + strlen(c) + 8;
    char *batch = malloc(n);
    snprintf(batch, n, "[%s,%s,%s]", a, b, c);
    h_resp r;
    long st = h_post_signed(E, "delivery-batch-1", batch, &r);
    H_ASSERT(E, st == 202, "batch: want 202, got %ld %s", st, r.body);
    h_resp_clear(&r);
    h_invoices_arg three = { NULL, 3 };
    H_WAIT(E, 20000, h_pred_invoices, &three, "batch: want 3 invoices");

    /* The same batch again (Adobe retrying a delivery): all duplicates. */
    st = h_post_signed(E, "delivery-batch-1", batch, &r);
    H_ASSERT(E, st == 200 || st == 202, "repeated batch: want 2xx, got %ld %s", st, r.body);
    h_resp_clear(&r);
    wait_drained();
    json_object *state = h_double_state(E);
    H_ASSERT(E, h_state_invoices(state, "100000701") == 1 && h_state_invoices(state, "100000702") == 1 &&
             h_state_invoices(state, "100000703") == 1 && h_state_invoices(state, NULL) == 3,
             "batch: each order once");
    H_ASSERT(E, h_state_customers(state, NULL) == 1, "batch: %d customers, want 1", h_state_customers(state, NULL));
    json_object_put(state);
    json_object *s = h_stats(E);
    H_ASSERT(E, h_stat(s, "received") == 3 && h_stat(s, "duplicates") == 3 && h_stat(s, "processed") == 3,
             "batch stats: received %lld duplicates %lld processed %lld", h_stat(s, "received"),
             h_stat(s, "duplicates"), h_stat(s, "processed"));
    json_object_put(s);
    free(batch); free(a); free(b); free(c);
}
END_TEST

/* Adobe Commerce Webhooks body carrying a whole order: answered 200
 * {"op":"success"} AND invoiced. */
START_TEST(commerce_webhook_order_is_invoiced)
{
    E = h_env_up("commerce", NULL, 2);
    char *ev = order_event("unused", "100000801", "processing");
    json_object *root = json_tokener_parse(ev), *order = NULL;
    H_ASSERT(E, root && (order = json_object_object_get(json_object_object_get(root, "data"), "value")),
             "fixture has no data.value");
    json_object *body = json_object_new_object(), *data = json_object_new_object();
    json_object_object_add(body, "eventName", json_object_new_string("sales_order_save_after"));
    json_object_object_add(data, "order", json_object_get(order));
    json_object_object_add(body, "data", data);
    char *text = h_json_text(body);
    h_resp r;
    long st = h_post_signed(E, "commerce-req-1", text, &r);
    H_ASSERT(E, st == 200, "commerce webhook: want 200, got %ld %s", st, r.body);
    H_ASSERT(E, strstr(r.body, "\"success\"") != NULL, "commerce webhook: want {\"op\":\"success\"}, got %s", r.body);
    h_resp_clear(&r);
    h_invoices_arg one = { "100000801", 1 };
    H_WAIT(E, 20000, h_pred_invoices, &one, "commerce webhook order not invoiced");
    wait_drained();
    json_object *state = h_double_state(E);
    H_ASSERT(E, h_money_eq(h_invoice_total(h_state_invoice(state, "100000801")), ORDER_TOTAL), "wrong total");
    json_object_put(state);
    free(text);
    json_object_put(body);
    json_object_put(root);
    free(ev);
}
END_TEST

/* Several orders of one new buyer arrive together and three workers take
 * them at once: the per-customer lock must leave exactly one Jortt customer. */
START_TEST(same_new_buyer_concurrent_orders_one_customer)
{
    E = h_env_up("buyer-race", NULL, 3);
    m2j_buf batch = {0};
    m2j_buf_puts(&batch, "[");
    for (int i = 0; i < 6; i++) {
        char id[64], ref[32];
        snprintf(id, sizeof id, "evt-race-%d", i);
        snprintf(ref, sizeof ref, "10000090%d", i);
        char *ev = order_event(id, ref, "processing");
        m2j_buf_printf(&batch, "%s%s", i ? "," : "", ev);
        free(ev);
    }
    m2j_buf_puts(&batch, "]");
    long st = h_post_signed(E, "delivery-race", m2j_buf_str(&batch), NULL);
    H_ASSERT(E, st == 202, "batch: want 202, got %ld", st);
    h_invoices_arg six = { NULL, 6 };
    H_WAIT(E, 30000, h_pred_invoices, &six, "want 6 invoices");
    wait_drained();
    json_object *state = h_double_state(E);
    H_ASSERT(E, h_state_customers(state, NULL) == 1, "%d Jortt customers for one buyer, want 1",
             h_state_customers(state, NULL));
    json_object_put(state);
    assert_no_duplicates();
    m2j_buf_free(&batch);
}
END_TEST

static long post_with_headers(const char *method, const char *path, const char *const *hdrs,
                              const char *body, h_resp *r)
{
    char url[256];
    snprintf(url, sizeof url, "%s%s", E->receiver_url, path);
    h_http(method, url, hdrs, body, body ? strlen(body) : 0, r);
    return r->status;
}

START_TEST(receiver_answers)
{
    /* No workers: only the receiver's answers matter here. */
    E = h_env_up("answers", NULL, 0);
    char *body = order_event("evt-ans-1", "100000500", "processing");
    size_t len = strlen(body);
    h_resp r;

    h_post(E, "/webhooks/magento", "evt-ans-1", body, len, H_BAD_SIGNATURE, &r);
    H_ASSERT(E, r.status == 401, "bad signature: want 401, got %ld", r.status);
    h_resp_clear(&r);
    h_post(E, "/webhooks/magento", "evt-ans-1", body, len, H_UNSIGNED, &r);
    H_ASSERT(E, r.status == 401, "unsigned: want 401, got %ld", r.status);
    h_resp_clear(&r);
    h_post(E, "/webhooks/magento", "evt-ans-1", body, len, H_OLD_TIMESTAMP, &r);
    H_ASSERT(E, r.status == 401, "stale timestamp: want 401, got %ld", r.status);
    h_resp_clear(&r);

    const char *bad = "{\"specversion\":\"1.0\",\"type\":";
    h_post(E, "/webhooks/magento", "evt-ans-bad", bad, strlen(bad), H_SIGNED, &r);
    H_ASSERT(E, r.status == 400, "malformed JSON: want 400, got %ld", r.status);
    h_resp_clear(&r);

    /* max_body_bytes is 65536 in the test config. */
    size_t big = 70000;
    char *huge = malloc(big + 1);
    memset(huge, ' ', big);
    huge[0] = '{';
    huge[big - 1] = '}';
    huge[big] = '\0';
    h_post(E, "/webhooks/magento", "evt-ans-big", huge, big, H_SIGNED, &r);
    H_ASSERT(E, r.status == 413, "too big: want 413, got %ld", r.status);
    h_resp_clear(&r);
    free(huge);

    h_post_ct(E, "/webhooks/magento", "evt-ans-txt", "hello", 5, H_SIGNED, "text/plain", &r);
    H_ASSERT(E, r.status == 415, "not JSON: want 415, got %ld", r.status);
    h_resp_clear(&r);

    post_with_headers("PUT", "/webhooks/magento", NULL, "{}", &r);
    H_ASSERT(E, r.status == 405, "PUT: want 405, got %ld", r.status);
    h_resp_clear(&r);
    post_with_headers("DELETE", "/webhooks/magento", NULL, NULL, &r);
    H_ASSERT(E, r.status == 405, "DELETE: want 405, got %ld", r.status);
    h_resp_clear(&r);

    post_with_headers("GET", "/no/such/path", NULL, NULL, &r);
    H_ASSERT(E, r.status == 404, "unknown path: want 404, got %ld", r.status);
    h_resp_clear(&r);

    post_with_headers("GET", "/webhooks/magento?challenge=3f2a9c1e-7b44-4d1e-9a0b-5c6d7e8f9a01", NULL, NULL, &r);
    H_ASSERT(E, r.status == 200, "challenge: want 200, got %ld", r.status);
    H_ASSERT(E, strstr(r.body, "3f2a9c1e-7b44-4d1e-9a0b-5c6d7e8f9a01") != NULL, "challenge not echoed: %s", r.body);
    h_resp_clear(&r);

    post_with_headers("GET", "/healthz", NULL, NULL, &r);
    H_ASSERT(E, r.status == 200, "/healthz: want 200, got %ld", r.status);
    h_resp_clear(&r);
    post_with_headers("GET", "/readyz", NULL, NULL, &r);
    H_ASSERT(E, r.status == 200, "/readyz: want 200, got %ld", r.status);
    h_resp_clear(&r);

    /* None of the refused requests was queued; a good one still is. */
    json_object *s = h_stats(E);
    H_ASSERT(E, h_stat(s, "received") == 0, "refused requests were counted as received: %lld", h_stat(s, "received"));
    json_object_put(s);
    long st = h_post_signed(E, "evt-ans-1", body, NULL);
    H_ASSERT(E, st == 202, "good request after refusals: want 202, got %ld", st);
    s = h_stats(E);
    H_ASSERT(E, h_stat(s, "received") == 1 && h_stat(s, "queued") == 1,
             "received %lld queued %lld, want 1 and 1", h_stat(s, "received"), h_stat(s, "queued"));
    json_object_put(s);
    free(body);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("pipeline");
    TCase *tc = h_tcase("pipeline");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, order_is_invoiced_once);
    tcase_add_test(tc, duplicate_delivery_is_not_invoiced_twice);
    tcase_add_test(tc, one_order_three_events_one_invoice);
    tcase_add_test(tc, status_not_configured_is_skipped);
    tcase_add_test(tc, shared_samples);
    tcase_add_test(tc, customer_event_then_order_one_customer);
    tcase_add_test(tc, batch_delivery_each_event_once);
    tcase_add_test(tc, commerce_webhook_order_is_invoiced);
    tcase_add_test(tc, same_new_buyer_concurrent_orders_one_customer);
    tcase_add_test(tc, receiver_answers);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
