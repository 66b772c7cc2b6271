/* section_customers.c: "customers": whether and how Magento customers become
 * Jortt customers, with per-group overrides, languages and field templates. */
#include "config/config_read.h"
#include "config/config_section.h"

#include <limits.h>
#include <string.h>

static m2j_rc group_entry(const char *key, json_object *val, m2j_buf *path, void *entry, void *ctx, m2j_err *err)
{
    static const char *const keys[] = {"payment_term", "ledger_account_id", "invoice_language", NULL};
    (void)ctx;
    m2j_group_entry *e = entry;
    long id, term = -1;
    m2j_rc rc;
    if (strcmp(key, "*") != 0 && !m2j_cfg_parse_uint_range(key, strlen(key), 0, INT_MAX, &id))
        rc = m2j_fail(err, M2J_ERR_INVALID, "%s: key must be a customer group id (a number) or \"*\"",
                      CFG_PATH(path));
    else if (!json_object_is_type(val, json_type_object))
        rc = m2j_cfg_wrong_type(path, "an object", err);
    else if ((rc = m2j_cfg_check_keys(val, path, keys, err)) == M2J_OK &&
             (rc = m2j_cfg_read_long(val, path, "payment_term", 0, 730, &term, err)) == M2J_OK &&
             (rc = m2j_cfg_read_uuid(val, path, "ledger_account_id", false, &e->v.ledger_account_id,
                                     err)) == M2J_OK)
        rc = m2j_cfg_read_enum(val, path, "invoice_language", m2j_cfg_languages, &e->v.invoice_language, err);
    e->v.payment_term = (int)term;
    return rc;
}

static m2j_rc load_groups(json_object *cust, m2j_buf *path, m2j_customers_config *cc, m2j_err *err)
{
    void *arr = NULL;
    m2j_rc rc = m2j_cfg_load_map(cust, path, "groups", sizeof *cc->groups, &arr, &cc->n_groups, group_entry,
                                 NULL, err);
    if (arr)
        cc->groups = arr;
    return rc;
}

static m2j_rc load_customers(json_object *s, m2j_buf *path, m2j_config *c, m2j_err *err)
{
    m2j_customers_config *cc = &c->customers;
    m2j_rc rc;
    if (!s)
        return M2J_OK;
    if ((rc = m2j_cfg_read_bool(s, path, "sync", &cc->sync, err)) ||
        (rc = m2j_cfg_read_bool(s, path, "update_existing", &cc->update_existing, err)) ||
        (rc = load_groups(s, path, cc, err)) ||
        (rc = m2j_cfg_load_string_map(s, path, "language_by_country", M2J_CFG_SV_LANGUAGE,
                                      M2J_CFG_KEY_ISO | M2J_CFG_KEY_STAR, &cc->language_by_country,
                                      &cc->n_language_by_country, err)))
        return rc;
    return m2j_cfg_load_string_map(s, path, "field_map", M2J_CFG_SV_CUSTOMER_TEMPLATE, 0, &cc->field_map,
                                   &cc->n_field_map, err);
}

static const char *const keys[] = {"sync", "update_existing", "groups", "language_by_country",
                                   "field_map", NULL};

const m2j_cfg_section m2j_cfg_section_customers = {"customers", keys, load_customers};
