/* forget.c: see forget.h. */
#include "queue/forget.h"
#include "queue/queue_internal.h"
#include "base/json_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGE 500

/* KEYS[1] P:dead:<id>, KEYS[2] dead index; ARGV[1] id. */
static const char *const DEAD_DEL =
    "local n = redis.call('DEL', KEYS[1])\n"
    "redis.call('ZREM', KEYS[2], ARGV[1])\n"
    "return n\n";

/* KEYS[1] stream, KEYS[2] stats; ARGV[1] group, ARGV[2] entry id.
 * 1 removed, 0 gone already, -1 held by a worker (left alone). */
static const char *const STREAM_DEL =
    "local p = redis.pcall('XPENDING', KEYS[1], ARGV[1], ARGV[2], ARGV[2], 1)\n"
    "if type(p) == 'table' and p.err == nil and #p > 0 then return -1 end\n"
    "local n = redis.call('XDEL', KEYS[1], ARGV[2])\n"
    "if n > 0 then redis.call('HINCRBY', KEYS[2], 'forgotten', n) end\n"
    "return n\n";

void m2j_forget_report_clear(m2j_forget_report *r)
{
    for (size_t i = 0; i < r->n; i++) {
        free(r->items[i].event_id);
        free(r->items[i].ref);
    }
    free(r->items);
    memset(r, 0, sizeof *r);
}

/* What a job says about itself, for the report. */
static void job_labels(const char *text, size_t len, char **event_id, char **ref)
{
    json_object *job = NULL;
    const char *id = NULL, *rf = NULL;
    if (text && m2j_json_parse(text, len, &job, NULL) == M2J_OK) {
        id = m2j_json_str(job, "event.event_id");
        rf = m2j_json_str(job, "event.entity.increment_id");
        if (!rf)
            rf = m2j_json_str(job, "event.entity.order_increment_id");
        if (!rf)
            rf = m2j_json_str(job, "event.entity.id");
    }
    *event_id = strdup(id && *id ? id : "-");
    *ref = strdup(rf && *rf ? rf : "-");
    if (job)
        json_object_put(job);
}

static m2j_rc add_item(m2j_forget_report *r, m2j_forget_where where, const char *job, size_t len,
                       const char *fallback_id, bool removed, m2j_err *err)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 16;
        m2j_forget_item *a = realloc(r->items, cap * sizeof *a);
        if (!a)
            return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
        r->items = a;
        r->cap = cap;
    }
    m2j_forget_item *it = &r->items[r->n];
    it->where = where;
    it->removed = removed;
    job_labels(job, len, &it->event_id, &it->ref);
    if (it->event_id && !strcmp(it->event_id, "-") && fallback_id) {
        free(it->event_id);
        it->event_id = strdup(fallback_id);
    }
    if (!it->event_id || !it->ref) {
        free(it->event_id);
        free(it->ref);
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    }
    r->n++;
    return M2J_OK;
}

static bool str_el(const redisReply *r)
{
    return r && r->type == REDIS_REPLY_STRING;
}

/* What one pass over a sorted set looks for, and where it reports. */
typedef struct {
    m2j_forget_match_fn match;
    void               *ud;
    bool                apply;
    m2j_forget_report  *out;
} pass_ctx;

/* One member of the set; *gone when it left the set (the ranks after it
 * shift down by one). */
typedef m2j_rc (*member_fn)(m2j_queue *q, const redisReply *member, pass_ctx *c, bool *gone, m2j_err *err);

/* Pages through the sorted set at key by rank, PAGE members a call, at most
 * max members in all (then out->truncated). */
static m2j_rc zset_walk(m2j_queue *q, const char *key, size_t max, member_fn fn, pass_ctx *c, m2j_err *err)
{
    size_t seen = 0;
    long long start = 0;
    for (;;) {
        char a[32], b[32];
        snprintf(a, sizeof a, "%lld", start);
        snprintf(b, sizeof b, "%lld", start + PAGE - 1);
        const char *argv[] = { "ZRANGE", key, a, b };
        redisReply *page;
        m2j_rc rc = m2j_q_cmd(q, 4, argv, &page, err);
        if (rc != M2J_OK)
            return rc;
        if (page->type != REDIS_REPLY_ARRAY || page->elements == 0) {
            freeReplyObject(page);
            return M2J_OK;
        }
        long long gone = 0;
        for (size_t i = 0; i < page->elements && rc == M2J_OK; i++) {
            if (seen++ >= max) {
                c->out->truncated = true;
                break;
            }
            if (!str_el(page->element[i]))
                continue;
            bool left = false;
            rc = fn(q, page->element[i], c, &left, err);
            gone += left;
        }
        size_t got = page->elements;
        freeReplyObject(page);
        if (rc != M2J_OK || c->out->truncated || got < PAGE)
            return rc;
        start += (long long)got - gone;
    }
}

