/* order_internal.h: what the files behind order_mapping.h share. Not a public
 * contract: only order_mapping.c, order_lines.c, order_totals.c,
 * customer_mapping.c, field_map.c, vat.c, creditmemo_mapping.c (which
 * prices refunds by the same rules) and order_fingerprint.c (which reads
 * the invoiced rows the same way) include it.
 *
 * Money in here is m2j_money (1/10,000 units); every amount that becomes an
 * invoice line is already rounded to whole cents, so the invoice arithmetic
 * below is exact. */
#ifndef M2J_ORDER_INTERNAL_H
#define M2J_ORDER_INTERNAL_H

#include "mapping/order_mapping.h"
#include "mapping/vat.h"
#include "base/money.h"
#include <stdbool.h>

/* ---- vat.c ---- */

/* Whether Jortt will take rate r on an invoice for a buyer in country (see
 * vat.c for the rule). */
bool m2j_vat_rate_accepted(const m2j_config *cfg, const char *country, m2j_rate r);
/* Appends the accepted non-zero rates for country (vat_by_country first, then
 * the built-in table, then the merchant's own) to out, without duplicates. */
size_t m2j_vat_candidate_rates(const m2j_config *cfg, const char *country, m2j_rate *out, size_t max);
/* "21%", "5.5%" for messages. out holds M2J_RATE_STRLEN. */
char *m2j_rate_format_percent(m2j_rate r, char *out);

/* ---- order amounts (order_lines.c) ---- */

/* Reads an amount of obj in the invoiced currency: name, or "base_" + name
 * when the order is invoiced in its base currency. Missing/null/"" -> 0. */
typedef struct {
    const m2j_config *cfg;
    json_object *order;
    bool         base;        /* use base_* amounts */
    const char  *country;     /* VAT / revenue country, upper case, "" if unknown */
    const char  *line_ledger; /* ledger account for sold goods, NULL if none */
    const char  *group_id;    /* customer_group_id text or NULL */
} m2j_order_ctx;

m2j_rc m2j_order_amount(const m2j_order_ctx *ctx, json_object *obj, const char *name,
                        m2j_money *out, bool *present, m2j_err *err);

/* ---- order_mapping.c ---- */

/* Invoiced currency: the order's own when it is EUR, else EUR base_*
 * amounts; anything else is M2J_ERR_UNSUPPORTED. */
m2j_rc m2j_order_currency(json_object *order, bool *base, m2j_err *err);
/* Sets ctx's cfg, order, VAT country (into country, which ctx then
 * borrows), customer group and revenue ledger from order; not the currency. */
void m2j_order_ctx_place(const m2j_config *cfg, json_object *order, m2j_order_ctx *ctx, char country[3]);
/* Fills ctx for order: currency, then m2j_order_ctx_place. */
m2j_rc m2j_order_ctx_init(const m2j_config *cfg, json_object *order, m2j_order_ctx *ctx, char country[3],
                          m2j_err *err);
/* The Dutch calendar date of a Magento timestamp (UTC unless it has an
 * offset). */
m2j_rc m2j_invoice_date(const char *created_at, char out[11], m2j_err *err);

typedef struct {
    char     *description;  /* owned */
    int64_t   quantity;     /* whole units */
    m2j_money amount;       /* per unit, incl. VAT, whole cents */
    m2j_rate  rate;
    const char *ledger;     /* borrowed from the config, NULL = Jortt's default */
} m2j_line;

typedef struct {
    m2j_line *v;
    size_t    n, cap;
} m2j_lines;

void   m2j_lines_free(m2j_lines *ls);
m2j_rc m2j_lines_add(m2j_lines *ls, const char *description, int64_t quantity, m2j_money amount,
                     m2j_rate rate, const char *ledger);
/* One Jortt line item object for l (new reference, NULL on OOM). */
json_object *m2j_line_json(const m2j_line *l);

/* Per-rate accumulator used for discounts and Magento's VAT. */
typedef struct {
    m2j_rate  rate;
    m2j_money amount;
} m2j_rate_sum;

typedef struct {
    m2j_rate_sum *v;
    size_t        n, cap;
} m2j_rate_sums;

void   m2j_rate_sums_free(m2j_rate_sums *s);
m2j_rc m2j_rate_sums_add(m2j_rate_sums *s, m2j_rate rate, m2j_money amount);
bool   m2j_rate_sums_has(const m2j_rate_sums *s, m2j_rate rate);

