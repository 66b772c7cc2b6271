/* exactly_once.h: the one frame every effect in Jortt runs in, exactly once
 * against an API without idempotency keys (design notes section 2):
 *
 *   lock -> read the record -> [intent without id: search by reference,
 *   adopt] -> intent record -> POST -> record the id
 *
 * Invoices (invoice_sync.c), full and partial credits (credit_sync.c) and
 * customers (customer_sync.c) all go through these three calls, so a rule
 * about locks or about sending lands in one place:
 *
 *   m2j_once_run     takes the lock with a fresh owner token, hands it to
 *                    the worker's heartbeat (renewed as long as the step
 *                    runs, whatever it waits for), runs the step under it,
 *                    releases it only if it is still ours.
 *   m2j_once_search  for an intent whose outcome is unknown: finds what the
 *                    lost POST made, by an exact reference match.
 *   m2j_once_post    confirms the lock is still ours, writes the intent
 *                    (the caller's record layout), sends the POST; the
 *                    heartbeat's gate checks the lock's lease once more
 *                    right before the request is written, so a process
 *                    paused past its lease never sends on resume without
 *                    Redis confirming the lock.
 * Reading and writing the records themselves stays with the callers: each
 * keeps its own layout (queue.h lists the keys).
 *
 * Ownership: m2j_once lives on m2j_once_run's stack for the duration of the
 * step; the lock key is borrowed from the caller. */
#ifndef M2J_EXACTLY_ONCE_H
#define M2J_EXACTLY_ONCE_H

#include "worker/worker_ctx.h"

typedef struct {
    m2j_worker *w;
    const char *lock;       /* short lock key, "order:<ref>" or "cust:<hash>" */
    char        token[33];  /* our owner token */
    int         slot;       /* in w->hb, which renews the lock while we hold it */
} m2j_once;

/* Runs fn under the Redis lock lock_key (see queue.h). A lock held
 * elsewhere makes the step LOCKED with reason `busy`; fn starts with
 * s->kind CONTINUE. */
typedef void (*m2j_once_fn)(m2j_once *o, void *ud, m2j_step *s);
void m2j_once_run(m2j_worker *w, const char *lock_key, const char *busy, m2j_once_fn fn, void *ud, m2j_step *s);

/* Searches list endpoint `path` (all pages) for an item whose reference is
 * exactly `reference`. true: searched, *found = a malloc'd id or NULL when
 * nothing matched. false: the search failed, s says why (`what` names it,
 * "search invoice"). */
bool m2j_once_search(m2j_once *o, const char *path, const char *reference, const char *what, char **found,
                     m2j_step *s);

/* Writes the intent ("pending") record; called by m2j_once_post with the
 * lock confirmed. */
typedef m2j_rc (*m2j_intent_fn)(m2j_worker *w, void *ud, m2j_err *e);

/* The non-idempotent step: confirms the lock is still ours, writes the
 * intent, POSTs body (borrowed) to path. true: the POST was made, *pr and
 * *cls describe its answer (the caller records or classifies it and clears
 * *pr). false: nothing more was sent (lock lost: LOCKED; Redis, shutdown:
 * as m2j_step_from_rc), s says why, *pr is cleared. `what` names the
 * effect in reasons ("create invoice"). */
bool m2j_once_post(m2j_once *o, const char *what, m2j_intent_fn intent, void *iud, const char *path,
                   json_object *body, m2j_jortt_response *pr, m2j_call_class *cls, m2j_step *s);

#endif