/* A dead letter (P:dead:<id>, indexed in P:dead:index) with the person in
 * any of its fields. */
static m2j_rc dead_member(m2j_queue *q, const redisReply *member, pass_ctx *c, bool *gone, m2j_err *err)
{
    const char *id = member->str;
    m2j_buf key = {0};
    if (m2j_buf_printf(&key, "%s:dead:%s", q->prefix, id) != M2J_OK) {
        m2j_buf_free(&key);
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    }
    const char *hv[] = { "HGETALL", key.data };
    redisReply *h;
    m2j_rc rc = m2j_q_cmd(q, 2, hv, &h, err);
    if (rc == M2J_OK) {
        bool hit = false;
        const char *job = NULL;
        size_t job_len = 0;
        for (size_t k = 0; h->type == REDIS_REPLY_ARRAY && k + 1 < h->elements; k += 2) {
            const redisReply *f = h->element[k], *v = h->element[k + 1];
            if (!str_el(f) || !str_el(v))
                continue;
            if (!strcmp(f->str, "job")) {
                job = v->str;
                job_len = v->len;
            }
            hit = hit || c->match(v->str, v->len, c->ud);
        }
        bool removed = false;
        if (hit && c->apply) {
            const char *keys[] = { key.data, q->k_dead_index };
            const char *args[] = { id };
            redisReply *d;
            rc = m2j_q_eval(q, DEAD_DEL, 2, keys, 1, args, &d, err);
            if (rc == M2J_OK) {
                removed = d->type == REDIS_REPLY_INTEGER && d->integer > 0;
                freeReplyObject(d);
                *gone = true; /* out of the index either way */
            }
        }
        if (hit && rc == M2J_OK)
            rc = add_item(c->out, M2J_FORGET_DEAD, job, job_len, id, removed, err);
        freeReplyObject(h);
    }
    m2j_buf_free(&key);
    return rc;
}

/* A job waiting for its retry (the member of P:retry is the job itself). */
static m2j_rc retry_member(m2j_queue *q, const redisReply *j, pass_ctx *c, bool *gone, m2j_err *err)
{
    if (!c->match(j->str, j->len, c->ud))
        return M2J_OK;
    bool removed = false;
    if (c->apply) {
        const char *zv[] = { "ZREM", q->k_retry, j->str };
        redisReply *z;
        m2j_rc rc = m2j_q_cmd(q, 3, zv, &z, err);
        if (rc != M2J_OK)
            return rc;
        removed = z->type == REDIS_REPLY_INTEGER && z->integer == 1;
        *gone = removed;
        freeReplyObject(z);
    }
    return add_item(c->out, M2J_FORGET_RETRY, j->str, j->len, NULL, removed, err);
}

