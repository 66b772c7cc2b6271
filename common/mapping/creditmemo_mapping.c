/* creditmemo_mapping.c: see creditmemo_mapping.h for the rules. The refund
 * is first built as the invoice of what is refunded (positive lines, so the
 * order's row, shipping and discount rules and its totals check apply
 * unchanged), then every line is negated for the credit invoice. */
#include "mapping/creditmemo_mapping.h"
#include "mapping/order_internal.h"
#include "base/json_util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_MEMO_ITEMS 1000 /* as for orders */
#define TOLERANCE      M2J_CENT

void m2j_credit_plan_clear(m2j_credit_plan *p)
{
    if (!p)
        return;
    free(p->memo_key);
    free(p->memo_id);
    free(p->order_ref);
    free(p->reference);
    json_object_put(p->invoice);
    free(p->vat);
    m2j_buf_free(&p->report);
    memset(p, 0, sizeof *p);
}

/* Text of a scalar field, "" when missing, null, blank or not a scalar. */
static const char *str_of(json_object *obj, const char *key)
{
    json_object *v = m2j_json_get(obj, key);
    if (!v || json_object_is_type(v, json_type_null) || json_object_is_type(v, json_type_object) ||
        json_object_is_type(v, json_type_array))
        return "";
    const char *s = json_object_get_string(v);
    for (const char *c = s; *c; c++)
        if (!isspace((unsigned char)*c))
            return s;
    return "";
}

static m2j_money absm(m2j_money m)
{
    return m < 0 ? -m : m;
}

bool m2j_order_is_cancelled(json_object *order)
{
    return strcmp(str_of(order, "status"), "canceled") == 0 || strcmp(str_of(order, "state"), "canceled") == 0;
}

bool m2j_order_is_closed(json_object *order)
{
    return strcmp(str_of(order, "status"), "closed") == 0 || strcmp(str_of(order, "state"), "closed") == 0;
}

m2j_rc m2j_order_refunded(json_object *order, m2j_money *out, m2j_err *err)
{
    bool base = false;
    m2j_rc rc = m2j_order_currency(order, &base, err);
    if (rc != M2J_OK)
        return rc;
    const char *name = base ? "base_total_refunded" : "total_refunded";
    if (m2j_json_money(order, name, out, NULL) != M2J_OK)
        return m2j_fail(err, M2J_ERR_INVALID, "the order has no usable %s", name);
    return M2J_OK;
}

/* ---- the state of one planning run ---- */

typedef struct {
    const m2j_config *cfg;
    json_object  *memo;
    json_object  *order;       /* with items, else NULL */
    json_object  *stub;        /* an order without items (totals only), else NULL */
    m2j_order_ctx octx;        /* the order's (rates, ledger, texts); the memo's when no order */
    m2j_order_ctx mctx;        /* same settings, reading the memo's amounts */
    char          country[3];
    size_t       *sold;        /* invoiced order rows (indexes into order.items) */
    size_t        n_sold;
    m2j_money    *refunded;    /* qty refunded per sold row */
    m2j_lines     lines;       /* the refund, positive */
    m2j_rate_sums discounts;   /* before - after per rate */
    m2j_rate_sums magento_vat; /* the memo's tax per rate */
    m2j_rate_sums order_rates; /* the order's row rates (shipping rate derivation) */
    m2j_money     item_disc, item_dtc, total_dtc;
    m2j_money     adj_pos, adj_neg, grand_total;
    m2j_buf       tmp;
    m2j_buf      *report;
} run;

static void run_free(run *r)
{
    free(r->sold);
    free(r->refunded);
    m2j_lines_free(&r->lines);
    m2j_rate_sums_free(&r->discounts);
    m2j_rate_sums_free(&r->magento_vat);
    m2j_rate_sums_free(&r->order_rates);
    m2j_buf_free(&r->tmp);
}

static m2j_rc oom(m2j_err *err)
{
    return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
}

