/* basic_auth.h: HTTP Basic authentication (RFC 7617) of a webhook sender,
 * for the senders that cannot sign a body (Mageplaza-style webhook modules
 * on Magento Open Source): receiver.basic_auth in the configuration.
 *
 * Pure: no I/O, nothing allocated that outlives a call. Credentials are
 * borrowed; reasons never contain them. */
#ifndef M2J_BASIC_AUTH_H
#define M2J_BASIC_AUTH_H

#include "base/m2j.h"
#include <stdbool.h>

/* Checks an Authorization header value (NULL when the request has none)
 * against the configured username and password. M2J_OK when they match;
 * M2J_ERR_AUTH with a reason otherwise ("missing Authorization: Basic
 * credentials", "wrong Basic credentials", ...). Both the username and the
 * password are compared in constant time, and both always, so the time
 * taken says nothing about which one was wrong. */
m2j_rc m2j_basic_auth_verify(const char *authorization, const char *username, const char *password,
                             m2j_err *err);

/* True when the header value names the Basic scheme ("Basic ...", any case). */
bool m2j_basic_auth_present(const char *authorization);

#endif
