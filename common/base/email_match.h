/* email_match.h: does a stored text mention an e-mail address? For
 * `m2jortt forget`, which must find every payload that names one person
 * without a parser per payload shape.
 *
 * A match is the address as a whole word: case-insensitive, not part of a
 * longer address ("an@x.nl" is not found in "jan@x.nl", "jan@x.nl" not in
 * "jan@x.nl.example"). JSON text qualifies as it is: json-c escapes no
 * character an address holds except '/', which no real address uses.
 *
 * Pure; everything borrowed. */
#ifndef M2J_EMAIL_MATCH_H
#define M2J_EMAIL_MATCH_H

#include <stdbool.h>
#include <stddef.h>

/* True when the len bytes of text contain address (already normalised:
 * m2j_email_normalise) as a whole address. An empty address matches
 * nothing. */
bool m2j_email_in_text(const char *text, size_t len, const char *address);

#endif
