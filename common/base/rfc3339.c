/* rfc3339.c: see rfc3339.h. Days are counted with the Gregorian leap rule
 * directly, so the result does not depend on TZ or on timegm(). */
#include "base/rfc3339.h"

#include <stdbool.h>

static bool digits(const char *s, size_t n, int *out)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

static bool is_leap(long long y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Leap years in 1..y (y >= 0). */
static long long leaps_through(long long y)
{
    return y / 4 - y / 100 + y / 400;
}

m2j_rc m2j_rfc3339_parse(const char *s, size_t len, long long *out)
{
    static const int before_month[12] = { 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334 };
    static const int month_days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    int y, mo, d, h, mi, sec;
    /* 2026-11-20T10:15:04 : 19 bytes, then fraction and zone */
    if (len < 20 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-' ||
        !digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !digits(s + 11, 2, &h) ||
        s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' || !digits(s + 17, 2, &sec))
        return M2J_ERR_INVALID;
    if (y < 1 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || sec > 60)
        return M2J_ERR_INVALID;
    if (d > month_days[mo - 1] + (mo == 2 && is_leap(y)))
        return M2J_ERR_INVALID;
    size_t i = 19;
    if (s[i] == '.') {
        size_t start = ++i;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == start)
            return M2J_ERR_INVALID;
    }
    long long offset = 0;
    if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
        i++;
    } else if (i < len && (s[i] == '+' || s[i] == '-')) {
        int oh, om;
        if (len - i < 6 || !digits(s + i + 1, 2, &oh) || s[i + 3] != ':' || !digits(s + i + 4, 2, &om) || oh > 23 ||
            om > 59)
            return M2J_ERR_INVALID;
        offset = (s[i] == '-' ? -1 : 1) * (oh * 3600LL + om * 60LL);
        i += 6;
    } else {
        return M2J_ERR_INVALID;
    }
    if (i != len)
        return M2J_ERR_INVALID;
    long long days = 365LL * (y - 1970) + (leaps_through(y - 1) - leaps_through(1969)) + before_month[mo - 1] +
                     (mo > 2 && is_leap(y)) + (d - 1);
    /* a leap second (:60) counts as the next second, as POSIX time does */
    *out = days * 86400 + h * 3600LL + mi * 60LL + sec - offset;
    return M2J_OK;
}
