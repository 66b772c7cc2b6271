/* order_fingerprint.h: what an order's invoice was made from, kept compactly
 * in the order's record when it is invoiced, and the difference between two
 * such fingerprints in plain words. It is how the worker and `m2jortt
 * reconcile` tell a status change of an invoiced order (nothing to do) from
 * an order whose lines or totals changed after it was invoiced (reported
 * with the difference, never skipped and never guessed at).
 *
 * What is kept: the grand total (in the invoiced currency: the base_*
 * amounts for an order invoiced from its EUR base currency; the record's
 * own grand_total field), Magento's total_canceled, the order's updated_at,
 * and for every row that became invoice lines (order_lines.c's choice of
 * parent or children): its item_id, sku, qty_ordered, qty_canceled and what
 * the buyer pays for it (incl. VAT, after discount, whole cents).
 *
 * Stored text (m2j_order_fp_format; the grand total is not in it):
 *   {"at":"2026-11-20 10:15:02","canceled":"0.00",
 *    "lines":[["301","SKU-1","1","0","48.40"],["302","SKU-2","2","0","48.40"]]}
 *
 * Pure: no I/O, no clock. Ownership: an m2j_order_fp owns its strings and
 * lines; m2j_order_fp_clear frees them (and may be called on a zeroed one). */
#ifndef M2J_ORDER_FINGERPRINT_H
#define M2J_ORDER_FINGERPRINT_H

#include "base/buf.h"
#include "base/money.h"
#include "config/config.h"
#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct {
    char     *item_id;   /* "" when the sender gave none */
    char     *sku;       /* "" when none */
    m2j_money qty;       /* qty_ordered */
    m2j_money canceled;  /* qty_canceled */
    m2j_money row;       /* paid for the row: incl. VAT, after discount, whole cents */
} m2j_fp_line;

typedef struct {
    bool         has_total;
    m2j_money    grand_total;   /* whole cents */
    bool         has_canceled;
    m2j_money    canceled;      /* total_canceled, whole cents */
    char        *updated_at;    /* NULL when unknown */
    bool         has_lines;     /* false: only totals are known (a record older than the lines) */
    m2j_fp_line *lines;
    size_t       n;
} m2j_order_fp;

void m2j_order_fp_clear(m2j_order_fp *fp);

/* The fingerprint of a canonical order (event.h) as it would be invoiced
 * now. Independent of orders.statuses and of the totals checks, so an order
 * in any status, or one that no longer adds up, still has one.
 * M2J_ERR_UNSUPPORTED for a currency m2jortt does not invoice,
 * M2J_ERR_INVALID when the items or amounts cannot be read (err says why),
 * M2J_ERR_NOMEM. On error *out is left cleared. */
m2j_rc m2j_order_fingerprint(const m2j_config *cfg, json_object *order, m2j_order_fp *out, m2j_err *err);

/* The stored text (see above) into out (reset first). M2J_ERR_NOMEM only. */
m2j_rc m2j_order_fp_format(const m2j_order_fp *fp, m2j_buf *out);

/* Rebuilds a fingerprint from what a record holds: text (may be NULL: a
 * record older than fingerprints, then only the total is known) and
 * grand_total (the record's field, may be NULL). M2J_ERR_INVALID when text
 * is not what m2j_order_fp_format writes. */
m2j_rc m2j_order_fp_parse(const char *text, const char *grand_total, m2j_order_fp *out, m2j_err *err);

/* What differs from `was` (invoiced) to `now`, in plain words, "; "
 * separated, appended to out; nothing is appended when they are the same.
 * Only what both sides know is compared (totals, total_canceled, lines).
 * Lines are paired by item_id, then the rest by sku; a line is named by its sku
 * (control characters replaced, long skus cut). At most 12 differences are
 * spelled out, then "and N more". Examples:
 *   grand total 121.00 -> 96.80; line SKU-2 qty 2 -> 1, row total 48.40 -> 24.20
 *   total canceled 0.00 -> 24.20; line SKU-2 qty 2 -> 1 (1 canceled)
 *   line SKU-3 added (qty 1, 24.20); line SKU-1 removed (was qty 1, 48.40)
 * Returns true when something differs (M2J_ERR_NOMEM is reported as a
 * difference with out holding what fitted: never "the same" by accident). */
bool m2j_order_fp_diff(const m2j_order_fp *was, const m2j_order_fp *now, m2j_buf *out);

/* Compares two Magento timestamps ("2026-11-20 10:15:02", also with a 'T'
 * or fractions): true when both are readable, *cmp < 0 when a is earlier
 * than b, 0 when equal, > 0 when later. */
bool m2j_order_time_cmp(const char *a, const char *b, int *cmp);

#endif
