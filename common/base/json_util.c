/* json_util.c: safe readers over json-c (see json_util.h). */
#include "base/json_util.h"

#include "base/buf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSON_MAX_DEPTH 64

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

m2j_rc m2j_json_parse(const char *data, size_t len, json_object **out, m2j_err *err)
{
    *out = NULL;
    if (len > (size_t)INT32_MAX - 1)
        return m2j_fail(err, M2J_ERR_TOO_LARGE, "JSON document too large (%zu bytes)", len);
    json_tokener *tok = json_tokener_new_ex(JSON_MAX_DEPTH);
    if (!tok)
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory parsing JSON");
    /* json-c needs to see a terminator to finish a top-level number ("12"
     * could continue). The tokener is incremental, so the NUL is fed as a
     * second chunk instead of parsing a terminated copy of the body: same
     * result, without a copy of every request. */
    json_object *obj = json_tokener_parse_ex(tok, data, (int)len);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t end = json_tokener_get_parse_end(tok);
    if (!obj && jerr == json_tokener_continue) {
        obj = json_tokener_parse_ex(tok, "", 1);
        jerr = json_tokener_get_error(tok);
        end = len + json_tokener_get_parse_end(tok);
    }
    m2j_rc rc = M2J_OK;
    if (!obj && jerr == json_tokener_success) {
        /* The document is the literal null: valid JSON, but never what any
         * caller expects as a whole document. */
        rc = m2j_fail(err, M2J_ERR_INVALID, "JSON document is null");
    } else if (jerr != json_tokener_success) {
        if (jerr == json_tokener_error_depth)
            rc = m2j_fail(err, M2J_ERR_TOO_LARGE, "JSON nested deeper than %d levels", JSON_MAX_DEPTH);
        else if (jerr == json_tokener_continue)
            rc = m2j_fail(err, M2J_ERR_INVALID, "JSON ends unexpectedly");
        else
            rc = m2j_fail(err, M2J_ERR_INVALID, "invalid JSON near byte %zu: %s",
                          end, json_tokener_error_desc(jerr));
    } else {
        /* parse_end may point at or past the end; anything before it that is
         * not whitespace is trailing data (including an embedded NUL). */
        for (size_t i = end; i < len; i++) {
            if (!is_space(data[i])) {
                rc = m2j_fail(err, M2J_ERR_INVALID, "trailing data after JSON value at byte %zu", i);
                break;
            }
        }
    }
    json_tokener_free(tok);
    if (rc != M2J_OK) {
        json_object_put(obj);
        return rc;
    }
    *out = obj;
    return M2J_OK;
}

m2j_rc m2j_json_parse_file(const char *path, size_t max_bytes, json_object **out, m2j_err *err)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return m2j_fail(err, M2J_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    m2j_buf b = {0};
    m2j_rc rc = M2J_OK;
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (b.len + n > max_bytes) {
            rc = m2j_fail(err, M2J_ERR_TOO_LARGE, "%s is larger than %zu bytes", path, max_bytes);
            break;
        }
        if (m2j_buf_append(&b, chunk, n) != M2J_OK) {
            rc = m2j_fail(err, M2J_ERR_NOMEM, "out of memory reading %s", path);
            break;
        }
    }
    if (rc == M2J_OK && ferror(f))
        rc = m2j_fail(err, M2J_ERR_IO, "cannot read %s", path);
    fclose(f);
    if (rc == M2J_OK) {
        m2j_err perr = {0};
        rc = m2j_json_parse(m2j_buf_str(&b), b.len, out, &perr);
        if (rc != M2J_OK)
            m2j_fail(err, rc, "%s: %s", path, perr.msg);
    }
    m2j_buf_free(&b);
    return rc;
}

static bool all_digits(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

json_object *m2j_json_path(json_object *root, const char *path)
{
    json_object *cur = root;
    if (!path)
        return cur;
    const char *p = path;
    while (cur && *p) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        if (json_object_is_type(cur, json_type_object)) {
            /* Keys are looked up by a NUL-terminated copy; segments are
             * short, but there is no fixed limit. */
            char *key = strndup(p, n);
            if (!key)
                return NULL;
            json_object *next = NULL;
            if (!json_object_object_get_ex(cur, key, &next))
                next = NULL;
            free(key);
            cur = next;
        } else if (json_object_is_type(cur, json_type_array)) {
            if (!all_digits(p, n) || n > 9)
                return NULL;
            size_t idx = 0;
            for (size_t i = 0; i < n; i++)
                idx = idx * 10 + (size_t)(p[i] - '0');
            if (idx >= json_object_array_length(cur))
                return NULL;
            cur = json_object_array_get_idx(cur, idx);
        } else {
            return NULL;
        }
        if (!dot)
            break;
        p = dot + 1;
    }
    if (cur && json_object_is_type(cur, json_type_null))
        return NULL;
    return cur;
}

const char *m2j_json_str(json_object *root, const char *path)
{
    json_object *o = m2j_json_path(root, path);
    if (!o)
        return NULL;
    switch (json_object_get_type(o)) {
    case json_type_string:
    case json_type_int:
    case json_type_double:
    case json_type_boolean:
        return json_object_get_string(o);
    default:
        return NULL;
    }
}

const char *m2j_json_str0(json_object *root, const char *path)
{
    const char *s = m2j_json_str(root, path);
    if (!s)
        return "";
    for (const char *p = s; *p; p++)
        if (!is_space(*p))
            return s;
    return "";
}

/* Integer text: optional sign, digits, optionally '.' followed by zeros only
 * ("3.0" is 3, "3.5" is not an integer). Surrounding spaces allowed. */
