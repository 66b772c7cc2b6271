/* gen_signed.c: writes N distinct, Standard-Webhooks-signed order requests for
 * the benchmarks, one tab-separated line each:
 *
 *   webhook-id  entity  increment  customer  email  timestamp  signature
 *
 * The body is the template (bench/payloads/order-6kb.json) with {{ID}},
 * {{ENTITY}}, {{INCREMENT}}, {{CUSTOMER}} and {{EMAIL}} replaced by the first
 * five fields. The load generator (bench/loadgen.c) rebuilds exactly that body,
 * so the file stays small (about 150 bytes a request instead of 6 KB) and a
 * run can use hundreds of thousands of unique ids: the receiver deduplicates
 * on the event id, so a repeated id would measure the duplicate path instead.
 *
 * It signs with libcrypto directly, not with common/ingest/signature.c, on purpose:
 * the benchmark then also checks that the receiver accepts signatures made by
 * an independent implementation of the scheme.
 *
 * Usage: gen_signed TEMPLATE SECRET COUNT [--start K] [--customer-base C]
 *                   [--customers M] [--tag T] [--timestamp TS] [--body I]
 *   --start K          first request number (default 0)
 *   --customer-base C  customer number of request i is C + (i % M) (default 0)
 *   --customers M      distinct customers cycled through (default COUNT: all new)
 *   --tag T            text in every id, to keep separate runs apart (default "b")
 *   --body I           print only the body of request I (for checking)
 *   --bodies 1         print every body instead, one per line (the template is
 *                      one line of JSON, so a body never contains a newline) */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void die(const char *msg)
{
    fprintf(stderr, "gen_signed: %s\n", msg);
    exit(2);
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) die(strerror(errno));
    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap);
    if (!b) die("out of memory");
    for (;;) {
        if (n == cap) {
            if (cap > (64u << 20)) die("template larger than 64 MiB");
            cap *= 2;
            char *nb = realloc(b, cap);
            if (!nb) die("out of memory");
            b = nb;
        }
        size_t got = fread(b + n, 1, cap - n, f);
        if (got == 0) break;
        n += got;
    }
    fclose(f);
    /* A trailing newline is not part of the JSON body the bench sends. */
    while (n > 0 && (b[n - 1] == '\n' || b[n - 1] == '\r')) n--;
    *len = n;
    return b;
}

typedef struct { char *p; size_t len, cap; } sbuf;

static void sb_add(sbuf *s, const char *p, size_t n)
{
    if (s->len + n + 1 > s->cap) {
        size_t nc = s->cap ? s->cap : 8192;
        while (nc < s->len + n + 1) nc *= 2;
        char *np = realloc(s->p, nc);
        if (!np) die("out of memory");
        s->p = np;
        s->cap = nc;
    }
    memcpy(s->p + s->len, p, n);
    s->len += n;
    s->p[s->len] = '\0';
}

/* The substitution values of one request. */
typedef struct { const char *name; char val[96]; } field;

