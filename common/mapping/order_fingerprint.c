/* order_fingerprint.c: see order_fingerprint.h. The rows and amounts are
 * read the way order_lines.c reads them for the invoice (same choice of
 * rows, same currency, same "what the buyer pays for the row"), so a
 * difference here is a difference in what would be invoiced. */
#include "mapping/order_fingerprint.h"
#include "mapping/order_internal.h"
#include "base/json_util.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SPELLED   12  /* differences spelled out before "and N more" */
#define MAX_LABEL     64  /* bytes of a sku in a reason */
#define FP_FIELDS     5   /* item_id, sku, qty, canceled, row */

void m2j_order_fp_clear(m2j_order_fp *fp)
{
    if (!fp)
        return;
    for (size_t i = 0; i < fp->n; i++) {
        free(fp->lines[i].item_id);
        free(fp->lines[i].sku);
    }
    free(fp->lines);
    free(fp->updated_at);
    memset(fp, 0, sizeof *fp);
}

static m2j_rc oom(m2j_err *err)
{
    return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
}

static m2j_rc add_line(m2j_order_fp *fp, size_t cap, const char *item_id, const char *sku, m2j_money qty,
                       m2j_money canceled, m2j_money row)
{
    if (fp->n >= cap)
        return M2J_ERR_INTERNAL;
    m2j_fp_line *l = &fp->lines[fp->n];
    l->item_id = strdup(item_id);
    l->sku = strdup(sku);
    if (!l->item_id || !l->sku) {
        free(l->item_id);
        free(l->sku);
        l->item_id = l->sku = NULL;
        return M2J_ERR_NOMEM;
    }
    l->qty = qty;
    l->canceled = canceled;
    l->row = row;
    fp->n++;
    return M2J_OK;
}

/* One sold row: what order_lines.c's emit_item charges for it. */
static m2j_rc read_row(const m2j_order_ctx *ctx, json_object *item, size_t index, m2j_money *qty,
                       m2j_money *canceled, m2j_money *row, m2j_err *err)
{
    m2j_money rt = 0, tax = 0, dtc = 0, disc = 0;
    bool p;
    m2j_err e = { 0 };
    m2j_rc rc;
    if ((rc = m2j_json_money0(item, "qty_ordered", qty, &e)) != M2J_OK ||
        (rc = m2j_json_money0(item, "qty_canceled", canceled, &e)) != M2J_OK ||
        (rc = m2j_order_amount(ctx, item, "row_total", &rt, &p, &e)) != M2J_OK ||
        (rc = m2j_order_amount(ctx, item, "tax_amount", &tax, &p, &e)) != M2J_OK ||
        (rc = m2j_order_amount(ctx, item, "discount_tax_compensation_amount", &dtc, &p, &e)) != M2J_OK ||
        (rc = m2j_order_amount(ctx, item, "discount_amount", &disc, &p, &e)) != M2J_OK)
        return m2j_fail(err, M2J_ERR_INVALID, "items.%zu: %s", index, e.msg);
    if (disc < 0)
        disc = -disc; /* as order_lines.c: a reduction whichever sign the sender used */
    *row = m2j_money_round_cents(rt + tax + dtc - disc);
    return M2J_OK;
}

m2j_rc m2j_order_fingerprint(const m2j_config *cfg, json_object *order, m2j_order_fp *out, m2j_err *err)
{
    memset(out, 0, sizeof *out);
    if (!order || !json_object_is_type(order, json_type_object))
        return m2j_fail(err, M2J_ERR_INVALID, "order is not an object");
    m2j_order_ctx ctx;
    char country[3];
    m2j_rc rc = m2j_order_ctx_init(cfg, order, &ctx, country, err);
    if (rc != M2J_OK)
        return rc;
    size_t *sel = NULL, n = 0;
    if ((rc = m2j_order_invoiced_items(&ctx, &sel, &n, err)) != M2J_OK)
        return rc;
    m2j_order_fp fp = { 0 };
    json_object *items = m2j_json_get(order, "items");
    bool present = false;
    m2j_money v = 0;
    m2j_err e = { 0 };
    if ((rc = m2j_order_amount(&ctx, order, "grand_total", &v, &present, &e)) != M2J_OK) {
        rc = m2j_fail(err, rc, "%s", e.msg);
        goto fail;
    }
    fp.has_total = present;
    fp.grand_total = m2j_money_round_cents(v);
    if ((rc = m2j_order_amount(&ctx, order, "total_canceled", &v, &present, &e)) != M2J_OK) {
        rc = m2j_fail(err, rc, "%s", e.msg);
        goto fail;
    }
    fp.has_canceled = present;
    fp.canceled = m2j_money_round_cents(v);
    const char *at = m2j_json_scalar(order, "updated_at");
    if (*at && !(fp.updated_at = strdup(at))) {
        rc = oom(err);
        goto fail;
    }
    fp.has_lines = true;
    fp.lines = calloc(n ? n : 1, sizeof *fp.lines);
    if (!fp.lines) {
        rc = oom(err);
        goto fail;
    }
    for (size_t i = 0; i < n; i++) {
        json_object *item = json_object_array_get_idx(items, sel[i]);
        m2j_money qty = 0, canceled = 0, row = 0;
        if ((rc = read_row(&ctx, item, sel[i], &qty, &canceled, &row, err)) != M2J_OK)
            goto fail;
        rc = add_line(&fp, n, m2j_json_scalar(item, "item_id"), m2j_json_scalar(item, "sku"), qty, canceled, row);
        if (rc != M2J_OK) {
            rc = oom(err);
            goto fail;
        }
    }
    free(sel);
    *out = fp;
    return M2J_OK;
fail:
    free(sel);
    m2j_order_fp_clear(&fp);
    return rc;
}

