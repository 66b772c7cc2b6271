/* test_fault_crash.c: the fault suite, workers killed with SIGKILL at chosen
 * moments of the exactly-once protocol while many orders flow, each moment
 * reached on purpose with the double's latency (a worker is provably inside
 * that call when it dies):
 *  - before the invoice POST (inside the customer create),
 *  - after Jortt applied the invoice POST but before the worker recorded it,
 *  - the reply to an applied POST lost on the wire (no kill: adopt, not
 *    POST again),
 *  - while holding a customer lock (the dead worker's lock expires, the
 *    customer it created is adopted, not created twice);
 *  - no crash, but a job held past the visibility timeout and taken over
 *    by a second worker mid-POST.
 * Every test ends with the common audit (fault_util.h). */
#include "fault_util.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static h_env *E;
static f_mix *M;

static void setup(void) { E = NULL; M = NULL; }
static void teardown(void)
{
    h_env_free(E);
    f_mix_free(M);
    E = NULL;
    M = NULL;
}

static void pause_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

typedef struct {
    const char *key;   /* by_endpoint key */
    long long   above; /* wait for more calls than this */
} calls_arg;

static bool pred_calls_above(h_env *e, void *arg)
{
    calls_arg *a = arg;
    if (f_calls_to(e, a->key) > a->above) return true;
    pause_ms(20);
    return false;
}

/* Kills every running worker with SIGKILL and starts n fresh ones. */
static void kill_all_restart(int n)
{
    pid_t w[H_MAX_WORKERS];
    int k = f_workers(E, w);
    H_ASSERT(E, k > 0, "no worker running to kill");
    for (int i = 0; i < k; i++) h_stop_pid(E, w[i], SIGKILL, h_ms(2000));
    h_workers_start(E, n);
}

/* `rounds` times: wait until a call to `key` has arrived (the double holds
 * its reply for the fault's latency, so its worker is inside that call), let
 * the double apply it, then kill the whole fleet and start a new one. */
static int kill_inside(const char *key, int rounds, int workers, long settle_ms)
{
    int kills = 0;
    for (int r = 0; r < rounds; r++) {
        calls_arg a = { key, f_calls_to(E, key) };
        if (!h_wait_until(E, 15000, pred_calls_above, &a)) break; /* nothing left to do */
        pause_ms(settle_ms);
        kill_all_restart(workers);
        kills++;
    }
    return kills;
}

static const f_spec SPEC = { .orders = 80, .dups = 12, .pending = 6, .foreign = 3, .rejects = 0,
                             .customer_events = 10, .customers = 24 };

START_TEST(killed_before_invoice_post)
{
    E = f_env_up("fc-before", NULL, 0, 3);
    M = f_mix_new("cbefore", 610000000, &SPEC, 41);
    /* Once the customer index is warm, the one Jortt call a new buyer's
     * order makes before its invoice POST is the customer create. Waiting
     * for the warm-up first matters: before it, new buyers are searched
     * instead, and whether the warm-up ran before or after the fault was
     * set would decide which call the kills land in. The double applies
     * each create and holds its answer 0.8 s, so a worker killed inside it
     * dies with the customer made in Jortt, unrecorded by us, and its
     * order's invoice not yet sent. The next delivery must adopt that
     * customer (search by e-mail), never create it again. */
    H_WAIT(E, 20000, f_pred_warm, NULL, "no worker warmed the customer index");
    long long listing = f_calls_to(E, "GET /v3/customers"); /* the warm-up's pages */
    f_faults(E, "{\"match\":\"POST /v3/customers\",\"latency_ms\":800}");
    f_post_all(E, M);
    int kills = kill_inside("POST /v3/customers", 5, 3, 50);
    H_ASSERT(E, kills >= 3, "only %d kill rounds happened inside a customer create", kills);
    f_faults(E, "{}");
    f_audit(E, M, NULL);
    /* Each killed create left a customer whose outcome the fleet never
     * learnt; those are searched for, not created again (the audit checks
     * every customer exists once). */
    H_ASSERT(E, f_calls_to(E, "GET /v3/customers") > listing,
             "no search by e-mail after %d kills inside customer creates", kills);
}
END_TEST

START_TEST(killed_after_post_applied_before_recorded)
{
    E = f_env_up("fc-after", NULL, 0, 3);
    M = f_mix_new("cafter", 620000000, &SPEC, 42);
    /* The double creates the invoice at once and holds the reply 1.5 s. */
    f_faults(E, "{\"match\":\"POST /v3/invoices\",\"latency_ms\":1500}");
    f_post_all(E, M);
    int kills = kill_inside("POST /v3/invoices", 5, 3, 150);
    H_ASSERT(E, kills >= 3, "only %d kill rounds happened inside an invoice POST", kills);
    /* The kills really left applied-but-unrecorded invoices behind. */
    H_ASSERT(E, h_count_invoices(E, NULL) >= kills, "%d invoices after %d kills inside applied POSTs",
             h_count_invoices(E, NULL), kills);
    f_faults(E, "{}");
    f_audit(E, M, NULL);
}
END_TEST

