/* config.c: loads, validates and looks up the JSON configuration (see
 * config.h; deploy/config.example.json documents every key).
 *
 * The loader is strict on purpose: a typo in a key or a value of the wrong
 * type is an error naming the full key path, because a silently ignored
 * setting in an invoicing service shows up weeks later as wrong invoices.
 * JSON null for a key means "use the default". */
#include "config/config.h"

#include "base/buf.h"
#include "base/json_util.h"
#include "mapping/template.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONFIG_MAX_BYTES (1024 * 1024)

/* ---- key paths ---------------------------------------------------------- */

/* Error messages name the key path; the loader keeps the current path in a
 * buffer and pushes/pops segments as it descends. If an append fails for lack
 * of memory only the message gets shorter, so results are not checked. */
static size_t path_push(m2j_buf *p, const char *key)
{
    size_t old = p->len;
    if (old)
        m2j_buf_append(p, ".", 1);
    m2j_buf_puts(p, key);
    return old;
}

static void path_pop(m2j_buf *p, size_t old)
{
    if (p->data && old <= p->len) {
        p->len = old;
        p->data[old] = '\0';
    }
}

#define PATH(p) m2j_buf_str(p)

/* ---- small validators --------------------------------------------------- */

static bool is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* 8-4-4-4-12 hex digits. */
static bool is_uuid(const char *s)
{
    if (strlen(s) != 36)
        return false;
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return false;
        } else if (!is_hex(s[i])) {
            return false;
        }
    }
    return true;
}

/* Two upper-case letters; "EU" is a region, not a country, and is handled
 * separately where a map allows it. */
static bool is_iso2(const char *s)
{
    return s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z' && s[2] == '\0' &&
           strcmp(s, "EU") != 0;
}

static bool in_list(const char *const *list, const char *s)
{
    for (; *list; list++)
        if (strcmp(*list, s) == 0)
            return true;
    return false;
}

