/* section_log.c: "log": how much the three programs say. */
#include "config/config_read.h"
#include "config/config_section.h"

static const char *const LOG_LEVELS[] = {"debug", "info", "warn", "error", NULL};
static const char *const LOG_FORMATS[] = {"logfmt", "json", NULL};

static m2j_rc load_log(json_object *s, m2j_buf *path, m2j_config *c, m2j_err *err)
{
    if (!s)
        return M2J_OK;
    m2j_rc rc = m2j_cfg_read_enum(s, path, "level", LOG_LEVELS, &c->log.level, err);
    if (rc == M2J_OK)
        rc = m2j_cfg_read_enum(s, path, "format", LOG_FORMATS, &c->log.format, err);
    return rc;
}

static const char *const keys[] = {"level", "format", NULL};

const m2j_cfg_section m2j_cfg_section_log = {"log", keys, load_log};
