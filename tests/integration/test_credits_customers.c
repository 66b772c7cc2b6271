/* test_credits_customers.c: credit memos (full and partial), cancelled
 * and closed orders (one credit ledger per order), customer e-mail changes,
 * end to end: receiver, worker, Redis and the Jortt double.
 *
 * Orders and memos come from the pure mapping's fixtures
 * (tests/fixtures/creditmemos/NN-*.json: their "order" and "memo"),
 * wrapped as the Adobe I/O CloudEvents Magento sends, so the integration
 * runs on the same amounts the unit tests check line by line. */
#include "harness.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ORDER_EVENT    "tests/fixtures/integration/order-nl-processing.json"
#define MEMO_EVENT     "tests/fixtures/integration/creditmemo-nl-full.json"
#define CUSTOMER_EVENT "tests/fixtures/integration/customer-nl-save.json"
#define FULL_FIXTURE    "tests/fixtures/creditmemos/01-full-refund.json"
#define PARTIAL_FIXTURE "tests/fixtures/creditmemos/03-partial-with-shipping.json"

static h_env *E;

static void setup(void) { E = NULL; }
static void teardown(void) { h_env_free(E); E = NULL; }

/* ---- building events ---- */

/* New JSON text of `member` ("order"/"memo") of a creditmemo fixture, with
 * (path, value_json) pairs replaced (NULL-terminated, via h_json_with). */
static char *fixture_part(const char *fixture, const char *member, const char *p1, const char *v1,
                          const char *p2, const char *v2)
{
    char *text = h_read_file(fixture, NULL);
    json_object *root = json_tokener_parse(text), *part = NULL;
    free(text);
    ck_assert_msg(root && json_object_object_get_ex(root, member, &part), "%s: no %s", fixture, member);
    char *pt = h_json_text(part);
    json_object_put(root);
    char *out;
    if (p1 && p2)
        out = h_json_with(pt, p1, v1, p2, v2, NULL);
    else if (p1)
        out = h_json_with(pt, p1, v1, NULL);
    else
        return pt;
    free(pt);
    return out;
}

/* Posts the CloudEvent envelope `envelope` with data.value = value_json. */
static void post_value(const char *envelope, const char *event_id, const char *value_json)
{
    char *base = h_event(envelope, event_id, NULL, NULL);
    char *body = h_json_with(base, "data.value", value_json, NULL);
    h_resp r;
    long st = h_post_signed(E, event_id, body, &r);
    H_ASSERT(E, st == 202, "post %s: want 202, got %ld %s", event_id, st, r.body);
    h_resp_clear(&r);
    free(body);
    free(base);
}

static void post_order(const char *fixture, const char *event_id, const char *status)
{
    char st[64];
    snprintf(st, sizeof st, "\"%s\"", status);
    char *order = fixture_part(fixture, "order", "status", st, "state", st);
    post_value(ORDER_EVENT, event_id, order);
    free(order);
}

static void post_memo(const char *memo_json, const char *event_id)
{
    post_value(MEMO_EVENT, event_id, memo_json);
}

/* ---- looking at the double ---- */

/* The fixture configs' rates and methods, with the double's ledger. */
#define FIXTURE_ORDERS \
    "\"vat_by_country\":{\"NL\":\"0.21\",\"BE\":\"0.21\",\"DE\":\"0.19\",\"FR\":\"0.20\"}," \
    "\"payment_methods\":{\"checkmo\":{\"payment_method\":\"pay_later\",\"payment_term\":14," \
    "\"label\":\"Overschrijving\"},\"*\":{\"payment_method\":\"pay_later\"}}"

static json_object *find_by(json_object *st, const char *field, const char *value)
{
    json_object *invs = NULL;
    if (!st || !json_object_object_get_ex(st, "invoices", &invs))
        return NULL;
    for (size_t i = 0; i < json_object_array_length(invs); i++) {
        json_object *inv = json_object_array_get_idx(invs, i), *v = NULL;
        if (json_object_object_get_ex(inv, field, &v) && v && strcmp(json_object_get_string(v), value) == 0)
            return inv;
    }
    return NULL;
}

