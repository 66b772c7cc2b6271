/* test_worker_redis.c: the worker's shared Redis state (fleet rate limit,
 * 429 pause, circuit breaker, token compare-and-delete) and the processor's
 * queue outcomes that need no Jortt call (skip, dead, poison, locked, retry
 * without invoice, already invoiced), against a private redis-server. */
#include "jortt/breaker.h"
#include "base/json_util.h"
#include "worker/exactly_once.h"
#include "worker/processor.h"
#include "queue/queue.h"
#include "queue/ratelimit.h"
#include "redis_helper.h"
#include "jortt/token.h"
#include "jortt/token_seal.h"
#include "queue/redis_cmd.h"

#include <check.h>
#include <stdarg.h>

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

/* Config: the orders section of mapping fixture 01, so its order plans. */
static void setup(void)
{
    struct timeval tv = { .tv_sec = 2 };
    raw = redisConnectWithTimeout("127.0.0.1", srv.port, tv);
    ck_assert(raw && !raw->err);
    freeReplyObject(redisCommand(raw, "FLUSHALL"));
    json_object *fx = NULL;
    m2j_err err;
    ck_assert_int_eq(m2j_json_parse_file("tests/fixtures/orders/01-nl-private-excl-tax-21.json", 1 << 20, &fx, &err),
                     M2J_OK);
    json_object *c = json_object_new_object();
    char url[64];
    snprintf(url, sizeof url, "redis://127.0.0.1:%d/0", srv.port);
    json_object *redis = json_object_new_object();
    json_object_object_add(redis, "url", json_object_new_string(url));
    json_object_object_add(redis, "key_prefix", json_object_new_string("t"));
    json_object_object_add(c, "redis", redis);
    json_object *recv = json_object_new_object();
    json_object_object_add(recv, "webhook_secret", json_object_new_string("test-secret"));
    json_object_object_add(c, "receiver", recv);
    json_object *worker = json_object_new_object();
    json_object_object_add(worker, "max_deliveries", json_object_new_int(3));
    json_object *retry = json_object_new_object();
    json_object_object_add(retry, "base_seconds", json_object_new_int(60));
    json_object_object_add(retry, "max_seconds", json_object_new_int(600));
    json_object_object_add(retry, "max_attempts", json_object_new_int(2));
    json_object_object_add(worker, "retry", retry);
    json_object_object_add(c, "worker", worker);
    json_object_object_add(c, "orders", json_object_get(m2j_json_path(fx, "config.orders")));
    ck_assert_int_eq(m2j_config_load_string(json_object_to_json_string(c), &cfg, &err), M2J_OK);
    json_object_put(c);
    json_object_put(fx);
    ck_assert_int_eq(m2j_queue_open(cfg, &q, &err), M2J_OK);
}

static void teardown(void)
{
    m2j_queue_close(q);
    m2j_config_free(cfg);
    redisFree(raw);
    q = NULL;
    cfg = NULL;
    raw = NULL;
}


/* ---- rate limit ---- */

START_TEST(ratelimit_spaces_calls)
{
    m2j_err err;
    long long w = -1;
    ck_assert_int_eq(m2j_ratelimit_ask(q, &M2J_RL_JORTT, 10, &w, &err), M2J_OK);
    ck_assert_int_eq(w, 0); /* idle limiter: go */
    long long t0 = m2j_test_now_ms();
    ck_assert_int_eq(m2j_ratelimit_ask(q, &M2J_RL_JORTT, 10, &w, &err), M2J_OK);
    long long dt = m2j_test_now_ms() - t0;
    /* The next slot is 101 ms after the first (1 % slack), unless this very
     * machine stalled that long between the two asks. */
    ck_assert_msg((w > 0 && w <= 101) || (w == 0 && dt >= 99), "wait %lld after %lld ms", w, dt);
    /* every granted call is counted for the stats */
    redisReply *r = redisCommand(raw, "KEYS t:jortt:calls:*");
    long long sum = 0;
    for (size_t i = 0; i < r->elements; i++)
        sum += m2j_test_int(raw, "GET %s", r->element[i]->str);
    ck_assert_int_eq(sum, w == 0 ? 2 : 1);
    ck_assert_int_gt(m2j_test_int(raw, "TTL %s", r->element[0]->str), 100);
    freeReplyObject(r);
}
END_TEST

