/* order_lines.c: the invoice lines of an order.
 *
 * Every line is priced INCLUDING VAT (order_mapping.h). Per sold row:
 *   before = row_total_incl_tax           (Magento: row_total + tax before
 *            discount; fallback row_total + tax_amount + discount tax
 *            compensation when the field is absent)
 *   after  = row_total + tax_amount + discount_tax_compensation_amount
 *            - discount_amount            (what the buyer paid for the row)
 * The row becomes product line(s) worth `before`, and `before - after` goes to
 * the discount line of the row's VAT rate. Both are rounded to cents first,
 * so the lines add up to exactly the sum of `after`, which is how Magento
 * builds grand_total; shipping is handled the same way. Whichever way a store
 * is set up (prices incl. or excl. tax, tax before or after discount) the sum
 * is therefore exact; only the split between product and discount lines
 * depends on it. */
#include "mapping/order_internal.h"
#include "base/json_util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ITEMS       1000  /* rows per order we accept; far above real orders */
#define MAX_RATES       32

/* ---- small containers ---- */

void m2j_lines_free(m2j_lines *ls)
{
    for (size_t i = 0; i < ls->n; i++)
        free(ls->v[i].description);
    free(ls->v);
    memset(ls, 0, sizeof *ls);
}

m2j_rc m2j_lines_add(m2j_lines *ls, const char *description, int64_t quantity, m2j_money amount,
                     m2j_rate rate, const char *ledger)
{
    if (ls->n == ls->cap) {
        size_t cap = ls->cap ? ls->cap * 2 : 8;
        m2j_line *v = realloc(ls->v, cap * sizeof *v);
        if (!v)
            return M2J_ERR_NOMEM;
        ls->v = v;
        ls->cap = cap;
    }
    char *d = strdup(description);
    if (!d)
        return M2J_ERR_NOMEM;
    ls->v[ls->n++] = (m2j_line){ d, quantity, amount, rate, ledger };
    return M2J_OK;
}

void m2j_rate_sums_free(m2j_rate_sums *s)
{
    free(s->v);
    memset(s, 0, sizeof *s);
}

m2j_rc m2j_rate_sums_add(m2j_rate_sums *s, m2j_rate rate, m2j_money amount)
{
    for (size_t i = 0; i < s->n; i++) {
        if (s->v[i].rate == rate) {
            s->v[i].amount += amount;
            return M2J_OK;
        }
    }
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 4;
        m2j_rate_sum *v = realloc(s->v, cap * sizeof *v);
        if (!v)
            return M2J_ERR_NOMEM;
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = (m2j_rate_sum){ rate, amount };
    return M2J_OK;
}

bool m2j_rate_sums_has(const m2j_rate_sums *s, m2j_rate rate)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i].rate == rate)
            return true;
    return false;
}

/* ---- amounts ---- */

static bool blank_str(const char *s)
{
    for (; s && *s; s++)
        if (!isspace((unsigned char)*s))
            return false;
    return true;
}

static m2j_rc parse_value(json_object *v, const char *key, m2j_money *out, bool *present, m2j_err *err)
{
    *out = 0;
    *present = false;
    if (!v || json_object_is_type(v, json_type_null))
        return M2J_OK;
    if (json_object_is_type(v, json_type_object) || json_object_is_type(v, json_type_array) ||
        json_object_is_type(v, json_type_boolean))
        return m2j_fail(err, M2J_ERR_INVALID, "%s is not an amount", key);
    const char *text = json_object_get_string(v);
    if (blank_str(text))
        return M2J_OK;
    m2j_err e = { 0 };
    if (m2j_money_parse(text, out, &e) != M2J_OK)
        return m2j_fail(err, M2J_ERR_INVALID, "%s: %s", key, e.msg);
    *present = true;
    return M2J_OK;
}

