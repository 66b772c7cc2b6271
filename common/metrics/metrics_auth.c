/* metrics_auth.c: see metrics_auth.h. */
#include "metrics/metrics_auth.h"
#include "base/crypto_util.h"

#include <strings.h>
#include <string.h>

bool m2j_metrics_auth_ok(const char *header, const char *token)
{
    if (!token || !*token)
        return true;
    if (!header || strncasecmp(header, "Bearer ", 7) != 0)
        return false;
    const char *v = header + 7;
    while (*v == ' ')
        v++;
    /* Constant time: the token must not leak through the time it takes to
     * refuse a wrong one. */
    return m2j_ct_equal(v, strlen(v), token, strlen(token));
}
