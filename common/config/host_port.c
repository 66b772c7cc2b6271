/* host_port.c: "host:port" and "[v6addr]:port", for the Redis URL and the
 * receiver's listen address alike, so both accept and refuse the same
 * spellings. */
#include "config/config_read.h"

#include <string.h>

bool m2j_cfg_split_host_port(const char *s, size_t n, int def_port, char **host, int *port)
{
    const char *hs, *rest;
    size_t hn;
    if (n > 0 && s[0] == '[') {
        const char *close = memchr(s, ']', n);
        if (!close)
            return false;
        hs = s + 1;
        hn = (size_t)(close - hs);
        rest = close + 1;
    } else {
        const char *colon = memchr(s, ':', n);
        hs = s;
        hn = colon ? (size_t)(colon - s) : n;
        rest = s + hn;
        /* A bare IPv6 address would be ambiguous: "::1:8080". */
        if (colon && memchr(colon + 1, ':', n - hn - 1))
            return false;
    }
    if (hn == 0)
        return false;
    for (size_t i = 0; i < hn; i++)
        if (hs[i] <= ' ' || hs[i] == '/' || hs[i] == '@' || hs[i] == '[' || hs[i] == ']' ||
            (hs[i] == ':' && s[0] != '['))
            return false;
    size_t rn = n - (size_t)(rest - s);
    long p;
    if (rn == 0) {
        if (def_port <= 0)
            return false;
        p = def_port;
    } else if (rest[0] != ':' || !m2j_cfg_parse_uint_range(rest + 1, rn - 1, 1, 65535, &p)) {
        return false;
    }
    *host = strndup(hs, hn);
    if (!*host)
        return false;
    *port = (int)p;
    return true;
}
