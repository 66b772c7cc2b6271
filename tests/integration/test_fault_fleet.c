/* test_fault_fleet.c: the fault suite, what the fleet shares:
 *  - one rate limit for all workers (jortt.requests_per_second against a
 *    double that enforces Jortt's 10 requests per second): zero 429s in
 *    steady state; after a 429 anyway the whole fleet pauses, and the
 *    throttled order waits at least 60 s (its P:retry score);
 *  - a Jortt call that times out also waits at least 60 s, and the invoice
 *    Jortt made meanwhile is adopted, not made twice;
 *  - visibility: `m2jortt stats` shows the oldest waiting event's age and
 *    the Jortt call rate.
 * Every test ends with the common audit (fault_util.h). */
#include "fault_util.h"

#include <hiredis/hiredis.h>
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

static long long wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static long long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

typedef struct {
    long long calls_at_pause; /* double's total when the pause was first seen */
} pause_arg;

static bool pred_paused(h_env *e, void *arg)
{
    pause_arg *a = arg;
    if (f_redis_int(e, "PTTL %s:rl:pause", e->prefix) > 0) {
        a->calls_at_pause = f_calls(e, "total");
        return true;
    }
    return false;
}

static bool pred_unpaused(h_env *e, void *arg)
{
    (void)arg;
    return f_redis_int(e, "PTTL %s:rl:pause", e->prefix) <= 0;
}

static bool pred_faulted(h_env *e, void *arg)
{
    (void)arg;
    if (f_calls(e, "faulted") >= 1) return true;
    pause_ms(20);
    return false;
}

/* Finds the job scheduled far out (> 30 s) in P:retry, polling a while
 * for it, and makes it due now instead of waiting (the clock "passes").
 * Returns how far out it was (ms). */
static long long advance_far_retry(void)
{
    redisReply *r = NULL;
    long long due = 0, now = 0;
    const char *member = NULL;
    size_t member_len = 0;
    long long until = mono_ms() + h_ms(15000);
    while (!member && mono_ms() < until) {
        if (r) freeReplyObject(r);
        r = h_redis_cmd(E, "ZRANGE %s:retry 0 -1 WITHSCORES", E->prefix);
        now = wall_ms();
        for (size_t i = 0; r && r->type == REDIS_REPLY_ARRAY && i + 1 < r->elements; i += 2) {
            long long sc = strtoll(r->element[i + 1]->str, NULL, 10);
            if (sc - now > 30000) {
                due = sc;
                member = r->element[i]->str;
                member_len = r->element[i]->len;
            }
        }
        if (!member) pause_ms(50);
    }
    H_ASSERT(E, member != NULL, "no job scheduled far out in P:retry");
    redisReply *z = h_redis_cmd(E, "ZADD %s:retry XX %lld %b", E->prefix, now, member, member_len);
    H_ASSERT(E, z && z->type == REDIS_REPLY_INTEGER, "moving the retry forward failed");
    freeReplyObject(z);
    freeReplyObject(r);
    return due - now;
}

