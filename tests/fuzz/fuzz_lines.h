/* fuzz_lines.h: splitting one fuzz input into newline-separated fields, for
 * harnesses whose function takes several strings (headers and a body, a URL
 * and a form body). Field i is NULL when the input has fewer lines, so
 * "header absent" is reachable as well as "header empty"; the last field
 * takes the rest of the input, newlines included. */
#ifndef M2J_FUZZ_LINES_H
#define M2J_FUZZ_LINES_H

#include "tests/fuzz/fuzz_input.h"

#define FUZZ_MAX_FIELDS 8

typedef struct {
    char  *copy;                     /* owns every field's bytes */
    char  *field[FUZZ_MAX_FIELDS];
    size_t rest_len;                 /* length of the last present field */
} fuzz_fields;

/* Splits into at most n fields (n <= FUZZ_MAX_FIELDS). False when out of memory. */
static inline int fuzz_split(const uint8_t *data, size_t size, int n, fuzz_fields *f)
{
    memset(f, 0, sizeof *f);
    f->copy = fuzz_cstr(data, size);
    if (!f->copy)
        return 0;
    char *p = f->copy, *end = f->copy + size;
    for (int i = 0; i < n; i++) {
        f->field[i] = p;
        if (i == n - 1) {
            f->rest_len = (size_t)(end - p);
            break;
        }
        char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) {
            f->rest_len = (size_t)(end - p);
            break;
        }
        *nl = '\0';
        p = nl + 1;
    }
    return 1;
}

static inline void fuzz_fields_free(fuzz_fields *f)
{
    free(f->copy);
}

#endif
