/* order_mapping.h: turning a canonical Magento order (event.h) into the Jortt
 * customer and invoice request bodies, and proving before anything is sent
 * that the invoice totals equal the order to the cent. Pure: no I/O, so the
 * worker, `m2jortt preview` and the unit tests run exactly the same code.
 *
 * The mapping room (common/mapping/) turns Magento orders, credit memos and
 * customers into Jortt request bodies, with VAT, order lines and totals,
 * templates and field maps (this header for orders and customers,
 * creditmemo_mapping.h for credit memos). Pure logic, no I/O: no Redis, no
 * HTTP, no clock of its own. Sending is jortt/'s job; deciding what to send
 * and when is the worker's.
 *
 * Pricing model (why: see README "Totals"): every line is priced INCLUDING
 * VAT and the invoice is sent with "net_amounts": true. Jortt (v3,
 * invoice_level_vat) then computes:
 *   line total      = quantity x amount        (amounts have 2 decimals, and
 *                     we only use whole quantities, so this is exact)
 *   total incl. VAT = sum of line totals
 *   VAT per rate r  = round_half_away(sum of that rate's line totals x r/(1+r))
 *   total excl. VAT = total incl. VAT - sum of VAT
 * so the invoice total is the sum of the lines, which we make equal to
 * Magento's grand_total exactly; VAT per rate is checked against Magento's
 * within 0.01. */
#ifndef M2J_ORDER_MAPPING_H
#define M2J_ORDER_MAPPING_H

#include "config/config.h"
#include "base/buf.h"
#include <json-c/json.h>
#include <stdbool.h>

typedef struct {
    m2j_rate  rate;
    m2j_money incl;         /* sum of line totals at this rate */
    m2j_money jortt_vat;    /* VAT as Jortt will compute it */
    m2j_money magento_vat;  /* VAT per Magento for this rate */
} m2j_vat_line;

typedef struct {
    char        *reference;          /* increment_id (Jortt invoice reference) */
    char        *email;              /* lower-cased buyer e-mail, NULL if none */
    char        *magento_customer_id;/* NULL for guests */
    char        *fixed_customer_id;  /* orders.default_customer_id when it applies, else NULL */
    json_object *customer;           /* POST /customers body; NULL when fixed_customer_id */
    json_object *invoice;            /* POST /v3/invoices body WITHOUT customer_id */
    m2j_money    grand_total;        /* the order's (in the invoiced currency) */
    m2j_money    total_incl;         /* what Jortt will compute */
    m2j_money    total_excl;
    m2j_vat_line *vat; size_t n_vat;
    m2j_buf      report;             /* the checks passed, one per line, for preview/logs */
} m2j_invoice_plan;

void m2j_invoice_plan_clear(m2j_invoice_plan *p);

typedef enum { M2J_ORDER_INVOICE, M2J_ORDER_SKIP } m2j_order_action;

/* Decides and maps.
 *  - M2J_OK + M2J_ORDER_SKIP: not to be invoiced (status not in
 *    orders.statuses, ...); skip_reason says why; plan untouched.
 *  - M2J_OK + M2J_ORDER_INVOICE: plan filled (caller clears it).
 *  - M2J_ERR_UNSUPPORTED ("currency not supported"), M2J_ERR_INVALID (the order
 *    does not add up, a rate Jortt will not accept, a total that cannot be
 *    matched: err says how much differs): a dead letter, never a wrong invoice. */
m2j_rc m2j_order_plan(const m2j_config *cfg, json_object *order, m2j_order_action *action,
                      m2j_buf *skip_reason, m2j_invoice_plan *plan, m2j_err *err);

/* The reference the order's invoice carries (and its record P:order:<ref>
 * is kept under): the increment_id, or orders.field_map's "reference" when
 * it renders non-empty, trimmed, exactly as m2j_order_plan sets it. For
 * events that are not invoiced (cancelled, closed, a status not in
 * orders.statuses) but must find the order's record. *out is malloc'd.
 * M2J_ERR_INVALID without an increment_id or when the template fails. */
m2j_rc m2j_order_reference(const m2j_config *cfg, json_object *order, char **out, m2j_err *err);

/* Jortt customer body for the buyer of an order (company or private, from
 * the billing address; customers.groups and customers.field_map applied).
 * New reference to *out. */
m2j_rc m2j_customer_from_order(const m2j_config *cfg, json_object *order, json_object **out, m2j_err *err);
/* Jortt customer body from a canonical Magento customer (default billing
 * address; reference = Magento customer id). New reference to *out. */
m2j_rc m2j_customer_from_magento(const m2j_config *cfg, json_object *customer, json_object **out, m2j_err *err);
/* Stable fingerprint of a customer body (sha256 hex of its canonical form),
 * so unchanged data costs no Jortt call. */
void m2j_customer_fingerprint(json_object *body, char hex[65]);

#endif
