/* config_load.c: m2j_config_load and m2j_config_load_string: parse the file,
 * lay down the defaults, then read the sections in the order of the table
 * below. The first error stops the load and names its key path. */
#include "config/config_read.h"
#include "config/config_section.h"

#include "base/json_util.h"

#include <stdlib.h>
#include <string.h>

#define CONFIG_MAX_BYTES (1024 * 1024)

/* Every top-level key the file may hold, loaded (and its errors reported) in
 * this order. A new section is a section_<name>.c and one line here. */
static const m2j_cfg_section *const SECTIONS[] = {
    &m2j_cfg_section_redis,
    &m2j_cfg_section_receiver,
    &m2j_cfg_section_jortt,
    &m2j_cfg_section_magento,
    &m2j_cfg_section_worker,
    &m2j_cfg_section_orders,
    &m2j_cfg_section_customers,
    &m2j_cfg_section_log,
    &m2j_cfg_section_admin,
    &m2j_cfg_section_alerts,
    &m2j_cfg_section_retention,
};
#define N_SECTIONS (sizeof SECTIONS / sizeof SECTIONS[0])

static m2j_rc load_sections(json_object *root, m2j_buf *path, m2j_config *c, m2j_err *err)
{
    const char *names[N_SECTIONS + 1];
    for (size_t i = 0; i < N_SECTIONS; i++)
        names[i] = SECTIONS[i]->name;
    names[N_SECTIONS] = NULL;
    m2j_rc rc = m2j_cfg_check_keys(root, path, names, err);
    for (size_t i = 0; i < N_SECTIONS && rc == M2J_OK; i++) {
        const m2j_cfg_section *sec = SECTIONS[i];
        json_object *s;
        if ((rc = m2j_cfg_read_section(root, path, sec->name, sec->keys, &s, err)) != M2J_OK)
            break;
        size_t old = m2j_cfg_path_push(path, sec->name);
        rc = sec->load(s, path, c, err);
        m2j_cfg_path_pop(path, old);
    }
    return rc;
}

static m2j_rc load_json(json_object *root, const char *source, m2j_config **out, m2j_err *err)
{
    *out = NULL;
    if (!json_object_is_type(root, json_type_object))
        return m2j_fail(err, M2J_ERR_INVALID, "configuration must be a JSON object");
    m2j_config *c = calloc(1, sizeof *c);
    if (!c)
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory loading configuration");
    m2j_buf path = {0};
    m2j_rc rc = m2j_cfg_set_defaults(c);
    if (rc == M2J_OK && !(c->path = strdup(source)))
        rc = M2J_ERR_NOMEM;
    if (rc != M2J_OK)
        m2j_fail(err, rc, "out of memory loading configuration");
    if (rc == M2J_OK)
        rc = load_sections(root, &path, c, err);
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
