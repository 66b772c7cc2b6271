/* basic_auth.c: see basic_auth.h. */
#include "ingest/basic_auth.h"
#include "base/buf.h"
#include "base/crypto_util.h"

#include <string.h>
#include <strings.h>

/* A header longer than this is not a credential we configured (a username
 * and password of a few hundred bytes at most), and is not decoded. */
#define MAX_CREDENTIAL_B64 1024

/* Compared as SHA-256 digests: fixed length, so neither the length of the
 * configured value nor where it differs shows in the time taken. */
static bool same(const char *given, size_t n, const char *want)
{
    char a[65], b[65];
    m2j_sha256_hex(given, n, a);
    m2j_sha256_hex(want, strlen(want), b);
    return m2j_ct_equal(a, 64, b, 64);
}

bool m2j_basic_auth_present(const char *authorization)
{
    return authorization && strncasecmp(authorization, "Basic", 5) == 0 &&
           (authorization[5] == ' ' || authorization[5] == '\t');
}

m2j_rc m2j_basic_auth_verify(const char *authorization, const char *username, const char *password,
                             m2j_err *err)
{
    if (!authorization || !*authorization)
        return m2j_fail(err, M2J_ERR_AUTH, "missing Authorization: Basic credentials");
    if (!m2j_basic_auth_present(authorization))
        return m2j_fail(err, M2J_ERR_AUTH, "Authorization is not the Basic scheme");
    const char *b = authorization + 6;
    while (*b == ' ' || *b == '\t')
        b++;
    size_t n = strlen(b);
    while (n && (b[n - 1] == ' ' || b[n - 1] == '\t'))
        n--;
    if (n == 0 || n > MAX_CREDENTIAL_B64)
        return m2j_fail(err, M2J_ERR_AUTH, "wrong Basic credentials");
    m2j_buf dec = {0};
    if (m2j_base64_decode(b, n, &dec) != M2J_OK || !dec.data) {
        m2j_buf_free(&dec);
        return m2j_fail(err, M2J_ERR_AUTH, "Basic credentials are not valid base64");
    }
    const char *colon = memchr(dec.data, ':', dec.len);
    size_t ul = colon ? (size_t)(colon - dec.data) : dec.len;
    const char *pw = colon ? colon + 1 : "";
    size_t pl = colon ? dec.len - ul - 1 : 0;
    /* & not &&: both comparisons always run */
    bool ok = same(dec.data, ul, username) & same(pw, pl, password);
    ok = ok && colon && *username && *password;
    memset(dec.data, 0, dec.len);
    m2j_buf_free(&dec);
    return ok ? M2J_OK : m2j_fail(err, M2J_ERR_AUTH, "wrong Basic credentials");
}
