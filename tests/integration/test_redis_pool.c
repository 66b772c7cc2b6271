/* test_redis_pool.c: the receiver's Redis connections
 * (receiver.redis_connections, receiver/redis_pool.h), seen from outside:
 * a real receiver, a real redis-server, CLIENT LIST / CLIENT KILL / CLIENT
 * PAUSE on it.
 *
 *  - enqueues are spread: with 4 connections, 8 posts one after another
 *    leave all 4 connections having run the enqueue script;
 *  - one connection killed while commands wait on it: exactly the request on
 *    that connection is answered 503 (its batch stored not at all), the
 *    requests on the other connections wait for Redis and are answered 202
 *    only once Redis ran their scripts (whole batches), the killed
 *    connection reconnects by itself, and the refused batch's retry is
 *    stored once: nothing lost, nothing doubled.
 *
 * CLIENT PAUSE ... WRITE holds every script (they write) while CLIENT LIST,
 * CLIENT KILL, EXISTS and PING still answer, so "a command is waiting on
 * each connection" is a state the test can observe, not a race it hopes to
 * win. */
#include "harness.h"
#include "base/buf.h"

#include <curl/curl.h>
#include <hiredis/hiredis.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NCONN  4
#define BATCH  3

static h_env *E;

static void setup(void) { E = NULL; }
static void teardown(void) { h_env_free(E); E = NULL; }

/* ---- CLIENT LIST ---- */

typedef struct {
    long long id;
    char      cmd[32];
    char      flags[16];
} client_info;

/* The value of key=... in one CLIENT LIST line ("" when absent). */
static void field(const char *line, const char *key, char *out, size_t cap)
{
    out[0] = '\0';
    size_t kl = strlen(key);
    const char *p = line;
    while (*p) {
        if (strncmp(p, key, kl) == 0 && p[kl] == '=') {
            p += kl + 1;
            size_t n = strcspn(p, " \n");
            if (n >= cap)
                n = cap - 1;
            memcpy(out, p, n);
            out[n] = '\0';
            return;
        }
        p += strcspn(p, " ");
        p += *p == ' ';
    }
}

