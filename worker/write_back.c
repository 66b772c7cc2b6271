/* write_back.c: see write_back.h. */
#include "worker/write_back.h"
#include "base/crypto_util.h"
#include "base/json_util.h"
#include "base/log.h"
#include "worker/magento_link.h"
#include "queue/redis_cmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TICK_LIMIT "5"

/* KEYS[1] P:order:<ref>, KEYS[2] P:magento:writeback; ARGV[1] magento id,
 * ARGV[2] now ms, ARGV[3] ref. Only an invoiced order without its comment
 * is scheduled; an order already scheduled keeps its due time. */
static const char *const SCHEDULE_SCRIPT =
    "if redis.call('HGET', KEYS[1], 'state') ~= 'done' then return 0 end\n"
    "if redis.call('HEXISTS', KEYS[1], 'comment_at') == 1 then return 0 end\n"
    "if redis.call('HEXISTS', KEYS[1], 'comment_failed') == 1 then return 0 end\n"
    "redis.call('HSET', KEYS[1], 'magento_id', ARGV[1])\n"
    "redis.call('ZADD', KEYS[2], 'NX', ARGV[2], ARGV[3])\n"
    "return 1\n";

m2j_rc m2j_write_back_schedule(m2j_worker *w, const char *ref, json_object *order, m2j_err *err)
{
    if (!w->magento || !w->cfg->magento.write_back || !ref || !*ref)
        return M2J_OK;
    const char *mid = m2j_json_get_id(order, "entity_id");
    if (!mid)
        return M2J_OK; /* no way to address the order in Magento */
    m2j_buf ok = {0}, zk = {0};
    m2j_rc rc = M2J_ERR_NOMEM;
    char now[32];
    snprintf(now, sizeof now, "%lld", m2j_now_ms());
    if (m2j_wkey(w->q, &ok, "order:%s", ref) == M2J_OK && m2j_wkey(w->q, &zk, "magento:writeback") == M2J_OK) {
        const char *keys[2] = { ok.data, zk.data };
        const char *args[3] = { mid, now, ref };
        redisReply *r = NULL;
        rc = m2j_weval(w->q, SCHEDULE_SCRIPT, 2, keys, 3, args, &r, err);
        if (r)
            freeReplyObject(r);
    } else {
        m2j_fail(err, rc, "out of memory");
    }
    m2j_buf_free(&ok);
    m2j_buf_free(&zk);
    return rc;
}

/* A comment of ours for this invoice among the order's status_histories. */
static bool has_comment(json_object *order, const char *marker)
{
    json_object *h = m2j_json_get_arr(order, "status_histories");
    size_t n = h ? json_object_array_length(h) : 0;
    for (size_t i = 0; i < n; i++) {
        const char *c = m2j_json_str(json_object_array_get_idx(h, i), "comment");
        if (c && strstr(c, marker))
            return true;
    }
    return false;
}

typedef enum { WB_DONE, WB_RETRY } wb_result;

/* The Magento part: adopt or post. why gets the reason of a failure. */
static wb_result write_comment(m2j_worker *w, const char *mid, const char *invoice_id, m2j_buf *why,
                               m2j_magento_response *r)
{
    m2j_buf path = {0}, marker = {0}, text = {0};
    m2j_err e;
    wb_result res = WB_RETRY;
    if (m2j_buf_printf(&path, "/V1/orders/%s", mid) != M2J_OK ||
        m2j_buf_printf(&marker, "Jortt invoice %s", invoice_id) != M2J_OK ||
        m2j_buf_printf(&text, "%s created by m2jortt.", marker.data) != M2J_OK) {
        m2j_buf_puts(why, "out of memory");
        goto out;
    }
    if (m2j_magento_request(w->magento->client, "GET", path.data, NULL, NULL, r, &e) != M2J_OK) {
        m2j_buf_puts(why, e.msg);
        goto out;
    }
    m2j_magento_pace_after(&w->magento->pace, r);
    if (r->cls != M2J_MAGENTO_OK || !r->json) {
        m2j_buf_printf(why, "read order: %s", m2j_buf_str(&r->reason));
        goto out;
    }
    if (has_comment(r->json, marker.data)) {
        res = WB_DONE; /* a crash after an earlier POST: adopt it */
        goto out;
    }
    json_object *hist = json_object_new_object();
    json_object *body = json_object_new_object();
    json_object_object_add(hist, "comment", json_object_new_string(text.data));
    json_object_object_add(hist, "is_customer_notified", json_object_new_int(0));
    json_object_object_add(hist, "is_visible_on_front", json_object_new_int(0));
    json_object_object_add(hist, "parent_id", json_object_new_int64(atoll(mid)));
    const char *status = m2j_json_str(r->json, "status");
    if (status)
        json_object_object_add(hist, "status", json_object_new_string(status)); /* never changes it */
    json_object_object_add(body, "statusHistory", hist);
    m2j_buf_printf(&path, "/comments");
    m2j_magento_response_clear(r);
    m2j_rc rc = m2j_magento_request(w->magento->client, "POST", path.data, NULL, body, r, &e);
    json_object_put(body);
    if (rc != M2J_OK) {
        m2j_buf_puts(why, e.msg);
        goto out;
    }
    m2j_magento_pace_after(&w->magento->pace, r);
    if (r->cls == M2J_MAGENTO_OK)
        res = WB_DONE;
    else
        m2j_buf_printf(why, "add comment: %s", m2j_buf_str(&r->reason));
out:
    m2j_buf_free(&path);
    m2j_buf_free(&marker);
    m2j_buf_free(&text);
    return res;
}

