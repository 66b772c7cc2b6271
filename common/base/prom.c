/* prom.c: see prom.h. */
#include "base/prom.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Label values may hold anything a Redis hash field held (a kind, an
 * endpoint): backslash, quote and newline are the three the format escapes. */
static m2j_rc put_label_value(m2j_buf *b, const char *v)
{
    m2j_rc rc = M2J_OK;
    for (const char *p = v ? v : ""; *p && rc == M2J_OK; p++) {
        if (*p == '\\')
            rc = m2j_buf_puts(b, "\\\\");
        else if (*p == '"')
            rc = m2j_buf_puts(b, "\\\"");
        else if (*p == '\n')
            rc = m2j_buf_puts(b, "\\n");
        else
            rc = m2j_buf_append(b, p, 1);
    }
    return rc;
}

static m2j_rc put_labels(m2j_buf *b, const m2j_prom_label *labels, size_t n, const char *le)
{
    if (n == 0 && !le)
        return M2J_OK;
    m2j_rc rc = m2j_buf_puts(b, "{");
    for (size_t i = 0; i < n && rc == M2J_OK; i++) {
        rc = m2j_buf_printf(b, "%s%s=\"", i ? "," : "", labels[i].name);
        if (rc == M2J_OK)
            rc = put_label_value(b, labels[i].value);
        if (rc == M2J_OK)
            rc = m2j_buf_puts(b, "\"");
    }
    if (le && rc == M2J_OK)
        rc = m2j_buf_printf(b, "%sle=\"%s\"", n ? "," : "", le);
    if (rc == M2J_OK)
        rc = m2j_buf_puts(b, "}");
    return rc;
}

/* %.17g round-trips but prints 0.1 as 0.10000000000000001; the shortest
 * precision that reads back equal keeps the exposition readable. */
static void fmt_double(char *out, size_t n, double v)
{
    if (isnan(v)) {
        snprintf(out, n, "NaN");
        return;
    }
    if (isinf(v)) {
        snprintf(out, n, "%s", v > 0 ? "+Inf" : "-Inf");
        return;
    }
    /* Whole numbers (timestamps, ages in whole seconds) without an exponent. */
    if (v == floor(v) && fabs(v) < 1e15) {
        snprintf(out, n, "%.0f", v);
        return;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(out, n, "%.*g", prec, v);
        double back;
        if (sscanf(out, "%lf", &back) == 1 && back == v)
            return;
    }
}

m2j_rc m2j_prom_header(m2j_buf *b, const char *name, const char *type, const char *help)
{
    return m2j_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static m2j_rc sample(m2j_buf *b, const char *name, const char *suffix, const m2j_prom_label *labels, size_t n,
                     const char *le, const char *value)
{
    m2j_rc rc = m2j_buf_printf(b, "%s%s", name, suffix);
    if (rc == M2J_OK)
        rc = put_labels(b, labels, n, le);
    if (rc == M2J_OK)
        rc = m2j_buf_printf(b, " %s\n", value);
    return rc;
}

m2j_rc m2j_prom_int(m2j_buf *b, const char *name, const m2j_prom_label *labels, size_t n, long long value)
{
    char v[32];
    snprintf(v, sizeof v, "%lld", value);
    return sample(b, name, "", labels, n, NULL, v);
}

m2j_rc m2j_prom_num(m2j_buf *b, const char *name, const m2j_prom_label *labels, size_t n, double value)
{
    char v[40];
    fmt_double(v, sizeof v, value);
    return sample(b, name, "", labels, n, NULL, v);
}

m2j_rc m2j_prom_histogram(m2j_buf *b, const char *name, const m2j_prom_label *labels, size_t n,
                          const double *bounds, size_t n_bounds, const unsigned long long *counts, double sum)
{
    unsigned long long cum = 0;
    char le[40], v[32];
    m2j_rc rc = M2J_OK;
    for (size_t i = 0; i <= n_bounds && rc == M2J_OK; i++) {
        cum += counts[i];
        if (i < n_bounds)
            fmt_double(le, sizeof le, bounds[i]);
        else
            snprintf(le, sizeof le, "+Inf");
        snprintf(v, sizeof v, "%llu", cum);
        rc = sample(b, name, "_bucket", labels, n, le, v);
    }
    char s[40];
    fmt_double(s, sizeof s, sum);
    if (rc == M2J_OK)
        rc = sample(b, name, "_sum", labels, n, NULL, s);
    snprintf(v, sizeof v, "%llu", cum);
    if (rc == M2J_OK)
        rc = sample(b, name, "_count", labels, n, NULL, v);
    return rc;
}
