/* test_queue.c: the Redis queue against a real, private redis-server. */
#include "queue/queue.h"
#include "queue/redis_conn.h"
#include "base/json_util.h"
#include "redis_helper.h"

#include <check.h>
#include <event2/event.h>
#include <stdarg.h>

static m2j_test_redis srv;     /* one server for the suite (unchecked fixture) */
static m2j_config cfg;
static m2j_queue *q;
static redisContext *raw;      /* direct connection for looking at keys */

static long long wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void cfg_for(m2j_config *c, int port)
{
    memset(c, 0, sizeof *c);
    c->redis.host = "127.0.0.1";
    c->redis.port = port;
    c->redis.key_prefix = "t";
}

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
    freeReplyObject(m2j_test_cmd(raw, "FLUSHALL"));
    cfg_for(&cfg, srv.port);
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

static void ev_make(m2j_event *ev, const char *id)
{
    memset(ev, 0, sizeof *ev);
    ev->event_id = strdup(id);
    ev->kind = M2J_KIND_ORDER;
    ev->source = strdup("rest");
    ev->event_type = strdup("");
    ev->received_at = 1764390000123LL;
    const char *entity = "{\"increment_id\":\"100000001\",\"grand_total\":\"12.3400\"}";
    ck_assert_int_eq(m2j_json_parse(entity, strlen(entity), &ev->entity, NULL), M2J_OK);
}

static void enqueue_ids(int n, ...)
{
    m2j_event evs[8];
    m2j_enqueue_result res[8];
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n; i++)
        ev_make(&evs[i], va_arg(ap, const char *));
    va_end(ap);
    m2j_err err;
    ck_assert_int_eq(m2j_queue_enqueue(q, evs, (size_t)n, 3600, res, &err), M2J_OK);
    m2j_enqueue_results_clear(res, (size_t)n);
    for (int i = 0; i < n; i++)
        m2j_event_clear(&evs[i]);
}

static const char *job_id(const m2j_job *j)
{
    return m2j_json_str(j->job, "event.event_id");
}

/* ---- enqueue ---- */

START_TEST(enqueue_single)
{
    m2j_event ev;
    ev_make(&ev, "evt-1");
    m2j_enqueue_result res;
    m2j_err err;
    ck_assert_int_eq(m2j_queue_enqueue(q, &ev, 1, 3600, &res, &err), M2J_OK);
    ck_assert(!res.duplicate);
    ck_assert_ptr_nonnull(res.stream_id);
    ck_assert_int_eq(m2j_test_int(raw, "XLEN t:events"), 1);
    redisReply *r = m2j_test_cmd(raw, "GET t:seen:evt-1");
    ck_assert_int_eq(r->type, REDIS_REPLY_STRING);
    ck_assert_str_eq(r->str, res.stream_id);
    freeReplyObject(r);
    long long ttl = m2j_test_int(raw, "TTL t:seen:evt-1");
    ck_assert(ttl > 3500 && ttl <= 3600);
    ck_assert_int_eq(m2j_test_int(raw, "HGET t:stats received"), 1);
    /* the stored job is the event, wrapped */
    r = m2j_test_cmd(raw, "XRANGE t:events - +");
    ck_assert_int_eq(r->elements, 1);
    json_object *job;
    redisReply *f = r->element[0]->element[1];
    ck_assert_str_eq(f->element[0]->str, "job");
    ck_assert_int_eq(m2j_json_parse(f->element[1]->str, f->element[1]->len, &job, NULL), M2J_OK);
    ck_assert_str_eq(m2j_json_str(job, "event.event_id"), "evt-1");
    ck_assert_str_eq(m2j_json_str(job, "event.entity.grand_total"), "12.3400");
    ck_assert_str_eq(m2j_json_str(job, "attempts"), "0");
    json_object_put(job);
    freeReplyObject(r);
    m2j_enqueue_results_clear(&res, 1);
    m2j_event_clear(&ev);
}
END_TEST

START_TEST(enqueue_batch_and_duplicates)
{
    m2j_event evs[3];
    m2j_enqueue_result res[3];
    ev_make(&evs[0], "a");
    ev_make(&evs[1], "b");
    ev_make(&evs[2], "a"); /* repeated within the batch */
    m2j_err err;
    ck_assert_int_eq(m2j_queue_enqueue(q, evs, 3, 3600, res, &err), M2J_OK);
    ck_assert(!res[0].duplicate && res[0].stream_id);
    ck_assert(!res[1].duplicate && res[1].stream_id);
    ck_assert(res[2].duplicate && !res[2].stream_id);
    m2j_enqueue_results_clear(res, 3);
    for (int i = 0; i < 3; i++)
        m2j_event_clear(&evs[i]);

    ev_make(&evs[0], "a");
    ev_make(&evs[1], "c");
    ck_assert_int_eq(m2j_queue_enqueue(q, evs, 2, 3600, res, &err), M2J_OK);
    ck_assert(res[0].duplicate);
    ck_assert(!res[1].duplicate);
    m2j_enqueue_results_clear(res, 2);
    m2j_event_clear(&evs[0]);
    m2j_event_clear(&evs[1]);

    ck_assert_int_eq(m2j_test_int(raw, "XLEN t:events"), 3);
    ck_assert_int_eq(m2j_test_int(raw, "HGET t:stats received"), 3);
    ck_assert_int_eq(m2j_test_int(raw, "HGET t:stats duplicates"), 2);
}
END_TEST