static m2j_rc amount(run *r, json_object *obj, const char *name, m2j_money *out, bool *present, m2j_err *err)
{
    return m2j_order_amount(&r->mctx, obj, name, out, present, err);
}

/* ---- check 1: the memo adds up ---- */

static m2j_rc check_memo_totals(run *r, m2j_err *err)
{
    static const char *const parts[] = { "subtotal", "shipping_amount", "discount_amount", "tax_amount" };
    bool present, pos_present, neg_present;
    m2j_money v, sum = 0, dtc = 0, sdtc = 0, extras = 0;
    m2j_rc rc = amount(r, r->memo, "grand_total", &r->grand_total, &present, err);
    if (rc != M2J_OK)
        return rc;
    if (!present)
        return m2j_fail(err, M2J_ERR_INVALID, "credit memo has no %sgrand_total", r->mctx.base ? "base_" : "");
    if (r->grand_total < 0)
        return m2j_fail(err, M2J_ERR_INVALID, "credit memo grand_total is negative");
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        if ((rc = amount(r, r->memo, parts[i], &v, &present, err)) != M2J_OK)
            return rc;
        sum += v;
    }
    if ((rc = amount(r, r->memo, "discount_tax_compensation_amount", &dtc, &present, err)) != M2J_OK ||
        (rc = amount(r, r->memo, "shipping_discount_tax_compensation_amount", &sdtc, &present, err)) != M2J_OK ||
        (rc = amount(r, r->memo, "adjustment_positive", &r->adj_pos, &pos_present, err)) != M2J_OK ||
        (rc = amount(r, r->memo, "adjustment_negative", &r->adj_neg, &neg_present, err)) != M2J_OK)
        return rc;
    if (!pos_present && !neg_present) {
        /* only the net "adjustment" was sent */
        if ((rc = amount(r, r->memo, "adjustment", &v, &present, err)) != M2J_OK)
            return rc;
        if (v > 0)
            r->adj_pos = v;
        else
            r->adj_neg = -v;
    }
    if (r->adj_pos < 0 || r->adj_neg < 0)
        return m2j_fail(err, M2J_ERR_INVALID, "credit memo adjustments must not be negative");
    if ((rc = m2j_order_extras(&r->mctx, NULL, &extras, err)) != M2J_OK)
        return rc;
    sum += r->adj_pos - r->adj_neg - extras;

    /* dtc includes the shipping part (Magento's Tax collector); a memo that
     * lists it apart only adds up with it */
    m2j_money diff = r->grand_total - (sum + dtc);
    r->total_dtc = dtc;
    if (absm(diff) > TOLERANCE && sdtc != 0 && absm(r->grand_total - (sum + dtc + sdtc)) <= TOLERANCE) {
        r->total_dtc = dtc + sdtc;
        diff = r->grand_total - (sum + dtc + sdtc);
    }
    char a[M2J_MONEY_STRLEN], b[M2J_MONEY_STRLEN], c[M2J_MONEY_STRLEN];
    if (absm(diff) > TOLERANCE)
        return m2j_fail(err, M2J_ERR_INVALID,
                        "credit memo does not add up: grand_total %s, but subtotal + shipping + discount + tax "
                        "+ tax compensation + adjustment_positive - adjustment_negative is %s: differs by %s",
                        m2j_money_format4(r->grand_total, a), m2j_money_format4(r->grand_total - diff, b),
                        m2j_money_format4(diff, c));
    if (m2j_buf_printf(r->report, "credit memo adds up: grand_total %s = subtotal + shipping + discount + tax%s%s\n",
                       m2j_money_format(r->grand_total, a), r->adj_pos || r->adj_neg ? " + adjustments" : "",
                       extras ? " - payments" : "") != M2J_OK)
        return oom(err);
    return M2J_OK;
}

/* ---- refunded rows ---- */

