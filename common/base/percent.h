/* percent.h: percent-encoding (RFC 3986 section 2.1).
 *
 * One encoder for every place that builds a URL or a signature: Jortt's
 * query strings and token form, Magento's searchCriteria, and the OAuth 1.0a
 * signature base string, which RFC 5849 section 3.6 defines with exactly
 * this rule (unreserved characters as they are, every other byte as %XX in
 * upper-case hex). A second encoder that differed in one character would
 * break signatures in ways only a live shop shows. */
#ifndef M2J_PERCENT_H
#define M2J_PERCENT_H

#include "base/buf.h"

/* Appends s percent-encoded to out: A-Z a-z 0-9 - . _ ~ as they are, every
 * other byte (UTF-8 bytes included) as %XX. M2J_ERR_NOMEM on failure. */
m2j_rc m2j_url_escape(const char *s, m2j_buf *out);
/* The same for n bytes of s (which may hold NUL). */
m2j_rc m2j_url_escape_n(const char *s, size_t n, m2j_buf *out);

#endif
