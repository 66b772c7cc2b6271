/* field_map.c: orders.field_map and customers.field_map, applied to the
 * Jortt bodies after every default (order_internal.h). The template syntax
 * and the allowed Jortt fields were checked when the config was loaded; here
 * the rendered text is typed for the field it lands in, and a value that
 * does not fit is an error rather than something Jortt would reject (or,
 * worse, accept as 0). */
#include "mapping/order_internal.h"
#include "mapping/template.h"
#include "base/json_util.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>


static bool is_int_field(m2j_field_target target, const char *name)
{
    if (strcmp(name, "payment_term") == 0)
        return true;
    return target == M2J_FIELD_CUSTOMER && strcmp(name, "default_discount_percentage") == 0;
}

static bool is_bool_field(m2j_field_target target, const char *name)
{
    return target == M2J_FIELD_CUSTOMER ? strcmp(name, "shift_vat") == 0 : strcmp(name, "sold_via_platform") == 0;
}

/* Jortt wants dates as YYYY-MM-DD; Magento's are "YYYY-MM-DD HH:MM:SS",
 * so a template like "{created_at}" is cut to its date. */
static bool is_date_field(m2j_field_target target, const char *name)
{
    if (target == M2J_FIELD_CUSTOMER)
        return strcmp(name, "date_of_birth") == 0;
    return strcmp(name, "invoice_date") == 0 || strcmp(name, "delivery_period") == 0 ||
           strcmp(name, "delivery_period_end") == 0;
}

static bool date_prefix(const char *s)
{
    for (int i = 0; i < 10; i++) {
        bool dash = i == 4 || i == 7;
        if (dash ? s[i] != '-' : !isdigit((unsigned char)s[i]))
            return false;
    }
    return s[10] == '\0' || s[10] == ' ' || s[10] == 'T';
}

static bool parse_bool_text(const char *s, bool *out)
{
    static const char *const yes[] = { "true", "1", "yes", "ja" };
    static const char *const no[] = { "false", "0", "no", "nee" };
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(s, yes[i]) == 0)
            return (*out = true);
        if (strcasecmp(s, no[i]) == 0)
            return !(*out = false);
    }
    return false;
}

m2j_rc m2j_apply_field_map(const m2j_string_entry *map, size_t n, m2j_field_target target,
                           json_object *entity, json_object *body, m2j_err *err)
{
    m2j_buf out = { 0 };
    m2j_rc rc = M2J_OK;
    const char *what = target == M2J_FIELD_INVOICE ? "orders" : "customers";
    for (size_t i = 0; i < n && rc == M2J_OK; i++) {
        const char *key = map[i].key;
        bool known = target == M2J_FIELD_INVOICE ? m2j_jortt_invoice_field_known(key)
                                                 : m2j_jortt_customer_field_known(key);
        if (!known) {
            rc = m2j_fail(err, M2J_ERR_INVALID, "%s.field_map: unknown Jortt field \"%s\"", what, key);
            break;
        }
        m2j_buf_reset(&out);
        m2j_err e = { 0 };
        if ((rc = m2j_template_render(map[i].v, entity, &out, &e)) != M2J_OK) {
            rc = m2j_fail(err, rc, "%s.field_map.%s: %s", what, key, e.msg);
            break;
        }
        /* trim: templates often join optional parts with spaces */
        char *s = out.data ? out.data : (char *)"";
        while (*s && isspace((unsigned char)*s))
            s++;
        size_t len = strlen(s);
        while (len > 0 && isspace((unsigned char)s[len - 1]))
            s[--len] = '\0';
        if (len == 0)
            continue; /* nothing to say: keep the default */
        if (is_int_field(target, key)) {
            char *end;
            long long v = strtoll(s, &end, 10);
            if (*end || v < 0 || v > 100000 || !isdigit((unsigned char)*s)) {
                rc = m2j_fail(err, M2J_ERR_INVALID, "%s.field_map.%s: \"%.40s\" is not a whole number", what, key, s);
                break;
            }
            rc = m2j_json_set_int(body, key, v);
        } else if (is_date_field(target, key)) {
            if (!date_prefix(s)) {
                rc = m2j_fail(err, M2J_ERR_INVALID, "%s.field_map.%s: \"%.40s\" is not a date (YYYY-MM-DD)", what, key, s);
                break;
            }
            s[10] = '\0';
            rc = m2j_json_set_str(body, key, s);
        } else if (is_bool_field(target, key)) {
            bool b;
            if (!parse_bool_text(s, &b)) {
                rc = m2j_fail(err, M2J_ERR_INVALID, "%s.field_map.%s: \"%.40s\" is not true or false", what, key, s);
                break;
            }
            rc = m2j_json_set_bool(body, key, b);
        } else {
            rc = m2j_json_set_str(body, key, s);
        }
        if (rc != M2J_OK)
            rc = m2j_fail(err, rc, "out of memory");
    }
    m2j_buf_free(&out);
    return rc;
}

