/* harness.h: shared helpers for the integration tests.
 *
 * Each test gets an h_env: a temporary folder, its own redis-server on a free
 * port, the Jortt test double, a config file, and the receiver and workers it
 * starts, all real processes started from M2JORTT_BIN_DIR (default
 * "<cwd>/bin"). Every process the harness starts is recorded by PID and
 * stopped at h_env_free (the Check teardown) and at exit; each child also
 * gets PR_SET_PDEATHSIG so that nothing outlives a test process that died
 * on a failed assertion (Check's fork mode leaves a failed test without its
 * teardown).
 *
 * Env: M2JORTT_BIN_DIR (binaries), M2JORTT_KEEP_TMP=1 (keep temp dirs and
 * logs), M2JORTT_TEST_SLOWDOWN=N (scale deadlines), M2JORTT_TEST_WRAPPER
 * ("valgrind -q --leak-check=full": run our services under it; memory errors
 * in their logs fail the test).
 *
 * Waiting is always polling a condition against a bounded deadline
 * (h_wait_until), never sleeping and hoping.
 *
 * Ownership: h_env owns everything it records. Strings and JSON objects
 * returned by functions marked "new" belong to the caller (free() /
 * json_object_put()); h_resp members are freed by h_resp_clear. */
#ifndef M2J_TEST_HARNESS_H
#define M2J_TEST_HARNESS_H

#include <check.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define H_MAX_PROCS   32
#define H_MAX_WORKERS 8

/* Deadlines (ms) scaled by env M2JORTT_TEST_SLOWDOWN (an integer; default 1,
 * or 3 when M2JORTT_BIN_DIR names an "asan" build). */
long h_ms(long ms);

typedef enum { H_ROLE_REDIS, H_ROLE_DOUBLE, H_ROLE_RECEIVER, H_ROLE_WORKER, H_ROLE_OTHER } h_role;

typedef struct {
    pid_t  pid;      /* 0 = slot free */
    h_role role;
    char   name[32]; /* "redis", "double", "receiver", "worker1" ... (log file TMP/<name>.log) */
} h_proc;

typedef struct {
    char   dir[256];          /* temp dir of this test */
    char   bindir[512];
    char   config_path[320];
    char   prefix[32];        /* redis.key_prefix */
    char   secret[128];       /* receiver.webhook_secret */
    int    redis_port;
    int    double_port;       /* 0 until the double runs */
    char   double_url[64];    /* "http://127.0.0.1:PORT" */
    int    receiver_port;
    char   receiver_url[64];  /* "http://127.0.0.1:PORT" */
    json_object *config;      /* the config written last (after overrides) */
    h_proc procs[H_MAX_PROCS];
    int    n_workers_started; /* for naming worker logs */
} h_env;

/* ---- life cycle ---- */

/* New env: temp dir, chosen ports, nothing started. Never returns NULL (aborts
 * the test instead). */
h_env *h_env_new(const char *name);
/* Stops every recorded process (SIGTERM, SIGKILL after a deadline), removes
 * the temp dir (kept when env M2JORTT_KEEP_TMP is set), frees env. */
void h_env_free(h_env *e);
/* The common setup: redis, the double, config (override_json may be NULL),
 * receiver and n_workers workers. */
h_env *h_env_up(const char *name, const char *override_json, int n_workers);

/* ---- processes ---- */

/* Starts <bindir>/<exe> (redis-server: from PATH; a path with '/': as is)
 * with args (NULL-terminated, without argv[0]); stdout+stderr go to
 * TMP/<name>.log. Records it and returns the PID. */
pid_t h_spawn(h_env *e, h_role role, const char *name, const char *exe, const char *const *args);
/* Signals a recorded process and reaps it. sig SIGTERM: waits up to
 * deadline_ms, then SIGKILL. Returns the wait status (or -1 if unknown). */
