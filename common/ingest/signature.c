/* signature.c: webhook authentication (see signature.h for the schemes).
 *
 * Which schemes run: Standard Webhooks when a secret is configured and the
 * request carries any of its three headers; Adobe Commerce when a public key
 * is configured and the request carries x-adobe-commerce-webhook-signature;
 * I/O Events when keys are configured and the request carries
 * x-adobe-digital-signature-1/-2; HTTP Basic when credentials are configured
 * and the request carries Authorization: Basic. When none applies, the
 * first configured of Standard Webhooks and Basic runs anyway, so an
 * unauthenticated request is told what is missing.
 * The request passes when any scheme that ran verifies. A failing scheme's
 * reason is reported (the Standard Webhooks one first: it is the scheme the
 * receiver documents), never a secret.
 *
 * Standard Webhooks details:
 *  - the signed text is id "." timestamp "." body, fed to HMAC in three
 *    parts so the body is never copied;
 *  - the timestamp header must be 1-20 decimal digits and within tolerance
 *    of now in both directions (clock skew and replay);
 *  - webhook-signature is a space-separated list; only "v1,<base64>" entries
 *    are tried (others, such as the asymmetric "v1a", are skipped), and the
 *    expected base64 text is compared in constant time to each;
 *  - at most MAX_SIG_ENTRIES entries are looked at, so a huge header cannot
 *    make us do unbounded work. */
#include "ingest/signature.h"
#include "base/crypto_util.h"
#include "ingest/basic_auth.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SIG_ENTRIES   16
#define MAX_ID_LEN        256
#define MAX_RSA_SIG_B64   2048 /* a 8192-bit RSA signature is 1368 base64 chars */

struct m2j_sigcheck {
    bool       standard;          /* a webhook secret is configured */
    m2j_buf    key;               /* Standard Webhooks HMAC key bytes */
    long       tolerance;         /* seconds */
    EVP_MAC   *hmac;
    EVP_MAC_CTX *tmpl;            /* HMAC keyed with key: dup'd per request */
    EVP_PKEY  *commerce_key;      /* NULL = scheme off */
    EVP_PKEY **io_keys;
    size_t     n_io_keys;
    char      *basic_user;        /* NULL = HTTP Basic off */
    char      *basic_password;
};

/* The key bytes a configured secret stands for. */
static m2j_rc secret_key(const char *secret, m2j_buf *out, m2j_err *err)
{
    if (!secret || !*secret)
        return m2j_fail(err, M2J_ERR_INVALID, "receiver.webhook_secret is empty");
    if (strncmp(secret, "whsec_", 6) == 0) {
        const char *b = secret + 6;
        m2j_rc rc = m2j_base64_decode(b, strlen(b), out);
        if (rc != M2J_OK)
            return m2j_fail(err, rc == M2J_ERR_NOMEM ? rc : M2J_ERR_INVALID,
                            "receiver.webhook_secret: the part after \"whsec_\" is not valid base64");
        if (out->len == 0)
            return m2j_fail(err, M2J_ERR_INVALID, "receiver.webhook_secret: empty key after \"whsec_\"");
        return M2J_OK;
    }
    return m2j_buf_append(out, secret, strlen(secret)) == M2J_OK ? M2J_OK
                                                                  : m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
}

static m2j_rc load_pem(const char *path, const char *what, EVP_PKEY **out, m2j_err *err)
{
    *out = NULL;
    BIO *bio = BIO_new_file(path, "r");
    if (!bio)
        return m2j_fail(err, M2J_ERR_INVALID, "%s: cannot read %s", what, path);
    EVP_PKEY *k = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    BIO_free(bio);
    if (!k)
        return m2j_fail(err, M2J_ERR_INVALID, "%s: %s holds no PEM public key", what, path);
    if (EVP_PKEY_get_base_id(k) != EVP_PKEY_RSA) {
        EVP_PKEY_free(k);
        return m2j_fail(err, M2J_ERR_INVALID, "%s: %s is not an RSA public key", what, path);
    }
    *out = k;
    return M2J_OK;
}

static EVP_MAC_CTX *hmac_keyed(EVP_MAC *mac, const void *key, size_t keylen);

void m2j_sigcheck_free(m2j_sigcheck *sc)
{
    if (!sc)
        return;
    if (sc->key.data)
        memset(sc->key.data, 0, sc->key.len);
    m2j_buf_free(&sc->key);
    EVP_MAC_CTX_free(sc->tmpl);
    EVP_MAC_free(sc->hmac);
    EVP_PKEY_free(sc->commerce_key);
    for (size_t i = 0; i < sc->n_io_keys; i++)
        EVP_PKEY_free(sc->io_keys[i]);
    free(sc->io_keys);
    free(sc->basic_user);
    if (sc->basic_password)
        memset(sc->basic_password, 0, strlen(sc->basic_password));
    free(sc->basic_password);
    free(sc);
}

