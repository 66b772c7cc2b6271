/* test_jortt_faults.c: Jortt misbehaving. Transient failures (500, an HTML
 * 502 from the proxy, 429) end in exactly one invoice; a permanent refusal
 * (422) becomes a dead letter carrying Jortt's error key, and after the cause
 * is fixed `m2jortt replay` gets it invoiced exactly once; maintenance makes
 * events wait, not die. */
#include "harness.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Jortt refuses string fields over 1000 characters with 422 params.invalid.
 * A config mistake of this kind is what a permanent failure looks like: the
 * worker cannot know before Jortt says so. (A wrong ledger account would not
 * do: the worker checks those at start and refuses to run.) */
#define LONG_REMARKS_LEN 1100

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

static long long double_calls(const char *field)
{
    json_object *st = h_double_state(E), *calls, *v;
    long long n = -1;
    if (st && json_object_object_get_ex(st, "calls", &calls) && json_object_object_get_ex(calls, field, &v))
        n = json_object_get_int64(v);
    if (st) json_object_put(st);
    return n;
}

static bool pred_faulted(h_env *e, void *arg)
{
    (void)e; (void)arg;
    return double_calls("faulted") >= 2;
}

static void assert_invoiced_once(const char *ref, int total_invoices)
{
    h_invoices_arg one = { ref, 1 };
    H_WAIT(E, 30000, h_pred_invoices, &one, "%s never invoiced", ref);
    H_WAIT(E, 30000, h_pred_drained, NULL, "queue did not drain");
    json_object *st = h_double_state(E);
    H_ASSERT(E, h_state_invoices(st, ref) == 1, "%s: %d invoices", ref, h_state_invoices(st, ref));
    H_ASSERT(E, h_state_invoices(st, NULL) == total_invoices, "%d invoices in all, want %d",
             h_state_invoices(st, NULL), total_invoices);
    H_ASSERT(E, h_money_eq(h_invoice_total(h_state_invoice(st, ref)), H_ORDER_TOTAL), "%s: wrong total", ref);
    char why[256] = "";
    H_ASSERT(E, h_state_no_duplicates(st, why, sizeof why), "duplicates: %s", why);
    json_object_put(st);
}

static void transient(const char *name, const char *fault, long long want_faulted)
{
    E = h_env_up(name, NULL, 2);
    faults(fault);
    post_order("evt-transient-1", "400000001");
    assert_invoiced_once("400000001", 1);
    H_ASSERT(E, double_calls("faulted") == want_faulted, "the double injected %lld faults, want %lld",
             double_calls("faulted"), want_faulted);
    json_object *s = h_stats(E);
    H_ASSERT(E, h_stat(s, "failed") == 0, "a transient failure was dead-lettered: failed %lld", h_stat(s, "failed"));
    H_ASSERT(E, h_stat(s, "processed") == 1, "processed %lld", h_stat(s, "processed"));
    json_object_put(s);
}

START_TEST(three_500s_then_success)
{
    transient("f500", "{\"match\":\"POST /v3/invoices\",\"fail_next\":3,\"status\":500}", 3);
}
END_TEST

START_TEST(html_502_then_success)
{
    transient("f502", "{\"match\":\"POST /v3/invoices\",\"fail_next\":2,\"status\":502}", 2);
}
END_TEST

START_TEST(throttled_429_then_success)
{
    transient("f429", "{\"match\":\"POST /v3/invoices\",\"fail_next\":2,\"status\":429}", 2);
}
END_TEST

static json_object *failed_list(void)
{
    int st;
    json_object *f = h_cli_json(E, &st, "failed", "--json", NULL);
    H_ASSERT(E, st == 0 && f, "failed --json: exit %d, no JSON", st);
    return f;
}