int  h_stop_pid(h_env *e, pid_t pid, int sig, long deadline_ms);
/* True while a recorded process has not exited (reaps it if it has). */
bool h_alive(h_env *e, pid_t pid);
/* PIDs of running processes of a role into out (up to max); returns count. */
int  h_pids(h_env *e, h_role role, pid_t *out, int max);

/* redis-server on e->redis_port (the SAME port after a stop, for outage
 * tests), waits until PING answers PONG. */
void h_redis_start(h_env *e);
void h_redis_stop(h_env *e);          /* SIGTERM, wait */
/* A direct hiredis command against the test's Redis; new reply owned by the
 * caller (freeReplyObject) or NULL when Redis does not answer. */
void *h_redis_cmd(h_env *e, const char *fmt, ...);

/* The Jortt double on a free port, requiring the client credentials of the
 * base test config (H_CLIENT_ID / H_CLIENT_SECRET), as Jortt does. */
#define H_CLIENT_ID     "m2jortt-test"
#define H_CLIENT_SECRET "test-secret"
void h_double_start(h_env *e);
void h_receiver_start(h_env *e);      /* waits for /readyz (Redis link up) */
void h_receiver_stop(h_env *e);
pid_t h_worker_start(h_env *e);
void h_workers_start(h_env *e, int n);

/* ---- config ---- */

/* Writes TMP/m2jortt.json: the base test config, with override_json (may be
 * NULL) merged in (objects merged recursively, other values replace, null
 * deletes the key). Replaces e->config. */
void h_config_write(h_env *e, const char *override_json);

/* ---- HTTP ---- */

typedef struct {
    long  status;        /* 0 when the request failed at transport level */
    char *body;          /* NUL-terminated, may be "" */
    size_t len;
    char *content_type;  /* or NULL */
    char *retry_after;   /* or NULL */
} h_resp;
void h_resp_clear(h_resp *r);

/* Plain request. headers: NULL-terminated "Name: value" list or NULL. */
void h_http(const char *method, const char *url, const char *const *headers,
            const char *body, size_t len, h_resp *out);

typedef enum { H_SIGNED, H_UNSIGNED, H_BAD_SIGNATURE, H_OLD_TIMESTAMP } h_sign_mode;
/* POSTs body to the receiver's path (e.g. "/webhooks/magento") as
 * application/json with Standard Webhooks headers for webhook id `id`. */
void h_post(h_env *e, const char *path, const char *id, const char *body, size_t len,
            h_sign_mode mode, h_resp *out);
/* Same with another Content-Type. */
void h_post_ct(h_env *e, const char *path, const char *id, const char *body, size_t len,
               h_sign_mode mode, const char *content_type, h_resp *out);
/* h_post of a NUL-terminated body to /webhooks/magento, signed. Returns status. */
long h_post_signed(h_env *e, const char *id, const char *body, h_resp *out);

/* ---- the Jortt double ---- */

/* New state JSON (GET /_double/state) or NULL. */
json_object *h_double_state(h_env *e);
/* POST /_double/reset. Returns the HTTP status. */
long h_double_reset(h_env *e);
/* POST /_double/faults with a JSON object (replaces all faults). */
long h_double_faults(h_env *e, const char *faults_json);

/* Audit helpers over a state object (from h_double_state). */
/* Invoices in the state as a borrowed array-ish view: count those whose
 * "reference" equals ref (NULL counts all). */
int  h_state_invoices(json_object *state, const char *ref);
/* Borrowed invoice with that reference (first), or NULL. */
json_object *h_state_invoice(json_object *state, const char *ref);
int  h_state_customers(json_object *state, const char *email);
/* True when no two invoices share a reference and no two customers share an
 * e-mail; else fills why. */
bool h_state_no_duplicates(json_object *state, char *why, size_t why_len);
/* Invoice's invoice_total_incl_vat as text ("123.45"), borrowed, or NULL. */
const char *h_invoice_total(json_object *invoice);
/* Compares two decimal texts as money (exact, 1/10000 units). */
bool h_money_eq(const char *a, const char *b);

