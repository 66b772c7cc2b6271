/* test_basic_auth_push.c: receiver.basic_auth end to end: a Mageplaza-style
 * webhook (a bare Magento order as JSON, HTTP Basic, no signature headers)
 * is queued and invoiced once with the exact total; wrong or missing
 * credentials get 401 with a JSON reason and nothing is queued. */
#include "harness.h"
#include "base/json_util.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BASIC_ONLY \
    "{\"receiver\":{\"webhook_secret\":\"\",\"basic_auth\":{\"username\":\"shop\",\"password\":\"s3cret\"}}}"
#define GOOD  "Authorization: Basic c2hvcDpzM2NyZXQ="  /* shop:s3cret */
#define WRONG "Authorization: Basic c2hvcDpzM2NyZXQx"  /* shop:s3cret1 */

/* The order inside the CloudEvent fixture, as a Mageplaza template that
 * sends {{ item }} would post it. New string. */
static char *bare_order(void)
{
    char *text = h_read_file(H_ORDER_FIXTURE, NULL);
    json_object *ce = json_tokener_parse(text);
    free(text);
    json_object *order = m2j_json_path(ce, "data.value");
    ck_assert_ptr_nonnull(order);
    char *out = h_json_text(order);
    json_object_put(ce);
    return out;
}

static long long stream_len(h_env *e)
{
    redisReply *r = h_redis_cmd(e, "XLEN %s:events", e->prefix);
    long long n = r && r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
    if (r)
        freeReplyObject(r);
    return n;
}

static long post(h_env *e, const char *auth, const char *body, h_resp *out)
{
    char url[128];
    snprintf(url, sizeof url, "%s/webhooks/magento?type=order", e->receiver_url);
    const char *hdrs[] = { "Content-Type: application/json", auth, NULL };
    h_http("POST", url, hdrs, body, strlen(body), out);
    return out->status;
}

START_TEST(refused_without_the_right_credentials)
{
    h_env *e = h_env_up("basic_refused", BASIC_ONLY, 0);
    char *body = bare_order();
    static const struct { const char *auth, *reason; } cases[] = {
        { NULL, "missing Authorization: Basic credentials" },
        { WRONG, "wrong Basic credentials" },
        { "Authorization: Bearer c2hvcDpzM2NyZXQ=", "Authorization is not the Basic scheme" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        h_resp r = {0};
        H_ASSERT(e, post(e, cases[i].auth, body, &r) == 401, "case %zu: status %ld", i, r.status);
        json_object *j = json_tokener_parse(r.body);
        H_ASSERT(e, j && strcmp(m2j_json_scalar(j, "error"), "unauthorized") == 0 &&
                        strcmp(m2j_json_scalar(j, "message"), cases[i].reason) == 0,
                 "case %zu: body %s", i, r.body);
        json_object_put(j);
        h_resp_clear(&r);
    }
    ck_assert_int_eq(stream_len(e), 0);
    free(body);
    h_env_free(e);
}
END_TEST

START_TEST(bare_order_with_basic_is_queued_and_invoiced_once)
{
    h_env *e = h_env_up("basic_queued", BASIC_ONLY, 0);
    char *body = bare_order();
    h_resp r = {0};
    H_ASSERT(e, post(e, GOOD, body, &r) == 202, "status %ld: %s", r.status, r.body);
    h_resp_clear(&r);
    ck_assert_int_eq(stream_len(e), 1);
    /* Mageplaza's module resends the same body: the same event, not a second one */
    H_ASSERT(e, post(e, GOOD, body, &r) == 200 && strstr(r.body, "duplicate"), "resend: %ld %s", r.status, r.body);
    h_resp_clear(&r);
    ck_assert_int_eq(stream_len(e), 1);

    h_workers_start(e, 1);
    h_invoices_arg one = { "100000123", 1 };
    H_WAIT(e, h_ms(15000), h_pred_invoices, &one, "the order was not invoiced");
    json_object *st = h_double_state(e);
    json_object *inv = h_state_invoice(st, "100000123");
    H_ASSERT(e, inv && h_money_eq(h_invoice_total(inv), H_ORDER_TOTAL), "total %s",
             inv ? h_invoice_total(inv) : "(none)");
    ck_assert_int_eq(h_state_invoices(st, NULL), 1);
    json_object_put(st);
    free(body);
    h_env_free(e);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("basic_auth_push");
    TCase *t = h_tcase("basic_auth_push");
    tcase_add_test(t, refused_without_the_right_credentials);
    tcase_add_test(t, bare_order_with_basic_is_queued_and_invoiced_once);
    suite_add_tcase(s, t);
    return h_run_suite(s);
}