static m2j_rc stream_pass(m2j_queue *q, m2j_forget_match_fn match, void *ud, bool apply, size_t max,
                          m2j_forget_report *out, m2j_err *err)
{
    size_t seen = 0;
    m2j_buf from = {0};
    m2j_rc rc = m2j_buf_puts(&from, "-");
    while (rc == M2J_OK) {
        char cnt[16];
        snprintf(cnt, sizeof cnt, "%d", PAGE);
        const char *argv[] = { "XRANGE", q->k_stream, from.data, "+", "COUNT", cnt };
        redisReply *es;
        if ((rc = m2j_q_cmd(q, 6, argv, &es, err)) != M2J_OK)
            break;
        size_t got = es->type == REDIS_REPLY_ARRAY ? es->elements : 0;
        for (size_t i = 0; i < got && rc == M2J_OK; i++) {
            const redisReply *e = es->element[i];
            if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 || !str_el(e->element[0]))
                continue;
            m2j_buf_reset(&from);
            rc = m2j_buf_printf(&from, "(%s", e->element[0]->str);
            if (seen++ >= max) {
                out->truncated = true;
                break;
            }
            const redisReply *fv = e->element[1];
            const char *job = NULL;
            size_t job_len = 0;
            for (size_t k = 0; fv->type == REDIS_REPLY_ARRAY && k + 1 < fv->elements; k += 2)
                if (str_el(fv->element[k]) && !strcmp(fv->element[k]->str, "job") && str_el(fv->element[k + 1])) {
                    job = fv->element[k + 1]->str;
                    job_len = fv->element[k + 1]->len;
                }
            if (!job || !match(job, job_len, ud))
                continue;
            m2j_forget_where where = M2J_FORGET_WAITING;
            bool removed = false;
            if (apply) {
                const char *keys[] = { q->k_stream, q->k_stats };
                const char *args[] = { M2J_GROUP, e->element[0]->str };
                redisReply *d;
                rc = m2j_q_eval(q, STREAM_DEL, 2, keys, 2, args, &d, err);
                if (rc == M2J_OK) {
                    if (d->type == REDIS_REPLY_INTEGER && d->integer < 0)
                        where = M2J_FORGET_IN_PROGRESS;
                    removed = d->type == REDIS_REPLY_INTEGER && d->integer > 0;
                    freeReplyObject(d);
                }
            } else {
                /* dry run: say which one a worker holds */
                const char *pv[] = { "XPENDING", q->k_stream, M2J_GROUP, e->element[0]->str, e->element[0]->str, "1" };
                redisReply *p;
                if (m2j_q_cmd(q, 6, pv, &p, NULL) == M2J_OK) {
                    if (p->type == REDIS_REPLY_ARRAY && p->elements > 0)
                        where = M2J_FORGET_IN_PROGRESS;
                    freeReplyObject(p);
                }
            }
            if (rc == M2J_OK)
                rc = add_item(out, where, job, job_len, NULL, removed, err);
        }
        freeReplyObject(es);
        if (out->truncated || got < PAGE)
            break;
    }
    m2j_buf_free(&from);
    return rc;
}

m2j_rc m2j_queue_forget(m2j_queue *q, m2j_forget_match_fn match, void *ud, bool apply, size_t max_entries,
                        m2j_forget_report *out, m2j_err *err)
{
    memset(out, 0, sizeof *out);
    pass_ctx c = { match, ud, apply, out };
    m2j_rc rc = zset_walk(q, q->k_dead_index, max_entries, dead_member, &c, err);
    if (rc == M2J_OK)
        rc = zset_walk(q, q->k_retry, max_entries, retry_member, &c, err);
    if (rc == M2J_OK)
        rc = stream_pass(q, match, ud, apply, max_entries, out, err);
    return rc;
}

typedef struct {
    const char *const *ids;
    size_t n;
    bool apply;
    long count;
} link_walk;

static m2j_rc link_batch(m2j_queue *q, const char *const *keys, size_t n, void *ud, m2j_err *err)
{
    link_walk *w = ud;
    redisReply *r;
    m2j_rc rc = m2j_q_cmd_keys(q, "MGET", keys, n, &r, err);
    if (rc != M2J_OK)
        return rc;
    for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements && i < n && rc == M2J_OK; i++) {
        if (!str_el(r->element[i]))
            continue;
        bool hit = false;
        for (size_t k = 0; k < w->n && !hit; k++)
            hit = strcmp(r->element[i]->str, w->ids[k]) == 0;
        if (!hit)
            continue;
        w->count++;
        if (w->apply) {
            const char *dv[] = { "DEL", keys[i] };
            redisReply *d;
            if ((rc = m2j_q_cmd(q, 2, dv, &d, err)) == M2J_OK)
                freeReplyObject(d);
        }
    }
    freeReplyObject(r);
    return rc;
}

m2j_rc m2j_queue_forget_links(m2j_queue *q, const char *const *ids, size_t n, bool apply, long *count,
                              m2j_err *err)
{
    *count = 0;
    if (n == 0)
        return M2J_OK;
    m2j_buf match = {0};
    if (m2j_queue_glob(q, &match, "custref:*") != M2J_OK) {
        m2j_buf_free(&match);
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    }
    link_walk w = { ids, n, apply, 0 };
    m2j_rc rc = m2j_queue_scan(q, match.data, PAGE, link_batch, &w, err);
    m2j_buf_free(&match);
    *count = w.count;
    return rc;
}
