/* config_dump.h: a loaded configuration as JSON with its secrets hidden,
 * for the dashboard's settings page (read-only).
 *
 * Hidden: every password, secret and token (a set one shows as
 * "(set, hidden)", an empty one as ""), the Magento consumer key, the
 * password in redis.url and in alerts.email.smtp_url, and the path of
 * alerts.webhook_url (Slack, Mattermost and Teams put the credential
 * there). Everything else is shown as loaded (defaults filled in, ${...}
 * expanded). Part of the config room's public contract (config.h).
 *
 * Pure. Ownership: *out is a new object (json_object_put). */
#ifndef M2J_CONFIG_DUMP_H
#define M2J_CONFIG_DUMP_H

#include "config/config.h"

#define M2J_CONFIG_HIDDEN "(set, hidden)"

m2j_rc m2j_config_dump(const m2j_config *c, json_object **out, m2j_err *err);

#endif