static json_object *order_item(run *r, const char *id, size_t *sold_index, bool *found)
{
    json_object *items = m2j_json_get(r->order, "items");
    *found = false;
    *sold_index = SIZE_MAX;
    size_t n = items && json_object_is_type(items, json_type_array) ? json_object_array_length(items) : 0;
    for (size_t i = 0; *id && i < n; i++) {
        json_object *it = json_object_array_get_idx(items, i);
        if (strcmp(str_of(it, "item_id"), id) != 0)
            continue;
        *found = true;
        for (size_t k = 0; k < r->n_sold; k++)
            if (r->sold[k] == i)
                *sold_index = k;
        return it;
    }
    return NULL;
}

/* The rate of a refunded row without its order: the accepted rate its tax
 * reproduces, taxed after the discount (prices excl. tax) or before it with
 * a compensation (prices incl. tax). */
static m2j_rc derive_row_rate(run *r, const char *label, m2j_money row, m2j_money tax, m2j_money dtc,
                              m2j_money disc, m2j_rate *rate, m2j_err *err)
{
    if (tax == 0 && dtc == 0) {
        *rate = 0;
        return M2J_OK;
    }
    if (m2j_derive_rate(&r->mctx, &r->magento_vat, row - disc, tax, label, rate, NULL) == M2J_OK)
        return M2J_OK;
    return m2j_derive_rate(&r->mctx, &r->magento_vat, row, tax + dtc, label, rate, err);
}

static m2j_rc refund_row(run *r, json_object *item, size_t index, m2j_err *err)
{
    char label[64];
    snprintf(label, sizeof label, "credit memo items.%zu", index);
    m2j_money qty = 0, row = 0, incl = 0, tax = 0, dtc = 0, disc = 0;
    bool incl_present, p;
    m2j_err e = { 0 };
    m2j_rc rc;
    json_object *qv = m2j_json_get(item, "qty");
    const char *qt = qv && !json_object_is_type(qv, json_type_null) ? json_object_get_string(qv) : "0";
    if (m2j_money_parse(qt, &qty, &e) != M2J_OK)
        return m2j_fail(err, M2J_ERR_INVALID, "%s: qty: %s", label, e.msg);
    if ((rc = amount(r, item, "row_total", &row, &p, &e)) != M2J_OK ||
        (rc = amount(r, item, "row_total_incl_tax", &incl, &incl_present, &e)) != M2J_OK ||
        (rc = amount(r, item, "tax_amount", &tax, &p, &e)) != M2J_OK ||
        (rc = amount(r, item, "discount_tax_compensation_amount", &dtc, &p, &e)) != M2J_OK ||
        (rc = amount(r, item, "discount_amount", &disc, &p, &e)) != M2J_OK)
        return m2j_fail(err, rc, "%s: %s", label, e.msg);
    if (disc < 0) /* a reduction whatever the sign (as for orders) */
        disc = -disc;
    bool carries = row != 0 || incl != 0 || tax != 0 || dtc != 0 || disc != 0;

    json_object *oi = NULL;
    size_t sold_index = SIZE_MAX;
    if (r->order) {
        bool found;
        const char *id = str_of(item, "order_item_id");
        oi = order_item(r, id, &sold_index, &found);
        if (!found)
            return m2j_fail(err, M2J_ERR_INVALID, "%s: order_item_id \"%.40s\" is not in the order", label, id);
        /* the row of a configurable's child or a bundle's other side: the
         * invoice never had it, and Magento's subtotal leaves it out */
        if (sold_index == SIZE_MAX)
            return M2J_OK;
    } else if (!carries) {
        return M2J_OK;
    }
    if (qty <= 0) {
        if (!carries)
            return M2J_OK;
        return m2j_fail(err, M2J_ERR_INVALID, "%s: refunds amounts for qty %s", label, qt);
    }
    if (sold_index != SIZE_MAX)
        r->refunded[sold_index] += qty;

    m2j_money before_u = incl_present ? incl : row + tax + dtc;
    m2j_money after_u = row + tax + dtc - disc;
    if (before_u < 0)
        return m2j_fail(err, M2J_ERR_INVALID, "%s: negative row total", label);
    m2j_rate rate;
    if (oi)
        rc = m2j_item_rate(&r->octx, oi, label, tax, dtc, &rate, err);
    else
        rc = derive_row_rate(r, label, row, tax, dtc, disc, &rate, err);
    if (rc != M2J_OK)
        return rc;
    char rs[M2J_RATE_STRLEN];
    if (!m2j_vat_rate_accepted(r->cfg, r->octx.country, rate))
        return m2j_fail(err, M2J_ERR_INVALID, "VAT rate %s is not accepted for %s",
                        m2j_rate_format_percent(rate, rs), *r->octx.country ? r->octx.country : "an unknown country");

    bool decimal = false;
    if (!oi || m2j_json_bool(oi, "is_qty_decimal", &decimal) != M2J_OK)
        decimal = false;
    if (qty % M2J_MONEY_SCALE != 0)
        decimal = true;
    if (m2j_item_description(&r->tmp, oi ? oi : item, qty, decimal) != M2J_OK)
        return oom(err);
    m2j_money before = m2j_money_round_cents(before_u);
    m2j_money after = m2j_money_round_cents(after_u);
    if ((rc = m2j_lines_add_row(&r->lines, m2j_buf_str(&r->tmp), qty, decimal, before, rate, r->octx.line_ledger,
                                err)) != M2J_OK)
        return rc;
    if (m2j_rate_sums_add(&r->discounts, rate, before - after) != M2J_OK ||
        m2j_rate_sums_add(&r->magento_vat, rate, tax) != M2J_OK)
        return oom(err);
    r->item_disc += disc;
    r->item_dtc += dtc;
    return M2J_OK;
}

