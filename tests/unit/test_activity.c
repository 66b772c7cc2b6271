/* test_activity.c: the dashboard's Redis side against a real redis-server:
 * every outcome lands in the activity log in the same script that records
 * it (and waiting rounds do not), searches by outcome and order number,
 * paging, the cap, the per-minute throughput, the dead-letter selection by
 * reason with its count, and batch replays that refuse stale copies. */
#include "queue/activity.h"
#include "queue/dead_replay.h"
#include "queue/dead_select.h"
#include "queue/queue.h"
#include "base/json_util.h"
#include "redis_helper.h"

#include <check.h>
#include <stdarg.h>

static m2j_test_redis srv;
static m2j_config cfg;
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



/* Runs an EVAL argv on the raw connection; the reply is the caller's. */
static redisReply *run(const m2j_redis_args *a)
{
    redisReply *r = redisCommandArgv(raw, a->argc, (const char **)a->argv, a->lens);
    ck_assert_ptr_nonnull(r);
    ck_assert_msg(r->type != REDIS_REPLY_ERROR, "script error: %s", r->str);
    return r;
}

static void setup(void)
{
    struct timeval tv = { .tv_sec = 2 };
    raw = redisConnectWithTimeout("127.0.0.1", srv.port, tv);
    ck_assert(raw && !raw->err);
    freeReplyObject(m2j_test_cmd(raw, "FLUSHALL"));
    memset(&cfg, 0, sizeof cfg);
    cfg.redis.host = "127.0.0.1";
    cfg.redis.port = srv.port;
    cfg.redis.key_prefix = "t";
    cfg.admin.activity_keep = 100;
    m2j_err err;
    ck_assert_int_eq(m2j_queue_open(&cfg, &q, &err), M2J_OK);
}

static void teardown(void)
{
    m2j_queue_close(q);
    q = NULL;
    redisFree(raw);
    raw = NULL;
}

/* Enqueues one order event and takes it. */
static void take(const char *id, const char *ref, m2j_job *j)
{
    m2j_event ev;
    memset(&ev, 0, sizeof ev);
    ev.event_id = strdup(id);
    ev.kind = M2J_KIND_ORDER;
    ev.source = strdup("rest");
    ev.event_type = strdup("");
    ev.received_at = 1764390000123LL;
    char entity[128];
    snprintf(entity, sizeof entity, "{\"increment_id\":\"%s\",\"grand_total\":\"12.3400\"}", ref);
    ck_assert_int_eq(m2j_json_parse(entity, strlen(entity), &ev.entity, NULL), M2J_OK);
    m2j_enqueue_result res;
    m2j_err err;
    ck_assert_int_eq(m2j_queue_enqueue(q, &ev, 1, 3600, &res, &err), M2J_OK);
    m2j_enqueue_results_clear(&res, 1);
    m2j_event_clear(&ev);
    ck_assert_int_eq(m2j_queue_take(q, "w1", 100, 60000, j, &err), M2J_OK);
}

static void dead(const char *id, const char *ref, const char *reason)
{
    m2j_job j;
    m2j_err err;
    take(id, ref, &j);
    m2j_dead_info info = { .reason = reason, .http_status = 422, .ref = ref };
    ck_assert_int_eq(m2j_queue_dead(q, &j, &info, &err), M2J_OK);
    m2j_job_clear(&j);
}

static void read_log(const m2j_activity_query *aq, m2j_activity_row **rows, size_t *n, char **next)
{
    m2j_redis_args a;
    m2j_err err;
    ck_assert_int_eq(m2j_activity_args("t", aq, &a, &err), M2J_OK);
    redisReply *r = run(&a);
    ck_assert_int_eq(m2j_activity_parse(r, rows, n, next, &err), M2J_OK);
    freeReplyObject(r);
    m2j_redis_args_free(&a);
}

