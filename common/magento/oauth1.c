/* oauth1.c: see oauth1.h. Section numbers are RFC 5849's. */
#include "magento/oauth1.h"
#include "base/crypto_util.h"
#include "base/percent.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *name; /* percent-encoded (3.4.1.3.2), so sorting compares what is signed */
    char *value;
} param;

typedef struct {
    param  v[M2J_OAUTH1_MAX_PARAMS];
    size_t n;
} params;

static void params_free(params *p)
{
    for (size_t i = 0; i < p->n; i++) {
        free(p->v[i].name);
        free(p->v[i].value);
    }
    p->n = 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static m2j_rc oom(m2j_err *err)
{
    return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
}

/* Decodes n bytes of form-urlencoded text ('+' is a space, 3.4.1.3.1) and
 * percent-encodes the result again the RFC's one way, into a new string:
 * a sender's "%7e" and "~" must sign alike. */
static m2j_rc reencode(const char *s, size_t n, char **out, m2j_err *err)
{
    m2j_buf raw = {0}, enc = {0};
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            int h = i + 2 < n ? hexval(s[i + 1]) : -1;
            int l = i + 2 < n ? hexval(s[i + 2]) : -1;
            if (h < 0 || l < 0) {
                m2j_buf_free(&raw);
                return m2j_fail(err, M2J_ERR_INVALID, "oauth1: bad %%-escape in a parameter");
            }
            c = (char)(h * 16 + l);
            i += 2;
        }
        if (m2j_buf_append(&raw, &c, 1) != M2J_OK) {
            m2j_buf_free(&raw);
            return oom(err);
        }
    }
    m2j_rc rc = m2j_url_escape_n(raw.data ? raw.data : "", raw.len, &enc);
    m2j_buf_free(&raw);
    if (rc != M2J_OK) {
        m2j_buf_free(&enc);
        return oom(err);
    }
    *out = m2j_buf_detach(&enc);
    return M2J_OK;
}

/* Takes over name and value (freed on failure too). */
static m2j_rc add_encoded(params *p, char *name, char *value, m2j_err *err)
{
    if (p->n == M2J_OAUTH1_MAX_PARAMS) {
        free(name);
        free(value);
        return m2j_fail(err, M2J_ERR_TOO_LARGE, "oauth1: more than %d parameters", M2J_OAUTH1_MAX_PARAMS);
    }
    p->v[p->n].name = name;
    p->v[p->n].value = value;
    p->n++;
    return M2J_OK;
}

/* Adds every name=value pair of a query string or form body. */
static m2j_rc add_form(params *p, const char *s, size_t n, m2j_err *err)
{
    size_t i = 0;
    while (i < n) {
        size_t end = i;
        while (end < n && s[end] != '&')
            end++;
        if (end > i) {
            size_t eq = i;
            while (eq < end && s[eq] != '=')
                eq++;
            char *name = NULL, *value = NULL;
            m2j_rc rc = reencode(s + i, eq - i, &name, err);
            if (rc == M2J_OK)
                rc = eq < end ? reencode(s + eq + 1, end - eq - 1, &value, err) : reencode("", 0, &value, err);
            if (rc != M2J_OK) {
                free(name);
                return rc;
            }
            if ((rc = add_encoded(p, name, value, err)) != M2J_OK)
                return rc;
        }
        i = end + 1;
    }
    return M2J_OK;
}

static m2j_rc add_plain(params *p, const char *name, const char *value, m2j_err *err)
{
    m2j_buf a = {0}, b = {0};
    if (m2j_url_escape(name, &a) != M2J_OK || m2j_url_escape(value ? value : "", &b) != M2J_OK) {
        m2j_buf_free(&a);
        m2j_buf_free(&b);
        return oom(err);
    }
    char *en = m2j_buf_detach(&a);
    char *ev = m2j_buf_detach(&b);
    return add_encoded(p, en, ev, err);
}

static int param_cmp(const void *a, const void *b)
{
    const param *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->value, y->value);
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* The base string URI (3.4.1.2): scheme and host in lower case, the port only
 * when it is not the scheme's default, the path; no query, no fragment.
 * Only the path is kept; the query part of url goes to query and qlen. */
