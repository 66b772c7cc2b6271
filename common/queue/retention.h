/* retention.h: deleting what m2jortt keeps once it is past retention
 * (config "retention", section_retention.c says why the bounds are what
 * they are; README "Personal data" lists what is kept where).
 *
 *   dead letters   P:dead:<id> and its P:dead:index entry, when it died
 *                  before dead_before_ms: the whole record goes (its payload
 *                  is the personal data; without it nothing can be replayed)
 *   order records  P:order:<ref> whose outcome is settled (done, cancelled,
 *                  closed; no credit with an unknown outcome) and whose `at`
 *                  is before processed_before_ms
 *   credit records P:credit:... in state done, `at` before that
 *   skipped        entries of the P:skipped stream older than that
 * Records in state pending (an outcome not yet known) are never removed:
 * they are what keeps a retry from posting twice.
 *
 * The script that removes an order record raises
 * P:retention:processed_before to processed_before_ms (never lowers it) in
 * the same step: a worker that finds no record for an order created before
 * it searches Jortt by the order number before posting
 * (worker/invoice_sync.c), so a purged record never lets a redelivered
 * order be invoiced twice. While nothing was ever removed there is no
 * horizon, and no search.
 *
 * Ownership: counts are plain values; nothing is allocated for the caller. */
#ifndef M2J_RETENTION_H
#define M2J_RETENTION_H

#include "queue/queue.h"

typedef struct {
    long long dead;     /* dead letters */
    long long orders;   /* P:order records */
    long long credits;  /* P:credit records */
    long long skipped;  /* P:skipped entries */
} m2j_retention_counts;

/* The cut-off times for cfg's retention at now_ms. */
void m2j_retention_cutoffs(const m2j_config *cfg, long long now_ms, long long *dead_before_ms,
                           long long *processed_before_ms);

/* Counts (apply false) or deletes (apply true) what is past the cut-offs
 * into *out (zeroed first). Deleting is done in bounded batches, each one
 * script that checks again what it deletes, so running workers and this
 * never disagree; a crash half-way leaves the rest for the next run. */
m2j_rc m2j_retention_run(m2j_queue *q, long long dead_before_ms, long long processed_before_ms, bool apply,
                         m2j_retention_counts *out, m2j_err *err);

/* P:retention:processed_before: order records written before this time (ms)
 * may have been removed; 0 when none ever were. */
m2j_rc m2j_retention_horizon(m2j_queue *q, long long *ms, m2j_err *err);

#endif
