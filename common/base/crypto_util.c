/* crypto_util.c: thin wrappers over OpenSSL libcrypto (see crypto_util.h). */
#include "base/crypto_util.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

m2j_rc m2j_base64_encode(const void *data, size_t len, m2j_buf *out)
{
    if (len > (size_t)INT_MAX / 4 * 3 - 3)
        return M2J_ERR_TOO_LARGE;
    size_t olen = (len + 2) / 3 * 4;
    unsigned char *tmp = malloc(olen + 1);
    if (!tmp)
        return M2J_ERR_NOMEM;
    int n = EVP_EncodeBlock(tmp, data, (int)len);
    m2j_rc rc = (n < 0) ? M2J_ERR_INTERNAL : m2j_buf_append(out, tmp, (size_t)n);
    free(tmp);
    return rc;
}

static bool b64_char(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '+' || c == '/';
}

m2j_rc m2j_base64_decode(const char *text, size_t len, m2j_buf *out)
{
    /* EVP_DecodeBlock is lenient about whitespace and reports padding as
     * zero bytes, so validate strictly first and trim the padding after. */
    if (len % 4 != 0)
        return M2J_ERR_INVALID;
    if (len > (size_t)INT_MAX)
        return M2J_ERR_TOO_LARGE;
    if (len == 0)
        return m2j_buf_append(out, "", 0);
    size_t pad = 0;
    if (text[len - 1] == '=')
        pad++;
    if (text[len - 2] == '=')
        pad++;
    if (pad == 1 && text[len - 2] == '=')
        return M2J_ERR_INVALID;
    for (size_t i = 0; i < len - pad; i++)
        if (!b64_char((unsigned char)text[i]))
            return M2J_ERR_INVALID;
    unsigned char *tmp = malloc(len / 4 * 3 + 1);
    if (!tmp)
        return M2J_ERR_NOMEM;
    int n = EVP_DecodeBlock(tmp, (const unsigned char *)text, (int)len);
    m2j_rc rc;
    if (n < 0 || (size_t)n < pad)
        rc = M2J_ERR_INVALID;
    else
        rc = m2j_buf_append(out, tmp, (size_t)n - pad);
    free(tmp);
    return rc;
}

static m2j_rc hmac(const EVP_MD *md, unsigned int want, const void *key, size_t keylen, const void *data,
                   size_t len, unsigned char *mac)
{
    /* HMAC() treats a NULL key specially; an empty key must still be a key. */
    static const unsigned char empty[1] = {0};
    if (keylen > (size_t)INT_MAX)
        return M2J_ERR_TOO_LARGE;
    unsigned int maclen = 0;
    if (!HMAC(md, keylen ? key : empty, (int)keylen, len ? data : empty, len, mac, &maclen) || maclen != want)
        return M2J_ERR_INTERNAL;
    return M2J_OK;
}

m2j_rc m2j_hmac_sha256(const void *key, size_t keylen, const void *data, size_t len, unsigned char mac[32])
{
    return hmac(EVP_sha256(), 32, key, keylen, data, len, mac);
}

m2j_rc m2j_hmac_sha1(const void *key, size_t keylen, const void *data, size_t len, unsigned char mac[20])
{
    return hmac(EVP_sha1(), 20, key, keylen, data, len, mac);
}

void m2j_sha256_hex(const void *data, size_t len, char hex[65])
{
    static const char digits[] = "0123456789abcdef";
    static const unsigned char empty[1] = {0};
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (!EVP_Digest(len ? data : empty, len, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32) {
        /* Only an OpenSSL failure lands here; an all-zero digest is obviously wrong
         * rather than silently plausible. */
        memset(hex, '0', 64);
        hex[64] = '\0';
        return;
    }
    for (unsigned i = 0; i < 32; i++) {
        hex[2 * i] = digits[md[i] >> 4];
        hex[2 * i + 1] = digits[md[i] & 15];
    }
    hex[64] = '\0';
}

bool m2j_ct_equal(const void *a, size_t alen, const void *b, size_t blen)
{
    /* Lengths are not secret (signatures have a fixed size), so unequal
     * lengths may return early. */
    if (alen != blen)
        return false;
    if (alen == 0)
        return true;
    return CRYPTO_memcmp(a, b, alen) == 0;
}

m2j_rc m2j_random_bytes(void *buf, size_t len)
{
    unsigned char *p = buf;
    while (len > 0) {
        int n = len > (size_t)INT_MAX ? INT_MAX : (int)len;
        if (RAND_bytes(p, n) != 1)
            return M2J_ERR_INTERNAL;
        p += n;
        len -= (size_t)n;
    }
    return M2J_OK;
}

m2j_rc m2j_random_hex(char hex[33])
{
    static const char digits[] = "0123456789abcdef";
    unsigned char r[16];
    m2j_rc rc = m2j_random_bytes(r, sizeof r);
    if (rc != M2J_OK)
        return rc;
    for (unsigned i = 0; i < 16; i++) {
        hex[2 * i] = digits[r[i] >> 4];
        hex[2 * i + 1] = digits[r[i] & 15];
    }
    hex[32] = '\0';
    return M2J_OK;
}
