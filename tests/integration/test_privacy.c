/* test_privacy.c: personal data end to end, with real processes: the upgrade
 * from unkeyed customer cache keys (no customer created twice), the access
 * token sealed in Redis (and a tampered one fetched again), retention (a
 * worker's sweep, `m2jortt purge`, and no second invoice after a record was
 * purged), and `m2jortt forget --email`. */
#include "harness.h"
#include "fault_util.h"
#include "base/crypto_util.h"

#include <hiredis/hiredis.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define EMAIL H_ORDER_EMAIL
#define TOKEN_CALLS "POST /oauth-provider/oauth/token"

static h_env *E;

static void setup(void) { E = NULL; }
static void teardown(void) { h_env_free(E); E = NULL; }

/* ---- helpers ---- */

static void post_order(const char *event_id, const char *ref)
{
    h_post_event(E, H_ORDER_FIXTURE, event_id, ref, "processing");
}

static void wait_invoices(const char *ref, int n)
{
    h_invoices_arg a = { ref, n };
    H_WAIT(E, 20000, h_pred_invoices, &a, "want %d invoice(s) for %s", n, ref);
}

static void stop_workers(void)
{
    pid_t pids[H_MAX_WORKERS];
    int n = h_pids(E, H_ROLE_WORKER, pids, H_MAX_WORKERS);
    for (int i = 0; i < n; i++)
        h_stop_pid(E, pids[i], SIGTERM, 10000);
}

/* The one P:customer:<k> key (new copy), or NULL when there is not exactly one. */
static char *the_customer_key(void)
{
    redisReply *r = h_redis_cmd(E, "KEYS %s:customer:*", E->prefix);
    char *k = r && r->type == REDIS_REPLY_ARRAY && r->elements == 1 ? strdup(r->element[0]->str) : NULL;
    if (r)
        freeReplyObject(r);
    return k;
}

/* P:cust:<sha256 of the address>: where versions before the installation
 * key kept the entry. */
static void legacy_key(const char *email, char *out, size_t n)
{
    char hex[65];
    m2j_sha256_hex(email, strlen(email), hex);
    snprintf(out, n, "%s:cust:%s", E->prefix, hex);
}

static long long rint_(const char *fmt, const char *key)
{
    return f_redis_int(E, fmt, key);
}

static bool log_has(const char *name, const char *text)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s.log", E->dir, name);
    char *log = h_read_file(p, NULL);
    bool has = strstr(log, text) != NULL;
    free(log);
    return has;
}

typedef struct { const char *key; long long want; } exists_arg;
static bool pred_exists(h_env *e, void *arg)
{
    exists_arg *a = arg;
    return f_redis_int(e, "EXISTS %s", a->key) == a->want;
}

typedef struct { const char *name, *text; } log_arg;
static bool pred_log(h_env *e, void *arg)
{
    (void)e;
    log_arg *a = arg;
    return log_has(a->name, a->text);
}

/* True when any value anywhere in Redis mentions text (case-insensitive):
 * strings, hashes, sets, sorted sets, lists and streams. */
static bool redis_mentions(const char *text)
{
    redisReply *keys = h_redis_cmd(E, "KEYS *");
    bool found = false;
    for (size_t i = 0; keys && i < keys->elements && !found; i++) {
        const char *k = keys->element[i]->str;
        found = strcasestr(k, text) != NULL;
        redisReply *t = h_redis_cmd(E, "TYPE %s", k);
        const char *type = t && t->type == REDIS_REPLY_STATUS ? t->str : "";
        redisReply *v = !strcmp(type, "string") ? h_redis_cmd(E, "GET %s", k)
                      : !strcmp(type, "hash")   ? h_redis_cmd(E, "HGETALL %s", k)
                      : !strcmp(type, "zset")   ? h_redis_cmd(E, "ZRANGE %s 0 -1", k)
                      : !strcmp(type, "set")    ? h_redis_cmd(E, "SMEMBERS %s", k)
                      : !strcmp(type, "list")   ? h_redis_cmd(E, "LRANGE %s 0 -1", k)
                      : !strcmp(type, "stream") ? h_redis_cmd(E, "XRANGE %s - +", k) : NULL;
        if (v) {
            /* flatten: every string in the reply tree */
            redisReply *stack[64];
            int sp = 0;
            stack[sp++] = v;
            while (sp && !found) {
                redisReply *x = stack[--sp];
                if (x->type == REDIS_REPLY_STRING)
                    found = strcasestr(x->str, text) != NULL;
                for (size_t j = 0; x->type == REDIS_REPLY_ARRAY && j < x->elements && sp < 64; j++)
                    stack[sp++] = x->element[j];
            }
            freeReplyObject(v);
        }
        if (t)
            freeReplyObject(t);
    }
    if (keys)
        freeReplyObject(keys);
    return found;
}

