/* queue.h: the durable event queue in Redis, and every Redis key m2jortt uses.
 *
 * The queue room (common/queue/) holds what m2jortt keeps in Redis and how it
 * gets there: the connection (redis_conn), the queue's keys and Lua scripts,
 * its operations one job a file (queue.c the handle and connection, enqueue.c
 * the receiver's side, consume.c the worker's, admin.c the CLI's, lock.c the
 * locks), and the short command helpers other rooms use for their own keys
 * (redis_cmd). It must not hold Jortt or Magento logic, mapping, or any
 * decision about what an event means: callers decide, the queue records.
 *
 * Delivery is at-least-once: a Redis Stream with one consumer group. An entry
 * leaves the stream only in the same atomic script that records its outcome
 * (processed, skipped, scheduled for retry, dead-lettered), so no event is
 * ever lost between states. An entry a crashed worker held is taken over by
 * another after the visibility timeout (XAUTOCLAIM).
 *
 * Keys (P = redis.key_prefix):
 *   P:events              stream; field "job" = job JSON (event.h); group "workers"
 *   P:seen:<event_id>     string, the stream id; dedup of accepted events (EX dedup_ttl)
 *   P:retry               zset: job JSON scored by due time (ms)
 *   P:dead:<event_id>     hash: job, reason, http_status, error_key, error_details,
 *                         attempts, first_try, last_try, dead_at, kind, ref
 *   P:dead:index          zset: event_id scored by dead_at (ms)
 *   P:stats               hash: received, duplicates, processed, skipped, retried,
 *                         dead_total, replayed (counters)
 *   P:stats:events        hash "<kind>:<outcome>" -> count (processed, skipped, retried,
 *                         dead_lettered, duplicate), written by the same scripts
 *   P:stats:jortt         hash "<endpoint> <status>" -> Jortt requests (jortt/jortt_stats.h)
 *   P:skipped             stream (capped ~10000): event_id, ref, reason
 *   P:activity, P:activity:minute:<minute>  the dashboard's activity log and
 *                         throughput, written by the outcome scripts (queue/activity.h)
 *   P:admin:session:<sha256 of the session id>, P:admin:fail:<who>  the
 *                         dashboard's sessions and wrong sign-ins (receiver/admin_auth.h)
 *   P:order:<ref>         hash: state (pending|done|cancelled|closed|deleted), invoice_id, event_id
 *                         (the event that made the invoice), at, grand_total, customer_id,
 *                         fingerprint (what was invoiced: mapping/order_fingerprint.h);
 *                         credit ledger: credited, credited_full, credit_pending
 *                         (worker/credit_sync.c); deleted_invoice_id, deleted_at once a
 *                         cancellation deleted the draft (worker/invoice_delete.h)
 *   P:credit:<memo key>   hash: state, credit_invoice_id, invoice_id, amount, at (credit notes)
 *   P:credit:cancel:<ref> hash: the same, for orders.credit_on_cancel; action delete/deleted
 *                         when the draft is (being) deleted instead
 *   P:credit:closed:<ref> hash: the same, for an order closed after a full refund
 *   P:install:key         string: the installation key, 64 hex digits (install_key.c);
 *                         never logged or printed
 *   P:customer:<customer key> hash: id, fp, state; the key is
 *                         HMAC-SHA256(installation key, label, address) (base/pseudonym.h);
 *                         entries of older versions are keyed by sha256(lower(email))
 *                         and moved on first use (worker/customer_sync.c)
 *   P:custref:<magento customer id> string: Jortt customer id
 *   P:lock:<what>:<key>   string: owner token, PX ttl (compare-and-delete release)
 *   P:jortt:token         string: access token sealed with AES-256-GCM under a key
 *                         derived from jortt.client_secret (jortt/token_seal.h),
 *                         PX until shortly before expiry
 *   P:jortt:calls:<sec>   counter of Jortt calls in that second (EX 120)
 *   P:rl, P:rl:pause      fleet rate limiter state (Jortt; queue/ratelimit.h)
 *   P:magento:rl, P:magento:rl:pause, P:magento:calls:<sec>  the same for Magento
 *   P:magento:cursor:<orders|creditmemos|customers>  poller position (worker/poller.h)
 *   P:lock:magento:poll   the poll lease
 *   P:magento:writeback   zset: order refs whose Magento comment is due (worker/write_back.h);
 *                         P:order:<ref> also holds magento_id, comment_at, comment_attempts,
 *                         comment_failed
 *   P:breaker             circuit breaker state
 *   P:worker:<consumer>   heartbeat (EX 30)
 *   P:workers             zset consumer -> last heartbeat ms (worker/liveness.h; /metrics)
 *   P:magento:poll:last_ok_ms, P:magento:poll:stats (ok, failed)  Magento poll figures
 *   P:alerts:*            the alert evaluator's lease and incidents (alert/alert_store.h)
 * <ref>, <memo key> and <magento customer id> come from Magento and are
 * escaped (base/key_part.h, m2j_wkey_id): a memo key "cancel:1" must not
 * name P:credit:cancel:1. Event ids are sanitised at ingest (event.h).
 * The README lists these too.
 *
 * Ownership: m2j_queue owns its redisContext. Strings in m2j_job are owned by
 * the job and freed by m2j_job_clear. */