m2j_rc m2j_sigcheck_new(const m2j_receiver_config *rc, m2j_sigcheck **out, m2j_err *err)
{
    *out = NULL;
    m2j_sigcheck *sc = calloc(1, sizeof *sc);
    if (!sc)
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    m2j_rc r = M2J_OK;
    sc->standard = rc->webhook_secret && *rc->webhook_secret;
    bool basic = rc->basic_auth_username && *rc->basic_auth_username;
    bool adobe = (rc->commerce_public_key_file && *rc->commerce_public_key_file) ||
                 rc->n_io_events_public_key_files;
    if (!sc->standard && !basic && !adobe) {
        r = secret_key(rc->webhook_secret, &sc->key, err); /* says what is missing */
        goto fail;
    }
    if (sc->standard) {
        if ((r = secret_key(rc->webhook_secret, &sc->key, err)) != M2J_OK)
            goto fail;
        if (!(sc->hmac = EVP_MAC_fetch(NULL, "HMAC", NULL)) ||
            !(sc->tmpl = hmac_keyed(sc->hmac, sc->key.data, sc->key.len))) {
            r = m2j_fail(err, M2J_ERR_INTERNAL, "libcrypto cannot set up HMAC-SHA256");
            goto fail;
        }
    }
    sc->tolerance = rc->timestamp_tolerance_seconds > 0 ? rc->timestamp_tolerance_seconds : 300;
    if (basic) {
        if (!rc->basic_auth_password || !*rc->basic_auth_password) {
            r = m2j_fail(err, M2J_ERR_INVALID, "receiver.basic_auth.password is empty");
            goto fail;
        }
        if (!(sc->basic_user = strdup(rc->basic_auth_username)) ||
            !(sc->basic_password = strdup(rc->basic_auth_password))) {
            r = m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
            goto fail;
        }
    }
    if (rc->commerce_public_key_file && *rc->commerce_public_key_file) {
        r = load_pem(rc->commerce_public_key_file, "receiver.commerce_public_key_file", &sc->commerce_key, err);
        if (r != M2J_OK)
            goto fail;
    }
    if (rc->n_io_events_public_key_files) {
        sc->io_keys = calloc(rc->n_io_events_public_key_files, sizeof *sc->io_keys);
        if (!sc->io_keys) {
            r = m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
            goto fail;
        }
        for (size_t i = 0; i < rc->n_io_events_public_key_files; i++) {
            const char *f = rc->io_events_public_key_files[i];
            if (!f || !*f)
                continue;
            r = load_pem(f, "receiver.io_events_public_key_files", &sc->io_keys[sc->n_io_keys], err);
            if (r != M2J_OK)
                goto fail;
            sc->n_io_keys++;
        }
    }
    *out = sc;
    return M2J_OK;
fail:
    m2j_sigcheck_free(sc);
    return r;
}

/* A context keyed for HMAC-SHA256; NULL on failure. Keying once and
 * duplicating per request skips the digest lookup and key schedule. */
static EVP_MAC_CTX *hmac_keyed(EVP_MAC *mac, const void *key, size_t keylen)
{
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(mac);
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_end()
    };
    if (ctx && EVP_MAC_init(ctx, key, keylen, params))
        return ctx;
    EVP_MAC_CTX_free(ctx);
    return NULL;
}

/* base64(HMAC-SHA256(key, id "." ts "." body)) appended to out; keyed is
 * not changed. */
static m2j_rc sw_mac_b64(const EVP_MAC_CTX *keyed, const char *id, const char *ts,
                         const char *body, size_t len, m2j_buf *out)
{
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_dup(keyed);
    if (!ctx)
        return M2J_ERR_NOMEM;
    unsigned char md[32];
    size_t mdlen = 0;
    int ok = EVP_MAC_update(ctx, (const unsigned char *)id, strlen(id)) &&
             EVP_MAC_update(ctx, (const unsigned char *)".", 1) &&
             EVP_MAC_update(ctx, (const unsigned char *)ts, strlen(ts)) &&
             EVP_MAC_update(ctx, (const unsigned char *)".", 1) &&
             (len == 0 || EVP_MAC_update(ctx, (const unsigned char *)body, len)) &&
             EVP_MAC_final(ctx, md, &mdlen, sizeof md) && mdlen == sizeof md;
    EVP_MAC_CTX_free(ctx);
    if (!ok)
        return M2J_ERR_INTERNAL;
    return m2j_base64_encode(md, sizeof md, out);
}

