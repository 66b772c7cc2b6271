/* poller.c: see poller.h. */
#include "worker/poller.h"
#include "base/crypto_util.h"
#include "base/json_util.h"
#include "base/log.h"
#include "magento/order_event.h"
#include "magento/poll_cursor.h"
#include "queue/redis_cmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LEASE_KEY         "magento:poll"   /* P:lock:magento:poll */
#define LEASE_MIN_MS      5000
#define POLL_PAGE_BUDGET  5
#define BACKOFF_MAX_STEPS 4               /* 2^4 = 16 intervals */

/* KEYS[1] the lease, KEYS[2] the cursor; ARGV[1] our token, ARGV[2] the
 * cursor. A poller that lost its lease must not move the cursor. */
static const char *const CURSOR_SET_SCRIPT =
    "if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end\n"
    "redis.call('SET', KEYS[2], ARGV[2])\n"
    "return 1\n";

typedef struct {
    m2j_kind    kind;
    const char *name;     /* cursor suffix, log field */
    const char *path;
    const char *id_field;
} stream;

static const stream STREAMS[] = {
    { M2J_KIND_ORDER, "orders", "/V1/orders", "entity_id" },
    { M2J_KIND_CREDITMEMO, "creditmemos", "/V1/creditmemos", "entity_id" },
    { M2J_KIND_CUSTOMER, "customers", "/V1/customers/search", "id" },
};
#define N_STREAMS (sizeof STREAMS / sizeof STREAMS[0])

typedef enum { POLL_END, POLL_MORE, POLL_RETRY, POLL_REFUSED, POLL_LOST, POLL_REDIS } poll_result;

struct m2j_poller {
    m2j_worker         *w;
    m2j_magento_client *mc;
    m2j_magento_pace   *pace;
    int                 page_size;
    char                token[400];   /* "<consumer>/<random>": who holds the lease, for operators */
    bool                holder;
    long long           next_due_ms;   /* the earliest of the streams' */
    struct {
        long long next_due_ms;
        int       refused_steps; /* back-off after 401/403 */
        bool      failing;       /* an incident is under way (logged once) */
    } ss[N_STREAMS];             /* each stream on its own: a resource not granted for credit memos
                                    must not slow down the orders */
};

m2j_poller *m2j_poller_new(m2j_worker *w, m2j_magento_client *mc, m2j_magento_pace *pace, int page_size)
{
    m2j_poller *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->w = w;
    p->mc = mc;
    p->pace = pace;
    p->page_size = page_size > 0 ? page_size : 100;
    char rnd[33];
    if (m2j_random_hex(rnd) != M2J_OK) {
        free(p);
        return NULL;
    }
    snprintf(p->token, sizeof p->token, "%s/%s", w->consumer ? w->consumer : "worker", rnd);
    return p;
}

void m2j_poller_free(m2j_poller *p)
{
    if (!p)
        return;
    if (p->holder)
        m2j_lock_release(p->w->q, LEASE_KEY, p->token, NULL);
    free(p);
}

static long long interval_ms(const m2j_poller *p)
{
    return p->w->cfg->magento.poll_interval_seconds * 1000;
}

static long long lease_ttl_ms(const m2j_poller *p)
{
    long long t = 3 * interval_ms(p);
    return t > LEASE_MIN_MS ? t : LEASE_MIN_MS;
}

/* True while we hold the lease (taking it when free, extending it when ours). */
static bool hold_lease(m2j_poller *p, m2j_err *e)
{
    m2j_rc rc;
    if (p->holder) {
        rc = m2j_lock_extend(p->w->q, LEASE_KEY, p->token, lease_ttl_ms(p), e);
        if (rc == M2J_OK)
            return true;
        p->holder = false;
        if (rc == M2J_ERR_CONFLICT)
            m2j_log(M2J_LOG_WARN, "magento poll lease lost to another worker", "consumer", p->w->consumer, NULL);
        return false;
    }
    rc = m2j_lock_acquire(p->w->q, LEASE_KEY, p->token, lease_ttl_ms(p), e);
    if (rc != M2J_OK)
        return false;
    p->holder = true;
    m2j_log(M2J_LOG_INFO, "magento poll lease taken: this worker polls", "consumer", p->w->consumer, NULL);
    return true;
}