START_TEST(enqueue_all_or_nothing)
{
    /* A stats key of the wrong type makes the script fail; nothing of the
     * batch may be left behind (no entry, no seen key). */
    freeReplyObject(m2j_test_cmd(raw, "SET t:stats garbage"));
    m2j_event evs[2];
    m2j_enqueue_result res[2];
    ev_make(&evs[0], "x1");
    ev_make(&evs[1], "x2");
    m2j_err err;
    ck_assert_int_eq(m2j_queue_enqueue(q, evs, 2, 3600, res, &err), M2J_ERR_IO);
    ck_assert_int_eq(m2j_test_int(raw, "XLEN t:events"), 0);
    ck_assert_int_eq(m2j_test_int(raw, "EXISTS t:seen:x1 t:seen:x2"), 0);

    /* once fixed, the same batch goes in whole */
    freeReplyObject(m2j_test_cmd(raw, "DEL t:stats"));
    ck_assert_int_eq(m2j_queue_enqueue(q, evs, 2, 3600, res, &err), M2J_OK);
    ck_assert(!res[0].duplicate && !res[1].duplicate);
    ck_assert_int_eq(m2j_test_int(raw, "XLEN t:events"), 2);
    m2j_enqueue_results_clear(res, 2);
    m2j_event_clear(&evs[0]);
    m2j_event_clear(&evs[1]);
}
END_TEST

struct async_state {
    int got;
    m2j_rc rc;
    m2j_enqueue_result res[2];
};

static void async_cb(redisAsyncContext *c, void *reply, void *priv)
{
    (void)c;
    struct async_state *st = priv;
    st->rc = m2j_enqueue_reply_parse(reply, 2, st->res, NULL);
    st->got = 1;
}

START_TEST(enqueue_args_and_async)
{
    /* The receiver's path: build argv, send it on an async connection, parse
     * the reply. */
    m2j_event evs[2];
    ev_make(&evs[0], "async-1");
    ev_make(&evs[1], "async-1");
    m2j_enqueue_args a;
    m2j_err err;
    ck_assert_int_eq(m2j_enqueue_args_build("t", evs, 2, 600, &a, &err), M2J_OK);
    ck_assert_int_eq(a.argc, 3 + 4 + 1 + 2);
    ck_assert_str_eq(a.argv[0], "EVAL");
    ck_assert_str_eq(a.argv[2], "4");
    ck_assert_str_eq(a.argv[3], "t:events");
    ck_assert_str_eq(a.argv[4], "t:stats");
    ck_assert_str_eq(a.argv[5], "t:seen:async-1");
    ck_assert_str_eq(a.argv[7], "600");

    struct event_base *base = event_base_new();
    redisAsyncContext *ac;
    ck_assert_int_eq(m2j_redis_async_connect(&cfg.redis, base, &ac, &err), M2J_OK);
    struct async_state st = {0};
    ck_assert_int_eq(redisAsyncCommandArgv(ac, async_cb, &st, a.argc, (const char **)a.argv, a.lens), REDIS_OK);
    long long deadline = m2j_test_now_ms() + 3000;
    while (!st.got && m2j_test_now_ms() < deadline)
        event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
    ck_assert(st.got);
    ck_assert_int_eq(st.rc, M2J_OK);
    ck_assert(!st.res[0].duplicate);
    ck_assert(st.res[1].duplicate);
    m2j_enqueue_results_clear(st.res, 2);
    redisAsyncFree(ac);
    event_base_free(base);
    m2j_enqueue_args_free(&a);
    m2j_event_clear(&evs[0]);
    m2j_event_clear(&evs[1]);
    ck_assert_int_eq(m2j_test_int(raw, "XLEN t:events"), 1);
}
END_TEST

/* The receiver reuses the argument text's storage between requests
 * (m2j_enqueue_args_build_in / _release): after a big batch, a small
 * request's argv is byte for byte a fresh build's, and storage past the
 * keep bound is freed, not kept. */