static m2j_rc parse_int_text(const char *s, int64_t *out)
{
    while (is_space(*s))
        s++;
    bool neg = false;
    if (*s == '+' || *s == '-')
        neg = (*s++ == '-');
    if (!(*s >= '0' && *s <= '9'))
        return M2J_ERR_INVALID;
    uint64_t v = 0;
    const uint64_t lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    while (*s >= '0' && *s <= '9') {
        unsigned d = (unsigned)(*s++ - '0');
        if (v > (lim - d) / 10)
            return M2J_ERR_INVALID;
        v = v * 10 + d;
    }
    if (*s == '.') {
        s++;
        while (*s == '0')
            s++;
    }
    while (is_space(*s))
        s++;
    if (*s)
        return M2J_ERR_INVALID;
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return M2J_OK;
}

m2j_rc m2j_json_int(json_object *root, const char *path, int64_t *out)
{
    json_object *o = m2j_json_path(root, path);
    if (!o)
        return M2J_ERR_NOTFOUND;
    switch (json_object_get_type(o)) {
    case json_type_int:
    case json_type_double:
    case json_type_string:
        return parse_int_text(json_object_get_string(o), out);
    default:
        return M2J_ERR_INVALID;
    }
}

m2j_rc m2j_json_bool(json_object *root, const char *path, bool *out)
{
    json_object *o = m2j_json_path(root, path);
    if (!o)
        return M2J_ERR_NOTFOUND;
    const char *s = NULL;
    switch (json_object_get_type(o)) {
    case json_type_boolean:
        *out = json_object_get_boolean(o);
        return M2J_OK;
    case json_type_int:
    case json_type_string:
        s = json_object_get_string(o);
        break;
    default:
        return M2J_ERR_INVALID;
    }
    if (strcmp(s, "1") == 0 || strcmp(s, "true") == 0) {
        *out = true;
        return M2J_OK;
    }
    if (strcmp(s, "0") == 0 || strcmp(s, "false") == 0) {
        *out = false;
        return M2J_OK;
    }
    return M2J_ERR_INVALID;
}

static m2j_rc money_at(json_object *root, const char *path, m2j_money *out,
                       bool empty_is_zero, m2j_err *err)
{
    json_object *o = m2j_json_path(root, path);
    if (!o) {
        if (empty_is_zero) {
            *out = 0;
            return M2J_OK;
        }
        return m2j_fail(err, M2J_ERR_NOTFOUND, "%s: missing", path ? path : "value");
    }
    json_type t = json_object_get_type(o);
    if (t != json_type_int && t != json_type_double && t != json_type_string)
        return m2j_fail(err, M2J_ERR_INVALID, "%s: expected an amount, got %s",
                        path ? path : "value", json_type_to_name(t));
    const char *s = json_object_get_string(o);
    if (empty_is_zero && t == json_type_string) {
        const char *p = s;
        while (is_space(*p))
            p++;
        if (!*p) {
            *out = 0;
            return M2J_OK;
        }
    }
    m2j_err perr = {0};
    m2j_money v;
    m2j_rc rc = m2j_money_parse(s, &v, &perr);
    if (rc != M2J_OK)
        return m2j_fail(err, rc, "%s: %s", path ? path : "value", perr.msg);
    *out = v;
    return M2J_OK;
}

m2j_rc m2j_json_money(json_object *root, const char *path, m2j_money *out, m2j_err *err)
{
    return money_at(root, path, out, false, err);
}

m2j_rc m2j_json_money0(json_object *root, const char *path, m2j_money *out, m2j_err *err)
{
    return money_at(root, path, out, true, err);
}

m2j_rc m2j_json_set_str(json_object *obj, const char *key, const char *val)
{
    return m2j_json_add(obj, key, json_object_new_string(val ? val : ""));
}

const char *m2j_json_compact(json_object *obj)
{
    return json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}

m2j_rc m2j_json_add(json_object *obj, const char *key, json_object *v)
{
    if (!v)
        return M2J_ERR_NOMEM;
    if (json_object_object_add(obj, key, v) != 0) {
        json_object_put(v);
        return M2J_ERR_NOMEM;
    }
    return M2J_OK;
}

m2j_rc m2j_json_set_bool(json_object *obj, const char *key, bool v)
{
    return m2j_json_add(obj, key, json_object_new_boolean(v));
}

m2j_rc m2j_json_set_int(json_object *obj, const char *key, int64_t v)
{
    return m2j_json_add(obj, key, json_object_new_int64(v));
}

json_object *m2j_json_get(json_object *o, const char *key)
{
    json_object *v = NULL;
    if (!o || !json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, key, &v))
        return NULL;
    return v; /* json-c holds JSON null as NULL */
}

json_object *m2j_json_get_obj(json_object *o, const char *key)
{
    json_object *v = m2j_json_get(o, key);
    return v && json_object_is_type(v, json_type_object) ? v : NULL;
}

json_object *m2j_json_get_arr(json_object *o, const char *key)
{
    json_object *v = m2j_json_get(o, key);
    return v && json_object_is_type(v, json_type_array) ? v : NULL;
}

const char *m2j_json_get_string(json_object *o, const char *key)
{
    json_object *v = m2j_json_get(o, key);
    return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

const char *m2j_json_get_id(json_object *o, const char *key)
{
    json_object *v = m2j_json_get(o, key);
    if (!v || (!json_object_is_type(v, json_type_string) && !json_object_is_type(v, json_type_int)))
        return NULL;
    const char *s = json_object_get_string(v);
    return s && *s ? s : NULL;
}

const char *m2j_json_scalar(json_object *o, const char *key)
{
    json_object *v = m2j_json_get(o, key);
    if (!v || json_object_is_type(v, json_type_object) || json_object_is_type(v, json_type_array))
        return "";
    return json_object_get_string(v);
}