/* ---- stored text ---- */

/* "2", "1.5", "0.125": a quantity as people write it. */
static char *qty_text(m2j_money q, char out[M2J_MONEY_STRLEN])
{
    m2j_money a = q < 0 ? -q : q;
    int n = snprintf(out, M2J_MONEY_STRLEN, "%s%lld.%04lld", q < 0 ? "-" : "", (long long)(a / M2J_MONEY_SCALE),
                     (long long)(a % M2J_MONEY_SCALE));
    while (n > 0 && out[n - 1] == '0')
        out[--n] = '\0';
    if (n > 0 && out[n - 1] == '.')
        out[--n] = '\0';
    return out;
}

static bool add_str(json_object *arr, const char *s)
{
    json_object *v = json_object_new_string(s);
    if (!v || json_object_array_add(arr, v) != 0) {
        json_object_put(v);
        return false;
    }
    return true;
}

m2j_rc m2j_order_fp_format(const m2j_order_fp *fp, m2j_buf *out)
{
    m2j_buf_reset(out);
    json_object *o = json_object_new_object(), *lines = json_object_new_array();
    char a[M2J_MONEY_STRLEN], q[M2J_MONEY_STRLEN], c[M2J_MONEY_STRLEN];
    bool ok = o && lines;
    if (ok && fp->updated_at)
        ok = m2j_json_set_str(o, "at", fp->updated_at) == M2J_OK;
    if (ok && fp->has_canceled)
        ok = m2j_json_set_str(o, "canceled", m2j_money_format(fp->canceled, a)) == M2J_OK;
    for (size_t i = 0; ok && fp->has_lines && i < fp->n; i++) {
        const m2j_fp_line *l = &fp->lines[i];
        json_object *row = json_object_new_array();
        ok = row && add_str(row, l->item_id) && add_str(row, l->sku) && add_str(row, qty_text(l->qty, q)) &&
             add_str(row, qty_text(l->canceled, c)) && add_str(row, m2j_money_format(l->row, a));
        if (!ok || json_object_array_add(lines, row) != 0) {
            json_object_put(row);
            ok = false;
        }
    }
    if (ok && fp->has_lines) {
        ok = json_object_object_add(o, "lines", lines) == 0;
        if (ok)
            lines = NULL;
    }
    if (ok)
        ok = m2j_buf_puts(out, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN)) == M2J_OK;
    json_object_put(lines);
    json_object_put(o);
    return ok ? M2J_OK : M2J_ERR_NOMEM;
}

static m2j_rc parse_money(const char *text, m2j_money *out, const char *what, m2j_err *err)
{
    m2j_err e = { 0 };
    if (!text || m2j_money_parse(text, out, &e) != M2J_OK)
        return m2j_fail(err, M2J_ERR_INVALID, "fingerprint: %s is not an amount", what);
    return M2J_OK;
}

