/* section_admin.c: "admin": the secret that guards /metrics and the
 * dashboard, how many outcomes the dashboard's activity log keeps, and the
 * session cookie's Secure flag. */
#include "config/config_read.h"
#include "config/config_section.h"

#include <string.h>

/* A token anyone can guess guards nothing: 32 characters is a 128-bit hex
 * secret (openssl rand -hex 16) at the least. */
#define ADMIN_TOKEN_MIN 32

static m2j_rc load_admin(json_object *s, m2j_buf *path, m2j_config *c, m2j_err *err)
{
    if (!s)
        return M2J_OK;
    m2j_rc rc;
    /* The activity log is read whole by a search (one Lua script scanning
     * it newest first), so its length bounds how long Redis is busy. */
    if ((rc = m2j_cfg_read_str(s, path, "token", &c->admin.token, err)) ||
        (rc = m2j_cfg_read_long(s, path, "activity_keep", 100, 100000, &c->admin.activity_keep, err)) ||
        (rc = m2j_cfg_read_bool(s, path, "cookie_secure", &c->admin.cookie_secure, err)))
        return rc;
    size_t n = strlen(c->admin.token);
    if (n > 0 && n < ADMIN_TOKEN_MIN) {
        m2j_cfg_path_push(path, "token");
        return m2j_fail(err, M2J_ERR_INVALID,
                        "%s: %zu characters is too short to be a secret (at least %d; try `openssl rand -hex 32`)",
                        CFG_PATH(path), n, ADMIN_TOKEN_MIN);
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)c->admin.token[i];
        if (ch <= ' ' || ch >= 0x7f) {
            m2j_cfg_path_push(path, "token");
            return m2j_fail(err, M2J_ERR_INVALID, "%s: only printable ASCII without spaces (it travels in a header)",
                            CFG_PATH(path));
        }
    }
    return M2J_OK;
}

static const char *const keys[] = {"token", "activity_keep", "cookie_secure", NULL};

const m2j_cfg_section m2j_cfg_section_admin = {"admin", keys, load_admin};