START_TEST(enqueue_args_reused_after_a_big_batch)
{
    enum { BIG = 40 };
    m2j_event big[BIG];
    for (int i = 0; i < BIG; i++) {
        char id[32];
        snprintf(id, sizeof id, "big-%d-with-a-long-id", i);
        memset(&big[i], 0, sizeof big[i]);
        big[i].event_id = strdup(id);
        big[i].kind = M2J_KIND_ORDER;
        big[i].source = strdup("adobe_io_events");
        big[i].event_type = strdup("com.adobe.commerce.observer.sales_order_save_commit_after");
        big[i].received_at = 1764390000123LL + i;
        m2j_buf t = {0};
        m2j_buf_puts(&t, "{\"increment_id\":\"9\",\"note\":\"");
        for (int k = 0; k < 1000; k++)
            m2j_buf_puts(&t, "0123456789");
        m2j_buf_puts(&t, "\"}");
        big[i].entity_text_len = t.len;
        big[i].entity_text = m2j_buf_detach(&t);
    }
    m2j_event small;
    memset(&small, 0, sizeof small);
    small.event_id = strdup("s1");
    small.kind = M2J_KIND_CUSTOMER;
    small.source = strdup("rest");
    small.event_type = strdup("");
    small.received_at = 5;
    small.entity_text = strdup("{\"email\":\"a@example.com\"}");
    small.entity_text_len = strlen(small.entity_text);

    m2j_buf spare = {0};
    m2j_enqueue_args a, want;
    m2j_err err;
    ck_assert_int_eq(m2j_enqueue_args_build_in(&spare, "t", big, BIG, 600, &a, &err), M2J_OK);
    ck_assert_ptr_null(spare.data);
    ck_assert_uint_gt(a.text_cap, (size_t)BIG * 10000);
    m2j_enqueue_args_release(&a, &spare, 1 << 20);
    ck_assert_ptr_nonnull(spare.data);
    size_t cap = spare.cap;

    ck_assert_int_eq(m2j_enqueue_args_build_in(&spare, "t", &small, 1, 600, &a, &err), M2J_OK);
    ck_assert_ptr_null(spare.data);
    ck_assert_uint_eq(a.text_cap, cap); /* the big storage, reused */
    ck_assert_int_eq(m2j_enqueue_args_build("t", &small, 1, 600, &want, &err), M2J_OK);
    ck_assert_int_eq(a.argc, want.argc);
    for (int i = 0; i < a.argc; i++) {
        ck_assert_uint_eq(a.lens[i], want.lens[i]);
        ck_assert_msg(memcmp(a.argv[i], want.argv[i], want.lens[i]) == 0 && a.argv[i][a.lens[i]] == '\0',
                      "argument %d differs: %.200s", i, a.argv[i]);
    }
    ck_assert_str_eq(a.argv[a.argc - 1], want.argv[want.argc - 1]);
    /* past the keep bound: freed, not kept */
    m2j_enqueue_args_release(&a, &spare, 64 * 1024);
    ck_assert_ptr_null(spare.data);
    m2j_enqueue_args_free(&want);
    /* a failed build leaves the spare empty too (its storage freed) */
    ck_assert_int_eq(m2j_enqueue_args_build_in(&spare, "t", &small, 1, 600, &a, &err), M2J_OK);
    m2j_enqueue_args_release(&a, &spare, 1 << 20);
    ck_assert_ptr_nonnull(spare.data);
    ck_assert_int_eq(m2j_enqueue_args_build_in(&spare, "t", &small, 1, 0, &a, &err), M2J_ERR_INVALID);
    ck_assert_ptr_null(spare.data);
    for (int i = 0; i < BIG; i++)
        m2j_event_clear(&big[i]);
    m2j_event_clear(&small);
}
END_TEST

/* ---- consume ---- */

START_TEST(take_done)
{
    enqueue_ids(1, "d1");
    m2j_job j;
    m2j_err err;
    ck_assert_int_eq(m2j_queue_take(q, "w1", 100, 60000, &j, &err), M2J_OK);
    ck_assert_str_eq(job_id(&j), "d1");
    ck_assert_int_eq(j.deliveries, 1);
    ck_assert_int_eq(m2j_test_int(raw, "XLEN t:events"), 1);   /* still there while in progress */
    ck_assert_int_eq(m2j_queue_done(q, &j, NULL, &err), M2J_OK);
    ck_assert_int_eq(m2j_test_int(raw, "XLEN t:events"), 0);
    ck_assert_int_eq(m2j_test_int(raw, "HGET t:stats processed"), 1);
    /* a second outcome for the same entry records nothing */
    ck_assert_int_eq(m2j_queue_done(q, &j, NULL, &err), M2J_ERR_CONFLICT);
    ck_assert_int_eq(m2j_test_int(raw, "HGET t:stats processed"), 1);
    m2j_job_clear(&j);
    ck_assert_int_eq(m2j_queue_take(q, "w1", 10, 60000, &j, &err), M2J_ERR_EMPTY);
    ck_assert_ptr_null(j.job);
}
END_TEST

START_TEST(take_skip)
{
    enqueue_ids(1, "s1");
    m2j_job j;
    m2j_err err;
    ck_assert_int_eq(m2j_queue_take(q, "w1", 100, 60000, &j, &err), M2J_OK);
    ck_assert_int_eq(m2j_queue_skip(q, &j, "100000001", "status pending not invoiced", &err), M2J_OK);
    ck_assert_int_eq(m2j_test_int(raw, "XLEN t:events"), 0);
    ck_assert_int_eq(m2j_test_int(raw, "HGET t:stats skipped"), 1);
    redisReply *r = m2j_test_cmd(raw, "XRANGE t:skipped - +");
    ck_assert_int_eq(r->elements, 1);
    redisReply *f = r->element[0]->element[1];
    ck_assert_str_eq(f->element[1]->str, "s1");
    ck_assert_str_eq(f->element[3]->str, "100000001");
    ck_assert_str_eq(f->element[5]->str, "status pending not invoiced");
    freeReplyObject(r);
    m2j_job_clear(&j);
}
END_TEST

