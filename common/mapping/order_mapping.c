/* order_mapping.c: decide whether an order is invoiced, and build the plan
 * (customer + invoice bodies, proven totals). See order_mapping.h for the
 * pricing model and order_lines.c / order_totals.c for the arithmetic.
 *
 * Choices worth knowing:
 *  - orders.invoice_date "today" leaves invoice_date out, so Jortt uses its
 *    own today: pure code cannot read the clock, and preview must show the
 *    same body the worker sends.
 *  - orders.invoice_date "order" uses created_at, which Magento stores in
 *    UTC, converted to Dutch local time (CET/CEST) so an order placed at
 *    00:30 on 1 January in Amsterdam lands in the new VAT period.
 *  - Orders in a foreign currency are invoiced in EUR from the base_*
 *    amounts when the store's base currency is EUR; the paid amount in the
 *    order currency goes into the remarks. */
#include "mapping/order_internal.h"
#include "base/json_util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void m2j_invoice_plan_clear(m2j_invoice_plan *p)
{
    if (!p)
        return;
    free(p->reference);
    free(p->email);
    free(p->magento_customer_id);
    free(p->fixed_customer_id);
    json_object_put(p->customer);
    json_object_put(p->invoice);
    free(p->vat);
    m2j_buf_free(&p->report);
    memset(p, 0, sizeof *p);
}