START_TEST(every_outcome_is_logged)
{
    m2j_job j;
    m2j_err err;
    take("e1", "100000001", &j);
    m2j_outcome_note done = { .ref = "100000001", .jortt_id = "inv-uuid-1" };
    ck_assert_int_eq(m2j_queue_done(q, &j, &done, &err), M2J_OK);
    /* a second outcome for the same entry records nothing, in the log neither */
    ck_assert_int_eq(m2j_queue_done(q, &j, &done, &err), M2J_ERR_CONFLICT);
    m2j_job_clear(&j);

    take("e2", "100000002", &j);
    ck_assert_int_eq(m2j_queue_skip(q, &j, "100000002", "status pending is not invoiced", &err), M2J_OK);
    m2j_job_clear(&j);

    take("e3", "100000003", &j);
    m2j_outcome_note retry = { .ref = "100000003", .reason = "Jortt answered 503" };
    ck_assert_int_eq(m2j_queue_retry(q, &j, 1, &retry, &err), M2J_OK);
    m2j_job_clear(&j);

    /* waiting for a lock is not an outcome: no entry */
    take("e4", "100000004", &j);
    ck_assert_int_eq(m2j_queue_retry(q, &j, 1, NULL, &err), M2J_OK);
    m2j_job_clear(&j);

    dead("e5", "100000005", "Jortt refused the invoice: <b>vat</b>");
    ck_assert_int_eq(m2j_test_int(raw, "XLEN t:activity"), 4);

    m2j_activity_query aq = { .limit = 10 };
    m2j_activity_row *rows;
    size_t n;
    char *next;
    read_log(&aq, &rows, &n, &next);
    ck_assert_uint_eq(n, 4);
    ck_assert_ptr_null(next);
    /* newest first */
    ck_assert_str_eq(rows[0].outcome, "dead_lettered");
    ck_assert_str_eq(rows[0].ref, "100000005");
    ck_assert_str_eq(rows[0].event_id, "e5");
    ck_assert_str_eq(rows[0].kind, "order");
    ck_assert_str_eq(rows[0].reason, "Jortt refused the invoice: <b>vat</b>");
    ck_assert_str_eq(rows[1].outcome, "retried");
    ck_assert_str_eq(rows[1].reason, "Jortt answered 503");
    ck_assert_str_eq(rows[2].outcome, "skipped");
    ck_assert_str_eq(rows[2].reason, "status pending is not invoiced");
    ck_assert_str_eq(rows[3].outcome, "processed");
    ck_assert_str_eq(rows[3].jortt_id, "inv-uuid-1");
    ck_assert_str_eq(rows[3].ref, "100000001");
    ck_assert(rows[3].at_ms > 1700000000000LL);
    ck_assert(rows[0].at_ms >= rows[3].at_ms);
    m2j_activity_rows_free(rows, n);

    /* the throughput of this minute counts the same four */
    m2j_redis_args a;
    ck_assert_int_eq(m2j_throughput_args("t", &a, &err), M2J_OK);
    redisReply *r = run(&a);
    m2j_throughput tp;
    ck_assert_int_eq(m2j_throughput_parse(r, &tp, &err), M2J_OK);
    freeReplyObject(r);
    m2j_redis_args_free(&a);
    ck_assert_int_eq(tp.total[M2J_ACT_PROCESSED], 1);
    ck_assert_int_eq(tp.total[M2J_ACT_SKIPPED], 1);
    ck_assert_int_eq(tp.total[M2J_ACT_RETRIED], 1);
    ck_assert_int_eq(tp.total[M2J_ACT_DEAD], 1);
    ck_assert_int_eq(tp.total[M2J_ACT_REPLAYED], 0);
    ck_assert_int_eq(tp.minute[59][M2J_ACT_PROCESSED] + tp.minute[58][M2J_ACT_PROCESSED], 1);
    long long ttl = m2j_test_int(raw, "TTL t:activity:minute:%lld", tp.first_minute + 59);
    if (ttl < 0) /* the minute turned between the outcome and the read */
        ttl = m2j_test_int(raw, "TTL t:activity:minute:%lld", tp.first_minute + 58);
    ck_assert(ttl > 7000 && ttl <= 7200);
}
END_TEST