static void render(const char *tpl, size_t tlen, field *f, size_t nf, sbuf *out)
{
    out->len = 0;
    size_t i = 0;
    while (i < tlen) {
        const char *open = memmem(tpl + i, tlen - i, "{{", 2);
        if (!open) { sb_add(out, tpl + i, tlen - i); break; }
        size_t at = (size_t)(open - tpl);
        sb_add(out, tpl + i, at - i);
        const char *close = memmem(open, tlen - at, "}}", 2);
        if (!close) die("unterminated {{ in template");
        size_t nlen = (size_t)(close - open) - 2;
        size_t k;
        for (k = 0; k < nf; k++)
            if (strlen(f[k].name) == nlen && memcmp(f[k].name, open + 2, nlen) == 0) break;
        if (k == nf) die("unknown {{NAME}} in template");
        sb_add(out, f[k].val, strlen(f[k].val));
        i = (size_t)(close - tpl) + 2;
    }
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: gen_signed TEMPLATE SECRET COUNT [--start K] [--customer-base C]"
                        " [--customers M] [--tag T] [--timestamp TS] [--body I] [--bodies 1]\n");
        return 2;
    }
    const char *tpl_path = argv[1], *secret = argv[2];
    long long count = atoll(argv[3]), start = 0, cbase = 0, ncust = -1, ts = (long long)time(NULL), only = -1;
    int bodies = 0;
    const char *tag = "b";
    for (int i = 4; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--start")) start = atoll(argv[i + 1]);
        else if (!strcmp(argv[i], "--customer-base")) cbase = atoll(argv[i + 1]);
        else if (!strcmp(argv[i], "--customers")) ncust = atoll(argv[i + 1]);
        else if (!strcmp(argv[i], "--tag")) tag = argv[i + 1];
        else if (!strcmp(argv[i], "--timestamp")) ts = atoll(argv[i + 1]);
        else if (!strcmp(argv[i], "--body")) only = atoll(argv[i + 1]);
        else if (!strcmp(argv[i], "--bodies")) bodies = atoi(argv[i + 1]);
        else die("unknown option");
    }
    if (count <= 0 || start < 0 || cbase < 0 || strlen(tag) > 16) die("bad arguments");
    if (ncust <= 0) ncust = count;

    /* Secret as in the m2jortt config: "whsec_<base64>" means the decoded
     * bytes are the key; anything else is used as raw bytes. */
    unsigned char key[256];
    size_t keylen;
    if (strncmp(secret, "whsec_", 6) == 0) {
        const char *b64 = secret + 6;
        size_t bl = strlen(b64);
        if (bl == 0 || bl % 4 != 0 || bl / 4 * 3 > sizeof key) die("bad whsec_ secret");
        int n = EVP_DecodeBlock(key, (const unsigned char *)b64, (int)bl);
        if (n < 0) die("bad base64 in secret");
        keylen = (size_t)n;
        if (bl >= 1 && b64[bl - 1] == '=') keylen--;
        if (bl >= 2 && b64[bl - 2] == '=') keylen--;
    } else {
        keylen = strlen(secret);
        if (keylen > sizeof key) die("secret too long");
        memcpy(key, secret, keylen);
    }

    size_t tlen;
    char *tpl = read_file(tpl_path, &tlen);
    field f[] = { {"ID", ""}, {"ENTITY", ""}, {"INCREMENT", ""}, {"CUSTOMER", ""}, {"EMAIL", ""} };
    const size_t nf = sizeof f / sizeof f[0];
    sbuf body = {0}, msg = {0};
    char head[160];
    unsigned char mac[32];
    unsigned char b64[64];

    static char obuf[1 << 20];
    setvbuf(stdout, obuf, _IOFBF, sizeof obuf);
    for (long long i = start; i < start + count; i++) {
        if (only >= 0 && i != only) continue;
        long long c = cbase + ((i - start) % ncust);
        /* Shaped like Magento's: an UUID-like event id, numeric entity ids. */
        snprintf(f[0].val, sizeof f[0].val, "%s-%08llx-4d5e-8f90-%012llx", tag, (unsigned long long)ts & 0xffffffffULL,
                 (unsigned long long)i);
        snprintf(f[1].val, sizeof f[1].val, "%lld", 200000 + i);
        snprintf(f[2].val, sizeof f[2].val, "%lld", 3000000000LL + i);
        snprintf(f[3].val, sizeof f[3].val, "%lld", 50000 + c);
        snprintf(f[4].val, sizeof f[4].val, "customer%lld@example.nl", c);
        render(tpl, tlen, f, nf, &body);
        if (only >= 0) {
            fwrite(body.p, 1, body.len, stdout);
            break;
        }
        if (bodies) {
            if (memchr(body.p, '\n', body.len)) die("template is not one line");
            fwrite(body.p, 1, body.len, stdout);
            putchar('\n');
            continue;
        }
        int hl = snprintf(head, sizeof head, "%s.%lld.", f[0].val, ts);
        msg.len = 0;
        sb_add(&msg, head, (size_t)hl);
        sb_add(&msg, body.p, body.len);
        unsigned int maclen = sizeof mac;
        if (!HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)msg.p, msg.len, mac, &maclen))
            die("HMAC failed");
        EVP_EncodeBlock(b64, mac, (int)maclen);
        printf("%s\t%s\t%s\t%s\t%s\t%lld\tv1,%s\n", f[0].val, f[1].val, f[2].val, f[3].val, f[4].val, ts, b64);
    }
    if (fflush(stdout) != 0) die("write failed");
    free(tpl);
    free(body.p);
    free(msg.p);
    return 0;
}