/* The order's row rates, so a derived shipping rate is chosen exactly as
 * it was for the invoice. */
static m2j_rc collect_order_rates(run *r, m2j_err *err)
{
    json_object *items = m2j_json_get(r->order, "items");
    for (size_t k = 0; k < r->n_sold; k++) {
        json_object *it = json_object_array_get_idx(items, r->sold[k]);
        m2j_money tax = 0, dtc = 0;
        bool p;
        m2j_rate rate;
        char label[64];
        snprintf(label, sizeof label, "order items.%zu", r->sold[k]);
        m2j_rc rc;
        if ((rc = m2j_order_amount(&r->octx, it, "tax_amount", &tax, &p, err)) != M2J_OK ||
            (rc = m2j_order_amount(&r->octx, it, "discount_tax_compensation_amount", &dtc, &p, err)) != M2J_OK ||
            (rc = m2j_item_rate(&r->octx, it, label, tax, dtc, &rate, err)) != M2J_OK)
            return rc;
        if (m2j_rate_sums_add(&r->order_rates, rate, tax) != M2J_OK)
            return oom(err);
    }
    return M2J_OK;
}

static m2j_rc refund_rows(run *r, m2j_err *err)
{
    json_object *items = m2j_json_get(r->memo, "items");
    size_t n = items && json_object_is_type(items, json_type_array) ? json_object_array_length(items) : 0;
    if (n > MAX_MEMO_ITEMS)
        return m2j_fail(err, M2J_ERR_TOO_LARGE, "credit memo has %zu items (at most %d)", n, MAX_MEMO_ITEMS);
    for (size_t i = 0; i < n; i++) {
        json_object *it = json_object_array_get_idx(items, i);
        if (!it || !json_object_is_type(it, json_type_object))
            return m2j_fail(err, M2J_ERR_INVALID, "credit memo items.%zu is not an object", i);
        m2j_rc rc = refund_row(r, it, i, err);
        if (rc != M2J_OK)
            return rc;
    }
    return M2J_OK;
}

/* ---- shipping, discounts, adjustments ---- */