static m2j_rc cursor_key(m2j_poller *p, const stream *st, m2j_buf *k)
{
    return m2j_wkey(p->w->q, k, "magento:cursor:%s", st->name);
}

/* The stored cursor, or (now - overlap, 0) stored first for a new
 * installation. */
static poll_result load_cursor(m2j_poller *p, const stream *st, m2j_poll_cursor *c, m2j_err *e)
{
    m2j_buf k = {0}, v = {0};
    poll_result res = POLL_REDIS;
    redisReply *r = NULL;
    if (cursor_key(p, st, &k) != M2J_OK || m2j_wcmd(p->w->q, &r, e, "GET", k.data, NULL) != M2J_OK)
        goto out;
    if (r->type == REDIS_REPLY_STRING && m2j_poll_cursor_parse(r->str, c)) {
        res = POLL_MORE;
        goto out;
    }
    if (r->type == REDIS_REPLY_STRING)
        m2j_log(M2J_LOG_WARN, "magento poll cursor unreadable: starting from now", "stream", st->name, NULL);
    m2j_poll_cursor_at(m2j_now_ms() / 1000 - M2J_POLL_OVERLAP_S, c);
    if (m2j_poll_cursor_format(c, &v) != M2J_OK)
        goto out;
    const char *keys[2] = { NULL, k.data };
    m2j_buf lk = {0};
    if (m2j_wkey(p->w->q, &lk, "lock:%s", LEASE_KEY) != M2J_OK) {
        m2j_buf_free(&lk);
        goto out;
    }
    keys[0] = lk.data;
    const char *args[2] = { p->token, v.data };
    redisReply *sr = NULL;
    m2j_rc rc = m2j_weval(p->w->q, CURSOR_SET_SCRIPT, 2, keys, 2, args, &sr, e);
    m2j_buf_free(&lk);
    if (rc == M2J_OK) {
        res = sr->type == REDIS_REPLY_INTEGER && sr->integer == 1 ? POLL_MORE : POLL_LOST;
        freeReplyObject(sr);
        if (res == POLL_MORE)
            m2j_log(M2J_LOG_INFO, "magento poll starts from now (new installation; older orders: backfill)",
                    "stream", st->name, "cursor", v.data, NULL);
    }
out:
    if (r)
        freeReplyObject(r);
    m2j_buf_free(&k);
    m2j_buf_free(&v);
    return res;
}

static poll_result store_cursor(m2j_poller *p, const stream *st, const m2j_poll_cursor *c, m2j_err *e)
{
    m2j_buf k = {0}, lk = {0}, v = {0};
    poll_result res = POLL_REDIS;
    if (cursor_key(p, st, &k) != M2J_OK || m2j_wkey(p->w->q, &lk, "lock:%s", LEASE_KEY) != M2J_OK ||
        m2j_poll_cursor_format(c, &v) != M2J_OK)
        goto out;
    const char *keys[2] = { lk.data, k.data };
    const char *args[2] = { p->token, v.data };
    redisReply *r = NULL;
    if (m2j_weval(p->w->q, CURSOR_SET_SCRIPT, 2, keys, 2, args, &r, e) != M2J_OK)
        goto out;
    res = r->type == REDIS_REPLY_INTEGER && r->integer == 1 ? POLL_MORE : POLL_LOST;
    freeReplyObject(r);
out:
    m2j_buf_free(&k);
    m2j_buf_free(&lk);
    m2j_buf_free(&v);
    return res;
}

