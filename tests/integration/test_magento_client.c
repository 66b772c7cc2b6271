/* test_magento_client.c: the Magento REST client (common/magento/) against the
 * Magento double: signed requests accepted and wrong ones refused, paging by
 * total_count with Magento's last-page quirk, the calls it costs, Magento's
 * errors made readable and classified, order comments. */
#include "magento_util.h"
#include "magento/magento_client.h"
#include "magento/search_criteria.h"
#include "base/json_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static h_env *E;
static hm_magento M;

static void setup(void) { E = h_env_new("magento_client"); memset(&M, 0, sizeof M); }
static void teardown(void) { h_env_free(E); E = NULL; }

static m2j_magento_client *client(const char *secret, bool bearer_only)
{
    m2j_magento_options o = { .rest_url = M.rest_url, .access_token = HM_TOKEN, .timeout_seconds = 10 };
    if (!bearer_only) {
        o.consumer_key = HM_CONSUMER_KEY;
        o.consumer_secret = secret ? secret : HM_CONSUMER_SECRET;
        o.access_token_secret = HM_TOKEN_SECRET;
    }
    m2j_magento_client *c = NULL;
    m2j_err err = {0};
    H_ASSERT(E, m2j_magento_client_new(&o, &c, &err) == M2J_OK, "client: %s", err.msg);
    return c;
}

/* n orders, entity_id from..from+n-1, all updated in the same second */
static void add_orders(int from, int n, const char *updated_at)
{
    m2j_buf b = {0};
    m2j_buf_puts(&b, "[");
    for (int i = 0; i < n; i++)
        m2j_buf_printf(&b, "%s{\"entity_id\":%d,\"increment_id\":\"1000%05d\",\"status\":\"processing\","
                           "\"grand_total\":12.10,\"updated_at\":\"%s\"}", i ? "," : "", from + i, from + i, updated_at);
    m2j_buf_puts(&b, "]");
    H_ASSERT(E, hm_control(&M, "orders", b.data) == 200, "double refused the orders");
    m2j_buf_free(&b);
}

typedef struct { int seen[1000]; int n; } collect;
static bool on_item(json_object *item, void *ud)
{
    collect *c = ud;
    int64_t id = 0;
    ck_assert_int_eq(m2j_json_int(item, "entity_id", &id), M2J_OK);
    ck_assert(id > 0 && id < 1000);
    c->seen[id]++;
    c->n++;
    return true;
}

static long search(m2j_magento_client *c, const char *since, int page_size, collect *out, m2j_magento_response *r)
{
    m2j_buf q = {0};
    m2j_sc_filter(&q, 0, 0, "updated_at", since, "gteq");
    m2j_sc_sort(&q, 0, "updated_at", true);
    m2j_sc_sort(&q, 1, "entity_id", true);
    long total = -1;
    m2j_err err = {0};
    H_ASSERT(E, m2j_magento_search(c, "/V1/orders", q.data, page_size, on_item, out, &total, r, &err) == M2J_OK,
             "search: %s", err.msg);
    m2j_buf_free(&q);
    return total;
}

START_TEST(signed_paging_stops_by_total_count)
{
    hm_start(E, &M, false);
    add_orders(1, 250, "2026-11-20 10:00:00");
    add_orders(300, 5, "2026-11-19 09:00:00"); /* before the cursor: not asked for */
    m2j_magento_client *c = client(NULL, false);
    collect got = {0};
    m2j_magento_response r = {0};
    long total = search(c, "2026-11-20 00:00:00", 100, &got, &r);
    H_ASSERT(E, r.cls == M2J_MAGENTO_OK, "search failed: %s", r.reason.data);
    ck_assert_int_eq(total, 250);
    ck_assert_int_eq(got.n, 250);
    for (int i = 1; i <= 250; i++)
        ck_assert_msg(got.seen[i] == 1, "order %d seen %d times", i, got.seen[i]);
    ck_assert_int_eq(hm_calls(&M, "GET /V1/orders"), 3); /* 100 + 100 + 50: no fourth page */
    m2j_magento_response_clear(&r);

    /* 299 in range, pages of 150: two requests, never a third (which would
     * repeat the second page) */
    collect two = {0};
    add_orders(251, 49, "2026-11-21 10:00:00");
    long t2 = search(c, "2026-11-20 00:00:00", 150, &two, &r);
    H_ASSERT(E, r.cls == M2J_MAGENTO_OK, "search failed: %s", r.reason.data);
    ck_assert_int_eq(t2, 299);
    ck_assert_int_eq(two.n, 299);
    ck_assert_int_eq(hm_calls(&M, "GET /V1/orders"), 5);
    ck_assert_int_eq(m2j_magento_client_calls(c), 5);
    m2j_magento_response_clear(&r);
    m2j_magento_client_free(c);
}
END_TEST