/* Comma-separated rendering of an enum list for error messages. */
static void list_text(const char *const *list, char *out, size_t outlen)
{
    size_t used = 0;
    out[0] = '\0';
    for (; *list && used < outlen; list++) {
        int n = snprintf(out + used, outlen - used, "%s%s", used ? "|" : "", *list);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

/* Parses all-digit text into [min, max]; false if not digits or out of range. */
static bool parse_uint_range(const char *s, size_t n, long min, long max, long *out)
{
    if (n == 0 || n > 18)
        return false;
    long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    if (v < min || v > max)
        return false;
    *out = v;
    return true;
}

static const char *const INVOICE_STATUSES[] = {"draft", "sent", NULL};
static const char *const SEND_METHODS[] = {"self", "email", NULL};
static const char *const COUNTRY_FROM[] = {"billing", "shipping", NULL};
static const char *const INVOICE_DATES[] = {"order", "today", NULL};
static const char *const PAYMENT_METHODS[] = {"pay_later", "already_paid", "direct_debit", NULL};
static const char *const LANGUAGES[] = {"nl", "de", "en", "fr", "es", NULL};
static const char *const LOG_LEVELS[] = {"debug", "info", "warn", "error", NULL};

/* ---- environment substitution ------------------------------------------- */

static bool env_name_char(char c, bool first)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' ||
           (!first && c >= '0' && c <= '9');
}

/* Replaces every "${NAME}" in in with the environment variable's value into
 * a new string. A '$' not followed by '{' is literal. */
static m2j_rc expand_env(const char *in, const m2j_buf *path, char **out, m2j_err *err)
{
    m2j_buf b = {0};
    m2j_rc rc = M2J_OK;
    const char *p = in;
    while (*p) {
        const char *d = strstr(p, "${");
        if (!d) {
            rc = m2j_buf_puts(&b, p);
            break;
        }
        if ((rc = m2j_buf_append(&b, p, (size_t)(d - p))) != M2J_OK)
            break;
        const char *name = d + 2, *end = name;
        while (*end && *end != '}')
            end++;
        if (!*end) {
            rc = m2j_fail(err, M2J_ERR_INVALID, "%s: \"${\" without closing \"}\"", PATH(path));
            goto out;
        }
        size_t n = (size_t)(end - name);
        bool ok = n > 0;
        for (size_t i = 0; i < n && ok; i++)
            ok = env_name_char(name[i], i == 0);
        if (!ok) {
            rc = m2j_fail(err, M2J_ERR_INVALID, "%s: \"${%.*s}\" is not a valid environment variable name",
                          PATH(path), (int)(n > 64 ? 64 : n), name);
            goto out;
        }
        char *var = strndup(name, n);
        if (!var) {
            rc = M2J_ERR_NOMEM;
            break;
        }
        const char *val = getenv(var);
        if (!val) {
            rc = m2j_fail(err, M2J_ERR_INVALID, "environment variable %s (used by %s) is not set",
                          var, PATH(path));
            free(var);
            goto out;
        }
        free(var);
        if ((rc = m2j_buf_puts(&b, val)) != M2J_OK)
            break;
        p = end + 1;
    }
    if (rc == M2J_ERR_NOMEM)
        m2j_fail(err, rc, "out of memory loading configuration");
    if (rc == M2J_OK) {
        *out = m2j_buf_detach(&b);
        if (!*out)
            rc = m2j_fail(err, M2J_ERR_NOMEM, "out of memory loading configuration");
        return rc;
    }
out:
    m2j_buf_free(&b);
    return rc;
}

/* ---- typed readers ------------------------------------------------------ */

static m2j_rc wrong_type(const m2j_buf *path, const char *expected, m2j_err *err)
{
    return m2j_fail(err, M2J_ERR_INVALID, "%s: expected %s", PATH(path), expected);
}

/* Every key of obj must be in known. */
static m2j_rc check_keys(json_object *obj, m2j_buf *path, const char *const *known, m2j_err *err)
{
    json_object_object_foreach(obj, key, val) {
        (void)val;
        if (!in_list(known, key)) {
            size_t old = path_push(path, key);
            m2j_rc rc = m2j_fail(err, M2J_ERR_INVALID, "unknown key %s", PATH(path));
            path_pop(path, old);
            return rc;
        }
    }
    return M2J_OK;
}

/* Converts a string value at the current path (env substituted) into a new
 * string. */
static m2j_rc string_value(json_object *v, m2j_buf *path, char **out, m2j_err *err)
{
    if (!json_object_is_type(v, json_type_string))
        return wrong_type(path, "a string", err);
    return expand_env(json_object_get_string(v), path, out, err);
}

static void replace(char **slot, char *s)
{
    free(*slot);
    *slot = s;
}

/* Reads obj.key as a string into *slot (replacing the default) if present. */
static m2j_rc read_str(json_object *obj, m2j_buf *path, const char *key, char **slot, m2j_err *err)
{
    json_object *v = m2j_json_get(obj, key);
    if (!v)
        return M2J_OK;
    size_t old = path_push(path, key);
    char *s = NULL;
    m2j_rc rc = string_value(v, path, &s, err);
    if (rc == M2J_OK)
        replace(slot, s);
    path_pop(path, old);
    return rc;
}

static m2j_rc read_enum(json_object *obj, m2j_buf *path, const char *key, const char *const *allowed,
                        char **slot, m2j_err *err)
{
    json_object *v = m2j_json_get(obj, key);
    if (!v)
        return M2J_OK;
    size_t old = path_push(path, key);
    char *s = NULL;
    m2j_rc rc = string_value(v, path, &s, err);
    if (rc == M2J_OK && !in_list(allowed, s)) {
        char opts[128];
        list_text(allowed, opts, sizeof opts);
        rc = m2j_fail(err, M2J_ERR_INVALID, "%s: \"%.40s\" is not one of %s", PATH(path), s, opts);
        free(s);
    } else if (rc == M2J_OK) {
        replace(slot, s);
    }
    path_pop(path, old);
    return rc;
}

/* A string that must be a UUID, or "" when allow_empty. */
static m2j_rc check_uuid(const char *s, const m2j_buf *path, bool allow_empty, m2j_err *err)
{
    if (allow_empty && !*s)
        return M2J_OK;
    if (!is_uuid(s))
        return m2j_fail(err, M2J_ERR_INVALID, "%s: \"%.40s\" is not a UUID (8-4-4-4-12 hex digits)",
                        PATH(path), s);
    return M2J_OK;
}

static m2j_rc read_uuid(json_object *obj, m2j_buf *path, const char *key, bool allow_empty,
                        char **slot, m2j_err *err)
{
    json_object *v = m2j_json_get(obj, key);
    if (!v)
        return M2J_OK;
    size_t old = path_push(path, key);
    char *s = NULL;
    m2j_rc rc = string_value(v, path, &s, err);
    if (rc == M2J_OK && (rc = check_uuid(s, path, allow_empty, err)) != M2J_OK)
        free(s);
    else if (rc == M2J_OK)
        replace(slot, s);
    path_pop(path, old);
    return rc;
}

static m2j_rc int_value(json_object *v, m2j_buf *path, long min, long max, long *out, m2j_err *err)
{
    if (!json_object_is_type(v, json_type_int))
        return wrong_type(path, "an integer", err);
    /* Read the text so values beyond int64 (which json-c clamps) are seen. */
    int64_t n = 0;
    if (m2j_json_int(v, NULL, &n) != M2J_OK || n < min || n > max)
        return m2j_fail(err, M2J_ERR_INVALID, "%s: %s is out of range (%ld..%ld)", PATH(path),
                        json_object_get_string(v), min, max);
    *out = (long)n;
    return M2J_OK;
}

static m2j_rc read_long(json_object *obj, m2j_buf *path, const char *key, long min, long max,
                        long *slot, m2j_err *err)
{
    json_object *v = m2j_json_get(obj, key);
    if (!v)
        return M2J_OK;
    size_t old = path_push(path, key);
    m2j_rc rc = int_value(v, path, min, max, slot, err);
    path_pop(path, old);
    return rc;
}

static m2j_rc read_int(json_object *obj, m2j_buf *path, const char *key, int min, int max,
                       int *slot, m2j_err *err)
{
    long v = *slot;
    m2j_rc rc = read_long(obj, path, key, min, max, &v, err);
    if (rc == M2J_OK)
        *slot = (int)v;
    return rc;
}

static m2j_rc read_size(json_object *obj, m2j_buf *path, const char *key, long min, long max,
                        size_t *slot, m2j_err *err)
{
    long v = (long)*slot;
    m2j_rc rc = read_long(obj, path, key, min, max, &v, err);
    if (rc == M2J_OK)
        *slot = (size_t)v;
    return rc;
}

static m2j_rc read_bool(json_object *obj, m2j_buf *path, const char *key, bool *slot, m2j_err *err)
{
    json_object *v = m2j_json_get(obj, key);
    if (!v)
        return M2J_OK;
    if (!json_object_is_type(v, json_type_boolean)) {
        size_t old = path_push(path, key);
        m2j_rc rc = wrong_type(path, "true or false", err);
        path_pop(path, old);
        return rc;
    }
    *slot = json_object_get_boolean(v);
    return M2J_OK;
}

/* The object at obj.key (NULL if absent), with its keys checked. */
static m2j_rc section(json_object *obj, m2j_buf *path, const char *key, const char *const *known,
                      json_object **out, m2j_err *err)
{
    *out = m2j_json_get(obj, key);
    if (!*out)
        return M2J_OK;
    size_t old = path_push(path, key);
    m2j_rc rc;
    if (!json_object_is_type(*out, json_type_object))
        rc = wrong_type(path, "an object", err);
    else
        rc = check_keys(*out, path, known, err);
    path_pop(path, old);
    return rc;
}

static void free_strv(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* An array of strings, replacing *slot and *n; entries must be non-empty. */
static m2j_rc read_strv(json_object *obj, m2j_buf *path, const char *key, bool nonempty_list,
                        char ***slot, size_t *n, m2j_err *err)
{
    json_object *v = m2j_json_get(obj, key);
    if (!v)
        return M2J_OK;
    size_t old = path_push(path, key);
    m2j_rc rc = M2J_OK;
    char **list = NULL;
    size_t len = 0;
    if (!json_object_is_type(v, json_type_array)) {
        rc = wrong_type(path, "an array of strings", err);
        goto out;
    }
    len = json_object_array_length(v);
    if (nonempty_list && len == 0) {
        rc = m2j_fail(err, M2J_ERR_INVALID, "%s: must not be empty", PATH(path));
        goto out;
    }
    list = calloc(len ? len : 1, sizeof *list);
    if (!list) {
        rc = m2j_fail(err, M2J_ERR_NOMEM, "out of memory loading configuration");
        goto out;
    }
    for (size_t i = 0; i < len; i++) {
        char idx[24];
        snprintf(idx, sizeof idx, "%zu", i);
        size_t o2 = path_push(path, idx);
        json_object *el = json_object_array_get_idx(v, i);
        if (!el || !json_object_is_type(el, json_type_string))
            rc = wrong_type(path, "a string", err);
        else if ((rc = expand_env(json_object_get_string(el), path, &list[i], err)) == M2J_OK && !*list[i])
            rc = m2j_fail(err, M2J_ERR_INVALID, "%s: must not be empty", PATH(path));
        path_pop(path, o2);
        if (rc != M2J_OK)
            goto out;
    }
    free_strv(*slot, *n);
    *slot = list;
    *n = len;
    list = NULL;
out:
    if (list)
        free_strv(list, len);
    path_pop(path, old);
    return rc;
}

/* Checks that obj.key is an object and returns it with its member count. */
static m2j_rc map_object(json_object *obj, m2j_buf *path, const char *key, json_object **out,
                         size_t *count, m2j_err *err)
{
    *out = m2j_json_get(obj, key);
    *count = 0;
    if (!*out)
        return M2J_OK;
    if (!json_object_is_type(*out, json_type_object)) {
        size_t old = path_push(path, key);
        m2j_rc rc = wrong_type(path, "an object", err);
        path_pop(path, old);
        *out = NULL;
        return rc;
    }
    *count = (size_t)json_object_object_length(*out);
    return M2J_OK;
}

/* ---- redis URL and listen address ---------------------------------------- */

/* Decodes %XX escapes (user names and passwords may contain ':' or '@'). */
static char *percent_decode(const char *s, size_t n)
{
    char *out = malloc(n + 1);
    if (!out)
        return NULL;
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%') {
            if (i + 2 >= n || !is_hex(s[i + 1]) || !is_hex(s[i + 2])) {
                free(out);
                return NULL;
            }
            char hx[3] = {s[i + 1], s[i + 2], 0};
            out[j++] = (char)strtol(hx, NULL, 16);
            i += 2;
        } else {
            out[j++] = s[i];
        }
    }
    out[j] = '\0';
    return out;
}

