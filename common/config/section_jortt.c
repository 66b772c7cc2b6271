/* section_jortt.c: "jortt": the API and OAuth endpoints, the client's
 * credentials and the fleet-wide request rate. */
#include "config/config_read.h"
#include "config/config_section.h"
#include "base/url_policy.h"

#include <string.h>

static const char *const API_VERSIONS[] = {"v3", "v1", NULL};

static m2j_rc load_jortt(json_object *s, m2j_buf *path, m2j_config *c, m2j_err *err)
{
    m2j_jortt_config *j = &c->jortt;
    m2j_rc rc;
    if (!s)
        return M2J_OK;
    if ((rc = m2j_cfg_read_str(s, path, "api_url", &j->api_url, err)) != M2J_OK ||
        (rc = m2j_cfg_read_str(s, path, "token_url", &j->token_url, err)) != M2J_OK ||
        (rc = m2j_cfg_read_str(s, path, "client_id", &j->client_id, err)) != M2J_OK ||
        (rc = m2j_cfg_read_str(s, path, "client_secret", &j->client_secret, err)) != M2J_OK ||
        (rc = m2j_cfg_read_str(s, path, "scope", &j->scope, err)) != M2J_OK ||
        (rc = m2j_cfg_read_int(s, path, "requests_per_second", 1, 1000, &j->requests_per_second, err)) != M2J_OK ||
        (rc = m2j_cfg_read_long(s, path, "timeout_seconds", 1, 600, &j->timeout_seconds, err)) != M2J_OK ||
        (rc = m2j_cfg_read_enum(s, path, "api_version", API_VERSIONS, &j->api_version, err)) != M2J_OK)
        return rc;
    /* Request paths are appended as "/v3/...". */
    size_t n = strlen(j->api_url);
    while (n > 0 && j->api_url[n - 1] == '/')
        j->api_url[--n] = '\0';
    /* The client secret and the access token travel to these: never in
     * clear over a network (base/url_policy.h). */
    const char *urls[] = {"api_url", j->api_url, "token_url", j->token_url};
    for (int i = 0; i < 4; i += 2) {
        const char *why = m2j_url_web_refusal(urls[i + 1]);
        if (why) {
            m2j_cfg_path_push(path, urls[i]);
            return m2j_fail(err, M2J_ERR_INVALID, "%s: %s", CFG_PATH(path), why);
        }
    }
    return M2J_OK;
}

static const char *const keys[] = {"api_url", "token_url", "client_id", "client_secret", "scope",
                                   "requests_per_second", "timeout_seconds", "api_version", NULL};

const m2j_cfg_section m2j_cfg_section_jortt = {"jortt", keys, load_jortt};