/* Magento's limit is its own: a busy or paused Jortt limit does not slow the
 * Magento calls, and the reverse. */
START_TEST(ratelimit_per_api)
{
    m2j_err err;
    long long w = -1;
    ck_assert_int_eq(m2j_ratelimit_ask(q, &M2J_RL_JORTT, 1, &w, &err), M2J_OK);
    ck_assert_int_eq(w, 0);
    ck_assert_int_eq(m2j_ratelimit_pause(q, &M2J_RL_JORTT, 30, &err), M2J_OK);
    ck_assert_int_eq(m2j_ratelimit_ask(q, &M2J_RL_MAGENTO, 1, &w, &err), M2J_OK);
    ck_assert_int_eq(w, 0);
    ck_assert_int_eq(m2j_test_int(raw, "EXISTS t:magento:rl"), 1);
    ck_assert_int_eq(m2j_ratelimit_ask(q, &M2J_RL_MAGENTO, 1, &w, &err), M2J_OK);
    ck_assert_int_gt(w, 500); /* one a second: the next slot is a second away */
    ck_assert_int_eq(m2j_ratelimit_pause(q, &M2J_RL_MAGENTO, 20, &err), M2J_OK);
    ck_assert_int_eq(m2j_ratelimit_ask(q, &M2J_RL_MAGENTO, 1, &w, &err), M2J_OK);
    ck_assert_int_gt(w, 19000);
    ck_assert_int_le(w, 20000);
    ck_assert_int_eq(m2j_ratelimit_ask(q, &M2J_RL_JORTT, 1, &w, &err), M2J_OK);
    ck_assert_int_gt(w, 29000); /* Jortt's own pause, not Magento's */
    redisReply *r = redisCommand(raw, "KEYS t:magento:calls:*");
    ck_assert_int_eq(r->elements, 1);
    freeReplyObject(r);
}
END_TEST

START_TEST(ratelimit_pause_stops_the_fleet)
{
    m2j_err err;
    ck_assert_int_eq(m2j_ratelimit_pause(q, &M2J_RL_JORTT, 0, &err), M2J_OK); /* at least one second */
    long long w = 0;
    ck_assert_int_eq(m2j_ratelimit_ask(q, &M2J_RL_JORTT, 10, &w, &err), M2J_OK);
    ck_assert_int_gt(w, 500);
    ck_assert_int_le(w, 1000);
    ck_assert_int_eq(m2j_ratelimit_pause(q, &M2J_RL_JORTT, 30, &err), M2J_OK); /* Retry-After 30 */
    ck_assert_int_eq(m2j_ratelimit_ask(q, &M2J_RL_JORTT, 10, &w, &err), M2J_OK);
    ck_assert_int_gt(w, 29000);
    ck_assert_int_eq(m2j_test_int(raw, "EXISTS t:rl"), 0); /* nothing granted meanwhile */
}
END_TEST

/* ---- breaker ---- */

START_TEST(breaker_opens_at_five_and_backs_off)
{
    m2j_err err;
    m2j_breaker_state st;
    long long now = 1000000;
    for (int i = 1; i < M2J_BREAKER_THRESHOLD; i++) {
        ck_assert_int_eq(m2j_breaker_failure(q, now, &st, &err), M2J_OK);
        ck_assert(!st.open);
    }
    ck_assert_int_eq(m2j_breaker_failure(q, now, &st, &err), M2J_OK);
    ck_assert(st.open);
    ck_assert_int_eq(st.open_until_ms, now + 5000);
    /* more failures while open do not extend it */
    ck_assert_int_eq(m2j_breaker_failure(q, now + 100, &st, &err), M2J_OK);
    ck_assert_int_eq(st.open_until_ms, now + 5000);
    ck_assert_int_eq(m2j_breaker_get(q, &st, &err), M2J_OK);
    ck_assert(st.open);
    /* a failed probe after the open period: 10 s, then 20, 40, 60 (cap) */
    long long t = now + 5000;
    long long want[] = { 10000, 20000, 40000, 60000, 60000 };
    for (int i = 0; i < 5; i++) {
        ck_assert_int_eq(m2j_breaker_failure(q, t, &st, &err), M2J_OK);
        ck_assert(st.open);
        ck_assert_int_eq(st.open_until_ms, t + want[i]);
        t = st.open_until_ms;
    }
    /* one success anywhere closes it and resets the back-off */
    ck_assert_int_eq(m2j_breaker_success(q, &err), M2J_OK);
    ck_assert_int_eq(m2j_breaker_get(q, &st, &err), M2J_OK);
    ck_assert(!st.open);
    for (int i = 0; i < M2J_BREAKER_THRESHOLD; i++)
        ck_assert_int_eq(m2j_breaker_failure(q, t, &st, &err), M2J_OK);
    ck_assert_int_eq(st.open_until_ms, t + 5000);
}
END_TEST

