/* money.h: exact money arithmetic. No double ever touches an amount.
 *
 * An amount is an int64 count of 1/10,000 of the currency unit (Magento stores
 * 4 decimals). Parsing takes the original decimal TEXT of a JSON number or
 * string ("700.000000", "12.3400", "-101.15", 409.6, "1e2"). Rounding to cents
 * happens only where a Jortt amount is written, with one rule: half away from
 * zero (what Magento's PHP round() does).
 *
 * VAT rates are int64 counts of 1/10,000 of a percent: 21 % = 210000,
 * 5.5 % = 55000. Jortt wants fractions ("0.21", "0.055"). */
#ifndef M2J_MONEY_H
#define M2J_MONEY_H

#include "base/m2j.h"
#include <stdbool.h>

typedef int64_t m2j_money;
typedef int64_t m2j_rate;

#define M2J_MONEY_SCALE 10000       /* units per currency unit */
#define M2J_CENT        100         /* units per cent */
#define M2J_RATE_SCALE  10000       /* rate units per percent */
#define M2J_RATE_100PCT (100 * M2J_RATE_SCALE)
/* Largest absolute amount accepted: one billion currency units. Far above any
 * order, far below overflow in the products we compute. */
#define M2J_MONEY_MAX   ((m2j_money)1000000000 * M2J_MONEY_SCALE)

/* Parses decimal text: optional sign, digits, optional '.', digits, optional
 * exponent (e/E). More than 4 decimals are rounded half away from zero.
 * Rejects empty text, garbage, NaN/Inf, and |value| > M2J_MONEY_MAX. */
m2j_rc m2j_money_parse(const char *text, m2j_money *out, m2j_err *err);

/* Rounds to a whole number of cents, half away from zero. */
m2j_money m2j_money_round_cents(m2j_money m);

/* Formats with exactly 2 decimals after rounding to cents ("-12.30").
 * out must hold at least M2J_MONEY_STRLEN bytes. Returns out. */
#define M2J_MONEY_STRLEN 32
char *m2j_money_format(m2j_money m, char *out);
/* Formats with 4 decimals, trailing zeros beyond 2 trimmed ("12.345", "12.30"). */
char *m2j_money_format4(m2j_money m, char *out);

/* m * num / den, rounded half away from zero, computed in 128 bits. den > 0. */
m2j_money m2j_money_muldiv(m2j_money m, int64_t num, int64_t den);

/* VAT contained in an amount that includes VAT at rate r, rounded to cents:
 * round_cents(incl * r / (100% + r)). */
m2j_money m2j_vat_from_incl(m2j_money incl, m2j_rate r);
/* VAT on an amount that excludes VAT, rounded to cents: round_cents(excl * r / 100%). */
m2j_money m2j_vat_from_excl(m2j_money excl, m2j_rate r);

/* Parses a percentage ("21", "21.0000", 9, "5.5") into a rate. */
m2j_rc m2j_rate_parse_percent(const char *text, m2j_rate *out, m2j_err *err);
/* Parses a fraction ("0.21", "0.055") into a rate. */
m2j_rc m2j_rate_parse_fraction(const char *text, m2j_rate *out, m2j_err *err);
/* Formats a rate as Jortt's fraction string: "0.21", "0.09", "0.055", "0.00"
 * (at least 2 decimals, trailing zeros beyond 2 trimmed). */
#define M2J_RATE_STRLEN 24
char *m2j_rate_format_fraction(m2j_rate r, char *out);

#endif
