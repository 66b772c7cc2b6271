/* order_changes.h: an order event for an order m2jortt already invoiced.
 * Either it is the order that was invoiced (a status change such as
 * processing -> complete, a redelivery, an older event retried late:
 * skipped with the reason), or its lines or totals changed after it was
 * invoiced (a partial cancellation, an edit in place, a changed discount or
 * shipping): then it is a dead letter whose reason says what changed,
 *   order 100000123 changed after it was invoiced (Jortt invoice <id>):
 *   grand total 121.00 -> 96.80; line SKU-2 qty 2 -> 1, row total 48.40 -> 24.20
 * never skipped and never guessed at: the invoice in Jortt stays as it is
 * until the merchant corrects it (or cancels the order, which credit_sync.c
 * books, or refunds it with a credit memo).
 *
 * What was invoiced is the order's fingerprint
 * (mapping/order_fingerprint.h), kept in P:order:<ref> field "fingerprint"
 * next to grand_total when the invoice is recorded (invoice_sync.c). A
 * record from before fingerprints compares its grand_total only. An event
 * whose order's updated_at is older than the invoiced one's is an older
 * event arriving late, not a change: skipped. An order credited in full
 * (cancelled, closed) is not compared: nothing of it is booked any more.
 *
 * Ownership: everything is borrowed. */
#ifndef M2J_ORDER_CHANGES_H
#define M2J_ORDER_CHANGES_H

#include "mapping/order_fingerprint.h"
#include "worker/worker_ctx.h"

/* Judges an event against its order's record rec (an HGETALL reply of
 * P:order:<ref> in state done, read under the order lock). now: the
 * fingerprint of the event's order, or NULL when it could not be made
 * (now_err says why: a dead letter, since it cannot be compared).
 * skip_reason: why the event would be skipped anyway (its status is not
 * invoiced), or NULL. Sets s: DONE (this very event made the invoice),
 * SKIP or DEAD. */
void m2j_order_changes_judge(m2j_worker *w, const redisReply *rec, const char *ref, const char *event_id,
                             const m2j_order_fp *now, const char *now_err, const char *skip_reason, m2j_step *s);

/* An order event that is not invoiced for its status (m2j_order_plan said
 * skip, with skip_reason): when its order has an invoice (or one being
 * made), it is judged as above under the order lock, so a change in any
 * status is reported; otherwise it is skipped with skip_reason, as before.
 * *ref_out (malloc'd, may stay NULL) gets the order's reference. */
void m2j_order_changes_check(m2j_worker *w, json_object *order, const char *event_id, const char *skip_reason,
                             char **ref_out, m2j_step *s);

#endif