START_TEST(breaker_one_prober)
{
    m2j_err err;
    ck_assert_int_eq(m2j_breaker_claim_probe(q, "a", &err), M2J_OK);
    ck_assert_int_eq(m2j_breaker_claim_probe(q, "b", &err), M2J_ERR_CONFLICT);
    ck_assert_int_le(m2j_test_int(raw, "PTTL t:breaker:probe"), 10000);
}
END_TEST

/* ---- token ---- */

/* Redis holds the sealed token: drop compares what it opens to. */
START_TEST(token_drop_only_if_unchanged)
{
    m2j_err err;
    m2j_buf sealed = {0};
    const m2j_jortt_config *j = &cfg->jortt;
    ck_assert_int_eq(m2j_token_seal(j->client_id, j->client_secret, "t:jortt:token", "fresh", &sealed, &err), M2J_OK);
    freeReplyObject(redisCommand(raw, "SET t:jortt:token %s", sealed.data));
    ck_assert_int_eq(m2j_token_drop(q, j, "stale", &err), M2J_OK);
    ck_assert_int_eq(m2j_test_int(raw, "EXISTS t:jortt:token"), 1);
    ck_assert_int_eq(m2j_token_drop(q, j, "fresh", &err), M2J_OK);
    ck_assert_int_eq(m2j_test_int(raw, "EXISTS t:jortt:token"), 0);
    /* a value that does not open (altered, another secret) is of no use: dropped */
    freeReplyObject(redisCommand(raw, "SET t:jortt:token %s", "v1.AAAA"));
    ck_assert_int_eq(m2j_token_drop(q, j, "stale", &err), M2J_OK);
    ck_assert_int_eq(m2j_test_int(raw, "EXISTS t:jortt:token"), 0);
    m2j_buf_free(&sealed);
}
END_TEST

/* ---- processor outcomes that need no Jortt call ---- */

static volatile sig_atomic_t no_stop = 0;

static void worker_init(m2j_worker *w)
{
    memset(w, 0, sizeof *w);
    w->cfg = cfg;
    w->q = q;
    w->consumer = "test:1";
    w->stop = &no_stop;
    w->api.cfg = cfg;
    w->api.q = q;
    w->api.stop = &no_stop; /* http stays NULL: any Jortt call would crash the test */
}

/* The intent record is written only by the lock's holder, in one script
 * with the check: a worker resumed after losing its lock must not
 * overwrite the record of the one that took it over. */
