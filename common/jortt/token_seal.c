/* token_seal.c: see token_seal.h. */
#include "jortt/token_seal.h"
#include "base/crypto_util.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#define KEY_LEN   32
#define NONCE_LEN 12
#define TAG_LEN   16
#define PREFIX    "v1."
#define PREFIX_LEN 3

static const char SALT[] = "m2jortt token seal v1";

/* HKDF-SHA256 with one output block: PRK = HMAC(salt, ikm), OKM =
 * HMAC(PRK, info | 0x01). */
static m2j_rc derive(const char *client_id, const char *client_secret, unsigned char key[KEY_LEN])
{
    unsigned char prk[32];
    const char *ikm = client_secret ? client_secret : "";
    const char *info = client_id ? client_id : "";
    m2j_rc rc = m2j_hmac_sha256(SALT, sizeof SALT - 1, ikm, strlen(ikm), prk);
    m2j_buf t = {0};
    if (rc == M2J_OK)
        rc = m2j_buf_puts(&t, info);
    if (rc == M2J_OK)
        rc = m2j_buf_append(&t, "\x01", 1);
    if (rc == M2J_OK)
        rc = m2j_hmac_sha256(prk, sizeof prk, t.data, t.len, key);
    m2j_buf_free(&t);
    explicit_bzero(prk, sizeof prk);
    return rc;
}

m2j_rc m2j_token_seal(const char *client_id, const char *client_secret, const char *aad, const char *token,
                      m2j_buf *out, m2j_err *err)
{
    m2j_buf_reset(out);
    size_t n = token ? strlen(token) : 0;
    if (n == 0 || n > M2J_TOKEN_SEAL_MAX)
        return m2j_fail(err, M2J_ERR_INVALID, "token to seal: %zu bytes", n);
    unsigned char key[KEY_LEN];
    unsigned char *raw = malloc(NONCE_LEN + n + TAG_LEN);
    if (!raw)
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    m2j_rc rc = derive(client_id, client_secret, key);
    if (rc == M2J_OK)
        rc = m2j_random_bytes(raw, NONCE_LEN);
    EVP_CIPHER_CTX *cx = rc == M2J_OK ? EVP_CIPHER_CTX_new() : NULL;
    int len = 0, fin = 0;
    if (rc == M2J_OK &&
        (!cx || EVP_EncryptInit_ex(cx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
         EVP_CIPHER_CTX_ctrl(cx, EVP_CTRL_GCM_SET_IVLEN, NONCE_LEN, NULL) != 1 ||
         EVP_EncryptInit_ex(cx, NULL, NULL, key, raw) != 1 ||
         EVP_EncryptUpdate(cx, NULL, &len, (const unsigned char *)aad, (int)strlen(aad)) != 1 ||
         EVP_EncryptUpdate(cx, raw + NONCE_LEN, &len, (const unsigned char *)token, (int)n) != 1 ||
         EVP_EncryptFinal_ex(cx, raw + NONCE_LEN + len, &fin) != 1 ||
         EVP_CIPHER_CTX_ctrl(cx, EVP_CTRL_GCM_GET_TAG, TAG_LEN, raw + NONCE_LEN + n) != 1))
        rc = M2J_ERR_INTERNAL;
    EVP_CIPHER_CTX_free(cx);
    explicit_bzero(key, sizeof key);
    if (rc == M2J_OK) {
        rc = m2j_buf_puts(out, PREFIX);
        if (rc == M2J_OK)
            rc = m2j_base64_encode(raw, NONCE_LEN + n + TAG_LEN, out);
    }
    explicit_bzero(raw, NONCE_LEN + n + TAG_LEN);
    free(raw);
    if (rc != M2J_OK) {
        m2j_buf_reset(out);
        return m2j_fail(err, rc, "sealing the access token failed");
    }
    return M2J_OK;
}

m2j_rc m2j_token_unseal(const char *client_id, const char *client_secret, const char *aad, const char *sealed,
                        size_t len, m2j_buf *out, m2j_err *err)
{
    m2j_buf_reset(out);
    if (len < PREFIX_LEN || memcmp(sealed, PREFIX, PREFIX_LEN) != 0)
        return m2j_fail(err, M2J_ERR_INVALID, "not a sealed token");
    m2j_buf raw = {0};
    if (m2j_base64_decode(sealed + PREFIX_LEN, len - PREFIX_LEN, &raw) != M2J_OK ||
        raw.len <= NONCE_LEN + TAG_LEN || raw.len > NONCE_LEN + M2J_TOKEN_SEAL_MAX + TAG_LEN) {
        m2j_buf_free(&raw);
        return m2j_fail(err, M2J_ERR_AUTH, "sealed token is malformed");
    }
    size_t n = raw.len - NONCE_LEN - TAG_LEN;
    const unsigned char *r = (const unsigned char *)raw.data;
    unsigned char key[KEY_LEN], tag[TAG_LEN];
    memcpy(tag, r + NONCE_LEN + n, TAG_LEN);
    unsigned char *plain = malloc(n + 1);
    m2j_rc rc = plain ? derive(client_id, client_secret, key) : M2J_ERR_NOMEM;
    EVP_CIPHER_CTX *cx = rc == M2J_OK ? EVP_CIPHER_CTX_new() : NULL;
    int l = 0, fin = 0;
    if (rc == M2J_OK && !cx)
        rc = M2J_ERR_NOMEM;
    if (rc == M2J_OK &&
        (EVP_DecryptInit_ex(cx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
         EVP_CIPHER_CTX_ctrl(cx, EVP_CTRL_GCM_SET_IVLEN, NONCE_LEN, NULL) != 1 ||
         EVP_DecryptInit_ex(cx, NULL, NULL, key, r) != 1 ||
         EVP_DecryptUpdate(cx, NULL, &l, (const unsigned char *)aad, (int)strlen(aad)) != 1 ||
         EVP_DecryptUpdate(cx, plain, &l, r + NONCE_LEN, (int)n) != 1 ||
         EVP_CIPHER_CTX_ctrl(cx, EVP_CTRL_GCM_SET_TAG, TAG_LEN, tag) != 1))
        rc = M2J_ERR_INTERNAL;
    /* the tag is checked here: nothing of plain is used unless it matches */
    if (rc == M2J_OK && EVP_DecryptFinal_ex(cx, plain + l, &fin) != 1)
        rc = M2J_ERR_AUTH;
    EVP_CIPHER_CTX_free(cx);
    explicit_bzero(key, sizeof key);
    if (rc == M2J_OK && (memchr(plain, '\0', n) || m2j_buf_append(out, plain, n) != M2J_OK))
        rc = M2J_ERR_AUTH;
    if (plain) {
        explicit_bzero(plain, n + 1);
        free(plain);
    }
    explicit_bzero(raw.data, raw.len);
    m2j_buf_free(&raw);
    if (rc != M2J_OK) {
        m2j_buf_reset(out);
        return m2j_fail(err, rc, rc == M2J_ERR_AUTH ? "sealed token does not open with this client secret "
                                                      "(another jortt.client_secret, or altered)"
                                                    : "opening the sealed token failed");
    }
    return M2J_OK;
}