START_TEST(reply_lost_after_apply_is_adopted)
{
    E = f_env_up("fc-drop", NULL, 0, 3);
    M = f_mix_new("cdrop", 630000000, &SPEC, 43);
    /* Customer and invoice POSTs applied, then the connection cut before a
     * byte of the answer: the worker cannot know, and must find out. First
     * the customer POSTs (new buyers in the first half), then the invoices.
     * (Each match names its path: a bare "POST" would also cut the token
     * endpoint's answers.) */
    f_faults(E, "{\"match\":\"POST /v3/customers\",\"drop_after_apply\":8}");
    f_post_range(E, M, 0, M->n / 2, 100, 30000);
    long long half = (long long)(M->n / 2);
    H_WAIT(E, 60000, f_pred_outcomes, &half, "the first half did not reach its outcomes");
    long long dropped_customers = f_calls(E, "dropped");
    H_ASSERT(E, dropped_customers >= 4, "only %lld customer POST answers dropped", dropped_customers);
    f_faults(E, "{\"match\":\"POST /v3/invoices\",\"drop_after_apply\":12}");
    f_post_range(E, M, M->n / 2, M->n, 100, 30000);
    f_audit(E, M, NULL);
    H_ASSERT(E, f_calls(E, "dropped") == dropped_customers + 12, "the double dropped %lld invoice replies, want 12",
             f_calls(E, "dropped") - dropped_customers);
}
END_TEST

START_TEST(killed_holding_a_lock)
{
    /* Short lock expiry so the dead worker's lock frees up within the test. */
    E = f_env_up("fc-lock", "{\"worker\":{\"lock_ttl_seconds\":4}}", 0, 1);
    M = f_mix_new("clock", 640000000, &SPEC, 44);
    /* The first order of buyer 0 alone; its customer POST is applied by the
     * double, whose answer never comes. */
    const f_ev *first = NULL;
    for (size_t i = 0; i < M->n && !first; i++)
        if (M->ev[i].kind == F_ORDER && M->ev[i].cust == 0) first = &M->ev[i];
    f_faults(E, "{\"match\":\"POST /v3/customers\",\"latency_ms\":60000}");
    H_ASSERT(E, f_post_one(E, M, first) == 202, "post %s", first->id);
    calls_arg a = { "POST /v3/customers", 0 };
    H_WAIT(E, 20000, pred_calls_above, &a, "the customer POST never reached the double");
    long locks = f_redis_keys(E, "lock:*");
    H_ASSERT(E, locks >= 1, "the worker inside the customer POST holds no lock (%ld lock keys)", locks);
    pid_t w[H_MAX_WORKERS];
    H_ASSERT(E, f_workers(E, w) == 1, "want one worker");
    h_stop_pid(E, w[0], SIGKILL, h_ms(2000));
    H_ASSERT(E, f_redis_keys(E, "lock:*") >= 1, "the dead worker's lock vanished at once");
    f_faults(E, "{}");

    /* The fleet goes on with everything else, including more orders of
     * the same buyer, while the dead worker's lock is still held. */
    h_workers_start(E, 3);
    f_post_all(E, M); /* `first` again: a duplicate delivery, not counted */
    f_audit(E, M, NULL);
    H_ASSERT(E, f_redis_keys(E, "lock:*") == 0, "locks left behind after the queue drained: %ld",
             f_redis_keys(E, "lock:*"));
    json_object *s = h_stats(E);
    H_ASSERT(E, h_stat(s, "duplicates") == 1, "the re-sent first event: duplicates %lld, want 1",
             h_stat(s, "duplicates"));
    json_object_put(s);
}
END_TEST

START_TEST(taken_over_mid_post_still_counts_as_processed)
{
    /* A job held longer than the visibility timeout (a slow Jortt). The
     * heartbeat keeps its claim, so no second worker starts it
     * (test_worker_lease checks that directly); were it taken over, Jortt
     * must still get one invoice per order, and the event that made it
     * must end up recorded as processed, not as "skipped: already
     * invoiced" by its own redelivery. */
    E = f_env_up("fc-takeover", "{\"worker\":{\"visibility_timeout_seconds\":1}}", 0, 2);
    f_spec sp = { .orders = 6, .dups = 1, .pending = 1, .foreign = 0, .rejects = 0,
                  .customer_events = 1, .customers = 3 };
    M = f_mix_new("ctake", 650000000, &sp, 45);
    f_faults(E, "{\"match\":\"POST /v3/invoices\",\"latency_ms\":2500}");
    f_post_all(E, M);
    calls_arg a = { "POST /v3/invoices", 0 };
    H_WAIT(E, 20000, pred_calls_above, &a, "no invoice POST reached the double");
    f_audit(E, M, &(f_audit_opts){ .strict_processed = true, .drain_ms = 90000 });
}
END_TEST

int main(void)
{
    Suite *s = suite_create("fault_crash");
    TCase *tc = h_tcase("fault_crash");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, killed_before_invoice_post);
    tcase_add_test(tc, killed_after_post_applied_before_recorded);
    tcase_add_test(tc, reply_lost_after_apply_is_adopted);
    tcase_add_test(tc, killed_holding_a_lock);
    tcase_add_test(tc, taken_over_mid_post_still_counts_as_processed);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