static char *dup_trim(const char *s, bool lower)
{
    while (*s && isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        n--;
    char *d = strndup(s, n);
    for (size_t i = 0; d && lower && i < n; i++)
        d[i] = (char)tolower((unsigned char)d[i]);
    return d;
}

/* ---- invoice date ---- */

static int days_in_month(int y, int m)
{
    static const int d[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : d[m - 1];
}

/* Day of week, 0 = Sunday (Sakamoto). */
static int weekday(int y, int m, int d)
{
    static const int t[] = { 0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4 };
    if (m < 3)
        y -= 1;
    return (y + y / 4 - y / 100 + y / 400 + t[m - 1] + d) % 7;
}

static int last_sunday(int y, int m)
{
    int d = days_in_month(y, m);
    return d - weekday(y, m, d);
}

/* EU summer time: from the last Sunday of March 01:00 UTC to the last Sunday
 * of October 01:00 UTC, Amsterdam is UTC+2, otherwise UTC+1. */
static int amsterdam_offset_hours(int y, int mo, int d, int h)
{
    int mar = last_sunday(y, 3), oct = last_sunday(y, 10);
    long t = (long)mo * 10000 + d * 100 + h;
    long start = 3L * 10000 + mar * 100 + 1, end = 10L * 10000 + oct * 100 + 1;
    return t >= start && t < end ? 2 : 1;
}

m2j_rc m2j_invoice_date(const char *created_at, char out[11], m2j_err *err)
{
    int y, mo, d, h = 0, mi = 0, s = 0;
    char sep = ' ';
    int n = sscanf(created_at, "%4d-%2d-%2d%c%2d:%2d:%2d", &y, &mo, &d, &sep, &h, &mi, &s);
    if (n < 3 || y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) ||
        (n >= 4 && sep != ' ' && sep != 'T') || h < 0 || h > 23)
        return m2j_fail(err, M2J_ERR_INVALID, "created_at \"%.40s\" is not a date", created_at);
    if (n >= 5 && !strchr(created_at + 10, '+') && !strchr(created_at + 10, '-')) {
        h += amsterdam_offset_hours(y, mo, d, h);
        if (h >= 24 && ++d > days_in_month(y, mo)) {
            d = 1;
            if (++mo > 12) {
                mo = 1;
                y++;
            }
        }
    }
    snprintf(out, 11, "%04u-%02u-%02u", (unsigned)y % 10000u, (unsigned)mo % 100u, (unsigned)d % 100u);
    return M2J_OK;
}

/* ---- invoice body ---- */

json_object *m2j_line_json(const m2j_line *l)
{
    char amount[M2J_MONEY_STRLEN], rate[M2J_RATE_STRLEN], qty[32];
    snprintf(qty, sizeof qty, "%lld", (long long)l->quantity);
    json_object *o = json_object_new_object(), *a = json_object_new_object(), *v = json_object_new_object();
    if (!o || !a || !v)
        goto fail;
    if (m2j_json_add(a, "amount", json_object_new_string(m2j_money_format(l->amount, amount))) != M2J_OK ||
        m2j_json_add(a, "currency", json_object_new_string("EUR")) != M2J_OK ||
        m2j_json_add(v, "value", json_object_new_string(m2j_rate_format_fraction(l->rate, rate))) != M2J_OK ||
        json_object_object_add(v, "category", NULL) != 0)
        goto fail;
    if (m2j_json_add(o, "description", json_object_new_string(l->description)) != M2J_OK ||
        m2j_json_add(o, "quantity", json_object_new_string(qty)) != M2J_OK)
        goto fail;
    if (m2j_json_add(o, "amount", a) != M2J_OK) {
        a = NULL;
        goto fail;
    }
    a = NULL;
    if (m2j_json_add(o, "vat", v) != M2J_OK) {
        v = NULL;
        goto fail;
    }
    v = NULL;
    if (l->ledger && *l->ledger && m2j_json_add(o, "ledger_account_id", json_object_new_string(l->ledger)) != M2J_OK)
        goto fail;
    return o;
fail:
    json_object_put(o);
    json_object_put(a);
    json_object_put(v);
    return NULL;
}

static m2j_rc build_invoice(const m2j_order_ctx *ctx, const m2j_lines *lines, bool paid, json_object **out,
                            m2j_err *err)
{
    const m2j_config *cfg = ctx->cfg;
    json_object *order = ctx->order;
    json_object *inv = json_object_new_object();
    json_object *items = json_object_new_array();
    m2j_buf remarks = { 0 };
    m2j_rc rc = M2J_ERR_NOMEM;
    if (!inv || !items)
        goto oom;

    const char *ref = m2j_json_scalar(order, "increment_id");
    if (!*ref) {
        rc = m2j_fail(err, M2J_ERR_INVALID, "order has no increment_id");
        goto fail;
    }
    if (m2j_json_set_str(inv, "reference", ref) != M2J_OK)
        goto oom;
    if (!cfg->orders.invoice_date || strcmp(cfg->orders.invoice_date, "today") != 0) {
        const char *created = m2j_json_scalar(order, "created_at");
        char date[11];
        if (!*created) {
            rc = m2j_fail(err, M2J_ERR_INVALID, "order has no created_at (orders.invoice_date is \"order\")");
            goto fail;
        }
        if ((rc = m2j_invoice_date(created, date, err)) != M2J_OK)
            goto fail;
        if (m2j_json_set_str(inv, "invoice_date", date) != M2J_OK)
            goto oom;
    }
    if (m2j_json_add(inv, "net_amounts", json_object_new_boolean(1)) != M2J_OK)
        goto oom;

    json_object *payment = m2j_json_get_obj(order, "payment");
    const m2j_payment_mapping *pm = m2j_config_payment(cfg, m2j_json_scalar(payment, "method"));
    const m2j_group_mapping *g = ctx->group_id && *ctx->group_id ? m2j_config_group(cfg, ctx->group_id) : NULL;
    int term = pm && pm->payment_term >= 0 ? pm->payment_term : g && g->payment_term >= 0 ? g->payment_term : -1;
    const char *method = pm ? pm->payment_method : NULL;
    /* Paid in Magento: no payment request on the invoice. A direct debit
     * mapping stays, because that is how the merchant collects. */
    if (paid && !(method && strcmp(method, "direct_debit") == 0))
        method = "already_paid";
    if (method && m2j_json_set_str(inv, "payment_method", method) != M2J_OK)
        goto oom;
    if (term >= 0 && m2j_json_add(inv, "payment_term", json_object_new_int(term)) != M2J_OK)
        goto oom;
    if (cfg->orders.invoice_status && strcmp(cfg->orders.invoice_status, "sent") == 0 && cfg->orders.send_method &&
        m2j_json_set_str(inv, "send_method", cfg->orders.send_method) != M2J_OK)
        goto oom;

    if (pm && pm->label && *pm->label && m2j_buf_printf(&remarks, "Betaalmethode: %s", pm->label) != M2J_OK)
        goto oom;
    if (ctx->base) {
        /* what the buyer actually paid, for the reader of the invoice */
        m2j_money gt = 0;
        char a[M2J_MONEY_STRLEN];
        if (m2j_json_money0(order, "grand_total", &gt, NULL) == M2J_OK &&
            m2j_buf_printf(&remarks, "%sOrder currency: %s %s", remarks.len ? "\n" : "",
                           m2j_json_scalar(order, "order_currency_code"), m2j_money_format(gt, a)) != M2J_OK)
            goto oom;
    }
    if (remarks.len && m2j_json_set_str(inv, "remarks", m2j_buf_str(&remarks)) != M2J_OK)
        goto oom;

    for (size_t i = 0; i < lines->n; i++) {
        json_object *l = m2j_line_json(&lines->v[i]);
        if (!l || json_object_array_add(items, l) != 0) {
            json_object_put(l);
            goto oom;
        }
    }
    if (json_object_object_add(inv, "line_items", items) != 0)
        goto oom;
    items = NULL;

    if ((rc = m2j_apply_field_map(cfg->orders.field_map, cfg->orders.n_field_map, M2J_FIELD_INVOICE, order, inv,
                                  err)) != M2J_OK)
        goto fail;
    *out = inv;
    m2j_buf_free(&remarks);
    return M2J_OK;
oom:
    rc = m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
fail:
    json_object_put(inv);
    json_object_put(items);
    m2j_buf_free(&remarks);
    return rc;
}

m2j_rc m2j_order_reference(const m2j_config *cfg, json_object *order, char **out, m2j_err *err)
{
    *out = NULL;
    const char *inc = m2j_json_scalar(order, "increment_id");
    if (!*inc)
        return m2j_fail(err, M2J_ERR_INVALID, "order has no increment_id");
    json_object *body = json_object_new_object();
    if (!body || m2j_json_set_str(body, "reference", inc) != M2J_OK) {
        json_object_put(body);
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    }
    /* only the reference entry: the other fields have rules of their own
     * that are no concern of finding the record */
    m2j_rc rc = M2J_OK;
    for (size_t i = 0; i < cfg->orders.n_field_map && rc == M2J_OK; i++)
        if (strcmp(cfg->orders.field_map[i].key, "reference") == 0)
            rc = m2j_apply_field_map(&cfg->orders.field_map[i], 1, M2J_FIELD_INVOICE, order, body, err);
    if (rc == M2J_OK) {
        json_object *ref = NULL;
        json_object_object_get_ex(body, "reference", &ref);
        if (!(*out = dup_trim(ref ? json_object_get_string(ref) : "", false)))
            rc = m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    }
    json_object_put(body);
    return rc;
}

/* ---- the decision ---- */

static bool status_wanted(const m2j_config *cfg, const char *status)
{
    for (size_t i = 0; i < cfg->orders.n_statuses; i++)
        if (strcmp(cfg->orders.statuses[i], status) == 0)
            return true;
    return false;
}

m2j_rc m2j_order_currency(json_object *order, bool *base, m2j_err *err)
{
    const char *oc = m2j_json_scalar(order, "order_currency_code");
    const char *bc = m2j_json_scalar(order, "base_currency_code");
    if (!*oc)
        oc = bc; /* field-filtered events may leave the twin out */
    if (!*oc)
        return m2j_fail(err, M2J_ERR_INVALID, "order has no order_currency_code");
    if (strcmp(oc, "EUR") == 0) {
        *base = false;
        return M2J_OK;
    }
    if (strcmp(bc, "EUR") == 0) {
        *base = true;
        return M2J_OK;
    }
    return m2j_fail(err, M2J_ERR_UNSUPPORTED, "currency not supported: %.8s", oc);
}

void m2j_order_ctx_place(const m2j_config *cfg, json_object *order, m2j_order_ctx *ctx, char country[3])
{
    json_object *billing = m2j_json_get_obj(order, "billing_address");
    json_object *shipping = m2j_json_get_obj(order, "shipping_address");
    bool from_shipping = cfg->orders.country_from && strcmp(cfg->orders.country_from, "shipping") == 0;
    json_object *first = from_shipping ? shipping : billing, *second = from_shipping ? billing : shipping;
    country[0] = '\0';
    const char *c = *m2j_json_scalar(first, "country_id") ? m2j_json_scalar(first, "country_id") : m2j_json_scalar(second, "country_id");
    if (strlen(c) == 2) {
        country[0] = (char)toupper((unsigned char)c[0]);
        country[1] = (char)toupper((unsigned char)c[1]);
        country[2] = '\0';
    }
    ctx->cfg = cfg;
    ctx->order = order;
    ctx->country = country;
    ctx->group_id = m2j_json_scalar(order, "customer_group_id");
    const m2j_group_mapping *g = *ctx->group_id ? m2j_config_group(cfg, ctx->group_id) : NULL;
    ctx->line_ledger = g && g->ledger_account_id ? g->ledger_account_id : m2j_config_revenue_account(cfg, country);
}

m2j_rc m2j_order_ctx_init(const m2j_config *cfg, json_object *order, m2j_order_ctx *ctx, char country[3],
                          m2j_err *err)
{
    *ctx = (m2j_order_ctx){ cfg, order, false, "", NULL, NULL };
    m2j_rc rc = m2j_order_currency(order, &ctx->base, err);
    if (rc != M2J_OK)
        return rc;
    m2j_order_ctx_place(cfg, order, ctx, country);
    return M2J_OK;
}

/* Magento's own word that the buyer paid: total_paid (what its invoices
 * captured) or the payment's amount_paid reaching grand_total, each
 * compared in its own currency, so the rule holds whichever currency the
 * invoice is in. An authorisation alone (amount_authorized) is not payment.
 * A zero total proves nothing and keeps the configured method. */
static bool order_paid(json_object *order, const char **paid_field, m2j_money *paid_out, m2j_money *total_out)
{
    static const struct {
        const char *paid, *total;
    } pairs[] = {
        { "total_paid", "grand_total" },
        { "base_total_paid", "base_grand_total" },
        { "payment.amount_paid", "grand_total" },
        { "payment.base_amount_paid", "base_grand_total" },
    };
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        m2j_money paid = 0, total = 0;
        if (m2j_json_money(order, pairs[i].paid, &paid, NULL) != M2J_OK ||
            m2j_json_money(order, pairs[i].total, &total, NULL) != M2J_OK)
            continue;
        total = m2j_money_round_cents(total);
        if (total > 0 && m2j_money_round_cents(paid) >= total) {
            *paid_field = pairs[i].paid;
            *paid_out = paid;
            *total_out = total;
            return true;
        }
    }
    return false;
}