m2j_rc m2j_order_amount(const m2j_order_ctx *ctx, json_object *obj, const char *name,
                        m2j_money *out, bool *present, m2j_err *err)
{
    char key[96];
    bool dummy;
    if (!present)
        present = &dummy;
    if (!ctx->base)
        return parse_value(m2j_json_get(obj, name), name, out, present, err);
    snprintf(key, sizeof key, "base_%s", name);
    json_object *v = m2j_json_get(obj, key);
    /* Magento's column name is truncated for this one */
    if (!v && strcmp(name, "shipping_discount_tax_compensation_amount") == 0) {
        snprintf(key, sizeof key, "base_shipping_discount_tax_compensation_amnt");
        v = m2j_json_get(obj, key);
    }
    return parse_value(v, key, out, present, err);
}

/* ---- items ---- */

typedef struct {
    json_object *obj;
    const char  *id;      /* "" when absent */
    const char  *parent;  /* "" for top-level rows */
} item_ref;

typedef struct {
    const m2j_order_ctx *ctx;
    m2j_lines     *lines;
    m2j_rate_sums *magento_vat;   /* Magento tax per rate (items + shipping) */
    m2j_rate_sums  discounts;     /* before - after per rate, to become discount lines */
    m2j_buf        tmp;
} builder;

