/* config_map.c: the map-shaped keys ("code": {settings} or "code": "text")
 * that orders and customers share: one walker that gives each entry its key
 * and error path, the country-key rule, and the string -> string maps
 * (ledger accounts, languages, field templates). */
#include "config/config_read.h"

#include "base/json_util.h"
#include "mapping/template.h"

#include <stdlib.h>
#include <string.h>

const char *const m2j_cfg_languages[] = {"nl", "de", "en", "fr", "es", NULL};

/* Two upper-case letters; "EU" is a region, not a country, and is handled
 * separately where a map allows it. */
static bool is_iso2(const char *s)
{
    return s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z' && s[2] == '\0' &&
           strcmp(s, "EU") != 0;
}

m2j_rc m2j_cfg_check_country_key(const char *key, int allowed, const m2j_buf *path, m2j_err *err)
{
    if (is_iso2(key) || ((allowed & M2J_CFG_KEY_EU) && strcmp(key, "EU") == 0) ||
        ((allowed & M2J_CFG_KEY_STAR) && strcmp(key, "*") == 0))
        return M2J_OK;
    return m2j_fail(err, M2J_ERR_INVALID, "%s: key must be an ISO country code (two upper-case letters)%s",
                    CFG_PATH(path),
                    (allowed & M2J_CFG_KEY_EU) ? ", \"EU\" or \"*\"" : (allowed & M2J_CFG_KEY_STAR) ? " or \"*\"" : "");
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
        size_t old = m2j_cfg_path_push(path, key);
        m2j_rc rc = m2j_cfg_wrong_type(path, "an object", err);
        m2j_cfg_path_pop(path, old);
        *out = NULL;
        return rc;
    }
    *count = (size_t)json_object_object_length(*out);
    return M2J_OK;
}

m2j_rc m2j_cfg_load_map(json_object *obj, m2j_buf *path, const char *name, size_t size, void **arr,
                        size_t *count, m2j_cfg_map_entry_fn fn, void *ctx, m2j_err *err)
{
    json_object *m;
    size_t n;
    m2j_rc rc = map_object(obj, path, name, &m, &n, err);
    if (rc != M2J_OK || !m)
        return rc;
    size_t old = m2j_cfg_path_push(path, name);
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
        size_t o2 = m2j_cfg_path_push(path, key);
        rc = fn(key, val, path, entry, ctx, err);
        m2j_cfg_path_pop(path, o2);
        if (rc != M2J_OK)
            goto out;
    }
out:
    m2j_cfg_path_pop(path, old);
    return rc;
}

typedef struct {
    m2j_cfg_string_map_kind kind;
    int                     country_keys; /* M2J_CFG_KEY_* bits; 0 = keys are not countries */
} string_map_ctx;

static m2j_rc string_entry(const char *key, json_object *val, m2j_buf *path, void *entry, void *ctx, m2j_err *err)
{
    const string_map_ctx *sc = ctx;
    m2j_string_entry *e = entry;
    m2j_rc rc = M2J_OK;
    if (sc->country_keys)
        rc = m2j_cfg_check_country_key(key, sc->country_keys, path, err);
    else if (sc->kind == M2J_CFG_SV_INVOICE_TEMPLATE && !m2j_jortt_invoice_field_known(key))
        rc = m2j_fail(err, M2J_ERR_INVALID, "%s: \"%s\" is not a Jortt invoice field that can be mapped",
                      CFG_PATH(path), key);
    else if (sc->kind == M2J_CFG_SV_CUSTOMER_TEMPLATE && !m2j_jortt_customer_field_known(key))
        rc = m2j_fail(err, M2J_ERR_INVALID, "%s: \"%s\" is not a Jortt customer field that can be mapped",
                      CFG_PATH(path), key);
    if (rc == M2J_OK)
        rc = m2j_cfg_string_value(val, path, &e->v, err);
    if (rc != M2J_OK)
        return rc;
    m2j_err terr = {0};
    char opts[64];
    switch (sc->kind) {
    case M2J_CFG_SV_UUID:
        return m2j_cfg_check_uuid(e->v, path, false, err);
    case M2J_CFG_SV_LANGUAGE:
        if (!m2j_cfg_in_list(m2j_cfg_languages, e->v)) {
            m2j_cfg_list_text(m2j_cfg_languages, opts, sizeof opts);
            return m2j_fail(err, M2J_ERR_INVALID, "%s: \"%.40s\" is not one of %s", CFG_PATH(path), e->v, opts);
        }
        return M2J_OK;
    case M2J_CFG_SV_INVOICE_TEMPLATE:
    case M2J_CFG_SV_CUSTOMER_TEMPLATE:
        if (m2j_template_validate(e->v, sc->kind == M2J_CFG_SV_INVOICE_TEMPLATE ? M2J_TEMPLATE_ORDER
                                                                                : M2J_TEMPLATE_CUSTOMER,
                                  &terr) != M2J_OK)
            return m2j_fail(err, M2J_ERR_INVALID, "%s: %s", CFG_PATH(path), terr.msg);
        return M2J_OK;
    }
    return M2J_OK;
}

m2j_rc m2j_cfg_load_string_map(json_object *obj, m2j_buf *path, const char *name, m2j_cfg_string_map_kind kind,
                               int country_keys, m2j_string_entry **out, size_t *nout, m2j_err *err)
{
    string_map_ctx sc = { kind, country_keys };
    void *arr = NULL;
    m2j_rc rc = m2j_cfg_load_map(obj, path, name, sizeof **out, &arr, nout, string_entry, &sc, err);
    if (arr)
        *out = arr;
    return rc;
}
