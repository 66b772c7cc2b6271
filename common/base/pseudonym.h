/* pseudonym.h: what m2jortt derives from a buyer's e-mail address, keyed
 * with the installation's secret key, so nothing it writes (logs, Redis
 * keys) can be matched to a customer list without that key.
 *
 * The installation key: 32 random bytes, created once per installation in
 * Redis (P:install:key, queue/install_key.c) and read by every process that
 * needs it; never logged, never printed. An unkeyed hash of an address is no
 * pseudonym: anyone holding the logs and a customer list hashes the list and
 * compares. Keyed, the tags mean nothing without Redis access.
 *
 * Two derivations, with distinct labels so a log tag never equals (or
 * reveals) a cache key:
 *   log pseudonym  "h:" + the first 96 bits of
 *                  HMAC-SHA256(key, "m2jortt log pseudonym v2" NUL address)
 *                  in hex. 96 bits: only collisions matter once the key is
 *                  secret (nobody can compute a tag), and two customers of a
 *                  shop with 10 million buyers share one with odds below
 *                  1e-14; the former 48 bits made that likely (about 1 in 6)
 *                  in such a shop, merging two people in the logs.
 *   customer key   all 256 bits of
 *                  HMAC-SHA256(key, "m2jortt customer cache v2" NUL address)
 *                  in hex: a Redis key part; a collision would give one
 *                  buyer another's Jortt customer, so nothing is cut.
 * The address is normalised first (m2j_email_normalise), so "Jan@X.nl " and
 * "jan@x.nl" get the same tag and key.
 *
 * The customer cache used to be keyed by the unkeyed SHA-256 of the
 * normalised address; m2j_customer_key_legacy_hex computes that, only to
 * find and move such entries (worker/customer_sync.c) and to erase them
 * (m2jortt forget).
 *
 * Pure; buffers are the caller's. */
#ifndef M2J_PSEUDONYM_H
#define M2J_PSEUDONYM_H

#include "base/buf.h"

#define M2J_INSTALL_KEY_LEN 32
/* "h:" + 24 hex digits + NUL, rounded up. */
#define M2J_PSEUDONYM_LEN 32
#define M2J_PSEUDONYM_HEX 24

/* The address as m2jortt compares it: leading and trailing white space
 * dropped, ASCII letters lower-cased (the local part is case-sensitive in
 * theory, never in practice, and Magento treats it so). Into out (reset
 * first). */
m2j_rc m2j_email_normalise(const char *email, m2j_buf *out);

/* "h:<24 hex>" of the normalised address into out; "-" for NULL or an
 * address that is empty once normalised; "h:?" when key is NULL or the
 * HMAC fails (never the address, never an unkeyed hash). Returns out. */
char *m2j_pseudonym(const unsigned char *key, const char *email, char out[M2J_PSEUDONYM_LEN]);

/* 64 hex digits + NUL: the customer cache key part. M2J_ERR_INVALID for an
 * empty address or a NULL key. */
m2j_rc m2j_customer_key_hex(const unsigned char *key, const char *email, char hex[65]);

/* 64 hex digits + NUL: SHA-256 of the normalised address, the key part
 * before the installation key existed. */
void m2j_customer_key_legacy_hex(const char *email, char hex[65]);

#endif