#ifndef M2J_QUEUE_H
#define M2J_QUEUE_H

#include "config/config.h"
#include "ingest/event.h"
#include "base/buf.h"
#include <hiredis/hiredis.h>
#include <stdbool.h>

#define M2J_GROUP "workers"

typedef struct m2j_queue m2j_queue;

/* Connects (see redis_conn.h) and creates the stream and group if missing. */
m2j_rc m2j_queue_open(const m2j_config *cfg, m2j_queue **out, m2j_err *err);
void   m2j_queue_close(m2j_queue *q);
/* The connection, for other keys; reconnects first if the last call failed. */
redisContext *m2j_queue_redis(m2j_queue *q);
const char   *m2j_queue_prefix(const m2j_queue *q);
/* Builds "<prefix>:<suffix>" into out (reset first). */
m2j_rc m2j_queue_key(const m2j_queue *q, m2j_buf *out, const char *suffix);

/* ---- enqueue (receiver; enqueue.c). All or nothing for the batch. ---- */

typedef struct {
    bool  duplicate;     /* event id already accepted: not queued again */
    char *stream_id;     /* owned; NULL when duplicate */
} m2j_enqueue_result;

/* The enqueue script and its arguments, for callers with their own (async)
 * connection. argv/lens are allocated into *args (free with
 * m2j_enqueue_args_free). */
typedef struct {
    int     argc;
    char  **argv;
    size_t *lens;
    size_t  text_cap; /* bytes allocated at argv[0], where every argument's text is */
} m2j_enqueue_args;
extern const char *const M2J_ENQUEUE_SCRIPT;
m2j_rc m2j_enqueue_args_build(const char *prefix, const m2j_event *evs, size_t n,
                              long dedup_ttl_seconds, m2j_enqueue_args *out, m2j_err *err);
void   m2j_enqueue_args_free(m2j_enqueue_args *a);
/* The same with the arguments' text storage reused (the receiver keeps a
 * few per event loop: each request holds one until Redis answers).
 * _build_in writes into spare's storage when it has some and takes it over
 * (spare is left empty, also on failure); _release frees the args but
 * hands their text storage back into spare (which must be empty) instead
 * of freeing it, unless it grew past keep bytes for a large request or
 * spare is NULL. Nothing of the old arguments is read again: the next
 * build writes every byte it uses. */
m2j_rc m2j_enqueue_args_build_in(m2j_buf *spare, const char *prefix, const m2j_event *evs, size_t n,
                                 long dedup_ttl_seconds, m2j_enqueue_args *out, m2j_err *err);
void   m2j_enqueue_args_release(m2j_enqueue_args *a, m2j_buf *spare, size_t keep);
/* Interprets the script's reply into res[0..n). */
m2j_rc m2j_enqueue_reply_parse(const redisReply *r, size_t n, m2j_enqueue_result *res, m2j_err *err);
void   m2j_enqueue_results_clear(m2j_enqueue_result *res, size_t n);
/* Synchronous convenience (tests, CLI). */
m2j_rc m2j_queue_enqueue(m2j_queue *q, const m2j_event *evs, size_t n,
                         long dedup_ttl_seconds, m2j_enqueue_result *res, m2j_err *err);

