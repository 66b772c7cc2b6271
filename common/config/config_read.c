/* config_read.c: the typed readers and value checks behind config_read.h.
 *
 * The loader is strict on purpose: a typo in a key or a value of the wrong
 * type is an error naming the full key path, because a silently ignored
 * setting in an invoicing service shows up weeks later as wrong invoices.
 * JSON null for a key means "use the default". */
#include "config/config_read.h"

#include "base/json_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- key paths ---------------------------------------------------------- */

size_t m2j_cfg_path_push(m2j_buf *p, const char *key)
{
    size_t old = p->len;
    if (old)
        m2j_buf_append(p, ".", 1);
    m2j_buf_puts(p, key);
    return old;
}

void m2j_cfg_path_pop(m2j_buf *p, size_t old)
{
    if (p->data && old <= p->len) {
        p->len = old;
        p->data[old] = '\0';
    }
}

/* ---- small validators --------------------------------------------------- */

bool m2j_cfg_is_hex(char c)
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
        } else if (!m2j_cfg_is_hex(s[i])) {
            return false;
        }
    }
    return true;
}

bool m2j_cfg_in_list(const char *const *list, const char *s)
{
    for (; *list; list++)
        if (strcmp(*list, s) == 0)
            return true;
    return false;
}

void m2j_cfg_list_text(const char *const *list, char *out, size_t outlen)
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

bool m2j_cfg_parse_uint_range(const char *s, size_t n, long min, long max, long *out)
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

m2j_rc m2j_cfg_check_uuid(const char *s, const m2j_buf *path, bool allow_empty, m2j_err *err)
{
    if (allow_empty && !*s)
        return M2J_OK;
    if (!is_uuid(s))
        return m2j_fail(err, M2J_ERR_INVALID, "%s: \"%.40s\" is not a UUID (8-4-4-4-12 hex digits)",
                        CFG_PATH(path), s);
    return M2J_OK;
}

m2j_rc m2j_cfg_wrong_type(const m2j_buf *path, const char *expected, m2j_err *err)
{
    return m2j_fail(err, M2J_ERR_INVALID, "%s: expected %s", CFG_PATH(path), expected);
}

/* ---- typed readers ------------------------------------------------------ */

m2j_rc m2j_cfg_check_keys(json_object *obj, m2j_buf *path, const char *const *known, m2j_err *err)
{
    json_object_object_foreach(obj, key, val) {
        (void)val;
        if (!m2j_cfg_in_list(known, key)) {
            size_t old = m2j_cfg_path_push(path, key);
            m2j_rc rc = m2j_fail(err, M2J_ERR_INVALID, "unknown key %s", CFG_PATH(path));
            m2j_cfg_path_pop(path, old);
            return rc;
        }
    }
    return M2J_OK;
}

m2j_rc m2j_cfg_string_value(json_object *v, m2j_buf *path, char **out, m2j_err *err)
{
    if (!json_object_is_type(v, json_type_string))
        return m2j_cfg_wrong_type(path, "a string", err);
    return m2j_cfg_expand_env(json_object_get_string(v), path, out, err);
}

void m2j_cfg_replace(char **slot, char *s)
{
    free(*slot);
    *slot = s;
}

m2j_rc m2j_cfg_read_str(json_object *obj, m2j_buf *path, const char *key, char **slot, m2j_err *err)
{
    json_object *v = m2j_json_get(obj, key);
    if (!v)
        return M2J_OK;
    size_t old = m2j_cfg_path_push(path, key);
    char *s = NULL;
    m2j_rc rc = m2j_cfg_string_value(v, path, &s, err);
    if (rc == M2J_OK)
        m2j_cfg_replace(slot, s);
    m2j_cfg_path_pop(path, old);
    return rc;
}

m2j_rc m2j_cfg_read_enum(json_object *obj, m2j_buf *path, const char *key, const char *const *allowed,
                         char **slot, m2j_err *err)
{
    json_object *v = m2j_json_get(obj, key);
    if (!v)
        return M2J_OK;
    size_t old = m2j_cfg_path_push(path, key);
    char *s = NULL;
    m2j_rc rc = m2j_cfg_string_value(v, path, &s, err);
    if (rc == M2J_OK && !m2j_cfg_in_list(allowed, s)) {
        char opts[128];
        m2j_cfg_list_text(allowed, opts, sizeof opts);
        rc = m2j_fail(err, M2J_ERR_INVALID, "%s: \"%.40s\" is not one of %s", CFG_PATH(path), s, opts);
        free(s);
    } else if (rc == M2J_OK) {
        m2j_cfg_replace(slot, s);
    }
    m2j_cfg_path_pop(path, old);
    return rc;
}

m2j_rc m2j_cfg_read_uuid(json_object *obj, m2j_buf *path, const char *key, bool allow_empty,
                         char **slot, m2j_err *err)
{
    json_object *v = m2j_json_get(obj, key);
    if (!v)
        return M2J_OK;
    size_t old = m2j_cfg_path_push(path, key);
    char *s = NULL;
    m2j_rc rc = m2j_cfg_string_value(v, path, &s, err);
    if (rc == M2J_OK && (rc = m2j_cfg_check_uuid(s, path, allow_empty, err)) != M2J_OK)
        free(s);
    else if (rc == M2J_OK)
        m2j_cfg_replace(slot, s);
    m2j_cfg_path_pop(path, old);
    return rc;
}

