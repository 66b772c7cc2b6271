/* organization.c: the administration itself: GET /organizations/me and its
 * tradenames. Fixed data, documented in README.md, because tests name it. */
#include "jd.h"

static void add_str(json_object *o, const char *k, const char *v)
{
    json_object_object_add(o, k, jd_str_or_null(v));
}

void jd_organization_me(jd_ctx *c)
{
    json_object *vat = json_object_new_object();
    add_str(vat, "value", "0.21");
    json_object_object_add(vat, "category", NULL);
    json_object *d = json_object_new_object();
    add_str(d, "id", "00000000-0000-4000-8000-0000000000f0");
    add_str(d, "company_name", "Testwinkel BV");
    add_str(d, "vat_type", "vat");
    json_object_object_add(d, "default_vat", vat);
    json_object_object_add(d, "one_stop_shop_enabled", json_object_new_boolean(c->srv->faults.one_stop_shop));
    json_object_object_add(d, "has_peppol_access", json_object_new_boolean(0));
    json_object_object_add(d, "data_complete_for_sending_invoices", json_object_new_boolean(1));
    json_object *out = json_object_new_object();
    json_object_object_add(out, "data", d);
    jd_reply(c, 200, out);
}

static const struct {
    const char *id, *name;
} tradenames[] = {
    {"00000000-0000-4000-8000-0000000000a1", "Testwinkel"},
    {"00000000-0000-4000-8000-0000000000a2", "Testwinkel Outlet"},
};

void jd_tradenames_list(jd_ctx *c)
{
    json_object *data = json_object_new_array();
    for (size_t i = 0; i < sizeof tradenames / sizeof tradenames[0]; i++) {
        json_object *t = json_object_new_object();
        add_str(t, "id", tradenames[i].id);
        add_str(t, "company_name", tradenames[i].name);
        json_object_array_add(data, t);
    }
    json_object *out = json_object_new_object();
    json_object_object_add(out, "data", data);
    jd_reply(c, 200, out);
}
