/* test_worker_crash.c: workers die at chosen points of the exactly-once
 * protocol. Each crash point is reached on purpose with the double's faults
 * (a slow reply holds the worker inside a call) rather than by a random kill:
 *  - after Jortt applied the POST but before the worker recorded the id,
 *  - while a POST that Jortt will NOT apply is in flight,
 *  - while the customer POST is in flight (customer created, not recorded),
 *  - the connection dropped after the POST was applied (no crash: the worker
 *    sees a transport error and must adopt, not POST again),
 *  - SIGTERM with work in flight (graceful drain).
 * In every case: exactly one invoice and one customer. */
#include "harness.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#define ORDER_EMAIL   H_ORDER_EMAIL

static h_env *E;

static void setup(void) { E = NULL; }
static void teardown(void) { h_env_free(E); E = NULL; }

static void post_order(const char *id, const char *ref)
{
    h_post_event(E, H_ORDER_FIXTURE, id, ref, NULL);
}

static void faults(const char *json)
{
    H_ASSERT(E, h_double_faults(E, json) == 200, "double refused faults %s", json);
}

/* calls.by_endpoint[key] from the double's state. */
static long long calls_to(const char *key)
{
    json_object *st = h_double_state(E), *calls, *by, *v;
    long long n = 0;
    if (st && json_object_object_get_ex(st, "calls", &calls) &&
        json_object_object_get_ex(calls, "by_endpoint", &by) && json_object_object_get_ex(by, key, &v))
        n = json_object_get_int64(v);
    if (st) json_object_put(st);
    return n;
}

static bool pred_invoice_post_arrived(h_env *e, void *arg) { (void)e; (void)arg; return calls_to("POST /v3/invoices") >= 1; }
static bool pred_customers(h_env *e, void *arg)
{
    json_object *st = h_double_state(e);
    int n = st ? h_state_customers(st, NULL) : -1;
    if (st) json_object_put(st);
    return n == *(int *)arg;
}

static pid_t only_worker(void)
{
    pid_t w[H_MAX_WORKERS];
    int n = h_pids(E, H_ROLE_WORKER, w, H_MAX_WORKERS);
    H_ASSERT(E, n == 1, "want one running worker, have %d", n);
    return w[0];
}

/* The end state every test wants: each ref invoiced once with the right
 * total, one customer, nothing failed, nothing left in the queue. */
static void assert_exactly_once(const char *const *refs, int n)
{
    h_invoices_arg all = { NULL, n };
    H_WAIT(E, 30000, h_pred_invoices, &all, "want %d invoices", n);
    H_WAIT(E, 30000, h_pred_drained, NULL, "queue did not drain");
    json_object *st = h_double_state(E);
    for (int i = 0; i < n; i++) {
        H_ASSERT(E, h_state_invoices(st, refs[i]) == 1, "%s: %d invoices", refs[i], h_state_invoices(st, refs[i]));
        H_ASSERT(E, h_money_eq(h_invoice_total(h_state_invoice(st, refs[i])), H_ORDER_TOTAL), "%s: wrong total", refs[i]);
    }
    H_ASSERT(E, h_state_invoices(st, NULL) == n, "%d invoices in all, want %d", h_state_invoices(st, NULL), n);
    H_ASSERT(E, h_state_customers(st, ORDER_EMAIL) == 1, "%d customers for the buyer, want 1",
             h_state_customers(st, ORDER_EMAIL));
    char why[256] = "";
    H_ASSERT(E, h_state_no_duplicates(st, why, sizeof why), "duplicates: %s", why);
    json_object_put(st);
    json_object *s = h_stats(E);
    H_ASSERT(E, h_stat(s, "failed") == 0, "failed %lld", h_stat(s, "failed"));
    H_ASSERT(E, h_stat(s, "processed") == n, "processed %lld, want %d", h_stat(s, "processed"), n);
    json_object_put(s);
}

START_TEST(killed_after_invoice_applied_before_recorded)
{
    E = h_env_up("crash-applied", NULL, 1);
    /* The double creates the invoice, then holds the reply. */
    faults("{\"match\":\"POST /v3/invoices\",\"latency_ms\":60000}");
    post_order("evt-crash-1", "300000001");
    h_invoices_arg one = { "300000001", 1 };
    H_WAIT(E, 20000, h_pred_invoices, &one, "the invoice POST never reached the double");
    h_stop_pid(E, only_worker(), SIGKILL, 1000);
    faults("{}");
    h_worker_start(E);
    const char *refs[] = { "300000001" };
    assert_exactly_once(refs, 1);
}
END_TEST