static int count_by(json_object *st, const char *field, const char *value)
{
    json_object *invs = NULL;
    int n = 0;
    if (!st || !json_object_object_get_ex(st, "invoices", &invs))
        return 0;
    for (size_t i = 0; i < json_object_array_length(invs); i++) {
        json_object *v = NULL;
        if (json_object_object_get_ex(json_object_array_get_idx(invs, i), field, &v) && v &&
            strcmp(json_object_get_string(v), value) == 0)
            n++;
    }
    return n;
}

/* New copy of the id of the invoice with reference ref. */
static char *invoice_id(const char *ref)
{
    json_object *st = h_double_state(E);
    json_object *inv = h_state_invoice(st, ref), *id = NULL;
    char *out = inv && json_object_object_get_ex(inv, "id", &id) ? strdup(json_object_get_string(id)) : NULL;
    json_object_put(st);
    return out;
}

typedef struct { const char *field, *value; int n; } by_arg;
static bool pred_count_by(h_env *e, void *arg)
{
    by_arg *a = arg;
    json_object *st = h_double_state(e);
    bool ok = count_by(st, a->field, a->value) == a->n;
    json_object_put(st);
    return ok;
}

static long long calls_total(void)
{
    json_object *st = h_double_state(E), *c = NULL, *t = NULL;
    long long n = -1;
    if (st && json_object_object_get_ex(st, "calls", &c) && json_object_object_get_ex(c, "total", &t))
        n = json_object_get_int64(t);
    json_object_put(st);
    return n;
}

static void invoice_order(const char *fixture, const char *ref, const char *event_id)
{
    post_order(fixture, event_id, "processing");
    h_invoices_arg one = { ref, 1 };
    H_WAIT(E, 20000, h_pred_invoices, &one, "order %s not invoiced", ref);
}

static void drained(void)
{
    H_WAIT(E, 20000, h_pred_drained, NULL, "queue did not drain");
}

static long long stat_of(const char *name)
{
    json_object *s = h_stats(E);
    long long v = h_stat(s, name);
    json_object_put(s);
    return v;
}

/* The credit invoice for the original `orig_id` has total -want. */
static void assert_credit_total(json_object *credit, const char *want_negative)
{
    const char *tot = h_invoice_total(credit);
    H_ASSERT(E, tot && h_money_eq(tot, want_negative), "credit total %s, want %s", tot ? tot : "(none)",
             want_negative);
}

/* (a) a full refund credits the invoice once, however often the memo comes. */
START_TEST(full_refund_once)
{
    E = h_env_up("cc-full", "{\"orders\":{" FIXTURE_ORDERS "}}", 1);
    invoice_order(FULL_FIXTURE, "100000101", "evt-o-101");
    char *orig = invoice_id("100000101");
    H_ASSERT(E, orig != NULL, "no invoice id");
    char *memo = fixture_part(FULL_FIXTURE, "memo", NULL, NULL, NULL, NULL);
    post_memo(memo, "evt-m-101-a");
    by_arg one = { "credited_invoice_id", orig, 1 };
    H_WAIT(E, 20000, pred_count_by, &one, "full refund not credited");
    post_memo(memo, "evt-m-101-b");
    drained();
    json_object *st = h_double_state(E);
    H_ASSERT(E, count_by(st, "credited_invoice_id", orig) == 1, "want one credit");
    H_ASSERT(E, h_state_invoices(st, NULL) == 2, "want 2 invoices, have %d", h_state_invoices(st, NULL));
    assert_credit_total(find_by(st, "credited_invoice_id", orig), "-80.61");
    json_object_put(st);
    H_ASSERT(E, stat_of("failed") == 0, "failed events");
    free(memo);
    free(orig);
}
END_TEST

static bool all_lines_negative_or_fee(json_object *inv, int *n_neg, int *n_pos)
{
    json_object *lines = NULL;
    *n_neg = *n_pos = 0;
    if (!json_object_object_get_ex(inv, "line_items", &lines))
        return false;
    for (size_t i = 0; i < json_object_array_length(lines); i++) {
        json_object *l = json_object_array_get_idx(lines, i), *tot = NULL, *amt = NULL;
        if (!json_object_object_get_ex(l, "total_amount_ex_vat", &tot) ||
            !json_object_object_get_ex(tot, "amount", &amt))
            return false;
        if (json_object_get_string(amt)[0] == '-')
            (*n_neg)++;
        else
            (*n_pos)++;
    }
    return true;
}

