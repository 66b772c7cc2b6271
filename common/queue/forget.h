/* forget.h: finding and removing what the queue holds about one person, for
 * `m2jortt forget` (README "Personal data").
 *
 * Where a buyer's data can be in Redis, and what happens to it:
 *   dead letters (P:dead:<id>)   the whole dead letter is deleted: its job,
 *                                reason and Jortt error details (which may
 *                                echo the address); a payload-less dead
 *                                letter could not be replayed anyway
 *   retries (P:retry)            the job is deleted: that event is not
 *                                processed (its order not invoiced)
 *   waiting events (P:events)    likewise, when no worker holds it; an entry
 *                                a worker holds is reported, not touched (its
 *                                outcome follows in seconds: run forget again)
 *   customer links (P:custref:*) Magento customer id -> Jortt customer id
 *                                entries naming the person's Jortt customer
 * What matches is decided by the caller (a function over the stored text),
 * so this room keeps no notion of e-mail addresses.
 *
 * Bounded: at most max_entries of each place are looked at (truncated says
 * when there were more); memory per step is one page of 500.
 *
 * Ownership: the report owns its items and their strings
 * (m2j_forget_report_clear). */
#ifndef M2J_FORGET_H
#define M2J_FORGET_H

#include "queue/queue.h"

typedef enum {
    M2J_FORGET_DEAD,        /* a dead letter */
    M2J_FORGET_RETRY,       /* waiting for a retry */
    M2J_FORGET_WAITING,     /* in the stream, not yet taken */
    M2J_FORGET_IN_PROGRESS  /* in the stream, held by a worker: not removed */
} m2j_forget_where;

typedef struct {
    m2j_forget_where where;
    char *event_id;  /* owned; "-" when the job has none */
    char *ref;       /* owned; the order number (or memo's order, customer id), "-" when none */
    bool  removed;   /* false: dry run, gone meanwhile, or in progress */
} m2j_forget_item;

typedef struct {
    m2j_forget_item *items;
    size_t n, cap;
    bool   truncated;
} m2j_forget_report;

void m2j_forget_report_clear(m2j_forget_report *r);

/* True when a stored text (a job, a dead letter's reason or details) is
 * about the person. */
typedef bool (*m2j_forget_match_fn)(const char *text, size_t len, void *ud);

/* Looks through the dead letters, the retry set and the stream (in that
 * order, so a retry promoted meanwhile is met in the stream), adds every
 * match to out and, with apply, removes it (except IN_PROGRESS). Each
 * removal is one script that checks the entry is still what was matched. */
m2j_rc m2j_queue_forget(m2j_queue *q, m2j_forget_match_fn match, void *ud, bool apply, size_t max_entries,
                        m2j_forget_report *out, m2j_err *err);

/* Counts (and with apply deletes) the P:custref:* entries whose value is
 * one of ids[0..n). */
m2j_rc m2j_queue_forget_links(m2j_queue *q, const char *const *ids, size_t n, bool apply, long *count,
                              m2j_err *err);

#endif
