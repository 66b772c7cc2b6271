/* totals.c: see totals.h. Exact integer arithmetic only. */
#include "totals.h"

#include <stdio.h>
#include <string.h>

static const int64_t pow10_tab[] = {
    1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000,
};

m2j_rc jd_decimal_parse(const char *text, int max_dec, int scale_dec, int64_t max_abs, int64_t *out)
{
    if (!text || max_dec < 0 || scale_dec > 9 || max_dec > scale_dec)
        return M2J_ERR_INVALID;
    const char *p = text;
    bool neg = false;
    if (*p == '-') {
        neg = true;
        p++;
    }
    /* 15 integer digits bound the value long before int64 can overflow; the
     * max_abs check gives the precise limit. */
    int64_t ip = 0;
    int ndig = 0;
    while (*p >= '0' && *p <= '9') {
        if (ndig >= 15)
            return M2J_ERR_TOO_LARGE;
        ip = ip * 10 + (*p - '0');
        if (ip > 0)
            ndig++; /* leading zeros do not count */
        p++;
    }
    if (p == text + (neg ? 1 : 0))
        return M2J_ERR_INVALID; /* no integer digit */
    int64_t fp = 0;
    int ndec = 0;
    if (*p == '.') {
        p++;
        if (!(*p >= '0' && *p <= '9'))
            return M2J_ERR_INVALID;
        while (*p >= '0' && *p <= '9') {
            if (ndec >= max_dec)
                return M2J_ERR_INVALID;
            fp = fp * 10 + (*p - '0');
            ndec++;
            p++;
        }
    }
    if (*p != '\0')
        return M2J_ERR_INVALID;
    __int128 v = (__int128)ip * pow10_tab[scale_dec] + (__int128)fp * pow10_tab[scale_dec - ndec];
    if (v > max_abs)
        return M2J_ERR_TOO_LARGE;
    *out = neg ? -(int64_t)v : (int64_t)v;
    return M2J_OK;
}

m2j_rc jd_amount_parse(const char *text, int64_t *cents)
{
    return jd_decimal_parse(text, 2, 2, JD_MAX_AMOUNT_CENTS, cents);
}

m2j_rc jd_quantity_parse(const char *text, int64_t *qty)
{
    return jd_decimal_parse(text, 6, 6, JD_MAX_QTY, qty);
}

m2j_rc jd_vat_parse(const char *text, int64_t *rate)
{
    if (!text || text[0] == '-')
        return M2J_ERR_INVALID;
    int64_t r;
    m2j_rc rc = jd_decimal_parse(text, 6, 6, (int64_t)1000 * JD_RATE_SCALE, &r);
    if (rc != M2J_OK)
        return rc;
    if (r >= JD_RATE_SCALE)
        return M2J_ERR_TOO_LARGE;
    *rate = r;
    return M2J_OK;
}

int64_t jd_div_round(__int128 n, __int128 d)
{
    __int128 q = n / d, r = n % d;
    if (r < 0)
        r = -r;
    if (2 * r >= d)
        q += n < 0 ? -1 : 1;
    return (int64_t)q;
}

char *jd_format_scaled(int64_t v, int64_t scale, int min_dec, char *out)
{
    uint64_t a = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    uint64_t ip = a / (uint64_t)scale, fp = a % (uint64_t)scale;
    char frac[24];
    int len = 0;
    for (int64_t s = scale / 10; s >= 1 && len < 20; s /= 10)
        frac[len++] = (char)('0' + (fp / (uint64_t)s) % 10);
    while (len > min_dec && frac[len - 1] == '0')
        len--;
    frac[len] = '\0';
    snprintf(out, JD_NUM_STRLEN, "%s%llu%s%s", v < 0 ? "-" : "", (unsigned long long)ip,
             len > 0 ? "." : "", frac);
    return out;
}

char *jd_format_cents(int64_t cents, char *out)
{
    return jd_format_scaled(cents, 100, 2, out);
}

m2j_rc jd_line_total(const jd_line *line, int64_t *cents)
{
    __int128 p = (__int128)line->quantity * line->amount;
    int64_t t = jd_div_round(p, JD_QTY_SCALE);
    if (t > JD_MAX_LINE_CENTS || t < -JD_MAX_LINE_CENTS)
        return M2J_ERR_TOO_LARGE;
    *cents = t;
    return M2J_OK;
}

int64_t jd_line_total_ex_vat(int64_t line_total, int64_t rate, bool net_amounts)
{
    if (!net_amounts)
        return line_total;
    return jd_div_round((__int128)line_total * JD_RATE_SCALE, (__int128)JD_RATE_SCALE + rate);
}

m2j_rc jd_totals_compute(const jd_line *lines, size_t n, bool net_amounts,
                         const int64_t *discount_pcts, size_t ndiscounts, jd_totals *out)
{
    memset(out, 0, sizeof *out);
    if (n > JD_MAX_LINES || ndiscounts > JD_MAX_DISCOUNTS)
        return M2J_ERR_INVALID;
    int64_t pct_sum = 0;
    for (size_t i = 0; i < ndiscounts; i++) {
        if (discount_pcts[i] < 0 || discount_pcts[i] > 100)
            return M2J_ERR_INVALID;
        pct_sum += discount_pcts[i];
    }
    if (pct_sum > 100)
        return M2J_ERR_INVALID;

    for (size_t i = 0; i < n; i++) {
        int64_t t;
        m2j_rc rc = jd_line_total(&lines[i], &t);
        if (rc != M2J_OK)
            return rc;
        size_t k = 0;
        while (k < out->nrates && out->rates[k].rate != lines[i].rate)
            k++;
        if (k == out->nrates) {
            if (out->nrates == JD_MAX_RATES)
                return M2J_ERR_TOO_LARGE;
            out->rates[out->nrates++].rate = lines[i].rate;
        }
        out->rates[k].gross += t; /* <= 1000 lines x 1e15: no overflow */
    }

    for (size_t k = 0; k < out->nrates; k++) {
        jd_rate_total *rt = &out->rates[k];
        for (size_t d = 0; d < ndiscounts; d++)
            rt->discount += jd_div_round((__int128)rt->gross * discount_pcts[d], 100);
        rt->base = rt->gross - rt->discount;
        if (net_amounts)
            rt->vat = jd_div_round((__int128)rt->base * rt->rate, (__int128)JD_RATE_SCALE + rt->rate);
        else
            rt->vat = jd_div_round((__int128)rt->base * rt->rate, JD_RATE_SCALE);
        out->vat += rt->vat;
        if (net_amounts)
            out->incl += rt->base;
        else
            out->excl += rt->base;
    }
    if (net_amounts)
        out->excl = out->incl - out->vat;
    else
        out->incl = out->excl + out->vat;
    return M2J_OK;
}
