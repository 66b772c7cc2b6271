/* test_redis_outage.c: Redis goes away and comes back on the same port.
 * The receiver must answer 503 with Retry-After (never a 4xx, which Adobe
 * would drop for good), report not-ready, recover by itself, and everything
 * it ever accepted must end up invoiced exactly once. */
#include "harness.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static h_env *E;

static void setup(void) { E = NULL; }
static void teardown(void) { h_env_free(E); E = NULL; }

static long post_order(int i, h_resp *r)
{
    char id[64], ref[32];
    snprintf(id, sizeof id, "evt-outage-%d", i);
    snprintf(ref, sizeof ref, "2000%05d", i);
    char *body = h_event(H_ORDER_FIXTURE, id, ref, NULL);
    long st = h_post_signed(E, id, body, r);
    free(body);
    return st;
}

static long get_status(const char *path)
{
    char url[256];
    snprintf(url, sizeof url, "%s%s", E->receiver_url, path);
    h_resp r;
    h_http("GET", url, NULL, NULL, 0, &r);
    long st = r.status;
    h_resp_clear(&r);
    return st;
}

static bool pred_readyz_503(h_env *e, void *arg) { (void)e; (void)arg; return get_status("/readyz") == 503; }
static bool pred_readyz_200(h_env *e, void *arg) { (void)e; (void)arg; return get_status("/readyz") == 200; }

/* Posts order i until it is accepted, as Adobe's retries would. Fails the
 * test on any 4xx. */
static bool pred_accepted(h_env *e, void *arg)
{
    int i = *(int *)arg;
    h_resp r;
    long st = post_order(i, &r);
    H_ASSERT(e, st < 400 || st >= 500, "order %d answered %ld during recovery (must be 2xx or 5xx): %s", i, st, r.body);
    h_resp_clear(&r);
    return st == 202 || st == 200;
}

static void assert_each_invoiced_once(int n)
{
    h_invoices_arg all = { NULL, n };
    H_WAIT(E, 30000, h_pred_invoices, &all, "want %d invoices", n);
    H_WAIT(E, 20000, h_pred_drained, NULL, "queue did not drain");
    json_object *st = h_double_state(E);
    for (int i = 0; i < n; i++) {
        char ref[32];
        snprintf(ref, sizeof ref, "2000%05d", i);
        H_ASSERT(E, h_state_invoices(st, ref) == 1, "order %s: %d invoices", ref, h_state_invoices(st, ref));
        H_ASSERT(E, h_money_eq(h_invoice_total(h_state_invoice(st, ref)), H_ORDER_TOTAL), "order %s: wrong total", ref);
    }
    char why[256] = "";
    H_ASSERT(E, h_state_no_duplicates(st, why, sizeof why), "duplicates: %s", why);
    json_object_put(st);
    json_object *s = h_stats(E);
    H_ASSERT(E, h_stat(s, "failed") == 0, "failed %lld", h_stat(s, "failed"));
    json_object_put(s);
}

START_TEST(outage_answers_503_and_recovers)
{
    E = h_env_up("outage", NULL, 2);
    h_resp r;
    for (int i = 0; i < 3; i++) {
        long st = post_order(i, &r);
        H_ASSERT(E, st == 202, "before the outage: want 202, got %ld %s", st, r.body);
        h_resp_clear(&r);
    }
    h_invoices_arg three = { NULL, 3 };
    H_WAIT(E, 20000, h_pred_invoices, &three, "orders before the outage not invoiced");

    h_redis_stop(E);
    for (int i = 3; i < 6; i++) {
        long st = post_order(i, &r);
        H_ASSERT(E, st == 503, "Redis down: want 503, got %ld %s", st, r.body);
        H_ASSERT(E, r.retry_after != NULL && atoi(r.retry_after) > 0,
                 "503 without a usable Retry-After (%s)", r.retry_after ? r.retry_after : "none");
        h_resp_clear(&r);
    }
    H_WAIT(E, 5000, pred_readyz_503, NULL, "/readyz should be 503 while Redis is down");
    H_ASSERT(E, get_status("/healthz") == 200, "/healthz is liveness: it should stay 200");

    h_redis_start(E);
    H_WAIT(E, 15000, pred_readyz_200, NULL, "/readyz did not recover after Redis came back");
    for (int i = 3; i < 8; i++) {
        H_WAIT(E, 15000, pred_accepted, &i, "order %d never accepted after Redis came back", i);
    }
    assert_each_invoiced_once(8);
}
END_TEST

/* Redis goes away exactly when a worker has to record an outcome: Jortt has
 * applied the invoice POST (the double holds the answer back), Redis is
 * stopped, the answer arrives, and the worker cannot write down the invoice
 * id. After Redis returns, the order must still end with one invoice: either
 * the worker records it late, or the event is delivered again and the
 * pending intent makes the next attempt adopt instead of POSTing. */
static bool pred_invoice_applied(h_env *e, void *arg)
{
    (void)arg;
    return h_count_invoices(e, "200000000") == 1;
}