/* One due write-back, under its lock. */
static void one(m2j_worker *w, const char *ref, const char *zkey)
{
    m2j_buf ok = {0}, lock = {0};
    char token[33];
    m2j_err e;
    if (m2j_random_hex(token) != M2J_OK || m2j_wkey(w->q, &ok, "order:%s", ref) != M2J_OK ||
        m2j_buf_printf(&lock, "writeback:%s", ref) != M2J_OK)
        goto out;
    if (m2j_lock_acquire(w->q, lock.data, token, w->cfg->worker.lock_ttl_seconds * 1000, &e) != M2J_OK)
        goto out; /* another worker has it, or Redis is away: it stays due */
    redisReply *r = NULL;
    if (m2j_wcmd(w->q, &r, &e, "HMGET", ok.data, "state", "invoice_id", "magento_id", "comment_at",
                 "comment_attempts", NULL) != M2J_OK) {
        m2j_lock_release(w->q, lock.data, token, NULL);
        goto out;
    }
    const char *f[5] = { NULL };
    for (size_t i = 0; i < 5 && r->type == REDIS_REPLY_ARRAY && i < r->elements; i++)
        f[i] = r->element[i]->type == REDIS_REPLY_STRING ? r->element[i]->str : NULL;
    char now[32];
    snprintf(now, sizeof now, "%lld", m2j_now_ms());
    if (!f[0] || strcmp(f[0], "done") != 0 || !f[1] || !f[2] || f[3]) {
        m2j_wcmd(w->q, NULL, NULL, "ZREM", zkey, ref, NULL); /* nothing (more) to write */
    } else {
        m2j_buf why = {0};
        m2j_magento_response mr = {0};
        wb_result res = write_comment(w, f[2], f[1], &why, &mr);
        if (res == WB_DONE) {
            /* recorded before the zset entry goes: a crash in between only
             * costs a look at Magento, never a second comment */
            if (m2j_wcmd(w->q, NULL, &e, "HSET", ok.data, "comment_at", now, NULL) == M2J_OK)
                m2j_wcmd(w->q, NULL, NULL, "ZREM", zkey, ref, NULL);
            m2j_log(M2J_LOG_INFO, "magento order comment written", "ref", ref, "jortt_id", f[1], NULL);
        } else {
            int attempts = (f[4] ? atoi(f[4]) : 0) + 1;
            char att[16];
            snprintf(att, sizeof att, "%d", attempts);
            if (!m2j_retry_allowed(&w->cfg->worker.retry, attempts)) {
                m2j_wcmd(w->q, NULL, NULL, "HSET", ok.data, "comment_failed", m2j_buf_str(&why), NULL);
                m2j_wcmd(w->q, NULL, NULL, "ZREM", zkey, ref, NULL);
                m2j_log(M2J_LOG_ERROR, "magento order comment given up (the invoice stands)", "ref", ref,
                        "attempts", att, "error", m2j_buf_str(&why), NULL);
            } else {
                m2j_retry_input in = { mr.transport, mr.transport == M2J_TRANSPORT_RESPONSE ? mr.status : 0,
                                       mr.retry_after_s };
                char due[32];
                snprintf(due, sizeof due, "%lld",
                         m2j_now_ms() + m2j_retry_delay_ms(&w->cfg->worker.retry, attempts, &in, NULL, NULL));
                m2j_wcmd(w->q, NULL, NULL, "HSET", ok.data, "comment_attempts", att, NULL);
                m2j_wcmd(w->q, NULL, NULL, "ZADD", zkey, "XX", due, ref, NULL);
                m2j_log(M2J_LOG_WARN, "magento order comment failed; retried on its own (the invoice stands)",
                        "ref", ref, "attempts", att, "error", m2j_buf_str(&why), NULL);
            }
        }
        m2j_magento_response_clear(&mr);
        m2j_buf_free(&why);
    }
    freeReplyObject(r);
    m2j_lock_release(w->q, lock.data, token, NULL);
out:
    m2j_buf_free(&ok);
    m2j_buf_free(&lock);
}

void m2j_write_back_tick(m2j_worker *w, long long now_ms)
{
    if (!w->magento || !w->cfg->magento.write_back)
        return;
    m2j_buf zk = {0};
    redisReply *r = NULL;
    char now[32];
    snprintf(now, sizeof now, "%lld", now_ms);
    if (m2j_wkey(w->q, &zk, "magento:writeback") == M2J_OK &&
        m2j_wcmd(w->q, &r, NULL, "ZRANGEBYSCORE", zk.data, "-inf", now, "LIMIT", "0", TICK_LIMIT, NULL) == M2J_OK) {
        for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements && !(w->stop && *w->stop); i++)
            if (r->element[i]->type == REDIS_REPLY_STRING)
                one(w, r->element[i]->str, zk.data);
    }
    if (r)
        freeReplyObject(r);
    m2j_buf_free(&zk);
}