/* Appends s with surrounding space removed and inner newlines as spaces. */
static m2j_rc put_clean(m2j_buf *b, const char *s)
{
    while (*s && isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        n--;
    for (size_t i = 0; i < n; i++) {
        char c = (s[i] == '\n' || s[i] == '\r' || s[i] == '\t') ? ' ' : s[i];
        if (m2j_buf_append(b, &c, 1) != M2J_OK)
            return M2J_ERR_NOMEM;
    }
    return M2J_OK;
}

static bool row_carries_amount(const m2j_order_ctx *ctx, json_object *item)
{
    m2j_money a = 0, b = 0;
    bool p;
    m2j_order_amount(ctx, item, "row_total", &a, &p, NULL);
    m2j_order_amount(ctx, item, "row_total_incl_tax", &b, &p, NULL);
    return a != 0 || b != 0;
}

static bool row_taxed(const m2j_order_ctx *ctx, json_object *item)
{
    m2j_money t = 0;
    bool p;
    m2j_order_amount(ctx, item, "tax_amount", &t, &p, NULL);
    return t != 0;
}

/* The rate of a sold row: its tax_percent, validated for the country. */
m2j_rc m2j_item_rate(const m2j_order_ctx *ctx, json_object *item, const char *label, m2j_money tax,
                     m2j_money dtc, m2j_rate *rate, m2j_err *err)
{
    json_object *tp = m2j_json_get(item, "tax_percent");
    const char *text = tp && !json_object_is_type(tp, json_type_null) ? json_object_get_string(tp) : NULL;
    char rs[M2J_RATE_STRLEN];
    if (text && !blank_str(text)) {
        m2j_err e = { 0 };
        if (m2j_rate_parse_percent(text, rate, &e) != M2J_OK)
            return m2j_fail(err, M2J_ERR_INVALID, "%s: tax_percent: %s", label, e.msg);
    } else if (tax == 0 && dtc == 0) {
        *rate = 0; /* nothing was taxed: no rate to carry */
    } else if (!m2j_config_vat(ctx->cfg, ctx->country, rate)) {
        return m2j_fail(err, M2J_ERR_INVALID,
                        "%s has tax but no tax_percent, and orders.vat_by_country has no rate for \"%s\"",
                        label, ctx->country);
    }
    if (!m2j_vat_rate_accepted(ctx->cfg, ctx->country, *rate))
        return m2j_fail(err, M2J_ERR_INVALID, "VAT rate %s is not accepted for %s",
                        m2j_rate_format_percent(*rate, rs), *ctx->country ? ctx->country : "an unknown country");
    return M2J_OK;
}

/* Adds `before` as product line(s): whole quantities whose unit price does
 * not divide the row to the cent become (q-1) x floor + 1 x remainder, so
 * quantity x amount still adds up to the row exactly. */
m2j_rc m2j_lines_add_row(m2j_lines *lines, const char *desc, m2j_money qty, bool decimal, m2j_money before,
                        m2j_rate rate, const char *ledger, m2j_err *err)
{
    if (decimal)
        return m2j_lines_add(lines, desc, 1, before, rate, ledger) == M2J_OK
                   ? M2J_OK : m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    int64_t q = qty / M2J_MONEY_SCALE;
    int64_t cents = before / M2J_CENT;
    m2j_rc rc;
    if (q == 1 || cents % q == 0) {
        rc = m2j_lines_add(lines, desc, q, (cents / q) * M2J_CENT, rate, ledger);
    } else {
        int64_t unit = cents / q; /* cents >= 0, so this is the floor */
        rc = m2j_lines_add(lines, desc, q - 1, unit * M2J_CENT, rate, ledger);
        if (rc == M2J_OK)
            rc = m2j_lines_add(lines, desc, 1, (cents - (q - 1) * unit) * M2J_CENT, rate, ledger);
    }
    return rc == M2J_OK ? M2J_OK : m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
}

/* "1.5", "0.125": a quantity as people write it (no trailing zeros). */
static char *format_qty(m2j_money qty, char *out)
{
    int n = snprintf(out, M2J_MONEY_STRLEN, "%lld.%04lld", (long long)(qty / M2J_MONEY_SCALE),
                     (long long)(qty % M2J_MONEY_SCALE));
    while (n > 0 && out[n - 1] == '0')
        out[--n] = '\0';
    if (n > 0 && out[n - 1] == '.')
        out[--n] = '\0';
    return out;
}

m2j_rc m2j_item_description(m2j_buf *d, json_object *item, m2j_money qty, bool decimal)
{
    m2j_buf_reset(d);
    char qs[M2J_MONEY_STRLEN];
    if (decimal && (m2j_buf_puts(d, format_qty(qty, qs)) != M2J_OK || m2j_buf_puts(d, " x ") != M2J_OK))
        return M2J_ERR_NOMEM;
    const char *name = m2j_json_scalar(item, "name");
    const char *sku = m2j_json_scalar(item, "sku");
    if (blank_str(name))
        name = blank_str(sku) ? "Artikel" : sku;
    if (put_clean(d, name) != M2J_OK)
        return M2J_ERR_NOMEM;
    if (!blank_str(sku) && strcmp(name, sku) != 0 &&
        (m2j_buf_puts(d, " (") != M2J_OK || put_clean(d, sku) != M2J_OK || m2j_buf_puts(d, ")") != M2J_OK))
        return M2J_ERR_NOMEM;
    return M2J_OK;
}

static m2j_rc emit_item(builder *bd, json_object *item, size_t index, m2j_err *err)
{
    const m2j_order_ctx *ctx = bd->ctx;
    char label[64];
    snprintf(label, sizeof label, "items.%zu", index);
    m2j_money qty = 0, row = 0, incl = 0, tax = 0, dtc = 0, disc = 0;
    bool qty_present, incl_present, p;
    m2j_rc rc;
    m2j_err e = { 0 };
    if ((rc = parse_value(m2j_json_get(item, "qty_ordered"), "qty_ordered", &qty, &qty_present, &e)) != M2J_OK ||
        (rc = m2j_order_amount(ctx, item, "row_total", &row, &p, &e)) != M2J_OK ||
        (rc = m2j_order_amount(ctx, item, "row_total_incl_tax", &incl, &incl_present, &e)) != M2J_OK ||
        (rc = m2j_order_amount(ctx, item, "tax_amount", &tax, &p, &e)) != M2J_OK ||
        (rc = m2j_order_amount(ctx, item, "discount_tax_compensation_amount", &dtc, &p, &e)) != M2J_OK ||
        (rc = m2j_order_amount(ctx, item, "discount_amount", &disc, &p, &e)) != M2J_OK)
        return m2j_fail(err, rc, "%s: %s", label, e.msg);
    /* positive at item level in Magento, negative at order level; senders
     * that copy the order's sign still mean a reduction */
    if (disc < 0)
        disc = -disc;

    m2j_money before_u = incl_present ? incl : row + tax + dtc;
    m2j_money after_u = row + tax + dtc - disc;
    if (qty <= 0) {
        if (before_u == 0 && after_u == 0 && tax == 0)
            return M2J_OK; /* nothing sold, nothing charged */
        return m2j_fail(err, M2J_ERR_INVALID, "%s: qty_ordered must be positive", label);
    }
    if (before_u < 0)
        return m2j_fail(err, M2J_ERR_INVALID, "%s: negative row total", label);

    m2j_rate rate;
    if ((rc = m2j_item_rate(ctx, item, label, tax, dtc, &rate, err)) != M2J_OK)
        return rc;

    bool decimal = false;
    if (m2j_json_bool(item, "is_qty_decimal", &decimal) != M2J_OK)
        decimal = false;
    if (qty % M2J_MONEY_SCALE != 0)
        decimal = true;

    m2j_buf *d = &bd->tmp;
    if (m2j_item_description(d, item, qty, decimal) != M2J_OK)
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");

    m2j_money before = m2j_money_round_cents(before_u);
    m2j_money after = m2j_money_round_cents(after_u);
    if ((rc = m2j_lines_add_row(bd->lines, m2j_buf_str(d), qty, decimal, before, rate, ctx->line_ledger, err)) !=
        M2J_OK)
        return rc;
    if (m2j_rate_sums_add(&bd->discounts, rate, before - after) != M2J_OK ||
        m2j_rate_sums_add(bd->magento_vat, rate, tax) != M2J_OK)
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    return M2J_OK;
}

/* Magento nests order items one level deep (a configurable or bundle and
 * its children), each item_id once. Anything else would make one row
 * count twice (and overrun a selection sized one slot per item), or leave
 * rows out unseen: refuse it here, with the row that breaks the shape, so
 * the event is dead-lettered with a reason. A child whose parent is not in
 * the order is sold on its own (its parent field is cleared). Ids are not
 * quoted in reasons: they are outside text. */
static m2j_rc check_item_tree(item_ref *refs, size_t n, m2j_err *err)
{
    for (size_t i = 0; i < n; i++) {
        if (!*refs[i].id)
            continue;
        for (size_t j = 0; j < i; j++)
            if (strcmp(refs[j].id, refs[i].id) == 0)
                return m2j_fail(err, M2J_ERR_INVALID, "items.%zu: item_id repeats that of items.%zu", i, j);
        if (strcmp(refs[i].parent, refs[i].id) == 0)
            return m2j_fail(err, M2J_ERR_INVALID, "items.%zu: item is its own parent", i);
    }
    /* parents are resolved on the original fields before any is cleared,
     * so a cycle cannot hide behind an order of evaluation */
    size_t *parent_of = malloc(n * sizeof *parent_of);
    if (!parent_of)
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        parent_of[i] = SIZE_MAX;
        for (size_t j = 0; *refs[i].parent && j < n && parent_of[i] == SIZE_MAX; j++)
            if (*refs[j].id && strcmp(refs[j].id, refs[i].parent) == 0)
                parent_of[i] = j;
    }
    for (size_t i = 0; i < n; i++) {
        size_t p = parent_of[i];
        if (p != SIZE_MAX && parent_of[p] != SIZE_MAX) {
            free(parent_of);
            return m2j_fail(err, M2J_ERR_INVALID, "items.%zu: a child of a child (of items.%zu); items nest one level",
                          i, p);
        }
    }
    for (size_t i = 0; i < n; i++)
        if (parent_of[i] == SIZE_MAX)
            refs[i].parent = "";
    free(parent_of);
    return M2J_OK;
}