/* Splits "host:port" or "[v6]:port" (port optional when def_port > 0). The
 * host is returned without brackets. */
static bool split_host_port(const char *s, size_t n, int def_port, char **host, int *port)
{
    const char *hs, *rest;
    size_t hn;
    if (n > 0 && s[0] == '[') {
        const char *close = memchr(s, ']', n);
        if (!close)
            return false;
        hs = s + 1;
        hn = (size_t)(close - hs);
        rest = close + 1;
    } else {
        const char *colon = memchr(s, ':', n);
        hs = s;
        hn = colon ? (size_t)(colon - s) : n;
        rest = s + hn;
        /* A bare IPv6 address would be ambiguous: "::1:8080". */
        if (colon && memchr(colon + 1, ':', n - hn - 1))
            return false;
    }
    if (hn == 0)
        return false;
    for (size_t i = 0; i < hn; i++)
        if (hs[i] <= ' ' || hs[i] == '/' || hs[i] == '@' || hs[i] == '[' || hs[i] == ']' ||
            (hs[i] == ':' && s[0] != '['))
            return false;
    size_t rn = n - (size_t)(rest - s);
    long p;
    if (rn == 0) {
        if (def_port <= 0)
            return false;
        p = def_port;
    } else if (rest[0] != ':' || !parse_uint_range(rest + 1, rn - 1, 1, 65535, &p)) {
        return false;
    }
    *host = strndup(hs, hn);
    if (!*host)
        return false;
    *port = (int)p;
    return true;
}

/* On success the previous host/unix_path/username/password of rc are freed
 * and replaced (so rc must be zero-initialised or hold earlier results); on
 * failure rc is left as it was. */
m2j_rc m2j_config_parse_redis_url(const char *url, m2j_redis_config *rc, m2j_err *err)
{
    char *host = NULL, *unix_path = NULL, *user = NULL, *pass = NULL;
    int port = 0;
    long db = 0;
    m2j_rc r = M2J_ERR_INVALID;
    const char *what = "expected redis://[user:password@]host[:port][/db] or unix:///path.sock[?db=N]";
    if (!url)
        url = "";
    if (strncmp(url, "redis://", 8) == 0) {
        const char *a = url + 8;
        const char *slash = strchr(a, '/');
        /* The password may contain '/' only percent-encoded; so the first
         * '/' ends the authority and the last '@' before it ends userinfo. */
        size_t alen = slash ? (size_t)(slash - a) : strlen(a);
        const char *at = NULL;
        for (size_t i = 0; i < alen; i++)
            if (a[i] == '@')
                at = a + i;
        const char *hp = a;
        if (at) {
            const char *colon = memchr(a, ':', (size_t)(at - a));
            if (!colon) {
                what = "credentials must be written user:password@ (or :password@)";
                goto bad;
            }
            if (colon > a && !(user = percent_decode(a, (size_t)(colon - a)))) {
                what = "bad %-escape in the user name";
                goto bad;
            }
            if (!(pass = percent_decode(colon + 1, (size_t)(at - colon - 1)))) {
                what = "bad %-escape in the password";
                goto bad;
            }
            hp = at + 1;
        }
        if (!split_host_port(hp, alen - (size_t)(hp - a), 6379, &host, &port)) {
            what = "bad host or port (port 1-65535)";
            goto bad;
        }
        if (slash && slash[1] && !parse_uint_range(slash + 1, strlen(slash + 1), 0, INT_MAX, &db)) {
            what = "the database must be a number after the last '/'";
            goto bad;
        }
    } else if (strncmp(url, "unix://", 7) == 0) {
        const char *p = url + 7;
        const char *q = strchr(p, '?');
        size_t plen = q ? (size_t)(q - p) : strlen(p);
        if (plen < 2 || p[0] != '/') {
            what = "the socket path must be absolute (unix:///path.sock)";
            goto bad;
        }
        if (q && (strncmp(q, "?db=", 4) != 0 || !parse_uint_range(q + 4, strlen(q + 4), 0, INT_MAX, &db))) {
            what = "only ?db=N may follow the socket path";
            goto bad;
        }
        if (!(unix_path = strndup(p, plen))) {
            r = M2J_ERR_NOMEM;
            what = "out of memory";
            goto bad;
        }
    } else {
        goto bad;
    }
    free(rc->host);
    free(rc->unix_path);
    free(rc->username);
    free(rc->password);
    rc->host = host;
    rc->port = unix_path ? 0 : port;
    rc->unix_path = unix_path;
    rc->username = user;
    rc->password = pass;
    rc->db = (int)db;
    return M2J_OK;
bad:
    free(host);
    free(unix_path);
    free(user);
    free(pass);
    /* The URL may hold a password, so it is not quoted back. */
    return m2j_fail(err, r, "redis.url: %s", what);
}

