/* Unit tests for queue/retention.c (what is past retention, counted and
 * removed) and queue/forget.c (what the queue holds about one person),
 * against a private redis-server. */
#include "base/email_match.h"
#include "queue/forget.h"
#include "queue/queue.h"
#include "queue/retention.h"
#include "redis_helper.h"

#include <check.h>
#include <stdarg.h>

#define DAY (86400LL * 1000)

static m2j_test_redis srv;
static m2j_config *cfg;
static m2j_queue *q;
static redisContext *raw;

static void suite_setup(void)
{
    ck_assert_int_eq(m2j_test_redis_start(&srv, NULL), 0);
}

static void suite_teardown(void)
{
    m2j_test_redis_stop(&srv);
}

static void setup(void)
{
    struct timeval tv = { .tv_sec = 2 };
    raw = redisConnectWithTimeout("127.0.0.1", srv.port, tv);
    ck_assert(raw && !raw->err);
    freeReplyObject(redisCommand(raw, "FLUSHALL"));
    char json[256];
    snprintf(json, sizeof json,
             "{\"redis\":{\"url\":\"redis://127.0.0.1:%d/0\",\"key_prefix\":\"rt\"},"
             "\"receiver\":{\"webhook_secret\":\"s\"},\"retention\":{\"failed_days\":30,\"processed_days\":400}}",
             srv.port);
    m2j_err e;
    ck_assert_int_eq(m2j_config_load_string(json, &cfg, &e), M2J_OK);
    ck_assert_int_eq(m2j_queue_open(cfg, &q, &e), M2J_OK);
}

static void teardown(void)
{
    m2j_queue_close(q);
    m2j_config_free(cfg);
    redisFree(raw);
}

static void run(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(raw, fmt, ap);
    va_end(ap);
    ck_assert_ptr_nonnull(r);
    ck_assert_msg(r->type != REDIS_REPLY_ERROR, "%s: %s", fmt, r->str);
    freeReplyObject(r);
}


START_TEST(counts_then_removes_only_what_is_past)
{
    long long now = 1800000000000LL, dead_before, processed_before;
    m2j_retention_cutoffs(cfg, now, &dead_before, &processed_before);
    ck_assert_int_eq(dead_before, now - 30 * DAY);
    ck_assert_int_eq(processed_before, now - 400 * DAY);
    long long old_dead = dead_before - 1000, new_dead = dead_before + 1000;
    long long old = processed_before - 1000, recent = processed_before + 1000;

    run("HSET rt:dead:old job {\"a\":1} reason r dead_at %lld", old_dead);
    run("ZADD rt:dead:index %lld old", old_dead);
    run("HSET rt:dead:new job {\"a\":2} reason r dead_at %lld", new_dead);
    run("ZADD rt:dead:index %lld new", new_dead);
    run("HSET rt:order:1 state done invoice_id i1 at %lld", old);
    run("HSET rt:order:2 state done invoice_id i2 at %lld", recent);
    run("HSET rt:order:3 state pending at %lld", old);                       /* unknown outcome: kept */
    run("HSET rt:order:4 state done at %lld credit_pending rt:credit:x", old); /* a credit in flight: kept */
    run("HSET rt:order:5 state cancelled at %lld", old);
    run("HSET rt:credit:9 state done at %lld", old);
    run("HSET rt:credit:10 state pending at %lld", old);
    run("HSET rt:credit:cancel:5 state done at %lld", recent);
    run("XADD rt:skipped %lld-0 event_id e1 ref 1 reason r", old);
    run("XADD rt:skipped %lld-0 event_id e2 ref 2 reason r", recent);

    m2j_retention_counts n;
    m2j_err e;
    ck_assert_int_eq(m2j_retention_run(q, dead_before, processed_before, false, &n, &e), M2J_OK);
    ck_assert_int_eq(n.dead, 1);
    ck_assert_int_eq(n.orders, 2);
    ck_assert_int_eq(n.credits, 1);
    ck_assert_int_eq(n.skipped, 1);
    /* counting removes nothing and sets no horizon */
    ck_assert_int_eq(m2j_test_int(raw, "EXISTS rt:dead:old rt:order:1 rt:order:5 rt:credit:9"), 4);
    ck_assert_int_eq(m2j_test_int(raw, "XLEN rt:skipped"), 2);
    long long h = -1;
    ck_assert_int_eq(m2j_retention_horizon(q, &h, &e), M2J_OK);
    ck_assert_int_eq(h, 0);

    ck_assert_int_eq(m2j_retention_run(q, dead_before, processed_before, true, &n, &e), M2J_OK);
    ck_assert_int_eq(n.dead, 1);
    ck_assert_int_eq(n.orders, 2);
    ck_assert_int_eq(n.credits, 1);
    ck_assert_int_eq(n.skipped, 1);
    ck_assert_int_eq(m2j_test_int(raw, "EXISTS rt:dead:old"), 0);
    ck_assert_int_eq(m2j_test_int(raw, "ZSCORE rt:dead:index old"), -1);
    ck_assert_int_eq(m2j_test_int(raw, "EXISTS rt:dead:new"), 1);
    ck_assert_int_eq(m2j_test_int(raw, "EXISTS rt:order:1 rt:order:5 rt:credit:9"), 0);
    ck_assert_int_eq(m2j_test_int(raw, "EXISTS rt:order:2 rt:order:3 rt:order:4 rt:credit:10 rt:credit:cancel:5"), 5);
    ck_assert_int_eq(m2j_test_int(raw, "XLEN rt:skipped"), 1);
    ck_assert_int_eq(m2j_retention_horizon(q, &h, &e), M2J_OK);
    ck_assert_int_eq(h, processed_before);

    /* a later run with an earlier cut-off never lowers the horizon */
    ck_assert_int_eq(m2j_retention_run(q, dead_before - DAY, processed_before - DAY, true, &n, &e), M2J_OK);
    ck_assert_int_eq(n.dead + n.orders + n.credits + n.skipped, 0);
    ck_assert_int_eq(m2j_retention_horizon(q, &h, &e), M2J_OK);
    ck_assert_int_eq(h, processed_before);
}
END_TEST

