/* test_magento_cli.c: `m2jortt backfill` and `m2jortt reconcile` against a
 * real redis-server, the Magento double and (where invoices matter) the
 * Jortt double and a worker.
 *
 * Backfill: the counts of a range (created_at, whole UTC days, to
 * inclusive), --yes queuing exactly the in-status orders at one request
 * per page, a second run queuing nothing, and the errors an admin meets.
 * Reconcile: orders invoiced by a worker, dead, pending, skipped and
 * missing told apart, orders changed after invoicing (a total, a line
 * partly cancelled) reported with the difference, --enqueue queuing
 * exactly the missing ones. */
#include "magento_util.h"
#include "base/buf.h"
#include "base/json_util.h"

#include <hiredis/hiredis.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static h_env *E;
static hm_magento M;

static void setup(void)
{
    E = h_env_new("magento_cli");
    memset(&M, 0, sizeof M);
}
static void teardown(void)
{
    h_env_free(E);
    E = NULL;
}

/* Redis, the Jortt double, the Magento double and a config naming it. */
static void up(const char *extra_json)
{
    h_redis_start(E);
    h_double_start(E);
    hm_start(E, &M, false);
    char cfg[1024];
    snprintf(cfg, sizeof cfg,
             "{\"magento\":{\"rest_url\":\"%s\",\"consumer_key\":\"" HM_CONSUMER_KEY "\",\"consumer_secret\":\""
             HM_CONSUMER_SECRET "\",\"access_token\":\"" HM_TOKEN "\",\"access_token_secret\":\"" HM_TOKEN_SECRET
             "\",\"requests_per_second\":100,\"poll_interval_seconds\":0}%s%s}",
             M.rest_url, extra_json ? "," : "", extra_json ? extra_json : "");
    h_config_write(E, cfg);
}

/* The fixture's order (a full REST order, grand total 92.17) as another
 * order. New string. */
static char *order_json(int entity_id, const char *created_at, const char *status, const char *currency)
{
    char *text = h_read_file(H_ORDER_FIXTURE, NULL);
    json_object *ce = json_tokener_parse(text);
    free(text);
    json_object *o = json_object_get(m2j_json_path(ce, "data.value"));
    json_object_put(ce);
    char inc[32];
    snprintf(inc, sizeof inc, "2000%05d", entity_id);
    json_object_object_add(o, "entity_id", json_object_new_int(entity_id));
    json_object_object_add(o, "increment_id", json_object_new_string(inc));
    json_object_object_add(o, "created_at", json_object_new_string(created_at));
    json_object_object_add(o, "updated_at", json_object_new_string(created_at));
    json_object_object_add(o, "status", json_object_new_string(status));
    json_object_object_add(o, "state", json_object_new_string(strcmp(status, "canceled") == 0 ? "canceled"
                                                                : strcmp(status, "pending") == 0 ? "new"
                                                                : status));
    if (currency) {
        json_object_object_add(o, "order_currency_code", json_object_new_string(currency));
        json_object_object_add(o, "base_currency_code", json_object_new_string(currency));
    }
    char *out = h_json_text(o);
    json_object_put(o);
    return out;
}

static void add_order(int entity_id, const char *created_at, const char *status)
{
    char *o = order_json(entity_id, created_at, status, NULL);
    H_ASSERT(E, hm_control(&M, "orders", o) == 200, "double refused order %d", entity_id);
    free(o);
}

/* increment ids of the order events in the stream, "," separated and
 * sorted by stream position (the CLI queues in entity_id order). New. */
static char *queued_refs(void)
{
    redisReply *r = h_redis_cmd(E, "XRANGE %s:events - +", E->prefix);
    H_ASSERT(E, r && r->type == REDIS_REPLY_ARRAY, "XRANGE failed");
    m2j_buf b = {0};
    m2j_buf_puts(&b, "");
    for (size_t i = 0; i < r->elements; i++) {
        redisReply *fields = r->element[i]->element[1];
        for (size_t k = 0; k + 1 < fields->elements; k += 2) {
            if (strcmp(fields->element[k]->str, "job") != 0)
                continue;
            json_object *job = json_tokener_parse(fields->element[k + 1]->str);
            m2j_buf_printf(&b, "%s%s", b.len ? "," : "", m2j_json_str0(job, "event.entity.increment_id"));
            json_object_put(job);
        }
    }
    freeReplyObject(r);
    return b.data;
}