START_TEST(permanent_422_dead_letter_then_replay)
{
    char ov[LONG_REMARKS_LEN + 100], remarks[LONG_REMARKS_LEN + 1];
    memset(remarks, 'x', LONG_REMARKS_LEN);
    remarks[LONG_REMARKS_LEN] = '\0';
    snprintf(ov, sizeof ov, "{\"orders\":{\"field_map\":{\"remarks\":\"Order %s\"}}}", remarks);
    E = h_env_up("perm", ov, 2);
    post_order("evt-perm-1", "400000101");
    post_order("evt-perm-2", "400000102");
    long long two = 2;
    H_WAIT(E, 30000, h_pred_dead, &two, "the refused orders never reached the dead letters");
    H_WAIT(E, 20000, h_pred_drained, NULL, "queue did not drain");
    H_ASSERT(E, h_count_invoices(E, NULL) == 0, "a refused order produced an invoice");

    json_object *f = failed_list();
    const char *txt = json_object_to_json_string(f);
    H_ASSERT(E, strstr(txt, "evt-perm-1") && strstr(txt, "evt-perm-2"), "dead letters missing: %s", txt);
    H_ASSERT(E, strstr(txt, "params.invalid") != NULL, "dead letter should carry Jortt's key params.invalid: %s", txt);
    H_ASSERT(E, strstr(txt, "422") != NULL, "dead letter should carry the HTTP status 422: %s", txt);
    json_object_put(f);

    char *show = NULL;
    int st = h_cli(E, &show, "show", "evt-perm-1", NULL);
    H_ASSERT(E, st == 0, "show evt-perm-1: exit %d", st);
    H_ASSERT(E, strstr(show, "400000101") && strstr(show, "params.invalid"), "show lacks ref or key: %s", show);
    free(show);

    /* Fix the cause (config) and restart the workers so they read it. */
    pid_t w[H_MAX_WORKERS];
    int n = h_pids(E, H_ROLE_WORKER, w, H_MAX_WORKERS);
    for (int i = 0; i < n; i++) h_stop_pid(E, w[i], SIGTERM, h_ms(10000));
    h_config_write(E, "{\"orders\":{\"field_map\":{\"remarks\":\"Magento order {increment_id}\"}}}");
    h_workers_start(E, 2);

    st = h_cli(E, NULL, "replay", "evt-perm-1", NULL);
    H_ASSERT(E, st == 0, "replay evt-perm-1: exit %d", st);
    assert_invoiced_once("400000101", 1);
    json_object *s = h_stats(E);
    H_ASSERT(E, h_stat(s, "failed") == 1, "one dead letter should remain: %lld", h_stat(s, "failed"));
    json_object_put(s);

    st = h_cli(E, NULL, "replay", "--all", "--yes", NULL);
    H_ASSERT(E, st == 0, "replay --all --yes: exit %d", st);
    assert_invoiced_once("400000102", 2);

    /* Replaying what is no longer dead is refused and changes nothing. */
    st = h_cli(E, NULL, "replay", "evt-perm-1", NULL);
    H_ASSERT(E, st != 0, "replay of an event that is not dead should fail");
    H_WAIT(E, 20000, h_pred_drained, NULL, "queue did not drain");
    H_ASSERT(E, h_count_invoices(E, "400000101") == 1, "re-replay made another invoice");

    s = h_stats(E);
    H_ASSERT(E, h_stat(s, "failed") == 0, "failed %lld", h_stat(s, "failed"));
    H_ASSERT(E, h_stat(s, "replayed") == 2, "replayed %lld, want 2", h_stat(s, "replayed"));
    json_object_put(s);
}
END_TEST

START_TEST(maintenance_waits_then_resumes)
{
    E = h_env_up("maint", NULL, 2);
    faults("{\"maintenance\":true}");
    post_order("evt-maint-1", "400000201");
    post_order("evt-maint-2", "400000202");
    post_order("evt-maint-3", "400000203");
    /* Wait until the workers have met the maintenance answer... */
    H_WAIT(E, 20000, pred_faulted, NULL, "workers never called the double");
    /* ...then keep Jortt down for a while: the scenario's duration, during
     * which nothing may be created and nothing may be given up on. */
    struct timespec d = { 4, 0 };
    nanosleep(&d, NULL);
    H_ASSERT(E, h_count_invoices(E, NULL) == 0, "invoices created during maintenance");
    json_object *s = h_stats(E);
    H_ASSERT(E, h_stat(s, "failed") == 0, "maintenance dead-lettered events: failed %lld", h_stat(s, "failed"));
    json_object_put(s);
    long long during = double_calls("total");
    /* A breaker keeps calls modest: 3 events over ~4 s with a 1-2 s back-off
     * would be ~10 calls; a busy loop would be hundreds. */
    H_ASSERT(E, during < 60, "%lld calls to Jortt during maintenance: no back-off?", during);

    faults("{}");
    h_invoices_arg three = { NULL, 3 };
    H_WAIT(E, 40000, h_pred_invoices, &three, "work did not resume after maintenance");
    assert_invoiced_once("400000201", 3);
    json_object *st = h_double_state(E);
    H_ASSERT(E, h_state_invoices(st, "400000202") == 1 && h_state_invoices(st, "400000203") == 1,
             "each order once");
    json_object_put(st);
    s = h_stats(E);
    H_ASSERT(E, h_stat(s, "failed") == 0, "failed %lld", h_stat(s, "failed"));
    H_ASSERT(E, h_stat(s, "processed") == 3, "processed %lld", h_stat(s, "processed"));
    json_object_put(s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("jortt_faults");
    TCase *tc = h_tcase("jortt_faults");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, three_500s_then_success);
    tcase_add_test(tc, html_502_then_success);
    tcase_add_test(tc, throttled_429_then_success);
    tcase_add_test(tc, permanent_422_dead_letter_then_replay);
    tcase_add_test(tc, maintenance_waits_then_resumes);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
