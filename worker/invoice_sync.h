/* invoice_sync.h: one order event to at most one Jortt invoice, exactly once
 * (design notes section 2).
 *
 * Protocol, under P:lock:order:<ref>:
 *   1. P:order:<ref> state done      -> the same order: skip "already
 *      invoiced as <id>"; lines or totals changed since: dead letter with
 *      the difference (order_changes.h). State deleted, cancelled, closed
 *      -> skip.
 *   2. the customer id (fixed, or found/created: customer_sync.h).
 *   3. state pending (an earlier POST whose outcome we never learnt): search
 *      GET /invoices?query=<ref> (all pages) for an exact reference match and
 *      adopt it. References shorter than 3 characters cannot be searched
 *      (Jortt's minimum): for those a lost answer can mean a duplicate, which
 *      is logged as a warning; Magento increment ids are 9+ digits.
 *   4. HSET state pending, POST /v3/invoices, HSET state done invoice_id
 *      (with grand_total, customer_id and the order's fingerprint).
 * A refused POST (4xx) clears the pending mark: nothing was created.
 *
 * Not invoiced: a cancelled or closed order goes to credit_sync.h (its
 * record found by m2j_order_reference); an order whose status is not in
 * orders.statuses is skipped, unless it was invoiced and has changed since
 * (order_changes.h). An order made by Magento's "Edit order"
 * (relation_parent_real_id) first books its original's cancellation
 * (credit_sync.h), so the revenue is booked once. */
#ifndef M2J_INVOICE_SYNC_H
#define M2J_INVOICE_SYNC_H

#include "worker/worker_ctx.h"

/* Processes one canonical order. event_id is recorded with the intent.
 * *ref_out (malloc'd, may stay NULL) gets the order reference for logs. */
void m2j_invoice_order(m2j_worker *w, const char *event_id, json_object *order, char **ref_out, m2j_step *s);

#endif