START_TEST(retry_promote)
{
    enqueue_ids(1, "r1");
    m2j_job j;
    m2j_err err;
    ck_assert_int_eq(m2j_queue_take(q, "w1", 100, 60000, &j, &err), M2J_OK);
    json_object_object_add(j.job, "attempts", json_object_new_int(1));
    long long now = wall_ms();
    ck_assert_int_eq(m2j_queue_retry(q, &j, now + 100000, NULL, &err), M2J_OK);
    m2j_job_clear(&j);
    ck_assert_int_eq(m2j_test_int(raw, "XLEN t:events"), 0);
    ck_assert_int_eq(m2j_test_int(raw, "ZCARD t:retry"), 1);
    ck_assert_int_eq(m2j_test_int(raw, "HGET t:stats retried"), 1);

    long moved = -1;
    ck_assert_int_eq(m2j_queue_promote_due(q, now, 10, &moved, &err), M2J_OK);
    ck_assert_int_eq(moved, 0);
    ck_assert_int_eq(m2j_queue_take(q, "w1", 10, 60000, &j, &err), M2J_ERR_EMPTY);
    ck_assert_int_eq(m2j_queue_promote_due(q, now + 100000, 10, &moved, &err), M2J_OK);
    ck_assert_int_eq(moved, 1);
    ck_assert_int_eq(m2j_test_int(raw, "ZCARD t:retry"), 0);
    ck_assert_int_eq(m2j_queue_take(q, "w1", 100, 60000, &j, &err), M2J_OK);
    ck_assert_str_eq(job_id(&j), "r1");
    ck_assert_str_eq(m2j_json_str(j.job, "attempts"), "1");
    ck_assert_int_eq(m2j_queue_done(q, &j, NULL, &err), M2J_OK);
    m2j_job_clear(&j);
}
END_TEST

