/* util.c: small helpers of the Jortt double: ids, dates, clocks, query
 * parameters and list pages. */
#include "jd.h"
#include "totals.h"

#include <ctype.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

m2j_rc jd_random_hex(char *out, size_t nbytes)
{
    unsigned char b[64];
    if (nbytes > sizeof b || RAND_bytes(b, (int)nbytes) != 1)
        return M2J_ERR_INTERNAL;
    for (size_t i = 0; i < nbytes; i++)
        sprintf(out + 2 * i, "%02x", b[i]);
    out[2 * nbytes] = '\0';
    return M2J_OK;
}

m2j_rc jd_uuid_v4(char out[37])
{
    unsigned char b[16];
    if (RAND_bytes(b, sizeof b) != 1)
        return M2J_ERR_INTERNAL;
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
    return M2J_OK;
}

bool jd_is_uuid(const char *s)
{
    if (!s || strlen(s) != 36)
        return false;
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return false;
        } else if (!isxdigit((unsigned char)s[i])) {
            return false;
        }
    }
    return true;
}

bool jd_uuid_key(const char *id, char key[37])
{
    if (!jd_is_uuid(id))
        return false;
    for (int i = 0; i < 37; i++)
        key[i] = (char)tolower((unsigned char)id[i]);
    return true;
}

static bool parse_date(const char *s, int *y, int *m, int *d)
{
    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return false;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && !isdigit((unsigned char)s[i]))
            return false;
    *y = atoi(s);
    *m = atoi(s + 5);
    *d = atoi(s + 8);
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (*y < 1900 || *m < 1 || *m > 12 || *d < 1)
        return false;
    int leap = (*y % 4 == 0 && *y % 100 != 0) || *y % 400 == 0;
    return *d <= mdays[*m - 1] + (*m == 2 ? leap : 0);
}

bool jd_is_date(const char *s)
{
    int y, m, d;
    return parse_date(s, &y, &m, &d);
}

void jd_today(char out[11])
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 11, "%Y-%m-%d", &tm);
}

void jd_add_days(const char *date, long days, char out[11])
{
    int y, m, d;
    if (days > 100000 || days < -100000 || !parse_date(date, &y, &m, &d)) {
        jd_today(out);
        return;
    }
    struct tm tm = {0};
    tm.tm_year = y - 1900;
    tm.tm_mon = m - 1;
    tm.tm_mday = d;
    time_t t = timegm(&tm) + (time_t)days * 86400;
    gmtime_r(&t, &tm);
    strftime(out, 11, "%Y-%m-%d", &tm);
}

void jd_now_iso(char out[32])
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%S+00:00", &tm);
}

int64_t jd_now_s(void)
{
    return (int64_t)time(NULL);
}

uint64_t jd_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

bool jd_contains_ci(const char *h, const char *n)
{
    if (!h || !n)
        return false;
    size_t hl = strlen(h), nl = strlen(n);
    if (nl > hl)
        return false;
    for (size_t i = 0; i + nl <= hl; i++) {
        size_t j = 0;
        while (j < nl && tolower((unsigned char)h[i + j]) == tolower((unsigned char)n[j]))
            j++;
        if (j == nl)
            return true;
    }
    return false;
}

size_t jd_utf8_len(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xc0) != 0x80)
            n++;
    return n;
}

const char *jd_query(jd_ctx *c, const char *name)
{
    json_object *v;
    if (!c->query || !json_object_object_get_ex(c->query, name, &v))
        return NULL;
    return json_object_get_string(v);
}

bool jd_page_param(jd_ctx *c, long *page)
{
    const char *p = jd_query(c, "page");
    *page = 1;
    if (!p)
        return true;
    char *end;
    long v = strtol(p, &end, 10);
    if (*p == '\0' || *end != '\0' || v < 1 || v > 1000000) {
        json_object *d = NULL;
        jd_detail(&d, "is_invalid", "page", "is invalid");
        jd_invalid(c, d);
        return false;
    }
    *page = v;
    return true;
}

