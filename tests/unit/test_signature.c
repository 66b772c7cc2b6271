/* Webhook authentication: Standard Webhooks (the published test vector,
 * whsec and raw secrets, several signatures, timestamps, missing headers)
 * and the Adobe RSA schemes with key pairs generated here. */
#include "ingest/signature.h"
#include "base/crypto_util.h"

#include <check.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* The Standard Webhooks specification's example. */
#define SPEC_SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define SPEC_ID     "msg_p5jXN8AQM9LWM0D4loKWxJek"
#define SPEC_TS     1614265330LL
#define SPEC_BODY   "{\"test\": 2432232314}"
#define SPEC_SIG    "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

/* ---- headers over an array ---- */

typedef struct {
    const char *name[8];
    const char *value[8];
    int         n;
} hdrs;

static const char *hdr_get(void *ctx, const char *name)
{
    hdrs *h = ctx;
    for (int i = 0; i < h->n; i++)
        if (strcasecmp(h->name[i], name) == 0)
            return h->value[i];
    return NULL;
}

static void hdr_set(hdrs *h, const char *name, const char *value)
{
    for (int i = 0; i < h->n; i++)
        if (strcasecmp(h->name[i], name) == 0) {
            h->value[i] = value;
            return;
        }
    h->name[h->n] = name;
    h->value[h->n++] = value;
}

static m2j_sigcheck *checker(const char *secret, const char *commerce_pem, char **io_pems, size_t n_io)
{
    m2j_receiver_config rc = {0};
    rc.webhook_secret = (char *)secret;
    rc.timestamp_tolerance_seconds = 300;
    rc.commerce_public_key_file = (char *)commerce_pem;
    rc.io_events_public_key_files = io_pems;
    rc.n_io_events_public_key_files = n_io;
    m2j_sigcheck *sc = NULL;
    m2j_err err = {0};
    ck_assert_msg(m2j_sigcheck_new(&rc, &sc, &err) == M2J_OK, "sigcheck_new: %s", err.msg);
    return sc;
}

static m2j_rc verify(m2j_sigcheck *sc, hdrs *h, const char *body, long long now, m2j_err *err)
{
    return m2j_sigcheck_verify(sc, hdr_get, h, body, strlen(body), now, err);
}

/* The scheme that verified (M2J_SIG_NONE when none did): what the receiver
 * may then trust as a delivery id depends on it. */
static m2j_sig_scheme scheme_of(m2j_sigcheck *sc, hdrs *h, const char *body, long long now)
{
    m2j_sig_scheme s = M2J_SIG_IO_EVENTS + 1;
    m2j_err err = {0};
    m2j_rc rc = m2j_sigcheck_verify_scheme(sc, hdr_get, h, body, strlen(body), now, &s, &err);
    ck_assert((rc == M2J_OK) == (s != M2J_SIG_NONE));
    return s;
}

/* ---- Standard Webhooks ---- */

START_TEST(spec_vector_signs_and_verifies)
{
    m2j_buf sig = {0};
    m2j_err err = {0};
    ck_assert_int_eq(m2j_standard_webhooks_sign(SPEC_SECRET, SPEC_ID, SPEC_TS, SPEC_BODY, strlen(SPEC_BODY), &sig, &err),
                     M2J_OK);
    ck_assert_str_eq(m2j_buf_str(&sig), SPEC_SIG);
    m2j_buf_free(&sig);

    m2j_sigcheck *sc = checker(SPEC_SECRET, NULL, NULL, 0);
    hdrs h = {0};
    hdr_set(&h, "webhook-id", SPEC_ID);
    hdr_set(&h, "webhook-timestamp", "1614265330");
    hdr_set(&h, "webhook-signature", SPEC_SIG);
    ck_assert_int_eq(verify(sc, &h, SPEC_BODY, SPEC_TS + 10, &err), M2J_OK);
    /* header names are looked up case-insensitively by the callback */
    hdrs u = {0};
    hdr_set(&u, "Webhook-Id", SPEC_ID);
    hdr_set(&u, "WEBHOOK-TIMESTAMP", "1614265330");
    hdr_set(&u, "Webhook-Signature", SPEC_SIG);
    ck_assert_int_eq(verify(sc, &u, SPEC_BODY, SPEC_TS, &err), M2J_OK);
    m2j_sigcheck_free(sc);
}
END_TEST

