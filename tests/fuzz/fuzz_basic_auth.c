/* fuzz_basic_auth: the receiver's HTTP Basic check (receiver.basic_auth).
 * One input is, line by line: the configured username, the configured
 * password, then an Authorization header value (absent when the input has
 * fewer lines). Besides crashes it asserts that a header is accepted only
 * when it carries exactly "username:password" with both configured, that
 * the header built from the configured pair is always accepted, and that a
 * refusal always says why. */
#include "tests/fuzz/fuzz_lines.h"
#include "base/crypto_util.h"
#include "ingest/basic_auth.h"

#include <strings.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_fields f;
    if (!fuzz_split(data, size, 3, &f))
        return 0;
    const char *user = f.field[0] ? f.field[0] : "";
    const char *pass = f.field[1] ? f.field[1] : "";
    const char *header = f.field[2];
    m2j_err err = {0};
    m2j_rc rc = m2j_basic_auth_verify(header, user, pass, &err);
    bool present = m2j_basic_auth_present(header);
    if (rc == M2J_OK) {
        FUZZ_ASSERT(present && *user && *pass);
        /* what it accepted decodes to exactly the configured pair */
        const char *b = header + 6;
        while (*b == ' ' || *b == '\t')
            b++;
        size_t n = strlen(b);
        while (n && (b[n - 1] == ' ' || b[n - 1] == '\t'))
            n--;
        m2j_buf dec = {0}, want = {0};
        FUZZ_ASSERT(m2j_base64_decode(b, n, &dec) == M2J_OK);
        FUZZ_ASSERT(m2j_buf_printf(&want, "%s:%s", user, pass) == M2J_OK);
        FUZZ_ASSERT(dec.len == want.len && memcmp(dec.data, want.data, dec.len) == 0);
        m2j_buf_free(&dec);
        m2j_buf_free(&want);
    } else {
        FUZZ_ASSERT(rc == M2J_ERR_AUTH && err.msg[0] != '\0');
    }
    /* the header a sender builds from the configured pair */
    if (*user && *pass && !strchr(user, ':')) {
        m2j_buf pair = {0}, hdr = {0};
        FUZZ_ASSERT(m2j_buf_printf(&pair, "%s:%s", user, pass) == M2J_OK);
        FUZZ_ASSERT(m2j_buf_puts(&hdr, "Basic ") == M2J_OK);
        FUZZ_ASSERT(m2j_base64_encode(pair.data, pair.len, &hdr) == M2J_OK);
        /* only pairs that fit the decoder's bound (a real credential does) */
        if (hdr.len - 6 <= 1024)
            FUZZ_ASSERT(m2j_basic_auth_verify(hdr.data, user, pass, NULL) == M2J_OK);
        m2j_buf_free(&pair);
        m2j_buf_free(&hdr);
    }
    fuzz_fields_free(&f);
    return 0;
}