/* ---- the upgrade from unkeyed cache keys ---- */

/* As for a guest's order, which has no Magento customer link: the cache
 * entry is then all that names the Jortt customer. */
static void drop_customer_links(void)
{
    redisReply *links = h_redis_cmd(E, "KEYS %s:custref:*", E->prefix);
    for (size_t i = 0; links && i < links->elements; i++)
        freeReplyObject(h_redis_cmd(E, "DEL %s", links->element[i]->str));
    if (links)
        freeReplyObject(links);
    H_ASSERT(E, f_redis_keys(E, "custref:*") == 0, "customer links left");
}

/* An entry written by an older version (P:cust:<sha256>) while the
 * installation key and the warm index exist (a rolling upgrade): the
 * buyer's next order finds it, moves it to its keyed name and creates no
 * second customer. Without the move the warm index would let the worker
 * create the buyer again. */
START_TEST(unkeyed_cache_entry_is_moved_not_duplicated)
{
    E = h_env_up("pv-move", NULL, 1);
    post_order("pv-move-1", "100000501");
    wait_invoices("100000501", 1);
    H_WAIT(E, 20000, f_pred_warm, NULL, "the customer index was not warmed");
    stop_workers();

    char *k = the_customer_key();
    H_ASSERT(E, k != NULL, "want exactly one %s:customer:* key", E->prefix);
    redisReply *r = h_redis_cmd(E, "HGET %s id", k);
    H_ASSERT(E, r && r->type == REDIS_REPLY_STRING, "the entry has no id");
    char *jortt_id = strdup(r->str);
    freeReplyObject(r);
    char old[200];
    legacy_key(EMAIL, old, sizeof old);
    freeReplyObject(h_redis_cmd(E, "RENAME %s %s", k, old)); /* as an older version left it */
    drop_customer_links();
    long long creates = f_calls_to(E, "POST /v3/customers");

    post_order("pv-move-2", "100000502");
    h_worker_start(E);
    wait_invoices("100000502", 1);

    json_object *st = h_double_state(E);
    H_ASSERT(E, h_state_customers(st, EMAIL) == 1, "%d customers for the buyer, want 1", h_state_customers(st, EMAIL));
    json_object_put(st);
    H_ASSERT(E, f_calls_to(E, "POST /v3/customers") == creates, "a customer was created again");
    H_ASSERT(E, rint_("EXISTS %s", old) == 0, "the unkeyed entry is still there");
    r = h_redis_cmd(E, "HGET %s id", k);
    H_ASSERT(E, r && r->type == REDIS_REPLY_STRING && !strcmp(r->str, jortt_id), "the keyed entry lost the id");
    freeReplyObject(r);
    /* the keyed name is not the unkeyed hash of the address */
    H_ASSERT(E, strcmp(strrchr(k, ':') + 1, strrchr(old, ':') + 1) != 0, "keyed and unkeyed names are equal");
    free(jortt_id);
    free(k);
}
END_TEST

/* An installation of an older version: no installation key, the cache
 * keyed by unkeyed hashes, the warm index complete. The upgraded worker
 * creates the key, reads Jortt's customer list again under it, drops the
 * unkeyed entries (also of buyers who never come back) and invoices the
 * returning buyer to the customer she has. */