/* ---- consume (worker; consume.c) ---- */

typedef struct {
    char        *stream_id;   /* owned */
    json_object *job;         /* owned job JSON (event.h) */
    long         deliveries;  /* times this stream entry was delivered (>= 1) */
} m2j_job;
void m2j_job_clear(m2j_job *j);

/* Takes one job for consumer: first an entry idle longer than the visibility
 * timeout (a crashed worker's), else a new one, blocking up to block_ms.
 * M2J_ERR_EMPTY when none arrived. An entry whose data is gone is acked and
 * skipped. */
m2j_rc m2j_queue_take(m2j_queue *q, const char *consumer, long block_ms,
                      long visibility_ms, m2j_job *out, m2j_err *err);

/* Is the taken entry still consumer's? M2J_OK: yes, and its idle time
 * starts again (no takeover for another visibility timeout);
 * M2J_ERR_CONFLICT: another worker took it over or its outcome is
 * recorded. For a worker that kept a job in hand while Redis was away. The
 * script itself is public for the worker's heartbeat, which runs it on its
 * own connection: KEYS[1] the stream, ARGV group, consumer, entry id;
 * reply 1 (still ours) or 0. */
m2j_rc m2j_queue_hold(m2j_queue *q, const m2j_job *j, const char *consumer, m2j_err *err);
extern const char *const M2J_HOLD_SCRIPT;

/* What the activity log (queue/activity.h, P:activity) says about an
 * outcome besides its kind and time; every member may be NULL. Reasons are
 * kept to M2J_ACTIVITY_REASON_MAX bytes there. */
typedef struct {
    const char *ref;       /* order increment id / other reference */
    const char *jortt_id;  /* the Jortt invoice (credit, customer) the event made or found */
    const char *reason;
} m2j_outcome_note;

/* Final outcomes; each is one atomic script that also XACKs and XDELs and
 * adds the outcome to the activity log. */
m2j_rc m2j_queue_done(m2j_queue *q, const m2j_job *j, const m2j_outcome_note *note,
                      m2j_err *err);                                                     /* processed++ */
m2j_rc m2j_queue_skip(m2j_queue *q, const m2j_job *j, const char *ref,
                      const char *reason, m2j_err *err);                                 /* skipped++, P:skipped */
/* Schedules the (updated) job JSON for due_ms; attempts/history are the
 * caller's to update first. note NULL: a round of waiting (a lock held
 * elsewhere, Jortt down), not an attempt, and not in the activity log. */
m2j_rc m2j_queue_retry(m2j_queue *q, const m2j_job *j, long long due_ms, const m2j_outcome_note *note,
                       m2j_err *err);

typedef struct {
    const char  *reason;        /* human text, required */
    long         http_status;   /* 0 when not an HTTP failure */
    const char  *error_key;     /* Jortt error key or NULL */
    json_object *error_details; /* Jortt error details or NULL (borrowed) */
    const char  *ref;           /* order increment id / customer ref, or NULL */
} m2j_dead_info;
m2j_rc m2j_queue_dead(m2j_queue *q, const m2j_job *j, const m2j_dead_info *info, m2j_err *err);
/* Puts the job back at the end of the stream at once (SIGTERM drain). */
m2j_rc m2j_queue_release(m2j_queue *q, const m2j_job *j, m2j_err *err);

/* Moves up to limit due retries (score <= now_ms) back into the stream,
 * atomically. *moved gets the count (may be NULL). */
m2j_rc m2j_queue_promote_due(m2j_queue *q, long long now_ms, long limit, long *moved, m2j_err *err);

/* ---- admin (CLI; admin.c) ---- */

typedef struct {
    long long queued, in_progress, scheduled_retries, failed, processed, skipped;
    long long received, duplicates, retried, replayed;
    long long oldest_age_ms;       /* of the oldest waiting event, 0 if none */
    double    jortt_calls_per_second; /* over the last 10 s (a display figure, not money) */
} m2j_queue_stats;
m2j_rc m2j_queue_stats_get(m2j_queue *q, m2j_queue_stats *out, m2j_err *err);