/* (b) a partial refund (2 of 3 units, shipping, a 2.00 fee kept) becomes its
 * own credit invoice of negative lines totalling exactly -grand_total. */
START_TEST(partial_refund_exact)
{
    E = h_env_up("cc-partial", "{\"orders\":{" FIXTURE_ORDERS "}}", 1);
    invoice_order(PARTIAL_FIXTURE, "100000103", "evt-o-103");
    char *orig = invoice_id("100000103");
    H_ASSERT(E, orig != NULL, "no invoice id");
    /* The fixture's memo (38.31) with a 2.00 restocking fee kept. */
    char *memo0 = fixture_part(PARTIAL_FIXTURE, "memo", "adjustment_negative", "\"2.00\"", "adjustment", "\"-2.00\"");
    char *memo = h_json_with(memo0, "grand_total", "\"36.31\"", NULL);
    post_memo(memo, "evt-m-103-a");
    h_invoices_arg one = { "100000103-CM200000103", 1 };
    H_WAIT(E, 20000, h_pred_invoices, &one, "partial refund not credited");
    post_memo(memo, "evt-m-103-b");
    drained();
    json_object *st = h_double_state(E);
    json_object *credit = h_state_invoice(st, "100000103-CM200000103");
    H_ASSERT(E, credit != NULL, "no credit invoice");
    H_ASSERT(E, h_state_invoices(st, NULL) == 2, "want 2 invoices, have %d", h_state_invoices(st, NULL));
    assert_credit_total(credit, "-36.31");
    int neg = 0, pos = 0;
    H_ASSERT(E, all_lines_negative_or_fee(credit, &neg, &pos), "credit lines unreadable");
    /* rows and shipping refunded (negative), the fee kept (positive) */
    H_ASSERT(E, neg >= 2 && pos == 1, "lines: %d negative, %d positive", neg, pos);
    json_object *orig_inv = h_state_invoice(st, "100000103"), *c1 = NULL, *c2 = NULL;
    H_ASSERT(E, orig_inv && json_object_object_get_ex(orig_inv, "customer_id", &c1) &&
             json_object_object_get_ex(credit, "customer_id", &c2) &&
             strcmp(json_object_get_string(c1), json_object_get_string(c2)) == 0,
             "credit invoice is not for the original invoice's customer");
    json_object_put(st);
    H_ASSERT(E, stat_of("failed") == 0, "failed events");
    free(memo0);
    free(memo);
    free(orig);
}
END_TEST

static long long endpoint_calls(const char *key)
{
    json_object *st = h_double_state(E), *c = NULL, *by = NULL, *v = NULL;
    long long n = 0;
    if (st && json_object_object_get_ex(st, "calls", &c) && json_object_object_get_ex(c, "by_endpoint", &by) &&
        json_object_object_get_ex(by, key, &v))
        n = json_object_get_int64(v);
    json_object_put(st);
    return n;
}

/* An order record from before customer_id was kept: the customer is read
 * once from the original invoice (GET /v3/invoices/{id}), then kept; and the
 * answer of the credit POST is lost: the retry finds the credit invoice by
 * its reference instead of posting a second one. */
