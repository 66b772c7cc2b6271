/* token_seal.h: the shared OAuth access token as it is kept in Redis.
 *
 * The token is a bearer credential for the books: whoever holds it can
 * create and credit invoices until it expires. Kept in clear, read access to
 * Redis would be write access to Jortt. So P:jortt:token holds it sealed:
 *
 *   "v1." base64( nonce (12 random bytes) | AES-256-GCM ciphertext | tag (16) )
 *
 * under a key derived with HKDF-SHA256 (RFC 5869) from jortt.client_secret
 * (salt "m2jortt token seal v1", info jortt.client_id), a secret Redis does
 * not hold. The Redis key's name is the additional authenticated data, so a
 * sealed value copied to another installation's prefix does not open.
 * Whoever can read Redis but not the configuration gets nothing usable; a
 * process with another client secret (or a value altered in Redis) cannot
 * open it, and fetches a new token instead (jortt/token.c).
 *
 * With jortt.client_secret empty (make run against the test double) the key
 * is derived from "": there is no real token to protect then.
 *
 * Pure apart from the nonce's randomness; buffers are the caller's. */
#ifndef M2J_TOKEN_SEAL_H
#define M2J_TOKEN_SEAL_H

#include "base/buf.h"

/* Largest token sealed (Jortt's are about 40 bytes; a JWT would fit). */
#define M2J_TOKEN_SEAL_MAX 4096

/* Seals token (1..M2J_TOKEN_SEAL_MAX bytes) into out (reset first). */
m2j_rc m2j_token_seal(const char *client_id, const char *client_secret, const char *aad, const char *token,
                      m2j_buf *out, m2j_err *err);

/* Opens a sealed value of len bytes into out (reset first).
 * M2J_ERR_AUTH when it was sealed under another key or for another aad, or
 * altered; M2J_ERR_INVALID when it is not a sealed value at all (a clear
 * token an older version stored). Either way out is empty. */
m2j_rc m2j_token_unseal(const char *client_id, const char *client_secret, const char *aad, const char *sealed,
                        size_t len, m2j_buf *out, m2j_err *err);

#endif