/* href for this list with the given page: the request's own path and query,
 * with page replaced. */
static json_object *page_link(jd_ctx *c, long page)
{
    struct evbuffer *b = evbuffer_new();
    if (!b)
        return NULL;
    evbuffer_add_printf(b, "%s%s?", c->srv->base_url, c->path);
    json_object_object_foreach(c->query, k, v)
    {
        if (strcmp(k, "page") == 0)
            continue;
        char *ek = evhttp_uriencode(k, -1, 0);
        char *ev = evhttp_uriencode(json_object_get_string(v), -1, 0);
        if (ek && ev)
            evbuffer_add_printf(b, "%s=%s&", ek, ev);
        free(ek);
        free(ev);
    }
    evbuffer_add_printf(b, "page=%ld", page);
    size_t len = evbuffer_get_length(b);
    json_object *link = json_object_new_object();
    json_object_object_add(link, "href",
                           json_object_new_string_len((const char *)evbuffer_pullup(b, -1), (int)len));
    json_object_object_add(link, "type", json_object_new_string("application/json"));
    evbuffer_free(b);
    return link;
}

void jd_reply_page(jd_ctx *c, json_object *all, long page)
{
    size_t n = json_object_array_length(all);
    size_t from = (size_t)(page - 1) * JD_PAGE_SIZE;
    json_object *data = json_object_new_array();
    for (size_t i = from; i < n && i < from + JD_PAGE_SIZE; i++)
        json_object_array_add(data, json_object_get(json_object_array_get_idx(all, i)));
    json_object_put(all);

    json_object *links = json_object_new_object();
    json_object_object_add(links, "previous", page > 1 ? page_link(c, page - 1) : NULL);
    json_object_object_add(links, "next", from + JD_PAGE_SIZE < n ? page_link(c, page + 1) : NULL);
    json_object_object_add(links, "self", page_link(c, page));
    json_object *doc = json_object_new_object();
    json_object_object_add(doc, "href", json_object_new_string("https://developer.jortt.nl/#pagination"));
    json_object_object_add(doc, "type", json_object_new_string("text/html"));
    json_object_object_add(links, "documentation", doc);

    json_object *out = json_object_new_object();
    json_object_object_add(out, "data", data);
    json_object_object_add(out, "_links", links);
    jd_reply(c, 200, out);
}

json_object *jd_str_or_null(const char *s)
{
    return s ? json_object_new_string(s) : NULL;
}

json_object *jd_money_obj(int64_t cents)
{
    char buf[JD_NUM_STRLEN];
    json_object *o = json_object_new_object();
    json_object_object_add(o, "amount", json_object_new_string(jd_format_cents(cents, buf)));
    json_object_object_add(o, "currency", json_object_new_string("EUR"));
    return o;
}

json_object *jd_parse_form(const char *s, size_t len)
{
    json_object *out = json_object_new_object();
    size_t i = 0;
    while (i < len) {
        size_t j = i;
        while (j < len && s[j] != '&')
            j++;
        if (j > i) {
            size_t eq = i;
            while (eq < j && s[eq] != '=')
                eq++;
            char *k = strndup(s + i, eq - i);
            char *v = strndup(s + (eq < j ? eq + 1 : j), eq < j ? j - eq - 1 : 0);
            size_t kl = 0, vl = 0;
            char *dk = k ? evhttp_uridecode(k, 1, &kl) : NULL;
            char *dv = v ? evhttp_uridecode(v, 1, &vl) : NULL;
            free(k);
            free(v);
            /* A decoded NUL would silently truncate a value: refuse it. */
            if (!dk || !dv || strlen(dk) != kl || strlen(dv) != vl) {
                free(dk);
                free(dv);
                json_object_put(out);
                return NULL;
            }
            json_object_object_add(out, dk, json_object_new_string_len(dv, (int)vl));
            free(dk);
            free(dv);
        }
        i = j + 1;
    }
    return out;
}
