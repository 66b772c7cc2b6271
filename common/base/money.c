/* money.c: exact decimal parsing, rounding and formatting (see money.h).
 *
 * Parsing works on the digit string directly instead of going through a
 * double, so "0.1" is exactly 1000 units and "12.34005" rounds the way a
 * person would expect (half away from zero), not the way binary floating
 * point happens to land. */
#include "base/money.h"

#include <stdio.h>
#include <string.h>

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Parses decimal text into value * 10^decimals, rounded half away from zero,
 * rejecting |result| > max. `what` names the kind of value in messages. */
static m2j_rc parse_scaled(const char *text, int decimals, int64_t max,
                           int64_t *out, const char *what, m2j_err *err)
{
    if (!text)
        return m2j_fail(err, M2J_ERR_INVALID, "%s: missing value", what);
    const char *s = text;
    while (is_space(*s))
        s++;
    bool neg = false;
    if (*s == '+' || *s == '-') {
        neg = (*s == '-');
        s++;
    }
    const char *ip = s;
    size_t nint = 0;
    while (s[nint] >= '0' && s[nint] <= '9')
        nint++;
    s += nint;
    const char *fp = NULL;
    size_t nfrac = 0;
    if (*s == '.') {
        s++;
        fp = s;
        while (s[nfrac] >= '0' && s[nfrac] <= '9')
            nfrac++;
        s += nfrac;
    }
    if (nint + nfrac == 0)
        return m2j_fail(err, M2J_ERR_INVALID, "%s: not a decimal number: \"%.40s\"", what, text);
    int64_t exp = 0;
    if (*s == 'e' || *s == 'E') {
        s++;
        bool eneg = false;
        if (*s == '+' || *s == '-') {
            eneg = (*s == '-');
            s++;
        }
        if (!(*s >= '0' && *s <= '9'))
            return m2j_fail(err, M2J_ERR_INVALID, "%s: bad exponent in \"%.40s\"", what, text);
        while (*s >= '0' && *s <= '9') {
            /* Saturate: any exponent this large is out of range or zero anyway. */
            if (exp < 1000000000)
                exp = exp * 10 + (*s - '0');
            s++;
        }
        if (eneg)
            exp = -exp;
    }
    while (is_space(*s))
        s++;
    if (*s != '\0')
        return m2j_fail(err, M2J_ERR_INVALID, "%s: not a decimal number: \"%.40s\"", what, text);

    /* Digits d[0..n) with the decimal point after `point` digits; the scaled
     * integer is the first point+decimals digits (zero-padded), and the digit
     * after them decides rounding. */
    size_t n = nint + nfrac;
    int64_t point = (int64_t)nint + exp;
    int64_t keep = point + decimals;
#define DIGIT(i) ((size_t)(i) < nint ? ip[(i)] - '0' : fp[(size_t)(i) - nint] - '0')
    uint64_t acc = 0;
    bool nonzero = false;
    for (int64_t i = 0; i < keep; i++) {
        int d = i < (int64_t)n ? DIGIT(i) : 0;
        if (d)
            nonzero = true;
        if (!nonzero && i >= (int64_t)n)
            break; /* all zero so far and only padding left */
        acc = acc * 10 + (uint64_t)d;
        if (acc > (uint64_t)max)
            return m2j_fail(err, M2J_ERR_TOO_LARGE, "%s: out of range: \"%.40s\"", what, text);
    }
    int rd = 0;
    if (keep >= 0 && keep < (int64_t)n)
        rd = DIGIT(keep);
#undef DIGIT
    if (rd >= 5)
        acc++;
    if (acc > (uint64_t)max)
        return m2j_fail(err, M2J_ERR_TOO_LARGE, "%s: out of range: \"%.40s\"", what, text);
    *out = neg ? -(int64_t)acc : (int64_t)acc;
    return M2J_OK;
}

m2j_rc m2j_money_parse(const char *text, m2j_money *out, m2j_err *err)
{
    return parse_scaled(text, 4, M2J_MONEY_MAX, out, "amount", err);
}

m2j_money m2j_money_round_cents(m2j_money m)
{
    int64_t q = m / M2J_CENT, r = m % M2J_CENT;
    if (r >= M2J_CENT / 2)
        q++;
    else if (r <= -M2J_CENT / 2)
        q--;
    return q * M2J_CENT;
}