START_TEST(killed_while_unapplied_post_in_flight)
{
    E = h_env_up("crash-unapplied", NULL, 1);
    /* The double will answer 500 (nothing created), but only much later. */
    faults("{\"match\":\"POST /v3/invoices\",\"fail_next\":1,\"status\":500,\"latency_ms\":60000}");
    post_order("evt-crash-2", "300000002");
    H_WAIT(E, 20000, pred_invoice_post_arrived, NULL, "the invoice POST never reached the double");
    H_ASSERT(E, h_count_invoices(E, NULL) == 0, "nothing should be created yet");
    h_stop_pid(E, only_worker(), SIGKILL, 1000);
    faults("{}");
    h_worker_start(E);
    const char *refs[] = { "300000002" };
    assert_exactly_once(refs, 1);
}
END_TEST

START_TEST(killed_during_customer_creation)
{
    E = h_env_up("crash-customer", NULL, 1);
    faults("{\"match\":\"POST /v3/customers\",\"latency_ms\":60000}");
    post_order("evt-crash-3", "300000003");
    int one = 1;
    H_WAIT(E, 20000, pred_customers, &one, "the customer POST never reached the double");
    h_stop_pid(E, only_worker(), SIGKILL, 1000);
    faults("{}");
    h_worker_start(E);
    const char *refs[] = { "300000003" };
    assert_exactly_once(refs, 1);
}
END_TEST

START_TEST(connection_dropped_after_apply_is_adopted)
{
    E = h_env_up("drop", NULL, 2);
    /* Both the customer and the invoice POST are applied, then the
     * connection is cut before the answer. */
    faults("{\"match\":\"POST\",\"drop_after_apply\":2}");
    post_order("evt-drop-1", "300000004");
    const char *refs[] = { "300000004" };
    assert_exactly_once(refs, 1);
    json_object *st = h_double_state(E), *calls, *dropped;
    H_ASSERT(E, json_object_object_get_ex(st, "calls", &calls) &&
             json_object_object_get_ex(calls, "dropped", &dropped) && json_object_get_int64(dropped) == 2,
             "the double should have dropped two answers: %s", json_object_to_json_string(st));
    json_object_put(st);

    /* A second order of the same buyer after the drops: reuses the customer. */
    post_order("evt-drop-2", "300000005");
    const char *both[] = { "300000004", "300000005" };
    assert_exactly_once(both, 2);
}
END_TEST

START_TEST(sigterm_with_work_in_flight)
{
    E = h_env_up("sigterm", NULL, 2);
    faults("{\"match\":\"POST /v3/invoices\",\"latency_ms\":400}");
    static const char *const refs[] = { "300000010", "300000011", "300000012", "300000013", "300000014", "300000015" };
    for (int i = 0; i < 6; i++) {
        char id[64];
        snprintf(id, sizeof id, "evt-term-%d", i);
        post_order(id, refs[i]);
    }
    H_WAIT(E, 20000, pred_invoice_post_arrived, NULL, "no invoice POST started");
    pid_t w[H_MAX_WORKERS];
    int n = h_pids(E, H_ROLE_WORKER, w, H_MAX_WORKERS);
    for (int i = 0; i < n; i++) {
        int status = h_stop_pid(E, w[i], SIGTERM, h_ms(10000));
        H_ASSERT(E, WIFEXITED(status) && WEXITSTATUS(status) == 0,
                 "worker %d did not exit cleanly on SIGTERM (status %d)", (int)w[i], status);
    }
    faults("{}");
    h_workers_start(E, 2);
    assert_exactly_once((const char *const *)refs, 6);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("worker_crash");
    TCase *tc = h_tcase("worker_crash");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, killed_after_invoice_applied_before_recorded);
    tcase_add_test(tc, killed_while_unapplied_post_in_flight);
    tcase_add_test(tc, killed_during_customer_creation);
    tcase_add_test(tc, connection_dropped_after_apply_is_adopted);
    tcase_add_test(tc, sigterm_with_work_in_flight);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