/* A credit memo from /V1/creditmemos names its order by entity id only; the
 * worker needs the order's increment id (and uses the order for the refund
 * split), so the memo is queued with its "order". */
static m2j_magento_class memo_with_order(m2j_poller *p, json_object *memo, json_object **out, m2j_buf *why)
{
    *out = json_object_get(memo);
    if (m2j_json_get(memo, "order_increment_id") || m2j_json_get_obj(memo, "order"))
        return M2J_MAGENTO_OK;
    const char *oid = m2j_json_get_id(memo, "order_id");
    if (!oid)
        return M2J_MAGENTO_OK; /* the worker dead-letters it with the reason */
    m2j_buf path = {0};
    m2j_magento_response r = {0};
    m2j_err e;
    m2j_magento_class cls = M2J_MAGENTO_RETRY;
    if (m2j_buf_printf(&path, "/V1/orders/%s", oid) == M2J_OK &&
        m2j_magento_request(p->mc, "GET", path.data, NULL, NULL, &r, &e) == M2J_OK) {
        cls = r.cls;
        m2j_magento_pace_after(p->pace, &r);
        if (cls == M2J_MAGENTO_OK && r.json) {
            json_object *copy = NULL;
            if (json_object_deep_copy(memo, &copy, NULL) == 0 && copy) {
                json_object_object_add(copy, "order", json_object_get(r.json));
                json_object_put(*out);
                *out = copy;
            } else {
                cls = M2J_MAGENTO_RETRY;
            }
        } else if (cls == M2J_MAGENTO_NOT_FOUND) {
            cls = M2J_MAGENTO_OK; /* queued without: dead-lettered with a reason, visible */
        } else {
            m2j_buf_puts(why, m2j_buf_str(&r.reason));
        }
    }
    m2j_magento_response_clear(&r);
    m2j_buf_free(&path);
    return cls;
}

/* Queues one page, counting queued events and duplicates. */
static poll_result queue_page(m2j_poller *p, const stream *st, json_object *items, size_t n, long *queued,
                              long *dups, m2j_buf *why)
{
    m2j_event *evs = calloc(n ? n : 1, sizeof *evs);
    m2j_enqueue_result *res = calloc(n ? n : 1, sizeof *res);
    size_t k = 0;
    poll_result out = POLL_MORE;
    m2j_err e;
    if (!evs || !res) {
        m2j_buf_puts(why, "out of memory");
        out = POLL_RETRY;
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        json_object *item = json_object_array_get_idx(items, i), *ent = json_object_get(item);
        if (st->kind == M2J_KIND_CREDITMEMO) {
            json_object_put(ent);
            m2j_magento_class cls = memo_with_order(p, item, &ent, why);
            if (cls != M2J_MAGENTO_OK) {
                json_object_put(ent);
                out = cls == M2J_MAGENTO_PERMANENT ? POLL_REFUSED : POLL_RETRY;
                goto done;
            }
        }
        m2j_rc rc = m2j_magento_entity_event(st->kind, ent, m2j_now_ms(), &evs[k], &e);
        json_object_put(ent);
        if (rc == M2J_ERR_NOMEM) {
            m2j_buf_puts(why, "out of memory");
            out = POLL_RETRY;
            goto done;
        }
        if (rc != M2J_OK) {
            /* Not an entity Magento would list (no id): nothing to queue. */
            m2j_log(M2J_LOG_ERROR, "magento poll: entity not queued", "stream", st->name, "error", e.msg, NULL);
            continue;
        }
        k++;
    }
    if (k > 0) {
        m2j_rc rc = m2j_queue_enqueue(p->w->q, evs, k, p->w->cfg->receiver.dedup_ttl_seconds, res, &e);
        if (rc != M2J_OK) {
            m2j_buf_puts(why, e.msg);
            out = POLL_REDIS;
            goto done;
        }
        for (size_t i = 0; i < k; i++)
            res[i].duplicate ? (*dups)++ : (*queued)++;
        m2j_enqueue_results_clear(res, k);
    }
done:
    for (size_t i = 0; evs && i < n; i++)
        m2j_event_clear(&evs[i]);
    free(evs);
    free(res);
    return out;
}