START_TEST(wrong_secret_body_or_id_fails)
{
    m2j_sigcheck *other = checker("whsec_bm90LXRoZS1yaWdodC1zZWNyZXQtYXQtYWxsIQ==", NULL, NULL, 0);
    m2j_sigcheck *sc = checker(SPEC_SECRET, NULL, NULL, 0);
    hdrs h = {0};
    hdr_set(&h, "webhook-id", SPEC_ID);
    hdr_set(&h, "webhook-timestamp", "1614265330");
    hdr_set(&h, "webhook-signature", SPEC_SIG);
    m2j_err err = {0};
    ck_assert_int_eq(verify(other, &h, SPEC_BODY, SPEC_TS, &err), M2J_ERR_AUTH);
    ck_assert_ptr_nonnull(strstr(err.msg, "no valid v1 signature"));
    ck_assert_int_eq(verify(sc, &h, "{\"test\": 2432232315}", SPEC_TS, &err), M2J_ERR_AUTH);
    hdr_set(&h, "webhook-id", "msg_other");
    ck_assert_int_eq(verify(sc, &h, SPEC_BODY, SPEC_TS, &err), M2J_ERR_AUTH);
    m2j_sigcheck_free(sc);
    m2j_sigcheck_free(other);
}
END_TEST

START_TEST(several_signatures_any_valid_passes)
{
    m2j_sigcheck *sc = checker(SPEC_SECRET, NULL, NULL, 0);
    hdrs h = {0};
    hdr_set(&h, "webhook-id", SPEC_ID);
    hdr_set(&h, "webhook-timestamp", "1614265330");
    m2j_err err = {0};
    /* a rotated-out key's signature, an asymmetric entry, then the valid one */
    hdr_set(&h, "webhook-signature",
            "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= v1a,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE= " SPEC_SIG);
    ck_assert_int_eq(verify(sc, &h, SPEC_BODY, SPEC_TS, &err), M2J_OK);
    /* the valid value under a non-v1 version is not accepted */
    hdr_set(&h, "webhook-signature", "v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE= v1a,xyz");
    ck_assert_int_eq(verify(sc, &h, SPEC_BODY, SPEC_TS, &err), M2J_ERR_AUTH);
    /* the signature without its version prefix is not accepted */
    hdr_set(&h, "webhook-signature", "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    ck_assert_int_eq(verify(sc, &h, SPEC_BODY, SPEC_TS, &err), M2J_ERR_AUTH);
    /* extra spaces are tolerated */
    hdr_set(&h, "webhook-signature", "  v1,bad   " SPEC_SIG "  ");
    ck_assert_int_eq(verify(sc, &h, SPEC_BODY, SPEC_TS, &err), M2J_OK);
    m2j_sigcheck_free(sc);
}
END_TEST

START_TEST(timestamp_tolerance)
{
    m2j_sigcheck *sc = checker(SPEC_SECRET, NULL, NULL, 0);
    hdrs h = {0};
    hdr_set(&h, "webhook-id", SPEC_ID);
    hdr_set(&h, "webhook-timestamp", "1614265330");
    hdr_set(&h, "webhook-signature", SPEC_SIG);
    m2j_err err = {0};
    ck_assert_int_eq(verify(sc, &h, SPEC_BODY, SPEC_TS + 300, &err), M2J_OK);
    ck_assert_int_eq(verify(sc, &h, SPEC_BODY, SPEC_TS - 300, &err), M2J_OK);
    ck_assert_int_eq(verify(sc, &h, SPEC_BODY, SPEC_TS + 301, &err), M2J_ERR_AUTH);
    ck_assert_ptr_nonnull(strstr(err.msg, "outside tolerance"));
    ck_assert_int_eq(verify(sc, &h, SPEC_BODY, SPEC_TS - 301, &err), M2J_ERR_AUTH);
    hdr_set(&h, "webhook-timestamp", "1614265330x");
    ck_assert_int_eq(verify(sc, &h, SPEC_BODY, SPEC_TS, &err), M2J_ERR_AUTH);
    ck_assert_ptr_nonnull(strstr(err.msg, "not a number"));
    hdr_set(&h, "webhook-timestamp", "-1614265330");
    ck_assert_int_eq(verify(sc, &h, SPEC_BODY, SPEC_TS, &err), M2J_ERR_AUTH);
    m2j_sigcheck_free(sc);
}
END_TEST

START_TEST(missing_headers)
{
    m2j_sigcheck *sc = checker(SPEC_SECRET, NULL, NULL, 0);
    m2j_err err = {0};
    static const struct {
        const char *drop;
        const char *msg;
    } cases[] = {
        { "webhook-id", "missing webhook-id" },
        { "webhook-timestamp", "missing webhook-timestamp" },
        { "webhook-signature", "missing webhook-signature" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        hdrs h = {0};
        if (strcmp(cases[i].drop, "webhook-id"))
            hdr_set(&h, "webhook-id", SPEC_ID);
        if (strcmp(cases[i].drop, "webhook-timestamp"))
            hdr_set(&h, "webhook-timestamp", "1614265330");
        if (strcmp(cases[i].drop, "webhook-signature"))
            hdr_set(&h, "webhook-signature", SPEC_SIG);
        ck_assert_int_eq(verify(sc, &h, SPEC_BODY, SPEC_TS, &err), M2J_ERR_AUTH);
        ck_assert_str_eq(err.msg, cases[i].msg);
    }
    hdrs none = {0};
    ck_assert_int_eq(verify(sc, &none, SPEC_BODY, SPEC_TS, &err), M2J_ERR_AUTH);
    ck_assert_str_eq(err.msg, "missing webhook-id");
    m2j_sigcheck_free(sc);
}
END_TEST

START_TEST(raw_secret_without_prefix)
{
    const char *secret = "plain-shared-secret";
    const char *body = "{\"x\":1}";
    m2j_buf sig = {0};
    m2j_err err = {0};
    ck_assert_int_eq(m2j_standard_webhooks_sign(secret, "id-1", 1700000000, body, strlen(body), &sig, &err), M2J_OK);
    /* independently: HMAC over the raw secret bytes */
    unsigned char mac[32];
    const char *msg = "id-1.1700000000.{\"x\":1}";
    ck_assert_int_eq(m2j_hmac_sha256(secret, strlen(secret), msg, strlen(msg), mac), M2J_OK);
    m2j_buf want = {0};
    m2j_buf_puts(&want, "v1,");
    m2j_base64_encode(mac, sizeof mac, &want);
    ck_assert_str_eq(m2j_buf_str(&sig), m2j_buf_str(&want));

    m2j_sigcheck *sc = checker(secret, NULL, NULL, 0);
    hdrs h = {0};
    hdr_set(&h, "webhook-id", "id-1");
    hdr_set(&h, "webhook-timestamp", "1700000000");
    hdr_set(&h, "webhook-signature", m2j_buf_str(&sig));
    ck_assert_int_eq(verify(sc, &h, body, 1700000000, &err), M2J_OK);
    /* the same text taken as whsec_ would be a different key */
    m2j_buf_free(&sig);
    m2j_buf_free(&want);
    m2j_sigcheck_free(sc);
}
END_TEST

START_TEST(bad_secrets_refused)
{
    m2j_receiver_config rc = {0};
    m2j_sigcheck *sc = (m2j_sigcheck *)1;
    m2j_err err = {0};
    rc.webhook_secret = "";
    ck_assert_int_eq(m2j_sigcheck_new(&rc, &sc, &err), M2J_ERR_INVALID);
    ck_assert_ptr_null(sc);
    rc.webhook_secret = "whsec_not*base64!";
    ck_assert_int_eq(m2j_sigcheck_new(&rc, &sc, &err), M2J_ERR_INVALID);
    ck_assert_ptr_null(strstr(err.msg, "not*base64")); /* never echo the secret */
    rc.webhook_secret = "whsec_";
    ck_assert_int_eq(m2j_sigcheck_new(&rc, &sc, &err), M2J_ERR_INVALID);
    rc.webhook_secret = SPEC_SECRET;
    rc.commerce_public_key_file = "/nonexistent/key.pem";
    ck_assert_int_eq(m2j_sigcheck_new(&rc, &sc, &err), M2J_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "commerce_public_key_file"));
    m2j_buf out = {0};
    ck_assert_int_eq(m2j_standard_webhooks_sign("whsec_%%%", "id", 1, "x", 1, &out, &err), M2J_ERR_INVALID);
    m2j_buf_free(&out);
}
END_TEST

/* ---- RSA schemes ---- */

static EVP_PKEY *rsa_keygen(void)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_RSA, NULL);
    EVP_PKEY *k = NULL;
    ck_assert_ptr_nonnull(ctx);
    ck_assert_int_eq(EVP_PKEY_keygen_init(ctx), 1);
    ck_assert_int_eq(EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, 2048), 1);
    ck_assert_int_eq(EVP_PKEY_keygen(ctx, &k), 1);
    EVP_PKEY_CTX_free(ctx);
    return k;
}

