/* order_totals.c: the checks that stand between an order and Jortt.
 *
 *  1. Magento's own totals add up (else the order data is incomplete, e.g.
 *     a fee module we do not know, and any invoice would be wrong).
 *  2. The invoice, totalled the way Jortt totals it (order_mapping.h), is
 *     grand_total to the cent.
 *  3. Jortt's VAT per rate equals Magento's within a cent.
 * Each passed check leaves one line in the plan's report. */
#include "mapping/order_internal.h"

#include <stdlib.h>
#include <string.h>

#define TOLERANCE M2J_CENT /* 0.01 */

static m2j_money absm(m2j_money m)
{
    return m < 0 ? -m : m;
}

/* Names the order's non-zero amounts that look like charges of a module we
 * do not map (gift wrapping, payment fees, surcharges), for the dead
 * letter's reason: the merchant then knows what made the order not add up.
 * Top-level fields only, in the invoiced currency's spelling (base_*
 * twins are left out unless the order is invoiced from them). Best effort:
 * out of memory just leaves out. */
static void unmapped_charges(const m2j_order_ctx *ctx, m2j_buf *out)
{
    if (!json_object_is_type(ctx->order, json_type_object))
        return;
    int listed = 0;
    json_object_object_foreach(ctx->order, key, val) {
        bool base = strncmp(key, "base_", 5) == 0;
        const char *name = base ? key + 5 : key;
        if (base != ctx->base || listed >= 6)
            continue;
        if (strncmp(name, "gw_", 3) != 0 && !strstr(name, "fee") && !strstr(name, "surcharge"))
            continue;
        m2j_money m = 0;
        if (!(json_object_is_type(val, json_type_string) || json_object_is_type(val, json_type_double) ||
              json_object_is_type(val, json_type_int)) ||
            m2j_money_parse(json_object_get_string(val), &m, NULL) != M2J_OK || m == 0)
            continue;
        char v[M2J_MONEY_STRLEN];
        m2j_buf_printf(out, "%s%.40s %s", listed ? ", " : "", key, m2j_money_format(m, v));
        listed++;
    }
}

m2j_rc m2j_check_magento_totals(const m2j_order_ctx *ctx, m2j_money *grand_total, m2j_buf *report,
                                m2j_err *err)
{
    static const char *const parts[] = {
        "subtotal", "shipping_amount", "discount_amount", "tax_amount",
        "discount_tax_compensation_amount", "shipping_discount_tax_compensation_amount",
    };
    bool present;
    m2j_rc rc = m2j_order_amount(ctx, ctx->order, "grand_total", grand_total, &present, err);
    if (rc != M2J_OK)
        return rc;
    if (!present)
        return m2j_fail(err, M2J_ERR_INVALID, "order has no %sgrand_total", ctx->base ? "base_" : "");
    m2j_money sum = 0, v, extras;
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        if ((rc = m2j_order_amount(ctx, ctx->order, parts[i], &v, &present, err)) != M2J_OK)
            return rc;
        sum += v;
    }
    if ((rc = m2j_order_extras(ctx, NULL, &extras, err)) != M2J_OK)
        return rc;
    sum -= extras;
    char a[M2J_MONEY_STRLEN], b[M2J_MONEY_STRLEN], c[M2J_MONEY_STRLEN];
    m2j_money diff = *grand_total - sum;
    if (absm(diff) > TOLERANCE) {
        m2j_buf fees = {0};
        unmapped_charges(ctx, &fees);
        rc = m2j_fail(err, M2J_ERR_INVALID,
                      "order does not add up: grand_total %s, but subtotal + shipping + discount + tax "
                      "(+ tax compensations - payments) is %s: differs by %s%s%s%s",
                      m2j_money_format4(*grand_total, a), m2j_money_format4(sum, b), m2j_money_format4(diff, c),
                      fees.len ? " (charges on the order that m2jortt does not map: " : "", m2j_buf_str(&fees),
                      fees.len ? ")" : "");
        m2j_buf_free(&fees);
        return rc;
    }
    if (m2j_buf_printf(report, "order adds up: grand_total %s = subtotal + shipping + discount + tax%s\n",
                       m2j_money_format(*grand_total, a), extras ? " - payments" : "") != M2J_OK)
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    return M2J_OK;
}

static json_object *applied_taxes(json_object *order)
{
    json_object *ea = NULL, *v = NULL;
    if (json_object_object_get_ex(order, "extension_attributes", &ea) && json_object_is_type(ea, json_type_object) &&
        json_object_object_get_ex(ea, "applied_taxes", &v) && json_object_is_type(v, json_type_array) &&
        json_object_array_length(v) > 0)
        return v;
    if (json_object_object_get_ex(order, "applied_taxes", &v) && json_object_is_type(v, json_type_array) &&
        json_object_array_length(v) > 0)
        return v;
    return NULL;
}

/* Magento's VAT per rate: applied_taxes when the order carries them (the
 * per-rate breakdown Magento itself booked), else the rows' tax. */
