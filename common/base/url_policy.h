/* url_policy.h: which URLs m2jortt may send credentials or personal data to.
 *
 * The rule (README "Personal data"): https:// to any host; plain http://
 * only to this machine (127.0.0.0/8, ::1, localhost), where nothing crosses
 * a network: test doubles, a local relay, a TLS-terminating sidecar. TLS is
 * always verified (common/http/http_client.c), and there is no setting to
 * turn that off.
 *
 * Pure: no I/O, nothing allocated; url is borrowed. */
#ifndef M2J_URL_POLICY_H
#define M2J_URL_POLICY_H

#include <stdbool.h>

/* True when url is "<scheme>://<host>[:port][/...]" whose host is a
 * loopback address: an IPv4 dotted quad in 127.0.0.0/8, "[::1]" (any
 * spelling of it) or "localhost" (any case, one trailing dot allowed).
 * A URL with userinfo ("http://127.0.0.1@example.com/") is not loopback,
 * whatever stands before the '@'. */
bool m2j_url_is_loopback(const char *url);

/* NULL when url may be used for an HTTP API or webhook (https://, or
 * http:// to loopback); otherwise a sentence saying what is wrong, for a
 * message such as "jortt.api_url: <sentence>". NULL url is refused. */
const char *m2j_url_web_refusal(const char *url);

#endif
