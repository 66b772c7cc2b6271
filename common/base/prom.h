/* prom.h: writing the Prometheus text exposition format, version 0.0.4
 * (Content-Type "text/plain; version=0.0.4"): # HELP and # TYPE lines, then
 * one sample a line, labels escaped as the format requires.
 *
 * Pure: it only appends to a buffer, so tests compare exact text. The
 * caller keeps a metric's samples together after its header (the format
 * requires one group per metric name).
 *
 * Ownership: everything is borrowed; output goes into the caller's buffer. */
#ifndef M2J_PROM_H
#define M2J_PROM_H

#include "base/buf.h"
#include <stddef.h>

typedef struct {
    const char *name;
    const char *value;
} m2j_prom_label;

#define M2J_PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* "# HELP name help\n# TYPE name type\n"; type is counter|gauge|histogram. */
m2j_rc m2j_prom_header(m2j_buf *b, const char *name, const char *type, const char *help);
/* name{l1="v1",...} value — integers exactly, without an exponent. */
m2j_rc m2j_prom_int(m2j_buf *b, const char *name, const m2j_prom_label *labels, size_t n, long long value);
/* The same with a floating value (shortest round-trip form, "+Inf"/"NaN"). */
m2j_rc m2j_prom_num(m2j_buf *b, const char *name, const m2j_prom_label *labels, size_t n, double value);

/* A histogram's samples (not its header): name_bucket{...,le="b"} for each
 * of the n_bounds upper bounds (seconds, ascending) and "+Inf", cumulative,
 * then name_sum and name_count. counts[i] is the number of observations in
 * bucket i alone (n_bounds + 1 entries, the last for above every bound). */
m2j_rc m2j_prom_histogram(m2j_buf *b, const char *name, const m2j_prom_label *labels, size_t n,
                          const double *bounds, size_t n_bounds, const unsigned long long *counts, double sum);

#endif