static bool all_digits(const char *s, size_t max)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (n >= max || !isdigit((unsigned char)s[n]))
            return false;
    return n > 0;
}

static m2j_rc verify_standard(const m2j_sigcheck *sc, m2j_header_fn hdr, void *ctx,
                              const char *body, size_t len, long long now, m2j_err *err)
{
    const char *id = hdr(ctx, "webhook-id");
    const char *ts = hdr(ctx, "webhook-timestamp");
    const char *sig = hdr(ctx, "webhook-signature");
    if (!id || !*id)
        return m2j_fail(err, M2J_ERR_AUTH, "missing webhook-id");
    if (strlen(id) > MAX_ID_LEN)
        return m2j_fail(err, M2J_ERR_AUTH, "webhook-id longer than %d bytes", MAX_ID_LEN);
    if (!ts || !*ts)
        return m2j_fail(err, M2J_ERR_AUTH, "missing webhook-timestamp");
    if (!sig || !*sig)
        return m2j_fail(err, M2J_ERR_AUTH, "missing webhook-signature");
    if (!all_digits(ts, 20))
        return m2j_fail(err, M2J_ERR_AUTH, "webhook-timestamp is not a number of seconds");
    long long t = strtoll(ts, NULL, 10);
    long long d = t > now ? t - now : now - t;
    if (d > sc->tolerance)
        return m2j_fail(err, M2J_ERR_AUTH, "webhook-timestamp outside tolerance (%lld s from now, at most %ld)",
                        d, sc->tolerance);
    m2j_buf want = {0};
    m2j_rc rc = sw_mac_b64(sc->tmpl, id, ts, body, len, &want);
    if (rc != M2J_OK) {
        m2j_buf_free(&want);
        return m2j_fail(err, rc, "cannot compute HMAC");
    }
    bool ok = false;
    int seen = 0;
    const char *p = sig;
    while (*p && seen < MAX_SIG_ENTRIES) {
        while (*p == ' ')
            p++;
        const char *e = p;
        while (*e && *e != ' ')
            e++;
        if (e > p) {
            seen++;
            if (e - p > 3 && memcmp(p, "v1,", 3) == 0 &&
                m2j_ct_equal(p + 3, (size_t)(e - p - 3), want.data, want.len))
                ok = true; /* keep looping: the time spent does not depend on which entry matched */
        }
        p = e;
    }
    m2j_buf_free(&want);
    if (!ok)
        return m2j_fail(err, M2J_ERR_AUTH, "no valid v1 signature in webhook-signature");
    return M2J_OK;
}

/* RSA PKCS#1 v1.5 SHA-256 of data under key, signature given in base64. */
static bool rsa_verify(EVP_PKEY *key, const char *sig_b64, const void *data, size_t len)
{
    size_t n = strlen(sig_b64);
    if (n == 0 || n > MAX_RSA_SIG_B64)
        return false;
    m2j_buf sig = {0};
    if (m2j_base64_decode(sig_b64, n, &sig) != M2J_OK || sig.len == 0) {
        m2j_buf_free(&sig);
        return false;
    }
    bool ok = false;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    if (md && EVP_DigestVerifyInit(md, &pctx, EVP_sha256(), NULL, key) == 1 &&
        EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1)
        ok = EVP_DigestVerify(md, (const unsigned char *)sig.data, sig.len, data, len) == 1;
    EVP_MD_CTX_free(md);
    m2j_buf_free(&sig);
    return ok;
}

static m2j_rc verify_commerce(const m2j_sigcheck *sc, const char *sig, const char *body, size_t len, m2j_err *err)
{
    /* Adobe signs base64(json_encode(payload)); the body is that JSON. */
    m2j_buf b64 = {0};
    if (m2j_base64_encode(body, len, &b64) != M2J_OK) {
        m2j_buf_free(&b64);
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    }
    bool ok = rsa_verify(sc->commerce_key, sig, b64.data ? b64.data : "", b64.len);
    m2j_buf_free(&b64);
    return ok ? M2J_OK : m2j_fail(err, M2J_ERR_AUTH, "x-adobe-commerce-webhook-signature does not verify");
}

static m2j_rc verify_io(const m2j_sigcheck *sc, const char *s1, const char *s2, const char *body, size_t len,
                        m2j_err *err)
{
    const char *sigs[2] = { s1, s2 };
    for (int i = 0; i < 2; i++) {
        if (!sigs[i] || !*sigs[i])
            continue;
        for (size_t k = 0; k < sc->n_io_keys; k++)
            if (rsa_verify(sc->io_keys[k], sigs[i], body, len))
                return M2J_OK;
    }
    return m2j_fail(err, M2J_ERR_AUTH, "x-adobe-digital-signature does not verify with any configured key");
}

