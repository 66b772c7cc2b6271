/* exactly_once.c: see exactly_once.h. */
#include "worker/exactly_once.h"
#include "worker/heartbeat.h"
#include "base/lease.h"
#include "base/crypto_util.h"
#include "base/log.h"
#include "queue/redis_cmd.h"

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
    if (m2j_random_hex(o.token) != M2J_OK) {
        m2j_step_set(s, M2J_STEP_RETRY, "no random token for the lock");
        return;
    }
    long long sent = m2j_lease_now_ms();
    m2j_rc rc = m2j_lock_acquire(w->q, lock_key, o.token, lock_ttl_ms(w), &e);
    if (rc == M2J_ERR_CONFLICT) {
        m2j_step_set(s, M2J_STEP_LOCKED, "%s", busy);
        return;
    }
    if (rc != M2J_OK) {
        m2j_step_from_rc(s, rc, &e, "lock");
        return;
    }
    o.slot = m2j_heartbeat_hold(w->hb, lock_key, o.token, lock_ttl_ms(w), sent, &e);
    if (o.slot < -1) {
        m2j_step_set(s, M2J_STEP_RETRY, "lock: %s", e.msg);
    } else {
        s->kind = M2J_STEP_CONTINUE;
        fn(&o, ud, s);
    }
    m2j_heartbeat_drop(w->hb, o.slot);
    /* Not ours any more: the work outlived the lock, so another worker may
     * have run beside us. The intent records kept that safe as long as we
     * did not send after losing it, which m2j_once_post checks. */
    if (m2j_lock_release(w->q, lock_key, o.token, &e) == M2J_ERR_CONFLICT)
        m2j_log(M2J_LOG_WARN, "lock expired before the work ended", "lock", lock_key, NULL);
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

bool m2j_once_post(m2j_once *o, const char *what, m2j_intent_fn intent, void *iud, const char *path,
                   json_object *body, m2j_jortt_response *pr, m2j_call_class *cls, m2j_step *s)
{
    m2j_worker *w = o->w;
    m2j_err e;
    memset(pr, 0, sizeof *pr);
    pr->retry_after_s = -1;
    /* The intent must be written by the lock's holder: a worker that lost
     * the lock could overwrite the record of the one that took it over. */
    long long sent = m2j_lease_now_ms();
    m2j_rc rc = m2j_wlock_refresh(w->q, o->lock, o->token, lock_ttl_ms(w), &e);
    if (rc == M2J_ERR_CONFLICT) {
        m2j_step_set(s, M2J_STEP_LOCKED, "%s: lock %s expired before the POST; not sent", what, o->lock);
        return false;
    }
    if (rc != M2J_OK) {
        m2j_step_from_rc(s, rc, &e, "lock");
        return false;
    }
    m2j_heartbeat_confirm(w->hb, o->slot, sent);
    if ((rc = intent(w, iud, &e)) != M2J_OK) {
        m2j_step_from_rc(s, rc, &e, "intent record");
        return false;
    }
    rc = m2j_jortt_call(&w->api, "POST", path, NULL, 0, body, pr, cls, &e);
    if (rc != M2J_OK) {
        m2j_step_from_rc(s, rc, &e, what);
        m2j_jortt_response_clear(pr);
        return false;
    }
    return true;
}