static m2j_rc magento_vat(const m2j_order_ctx *ctx, const m2j_rate_sums *items_vat, m2j_rate_sums *out,
                          const char **source, m2j_err *err)
{
    json_object *at = applied_taxes(ctx->order);
    if (!at) {
        *source = "item and shipping tax";
        for (size_t i = 0; i < items_vat->n; i++)
            if (m2j_rate_sums_add(out, items_vat->v[i].rate, items_vat->v[i].amount) != M2J_OK)
                return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
        return M2J_OK;
    }
    *source = "applied_taxes";
    size_t n = json_object_array_length(at);
    for (size_t i = 0; i < n; i++) {
        json_object *t = json_object_array_get_idx(at, i), *pc = NULL;
        m2j_rate r;
        m2j_money amount;
        bool present;
        if (!t || !json_object_object_get_ex(t, "percent", &pc) ||
            m2j_rate_parse_percent(json_object_get_string(pc), &r, NULL) != M2J_OK)
            return m2j_fail(err, M2J_ERR_INVALID, "applied_taxes.%zu: percent is not a rate", i);
        m2j_rc rc = m2j_order_amount(ctx, t, "amount", &amount, &present, err);
        if (rc != M2J_OK)
            return rc;
        if (m2j_rate_sums_add(out, r, amount) != M2J_OK)
            return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    }
    return M2J_OK;
}

static m2j_money sum_for(const m2j_rate_sums *s, m2j_rate r)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i].rate == r)
            return s->v[i].amount;
    return 0;
}

static int cmp_vat_desc(const void *a, const void *b)
{
    const m2j_vat_line *x = a, *y = b;
    return x->rate < y->rate ? 1 : x->rate > y->rate ? -1 : 0;
}

m2j_rc m2j_check_invoice_totals(const m2j_order_ctx *ctx, const m2j_lines *lines,
                                const m2j_rate_sums *items_vat, m2j_money grand_total,
                                m2j_invoice_plan *plan, m2j_err *err)
{
    char a[M2J_MONEY_STRLEN], b[M2J_MONEY_STRLEN], c[M2J_MONEY_STRLEN], rs[M2J_RATE_STRLEN];
    m2j_rate_sums incl = { 0 }, mag = { 0 };
    m2j_rc rc = M2J_OK;
    m2j_money total = 0;
    for (size_t i = 0; i < lines->n; i++) {
        m2j_money t = lines->v[i].quantity * lines->v[i].amount;
        total += t;
        if (m2j_rate_sums_add(&incl, lines->v[i].rate, t) != M2J_OK) {
            rc = m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
            goto out;
        }
    }
    m2j_money want = m2j_money_round_cents(grand_total);
    if (total != want) {
        rc = m2j_fail(err, M2J_ERR_INVALID, "invoice total %s != grand_total %s (difference %s)",
                      m2j_money_format(total, a), m2j_money_format(want, b), m2j_money_format(total - want, c));
        goto out;
    }
    if (m2j_buf_printf(&plan->report, "invoice total %s == grand_total %s\n", m2j_money_format(total, a),
                       m2j_money_format(want, b)) != M2J_OK) {
        rc = m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
        goto out;
    }

    const char *source = "";
    if ((rc = magento_vat(ctx, items_vat, &mag, &source, err)) != M2J_OK)
        goto out;
    /* every rate on the invoice, plus any rate Magento booked VAT at */
    for (size_t i = 0; i < mag.n; i++)
        if (mag.v[i].amount != 0 && !m2j_rate_sums_has(&incl, mag.v[i].rate) &&
            m2j_rate_sums_add(&incl, mag.v[i].rate, 0) != M2J_OK) {
            rc = m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
            goto out;
        }
    plan->vat = calloc(incl.n ? incl.n : 1, sizeof *plan->vat);
    if (!plan->vat) {
        rc = m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
        goto out;
    }
    plan->n_vat = incl.n;
    m2j_money vat_total = 0;
    for (size_t i = 0; i < incl.n; i++) {
        m2j_vat_line *v = &plan->vat[i];
        v->rate = incl.v[i].rate;
        v->incl = incl.v[i].amount;
        v->jortt_vat = m2j_vat_from_incl(v->incl, v->rate);
        v->magento_vat = sum_for(&mag, v->rate);
        vat_total += v->jortt_vat;
    }
    qsort(plan->vat, plan->n_vat, sizeof *plan->vat, cmp_vat_desc);
    for (size_t i = 0; i < plan->n_vat; i++) {
        m2j_vat_line *v = &plan->vat[i];
        m2j_money diff = v->jortt_vat - v->magento_vat;
        if (absm(diff) > TOLERANCE) {
            rc = m2j_fail(err, M2J_ERR_INVALID, "VAT at %s: invoice %s, Magento %s (%s): difference %s",
                          m2j_rate_format_percent(v->rate, rs), m2j_money_format(v->jortt_vat, a),
                          m2j_money_format4(v->magento_vat, b), source, m2j_money_format4(diff, c));
            goto out;
        }
        if (m2j_buf_printf(&plan->report, "VAT at %s on %s: invoice %s, Magento %s\n",
                           m2j_rate_format_percent(v->rate, rs), m2j_money_format(v->incl, a),
                           m2j_money_format(v->jortt_vat, b), m2j_money_format4(v->magento_vat, c)) != M2J_OK) {
            rc = m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
            goto out;
        }
    }
    plan->grand_total = grand_total;
    plan->total_incl = total;
    plan->total_excl = total - vat_total;
out:
    m2j_rate_sums_free(&incl);
    m2j_rate_sums_free(&mag);
    return rc;
}