START_TEST(search_filter_and_pages)
{
    m2j_err err;
    for (int i = 0; i < 30; i++) {
        m2j_job j;
        char id[16], ref[16];
        snprintf(id, sizeof id, "p%d", i);
        snprintf(ref, sizeof ref, "1000%04d", i);
        take(id, ref, &j);
        m2j_outcome_note note = { .ref = ref };
        if (i % 3 == 0)
            ck_assert_int_eq(m2j_queue_skip(q, &j, ref, "not invoiced", &err), M2J_OK);
        else
            ck_assert_int_eq(m2j_queue_done(q, &j, &note, &err), M2J_OK);
        m2j_job_clear(&j);
    }
    m2j_activity_row *rows;
    size_t n;
    char *next;
    /* by outcome */
    m2j_activity_query aq = { .outcome = "skipped", .limit = 50 };
    read_log(&aq, &rows, &n, &next);
    ck_assert_uint_eq(n, 10);
    for (size_t i = 0; i < n; i++)
        ck_assert_str_eq(rows[i].outcome, "skipped");
    ck_assert_str_eq(rows[0].ref, "10000027");
    m2j_activity_rows_free(rows, n);
    free(next);
    /* by a part of the order number */
    m2j_activity_query by_ref = { .ref = "0001", .limit = 50 };
    read_log(&by_ref, &rows, &n, &next);
    ck_assert_uint_eq(n, 11); /* 10000019 .. 10000010, then 10000001 */
    ck_assert_str_eq(rows[0].ref, "10000019");
    ck_assert_str_eq(rows[9].ref, "10000010");
    ck_assert_str_eq(rows[10].ref, "10000001");
    m2j_activity_rows_free(rows, n);
    free(next);
    m2j_activity_query exact = { .ref = "10000022", .outcome = "processed", .limit = 50 };
    read_log(&exact, &rows, &n, &next);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(rows[0].event_id, "p22");
    m2j_activity_rows_free(rows, n);
    free(next);
    m2j_activity_query none = { .ref = "99999", .limit = 50 };
    read_log(&none, &rows, &n, &next);
    ck_assert_uint_eq(n, 0);
    ck_assert_ptr_null(next);
    m2j_activity_rows_free(rows, n);
    /* pages of 12: 12 + 12 + 6, no row twice */
    m2j_activity_query page = { .limit = 12 };
    read_log(&page, &rows, &n, &next);
    ck_assert_uint_eq(n, 12);
    ck_assert_ptr_nonnull(next);
    ck_assert_str_eq(rows[11].id, next);
    m2j_activity_rows_free(rows, n);
    page.before = next;
    m2j_activity_row *rows2;
    char *next2;
    read_log(&page, &rows2, &n, &next2);
    ck_assert_uint_eq(n, 12);
    ck_assert_str_eq(rows2[0].ref, "10000017");
    m2j_activity_rows_free(rows2, n);
    free(next);
    page.before = next2;
    read_log(&page, &rows, &n, &next);
    ck_assert_uint_eq(n, 6);
    ck_assert_ptr_null(next);
    ck_assert_str_eq(rows[5].ref, "10000000");
    m2j_activity_rows_free(rows, n);
    free(next2);
}
END_TEST

START_TEST(bad_queries_are_refused)
{
    m2j_redis_args a;
    m2j_err err;
    m2j_activity_query bad_outcome = { .outcome = "deleted", .limit = 5 };
    ck_assert_int_eq(m2j_activity_args("t", &bad_outcome, &a, &err), M2J_ERR_INVALID);
    m2j_activity_query ctl = { .ref = "1\n2", .limit = 5 };
    ck_assert_int_eq(m2j_activity_args("t", &ctl, &a, &err), M2J_ERR_INVALID);
    char long_ref[M2J_ACTIVITY_QUERY_MAX + 2];
    memset(long_ref, '1', sizeof long_ref - 1);
    long_ref[sizeof long_ref - 1] = '\0';
    m2j_activity_query too_long = { .ref = long_ref, .limit = 5 };
    ck_assert_int_eq(m2j_activity_args("t", &too_long, &a, &err), M2J_ERR_INVALID);
    static const char *const before[] = { "abc", "1-", "-1", "1-2-3", "(1-2", "123456789012345678901-1", NULL };
    for (int i = 0; before[i]; i++) {
        m2j_activity_query bq = { .before = before[i], .limit = 5 };
        ck_assert_msg(m2j_activity_args("t", &bq, &a, &err) == M2J_ERR_INVALID, "before %s", before[i]);
    }
    /* a reason is cut for the log at a UTF-8 boundary */
    ck_assert_uint_eq(m2j_activity_cut("ab\xc3\xa9", 3), 2);
    ck_assert_uint_eq(m2j_activity_cut("ab\xc3\xa9", 4), 4);
    ck_assert_uint_eq(m2j_activity_cut("abc", 300), 3);
}
END_TEST

