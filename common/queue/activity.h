/* activity.h: the activity log the dashboard shows: the latest outcomes,
 * newest first, and the throughput of the last hour.
 *
 * Keys (P = redis.key_prefix):
 *   P:activity                stream capped at about admin.activity_keep
 *                             (XADD MAXLEN ~); fields event_id, kind,
 *                             outcome, ref (order number or other
 *                             reference), jortt_id, reason; the entry id is
 *                             the time (Redis's clock)
 *   P:activity:minute:<unix minute>  hash outcome -> count, EXPIRE 2 h
 * Both are written by the outcome scripts (queue_scripts.c) in the same
 * step that records the outcome, so the log never disagrees with the
 * queue: processed, skipped, retried (real attempts only: waiting for a
 * lock or for Jortt to come back is not an outcome), dead_lettered, and
 * replayed (queue/dead_replay.h). Nothing personal goes in: order numbers,
 * kinds, Jortt ids and the reasons the logs carry.
 *
 * Reading is one script each (async callers send the argv themselves;
 * tests run it on a raw connection): a page of the log, filtered by
 * outcome and by a part of the order number, scanned newest first; and the
 * per-minute counts of the last 60 minutes.
 *
 * Ownership: rows and their strings are malloc'd and freed by
 * m2j_activity_rows_free; args as redis_args.h. */
#ifndef M2J_ACTIVITY_H
#define M2J_ACTIVITY_H

#include "base/m2j.h"
#include "queue/redis_args.h"
#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stddef.h>

#define M2J_ACTIVITY_DEFAULT_KEEP 10000
#define M2J_ACTIVITY_MAX_ROWS     200    /* one page at most */
#define M2J_ACTIVITY_SCAN_MAX     100000 /* entries a search reads at most (admin.activity_keep's bound) */
#define M2J_ACTIVITY_REASON_MAX   300    /* bytes of a reason kept (cut at a UTF-8 boundary) */
#define M2J_ACTIVITY_QUERY_MAX    64     /* bytes of an order number searched for */

/* The outcomes the log holds, in display order. */
enum { M2J_ACT_PROCESSED, M2J_ACT_SKIPPED, M2J_ACT_RETRIED, M2J_ACT_DEAD, M2J_ACT_REPLAYED, M2J_ACT_N };
extern const char *const m2j_activity_outcomes[M2J_ACT_N]; /* "processed" ... "replayed" */
/* Index of an outcome name, or -1. */
int m2j_activity_outcome_index(const char *s);

/* Where a reason is cut for the log: at most max bytes, never inside a
 * UTF-8 sequence. */
size_t m2j_activity_cut(const char *s, size_t max);

typedef struct {
    char      *id;        /* stream id "<ms>-<seq>" */
    long long  at_ms;
    char      *event_id, *kind, *outcome, *ref, *jortt_id, *reason; /* "" when absent */
} m2j_activity_row;

typedef struct {
    const char *outcome;  /* NULL or "" = any; else one of m2j_activity_outcomes */
    const char *ref;      /* NULL or "" = any; else a part of the order number (bytes, case-sensitive) */
    const char *before;   /* NULL = newest; else a stream id: rows strictly older */
    size_t      limit;    /* 1 .. M2J_ACTIVITY_MAX_ROWS */
} m2j_activity_query;

/* EVAL argv of the read. M2J_ERR_INVALID for an unknown outcome, a
 * malformed before, a query over M2J_ACTIVITY_QUERY_MAX or with control
 * characters. */
m2j_rc m2j_activity_args(const char *prefix, const m2j_activity_query *q, m2j_redis_args *out, m2j_err *err);
/* Its reply: rows newest first; *next (malloc'd, or NULL when the scan
 * reached the end) is the `before` of the next page. */
m2j_rc m2j_activity_parse(const redisReply *r, m2j_activity_row **rows, size_t *n, char **next, m2j_err *err);
void   m2j_activity_rows_free(m2j_activity_row *rows, size_t n);

/* The last 60 minutes, oldest first; minute[59] is the current one. */
typedef struct {
    long long first_minute;               /* unix minute of minute[0] */
    long long minute[60][M2J_ACT_N];
    long long total[M2J_ACT_N];
} m2j_throughput;
m2j_rc m2j_throughput_args(const char *prefix, m2j_redis_args *out, m2j_err *err);
m2j_rc m2j_throughput_parse(const redisReply *r, m2j_throughput *out, m2j_err *err);

#endif
