/* fuzz_signature: the signature schemes' header parsing. One input is, line by
 * line: a webhook secret as configured, webhook-id, webhook-timestamp,
 * webhook-signature, x-adobe-commerce-webhook-signature,
 * x-adobe-digital-signature-1, -2, then the body. The secret goes through
 * m2j_sigcheck_new and m2j_standard_webhooks_sign; the headers through a
 * checker with every scheme on (public keys of RSA pairs made at start-up,
 * written to temporary PEM files the way the config names them). */
#include "tests/fuzz/fuzz_lines.h"
#include "ingest/signature.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <strings.h>
#include <unistd.h>

#define NOW 1764390000LL

static m2j_sigcheck *all_schemes;

static const char *const header_names[] = {
    "webhook-id", "webhook-timestamp", "webhook-signature", "x-adobe-commerce-webhook-signature",
    "x-adobe-digital-signature-1", "x-adobe-digital-signature-2",
};

static char *write_pub_pem(void)
{
    EVP_PKEY *k = EVP_RSA_gen(2048);
    char tmpl[] = "/tmp/m2j-fuzz-key-XXXXXX";
    int fd = mkstemp(tmpl);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!k || !f || PEM_write_PUBKEY(f, k) != 1)
        abort();
    fclose(f);
    EVP_PKEY_free(k);
    return strdup(tmpl);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char *commerce = write_pub_pem();
    char *io[2] = { write_pub_pem(), write_pub_pem() };
    m2j_receiver_config rc = {0};
    rc.webhook_secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    rc.timestamp_tolerance_seconds = 300;
    rc.commerce_public_key_file = commerce;
    rc.io_events_public_key_files = io;
    rc.n_io_events_public_key_files = 2;
    m2j_err err = {0};
    if (m2j_sigcheck_new(&rc, &all_schemes, &err) != M2J_OK) {
        fprintf(stderr, "sigcheck: %s\n", err.msg);
        abort();
    }
    /* The keys are read: the files are not needed any more. */
    unlink(commerce);
    unlink(io[0]);
    unlink(io[1]);
    free(commerce);
    free(io[0]);
    free(io[1]);
    return 0;
}

static const char *header(void *ctx, const char *name)
{
    const fuzz_fields *f = ctx;
    for (size_t i = 0; i < sizeof header_names / sizeof header_names[0]; i++)
        if (strcasecmp(name, header_names[i]) == 0)
            return f->field[1 + i];
    return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_fields f;
    if (!fuzz_split(data, size, 8, &f))
        return 0;
    const char *body = f.field[7] ? f.field[7] : "";
    size_t body_len = f.field[7] ? f.rest_len : 0;

    m2j_sig_scheme scheme = M2J_SIG_NONE;
    m2j_err err = {0};
    if (m2j_sigcheck_verify_scheme(all_schemes, header, &f, body, body_len, NOW, &scheme, &err) != M2J_OK)
        FUZZ_ASSERT(scheme == M2J_SIG_NONE && err.msg[0] != '\0');

    const char *secret = f.field[0];
    m2j_receiver_config rc = {0};
    rc.webhook_secret = (char *)secret;
    rc.timestamp_tolerance_seconds = 300;
    m2j_sigcheck *sc = NULL;
    if (m2j_sigcheck_new(&rc, &sc, NULL) == M2J_OK) {
        /* A signature made with the secret must verify with it. */
        m2j_buf sig = {0};
        FUZZ_ASSERT(m2j_standard_webhooks_sign(secret, "msg_1", NOW, body, body_len, &sig, NULL) == M2J_OK);
        fuzz_fields h = {0};
        h.field[1] = "msg_1";
        h.field[2] = "1764390000";
        h.field[3] = sig.data;
        FUZZ_ASSERT(m2j_sigcheck_verify(sc, header, &h, body, body_len, NOW, NULL) == M2J_OK);
        m2j_buf_free(&sig);
        m2j_sigcheck_free(sc);
    }
    fuzz_fields_free(&f);
    return 0;
}