/* Rows to invoice: a configurable's parent (its child only names the
 * variant, price 0); a bundle's children when they carry the row totals and
 * Magento taxed them (dynamic price: tax and discount per child, the parent
 * without a tax_percent), else its parent (fixed price); never both. A
 * parent without amounts always yields to children that have them. */
m2j_rc m2j_order_invoiced_items(const m2j_order_ctx *ctx, size_t **out, size_t *n_out, m2j_err *err)
{
    *out = NULL;
    *n_out = 0;
    json_object *items = m2j_json_get(ctx->order, "items");
    if (!items || !json_object_is_type(items, json_type_array) || json_object_array_length(items) == 0)
        return m2j_fail(err, M2J_ERR_INVALID, "order has no items");
    size_t n = json_object_array_length(items);
    if (n > MAX_ITEMS)
        return m2j_fail(err, M2J_ERR_TOO_LARGE, "order has %zu items (at most %d)", n, MAX_ITEMS);
    item_ref *refs = calloc(n, sizeof *refs);
    size_t *sel = calloc(n, sizeof *sel), n_sel = 0;
    if (!refs || !sel) {
        free(refs);
        free(sel);
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        refs[i].obj = json_object_array_get_idx(items, i);
        if (!refs[i].obj || !json_object_is_type(refs[i].obj, json_type_object)) {
            free(refs);
            free(sel);
            return m2j_fail(err, M2J_ERR_INVALID, "items.%zu is not an object", i);
        }
        refs[i].id = m2j_json_scalar(refs[i].obj, "item_id");
        refs[i].parent = m2j_json_scalar(refs[i].obj, "parent_item_id");
    }
    m2j_rc rc = check_item_tree(refs, n, err);
    if (rc != M2J_OK) {
        free(refs);
        free(sel);
        return rc;
    }
    for (size_t i = 0; i < n; i++) {
        if (*refs[i].parent)
            continue;
        bool has_children = false, children_carry = false, children_taxed = false;
        for (size_t j = 0; j < n; j++) {
            if (*refs[i].id && strcmp(refs[j].parent, refs[i].id) == 0) {
                has_children = true;
                children_carry = children_carry || row_carries_amount(ctx, refs[j].obj);
                children_taxed = children_taxed || row_taxed(ctx, refs[j].obj);
            }
        }
        /* Magento leaves tax_percent empty on a dynamic bundle's parent
         * (its children are taxed); a fixed bundle's parent has its own */
        bool is_bundle = strcmp(m2j_json_scalar(refs[i].obj, "product_type"), "bundle") == 0;
        bool parent_rate = !blank_str(m2j_json_scalar(refs[i].obj, "tax_percent"));
        bool use_children = has_children && children_carry &&
                            (!row_carries_amount(ctx, refs[i].obj) ||
                             (is_bundle && (!parent_rate || children_taxed)));
        if (!use_children) {
            sel[n_sel++] = i;
            continue;
        }
        for (size_t j = 0; j < n; j++)
            if (strcmp(refs[j].parent, refs[i].id) == 0)
                sel[n_sel++] = j;
    }
    free(refs);
    *out = sel;
    *n_out = n_sel;
    return M2J_OK;
}