START_TEST(partial_refund_old_record_and_lost_answer)
{
    E = h_env_up("cc-partial-old", "{\"orders\":{" FIXTURE_ORDERS "}}", 1);
    invoice_order(PARTIAL_FIXTURE, "100000103", "evt-o-103");
    /* The invoice exists in Jortt before the worker records it: wait for
     * the outcome, or the HDEL below races the worker's record. */
    drained();
    redisReply *r = h_redis_cmd(E, "HDEL %s:order:100000103 customer_id", E->prefix);
    H_ASSERT(E, r && r->type == REDIS_REPLY_INTEGER && r->integer == 1, "order record had no customer_id");
    freeReplyObject(r);
    H_ASSERT(E, h_double_faults(E, "{\"match\":\"POST /v3/invoices\",\"drop_after_apply\":1}") == 200, "faults");
    char *memo = fixture_part(PARTIAL_FIXTURE, "memo", NULL, NULL, NULL, NULL);
    post_memo(memo, "evt-m-103-lost");
    h_invoices_arg one = { "100000103-CM200000103", 1 };
    H_WAIT(E, 20000, h_pred_invoices, &one, "partial refund not credited");
    drained();
    json_object *st = h_double_state(E);
    json_object *credit = h_state_invoice(st, "100000103-CM200000103");
    H_ASSERT(E, h_state_invoices(st, NULL) == 2, "want 2 invoices, have %d", h_state_invoices(st, NULL));
    assert_credit_total(credit, "-38.31");
    json_object_put(st);
    H_ASSERT(E, endpoint_calls("GET /v3/invoices/{id}") == 1, "want one GET of the original invoice, have %lld",
             endpoint_calls("GET /v3/invoices/{id}"));
    r = h_redis_cmd(E, "HGET %s:order:100000103 customer_id", E->prefix);
    H_ASSERT(E, r && r->type == REDIS_REPLY_STRING && r->len > 0, "customer_id not kept in the order record");
    freeReplyObject(r);
    r = h_redis_cmd(E, "HGET %s:credit:7103 state", E->prefix);
    H_ASSERT(E, r && r->type == REDIS_REPLY_STRING && strcmp(r->str, "done") == 0, "credit record not done");
    freeReplyObject(r);
    H_ASSERT(E, stat_of("failed") == 0, "failed events");
    free(memo);
}
END_TEST

/* (c) a memo for an order never invoiced: retried, then dead with reason. */
START_TEST(refund_never_invoiced_dead)
{
    E = h_env_up("cc-noinv", "{\"orders\":{" FIXTURE_ORDERS "},"
                 "\"worker\":{\"retry\":{\"base_seconds\":1,\"max_seconds\":1,\"max_attempts\":2}}}", 1);
    char *memo = fixture_part(PARTIAL_FIXTURE, "memo", NULL, NULL, NULL, NULL);
    post_memo(memo, "evt-m-noinv");
    long long one = 1;
    H_WAIT(E, 20000, h_pred_dead, &one, "memo not dead-lettered");
    redisReply *r = h_redis_cmd(E, "HGET %s:dead:evt-m-noinv reason", E->prefix);
    H_ASSERT(E, r && r->type == REDIS_REPLY_STRING && strstr(r->str, "order was never invoiced") &&
             strstr(r->str, "gave up after 2 attempts"), "dead reason: %s",
             r && r->type == REDIS_REPLY_STRING ? r->str : "(none)");
    freeReplyObject(r);
    H_ASSERT(E, h_count_invoices(E, NULL) == 0, "an invoice was created");
    free(memo);
}
END_TEST

static void post_customer(const char *event_id, const char *email)
{
    char em[128];
    snprintf(em, sizeof em, "\"%s\"", email);
    char *base = h_event(CUSTOMER_EVENT, event_id, NULL, NULL);
    char *body = h_json_with(base, "data.value.email", em, "data.value.id", "\"42\"", NULL);
    h_resp r;
    long st = h_post_signed(E, event_id, body, &r);
    H_ASSERT(E, st == 202, "post %s: want 202, got %ld", event_id, st);
    h_resp_clear(&r);
    free(body);
    free(base);
}

static int n_customers(void)
{
    json_object *st = h_double_state(E);
    int n = h_state_customers(st, NULL);
    json_object_put(st);
    return n;
}

static bool pred_customer(h_env *e, void *arg)
{
    json_object *st = h_double_state(e);
    bool ok = h_state_customers(st, (const char *)arg) == 1 && h_state_customers(st, NULL) == 1;
    json_object_put(st);
    return ok;
}

/* (d) an e-mail change updates the one Jortt customer; an unchanged event
 * costs no call. */