m2j_rc m2j_sigcheck_verify(const m2j_sigcheck *sc, m2j_header_fn hdr, void *hdr_ctx,
                           const char *body, size_t len, long long now, m2j_err *err)
{
    m2j_sig_scheme scheme;
    return m2j_sigcheck_verify_scheme(sc, hdr, hdr_ctx, body, len, now, &scheme, err);
}

m2j_rc m2j_sigcheck_verify_scheme(const m2j_sigcheck *sc, m2j_header_fn hdr, void *hdr_ctx, const char *body,
                                  size_t len, long long now, m2j_sig_scheme *scheme, m2j_err *err)
{
    *scheme = M2J_SIG_NONE;
    if (!body)
        body = "";
    const char *cw = sc->commerce_key ? hdr(hdr_ctx, "x-adobe-commerce-webhook-signature") : NULL;
    const char *io1 = sc->n_io_keys ? hdr(hdr_ctx, "x-adobe-digital-signature-1") : NULL;
    const char *io2 = sc->n_io_keys ? hdr(hdr_ctx, "x-adobe-digital-signature-2") : NULL;
    const char *auth = sc->basic_user ? hdr(hdr_ctx, "authorization") : NULL;
    bool io = (io1 && *io1) || (io2 && *io2);
    bool basic = m2j_basic_auth_present(auth);
    bool sw = sc->standard &&
              (hdr(hdr_ctx, "webhook-signature") || hdr(hdr_ctx, "webhook-id") || hdr(hdr_ctx, "webhook-timestamp"));
    m2j_err first = {0};
    bool failed = false;
    /* Nothing applies: the request is told what the first configured scheme
     * (in the order documented) would have needed. */
    if (!sw && !cw && !io && !basic) {
        if (sc->standard)
            sw = true;
        else if (sc->basic_user)
            basic = true;
        else
            return m2j_fail(err, M2J_ERR_AUTH, "no signature header of a configured scheme (%s)",
                            sc->commerce_key ? "x-adobe-commerce-webhook-signature"
                                             : "x-adobe-digital-signature-1/-2");
    }
    if (sw) {
        if (verify_standard(sc, hdr, hdr_ctx, body, len, now, &first) == M2J_OK) {
            *scheme = M2J_SIG_STANDARD;
            return M2J_OK;
        }
        failed = true;
    }
    if (cw) {
        m2j_err e = {0};
        if (verify_commerce(sc, cw, body, len, &e) == M2J_OK) {
            *scheme = M2J_SIG_COMMERCE;
            return M2J_OK;
        }
        if (!failed)
            first = e;
        failed = true;
    }
    if (io) {
        m2j_err e = {0};
        if (verify_io(sc, io1, io2, body, len, &e) == M2J_OK) {
            *scheme = M2J_SIG_IO_EVENTS;
            return M2J_OK;
        }
        if (!failed)
            first = e;
        failed = true;
    }
    if (basic) {
        m2j_err e = {0};
        if (m2j_basic_auth_verify(auth, sc->basic_user, sc->basic_password, &e) == M2J_OK) {
            *scheme = M2J_SIG_BASIC;
            return M2J_OK;
        }
        if (!failed)
            first = e;
    }
    return m2j_fail(err, M2J_ERR_AUTH, "%s", first.msg);
}

m2j_rc m2j_standard_webhooks_sign(const char *secret, const char *id, long long ts,
                                  const char *body, size_t len, m2j_buf *out, m2j_err *err)
{
    if (!id || !*id)
        return m2j_fail(err, M2J_ERR_INVALID, "empty webhook id");
    m2j_buf key = {0};
    m2j_rc rc = secret_key(secret, &key, err);
    if (rc != M2J_OK) {
        m2j_buf_free(&key);
        return rc;
    }
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *keyed = mac ? hmac_keyed(mac, key.data, key.len) : NULL;
    if (!keyed) {
        EVP_MAC_free(mac);
        memset(key.data, 0, key.len);
        m2j_buf_free(&key);
        return m2j_fail(err, M2J_ERR_INTERNAL, "libcrypto cannot set up HMAC-SHA256");
    }
    char tsbuf[32];
    snprintf(tsbuf, sizeof tsbuf, "%lld", ts);
    rc = m2j_buf_puts(out, "v1,");
    if (rc == M2J_OK)
        rc = sw_mac_b64(keyed, id, tsbuf, body ? body : "", body ? len : 0, out);
    EVP_MAC_CTX_free(keyed);
    EVP_MAC_free(mac);
    memset(key.data, 0, key.len);
    m2j_buf_free(&key);
    return rc == M2J_OK ? M2J_OK : m2j_fail(err, rc, "cannot sign");
}
