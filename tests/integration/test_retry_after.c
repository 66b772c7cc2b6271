/* test_retry_after.c: a Retry-After from Jortt is a floor for the next
 * attempt. With a 1 s retry base, a 503 carrying Retry-After: 120 must put
 * the job in P:retry about two minutes out, not one second; made due at
 * once afterwards, it is invoiced exactly once. Also: a fault aimed at
 * "POST" leaves the OAuth token fetch alone, so a fresh worker gets its token
 * and the fault lands on the API call it was meant for. */
#include "harness.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RA_OVERRIDE "{\"worker\":{\"retry\":{\"base_seconds\":1,\"max_seconds\":600}}}"
#define TOKEN_KEY   "POST /oauth-provider/oauth/token"

static h_env *E;

static void setup(void) { E = NULL; }
static void teardown(void) { h_env_free(E); E = NULL; }

static void faults(const char *json)
{
    H_ASSERT(E, h_double_faults(E, json) == 200, "double refused faults %s", json);
}

/* calls.<field> (field "faulted"...) or calls.by_endpoint[key] when key is
 * given; -1 when absent. */
static long long double_calls(const char *field, const char *key)
{
    json_object *st = h_double_state(E), *calls, *v, *by;
    long long n = -1;
    if (st && json_object_object_get_ex(st, "calls", &calls)) {
        if (!key && json_object_object_get_ex(calls, field, &v))
            n = json_object_get_int64(v);
        else if (key && json_object_object_get_ex(calls, "by_endpoint", &by) &&
                 json_object_object_get_ex(by, key, &v))
            n = json_object_get_int64(v);
    }
    if (st) json_object_put(st);
    return n;
}

static bool pred_retry_scheduled(h_env *e, void *arg)
{
    (void)arg;
    redisReply *r = h_redis_cmd(e, "ZCARD %s:retry", e->prefix);
    bool ok = r && r->type == REDIS_REPLY_INTEGER && r->integer >= 1;
    if (r) freeReplyObject(r);
    return ok;
}

static bool pred_token_fetched(h_env *e, void *arg)
{
    (void)e; (void)arg;
    return double_calls(NULL, TOKEN_KEY) >= 1;
}

static long long redis_now_ms(void)
{
    redisReply *r = h_redis_cmd(E, "TIME");
    H_ASSERT(E, r && r->type == REDIS_REPLY_ARRAY && r->elements == 2, "TIME failed");
    long long ms = strtoll(r->element[0]->str, NULL, 10) * 1000LL + strtoll(r->element[1]->str, NULL, 10) / 1000;
    freeReplyObject(r);
    return ms;
}

START_TEST(retry_after_is_honoured)
{
    E = h_env_up("retryafter", RA_OVERRIDE, 1);
    faults("{\"fail_next\":1,\"status\":503,\"retry_after\":120,\"match\":\"POST /v3/invoices\"}");
    h_post_event(E, H_ORDER_FIXTURE, "evt-ra-1", "400000301", NULL);

    H_WAIT(E, 20000, pred_retry_scheduled, NULL, "the job never reached P:retry");
    long long now = redis_now_ms();
    redisReply *r = h_redis_cmd(E, "ZRANGE %s:retry 0 -1 WITHSCORES", E->prefix);
    H_ASSERT(E, r && r->type == REDIS_REPLY_ARRAY && r->elements == 2, "want one job in P:retry, got %zu entries",
             r ? r->elements / 2 : 0);
    long long due = strtoll(r->element[1]->str, NULL, 10);
    H_ASSERT(E, due >= now + 115000, "job due in %lld ms: Retry-After 120 s not honoured", due - now);
    H_ASSERT(E, due <= now + 600000 + 1000, "job due in %lld ms, past max_seconds", due - now);
    H_ASSERT(E, double_calls("faulted", NULL) == 1, "faulted %lld, want 1", double_calls("faulted", NULL));
    H_ASSERT(E, h_count_invoices(E, NULL) == 0, "invoice created despite the 503");

    /* Let the two minutes "pass". */
    redisReply *z = h_redis_cmd(E, "ZADD %s:retry XX 0 %b", E->prefix, r->element[0]->str, r->element[0]->len);
    H_ASSERT(E, z && z->type == REDIS_REPLY_INTEGER, "moving the retry forward failed");
    freeReplyObject(z);
    freeReplyObject(r);

    h_invoices_arg one = { "400000301", 1 };
    H_WAIT(E, 30000, h_pred_invoices, &one, "never invoiced after the retry came due");
    H_WAIT(E, 30000, h_pred_drained, NULL, "queue did not drain");
    json_object *st = h_double_state(E);
    H_ASSERT(E, h_state_invoices(st, NULL) == 1, "%d invoices, want exactly 1", h_state_invoices(st, NULL));
    H_ASSERT(E, h_money_eq(h_invoice_total(h_state_invoice(st, "400000301")), H_ORDER_TOTAL), "wrong total");
    json_object_put(st);
    json_object *s = h_stats(E);
    H_ASSERT(E, h_stat(s, "failed") == 0, "failed %lld", h_stat(s, "failed"));
    json_object_put(s);
}
END_TEST

START_TEST(post_fault_spares_token_endpoint)
{
    /* No worker yet: the one started below fetches the first token while a
     * fault aimed at every POST is armed. */
    E = h_env_up("tokenspared", RA_OVERRIDE, 0);
    faults("{\"fail_next\":1,\"status\":500,\"match\":\"POST\"}");
    h_worker_start(E);
    /* The worker's start-up check (ledger accounts) needs a token; done
     * when both calls were made. */
    H_WAIT(E, 20000, pred_token_fetched, NULL, "the worker never asked for a token");
    H_ASSERT(E, double_calls("faulted", NULL) == 0, "the token request was faulted by a \"POST\" match");

    h_post_event(E, H_ORDER_FIXTURE, "evt-tok-1", "400000311", NULL);
    h_invoices_arg one = { "400000311", 1 };
    H_WAIT(E, 30000, h_pred_invoices, &one, "never invoiced");
    H_WAIT(E, 30000, h_pred_drained, NULL, "queue did not drain");
    H_ASSERT(E, double_calls("faulted", NULL) == 1, "the fault should have hit one API POST: faulted %lld",
             double_calls("faulted", NULL));
    H_ASSERT(E, h_count_invoices(E, NULL) == 1, "want exactly one invoice");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("retry_after");
    TCase *tc = h_tcase("retry_after");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, retry_after_is_honoured);
    tcase_add_test(tc, post_fault_spares_token_endpoint);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
