/* section_magento.c: "magento": the shop's REST API (issue: pull side). With
 * rest_url empty m2jortt is push only and the other keys are not used. */
#include "config/config_read.h"
#include "config/config_section.h"
#include "base/url_policy.h"

#include <string.h>

static m2j_rc at(m2j_buf *path, const char *key, const char *msg, m2j_err *err)
{
    m2j_cfg_path_push(path, key);
    return m2j_fail(err, M2J_ERR_INVALID, "%s: %s", CFG_PATH(path), msg);
}

static m2j_rc load_magento(json_object *s, m2j_buf *path, m2j_config *c, m2j_err *err)
{
    m2j_magento_config *m = &c->magento;
    m2j_rc rc;
    if (s && ((rc = m2j_cfg_read_str(s, path, "rest_url", &m->rest_url, err)) != M2J_OK ||
              (rc = m2j_cfg_read_str(s, path, "consumer_key", &m->consumer_key, err)) != M2J_OK ||
              (rc = m2j_cfg_read_str(s, path, "consumer_secret", &m->consumer_secret, err)) != M2J_OK ||
              (rc = m2j_cfg_read_str(s, path, "access_token", &m->access_token, err)) != M2J_OK ||
              (rc = m2j_cfg_read_str(s, path, "access_token_secret", &m->access_token_secret, err)) != M2J_OK ||
              (rc = m2j_cfg_read_long(s, path, "poll_interval_seconds", 0, 86400, &m->poll_interval_seconds,
                                      err)) != M2J_OK ||
              (rc = m2j_cfg_read_int(s, path, "requests_per_second", 1, 100, &m->requests_per_second, err)) !=
                  M2J_OK ||
              (rc = m2j_cfg_read_long(s, path, "timeout_seconds", 1, 600, &m->timeout_seconds, err)) != M2J_OK ||
              (rc = m2j_cfg_read_bool(s, path, "write_back", &m->write_back, err)) != M2J_OK))
        return rc;
    size_t n = strlen(m->rest_url);
    while (n > 0 && m->rest_url[n - 1] == '/')
        m->rest_url[--n] = '\0';
    if (!*m->rest_url) {
        m->poll_interval_seconds = 0; /* push only: nothing to poll */
        return M2J_OK;
    }
    if (m->poll_interval_seconds < 0)
        m->poll_interval_seconds = 60;
    /* The integration's credentials and buyers' data travel here. */
    const char *why = m2j_url_web_refusal(m->rest_url);
    if (why) {
        m2j_cfg_path_push(path, "rest_url");
        return m2j_fail(err, M2J_ERR_INVALID, "%s: %s, such as https://shop.example.nl/rest/all", CFG_PATH(path),
                        why);
    }
    if (n >= 3 && strcmp(m->rest_url + n - 3, "/V1") == 0)
        return at(path, "rest_url", "must not end in /V1 (requests go to <rest_url>/V1/...)", err);
    if (!*m->access_token)
        return at(path, "access_token",
                  "is required with rest_url (System > Extensions > Integrations: the integration's access token)",
                  err);
    /* all four (OAuth 1.0a), or the access token alone (Bearer) */
    bool any = *m->consumer_key || *m->consumer_secret || *m->access_token_secret;
    bool all = *m->consumer_key && *m->consumer_secret && *m->access_token_secret;
    if (any && !all)
        return at(path, !*m->consumer_key ? "consumer_key" : !*m->consumer_secret ? "consumer_secret"
                                                                                  : "access_token_secret",
                  "is empty: give all four integration credentials (signed requests), or only access_token "
                  "(Bearer, which Magento 2.4.4+ accepts only when standalone Bearer tokens are allowed)", err);
    return M2J_OK;
}

static const char *const keys[] = {"rest_url", "consumer_key", "consumer_secret", "access_token",
                                   "access_token_secret", "poll_interval_seconds", "requests_per_second",
                                   "timeout_seconds", "write_back", NULL};

const m2j_cfg_section m2j_cfg_section_magento = {"magento", keys, load_magento};
