/* cli/reconcile_verdict.c: which of invoiced, changed after invoicing,
 * pending, failed, skipped and missing one order is, in what precedence,
 * what changed, and when a total differs. */
#include "cli/reconcile.h"

#include <check.h>
#include <string.h>

/* The verdict, its changes text copied into changes[] (test-sized). */
static char changes[1024];
static cli_verdict verdict(cli_order_facts f)
{
    cli_verdict v;
    cli_reconcile_verdict(&f, &v);
    snprintf(changes, sizeof changes, "%s", m2j_buf_str(&v.changes));
    cli_verdict_clear(&v);
    return v;
}

START_TEST(precedence)
{
    cli_verdict v = verdict((cli_order_facts){ .record_state = "done", .invoice_id = "inv-1",
                                               .dead_reason = "old", .pending = "in the queue" });
    ck_assert_int_eq(v.state, CLI_RECON_INVOICED); /* a later event of an invoiced order changes nothing */
    ck_assert_str_eq(v.detail, "inv-1");
    v = verdict((cli_order_facts){ .pending = "waiting for a retry", .dead_reason = "old one" });
    ck_assert_int_eq(v.state, CLI_RECON_PENDING); /* replayed or pushed again: the queue decides now */
    ck_assert_str_eq(v.detail, "waiting for a retry");
    v = verdict((cli_order_facts){ .dead_reason = "currency not supported: USD", .record_state = "cancelled" });
    ck_assert_int_eq(v.state, CLI_RECON_FAILED);
    ck_assert_str_eq(v.detail, "currency not supported: USD");
    v = verdict((cli_order_facts){ .record_state = "closed" });
    ck_assert_int_eq(v.state, CLI_RECON_SKIPPED);
    ck_assert_str_eq(v.detail, "order was closed before it was invoiced");
    v = verdict((cli_order_facts){ .skip_reason = "event type x is not handled" });
    ck_assert_int_eq(v.state, CLI_RECON_SKIPPED);
    /* a skip for a status the order has since left is no reason now */
    v = verdict((cli_order_facts){ .skip_reason = "status pending not in orders.statuses" });
    ck_assert_int_eq(v.state, CLI_RECON_MISSING);
    ck_assert_str_eq(v.detail, "its last event was skipped: status pending not in orders.statuses");
    /* an attempt whose outcome nobody will confirm: queuing an event settles it */
    v = verdict((cli_order_facts){ .record_state = "pending" });
    ck_assert_int_eq(v.state, CLI_RECON_MISSING);
    ck_assert_ptr_nonnull(strstr(v.detail, "never confirmed"));
    v = verdict((cli_order_facts){ 0 });
    ck_assert_int_eq(v.state, CLI_RECON_MISSING);
    ck_assert_str_eq(v.detail, "");
    ck_assert_str_eq(cli_recon_state_name(CLI_RECON_FAILED), "failed");
}
END_TEST

START_TEST(totals)
{
    cli_order_facts f = { .record_state = "done", .invoice_id = "i", .invoiced_total = "92.17", .has_total = true,
                          .magento_total = 921700 };
    cli_verdict v = verdict(f);
    ck_assert(!v.total_differs);
    ck_assert_int_eq(v.invoiced_total, 921700);
    f.magento_total = 921749; /* 92.1749 rounds to the cent invoiced */
    ck_assert(!verdict(f).total_differs);
    f.magento_total = 921800;
    ck_assert(verdict(f).total_differs);
    /* a record from before grand_total was kept, or no total known: not compared */
    f.invoiced_total = NULL;
    ck_assert(!verdict(f).total_differs);
    f.invoiced_total = "92.17";
    f.has_total = false;
    ck_assert(!verdict(f).total_differs);
}
END_TEST

/* What was invoiced: SKU-1 1 x 48.40, SKU-2 2 x 24.20, total 121.00. */
#define INVOICED_FP "{\"at\":\"2026-11-20 10:15:02\",\"canceled\":\"0.00\",\"lines\":[[\"401\",\"SKU-1\",\"1\"," \
                    "\"0\",\"48.40\"],[\"402\",\"SKU-2\",\"2\",\"0\",\"48.40\"]]}"

static void fp(const char *text, const char *total, m2j_order_fp *out)
{
    m2j_err e;
    ck_assert_int_eq(m2j_order_fp_parse(text, total, out, &e), M2J_OK);
}

START_TEST(changed_after_invoicing)
{
    m2j_order_fp same, less;
    fp(INVOICED_FP, "121.00", &same);
    fp("{\"canceled\":\"0.00\",\"lines\":[[\"401\",\"SKU-1\",\"1\",\"0\",\"48.40\"],"
       "[\"402\",\"SKU-2\",\"1\",\"0\",\"24.20\"]]}", "96.80", &less);
    cli_order_facts f = { .record_state = "done", .invoice_id = "inv-1", .invoiced_total = "121.00",
                          .fingerprint = INVOICED_FP, .now = &same, .has_total = true, .magento_total = 1210000 };
    cli_verdict v = verdict(f);
    ck_assert_int_eq(v.state, CLI_RECON_INVOICED);
    ck_assert_str_eq(changes, "");
    f.now = &less;
    f.magento_total = 968000;
    v = verdict(f);
    ck_assert_int_eq(v.state, CLI_RECON_CHANGED);
    ck_assert_str_eq(v.detail, "inv-1");
    ck_assert_str_eq(changes, "grand total 121.00 -> 96.80; line SKU-2 qty 2 -> 1, row total 48.40 -> 24.20");
    ck_assert(v.total_differs);
    ck_assert_str_eq(cli_recon_state_name(CLI_RECON_CHANGED), "changed");
    /* a record from before fingerprints: its total still tells */
    f.fingerprint = NULL;
    v = verdict(f);
    ck_assert_int_eq(v.state, CLI_RECON_CHANGED);
    ck_assert_str_eq(changes, "grand total 121.00 -> 96.80");
    /* credited in full: nothing of it is booked, nothing to compare */
    f.fingerprint = INVOICED_FP;
    f.credited_full = "cr-1";
    ck_assert_int_eq(verdict(f).state, CLI_RECON_INVOICED);
    /* the order in Magento could not be read: not compared */
    f.credited_full = NULL;
    f.now = NULL;
    ck_assert_int_eq(verdict(f).state, CLI_RECON_INVOICED);
    /* cancelled after invoicing, its draft deleted */
    v = verdict((cli_order_facts){ .record_state = "deleted", .invoice_id = "inv-9" });
    ck_assert_int_eq(v.state, CLI_RECON_SKIPPED);
    ck_assert_str_eq(v.detail, "cancelled after it was invoiced; its draft invoice inv-9 was deleted");
    m2j_order_fp_clear(&same);
    m2j_order_fp_clear(&less);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("reconcile_verdict");
    TCase *t = tcase_create("verdict");
    tcase_add_test(t, precedence);
    tcase_add_test(t, totals);
    tcase_add_test(t, changed_after_invoicing);
    suite_add_tcase(s, t);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
