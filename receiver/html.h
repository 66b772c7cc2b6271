/* html.h: writing outside text into the dashboard's HTML safely.
 *
 * Everything the dashboard shows from Redis, the queue or the request
 * (order numbers, reasons, payloads, search terms) goes through
 * rcv_html_text: & < > " ' become entities, so a value can neither close
 * an element nor an attribute (every attribute is written in double
 * quotes); control characters other than tab and newline, and bytes that
 * are not valid UTF-8, become U+FFFD, so nothing invisible or malformed
 * reaches the browser. Values in a link's query go through rcv_html_query
 * first (percent-encoding), then rcv_html_text.
 *
 * Pure. Ownership: appends to the caller's buffer; a call that fails
 * (out of memory) may leave part of its text there, so a caller discards a
 * page once any call failed. */
#ifndef M2J_RECEIVER_HTML_H
#define M2J_RECEIVER_HTML_H

#include "base/buf.h"

m2j_rc rcv_html_text(m2j_buf *out, const char *s);                 /* NULL writes nothing */
m2j_rc rcv_html_textn(m2j_buf *out, const char *s, size_t n);
/* A query-string value: unreserved characters (A-Z a-z 0-9 - . _ ~) as
 * they are, every other byte %XX. The result still goes through
 * rcv_html_text when written into an attribute. */
m2j_rc rcv_html_query(m2j_buf *out, const char *s);
/* "2026-12-02 17:47:05 UTC" (UTC, no locale), "-" for 0. */
m2j_rc rcv_html_time(m2j_buf *out, long long ms);
/* An age: "45 s", "12 min", "3 h 5 min", "2 d 4 h". */
m2j_rc rcv_html_age(m2j_buf *out, long long ms);

#endif
