/* state_file.c: optional persistence of the double's data (--state-file),
 * so `make run` keeps its invoices across restarts of the double. Written
 * once at a clean exit (temp file + rename, so a crash mid-write leaves the
 * previous file), read once at start. */
#include "jd.h"
#include "state_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STATE_MAX_BYTES (512u * 1024 * 1024)

static m2j_rc load_list(json_object *root, const char *key, json_object *into, m2j_err *err)
{
    json_object *list;
    if (!json_object_object_get_ex(root, key, &list) || !list)
        return M2J_OK;
    if (!json_object_is_type(list, json_type_array))
        return m2j_fail(err, M2J_ERR_INVALID, "\"%s\" is not an array", key);
    for (size_t i = 0; i < json_object_array_length(list); i++) {
        json_object *e = json_object_array_get_idx(list, i);
        const char *id = jd_get_str(e, "id");
        if (!json_object_is_type(e, json_type_object) || !jd_is_uuid(id))
            return m2j_fail(err, M2J_ERR_INVALID, "%s[%zu] has no valid id", key, i);
        json_object_object_add(into, id, json_object_get(e));
    }
    return M2J_OK;
}

m2j_rc jd_state_load(jd_server *s, const char *path, m2j_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (errno == ENOENT)
            return M2J_OK; /* first run */
        return m2j_fail(err, M2J_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    }
    m2j_rc rc = M2J_OK;
    char *data = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 65536;
            char *d = cap <= STATE_MAX_BYTES ? realloc(data, cap + 1) : NULL;
            if (!d) {
                rc = m2j_fail(err, M2J_ERR_TOO_LARGE, "%s is too large or memory is short", path);
                break;
            }
            data = d;
        }
        size_t n = fread(data + len, 1, cap - len, f);
        len += n;
        if (n == 0)
            break;
    }
    if (rc == M2J_OK && ferror(f))
        rc = m2j_fail(err, M2J_ERR_IO, "cannot read %s", path);
    fclose(f);
    json_object *root = NULL;
    if (rc == M2J_OK) {
        json_tokener *tok = json_tokener_new_ex(64);
        root = tok ? json_tokener_parse_ex(tok, data, (int)len) : NULL;
        if (!tok || json_tokener_get_error(tok) != json_tokener_success ||
            !json_object_is_type(root, json_type_object))
            rc = m2j_fail(err, M2J_ERR_INVALID, "%s is not a JSON object", path);
        if (tok)
            json_tokener_free(tok);
    }
    free(data);
    if (rc == M2J_OK)
        rc = load_list(root, "customers", s->customers, err);
    if (rc == M2J_OK)
        rc = load_list(root, "invoices", s->invoices, err);
    if (rc == M2J_OK)
        rc = load_list(root, "deleted_invoices", s->deleted_invoices, err);
    json_object *v;
    if (rc == M2J_OK && json_object_object_get_ex(root, "invoice_seq", &v) && v)
        s->invoice_seq = (unsigned long)json_object_get_int64(v);
    if (rc == M2J_OK && json_object_object_get_ex(root, "tokens", &v) && json_object_is_type(v, json_type_object)) {
        json_object_object_foreach(v, tok_k, tok_v)
        {
            json_object_object_add(s->tokens, tok_k, json_object_get(tok_v));
        }
    }
    json_object_put(root);
    return rc;
}

static json_object *values_of(json_object *map)
{
    json_object *a = json_object_new_array();
    json_object_object_foreach(map, k, v)
    {
        (void)k;
        json_object_array_add(a, json_object_get(v));
    }
    return a;
}

m2j_rc jd_state_save(jd_server *s, const char *path, m2j_err *err)
{
    json_object *root = json_object_new_object();
    json_object_object_add(root, "customers", values_of(s->customers));
    json_object_object_add(root, "invoices", values_of(s->invoices));
    json_object_object_add(root, "deleted_invoices", values_of(s->deleted_invoices));
    json_object_object_add(root, "invoice_seq", json_object_new_int64((int64_t)s->invoice_seq));
    json_object_object_add(root, "tokens", json_object_get(s->tokens));
    size_t n = strlen(path) + 8;
    char *tmp = malloc(n);
    m2j_rc rc = M2J_OK;
    if (!tmp) {
        json_object_put(root);
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    }
    snprintf(tmp, n, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        rc = m2j_fail(err, M2J_ERR_IO, "cannot write %s: %s", tmp, strerror(errno));
    } else {
        const char *text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN);
        bool ok = fputs(text, f) >= 0;
        ok &= fclose(f) == 0;
        if (!ok || rename(tmp, path) != 0) {
            rc = m2j_fail(err, M2J_ERR_IO, "cannot write %s: %s", path, strerror(errno));
            remove(tmp);
        }
    }
    free(tmp);
    json_object_put(root);
    return rc;
}