START_TEST(upgrade_reads_the_index_again_and_drops_unkeyed_entries)
{
    E = h_env_up("pv-upgrade", NULL, 1);
    post_order("pv-up-1", "100000511");
    wait_invoices("100000511", 1);
    H_WAIT(E, 20000, f_pred_warm, NULL, "the customer index was not warmed");
    stop_workers();

    char *k = the_customer_key();
    H_ASSERT(E, k != NULL, "want exactly one customer key");
    char old[200], other[200];
    legacy_key(EMAIL, old, sizeof old);
    legacy_key("someone.else@example.com", other, sizeof other);
    freeReplyObject(h_redis_cmd(E, "RENAME %s %s", k, old));
    freeReplyObject(h_redis_cmd(E, "HSET %s id 9999 fp x state done", other));
    freeReplyObject(h_redis_cmd(E, "DEL %s:install:key", E->prefix));
    drop_customer_links();
    long long creates = f_calls_to(E, "POST /v3/customers");

    post_order("pv-up-2", "100000512");
    h_worker_start(E);
    wait_invoices("100000512", 1);

    H_ASSERT(E, log_has("worker2", "installation key created"), "the worker did not say it created the key");
    H_ASSERT(E, log_has("worker2", "unkeyed customer cache entries of an older version removed"),
             "the worker did not drop the unkeyed entries");
    json_object *st = h_double_state(E);
    H_ASSERT(E, h_state_customers(st, EMAIL) == 1, "%d customers for the buyer, want 1", h_state_customers(st, EMAIL));
    H_ASSERT(E, h_state_customers(st, NULL) == 1, "%d customers in all, want 1", h_state_customers(st, NULL));
    json_object_put(st);
    H_ASSERT(E, f_calls_to(E, "POST /v3/customers") == creates, "a customer was created again");
    H_ASSERT(E, rint_("EXISTS %s", old) == 0 && rint_("EXISTS %s", other) == 0, "unkeyed entries are left");
    free(k);
    k = the_customer_key();
    H_ASSERT(E, k != NULL, "the buyer has no keyed entry");
    free(k);
}
END_TEST

/* ---- the access token ---- */

START_TEST(token_is_sealed_and_a_tampered_one_fetched_again)
{
    E = h_env_up("pv-token", NULL, 1);
    post_order("pv-tok-1", "100000521");
    wait_invoices("100000521", 1);
    char tkey[96];
    snprintf(tkey, sizeof tkey, "%s:jortt:token", E->prefix);
    redisReply *r = h_redis_cmd(E, "GET %s", tkey);
    H_ASSERT(E, r && r->type == REDIS_REPLY_STRING && !strncmp(r->str, "v1.", 3), "token not sealed: %s",
             r && r->str ? r->str : "-");
    char *sealed = strdup(r->str);
    freeReplyObject(r);

    /* what Redis holds is no credential: Jortt refuses it */
    char auth[6000], url[128];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", sealed);
    snprintf(url, sizeof url, "%s/v3/customers", E->double_url);
    const char *hdrs[] = { auth, NULL };
    h_resp resp;
    h_http("GET", url, hdrs, NULL, 0, &resp);
    H_ASSERT(E, resp.status == 401, "the double accepted the value in Redis as a token: %ld", resp.status);
    h_resp_clear(&resp);

    /* altered in Redis: refused, fetched again, the order still invoiced */
    size_t mid = strlen(sealed) / 2;
    sealed[mid] = sealed[mid] == 'A' ? 'B' : 'A';
    freeReplyObject(h_redis_cmd(E, "SET %s %s KEEPTTL", tkey, sealed));
    long long fetched = f_calls_to(E, TOKEN_CALLS);
    post_order("pv-tok-2", "100000522");
    wait_invoices("100000522", 1);
    H_ASSERT(E, f_calls_to(E, TOKEN_CALLS) == fetched + 1, "token requests %lld, want %lld",
             f_calls_to(E, TOKEN_CALLS), fetched + 1);
    H_ASSERT(E, log_has("worker1", "the shared access token in Redis does not open"), "no warning about it");
    r = h_redis_cmd(E, "GET %s", tkey);
    H_ASSERT(E, r && r->type == REDIS_REPLY_STRING && strcmp(r->str, sealed) != 0, "the altered value stayed");
    freeReplyObject(r);
    free(sealed);
}
END_TEST

/* ---- retention ---- */

