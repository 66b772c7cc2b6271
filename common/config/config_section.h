/* config_section.h: what config_load.c assembles a configuration from: the
 * defaults and one descriptor per top-level section. Not a public contract:
 * only the .c files of common/config/ include it.
 *
 * A section is one file section_<name>.c defining a m2j_cfg_section; the
 * table in config_load.c lists them in the order they are loaded (and their
 * errors reported). */
#ifndef M2J_CONFIG_SECTION_H
#define M2J_CONFIG_SECTION_H

#include "config/config.h"
#include "base/buf.h"

#include <json-c/json.h>

/* Reads section s into c over the defaults. s is NULL when the file has no
 * such section (or it is null): the loader still runs, so a section whose
 * defaults need parsing or a REQUIRED key can check them. Its keys are
 * already checked against `keys`, and path already names the section; the
 * caller restores path afterwards, so a loader may return with it longer. */
typedef m2j_rc (*m2j_cfg_section_fn)(json_object *s, m2j_buf *path, m2j_config *c, m2j_err *err);

typedef struct {
    const char         *name; /* the top-level key */
    const char *const  *keys; /* its known keys, NULL-terminated */
    m2j_cfg_section_fn  load;
} m2j_cfg_section;

extern const m2j_cfg_section m2j_cfg_section_redis;     /* section_redis.c */
extern const m2j_cfg_section m2j_cfg_section_receiver;  /* section_receiver.c */
extern const m2j_cfg_section m2j_cfg_section_jortt;     /* section_jortt.c */
extern const m2j_cfg_section m2j_cfg_section_magento;   /* section_magento.c */
extern const m2j_cfg_section m2j_cfg_section_worker;    /* section_worker.c */
extern const m2j_cfg_section m2j_cfg_section_orders;    /* section_orders.c */
extern const m2j_cfg_section m2j_cfg_section_customers; /* section_customers.c */
extern const m2j_cfg_section m2j_cfg_section_log;       /* section_log.c */
extern const m2j_cfg_section m2j_cfg_section_admin;     /* section_admin.c */
extern const m2j_cfg_section m2j_cfg_section_alerts;    /* section_alerts.c */
extern const m2j_cfg_section m2j_cfg_section_retention; /* section_retention.c */

/* Fills a zeroed c with every default (config_defaults.c). On
 * M2J_ERR_NOMEM c may hold some of them; m2j_config_free frees it. */
m2j_rc m2j_cfg_set_defaults(m2j_config *c);

#endif
