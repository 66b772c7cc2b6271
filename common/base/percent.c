/* percent.c: see percent.h. */
#include "base/percent.h"

#include <string.h>

static int unreserved(unsigned char c)
{
    /* ASCII by value, not isalnum(): the result must not depend on a locale */
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
           c == '_' || c == '~';
}

m2j_rc m2j_url_escape_n(const char *s, size_t n, m2j_buf *out)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n; i++) {
        if (unreserved(p[i])) {
            if (m2j_buf_append(out, p + i, 1) != M2J_OK)
                return M2J_ERR_NOMEM;
            continue;
        }
        char enc[3] = { '%', hex[p[i] >> 4], hex[p[i] & 15] };
        if (m2j_buf_append(out, enc, 3) != M2J_OK)
            return M2J_ERR_NOMEM;
    }
    return M2J_OK;
}

m2j_rc m2j_url_escape(const char *s, m2j_buf *out)
{
    return m2j_url_escape_n(s, strlen(s), out);
}
