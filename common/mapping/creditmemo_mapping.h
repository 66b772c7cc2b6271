/* creditmemo_mapping.h: a Magento credit memo as a Jortt credit invoice, and
 * whether it refunds the whole order. Pure: no I/O, like order_mapping.h,
 * whose pricing model it shares (lines priced INCLUDING VAT, "net_amounts":
 * true, the same row splitting, rates and rounding).
 *
 * How the worker uses it (worker/credit_sync.c):
 *  - It passes the canonical memo and, for `order`, a stub
 *    {"grand_total": <invoiced total from P:order:<ref>>} when the sender
 *    did not include the order (memo.order is used by itself otherwise):
 *    "full" is then decided on the totals alone. Without either, a memo is
 *    planned as a partial credit (still exact; only the credited_invoice_id
 *    link of a full credit is lost). invoice_reference only goes into the
 *    remarks (NULL = plan.order_ref).
 *  - M2J_ERR_INVALID / M2J_ERR_UNSUPPORTED become dead letters with err.msg:
 *    a memo that does not add up is never posted as a guess.
 *  - plan.full_refund: POST /invoices/{invoice_id}/credit. Otherwise POST
 *    /v3/invoices with plan.invoice plus the original invoice's customer_id;
 *    a pending attempt is resolved by an exact match on plan.reference
 *    ("<order ref>-CM<memo increment_id>").
 *  - Cancelled and closed orders (m2j_order_is_cancelled, _is_closed,
 *    m2j_order_refunded) are credited whole or checked against the credits
 *    booked, without a plan.
 *
 * Rules decided here (and why):
 *  - Magento's credit memo adds up as
 *      grand_total = subtotal + shipping_amount + discount_amount (negative)
 *                    + tax_amount + discount_tax_compensation_amount
 *                    + adjustment_positive - adjustment_negative
 *                    (- store credit / gift card / reward amounts)
 *    (Magento\Sales\Model\Order\Creditmemo\Total\{Subtotal,Discount,
 *    Shipping,Tax,Grand}; the Tax collector folds the shipping part of the
 *    discount tax compensation into discount_tax_compensation_amount, so a
 *    memo that lists shipping_discount_tax_compensation_amount apart and
 *    adds up only with it is accepted too). Off by more than 0.01: error.
 *  - Refunded rows: quantity refunded, priced at row_total_incl_tax (else
 *    row_total + tax + compensation) with the row's discount on a discount
 *    line per rate, split like order rows, so the lines add up exactly.
 *    The row's rate is its order item's tax_percent; without the order it
 *    is derived from the row's tax like the order's shipping rate.
 *  - Shipping: shipping_incl_tax (else shipping_amount + shipping_tax_amount
 *    + its compensation) at the order's shipping rate; the memo has no
 *    shipping_discount_amount, so the shipping discount is what the memo's
 *    discount_amount has beyond its rows' discounts.
 *  - Adjustments carry 0 % VAT: Magento adds them to grand_total without any
 *    tax (its tax_amount does not change), so only 0 % keeps the credit's VAT
 *    equal to the VAT Magento booked. adjustment_positive (an extra refund)
 *    is a negative line, adjustment_negative (a fee kept) a positive one.
 *  - payment_method "already_paid": a memo is a refund Magento has already
 *    made (online or offline), so the credit carries no payment request.
 *  - The credit invoice totals exactly -grand_total (checked, Jortt's way)
 *    and its VAT per rate is within 0.01 of the memo's tax at that rate.
 *    Jortt's rounding of negative amounts is assumed symmetric (half away
 *    from zero), as money.h rounds.
 *  - "Full": memo grand_total == order grand_total (cents, invoiced currency)
 *    and every invoiced row's qty_ordered (less qty_canceled) refunded. */
#ifndef M2J_CREDITMEMO_MAPPING_H
#define M2J_CREDITMEMO_MAPPING_H

#include "config/config.h"
#include "mapping/order_mapping.h"
#include <json-c/json.h>
#include <stdbool.h>

typedef struct {
    bool         full_refund;  /* refunds the whole invoiced order */
    char        *memo_key;     /* entity_id, else increment_id: the exactly-once key */
    char        *memo_id;      /* increment_id, else entity_id: for people */
    char        *order_ref;    /* the order's increment_id */
    char        *reference;    /* the credit invoice's reference, "<order_ref>-CM<memo_id>" */
    json_object *invoice;      /* POST /v3/invoices body WITHOUT customer_id: the refund as
                                  negative lines */
    m2j_money    grand_total;  /* the memo's, positive, in the invoiced currency */
    m2j_money    total_incl;   /* the credit invoice's total as Jortt computes it: -grand_total */
    m2j_money    total_excl;
    m2j_vat_line *vat; size_t n_vat; /* per rate, credit sign (negative) */
    m2j_buf      report;       /* the checks passed, one per line */
} m2j_credit_plan;

void m2j_credit_plan_clear(m2j_credit_plan *p);

/* Plans the credit for a canonical credit memo (event.h). order: the
 * canonical order, a stub with only its totals, or NULL (see above).
 * invoice_reference may be NULL. On M2J_OK *out is filled (caller clears
 * it); on error *out is untouched and err says why (M2J_ERR_INVALID: the
 * memo does not add up or cannot be mapped exactly; M2J_ERR_UNSUPPORTED: a
 * currency that cannot be invoiced). */
m2j_rc m2j_creditmemo_plan(const m2j_config *cfg, json_object *memo, json_object *order,
                           const char *invoice_reference, m2j_credit_plan *out, m2j_err *err);

/* True when Magento cancelled the order: status or state "canceled". */
bool m2j_order_is_cancelled(json_object *order);

/* True when refunds closed the order: status or state "closed". */
bool m2j_order_is_closed(json_object *order);

/* What Magento says was refunded of the order, in the invoiced currency
 * (base_total_refunded when the order is invoiced from its EUR base
 * amounts, else total_refunded). M2J_ERR_INVALID when the order does not
 * say (field missing or not an amount); M2J_ERR_UNSUPPORTED for a currency
 * that is never invoiced. */
m2j_rc m2j_order_refunded(json_object *order, m2j_money *out, m2j_err *err);

#endif