START_TEST(dead_and_replay)
{
    enqueue_ids(1, "dd1");
    m2j_job j;
    m2j_err err;
    ck_assert_int_eq(m2j_queue_take(q, "w1", 100, 60000, &j, &err), M2J_OK);
    json_object_object_add(j.job, "attempts", json_object_new_int(12));
    json_object_object_add(j.job, "first_try", json_object_new_int64(1000));
    json_object_object_add(j.job, "last_try", json_object_new_int64(2000));
    ck_assert_int_eq(m2j_job_add_history(j.job, 1500, "h:1", "retry", "HTTP 503"), M2J_OK);
    json_object *details;
    const char *dtext = "[{\"key\":\"vat\",\"message\":\"bad\"}]";
    ck_assert_int_eq(m2j_json_parse(dtext, strlen(dtext), &details, NULL), M2J_OK);
    m2j_dead_info info = { .reason = "Jortt refused the invoice", .http_status = 422,
                           .error_key = "invalid", .error_details = details, .ref = "100000001" };
    long long before = wall_ms();
    ck_assert_int_eq(m2j_queue_dead(q, &j, &info, &err), M2J_OK);
    json_object_put(details);
    m2j_job_clear(&j);
    ck_assert_int_eq(m2j_test_int(raw, "XLEN t:events"), 0);
    ck_assert_int_eq(m2j_test_int(raw, "HGET t:stats dead_total"), 1);

    m2j_dead_entry *list;
    size_t n;
    ck_assert_int_eq(m2j_queue_dead_list(q, 0, 0, &list, &n, &err), M2J_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(list[0].event_id, "dd1");
    json_object *rec = list[0].record;
    ck_assert_str_eq(m2j_json_str(rec, "reason"), "Jortt refused the invoice");
    ck_assert_str_eq(m2j_json_str(rec, "http_status"), "422");
    ck_assert_str_eq(m2j_json_str(rec, "error_key"), "invalid");
    ck_assert_str_eq(m2j_json_str(rec, "error_details.0.key"), "vat");
    ck_assert_str_eq(m2j_json_str(rec, "attempts"), "12");
    ck_assert_str_eq(m2j_json_str(rec, "first_try"), "1000");
    ck_assert_str_eq(m2j_json_str(rec, "kind"), "order");
    ck_assert_str_eq(m2j_json_str(rec, "ref"), "100000001");
    ck_assert_str_eq(m2j_json_str(rec, "job.event.event_id"), "dd1");
    int64_t dead_at;
    ck_assert_int_eq(m2j_json_int(rec, "dead_at", &dead_at), M2J_OK);
    ck_assert(dead_at >= before);
    m2j_dead_entry_clear(&list[0]);
    free(list);
    /* since filter */
    ck_assert_int_eq(m2j_queue_dead_list(q, dead_at + 1, 0, &list, &n, &err), M2J_OK);
    ck_assert_uint_eq(n, 0);
    ck_assert_ptr_null(list);

    ck_assert_int_eq(m2j_queue_replay(q, "dd1", "cli:test", &err), M2J_OK);
    m2j_dead_entry e;
    ck_assert_int_eq(m2j_queue_dead_get(q, "dd1", &e, &err), M2J_ERR_NOTFOUND);
    ck_assert_int_eq(m2j_queue_replay(q, "dd1", "cli:test", &err), M2J_ERR_NOTFOUND);
    ck_assert_int_eq(m2j_test_int(raw, "ZCARD t:dead:index"), 0);
    ck_assert_int_eq(m2j_test_int(raw, "HGET t:stats replayed"), 1);

    ck_assert_int_eq(m2j_queue_take(q, "w1", 100, 60000, &j, &err), M2J_OK);
    ck_assert_str_eq(job_id(&j), "dd1");
    ck_assert_str_eq(m2j_json_str(j.job, "attempts"), "0");
    ck_assert_str_eq(m2j_json_str(j.job, "replays"), "1");
    ck_assert_str_eq(m2j_json_str(j.job, "first_try"), "1000");
    ck_assert_str_eq(m2j_json_str(j.job, "history.0.outcome"), "retry");
    ck_assert_str_eq(m2j_json_str(j.job, "history.1.outcome"), "replay");
    ck_assert_str_eq(m2j_json_str(j.job, "history.1.by"), "cli:test");
    ck_assert_int_eq(m2j_queue_done(q, &j, NULL, &err), M2J_OK);
    m2j_job_clear(&j);
}
END_TEST

START_TEST(malformed_entry_is_dead_lettered)
{
    freeReplyObject(m2j_test_cmd(raw, "XADD t:events * job %s", "{not json"));
    m2j_job j;
    m2j_err err;
    ck_assert_int_eq(m2j_queue_take(q, "w1", 100, 60000, &j, &err), M2J_OK);
    ck_assert_str_eq(m2j_json_str(j.job, "raw"), "{not json");
    ck_assert_ptr_nonnull(m2j_json_str(j.job, "error"));
    m2j_dead_info info = { .reason = "malformed job" };
    ck_assert_int_eq(m2j_queue_dead(q, &j, &info, &err), M2J_OK);
    char id[128];
    snprintf(id, sizeof id, "raw-%s", j.stream_id);
    m2j_job_clear(&j);
    m2j_dead_entry e;
    ck_assert_int_eq(m2j_queue_dead_get(q, id, &e, &err), M2J_OK);
    ck_assert_str_eq(m2j_json_str(e.record, "job.raw"), "{not json");
    ck_assert_str_eq(m2j_json_str(e.record, "kind"), "unknown");
    m2j_dead_entry_clear(&e);
}
END_TEST

START_TEST(release_puts_back)
{
    enqueue_ids(1, "rel1");
    m2j_job j;
    m2j_err err;
    ck_assert_int_eq(m2j_queue_take(q, "w1", 100, 60000, &j, &err), M2J_OK);
    char *first = strdup(j.stream_id);
    ck_assert_int_eq(m2j_job_add_history(j.job, wall_ms(), "w1", "released", "shutdown"), M2J_OK);
    ck_assert_int_eq(m2j_queue_release(q, &j, &err), M2J_OK);
    m2j_job_clear(&j);
    ck_assert_int_eq(m2j_test_int(raw, "XLEN t:events"), 1);
    ck_assert_int_eq(m2j_queue_take(q, "w2", 100, 60000, &j, &err), M2J_OK);
    ck_assert_str_eq(job_id(&j), "rel1");
    ck_assert_str_ne(j.stream_id, first);
    ck_assert_int_eq(j.deliveries, 1);
    ck_assert_str_eq(m2j_json_str(j.job, "history.0.outcome"), "released");
    ck_assert_int_eq(m2j_queue_done(q, &j, NULL, &err), M2J_OK);
    m2j_job_clear(&j);
    free(first);
}
END_TEST

START_TEST(takeover_after_visibility_timeout)
{
    enqueue_ids(1, "tk1");
    m2j_job a, b;
    m2j_err err;
    ck_assert_int_eq(m2j_queue_take(q, "A", 100, 50, &a, &err), M2J_OK);
    /* B may not take it while it is fresh */
    ck_assert_int_eq(m2j_queue_take(q, "B", 0, 60000, &b, &err), M2J_ERR_EMPTY);
    /* A "crashes"; B polls with a 50 ms visibility until it takes over */
    m2j_rc rc = M2J_ERR_EMPTY;
    long long deadline = m2j_test_now_ms() + 3000;
    while (rc == M2J_ERR_EMPTY && m2j_test_now_ms() < deadline) {
        rc = m2j_queue_take(q, "B", 0, 50, &b, &err);
        if (rc == M2J_ERR_EMPTY)
            m2j_test_sleep_ms(10);
    }
    ck_assert_int_eq(rc, M2J_OK);
    ck_assert_str_eq(b.stream_id, a.stream_id);
    ck_assert_str_eq(job_id(&b), "tk1");
    ck_assert_int_eq(b.deliveries, 2);
    ck_assert_int_eq(m2j_queue_done(q, &b, NULL, &err), M2J_OK);
    /* A wakes up and reports: nothing recorded twice */
    ck_assert_int_eq(m2j_queue_retry(q, &a, wall_ms(), NULL, &err), M2J_ERR_CONFLICT);
    ck_assert_int_eq(m2j_test_int(raw, "HGET t:stats processed"), 1);
    ck_assert_int_eq(m2j_test_int(raw, "ZCARD t:retry"), 0);
    m2j_job_clear(&a);
    m2j_job_clear(&b);
}
END_TEST

/* Idle time (ms) of the only pending entry, -1 if none. */
static long long pending_idle(void)
{
    redisReply *r = redisCommand(raw, "XPENDING t:events " M2J_GROUP " - + 10");
    long long idle = -1;
    if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 1)
        idle = r->element[0]->element[2]->integer;
    freeReplyObject(r);
    return idle;
}

