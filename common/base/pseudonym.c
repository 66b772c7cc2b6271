/* pseudonym.c: see pseudonym.h. */
#include "base/pseudonym.h"
#include "base/crypto_util.h"

#include <ctype.h>
#include <string.h>

static const char LOG_LABEL[] = "m2jortt log pseudonym v2";
static const char CACHE_LABEL[] = "m2jortt customer cache v2";
static const char HEX[] = "0123456789abcdef";

m2j_rc m2j_email_normalise(const char *email, m2j_buf *out)
{
    m2j_buf_reset(out);
    if (!email)
        return M2J_OK;
    const char *s = email;
    while (*s && isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    m2j_rc rc = m2j_buf_append(out, "", 0);
    for (size_t i = 0; i < n && rc == M2J_OK; i++) {
        char c = (char)tolower((unsigned char)s[i]);
        rc = m2j_buf_append(out, &c, 1);
    }
    return rc;
}

/* HMAC-SHA256(key, label NUL normalised address). */
static m2j_rc keyed(const unsigned char *key, const char *label, size_t label_len, const char *email,
                    unsigned char mac[32])
{
    if (!key)
        return M2J_ERR_INVALID;
    m2j_buf msg = {0}, norm = {0};
    m2j_rc rc = m2j_email_normalise(email, &norm);
    if (rc == M2J_OK && norm.len == 0)
        rc = M2J_ERR_INVALID;
    if (rc == M2J_OK)
        rc = m2j_buf_append(&msg, label, label_len + 1); /* with its NUL: the separator */
    if (rc == M2J_OK)
        rc = m2j_buf_append(&msg, norm.data, norm.len);
    if (rc == M2J_OK)
        rc = m2j_hmac_sha256(key, M2J_INSTALL_KEY_LEN, msg.data, msg.len, mac);
    m2j_buf_free(&msg);
    m2j_buf_free(&norm);
    return rc;
}

static void to_hex(const unsigned char *b, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = HEX[b[i] >> 4];
        out[2 * i + 1] = HEX[b[i] & 15];
    }
    out[2 * n] = '\0';
}

char *m2j_pseudonym(const unsigned char *key, const char *email, char out[M2J_PSEUDONYM_LEN])
{
    const char *s = email;
    while (s && *s && isspace((unsigned char)*s))
        s++;
    if (!s || !*s) {
        strcpy(out, "-");
        return out;
    }
    unsigned char mac[32];
    if (keyed(key, LOG_LABEL, sizeof LOG_LABEL - 1, email, mac) != M2J_OK) {
        strcpy(out, "h:?");
        return out;
    }
    out[0] = 'h';
    out[1] = ':';
    to_hex(mac, M2J_PSEUDONYM_HEX / 2, out + 2);
    return out;
}

m2j_rc m2j_customer_key_hex(const unsigned char *key, const char *email, char hex[65])
{
    unsigned char mac[32];
    m2j_rc rc = keyed(key, CACHE_LABEL, sizeof CACHE_LABEL - 1, email, mac);
    if (rc != M2J_OK) {
        hex[0] = '\0';
        return rc;
    }
    to_hex(mac, sizeof mac, hex);
    return M2J_OK;
}

void m2j_customer_key_legacy_hex(const char *email, char hex[65])
{
    m2j_buf norm = {0};
    if (m2j_email_normalise(email, &norm) != M2J_OK) {
        /* only when out of memory: an impossible key rather than a wrong one */
        m2j_buf_free(&norm);
        strcpy(hex, "-");
        return;
    }
    m2j_sha256_hex(norm.data ? norm.data : "", norm.len, hex);
    m2j_buf_free(&norm);
}
