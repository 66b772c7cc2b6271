/* test_changed_orders.c: orders that change after they were invoiced (issue
 * 12), end to end with a real redis-server, the receiver, workers and the
 * Jortt double, on the fixtures of one order's life
 * (tests/fixtures/changed/, see its README):
 *  - cancelled while its invoice is a draft: the draft is deleted, once,
 *    nothing credited; a redelivery does nothing more;
 *  - cancelled after the invoice was sent: one credit of the full amount,
 *    nothing deleted; a redelivery does nothing more;
 *  - "Edit order": the original cancelled and 100000123-1 created: one new
 *    invoice, the original's deleted (draft) or credited (sent), Jortt's net
 *    revenue equal to the new order's total to the cent, in either order of
 *    events and when the original's cancel event never comes;
 *  - lines or total changed in place, or partly cancelled: a dead letter
 *    that says what changed, nothing posted, also in a status that is not
 *    invoiced;
 *  - a status-only change and an older event arriving late: skipped,
 *    without a Jortt call;
 *  - the DELETE's answer lost, and the worker killed while Jortt applies
 *    the DELETE: settled by reading the invoice (404 = deleted), one DELETE
 *    applied, nothing credited. */
#include "harness.h"

#include <hiredis/hiredis.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FX(n)      "tests/fixtures/changed/" n ".json"
#define INVOICED   FX("01-invoiced-processing")
#define COMPLETE   FX("02-status-only-complete")
#define CHANGED    FX("03-lines-changed")
#define PARTIAL    FX("04-partial-cancel")
#define CANCELLED  FX("05-cancelled")
#define EDIT_ORIG  FX("06-edit-original-cancelled")
#define EDIT_NEW   FX("07-edit-new-order")
#define REF        "100000123"
#define NEW_REF    "100000123-1"

#define DELETE_KEY "DELETE /v3/invoices/{id}"
#define CREDIT_KEY "POST /v3/invoices/{id}/credit"

static h_env *E;

static void setup(void) { E = NULL; }
static void teardown(void) { h_env_free(E); E = NULL; }

/* ---- events ---- */

static void post(const char *fixture, const char *event_id)
{
    h_post_event(E, fixture, event_id, NULL, NULL);
}

/* The fixture with its order's status (and state) replaced. */
static void post_in_status(const char *fixture, const char *event_id, const char *status)
{
    char *ev = h_event(fixture, event_id, NULL, status);
    char st[64];
    snprintf(st, sizeof st, "\"%s\"", status);
    char *body = h_json_with(ev, "data.value.state", st, NULL);
    h_resp r;
    long code = h_post_signed(E, event_id, body, &r);
    H_ASSERT(E, code == 202, "post %s: want 202, got %ld %s", event_id, code, r.body);
    h_resp_clear(&r);
    free(body);
    free(ev);
}

static void drained(void)
{
    H_WAIT(E, 30000, h_pred_drained, NULL, "queue did not drain");
}

/* ---- the double ---- */

static int count_in(const char *list, const char *ref)
{
    json_object *st = h_double_state(E), *arr = NULL;
    int n = 0;
    if (st && json_object_object_get_ex(st, list, &arr)) {
        for (size_t i = 0; i < json_object_array_length(arr); i++) {
            json_object *inv = json_object_array_get_idx(arr, i), *r = NULL;
            if (!ref || (json_object_object_get_ex(inv, "reference", &r) && r &&
                         strcmp(json_object_get_string(r), ref) == 0))
                n++;
        }
    }
    json_object_put(st);
    return n;
}

static bool pred_deleted(h_env *e, void *arg)
{
    (void)e;
    return count_in("deleted_invoices", NULL) == *(int *)arg;
}

