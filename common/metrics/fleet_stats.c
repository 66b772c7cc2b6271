/* fleet_stats.c: see fleet_stats.h. */
#include "metrics/fleet_stats.h"
#include "jortt/breaker.h"
#include "queue/queue.h"
#include "queue/redis_cmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_KEYS 10

static const char *const KEY_SUFFIX[N_KEYS] = {
    "events", "retry", "dead:index", "stats", "stats:events", "stats:jortt", "breaker", "workers",
    "magento:poll:last_ok_ms", "magento:poll:stats",
};

/* One script so a job moving between the stream, the pending list and the
 * retry set is seen in exactly one of them, and so the receiver answers a
 * scrape with one round trip. Read only.
 * ARGV[1] group, ARGV[2] heartbeat age (ms) that still counts as alive.
 * Reply: {xlen, pending, retries, dead, {stats}, {TIME}, oldest id|false,
 *         {events}, {jortt}, {breaker}, workers alive, last_ok|false, {poll}} */
const char *const M2J_FLEET_SCRIPT =
    "local xlen = redis.call('XLEN', KEYS[1])\n"
    "local pending = 0\n"
    "local p = redis.pcall('XPENDING', KEYS[1], ARGV[1])\n"
    "if type(p) == 'table' and p.err == nil then pending = p[1] end\n"
    "local oldest = false\n"
    "local o = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)\n"
    "if #o == 1 then oldest = o[1][1] end\n"
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
    "local alive = redis.call('ZCOUNT', KEYS[8], now - tonumber(ARGV[2]), '+inf')\n"
    "local last_ok = redis.call('GET', KEYS[9])\n"
    "return {xlen, pending, redis.call('ZCARD', KEYS[2]), redis.call('ZCARD', KEYS[3]),\n"
    "        redis.call('HGETALL', KEYS[4]), t, oldest, redis.call('HGETALL', KEYS[5]),\n"
    "        redis.call('HGETALL', KEYS[6]), redis.call('HGETALL', KEYS[7]), alive, last_ok,\n"
    "        redis.call('HGETALL', KEYS[10])}\n";

void m2j_fleet_args_free(m2j_fleet_args *a)
{
    if (!a->argv)
        return;
    for (int i = 0; i < a->argc; i++)
        free(a->argv[i]);
    free(a->argv);
    free(a->lens);
    memset(a, 0, sizeof *a);
}

m2j_rc m2j_fleet_args_build(const char *prefix, m2j_fleet_args *out, m2j_err *err)
{
    memset(out, 0, sizeof *out);
    int argc = 3 + N_KEYS + 2;
    out->argv = calloc((size_t)argc, sizeof *out->argv);
    out->lens = calloc((size_t)argc, sizeof *out->lens);
    if (!out->argv || !out->lens) {
        free(out->argv);
        free(out->lens);
        memset(out, 0, sizeof *out);
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    }
    out->argc = argc;
    bool ok = true;
    char n[16], alive[24];
    snprintf(n, sizeof n, "%d", N_KEYS);
    snprintf(alive, sizeof alive, "%d", M2J_WORKER_ALIVE_MS);
    out->argv[0] = strdup("EVAL");
    out->argv[1] = strdup(M2J_FLEET_SCRIPT);
    out->argv[2] = strdup(n);
    for (int i = 0; i < N_KEYS; i++) {
        m2j_buf k = {0};
        ok = ok && m2j_buf_printf(&k, "%s:%s", prefix, KEY_SUFFIX[i]) == M2J_OK;
        out->argv[3 + i] = m2j_buf_detach(&k);
    }
    out->argv[3 + N_KEYS] = strdup(M2J_GROUP);
    out->argv[4 + N_KEYS] = strdup(alive);
    for (int i = 0; i < argc; i++) {
        ok = ok && out->argv[i];
        out->lens[i] = out->argv[i] ? strlen(out->argv[i]) : 0;
    }
    if (!ok) {
        m2j_fleet_args_free(out);
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    }
    return M2J_OK;
}

static long long int_of(const redisReply *r)
{
    if (r->type == REDIS_REPLY_INTEGER)
        return r->integer;
    if (r->type == REDIS_REPLY_STRING)
        return m2j_reply_ll(r->str);
    return 0;
}

static int cmp_count(const void *x, const void *y)
{
    const m2j_fleet_count *a = x, *b = y;
    int c = strcmp(a->a, b->a);
    return c ? c : strcmp(a->b, b->b);
}