static m2j_rc base_uri(const char *url, m2j_buf *out, const char **query, size_t *qlen, m2j_err *err)
{
    const char *sep = strstr(url, "://");
    if (!sep)
        return m2j_fail(err, M2J_ERR_INVALID, "oauth1: URL without a scheme");
    size_t sl = (size_t)(sep - url);
    bool https;
    if (sl == 5 && strncasecmp(url, "https", 5) == 0)
        https = true;
    else if (sl == 4 && strncasecmp(url, "http", 4) == 0)
        https = false;
    else
        return m2j_fail(err, M2J_ERR_INVALID, "oauth1: URL scheme must be http or https");
    const char *auth = sep + 3;
    size_t al = strcspn(auth, "/?#");
    if (al == 0 || memchr(auth, '@', al))
        return m2j_fail(err, M2J_ERR_INVALID, "oauth1: URL without a host, or with user info");
    /* host[:port]; an IPv6 literal keeps its brackets */
    size_t hl = al;
    const char *port = NULL;
    size_t pl = 0;
    const char *close = auth[0] == '[' ? memchr(auth, ']', al) : NULL;
    const char *colon = NULL;
    for (size_t i = close ? (size_t)(close - auth) : 0; i < al; i++)
        if (auth[i] == ':')
            colon = auth + i;
    if (colon) {
        hl = (size_t)(colon - auth);
        port = colon + 1;
        pl = al - hl - 1;
        for (size_t i = 0; i < pl; i++)
            if (port[i] < '0' || port[i] > '9')
                return m2j_fail(err, M2J_ERR_INVALID, "oauth1: URL port is not a number");
    }
    if (hl == 0)
        return m2j_fail(err, M2J_ERR_INVALID, "oauth1: URL without a host");
    bool default_port = !port || pl == 0 || (https && pl == 3 && memcmp(port, "443", 3) == 0) ||
                        (!https && pl == 2 && memcmp(port, "80", 2) == 0);
    m2j_rc rc = m2j_buf_puts(out, https ? "https://" : "http://");
    for (size_t i = 0; i < hl && rc == M2J_OK; i++) {
        char c = lower(auth[i]);
        rc = m2j_buf_append(out, &c, 1);
    }
    if (rc == M2J_OK && !default_port) {
        rc = m2j_buf_puts(out, ":");
        if (rc == M2J_OK)
            rc = m2j_buf_append(out, port, pl);
    }
    const char *path = auth + al;
    size_t pathl = strcspn(path, "?#");
    if (rc == M2J_OK)
        rc = pathl ? m2j_buf_append(out, path, pathl) : m2j_buf_puts(out, "/");
    if (rc != M2J_OK)
        return oom(err);
    *query = NULL;
    *qlen = 0;
    if (path[pathl] == '?') {
        *query = path + pathl + 1;
        *qlen = strcspn(*query, "#");
    }
    return M2J_OK;
}

static const char *method_name(m2j_oauth1_method m)
{
    return m == M2J_OAUTH1_HMAC_SHA1 ? "HMAC-SHA1" : "HMAC-SHA256";
}

/* Collects every signed parameter, sorted (3.4.1.3). */
static m2j_rc collect(const m2j_oauth1_creds *creds, m2j_oauth1_method method, const char *query, size_t qlen,
                      const char *form_body, const char *nonce, long long timestamp, params *p, m2j_err *err)
{
    char ts[24];
    snprintf(ts, sizeof ts, "%lld", timestamp);
    m2j_rc rc = add_form(p, query ? query : "", qlen, err);
    if (rc == M2J_OK && form_body)
        rc = add_form(p, form_body, strlen(form_body), err);
    if (rc == M2J_OK) rc = add_plain(p, "oauth_consumer_key", creds->consumer_key, err);
    if (rc == M2J_OK) rc = add_plain(p, "oauth_nonce", nonce, err);
    if (rc == M2J_OK) rc = add_plain(p, "oauth_signature_method", method_name(method), err);
    if (rc == M2J_OK) rc = add_plain(p, "oauth_timestamp", ts, err);
    if (rc == M2J_OK) rc = add_plain(p, "oauth_token", creds->token, err);
    if (rc == M2J_OK) rc = add_plain(p, "oauth_version", "1.0", err);
    if (rc == M2J_OK)
        qsort(p->v, p->n, sizeof p->v[0], param_cmp);
    return rc;
}