/* ---- defaults ------------------------------------------------------------- */

static m2j_rc set_default(char **slot, const char *v)
{
    *slot = strdup(v);
    return *slot ? M2J_OK : M2J_ERR_NOMEM;
}

static m2j_rc set_defaults(m2j_config *c)
{
    m2j_rc rc = M2J_OK;
#define D(slot, v)                                   \
    do {                                             \
        if (rc == M2J_OK)                            \
            rc = set_default(&(slot), (v));          \
    } while (0)
    D(c->redis.url, "redis://127.0.0.1:6379/0");
    D(c->redis.key_prefix, "m2jortt");
    D(c->receiver.listen, "127.0.0.1:8080");
    c->receiver.max_body_bytes = 1048576;
    D(c->receiver.webhook_secret, "");
    c->receiver.dedup_ttl_seconds = 604800;
    c->receiver.max_batch_events = 100;
    /* One loop: on the 2-core machine we measure on, more loops gave no gain
     * (bench/findings.md); a merchant with spare cores raises it. */
    c->receiver.threads = 1;
    c->receiver.timestamp_tolerance_seconds = 300;
    D(c->receiver.commerce_public_key_file, "");
    D(c->receiver.io_events_client_id, "");
    D(c->jortt.api_url, "https://api.jortt.nl");
    D(c->jortt.token_url, "https://app.jortt.nl/oauth-provider/oauth/token");
    D(c->jortt.client_id, "");
    D(c->jortt.client_secret, "");
    D(c->jortt.scope, "customers:read customers:write invoices:read invoices:write");
    c->jortt.requests_per_second = 10;
    c->jortt.timeout_seconds = 30;
    c->worker.visibility_timeout_seconds = 300;
    c->worker.max_deliveries = 5;
    c->worker.block_ms = 2000;
    c->worker.lock_ttl_seconds = 120;
    c->worker.shutdown_grace_seconds = 30;
    c->worker.retry.base_seconds = 60;
    c->worker.retry.max_seconds = 14400;
    c->worker.retry.max_attempts = 12;
    if (rc == M2J_OK) {
        c->orders.statuses = calloc(2, sizeof *c->orders.statuses);
        if (!c->orders.statuses)
            return M2J_ERR_NOMEM;
        c->orders.n_statuses = 2;
        D(c->orders.statuses[0], "processing");
        D(c->orders.statuses[1], "complete");
    }
    D(c->orders.invoice_status, "draft");
    D(c->orders.send_method, "self");
    D(c->orders.default_customer_id, "");
    c->orders.default_customer_for_guests = false;
    if (rc == M2J_OK) {
        c->orders.vat_by_country = calloc(1, sizeof *c->orders.vat_by_country);
        if (!c->orders.vat_by_country)
            return M2J_ERR_NOMEM;
        c->orders.n_vat_by_country = 1;
        D(c->orders.vat_by_country[0].key, "NL");
        c->orders.vat_by_country[0].v = 21 * M2J_RATE_SCALE;
    }
    D(c->orders.country_from, "billing");
    c->orders.credit_on_cancel = false;
    D(c->orders.invoice_date, "order");
    D(c->orders.discount_label, "Korting");
    D(c->orders.shipping_label, "Verzendkosten");
    c->customers.sync = true;
    c->customers.update_existing = true;
    D(c->log.level, "info");
#undef D
    return rc;
}

/* ---- sections --------------------------------------------------------------- */

#define ONE_YEAR 31536000L

static m2j_rc load_redis(json_object *root, m2j_buf *path, m2j_config *c, m2j_err *err)
{
    static const char *const keys[] = {"url", "key_prefix", NULL};
    json_object *s;
    m2j_rc rc;
    if ((rc = section(root, path, "redis", keys, &s, err)) != M2J_OK)
        return rc;
    size_t old = path_push(path, "redis");
    if (s && ((rc = read_str(s, path, "url", &c->redis.url, err)) != M2J_OK ||
              (rc = read_str(s, path, "key_prefix", &c->redis.key_prefix, err)) != M2J_OK))
        goto out;
    if ((rc = m2j_config_parse_redis_url(c->redis.url, &c->redis, err)) != M2J_OK)
        goto out;
    /* The prefix becomes part of every key and of log lines: keep it a plain word. */
    const char *kp = c->redis.key_prefix;
    bool ok = *kp && strlen(kp) <= 64;
    for (const char *p = kp; *p && ok; p++)
        ok = *p > ' ' && *p < 0x7f && *p != '{' && *p != '}';
    if (!ok) {
        path_push(path, "key_prefix");
        rc = m2j_fail(err, M2J_ERR_INVALID,
                      "%s: must be 1-64 printable characters without spaces or braces", PATH(path));
    }
out:
    path_pop(path, old);
    return rc;
}

static m2j_rc load_receiver(json_object *root, m2j_buf *path, m2j_config *c, m2j_err *err)
{
    static const char *const keys[] = {
        "listen", "max_body_bytes", "webhook_secret", "dedup_ttl_seconds", "max_batch_events",
        "timestamp_tolerance_seconds", "commerce_public_key_file", "io_events_public_key_files",
        "io_events_client_id", "threads", NULL};
    m2j_receiver_config *r = &c->receiver;
    json_object *s;
    m2j_rc rc;
    if ((rc = section(root, path, "receiver", keys, &s, err)) != M2J_OK)
        return rc;
    size_t old = path_push(path, "receiver");
    if (s) {
        long v = (long)r->max_body_bytes;
        if ((rc = read_str(s, path, "listen", &r->listen, err)) != M2J_OK ||
            (rc = read_long(s, path, "max_body_bytes", 1024, 64L * 1024 * 1024, &v, err)) != M2J_OK ||
            (rc = read_str(s, path, "webhook_secret", &r->webhook_secret, err)) != M2J_OK ||
            (rc = read_long(s, path, "dedup_ttl_seconds", 86400, ONE_YEAR, &r->dedup_ttl_seconds, err)) != M2J_OK ||
            (rc = read_size(s, path, "max_batch_events", 1, 10000, &r->max_batch_events, err)) != M2J_OK ||
            (rc = read_long(s, path, "timestamp_tolerance_seconds", 1, 86400,
                            &r->timestamp_tolerance_seconds, err)) != M2J_OK ||
            (rc = read_str(s, path, "commerce_public_key_file", &r->commerce_public_key_file, err)) != M2J_OK ||
            (rc = read_strv(s, path, "io_events_public_key_files", false, &r->io_events_public_key_files,
                            &r->n_io_events_public_key_files, err)) != M2J_OK ||
            (rc = read_str(s, path, "io_events_client_id", &r->io_events_client_id, err)) != M2J_OK ||
            (rc = read_long(s, path, "threads", 0, 64, &r->threads, err)) != M2J_OK)
            goto out;
        r->max_body_bytes = (size_t)v;
    }
    size_t o2 = path_push(path, "listen");
    char *host = NULL;
    int port = 0;
    if (!split_host_port(r->listen, strlen(r->listen), 0, &host, &port)) {
        rc = m2j_fail(err, M2J_ERR_INVALID, "%s: \"%.60s\" is not host:port or [v6addr]:port (port 1-65535)",
                      PATH(path), r->listen);
        goto out;
    }
    replace(&r->listen_host, host);
    r->listen_port = port;
    path_pop(path, o2);
    if (!*r->webhook_secret) {
        path_push(path, "webhook_secret");
        rc = m2j_fail(err, M2J_ERR_INVALID, "%s is required and must not be empty", PATH(path));
    }
out:
    path_pop(path, old);
    return rc;
}

