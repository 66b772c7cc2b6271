/* exactly_once.h: the one frame every effect in Jortt runs in, exactly once
 * against an API without idempotency keys (design notes section 2):
 *
 *   lock -> read the record -> [intent without id: search by reference,
 *   adopt] -> intent record -> POST -> record the id
 *
 * Invoices (invoice_sync.c), full and partial credits (credit_sync.c),
 * deleting a draft (invoice_delete.c) and customers (customer_sync.c) all go
 * through these calls, so a rule about locks or about sending lands in one
 * place:
 *
 *   m2j_once_run     takes the lock with a fresh owner token, hands it to
 *                    the worker's heartbeat (renewed as long as the step
 *                    runs, whatever it waits for), runs the step under it,
 *                    releases it only if it is still ours.
 *   m2j_once_search  for an intent whose outcome is unknown: finds what the
 *                    lost POST made, by an exact reference match.
 *   m2j_once_post    writes the intent (the caller's record layout) in one
 *                    script with the check that the lock is ours, then
 *                    sends the POST (m2j_once_send: another method, the
 *                    DELETE of a draft); the heartbeat's gate checks the
 *                    lock's lease once more right before the request is
 *                    written, so a process paused past its lease never
 *                    sends on resume without Redis confirming the lock.
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
    const char *lock;       /* short lock key, "order:<ref>" or "customer:<customer key>" */
    const char *lock_key;   /* its Redis key (m2j_lock_key) */
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

/* Writes the intent ("pending") record, fenced by the lock: with
 * m2j_once_fenced_hset, or a script of the caller's that starts with
 * M2J_ONCE_FENCE_LUA run by m2j_once_fenced_eval. Returns M2J_ERR_CONFLICT
 * when the lock is not ours (then nothing was written). */
typedef m2j_rc (*m2j_intent_fn)(m2j_once *o, void *ud, m2j_err *e);

/* The fence: checking the lock and writing the intent in one script, so a
 * holder paused between the two (SIGSTOP) cannot overwrite, on resume, the
 * record of the worker that took the lock over meanwhile. It also extends
 * the lock to its full TTL. In the script the lock is KEYS[1] and ARGV[1],
 * ARGV[2] are the token and the TTL (ms); the caller's keys and arguments
 * follow (KEYS[2].., ARGV[3]..). A fenced script returns 0 for "not ours"
 * and anything else for done. */
#define M2J_ONCE_FENCE_LUA \
    "if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end\n" \
    "redis.call('PEXPIRE', KEYS[1], ARGV[2])\n"
m2j_rc m2j_once_fenced_eval(m2j_once *o, const char *script, int nkeys, const char **keys, int nargs,
                            const char **args, m2j_err *e);
/* HSET key field value ... (NULL-terminated, at most 8 pairs) while the
 * lock is ours. */
m2j_rc m2j_once_fenced_hset(m2j_once *o, const char *key, m2j_err *e, ...) __attribute__((sentinel));

/* The non-idempotent step: writes the intent fenced by the lock (which
 * also confirms and extends the lock), POSTs body (borrowed) to path. true: the POST was made, *pr and
 * *cls describe its answer (the caller records or classifies it and clears
 * *pr). false: nothing more was sent (lock lost: LOCKED; Redis, shutdown:
 * as m2j_step_from_rc), s says why, *pr is cleared. `what` names the
 * effect in reasons ("create invoice"). */
bool m2j_once_post(m2j_once *o, const char *what, m2j_intent_fn intent, void *iud, const char *path,
                   json_object *body, m2j_jortt_response *pr, m2j_call_class *cls, m2j_step *s);
/* The same for any non-idempotent method ("POST", "DELETE"); body may be
 * NULL. */
bool m2j_once_send(m2j_once *o, const char *what, m2j_intent_fn intent, void *iud, const char *method,
                   const char *path, json_object *body, m2j_jortt_response *pr, m2j_call_class *cls, m2j_step *s);

#endif
