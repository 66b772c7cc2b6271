/* fuzz_input.h: what every harness needs from libFuzzer's input. libFuzzer's
 * bytes are not NUL-terminated; functions taking C strings get a copy that
 * is, so ASan still sees a read past the input's end as one past the copy's. */
#ifndef M2J_FUZZ_INPUT_H
#define M2J_FUZZ_INPUT_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A malloc'd NUL-terminated copy (an embedded NUL simply ends the string
 * early, as it would for any C string caller). NULL only when out of memory. */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (s) {
        memcpy(s, data, size);
        s[size] = '\0';
    }
    return s;
}

/* A harness finding a wrong answer (not a crash) reports it as a crash, so
 * libFuzzer keeps the input. */
#define FUZZ_ASSERT(c) do { if (!(c)) abort(); } while (0)

#endif
