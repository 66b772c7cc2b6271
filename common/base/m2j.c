/* m2j.c: result codes and error filling (see m2j.h). */
#include "base/m2j.h"

#include <stdarg.h>
#include <stdio.h>

m2j_rc m2j_fail(m2j_err *err, m2j_rc rc, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        err->rc = rc;
        va_start(ap, fmt);
        /* vsnprintf truncates; an error message cut short is still useful. */
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return rc;
}

const char *m2j_rc_name(m2j_rc rc)
{
    switch (rc) {
    case M2J_OK:              return "ok";
    case M2J_ERR_NOMEM:       return "nomem";
    case M2J_ERR_INVALID:     return "invalid";
    case M2J_ERR_TOO_LARGE:   return "too_large";
    case M2J_ERR_NOTFOUND:    return "notfound";
    case M2J_ERR_IO:          return "io";
    case M2J_ERR_AUTH:        return "auth";
    case M2J_ERR_UNSUPPORTED: return "unsupported";
    case M2J_ERR_EMPTY:       return "empty";
    case M2J_ERR_CONFLICT:    return "conflict";
    case M2J_ERR_INTERNAL:    return "internal";
    }
    return "unknown";
}
