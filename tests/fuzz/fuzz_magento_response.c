/* fuzz_magento_response: Magento's error bodies ({"message","parameters"} with
 * %1 / %name placeholders, HTML pages, anything) as turned into one sentence
 * for the dead-letter reason, for several statuses and request paths (401/403
 * add the ACL resource the path needs). The body is NUL-terminated, as the
 * HTTP client's buffer always is, with its length. */
#include "tests/fuzz/fuzz_input.h"
#include "magento/magento_client.h"

static const long statuses[] = { 400, 401, 403, 404, 500, 503 };
static const char *const paths[] = { "/V1/orders", "/V1/orders/42/comments", "/V1/creditmemos",
                                     "/V1/customers/search", "/V1/unknown" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *body = fuzz_cstr(data, size);
    if (!body)
        return 0;
    m2j_buf out = {0};
    const char *path = paths[size % (sizeof paths / sizeof paths[0])];
    long status = statuses[size % (sizeof statuses / sizeof statuses[0])];
    if (m2j_magento_error_text(body, size, status, path, &out) == M2J_OK)
        FUZZ_ASSERT(out.data != NULL && strlen(out.data) == out.len);
    m2j_buf_free(&out);
    (void)m2j_magento_acl_for(body);
    free(body);
    return 0;
}