static m2j_rc refund_shipping(run *r, m2j_err *err)
{
    m2j_money amt = 0, incl = 0, tax = 0, disc = 0;
    bool incl_present, p;
    m2j_rc rc;
    if ((rc = amount(r, r->memo, "shipping_amount", &amt, &p, err)) != M2J_OK ||
        (rc = amount(r, r->memo, "shipping_incl_tax", &incl, &incl_present, err)) != M2J_OK ||
        (rc = amount(r, r->memo, "shipping_tax_amount", &tax, &p, err)) != M2J_OK ||
        (rc = amount(r, r->memo, "discount_amount", &disc, &p, err)) != M2J_OK)
        return rc;
    /* the memo has no shipping discount or shipping compensation of its own:
     * they are what its totals hold beyond its rows' */
    m2j_money sdisc = absm(disc) - r->item_disc;
    m2j_money sdtc = r->total_dtc - r->item_dtc;
    char a[M2J_MONEY_STRLEN], b[M2J_MONEY_STRLEN];
    if (sdisc < 0)
        return m2j_fail(err, M2J_ERR_INVALID, "credit memo discount_amount %s is less than its rows' discounts %s",
                        m2j_money_format4(absm(disc), a), m2j_money_format4(r->item_disc, b));
    m2j_money before_u = incl_present ? incl : amt + tax + sdtc;
    m2j_money after_u = amt + tax + sdtc - sdisc;
    if (before_u == 0 && amt == 0 && tax == 0) {
        if (m2j_money_round_cents(sdisc) != 0 || m2j_money_round_cents(sdtc) != 0)
            return m2j_fail(err, M2J_ERR_INVALID,
                            "credit memo discount or tax compensation (%s, %s) does not match its rows and "
                            "refunds no shipping",
                            m2j_money_format4(sdisc, a), m2j_money_format4(sdtc, b));
        return M2J_OK;
    }
    if (before_u < 0)
        return m2j_fail(err, M2J_ERR_INVALID, "credit memo: negative shipping amount");

    m2j_rate rate;
    if (r->order) {
        m2j_money oship = 0;
        if ((rc = m2j_order_amount(&r->octx, r->order, "shipping_amount", &oship, &p, err)) != M2J_OK)
            return rc;
        if (oship == 0)
            return m2j_fail(err, M2J_ERR_INVALID, "credit memo refunds shipping the order did not charge");
        rc = m2j_order_shipping_rate(&r->octx, &r->order_rates, &rate, err);
    } else {
        rc = m2j_derive_rate(&r->mctx, &r->magento_vat, amt, incl_present ? incl - amt : tax + sdtc, "shipping",
                             &rate, err);
        if (rc == M2J_OK && !m2j_vat_rate_accepted(r->cfg, r->octx.country, rate))
            rc = m2j_fail(err, M2J_ERR_INVALID, "VAT rate of shipping is not accepted");
    }
    if (rc != M2J_OK)
        return rc;
    const char *ledger;
    if (m2j_shipping_text(&r->octx, &r->tmp, &ledger) != M2J_OK)
        return oom(err);
    m2j_money before = m2j_money_round_cents(before_u);
    m2j_money after = m2j_money_round_cents(after_u);
    if (m2j_lines_add(&r->lines, m2j_buf_str(&r->tmp), 1, before, rate, ledger) != M2J_OK ||
        m2j_rate_sums_add(&r->discounts, rate, before - after) != M2J_OK ||
        m2j_rate_sums_add(&r->magento_vat, rate, tax) != M2J_OK)
        return oom(err);
    return M2J_OK;
}