START_TEST(one_rate_limit_for_the_fleet)
{
    /* Jortt's real limit in the double, the same in the config, three
     * workers sharing it; retry.max_seconds high enough that the 60 s floor
     * after a 429 shows. Waiting for the limiter can hold a job longer than
     * the suite's 2 s visibility timeout, which would hand it to a second
     * worker (harmless for Jortt, but then the event that invoiced may be
     * recorded as skipped): a realistic 30 s here. */
    E = f_env_up("ff-rate",
                 "{\"jortt\":{\"requests_per_second\":10},"
                 " \"worker\":{\"visibility_timeout_seconds\":30,\"retry\":{\"max_seconds\":120}}}",
                 10, 3);
    f_spec sp = { .orders = 40, .dups = 6, .pending = 4, .foreign = 2, .rejects = 0,
                  .customer_events = 6, .customers = 14 };
    M = f_mix_new("frate", 910000000, &sp, 81);
    size_t split = M->n * 2 / 3;
    long long t0 = mono_ms();
    f_post_range(E, M, 0, split, 100, 30000);
    long long first = (long long)split;
    H_WAIT(E, 60000, f_pred_outcomes, &first, "the first part did not finish at 10 requests per second");
    long long elapsed = mono_ms() - t0;
    json_object *st = h_double_state(E);
    long long calls = f_state_calls(st, "total"), throttled = f_state_calls(st, "throttled");
    json_object_put(st);
    H_ASSERT(E, calls >= 40, "only %lld Jortt calls: the rate limit was not exercised", calls);
    H_ASSERT(E, throttled == 0, "%lld of %lld calls were throttled (429) in steady state", throttled, calls);
    /* The calls really were spread out (about 10 per second at most; the
     * token and start-up calls are not limited the same way). */
    H_ASSERT(E, elapsed >= (calls - 20) * 100 - 500, "%lld calls in %lld ms: faster than 10 per second",
             calls, elapsed);

    /* A 429 anyway (someone else using the administration): the fleet
     * pauses, and the order waits at least 60 s. */
    f_faults(E, "{\"match\":\"POST /v3/invoices\",\"fail_next\":1,\"status\":429}");
    f_post_range(E, M, split, M->n, 100, 30000);
    pause_arg pa = { 0 };
    H_WAIT(E, 30000, pred_paused, &pa, "no fleet pause (P:rl:pause) after a 429");
    H_WAIT(E, 10000, pred_unpaused, NULL, "the fleet pause did not end");
    long long during = f_calls(E, "total") - pa.calls_at_pause;
    /* Without a pause three busy workers make ~10 calls in that second;
     * only calls already granted before it may land. */
    H_ASSERT(E, during <= 3, "%lld Jortt calls during the fleet pause", during);
    H_WAIT(E, 10000, pred_faulted, NULL, "the 429 was never served");

    /* The throttled order is in P:retry at least 60 s out. */
    long long wait = advance_far_retry();
    H_ASSERT(E, wait >= 55000 && wait <= 125000,
             "after a 429 the order waits %lld ms, want at least 60 s (and at most max_seconds)", wait);

    f_audit(E, M, NULL);
    H_ASSERT(E, f_calls(E, "throttled") == 0, "%lld calls throttled by the double", f_calls(E, "throttled"));
    H_ASSERT(E, f_calls(E, "faulted") == 1, "want exactly the one injected 429, got %lld", f_calls(E, "faulted"));
}
END_TEST

/* Invoice POSTs that reached the double >= *(long long *)arg. */
static bool pred_invoice_posts(h_env *e, void *arg)
{
    if (f_calls_to(e, "POST /v3/invoices") >= *(long long *)arg) return true;
    pause_ms(20);
    return false;
}

START_TEST(timeout_waits_a_minute_then_adopts)
{
    /* Jortt answers an invoice POST after 4 s; the worker gives up after
     * 2 s, not knowing whether the invoice was made (it was). */
    E = f_env_up("ff-timeout", "{\"jortt\":{\"timeout_seconds\":2},\"worker\":{\"retry\":{\"max_seconds\":120}}}",
                 0, 2);
    f_spec sp = { .orders = 30, .dups = 4, .pending = 3, .foreign = 1, .rejects = 0,
                  .customer_events = 4, .customers = 10 };
    M = f_mix_new("ftime", 930000000, &sp, 83);
    f_ev t;
    memset(&t, 0, sizeof t);
    t.kind = F_ORDER;
    snprintf(t.id, sizeof t.id, "ftime-slow");
    snprintf(t.ref, sizeof t.ref, "939999999");
    t.cust = 1;
    t.qty = 4;
    f_faults(E, "{\"match\":\"POST /v3/invoices\",\"latency_ms\":4000}");
    H_ASSERT(E, f_post_one(E, M, &t) == 202, "post the slow order");
    long long one = 1;
    H_WAIT(E, 20000, pred_invoice_posts, &one, "the invoice POST never reached the double");
    long long wait = advance_far_retry();
    H_ASSERT(E, wait >= 55000 && wait <= 125000, "after a timeout the order waits %lld ms, want at least 60 s", wait);
    H_ASSERT(E, h_count_invoices(E, t.ref) == 1, "the double should hold the timed-out invoice");
    f_faults(E, "{}");

    f_post_all(E, M);
    const char *const inv[] = { t.ref, NULL };
    f_audit_opts o = { .extra_received = 1, .extra_processed = 1, .extra_invoices = inv };
    f_audit(E, M, &o);
}
END_TEST

