/* fault_util.h: what the fault suite (tests/integration/test_fault_*.c) shares
 * on top of harness.h:
 *  - a generator of many distinct events ("a mix"): qualifying orders (EUR,
 *    NL, status processing, distinct increment ids and totals) bought by a
 *    pool of repeat customers, duplicates of those orders under new event
 *    ids, orders in a status that is not invoiced, orders in a currency that
 *    must be dead-lettered, and customer events of the same buyers;
 *  - posting a mix as signed CloudEvent batches (JSON arrays);
 *  - an env started for speed (no Jortt rate limit, small retry waits);
 *  - THE audit every fault test ends with: every qualifying order invoiced
 *    exactly once with the order's grand total, every buyer created once in
 *    Jortt, every other event skipped or failed with a reason, and the
 *    counters adding up with nothing left waiting.
 *
 * Test-only code: failures abort the current test via Check (H_ASSERT), like
 * the harness. Ownership: an f_mix owns its events; strings marked "new" are
 * the caller's to free(). */
#ifndef M2J_TEST_FAULT_UTIL_H
#define M2J_TEST_FAULT_UTIL_H

#include "harness.h"

#include <stdbool.h>
#include <stddef.h>

typedef enum {
    F_ORDER,     /* qualifying: EUR, NL, processing -> exactly one invoice */
    F_DUP,       /* another event (new id) of a qualifying order -> skipped */
    F_PENDING,   /* status pending -> skipped, no invoice */
    F_FOREIGN,   /* GBP order in a GBP store -> dead letter "currency" */
    F_REJECT,    /* item name over Jortt's 1000 bytes -> 422 dead letter, not retried */
    F_CUSTOMER   /* customer save event of a pool buyer -> one Jortt customer */
} f_kind;

typedef struct {
    char   id[64];     /* event id (CloudEvent id and event_id) */
    f_kind kind;
    char   ref[24];    /* order increment id; "" for customer events */
    int    cust;       /* index of the buyer in the pool */
    int    qty;        /* quantity of the first item (1..9): makes totals differ */
    char   total[16];  /* grand total as text, e.g. "92.17" (orders) */
} f_ev;

typedef struct {
    int orders;           /* qualifying orders (each a distinct ref) */
    int dups;             /* duplicates of qualifying orders */
    int pending;          /* orders in status pending */
    int foreign;          /* GBP orders */
    int rejects;          /* orders Jortt refuses (422) */
    int customer_events;  /* customer save events */
    int customers;        /* size of the buyer pool (<= orders) */
} f_spec;

typedef struct {
    char   tag[16];    /* unique per mix: in ids, refs and e-mails */
    f_spec spec;
    f_ev  *ev;         /* owned, in posting order (shuffled) */
    size_t n;
} f_mix;

/* New mix; refs are ref_base, ref_base+1, ... The order of events is a
 * deterministic shuffle from seed. */
f_mix *f_mix_new(const char *tag, long ref_base, const f_spec *spec, unsigned seed);
void   f_mix_free(f_mix *m);
/* The buyer's e-mail address for pool index i (new string). */
char  *f_email(const f_mix *m, int cust);
/* One event as CloudEvent JSON text (new string). */
char  *f_event_json(const f_mix *m, const f_ev *ev);
/* Counts of the mix. */
int    f_count(const f_mix *m, f_kind k);

/* Posts events [from, to) in signed batches of up to `batch` (<= 100) as
 * JSON arrays. A batch answered 503 (Redis away) is sent again, same
 * delivery id, until accepted or deadline_ms passes. Asserts 2xx. Returns
 * the number of 503 answers seen. */
long   f_post_range(h_env *e, const f_mix *m, size_t from, size_t to, size_t batch, long deadline_ms);
/* f_post_range over the whole mix, batches of 100, 30 s deadline. */
void   f_post_all(h_env *e, const f_mix *m);
/* A single event in its own request, signed (returns the HTTP status). */
long   f_post_one(h_env *e, const f_mix *m, const f_ev *ev);

