/* env_expand.c: "${NAME}" in configuration strings, replaced by the
 * environment variable's value, so secrets can stay out of the file. An unset
 * variable is an error naming it: an empty webhook secret or API key picked
 * up silently would fail much later and further from the cause. */
#include "config/config_read.h"

#include <stdlib.h>
#include <string.h>

static bool env_name_char(char c, bool first)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' ||
           (!first && c >= '0' && c <= '9');
}

m2j_rc m2j_cfg_expand_env(const char *in, const m2j_buf *path, char **out, m2j_err *err)
{
    m2j_buf b = {0};
    m2j_rc rc = M2J_OK;
    const char *p = in;
    while (*p) {
        const char *d = strstr(p, "${");
        if (!d) {
            rc = m2j_buf_puts(&b, p);
            break;
        }
        if ((rc = m2j_buf_append(&b, p, (size_t)(d - p))) != M2J_OK)
            break;
        const char *name = d + 2, *end = name;
        while (*end && *end != '}')
            end++;
        if (!*end) {
            rc = m2j_fail(err, M2J_ERR_INVALID, "%s: \"${\" without closing \"}\"", CFG_PATH(path));
            goto out;
        }
        size_t n = (size_t)(end - name);
        bool ok = n > 0;
        for (size_t i = 0; i < n && ok; i++)
            ok = env_name_char(name[i], i == 0);
        if (!ok) {
            rc = m2j_fail(err, M2J_ERR_INVALID, "%s: \"${%.*s}\" is not a valid environment variable name",
                          CFG_PATH(path), (int)(n > 64 ? 64 : n), name);
            goto out;
        }
        char *var = strndup(name, n);
        if (!var) {
            rc = M2J_ERR_NOMEM;
            break;
        }
        const char *val = getenv(var);
        if (!val) {
            rc = m2j_fail(err, M2J_ERR_INVALID, "environment variable %s (used by %s) is not set",
                          var, CFG_PATH(path));
            free(var);
            goto out;
        }
        free(var);
        if ((rc = m2j_buf_puts(&b, val)) != M2J_OK)
            break;
        p = end + 1;
    }
    if (rc == M2J_ERR_NOMEM)
        m2j_fail(err, rc, "out of memory loading configuration");
    if (rc == M2J_OK) {
        *out = m2j_buf_detach(&b);
        if (!*out)
            rc = m2j_fail(err, M2J_ERR_NOMEM, "out of memory loading configuration");
        return rc;
    }
out:
    m2j_buf_free(&b);
    return rc;
}
