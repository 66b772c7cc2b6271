/* reconcile_held.c: what Redis holds about orders, read for `m2jortt
 * reconcile` without changing anything (see reconcile.h).
 *
 * Each source is read once into an index keyed "r:<reference>",
 * "i:<increment_id>" and "e:<entity_id>", so reconciling thousands of
 * orders costs one pass over each source plus one HGETALL per order (done
 * by the caller), not a scan per order. The stream is read in chunks by id,
 * so a long queue is never one huge reply. */
#include "cli/reconcile.h"
#include "base/buf.h"
#include "base/json_util.h"
#include "queue/redis_cmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STREAM_CHUNK "1000"

static void put(json_object *idx, const char *tag, const char *v, json_object *val)
{
    if (!v || !*v) {
        return;
    }
    char key[256];
    snprintf(key, sizeof key, "%s:%s", tag, v);
    if (!json_object_object_get_ex(idx, key, NULL)) /* the first one seen wins */
        json_object_object_add(idx, key, json_object_get(val));
}

/* Indexes val under every id an order event's job carries. */
static void index_job(json_object *idx, json_object *job, const char *ref, json_object *val)
{
    json_object *ev = m2j_json_get_obj(job, "event");
    if (!ev || strcmp(m2j_json_scalar(ev, "kind"), "order") != 0)
        return;
    json_object *ent = m2j_json_get_obj(ev, "entity");
    put(idx, "r", ref, val);
    put(idx, "i", m2j_json_get_id(ent, "increment_id"), val);
    put(idx, "e", m2j_json_get_id(ent, "entity_id"), val);
}

static void index_job_text(json_object *idx, const char *text, size_t len, const char *where)
{
    json_object *job = NULL;
    if (m2j_json_parse(text, len, &job, NULL) != M2J_OK)
        return;
    json_object *v = json_object_new_string(where);
    index_job(idx, job, NULL, v);
    json_object_put(v);
    json_object_put(job);
}

static m2j_rc load_stream(m2j_queue *q, json_object *idx, m2j_err *err)
{
    m2j_buf key = {0};
    char start[64] = "-";
    m2j_rc rc = m2j_queue_key(q, &key, "events");
    while (rc == M2J_OK) {
        redisReply *r = NULL;
        rc = m2j_wcmd(q, &r, err, "XRANGE", key.data, start, "+", "COUNT", STREAM_CHUNK, NULL);
        if (rc != M2J_OK)
            break;
        size_t n = r->type == REDIS_REPLY_ARRAY ? r->elements : 0;
        for (size_t i = 0; i < n; i++) {
            redisReply *e = r->element[i];
            if (e->type != REDIS_REPLY_ARRAY || e->elements < 2)
                continue;
            snprintf(start, sizeof start, "(%s", e->element[0]->str);
            redisReply *f = e->element[1];
            for (size_t k = 0; k + 1 < f->elements; k += 2)
                if (strcmp(f->element[k]->str, "job") == 0)
                    index_job_text(idx, f->element[k + 1]->str, f->element[k + 1]->len, "in the queue");
        }
        freeReplyObject(r);
        if (n < 1000)
            break;
    }
    m2j_buf_free(&key);
    return rc;
}

static m2j_rc load_retries(m2j_queue *q, json_object *idx, m2j_err *err)
{
    m2j_buf key = {0};
    redisReply *r = NULL;
    m2j_rc rc = m2j_queue_key(q, &key, "retry");
    if (rc == M2J_OK)
        rc = m2j_wcmd(q, &r, err, "ZRANGE", key.data, "0", "-1", NULL);
    if (rc == M2J_OK && r->type == REDIS_REPLY_ARRAY)
        for (size_t i = 0; i < r->elements; i++)
            index_job_text(idx, r->element[i]->str, r->element[i]->len, "waiting for a retry");
    if (r)
        freeReplyObject(r);
    m2j_buf_free(&key);
    return rc;
}