/* More dead letters than one batch. */
START_TEST(dead_letters_in_batches)
{
    redisAppendCommand(raw, "MULTI");
    for (int i = 0; i < 1203; i++) {
        redisAppendCommand(raw, "HSET rt:dead:d%d job x", i);
        redisAppendCommand(raw, "ZADD rt:dead:index %d d%d", 1000 + i, i);
    }
    redisAppendCommand(raw, "EXEC");
    for (int i = 0; i < 2 * 1203 + 2; i++) {
        redisReply *r;
        ck_assert_int_eq(redisGetReply(raw, (void **)&r), REDIS_OK);
        freeReplyObject(r);
    }
    m2j_retention_counts n;
    m2j_err e;
    ck_assert_int_eq(m2j_retention_run(q, 1000 + 1200, 0, true, &n, &e), M2J_OK);
    ck_assert_int_eq(n.dead, 1200);
    ck_assert_int_eq(m2j_test_int(raw, "ZCARD rt:dead:index"), 3);
    ck_assert_int_eq(m2j_test_int(raw, "EXISTS rt:dead:d1199"), 0);
    ck_assert_int_eq(m2j_test_int(raw, "EXISTS rt:dead:d1200"), 1);
    /* no order record went: no horizon, so no worker searches Jortt for nothing */
    long long h = -1;
    ck_assert_int_eq(m2j_retention_horizon(q, &h, &e), M2J_OK);
    ck_assert_int_eq(h, 0);
}
END_TEST

static bool about_jan(const char *text, size_t len, void *ud)
{
    (void)ud;
    return m2j_email_in_text(text, len, "jan@example.nl");
}

#define JOB(id, ref, email) \
    "{\"event\":{\"event_id\":\"" id "\",\"kind\":\"order\",\"entity\":{\"increment_id\":\"" ref "\"," \
    "\"customer_email\":\"" email "\"}},\"attempts\":0}"

static size_t count(const m2j_forget_report *r, m2j_forget_where w, bool removed)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n; i++)
        n += r->items[i].where == w && r->items[i].removed == removed;
    return n;
}