static poll_result poll_stream(m2j_poller *p, const stream *st, long *queued, long *dups, m2j_buf *why)
{
    m2j_err e;
    m2j_poll_cursor c;
    poll_result res = load_cursor(p, st, &c, &e);
    if (res != POLL_MORE) {
        if (res == POLL_REDIS)
            m2j_buf_puts(why, e.msg);
        return res;
    }
    m2j_buf q = {0};
    for (int page = 0; page < POLL_PAGE_BUDGET; page++) {
        if (!hold_lease(p, &e))
            return POLL_LOST;
        m2j_buf_reset(&q);
        if (m2j_poll_query(&q, &c, "updated_at", st->id_field, p->page_size) != M2J_OK) {
            m2j_buf_puts(why, "out of memory");
            res = POLL_RETRY;
            break;
        }
        m2j_magento_response r = {0};
        if (m2j_magento_request(p->mc, "GET", st->path, q.data, NULL, &r, &e) != M2J_OK) {
            m2j_buf_puts(why, e.msg);
            res = POLL_RETRY;
            break;
        }
        m2j_magento_pace_after(p->pace, &r);
        if (r.cls != M2J_MAGENTO_OK) {
            m2j_buf_puts(why, m2j_buf_str(&r.reason));
            res = r.cls == M2J_MAGENTO_PERMANENT ? POLL_REFUSED : POLL_RETRY;
            m2j_magento_response_clear(&r);
            break;
        }
        json_object *items = m2j_json_get_arr(r.json, "items");
        size_t n = items ? json_object_array_length(items) : 0;
        m2j_poll_cursor next = c;
        if (n > 0) {
            json_object *last = json_object_array_get_idx(items, n - 1);
            if (!m2j_poll_cursor_set(&next, m2j_json_str0(last, "updated_at"), m2j_json_scalar(last, st->id_field))) {
                m2j_buf_printf(why, "Magento %s: an entity without a usable updated_at/%s", st->path, st->id_field);
                res = POLL_RETRY;
                m2j_magento_response_clear(&r);
                break;
            }
        }
        res = queue_page(p, st, items, n, queued, dups, why);
        m2j_magento_response_clear(&r);
        if (res != POLL_MORE)
            break;
        bool end = (int)n < p->page_size;
        if (end) {
            m2j_poll_cursor rest;
            if (!m2j_poll_cursor_at_rest(&c, n > 0 ? &next : NULL, M2J_POLL_OVERLAP_S, &rest)) {
                res = POLL_RETRY;
                break;
            }
            next = rest;
        }
        if (m2j_poll_cursor_cmp(&next, &c) != 0) {
            res = store_cursor(p, st, &next, &e);
            if (res == POLL_REDIS)
                m2j_buf_puts(why, e.msg);
            if (res != POLL_MORE)
                break;
            c = next;
        }
        if (end) {
            res = POLL_END;
            break;
        }
    }
    m2j_buf_free(&q);
    return res;
}

static void log_counts(const char *msg, const stream *st, long queued, long dups)
{
    char a[24], b[24];
    snprintf(a, sizeof a, "%ld", queued);
    snprintf(b, sizeof b, "%ld", dups);
    m2j_log(queued ? M2J_LOG_INFO : M2J_LOG_DEBUG, msg, "stream", st->name, "queued", a, "duplicates", b, NULL);
}

/* The figures /metrics and the alerts read (queue.h: P:magento:poll:*): a
 * poll that reached Magento counts as ok, one that could not as failed.
 * Best effort: a lost write only delays what a dashboard shows. */
