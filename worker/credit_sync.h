/* credit_sync.h: a Magento credit memo to a Jortt credit invoice, exactly
 * once, for orders m2jortt invoiced.
 *
 * Only full refunds are supported: a memo whose grand_total (or
 * base_grand_total) equals the invoiced order's total becomes
 * POST /invoices/{invoice_id}/credit (Jortt credits the whole invoice).
 * A partial refund has no Jortt counterpart without a mapping of the refunded
 * lines (planned): it is dead-lettered with a reason saying so, never
 * guessed. A memo for an order not invoiced (yet) is retried with the normal
 * back-off (the order event may still be on its way) and finally dead.
 *
 * Exactly once, like invoices, under P:lock:credit:<memo key>:
 * P:credit:<memo key> state pending before the POST, done + credit_invoice_id
 * after. A pending record (outcome unknown) is resolved by reading the
 * original invoice: its credit_invoice_ids shows whether the credit exists. */
#ifndef M2J_CREDIT_SYNC_H
#define M2J_CREDIT_SYNC_H

#include "worker_ctx.h"

void m2j_credit_memo(m2j_worker *w, json_object *memo, char **ref_out, m2j_step *s);

#endif
