/* section_alerts.c: "alerts": where incident messages go (a webhook, e-mail
 * over SMTP) and when a waiting event counts as an incident. */
#include "config/config_read.h"
#include "config/config_section.h"
#include "base/url_policy.h"

#include <string.h>

static bool has_prefix(const char *s, const char *p)
{
    return strncmp(s, p, strlen(p)) == 0;
}

static m2j_rc bad(m2j_buf *path, const char *key, const char *why, m2j_err *err)
{
    m2j_cfg_path_push(path, key);
    return m2j_fail(err, M2J_ERR_INVALID, "%s: %s", CFG_PATH(path), why);
}

static m2j_rc load_alerts(json_object *s, m2j_buf *path, m2j_config *c, m2j_err *err)
{
    static const char *const ekeys[] = {"smtp_url", "from", "to", NULL};
    m2j_alerts_config *a = &c->alerts;
    json_object *e;
    m2j_rc rc;
    if (!s)
        return M2J_OK;
    if ((rc = m2j_cfg_read_str(s, path, "webhook_url", &a->webhook_url, err)) ||
        (rc = m2j_cfg_read_long(s, path, "max_age_seconds", 10, 7 * 86400, &a->max_age_seconds, err)) ||
        (rc = m2j_cfg_read_long(s, path, "repeat_seconds", 60, 7 * 86400, &a->repeat_seconds, err)) ||
        (rc = m2j_cfg_read_section(s, path, "email", ekeys, &e, err)))
        return rc;
    /* Messages carry order numbers and reasons: https://, or http:// to a
     * relay on this machine (base/url_policy.h). */
    const char *why = *a->webhook_url ? m2j_url_web_refusal(a->webhook_url) : NULL;
    if (why)
        return bad(path, "webhook_url", why, err);
    if (e) {
        size_t old = m2j_cfg_path_push(path, "email");
        if ((rc = m2j_cfg_read_str(e, path, "smtp_url", &a->smtp_url, err)) ||
            (rc = m2j_cfg_read_str(e, path, "from", &a->smtp_from, err)) ||
            (rc = m2j_cfg_read_strv(e, path, "to", false, &a->smtp_to, &a->n_smtp_to, err)))
            return rc;
        if (*a->smtp_url) {
            /* smtp:// must upgrade with STARTTLS (verified) unless the relay
             * is on this machine: alert/alert_send.c */
            if (!has_prefix(a->smtp_url, "smtps://") && !has_prefix(a->smtp_url, "smtp://"))
                return bad(path, "smtp_url", "expected smtps://host[:465] or smtp://host[:587] (STARTTLS)", err);
            if (!strchr(a->smtp_from, '@'))
                return bad(path, "from", "an e-mail address is required with smtp_url", err);
            if (a->n_smtp_to == 0)
                return bad(path, "to", "at least one recipient is required with smtp_url", err);
            for (size_t i = 0; i < a->n_smtp_to; i++)
                if (!strchr(a->smtp_to[i], '@') || strpbrk(a->smtp_to[i], "\r\n<> "))
                    return bad(path, "to", "expected plain e-mail addresses", err);
            if (strpbrk(a->smtp_from, "\r\n<> "))
                return bad(path, "from", "expected a plain e-mail address", err);
        }
        m2j_cfg_path_pop(path, old);
    }
    return M2J_OK;
}

static const char *const keys[] = {"webhook_url", "email", "max_age_seconds", "repeat_seconds", NULL};

const m2j_cfg_section m2j_cfg_section_alerts = {"alerts", keys, load_alerts};