START_TEST(intent_is_fenced_by_the_lock)
{
    m2j_worker w;
    worker_init(&w);
    m2j_once o = { .w = &w, .lock = "order:77", .lock_key = "t:lock:order:77", .token = "mine", .slot = -1 };
    m2j_err err;
    freeReplyObject(redisCommand(raw, "SET t:lock:order:77 theirs PX 60000"));
    freeReplyObject(redisCommand(raw, "HSET t:order:77 state done invoice_id inv-theirs"));
    ck_assert_int_eq(m2j_once_fenced_hset(&o, "t:order:77", &err, "state", "pending", NULL), M2J_ERR_CONFLICT);
    redisReply *r = redisCommand(raw, "HGET t:order:77 state");
    ck_assert_str_eq(r->str, "done");
    freeReplyObject(r);
    /* expired: nobody's, and still not ours */
    freeReplyObject(redisCommand(raw, "DEL t:lock:order:77"));
    ck_assert_int_eq(m2j_once_fenced_hset(&o, "t:order:77", &err, "state", "pending", NULL), M2J_ERR_CONFLICT);
    ck_assert_int_eq(m2j_test_int(raw, "EXISTS t:lock:order:77"), 0);
    /* ours: written, and the lock extended to its full TTL */
    freeReplyObject(redisCommand(raw, "SET t:lock:order:77 mine PX 1000"));
    ck_assert_int_eq(m2j_once_fenced_hset(&o, "t:order:78", &err, "state", "pending", "at", "1", NULL), M2J_OK);
    r = redisCommand(raw, "HGET t:order:78 state");
    ck_assert_str_eq(r->str, "pending");
    freeReplyObject(r);
    ck_assert_int_gt(m2j_test_int(raw, "PTTL t:lock:order:77"), 1000);
}
END_TEST

static void enqueue(const char *kind, const char *id, json_object *entity)
{
    m2j_event ev = { 0 };
    ev.event_id = strdup(id);
    ck_assert_int_eq(m2j_kind_parse(kind, &ev.kind), M2J_OK);
    ev.source = strdup("rest");
    ev.event_type = strdup("com.example.some_event");
    ev.received_at = 1;
    ev.entity = entity;
    m2j_enqueue_result res;
    m2j_err err;
    ck_assert_int_eq(m2j_queue_enqueue(q, &ev, 1, 3600, &res, &err), M2J_OK);
    m2j_enqueue_results_clear(&res, 1);
    m2j_event_clear(&ev);
}

static json_object *fixture_order(void)
{
    json_object *fx = NULL;
    ck_assert_int_eq(m2j_json_parse_file("tests/fixtures/orders/01-nl-private-excl-tax-21.json", 1 << 20, &fx, NULL),
                     M2J_OK);
    json_object *o = json_object_get(m2j_json_path(fx, "order"));
    json_object_put(fx);
    return o;
}

static void take_and_process(long long *deliveries_out)
{
    m2j_worker w;
    worker_init(&w);
    m2j_job job;
    m2j_err err;
    ck_assert_int_eq(m2j_queue_take(q, "test:1", 100, 60000, &job, &err), M2J_OK);
    if (deliveries_out)
        job.deliveries = *deliveries_out;
    ck_assert_int_eq(m2j_process_job(&w, &job, &err), M2J_OK);
    ck_assert_int_eq(w.api.calls, 0);
    m2j_job_clear(&job);
}

static json_object *retry_job(long long *score)
{
    redisReply *r = redisCommand(raw, "ZRANGE t:retry 0 -1 WITHSCORES");
    ck_assert_int_eq(r->elements, 2);
    json_object *j = NULL;
    ck_assert_int_eq(m2j_json_parse(r->element[0]->str, r->element[0]->len, &j, NULL), M2J_OK);
    *score = atoll(r->element[1]->str);
    freeReplyObject(r);
    return j;
}

START_TEST(ignored_event_is_skipped)
{
    enqueue("ignored", "ev-ign", NULL);
    take_and_process(NULL);
    ck_assert_int_eq(m2j_test_int(raw, "HGET t:stats skipped"), 1);
    ck_assert_int_eq(m2j_test_int(raw, "XLEN t:events"), 0);
    redisReply *r = redisCommand(raw, "XRANGE t:skipped - +");
    ck_assert_int_eq(r->elements, 1);
    ck_assert_str_eq(r->element[0]->element[1]->element[5]->str, "event type com.example.some_event is not handled");
    freeReplyObject(r);
}
END_TEST

START_TEST(unparseable_job_is_dead)
{
    freeReplyObject(redisCommand(raw, "XADD t:events * job %s", "{\"event\":{\"kind\":\"order\"}}"));
    take_and_process(NULL);
    ck_assert_int_eq(m2j_test_int(raw, "ZCARD t:dead:index"), 1);
    ck_assert_int_eq(m2j_test_int(raw, "XLEN t:events"), 0);
}
END_TEST