static double stat_double(json_object *s, const char *key)
{
    json_object *v;
    if (!s || !json_object_object_get_ex(s, key, &v) || !v) return -1;
    return json_object_get_double(v);
}

static bool pred_old_enough(h_env *e, void *arg)
{
    double want = *(double *)arg;
    json_object *s = h_stats(e);
    bool ok = stat_double(s, "oldest_age_seconds") >= want;
    if (s) json_object_put(s);
    if (!ok) pause_ms(100);
    return ok;
}

static bool pred_calls_rate(h_env *e, void *arg)
{
    (void)arg;
    json_object *s = h_stats(e);
    bool ok = stat_double(s, "jortt_calls_per_second") > 0;
    if (s) json_object_put(s);
    if (!ok) pause_ms(50);
    return ok;
}

START_TEST(stats_show_waiting_age_and_call_rate)
{
    E = f_env_up("ff-stats", NULL, 0, 0);
    f_spec sp = { .orders = 40, .dups = 5, .pending = 4, .foreign = 1, .rejects = 0,
                  .customer_events = 5, .customers = 12 };
    M = f_mix_new("fstat", 920000000, &sp, 82);
    long long t0 = mono_ms();
    f_post_all(E, M);
    double want = 1.5;
    H_WAIT(E, 10000, pred_old_enough, &want, "stats: oldest_age_seconds never reached 1.5 with nothing working");
    json_object *s = h_stats(E);
    double age = stat_double(s, "oldest_age_seconds");
    H_ASSERT(E, age <= (double)(mono_ms() - t0) / 1000.0 + 1.0, "oldest age %.3f s is older than the test", age);
    H_ASSERT(E, h_stat(s, "queued") == (long long)M->n, "queued %lld, want %zu", h_stat(s, "queued"), M->n);
    H_ASSERT(E, stat_double(s, "jortt_calls_per_second") == 0, "Jortt calls without workers");
    json_object_put(s);
    char *table = NULL;
    H_ASSERT(E, h_cli(E, &table, "stats", NULL) == 0, "stats failed");
    H_ASSERT(E, strstr(table, "oldest") && strstr(table, "calls"), "stats table lacks age or call rate:\n%s", table);
    free(table);

    /* Workers start; slowed a little so the rate is seen while they work. */
    f_faults(E, "{\"match\":\"POST /v3/invoices\",\"latency_ms\":60}");
    h_workers_start(E, 2);
    H_WAIT(E, 20000, pred_calls_rate, NULL, "stats: jortt_calls_per_second stayed 0 while workers called Jortt");
    f_audit(E, M, NULL);
    s = h_stats(E);
    H_ASSERT(E, stat_double(s, "oldest_age_seconds") == 0, "oldest age %.3f with nothing waiting",
             stat_double(s, "oldest_age_seconds"));
    json_object_put(s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("fault_fleet");
    TCase *tc = h_tcase("fault_fleet");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, one_rate_limit_for_the_fleet);
    tcase_add_test(tc, timeout_waits_a_minute_then_adopts);
    tcase_add_test(tc, stats_show_waiting_age_and_call_rate);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