static m2j_rc int_value(json_object *v, m2j_buf *path, long min, long max, long *out, m2j_err *err)
{
    if (!json_object_is_type(v, json_type_int))
        return m2j_cfg_wrong_type(path, "an integer", err);
    /* Read the text so values beyond int64 (which json-c clamps) are seen. */
    int64_t n = 0;
    if (m2j_json_int(v, NULL, &n) != M2J_OK || n < min || n > max)
        return m2j_fail(err, M2J_ERR_INVALID, "%s: %s is out of range (%ld..%ld)", CFG_PATH(path),
                        json_object_get_string(v), min, max);
    *out = (long)n;
    return M2J_OK;
}

m2j_rc m2j_cfg_read_long(json_object *obj, m2j_buf *path, const char *key, long min, long max,
                         long *slot, m2j_err *err)
{
    json_object *v = m2j_json_get(obj, key);
    if (!v)
        return M2J_OK;
    size_t old = m2j_cfg_path_push(path, key);
    m2j_rc rc = int_value(v, path, min, max, slot, err);
    m2j_cfg_path_pop(path, old);
    return rc;
}

m2j_rc m2j_cfg_read_int(json_object *obj, m2j_buf *path, const char *key, int min, int max,
                        int *slot, m2j_err *err)
{
    long v = *slot;
    m2j_rc rc = m2j_cfg_read_long(obj, path, key, min, max, &v, err);
    if (rc == M2J_OK)
        *slot = (int)v;
    return rc;
}

m2j_rc m2j_cfg_read_size(json_object *obj, m2j_buf *path, const char *key, long min, long max,
                         size_t *slot, m2j_err *err)
{
    long v = (long)*slot;
    m2j_rc rc = m2j_cfg_read_long(obj, path, key, min, max, &v, err);
    if (rc == M2J_OK)
        *slot = (size_t)v;
    return rc;
}

m2j_rc m2j_cfg_read_bool(json_object *obj, m2j_buf *path, const char *key, bool *slot, m2j_err *err)
{
    json_object *v = m2j_json_get(obj, key);
    if (!v)
        return M2J_OK;
    if (!json_object_is_type(v, json_type_boolean)) {
        size_t old = m2j_cfg_path_push(path, key);
        m2j_rc rc = m2j_cfg_wrong_type(path, "true or false", err);
        m2j_cfg_path_pop(path, old);
        return rc;
    }
    *slot = json_object_get_boolean(v);
    return M2J_OK;
}

m2j_rc m2j_cfg_read_section(json_object *obj, m2j_buf *path, const char *key, const char *const *known,
                            json_object **out, m2j_err *err)
{
    *out = m2j_json_get(obj, key);
    if (!*out)
        return M2J_OK;
    size_t old = m2j_cfg_path_push(path, key);
    m2j_rc rc;
    if (!json_object_is_type(*out, json_type_object))
        rc = m2j_cfg_wrong_type(path, "an object", err);
    else
        rc = m2j_cfg_check_keys(*out, path, known, err);
    m2j_cfg_path_pop(path, old);
    return rc;
}

void m2j_cfg_free_strv(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

m2j_rc m2j_cfg_read_strv(json_object *obj, m2j_buf *path, const char *key, bool nonempty_list,
                         char ***slot, size_t *n, m2j_err *err)
{
    json_object *v = m2j_json_get(obj, key);
    if (!v)
        return M2J_OK;
    size_t old = m2j_cfg_path_push(path, key);
    m2j_rc rc = M2J_OK;
    char **list = NULL;
    size_t len = 0;
    if (!json_object_is_type(v, json_type_array)) {
        rc = m2j_cfg_wrong_type(path, "an array of strings", err);
        goto out;
    }
    len = json_object_array_length(v);
    if (nonempty_list && len == 0) {
        rc = m2j_fail(err, M2J_ERR_INVALID, "%s: must not be empty", CFG_PATH(path));
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
        size_t o2 = m2j_cfg_path_push(path, idx);
        json_object *el = json_object_array_get_idx(v, i);
        if (!el || !json_object_is_type(el, json_type_string))
            rc = m2j_cfg_wrong_type(path, "a string", err);
        else if ((rc = m2j_cfg_expand_env(json_object_get_string(el), path, &list[i], err)) == M2J_OK &&
                 !*list[i])
            rc = m2j_fail(err, M2J_ERR_INVALID, "%s: must not be empty", CFG_PATH(path));
        m2j_cfg_path_pop(path, o2);
        if (rc != M2J_OK)
            goto out;
    }
    m2j_cfg_free_strv(*slot, *n);
    *slot = list;
    *n = len;
    list = NULL;
out:
    if (list)
        m2j_cfg_free_strv(list, len);
    m2j_cfg_path_pop(path, old);
    return rc;
}