static void dead_letter(const char *id, long long dead_at, const char *email)
{
    char job[512];
    snprintf(job, sizeof job,
             "{\"event\":{\"event_id\":\"%s\",\"kind\":\"order\",\"entity\":{\"increment_id\":\"9%s\","
             "\"customer_email\":\"%s\"}},\"attempts\":12}", id, id + strlen(id) - 3, email);
    freeReplyObject(h_redis_cmd(E, "HSET %s:dead:%s job %s reason %s dead_at %lld", E->prefix, id, job,
                                "currency not supported", dead_at));
    freeReplyObject(h_redis_cmd(E, "ZADD %s:dead:index %lld %s", E->prefix, dead_at, id));
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#define DAY_MS (86400LL * 1000)

/* A worker sweeps when it starts (the fleet's last sweep is long ago): dead
 * letters older than failed_days go, with one log line; newer stay. */
START_TEST(worker_sweeps_dead_letters_past_retention)
{
    E = h_env_up("pv-sweep", "{\"retention\":{\"failed_days\":5,\"processed_days\":90}}", 0);
    dead_letter("ev-old-001", now_ms() - 6 * DAY_MS, "a@example.com");
    dead_letter("ev-old-002", now_ms() - 30 * DAY_MS, "b@example.com");
    dead_letter("ev-new-003", now_ms() - 4 * DAY_MS, "c@example.com");
    char k[128];
    snprintf(k, sizeof k, "%s:dead:ev-old-001", E->prefix);
    h_worker_start(E);
    exists_arg gone = { k, 0 };
    H_WAIT(E, 20000, pred_exists, &gone, "the old dead letter was not removed");
    log_arg line = { "worker1", "msg=\"dead letters past retention removed\" count=2 failed_days=5" };
    H_WAIT(E, 10000, pred_log, &line, "no log line with the count");
    H_ASSERT(E, f_redis_int(E, "ZCARD %s:dead:index", E->prefix) == 1, "want the recent dead letter only");
    H_ASSERT(E, f_redis_int(E, "EXISTS %s:dead:ev-new-003", E->prefix) == 1, "the recent dead letter went");
    H_ASSERT(E, f_redis_int(E, "EXISTS %s:retention:last_ms", E->prefix) == 1, "the sweep was not recorded");
    json_object *s = h_stats(E);
    H_ASSERT(E, h_stat(s, "failed") == 1, "stats failed %lld, want 1", h_stat(s, "failed"));
    json_object_put(s);
}
END_TEST

/* An order record past processed_days: purge counts it, removes it with
 * --yes; the same order delivered again afterwards (a new event id) is
 * searched in Jortt and adopted, never invoiced twice. */
START_TEST(purged_record_does_not_invoice_twice)
{
    E = h_env_up("pv-purge", NULL, 1);
    const char *ref = "100000531";
    /* an order from long ago (a Magento status change brings it back) */
    char *ev1 = h_event(H_ORDER_FIXTURE, "pv-purge-1", ref, "processing");
    char *body1 = h_json_with(ev1, "data.value.created_at", "\"2024-01-15 10:00:00\"", NULL);
    h_resp r;
    H_ASSERT(E, h_post_signed(E, "pv-purge-1", body1, &r) == 202, "post: %s", r.body);
    h_resp_clear(&r);
    wait_invoices(ref, 1);
    H_WAIT(E, 20000, h_pred_drained, NULL, "queue not drained");
    /* its record was written 401 days ago */
    char ok[128];
    snprintf(ok, sizeof ok, "%s:order:%s", E->prefix, ref);
    freeReplyObject(h_redis_cmd(E, "HSET %s at %lld", ok, now_ms() - 401 * DAY_MS));

    char *out = NULL;
    int st = h_cli(E, &out, "purge", NULL);
    H_ASSERT(E, st == 0, "purge exit %d", st);
    H_ASSERT(E, strstr(out, "order records     1") && strstr(out, "add --yes"), "purge said: %s", out);
    free(out);
    H_ASSERT(E, rint_("EXISTS %s", ok) == 1, "purge without --yes removed the record");
    json_object *j = h_cli_json(E, &st, "purge", "--json", NULL);
    H_ASSERT(E, j && st == 0, "purge --json exit %d", st);
    json_object *v = NULL;
    H_ASSERT(E, json_object_object_get_ex(j, "order_records", &v) && json_object_get_int64(v) == 1,
             "purge --json: %s", json_object_to_json_string(j));
    json_object_put(j);
    st = h_cli(E, &out, "purge", "--yes", NULL);
    H_ASSERT(E, st == 0 && strstr(out, "removed (retention"), "purge --yes exit %d: %s", st, out ? out : "");
    free(out);
    H_ASSERT(E, rint_("EXISTS %s", ok) == 0, "purge --yes kept the record");

    long long searches = f_calls_to(E, "GET /v3/invoices");
    char *ev2 = h_event(H_ORDER_FIXTURE, "pv-purge-2", ref, "complete");
    char *body2 = h_json_with(ev2, "data.value.created_at", "\"2024-01-15 10:00:00\"", NULL);
    H_ASSERT(E, h_post_signed(E, "pv-purge-2", body2, &r) == 202, "post: %s", r.body);
    h_resp_clear(&r);
    H_WAIT(E, 20000, h_pred_drained, NULL, "queue not drained");
    H_ASSERT(E, h_count_invoices(E, ref) == 1, "%d invoices for %s, want 1", h_count_invoices(E, ref), ref);
    log_arg adopted = { "worker1", "found in Jortt (its record had been removed by retention)" };
    H_WAIT(E, 10000, pred_log, &adopted, "the worker did not adopt the invoice");
    H_ASSERT(E, f_calls_to(E, "GET /v3/invoices") == searches + 1, "want one search by the order number");
    H_ASSERT(E, rint_("EXISTS %s", ok) == 1, "the record was not written again");
    free(ev1);
    free(body1);
    free(ev2);
    free(body2);
}
END_TEST

/* ---- forget ---- */

START_TEST(forget_removes_one_persons_data)
{
    E = h_env_up("pv-forget", NULL, 1);
    post_order("pv-f-1", "100000541");
    wait_invoices("100000541", 1);
    H_WAIT(E, 20000, h_pred_drained, NULL, "queue not drained");
    stop_workers();
    /* a dead letter of hers (upper case in the payload), one of someone else */
    dead_letter("ev-her-541", now_ms(), "JAN.DEVRIES@example.com");
    dead_letter("ev-his-542", now_ms(), "piet@example.com");
    /* and an order of hers still waiting */
    post_order("pv-f-2", "100000543");
    H_ASSERT(E, redis_mentions(EMAIL), "the test set-up put no address in Redis");

    char *out = NULL;
    int st = h_cli(E, &out, "forget", "--email", "Jan.DeVries@Example.com", "--dry-run", NULL);
    H_ASSERT(E, st == 0 && strstr(out, "would remove"), "dry run exit %d: %s", st, out ? out : "");
    free(out);
    H_ASSERT(E, redis_mentions(EMAIL), "the dry run removed something");

    st = h_cli(E, &out, "forget", "--email", "Jan.DeVries@Example.com", NULL);
    H_ASSERT(E, st == 0, "forget exit %d: %s", st, out ? out : "");
    H_ASSERT(E, strstr(out, "customer cache  1"), "output: %s", out);
    H_ASSERT(E, strstr(out, "dead letters    1 (order 9541, event ev-her-541)"), "output: %s", out);
    H_ASSERT(E, strstr(out, "waiting events  1 (order 100000543, event pv-f-2)"), "output: %s", out);
    H_ASSERT(E, strstr(out, "log pseudonym h:"), "output: %s", out);
    H_ASSERT(E, strstr(out, "jortt: Jortt still holds customer "), "output: %s", out);
    H_ASSERT(E, !strcasestr(out, EMAIL), "the output repeats the address: %s", out);
    free(out);

    H_ASSERT(E, !redis_mentions(EMAIL), "Redis still mentions the address");
    H_ASSERT(E, !redis_mentions("jan.devries"), "Redis still mentions her name part");
    H_ASSERT(E, f_redis_int(E, "EXISTS %s:dead:ev-his-542", E->prefix) == 1, "someone else's dead letter went");
    H_ASSERT(E, f_redis_keys(E, "customer:*") == 0, "the customer cache entry is left");
    /* the invoice record stays: ids and amounts only */
    H_ASSERT(E, f_redis_int(E, "EXISTS %s:order:100000541", E->prefix) == 1, "the order record went");
    /* nothing left: a second run finds nothing */
    st = h_cli(E, &out, "forget", "--email", EMAIL, NULL);
    H_ASSERT(E, st == 0 && strstr(out, "customer cache  0") && strstr(out, "dead letters    0"), "second run: %s",
             out ? out : "");
    free(out);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("privacy");
    TCase *tc = h_tcase("privacy");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, unkeyed_cache_entry_is_moved_not_duplicated);
    tcase_add_test(tc, upgrade_reads_the_index_again_and_drops_unkeyed_entries);
    tcase_add_test(tc, token_is_sealed_and_a_tampered_one_fetched_again);
    tcase_add_test(tc, worker_sweeps_dead_letters_past_retention);
    tcase_add_test(tc, purged_record_does_not_invoice_twice);
    tcase_add_test(tc, forget_removes_one_persons_data);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
