/* dead_select.h: choosing dead letters (failed events) by age and by a part
 * of their reason, newest first, with the count of all that match: what
 * `m2jortt failed`, `m2jortt replay --reason` and the dashboard's failed
 * events page show before anyone acts.
 *
 * One read-only script walks P:dead:index newest first and reads each
 * record in Redis, so a filter over thousands of dead letters costs one
 * round trip, and the count and the rows come from one instant. The reason
 * filter is case-insensitive for ASCII letters (like strcasestr in the C
 * locale), a plain substring, no patterns.
 *
 * Ownership: entries are malloc'd; m2j_dead_entries_free clears and frees
 * them. Args as redis_args.h. */
#ifndef M2J_DEAD_SELECT_H
#define M2J_DEAD_SELECT_H

#include "queue/queue.h"
#include "queue/redis_args.h"

#define M2J_DEAD_REASON_QUERY_MAX 200 /* bytes of a reason filter */

typedef struct {
    long long   since_ms;  /* dead_at >= since_ms; 0 = all */
    const char *reason;    /* NULL or "" = any; else a part of the reason */
    size_t      limit;     /* rows given back at most; 0 = all */
    bool        count_only;/* no rows, only the count */
    bool        whole;     /* rows with the job and the error details (and job_text) */
} m2j_dead_query;

/* EVAL argv; M2J_ERR_INVALID for a reason filter over the bound or with
 * control characters. */
m2j_rc m2j_dead_select_args(const char *prefix, const m2j_dead_query *dq, m2j_redis_args *out, m2j_err *err);
/* Its reply: *total matching, rows (at most limit) newest first. */
m2j_rc m2j_dead_select_parse(const redisReply *r, m2j_dead_entry **out, size_t *n, long long *total,
                             m2j_err *err);
/* Synchronous, over the queue's connection (CLI, tests). */
m2j_rc m2j_queue_dead_select(m2j_queue *q, const m2j_dead_query *dq, m2j_dead_entry **out, size_t *n,
                             long long *total, m2j_err *err);
void   m2j_dead_entries_free(m2j_dead_entry *arr, size_t n);

/* One dead record (a flat field, value reply such as HGETALL's) as the
 * object m2j_dead_entry.record holds: "job" and "error_details" parsed as
 * JSON (kept as text when they do not parse, so nothing is hidden from the
 * admin), counters and times as integers. */
m2j_rc m2j_dead_record_parse(const redisReply *r, json_object **out, m2j_err *err);

#endif