START_TEST(customer_email_change)
{
    E = h_env_up("cc-cust", NULL, 1);
    post_customer("evt-c-1", "a@example.com");
    H_WAIT(E, 20000, pred_customer, (void *)"a@example.com", "customer a@ not created");
    post_customer("evt-c-2", "b@example.com");
    H_WAIT(E, 20000, pred_customer, (void *)"b@example.com", "customer not moved to b@");
    drained();
    H_ASSERT(E, n_customers() == 1, "want ONE customer, have %d", n_customers());
    long long before = calls_total();
    post_customer("evt-c-3", "b@example.com");
    drained();
    H_ASSERT(E, stat_of("failed") == 0, "failed events");
    long long after = calls_total();
    H_ASSERT(E, after == before, "an unchanged customer cost %lld Jortt calls", after - before);
    H_ASSERT(E, pred_customer(E, (void *)"b@example.com"), "customer changed");
}
END_TEST

START_TEST(customer_sync_off)
{
    E = h_env_up("cc-custoff", "{\"customers\":{\"sync\":false}}", 1);
    post_customer("evt-c-off", "a@example.com");
    drained();
    H_ASSERT(E, stat_of("skipped") >= 1, "customer event not skipped");
    H_ASSERT(E, n_customers() == 0, "a customer was created with customers.sync false");
}
END_TEST

/* (e) an order whose invoice was sent (orders.invoice_status "sent"),
 * cancelled later, is credited once (a draft would be deleted instead:
 * test_changed_orders.c). */
START_TEST(cancel_credits_once)
{
    E = h_env_up("cc-cancel", "{\"orders\":{" FIXTURE_ORDERS ",\"invoice_status\":\"sent\"}}", 1);
    invoice_order(FULL_FIXTURE, "100000101", "evt-o-c1");
    char *orig = invoice_id("100000101");
    H_ASSERT(E, orig != NULL, "no invoice id");
    post_order(FULL_FIXTURE, "evt-o-c2", "canceled");
    by_arg one = { "credited_invoice_id", orig, 1 };
    H_WAIT(E, 20000, pred_count_by, &one, "cancelled order not credited");
    post_order(FULL_FIXTURE, "evt-o-c3", "canceled");
    drained();
    json_object *st = h_double_state(E);
    H_ASSERT(E, count_by(st, "credited_invoice_id", orig) == 1, "want one credit");
    H_ASSERT(E, h_state_invoices(st, NULL) == 2, "want 2 invoices, have %d", h_state_invoices(st, NULL));
    assert_credit_total(find_by(st, "credited_invoice_id", orig), "-80.61");
    json_object_put(st);
    H_ASSERT(E, stat_of("failed") == 0, "failed events");
    free(orig);
}
END_TEST

/* credit_on_cancel: a cancel that overtakes the order's invoicing event
 * (retried, or older and later in the queue) leaves nothing to invoice. */
START_TEST(cancel_before_invoice_blocks_it)
{
    E = h_env_up("cc-cancel-first", "{\"orders\":{" FIXTURE_ORDERS "}}", 1);
    post_order(PARTIAL_FIXTURE, "evt-o-e1", "canceled");
    drained();
    post_order(PARTIAL_FIXTURE, "evt-o-e2", "processing");
    drained();
    H_ASSERT(E, h_count_invoices(E, NULL) == 0, "a cancelled order was invoiced");
    H_ASSERT(E, stat_of("skipped") == 2, "want both events skipped, have %lld", stat_of("skipped"));
    H_ASSERT(E, stat_of("failed") == 0, "failed events");
}
END_TEST

/* credit_on_cancel turned off (it is on by default): skipped, nothing
 * credited or deleted. */
START_TEST(cancel_flag_off_skips)
{
    E = h_env_up("cc-cancel-off", "{\"orders\":{" FIXTURE_ORDERS ",\"credit_on_cancel\":false}}", 1);
    invoice_order(FULL_FIXTURE, "100000101", "evt-o-d1");
    long long skipped0 = stat_of("skipped");
    post_order(FULL_FIXTURE, "evt-o-d2", "canceled");
    drained();
    H_ASSERT(E, stat_of("skipped") == skipped0 + 1, "cancel not skipped");
    H_ASSERT(E, h_count_invoices(E, NULL) == 1, "credited with credit_on_cancel off");
}
END_TEST

/* ---- one ledger per order: no credit twice, none beyond the invoice ---- */

