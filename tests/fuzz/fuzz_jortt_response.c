/* fuzz_jortt_response: what m2jortt reads from Jortt's (or a proxy's) answers:
 * an error body (JSON error, OAuth error, HTML gateway page, anything) for
 * several statuses, its HTML <title>, and the first line as a Retry-After
 * value. The body is handed over NUL-terminated, as the HTTP client's buffer
 * always is, with its length. */
#include "tests/fuzz/fuzz_input.h"
#include "jortt/jortt_client.h"
#include "http/http_client.h"

static const long statuses[] = { 400, 401, 404, 409, 422, 429, 500, 502, 503 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *body = fuzz_cstr(data, size);
    if (!body)
        return 0;
    m2j_jortt_error e = {0};
    m2j_jortt_parse_error(body, size, statuses[size % (sizeof statuses / sizeof statuses[0])], &e);
    FUZZ_ASSERT(e.message != NULL);
    m2j_jortt_error_clear(&e);

    char title[128];
    if (m2j_http_html_title(body, size, title, sizeof title))
        FUZZ_ASSERT(strlen(title) < sizeof title);

    char *nl = strchr(body, '\n');
    if (nl)
        *nl = '\0';
    long wait = m2j_retry_after_parse(body, 1764390000);
    FUZZ_ASSERT(wait == -1 || (wait >= 0 && wait <= 86400));
    free(body);
    return 0;
}
