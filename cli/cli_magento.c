/* cli_magento.c: the CLI's Magento REST client (cli.h), built from the
 * config's magento section. */
#include "cli/cli.h"

m2j_rc cli_magento_open(const m2j_config *cfg, m2j_magento_client **out, m2j_err *err)
{
    *out = NULL;
    const m2j_magento_config *m = &cfg->magento;
    if (!m->rest_url || !m->rest_url[0])
        return m2j_fail(err, M2J_ERR_INVALID, "the Magento API is not configured (magento.rest_url is empty)");
    m2j_magento_options o = {
        .rest_url = m->rest_url,
        .consumer_key = m->consumer_key,
        .consumer_secret = m->consumer_secret,
        .access_token = m->access_token,
        .access_token_secret = m->access_token_secret,
        .timeout_seconds = m->timeout_seconds,
    };
    return m2j_magento_client_new(&o, out, err);
}
