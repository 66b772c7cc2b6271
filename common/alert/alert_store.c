/* alert_store.c: see alert_store.h. */
#include "alert/alert_store.h"
#include "metrics/fleet_stats.h"
#include "queue/redis_cmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OUTBOX_CAP "100"

/* KEYS[1] lease; ARGV[1] token, ARGV[2] ttl ms. */
static const char *const LEASE_SCRIPT =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then\n"
    "  redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1\n"
    "end\n"
    "if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end\n"
    "return 0\n";

/* KEYS[1] lease, KEYS[2] state, KEYS[3..] outboxes; ARGV[1] token,
 * ARGV[2] state text, ARGV[3] cap, ARGV[4..] messages. */
static const char *const COMMIT_SCRIPT =
    "if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end\n"
    "redis.call('SET', KEYS[2], ARGV[2])\n"
    "for k = 3, #KEYS do\n"
    "  for i = 4, #ARGV do redis.call('RPUSH', KEYS[k], ARGV[i]) end\n"
    "  redis.call('LTRIM', KEYS[k], -tonumber(ARGV[3]), -1)\n"
    "end\n"
    "return 1\n";

/* KEYS[1] outbox; ARGV[1] the text delivered. */
static const char *const POP_SCRIPT =
    "if redis.call('LINDEX', KEYS[1], 0) == ARGV[1] then redis.call('LPOP', KEYS[1]) return 1 end\n"
    "return 0\n";

static m2j_rc key(m2j_queue *q, m2j_buf *b, const char *suffix, m2j_err *err)
{
    if (m2j_queue_key(q, b, suffix) != M2J_OK)
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    return M2J_OK;
}

m2j_rc m2j_alert_lease(m2j_queue *q, const char *token, long ttl_ms, m2j_err *err)
{
    m2j_buf k = {0};
    char ttl[24];
    snprintf(ttl, sizeof ttl, "%ld", ttl_ms);
    m2j_rc rc = key(q, &k, "alerts:lease", err);
    redisReply *r = NULL;
    if (rc == M2J_OK) {
        const char *keys[] = { k.data };
        const char *args[] = { token, ttl };
        rc = m2j_weval(q, LEASE_SCRIPT, 1, keys, 2, args, &r, err);
    }
    if (rc == M2J_OK && !(r->type == REDIS_REPLY_INTEGER && r->integer == 1))
        rc = m2j_fail(err, M2J_ERR_CONFLICT, "another process evaluates the alerts");
    if (r)
        freeReplyObject(r);
    m2j_buf_free(&k);
    return rc;
}

m2j_rc m2j_alert_state_load(m2j_queue *q, m2j_alert_state *st, m2j_err *err)
{
    m2j_buf k = {0};
    redisReply *r = NULL;
    m2j_rc rc = key(q, &k, "alerts:state", err);
    if (rc == M2J_OK)
        rc = m2j_wcmd(q, &r, err, "GET", k.data, NULL);
    if (rc == M2J_OK)
        m2j_alert_state_parse(r->type == REDIS_REPLY_STRING ? r->str : NULL, st);
    if (r)
        freeReplyObject(r);
    m2j_buf_free(&k);
    return rc;
}

