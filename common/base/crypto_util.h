/* crypto_util.h: the few libcrypto primitives m2jortt uses, wrapped.
 * Output buffers are caller-owned and sized as stated. */
#ifndef M2J_CRYPTO_UTIL_H
#define M2J_CRYPTO_UTIL_H

#include "base/m2j.h"
#include "base/buf.h"
#include <stdbool.h>

/* Standard base64 with padding, no newlines; appended to out. */
m2j_rc m2j_base64_encode(const void *data, size_t len, m2j_buf *out);
/* Decodes standard base64 (padding required where applicable); appended to out. */
m2j_rc m2j_base64_decode(const char *text, size_t len, m2j_buf *out);

/* HMAC-SHA256; mac must hold 32 bytes. */
m2j_rc m2j_hmac_sha256(const void *key, size_t keylen, const void *data, size_t len, unsigned char mac[32]);
/* HMAC-SHA1, for peers that still sign with it (OAuth 1.0a allows both);
 * mac must hold 20 bytes. */
m2j_rc m2j_hmac_sha1(const void *key, size_t keylen, const void *data, size_t len, unsigned char mac[20]);
/* SHA-256 as 64 lowercase hex chars + NUL; hex must hold 65 bytes. */
void m2j_sha256_hex(const void *data, size_t len, char hex[65]);
/* Constant-time equality of two byte strings of possibly different lengths. */
bool m2j_ct_equal(const void *a, size_t alen, const void *b, size_t blen);
/* Fills buf with len cryptographically random bytes. */
m2j_rc m2j_random_bytes(void *buf, size_t len);
/* Random token: 32 lowercase hex chars + NUL (128 bits); hex must hold 33. */
m2j_rc m2j_random_hex(char hex[33]);

#endif