START_TEST(poison_is_dead)
{
    enqueue("order", "ev-poison", fixture_order());
    long long d = 4; /* max_deliveries is 3 */
    take_and_process(&d);
    redisReply *r = redisCommand(raw, "HGET t:dead:ev-poison reason");
    ck_assert_int_eq(r->type, REDIS_REPLY_STRING);
    ck_assert_str_eq(r->str, "poison: delivered 4 times without an outcome");
    freeReplyObject(r);
}
END_TEST

START_TEST(locked_order_waits_without_an_attempt)
{
    freeReplyObject(redisCommand(raw, "SET t:lock:order:100000001 someone-else PX 60000"));
    enqueue("order", "ev-locked", fixture_order());
    long long before = m2j_now_ms();
    take_and_process(NULL);
    long long due;
    json_object *j = retry_job(&due);
    ck_assert_int_ge(due, before + M2J_LOCKED_RETRY_MS);
    ck_assert_int_le(due, m2j_now_ms() + M2J_LOCKED_RETRY_MS);
    ck_assert_str_eq(m2j_json_str(j, "attempts"), "0");
    ck_assert_str_eq(m2j_json_str(j, "history.0.outcome"), "locked");
    json_object_put(j);
    /* the other owner's lock is untouched */
    redisReply *r = redisCommand(raw, "GET t:lock:order:100000001");
    ck_assert_str_eq(r->str, "someone-else");
    freeReplyObject(r);
}
END_TEST

/* Puts job (the waiting copy from the retry zset, changed by the test) back
 * into the stream in its place. */
static void requeue(json_object *j)
{
    freeReplyObject(redisCommand(raw, "DEL t:retry"));
    freeReplyObject(redisCommand(raw, "XADD t:events * job %s", json_object_to_json_string(j)));
}

/* A lock that never frees: the event waits, history bounded, then after
 * worker.max_defer_hours it is a dead letter that says why. */
START_TEST(locked_for_days_is_dead_with_a_reason)
{
    freeReplyObject(redisCommand(raw, "SET t:lock:order:100000001 someone-else PX 600000"));
    enqueue("order", "ev-stuck", fixture_order());
    const int rounds = 40;
    long long due = 0;
    for (int i = 0; i < rounds; i++) {
        take_and_process(NULL);
        json_object *j = retry_job(&due);
        requeue(j);
        json_object_put(j);
    }
    take_and_process(NULL);
    json_object *j = retry_job(&due);
    ck_assert_str_eq(m2j_json_str(j, "defers"), "41");
    ck_assert_int_eq(json_object_array_length(m2j_json_path(j, "history")), M2J_HISTORY_FIRST + M2J_HISTORY_LAST);
    ck_assert_int_eq(atoi(m2j_json_str(j, "history_dropped")), rounds + 1 - M2J_HISTORY_FIRST - M2J_HISTORY_LAST);
    ck_assert_int_eq(m2j_test_int(raw, "ZCARD t:dead:index"), 0);

    /* 72 h and a minute since the first round */
    json_object_object_add(j, "deferred_since", json_object_new_int64(m2j_now_ms() - (72LL * 3600 + 60) * 1000));
    requeue(j);
    json_object_put(j);
    take_and_process(NULL);
    ck_assert_int_eq(m2j_test_int(raw, "ZCARD t:retry"), 0);
    redisReply *r = redisCommand(raw, "HGET t:dead:ev-stuck reason");
    ck_assert_int_eq(r->type, REDIS_REPLY_STRING);
    ck_assert_msg(strstr(r->str, "waited more than 72 h without an attempt (worker.max_defer_hours; 42 rounds locked)"),
                  "reason: %s", r->str);
    ck_assert_msg(strstr(r->str, "order is being handled by another worker"), "reason: %s", r->str);
    freeReplyObject(r);
}
END_TEST

/* A replay starts the waiting clock again, so a replayed event is not dead
 * on its first round. */
