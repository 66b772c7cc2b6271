/* email_match.c: see email_match.h. */
#include "base/email_match.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

/* Characters that continue the local part to the left. */
static bool local_char(unsigned char c)
{
    return isalnum(c) || (c && strchr("!#$%&'*+-/=?^_`{|}~.", c)) || c >= 0x80;
}

/* Characters that continue the domain to the right. */
static bool domain_char(unsigned char c)
{
    return isalnum(c) || c == '-' || c == '_' || c >= 0x80;
}

bool m2j_email_in_text(const char *text, size_t len, const char *address)
{
    size_t n = address ? strlen(address) : 0;
    if (n == 0 || len < n)
        return false;
    for (size_t i = 0; i + n <= len; i++) {
        if (strncasecmp(text + i, address, n) != 0)
            continue;
        if (i > 0 && local_char((unsigned char)text[i - 1]))
            continue;
        size_t e = i + n;
        if (e < len && domain_char((unsigned char)text[e]))
            continue;
        /* "jan@x.nl.example": a dot that goes on into a label */
        if (e + 1 < len && text[e] == '.' && domain_char((unsigned char)text[e + 1]))
            continue;
        return true;
    }
    return false;
}