static m2j_rc load_dead(m2j_queue *q, json_object *idx, m2j_err *err)
{
    m2j_dead_entry *list = NULL;
    size_t n = 0;
    m2j_rc rc = m2j_queue_dead_list(q, 0, 0, &list, &n, err); /* newest first */
    for (size_t i = 0; rc == M2J_OK && i < n; i++) {
        json_object *rec = list[i].record;
        json_object *v = json_object_new_object();
        json_object_object_add(v, "event_id", json_object_new_string(list[i].event_id));
        json_object_object_add(v, "reason", json_object_new_string(m2j_json_scalar(rec, "reason")));
        index_job(idx, m2j_json_get_obj(rec, "job"), m2j_json_get_string(rec, "ref"), v);
        json_object_put(v);
    }
    for (size_t i = 0; i < n; i++)
        m2j_dead_entry_clear(&list[i]);
    free(list);
    return rc;
}

static m2j_rc load_skipped(m2j_queue *q, json_object *idx, m2j_err *err)
{
    m2j_buf key = {0};
    redisReply *r = NULL;
    m2j_rc rc = m2j_queue_key(q, &key, "skipped");
    /* capped at ~10,000 by the skip script: one reply, newest first */
    if (rc == M2J_OK)
        rc = m2j_wcmd(q, &r, err, "XREVRANGE", key.data, "+", "-", NULL);
    if (rc == M2J_OK && r->type == REDIS_REPLY_ARRAY) {
        for (size_t i = 0; i < r->elements; i++) {
            redisReply *e = r->element[i];
            if (e->type != REDIS_REPLY_ARRAY || e->elements < 2)
                continue;
            const char *ref = m2j_reply_field(e->element[1], "ref");
            const char *reason = m2j_reply_field(e->element[1], "reason");
            if (ref && *ref && reason && !json_object_object_get_ex(idx, ref, NULL))
                json_object_object_add(idx, ref, json_object_new_string(reason));
        }
    }
    if (r)
        freeReplyObject(r);
    m2j_buf_free(&key);
    return rc;
}

m2j_rc cli_held_load(m2j_queue *q, cli_held *h, m2j_err *err)
{
    h->pending = json_object_new_object();
    h->dead = json_object_new_object();
    h->skipped = json_object_new_object();
    if (!h->pending || !h->dead || !h->skipped) {
        cli_held_free(h);
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    }
    m2j_rc rc = load_stream(q, h->pending, err);
    if (rc == M2J_OK)
        rc = load_retries(q, h->pending, err);
    if (rc == M2J_OK)
        rc = load_dead(q, h->dead, err);
    if (rc == M2J_OK)
        rc = load_skipped(q, h->skipped, err);
    if (rc != M2J_OK)
        cli_held_free(h);
    return rc;
}

void cli_held_free(cli_held *h)
{
    json_object_put(h->pending);
    json_object_put(h->dead);
    json_object_put(h->skipped);
    memset(h, 0, sizeof *h);
}

static json_object *find(json_object *idx, const char *ref, const char *inc, const char *entity_id)
{
    const char *tags[] = { "r", "i", "e" }, *vals[] = { ref, inc, entity_id };
    for (int i = 0; i < 3; i++) {
        if (!vals[i] || !*vals[i])
            continue;
        char key[256];
        snprintf(key, sizeof key, "%s:%s", tags[i], vals[i]);
        json_object *v = NULL;
        if (json_object_object_get_ex(idx, key, &v))
            return v;
    }
    return NULL;
}

const char *cli_held_pending(const cli_held *h, const char *ref, const char *inc, const char *entity_id)
{
    json_object *v = find(h->pending, ref, inc, entity_id);
    return v ? json_object_get_string(v) : NULL;
}

json_object *cli_held_dead(const cli_held *h, const char *ref, const char *inc, const char *entity_id)
{
    return find(h->dead, ref, inc, entity_id);
}

const char *cli_held_skip(const cli_held *h, const char *ref)
{
    json_object *v = NULL;
    return ref && json_object_object_get_ex(h->skipped, ref, &v) ? json_object_get_string(v) : NULL;
}
