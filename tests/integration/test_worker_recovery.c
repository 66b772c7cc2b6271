/* test_worker_recovery.c: back on its feet in seconds (issue 10).
 *
 * - A worker killed (SIGKILL) in the middle of an order: with the default
 *   worker.visibility_timeout_seconds another worker takes the event over
 *   and the queue drains within 45 s, with one invoice.
 * - Redis stopped while a worker is in the middle of an order: the worker
 *   cannot record the outcome, keeps the event in hand, and as soon as Redis
 *   answers releases the locks it held and runs the event again; the queue
 *   (including another order of the same customer, which needs the
 *   customer lock) drains within 45 s of the restart, even with a
 *   visibility timeout of 300 s, with one invoice per order and one
 *   customer.
 *
 * The 45 s are a wait deadline, not a timing assertion. */
#include "harness.h"
#include "fault_util.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RECOVERY_MS 45000

static h_env *E;

static void setup(void) { E = NULL; }
static void teardown(void) { h_env_free(E); E = NULL; }

/* Posts the order fixture as order ref until the receiver accepts it (it
 * answers 503 while its Redis link comes back). */
typedef struct { const char *id, *ref; } order_arg;

static bool pred_order_accepted(h_env *e, void *arg)
{
    const order_arg *o = arg;
    char *body = h_event(H_ORDER_FIXTURE, o->id, o->ref, NULL);
    h_resp r;
    long st = h_post_signed(e, o->id, body, &r);
    free(body);
    H_ASSERT(e, st < 400 || st >= 500, "order %s answered %ld (must be 2xx or 5xx): %s", o->ref, st, r.body);
    h_resp_clear(&r);
    return st == 202 || st == 200;
}

static void post_order(const char *id, const char *ref)
{
    order_arg o = { id, ref };
    H_WAIT(E, 15000, pred_order_accepted, &o, "order %s never accepted", ref);
}

/* The order's intent is recorded: its invoice POST is on its way. */
static bool pred_order_pending(h_env *e, void *arg)
{
    redisReply *r = h_redis_cmd(e, "HGET %s:order:%s state", e->prefix, (const char *)arg);
    bool yes = r && r->type == REDIS_REPLY_STRING && strcmp(r->str, "pending") == 0;
    if (r)
        freeReplyObject(r);
    return yes;
}

static bool pred_customer_created(h_env *e, void *arg)
{
    (void)arg;
    json_object *st = h_double_state(e);
    int n = st ? h_state_customers(st, H_ORDER_EMAIL) : 0;
    json_object_put(st);
    return n == 1;
}

/* The worker log says an outcome could not be recorded. */
static bool pred_not_recorded(h_env *e, void *arg)
{
    (void)arg;
    char path[400];
    snprintf(path, sizeof path, "%s/worker1.log", e->dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    char line[4096];
    bool seen = false;
    while (!seen && fgets(line, sizeof line, f))
        seen = strstr(line, "outcome=not_recorded") != NULL;
    fclose(f);
    return seen;
}

/* Default visibility timeout (the base test config's 2 s removed). The
 * lock TTL stays the base config's 10 s: the dead worker's order lock must
 * have expired when its event is taken over. */
START_TEST(sigkill_mid_order_taken_over)
{
    E = h_env_up("rec-kill", "{\"worker\":{\"visibility_timeout_seconds\":null}}", 1);
    H_ASSERT(E, h_double_faults(E, "{\"match\":\"POST /v3/invoices\",\"latency_ms\":3000}") == 200, "faults");
    post_order("evt-rec-kill", "310000001");
    H_WAIT(E, 20000, pred_order_pending, "310000001", "the worker never started the invoice");
    pid_t w;
    H_ASSERT(E, h_pids(E, H_ROLE_WORKER, &w, 1) == 1, "worker not running");
    f_kill_replace(E, w);
    H_ASSERT(E, h_double_faults(E, "{}") == 200, "faults");
    H_WAIT(E, RECOVERY_MS, h_pred_drained, NULL, "the killed worker's event was not taken over within 45 s");
    const char *refs[] = { "310000001", NULL };
    h_assert_orders_invoiced_once(E, refs, H_ORDER_EMAIL);
}
END_TEST

/* Redis stops while the worker creates the buyer in Jortt (the customer
 * and order locks are held, the customer's outcome unknown). A visibility
 * timeout of 300 s and the default lock TTL (120 s) leave only the worker
 * itself to bring the event home in time. */
START_TEST(redis_restart_mid_order_worker_retries_itself)
{
    E = h_env_up("rec-redis", "{\"worker\":{\"visibility_timeout_seconds\":300,\"lock_ttl_seconds\":null}}", 1);
    H_ASSERT(E, h_double_faults(E, "{\"match\":\"POST /v3/customers\",\"latency_ms\":1500}") == 200, "faults");
    post_order("evt-rec-redis-1", "320000001");
    H_WAIT(E, 20000, pred_customer_created, NULL, "the customer POST never reached the double");
    h_redis_stop(E);
    H_WAIT(E, 20000, pred_not_recorded, NULL, "the worker did not report the unrecorded outcome");
    h_redis_start(E);
    H_ASSERT(E, h_double_faults(E, "{}") == 200, "faults");
    /* Another order of the same buyer: needs the customer lock. */
    post_order("evt-rec-redis-2", "320000002");
    H_WAIT(E, RECOVERY_MS, h_pred_drained, NULL, "the queue did not drain within 45 s of Redis coming back");
    const char *refs[] = { "320000001", "320000002", NULL };
    h_invoices_arg two = { NULL, 2 };
    H_WAIT(E, 5000, h_pred_invoices, &two, "want 2 invoices");
    h_assert_orders_invoiced_once(E, refs, H_ORDER_EMAIL);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("worker_recovery");
    TCase *tc = h_tcase("worker_recovery");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, sigkill_mid_order_taken_over);
    tcase_add_test(tc, redis_restart_mid_order_worker_retries_itself);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