static m2j_rc load_jortt(json_object *root, m2j_buf *path, m2j_config *c, m2j_err *err)
{
    static const char *const keys[] = {"api_url", "token_url", "client_id", "client_secret", "scope",
                                       "requests_per_second", "timeout_seconds", NULL};
    m2j_jortt_config *j = &c->jortt;
    json_object *s;
    m2j_rc rc;
    if ((rc = section(root, path, "jortt", keys, &s, err)) != M2J_OK || !s)
        return rc;
    size_t old = path_push(path, "jortt");
    if ((rc = read_str(s, path, "api_url", &j->api_url, err)) != M2J_OK ||
        (rc = read_str(s, path, "token_url", &j->token_url, err)) != M2J_OK ||
        (rc = read_str(s, path, "client_id", &j->client_id, err)) != M2J_OK ||
        (rc = read_str(s, path, "client_secret", &j->client_secret, err)) != M2J_OK ||
        (rc = read_str(s, path, "scope", &j->scope, err)) != M2J_OK ||
        (rc = read_int(s, path, "requests_per_second", 1, 1000, &j->requests_per_second, err)) != M2J_OK ||
        (rc = read_long(s, path, "timeout_seconds", 1, 600, &j->timeout_seconds, err)) != M2J_OK)
        goto out;
    /* Request paths are appended as "/v3/...". */
    size_t n = strlen(j->api_url);
    while (n > 0 && j->api_url[n - 1] == '/')
        j->api_url[--n] = '\0';
    const char *urls[] = {"api_url", j->api_url, "token_url", j->token_url};
    for (int i = 0; i < 4; i += 2) {
        if (strncmp(urls[i + 1], "http://", 7) != 0 && strncmp(urls[i + 1], "https://", 8) != 0) {
            path_push(path, urls[i]);
            rc = m2j_fail(err, M2J_ERR_INVALID, "%s: must be an http:// or https:// URL", PATH(path));
            goto out;
        }
    }
out:
    path_pop(path, old);
    return rc;
}

static m2j_rc load_worker(json_object *root, m2j_buf *path, m2j_config *c, m2j_err *err)
{
    static const char *const keys[] = {"visibility_timeout_seconds", "max_deliveries", "block_ms",
                                       "lock_ttl_seconds", "shutdown_grace_seconds", "retry", NULL};
    static const char *const rkeys[] = {"base_seconds", "max_seconds", "max_attempts", NULL};
    m2j_worker_config *w = &c->worker;
    json_object *s, *r;
    m2j_rc rc;
    if ((rc = section(root, path, "worker", keys, &s, err)) != M2J_OK || !s)
        return rc;
    size_t old = path_push(path, "worker");
    if ((rc = read_long(s, path, "visibility_timeout_seconds", 1, 86400, &w->visibility_timeout_seconds, err)) ||
        (rc = read_int(s, path, "max_deliveries", 1, 1000, &w->max_deliveries, err)) ||
        (rc = read_long(s, path, "block_ms", 1, 60000, &w->block_ms, err)) ||
        (rc = read_long(s, path, "lock_ttl_seconds", 1, 86400, &w->lock_ttl_seconds, err)) ||
        (rc = read_long(s, path, "shutdown_grace_seconds", 0, 3600, &w->shutdown_grace_seconds, err)) ||
        (rc = section(s, path, "retry", rkeys, &r, err)))
        goto out;
    if (r) {
        size_t o2 = path_push(path, "retry");
        if ((rc = read_long(r, path, "base_seconds", 1, ONE_YEAR, &w->retry.base_seconds, err)) ||
            (rc = read_long(r, path, "max_seconds", 1, ONE_YEAR, &w->retry.max_seconds, err)) ||
            (rc = read_int(r, path, "max_attempts", 1, 1000, &w->retry.max_attempts, err)))
            goto out;
        path_pop(path, o2);
    }
    if (w->retry.max_seconds < w->retry.base_seconds) {
        path_push(path, "retry.max_seconds");
        rc = m2j_fail(err, M2J_ERR_INVALID, "%s: %ld is less than worker.retry.base_seconds (%ld)",
                      PATH(path), w->retry.max_seconds, w->retry.base_seconds);
    }
out:
    path_pop(path, old);
    return rc;
}

/* Key checks shared by the country-keyed maps. */
enum { KEY_ISO = 1, KEY_EU = 2, KEY_STAR = 4 };

static m2j_rc check_country_key(const char *key, int allowed, const m2j_buf *path, m2j_err *err)
{
    if (is_iso2(key) || ((allowed & KEY_EU) && strcmp(key, "EU") == 0) ||
        ((allowed & KEY_STAR) && strcmp(key, "*") == 0))
        return M2J_OK;
    return m2j_fail(err, M2J_ERR_INVALID, "%s: key must be an ISO country code (two upper-case letters)%s",
                    PATH(path), (allowed & KEY_EU) ? ", \"EU\" or \"*\"" : (allowed & KEY_STAR) ? " or \"*\"" : "");
}

/* ---- maps: code -> settings ---------------------------------------------- */

/* Reads one entry of a map; path names it, entry->key is already set. */
typedef m2j_rc (*map_entry_fn)(const char *key, json_object *val, m2j_buf *path, void *entry, void *ctx,
                               m2j_err *err);

/* Walks the optional object obj.name into a new array of entries of `size`
 * bytes each, every entry a struct whose first member is `char *key` (the
 * m2j_*_entry types in config.h), and hands each to fn. On success *arr and
 * *count hold the entries; on failure too, as far as they were read, so
 * m2j_config_free frees them either way. */
