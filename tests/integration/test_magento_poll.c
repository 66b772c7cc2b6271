/* test_magento_poll.c: the worker's Magento poller (worker/poller.h) against
 * the Magento double, the Jortt double and a real Redis: orders added to the
 * shop while no receiver runs are invoiced exactly by polling alone; an order
 * pushed and polled is invoiced once and the poll costs no Jortt call; the
 * polling worker killed with SIGKILL is replaced and its cursor resumes
 * without gaps or duplicates; a burst of more orders in one second than a
 * page holds, and orders changed while the poller pages, are all invoiced. */
#include "magento_util.h"

#include <hiredis/hiredis.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static h_env *E;
static hm_magento M;

static void setup(void) { E = NULL; memset(&M, 0, sizeof M); }
static void teardown(void) { h_env_free(E); E = NULL; }

/* Redis, both doubles, the config with polling every second; no receiver
 * unless asked, no workers. */
static void env_up(const char *name, bool receiver, const char *extra)
{
    E = h_env_new(name);
    h_redis_start(E);
    h_double_start(E);
    hm_start(E, &M, false);
    hm_config(E, &M, 1, false, extra);
    if (receiver)
        h_receiver_start(E);
}

static void add_orders(int from, int n, const char *updated_at)
{
    hm_add_orders(E, &M, from, n, updated_at);
}

static bool pred_key_exists(h_env *e, void *arg)
{
    redisReply *r = h_redis_cmd(e, "EXISTS %s:%s", e->prefix, (const char *)arg);
    bool ok = r && r->type == REDIS_REPLY_INTEGER && r->integer == 1;
    if (r) freeReplyObject(r);
    return ok;
}

static void wait_polling(void)
{
    H_WAIT(E, 15000, pred_key_exists, "magento:cursor:orders", "the poller never started");
}

static void check_invoiced_once(int from, int n)
{
    hm_check_invoiced_once(E, from, n);
}

typedef struct { const char *route; long n; } calls_arg;
static bool pred_calls(h_env *e, void *arg)
{
    (void)e;
    calls_arg *c = arg;
    return hm_calls(&M, c->route) >= c->n;
}

/* Waits until the poller has asked Magento `more` more times. */
static void wait_polls(long more)
{
    calls_arg c = { "GET /V1/orders", hm_calls(&M, "GET /V1/orders") + more };
    H_WAIT(E, 20000, pred_calls, &c, "the poller stopped asking Magento");
}

static void wait_invoices(int n, long ms)
{
    h_invoices_arg a = { NULL, n };
    H_WAIT(E, ms, h_pred_invoices, &a, "want %d invoices", n);
}

static long long jortt_calls(void)
{
    json_object *st = h_double_state(E), *calls = NULL, *t = NULL;
    H_ASSERT(E, st && json_object_object_get_ex(st, "calls", &calls) && json_object_object_get_ex(calls, "total", &t),
             "no call count in the Jortt double's state");
    long long n = json_object_get_int64(t);
    json_object_put(st);
    return n;
}

START_TEST(orders_invoiced_by_polling_alone)
{
    env_up("poll_alone", false, NULL);
    h_workers_start(E, 1);
    wait_polling();
    add_orders(1, 3, NULL);
    wait_invoices(3, 20000);
    H_WAIT(E, 10000, h_pred_drained, NULL, "queue did not drain");
    /* later polls re-read the overlap window: duplicates, never new invoices */
    wait_polls(3);
    H_WAIT(E, 10000, h_pred_drained, NULL, "queue did not drain");
    check_invoiced_once(1, 3);
    json_object *s = h_stats(E);
    H_ASSERT(E, s && h_stat(s, "duplicates") >= 3, "re-read orders were not dropped as duplicates");
    json_object_put(s);
}
END_TEST

static bool pred_skipped_at_least(h_env *e, void *arg)
{
    json_object *s = h_stats(e);
    bool ok = s && h_stat(s, "skipped") >= *(long long *)arg;
    if (s) json_object_put(s);
    return ok;
}