m2j_rc m2j_order_fp_parse(const char *text, const char *grand_total, m2j_order_fp *out, m2j_err *err)
{
    memset(out, 0, sizeof *out);
    m2j_order_fp fp = { 0 };
    m2j_rc rc = M2J_OK;
    json_object *o = NULL;
    if (grand_total && *grand_total) {
        if ((rc = parse_money(grand_total, &fp.grand_total, "grand_total", err)) != M2J_OK)
            return rc;
        fp.grand_total = m2j_money_round_cents(fp.grand_total);
        fp.has_total = true;
    }
    if (!text || !*text) {
        *out = fp;
        return M2J_OK;
    }
    if ((rc = m2j_json_parse(text, strlen(text), &o, err)) != M2J_OK)
        return m2j_fail(err, M2J_ERR_INVALID, "fingerprint is not JSON");
    if (!json_object_is_type(o, json_type_object)) {
        rc = m2j_fail(err, M2J_ERR_INVALID, "fingerprint is not an object");
        goto fail;
    }
    const char *at = m2j_json_get_string(o, "at");
    if (at && !(fp.updated_at = strdup(at))) {
        rc = oom(err);
        goto fail;
    }
    const char *canceled = m2j_json_get_string(o, "canceled");
    if (canceled) {
        if ((rc = parse_money(canceled, &fp.canceled, "canceled", err)) != M2J_OK)
            goto fail;
        fp.has_canceled = true;
    }
    json_object *lines = m2j_json_get(o, "lines");
    if (lines) {
        if (!json_object_is_type(lines, json_type_array)) {
            rc = m2j_fail(err, M2J_ERR_INVALID, "fingerprint: lines is not an array");
            goto fail;
        }
        size_t n = json_object_array_length(lines);
        fp.has_lines = true;
        fp.lines = calloc(n ? n : 1, sizeof *fp.lines);
        if (!fp.lines) {
            rc = oom(err);
            goto fail;
        }
        for (size_t i = 0; i < n; i++) {
            json_object *row = json_object_array_get_idx(lines, i);
            const char *f[FP_FIELDS];
            bool shape = json_object_is_type(row, json_type_array) && json_object_array_length(row) == FP_FIELDS;
            for (size_t k = 0; shape && k < FP_FIELDS; k++) {
                json_object *x = json_object_array_get_idx(row, k);
                shape = json_object_is_type(x, json_type_string);
                f[k] = shape ? json_object_get_string(x) : NULL;
            }
            if (!shape) {
                rc = m2j_fail(err, M2J_ERR_INVALID, "fingerprint: lines.%zu is not five strings", i);
                goto fail;
            }
            m2j_money qty, cxl, amount;
            if ((rc = parse_money(f[2], &qty, "a quantity", err)) != M2J_OK ||
                (rc = parse_money(f[3], &cxl, "a quantity", err)) != M2J_OK ||
                (rc = parse_money(f[4], &amount, "a row total", err)) != M2J_OK)
                goto fail;
            if ((rc = add_line(&fp, n, f[0], f[1], qty, cxl, amount)) != M2J_OK) {
                rc = oom(err);
                goto fail;
            }
        }
    }
    json_object_put(o);
    *out = fp;
    return M2J_OK;
fail:
    json_object_put(o);
    m2j_order_fp_clear(&fp);
    return rc;
}

/* ---- the difference ---- */

typedef struct {
    m2j_buf *out;
    int      spelled;  /* differences written */
    int      more;     /* differences beyond MAX_SPELLED */
    bool     nomem;
} diff_out;

/* Starts one difference; false when it is beyond the ones spelled out. */
static bool next_item(diff_out *d)
{
    if (d->spelled >= MAX_SPELLED) {
        d->more++;
        return false;
    }
    if (d->out->len > 0 && m2j_buf_puts(d->out, "; ") != M2J_OK)
        d->nomem = true;
    d->spelled++;
    return true;
}

