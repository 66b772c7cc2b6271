/* test_worker_lease.c: locks and the queue claim stay alive exactly as long
 * as their holder works, and a holder that lost its lock never sends
 * (issue 10, "A lock can lapse during the Jortt call"):
 *  - a worker stopped with SIGSTOP between its intent record and its
 *    invoice POST, for longer than the lock TTL and the visibility timeout,
 *    while a second worker takes the order over and invoices it: resumed,
 *    the first worker does not send its POST (one invoice);
 *  - a Jortt call slower than the lock TTL and the visibility timeout, two
 *    workers running: the second never starts the same event (one POST, no
 *    search, one outcome line for the event);
 *  - the OAuth token lock outlasts a slow token fetch: two workers starting
 *    together make one token request.
 * Each waits on conditions with deadlines; nothing asserts a duration. */
#include "fault_util.h"

#include <hiredis/hiredis.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static h_env *E;

static void setup(void) { E = NULL; }
static void teardown(void)
{
    h_env_free(E);
    E = NULL;
}

static void pause_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/* ---- predicates ---- */

typedef struct {
    const char *key;    /* full Redis key of an order record */
    const char *state;  /* wanted value of its "state" field */
} state_arg;

static bool pred_state(h_env *e, void *arg)
{
    state_arg *a = arg;
    redisReply *r = h_redis_cmd(e, "HGET %s state", a->key);
    bool ok = r && r->type == REDIS_REPLY_STRING && strcmp(r->str, a->state) == 0;
    if (r) freeReplyObject(r);
    if (!ok) pause_ms(20);
    return ok;
}

typedef struct {
    const char *key;
    long long   exists;  /* wanted EXISTS reply: 1 present, 0 gone */
} exists_arg;

static bool pred_exists(h_env *e, void *arg)
{
    exists_arg *a = arg;
    if (f_redis_int(e, "EXISTS %s", a->key) == a->exists) return true;
    pause_ms(50);
    return false;
}

static bool pred_processed(h_env *e, void *arg)
{
    json_object *s = h_stats(e);
    bool ok = s && h_stat(s, "processed") >= *(long long *)arg;
    json_object_put(s);
    if (!ok) pause_ms(50);
    return ok;
}

/* Lines of TMP/<log> that contain both needles. */
static int log_lines(h_env *e, const char *log, const char *a, const char *b)
{
    char path[400];
    snprintf(path, sizeof path, "%s/%s.log", e->dir, log);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    char line[8192];
    int n = 0;
    while (fgets(line, sizeof line, f))
        if (strstr(line, a) && (!b || strstr(line, b))) n++;
    fclose(f);
    return n;
}

typedef struct {
    const char *log;
    const char *event;  /* "event_id=<id>" */
} job_line_arg;

/* The worker logged its outcome line for the event. */
static bool pred_job_logged(h_env *e, void *arg)
{
    job_line_arg *a = arg;
    if (log_lines(e, a->log, "msg=job", a->event) > 0) return true;
    pause_ms(50);
    return false;
}

static bool pred_ledger_calls(h_env *e, void *arg)
{
    if (f_calls_to(e, "GET /ledger_accounts/invoices") >= *(long long *)arg) return true;
    pause_ms(50);
    return false;
}

/* ---- tests ---- */