static m2j_rc emit_items(builder *bd, m2j_err *err)
{
    size_t *sel = NULL, n = 0;
    m2j_rc rc = m2j_order_invoiced_items(bd->ctx, &sel, &n, err);
    json_object *items = m2j_json_get(bd->ctx->order, "items");
    for (size_t k = 0; k < n && rc == M2J_OK; k++)
        rc = emit_item(bd, json_object_array_get_idx(items, sel[k]), sel[k], err);
    free(sel);
    return rc;
}

/* ---- shipping ---- */

static json_object *ext(json_object *order, const char *key)
{
    json_object *v = m2j_json_get(m2j_json_get(order, "extension_attributes"), key);
    return v ? v : m2j_json_get(order, key);
}

/* Sum of the percents of a list of applied taxes (compound taxes add up). */
static m2j_rc applied_percent(json_object *list, m2j_rate *out)
{
    m2j_rate sum = 0;
    size_t n = json_object_array_length(list);
    for (size_t i = 0; i < n; i++) {
        json_object *t = json_object_array_get_idx(list, i);
        json_object *pc = m2j_json_get(t, "percent");
        m2j_rate r;
        if (!pc || m2j_rate_parse_percent(json_object_get_string(pc), &r, NULL) != M2J_OK)
            return M2J_ERR_INVALID;
        sum += r;
    }
    *out = sum;
    return n ? M2J_OK : M2J_ERR_NOTFOUND;
}

