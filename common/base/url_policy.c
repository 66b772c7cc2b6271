/* url_policy.c: see url_policy.h. Only the authority is looked at; the path
 * may hold anything. */
#include "base/url_policy.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <string.h>
#include <strings.h>

#define HOST_MAX 255

static bool is_port(const char *s, size_t n)
{
    if (n == 0 || n > 5)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return false;
    return true;
}

bool m2j_url_is_loopback(const char *url)
{
    if (!url)
        return false;
    const char *sep = strstr(url, "://");
    if (!sep || sep == url)
        return false;
    for (const char *p = url; p < sep; p++)
        if (!isalpha((unsigned char)*p))
            return false;
    const char *a = sep + 3;
    size_t an = strcspn(a, "/?#");
    /* userinfo: what stands before '@' is not the host, and is easy to
     * misread ("http://127.0.0.1@example.com"): such a URL never counts */
    if (memchr(a, '@', an) || an == 0)
        return false;
    char host[HOST_MAX + 1];
    const char *port = NULL;
    size_t hn;
    if (a[0] == '[') {
        const char *close = memchr(a, ']', an);
        if (!close)
            return false;
        hn = (size_t)(close - a - 1);
        if (hn == 0 || hn > HOST_MAX)
            return false;
        memcpy(host, a + 1, hn);
        host[hn] = '\0';
        const char *rest = close + 1;
        size_t rn = an - (size_t)(rest - a);
        if (rn > 0 && (rest[0] != ':' || !is_port(rest + 1, rn - 1)))
            return false;
        struct in6_addr v6;
        return inet_pton(AF_INET6, host, &v6) == 1 && memcmp(&v6, &in6addr_loopback, sizeof v6) == 0;
    }
    const char *colon = memchr(a, ':', an);
    hn = colon ? (size_t)(colon - a) : an;
    if (colon) {
        port = colon + 1;
        if (!is_port(port, an - hn - 1))
            return false;
    }
    if (hn == 0 || hn > HOST_MAX)
        return false;
    memcpy(host, a, hn);
    host[hn] = '\0';
    if (strcasecmp(host, "localhost") == 0 || strcasecmp(host, "localhost.") == 0)
        return true;
    /* inet_pton takes exactly four decimal parts: no "127.1", no octal */
    struct in_addr v4;
    if (inet_pton(AF_INET, host, &v4) != 1)
        return false;
    return ((const unsigned char *)&v4.s_addr)[0] == 127;
}

const char *m2j_url_web_refusal(const char *url)
{
    static const char https_only[] =
        "must be an https:// URL (plain http:// only to this machine: 127.0.0.0/8, [::1] or localhost)";
    if (!url)
        return https_only;
    if (strncmp(url, "https://", 8) == 0)
        return url[8] && !strchr("/?#", url[8]) ? NULL : "names no host";
    if (strncmp(url, "http://", 7) == 0)
        return m2j_url_is_loopback(url) ? NULL : https_only;
    return https_only;
}