/* Writes the public half as PEM to a temp file; returns its malloc'd path. */
static char *write_pub(EVP_PKEY *k)
{
    char *path = strdup("/tmp/m2j-sigtest-XXXXXX");
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    FILE *f = fdopen(fd, "w");
    ck_assert_int_eq(PEM_write_PUBKEY(f, k), 1);
    fclose(f);
    return path;
}

/* base64 RSA-SHA256 (PKCS#1 v1.5) signature of data. */
static char *rsa_sign_b64(EVP_PKEY *k, const void *data, size_t len)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    size_t n = 0;
    ck_assert_int_eq(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, k), 1);
    ck_assert_int_eq(EVP_DigestSign(md, NULL, &n, data, len), 1);
    unsigned char *sig = malloc(n);
    ck_assert_int_eq(EVP_DigestSign(md, sig, &n, data, len), 1);
    EVP_MD_CTX_free(md);
    m2j_buf b = {0};
    m2j_base64_encode(sig, n, &b);
    free(sig);
    return m2j_buf_detach(&b);
}

START_TEST(commerce_signature_over_base64_body)
{
    EVP_PKEY *k = rsa_keygen(), *other = rsa_keygen();
    char *pem = write_pub(k);
    m2j_sigcheck *sc = checker(SPEC_SECRET, pem, NULL, 0);
    const char *body = "{\"eventName\":\"sales_order_place_before\",\"data\":{\"order\":{\"increment_id\":\"1\"}}}";
    m2j_buf b64 = {0};
    m2j_base64_encode(body, strlen(body), &b64);
    char *good = rsa_sign_b64(k, b64.data, b64.len);
    char *over_raw = rsa_sign_b64(k, body, strlen(body));
    char *wrong_key = rsa_sign_b64(other, b64.data, b64.len);
    m2j_err err = {0};
    hdrs h = {0};
    hdr_set(&h, "x-adobe-commerce-webhook-signature", good);
    ck_assert_msg(verify(sc, &h, body, 0, &err) == M2J_OK, "%s", err.msg);
    ck_assert_int_eq(scheme_of(sc, &h, body, 0), M2J_SIG_COMMERCE);
    ck_assert_int_eq(scheme_of(sc, &h, "{}", 0), M2J_SIG_NONE);
    ck_assert_int_eq(verify(sc, &h, "{\"eventName\":\"x\"}", 0, &err), M2J_ERR_AUTH);
    ck_assert_ptr_nonnull(strstr(err.msg, "x-adobe-commerce-webhook-signature"));
    hdr_set(&h, "x-adobe-commerce-webhook-signature", over_raw);
    ck_assert_int_eq(verify(sc, &h, body, 0, &err), M2J_ERR_AUTH);
    hdr_set(&h, "x-adobe-commerce-webhook-signature", wrong_key);
    ck_assert_int_eq(verify(sc, &h, body, 0, &err), M2J_ERR_AUTH);
    hdr_set(&h, "x-adobe-commerce-webhook-signature", "!!not base64!!");
    ck_assert_int_eq(verify(sc, &h, body, 0, &err), M2J_ERR_AUTH);
    /* without a configured key the header is not a way in */
    m2j_sigcheck *plain = checker(SPEC_SECRET, NULL, NULL, 0);
    hdr_set(&h, "x-adobe-commerce-webhook-signature", good);
    ck_assert_int_eq(verify(plain, &h, body, 0, &err), M2J_ERR_AUTH);
    ck_assert_str_eq(err.msg, "missing webhook-id");
    m2j_sigcheck_free(plain);
    m2j_sigcheck_free(sc);
    unlink(pem);
    free(pem);
    free(good);
    free(over_raw);
    free(wrong_key);
    m2j_buf_free(&b64);
    EVP_PKEY_free(k);
    EVP_PKEY_free(other);
}
END_TEST

