/* config_lookup.c: the map lookups the mappers call per order or customer,
 * with the fallbacks config.h states ("*", then "EU" for revenue accounts). */
#include "config/config_read.h"

#include <string.h>

/* Index of key in a map of entries whose first member is `char *key`,
 * else of "*" when star, else -1. The stride trick keeps one search for the
 * five entry types. */
static long find_entry(const void *base, size_t n, size_t stride, const char *key, bool star)
{
    const char *p = base;
    if (key && *key)
        for (size_t i = 0; i < n; i++)
            if (strcmp(*(char *const *)(const void *)(p + i * stride), key) == 0)
                return (long)i;
    if (star)
        for (size_t i = 0; i < n; i++)
            if (strcmp(*(char *const *)(const void *)(p + i * stride), "*") == 0)
                return (long)i;
    return -1;
}

#define FIND(arr, n, key, star) find_entry((arr), (n), sizeof *(arr), (key), (star))

const m2j_payment_mapping *m2j_config_payment(const m2j_config *c, const char *code)
{
    long i = FIND(c->orders.payment_methods, c->orders.n_payment_methods, code, true);
    return i < 0 ? NULL : &c->orders.payment_methods[i].v;
}

const m2j_shipping_mapping *m2j_config_shipping(const m2j_config *c, const char *code)
{
    long i = FIND(c->orders.shipping_methods, c->orders.n_shipping_methods, code, true);
    return i < 0 ? NULL : &c->orders.shipping_methods[i].v;
}

const m2j_group_mapping *m2j_config_group(const m2j_config *c, const char *group_id)
{
    long i = FIND(c->customers.groups, c->customers.n_groups, group_id, true);
    return i < 0 ? NULL : &c->customers.groups[i].v;
}

bool m2j_config_vat(const m2j_config *c, const char *country, m2j_rate *out)
{
    long i = FIND(c->orders.vat_by_country, c->orders.n_vat_by_country, country, false);
    if (i < 0)
        return false;
    *out = c->orders.vat_by_country[i].v;
    return true;
}

const char *m2j_config_revenue_account(const m2j_config *c, const char *country)
{
    const m2j_string_entry *m = c->orders.revenue_account_by_country;
    size_t n = c->orders.n_revenue_account_by_country;
    long i = FIND(m, n, country, false);
    if (i < 0 && country && m2j_is_eu_country(country))
        i = FIND(m, n, "EU", false);
    if (i < 0)
        i = FIND(m, n, "*", false);
    return i < 0 ? NULL : m[i].v;
}

const char *m2j_config_language(const m2j_config *c, const char *country)
{
    long i = FIND(c->customers.language_by_country, c->customers.n_language_by_country, country, true);
    return i < 0 ? NULL : c->customers.language_by_country[i].v;
}

bool m2j_is_eu_country(const char *iso2)
{
    static const char *const eu[] = {"AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES",
                                     "FI", "FR", "GR", "HR", "HU", "IE", "IT", "LT", "LU",
                                     "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK", NULL};
    return iso2 && m2j_cfg_in_list(eu, iso2);
}
