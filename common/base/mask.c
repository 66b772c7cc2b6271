/* mask.c: see mask.h. */
#include "base/mask.h"
#include "base/log.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Whole field names that are personal. Magento order/customer/address fields
 * and the Jortt customer body fields. */
static const char *const personal_exact[] = {
    "company", "city", "fax", "dob", "customer_dob", "gender", "customer_gender",
    "prefix", "suffix", "customer_prefix", "customer_suffix", "customer_note",
    "cc_owner", "cc_last4", "cc_last_4", "cc_exp_month", "cc_exp_year", "cc_number_enc",
    "cc_ss_owner", "additional_information", "additional_data", "echeck_account_name",
    "ip", "ip_address", "x_forwarded_for", "customer_name", "attn", "address_city",
    "address_extra_information", "rp_token", "account_holder", "contact_person",
    /* the text of a job that did not parse (queue/): it may hold anything */
    "raw",
    NULL
};

/* Fragments: any field name containing one of these is personal
 * ("customer_email", "billing_firstname", "address_street", ...). */
static const char *const personal_part[] = {
    "email", "firstname", "lastname", "middlename", "street", "postcode", "postal_code",
    "zip", "telephone", "phone", "taxvat", "vat_id", "vat_number", "remote_ip",
    "password", "iban", "bank_account",
    NULL
};

/* Names that contain a fragment but hold no personal data (Magento flags). */
static const char *const not_personal[] = {
    "email_sent", "send_email", "customer_email_sent", "email_verified", NULL
};

static bool in_list(const char *const *list, const char *key)
{
    for (int i = 0; list[i]; i++)
        if (strcasecmp(list[i], key) == 0)
            return true;
    return false;
}

bool m2j_mask_key_is_personal(const char *key)
{
    if (!key || in_list(not_personal, key))
        return false;
    if (in_list(personal_exact, key))
        return true;
    for (int i = 0; personal_part[i]; i++)
        if (strcasestr(key, personal_part[i]))
            return true;
    return false;
}

static json_object *masked_leaf(json_object *v)
{
    switch (json_object_get_type(v)) {
    case json_type_null:
        return NULL;
    case json_type_boolean: /* a yes/no reveals nobody */
        return json_object_get(v);
    case json_type_string:
        if (json_object_get_string_len(v) == 0)
            return json_object_get(v);
        /* fall through */
    default: {
        char tag[M2J_PSEUDONYM_LEN], text[64];
        m2j_log_pseudonym(json_object_get_string(v), tag);
        snprintf(text, sizeof text, "[masked %s]", tag);
        return json_object_new_string(text);
    }
    }
}

/* Abandons a copy on OOM: drops the child that was not added (a failed add
 * leaves it ours) and the container built so far, and marks the whole copy
 * failed. Returns NULL for the caller to return. */
static json_object *give_up(json_object *child, json_object *partial, bool *oom)
{
    json_object_put(child);
    json_object_put(partial);
    *oom = true;
    return NULL;
}

/* Copies v; under a personal key (inside) every leaf is masked. */
static json_object *mask_rec(json_object *v, bool inside, bool *oom)
{
    if (!v)
        return NULL;
    json_type t = json_object_get_type(v);
    if (t == json_type_object) {
        json_object *o = json_object_new_object();
        if (!o)
            return give_up(NULL, NULL, oom);
        json_object_object_foreach(v, key, child) {
            bool in = inside || m2j_mask_key_is_personal(key);
            json_object *c = mask_rec(child, in, oom);
            if (*oom || json_object_object_add(o, key, c) != 0)
                return give_up(c, o, oom);
        }
        return o;
    }
    if (t == json_type_array) {
        size_t n = json_object_array_length(v);
        json_object *a = json_object_new_array_ext((int)n);
        if (!a)
            return give_up(NULL, NULL, oom);
        for (size_t i = 0; i < n; i++) {
            json_object *c = mask_rec(json_object_array_get_idx(v, i), inside, oom);
            if (*oom || json_object_array_add(a, c) != 0)
                return give_up(c, a, oom);
        }
        return a;
    }
    if (!inside)
        return json_object_get(v);
    json_object *m = masked_leaf(v);
    if (!m && t != json_type_null)
        *oom = true;
    return m;
}

json_object *m2j_mask_personal(json_object *v)
{
    bool oom = false;
    json_object *r = mask_rec(v, false, &oom);
    if (oom) {
        json_object_put(r);
        return NULL;
    }
    return r;
}
