/* jortt_stats.c: see jortt_stats.h. */
#include "jortt/jortt_stats.h"
#include "queue/redis_cmd.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* Jortt ids are UUIDs; invoice numbers and other keys may be numeric. A
 * segment with a digit is treated as an id; Jortt's resource names have
 * none, except the "v3" version prefix, which is kept. */
static bool is_id(const char *s, size_t n)
{
    if (n >= 2 && n <= 3 && s[0] == 'v' && isdigit((unsigned char)s[1]))
        return false;
    for (size_t i = 0; i < n; i++)
        if (isdigit((unsigned char)s[i]))
            return true;
    return false;
}

void m2j_jortt_endpoint(const char *path, char *out, size_t n)
{
    size_t o = 0;
    const char *p = path ? path : "";
    if (n == 0)
        return;
    while (*p && *p != '?' && *p != '#') {
        if (*p == '/') {
            if (o + 1 < n)
                out[o++] = '/';
            p++;
            continue;
        }
        size_t len = strcspn(p, "/?#");
        const char *seg = is_id(p, len) ? ":id" : p;
        size_t sl = is_id(p, len) ? 3 : len;
        if (o + sl < n) {
            memcpy(out + o, seg, sl);
            o += sl;
        }
        p += len;
    }
    out[o] = '\0';
    if (o == 0 && n > 1)
        snprintf(out, n, "/");
}

m2j_rc m2j_jortt_count(m2j_queue *q, const char *path, const m2j_jortt_response *r, m2j_err *err)
{
    char ep[64], field[96];
    m2j_jortt_endpoint(path, ep, sizeof ep);
    if (r->transport == M2J_TRANSPORT_RESPONSE)
        snprintf(field, sizeof field, "%s %ld", ep, r->status);
    else
        snprintf(field, sizeof field, "%s error", ep);
    m2j_buf key = {0};
    m2j_rc rc = m2j_wkey(q, &key, "stats:jortt");
    if (rc == M2J_OK)
        rc = m2j_wcmd(q, NULL, err, "HINCRBY", key.data, field, "1", NULL);
    else
        m2j_fail(err, rc, "out of memory");
    m2j_buf_free(&key);
    return rc;
}