static m2j_rc load_map(json_object *obj, m2j_buf *path, const char *name, size_t size, void **arr, size_t *count,
                       map_entry_fn fn, void *ctx, m2j_err *err)
{
    json_object *m;
    size_t n;
    m2j_rc rc = map_object(obj, path, name, &m, &n, err);
    if (rc != M2J_OK || !m)
        return rc;
    size_t old = path_push(path, name);
    char *entries = calloc(n ? n : 1, size);
    if (!entries) {
        rc = m2j_fail(err, M2J_ERR_NOMEM, "out of memory loading configuration");
        goto out;
    }
    *arr = entries;
    *count = 0;
    json_object_object_foreach(m, key, val) {
        void *entry = entries + (*count)++ * size;
        char **slot = entry; /* the first member, by the rule above */
        if (!(*slot = strdup(key))) {
            rc = m2j_fail(err, M2J_ERR_NOMEM, "out of memory loading configuration");
            goto out;
        }
        size_t o2 = path_push(path, key);
        rc = fn(key, val, path, entry, ctx, err);
        path_pop(path, o2);
        if (rc != M2J_OK)
            goto out;
    }
out:
    path_pop(path, old);
    return rc;
}

static m2j_rc payment_entry(const char *key, json_object *val, m2j_buf *path, void *entry, void *ctx, m2j_err *err)
{
    static const char *const keys[] = {"payment_term", "payment_method", "label", NULL};
    (void)ctx;
    m2j_payment_entry *e = entry;
    long term = -1;
    m2j_rc rc;
    if (!*key)
        rc = m2j_fail(err, M2J_ERR_INVALID, "%s: empty payment method code", PATH(path));
    else if (!json_object_is_type(val, json_type_object))
        rc = wrong_type(path, "an object", err);
    else if ((rc = check_keys(val, path, keys, err)) == M2J_OK &&
             (rc = read_long(val, path, "payment_term", 0, 730, &term, err)) == M2J_OK &&
             (rc = read_enum(val, path, "payment_method", PAYMENT_METHODS, &e->v.payment_method, err)) == M2J_OK)
        rc = read_str(val, path, "label", &e->v.label, err);
    e->v.payment_term = (int)term;
    return rc;
}

static m2j_rc shipping_entry(const char *key, json_object *val, m2j_buf *path, void *entry, void *ctx, m2j_err *err)
{
    static const char *const keys[] = {"description", "ledger_account_id", NULL};
    (void)ctx;
    m2j_shipping_entry *e = entry;
    m2j_rc rc;
    if (!*key)
        rc = m2j_fail(err, M2J_ERR_INVALID, "%s: empty shipping method code", PATH(path));
    else if (!json_object_is_type(val, json_type_object))
        rc = wrong_type(path, "an object", err);
    else if ((rc = check_keys(val, path, keys, err)) == M2J_OK &&
             (rc = read_str(val, path, "description", &e->v.description, err)) == M2J_OK)
        rc = read_uuid(val, path, "ledger_account_id", false, &e->v.ledger_account_id, err);
    return rc;
}

static m2j_rc load_payment_methods(json_object *orders, m2j_buf *path, m2j_orders_config *o, m2j_err *err)
{
    void *arr = NULL;
    m2j_rc rc = load_map(orders, path, "payment_methods", sizeof *o->payment_methods, &arr, &o->n_payment_methods,
                         payment_entry, NULL, err);
    if (arr)
        o->payment_methods = arr;
    return rc;
}

static m2j_rc load_shipping_methods(json_object *orders, m2j_buf *path, m2j_orders_config *o, m2j_err *err)
{
    void *arr = NULL;
    m2j_rc rc = load_map(orders, path, "shipping_methods", sizeof *o->shipping_methods, &arr, &o->n_shipping_methods,
                         shipping_entry, NULL, err);
    if (arr)
        o->shipping_methods = arr;
    return rc;
}

static void free_rate_entries(m2j_rate_entry *e, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(e[i].key);
    free(e);
}

static m2j_rc vat_entry(const char *key, json_object *val, m2j_buf *path, void *entry, void *ctx, m2j_err *err)
{
    (void)ctx;
    m2j_rate_entry *e = entry;
    char *text = NULL;
    m2j_rc rc;
    if ((rc = check_country_key(key, KEY_ISO, path, err)) != M2J_OK)
        return rc;
    if (json_object_is_type(val, json_type_string)) {
        rc = expand_env(json_object_get_string(val), path, &text, err);
    } else if (json_object_is_type(val, json_type_double) || json_object_is_type(val, json_type_int)) {
        /* json-c keeps the number's original text, so 0.21 stays exact. */
        if (!(text = strdup(json_object_get_string(val))))
            rc = m2j_fail(err, M2J_ERR_NOMEM, "out of memory loading configuration");
    } else {
        rc = wrong_type(path, "a VAT fraction such as \"0.21\" or 0.21", err);
    }
    if (rc == M2J_OK) {
        m2j_err perr = {0};
        if (m2j_rate_parse_fraction(text, &e->v, &perr) != M2J_OK)
            rc = m2j_fail(err, M2J_ERR_INVALID, "%s: \"%.40s\" is not a VAT fraction between 0 and 1 "
                          "(write 21 %% as \"0.21\")", PATH(path), text);
    }
    free(text);
    return rc;
}

static m2j_rc load_vat(json_object *orders, m2j_buf *path, m2j_orders_config *o, m2j_err *err)
{
    if (!m2j_json_get(orders, "vat_by_country"))
        return M2J_OK;
    /* A configured map replaces the default (NL 21 %) as a whole. */
    free_rate_entries(o->vat_by_country, o->n_vat_by_country);
    o->vat_by_country = NULL;
    o->n_vat_by_country = 0;
    void *arr = NULL;
    m2j_rc rc = load_map(orders, path, "vat_by_country", sizeof *o->vat_by_country, &arr, &o->n_vat_by_country,
                         vat_entry, NULL, err);
    if (arr)
        o->vat_by_country = arr;
    return rc;
}

typedef enum { SV_UUID, SV_LANGUAGE, SV_INVOICE_TEMPLATE, SV_CUSTOMER_TEMPLATE } string_map_kind;

typedef struct {
    string_map_kind kind;
    int             country_keys; /* KEY_* bits; 0 = keys are not countries */
} string_map_ctx;