START_TEST(push_and_poll_one_invoice_no_jortt_call)
{
    env_up("push_poll", true, NULL);
    h_workers_start(E, 1);
    wait_polling();
    /* pushed first ... */
    json_object *o = hm_order(7, NULL);
    char *text = h_read_file(H_ORDER_FIXTURE, NULL);
    json_object *ce = json_tokener_parse(text);
    free(text);
    json_object *data = NULL;
    json_object_object_get_ex(ce, "data", &data);
    json_object_object_add(data, "value", json_object_get(o));
    json_object_object_add(ce, "id", json_object_new_string("push-7"));
    json_object_object_add(ce, "event_id", json_object_new_string("push-7"));
    char *body = h_json_text(ce);
    h_resp r = {0};
    H_ASSERT(E, h_post_signed(E, "push-7", body, &r) == 202, "push refused: %ld", r.status);
    h_resp_clear(&r);
    free(body);
    json_object_put(ce);
    wait_invoices(1, 15000);
    H_WAIT(E, 10000, h_pred_drained, NULL, "queue did not drain");
    long long before = jortt_calls();
    /* ... then the same order shows up in Magento and is polled */
    H_ASSERT(E, hm_control(&M, "orders", json_object_to_json_string(o)) == 200, "double refused the order");
    json_object_put(o);
    long long one = 1;
    H_WAIT(E, 15000, pred_skipped_at_least, &one, "the polled order was not handled");
    H_WAIT(E, 10000, h_pred_drained, NULL, "queue did not drain");
    check_invoiced_once(7, 1);
    H_ASSERT(E, jortt_calls() == before, "the polled duplicate cost %lld Jortt calls", jortt_calls() - before);
}
END_TEST

/* The PID in the lease value "<host>:<pid>/<random>", 0 if none. */
static pid_t lease_holder(void)
{
    redisReply *r = h_redis_cmd(E, "GET %s:lock:magento:poll", E->prefix);
    pid_t pid = 0;
    if (r && r->type == REDIS_REPLY_STRING) {
        const char *slash = strrchr(r->str, '/');
        const char *colon = slash ? memrchr(r->str, ':', (size_t)(slash - r->str)) : NULL;
        if (colon)
            pid = (pid_t)atol(colon + 1);
    }
    if (r) freeReplyObject(r);
    return pid;
}

typedef struct { pid_t not; } holder_arg;
static bool pred_new_holder(h_env *e, void *arg)
{
    (void)e;
    pid_t p = lease_holder();
    return p != 0 && p != ((holder_arg *)arg)->not;
}

START_TEST(killed_poller_is_replaced_without_gaps)
{
    env_up("poll_kill", false, NULL);
    h_workers_start(E, 2);
    wait_polling();
    add_orders(1, 5, NULL);
    wait_invoices(5, 20000);
    holder_arg h = { 0 };
    H_WAIT(E, 5000, pred_new_holder, &h, "nobody holds the poll lease");
    h.not = lease_holder();
    /* one poller in the fleet */
    H_ASSERT(E, hm_log_count(E, "worker1", "lease taken") + hm_log_count(E, "worker2", "lease taken") == 1,
             "more than one worker took the poll lease");
    long polls_before = hm_calls(&M, "GET /V1/orders");
    H_ASSERT(E, h_alive(E, h.not), "lease holder %d is not one of our workers", (int)h.not);
    h_stop_pid(E, h.not, SIGKILL, 5000);
    add_orders(6, 5, NULL); /* while nobody polls */
    H_WAIT(E, 20000, pred_new_holder, &h, "the poll lease was not taken over");
    H_ASSERT(E, h_alive(E, lease_holder()), "the new lease holder is not running");
    calls_arg again = { "GET /V1/orders", polls_before + 1 };
    H_WAIT(E, 15000, pred_calls, &again, "nobody polls after the kill");
    wait_invoices(10, 30000);
    H_WAIT(E, 10000, h_pred_drained, NULL, "queue did not drain");
    check_invoiced_once(1, 10);
}
END_TEST

static void utc_now(char out[20])
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 20, "%Y-%m-%d %H:%M:%S", &tm);
}

START_TEST(burst_in_one_second_larger_than_a_page)
{
    env_up("poll_burst", false, NULL);
    h_workers_start(E, 2);
    wait_polling();
    char ts[20];
    utc_now(ts);
    add_orders(1, 250, ts); /* one updated_at for all: 2.5 pages of 100 */
    wait_invoices(250, 90000);
    H_WAIT(E, 10000, h_pred_drained, NULL, "queue did not drain");
    check_invoiced_once(1, 250);
}
END_TEST