START_TEST(log_is_capped)
{
    m2j_err err;
    for (int i = 0; i < 400; i++) {
        m2j_job j;
        char id[16];
        snprintf(id, sizeof id, "c%d", i);
        take(id, "1", &j);
        ck_assert_int_eq(m2j_queue_done(q, &j, NULL, &err), M2J_OK);
        m2j_job_clear(&j);
    }
    /* MAXLEN ~ 100 trims whole macro nodes: about 100, never all 400 */
    long long len = m2j_test_int(raw, "XLEN t:activity");
    ck_assert_msg(len >= 100 && len < 300, "XLEN %lld", len);
}
END_TEST

START_TEST(dead_selection_and_count)
{
    dead("d1", "2001", "Jortt refused: VAT rate 0.09 unknown");
    dead("d2", "2002", "currency not supported");
    dead("d3", "2003", "Jortt refused: ledger account missing");
    m2j_dead_entry *list;
    size_t n;
    long long total;
    m2j_err err;
    m2j_dead_query all = { 0 };
    ck_assert_int_eq(m2j_queue_dead_select(q, &all, &list, &n, &total, &err), M2J_OK);
    ck_assert_int_eq(total, 3);
    ck_assert_uint_eq(n, 3);
    ck_assert_str_eq(list[0].event_id, "d3");
    ck_assert_ptr_null(list[0].job_text); /* summaries only */
    ck_assert_ptr_null(m2j_json_path(list[0].record, "job"));
    ck_assert_str_eq(m2j_json_str(list[0].record, "ref"), "2003");
    m2j_dead_entries_free(list, n);
    /* case-insensitive part of the reason, count and rows from one read */
    m2j_dead_query jortt = { .reason = "JORTT REFUSED", .limit = 1, .whole = true };
    ck_assert_int_eq(m2j_queue_dead_select(q, &jortt, &list, &n, &total, &err), M2J_OK);
    ck_assert_int_eq(total, 2);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(list[0].event_id, "d3");
    ck_assert_ptr_nonnull(list[0].job_text);
    ck_assert_ptr_nonnull(m2j_json_path(list[0].record, "job.event"));
    m2j_dead_entries_free(list, n);
    m2j_dead_query count = { .reason = "jortt", .count_only = true };
    ck_assert_int_eq(m2j_queue_dead_select(q, &count, &list, &n, &total, &err), M2J_OK);
    ck_assert_int_eq(total, 2);
    ck_assert_uint_eq(n, 0);
    m2j_dead_query none = { .reason = "nothing like it" };
    ck_assert_int_eq(m2j_queue_dead_select(q, &none, &list, &n, &total, &err), M2J_OK);
    ck_assert_int_eq(total, 0);
    m2j_dead_query pattern = { .reason = "jortt.*" }; /* a plain substring, not a pattern */
    ck_assert_int_eq(m2j_queue_dead_select(q, &pattern, &list, &n, &total, &err), M2J_OK);
    ck_assert_int_eq(total, 0);
    m2j_dead_query ctl = { .reason = "a\tb" };
    ck_assert_int_eq(m2j_queue_dead_select(q, &ctl, &list, &n, &total, &err), M2J_ERR_INVALID);
}
END_TEST