static void copy_cut(char *dst, size_t n, const char *src)
{
    snprintf(dst, n, "%s", src ? src : "");
    /* A reason is one line in a message. */
    for (char *p = dst; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
}

void m2j_alert_obs_from_fleet(const m2j_fleet_stats *fs, bool polling, m2j_alert_obs *o)
{
    o->now_ms = fs->now_ms;
    o->dead_total = fs->dead;
    o->queued = fs->queued;
    o->in_progress = fs->in_progress;
    o->oldest_age_ms = fs->oldest_age_ms;
    o->breaker_open = fs->breaker_open;
    o->breaker_failures = fs->breaker_failures;
    o->polling = polling;
    o->magento_last_ok_ms = fs->magento_last_ok_ms;
    o->workers_alive = fs->workers_alive;
}

m2j_rc m2j_alert_observe(m2j_queue *q, const m2j_config *cfg, const m2j_alert_state *st, m2j_alert_obs *o,
                         m2j_err *err)
{
    memset(o, 0, sizeof *o);
    m2j_fleet_stats *fs = malloc(sizeof *fs);
    if (!fs)
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    m2j_rc rc = m2j_fleet_stats_get(q, fs, err);
    if (rc != M2J_OK) {
        free(fs);
        return rc;
    }
    m2j_alert_obs_from_fleet(fs, cfg->magento.rest_url && *cfg->magento.rest_url &&
                                     cfg->magento.poll_interval_seconds > 0, o);
    free(fs);

    m2j_buf idx = {0}, dk = {0};
    char min[32], lim[16];
    snprintf(min, sizeof min, "(%lld", st->dead_seen_ms);
    snprintf(lim, sizeof lim, "%d", M2J_ALERT_MAX_ITEMS);
    redisReply *r = NULL;
    rc = key(q, &idx, "dead:index", err);
    if (rc == M2J_OK)
        rc = m2j_wcmd(q, &r, err, "ZCOUNT", idx.data, min, "+inf", NULL);
    if (rc == M2J_OK)
        o->new_dead = r->type == REDIS_REPLY_INTEGER ? r->integer : 0;
    if (r)
        freeReplyObject(r);
    r = NULL;
    if (rc == M2J_OK && o->new_dead > 0)
        rc = m2j_wcmd(q, &r, err, "ZREVRANGEBYSCORE", idx.data, "+inf", min, "WITHSCORES", "LIMIT", "0", lim, NULL);
    for (size_t i = 0; rc == M2J_OK && r && r->type == REDIS_REPLY_ARRAY && i + 1 < r->elements; i += 2) {
        const char *id = r->element[i]->str;
        if (i == 0)
            o->newest_dead_ms = strtoll(r->element[1]->str ? r->element[1]->str : "0", NULL, 10);
        redisReply *h = NULL;
        m2j_buf_reset(&dk);
        if (!id || m2j_buf_printf(&dk, "%s:dead:%s", m2j_queue_prefix(q), id) != M2J_OK)
            continue;
        rc = m2j_wcmd(q, &h, err, "HMGET", dk.data, "ref", "kind", "reason", NULL);
        if (rc == M2J_OK && h->type == REDIS_REPLY_ARRAY && h->elements == 3) {
            m2j_dead_item *d = &o->items[o->n_items++];
            copy_cut(d->ref, sizeof d->ref, h->element[0]->str);
            copy_cut(d->kind, sizeof d->kind, h->element[1]->str ? h->element[1]->str : "unknown");
            copy_cut(d->reason, sizeof d->reason, h->element[2]->str ? h->element[2]->str : "(no reason)");
        }
        if (h)
            freeReplyObject(h);
    }
    if (r)
        freeReplyObject(r);
    m2j_buf_free(&idx);
    m2j_buf_free(&dk);
    return rc;
}

m2j_rc m2j_alert_commit(m2j_queue *q, const char *token, const m2j_alert_state *st, const m2j_alert_msg *msgs,
                        size_t n, const char *const *channels, size_t nch, m2j_err *err)
{
    m2j_buf state = {0}, lease = {0}, sk = {0};
    m2j_buf ob[4] = {{0}};
    const char *keys[2 + 4];
    const char **args = calloc(3 + n, sizeof *args);
    m2j_rc rc = args ? M2J_OK : m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    if (nch > 4)
        nch = 4;
    if (rc == M2J_OK && m2j_alert_state_text(st, &state) != M2J_OK)
        rc = m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    if (rc == M2J_OK)
        rc = key(q, &lease, "alerts:lease", err);
    if (rc == M2J_OK)
        rc = key(q, &sk, "alerts:state", err);
    for (size_t i = 0; rc == M2J_OK && i < nch; i++) {
        char suf[64];
        snprintf(suf, sizeof suf, "alerts:outbox:%s", channels[i]);
        rc = key(q, &ob[i], suf, err);
        keys[2 + i] = ob[i].data;
    }
    redisReply *r = NULL;
    if (rc == M2J_OK) {
        keys[0] = lease.data;
        keys[1] = sk.data;
        args[0] = token;
        args[1] = state.data;
        args[2] = OUTBOX_CAP;
        for (size_t i = 0; i < n; i++)
            args[3 + i] = msgs[i].text;
        rc = m2j_weval(q, COMMIT_SCRIPT, (int)(2 + nch), keys, (int)(3 + n), args, &r, err);
    }
    if (rc == M2J_OK && !(r->type == REDIS_REPLY_INTEGER && r->integer == 1))
        rc = m2j_fail(err, M2J_ERR_CONFLICT, "the alert lease moved before the commit");
    if (r)
        freeReplyObject(r);
    free(args);
    m2j_buf_free(&state);
    m2j_buf_free(&lease);
    m2j_buf_free(&sk);
    for (size_t i = 0; i < 4; i++)
        m2j_buf_free(&ob[i]);
    return rc;
}

m2j_rc m2j_alert_outbox_head(m2j_queue *q, const char *channel, char **text, m2j_err *err)
{
    *text = NULL;
    m2j_buf k = {0};
    redisReply *r = NULL;
    char suf[64];
    snprintf(suf, sizeof suf, "alerts:outbox:%s", channel);
    m2j_rc rc = key(q, &k, suf, err);
    if (rc == M2J_OK)
        rc = m2j_wcmd(q, &r, err, "LINDEX", k.data, "0", NULL);
    if (rc == M2J_OK && r->type == REDIS_REPLY_STRING && !(*text = strdup(r->str)))
        rc = m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    if (r)
        freeReplyObject(r);
    m2j_buf_free(&k);
    return rc;
}

m2j_rc m2j_alert_outbox_pop(m2j_queue *q, const char *channel, const char *text, m2j_err *err)
{
    m2j_buf k = {0};
    redisReply *r = NULL;
    char suf[64];
    snprintf(suf, sizeof suf, "alerts:outbox:%s", channel);
    m2j_rc rc = key(q, &k, suf, err);
    if (rc == M2J_OK) {
        const char *keys[] = { k.data };
        const char *args[] = { text };
        rc = m2j_weval(q, POP_SCRIPT, 1, keys, 1, args, &r, err);
    }
    if (r)
        freeReplyObject(r);
    m2j_buf_free(&k);
    return rc;
}