/* Convenience: count invoices with ref in the double right now. */
int h_count_invoices(h_env *e, const char *ref);
/* Asserts, on the double's state now: each order in refs (NULL-terminated)
 * has exactly one invoice with the total H_ORDER_TOTAL, the buyer `email`
 * exactly one customer, no duplicates anywhere; and stats show nothing
 * failed. For tests whose orders are all the H_ORDER_FIXTURE order. */
void h_assert_orders_invoiced_once(h_env *e, const char *const *refs, const char *email);

/* ---- CLI ---- */

/* Runs bin/m2jortt --config <cfg> args... (NULL-terminated). *out gets a new
 * string with stdout (may be NULL to discard). Returns the exit status (-1 if
 * killed). */
int h_cli(h_env *e, char **out, ...) __attribute__((sentinel));
/* Same, parsing stdout as JSON: new object or NULL. */
json_object *h_cli_json(h_env *e, int *status, ...) __attribute__((sentinel));
/* `stats --json` as new object, or NULL. */
json_object *h_stats(h_env *e);
/* Integer field of a stats object (accepts numbers or numeric strings; looks
 * in the top level and in a nested "counters"/"queue" object); -1 if absent. */
long long h_stat(json_object *stats, const char *name);

/* ---- waiting ---- */

typedef bool (*h_pred)(h_env *e, void *arg);
/* Polls pred every 25 ms until it is true or deadline_ms passes. */
bool h_wait_until(h_env *e, long deadline_ms, h_pred pred, void *arg);

/* Predicates. */
typedef struct { const char *ref; int n; } h_invoices_arg;
bool h_pred_invoices(h_env *e, void *arg);    /* invoices with ref (NULL: all) == n */
bool h_pred_drained(h_env *e, void *arg);     /* stream and retry zset both empty (one MULTI) */
bool h_pred_dead(h_env *e, void *arg);        /* failed count >= *(long long *)arg */

/* ---- fixtures and JSON ---- */

/* New NUL-terminated contents of a file (path relative to the repo root) or
 * aborts the test. */
char *h_read_file(const char *path, size_t *len);
/* New JSON text: json_text with the value at a dot path replaced by
 * value_json (a JSON text) for each (path, value) pair; NULL-terminated. */
char *h_json_with(const char *json_text, ...) __attribute__((sentinel));
/* The synthetic NL order (EUR, 21 % VAT, shipping, grand total 92.17). */
#define H_ORDER_FIXTURE "tests/fixtures/integration/order-nl-processing.json"
#define H_ORDER_TOTAL   "92.17"
#define H_ORDER_EMAIL   "jan.devries@example.com"
/* New JSON text of a CloudEvent fixture with "id" and "event_id" set to
 * event_id and, when not NULL, data.value.increment_id = ref and
 * data.value.status = status. */
char *h_event(const char *fixture, const char *event_id, const char *ref, const char *status);
/* Posts h_event(...) signed (webhook id = event_id) and asserts 202. */
void h_post_event(h_env *e, const char *fixture, const char *event_id, const char *ref, const char *status);
/* New compact JSON of obj. */
char *h_json_text(json_object *obj);

/* ---- diagnostics ---- */

/* Prints the tail of every log in the env's dir to stderr. */
void h_dump_logs(h_env *e);
/* Assert with diagnostics: on failure dumps logs, then fails the test. */
#define H_ASSERT(e, cond, ...) do { \
        if (!(cond)) { h_dump_logs(e); ck_abort_msg(__VA_ARGS__); } \
    } while (0)
#define H_WAIT(e, ms, pred, arg, ...) \
    H_ASSERT(e, h_wait_until((e), (ms), (pred), (arg)), __VA_ARGS__)

/* Runs a suite in fork mode with a generous per-test timeout; returns the
 * process exit code for main(). */
int h_run_suite(Suite *s);
/* A TCase with the integration timeout set. */
TCase *h_tcase(const char *name);

#endif