START_TEST(wrong_credentials_are_permanent_and_readable)
{
    hm_start(E, &M, false);
    add_orders(1, 1, "2026-11-20 10:00:00");
    m2j_magento_response r = {0};
    m2j_err err = {0};

    m2j_magento_client *c = client("not-the-secret", false);
    ck_assert_int_eq(m2j_magento_request(c, "GET", "/V1/orders/1", NULL, NULL, &r, &err), M2J_OK);
    ck_assert_int_eq(r.status, 401);
    ck_assert_int_eq(r.cls, M2J_MAGENTO_PERMANENT);
    H_ASSERT(E, strstr(r.reason.data, "The signature is invalid") && strstr(r.reason.data, "magento.consumer_key"),
             "reason: %s", r.reason.data);
    m2j_magento_response_clear(&r);
    m2j_magento_client_free(c);

    /* a Bearer token where the shop does not allow standalone Bearer tokens */
    c = client(NULL, true);
    ck_assert_int_eq(m2j_magento_request(c, "GET", "/V1/orders/1", NULL, NULL, &r, &err), M2J_OK);
    ck_assert_int_eq(r.cls, M2J_MAGENTO_PERMANENT);
    H_ASSERT(E, strstr(r.reason.data, "isn't authorized to access Magento_Sales::actions_view"), "reason: %s",
             r.reason.data);
    m2j_magento_response_clear(&r);
    m2j_magento_client_free(c);

    /* a resource not granted to the integration */
    H_ASSERT(E, hm_control(&M, "faults", "{\"deny\":\"Magento_Sales::sales_creditmemo\"}") == 200, "faults");
    c = client(NULL, false);
    ck_assert_int_eq(m2j_magento_request(c, "GET", "/V1/creditmemos", "searchCriteria=0", NULL, &r, &err), M2J_OK);
    ck_assert_int_eq(r.cls, M2J_MAGENTO_PERMANENT);
    H_ASSERT(E, strstr(r.reason.data, "Magento_Sales::sales_creditmemo"), "reason: %s", r.reason.data);
    m2j_magento_response_clear(&r);
    /* ... while what is granted still works, and the same nonce is never sent twice */
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(m2j_magento_request(c, "GET", "/V1/orders/1", NULL, NULL, &r, &err), M2J_OK);
        H_ASSERT(E, r.cls == M2J_MAGENTO_OK, "get order: %s", r.reason.data);
        ck_assert_str_eq(m2j_json_scalar(r.json, "increment_id"), "100000001");
        m2j_magento_response_clear(&r);
    }
    ck_assert_int_eq(m2j_magento_request(c, "GET", "/V1/orders/77", NULL, NULL, &r, &err), M2J_OK);
    ck_assert_int_eq(r.cls, M2J_MAGENTO_NOT_FOUND);
    m2j_magento_response_clear(&r);
    m2j_magento_client_free(c);
}
END_TEST

START_TEST(bearer_where_allowed)
{
    hm_start(E, &M, true);
    add_orders(5, 1, "2026-11-20 10:00:00");
    m2j_magento_client *c = client(NULL, true);
    m2j_magento_response r = {0};
    ck_assert_int_eq(m2j_magento_request(c, "GET", "/V1/orders/5", NULL, NULL, &r, NULL), M2J_OK);
    H_ASSERT(E, r.cls == M2J_MAGENTO_OK, "bearer refused: %s", r.reason.data);
    m2j_magento_response_clear(&r);
    m2j_magento_client_free(c);
}
END_TEST