/* A worker that kept its job through a Redis outage asks before running it
 * again: still mine (and the takeover clock starts again), or someone
 * else's now. */
START_TEST(hold_only_while_ours)
{
    enqueue_ids(1, "hd1");
    m2j_job a, b;
    m2j_err err;
    ck_assert_int_eq(m2j_queue_take(q, "A", 100, 50, &a, &err), M2J_OK);
    long long deadline = m2j_test_now_ms() + 3000;
    while (pending_idle() < 100 && m2j_test_now_ms() < deadline)
        m2j_test_sleep_ms(10);
    ck_assert_int_ge(pending_idle(), 100);
    ck_assert_int_eq(m2j_queue_hold(q, &a, "A", &err), M2J_OK);
    ck_assert_int_lt(pending_idle(), 100);
    /* A goes quiet; B takes over */
    m2j_rc rc = M2J_ERR_EMPTY;
    deadline = m2j_test_now_ms() + 3000;
    while (rc == M2J_ERR_EMPTY && m2j_test_now_ms() < deadline) {
        rc = m2j_queue_take(q, "B", 0, 50, &b, &err);
        if (rc == M2J_ERR_EMPTY)
            m2j_test_sleep_ms(10);
    }
    ck_assert_int_eq(rc, M2J_OK);
    ck_assert_int_eq(m2j_queue_hold(q, &a, "A", &err), M2J_ERR_CONFLICT);
    ck_assert_int_eq(m2j_queue_hold(q, &b, "B", &err), M2J_OK);
    ck_assert_int_eq(b.deliveries, 2); /* holding is not a delivery */
    ck_assert_int_eq(m2j_queue_done(q, &b, NULL, &err), M2J_OK);
    ck_assert_int_eq(m2j_queue_hold(q, &b, "B", &err), M2J_ERR_CONFLICT);
    m2j_job_clear(&a);
    m2j_job_clear(&b);
}
END_TEST

START_TEST(stats_add_up)
{
    enqueue_ids(5, "s1", "s2", "s3", "s4", "s5");
    enqueue_ids(1, "s1"); /* duplicate */
    m2j_job j;
    m2j_err err;
    ck_assert_int_eq(m2j_queue_take(q, "w", 100, 60000, &j, &err), M2J_OK);
    ck_assert_int_eq(m2j_queue_done(q, &j, NULL, &err), M2J_OK);
    m2j_job_clear(&j);
    ck_assert_int_eq(m2j_queue_take(q, "w", 100, 60000, &j, &err), M2J_OK);
    ck_assert_int_eq(m2j_queue_retry(q, &j, wall_ms() + 60000, NULL, &err), M2J_OK);
    m2j_job_clear(&j);
    ck_assert_int_eq(m2j_queue_take(q, "w", 100, 60000, &j, &err), M2J_OK);
    m2j_dead_info info = { .reason = "x" };
    ck_assert_int_eq(m2j_queue_dead(q, &j, &info, &err), M2J_OK);
    m2j_job_clear(&j);
    ck_assert_int_eq(m2j_queue_take(q, "w", 100, 60000, &j, &err), M2J_OK);
    ck_assert_int_eq(m2j_queue_skip(q, &j, NULL, "y", &err), M2J_OK);
    m2j_job_clear(&j);
    ck_assert_int_eq(m2j_queue_take(q, "w", 100, 60000, &j, &err), M2J_OK); /* stays in progress */

    /* 30 Jortt calls spread over the last 10 whole seconds */
    redisReply *t = m2j_test_cmd(raw, "TIME");
    long long now_s = atoll(t->element[0]->str);
    freeReplyObject(t);
    freeReplyObject(m2j_test_cmd(raw, "SET t:jortt:calls:%lld 20", now_s - 2));
    freeReplyObject(m2j_test_cmd(raw, "SET t:jortt:calls:%lld 10", now_s - 9));
    freeReplyObject(m2j_test_cmd(raw, "SET t:jortt:calls:%lld 500", now_s - 30)); /* too old */

    m2j_queue_stats s;
    ck_assert_int_eq(m2j_queue_stats_get(q, &s, &err), M2J_OK);
    ck_assert_int_eq(s.received, 5);
    ck_assert_int_eq(s.duplicates, 1);
    ck_assert_int_eq(s.processed, 1);
    ck_assert_int_eq(s.retried, 1);
    ck_assert_int_eq(s.skipped, 1);
    ck_assert_int_eq(s.failed, 1);
    ck_assert_int_eq(s.scheduled_retries, 1);
    ck_assert_int_eq(s.in_progress, 1);
    ck_assert_int_eq(s.queued, 0);
    ck_assert_int_eq(s.replayed, 0);
    /* every received event is in exactly one place */
    ck_assert_int_eq(s.received, s.processed + s.skipped + s.failed + s.scheduled_retries + s.in_progress + s.queued);
    ck_assert(s.oldest_age_ms >= 0 && s.oldest_age_ms < 60000);
    ck_assert(s.jortt_calls_per_second > 2.99 && s.jortt_calls_per_second < 3.01);
    m2j_job_clear(&j);

    enqueue_ids(2, "s6", "s7");
    ck_assert_int_eq(m2j_queue_stats_get(q, &s, &err), M2J_OK);
    ck_assert_int_eq(s.queued, 2);
    ck_assert_int_eq(s.in_progress, 1);
}
END_TEST

