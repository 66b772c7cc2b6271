/* fuzz_prom: the Prometheus text writer (base/prom.c). It parses nothing,
 * but its label values come from Redis (event kinds, Jortt endpoints and
 * statuses recorded by the workers), so it is fed any bytes there. One
 * input is, line by line: a label value, another, then 8 bytes read as a
 * double (value, histogram bound and sum). Besides crashes it asserts that
 * every sample stays on one line whatever a label holds, that the escaped
 * value reads back to the original (the format's own unescaping), and that
 * a number reads back to the same double. */
#include "tests/fuzz/fuzz_lines.h"
#include "base/prom.h"

#include <math.h>
#include <stdio.h>

/* The format's label value unescaping; s points after the opening quote.
 * Returns the end (at the closing quote) or NULL when malformed. */
static const char *unescape(const char *s, m2j_buf *out)
{
    for (; *s && *s != '"'; s++) {
        if (*s == '\n')
            return NULL;
        if (*s != '\\') {
            FUZZ_ASSERT(m2j_buf_append(out, s, 1) == M2J_OK);
            continue;
        }
        s++;
        char c = *s == 'n' ? '\n' : *s == '\\' ? '\\' : *s == '"' ? '"' : 0;
        if (!c)
            return NULL;
        FUZZ_ASSERT(m2j_buf_append(out, &c, 1) == M2J_OK);
    }
    return *s == '"' ? s : NULL;
}

static size_t lines(const m2j_buf *b)
{
    size_t n = 0;
    for (size_t i = 0; i < b->len; i++)
        n += b->data[i] == '\n';
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_fields f;
    if (!fuzz_split(data, size, 3, &f))
        return 0;
    const char *v1 = f.field[0] ? f.field[0] : "", *v2 = f.field[1] ? f.field[1] : "";
    double d = 0;
    if (f.field[2] && f.rest_len >= sizeof d)
        memcpy(&d, f.field[2], sizeof d);
    m2j_prom_label labels[] = { { "kind", v1 }, { "outcome", v2 } };
    m2j_buf b = {0};
    FUZZ_ASSERT(m2j_prom_header(&b, "m2jortt_x", "counter", "fuzzed") == M2J_OK);
    FUZZ_ASSERT(m2j_prom_int(&b, "m2jortt_x_total", labels, 2, (long long)size) == M2J_OK);
    FUZZ_ASSERT(lines(&b) == 3);
    /* the sample line: name{kind="...",outcome="..."} value */
    const char *s = strchr(strchr(b.data, '\n') + 1, '\n') + 1;
    FUZZ_ASSERT(strncmp(s, "m2jortt_x_total{kind=\"", 22) == 0);
    m2j_buf a = {0}, c = {0};
    const char *e = unescape(s + 22, &a);
    FUZZ_ASSERT(e && strcmp(m2j_buf_str(&a), v1) == 0);
    FUZZ_ASSERT(strncmp(e, "\",outcome=\"", 11) == 0);
    e = unescape(e + 11, &c);
    FUZZ_ASSERT(e && strcmp(m2j_buf_str(&c), v2) == 0);
    m2j_buf_free(&a);
    m2j_buf_free(&c);

    m2j_buf_reset(&b);
    FUZZ_ASSERT(m2j_prom_num(&b, "m2jortt_y", labels, 1, d) == M2J_OK);
    FUZZ_ASSERT(lines(&b) == 1);
    const char *num = strrchr(b.data, ' ') + 1;
    if (isnan(d)) {
        FUZZ_ASSERT(strcmp(num, "NaN\n") == 0);
    } else {
        double back = strcmp(num, "+Inf\n") == 0 ? INFINITY : strcmp(num, "-Inf\n") == 0 ? -INFINITY : strtod(num, NULL);
        FUZZ_ASSERT(back == d);
    }
    double bounds[] = { fabs(d), fabs(d) + 1 };
    unsigned long long counts[] = { size, 1, 2 };
    m2j_buf_reset(&b);
    if (!isnan(d))
        FUZZ_ASSERT(m2j_prom_histogram(&b, "m2jortt_z", labels, 2, bounds, 2, counts, d) == M2J_OK &&
                    lines(&b) == 5);
    m2j_buf_free(&b);
    fuzz_fields_free(&f);
    return 0;
}
