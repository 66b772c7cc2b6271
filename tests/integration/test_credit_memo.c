/* test_credit_memo.c: a full refund in Magento becomes exactly one Jortt
 * credit invoice of the order's invoice, however often the memo arrives and
 * even when the credit POST's answer is lost. */
#include "harness.h"

#include <hiredis/hiredis.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MEMO_FIXTURE  "tests/fixtures/integration/creditmemo-nl-full.json"
#define REF           "100000123"

static h_env *E;

static void setup(void) { E = NULL; }
static void teardown(void) { h_env_free(E); E = NULL; }

static void post_file(const char *path, const char *id)
{
    h_post_event(E, path, id, NULL, NULL);
}

/* The order's invoice (reference REF) and how many credit invoices point at it. */
static int credits_of_invoice(void)
{
    json_object *st = h_double_state(E);
    json_object *inv = h_state_invoice(st, REF), *ids = NULL;
    int n = -1;
    if (inv && json_object_object_get_ex(inv, "credit_invoice_ids", &ids) && json_object_is_type(ids, json_type_array))
        n = (int)json_object_array_length(ids);
    else if (inv)
        n = 0;
    json_object_put(st);
    return n;
}

static bool pred_credited(h_env *e, void *arg)
{
    (void)e;
    return credits_of_invoice() == *(int *)arg;
}

static void invoice_the_order(void)
{
    post_file(H_ORDER_FIXTURE, "evt-order-1");
    h_invoices_arg one = { REF, 1 };
    H_WAIT(E, 20000, h_pred_invoices, &one, "order not invoiced");
}

static void assert_one_credit(void)
{
    H_WAIT(E, 20000, h_pred_drained, NULL, "queue did not drain");
    int one = 1;
    H_ASSERT(E, pred_credited(E, &one), "want one credit invoice on %s, have %d", REF, credits_of_invoice());
    /* the invoice and its credit, nothing else */
    H_ASSERT(E, h_count_invoices(E, NULL) == 2, "%d invoices in Jortt, want 2", h_count_invoices(E, NULL));
    json_object *s = h_stats(E);
    H_ASSERT(E, h_stat(s, "failed") == 0, "failed %lld", h_stat(s, "failed"));
    json_object_put(s);
}

START_TEST(full_refund_credited_once)
{
    E = h_env_up("credit", NULL, 2);
    invoice_the_order();
    post_file(MEMO_FIXTURE, "evt-memo-1");
    int one = 1;
    H_WAIT(E, 20000, pred_credited, &one, "the full refund was not credited");
    /* The same memo saved again (another event): no second credit. */
    post_file(MEMO_FIXTURE, "evt-memo-2");
    assert_one_credit();
}
END_TEST

START_TEST(credit_answer_lost_is_adopted)
{
    E = h_env_up("credit-drop", NULL, 2);
    invoice_the_order();
    /* Jortt creates the credit invoice, the connection drops before the
     * answer: the retry must find it through credit_invoice_ids. */
    H_ASSERT(E, h_double_faults(E, "{\"match\":\"POST /v3/invoices/\",\"drop_after_apply\":1}") == 200, "faults");
    post_file(MEMO_FIXTURE, "evt-memo-drop");
    int one = 1;
    H_WAIT(E, 20000, pred_credited, &one, "the full refund was not credited");
    assert_one_credit();
}
END_TEST

static long long redis_exists(const char *key)
{
    redisReply *r = h_redis_cmd(E, "EXISTS %s:%s", E->prefix, key);
    long long n = r && r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
    if (r)
        freeReplyObject(r);
    return n;
}

/* A credit memo id is an outside value: one that reads "cancel:<ref>" must
 * get its own record, not the order's cancellation record
 * P:credit:cancel:<ref> (which would make a later cancellation look
 * credited, or a replayed memo look done). */
START_TEST(memo_id_cannot_name_the_cancel_record)
{
    E = h_env_up("credit-memo-id", NULL, 1);
    invoice_the_order();
    char *ev = h_event(MEMO_FIXTURE, "evt-memo-colon", NULL, NULL);
    char *body = h_json_with(ev, "data.value.entity_id", "\"cancel:" REF "\"", NULL);
    h_resp r;
    long st = h_post_signed(E, "evt-memo-colon", body, &r);
    H_ASSERT(E, st == 202, "memo: want 202, got %ld", st);
    h_resp_clear(&r);
    free(body);
    free(ev);
    assert_one_credit();
    H_ASSERT(E, redis_exists("credit:cancel:" REF) == 0, "the memo wrote the order's cancellation record");
    H_ASSERT(E, redis_exists("credit:cancel%3A" REF) == 1, "the memo's own record is missing");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("credit_memo");
    TCase *tc = h_tcase("credit_memo");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, full_refund_credited_once);
    tcase_add_test(tc, credit_answer_lost_is_adopted);
    tcase_add_test(tc, memo_id_cannot_name_the_cancel_record);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
