/* key_part.c: see key_part.h. */
#include "base/key_part.h"

#include <string.h>

static int kept(unsigned char c)
{
    if (c < 0x21 || c > 0x7e)
        return 0;
    return strchr(":%*?[]\\{}", c) == NULL;
}

m2j_rc m2j_key_part(m2j_buf *out, const char *id)
{
    static const char hex[] = "0123456789ABCDEF";
    if (!id)
        id = "";
    for (const unsigned char *p = (const unsigned char *)id; *p; ) {
        const unsigned char *run = p;
        while (*p && kept(*p))
            p++;
        if (p > run && m2j_buf_append(out, run, (size_t)(p - run)) != M2J_OK)
            return M2J_ERR_NOMEM;
        if (*p) {
            char esc[3] = { '%', hex[*p >> 4], hex[*p & 15] };
            if (m2j_buf_append(out, esc, sizeof esc) != M2J_OK)
                return M2J_ERR_NOMEM;
            p++;
        }
    }
    /* An empty id still leaves out NUL-terminated. */
    return m2j_buf_append(out, "", 0);
}

m2j_rc m2j_key_id(m2j_buf *out, const char *kind, const char *id)
{
    m2j_buf_reset(out);
    if (m2j_buf_puts(out, kind ? kind : "") != M2J_OK)
        return M2J_ERR_NOMEM;
    return m2j_key_part(out, id);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

m2j_rc m2j_key_part_decode(const char *part, m2j_buf *out)
{
    m2j_buf_reset(out);
    for (const char *p = part ? part : ""; *p; p++) {
        char c = *p;
        if (c == '%') {
            int hi = hexval(p[1]), lo = hi < 0 ? -1 : hexval(p[2]);
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
                return M2J_ERR_INVALID;
            c = (char)(hi * 16 + lo);
            p += 2;
        }
        if (m2j_buf_append(out, &c, 1) != M2J_OK)
            return M2J_ERR_NOMEM;
    }
    return m2j_buf_append(out, "", 0);
}