/* An order event refunds closed, Magento saying how much it refunded. */
static void post_closed(const char *fixture, const char *event_id, const char *refunded)
{
    char *o1 = fixture_part(fixture, "order", "status", "\"closed\"", "state", "\"closed\"");
    char *o2 = h_json_with(o1, "total_refunded", refunded, "base_total_refunded", refunded, NULL);
    post_value(ORDER_EVENT, event_id, o2);
    free(o2);
    free(o1);
}

/* The reason an event ended with: its dead letter's, else its log's. */
static char *dead_reason(const char *event_id)
{
    redisReply *r = h_redis_cmd(E, "HGET %s:dead:%s reason", E->prefix, event_id);
    char *out = r && r->type == REDIS_REPLY_STRING ? strdup(r->str) : NULL;
    if (r)
        freeReplyObject(r);
    return out;
}

/* Credited on cancel (the invoice was sent), then the refund's memo
 * arrives: it is skipped, not refused by Jortt (a second credit of a
 * credited invoice). */
START_TEST(cancel_then_memo_skipped)
{
    E = h_env_up("cc-cancel-memo", "{\"orders\":{" FIXTURE_ORDERS ",\"invoice_status\":\"sent\"}}", 1);
    invoice_order(FULL_FIXTURE, "100000101", "evt-o-f1");
    char *orig = invoice_id("100000101");
    H_ASSERT(E, orig != NULL, "no invoice id");
    post_order(FULL_FIXTURE, "evt-o-f2", "canceled");
    by_arg one = { "credited_invoice_id", orig, 1 };
    H_WAIT(E, 20000, pred_count_by, &one, "cancelled order not credited");
    long long skipped0 = stat_of("skipped");
    char *memo = fixture_part(FULL_FIXTURE, "memo", NULL, NULL, NULL, NULL);
    post_memo(memo, "evt-m-f3");
    drained();
    json_object *st = h_double_state(E);
    H_ASSERT(E, h_state_invoices(st, NULL) == 2, "want invoice + one credit, have %d", h_state_invoices(st, NULL));
    H_ASSERT(E, count_by(st, "credited_invoice_id", orig) == 1, "want one credit");
    json_object_put(st);
    H_ASSERT(E, stat_of("failed") == 0, "the memo after the cancel credit failed");
    H_ASSERT(E, stat_of("skipped") == skipped0 + 1, "the memo was not skipped");
    free(memo);
    free(orig);
}
END_TEST

/* Only order events subscribed: "closed" after a full refund credits the
 * invoice once; a memo event arriving later after all is skipped. */
START_TEST(closed_full_refund_credits_once)
{
    E = h_env_up("cc-closed-full", "{\"orders\":{" FIXTURE_ORDERS "}}", 1);
    invoice_order(FULL_FIXTURE, "100000101", "evt-o-g1");
    char *orig = invoice_id("100000101");
    H_ASSERT(E, orig != NULL, "no invoice id");
    post_closed(FULL_FIXTURE, "evt-o-g2", "\"80.61\"");
    by_arg one = { "credited_invoice_id", orig, 1 };
    H_WAIT(E, 20000, pred_count_by, &one, "closed order not credited");
    post_closed(FULL_FIXTURE, "evt-o-g3", "\"80.61\"");
    char *memo = fixture_part(FULL_FIXTURE, "memo", NULL, NULL, NULL, NULL);
    post_memo(memo, "evt-m-g4");
    drained();
    json_object *st = h_double_state(E);
    H_ASSERT(E, h_state_invoices(st, NULL) == 2, "want invoice + one credit, have %d", h_state_invoices(st, NULL));
    H_ASSERT(E, count_by(st, "credited_invoice_id", orig) == 1, "want one credit");
    assert_credit_total(find_by(st, "credited_invoice_id", orig), "-80.61");
    json_object_put(st);
    H_ASSERT(E, stat_of("failed") == 0, "failed events");
    free(memo);
    free(orig);
}
END_TEST

/* The memo books a partial refund; the order's "closed" event that follows
 * finds it booked and adds nothing. */
