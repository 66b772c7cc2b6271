/* exactly_once.c: see exactly_once.h. */
#include "worker/exactly_once.h"
#include "worker/heartbeat.h"
#include "base/clock.h"
#include "base/lease.h"
#include "base/crypto_util.h"
#include "base/log.h"
#include "queue/redis_cmd.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long lock_ttl_ms(const m2j_worker *w)
{
    return w->cfg->worker.lock_ttl_seconds * 1000;
}

void m2j_once_run(m2j_worker *w, const char *lock_key, const char *busy, m2j_once_fn fn, void *ud, m2j_step *s)
{
    m2j_once o = { .w = w, .lock = lock_key, .slot = -1 };
    m2j_err e;
    m2j_buf full = {0};
    if (m2j_random_hex(o.token) != M2J_OK) {
        m2j_step_set(s, M2J_STEP_RETRY, "no random token for the lock");
        return;
    }
    if (m2j_lock_key(w->q, lock_key, &full) != M2J_OK) {
        m2j_buf_free(&full);
        m2j_step_set(s, M2J_STEP_RETRY, "out of memory");
        return;
    }
    o.lock_key = full.data;
    long long sent = m2j_mono_ms();
    m2j_rc rc = m2j_lock_acquire(w->q, lock_key, o.token, lock_ttl_ms(w), &e);
    if (rc == M2J_ERR_CONFLICT) {
        m2j_step_set(s, M2J_STEP_LOCKED, "%s", busy);
        m2j_buf_free(&full);
        return;
    }
    if (rc != M2J_OK) {
        m2j_step_from_rc(s, rc, &e, "lock");
        m2j_buf_free(&full);
        return;
    }
    o.slot = m2j_heartbeat_hold(w->hb, o.lock_key, o.token, lock_ttl_ms(w), sent, &e);
    if (o.slot < -1) {
        m2j_step_set(s, M2J_STEP_RETRY, "lock: %s", e.msg);
    } else {
        s->kind = M2J_STEP_CONTINUE;
        fn(&o, ud, s);
    }
    m2j_heartbeat_drop(w->hb, o.slot);
    /* Not ours any more: the work outlived the lock, so another worker may
     * have run beside us. The intent records kept that safe as long as we
     * did not send after losing it, which m2j_once_post checks. A release
     * that cannot reach Redis is retried once Redis answers (worker_ctx.h). */
    if (m2j_worker_unlock(w, lock_key, o.token) == M2J_ERR_CONFLICT)
        m2j_log(M2J_LOG_WARN, "lock expired before the work ended", "lock", lock_key, NULL);
    m2j_buf_free(&full);
}

bool m2j_once_search(m2j_once *o, const char *path, const char *reference, const char *what, char **found,
                     m2j_step *s)
{
    m2j_ref_match fc = { reference, NULL };
    m2j_jortt_response lr;
    m2j_call_class cls;
    m2j_err e;
    *found = NULL;
    m2j_rc rc = m2j_jortt_list(&o->w->api, path, reference, m2j_ref_match_cb, &fc, &lr, &cls, &e);
    if (rc != M2J_OK || cls != M2J_CLASS_SUCCESS) {
        if (rc != M2J_OK)
            m2j_step_from_rc(s, rc, &e, what);
        else
            m2j_step_from_call(s, o->w, what, &lr, cls);
        m2j_jortt_response_clear(&lr);
        free(fc.id);
        return false;
    }
    m2j_jortt_response_clear(&lr);
    *found = fc.id;
    return true;
}

#define FENCE_MAX_KEYS 4
#define FENCE_MAX_ARGS 24

m2j_rc m2j_once_fenced_eval(m2j_once *o, const char *script, int nkeys, const char **keys, int nargs,
                            const char **args, m2j_err *e)
{
    m2j_worker *w = o->w;
    if (nkeys + 1 > FENCE_MAX_KEYS || nargs + 2 > FENCE_MAX_ARGS)
        return m2j_fail(e, M2J_ERR_INTERNAL, "fenced script: too many keys or arguments");
    char ttl[24];
    snprintf(ttl, sizeof ttl, "%ld", lock_ttl_ms(w));
    const char *k[FENCE_MAX_KEYS], *a[FENCE_MAX_ARGS];
    k[0] = o->lock_key;
    for (int i = 0; i < nkeys; i++)
        k[i + 1] = keys[i];
    a[0] = o->token;
    a[1] = ttl;
    for (int i = 0; i < nargs; i++)
        a[i + 2] = args[i];
    long long sent = m2j_mono_ms();
    redisReply *r = NULL;
    m2j_rc rc = m2j_weval(w->q, script, nkeys + 1, k, nargs + 2, a, &r, e);
    if (rc != M2J_OK)
        return rc;
    bool ours = !(r->type == REDIS_REPLY_INTEGER && r->integer == 0);
    freeReplyObject(r);
    if (!ours)
        return m2j_fail(e, M2J_ERR_CONFLICT, "lock %s is no longer ours", o->lock);
    m2j_heartbeat_confirm(w->hb, o->slot, sent);
    return M2J_OK;
}

static const char *const FENCED_HSET =
    M2J_ONCE_FENCE_LUA
    "redis.call('HSET', KEYS[2], unpack(ARGV, 3))\n"
    "return 1\n";

m2j_rc m2j_once_fenced_hset(m2j_once *o, const char *key, m2j_err *e, ...)
{
    const char *args[16];
    int n = 0;
    va_list ap;
    va_start(ap, e);
    for (const char *v = va_arg(ap, const char *); v; v = va_arg(ap, const char *)) {
        if (n == 16) {
            va_end(ap);
            return m2j_fail(e, M2J_ERR_INTERNAL, "fenced HSET: too many fields");
        }
        args[n++] = v;
    }
    va_end(ap);
    if (n == 0 || n % 2)
        return m2j_fail(e, M2J_ERR_INTERNAL, "fenced HSET: fields and values must pair up");
    const char *keys[1] = { key };
    return m2j_once_fenced_eval(o, FENCED_HSET, 1, keys, n, args, e);
}

bool m2j_once_post(m2j_once *o, const char *what, m2j_intent_fn intent, void *iud, const char *path,
                   json_object *body, m2j_jortt_response *pr, m2j_call_class *cls, m2j_step *s)
{
    return m2j_once_send(o, what, intent, iud, "POST", path, body, pr, cls, s);
}

bool m2j_once_send(m2j_once *o, const char *what, m2j_intent_fn intent, void *iud, const char *method,
                   const char *path, json_object *body, m2j_jortt_response *pr, m2j_call_class *cls, m2j_step *s)
{
    m2j_worker *w = o->w;
    m2j_err e;
    memset(pr, 0, sizeof *pr);
    pr->retry_after_s = -1;
    m2j_rc rc = intent(o, iud, &e);
    if (rc == M2J_ERR_CONFLICT) {
        m2j_step_set(s, M2J_STEP_LOCKED, "%s: lock %s expired before the %s; not sent", what, o->lock, method);
        return false;
    }
    if (rc != M2J_OK) {
        m2j_step_from_rc(s, rc, &e, "intent record");
        return false;
    }
    rc = m2j_jortt_call(&w->api, method, path, NULL, 0, body, pr, cls, &e);
    if (rc != M2J_OK) {
        m2j_step_from_rc(s, rc, &e, what);
        m2j_jortt_response_clear(pr);
        return false;
    }
    return true;
}