static m2j_rc shipping_rate_from_taxes(json_object *order, m2j_rate *out)
{
    json_object *iat = ext(order, "item_applied_taxes");
    if (!iat || !json_object_is_type(iat, json_type_array))
        return M2J_ERR_NOTFOUND;
    size_t n = json_object_array_length(iat);
    for (size_t i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(iat, i);
        json_object *list = m2j_json_get(e, "applied_taxes");
        if (strcmp(m2j_json_scalar(e, "type"), "shipping") == 0 && list && json_object_is_type(list, json_type_array))
            return applied_percent(list, out);
    }
    return M2J_ERR_NOTFOUND;
}

static size_t add_candidate(m2j_rate *c, size_t n, m2j_rate r)
{
    if (n >= MAX_RATES)
        return n;
    for (size_t i = 0; i < n; i++)
        if (c[i] == r)
            return n;
    c[n] = r;
    return n + 1;
}

/* The shipping rate when Magento did not record it: the accepted rate whose
 * VAT on shipping_amount reproduces the shipping tax (before discount) within
 * a cent, preferring rates the order itself uses. Never a guess: no match is
 * an error. */
m2j_rc m2j_derive_rate(const m2j_order_ctx *ctx, const m2j_rate_sums *used, m2j_money base, m2j_money tax,
                       const char *what, m2j_rate *out, m2j_err *err)
{
    if (tax == 0) {
        *out = 0;
        return M2J_OK;
    }
    m2j_rate c[MAX_RATES];
    size_t n = 0;
    json_object *at = ext(ctx->order, "applied_taxes");
    for (size_t i = 0; at && json_object_is_type(at, json_type_array) && i < json_object_array_length(at); i++) {
        m2j_rate r;
        json_object *pc = m2j_json_get(json_object_array_get_idx(at, i), "percent");
        if (pc && m2j_rate_parse_percent(json_object_get_string(pc), &r, NULL) == M2J_OK)
            n = add_candidate(c, n, r);
    }
    for (size_t i = 0; used && i < used->n; i++)
        n = add_candidate(c, n, used->v[i].rate);
    m2j_rate more[MAX_RATES];
    size_t nm = m2j_vat_candidate_rates(ctx->cfg, ctx->country, more, MAX_RATES);
    for (size_t i = 0; i < nm; i++)
        n = add_candidate(c, n, more[i]);

    bool found = false;
    m2j_money best = 0;
    for (size_t i = 0; i < n; i++) {
        if (c[i] == 0 || !m2j_vat_rate_accepted(ctx->cfg, ctx->country, c[i]))
            continue;
        m2j_money d = m2j_money_muldiv(base, c[i], M2J_RATE_100PCT) - tax;
        if (d < 0)
            d = -d;
        if (d <= M2J_CENT && (!found || d < best)) {
            found = true;
            best = d;
            *out = c[i];
        }
    }
    if (found)
        return M2J_OK;
    char a[M2J_MONEY_STRLEN], b[M2J_MONEY_STRLEN];
    return m2j_fail(err, M2J_ERR_INVALID,
                    "cannot determine the VAT rate of %s: tax %s on %s matches no rate accepted for %s", what,
                    m2j_money_format(tax, a), m2j_money_format(base, b),
                    *ctx->country ? ctx->country : "an unknown country");
}

