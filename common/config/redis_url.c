/* redis_url.c: m2j_config_parse_redis_url, "redis://[user:password@]host[:port][/db]"
 * or "unix:///path.sock[?db=N]" into the parsed fields of m2j_redis_config.
 * Public (config.h) so the tests can try URLs without loading a file. */
#include "config/config_read.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* Decodes %XX escapes (user names and passwords may contain ':' or '@'). */
static char *percent_decode(const char *s, size_t n)
{
    char *out = malloc(n + 1);
    if (!out)
        return NULL;
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%') {
            if (i + 2 >= n || !m2j_cfg_is_hex(s[i + 1]) || !m2j_cfg_is_hex(s[i + 2])) {
                free(out);
                return NULL;
            }
            char hx[3] = {s[i + 1], s[i + 2], 0};
            out[j++] = (char)strtol(hx, NULL, 16);
            i += 2;
        } else {
            out[j++] = s[i];
        }
    }
    out[j] = '\0';
    return out;
}

/* On success the previous host/unix_path/username/password of rc are freed
 * and replaced (so rc must be zero-initialised or hold earlier results); on
 * failure rc is left as it was. */
m2j_rc m2j_config_parse_redis_url(const char *url, m2j_redis_config *rc, m2j_err *err)
{
    char *host = NULL, *unix_path = NULL, *user = NULL, *pass = NULL;
    int port = 0;
    long db = 0;
    m2j_rc r = M2J_ERR_INVALID;
    const char *what = "expected redis://[user:password@]host[:port][/db] or unix:///path.sock[?db=N]";
    if (!url)
        url = "";
    if (strncmp(url, "redis://", 8) == 0) {
        const char *a = url + 8;
        const char *slash = strchr(a, '/');
        /* The password may contain '/' only percent-encoded; so the first
         * '/' ends the authority and the last '@' before it ends userinfo. */
        size_t alen = slash ? (size_t)(slash - a) : strlen(a);
        const char *at = NULL;
        for (size_t i = 0; i < alen; i++)
            if (a[i] == '@')
                at = a + i;
        const char *hp = a;
        if (at) {
            const char *colon = memchr(a, ':', (size_t)(at - a));
            if (!colon) {
                what = "credentials must be written user:password@ (or :password@)";
                goto bad;
            }
            if (colon > a && !(user = percent_decode(a, (size_t)(colon - a)))) {
                what = "bad %-escape in the user name";
                goto bad;
            }
            if (!(pass = percent_decode(colon + 1, (size_t)(at - colon - 1)))) {
                what = "bad %-escape in the password";
                goto bad;
            }
            hp = at + 1;
        }
        if (!m2j_cfg_split_host_port(hp, alen - (size_t)(hp - a), 6379, &host, &port)) {
            what = "bad host or port (port 1-65535)";
            goto bad;
        }
        if (slash && slash[1] && !m2j_cfg_parse_uint_range(slash + 1, strlen(slash + 1), 0, INT_MAX, &db)) {
            what = "the database must be a number after the last '/'";
            goto bad;
        }
    } else if (strncmp(url, "unix://", 7) == 0) {
        const char *p = url + 7;
        const char *q = strchr(p, '?');
        size_t plen = q ? (size_t)(q - p) : strlen(p);
        if (plen < 2 || p[0] != '/') {
            what = "the socket path must be absolute (unix:///path.sock)";
            goto bad;
        }
        if (q && (strncmp(q, "?db=", 4) != 0 ||
                  !m2j_cfg_parse_uint_range(q + 4, strlen(q + 4), 0, INT_MAX, &db))) {
            what = "only ?db=N may follow the socket path";
            goto bad;
        }
        if (!(unix_path = strndup(p, plen))) {
            r = M2J_ERR_NOMEM;
            what = "out of memory";
            goto bad;
        }
    } else {
        goto bad;
    }
    free(rc->host);
    free(rc->unix_path);
    free(rc->username);
    free(rc->password);
    rc->host = host;
    rc->port = unix_path ? 0 : port;
    rc->unix_path = unix_path;
    rc->username = user;
    rc->password = pass;
    rc->db = (int)db;
    return M2J_OK;
bad:
    free(host);
    free(unix_path);
    free(user);
    free(pass);
    /* The URL may hold a password, so it is not quoted back. */
    return m2j_fail(err, r, "redis.url: %s", what);
}