START_TEST(replay_restarts_the_wait)
{
    freeReplyObject(redisCommand(raw, "SET t:lock:order:100000001 someone-else PX 600000"));
    enqueue("order", "ev-replayed", fixture_order());
    take_and_process(NULL);
    long long due;
    json_object *j = retry_job(&due);
    json_object_object_add(j, "deferred_since", json_object_new_int64(m2j_now_ms() - 100LL * 3600 * 1000));
    json_object_object_add(j, "replays", json_object_new_int(1));
    requeue(j);
    json_object_put(j);
    take_and_process(NULL);
    ck_assert_int_eq(m2j_test_int(raw, "ZCARD t:dead:index"), 0);
    j = retry_job(&due);
    ck_assert_str_eq(m2j_json_str(j, "defers"), "1");
    ck_assert_str_eq(m2j_json_str(j, "defer_replays"), "1");
    json_object_put(j);
}
END_TEST

START_TEST(invoiced_order_is_skipped_without_a_call)
{
    freeReplyObject(redisCommand(raw, "HSET t:order:100000001 state done invoice_id inv-1"));
    enqueue("order", "ev-dup", fixture_order());
    take_and_process(NULL);
    redisReply *r = redisCommand(raw, "XRANGE t:skipped - +");
    ck_assert_int_eq(r->elements, 1);
    ck_assert_str_eq(r->element[0]->element[1]->element[5]->str, "already invoiced as inv-1");
    freeReplyObject(r);
    ck_assert_int_eq(m2j_test_int(raw, "EXISTS t:lock:order:100000001"), 0); /* released */
}
END_TEST

START_TEST(credit_for_uninvoiced_order_retries_then_dies)
{
    const char *memo = "{\"entity_id\":7,\"order_increment_id\":\"999\",\"grand_total\":\"10.00\"}";
    json_object *m = NULL;
    ck_assert_int_eq(m2j_json_parse(memo, strlen(memo), &m, NULL), M2J_OK);
    enqueue("creditmemo", "ev-memo", m);
    long long before = m2j_now_ms();
    take_and_process(NULL);
    long long due;
    json_object *j = retry_job(&due);
    /* attempt 1 of 2: 60 s +-20 % */
    ck_assert_int_ge(due, before + 48000);
    ck_assert_int_le(due, m2j_now_ms() + 72000);
    ck_assert_str_eq(m2j_json_str(j, "attempts"), "1");
    ck_assert_str_eq(m2j_json_str(j, "history.0.reason"), "order was never invoiced");
    json_object_put(j);
    /* make it due now and run it again: the last attempt dead-letters it */
    m2j_err err;
    ck_assert_int_eq(m2j_queue_promote_due(q, due, 10, NULL, &err), M2J_OK);
    take_and_process(NULL);
    redisReply *r = redisCommand(raw, "HGET t:dead:ev-memo reason");
    ck_assert_int_eq(r->type, REDIS_REPLY_STRING);
    ck_assert_str_eq(r->str, "order was never invoiced (gave up after 2 attempts)");
    freeReplyObject(r);
    ck_assert_int_eq(m2j_test_int(raw, "ZCARD t:retry"), 0);
}
END_TEST

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    Suite *s = suite_create("worker_redis");
    TCase *tc = tcase_create("redis");
    tcase_add_unchecked_fixture(tc, suite_setup, suite_teardown);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, ratelimit_spaces_calls);
    tcase_add_test(tc, ratelimit_pause_stops_the_fleet);
    tcase_add_test(tc, ratelimit_per_api);
    tcase_add_test(tc, breaker_opens_at_five_and_backs_off);
    tcase_add_test(tc, breaker_one_prober);
    tcase_add_test(tc, token_drop_only_if_unchanged);
    tcase_add_test(tc, intent_is_fenced_by_the_lock);
    tcase_add_test(tc, ignored_event_is_skipped);
    tcase_add_test(tc, unparseable_job_is_dead);
    tcase_add_test(tc, poison_is_dead);
    tcase_add_test(tc, locked_order_waits_without_an_attempt);
    tcase_add_test(tc, locked_for_days_is_dead_with_a_reason);
    tcase_add_test(tc, replay_restarts_the_wait);
    tcase_add_test(tc, invoiced_order_is_skipped_without_a_call);
    tcase_add_test(tc, credit_for_uninvoiced_order_retries_then_dies);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