START_TEST(batch_replay_refuses_stale_copies)
{
    dead("r1", "3001", "boom one");
    dead("r2", "3002", "boom two");
    dead("r3", "3003", "boom three");
    m2j_dead_entry *list;
    size_t n;
    long long total;
    m2j_err err;
    m2j_dead_query dq = { .reason = "boom", .whole = true };
    ck_assert_int_eq(m2j_queue_dead_select(q, &dq, &list, &n, &total, &err), M2J_OK);
    ck_assert_uint_eq(n, 3);
    /* r2 is replayed by someone else meanwhile; r1 is replayed, taken and
     * dead again (its record changed) */
    ck_assert_int_eq(m2j_queue_replay(q, "r2", "someone", &err), M2J_OK);
    ck_assert_int_eq(m2j_queue_replay(q, "r1", "someone", &err), M2J_OK);
    for (int i = 0; i < 2; i++) {
        m2j_job j;
        ck_assert_int_eq(m2j_queue_take(q, "w2", 100, 60000, &j, &err), M2J_OK);
        if (!strcmp(m2j_json_str(j.job, "event.event_id"), "r1")) {
            m2j_dead_info info = { .reason = "boom again", .ref = "3001" };
            ck_assert_int_eq(m2j_queue_dead(q, &j, &info, &err), M2J_OK);
        } else {
            ck_assert_int_eq(m2j_queue_done(q, &j, NULL, &err), M2J_OK);
        }
        m2j_job_clear(&j);
    }
    m2j_replay_item items[4];
    for (size_t i = 0; i < n; i++)
        items[i] = (m2j_replay_item){ list[i].event_id, list[i].job_text };
    items[3] = (m2j_replay_item){ "broken", "[1,2]" }; /* not a JSON object: left alone */
    m2j_replay_result res[4];
    m2j_replay_batch b;
    ck_assert_int_eq(m2j_replay_batch_build("t", 100, "dashboard@test", 1764390000000LL, items, 4, &b, res, &err),
                     M2J_OK);
    ck_assert_uint_eq(b.n_sent, 3);
    ck_assert_int_eq(res[3], M2J_REPLAY_BROKEN);
    redisReply *r = run(&b.args);
    ck_assert_int_eq(m2j_replay_batch_parse(&b, r, res, &err), M2J_OK);
    freeReplyObject(r);
    m2j_replay_batch_free(&b);
    for (size_t i = 0; i < n; i++) {
        const char *id = list[i].event_id;
        m2j_replay_result want = !strcmp(id, "r3") ? M2J_REPLAY_DONE
                               : !strcmp(id, "r2") ? M2J_REPLAY_GONE : M2J_REPLAY_CHANGED;
        ck_assert_msg(res[i] == want, "%s: %d", id, (int)res[i]);
    }
    m2j_dead_entries_free(list, n);
    /* r3 is back in the stream with its attempts reset; r1 is still dead */
    ck_assert_int_eq(m2j_test_int(raw, "XLEN t:events"), 1);
    ck_assert_int_eq(m2j_test_int(raw, "EXISTS t:dead:r3"), 0);
    ck_assert_int_eq(m2j_test_int(raw, "EXISTS t:dead:r1"), 1);
    ck_assert_int_eq(m2j_test_int(raw, "HGET t:stats replayed"), 3);
    m2j_job j;
    ck_assert_int_eq(m2j_queue_take(q, "w3", 100, 60000, &j, &err), M2J_OK);
    ck_assert_str_eq(m2j_json_str(j.job, "event.event_id"), "r3");
    ck_assert_str_eq(m2j_json_str(j.job, "replays"), "1");
    ck_assert_str_eq(m2j_json_str(j.job, "attempts"), "0");
    ck_assert_str_eq(m2j_json_str(j.job, "event.entity.grand_total"), "12.3400");
    m2j_job_clear(&j);
    /* and the log says who replayed it */
    m2j_activity_query aq = { .outcome = "replayed", .ref = "3003", .limit = 5 };
    m2j_activity_row *rows;
    char *next;
    read_log(&aq, &rows, &n, &next);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(rows[0].reason, "replayed by dashboard@test");
    ck_assert_str_eq(rows[0].kind, "order");
    m2j_activity_rows_free(rows, n);
}
END_TEST

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    Suite *s = suite_create("activity");
    TCase *tc = tcase_create("redis");
    tcase_add_unchecked_fixture(tc, suite_setup, suite_teardown);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, every_outcome_is_logged);
    tcase_add_test(tc, search_filter_and_pages);
    tcase_add_test(tc, bad_queries_are_refused);
    tcase_add_test(tc, log_is_capped);
    tcase_add_test(tc, dead_selection_and_count);
    tcase_add_test(tc, batch_replay_refuses_stale_copies);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
