/* order_range.c: see order_range.h. */
#include "magento/order_range.h"
#include "base/clock.h"
#include "base/json_util.h"
#include "magento/search_criteria.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define MAX_BACKOFF_MS 60000
#define COUNT_RETRIES  4

/* "YYYY-MM-DD" naming a real day: the date survives a round trip through
 * timegm (2026-02-30 would come back as March 2nd). */
static bool day_parse(const char *s, time_t *out)
{
    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return false;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && !isdigit((unsigned char)s[i]))
            return false;
    int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    int m = (s[5] - '0') * 10 + (s[6] - '0'), d = (s[8] - '0') * 10 + (s[9] - '0');
    if (y < 1970 || m < 1 || m > 12 || d < 1 || d > 31)
        return false;
    struct tm tm = { .tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d };
    time_t t = timegm(&tm);
    struct tm back;
    if (t == (time_t)-1 || !gmtime_r(&t, &back) || back.tm_mday != d || back.tm_mon != m - 1)
        return false;
    *out = t;
    return true;
}

/* false when t is past the year 9999: the text would not fit, and
 * strftime then leaves out undefined. */
static bool stamp(time_t t, char out[20])
{
    struct tm tm;
    if (!gmtime_r(&t, &tm) || strftime(out, 20, "%Y-%m-%d %H:%M:%S", &tm) != 19) {
        out[0] = '\0';
        return false;
    }
    return true;
}

m2j_rc m2j_day_range_parse(const char *from, const char *to, long long now_ms, m2j_day_range *out, m2j_err *err)
{
    memset(out, 0, sizeof *out);
    time_t f, t;
    if (!from || !*from)
        return m2j_fail(err, M2J_ERR_INVALID, "--from YYYY-MM-DD is required");
    if (!day_parse(from, &f))
        return m2j_fail(err, M2J_ERR_INVALID, "--from %.40s is not a date YYYY-MM-DD", from);
    char today[11];
    if (!to) {
        time_t now = (time_t)(now_ms / 1000);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(today, sizeof today, "%Y-%m-%d", &tm);
        to = today;
    }
    if (!day_parse(to, &t))
        return m2j_fail(err, M2J_ERR_INVALID, "--to %.40s is not a date YYYY-MM-DD", to);
    if (t < f)
        return m2j_fail(err, M2J_ERR_INVALID, "--to %s is before --from %s", to, from);
    /* until is the day after --to: 9999-12-31 has none that fits */
    if (!stamp(f, out->from_ts) || !stamp(t + 86400, out->until_ts)) {
        memset(out, 0, sizeof *out);
        return m2j_fail(err, M2J_ERR_INVALID, "--to %s is too far ahead (the last day is 9999-12-30)", to);
    }
    memcpy(out->from_day, from, 10);
    memcpy(out->to_day, to, 10);
    return M2J_OK;
}

m2j_rc m2j_order_range_query(const m2j_day_range *r, char *const *statuses, size_t n_statuses,
                             const char *after_id, m2j_buf *q)
{
    int g = 0;
    m2j_rc rc = m2j_sc_filter(q, g++, 0, "created_at", r->from_ts, "gteq");
    if (rc == M2J_OK)
        rc = m2j_sc_filter(q, g++, 0, "created_at", r->until_ts, "lt");
    if (rc == M2J_OK && n_statuses) {
        m2j_buf in = {0};
        for (size_t i = 0; i < n_statuses && rc == M2J_OK; i++)
            rc = m2j_buf_printf(&in, "%s%s", i ? "," : "", statuses[i]);
        if (rc == M2J_OK)
            rc = m2j_sc_filter(q, g++, 0, "status", in.data, "in");
        m2j_buf_free(&in);
    }
    if (rc == M2J_OK && after_id)
        rc = m2j_sc_filter(q, g++, 0, "entity_id", after_id, "gt");
    if (rc == M2J_OK)
        rc = m2j_sc_sort(q, 0, "entity_id", true);
    return rc;
}

