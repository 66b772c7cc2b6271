/* invoice_delete.h: deleting the draft Jortt invoice of a cancelled order,
 * exactly once (credit_sync.c decides between this and a credit).
 *
 * Jortt tells a draft by invoice_status "draft" (a sent invoice is "sent",
 * and has an invoice_number); only a draft can be deleted (DELETE
 * /invoices/{id}, 204), a sent one must be credited. A DELETE is harmless
 * to repeat, but its outcome can still be unknown (a timeout, a dropped
 * connection), and the order's record must end up saying what Jortt holds,
 * so it runs in the exactly-once frame (exactly_once.h), under the order
 * lock the caller holds:
 *
 *   intent   P:credit:cancel:<ref> state pending, action delete, invoice_id;
 *            P:order:<ref> credit_pending = that key (fenced by the lock;
 *            other credits of the order wait while it is set)
 *   DELETE   /v3/invoices/{id}
 *   204/404  P:credit:cancel:<ref> state done, action deleted;
 *            P:order:<ref> state deleted, deleted_invoice_id, deleted_at
 *            (one script); a 404 resource.not_found means it is gone
 *   unknown  the intent stays; the next attempt GETs the invoice first:
 *            404 = deleted, a draft = DELETE again, sent = drop the intent
 *            and credit it instead
 *   refused  (422, e.g. sent meanwhile) the intent is dropped, the invoice
 *            read again: sent = credit it instead, else a dead letter.
 *
 * Ownership: everything is borrowed from the caller. */
#ifndef M2J_INVOICE_DELETE_H
#define M2J_INVOICE_DELETE_H

#include "worker/exactly_once.h"

typedef enum {
    M2J_JORTT_DRAFT = 0, /* invoice_status "draft": may be deleted */
    M2J_JORTT_SENT,      /* anything else: sent or finalised, to be credited */
    M2J_JORTT_GONE       /* 404 resource.not_found: not (or no longer) in Jortt */
} m2j_jortt_invoice_state;

/* GET /v3/invoices/{id}. false: the call failed and s says why. */
bool m2j_invoice_state(m2j_worker *w, const char *invoice_id, m2j_jortt_invoice_state *out, m2j_step *s);

typedef struct {
    const char *ck;         /* P:credit:cancel:<ref> */
    const char *ok;         /* P:order:<ref> */
    const char *invoice_id; /* checked with m2j_jortt_id_ok by the caller */
} m2j_delete_target;

/* Deletes the draft t->invoice_id under the held lock o. pending: the
 * record holds a delete intent whose outcome is unknown (the invoice is
 * read first); otherwise the caller has just read it as a draft. Ends with
 * s DONE (deleted, or found gone), or with s CONTINUE and *sent_instead
 * when the invoice turned out to be sent (the intent is dropped; the
 * caller credits it), or with the failure in s. */
void m2j_invoice_delete(m2j_once *o, const m2j_delete_target *t, bool pending, bool *sent_instead, m2j_step *s);

/* Records an invoice that is not in Jortt (any more) as deleted, with the
 * same script as a DELETE answered 204: for a cancelled order whose invoice
 * someone deleted by hand. M2J_OK or a Redis error. */
m2j_rc m2j_invoice_record_deleted(m2j_worker *w, const m2j_delete_target *t, m2j_err *e);

#endif