START_TEST(forget_finds_and_removes_one_person)
{
    /* dead letters: Jan's (in the job; another only in Jortt's error details), Piet's */
    run("HSET rt:dead:ev-1 job %s reason r", JOB("ev-1", "1001", "Jan@Example.nl"));
    run("ZADD rt:dead:index 1 ev-1");
    run("HSET rt:dead:ev-2 job %s reason r error_details %s", JOB("ev-2", "1002", "x@y.nl"),
        "[{\"param\":\"email\",\"value\":\"jan@example.nl\"}]");
    run("ZADD rt:dead:index 2 ev-2");
    run("HSET rt:dead:ev-3 job %s reason r", JOB("ev-3", "1003", "piet@example.nl"));
    run("ZADD rt:dead:index 3 ev-3");
    /* a retry of Jan's, one of bjan's (another address) */
    run("ZADD rt:retry 5 %s", JOB("ev-4", "1004", "jan@example.nl"));
    run("ZADD rt:retry 6 %s", JOB("ev-5", "1005", "bjan@example.nl"));
    /* waiting: two of Jan's, one taken by a worker */
    run("XADD rt:events * job %s", JOB("ev-6", "1006", "jan@example.nl"));
    redisReply *r = redisCommand(raw, "XREADGROUP GROUP workers w1 COUNT 1 STREAMS rt:events >");
    ck_assert(r && r->type == REDIS_REPLY_ARRAY);
    freeReplyObject(r);
    run("XADD rt:events * job %s", JOB("ev-7", "1007", "jan@example.nl"));
    run("XADD rt:events * job %s", JOB("ev-8", "1008", "piet@example.nl"));

    m2j_forget_report rep;
    m2j_err e;
    ck_assert_int_eq(m2j_queue_forget(q, about_jan, NULL, false, 1000, &rep, &e), M2J_OK);
    ck_assert_uint_eq(rep.n, 5);
    ck_assert_uint_eq(count(&rep, M2J_FORGET_DEAD, false), 2);
    ck_assert_uint_eq(count(&rep, M2J_FORGET_RETRY, false), 1);
    ck_assert_uint_eq(count(&rep, M2J_FORGET_IN_PROGRESS, false), 1);
    ck_assert_uint_eq(count(&rep, M2J_FORGET_WAITING, false), 1);
    ck_assert_str_eq(rep.items[0].event_id, "ev-1");
    ck_assert_str_eq(rep.items[0].ref, "1001");
    m2j_forget_report_clear(&rep);
    ck_assert_int_eq(m2j_test_int(raw, "EXISTS rt:dead:ev-1 rt:dead:ev-2"), 2); /* a dry run */
    ck_assert_int_eq(m2j_test_int(raw, "XLEN rt:events"), 3);

    ck_assert_int_eq(m2j_queue_forget(q, about_jan, NULL, true, 1000, &rep, &e), M2J_OK);
    ck_assert_uint_eq(count(&rep, M2J_FORGET_DEAD, true), 2);
    ck_assert_uint_eq(count(&rep, M2J_FORGET_RETRY, true), 1);
    ck_assert_uint_eq(count(&rep, M2J_FORGET_WAITING, true), 1);
    ck_assert_uint_eq(count(&rep, M2J_FORGET_IN_PROGRESS, false), 1);
    m2j_forget_report_clear(&rep);
    ck_assert_int_eq(m2j_test_int(raw, "EXISTS rt:dead:ev-1 rt:dead:ev-2"), 0);
    ck_assert_int_eq(m2j_test_int(raw, "ZCARD rt:dead:index"), 1);
    ck_assert_int_eq(m2j_test_int(raw, "EXISTS rt:dead:ev-3"), 1);
    ck_assert_int_eq(m2j_test_int(raw, "ZCARD rt:retry"), 1);
    ck_assert_int_eq(m2j_test_int(raw, "XLEN rt:events"), 2); /* the held one and Piet's */
    ck_assert_int_eq(m2j_test_int(raw, "HGET rt:stats forgotten"), 1);

    /* a bound is a bound */
    ck_assert_int_eq(m2j_queue_forget(q, about_jan, NULL, false, 1, &rep, &e), M2J_OK);
    ck_assert(rep.truncated);
    m2j_forget_report_clear(&rep);
}
END_TEST

START_TEST(forget_links)
{
    run("SET rt:custref:77 jid-1");
    run("SET rt:custref:78 jid-2");
    run("SET rt:custref:79 jid-1");
    const char *ids[] = { "jid-1" };
    long n = 0;
    m2j_err e;
    ck_assert_int_eq(m2j_queue_forget_links(q, ids, 1, false, &n, &e), M2J_OK);
    ck_assert_int_eq(n, 2);
    ck_assert_int_eq(m2j_test_int(raw, "EXISTS rt:custref:77 rt:custref:79"), 2);
    ck_assert_int_eq(m2j_queue_forget_links(q, ids, 1, true, &n, &e), M2J_OK);
    ck_assert_int_eq(n, 2);
    ck_assert_int_eq(m2j_test_int(raw, "EXISTS rt:custref:77 rt:custref:79"), 0);
    ck_assert_int_eq(m2j_test_int(raw, "EXISTS rt:custref:78"), 1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("retention");
    TCase *tc = tcase_create("redis");
    tcase_add_unchecked_fixture(tc, suite_setup, suite_teardown);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, counts_then_removes_only_what_is_past);
    tcase_add_test(tc, dead_letters_in_batches);
    tcase_add_test(tc, forget_finds_and_removes_one_person);
    tcase_add_test(tc, forget_links);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