static m2j_rc base_string_into(const m2j_oauth1_creds *creds, m2j_oauth1_method method, const char *http_method,
                               const char *url, const char *form_body, const char *nonce, long long timestamp,
                               m2j_buf *out, m2j_err *err)
{
    if (strlen(url) > M2J_OAUTH1_MAX_URL || (form_body && strlen(form_body) > M2J_OAUTH1_MAX_URL))
        return m2j_fail(err, M2J_ERR_TOO_LARGE, "oauth1: URL or form body longer than %d bytes",
                        M2J_OAUTH1_MAX_URL);
    m2j_buf uri = {0}, norm = {0};
    const char *query = NULL;
    size_t qlen = 0;
    params *p = calloc(1, sizeof *p); /* 4 KiB of slots: not on the stack */
    if (!p)
        return oom(err);
    m2j_rc rc = base_uri(url, &uri, &query, &qlen, err);
    if (rc == M2J_OK)
        rc = collect(creds, method, query, qlen, form_body, nonce, timestamp, p, err);
    for (size_t i = 0; rc == M2J_OK && i < p->n; i++)
        if (m2j_buf_printf(&norm, "%s%s=%s", i ? "&" : "", p->v[i].name, p->v[i].value) != M2J_OK)
            rc = oom(err);
    if (rc == M2J_OK) {
        /* method in upper case (3.4.1.1), then the two encoded parts */
        for (const char *m = http_method; *m && rc == M2J_OK; m++) {
            char c = *m >= 'a' && *m <= 'z' ? (char)(*m - 'a' + 'A') : *m;
            rc = m2j_buf_append(out, &c, 1);
        }
        if (rc == M2J_OK) rc = m2j_buf_puts(out, "&");
        if (rc == M2J_OK) rc = m2j_url_escape_n(uri.data, uri.len, out);
        if (rc == M2J_OK) rc = m2j_buf_puts(out, "&");
        if (rc == M2J_OK) rc = m2j_url_escape_n(norm.data ? norm.data : "", norm.len, out);
        if (rc != M2J_OK)
            rc = oom(err);
    }
    params_free(p);
    free(p);
    m2j_buf_free(&uri);
    m2j_buf_free(&norm);
    return rc;
}

m2j_rc m2j_oauth1_base_string(const m2j_oauth1_creds *creds, m2j_oauth1_method method, const char *http_method,
                              const char *url, const char *form_body, const char *nonce, long long timestamp,
                              m2j_buf *out, m2j_err *err)
{
    return base_string_into(creds, method, http_method, url, form_body, nonce, timestamp, out, err);
}

m2j_rc m2j_oauth1_sign(const m2j_oauth1_creds *creds, m2j_oauth1_method method, const char *base_string,
                       m2j_buf *out, m2j_err *err)
{
    /* key = encode(consumer secret) & encode(token secret) (3.4.2) */
    m2j_buf key = {0};
    m2j_rc rc = m2j_url_escape(creds->consumer_secret ? creds->consumer_secret : "", &key);
    if (rc == M2J_OK) rc = m2j_buf_puts(&key, "&");
    if (rc == M2J_OK) rc = m2j_url_escape(creds->token_secret ? creds->token_secret : "", &key);
    unsigned char mac[32];
    size_t maclen = method == M2J_OAUTH1_HMAC_SHA1 ? 20 : 32;
    if (rc == M2J_OK)
        rc = method == M2J_OAUTH1_HMAC_SHA1
                 ? m2j_hmac_sha1(key.data, key.len, base_string, strlen(base_string), mac)
                 : m2j_hmac_sha256(key.data, key.len, base_string, strlen(base_string), mac);
    if (rc == M2J_OK)
        rc = m2j_base64_encode(mac, maclen, out);
    /* the key is made of secrets: do not leave it in freed memory */
    if (key.data)
        memset(key.data, 0, key.len);
    m2j_buf_free(&key);
    return rc == M2J_OK ? M2J_OK : m2j_fail(err, rc, "oauth1: signing failed");
}

static m2j_rc header_param(m2j_buf *out, bool first, const char *name, const char *value)
{
    if (m2j_buf_printf(out, "%s%s=\"", first ? "" : ", ", name) != M2J_OK ||
        m2j_url_escape(value ? value : "", out) != M2J_OK || m2j_buf_puts(out, "\"") != M2J_OK)
        return M2J_ERR_NOMEM;
    return M2J_OK;
}

m2j_rc m2j_oauth1_authorization(const m2j_oauth1_creds *creds, m2j_oauth1_method method, const char *http_method,
                                const char *url, const char *form_body, const char *nonce, long long timestamp,
                                m2j_buf *out, m2j_err *err)
{
    m2j_buf base = {0}, sig = {0};
    m2j_rc rc = base_string_into(creds, method, http_method, url, form_body, nonce, timestamp, &base, err);
    if (rc == M2J_OK)
        rc = m2j_oauth1_sign(creds, method, base.data, &sig, err);
    if (rc == M2J_OK) {
        char ts[24];
        snprintf(ts, sizeof ts, "%lld", timestamp);
        if (m2j_buf_puts(out, "OAuth ") != M2J_OK ||
            header_param(out, true, "oauth_consumer_key", creds->consumer_key) != M2J_OK ||
            header_param(out, false, "oauth_nonce", nonce) != M2J_OK ||
            header_param(out, false, "oauth_signature", sig.data) != M2J_OK ||
            header_param(out, false, "oauth_signature_method", method_name(method)) != M2J_OK ||
            header_param(out, false, "oauth_timestamp", ts) != M2J_OK ||
            header_param(out, false, "oauth_token", creds->token) != M2J_OK ||
            header_param(out, false, "oauth_version", "1.0") != M2J_OK)
            rc = oom(err);
    }
    m2j_buf_free(&base);
    m2j_buf_free(&sig);
    return rc;
}