static m2j_rc adjustments(run *r, m2j_err *err)
{
    m2j_money extras;
    m2j_rc rc;
    /* the discount text names the memo's own discount when it has one */
    m2j_order_ctx dctx = *str_of(r->memo, "discount_description") ? r->mctx : r->octx;
    if ((rc = m2j_discount_lines(&dctx, &r->discounts, &r->lines, err)) != M2J_OK)
        return rc;
    if (r->adj_pos &&
        m2j_lines_add(&r->lines, "Extra terugbetaling", 1, m2j_money_round_cents(r->adj_pos), 0,
                      r->octx.line_ledger) != M2J_OK)
        return oom(err);
    if (r->adj_neg &&
        m2j_lines_add(&r->lines, "Ingehouden kosten", 1, -m2j_money_round_cents(r->adj_neg), 0,
                      r->octx.line_ledger) != M2J_OK)
        return oom(err);
    return m2j_order_extras(&r->mctx, &r->lines, &extras, err);
}

/* ---- full or partial ---- */

static m2j_rc decide_full(run *r, bool *full, m2j_err *err)
{
    *full = false;
    json_object *o = r->order ? r->order : r->stub;
    char a[M2J_MONEY_STRLEN], b[M2J_MONEY_STRLEN];
    if (!o)
        return m2j_buf_puts(r->report, "no order to compare with: planned as a partial refund\n") == M2J_OK
                   ? M2J_OK : oom(err);
    m2j_money ogt = 0;
    bool present;
    m2j_rc rc = m2j_order_amount(&r->mctx, o, "grand_total", &ogt, &present, err);
    if (rc != M2J_OK)
        return rc;
    /* a stub from the order record holds the invoiced (EUR) total as is */
    if (!present && r->stub && r->mctx.base && m2j_json_money(o, "grand_total", &ogt, NULL) == M2J_OK)
        present = true;
    bool same_total = present && m2j_money_round_cents(ogt) == m2j_money_round_cents(r->grand_total);
    bool all_rows = true;
    for (size_t k = 0; r->order && k < r->n_sold; k++) {
        json_object *it = json_object_array_get_idx(m2j_json_get(r->order, "items"), r->sold[k]);
        m2j_money ordered = 0, canceled = 0;
        m2j_json_money0(it, "qty_ordered", &ordered, NULL);
        m2j_json_money0(it, "qty_canceled", &canceled, NULL);
        if (r->refunded[k] != ordered - canceled)
            all_rows = false;
    }
    *full = same_total && all_rows;
    if (m2j_buf_printf(r->report, "%s refund: memo %s, order %s%s\n", *full ? "full" : "partial",
                       m2j_money_format(r->grand_total, a), present ? m2j_money_format(ogt, b) : "(no total)",
                       !r->order ? " (totals only)" : all_rows ? "" : ", not every ordered row refunded") != M2J_OK)
        return oom(err);
    return M2J_OK;
}

/* ---- the credit invoice ---- */