typedef struct {
    char        *event_id;   /* owned */
    json_object *record;     /* owned: the dead hash as an object; "job" and
                                "error_details" parsed as JSON */
    char        *job_text;   /* owned: the job exactly as stored (what a replay
                                compares against), or NULL when not read */
} m2j_dead_entry;
void m2j_dead_entry_clear(m2j_dead_entry *e);
/* Lists dead events, newest first, dead_at >= since_ms (0 = all), at most
 * limit (0 = all). *out is a malloc'd array the caller clears and frees. */
m2j_rc m2j_queue_dead_list(m2j_queue *q, long long since_ms, size_t limit,
                           m2j_dead_entry **out, size_t *n, m2j_err *err);
m2j_rc m2j_queue_dead_get(m2j_queue *q, const char *event_id, m2j_dead_entry *out, m2j_err *err);
/* Moves one dead event back into the stream (attempts reset, history kept,
 * replays+1, a "replay" history entry, a "replayed" entry in the activity
 * log). M2J_ERR_NOTFOUND if not dead. (queue/dead_replay.c; selecting dead
 * events by reason: queue/dead_select.h.) */
m2j_rc m2j_queue_replay(m2j_queue *q, const char *event_id, const char *by, m2j_err *err);

/* ---- walking keys (scan.c) ---- */

/* Called with a batch of keys (borrowed for the call). Return M2J_OK to go
 * on, M2J_ERR_EMPTY to stop early (m2j_queue_scan then returns M2J_OK), any
 * other code to stop with it. */
typedef m2j_rc (*m2j_scan_fn)(m2j_queue *q, const char *const *keys, size_t n, void *ud, m2j_err *err);
/* SCAN MATCH match COUNT count (<= 0: 500) to the end, fn per non-empty
 * batch. A key can come twice: fn must not mind. */
m2j_rc m2j_queue_scan(m2j_queue *q, const char *match, long count, m2j_scan_fn fn, void *ud, m2j_err *err);
/* Deletes every key matching match; *count says how many went. */
m2j_rc m2j_queue_unlink_matching(m2j_queue *q, const char *match, long *count, m2j_err *err);
/* "<prefix>:<pattern>" into out (reset first), the prefix's glob
 * characters escaped so it matches only itself. */
m2j_rc m2j_queue_glob(const m2j_queue *q, m2j_buf *out, const char *pattern);

/* ---- the installation key (install_key.c) ---- */

/* The installation's secret key (base/pseudonym.h) into key
 * (M2J_INSTALL_KEY_LEN bytes): read from P:install:key, or created there
 * (32 bytes from the OS's CSPRNG, SET NX: the first process of an
 * installation creates it, every later one reads the same) and kept in q
 * for later calls. Creating it also deletes P:cust:index-warm in the same
 * script: customer cache entries are keyed with it, so a new key (a first
 * start after an upgrade, or a key lost with Redis's data) needs the index
 * read again before new buyers are created without a search. *created (may
 * be NULL) says whether this call created it. A value of another shape is
 * M2J_ERR_INVALID: replacing it would re-key every cache entry, so it is
 * an operator's decision (delete the key). Never logs the key. */
m2j_rc m2j_queue_install_key(m2j_queue *q, unsigned char *key, bool *created, m2j_err *err);

/* ---- locks (lock.c) ---- */
/* SET key token NX PX ttl. M2J_ERR_CONFLICT when held by someone else. */
m2j_rc m2j_lock_acquire(m2j_queue *q, const char *key, const char *token, long ttl_ms, m2j_err *err);
/* The Redis key of lock `key` (full, or short -> "<prefix>:lock:<key>") into
 * out (reset first): for scripts that check a lock themselves (the worker's
 * fenced intent and heartbeat), so they name the very key acquire used. */
m2j_rc m2j_lock_key(const m2j_queue *q, const char *key, m2j_buf *out);
/* Deletes key only if it still holds token (one script). */
m2j_rc m2j_lock_release(m2j_queue *q, const char *key, const char *token, m2j_err *err);
/* Extends the lock to ttl_ms if it still holds token; M2J_ERR_CONFLICT when
 * it was no longer ours (for leases held across many steps: the poller). */
m2j_rc m2j_lock_extend(m2j_queue *q, const char *key, const char *token, long ttl_ms, m2j_err *err);

#endif