/* Indexes into order.items of the rows that become invoice lines (parent
 * or children of configurables and bundles, see order_lines.c). *out is
 * malloc'd (caller frees). */
m2j_rc m2j_order_invoiced_items(const m2j_order_ctx *ctx, size_t **out, size_t *n, m2j_err *err);
/* The VAT rate of a sold row: its tax_percent (or orders.vat_by_country when
 * it was taxed without one), validated for ctx->country. */
m2j_rc m2j_item_rate(const m2j_order_ctx *ctx, json_object *item, const char *label, m2j_money tax,
                     m2j_money dtc, m2j_rate *rate, m2j_err *err);
/* "1.5 x Name (SKU)" into d (reset first). */
m2j_rc m2j_item_description(m2j_buf *d, json_object *item, m2j_money qty, bool decimal);
/* Adds a row worth `before` (whole cents, >= 0) for qty units: whole
 * quantities whose unit price does not divide the row become
 * (q-1) x floor + 1 x remainder so the lines still add up exactly; decimal
 * quantities one line of 1. */
m2j_rc m2j_lines_add_row(m2j_lines *lines, const char *desc, m2j_money qty, bool decimal, m2j_money before,
                         m2j_rate rate, const char *ledger, m2j_err *err);
/* The accepted rate whose VAT on base reproduces tax within a cent,
 * preferring the order's applied_taxes, then `used`, then the country's;
 * no match is an error naming `what`. */
m2j_rc m2j_derive_rate(const m2j_order_ctx *ctx, const m2j_rate_sums *used, m2j_money base, m2j_money tax,
                       const char *what, m2j_rate *out, m2j_err *err);
/* The order's shipping VAT rate (item_applied_taxes, else derived). */
m2j_rc m2j_order_shipping_rate(const m2j_order_ctx *ctx, const m2j_rate_sums *used, m2j_rate *out,
                               m2j_err *err);
/* The shipping line's text into d and its ledger (borrowed). */
m2j_rc m2j_shipping_text(const m2j_order_ctx *ctx, m2j_buf *d, const char **ledger);
/* One negative "Korting" line per rate of discounts (non-zero only). */
m2j_rc m2j_discount_lines(const m2j_order_ctx *ctx, const m2j_rate_sums *discounts, m2j_lines *lines,
                          m2j_err *err);

/* Builds every invoice line of the order: products, shipping, discounts per
 * rate, order-level payments. magento_vat receives Magento's VAT per rate
 * computed from the items and shipping (the fallback when the order has no
 * applied_taxes). */
m2j_rc m2j_order_lines(const m2j_order_ctx *ctx, m2j_lines *lines, m2j_rate_sums *magento_vat,
                       m2j_err *err);
/* Order-level means of payment that Magento deducts from grand_total (gift
 * cards, store credit, reward points): their sum, and (lines != NULL) one
 * 0 % negative line each. */
m2j_rc m2j_order_extras(const m2j_order_ctx *ctx, m2j_lines *lines, m2j_money *sum, m2j_err *err);

/* ---- order_totals.c ---- */

/* Check 1: Magento's own totals add up. Appends to report. */
m2j_rc m2j_check_magento_totals(const m2j_order_ctx *ctx, m2j_money *grand_total, m2j_buf *report,
                                m2j_err *err);
/* Checks 2 and 3: computes the invoice the way Jortt will, fills the plan's
 * totals and vat[], and fails when it differs from the order. */
m2j_rc m2j_check_invoice_totals(const m2j_order_ctx *ctx, const m2j_lines *lines,
                                const m2j_rate_sums *items_vat, m2j_money grand_total,
                                m2j_invoice_plan *plan, m2j_err *err);

/* ---- customer_mapping.c ---- */

/* customer_is_guest, or no customer_id. */
bool m2j_order_is_guest(json_object *order);

/* ---- field_map.c ---- */

/* Applies a field map (Jortt field -> template) to body, rendering against
 * entity. Integer fields (payment_term, default_discount_percentage) must
 * render as digits, boolean fields as true/false/1/0/yes/no, date fields
 * as a date (a Magento timestamp is cut to its date); a template that
 * renders empty leaves the field as it was. */
typedef enum { M2J_FIELD_INVOICE, M2J_FIELD_CUSTOMER } m2j_field_target;
m2j_rc m2j_apply_field_map(const m2j_string_entry *map, size_t n, m2j_field_target target,
                           json_object *entity, json_object *body, m2j_err *err);

#endif