static m2j_rc build_credit(run *r, const char *memo_id, const char *order_ref, const char *invoice_reference,
                           const char *reference, json_object **out, m2j_err *err)
{
    const m2j_config *cfg = r->cfg;
    json_object *inv = json_object_new_object(), *items = json_object_new_array();
    m2j_buf remarks = { 0 };
    m2j_rc rc;
    if (!inv || !items)
        goto nomem;
    /* field maps first (tradename, labels, ...: as on the original, rendered
     * against the order), then the fields a credit must have */
    json_object *entity = r->order ? r->order : r->memo;
    if ((rc = m2j_apply_field_map(cfg->orders.field_map, cfg->orders.n_field_map, M2J_FIELD_INVOICE, entity, inv,
                                  err)) != M2J_OK)
        goto fail;
    if (m2j_json_set_str(inv, "reference", reference) != M2J_OK)
        goto nomem;
    if (!cfg->orders.invoice_date || strcmp(cfg->orders.invoice_date, "today") != 0) {
        const char *created = str_of(r->memo, "created_at");
        char date[11];
        if (!*created) {
            rc = m2j_fail(err, M2J_ERR_INVALID, "credit memo has no created_at (orders.invoice_date is \"order\")");
            goto fail;
        }
        if ((rc = m2j_invoice_date(created, date, err)) != M2J_OK)
            goto fail;
        if (m2j_json_set_str(inv, "invoice_date", date) != M2J_OK)
            goto nomem;
    } else {
        json_object_object_del(inv, "invoice_date");
    }
    if (json_object_object_add(inv, "net_amounts", json_object_new_boolean(1)) != 0 ||
        m2j_json_set_str(inv, "payment_method", "already_paid") != M2J_OK)
        goto nomem;
    json_object_object_del(inv, "payment_term");
    if (cfg->orders.invoice_status && strcmp(cfg->orders.invoice_status, "sent") == 0 && cfg->orders.send_method &&
        m2j_json_set_str(inv, "send_method", cfg->orders.send_method) != M2J_OK)
        goto nomem;
    if (m2j_buf_printf(&remarks, "Creditnota voor factuur %s (creditmemo %s)",
                       invoice_reference && *invoice_reference ? invoice_reference : order_ref, memo_id) != M2J_OK ||
        m2j_json_set_str(inv, "remarks", m2j_buf_str(&remarks)) != M2J_OK)
        goto nomem;
    for (size_t i = 0; i < r->lines.n; i++) {
        m2j_line l = r->lines.v[i];
        l.amount = -l.amount;
        json_object *j = m2j_line_json(&l);
        if (!j || json_object_array_add(items, j) != 0) {
            json_object_put(j);
            goto nomem;
        }
    }
    if (json_object_object_add(inv, "line_items", items) != 0)
        goto nomem;
    items = NULL; /* inv owns it */
    *out = inv;
    m2j_buf_free(&remarks);
    return M2J_OK;
nomem:
    rc = oom(err);
fail:
    json_object_put(inv);
    json_object_put(items);
    m2j_buf_free(&remarks);
    return rc;
}

static char *dup_str(const char *s)
{
    return strdup(s ? s : "");
}

