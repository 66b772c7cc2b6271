/* ledger.c: the fixed invoice ledger-account tree. The ids are fixed and
 * documented in README.md because tests and example configs refer to them. */
#include "jd.h"

#include <string.h>
#include <strings.h>

typedef struct {
    const char *id;
    const char *parent;
    const char *name;
    bool selectable;
} ledger_account;

static const ledger_account accounts[] = {
    {"00000000-0000-4000-8000-000000000000", NULL, "Omzet", false},
    {"00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-000000000000", "Omzet NL", true},
    {"00000000-0000-4000-8000-000000000002", "00000000-0000-4000-8000-000000000000", "Omzet EU", true},
    {"00000000-0000-4000-8000-000000000003", "00000000-0000-4000-8000-000000000000", "Omzet export", true},
    {"00000000-0000-4000-8000-000000000004", "00000000-0000-4000-8000-000000000000", "Verzendkosten", true},
    {"00000000-0000-4000-8000-000000000005", "00000000-0000-4000-8000-000000000000", "Diverse omzet", true},
    {"00000000-0000-4000-8000-000000000010", NULL, "Kosten", false},
    {"00000000-0000-4000-8000-000000000011", "00000000-0000-4000-8000-000000000010", "Inkoopkosten", false},
};

bool jd_ledger_selectable(const char *id)
{
    for (size_t i = 0; i < sizeof accounts / sizeof accounts[0]; i++)
        if (strcasecmp(accounts[i].id, id) == 0)
            return accounts[i].selectable;
    return false;
}

void jd_ledger_list(jd_ctx *c)
{
    json_object *data = json_object_new_array();
    for (size_t i = 0; i < sizeof accounts / sizeof accounts[0]; i++) {
        json_object *a = json_object_new_object();
        json_object_object_add(a, "ledger_account_id", json_object_new_string(accounts[i].id));
        json_object_object_add(a, "parent_ledger_account_id", jd_str_or_null(accounts[i].parent));
        json_object_object_add(a, "name", json_object_new_string(accounts[i].name));
        json_object_object_add(a, "selectable", json_object_new_boolean(accounts[i].selectable));
        json_object_array_add(data, a);
    }
    json_object *out = json_object_new_object();
    json_object_object_add(out, "data", data);
    jd_reply(c, 200, out);
}