static m2j_rc string_entry(const char *key, json_object *val, m2j_buf *path, void *entry, void *ctx, m2j_err *err)
{
    const string_map_ctx *sc = ctx;
    m2j_string_entry *e = entry;
    m2j_rc rc = M2J_OK;
    if (sc->country_keys)
        rc = check_country_key(key, sc->country_keys, path, err);
    else if (sc->kind == SV_INVOICE_TEMPLATE && !m2j_jortt_invoice_field_known(key))
        rc = m2j_fail(err, M2J_ERR_INVALID, "%s: \"%s\" is not a Jortt invoice field that can be mapped",
                      PATH(path), key);
    else if (sc->kind == SV_CUSTOMER_TEMPLATE && !m2j_jortt_customer_field_known(key))
        rc = m2j_fail(err, M2J_ERR_INVALID, "%s: \"%s\" is not a Jortt customer field that can be mapped",
                      PATH(path), key);
    if (rc == M2J_OK)
        rc = string_value(val, path, &e->v, err);
    if (rc != M2J_OK)
        return rc;
    m2j_err terr = {0};
    char opts[64];
    switch (sc->kind) {
    case SV_UUID:
        return check_uuid(e->v, path, false, err);
    case SV_LANGUAGE:
        if (!in_list(LANGUAGES, e->v)) {
            list_text(LANGUAGES, opts, sizeof opts);
            return m2j_fail(err, M2J_ERR_INVALID, "%s: \"%.40s\" is not one of %s", PATH(path), e->v, opts);
        }
        return M2J_OK;
    case SV_INVOICE_TEMPLATE:
    case SV_CUSTOMER_TEMPLATE:
        if (m2j_template_validate(e->v, sc->kind == SV_INVOICE_TEMPLATE ? M2J_TEMPLATE_ORDER : M2J_TEMPLATE_CUSTOMER,
                                  &terr) != M2J_OK)
            return m2j_fail(err, M2J_ERR_INVALID, "%s: %s", PATH(path), terr.msg);
        return M2J_OK;
    }
    return M2J_OK;
}

/* A map of string -> string whose keys and values are checked per kind. */
static m2j_rc load_string_map(json_object *obj, m2j_buf *path, const char *name, string_map_kind kind,
                              int country_keys, m2j_string_entry **out, size_t *nout, m2j_err *err)
{
    string_map_ctx sc = { kind, country_keys };
    void *arr = NULL;
    m2j_rc rc = load_map(obj, path, name, sizeof **out, &arr, nout, string_entry, &sc, err);
    if (arr)
        *out = arr;
    return rc;
}

static m2j_rc load_orders(json_object *root, m2j_buf *path, m2j_config *c, m2j_err *err)
{
    static const char *const keys[] = {
        "statuses", "invoice_status", "send_method", "default_customer_id", "default_customer_for_guests",
        "payment_methods", "shipping_methods", "vat_by_country", "revenue_account_by_country",
        "country_from", "field_map", "credit_on_cancel", "invoice_date", "discount_label",
        "shipping_label", NULL};
    m2j_orders_config *o = &c->orders;
    json_object *s;
    m2j_rc rc;
    if ((rc = section(root, path, "orders", keys, &s, err)) != M2J_OK || !s)
        return rc;
    size_t old = path_push(path, "orders");
    if ((rc = read_strv(s, path, "statuses", true, &o->statuses, &o->n_statuses, err)) ||
        (rc = read_enum(s, path, "invoice_status", INVOICE_STATUSES, &o->invoice_status, err)) ||
        (rc = read_enum(s, path, "send_method", SEND_METHODS, &o->send_method, err)) ||
        (rc = read_uuid(s, path, "default_customer_id", true, &o->default_customer_id, err)) ||
        (rc = read_bool(s, path, "default_customer_for_guests", &o->default_customer_for_guests, err)) ||
        (rc = load_payment_methods(s, path, o, err)) ||
        (rc = load_shipping_methods(s, path, o, err)) ||
        (rc = load_vat(s, path, o, err)) ||
        (rc = load_string_map(s, path, "revenue_account_by_country", SV_UUID, KEY_ISO | KEY_EU | KEY_STAR,
                              &o->revenue_account_by_country, &o->n_revenue_account_by_country, err)) ||
        (rc = read_enum(s, path, "country_from", COUNTRY_FROM, &o->country_from, err)) ||
        (rc = load_string_map(s, path, "field_map", SV_INVOICE_TEMPLATE, 0, &o->field_map, &o->n_field_map, err)) ||
        (rc = read_bool(s, path, "credit_on_cancel", &o->credit_on_cancel, err)) ||
        (rc = read_enum(s, path, "invoice_date", INVOICE_DATES, &o->invoice_date, err)) ||
        (rc = read_str(s, path, "discount_label", &o->discount_label, err)) ||
        (rc = read_str(s, path, "shipping_label", &o->shipping_label, err)))
        goto out;
out:
    path_pop(path, old);
    return rc;
}

static m2j_rc group_entry(const char *key, json_object *val, m2j_buf *path, void *entry, void *ctx, m2j_err *err)
{
    static const char *const keys[] = {"payment_term", "ledger_account_id", "invoice_language", NULL};
    (void)ctx;
    m2j_group_entry *e = entry;
    long id, term = -1;
    m2j_rc rc;
    if (strcmp(key, "*") != 0 && !parse_uint_range(key, strlen(key), 0, INT_MAX, &id))
        rc = m2j_fail(err, M2J_ERR_INVALID, "%s: key must be a customer group id (a number) or \"*\"", PATH(path));
    else if (!json_object_is_type(val, json_type_object))
        rc = wrong_type(path, "an object", err);
    else if ((rc = check_keys(val, path, keys, err)) == M2J_OK &&
             (rc = read_long(val, path, "payment_term", 0, 730, &term, err)) == M2J_OK &&
             (rc = read_uuid(val, path, "ledger_account_id", false, &e->v.ledger_account_id, err)) == M2J_OK)
        rc = read_enum(val, path, "invoice_language", LANGUAGES, &e->v.invoice_language, err);
    e->v.payment_term = (int)term;
    return rc;
}

static m2j_rc load_groups(json_object *cust, m2j_buf *path, m2j_customers_config *cc, m2j_err *err)
{
    void *arr = NULL;
    m2j_rc rc = load_map(cust, path, "groups", sizeof *cc->groups, &arr, &cc->n_groups, group_entry, NULL, err);
    if (arr)
        cc->groups = arr;
    return rc;
}

