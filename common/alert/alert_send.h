/* alert_send.h: the alert channels.
 *
 * Webhook: POST {"text": "..."} (Slack, Mattermost and Teams incoming
 * webhooks take it); any 2xx is delivered.
 * E-mail: libcurl's SMTP, one message to every alerts.email.to: smtps://
 * is TLS from the start; smtp:// must upgrade with STARTTLS, except to a
 * relay on the loopback interface (a local postfix), which may be plain.
 * The subject is the message's first line, cut at 120 bytes.
 *
 * Each call is bounded by a timeout and returns the failure as an error:
 * logging and retrying are the caller's (alert_loop.c).
 *
 * Ownership: borrowed arguments. */
#ifndef M2J_ALERT_SEND_H
#define M2J_ALERT_SEND_H

#include "config/config.h"
#include "http/http_client.h"

#define M2J_ALERT_SEND_TIMEOUT_S 15

m2j_rc m2j_alert_webhook(m2j_http *http, const char *url, const char *text, m2j_err *err);
m2j_rc m2j_alert_email(const m2j_alerts_config *a, const char *text, long long now_ms, m2j_err *err);

/* The whole RFC 5322 message (headers, blank line, CRLF body) into out. Pure. */
m2j_rc m2j_alert_email_text(const m2j_alerts_config *a, const char *text, long long now_ms, m2j_buf *out);

#endif