START_TEST(locks)
{
    m2j_err err;
    ck_assert_int_eq(m2j_lock_acquire(q, "order:1", "tokA", 10000, &err), M2J_OK);
    ck_assert_int_eq(m2j_lock_acquire(q, "order:1", "tokB", 10000, &err), M2J_ERR_CONFLICT);
    /* the full key names the same lock */
    ck_assert_int_eq(m2j_lock_acquire(q, "t:lock:order:1", "tokB", 10000, &err), M2J_ERR_CONFLICT);
    ck_assert_int_eq(m2j_lock_release(q, "order:1", "tokB", &err), M2J_ERR_CONFLICT);
    redisReply *r = m2j_test_cmd(raw, "GET t:lock:order:1");
    ck_assert_str_eq(r->str, "tokA");
    freeReplyObject(r);
    long long pttl = m2j_test_int(raw, "PTTL t:lock:order:1");
    ck_assert(pttl > 0 && pttl <= 10000);
    ck_assert_int_eq(m2j_lock_release(q, "order:1", "tokA", &err), M2J_OK);
    ck_assert_int_eq(m2j_test_int(raw, "EXISTS t:lock:order:1"), 0);
    ck_assert_int_eq(m2j_lock_acquire(q, "order:1", "tokB", 10000, &err), M2J_OK);
    ck_assert_int_eq(m2j_lock_acquire(q, "order:2", "tokA", 10000, &err), M2J_OK);
}
END_TEST

START_TEST(script_cache_survives_flush)
{
    enqueue_ids(2, "f1", "f2");
    m2j_job j;
    m2j_err err;
    ck_assert_int_eq(m2j_queue_take(q, "w", 100, 60000, &j, &err), M2J_OK);
    ck_assert_int_eq(m2j_queue_done(q, &j, NULL, &err), M2J_OK);
    m2j_job_clear(&j);
    freeReplyObject(m2j_test_cmd(raw, "SCRIPT FLUSH"));
    ck_assert_int_eq(m2j_queue_take(q, "w", 100, 60000, &j, &err), M2J_OK);
    ck_assert_int_eq(m2j_queue_done(q, &j, NULL, &err), M2J_OK);
    m2j_job_clear(&j);
    ck_assert_int_eq(m2j_test_int(raw, "HGET t:stats processed"), 2);
}
END_TEST

/* ---- connection handling (own servers) ---- */

START_TEST(redis_restart_then_recovery)
{
    m2j_test_redis own;
    ck_assert_int_eq(m2j_test_redis_start(&own, NULL), 0);
    m2j_config c;
    cfg_for(&c, own.port);
    m2j_queue *qq;
    m2j_err err;
    ck_assert_int_eq(m2j_queue_open(&c, &qq, &err), M2J_OK);
    m2j_queue *saved = q;
    q = qq;
    enqueue_ids(1, "before");

    m2j_test_redis_kill(&own);
    m2j_job j;
    ck_assert_int_eq(m2j_queue_take(qq, "w", 10, 60000, &j, &err), M2J_ERR_IO);
    m2j_queue_stats s;
    ck_assert_int_eq(m2j_queue_stats_get(qq, &s, &err), M2J_ERR_IO);
    ck_assert_ptr_null(m2j_queue_redis(qq));

    ck_assert_int_eq(m2j_test_redis_spawn(&own), 0);
    /* the server came back empty: the queue reconnects and re-creates the group */
    enqueue_ids(1, "after");
    ck_assert_int_eq(m2j_queue_take(qq, "w", 100, 60000, &j, &err), M2J_OK);
    ck_assert_str_eq(job_id(&j), "after");
    ck_assert_int_eq(m2j_queue_done(qq, &j, NULL, &err), M2J_OK);
    m2j_job_clear(&j);
    ck_assert_ptr_nonnull(m2j_queue_redis(qq));

    q = saved;
    m2j_queue_close(qq);
    m2j_test_redis_stop(&own);
}
END_TEST