static m2j_rc load_customers(json_object *root, m2j_buf *path, m2j_config *c, m2j_err *err)
{
    static const char *const keys[] = {"sync", "update_existing", "groups", "language_by_country",
                                       "field_map", NULL};
    m2j_customers_config *cc = &c->customers;
    json_object *s;
    m2j_rc rc;
    if ((rc = section(root, path, "customers", keys, &s, err)) != M2J_OK || !s)
        return rc;
    size_t old = path_push(path, "customers");
    if ((rc = read_bool(s, path, "sync", &cc->sync, err)) ||
        (rc = read_bool(s, path, "update_existing", &cc->update_existing, err)) ||
        (rc = load_groups(s, path, cc, err)) ||
        (rc = load_string_map(s, path, "language_by_country", SV_LANGUAGE, KEY_ISO | KEY_STAR,
                              &cc->language_by_country, &cc->n_language_by_country, err)) ||
        (rc = load_string_map(s, path, "field_map", SV_CUSTOMER_TEMPLATE, 0, &cc->field_map,
                              &cc->n_field_map, err)))
        goto out;
out:
    path_pop(path, old);
    return rc;
}

static m2j_rc load_log(json_object *root, m2j_buf *path, m2j_config *c, m2j_err *err)
{
    static const char *const keys[] = {"level", NULL};
    json_object *s;
    m2j_rc rc;
    if ((rc = section(root, path, "log", keys, &s, err)) != M2J_OK || !s)
        return rc;
    size_t old = path_push(path, "log");
    rc = read_enum(s, path, "level", LOG_LEVELS, &c->log.level, err);
    path_pop(path, old);
    return rc;
}

/* ---- load / free -------------------------------------------------------------- */

static m2j_rc load_json(json_object *root, const char *source, m2j_config **out, m2j_err *err)
{
    static const char *const keys[] = {"redis", "receiver", "jortt", "worker", "orders", "customers",
                                       "log", NULL};
    *out = NULL;
    if (!json_object_is_type(root, json_type_object))
        return m2j_fail(err, M2J_ERR_INVALID, "configuration must be a JSON object");
    m2j_config *c = calloc(1, sizeof *c);
    if (!c)
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory loading configuration");
    m2j_buf path = {0};
    m2j_rc rc = set_defaults(c);
    if (rc == M2J_OK && !(c->path = strdup(source)))
        rc = M2J_ERR_NOMEM;
    if (rc != M2J_OK)
        m2j_fail(err, rc, "out of memory loading configuration");
    if (rc == M2J_OK)
        rc = check_keys(root, &path, keys, err);
    if (rc == M2J_OK)
        rc = load_redis(root, &path, c, err);
    if (rc == M2J_OK)
        rc = load_receiver(root, &path, c, err);
    if (rc == M2J_OK)
        rc = load_jortt(root, &path, c, err);
    if (rc == M2J_OK)
        rc = load_worker(root, &path, c, err);
    if (rc == M2J_OK)
        rc = load_orders(root, &path, c, err);
    if (rc == M2J_OK)
        rc = load_customers(root, &path, c, err);
    if (rc == M2J_OK)
        rc = load_log(root, &path, c, err);
    m2j_buf_free(&path);
    if (rc != M2J_OK) {
        m2j_config_free(c);
        return rc;
    }
    *out = c;
    return M2J_OK;
}

m2j_rc m2j_config_load(const char *path, m2j_config **out, m2j_err *err)
{
    *out = NULL;
    json_object *root = NULL;
    m2j_rc rc = m2j_json_parse_file(path, CONFIG_MAX_BYTES, &root, err);
    if (rc != M2J_OK)
        return rc;
    m2j_err e2 = {0};
    rc = load_json(root, path, out, &e2);
    json_object_put(root);
    if (rc != M2J_OK)
        m2j_fail(err, rc, "%s: %s", path, e2.msg);
    return rc;
}

m2j_rc m2j_config_load_string(const char *text, m2j_config **out, m2j_err *err)
{
    *out = NULL;
    json_object *root = NULL;
    m2j_rc rc = m2j_json_parse(text, strlen(text), &root, err);
    if (rc != M2J_OK)
        return rc;
    rc = load_json(root, "<memory>", out, err);
    json_object_put(root);
    return rc;
}

static void free_string_entries(m2j_string_entry *e, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(e[i].key);
        free(e[i].v);
    }
    free(e);
}

void m2j_config_free(m2j_config *c)
{
    if (!c)
        return;
    free(c->path);
    free(c->redis.url);
    free(c->redis.key_prefix);
    free(c->redis.host);
    free(c->redis.unix_path);
    free(c->redis.username);
    free(c->redis.password);

    m2j_receiver_config *r = &c->receiver;
    free(r->listen);
    free(r->listen_host);
    free(r->webhook_secret);
    free(r->commerce_public_key_file);
    free_strv(r->io_events_public_key_files, r->n_io_events_public_key_files);
    free(r->io_events_client_id);

    free(c->jortt.api_url);
    free(c->jortt.token_url);
    free(c->jortt.client_id);
    free(c->jortt.client_secret);
    free(c->jortt.scope);

    m2j_orders_config *o = &c->orders;
    free_strv(o->statuses, o->n_statuses);
    free(o->invoice_status);
    free(o->send_method);
    free(o->default_customer_id);
    for (size_t i = 0; i < o->n_payment_methods; i++) {
        free(o->payment_methods[i].key);
        free(o->payment_methods[i].v.payment_method);
        free(o->payment_methods[i].v.label);
    }
    free(o->payment_methods);
    for (size_t i = 0; i < o->n_shipping_methods; i++) {
        free(o->shipping_methods[i].key);
        free(o->shipping_methods[i].v.description);
        free(o->shipping_methods[i].v.ledger_account_id);
    }
    free(o->shipping_methods);
    free_rate_entries(o->vat_by_country, o->n_vat_by_country);
    free_string_entries(o->revenue_account_by_country, o->n_revenue_account_by_country);
    free(o->country_from);
    free_string_entries(o->field_map, o->n_field_map);
    free(o->invoice_date);
    free(o->discount_label);
    free(o->shipping_label);

    m2j_customers_config *cc = &c->customers;
    for (size_t i = 0; i < cc->n_groups; i++) {
        free(cc->groups[i].key);
        free(cc->groups[i].v.ledger_account_id);
        free(cc->groups[i].v.invoice_language);
    }
    free(cc->groups);
    free_string_entries(cc->language_by_country, cc->n_language_by_country);
    free_string_entries(cc->field_map, cc->n_field_map);

    free(c->log.level);
    free(c);
}

/* ---- lookups ------------------------------------------------------------------ */

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
    return iso2 && in_list(eu, iso2);
}