m2j_rc m2j_order_shipping_rate(const m2j_order_ctx *ctx, const m2j_rate_sums *used, m2j_rate *out,
                               m2j_err *err)
{
    json_object *o = ctx->order;
    m2j_money amount = 0, incl = 0, tax = 0, sdtc = 0;
    bool incl_present, p;
    m2j_rc rc;
    if ((rc = m2j_order_amount(ctx, o, "shipping_amount", &amount, &p, err)) != M2J_OK ||
        (rc = m2j_order_amount(ctx, o, "shipping_incl_tax", &incl, &incl_present, err)) != M2J_OK ||
        (rc = m2j_order_amount(ctx, o, "shipping_tax_amount", &tax, &p, err)) != M2J_OK ||
        (rc = m2j_order_amount(ctx, o, "shipping_discount_tax_compensation_amount", &sdtc, &p, err)) != M2J_OK)
        return rc;
    rc = shipping_rate_from_taxes(o, out);
    if (rc == M2J_ERR_INVALID)
        return m2j_fail(err, rc, "extension_attributes.item_applied_taxes: shipping percent is not a rate");
    if (rc != M2J_OK) {
        m2j_money tax_before = incl_present ? incl - amount : tax + sdtc;
        if ((rc = m2j_derive_rate(ctx, used, amount, tax_before, "shipping", out, err)) != M2J_OK)
            return rc;
    }
    char rs[M2J_RATE_STRLEN];
    if (!m2j_vat_rate_accepted(ctx->cfg, ctx->country, *out))
        return m2j_fail(err, M2J_ERR_INVALID, "VAT rate %s (shipping) is not accepted for %s",
                        m2j_rate_format_percent(*out, rs), *ctx->country ? ctx->country : "an unknown country");
    return M2J_OK;
}

m2j_rc m2j_shipping_text(const m2j_order_ctx *ctx, m2j_buf *d, const char **ledger)
{
    json_object *o = ctx->order;
    const char *method = m2j_json_scalar(o, "shipping_method");
    const m2j_shipping_mapping *map = m2j_config_shipping(ctx->cfg, method);
    m2j_buf_reset(d);
    const char *text = map && map->description && !blank_str(map->description) ? map->description
                       : !blank_str(m2j_json_scalar(o, "shipping_description")) ? m2j_json_scalar(o, "shipping_description")
                       : ctx->cfg->orders.shipping_label;
    if (put_clean(d, text ? text : "") != M2J_OK)
        return M2J_ERR_NOMEM;
    if (d->len == 0 && m2j_buf_puts(d, "Verzendkosten") != M2J_OK)
        return M2J_ERR_NOMEM;
    *ledger = map && map->ledger_account_id ? map->ledger_account_id : ctx->line_ledger;
    return M2J_OK;
}

static m2j_rc emit_shipping(builder *bd, m2j_err *err)
{
    const m2j_order_ctx *ctx = bd->ctx;
    json_object *o = ctx->order;
    m2j_money amount = 0, incl = 0, tax = 0, sdtc = 0, sdisc = 0;
    bool incl_present, p;
    m2j_rc rc;
    if ((rc = m2j_order_amount(ctx, o, "shipping_amount", &amount, &p, err)) != M2J_OK ||
        (rc = m2j_order_amount(ctx, o, "shipping_incl_tax", &incl, &incl_present, err)) != M2J_OK ||
        (rc = m2j_order_amount(ctx, o, "shipping_tax_amount", &tax, &p, err)) != M2J_OK ||
        (rc = m2j_order_amount(ctx, o, "shipping_discount_tax_compensation_amount", &sdtc, &p, err)) != M2J_OK ||
        (rc = m2j_order_amount(ctx, o, "shipping_discount_amount", &sdisc, &p, err)) != M2J_OK)
        return rc;
    if (sdisc < 0) /* a reduction whatever the sign (see emit_item) */
        sdisc = -sdisc;
    m2j_money before_u = incl_present ? incl : amount + tax + sdtc;
    m2j_money after_u = amount + tax + sdtc - sdisc;
    if (before_u == 0 && after_u == 0) {
        if (tax != 0)
            return m2j_fail(err, M2J_ERR_INVALID, "shipping is free but carries tax");
        return M2J_OK;
    }
    if (before_u < 0)
        return m2j_fail(err, M2J_ERR_INVALID, "negative shipping amount");

    m2j_rate rate;
    if ((rc = m2j_order_shipping_rate(ctx, bd->magento_vat, &rate, err)) != M2J_OK)
        return rc;
    m2j_buf *d = &bd->tmp;
    const char *ledger;
    if (m2j_shipping_text(ctx, d, &ledger) != M2J_OK)
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");

    m2j_money before = m2j_money_round_cents(before_u);
    m2j_money after = m2j_money_round_cents(after_u);
    if (m2j_lines_add(bd->lines, m2j_buf_str(d), 1, before, rate, ledger) != M2J_OK ||
        m2j_rate_sums_add(&bd->discounts, rate, before - after) != M2J_OK ||
        m2j_rate_sums_add(bd->magento_vat, rate, tax) != M2J_OK)
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    return M2J_OK;
}