START_TEST(stream_flushed_under_a_worker)
{
    /* FLUSHALL removes the group; take must re-create it, not fail forever */
    freeReplyObject(m2j_test_cmd(raw, "FLUSHALL"));
    m2j_job j;
    m2j_err err;
    ck_assert_int_eq(m2j_queue_take(q, "w", 10, 0, &j, &err), M2J_ERR_EMPTY);
    enqueue_ids(1, "g1");
    ck_assert_int_eq(m2j_queue_take(q, "w", 100, 0, &j, &err), M2J_OK);
    m2j_job_clear(&j);
}
END_TEST

START_TEST(auth_user_password_db)
{
    static const char *const extra[] = {
        "--requirepass", "adminpw",
        "--user", "alice", "on", ">alicepw", "~*", "&*", "+@all", NULL
    };
    m2j_test_redis own;
    ck_assert_int_eq(m2j_test_redis_start(&own, extra), 0);
    m2j_config c;
    m2j_queue *qq;
    m2j_err err;

    cfg_for(&c, own.port);
    ck_assert_int_eq(m2j_queue_open(&c, &qq, &err), M2J_ERR_AUTH); /* NOAUTH: no password given */

    c.redis.password = "wrong";
    ck_assert_int_eq(m2j_queue_open(&c, &qq, &err), M2J_ERR_AUTH);
    ck_assert_ptr_null(strstr(err.msg, "wrong"));

    c.redis.username = "alice";
    c.redis.password = "alicepw";
    c.redis.db = 3;
    ck_assert_int_eq(m2j_queue_open(&c, &qq, &err), M2J_OK);
    m2j_queue *saved = q;
    q = qq;
    enqueue_ids(1, "authed");
    q = saved;
    m2j_queue_close(qq);

    /* landed in db 3 */
    struct timeval tv = { .tv_sec = 2 };
    redisContext *rc = redisConnectWithTimeout("127.0.0.1", own.port, tv);
    redisReply *r = redisCommand(rc, "AUTH adminpw");
    freeReplyObject(r);
    r = redisCommand(rc, "SELECT 3");
    freeReplyObject(r);
    r = redisCommand(rc, "XLEN t:events");
    ck_assert_int_eq(r->integer, 1);
    freeReplyObject(r);
    redisFree(rc);
    m2j_test_redis_stop(&own);
}
END_TEST

START_TEST(unix_socket)
{
    char sock[128];
    snprintf(sock, sizeof sock, "/tmp/m2j-test-%d.sock", (int)getpid());
    const char *extra[] = { "--unixsocket", sock, "--unixsocketperm", "700", NULL };
    m2j_test_redis own;
    ck_assert_int_eq(m2j_test_redis_start(&own, extra), 0);
    m2j_config c;
    cfg_for(&c, 0);
    c.redis.host = NULL;
    c.redis.unix_path = sock;
    m2j_queue *qq;
    m2j_err err;
    ck_assert_int_eq(m2j_queue_open(&c, &qq, &err), M2J_OK);
    m2j_queue_stats s;
    ck_assert_int_eq(m2j_queue_stats_get(qq, &s, &err), M2J_OK);
    ck_assert_int_eq(s.queued, 0);
    m2j_queue_close(qq);
    m2j_test_redis_stop(&own);
    unlink(sock);
}
END_TEST

START_TEST(unreachable_is_io)
{
    m2j_config c;
    cfg_for(&c, m2j_test_free_port());
    m2j_queue *qq = (m2j_queue *)1;
    m2j_err err;
    ck_assert_int_eq(m2j_queue_open(&c, &qq, &err), M2J_ERR_IO);
    ck_assert_ptr_null(qq);
}
END_TEST

static Suite *queue_suite(void)
{
    Suite *s = suite_create("queue");
    TCase *tc = tcase_create("shared-server");
    tcase_add_unchecked_fixture(tc, suite_setup, suite_teardown);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, enqueue_single);
    tcase_add_test(tc, enqueue_batch_and_duplicates);
    tcase_add_test(tc, enqueue_all_or_nothing);
    tcase_add_test(tc, enqueue_args_and_async);
    tcase_add_test(tc, enqueue_args_reused_after_a_big_batch);
    tcase_add_test(tc, take_done);
    tcase_add_test(tc, take_skip);
    tcase_add_test(tc, retry_promote);
    tcase_add_test(tc, dead_and_replay);
    tcase_add_test(tc, malformed_entry_is_dead_lettered);
    tcase_add_test(tc, release_puts_back);
    tcase_add_test(tc, takeover_after_visibility_timeout);
    tcase_add_test(tc, hold_only_while_ours);
    tcase_add_test(tc, stats_add_up);
    tcase_add_test(tc, locks);
    tcase_add_test(tc, script_cache_survives_flush);
    tcase_add_test(tc, stream_flushed_under_a_worker);
    tcase_add_test(tc, redis_restart_then_recovery);
    tcase_add_test(tc, auth_user_password_db);
    tcase_add_test(tc, unix_socket);
    tcase_add_test(tc, unreachable_is_io);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN); /* a killed redis-server must give errors, not kill the test */
    SRunner *sr = srunner_create(queue_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