static uint64_t uabs64(int64_t v)
{
    return v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
}

char *m2j_money_format(m2j_money m, char *out)
{
    m2j_money c = m2j_money_round_cents(m);
    uint64_t a = uabs64(c) / M2J_CENT;
    snprintf(out, M2J_MONEY_STRLEN, "%s%llu.%02llu", c < 0 ? "-" : "",
             (unsigned long long)(a / 100), (unsigned long long)(a % 100));
    return out;
}

/* Formats v / 10^decimals with trailing zeros trimmed down to 2 decimals.
 * Any int64 fits the callers' buffers (at most 1 + 19 + 1 + 6 bytes), but
 * the compiler cannot see that, so format into a roomy local first. */
static char *format_trimmed(int64_t v, int decimals, char *out, size_t outlen)
{
    char tmp[48];
    uint64_t a = uabs64(v), div = 1;
    for (int i = 0; i < decimals; i++)
        div *= 10;
    snprintf(tmp, sizeof tmp, "%s%llu.%0*llu", v < 0 ? "-" : "",
             (unsigned long long)(a / div), decimals, (unsigned long long)(a % div));
    size_t len = strlen(tmp);
    size_t dot = (size_t)(strchr(tmp, '.') - tmp);
    while (len > dot + 3 && tmp[len - 1] == '0')
        tmp[--len] = '\0';
    snprintf(out, outlen, "%s", tmp);
    return out;
}

char *m2j_money_format4(m2j_money m, char *out)
{
    return format_trimmed(m, 4, out, M2J_MONEY_STRLEN);
}

m2j_money m2j_money_muldiv(m2j_money m, int64_t num, int64_t den)
{
    if (den <= 0)
        return 0; /* contract says den > 0; refuse quietly rather than trap */
    __int128 p = (__int128)m * num;
    __int128 q = p / den, r = p % den;
    __int128 r2 = r < 0 ? -r : r;
    if (r2 * 2 >= den)
        q += (p < 0) ? -1 : 1;
    if (q > INT64_MAX)
        return INT64_MAX;
    if (q < INT64_MIN)
        return INT64_MIN;
    return (m2j_money)q;
}

/* Both VAT functions round the exact quotient to cents in one step (dividing
 * by an extra M2J_CENT), so no intermediate rounding to 1/10,000 can push a
 * half-cent the wrong way. */
m2j_money m2j_vat_from_incl(m2j_money incl, m2j_rate r)
{
    int64_t den = ((int64_t)M2J_RATE_100PCT + r) * M2J_CENT;
    return m2j_money_muldiv(incl, r, den) * M2J_CENT;
}

m2j_money m2j_vat_from_excl(m2j_money excl, m2j_rate r)
{
    return m2j_money_muldiv(excl, r, (int64_t)M2J_RATE_100PCT * M2J_CENT) * M2J_CENT;
}

m2j_rc m2j_rate_parse_percent(const char *text, m2j_rate *out, m2j_err *err)
{
    int64_t v;
    m2j_rc rc = parse_scaled(text, 4, M2J_RATE_100PCT, &v, "VAT percentage", err);
    if (rc != M2J_OK)
        return rc;
    if (v < 0)
        return m2j_fail(err, M2J_ERR_INVALID, "VAT percentage: negative: \"%.40s\"", text);
    *out = v;
    return M2J_OK;
}

m2j_rc m2j_rate_parse_fraction(const char *text, m2j_rate *out, m2j_err *err)
{
    /* A fraction has 2 more decimal places than a percentage. */
    int64_t v;
    m2j_rc rc = parse_scaled(text, 6, M2J_RATE_100PCT, &v, "VAT fraction", err);
    if (rc != M2J_OK)
        return rc;
    if (v < 0)
        return m2j_fail(err, M2J_ERR_INVALID, "VAT fraction: negative: \"%.40s\"", text);
    *out = v;
    return M2J_OK;
}

char *m2j_rate_format_fraction(m2j_rate r, char *out)
{
    return format_trimmed(r, 6, out, M2J_RATE_STRLEN);
}