START_TEST(memo_then_closed_skipped)
{
    E = h_env_up("cc-memo-closed", "{\"orders\":{" FIXTURE_ORDERS "}}", 1);
    invoice_order(PARTIAL_FIXTURE, "100000103", "evt-o-h1");
    char *memo = fixture_part(PARTIAL_FIXTURE, "memo", NULL, NULL, NULL, NULL);
    post_memo(memo, "evt-m-h2");
    h_invoices_arg one = { "100000103-CM200000103", 1 };
    H_WAIT(E, 20000, h_pred_invoices, &one, "partial refund not credited");
    long long skipped0 = stat_of("skipped");
    post_closed(PARTIAL_FIXTURE, "evt-o-h3", "\"38.31\"");
    drained();
    H_ASSERT(E, h_count_invoices(E, NULL) == 2, "want invoice + one credit, have %d", h_count_invoices(E, NULL));
    H_ASSERT(E, stat_of("skipped") == skipped0 + 1, "the closed event was not skipped");
    H_ASSERT(E, stat_of("failed") == 0, "failed events");
    free(memo);
}
END_TEST

/* "closed" after a partial refund no memo booked: nothing is guessed; it
 * waits for the memos, then is dead with what is missing. */
START_TEST(closed_partial_unbooked_dead)
{
    E = h_env_up("cc-closed-part", "{\"orders\":{" FIXTURE_ORDERS "},"
                 "\"worker\":{\"retry\":{\"base_seconds\":1,\"max_seconds\":1,\"max_attempts\":2}}}", 1);
    invoice_order(PARTIAL_FIXTURE, "100000103", "evt-o-i1");
    post_closed(PARTIAL_FIXTURE, "evt-o-i2", "\"38.31\"");
    long long one = 1;
    H_WAIT(E, 20000, h_pred_dead, &one, "closed event not dead-lettered");
    char *why = dead_reason("evt-o-i2");
    H_ASSERT(E, why && strstr(why, "38.31") && strstr(why, "58.68") && strstr(why, "credit memo"),
             "dead reason: %s", why ? why : "(none)");
    free(why);
    H_ASSERT(E, h_count_invoices(E, NULL) == 1, "a credit was guessed");
}
END_TEST

/* Two memos of one order that together refund more than was invoiced: the
 * second is dead with the amounts, never posted. */
START_TEST(memos_beyond_invoice_dead)
{
    E = h_env_up("cc-over", "{\"orders\":{" FIXTURE_ORDERS "}}", 1);
    invoice_order(PARTIAL_FIXTURE, "100000103", "evt-o-j1");
    char *memo = fixture_part(PARTIAL_FIXTURE, "memo", NULL, NULL, NULL, NULL);
    post_memo(memo, "evt-m-j2");
    h_invoices_arg one = { "100000103-CM200000103", 1 };
    H_WAIT(E, 20000, h_pred_invoices, &one, "first partial refund not credited");
    char *memo2 = h_json_with(memo, "entity_id", "\"7203\"", "increment_id", "\"200000203\"", NULL);
    post_memo(memo2, "evt-m-j3");
    long long dead = 1;
    H_WAIT(E, 20000, h_pred_dead, &dead, "the second memo is not dead");
    char *why = dead_reason("evt-m-j3");
    H_ASSERT(E, why && strstr(why, "more than the invoiced 58.68"), "dead reason: %s", why ? why : "(none)");
    free(why);
    H_ASSERT(E, h_count_invoices(E, NULL) == 2, "want invoice + one credit, have %d", h_count_invoices(E, NULL));
    free(memo2);
    free(memo);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("credits_customers");
    TCase *tc = h_tcase("credits_customers");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, full_refund_once);
    tcase_add_test(tc, partial_refund_exact);
    tcase_add_test(tc, partial_refund_old_record_and_lost_answer);
    tcase_add_test(tc, refund_never_invoiced_dead);
    tcase_add_test(tc, customer_email_change);
    tcase_add_test(tc, customer_sync_off);
    tcase_add_test(tc, cancel_credits_once);
    tcase_add_test(tc, cancel_before_invoice_blocks_it);
    tcase_add_test(tc, cancel_flag_off_skips);
    tcase_add_test(tc, cancel_then_memo_skipped);
    tcase_add_test(tc, closed_full_refund_credits_once);
    tcase_add_test(tc, memo_then_closed_skipped);
    tcase_add_test(tc, closed_partial_unbooked_dead);
    tcase_add_test(tc, memos_beyond_invoice_dead);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
