/* vat.c: which VAT rates an invoice may carry for a buyer's country.
 *
 * Jortt offers, per customer, the rates "valid on today's date" for that
 * customer (jortt-api.md section 5). We cannot ask it from pure code, so the
 * rule is fixed and documented here. A rate is accepted for country C when it
 *  - is 0 (exports, reverse charge, exempt goods), or
 *  - equals orders.vat_by_country[C], or
 *  - is one of C's standard or reduced rates in the built-in table below
 *    (EU member states, rates in force 2024-2025; older and newer values are
 *    both listed where a rate changed in that period, because orders are
 *    sometimes invoiced long after they were placed), or
 *  - is one of the merchant's own country's rates (NL; a merchant below the
 *    OSS threshold charges Dutch VAT to buyers in other member states, and
 *    Jortt then offers the Dutch rates).
 * Anything else is a configuration or shop-setup error that must not reach
 * Jortt, so the order is dead-lettered with the rate and country named. */
#include "mapping/order_internal.h"
#include "mapping/vat.h"

#include <stdio.h>
#include <string.h>

#define R(p) ((m2j_rate)((p) * M2J_RATE_SCALE))
#define RD(p10) ((m2j_rate)((p10) * M2J_RATE_SCALE / 10)) /* tenths of a percent */

typedef struct {
    const char *country;
    m2j_rate    rates[6]; /* 0-terminated */
} country_rates;

static const country_rates RATES[] = {
    { "AT", { R(20), R(13), R(10) } },
    { "BE", { R(21), R(12), R(6) } },
    { "BG", { R(20), R(9) } },
    { "CY", { R(19), R(9), R(5), R(3) } },
    { "CZ", { R(21), R(12), R(15), R(10) } },
    { "DE", { R(19), R(7) } },
    { "DK", { R(25) } },
    { "EE", { R(22), R(24), R(9), R(13), R(5) } },
    { "ES", { R(21), R(10), R(5), R(4) } },
    { "FI", { R(24), RD(255), R(14), R(13), R(10) } },
    { "FR", { R(20), R(10), RD(55), RD(21) } },
    { "GR", { R(24), R(13), R(6) } },
    { "HR", { R(25), R(13), R(5) } },
    { "HU", { R(27), R(18), R(5) } },
    { "IE", { R(23), RD(135), R(9), RD(48) } },
    { "IT", { R(22), R(10), R(5), R(4) } },
    { "LT", { R(21), R(9), R(5) } },
    { "LU", { R(17), R(14), R(8), R(3) } },
    { "LV", { R(21), R(12), R(5) } },
    { "MT", { R(18), R(7), R(5) } },
    { "NL", { R(21), R(9) } },
    { "PL", { R(23), R(8), R(5) } },
    { "PT", { R(23), R(13), R(6) } },
    { "RO", { R(19), R(21), R(9), R(11), R(5) } },
    { "SE", { R(25), R(12), R(6) } },
    { "SI", { R(22), RD(95), R(5) } },
    { "SK", { R(20), R(23), R(19), R(10), R(5) } },
};

static const country_rates *table_for(const char *country)
{
    if (!country)
        return NULL;
    for (size_t i = 0; i < sizeof RATES / sizeof RATES[0]; i++)
        if (strcmp(RATES[i].country, country) == 0)
            return &RATES[i];
    return NULL;
}

static bool in_table(const country_rates *t, m2j_rate r)
{
    if (!t)
        return false;
    for (size_t i = 0; i < 6 && t->rates[i]; i++)
        if (t->rates[i] == r)
            return true;
    return false;
}

const char *m2j_vat_table_entry(size_t i, m2j_rate *out, size_t max, size_t *n)
{
    *n = 0;
    if (i >= sizeof RATES / sizeof RATES[0])
        return NULL;
    for (size_t k = 0; k < 6 && RATES[i].rates[k] && *n < max; k++)
        out[(*n)++] = RATES[i].rates[k];
    return RATES[i].country;
}

bool m2j_vat_table_has(const char *country, m2j_rate r)
{
    return in_table(table_for(country), r);
}

bool m2j_vat_table_accepts(const char *country, m2j_rate r)
{
    return r == 0 || m2j_vat_table_has(country, r) || m2j_vat_table_has(M2J_MERCHANT_COUNTRY, r);
}

bool m2j_vat_rate_accepted(const m2j_config *cfg, const char *country, m2j_rate r)
{
    if (r == 0)
        return true;
    m2j_rate configured;
    if (country && m2j_config_vat(cfg, country, &configured) && configured == r)
        return true;
    if (m2j_config_vat(cfg, M2J_MERCHANT_COUNTRY, &configured) && configured == r)
        return true;
    return m2j_vat_table_accepts(country, r);
}

static size_t add_unique(m2j_rate *out, size_t n, size_t max, m2j_rate r)
{
    if (r == 0 || n >= max)
        return n;
    for (size_t i = 0; i < n; i++)
        if (out[i] == r)
            return n;
    out[n] = r;
    return n + 1;
}

size_t m2j_vat_candidate_rates(const m2j_config *cfg, const char *country, m2j_rate *out, size_t max)
{
    size_t n = 0;
    m2j_rate configured;
    if (country && m2j_config_vat(cfg, country, &configured))
        n = add_unique(out, n, max, configured);
    const country_rates *t = table_for(country);
    for (size_t i = 0; t && i < 6 && t->rates[i]; i++)
        n = add_unique(out, n, max, t->rates[i]);
    if (m2j_config_vat(cfg, M2J_MERCHANT_COUNTRY, &configured))
        n = add_unique(out, n, max, configured);
    t = table_for(M2J_MERCHANT_COUNTRY);
    for (size_t i = 0; t && i < 6 && t->rates[i]; i++)
        n = add_unique(out, n, max, t->rates[i]);
    return n;
}

char *m2j_rate_format_percent(m2j_rate r, char *out)
{
    /* rate units are 1/10,000 percent: print up to 4 decimals, trimmed */
    m2j_rate a = r < 0 ? -r : r;
    int n = snprintf(out, M2J_RATE_STRLEN, "%s%lld.%04lld", r < 0 ? "-" : "",
                     (long long)(a / M2J_RATE_SCALE), (long long)(a % M2J_RATE_SCALE));
    while (n > 0 && out[n - 1] == '0')
        out[--n] = '\0';
    if (n > 0 && out[n - 1] == '.')
        out[--n] = '\0';
    if (n + 1 < M2J_RATE_STRLEN) {
        out[n] = '%';
        out[n + 1] = '\0';
    }
    return out;
}
