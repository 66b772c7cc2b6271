/* fuzz_oauth1: the OAuth 1.0a signature base string and Authorization header
 * over a fuzzed URL (first line: scheme, host, port, path, query with its
 * percent-escapes and bracketed names) and form body (the rest), for both
 * signature methods. */
#include "tests/fuzz/fuzz_lines.h"
#include "magento/oauth1.h"

static const m2j_oauth1_creds creds = { "ck0123456789", "cs0123456789", "at0123456789", "ats0123456789" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_fields f;
    if (!fuzz_split(data, size, 2, &f))
        return 0;
    const char *method = size % 2 ? "GET" : "POST";
    m2j_oauth1_method sm = size % 3 ? M2J_OAUTH1_HMAC_SHA256 : M2J_OAUTH1_HMAC_SHA1;
    m2j_buf base = {0}, auth = {0};
    m2j_err err = {0};
    if (m2j_oauth1_base_string(&creds, sm, method, f.field[0], f.field[1], "nonce123", 1764390000, &base, &err) ==
        M2J_OK)
        FUZZ_ASSERT(base.len > 0 && strlen(base.data) == base.len);
    else
        FUZZ_ASSERT(err.msg[0] != '\0');
    (void)m2j_oauth1_authorization(&creds, sm, method, f.field[0], f.field[1], "nonce123", 1764390000, &auth, NULL);
    m2j_buf_free(&base);
    m2j_buf_free(&auth);
    fuzz_fields_free(&f);
    return 0;
}