/* The receiver's connections: every client but the one asking. */
static int receiver_clients(client_info *out, int max)
{
    redisReply *r = h_redis_cmd(E, "CLIENT LIST");
    H_ASSERT(E, r && r->type == REDIS_REPLY_STRING, "CLIENT LIST failed");
    int n = 0;
    char *save = NULL;
    for (char *line = strtok_r(r->str, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        client_info c;
        char id[32];
        field(line, "id", id, sizeof id);
        field(line, "cmd", c.cmd, sizeof c.cmd);
        field(line, "flags", c.flags, sizeof c.flags);
        c.id = atoll(id);
        if (strcmp(c.cmd, "client|list") == 0)
            continue;
        if (n < max)
            out[n] = c;
        n++;
    }
    freeReplyObject(r);
    return n;
}

static bool pred_all_ran_script(h_env *e, void *arg)
{
    (void)e;
    (void)arg;
    client_info c[16];
    int n = receiver_clients(c, 16);
    if (n != NCONN)
        return false;
    for (int i = 0; i < n; i++)
        if (strcmp(c[i].cmd, "evalsha") != 0)
            return false;
    return true;
}

static bool pred_n_clients(h_env *e, void *arg)
{
    (void)e;
    (void)arg;
    client_info c[16];
    return receiver_clients(c, 16) == NCONN;
}

static bool pred_all_blocked(h_env *e, void *arg)
{
    (void)e;
    (void)arg;
    client_info c[16];
    int n = receiver_clients(c, 16);
    if (n != NCONN)
        return false;
    for (int i = 0; i < n; i++)
        if (!strchr(c[i].flags, 'b'))
            return false;
    return true;
}

/* ---- events ---- */

static char *batch_body(const char *tag, int k)
{
    m2j_buf b = {0};
    m2j_buf_puts(&b, "[");
    for (int j = 0; j < BATCH; j++) {
        char id[64], ref[32];
        snprintf(id, sizeof id, "evt-pool-%s-%d-%d", tag, k, j);
        snprintf(ref, sizeof ref, "31%02d%02d%d", k, j, tag[0] == 'w' ? 1 : 2);
        char *ev = h_event(H_ORDER_FIXTURE, id, ref, NULL);
        m2j_buf_printf(&b, "%s%s", j ? "," : "", ev);
        free(ev);
    }
    m2j_buf_puts(&b, "]");
    return m2j_buf_detach(&b);
}

/* How many events of batch k are stored (their dedup keys exist). */
static int stored(const char *tag, int k)
{
    int n = 0;
    for (int j = 0; j < BATCH; j++) {
        redisReply *r = h_redis_cmd(E, "EXISTS %s:seen:evt-pool-%s-%d-%d", E->prefix, tag, k, j);
        H_ASSERT(E, r && r->type == REDIS_REPLY_INTEGER, "EXISTS failed");
        n += (int)r->integer;
        freeReplyObject(r);
    }
    return n;
}

static long post_batch(const char *tag, int k, h_resp *r)
{
    char *body = batch_body(tag, k);
    char wid[64];
    snprintf(wid, sizeof wid, "msg-pool-%s-%d", tag, k);
    h_post(E, "/webhooks/magento", wid, body, strlen(body), H_SIGNED, r);
    free(body);
    return r->status;
}

static long readyz(void)
{
    char url[128];
    snprintf(url, sizeof url, "%s/readyz", E->receiver_url);
    h_resp r;
    h_http("GET", url, NULL, NULL, 0, &r);
    long st = r.status;
    h_resp_clear(&r);
    return st;
}

/* 8 posts one after another: with ties going round-robin, every
 * connection gets two, so all 4 have run the script. Also proves every
 * connection is ready (only ready connections are picked). */
static void warm_up(void)
{
    for (int k = 0; k < 2 * NCONN; k++) {
        h_resp r;
        long st = post_batch("w", k, &r);
        H_ASSERT(E, st == 202, "warm-up batch %d: want 202, got %ld %s", k, st, r.body);
        h_resp_clear(&r);
        H_ASSERT(E, stored("w", k) == BATCH, "warm-up batch %d answered 202 but not stored", k);
    }
}

static const char *OVERRIDE = "{\"receiver\":{\"redis_connections\":4}}";

START_TEST(enqueues_spread_over_connections)
{
    E = h_env_up("pool-spread", OVERRIDE, 0);
    client_info c[16];
    /* the receiver opens all of them at start */
    H_WAIT(E, 10000, pred_n_clients, NULL, "want %d receiver connections, CLIENT LIST shows %d", NCONN,
           receiver_clients(c, 16));
    warm_up();
    H_WAIT(E, 5000, pred_all_ran_script, NULL, "not every connection ran the enqueue script");
    redisReply *r = h_redis_cmd(E, "XLEN %s:events", E->prefix);
    H_ASSERT(E, r && r->integer == 2 * NCONN * BATCH, "stream length %lld", r ? r->integer : -1);
    freeReplyObject(r);
}
END_TEST

/* ---- one connection killed while requests wait on every connection ---- */

typedef struct {
    int         k;
    long        status;
    char       *body;
    atomic_bool done;
    pthread_t   th;
} poster;

static void *post_thread(void *arg)
{
    poster *p = arg;
    h_resp r;
    p->status = post_batch("k", p->k, &r);
    p->body = r.body ? strdup(r.body) : NULL;
    h_resp_clear(&r);
    atomic_store(&p->done, true);
    return NULL;
}

static poster P[NCONN];

static bool pred_one_done(h_env *e, void *arg)
{
    (void)e;
    (void)arg;
    for (int i = 0; i < NCONN; i++)
        if (atomic_load(&P[i].done))
            return true;
    return false;
}

static bool pred_all_done(h_env *e, void *arg)
{
    (void)e;
    (void)arg;
    for (int i = 0; i < NCONN; i++)
        if (!atomic_load(&P[i].done))
            return false;
    return true;
}

typedef struct {
    long long killed;
} kill_arg;

/* NCONN receiver connections again, none of them the killed one, and the
 * new one has answered its set-up PING. */
static bool pred_reconnected(h_env *e, void *arg)
{
    (void)e;
    const kill_arg *ka = arg;
    client_info c[16];
    int n = receiver_clients(c, 16);
    if (n != NCONN)
        return false;
    bool fresh = false;
    for (int i = 0; i < n; i++) {
        if (c[i].id == ka->killed)
            return false;
        fresh = fresh || strcmp(c[i].cmd, "ping") == 0;
    }
    return fresh;
}

START_TEST(killed_connection_fails_only_its_requests)
{
    E = h_env_up("pool-kill", OVERRIDE, 0);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    warm_up();
    H_WAIT(E, 5000, pred_all_ran_script, NULL, "not every connection ran the enqueue script");

    /* Scripts wait from now on; the receiver's PINGs and our reads do not. */
    redisReply *r = h_redis_cmd(E, "CLIENT PAUSE %d WRITE", (int)h_ms(30000));
    H_ASSERT(E, r && r->type == REDIS_REPLY_STATUS, "CLIENT PAUSE failed");
    freeReplyObject(r);
    for (int i = 0; i < NCONN; i++) {
        P[i] = (poster){ .k = i };
        atomic_init(&P[i].done, false);
        H_ASSERT(E, pthread_create(&P[i].th, NULL, post_thread, &P[i]) == 0, "pthread_create");
    }
    /* Each request on the connection with the fewest in flight: one each. */
    H_WAIT(E, 10000, pred_all_blocked, NULL, "the 4 requests did not end up one on each connection");
    for (int i = 0; i < NCONN; i++)
        H_ASSERT(E, !atomic_load(&P[i].done), "batch %d answered (%ld) while Redis held its script", i, P[i].status);

    client_info c[16];
    H_ASSERT(E, receiver_clients(c, 16) == NCONN, "receiver connections changed");
    r = h_redis_cmd(E, "CLIENT KILL ID %lld", c[0].id);
    H_ASSERT(E, r && r->type == REDIS_REPLY_INTEGER && r->integer == 1, "CLIENT KILL failed");
    freeReplyObject(r);

    /* The request on the killed connection is answered at once, 503; the
     * others still wait for Redis. */
    H_WAIT(E, 10000, pred_one_done, NULL, "no request answered after its connection was killed");
    int failed = -1, waiting = 0;
    for (int i = 0; i < NCONN; i++) {
        if (atomic_load(&P[i].done))
            failed = i;
        else
            waiting++;
    }
    H_ASSERT(E, waiting == NCONN - 1, "%d requests answered, want exactly 1", NCONN - waiting);
    H_ASSERT(E, P[failed].status == 503 && P[failed].body && strstr(P[failed].body, "redis_unavailable"),
             "the killed connection's request: want 503 redis_unavailable, got %ld %s", P[failed].status,
             P[failed].body ? P[failed].body : "");
    H_ASSERT(E, stored("k", failed) == 0, "the refused batch is partly or wholly stored (%d of %d)",
             stored("k", failed), BATCH);
    for (int i = 0; i < NCONN; i++)
        H_ASSERT(E, stored("k", i) == 0, "batch %d stored while Redis was paused", i);
    /* The killed connection comes back on its own (a new client id). */
    kill_arg ka = { c[0].id };
    H_WAIT(E, 10000, pred_reconnected, &ka, "the killed connection did not reconnect");

    r = h_redis_cmd(E, "CLIENT UNPAUSE");
    H_ASSERT(E, r && r->type == REDIS_REPLY_STATUS, "CLIENT UNPAUSE failed");
    freeReplyObject(r);
    H_WAIT(E, 10000, pred_all_done, NULL, "requests still unanswered after Redis resumed");
    for (int i = 0; i < NCONN; i++) {
        pthread_join(P[i].th, NULL);
        if (i == failed)
            continue;
        H_ASSERT(E, P[i].status == 202, "batch %d: want 202, got %ld %s", i, P[i].status, P[i].body);
        H_ASSERT(E, stored("k", i) == BATCH, "batch %d answered 202 with %d of %d events stored", i,
                 stored("k", i), BATCH);
    }
    H_ASSERT(E, readyz() == 200, "/readyz not 200 after Redis resumed");
    /* The sender retries the refused batch: stored once, as new events. */
    h_resp rr;
    long st = post_batch("k", failed, &rr);
    H_ASSERT(E, st == 202 && strstr(rr.body, "\"duplicates\":0"), "retry: want 202 with no duplicates, got %ld %s",
             st, rr.body);
    h_resp_clear(&rr);
    H_ASSERT(E, stored("k", failed) == BATCH, "retried batch not stored");
    r = h_redis_cmd(E, "XLEN %s:events", E->prefix);
    H_ASSERT(E, r && r->integer == (2 * NCONN + NCONN) * BATCH, "stream length %lld, want %d",
             r ? r->integer : -1, (2 * NCONN + NCONN) * BATCH);
    freeReplyObject(r);
    for (int i = 0; i < NCONN; i++)
        free(P[i].body);
    curl_global_cleanup();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("redis_pool");
    TCase *tc = h_tcase("redis_pool");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, enqueues_spread_over_connections);
    tcase_add_test(tc, killed_connection_fails_only_its_requests);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