START_TEST(io_events_signatures_over_raw_body)
{
    EVP_PKEY *k1 = rsa_keygen(), *k2 = rsa_keygen(), *stranger = rsa_keygen();
    char *pems[2] = { write_pub(k1), write_pub(k2) };
    m2j_sigcheck *sc = checker(SPEC_SECRET, NULL, pems, 2);
    const char *body = "{\"specversion\":\"1.0\",\"id\":\"e\",\"type\":\"t\",\"recipient_client_id\":\"c\"}";
    char *s1 = rsa_sign_b64(k1, body, strlen(body));
    char *s2 = rsa_sign_b64(k2, body, strlen(body));
    char *bad = rsa_sign_b64(stranger, body, strlen(body));
    m2j_err err = {0};
    hdrs h = {0};
    hdr_set(&h, "x-adobe-digital-signature-1", s1);
    ck_assert_msg(verify(sc, &h, body, 0, &err) == M2J_OK, "%s", err.msg);
    ck_assert_int_eq(scheme_of(sc, &h, body, 0), M2J_SIG_IO_EVENTS);
    /* key rotation: only the second signature (second key) is valid */
    hdrs r = {0};
    hdr_set(&r, "x-adobe-digital-signature-1", bad);
    hdr_set(&r, "x-adobe-digital-signature-2", s2);
    ck_assert_int_eq(verify(sc, &r, body, 0, &err), M2J_OK);
    hdrs n = {0};
    hdr_set(&n, "x-adobe-digital-signature-1", bad);
    hdr_set(&n, "x-adobe-digital-signature-2", bad);
    ck_assert_int_eq(verify(sc, &n, body, 0, &err), M2J_ERR_AUTH);
    ck_assert_ptr_nonnull(strstr(err.msg, "x-adobe-digital-signature"));
    /* a valid signature does not cover another body */
    ck_assert_int_eq(verify(sc, &h, "{\"specversion\":\"1.0\"}", 0, &err), M2J_ERR_AUTH);
    /* Standard Webhooks still works beside it */
    hdrs sw = {0};
    hdr_set(&sw, "webhook-id", SPEC_ID);
    hdr_set(&sw, "webhook-timestamp", "1614265330");
    hdr_set(&sw, "webhook-signature", SPEC_SIG);
    ck_assert_int_eq(verify(sc, &sw, SPEC_BODY, SPEC_TS, &err), M2J_OK);
    ck_assert_int_eq(scheme_of(sc, &sw, SPEC_BODY, SPEC_TS), M2J_SIG_STANDARD);
    /* a bad Standard Webhooks attempt with a good Adobe signature: any scheme
     * passes, and it is the Adobe one, so its webhook-id is not signed */
    hdr_set(&sw, "webhook-signature", "v1,bad");
    hdr_set(&sw, "x-adobe-digital-signature-1", s1);
    ck_assert_int_eq(verify(sc, &sw, body, SPEC_TS, &err), M2J_OK);
    ck_assert_int_eq(scheme_of(sc, &sw, body, SPEC_TS), M2J_SIG_IO_EVENTS);
    m2j_sigcheck_free(sc);
    for (int i = 0; i < 2; i++) {
        unlink(pems[i]);
        free(pems[i]);
    }
    free(s1);
    free(s2);
    free(bad);
    EVP_PKEY_free(k1);
    EVP_PKEY_free(k2);
    EVP_PKEY_free(stranger);
}
END_TEST