START_TEST(order_changed_while_paging_is_not_skipped)
{
    env_up("poll_change", false, NULL);
    h_workers_start(E, 1);
    wait_polling();
    /* Slow pages so the change lands while the poller pages (wherever it
     * lands, every order must be invoiced once). */
    H_ASSERT(E, hm_control(&M, "faults", "{\"latency_ms\":400}") == 200, "faults");
    char ts[20];
    utc_now(ts);
    long asked = hm_calls(&M, "GET /V1/orders");
    add_orders(1, 150, ts);
    calls_arg c = { "GET /V1/orders", asked + 1 };
    H_WAIT(E, 15000, pred_calls, &c, "no page asked");
    /* Orders of the first page change: with offset paging every later order
     * would shift one place back and one would be skipped. */
    add_orders(1, 5, NULL);
    H_ASSERT(E, hm_control(&M, "faults", "{}") == 200, "faults"); /* the rest at full speed */
    wait_invoices(150, 60000);
    H_WAIT(E, 15000, h_pred_drained, NULL, "queue did not drain");
    check_invoiced_once(1, 150);
}
END_TEST

static bool pred_auth_failures(h_env *e, void *arg)
{
    (void)e;
    json_object *st = hm_get(&M, "stats"), *v = NULL;
    bool ok = st && json_object_object_get_ex(st, "auth_failures", &v) && json_object_get_int64(v) >= *(long *)arg;
    if (st) json_object_put(st);
    return ok;
}

#define REFUSED "(nothing is lost: the cursor waits)\" stream="

START_TEST(revoked_token_is_reported_once_and_loses_nothing)
{
    env_up("poll_revoked", false, NULL);
    h_workers_start(E, 1);
    wait_polling();
    H_ASSERT(E, hm_control(&M, "faults", "{\"revoked\":true}") == 200, "faults");
    add_orders(1, 3, NULL);
    long twice_each = 6; /* orders, credit memos, customers: each refused twice */
    H_WAIT(E, 20000, pred_auth_failures, &twice_each, "the poller did not try again");
    /* one error line per stream and incident, naming what to fix */
    H_ASSERT(E, hm_log_count(E, "worker1", REFUSED "orders") == 1, "orders refusal logged %d times",
             hm_log_count(E, "worker1", REFUSED "orders"));
    H_ASSERT(E, hm_log_count(E, "worker1", REFUSED "creditmemos") == 1, "memo refusal not logged once");
    H_ASSERT(E, hm_log_count(E, "worker1", "is granted Magento_Sales::actions_view") == 1,
             "the orders' ACL resource is not named");
    H_ASSERT(E, h_count_invoices(E, NULL) == 0, "invoiced without Magento?");
    H_ASSERT(E, hm_control(&M, "faults", "{}") == 200, "faults");
    wait_invoices(3, 40000);
    H_WAIT(E, 10000, h_pred_drained, NULL, "queue did not drain");
    check_invoiced_once(1, 3);
    H_ASSERT(E, hm_log_count(E, "worker1", "magento poll works again\" stream=orders") == 1, "recovery not logged");
}
END_TEST

/* A resource not granted for one stream does not hold up the others. */
START_TEST(memo_resource_not_granted_orders_still_polled)
{
    env_up("poll_deny", false, NULL);
    H_ASSERT(E, hm_control(&M, "faults", "{\"deny\":\"Magento_Sales::sales_creditmemo\"}") == 200, "faults");
    h_workers_start(E, 1);
    wait_polling();
    add_orders(1, 2, NULL);
    wait_invoices(2, 20000);
    add_orders(3, 1, NULL);
    wait_invoices(3, 20000);
    check_invoiced_once(1, 3);
    H_ASSERT(E, hm_log_count(E, "worker1", "is granted Magento_Sales::sales_creditmemo") == 1,
             "the missing resource is not named once");
    H_ASSERT(E, hm_log_count(E, "worker1", REFUSED "orders") == 0, "orders refused?");
}
END_TEST

START_TEST(failing_polls_keep_the_cursor)
{
    env_up("poll_5xx", false, NULL);
    h_workers_start(E, 1);
    wait_polling();
    H_ASSERT(E, hm_control(&M, "faults", "{\"match_path\":\"/V1/orders\",\"fail_next\":3,\"status\":503}") == 200,
             "faults");
    add_orders(1, 2, NULL);
    H_ASSERT(E, hm_control(&M, "faults", "{\"match_path\":\"/V1/orders\",\"fail_next\":2,\"status\":429,"
                                         "\"retry_after\":1}") == 200, "faults");
    wait_invoices(2, 30000);
    H_WAIT(E, 10000, h_pred_drained, NULL, "queue did not drain");
    check_invoiced_once(1, 2);
    H_ASSERT(E, hm_log_count(E, "worker1", "magento poll failed") >= 1, "failure not logged");
}
END_TEST