/* The config every fault test starts from, merged with override_json
 * (objects merged recursively; may be NULL): fast retries (base 1 s, max
 * 2 s, 20 attempts), jortt.requests_per_second 1000, bodies up to 8 MiB,
 * visibility timeout 2 s times the slowdown (h_ms).
 * New JSON text. */
char  *f_config(const char *override_json);
/* Redis, the double (rate limit double_rps; 0 = unlimited), config
 * f_config(override_json), receiver and n_workers workers. */
h_env *f_env_up(const char *name, const char *override_json, int double_rps, int n_workers);
/* The double (unlimited rate) on a fixed port with a state file, so that it
 * can be stopped (Jortt unreachable: connection refused) and started again
 * at the same address with its customers, invoices and tokens. The first
 * start picks the port and sets e->double_port/double_url; use instead of
 * h_double_start, before h_config_write. */
void   f_double_fixed_start(h_env *e);
/* SIGTERM (the double saves its state), wait for the exit. */
void   f_double_fixed_stop(h_env *e);
/* POST /_double/config {"rate_limit":rps}. */
void   f_double_rate(h_env *e, int rps);
/* POST /_double/faults, asserting 200. */
void   f_faults(h_env *e, const char *json);

/* ---- the double's counters ---- */
/* state.calls.<field> ("total", "throttled", "faulted", "dropped"), -1 if absent. */
long long f_calls(h_env *e, const char *field);
/* state.calls.by_endpoint[key], 0 if absent. */
long long f_calls_to(h_env *e, const char *key);
/* Same over a state object already fetched. */
long long f_state_calls(json_object *state, const char *field);

/* ---- processes ---- */
/* Running worker PIDs (into out[H_MAX_WORKERS]); returns the count. */
int    f_workers(h_env *e, pid_t *out);
/* SIGKILLs worker pid and starts a replacement; returns the new PID. */
pid_t  f_kill_replace(h_env *e, pid_t pid);

/* ---- Redis ---- */
/* Integer reply of a command (ZCARD, EXISTS, PTTL, ...); -100 when Redis did
 * not answer or the reply is not an integer. */
long long f_redis_int(h_env *e, const char *fmt, ...);
/* Number of keys matching "<prefix>:<pattern>". */
long   f_redis_keys(h_env *e, const char *pattern);

/* ---- waiting ---- */
/* Waits until stats say queued, in progress and scheduled retries are all 0
 * AND stay so for a moment (a retry due later is not "drained"). */
void   f_wait_drained(h_env *e, long deadline_ms);
/* Predicate: stats processed + skipped + failed >= *(long long *)arg. */
bool   f_pred_outcomes(h_env *e, void *arg);
/* Predicate: a worker has finished warming the customer index
 * (<prefix>:cust:index-warm exists); arg unused. From then on a new buyer
 * costs a POST /v3/customers and no search. */
bool   f_pred_warm(h_env *e, void *arg);

/* ---- the audit ---- */
/* Events a test adds outside its mix (each must use pool buyers, so the
 * customer count stays that of the mix). */
typedef struct {
    /* Event ids that must end in the dead letters with a reason;
     * NULL-terminated or NULL. */
    const char *const *extra_failed;
    /* How many of extra_failed never went through the receiver (put into
     * the stream directly): they are not in "received". */
    long  direct;
    /* Other events accepted by the receiver outside the mix. */
    long  extra_received;
    /* Of those, how many end processed (the rest must be skipped). */
    long  extra_processed;
    /* Orders outside the mix that must have exactly one invoice;
     * NULL-terminated refs or NULL. */
    const char *const *extra_invoices;
    /* Deadline for draining (ms, before h_ms scaling); 0 = 60000. */
    long  drain_ms;
    /* Without this, an order whose events were ALL skipped as "already
     * invoiced" is accepted (and noted on stderr): the invoicing event's
     * own outcome was lost after the invoice was recorded. With it, the
     * event that invoiced must be recorded as processed. */
    bool  strict_processed;
} f_audit_opts;

/* Waits for the queue to drain, then checks everything listed at the top of
 * this file against the double's state, `stats --json`, `failed --json` and
 * P:skipped. opts may be NULL. Prints one summary line to stderr. */
void   f_audit(h_env *e, const f_mix *m, const f_audit_opts *opts);

#endif
