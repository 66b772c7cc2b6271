/* config_summary.c: what `check-config` says a valid configuration will do
 * about authentication and Magento, so a merchant sees the mode they set up
 * (push only, polling every N s, signed or Bearer requests) instead of
 * inferring it from which keys are empty. Pure; no secrets, only which
 * schemes and settings are in force. */
#include "cli/cli.h"

#include <string.h>

m2j_rc cli_config_summary(const m2j_config *cfg, m2j_buf *out)
{
    const m2j_receiver_config *r = &cfg->receiver;
    const m2j_magento_config *m = &cfg->magento;
    int n = 0;
    m2j_buf_puts(out, "receiver accepts: ");
    if (*r->webhook_secret)
        m2j_buf_printf(out, "%sStandard Webhooks signatures", n++ ? ", " : "");
    if (*r->basic_auth_username)
        m2j_buf_printf(out, "%sHTTP Basic (receiver.basic_auth)", n++ ? ", " : "");
    if (*r->commerce_public_key_file)
        m2j_buf_printf(out, "%sAdobe Commerce Webhooks signatures", n++ ? ", " : "");
    if (r->n_io_events_public_key_files)
        m2j_buf_printf(out, "%sAdobe I/O Events signatures", n++ ? ", " : "");
    m2j_buf_puts(out, "\n");
    if (!*m->rest_url) {
        m2j_buf_puts(out, "magento: push only (no magento.rest_url: no polling, backfill, reconcile or "
                          "completing id-only events)\n");
        return out->data ? M2J_OK : M2J_ERR_NOMEM;
    }
    bool oauth = *m->consumer_key && *m->consumer_secret && *m->access_token_secret;
    m2j_buf_printf(out, "magento: REST API at %s/V1, ", m->rest_url);
    if (m->poll_interval_seconds > 0)
        m2j_buf_printf(out, "polling every %ld s", m->poll_interval_seconds);
    else
        m2j_buf_puts(out, "no polling (poll_interval_seconds 0: push, backfill and reconcile only)");
    m2j_buf_printf(out, ", %s, at most %d requests/s for the whole fleet, write-back %s\n",
                   oauth ? "OAuth 1.0a signed requests (HMAC-SHA256)"
                         : "Bearer token (Magento 2.4.4+ needs \"Allow OAuth Access Tokens to be used as "
                           "standalone Bearer tokens\")",
                   m->requests_per_second, m->write_back ? "on" : "off");
    return out->data ? M2J_OK : M2J_ERR_NOMEM;
}