static long long calls_to(const char *key)
{
    json_object *st = h_double_state(E), *c = NULL, *b = NULL, *v = NULL;
    long long n = 0;
    if (st && json_object_object_get_ex(st, "calls", &c) && json_object_object_get_ex(c, "by_endpoint", &b) &&
        json_object_object_get_ex(b, key, &v))
        n = json_object_get_int64(v);
    json_object_put(st);
    return n;
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

/* New copy of the id of the live invoice with reference ref. */
static char *invoice_id(const char *ref)
{
    json_object *st = h_double_state(E);
    json_object *inv = h_state_invoice(st, ref), *id = NULL;
    char *out = inv && json_object_object_get_ex(inv, "id", &id) ? strdup(json_object_get_string(id)) : NULL;
    json_object_put(st);
    return out;
}

/* Credit invoices pointing at invoice id. */
static int credits_of(const char *id)
{
    json_object *st = h_double_state(E), *arr = NULL;
    int n = 0;
    if (st && json_object_object_get_ex(st, "invoices", &arr))
        for (size_t i = 0; i < json_object_array_length(arr); i++) {
            json_object *c = NULL;
            if (json_object_object_get_ex(json_object_array_get_idx(arr, i), "credited_invoice_id", &c) && c &&
                strcmp(json_object_get_string(c), id) == 0)
                n++;
        }
    json_object_put(st);
    return n;
}

typedef struct { const char *id; int n; } credits_arg;
static bool pred_credits(h_env *e, void *arg)
{
    (void)e;
    credits_arg *a = arg;
    return credits_of(a->id) == a->n;
}

/* "-121.00" -> -12100 (cents); the double always writes two decimals. */
static long long cents(const char *s)
{
    long long sign = 1, units = 0, frac = 0;
    if (*s == '-')
        sign = -1, s++;
    while (*s >= '0' && *s <= '9')
        units = units * 10 + (*s++ - '0');
    if (*s == '.' && s[1] >= '0' && s[1] <= '9' && s[2] >= '0' && s[2] <= '9')
        frac = (s[1] - '0') * 10 + (s[2] - '0');
    return sign * (units * 100 + frac);
}

/* What Jortt books: the sum of every live invoice's total incl. VAT, in
 * cents (credit invoices count negative, deleted drafts not at all). */
static long long net_revenue_cents(void)
{
    json_object *st = h_double_state(E), *arr = NULL;
    long long sum = 0;
    if (st && json_object_object_get_ex(st, "invoices", &arr))
        for (size_t i = 0; i < json_object_array_length(arr); i++) {
            const char *t = h_invoice_total(json_object_array_get_idx(arr, i));
            H_ASSERT(E, t, "an invoice without a total");
            sum += cents(t);
        }
    json_object_put(st);
    return sum;
}

/* The merchant sends the draft from Jortt's web app. */
static void send_in_jortt(const char *id)
{
    char url[256];
    snprintf(url, sizeof url, "%s/_double/invoices/%s/send", E->double_url, id);
    h_resp r;
    h_http("POST", url, NULL, "{}", 2, &r);
    H_ASSERT(E, r.status == 200, "send %s: %ld %s", id, r.status, r.body);
    h_resp_clear(&r);
}

/* ---- Redis ---- */

static char *record_field(const char *ref, const char *field)
{
    redisReply *r = h_redis_cmd(E, "HGET %s:order:%s %s", E->prefix, ref, field);
    char *out = r && r->type == REDIS_REPLY_STRING ? strdup(r->str) : NULL;
    if (r)
        freeReplyObject(r);
    return out;
}

static char *dead_reason(const char *event_id)
{
    redisReply *r = h_redis_cmd(E, "HGET %s:dead:%s reason", E->prefix, event_id);
    char *out = r && r->type == REDIS_REPLY_STRING ? strdup(r->str) : NULL;
    if (r)
        freeReplyObject(r);
    return out;
}

/* The reason the event was skipped with (P:skipped), or NULL. New. */
static char *skip_reason(const char *event_id)
{
    redisReply *r = h_redis_cmd(E, "XRANGE %s:skipped - +", E->prefix);
    char *out = NULL;
    for (size_t i = 0; r && r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
        redisReply *f = r->element[i]->element[1];
        const char *id = NULL, *why = NULL;
        for (size_t k = 0; k + 1 < f->elements; k += 2) {
            if (strcmp(f->element[k]->str, "event_id") == 0)
                id = f->element[k + 1]->str;
            else if (strcmp(f->element[k]->str, "reason") == 0)
                why = f->element[k + 1]->str;
        }
        if (id && why && strcmp(id, event_id) == 0) {
            free(out);
            out = strdup(why);
        }
    }
    if (r)
        freeReplyObject(r);
    return out;
}

static long long stat_of(const char *name)
{
    json_object *s = h_stats(E);
    long long v = h_stat(s, name);
    json_object_put(s);
    return v;
}

/* The original order invoiced as a draft; its invoice id (new). */
static char *invoice_original(void)
{
    post(INVOICED, "evt-invoice");
    h_invoices_arg one = { REF, 1 };
    H_WAIT(E, 20000, h_pred_invoices, &one, "order not invoiced");
    char *id = invoice_id(REF);
    H_ASSERT(E, id, "no invoice id");
    return id;
}

static void assert_no_failures(void)
{
    H_ASSERT(E, stat_of("failed") == 0, "failed events: %lld", stat_of("failed"));
}

/* ---- cancellations ---- */

START_TEST(cancel_before_sending_deletes_the_draft)
{
    E = h_env_up("chg-cancel-draft", NULL, 1);
    char *id = invoice_original();
    post(CANCELLED, "evt-cancel");
    int one = 1;
    H_WAIT(E, 20000, pred_deleted, &one, "the draft was not deleted");
    drained();
    /* Magento saves the cancelled order again (a comment, a redelivery) */
    post(CANCELLED, "evt-cancel-again");
    drained();
    H_ASSERT(E, count_in("invoices", NULL) == 0, "invoices left: %d", count_in("invoices", NULL));
    H_ASSERT(E, count_in("deleted_invoices", REF) == 1, "want the one draft deleted");
    H_ASSERT(E, calls_to(DELETE_KEY) == 1, "DELETE sent %lld times", calls_to(DELETE_KEY));
    H_ASSERT(E, calls_to(CREDIT_KEY) == 0, "a draft was credited");
    H_ASSERT(E, net_revenue_cents() == 0, "net revenue %lld", net_revenue_cents());
    char *state = record_field(REF, "state"), *why = skip_reason("evt-cancel-again");
    H_ASSERT(E, state && strcmp(state, "deleted") == 0, "record state %s", state ? state : "(none)");
    H_ASSERT(E, why && strstr(why, "draft invoice") && strstr(why, id), "redelivery: %s", why ? why : "(none)");
    /* an older order event arriving late invoices nothing */
    post(INVOICED, "evt-invoice-late");
    drained();
    H_ASSERT(E, count_in("invoices", NULL) == 0, "a cancelled order was invoiced again");
    assert_no_failures();
    free(why);
    free(state);
    free(id);
}
END_TEST

START_TEST(cancel_after_sending_credits_once)
{
    E = h_env_up("chg-cancel-sent", NULL, 1);
    char *id = invoice_original();
    drained();
    send_in_jortt(id);
    post(CANCELLED, "evt-cancel");
    credits_arg one = { id, 1 };
    H_WAIT(E, 20000, pred_credits, &one, "the sent invoice was not credited");
    post(CANCELLED, "evt-cancel-again");
    drained();
    H_ASSERT(E, credits_of(id) == 1, "want one credit, have %d", credits_of(id));
    H_ASSERT(E, calls_to(CREDIT_KEY) == 1, "credit POSTed %lld times", calls_to(CREDIT_KEY));
    H_ASSERT(E, calls_to(DELETE_KEY) == 0, "a sent invoice was deleted");
    H_ASSERT(E, count_in("invoices", NULL) == 2, "want invoice + credit, have %d", count_in("invoices", NULL));
    H_ASSERT(E, net_revenue_cents() == 0, "net revenue %lld, want 0 (121.00 - 121.00)", net_revenue_cents());
    char *why = skip_reason("evt-cancel-again");
    H_ASSERT(E, why && strstr(why, "already credited"), "redelivery: %s", why ? why : "(none)");
    assert_no_failures();
    free(why);
    free(id);
}
END_TEST

/* ---- Edit order ---- */

static void assert_edit_booked_once(const char *orig_id, bool sent)
{
    H_ASSERT(E, count_in("invoices", NEW_REF) == 1, "the edited order has %d invoices", count_in("invoices", NEW_REF));
    /* 96.80 in Jortt, the new order's grand total, whatever happened to the
     * original's invoice */
    H_ASSERT(E, net_revenue_cents() == 9680, "Jortt's net revenue %lld cents, want 9680", net_revenue_cents());
    if (sent) {
        H_ASSERT(E, credits_of(orig_id) == 1, "original credited %d times", credits_of(orig_id));
        H_ASSERT(E, calls_to(DELETE_KEY) == 0, "a sent invoice was deleted");
    } else {
        H_ASSERT(E, count_in("deleted_invoices", REF) == 1, "the original's draft was not deleted");
        H_ASSERT(E, calls_to(DELETE_KEY) == 1, "DELETE sent %lld times", calls_to(DELETE_KEY));
        H_ASSERT(E, calls_to(CREDIT_KEY) == 0, "a draft was credited");
    }
    char gt[16] = "";
    json_object *st = h_double_state(E);
    const char *t = h_invoice_total(h_state_invoice(st, NEW_REF));
    snprintf(gt, sizeof gt, "%s", t ? t : "");
    json_object_put(st);
    H_ASSERT(E, h_money_eq(gt, "96.80"), "the edited order's invoice totals %s", gt);
    assert_no_failures();
}

START_TEST(edit_draft_original_deleted_new_invoiced)
{
    E = h_env_up("chg-edit-draft", NULL, 2);
    char *orig = invoice_original();
    /* Magento's edit: the new order, then the original cancelled */
    post(EDIT_NEW, "evt-edit-new");
    post(EDIT_ORIG, "evt-edit-orig");
    h_invoices_arg one = { NEW_REF, 1 };
    H_WAIT(E, 20000, h_pred_invoices, &one, "the edited order was not invoiced");
    drained();
    assert_edit_booked_once(orig, false);
    free(orig);
}
END_TEST

START_TEST(edit_sent_original_credited_new_invoiced)
{
    E = h_env_up("chg-edit-sent", NULL, 1);
    char *orig = invoice_original();
    drained();
    send_in_jortt(orig);
    post(EDIT_ORIG, "evt-edit-orig");
    post(EDIT_NEW, "evt-edit-new");
    h_invoices_arg one = { NEW_REF, 1 };
    H_WAIT(E, 20000, h_pred_invoices, &one, "the edited order was not invoiced");
    drained();
    assert_edit_booked_once(orig, true);
    char *why = skip_reason("evt-edit-new");
    H_ASSERT(E, why == NULL, "the new order was skipped: %s", why);
    free(orig);
}
END_TEST

/* The original's cancel event never arrives (not subscribed, lost): the
 * edited order books the original's cancellation itself; when the cancel
 * event comes after all, it finds it done. */
START_TEST(edit_without_the_cancel_event)
{
    E = h_env_up("chg-edit-nocancel", NULL, 1);
    char *orig = invoice_original();
    post(EDIT_NEW, "evt-edit-new");
    h_invoices_arg one = { NEW_REF, 1 };
    H_WAIT(E, 20000, h_pred_invoices, &one, "the edited order was not invoiced");
    drained();
    assert_edit_booked_once(orig, false);
    post(EDIT_ORIG, "evt-edit-orig-late");
    drained();
    char *why = skip_reason("evt-edit-orig-late");
    H_ASSERT(E, why && strstr(why, "already cancelled"), "late cancel: %s", why ? why : "(none)");
    assert_edit_booked_once(orig, false);
    free(why);
    free(orig);
}
END_TEST

/* ---- changed after invoicing: reported, never skipped, never guessed ---- */

static void assert_reported(const char *event_id, const char *const *parts)
{
    long long one = 1;
    H_WAIT(E, 20000, h_pred_dead, &one, "%s was not dead-lettered", event_id);
    drained();
    char *why = dead_reason(event_id);
    H_ASSERT(E, why, "no dead letter for %s", event_id);
    for (const char *const *p = parts; *p; p++)
        H_ASSERT(E, strstr(why, *p), "dead reason \"%s\" lacks \"%s\"", why, *p);
    free(why);
    /* Jortt untouched: the draft stands as invoiced, nothing credited or deleted */
    H_ASSERT(E, count_in("invoices", NULL) == 1, "invoices: %d", count_in("invoices", NULL));
    H_ASSERT(E, calls_to(DELETE_KEY) == 0 && calls_to(CREDIT_KEY) == 0, "Jortt was changed");
}

START_TEST(lines_changed_are_reported)
{
    E = h_env_up("chg-lines", NULL, 1);
    char *id = invoice_original();
    post(CHANGED, "evt-changed");
    char head[160];
    snprintf(head, sizeof head, "order " REF " changed after it was invoiced (Jortt invoice %s)", id);
    const char *parts[] = { head, "grand total 121.00 -> 96.80; line SKU-2 qty 2 -> 1, row total 48.40 -> 24.20",
                            NULL };
    assert_reported("evt-changed", parts);
    free(id);
}
END_TEST

START_TEST(partial_cancel_is_reported)
{
    E = h_env_up("chg-partial", NULL, 1);
    char *id = invoice_original();
    post(PARTIAL, "evt-partial");
    const char *parts[] = { "changed after it was invoiced", id,
                            "total canceled 0.00 -> 24.20; line SKU-2 qty 2 -> 1 (1 canceled)", NULL };
    assert_reported("evt-partial", parts);
    free(id);
}
END_TEST

/* A change is reported whatever the status: "holded" is not invoiced. */
START_TEST(change_in_a_status_not_invoiced_is_reported)
{
    E = h_env_up("chg-holded", NULL, 1);
    char *id = invoice_original();
    post_in_status(CHANGED, "evt-holded", "holded");
    const char *parts[] = { "status holded not in orders.statuses; order " REF " changed after it was invoiced",
                            "grand total 121.00 -> 96.80", NULL };
    assert_reported("evt-holded", parts);
    free(id);
}
END_TEST

START_TEST(status_only_change_is_skipped)
{
    E = h_env_up("chg-status", NULL, 1);
    char *id = invoice_original();
    drained();
    long long calls = calls_total();
    post(COMPLETE, "evt-complete");
    post_in_status(INVOICED, "evt-holded-same", "holded"); /* not invoiced, unchanged */
    drained();
    /* the invoicing event's order again, under another event id */
    post(INVOICED, "evt-invoice-again");
    drained();
    char *a = skip_reason("evt-complete"), *b = skip_reason("evt-holded-same"), *c = skip_reason("evt-invoice-again");
    H_ASSERT(E, a && strstr(a, "already invoiced as") && strstr(a, id), "complete: %s", a ? a : "(none)");
    H_ASSERT(E, b && strstr(b, "status holded not in orders.statuses; already invoiced as"), "holded: %s",
             b ? b : "(none)");
    H_ASSERT(E, c && strstr(c, "already invoiced as"), "again: %s", c ? c : "(none)");
    H_ASSERT(E, calls_total() == calls, "a status change cost %lld Jortt calls", calls_total() - calls);
    H_ASSERT(E, count_in("invoices", NULL) == 1, "invoices: %d", count_in("invoices", NULL));
    assert_no_failures();
    free(a);
    free(b);
    free(c);
    free(id);
}
END_TEST

/* An event older than the invoiced order (updated_at before it) is not a
 * change: the order was invoiced from a newer state. */
START_TEST(older_event_is_not_a_change)
{
    E = h_env_up("chg-older", NULL, 1);
    post(CHANGED, "evt-newer"); /* invoiced as it is now: 96.80 */
    h_invoices_arg one = { REF, 1 };
    H_WAIT(E, 20000, h_pred_invoices, &one, "order not invoiced");
    post(INVOICED, "evt-older"); /* 121.00, updated_at earlier */
    drained();
    char *why = skip_reason("evt-older");
    H_ASSERT(E, why && strstr(why, "older than the order invoiced"), "older: %s", why ? why : "(none)");
    assert_no_failures();
    free(why);
}
END_TEST

/* ---- the DELETE's outcome unknown ---- */

/* Jortt deletes the draft, the answer is lost: the retry reads the invoice
 * (404) and records it deleted instead of guessing. */
START_TEST(delete_answer_lost_is_settled_by_reading)
{
    E = h_env_up("chg-delete-drop", NULL, 1);
    free(invoice_original());
    drained();
    H_ASSERT(E, h_double_faults(E, "{\"match\":\"DELETE /v3/invoices/\",\"drop_after_apply\":1}") == 200, "faults");
    post(CANCELLED, "evt-cancel");
    int one = 1;
    H_WAIT(E, 20000, pred_deleted, &one, "the draft was not deleted");
    drained();
    char *state = record_field(REF, "state");
    H_ASSERT(E, state && strcmp(state, "deleted") == 0, "record state %s", state ? state : "(none)");
    H_ASSERT(E, calls_to(DELETE_KEY) == 1, "DELETE sent %lld times", calls_to(DELETE_KEY));
    H_ASSERT(E, calls_to("GET /v3/invoices/{id}") >= 2, "the outcome was not read back");
    H_ASSERT(E, calls_to(CREDIT_KEY) == 0, "credited after a lost delete");
    H_ASSERT(E, count_in("invoices", NULL) == 0, "invoices left");
    assert_no_failures();
    free(state);
}
END_TEST

static bool pred_delete_arrived(h_env *e, void *arg)
{
    (void)e;
    (void)arg;
    return calls_to(DELETE_KEY) >= 1;
}

/* The worker dies while Jortt applies the DELETE (the double holds the
 * answer): the next worker, once the lock and the claim expire, settles it
 * by reading the invoice. */
START_TEST(worker_killed_inside_the_delete)
{
    E = h_env_up("chg-delete-kill", "{\"worker\":{\"lock_ttl_seconds\":3}}", 1);
    free(invoice_original());
    drained();
    H_ASSERT(E, h_double_faults(E, "{\"match\":\"DELETE /v3/invoices/\",\"latency_ms\":4000}") == 200, "faults");
    post(CANCELLED, "evt-cancel");
    H_WAIT(E, 20000, pred_delete_arrived, NULL, "no DELETE arrived");
    pid_t w[H_MAX_WORKERS];
    int n = h_pids(E, H_ROLE_WORKER, w, H_MAX_WORKERS);
    H_ASSERT(E, n == 1, "want one worker, have %d", n);
    h_stop_pid(E, w[0], SIGKILL, h_ms(2000));
    H_ASSERT(E, count_in("deleted_invoices", REF) == 1, "the double did not apply the DELETE");
    char *state = record_field(REF, "state");
    H_ASSERT(E, state && strcmp(state, "done") == 0, "recorded before the answer: %s", state ? state : "(none)");
    free(state);
    H_ASSERT(E, h_double_faults(E, "{}") == 200, "faults");
    h_worker_start(E);
    drained();
    state = record_field(REF, "state");
    H_ASSERT(E, state && strcmp(state, "deleted") == 0, "record state %s", state ? state : "(none)");
    H_ASSERT(E, calls_to(DELETE_KEY) == 1, "DELETE sent %lld times", calls_to(DELETE_KEY));
    H_ASSERT(E, calls_to(CREDIT_KEY) == 0, "credited after the crash");
    H_ASSERT(E, stat_of("processed") >= 2, "the cancel was not processed");
    assert_no_failures();
    free(state);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("changed_orders");
    TCase *t = h_tcase("cancel");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, cancel_before_sending_deletes_the_draft);
    tcase_add_test(t, cancel_after_sending_credits_once);
    suite_add_tcase(s, t);
    t = h_tcase("edit");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, edit_draft_original_deleted_new_invoiced);
    tcase_add_test(t, edit_sent_original_credited_new_invoiced);
    tcase_add_test(t, edit_without_the_cancel_event);
    suite_add_tcase(s, t);
    t = h_tcase("changed");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, lines_changed_are_reported);
    tcase_add_test(t, partial_cancel_is_reported);
    tcase_add_test(t, change_in_a_status_not_invoiced_is_reported);
    tcase_add_test(t, status_only_change_is_skipped);
    tcase_add_test(t, older_event_is_not_a_change);
    suite_add_tcase(s, t);
    t = h_tcase("delete_unknown");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, delete_answer_lost_is_settled_by_reading);
    tcase_add_test(t, worker_killed_inside_the_delete);
    suite_add_tcase(s, t);
    return h_run_suite(s);
}
