/* vat.h: m2jortt's own table of VAT rates per EU country (vat.c), for the
 * commands that show or check it against a config. The mapping decides with
 * it whether an invoice line's rate can go to Jortt (order_internal.h's
 * m2j_vat_rate_accepted); Jortt itself offers rates per customer only, so
 * this table is what m2jortt can say about an administration as a whole.
 *
 * Pure: no I/O. Nothing here is allocated. */
#ifndef M2J_VAT_H
#define M2J_VAT_H

#include "base/money.h"
#include <stdbool.h>
#include <stddef.h>

/* The merchant's own country: rates charged at home are valid for any buyer
 * (distance sales below the OSS threshold, exports to private persons). */
#define M2J_MERCHANT_COUNTRY "NL"

/* Country i of the table (alphabetical), or NULL past the end; its non-zero
 * rates (standard rate first) go to out, at most max, their count to *n. */
const char *m2j_vat_table_entry(size_t i, m2j_rate *out, size_t max, size_t *n);

/* Whether the table lists r among country's own rates. */
bool m2j_vat_table_has(const char *country, m2j_rate r);

/* Whether the table alone (not orders.vat_by_country) accepts rate r for a
 * buyer in country: 0, one of the country's rates, or one of the merchant
 * country's. */
bool m2j_vat_table_accepts(const char *country, m2j_rate r);

#endif