/* Hash fields "<a><sep><b>" split at the last sep; fields without one, or
 * too long for a label, are left out rather than cut (a cut label would
 * merge two series). */
static void split_counts(const redisReply *h, char sep, m2j_fleet_count *out, size_t *n)
{
    *n = 0;
    for (size_t i = 0; i + 1 < h->elements && *n < M2J_FLEET_MAX_COUNTS; i += 2) {
        const char *f = h->element[i]->str;
        const char *s = f ? strrchr(f, sep) : NULL;
        if (!s || (size_t)(s - f) >= sizeof out->a || strlen(s + 1) >= sizeof out->b)
            continue;
        m2j_fleet_count *c = &out[(*n)++];
        memcpy(c->a, f, (size_t)(s - f));
        c->a[s - f] = '\0';
        strcpy(c->b, s + 1);
        c->n = m2j_reply_ll(h->element[i + 1]->str);
    }
    qsort(out, *n, sizeof *out, cmp_count);
}

m2j_rc m2j_fleet_stats_parse(const redisReply *r, m2j_fleet_stats *out, m2j_err *err)
{
    memset(out, 0, sizeof *out);
    static const int arrays[] = { 4, 5, 7, 8, 9, 12 };
    bool ok = r && r->type == REDIS_REPLY_ARRAY && r->elements == 13;
    for (size_t i = 0; ok && i < sizeof arrays / sizeof arrays[0]; i++)
        ok = r->element[arrays[i]]->type == REDIS_REPLY_ARRAY;
    ok = ok && r->element[5]->elements == 2;
    if (!ok)
        return m2j_fail(err, M2J_ERR_INTERNAL, "fleet stats script: unexpected reply");
    const redisReply *const *e = (const redisReply *const *)r->element;
    out->now_ms = int_of(e[5]->element[0]) * 1000 + int_of(e[5]->element[1]) / 1000;
    long long xlen = int_of(e[0]);
    out->in_progress = int_of(e[1]);
    /* Acknowledged entries are deleted at once: whatever is in the stream
     * and not pending has not been handed out yet. */
    out->queued = xlen > out->in_progress ? xlen - out->in_progress : 0;
    out->scheduled_retries = int_of(e[2]);
    out->dead = int_of(e[3]);
    out->received = m2j_reply_ll(m2j_reply_field(e[4], "received"));
    out->replayed = m2j_reply_ll(m2j_reply_field(e[4], "replayed"));
    if (e[6]->type == REDIS_REPLY_STRING) {
        long long t = m2j_reply_ll(e[6]->str); /* "<ms>-<seq>" */
        out->oldest_age_ms = out->now_ms > t ? out->now_ms - t : 0;
    }
    split_counts(e[7], ':', out->events, &out->n_events);
    split_counts(e[8], ' ', out->jortt, &out->n_jortt);
    out->breaker_failures = m2j_reply_ll(m2j_reply_field(e[9], "failures"));
    out->breaker_open = out->breaker_failures >= M2J_BREAKER_THRESHOLD &&
                        m2j_reply_ll(m2j_reply_field(e[9], "open_until_ms")) > 0;
    out->workers_alive = int_of(e[10]);
    out->magento_last_ok_ms = e[11]->type == REDIS_REPLY_STRING ? m2j_reply_ll(e[11]->str) : 0;
    out->magento_polls_ok = m2j_reply_ll(m2j_reply_field(e[12], "ok"));
    out->magento_polls_failed = m2j_reply_ll(m2j_reply_field(e[12], "failed"));
    return M2J_OK;
}

m2j_rc m2j_fleet_stats_get(m2j_queue *q, m2j_fleet_stats *out, m2j_err *err)
{
    m2j_fleet_args a;
    m2j_rc rc = m2j_fleet_args_build(m2j_queue_prefix(q), &a, err);
    if (rc != M2J_OK)
        return rc;
    redisReply *r = NULL;
    rc = m2j_weval(q, M2J_FLEET_SCRIPT, N_KEYS, (const char **)a.argv + 3, 2, (const char **)a.argv + 3 + N_KEYS,
                   &r, err);
    if (rc == M2J_OK)
        rc = m2j_fleet_stats_parse(r, out, err);
    if (r)
        freeReplyObject(r);
    m2j_fleet_args_free(&a);
    return rc;
}
