/* rfc3339.h: an RFC 3339 date-time ("2026-11-20T10:15:04.512Z",
 * "2026-11-20T11:15:04+01:00") as seconds since the Unix epoch.
 * Pure; no locale, no time zone database, no libc time functions. */
#ifndef M2J_RFC3339_H
#define M2J_RFC3339_H

#include "base/m2j.h"
#include <stddef.h>

/* Parses exactly len bytes of s: full date, 'T' (or 't' or a space), time
 * with optional fraction (ignored: whole seconds are enough for windows of
 * minutes), and a zone 'Z' or +/-HH:MM. Years 0001-9999. *out is UTC
 * seconds. M2J_ERR_INVALID for anything else. */
m2j_rc m2j_rfc3339_parse(const char *s, size_t len, long long *out);

#endif
