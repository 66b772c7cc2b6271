/* html.c: see html.h. */
#include "receiver/html.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define REPLACEMENT "\xEF\xBF\xBD" /* U+FFFD */

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0 when
 * the bytes there are not one (overlong forms, surrogates and code points
 * past U+10FFFF included). */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    unsigned lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF)
        len = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else
        return 0;
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return len;
}

m2j_rc rcv_html_textn(m2j_buf *out, const char *text, size_t n)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t i = 0, run = 0;
    m2j_rc rc = M2J_OK;
    while (i < n && rc == M2J_OK) {
        unsigned char c = s[i];
        const char *rep = NULL;
        size_t take = 1;
        if (c == '&')
            rep = "&amp;";
        else if (c == '<')
            rep = "&lt;";
        else if (c == '>')
            rep = "&gt;";
        else if (c == '"')
            rep = "&quot;";
        else if (c == '\'')
            rep = "&#39;";
        else if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f)
            rep = REPLACEMENT;
        else if (c >= 0x80 && !(take = utf8_len(s + i, n - i))) {
            rep = REPLACEMENT;
            take = 1;
        }
        if (!rep) {
            i += take;
            run += take;
            continue;
        }
        if (run)
            rc = m2j_buf_append(out, s + i - run, run);
        if (rc == M2J_OK)
            rc = m2j_buf_puts(out, rep);
        run = 0;
        i += take;
    }
    if (rc == M2J_OK && run)
        rc = m2j_buf_append(out, s + i - run, run);
    if (rc == M2J_OK && !out->data)
        rc = m2j_buf_append(out, "", 0);
    return rc;
}

m2j_rc rcv_html_text(m2j_buf *out, const char *s)
{
    return s ? rcv_html_textn(out, s, strlen(s)) : M2J_OK;
}

m2j_rc rcv_html_query(m2j_buf *out, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    m2j_rc rc = M2J_OK;
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p && rc == M2J_OK; p++) {
        unsigned char c = *p;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
            c == '_' || c == '~') {
            rc = m2j_buf_append(out, p, 1);
        } else {
            char e[3] = { '%', hex[c >> 4], hex[c & 15] };
            rc = m2j_buf_append(out, e, 3);
        }
    }
    return rc;
}

m2j_rc rcv_html_time(m2j_buf *out, long long ms)
{
    if (ms <= 0)
        return m2j_buf_puts(out, "-");
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (!gmtime_r(&t, &tm))
        return m2j_buf_puts(out, "-");
    return m2j_buf_printf(out, "%04d-%02d-%02d %02d:%02d:%02d UTC", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                          tm.tm_hour, tm.tm_min, tm.tm_sec);
}

m2j_rc rcv_html_age(m2j_buf *out, long long ms)
{
    long long s = ms > 0 ? ms / 1000 : 0;
    if (s < 60)
        return m2j_buf_printf(out, "%lld s", s);
    if (s < 3600)
        return m2j_buf_printf(out, "%lld min", s / 60);
    if (s < 86400)
        return m2j_buf_printf(out, "%lld h %lld min", s / 3600, s % 3600 / 60);
    return m2j_buf_printf(out, "%lld d %lld h", s / 86400, s % 86400 / 3600);
}