START_TEST(redis_down_while_recording_outcome)
{
    E = h_env_up("outage-record", NULL, 2);
    H_ASSERT(E, h_double_faults(E, "{\"match\":\"POST /v3/invoices\",\"latency_ms\":1500}") == 200,
             "double refused the fault");
    h_resp r;
    long st = post_order(0, &r);
    H_ASSERT(E, st == 202, "want 202, got %ld", st);
    h_resp_clear(&r);
    H_WAIT(E, 20000, pred_invoice_applied, NULL, "the invoice POST never reached the double");
    h_redis_stop(E);
    /* The held answer arrives while Redis is away. */
    struct timespec d = { 2, 500 * 1000000L };
    nanosleep(&d, NULL);
    H_ASSERT(E, h_double_faults(E, "{}") == 200, "double refused to clear faults");
    h_redis_start(E);
    for (int i = 1; i < 3; i++)
        H_WAIT(E, 15000, pred_accepted, &i, "order %d never accepted after Redis came back", i);
    assert_each_invoiced_once(3);
}
END_TEST

/* A hung Redis (SIGSTOP: the socket accepts, nothing answers) must not hang
 * the sender: I/O Events gives up after 10 s, so the receiver must answer
 * 503 before that. The stalled write may still be applied when Redis
 * resumes; the sender's retry is then a duplicate, and the order is still
 * invoiced exactly once. */
START_TEST(hung_redis_answers_503_before_sender_timeout)
{
    E = h_env_up("outage-hung", NULL, 2);
    h_resp r;
    long st = post_order(0, &r);
    H_ASSERT(E, st == 202, "before: want 202, got %ld", st);
    h_resp_clear(&r);
    h_invoices_arg one = { NULL, 1 };
    H_WAIT(E, 20000, h_pred_invoices, &one, "order 0 not invoiced");

    pid_t rp;
    H_ASSERT(E, h_pids(E, H_ROLE_REDIS, &rp, 1) == 1, "redis not running");
    kill(rp, SIGSTOP);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    st = post_order(1, &r);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    kill(rp, SIGCONT);
    H_ASSERT(E, st == 503, "hung Redis: want 503, got %ld %s", st, r.body);
    H_ASSERT(E, ms < h_ms(9000), "hung Redis: the answer took %ld ms (I/O Events waits 10 s)", ms);
    H_ASSERT(E, r.retry_after != NULL, "503 without Retry-After");
    h_resp_clear(&r);

    H_WAIT(E, 20000, pred_readyz_200, NULL, "/readyz did not recover after Redis resumed");
    for (int i = 1; i < 3; i++)
        H_WAIT(E, 15000, pred_accepted, &i, "order %d never accepted after Redis resumed", i);
    assert_each_invoiced_once(3);
}
END_TEST

/* A separate process posts orders continuously, retrying 5xx like Adobe;
 * meanwhile Redis is killed (SIGKILL: no chance to flush anything beyond
 * what appendfsync always already wrote) and restarted. */
#define LOAD_N 20

static int poster(void)
{
    for (int i = 0; i < LOAD_N; i++) {
        struct timespec until, now;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += h_ms(30000) / 1000;
        for (;;) {
            h_resp r;
            long st = post_order(i, &r);
            h_resp_clear(&r);
            if (st == 202 || st == 200) break;
            if (st >= 400 && st < 500) {
                fprintf(stderr, "poster: order %d got %ld\n", i, st);
                return 2;
            }
            clock_gettime(CLOCK_MONOTONIC, &now);
            if (now.tv_sec > until.tv_sec) {
                fprintf(stderr, "poster: order %d never accepted (last %ld)\n", i, st);
                return 3;
            }
            struct timespec d = { 0, 50 * 1000000L };
            nanosleep(&d, NULL);
        }
        struct timespec d = { 0, 30 * 1000000L };
        nanosleep(&d, NULL);
    }
    return 0;
}

START_TEST(redis_killed_under_load_loses_nothing)
{
    E = h_env_up("outage-load", NULL, 2);
    fflush(NULL);
    pid_t child = fork();
    ck_assert_int_ge(child, 0);
    if (child == 0) _exit(poster()); /* _exit: the env belongs to the parent */

    h_invoices_arg some = { NULL, 3 };
    /* let a few through first so the kill lands mid-stream */
    bool started = h_wait_until(E, 20000, h_pred_invoices, &some);
    pid_t rp;
    H_ASSERT(E, h_pids(E, H_ROLE_REDIS, &rp, 1) == 1, "redis not running");
    h_stop_pid(E, rp, SIGKILL, 1000);
    struct timespec d = { 0, 700 * 1000000L }; /* the outage itself, not a wait for a condition */
    nanosleep(&d, NULL);
    h_redis_start(E);

    int st = 0;
    waitpid(child, &st, 0);
    H_ASSERT(E, started, "no invoices before the kill");
    H_ASSERT(E, WIFEXITED(st) && WEXITSTATUS(st) == 0, "poster failed (status %d)", st);
    assert_each_invoiced_once(LOAD_N);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("redis_outage");
    TCase *tc = h_tcase("redis_outage");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, outage_answers_503_and_recovers);
    tcase_add_test(tc, redis_killed_under_load_loses_nothing);
    tcase_add_test(tc, redis_down_while_recording_outcome);
    tcase_add_test(tc, hung_redis_answers_503_before_sender_timeout);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