/* ---- discounts ---- */

m2j_rc m2j_discount_lines(const m2j_order_ctx *ctx, const m2j_rate_sums *discounts, m2j_lines *lines,
                          m2j_err *err)
{
    m2j_buf d = { 0 };
    const char *label = ctx->cfg->orders.discount_label;
    const char *what = m2j_json_scalar(ctx->order, "discount_description");
    if (blank_str(what))
        what = m2j_json_scalar(ctx->order, "coupon_code");
    if (put_clean(&d, label && !blank_str(label) ? label : "Korting") != M2J_OK ||
        (!blank_str(what) && (m2j_buf_puts(&d, ": ") != M2J_OK || put_clean(&d, what) != M2J_OK)))
        goto oom;
    for (size_t i = 0; i < discounts->n; i++) {
        const m2j_rate_sum *s = &discounts->v[i];
        if (s->amount == 0)
            continue;
        if (m2j_lines_add(lines, m2j_buf_str(&d), 1, -s->amount, s->rate, ctx->line_ledger) != M2J_OK)
            goto oom;
    }
    m2j_buf_free(&d);
    return M2J_OK;
oom:
    m2j_buf_free(&d);
    return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
}

/* ---- order-level payments ---- */

/* Adobe Commerce deducts these from grand_total: they are means of payment,
 * not price reductions, so they carry no VAT. */
static const struct {
    const char *field;
    const char *description;
} EXTRAS[] = {
    { "gift_cards_amount", "Betaald met cadeaukaart" },
    { "customer_balance_amount", "Betaald met tegoed" },
    { "reward_currency_amount", "Betaald met spaarpunten" },
};

m2j_rc m2j_order_extras(const m2j_order_ctx *ctx, m2j_lines *lines, m2j_money *sum, m2j_err *err)
{
    *sum = 0;
    json_object *ea = m2j_json_get(ctx->order, "extension_attributes");
    for (size_t i = 0; i < sizeof EXTRAS / sizeof EXTRAS[0]; i++) {
        m2j_money v = 0;
        bool present = false;
        m2j_rc rc = m2j_order_amount(ctx, ctx->order, EXTRAS[i].field, &v, &present, err);
        if (rc == M2J_OK && !present)
            rc = m2j_order_amount(ctx, ea, EXTRAS[i].field, &v, &present, err);
        if (rc != M2J_OK)
            return rc;
        if (v == 0)
            continue;
        v = m2j_money_round_cents(v);
        *sum += v;
        if (lines && m2j_lines_add(lines, EXTRAS[i].description, 1, -v, 0, NULL) != M2J_OK)
            return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    }
    return M2J_OK;
}

m2j_rc m2j_order_lines(const m2j_order_ctx *ctx, m2j_lines *lines, m2j_rate_sums *magento_vat, m2j_err *err)
{
    builder bd = { ctx, lines, magento_vat, { 0 }, { 0 } };
    m2j_money extras;
    m2j_rc rc = emit_items(&bd, err);
    if (rc == M2J_OK)
        rc = emit_shipping(&bd, err);
    if (rc == M2J_OK)
        rc = m2j_discount_lines(ctx, &bd.discounts, lines, err);
    if (rc == M2J_OK)
        rc = m2j_order_extras(ctx, lines, &extras, err);
    m2j_rate_sums_free(&bd.discounts);
    m2j_buf_free(&bd.tmp);
    return rc;
}