static void record_poll(m2j_poller *p, poll_result r, long long now_ms)
{
    bool ok = r == POLL_END || r == POLL_MORE;
    if (!ok && r != POLL_RETRY && r != POLL_REFUSED)
        return; /* Redis trouble or a lost lease says nothing about Magento */
    m2j_buf stats = {0}, last = {0};
    if (m2j_wkey(p->w->q, &stats, "magento:poll:stats") == M2J_OK &&
        m2j_wcmd(p->w->q, NULL, NULL, "HINCRBY", stats.data, ok ? "ok" : "failed", "1", NULL) == M2J_OK && ok &&
        m2j_wkey(p->w->q, &last, "magento:poll:last_ok_ms") == M2J_OK) {
        char ms[24];
        snprintf(ms, sizeof ms, "%lld", now_ms);
        m2j_wcmd(p->w->q, NULL, NULL, "SET", last.data, ms, NULL);
    }
    m2j_buf_free(&stats);
    m2j_buf_free(&last);
}

/* Updates the stream's schedule and incident state after a poll. */
static void after_poll(m2j_poller *p, size_t i, poll_result r, const char *why, long long now_ms)
{
    const stream *st = &STREAMS[i];
    record_poll(p, r, now_ms);
    long long next = now_ms + interval_ms(p);
    if (r == POLL_REFUSED) {
        if (!p->ss[i].failing || p->ss[i].refused_steps == 0)
            m2j_log(M2J_LOG_ERROR, "magento poll refused: polling backs off until the integration is fixed "
                    "(nothing is lost: the cursor waits)", "stream", st->name, "error", why, NULL);
        p->ss[i].failing = true;
        if (p->ss[i].refused_steps < BACKOFF_MAX_STEPS)
            p->ss[i].refused_steps++;
        next = now_ms + (interval_ms(p) << p->ss[i].refused_steps);
    } else if (r == POLL_RETRY || r == POLL_REDIS) {
        if (!p->ss[i].failing)
            m2j_log(M2J_LOG_WARN, "magento poll failed: the cursor is kept and the poll tried again next interval",
                    "stream", st->name, "error", why, NULL);
        p->ss[i].failing = true;
    } else if (r == POLL_END || r == POLL_MORE) {
        if (p->ss[i].failing)
            m2j_log(M2J_LOG_INFO, "magento poll works again", "stream", st->name, NULL);
        p->ss[i].failing = false;
        p->ss[i].refused_steps = 0;
        if (r == POLL_MORE)
            next = now_ms; /* more pages waiting: next tick, after a job */
    }
    p->ss[i].next_due_ms = next;
}

static bool active(const m2j_poller *p, size_t i)
{
    return STREAMS[i].kind != M2J_KIND_CUSTOMER || p->w->cfg->customers.sync;
}

void m2j_poller_tick(m2j_poller *p, long long now_ms)
{
    if (!p || interval_ms(p) <= 0 || now_ms < p->next_due_ms)
        return;
    m2j_err e;
    if (!hold_lease(p, &e)) {
        p->next_due_ms = now_ms + interval_ms(p);
        return;
    }
    for (size_t i = 0; i < N_STREAMS; i++) {
        if (!active(p, i) || now_ms < p->ss[i].next_due_ms)
            continue;
        long queued = 0, dups = 0;
        m2j_buf why = {0};
        poll_result r = poll_stream(p, &STREAMS[i], &queued, &dups, &why);
        if (queued || dups)
            log_counts("magento poll", &STREAMS[i], queued, dups);
        after_poll(p, i, r, m2j_buf_str(&why), now_ms);
        m2j_buf_free(&why);
        if (r == POLL_LOST) {
            p->holder = false;
            break;
        }
    }
    long long next = -1;
    for (size_t i = 0; i < N_STREAMS; i++)
        if (active(p, i) && (next < 0 || p->ss[i].next_due_ms < next))
            next = p->ss[i].next_due_ms;
    p->next_due_ms = next < 0 ? now_ms + interval_ms(p) : next;
}
