/* metrics_auth.h: who may read /metrics. With admin.token set, only a
 * request carrying "Authorization: Bearer <admin.token>"; without it,
 * anyone who can reach the listener (then keep it on a private network).
 *
 * Pure; borrowed arguments. */
#ifndef M2J_METRICS_AUTH_H
#define M2J_METRICS_AUTH_H

#include <stdbool.h>

/* header: the Authorization header's value or NULL; token: admin.token. */
bool m2j_metrics_auth_ok(const char *header, const char *token);

#endif