START_TEST(outages_are_retried_later)
{
    hm_start(E, &M, false);
    add_orders(1, 1, "2026-11-20 10:00:00");
    m2j_magento_client *c = client(NULL, false);
    m2j_magento_response r = {0};
    H_ASSERT(E, hm_control(&M, "faults", "{\"fail_next\":1,\"status\":503}") == 200, "faults");
    ck_assert_int_eq(m2j_magento_request(c, "GET", "/V1/orders/1", NULL, NULL, &r, NULL), M2J_OK);
    ck_assert_int_eq(r.cls, M2J_MAGENTO_RETRY);
    ck_assert_int_eq(r.status, 503);
    m2j_magento_response_clear(&r);
    H_ASSERT(E, hm_control(&M, "faults", "{\"fail_next\":1,\"status\":429,\"retry_after\":7}") == 200, "faults");
    ck_assert_int_eq(m2j_magento_request(c, "GET", "/V1/orders/1", NULL, NULL, &r, NULL), M2J_OK);
    ck_assert_int_eq(r.cls, M2J_MAGENTO_RETRY);
    ck_assert_int_eq(r.retry_after_s, 7);
    m2j_magento_response_clear(&r);
    /* paging that fails half-way reports the failed page */
    add_orders(2, 150, "2026-11-20 10:00:00");
    H_ASSERT(E, hm_control(&M, "faults", "{\"fail_next\":1,\"status\":502,\"match_path\":\"/V1/orders\"}") == 200,
             "faults");
    collect got = {0};
    search(c, "2026-11-20 00:00:00", 100, &got, &r);
    ck_assert_int_eq(r.cls, M2J_MAGENTO_RETRY);
    ck_assert_int_eq(got.n, 0);
    m2j_magento_response_clear(&r);
    /* nothing listens: not sent, retried later */
    m2j_magento_options o = { .rest_url = "http://127.0.0.1:1/rest", .access_token = "t", .timeout_seconds = 2 };
    m2j_magento_client *nc = NULL;
    ck_assert_int_eq(m2j_magento_client_new(&o, &nc, NULL), M2J_OK);
    ck_assert_int_eq(m2j_magento_request(nc, "GET", "/V1/orders/1", NULL, NULL, &r, NULL), M2J_OK);
    ck_assert_int_eq(r.cls, M2J_MAGENTO_RETRY);
    ck_assert_int_eq(r.transport, M2J_TRANSPORT_NOT_SENT);
    H_ASSERT(E, strstr(r.reason.data, "Magento unreachable"), "reason: %s", r.reason.data);
    m2j_magento_response_clear(&r);
    m2j_magento_client_free(nc);
    m2j_magento_client_free(c);
}
END_TEST

START_TEST(order_comment)
{
    hm_start(E, &M, false);
    add_orders(9, 1, "2026-11-20 10:00:00");
    m2j_magento_client *c = client(NULL, false);
    m2j_magento_response r = {0};
    json_object *body = json_tokener_parse("{\"statusHistory\":{\"comment\":\"Jortt invoice 2026-001\","
                                           "\"is_customer_notified\":0,\"is_visible_on_front\":0,"
                                           "\"status\":\"processing\"}}");
    ck_assert_int_eq(m2j_magento_request(c, "POST", "/V1/orders/9/comments", NULL, body, &r, NULL), M2J_OK);
    H_ASSERT(E, r.cls == M2J_MAGENTO_OK, "comment: %s", r.reason.data);
    m2j_magento_response_clear(&r);
    json_object_put(body);
    json_object *o = hm_get(&M, "orders/9"), *h = NULL;
    ck_assert_ptr_nonnull(o);
    ck_assert(json_object_object_get_ex(o, "status_histories", &h));
    ck_assert_int_eq((int)json_object_array_length(h), 1);
    ck_assert_str_eq(m2j_json_scalar(json_object_array_get_idx(h, 0), "comment"), "Jortt invoice 2026-001");
    json_object_put(o);
    /* Magento's own validation message, placeholders filled */
    body = json_tokener_parse("{\"statusHistory\":{}}");
    ck_assert_int_eq(m2j_magento_request(c, "POST", "/V1/orders/9/comments", NULL, body, &r, NULL), M2J_OK);
    ck_assert_int_eq(r.cls, M2J_MAGENTO_PERMANENT);
    H_ASSERT(E, strstr(r.reason.data, "\"comment\" is required"), "reason: %s", r.reason.data);
    m2j_magento_response_clear(&r);
    json_object_put(body);
    m2j_magento_client_free(c);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("magento_client");
    TCase *tc = h_tcase("magento_client");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, signed_paging_stops_by_total_count);
    tcase_add_test(tc, wrong_credentials_are_permanent_and_readable);
    tcase_add_test(tc, bearer_where_allowed);
    tcase_add_test(tc, outages_are_retried_later);
    tcase_add_test(tc, order_comment);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
