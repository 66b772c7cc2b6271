/* ingest_cost.c: the receiver's per-request JSON work, alone and repeatable,
 * for counting instructions with callgrind (wall-clock figures on a shared
 * machine are noise; instruction counts are not).
 *
 * One request's work is what handle_post in receiver/server.c does between
 * the signature check and the Redis command: the envelope parse of the body
 * (m2j_envelope_parse_text: strict check, slices, normalisation as text),
 * then m2j_enqueue_args_build (the job text). With --sign, the Standard Webhooks HMAC check of signature.c runs
 * first, as in the receiver.
 *
 *   ingest_cost TEMPLATE N [--sign] [--json-c]
 *
 * --json-c parses with m2j_envelope_parse (entities as json-c trees, the
 * path the receiver took before m2j_envelope_parse_text) for comparison.
 *
 * TEMPLATE is bench/payloads/order-6kb.json; its {{...}} fields are filled
 * once (the same body every time: the work does not depend on the ids).
 * Prints the body size and the job text size. Instructions per request:
 *
 *   valgrind --tool=callgrind --callgrind-out-file=cg.out ingest_cost T 2000
 *   valgrind --tool=callgrind --callgrind-out-file=cg.out ingest_cost T 1000
 *   (difference of the two totals) / 1000
 *
 * which bench/parse_cost.sh does. Exits non-zero when a request fails. */
#include "ingest/envelope.h"
#include "ingest/signature.h"
#include "queue/queue.h"
#include "config/config.h"

#include <strings.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SECRET_B64 "bTJqb3J0dC1iZW5jaC1zZWNyZXQtMDEyMzQ1Njc4OWFi"

static void die(const char *msg)
{
    fprintf(stderr, "ingest_cost: %s\n", msg);
    exit(2);
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        die(strerror(errno));
    m2j_buf b = {0};
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (m2j_buf_append(&b, chunk, n) != M2J_OK)
            die("out of memory");
    fclose(f);
    while (b.len && (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == '\r'))
        b.len--;
    *len = b.len;
    return b.data;
}

/* The template with every {{NAME}} replaced by a fixed, Magento-like value. */
static char *render(const char *t, size_t tlen, size_t *out_len)
{
    static const struct { const char *name, *value; } fields[] = {
        { "ID", "c0ffee00-0000-4000-8000-000000000001" }, { "ENTITY", "100001" },
        { "INCREMENT", "000100001" }, { "CUSTOMER", "5001" }, { "EMAIL", "bench.5001@example.com" },
    };
    m2j_buf b = {0};
    for (size_t i = 0; i < tlen;) {
        bool hit = false;
        for (size_t k = 0; k < sizeof fields / sizeof fields[0] && !hit; k++) {
            size_t nl = strlen(fields[k].name);
            if (i + nl + 4 <= tlen && strncmp(t + i, "{{", 2) == 0 && strncmp(t + i + 2, fields[k].name, nl) == 0 &&
                strncmp(t + i + 2 + nl, "}}", 2) == 0) {
                m2j_buf_puts(&b, fields[k].value);
                i += nl + 4;
                hit = true;
            }
        }
        if (!hit)
            m2j_buf_append(&b, t + i++, 1);
    }
    if (!b.data)
        die("out of memory");
    *out_len = b.len;
    return b.data;
}

typedef struct {
    const char *id, *ts, *sig;
} hdrs;

static const char *hdr(void *ctx, const char *name)
{
    const hdrs *h = ctx;
    if (strcasecmp(name, "webhook-id") == 0)
        return h->id;
    if (strcasecmp(name, "webhook-timestamp") == 0)
        return h->ts;
    if (strcasecmp(name, "webhook-signature") == 0)
        return h->sig;
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 3)
        die("usage: ingest_cost TEMPLATE N [--sign] [--json-c]");
    size_t tlen, len;
    char *tmpl = read_file(argv[1], &tlen);
    char *body = render(tmpl, tlen, &len);
    long n = strtol(argv[2], NULL, 10);
    bool sign = false, jsonc = false;
    for (int i = 3; i < argc; i++) {
        sign = sign || strcmp(argv[i], "--sign") == 0;
        jsonc = jsonc || strcmp(argv[i], "--json-c") == 0;
    }

    m2j_config *cfg = NULL;
    m2j_err err = {0};
    if (m2j_config_load_string("{\"receiver\":{\"webhook_secret\":\"whsec_" SECRET_B64 "\"}}", &cfg, &err) != M2J_OK)
        die(err.msg);
    m2j_sigcheck *sc = NULL;
    if (sign && m2j_sigcheck_new(&cfg->receiver, &sc, &err) != M2J_OK)
        die(err.msg);
    /* The receiver's own signer (the bench's independent one is gen_signed.c). */
    char ts[32];
    const char *id = "msg_bench_0001";
    snprintf(ts, sizeof ts, "%lld", (long long)time(NULL));
    m2j_buf sig = {0};
    if (sign && m2j_standard_webhooks_sign("whsec_" SECRET_B64, id, atoll(ts), body, len, &sig, &err) != M2J_OK)
        die(err.msg);
    hdrs h = { id, ts, m2j_buf_str(&sig) };

    size_t job_len = 0;
    /* One workspace for all requests, as one event loop of the receiver. */
    m2j_envelope_ws *ws = m2j_envelope_ws_new();
    if (!ws)
        die("out of memory");
    for (long i = 0; i < n; i++) {
        if (sign) {
            m2j_sig_scheme scheme;
            if (m2j_sigcheck_verify_scheme(sc, hdr, &h, body, len, (long long)time(NULL), &scheme, &err) != M2J_OK)
                die(err.msg);
        }
        m2j_envelope env;
        m2j_rc r = jsonc ? m2j_envelope_parse(body, len, "msg_bench_0001", NULL, 100, 1764390000123LL, &env, &err)
                         : m2j_envelope_parse_text_ws(ws, body, len, "msg_bench_0001", NULL, 100, 1764390000123LL, &env,
                                                       &err);
        if (r != M2J_OK)
            die(err.msg);
        m2j_enqueue_args a;
        if (m2j_enqueue_args_build("m2jortt", env.events, env.n_events, 604800, &a, &err) != M2J_OK)
            die(err.msg);
        job_len = a.lens[a.argc - 1];
        m2j_enqueue_args_free(&a);
        m2j_envelope_clear(&env);
    }
    printf("body %zu bytes, job text %zu bytes, %ld requests%s%s\n", len, job_len, n, sign ? " (signed)" : "",
           jsonc ? " (json-c path)" : "");
    m2j_envelope_ws_free(ws);
    m2j_sigcheck_free(sc);
    m2j_buf_free(&sig);
    m2j_config_free(cfg);
    free(body);
    free(tmpl);
    return 0;
}
