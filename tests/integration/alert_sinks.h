/* alert_sinks.h: the far ends of the alert channels, in the test process:
 * an HTTP sink that keeps every POST body (a webhook receiver) and an SMTP
 * sink speaking just enough SMTP for libcurl (EHLO, MAIL, RCPT, DATA, QUIT,
 * no STARTTLS offered) that keeps every message. Each runs in its own
 * thread on 127.0.0.1 and a free port, one connection at a time.
 *
 * Ownership: the sink owns what it received; h_sink_get returns a new copy. */
#ifndef M2J_TEST_ALERT_SINKS_H
#define M2J_TEST_ALERT_SINKS_H

#include <stdbool.h>

typedef struct h_sink h_sink;

h_sink *h_http_sink_start(int fail_first);  /* answers 500 to the first fail_first POSTs */
h_sink *h_smtp_sink_start(void);
void    h_sink_stop(h_sink *s);
int     h_sink_port(const h_sink *s);
/* Items received so far (bodies for HTTP, whole messages for SMTP). */
int     h_sink_count(h_sink *s);
/* How many items contain needle. */
int     h_sink_count_with(h_sink *s, const char *needle);
/* New copy of item i (free()), or NULL. */
char   *h_sink_get(h_sink *s, int i);
/* Requests refused on purpose so far (fail_first). */
int     h_sink_refused(h_sink *s);

#endif