START_TEST(stopped_before_post_does_not_post_on_resume)
{
    E = f_env_up("wl-stop", "{\"worker\":{\"lock_ttl_seconds\":3,\"visibility_timeout_seconds\":3}}", 0, 1);
    /* A first order of the buyer, so the test order's customer is cached
     * and costs no Jortt call before its invoice POST. */
    h_post_event(E, H_ORDER_FIXTURE, "wl-stop-warm", "660000001", "processing");
    long long one = 1;
    H_WAIT(E, 30000, pred_processed, &one, "the first order was not processed");
    H_ASSERT(E, h_count_invoices(E, "660000001") == 1, "first order not invoiced once");

    /* The fleet's rate limiter paused (as after a 429): the worker writes
     * its intent and then waits for a call slot, its POST not yet sent. */
    redisReply *r = h_redis_cmd(E, "SET %s:rl:pause 1 PX 30000", E->prefix);
    H_ASSERT(E, r, "redis");
    freeReplyObject(r);
    h_post_event(E, H_ORDER_FIXTURE, "wl-stop-ev", "660000002", "processing");
    char okey[96], lkey[96];
    snprintf(okey, sizeof okey, "%s:order:660000002", E->prefix);
    snprintf(lkey, sizeof lkey, "%s:lock:order:660000002", E->prefix);
    state_arg pa = { okey, "pending" };
    H_WAIT(E, 20000, pred_state, &pa, "the worker never wrote its intent");
    pid_t w[H_MAX_WORKERS];
    H_ASSERT(E, f_workers(E, w) == 1, "want one worker");
    pid_t stopped = w[0];
    H_ASSERT(E, kill(stopped, SIGSTOP) == 0, "SIGSTOP");
    r = h_redis_cmd(E, "DEL %s:rl:pause", E->prefix);
    if (r) freeReplyObject(r);

    /* Stopped past its lock and its claim: a second worker takes the
     * order over (finds the intent, searches, finds nothing, posts). */
    exists_arg gone = { lkey, 0 };
    H_WAIT(E, 20000, pred_exists, &gone, "the stopped worker's lock never expired");
    h_worker_start(E);
    long long two = 2;
    H_WAIT(E, 30000, pred_processed, &two, "the second worker did not take the order over");
    H_ASSERT(E, h_count_invoices(E, "660000002") == 1, "takeover: %d invoices", h_count_invoices(E, "660000002"));

    /* Resumed, the first worker must find its lock gone before sending. */
    H_ASSERT(E, kill(stopped, SIGCONT) == 0, "SIGCONT");
    job_line_arg ja = { "worker1", "event_id=wl-stop-ev" };
    H_WAIT(E, 30000, pred_job_logged, &ja, "the resumed worker never finished its job");
    H_ASSERT(E, h_count_invoices(E, "660000002") == 1, "the resumed worker posted again: %d invoices for the order",
             h_count_invoices(E, "660000002"));
    H_ASSERT(E, f_calls_to(E, "POST /v3/invoices") == 2, "%lld invoice POSTs reached Jortt, want 2 (one per order)",
             f_calls_to(E, "POST /v3/invoices"));
    json_object *st = h_double_state(E);
    char why[256] = "";
    H_ASSERT(E, st && h_state_no_duplicates(st, why, sizeof why), "duplicates in Jortt: %s", why);
    json_object_put(st);
}
END_TEST

START_TEST(long_call_is_not_taken_over)
{
    E = f_env_up("wl-long", "{\"worker\":{\"lock_ttl_seconds\":3,\"visibility_timeout_seconds\":3},"
                 " \"jortt\":{\"timeout_seconds\":20}}", 0, 2);
    /* The double applies the POST at once and answers 8 s later: longer
     * than the lock TTL and the visibility timeout together. */
    f_faults(E, "{\"match\":\"POST /v3/invoices\",\"latency_ms\":8000}");
    h_post_event(E, H_ORDER_FIXTURE, "wl-long-ev", "670000001", "processing");
    long long one = 1;
    H_WAIT(E, 40000, pred_processed, &one, "the order was not processed");
    H_ASSERT(E, h_count_invoices(E, "670000001") == 1, "%d invoices", h_count_invoices(E, "670000001"));
    H_ASSERT(E, f_calls_to(E, "POST /v3/invoices") == 1, "%lld invoice POSTs", f_calls_to(E, "POST /v3/invoices"));
    /* A second worker that had started the event would have met the lock
     * (an outcome "locked") or the intent (a search by reference). */
    H_ASSERT(E, f_calls_to(E, "GET /v3/invoices") == 0, "someone searched for the invoice: %lld searches",
             f_calls_to(E, "GET /v3/invoices"));
    int lines = log_lines(E, "worker1", "msg=job", "event_id=wl-long-ev") +
                log_lines(E, "worker2", "msg=job", "event_id=wl-long-ev");
    H_ASSERT(E, lines == 1, "the event has %d outcome lines, want 1 (one worker, one delivery)", lines);
    json_object *s = h_stats(E);
    H_ASSERT(E, h_stat(s, "retried") == 0, "retried %lld", h_stat(s, "retried"));
    json_object_put(s);
}
END_TEST

START_TEST(slow_token_fetch_is_made_once)
{
    E = f_env_up("wl-token", "{\"jortt\":{\"timeout_seconds\":20}}", 0, 0);
    /* Longer than the old 10 s token lock, shorter than a waiter's 15 s. */
    f_faults(E, "{\"match\":\"POST /oauth-provider\",\"latency_ms\":12000}");
    h_workers_start(E, 2);
    char tkey[96];
    snprintf(tkey, sizeof tkey, "%s:jortt:token", E->prefix);
    exists_arg stored = { tkey, 1 };
    H_WAIT(E, 40000, pred_exists, &stored, "no worker stored a token");
    /* Both workers got past their start-up check of the ledger accounts,
     * which needs the token. */
    long long two = 2;
    H_WAIT(E, 40000, pred_ledger_calls, &two, "the workers did not both get a token");
    H_ASSERT(E, f_calls_to(E, "POST /oauth-provider/oauth/token") == 1, "%lld token requests, want 1",
             f_calls_to(E, "POST /oauth-provider/oauth/token"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("worker_lease");
    TCase *tc = h_tcase("worker_lease");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, stopped_before_post_does_not_post_on_resume);
    tcase_add_test(tc, long_call_is_not_taken_over);
    tcase_add_test(tc, slow_token_fetch_is_made_once);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
