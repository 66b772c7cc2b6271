/* poll_cursor.c: see poll_cursor.h. */
#include "magento/poll_cursor.h"
#include "magento/search_criteria.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* "YYYY-MM-DD HH:MM:SS" exactly: digits where digits belong (sscanf's %4d
 * alone took "-999" or " +12" for a year, and such a time, moved back by
 * the overlap, no longer fitted the 19 characters of a cursor), fields in
 * their ranges (timegm would quietly carry 25:61 into the next day). */
static bool ts_to_time(const char *ts, long long *out)
{
    static const char shape[] = "dddd-dd-dd dd:dd:dd";
    if (!ts || strlen(ts) != 19)
        return false;
    for (int i = 0; i < 19; i++)
        if (shape[i] == 'd' ? !isdigit((unsigned char)ts[i]) : ts[i] != shape[i])
            return false;
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    tm.tm_year = atoi(ts) - 1900;
    tm.tm_mon = atoi(ts + 5) - 1;
    tm.tm_mday = atoi(ts + 8);
    tm.tm_hour = atoi(ts + 11);
    tm.tm_min = atoi(ts + 14);
    tm.tm_sec = atoi(ts + 17);
    if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
        tm.tm_min > 59 || tm.tm_sec > 60)
        return false;
    *out = (long long)timegm(&tm);
    return true;
}

static bool id_ok(const char *id)
{
    size_t n = id ? strlen(id) : 0;
    if (n == 0 || n >= sizeof(((m2j_poll_cursor *)0)->id))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)id[i]))
            return false;
    return true;
}

void m2j_poll_cursor_at(long long t, m2j_poll_cursor *out)
{
    time_t tt = (time_t)t;
    struct tm tm;
    /* A time outside the years 0000-9999 does not fit a cursor: the
     * nearest one that does (strftime leaves the buffer undefined when the
     * text does not fit). */
    if (!gmtime_r(&tt, &tm) || tm.tm_year < -1900 || tm.tm_year > 9999 - 1900 ||
        strftime(out->ts, sizeof out->ts, "%Y-%m-%d %H:%M:%S", &tm) != 19)
        snprintf(out->ts, sizeof out->ts, "%s", t < 0 ? "0000-01-01 00:00:00" : "9999-12-31 23:59:59");
    snprintf(out->id, sizeof out->id, "0");
}

bool m2j_poll_cursor_set(m2j_poll_cursor *c, const char *ts, const char *id)
{
    long long t;
    if (!ts_to_time(ts, &t) || !id_ok(id))
        return false;
    snprintf(c->ts, sizeof c->ts, "%s", ts);
    snprintf(c->id, sizeof c->id, "%s", id);
    return true;
}

bool m2j_poll_cursor_parse(const char *s, m2j_poll_cursor *out)
{
    const char *bar = s ? strchr(s, '|') : NULL;
    if (!bar || bar - s != 19)
        return false;
    char ts[20];
    memcpy(ts, s, 19);
    ts[19] = '\0';
    return m2j_poll_cursor_set(out, ts, bar + 1);
}

m2j_rc m2j_poll_cursor_format(const m2j_poll_cursor *c, m2j_buf *out)
{
    m2j_buf_reset(out);
    return m2j_buf_printf(out, "%s|%s", c->ts, c->id);
}

bool m2j_poll_cursor_rewound(const char *ts, long overlap_s, m2j_poll_cursor *out)
{
    long long t;
    if (!ts_to_time(ts, &t))
        return false;
    m2j_poll_cursor_at(t - overlap_s, out);
    return true;
}

bool m2j_poll_cursor_at_rest(const m2j_poll_cursor *c, const m2j_poll_cursor *last, long overlap_s,
                             m2j_poll_cursor *out)
{
    bool c_at_rest = strcmp(c->id, "0") == 0;
    if (!last && c_at_rest) {
        *out = *c;
        return true;
    }
    if (!m2j_poll_cursor_rewound(last ? last->ts : c->ts, overlap_s, out))
        return false;
    if (c_at_rest && m2j_poll_cursor_cmp(out, c) < 0)
        *out = *c;
    return true;
}

m2j_rc m2j_poll_query(m2j_buf *q, const m2j_poll_cursor *c, const char *ts_field, const char *id_field,
                      int page_size)
{
    if (m2j_sc_filter(q, 0, 0, ts_field, c->ts, "gteq") != M2J_OK ||
        m2j_sc_filter(q, 1, 0, ts_field, c->ts, "gt") != M2J_OK ||
        m2j_sc_filter(q, 1, 1, id_field, c->id, "gt") != M2J_OK ||
        m2j_sc_sort(q, 0, ts_field, true) != M2J_OK || m2j_sc_sort(q, 1, id_field, true) != M2J_OK ||
        m2j_sc_page(q, page_size, 1) != M2J_OK)
        return M2J_ERR_NOMEM;
    return M2J_OK;
}

int m2j_poll_cursor_cmp(const m2j_poll_cursor *a, const m2j_poll_cursor *b)
{
    int c = strcmp(a->ts, b->ts);
    if (c)
        return c < 0 ? -1 : 1;
    /* decimal ids without leading zeros: the longer is the larger */
    size_t la = strlen(a->id), lb = strlen(b->id);
    if (la != lb)
        return la < lb ? -1 : 1;
    c = strcmp(a->id, b->id);
    return c < 0 ? -1 : c > 0;
}
