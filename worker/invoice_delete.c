/* invoice_delete.c: see invoice_delete.h. */
#include "worker/invoice_delete.h"
#include "worker/credit_record.h"
#include "base/json_util.h"
#include "queue/redis_cmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Fenced by the order lock (exactly_once.h: KEYS[1], ARGV[1..2]); then
 * KEYS: cancel record, order record; ARGV: now, invoice id. */
static const char *const INTENT_SCRIPT =
    M2J_ONCE_FENCE_LUA
    "redis.call('HSET', KEYS[2], 'state', 'pending', 'action', 'delete', 'invoice_id', ARGV[4], 'at', ARGV[3])\n"
    "redis.call('HSET', KEYS[3], 'credit_pending', KEYS[2])\n"
    "return 1\n";

/* KEYS: cancel record, order record; ARGV: invoice id, now. The order keeps
 * invoice_id (what was made) and says it is gone; credit_pending of this
 * record is cleared. */
static const char *const DELETED_SCRIPT =
    "redis.call('HSET', KEYS[1], 'state', 'done', 'action', 'deleted', 'invoice_id', ARGV[1], 'at', ARGV[2])\n"
    "redis.call('HSET', KEYS[2], 'state', 'deleted', 'deleted_invoice_id', ARGV[1], 'deleted_at', ARGV[2])\n"
    "if redis.call('HGET', KEYS[2], 'credit_pending') == KEYS[1] then\n"
    "  redis.call('HDEL', KEYS[2], 'credit_pending') end\n"
    "return 1\n";

m2j_rc m2j_invoice_record_deleted(m2j_worker *w, const m2j_delete_target *t, m2j_err *e)
{
    char now[32];
    snprintf(now, sizeof now, "%lld", m2j_now_ms());
    const char *args[2] = { t->invoice_id, now };
    return m2j_credit_record_eval(w, DELETED_SCRIPT, t->ck, t->ok, 2, args, e);
}

/* Nothing was deleted: the intent goes, so the credit path (or a replay)
 * starts clean. */
static m2j_rc drop_intent(m2j_worker *w, const m2j_delete_target *t, m2j_err *e)
{
    return m2j_credit_record_drop(w, t->ck, t->ok, e);
}

static m2j_rc mark_pending(m2j_once *o, void *ud, m2j_err *e)
{
    const m2j_delete_target *t = ud;
    char now[32];
    snprintf(now, sizeof now, "%lld", m2j_now_ms());
    const char *keys[2] = { t->ck, t->ok };
    const char *args[2] = { now, t->invoice_id };
    return m2j_once_fenced_eval(o, INTENT_SCRIPT, 2, keys, 2, args, e);
}

bool m2j_invoice_state(m2j_worker *w, const char *invoice_id, m2j_jortt_invoice_state *out, m2j_step *s)
{
    m2j_buf path = {0};
    m2j_jortt_response r;
    m2j_call_class cls;
    m2j_err e;
    if (m2j_buf_printf(&path, "%s/%s", M2J_PATH_INVOICES_LIST, invoice_id) != M2J_OK) {
        m2j_step_set(s, M2J_STEP_RETRY, "out of memory");
        return false;
    }
    m2j_rc rc = m2j_jortt_call(&w->api, "GET", m2j_buf_str(&path), NULL, 0, NULL, &r, &cls, &e);
    m2j_buf_free(&path);
    bool ok = false;
    if (rc != M2J_OK) {
        m2j_step_from_rc(s, rc, &e, "read invoice");
    } else if (cls == M2J_CLASS_NOT_FOUND) {
        *out = M2J_JORTT_GONE;
        ok = true;
    } else if (cls != M2J_CLASS_SUCCESS) {
        m2j_step_from_call(s, w, "read invoice", &r, cls);
    } else {
        /* Jortt's entity says "draft" or "sent"; anything we cannot read as
         * a draft is treated as sent: crediting is right for either, a
         * DELETE of a sent invoice is not. */
        const char *st = r.json ? m2j_json_str(r.json, "data.invoice_status") : NULL;
        *out = st && strcmp(st, "draft") == 0 ? M2J_JORTT_DRAFT : M2J_JORTT_SENT;
        ok = true;
    }
    m2j_jortt_response_clear(&r);
    return ok;
}