/* One page, asked again after 429/5xx/timeouts. */
static m2j_rc page(m2j_magento_client *c, const char *query, int retries, m2j_magento_response *resp,
                   m2j_err *err)
{
    long long wait_ms = 1000;
    for (int attempt = 0;; attempt++) {
        m2j_magento_response_clear(resp);
        m2j_rc rc = m2j_magento_request(c, "GET", "/V1/orders", query, NULL, resp, err);
        if (rc != M2J_OK || resp->cls != M2J_MAGENTO_RETRY || attempt >= retries ||
            resp->transport == M2J_TRANSPORT_NOT_SENT)
            return rc;
        long long w = resp->retry_after_s > 0 ? resp->retry_after_s * 1000LL : wait_ms;
        m2j_sleep_ms(w < MAX_BACKOFF_MS ? w : MAX_BACKOFF_MS, NULL);
        wait_ms *= 2;
    }
}

m2j_rc m2j_order_range_count(m2j_magento_client *c, const m2j_day_range *r, char *const *statuses,
                             size_t n_statuses, long *count, m2j_magento_response *resp, m2j_err *err)
{
    m2j_buf q = {0};
    memset(resp, 0, sizeof *resp);
    resp->retry_after_s = -1;
    m2j_rc rc = m2j_order_range_query(r, statuses, n_statuses, NULL, &q);
    if (rc == M2J_OK)
        rc = m2j_sc_page(&q, 1, 1);
    if (rc != M2J_OK) {
        m2j_buf_free(&q);
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    }
    rc = page(c, q.data, COUNT_RETRIES, resp, err);
    m2j_buf_free(&q);
    int64_t tc = 0;
    if (rc == M2J_OK && resp->cls == M2J_MAGENTO_OK) {
        if (m2j_json_int(resp->json, "total_count", &tc) != M2J_OK || tc < 0) {
            resp->cls = M2J_MAGENTO_PERMANENT;
            m2j_buf_puts(&resp->reason, "Magento /V1/orders answered without a total_count");
        } else {
            *count = (long)tc;
        }
    }
    return rc;
}

m2j_rc m2j_order_range_walk(m2j_magento_client *c, const m2j_day_range *r, char *const *statuses,
                            size_t n_statuses, int page_size, int retries, m2j_order_page_fn fn, void *ud,
                            long *total, m2j_magento_response *resp, m2j_err *err)
{
    memset(resp, 0, sizeof *resp);
    resp->retry_after_s = -1;
    if (total)
        *total = -1;
    if (page_size < 1 || page_size > 100)
        page_size = 100;
    m2j_buf q = {0};
    char after[64] = "";
    m2j_rc rc = M2J_OK;
    for (;;) {
        m2j_buf_reset(&q);
        if (m2j_order_range_query(r, statuses, n_statuses, *after ? after : NULL, &q) != M2J_OK ||
            m2j_sc_page(&q, page_size, 1) != M2J_OK) {
            rc = m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
            break;
        }
        rc = page(c, q.data, retries, resp, err);
        if (rc != M2J_OK || resp->cls != M2J_MAGENTO_OK)
            break;
        int64_t left = 0;
        json_object *items = m2j_json_get_arr(resp->json, "items");
        if (m2j_json_int(resp->json, "total_count", &left) != M2J_OK || left < 0) {
            resp->cls = M2J_MAGENTO_PERMANENT;
            m2j_buf_puts(&resp->reason, "Magento /V1/orders answered without a total_count");
            break;
        }
        if (total && *total < 0)
            *total = (long)left;
        size_t n = items ? json_object_array_length(items) : 0;
        if (n == 0)
            break;
        const char *last = m2j_json_get_id(json_object_array_get_idx(items, n - 1), "entity_id");
        if (!last || strlen(last) >= sizeof after || strcmp(last, after) == 0) {
            /* without a key that moves on, the next page would be this one */
            resp->cls = M2J_MAGENTO_PERMANENT;
            m2j_buf_puts(&resp->reason, "Magento /V1/orders: an order without a usable entity_id ends the walk");
            break;
        }
        snprintf(after, sizeof after, "%s", last);
        if (!fn(items, ud) || (int64_t)n >= left)
            break;
    }
    m2j_buf_free(&q);
    return rc;
}