m2j_rc m2j_creditmemo_plan(const m2j_config *cfg, json_object *memo, json_object *order,
                           const char *invoice_reference, m2j_credit_plan *out, m2j_err *err)
{
    if (!memo || !json_object_is_type(memo, json_type_object))
        return m2j_fail(err, M2J_ERR_INVALID, "credit memo is not an object");
    if (!order)
        order = m2j_json_get(memo, "order");
    if (order && !json_object_is_type(order, json_type_object))
        order = NULL;

    const char *memo_key = *str_of(memo, "entity_id") ? str_of(memo, "entity_id") : str_of(memo, "increment_id");
    const char *memo_id = *str_of(memo, "increment_id") ? str_of(memo, "increment_id") : memo_key;
    const char *order_ref = str_of(memo, "order_increment_id");
    if (!*order_ref)
        order_ref = str_of(order, "increment_id");
    if (!*memo_key)
        return m2j_fail(err, M2J_ERR_INVALID, "credit memo has no entity_id or increment_id");
    if (!*order_ref)
        return m2j_fail(err, M2J_ERR_INVALID, "credit memo has no order_increment_id");

    m2j_credit_plan p = { 0 };
    run r = { 0 };
    r.cfg = cfg;
    r.memo = memo;
    r.report = &p.report;
    json_object *items = m2j_json_get(order, "items");
    if (items && json_object_is_type(items, json_type_array) && json_object_array_length(items) > 0)
        r.order = order;
    else
        r.stub = order;

    /* currency from the order (as its invoice), else the memo (a field-
     * filtered order event may leave the codes out), else a stub naming one;
     * country, group and ledger from the order only */
    json_object *src = r.order;
    if (!*str_of(order, "order_currency_code") && !*str_of(order, "base_currency_code"))
        src = memo;
    m2j_rc rc;
    if (src == memo && !*str_of(memo, "order_currency_code") && !*str_of(memo, "base_currency_code")) {
        /* amounts in a currency nobody names: never assume EUR */
        rc = m2j_fail(err, M2J_ERR_INVALID, "credit memo has no order_currency_code, nor has its order");
        goto out;
    }
    if (!src)
        src = order; /* a stub that names its currency */
    if ((rc = m2j_order_currency(src, &r.octx.base, err)) != M2J_OK)
        goto out;
    /* without the order: texts and applied taxes are the memo's own */
    m2j_order_ctx_place(cfg, r.order ? r.order : memo, &r.octx, r.country);
    r.mctx = r.octx;
    r.mctx.order = memo;
    if (r.order) {
        if ((rc = m2j_order_invoiced_items(&r.octx, &r.sold, &r.n_sold, err)) != M2J_OK)
            goto out;
        if (!(r.refunded = calloc(r.n_sold ? r.n_sold : 1, sizeof *r.refunded))) {
            rc = oom(err);
            goto out;
        }
        if ((rc = collect_order_rates(&r, err)) != M2J_OK)
            goto out;
    }
    char a[M2J_MONEY_STRLEN];
    if (m2j_buf_printf(&p.report, "credit memo %s for order %s; amounts in %s; VAT country %s\n", memo_id, order_ref,
                       r.mctx.base ? "base currency" : "EUR", *r.country ? r.country : "unknown") != M2J_OK) {
        rc = oom(err);
        goto out;
    }
    if ((rc = check_memo_totals(&r, err)) != M2J_OK || (rc = refund_rows(&r, err)) != M2J_OK ||
        (rc = refund_shipping(&r, err)) != M2J_OK || (rc = adjustments(&r, err)) != M2J_OK)
        goto out;

    /* checks 2 and 3 on the refund as an invoice: exact total, VAT per rate */
    m2j_invoice_plan tp = { 0 };
    m2j_err e = { 0 };
    rc = m2j_check_invoice_totals(&r.mctx, &r.lines, &r.magento_vat, r.grand_total, &tp, &e);
    if (rc != M2J_OK) {
        m2j_invoice_plan_clear(&tp);
        rc = m2j_fail(err, rc, "credit memo %s: %s", memo_id, e.msg);
        goto out;
    }
    p.vat = tp.vat;
    p.n_vat = tp.n_vat;
    tp.vat = NULL;
    for (size_t i = 0; i < p.n_vat; i++) {
        p.vat[i].incl = -p.vat[i].incl;
        p.vat[i].jortt_vat = -p.vat[i].jortt_vat;
        p.vat[i].magento_vat = -p.vat[i].magento_vat;
    }
    p.grand_total = r.grand_total;
    p.total_incl = -tp.total_incl;
    p.total_excl = -tp.total_excl;
    rc = m2j_buf_puts(&p.report, m2j_buf_str(&tp.report));
    m2j_invoice_plan_clear(&tp);
    if (rc != M2J_OK ||
        m2j_buf_printf(&p.report, "credit invoice total %s == -grand_total\n", m2j_money_format(p.total_incl, a)) !=
            M2J_OK) {
        rc = oom(err);
        goto out;
    }
    if ((rc = decide_full(&r, &p.full_refund, err)) != M2J_OK)
        goto out;

    m2j_buf ref = { 0 };
    if (m2j_buf_printf(&ref, "%s-CM%s", order_ref, memo_id) != M2J_OK) {
        rc = oom(err);
        goto out;
    }
    p.reference = m2j_buf_detach(&ref);
    if (!p.reference || !(p.memo_key = dup_str(memo_key)) || !(p.memo_id = dup_str(memo_id)) ||
        !(p.order_ref = dup_str(order_ref))) {
        rc = oom(err);
        goto out;
    }
    if ((rc = build_credit(&r, memo_id, order_ref, invoice_reference, p.reference, &p.invoice, err)) != M2J_OK)
        goto out;
    *out = p;
    memset(&p, 0, sizeof p);
out:
    m2j_credit_plan_clear(&p);
    run_free(&r);
    return rc;
}