/* The invoice is gone from Jortt (our DELETE, or someone else's). */
static void finish_deleted(m2j_worker *w, const m2j_delete_target *t, const char *done, m2j_step *s)
{
    m2j_err e;
    m2j_rc rc = m2j_invoice_record_deleted(w, t, &e);
    if (rc != M2J_OK) {
        m2j_step_from_rc(s, rc, &e, "record deletion"); /* the intent stays: the next attempt finds it gone */
        return;
    }
    m2j_step_set(s, M2J_STEP_DONE, "%s", done);
    s->result_id = strdup(t->invoice_id);
}

/* The invoice turned out to be sent: nothing was deleted, the intent goes
 * and the caller credits it. */
static void hand_to_credit(m2j_worker *w, const m2j_delete_target *t, bool *sent_instead, m2j_step *s)
{
    m2j_err e;
    m2j_rc rc = drop_intent(w, t, &e);
    if (rc != M2J_OK) {
        m2j_step_from_rc(s, rc, &e, "drop delete intent");
        return;
    }
    *sent_instead = true;
    s->kind = M2J_STEP_CONTINUE;
}

void m2j_invoice_delete(m2j_once *o, const m2j_delete_target *t, bool pending, bool *sent_instead, m2j_step *s)
{
    m2j_worker *w = o->w;
    char done[160];
    *sent_instead = false;
    if (pending) {
        m2j_jortt_invoice_state st;
        if (!m2j_invoice_state(w, t->invoice_id, &st, s))
            return;
        if (st == M2J_JORTT_GONE) {
            snprintf(done, sizeof done, "cancelled; the draft invoice %s was deleted by an earlier attempt",
                     t->invoice_id);
            finish_deleted(w, t, done, s);
            return;
        }
        if (st == M2J_JORTT_SENT) {
            hand_to_credit(w, t, sent_instead, s);
            return;
        }
    }
    m2j_buf path = {0};
    if (m2j_buf_printf(&path, "%s/%s", M2J_PATH_INVOICES_LIST, t->invoice_id) != M2J_OK) {
        m2j_step_set(s, M2J_STEP_RETRY, "out of memory");
        return;
    }
    m2j_jortt_response pr;
    m2j_call_class cls;
    bool sent = m2j_once_send(o, "delete draft invoice", mark_pending, (void *)t, "DELETE", m2j_buf_str(&path), NULL,
                              &pr, &cls, s);
    m2j_buf_free(&path);
    if (!sent)
        return;
    if (cls == M2J_CLASS_SUCCESS || cls == M2J_CLASS_NOT_FOUND) {
        m2j_jortt_response_clear(&pr);
        snprintf(done, sizeof done, "cancelled; deleted the draft invoice %s", t->invoice_id);
        finish_deleted(w, t, done, s);
        return;
    }
    m2j_step_from_call(s, w, "delete draft invoice", &pr, cls);
    m2j_jortt_response_clear(&pr);
    if (s->kind != M2J_STEP_DEAD)
        return; /* outcome unknown or to be retried: the intent stays */
    /* Refused: nothing was deleted. Sent since we read it? Then credit. */
    m2j_step keep;
    m2j_step_init(&keep);
    m2j_jortt_invoice_state st;
    if (!m2j_invoice_state(w, t->invoice_id, &st, &keep)) {
        m2j_step_clear(&keep);
        return; /* the refusal stands; a replay reads it again */
    }
    m2j_step_clear(&keep);
    if (st == M2J_JORTT_SENT) {
        m2j_step_clear(s);
        hand_to_credit(w, t, sent_instead, s);
    } else if (st == M2J_JORTT_GONE) {
        m2j_step_clear(s);
        snprintf(done, sizeof done, "cancelled; the draft invoice %s is no longer in Jortt", t->invoice_id);
        finish_deleted(w, t, done, s);
    } else {
        m2j_err e;
        drop_intent(w, t, &e); /* a replay after the cause is fixed deletes afresh */
    }
}