m2j_rc m2j_order_plan(const m2j_config *cfg, json_object *order, m2j_order_action *action,
                      m2j_buf *skip_reason, m2j_invoice_plan *plan, m2j_err *err)
{
    if (!order || !json_object_is_type(order, json_type_object))
        return m2j_fail(err, M2J_ERR_INVALID, "order is not an object");
    const char *status = m2j_json_scalar(order, "status");
    if (!status_wanted(cfg, status)) {
        *action = M2J_ORDER_SKIP;
        if (skip_reason && m2j_buf_printf(skip_reason, "status %s not in orders.statuses",
                                          *status ? status : "(none)") != M2J_OK)
            return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
        return M2J_OK;
    }

    m2j_order_ctx ctx;
    char country[3];
    m2j_rc rc = m2j_order_ctx_init(cfg, order, &ctx, country, err);
    if (rc != M2J_OK)
        return rc;
    json_object *billing = m2j_json_get_obj(order, "billing_address");

    m2j_invoice_plan p = { 0 };
    m2j_lines lines = { 0 };
    m2j_rate_sums items_vat = { 0 };
    m2j_money grand_total = 0;
    if (m2j_buf_printf(&p.report, "status %s is invoiced; amounts in %s (%s); VAT country %s\n", status,
                       ctx.base ? m2j_json_scalar(order, "base_currency_code") : "EUR",
                       ctx.base ? "base currency" : "order currency", *country ? country : "unknown") != M2J_OK) {
        rc = m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
        goto out;
    }
    if ((rc = m2j_check_magento_totals(&ctx, &grand_total, &p.report, err)) != M2J_OK ||
        (rc = m2j_order_lines(&ctx, &lines, &items_vat, err)) != M2J_OK ||
        (rc = m2j_check_invoice_totals(&ctx, &lines, &items_vat, grand_total, &p, err)) != M2J_OK)
        goto out;
    const char *paid_field = NULL;
    m2j_money paid = 0, paid_total = 0;
    bool is_paid = order_paid(order, &paid_field, &paid, &paid_total);
    char pa[M2J_MONEY_STRLEN], pb[M2J_MONEY_STRLEN];
    if (is_paid && m2j_buf_printf(&p.report, "order is paid: %s %s >= %s\n", paid_field, m2j_money_format(paid, pa),
                                  m2j_money_format(paid_total, pb)) != M2J_OK) {
        rc = m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
        goto out;
    }
    if ((rc = build_invoice(&ctx, &lines, is_paid, &p.invoice, err)) != M2J_OK)
        goto out;

    bool guest = m2j_order_is_guest(order);
    const char *fixed = cfg->orders.default_customer_id;
    if (fixed && *fixed && (!cfg->orders.default_customer_for_guests || guest)) {
        if (!(p.fixed_customer_id = strdup(fixed))) {
            rc = m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
            goto out;
        }
    } else if ((rc = m2j_customer_from_order(cfg, order, &p.customer, err)) != M2J_OK) {
        goto out;
    }
    const char *email = m2j_json_scalar(order, "customer_email");
    if (!*email)
        email = m2j_json_scalar(billing, "email");
    json_object *ref = NULL;
    json_object_object_get_ex(p.invoice, "reference", &ref);
    /* the worker finds an earlier attempt's invoice by this reference, so it
     * must be what is actually sent, field_map included */
    if (!(p.reference = dup_trim(ref ? json_object_get_string(ref) : "", false)) ||
        (*email && !(p.email = dup_trim(email, true))) ||
        (!guest && !(p.magento_customer_id = dup_trim(m2j_json_scalar(order, "customer_id"), false)))) {
        rc = m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
        goto out;
    }
    if (p.email && !*p.email) {
        free(p.email);
        p.email = NULL;
    }
    *action = M2J_ORDER_INVOICE;
    *plan = p;
    memset(&p, 0, sizeof p);
out:
    m2j_invoice_plan_clear(&p);
    m2j_lines_free(&lines);
    m2j_rate_sums_free(&items_vat);
    return rc;
}