static void put(diff_out *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(diff_out *d, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (m2j_buf_vprintf(d->out, fmt, ap) != M2J_OK)
        d->nomem = true;
    va_end(ap);
}

/* The line's name in a reason: its sku (outside text: control characters
 * become '?', at most MAX_LABEL bytes), else its item id. */
static void put_label(diff_out *d, const m2j_fp_line *l)
{
    const char *s = *l->sku ? l->sku : l->item_id;
    if (!*s) {
        put(d, "(no sku)");
        return;
    }
    if (!*l->sku)
        put(d, "item ");
    size_t n = strlen(s);
    if (n > MAX_LABEL)
        n = MAX_LABEL;
    for (size_t i = 0; i < n; i++) {
        char c = iscntrl((unsigned char)s[i]) ? '?' : s[i];
        if (m2j_buf_append(d->out, &c, 1) != M2J_OK)
            d->nomem = true;
    }
    if (strlen(s) > MAX_LABEL)
        put(d, "...");
}

static void money_change(diff_out *d, const char *what, m2j_money a, m2j_money b)
{
    char x[M2J_MONEY_STRLEN], y[M2J_MONEY_STRLEN];
    if (a != b && next_item(d))
        put(d, "%s %s -> %s", what, m2j_money_format(a, x), m2j_money_format(b, y));
}

static void line_change(diff_out *d, const m2j_fp_line *w, const m2j_fp_line *n)
{
    m2j_money wq = w->qty - w->canceled, nq = n->qty - n->canceled;
    bool qty = wq != nq, cxl = w->canceled != n->canceled, row = w->row != n->row;
    if (!qty && !cxl && !row)
        return;
    if (!next_item(d))
        return;
    char a[M2J_MONEY_STRLEN], b[M2J_MONEY_STRLEN];
    put(d, "line ");
    put_label(d, w);
    if (qty)
        put(d, " qty %s -> %s", qty_text(wq, a), qty_text(nq, b));
    if (cxl)
        put(d, " (%s canceled)", qty_text(n->canceled, a));
    if (row)
        put(d, "%s row total %s -> %s", qty || cxl ? "," : "", m2j_money_format(w->row, a),
            m2j_money_format(n->row, b));
}

static void line_gone_or_new(diff_out *d, const m2j_fp_line *l, bool added)
{
    if (!next_item(d))
        return;
    char a[M2J_MONEY_STRLEN], b[M2J_MONEY_STRLEN];
    put(d, "line ");
    put_label(d, l);
    put(d, added ? " added (qty %s, %s)" : " removed (was qty %s, %s)", qty_text(l->qty - l->canceled, a),
        m2j_money_format(l->row, b));
}

/* Pairs was's lines with now's: by item_id where both have one, then by
 * sku among the rest (a row Magento re-created, a sender without item ids,
 * another order). match[i] = index in now, or SIZE_MAX. */
static void pair_lines(const m2j_order_fp *was, const m2j_order_fp *now, size_t *match, bool *taken)
{
    for (size_t i = 0; i < was->n; i++) {
        match[i] = SIZE_MAX;
        for (size_t j = 0; *was->lines[i].item_id && j < now->n && match[i] == SIZE_MAX; j++)
            if (!taken[j] && strcmp(was->lines[i].item_id, now->lines[j].item_id) == 0)
                match[i] = j, taken[j] = true;
    }
    for (size_t i = 0; i < was->n; i++)
        for (size_t j = 0; match[i] == SIZE_MAX && j < now->n; j++)
            if (!taken[j] && strcmp(was->lines[i].sku, now->lines[j].sku) == 0)
                match[i] = j, taken[j] = true;
}

bool m2j_order_fp_diff(const m2j_order_fp *was, const m2j_order_fp *now, m2j_buf *out)
{
    diff_out d = { out, 0, 0, false };
    size_t start = out->len;
    if (was->has_total && now->has_total)
        money_change(&d, "grand total", was->grand_total, now->grand_total);
    if (was->has_canceled && now->has_canceled)
        money_change(&d, "total canceled", was->canceled, now->canceled);
    if (was->has_lines && now->has_lines) {
        size_t *match = calloc(was->n ? was->n : 1, sizeof *match);
        bool *taken = calloc(now->n ? now->n : 1, sizeof *taken);
        if (!match || !taken) {
            d.nomem = true;
        } else {
            pair_lines(was, now, match, taken);
            for (size_t i = 0; i < was->n; i++) {
                if (match[i] == SIZE_MAX)
                    line_gone_or_new(&d, &was->lines[i], false);
                else
                    line_change(&d, &was->lines[i], &now->lines[match[i]]);
            }
            for (size_t j = 0; j < now->n; j++)
                if (!taken[j])
                    line_gone_or_new(&d, &now->lines[j], true);
        }
        free(match);
        free(taken);
    }
    if (d.more)
        put(&d, "; and %d more", d.more);
    if (d.nomem && out->len == start)
        put(&d, "could not be compared (out of memory)");
    return d.spelled > 0 || d.nomem;
}

/* The first 14 digits (YYYYMMDDhhmmss) of a timestamp; seconds may be
 * missing. false when there are fewer than 12. */
static bool time_digits(const char *s, char out[15])
{
    size_t n = 0;
    for (; s && *s && n < 14; s++) {
        if (isdigit((unsigned char)*s))
            out[n++] = *s;
        else if (*s == '+' || *s == 'Z')
            break; /* a zone after hours and minutes */
    }
    if (n < 12)
        return false;
    while (n < 14)
        out[n++] = '0';
    out[14] = '\0';
    return true;
}

bool m2j_order_time_cmp(const char *a, const char *b, int *cmp)
{
    char x[15], y[15];
    if (!time_digits(a, x) || !time_digits(b, y))
        return false;
    int c = strcmp(x, y);
    *cmp = c < 0 ? -1 : c > 0 ? 1 : 0;
    return true;
}
