/* credit_sync.h: a Magento credit memo to a Jortt credit invoice, exactly
 * once, for orders m2jortt invoiced.
 *
 * A memo is planned line by line (common/creditmemo_mapping.h). A full
 * refund becomes POST /invoices/{invoice_id}/credit (Jortt credits the whole
 * invoice, linked by credited_invoice_id). A partial refund becomes its own
 * invoice, POST /v3/invoices with the refunded rows, shipping and
 * adjustments as negative lines, for the original invoice's customer
 * (customer_id of the order record, else read once from the invoice), its
 * total exactly -grand_total of the memo. A memo that does not add up is
 * dead-lettered with the reason, never guessed. A memo for an order not
 * invoiced (yet) is retried with the normal back-off (the order event may
 * still be on its way) and finally dead.
 *
 * Exactly once, like invoices, under the order's lock P:lock:order:<ref>:
 * P:credit:<memo key> state pending before the POST, done + credit_invoice_id
 * after. Every credit of the order also books its amount in the order
 * record (credited, credited_full, credit_pending; see credit_sync.c), so
 * a memo after the order was credited whole (on cancel, or on "closed") is
 * skipped, a credit beyond the invoiced total is a dead letter, and two
 * credits of one order never race. A pending record (outcome unknown) is
 * resolved for a full credit by the original invoice's credit_invoice_ids,
 * for a partial one by an exact match of the plan's reference in
 * GET /invoices?query=<reference>.
 *
 * A cancelled order (orders.credit_on_cancel, on by default) that was
 * invoiced: Jortt is asked whether the invoice is still a draft; a draft is
 * deleted (invoice_delete.h; the order record then says state "deleted"),
 * a sent invoice credited whole; either once, under the order lock, record
 * P:credit:cancel:<ref>. One not invoiced gets P:order:<ref> state
 * "cancelled", so an older event of the order retried later does not
 * invoice it. A memo or "closed" event of an order whose draft was deleted
 * has nothing to credit: skipped.
 *
 * An order event with status "closed" (refunds closed it) makes sure the
 * refund is booked: skipped when its memos booked it, the whole invoice
 * credited (record P:credit:closed:<ref>) when Magento refunded all of it
 * and nothing was booked yet, else retried while the memos may still come,
 * then dead with what is missing. One not invoiced gets state "closed". */
#ifndef M2J_CREDIT_SYNC_H
#define M2J_CREDIT_SYNC_H

#include "worker/worker_ctx.h"

void m2j_credit_memo(m2j_worker *w, json_object *memo, char **ref_out, m2j_step *s);
/* An order event whose order Magento cancelled (m2j_order_is_cancelled);
 * ref: the reference its record is kept under (m2j_order_reference). Skips
 * with a reason when credit_on_cancel is off or the order was never
 * invoiced. */
void m2j_credit_cancelled_order(m2j_worker *w, const char *ref, m2j_step *s);
/* An order event whose order refunds closed (m2j_order_is_closed); order:
 * the canonical order (its total_refunded is read), ref: the reference its
 * record is kept under. */
void m2j_credit_closed_order(m2j_worker *w, json_object *order, const char *ref, m2j_step *s);

#endif