/* data.value of a CloudEvent fixture, new reference */
static json_object *fixture_value(const char *path)
{
    char *text = h_read_file(path, NULL);
    json_object *ce = json_tokener_parse(text), *data = NULL, *value = NULL;
    free(text);
    H_ASSERT(E, ce && json_object_object_get_ex(ce, "data", &data) && json_object_object_get_ex(data, "value", &value),
             "fixture %s has no data.value", path);
    json_object *v = json_object_get(value);
    json_object_put(ce);
    return v;
}

static int credits_of(const char *ref)
{
    json_object *st = h_double_state(E), *ids = NULL;
    json_object *inv = st ? h_state_invoice(st, ref) : NULL;
    int n = inv && json_object_object_get_ex(inv, "credit_invoice_ids", &ids) && json_object_is_type(ids, json_type_array)
                ? (int)json_object_array_length(ids) : 0;
    if (st) json_object_put(st);
    return n;
}

static bool pred_credited(h_env *e, void *arg)
{
    (void)e;
    return credits_of((const char *)arg) >= 1;
}

/* A credit memo as /V1/creditmemos lists it (order_id only, no increment id,
 * no order) is polled, completed with its order and credited once. */
START_TEST(credit_memo_polled_and_credited_once)
{
    env_up("poll_memo", false, NULL);
    h_workers_start(E, 1);
    wait_polling();
    add_orders(31, 1, NULL);
    char ref[32];
    hm_ref(31, ref);
    wait_invoices(1, 20000);
    json_object *memo = fixture_value("tests/fixtures/integration/creditmemo-nl-full.json");
    json_object_object_add(memo, "entity_id", json_object_new_string("5131"));
    json_object_object_add(memo, "order_id", json_object_new_string("31"));
    json_object_object_del(memo, "order_increment_id");
    json_object_object_del(memo, "order");
    json_object_object_del(memo, "updated_at");
    H_ASSERT(E, hm_control(&M, "creditmemos", json_object_to_json_string(memo)) == 200, "double refused the memo");
    json_object_put(memo);
    H_WAIT(E, 20000, pred_credited, ref, "the polled credit memo was not credited");
    wait_polls(3); /* re-read in the overlap window: no second credit */
    H_WAIT(E, 10000, h_pred_drained, NULL, "queue did not drain");
    H_ASSERT(E, credits_of(ref) == 1, "%d credit invoices", credits_of(ref));
    hm_check_invoiced_once(E, 31, 1);
}
END_TEST

static bool pred_customer(h_env *e, void *arg)
{
    json_object *st = h_double_state(e);
    bool ok = st && h_state_customers(st, (const char *)arg) == 1;
    if (st) json_object_put(st);
    return ok;
}

START_TEST(customers_polled_when_synced)
{
    env_up("poll_customer", false, NULL);
    h_workers_start(E, 1);
    wait_polling();
    H_WAIT(E, 15000, pred_key_exists, "magento:cursor:customers", "customers are not polled");
    json_object *c = fixture_value("tests/fixtures/integration/customer-nl-save.json");
    json_object_object_del(c, "updated_at");
    H_ASSERT(E, hm_control(&M, "customers", json_object_to_json_string(c)) == 200, "double refused the customer");
    json_object_put(c);
    H_WAIT(E, 20000, pred_customer, H_ORDER_EMAIL, "the polled customer did not reach Jortt");
    H_ASSERT(E, hm_calls(&M, "GET /V1/customers/search") >= 1, "customers were not searched");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("magento_poll");
    HM_ADD_TEST(s, orders_invoiced_by_polling_alone);
    HM_ADD_TEST(s, push_and_poll_one_invoice_no_jortt_call);
    HM_ADD_TEST(s, killed_poller_is_replaced_without_gaps);
    HM_ADD_TEST(s, burst_in_one_second_larger_than_a_page);
    HM_ADD_TEST(s, order_changed_while_paging_is_not_skipped);
    HM_ADD_TEST(s, revoked_token_is_reported_once_and_loses_nothing);
    HM_ADD_TEST(s, failing_polls_keep_the_cursor);
    HM_ADD_TEST(s, memo_resource_not_granted_orders_still_polled);
    HM_ADD_TEST(s, credit_memo_polled_and_credited_once);
    HM_ADD_TEST(s, customers_polled_when_synced);
    return h_run_suite(s);
}
