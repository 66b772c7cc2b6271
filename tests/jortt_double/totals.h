/* totals.h: the Jortt double's own, independent model of how Jortt turns v3
 * invoice lines into totals (vat_calculation_method "invoice_level_vat").
 *
 * It deliberately shares no code with common/money.h: the double is the
 * referee that checks m2jortt's totals, so a bug in the shared money code must
 * not be able to hide itself by appearing on both sides.
 *
 * Units (all int64, exact):
 *   amounts   cents                      ("12.34"  -> 1234)
 *   quantity  millionths of a unit       ("2.5"    -> 2500000)
 *   VAT rate  millionths (a fraction)    ("0.21"   -> 210000)
 * Rounding everywhere: half away from zero, to whole cents.
 *
 * Pure functions, no I/O, no allocation. */
#ifndef JD_TOTALS_H
#define JD_TOTALS_H

#include "base/m2j.h"
#include <stdbool.h>
#include <stdint.h>

#define JD_QTY_SCALE   1000000   /* quantity units per 1 */
#define JD_RATE_SCALE  1000000   /* rate units per 100 % */
#define JD_MAX_RATES   16        /* distinct VAT rates per invoice */
/* Bounds that keep every sum and product far from int64 overflow. */
#define JD_MAX_AMOUNT_CENTS ((int64_t)100000000000)        /* 1e9 EUR per unit */
#define JD_MAX_QTY          ((int64_t)1000000000 * JD_QTY_SCALE)
#define JD_MAX_LINE_CENTS   ((int64_t)1000000000000000)    /* 1e13 EUR per line */
#define JD_MAX_LINES        1000
#define JD_MAX_DISCOUNTS    20

/* Strict decimal text: optional '-', at least one digit, optionally '.' and at
 * least one digit. No '+', exponent, spaces or other characters.
 * At most max_dec decimals (M2J_ERR_INVALID beyond), value scaled to
 * scale_dec decimals (max_dec <= scale_dec <= 9), |value| <= max_abs
 * (M2J_ERR_TOO_LARGE beyond). */
m2j_rc jd_decimal_parse(const char *text, int max_dec, int scale_dec, int64_t max_abs, int64_t *out);

/* A money amount as Jortt takes it: at most 2 decimals, may be negative. */
m2j_rc jd_amount_parse(const char *text, int64_t *cents);
/* A quantity: at most 6 decimals, may be negative. */
m2j_rc jd_quantity_parse(const char *text, int64_t *qty);
/* A VAT fraction in [0, 1): "0.21", "0.09", "0". A percentage such as "21.0"
 * is M2J_ERR_TOO_LARGE (Jortt rejects it instead of reading 2100 %). */
m2j_rc jd_vat_parse(const char *text, int64_t *rate);

/* n / d rounded half away from zero; d > 0. */
int64_t jd_div_round(__int128 n, __int128 d);

/* Formatting; out must hold JD_NUM_STRLEN bytes; returns out.
 * cents -> "-12.30"; quantity/rate -> shortest exact text ("2.5", "-4", "0.21")
 * with at least min_dec decimals. */
#define JD_NUM_STRLEN 48
char *jd_format_cents(int64_t cents, char *out);
char *jd_format_scaled(int64_t v, int64_t scale, int min_dec, char *out);

typedef struct {
    int64_t quantity; /* JD_QTY_SCALE */
    int64_t amount;   /* cents per unit; includes VAT when net_amounts */
    int64_t rate;     /* JD_RATE_SCALE */
} jd_line;

typedef struct {
    int64_t rate;     /* JD_RATE_SCALE */
    int64_t gross;    /* sum of line totals at this rate */
    int64_t discount; /* sum over discounts of round(gross * pct / 100) */
    int64_t base;     /* gross - discount; includes VAT when net_amounts */
    int64_t vat;      /* VAT on base */
} jd_rate_total;

typedef struct {
    size_t nrates;                      /* in order of first appearance */
    jd_rate_total rates[JD_MAX_RATES];
    int64_t excl, vat, incl;            /* invoice totals, cents */
} jd_totals;

/* quantity x amount rounded to cents. M2J_ERR_TOO_LARGE past JD_MAX_LINE_CENTS. */
m2j_rc jd_line_total(const jd_line *line, int64_t *cents);

/* The line's total excluding VAT as shown on the line: the line total when
 * amounts exclude VAT, else round(total / (1 + rate)). */
int64_t jd_line_total_ex_vat(int64_t line_total, int64_t rate, bool net_amounts);

/* The invoice totals. Each discount percentage (0..100, summing to <= 100)
 * reduces every rate's base by round(gross_r * pct / 100) before VAT.
 *   net_amounts: vat_r = round(base_r * r / (1 + r)); incl = sum base_r;
 *                excl = incl - sum vat_r
 *   otherwise:   vat_r = round(base_r * r); excl = sum base_r; incl = excl + vat
 * Errors: M2J_ERR_INVALID (bad percentage, n > JD_MAX_LINES),
 * M2J_ERR_TOO_LARGE (a line too large, more than JD_MAX_RATES rates). */
m2j_rc jd_totals_compute(const jd_line *lines, size_t n, bool net_amounts,
                         const int64_t *discount_pcts, size_t ndiscounts, jd_totals *out);

#endif