START_TEST(non_rsa_or_garbage_pem_refused)
{
    char path[] = "/tmp/m2j-sigtest-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, "not a pem\n", 10), 10);
    close(fd);
    m2j_receiver_config rc = {0};
    rc.webhook_secret = SPEC_SECRET;
    char *files[1] = { path };
    rc.io_events_public_key_files = files;
    rc.n_io_events_public_key_files = 1;
    m2j_sigcheck *sc = NULL;
    m2j_err err = {0};
    ck_assert_int_eq(m2j_sigcheck_new(&rc, &sc, &err), M2J_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "no PEM public key"));
    unlink(path);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("signature");
    TCase *t = tcase_create("standard_webhooks");
    tcase_add_test(t, spec_vector_signs_and_verifies);
    tcase_add_test(t, wrong_secret_body_or_id_fails);
    tcase_add_test(t, several_signatures_any_valid_passes);
    tcase_add_test(t, timestamp_tolerance);
    tcase_add_test(t, missing_headers);
    tcase_add_test(t, raw_secret_without_prefix);
    tcase_add_test(t, bad_secrets_refused);
    suite_add_tcase(s, t);
    t = tcase_create("adobe_rsa");
    tcase_set_timeout(t, 30); /* RSA key generation under valgrind */
    tcase_add_test(t, commerce_signature_over_base64_body);
    tcase_add_test(t, io_events_signatures_over_raw_body);
    tcase_add_test(t, non_rsa_or_garbage_pem_refused);
    suite_add_tcase(s, t);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