/* What the last CLI run wrote to stderr (the harness appends it to
 * cli.log); the log is emptied so the next run starts clean. New. */
static char *cli_stderr(void)
{
    char p[600];
    snprintf(p, sizeof p, "%s/cli.log", E->dir);
    FILE *f = fopen(p, "r");
    m2j_buf b = {0};
    m2j_buf_puts(&b, "");
    char chunk[1024];
    size_t n;
    while (f && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
        m2j_buf_append(&b, chunk, n);
    if (f)
        fclose(f);
    ck_assert_msg(truncate(p, 0) == 0, "truncate %s", p);
    return b.data;
}

static long long jint(json_object *o, const char *path)
{
    int64_t v = -1;
    m2j_json_int(o, path, &v);
    return v;
}

/* 14 orders in 2026-11-01 .. 2026-11-03 (8 processing/complete, 4 pending,
 * 2 canceled), 2 on each side of the range. */
static void range_fixture(void)
{
    add_order(1, "2026-10-31 23:59:59", "processing"); /* the day before */
    add_order(2, "2026-11-01 00:00:00", "processing"); /* first second of the range */
    add_order(3, "2026-11-01 08:00:00", "pending");
    add_order(4, "2026-11-01 09:00:00", "complete");
    add_order(5, "2026-11-02 10:00:00", "processing");
    add_order(6, "2026-11-02 10:00:00", "canceled");
    add_order(7, "2026-11-02 11:00:00", "pending");
    add_order(8, "2026-11-02 12:00:00", "processing");
    add_order(9, "2026-11-02 13:00:00", "pending");
    add_order(10, "2026-11-03 00:00:01", "complete");
    add_order(11, "2026-11-03 12:00:00", "canceled");
    add_order(12, "2026-11-03 13:00:00", "pending");
    add_order(13, "2026-11-03 14:00:00", "processing");
    add_order(14, "2026-11-03 23:59:59", "processing"); /* last second: --to is inclusive */
    add_order(15, "2026-11-01 12:00:00", "complete");
    add_order(16, "2026-11-04 00:00:00", "processing"); /* the day after */
    add_order(17, "2026-11-05 10:00:00", "complete");
    add_order(18, "2026-10-01 10:00:00", "complete");
}
#define IN_STATUS_REFS "200000002,200000004,200000005,200000008,200000010,200000013,200000014,200000015"

START_TEST(backfill_counts_then_queues_in_status_orders_once)
{
    up(NULL);
    range_fixture();
    int st = -1;
    json_object *o = h_cli_json(E, &st, "backfill", "--from", "2026-11-01", "--to", "2026-11-03", "--json", NULL);
    H_ASSERT(E, st == 0 && o, "backfill exit %d", st);
    ck_assert_int_eq(jint(o, "orders"), 14);
    ck_assert_int_eq(jint(o, "in_status"), 8);
    ck_assert_int_eq(jint(o, "magento_calls"), 2); /* counting costs two requests, whatever the range */
    ck_assert_ptr_null(m2j_json_get(o, "queued"));
    json_object_put(o);
    char *refs = queued_refs();
    ck_assert_str_eq(refs, ""); /* without --yes nothing is queued */
    free(refs);

    long before = hm_calls(&M, "GET /V1/orders");
    o = h_cli_json(E, &st, "backfill", "--from", "2026-11-01", "--to", "2026-11-03", "--yes", "--json", NULL);
    H_ASSERT(E, st == 0 && o, "backfill --yes exit %d", st);
    ck_assert_int_eq(jint(o, "orders"), 14);
    ck_assert_int_eq(jint(o, "in_status"), 8);
    ck_assert_int_eq(jint(o, "queued"), 8);
    ck_assert_int_eq(jint(o, "duplicates"), 0);
    json_object_put(o);
    ck_assert_int_eq(hm_calls(&M, "GET /V1/orders") - before, 2); /* the count, then one page of 8 */
    ck_assert_int_eq(hm_calls(&M, "GET /V1/orders/{id}"), 0);    /* nothing per order */
    refs = queued_refs();
    ck_assert_str_eq(refs, IN_STATUS_REFS);
    free(refs);

    /* again: the same event ids, so nothing new */
    char *out = NULL;
    st = h_cli(E, &out, "backfill", "--from", "2026-11-01", "--to", "2026-11-03", "--yes", NULL);
    H_ASSERT(E, st == 0, "second backfill exit %d", st);
    H_ASSERT(E, strstr(out, "queued 0 (8 already queued before, not again)"), "output: %s", out);
    free(out);
    refs = queued_refs();
    ck_assert_str_eq(refs, IN_STATUS_REFS);
    free(refs);
}
END_TEST

/* 250 in-status orders: three pages of 100, 100 and 50, no fourth (the
 * last-page quirk would answer it with the last page again). */
START_TEST(backfill_pages_by_total_count)
{
    up(NULL);
    m2j_buf b = {0};
    m2j_buf_puts(&b, "[");
    for (int i = 1; i <= 260; i++) {
        char *o = order_json(i, i <= 250 ? "2026-11-02 10:00:00" : "2026-11-09 10:00:00", "processing", NULL);
        m2j_buf_printf(&b, "%s%s", i > 1 ? "," : "", o);
        free(o);
    }
    m2j_buf_puts(&b, "]");
    H_ASSERT(E, hm_control(&M, "orders", b.data) == 200, "double refused the orders");
    m2j_buf_free(&b);
    int st = -1;
    json_object *o = h_cli_json(E, &st, "backfill", "--from", "2026-11-02", "--to", "2026-11-02", "--yes", "--json",
                                NULL);
    H_ASSERT(E, st == 0 && o, "backfill exit %d", st);
    ck_assert_int_eq(jint(o, "in_status"), 250);
    ck_assert_int_eq(jint(o, "queued"), 250);
    ck_assert_int_eq(jint(o, "magento_calls"), 4); /* count + 3 pages */
    json_object_put(o);
    redisReply *r = h_redis_cmd(E, "XLEN %s:events", E->prefix);
    ck_assert_int_eq(r->integer, 250);
    freeReplyObject(r);
}
END_TEST

START_TEST(backfill_errors_are_clear)
{
    up(NULL);
    add_order(1, "2026-11-01 10:00:00", "processing");
    char *out = NULL, *err;
    /* dates */
    ck_assert_int_eq(h_cli(E, NULL, "backfill", "--from", "2026-11-31", NULL), 2);
    err = cli_stderr();
    H_ASSERT(E, strstr(err, "--from 2026-11-31 is not a date YYYY-MM-DD"), "stderr: %s", err);
    free(err);
    ck_assert_int_eq(h_cli(E, NULL, "backfill", "--from", "2026-11-02", "--to", "2026-11-01", NULL), 2);
    err = cli_stderr();
    H_ASSERT(E, strstr(err, "--to 2026-11-01 is before --from 2026-11-02"), "stderr: %s", err);
    free(err);
    ck_assert_int_eq(h_cli(E, NULL, "backfill", NULL), 2);
    err = cli_stderr();
    H_ASSERT(E, strstr(err, "--from YYYY-MM-DD is required"), "stderr: %s", err);
    free(err);
    /* the token refused: Magento's reason, made readable */
    H_ASSERT(E, hm_control(&M, "faults", "{\"revoked\":true}") == 200, "faults");
    ck_assert_int_eq(h_cli(E, &out, "backfill", "--from", "2026-11-01", "--yes", NULL), 1);
    err = cli_stderr();
    H_ASSERT(E, strstr(err, "Magento HTTP 401") && strstr(err, "the integration's token was refused") &&
                    strstr(err, "Magento_Sales::actions_view"),
             "stderr: %s", err);
    free(err);
    free(out);
    char *refs = queued_refs();
    ck_assert_str_eq(refs, "");
    free(refs);
    /* push only: no rest_url */
    h_config_write(E, "{\"magento\":{\"rest_url\":\"\"}}");
    ck_assert_int_eq(h_cli(E, NULL, "backfill", "--from", "2026-11-01", NULL), 1);
    err = cli_stderr();
    H_ASSERT(E, strstr(err, "magento.rest_url is not set"), "stderr: %s", err);
    free(err);
}
END_TEST

/* Magento answering 503 (with Retry-After) now and then: the count and
 * the pages are asked again, and every order is queued once. */
START_TEST(backfill_rides_out_magento_5xx)
{
    up(NULL);
    add_order(1, "2026-11-01 10:00:00", "processing");
    add_order(2, "2026-11-01 11:00:00", "complete");
    H_ASSERT(E, hm_control(&M, "faults", "{\"fail_next\":2,\"status\":503,\"retry_after\":1}") == 200, "faults");
    int st = -1;
    json_object *o = h_cli_json(E, &st, "backfill", "--from", "2026-11-01", "--to", "2026-11-01", "--yes", "--json",
                                NULL);
    H_ASSERT(E, st == 0 && o, "backfill exit %d", st);
    ck_assert_int_eq(jint(o, "queued"), 2);
    ck_assert_int_eq(jint(o, "magento_calls"), 4); /* two refused, then the count and one page */
    json_object_put(o);
    char *refs = queued_refs();
    ck_assert_str_eq(refs, "200000001,200000002");
    free(refs);
}
END_TEST

/* Pushes a REST order JSON to the receiver as a bare order, signed. */
static void push(const char *order, const char *webhook_id)
{
    h_resp r = {0};
    h_post(E, "/webhooks/magento?type=order", webhook_id, order, strlen(order), H_SIGNED, &r);
    H_ASSERT(E, r.status == 202, "push %s: %ld %s", webhook_id, r.status, r.body ? r.body : "");
    h_resp_clear(&r);
}

static void push_order(int entity_id, const char *status, const char *currency)
{
    char *o = order_json(entity_id, "2026-11-10 10:00:00", status, currency);
    H_ASSERT(E, hm_control(&M, "orders", o) == 200, "double refused order %d", entity_id);
    char id[32];
    snprintf(id, sizeof id, "push-%d-%s", entity_id, status);
    push(o, id);
    free(o);
}

static json_object *row_of(json_object *rep, const char *inc)
{
    json_object *rows = m2j_json_get_arr(rep, "orders");
    for (size_t i = 0; rows && i < json_object_array_length(rows); i++) {
        json_object *r = json_object_array_get_idx(rows, i);
        if (strcmp(m2j_json_scalar(r, "increment_id"), inc) == 0)
            return r;
    }
    return NULL;
}

static void expect(json_object *rep, const char *inc, const char *state, const char *reason_part)
{
    json_object *r = row_of(rep, inc);
    H_ASSERT(E, r, "order %s not reported", inc);
    H_ASSERT(E, strcmp(m2j_json_scalar(r, "state"), state) == 0, "order %s: %s, expected %s (%s)", inc,
             m2j_json_scalar(r, "state"), state, m2j_json_scalar(r, "reason"));
    if (reason_part)
        H_ASSERT(E, strstr(m2j_json_scalar(r, "reason"), reason_part), "order %s: reason \"%s\" lacks \"%s\"",
                 inc, m2j_json_scalar(r, "reason"), reason_part);
}

static json_object *reconcile(const char *extra)
{
    int st = -1;
    json_object *o = extra ? h_cli_json(E, &st, "reconcile", "--from", "2026-11-10", "--to", "2026-11-10", "--json",
                                        extra, NULL)
                           : h_cli_json(E, &st, "reconcile", "--from", "2026-11-10", "--to", "2026-11-10", "--json",
                                        NULL);
    H_ASSERT(E, st == 0 && o, "reconcile exit %d", st);
    return o;
}

static long long redis_int(const char *fmt, const char *arg)
{
    redisReply *r = h_redis_cmd(E, fmt, arg);
    long long v = r && r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
    if (r)
        freeReplyObject(r);
    return v;
}

/* Keys other than the fleet Magento rate limiter's, which every paced
 * request updates (reading orders may take rate-limit slots, nothing else). */
static long long data_keys(void)
{
    redisReply *r = h_redis_cmd(E, "EVAL %s 0",
                                "local n = 0 "
                                "for _, k in ipairs(redis.call('KEYS', '*')) do "
                                "  if not (string.find(k, ':magento:rl', 1, true) or "
                                "          string.find(k, ':magento:calls:', 1, true)) then n = n + 1 end "
                                "end return n");
    long long v = r && r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
    if (r)
        freeReplyObject(r);
    return v;
}

START_TEST(reconcile_tells_invoiced_failed_pending_skipped_and_missing_apart)
{
    up(NULL);
    h_receiver_start(E);
    pid_t w = h_worker_start(E);
    push_order(21, "processing", NULL);
    push_order(22, "processing", NULL);
    push_order(23, "complete", NULL);
    push_order(32, "processing", NULL);
    push_order(24, "processing", "USD");  /* no EUR amounts: a dead letter */
    push_order(30, "pending", NULL);      /* skipped for its status ... */
    add_order(30, "2026-11-10 10:00:00", "complete"); /* ... then completed, with no push: missing */
    long long one_dead = 1;
    H_WAIT(E, 20000, h_pred_drained, NULL, "the worker did not finish");
    H_WAIT(E, 20000, h_pred_dead, &one_dead, "no dead letter");
    h_stop_pid(E, w, SIGTERM, h_ms(10000));
    ck_assert_int_eq(h_count_invoices(E, NULL), 4);

    add_order(25, "2026-11-10 10:00:00", "processing"); /* the worker found it cancelled before invoicing */
    redisReply *hr = h_redis_cmd(E, "HSET %s:order:200000025 state cancelled", E->prefix);
    freeReplyObject(hr);
    add_order(26, "2026-11-10 10:00:00", "processing"); /* never pushed */
    add_order(27, "2026-11-10 23:59:59", "complete");   /* never pushed */
    add_order(28, "2026-11-10 10:00:00", "pending");    /* not in an invoicing status: not reported */
    add_order(31, "2026-11-11 00:00:00", "processing"); /* the next day: not in the range */
    push_order(29, "processing", NULL);                 /* queued while no worker runs: pending */
    /* Magento's total of an invoiced order changed afterwards */
    char *was = order_json(22, "2026-11-10 10:00:00", "processing", NULL);
    char *changed = h_json_with(was, "grand_total", "\"99.99\"", NULL);
    free(was);
    H_ASSERT(E, hm_control(&M, "orders", changed) == 200, "change");
    free(changed);
    /* and one partly cancelled: one of its two coffee bags (grand total kept) */
    was = order_json(32, "2026-11-10 10:00:00", "complete", NULL);
    changed = h_json_with(was, "items.0.qty_canceled", "\"1.0000\"", "total_canceled", "\"18.09\"", NULL);
    free(was);
    H_ASSERT(E, hm_control(&M, "orders", changed) == 200, "partial cancel");
    free(changed);

    long long keys = data_keys(), xlen = redis_int("XLEN %s:events", E->prefix);
    json_object *rep = reconcile(NULL);
    expect(rep, "200000021", "invoiced", NULL);
    expect(rep, "200000022", "changed", "changed after invoicing (Jortt invoice ");
    expect(rep, "200000022", "changed", "): grand total 92.17 -> 99.99");
    expect(rep, "200000032", "changed", "line KB-ESP-1000 qty 2 -> 1 (1 canceled)");
    expect(rep, "200000023", "invoiced", NULL);
    expect(rep, "200000024", "failed", "currency not supported");
    expect(rep, "200000025", "skipped", "order was cancelled before it was invoiced");
    expect(rep, "200000026", "missing", NULL);
    expect(rep, "200000027", "missing", NULL);
    expect(rep, "200000029", "pending", "in the queue");
    expect(rep, "200000030", "missing", "its last event was skipped: status pending not in orders.statuses");
    ck_assert_ptr_null(row_of(rep, "200000028"));
    ck_assert_ptr_null(row_of(rep, "200000031"));
    json_object *r22 = row_of(rep, "200000022"), *r21 = row_of(rep, "200000021");
    H_ASSERT(E, m2j_json_get(r22, "total_differs") && strcmp(m2j_json_scalar(r22, "magento_total"), "99.99") == 0 &&
                    strcmp(m2j_json_scalar(r22, "invoiced_total"), H_ORDER_TOTAL) == 0,
             "order 22: %s", json_object_to_json_string(r22));
    ck_assert_ptr_null(m2j_json_get(r21, "total_differs"));
    ck_assert(*m2j_json_scalar(r21, "invoice_id"));
    ck_assert(*m2j_json_scalar(r22, "invoice_id"));
    ck_assert_str_eq(m2j_json_scalar(r22, "changes"), "grand total 92.17 -> 99.99");
    ck_assert_ptr_null(m2j_json_get(row_of(rep, "200000032"), "total_differs"));
    ck_assert_int_eq(jint(rep, "counts.invoiced"), 2);
    ck_assert_int_eq(jint(rep, "counts.changed"), 2);
    ck_assert_int_eq(jint(rep, "counts.failed"), 1);
    ck_assert_int_eq(jint(rep, "counts.skipped"), 1);
    ck_assert_int_eq(jint(rep, "counts.pending"), 1);
    ck_assert_int_eq(jint(rep, "counts.missing"), 3);
    ck_assert_int_eq(jint(rep, "counts.total_differs"), 1);
    ck_assert_int_eq(json_object_array_length(m2j_json_get_arr(rep, "orders")), 10);
    json_object_put(rep);
    /* the table an operator reads says it too */
    char *table = NULL;
    ck_assert_int_eq(h_cli(E, &table, "reconcile", "--from", "2026-11-10", "--to", "2026-11-10", NULL), 0);
    H_ASSERT(E, table && strstr(table, "CHANGED AFTER INVOICING: grand total 92.17 -> 99.99") &&
                    strstr(table, "2 invoiced, 2 changed after invoicing,"), "reconcile table:\n%s", table);
    free(table);
    /* reading changed nothing (but the rate limiter's slots) */
    ck_assert_int_eq(data_keys(), keys);
    ck_assert_int_eq(redis_int("XLEN %s:events", E->prefix), xlen);

    /* --enqueue queues exactly the three missing ones */
    rep = reconcile("--enqueue");
    ck_assert_int_eq(jint(rep, "enqueued.queued"), 3);
    ck_assert_int_eq(jint(rep, "counts.missing"), 3);
    json_object_put(rep);
    ck_assert_int_eq(redis_int("XLEN %s:events", E->prefix), xlen + 3);
    rep = reconcile(NULL);
    ck_assert_int_eq(jint(rep, "counts.missing"), 0);
    ck_assert_int_eq(jint(rep, "counts.pending"), 4);
    expect(rep, "200000026", "pending", "in the queue");
    json_object_put(rep);

    /* and a worker invoices them, each once */
    h_worker_start(E);
    H_WAIT(E, 20000, h_pred_drained, NULL, "the worker did not finish");
    json_object *state = h_double_state(E);
    char why[256] = "";
    H_ASSERT(E, h_state_no_duplicates(state, why, sizeof why), "%s", why);
    ck_assert_int_eq(h_state_invoices(state, NULL), 8);
    json_object_put(state);
    rep = reconcile(NULL);
    ck_assert_int_eq(jint(rep, "counts.invoiced"), 6);
    ck_assert_int_eq(jint(rep, "counts.changed"), 2);
    ck_assert_int_eq(jint(rep, "counts.missing"), 0);
    ck_assert_int_eq(jint(rep, "counts.pending"), 0);
    json_object_put(rep);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("magento_cli");
    TCase *t = h_tcase("backfill");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, backfill_counts_then_queues_in_status_orders_once);
    tcase_add_test(t, backfill_pages_by_total_count);
    tcase_add_test(t, backfill_errors_are_clear);
    tcase_add_test(t, backfill_rides_out_magento_5xx);
    suite_add_tcase(s, t);
    t = h_tcase("reconcile");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, reconcile_tells_invoiced_failed_pending_skipped_and_missing_apart);
    suite_add_tcase(s, t);
    return h_run_suite(s);
}
