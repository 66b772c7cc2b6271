/* cli.h: the admin CLI's commands and the helpers they share.
 *
 * cli/ holds the `m2jortt` admin program: its commands and the helpers only
 * they share (argument parsing, the config-and-queue opening, time and file
 * helpers, masking for `show`). Anything the receiver or the worker could also
 * need goes in a common/ room: queue operations in queue/, mapping in
 * mapping/, Jortt calls in jortt/.
 *
 * Each command is a function over (ctx, argc, argv) that writes to ctx->out
 * and ctx->err and returns the process exit code, so tests can run a command
 * in-process with memory streams. argv[0] is the command name.
 *
 * Exit codes: 0 done, 1 failed (bad config, Redis unreachable, not found,
 * bad input file), 2 usage error. */
#ifndef M2J_CLI_H
#define M2J_CLI_H

#include "config/config.h"
#include "jortt/jortt_api.h"
#include "magento/magento_pace.h"
#include "queue/queue.h"
#include "magento/magento_client.h"
#include "base/buf.h"
#include <stdbool.h>
#include <stdio.h>

#define CLI_OK    0
#define CLI_FAIL  1
#define CLI_USAGE 2

/* Largest input file the CLI reads (sign, preview). */
#define CLI_MAX_FILE_BYTES ((size_t)64 * 1024 * 1024)

typedef struct {
    const char *config_path;  /* --config, or M2J_CONFIG_DEFAULT_PATH */
    FILE *out;
    FILE *err;
} cli_ctx;

int cli_cmd_stats(cli_ctx *c, int argc, char **argv);
int cli_cmd_failed(cli_ctx *c, int argc, char **argv);
int cli_cmd_show(cli_ctx *c, int argc, char **argv);
int cli_cmd_replay(cli_ctx *c, int argc, char **argv);
int cli_cmd_check_config(cli_ctx *c, int argc, char **argv);
int cli_cmd_sign(cli_ctx *c, int argc, char **argv);
int cli_cmd_preview(cli_ctx *c, int argc, char **argv);
int cli_cmd_backfill(cli_ctx *c, int argc, char **argv);
int cli_cmd_reconcile(cli_ctx *c, int argc, char **argv);
int cli_cmd_jortt(cli_ctx *c, int argc, char **argv);
int cli_cmd_magento(cli_ctx *c, int argc, char **argv);
int cli_cmd_purge(cli_ctx *c, int argc, char **argv);
int cli_cmd_forget(cli_ctx *c, int argc, char **argv);

/* What a loaded configuration does about sender authentication and
 * Magento (push only / polling every N s / signed or Bearer), in lines for
 * check-config. Appends to out. Pure. */
m2j_rc cli_config_summary(const m2j_config *cfg, m2j_buf *out);

/* Prints the usage text. */
void cli_usage(FILE *f);

/* ---- shared helpers (cli_util.c) ---- */

/* What a command works on. Filled by cli_start; the command owns both and
 * gives them back with cli_close. */
typedef struct {
    m2j_config *cfg;
    m2j_queue  *q;   /* NULL unless started with CLI_NEEDS_QUEUE */
} cli_session;

typedef enum {
    CLI_NEEDS_CONFIG,  /* the config only (sign, preview) */
    CLI_NEEDS_QUEUE    /* the config and an open queue */
} cli_needs;

/* The opening every command shares once it has read its arguments.
 *  bad: prints usage (whole lines) to ctx->err, returns CLI_USAGE.
 *  else loads the config and opens the queue if needed (and then reads the
 *  installation key, creating it when this is the first program to run,
 *  so masked values carry the tags the logs carry). On failure prints why to
 *  ctx->err ("m2jortt: <path>: <why>", or "m2jortt: cannot reach Redis at
 *  <where>: <why>": never the password), frees what it had and returns
 *  CLI_FAIL; otherwise CLI_OK.
 * s is always filled, so cli_close(s) is safe whatever this returned. */
int cli_start(cli_ctx *c, bool bad, const char *usage, cli_needs needs, cli_session *s);
void cli_close(cli_session *s);

/* ---- reading from Jortt (cli_jortt.c) ---- */

/* A Jortt connection for a command: the session's queue supplies the
 * fleet's token, rate limit and circuit breaker. Owns its HTTP client. */
typedef struct {
    m2j_jortt_api     api;
    m2j_jortt_client *http;
} cli_jortt;

/* s must hold a config and a queue. */
m2j_rc cli_jortt_open(cli_session *s, cli_jortt *j, m2j_err *err);
void   cli_jortt_close(cli_jortt *j);
typedef enum {
    CLI_JORTT_OK = 0,
    CLI_JORTT_NO_PLAN,   /* 401 organization.requires_mkb_plan: no API access at all */
    CLI_JORTT_FAILED     /* anything else: refused credentials, scope, unreachable, ... */
} cli_jortt_outcome;
/* GET path (list: every page's data[] into one array; else the data
 * object). OK with *data a new reference; otherwise why (reset first) says
 * in plain words what is wrong; scope names the OAuth scope the call needs,
 * for the message. */
cli_jortt_outcome cli_jortt_get(cli_jortt *j, const char *path, bool list, const char *scope,
                                json_object **data, m2j_buf *why);
/* m2j_jortt_try_credentials in words: true when Jortt issued a token for
 * the configured client credentials; false with why (reset first) when they
 * are refused or cannot be tried. */
bool cli_jortt_fresh_token(cli_jortt *j, m2j_buf *why);
/* Plain words for a failed Jortt answer: no API plan, missing scope,
 * refused credentials, or m2j_jortt_describe's text. */
void cli_jortt_why(const m2j_jortt_response *r, const char *scope, m2j_buf *out);

/* ---- reading from Magento (cli_magento.c) ---- */

/* A client for cfg's magento section (caller frees it); M2J_ERR_INVALID
 * with a sentence when magento.rest_url is empty. The CLI's few requests do
 * not take slots of the fleet's Magento rate limit. */
m2j_rc cli_magento_client(const m2j_config *cfg, m2j_magento_client **out, m2j_err *err);

/* ---- check-config --online (check_online.c) ---- */

/* One line per check of s->cfg against Redis, Jortt and Magento, on
 * ctx->out. Opens the queue itself (into s->q, for cli_close) because an
 * unreachable Redis is one of the things it reports. CLI_OK when no check
 * failed (warnings and skips allowed), else CLI_FAIL. */
int cli_check_online(cli_ctx *c, cli_session *s);

/* For a command's argument loop: arg is the command's one positional
 * argument if it does not look like an option and *positional is still
 * unset; anything else is "m2jortt <cmd>: unexpected argument <arg>" on
 * ctx->err and sets *bad. */
void cli_positional(cli_ctx *c, const char *cmd, const char *arg, const char **positional, bool *bad);

/* "<path>: <why>" for a config load error (the loader's message may
 * already start with the path). Rewrites err->msg; returns it. */
const char *cli_config_error(const char *path, m2j_err *err);

/* "--since" values: a duration back from now ("90s", "30m", "2h", "7d",
 * "1w", or a sum like "1h30m"), or an ISO 8601 date/time ("2026-11-29",
 * "2026-11-29T04:00", "2026-11-29T04:00:00Z", "...+01:00"; no zone = UTC).
 * Writes the point in time as ms since the epoch. */
m2j_rc cli_parse_since(const char *s, long long now_ms, long long *since_ms, m2j_err *err);
/* Parses a non-negative decimal integer (whole string). */
bool cli_parse_count(const char *s, long long *out);

/* "2026-11-29T04:54:40Z" (UTC, second precision); "-" for 0. buf >= 32. */
char *cli_format_time(long long ms, char *buf, size_t n);
/* Compact age: "45s", "12m", "3h05m", "2d04h". buf >= 32. */
char *cli_format_age(long long ms, char *buf, size_t n);
/* A rate as a percentage: 210000 -> "21%", 55000 -> "5.5%". buf >= 32. */
char *cli_format_rate(m2j_rate r, char *buf, size_t n);

/* Reads a whole file (at most max bytes) into out. */
m2j_rc cli_read_file(const char *path, size_t max, m2j_buf *out, m2j_err *err);

/* Pretty JSON for humans (2-space indent, slashes unescaped). Borrowed. */
const char *cli_json_pretty(json_object *o);

/* True when arg is "--name" and takes the next argv as its value; sets *val
 * and advances *i. Prints a usage error and sets *bad when the value is
 * missing. Also accepts "--name=value". */
bool cli_opt_value(cli_ctx *c, int argc, char **argv, int *i, const char *name, const char **val, bool *bad);

/* ---- Magento's REST API (cli_magento.c) ---- */

typedef struct {
    m2j_magento_client *client;      /* owned */
    m2j_magento_pace    fleet;       /* the fleet-wide limit, when a queue is open */
    long long           interval_ms; /* else a per-process pace: 1 / magento.requests_per_second */
    long long           next_ms;     /* monotonic time the next request may go */
} cli_magento;

/* A paced client from cfg->magento; on failure (no magento.rest_url, no
 * token) prints "m2jortt <cmd>: <why>" to ctx->err. With q (may be NULL) it
 * shares the fleet's limit in Redis with the workers' poller; without (a
 * count that needs no Redis) it paces itself. */
m2j_rc cli_magento_open(cli_ctx *c, const char *cmd, const m2j_config *cfg, m2j_queue *q, cli_magento *m);
void   cli_magento_close(cli_magento *m);
/* Requests sent so far. */
long   cli_magento_calls(const cli_magento *m);

typedef struct {
    long queued;      /* new events in the stream */
    long duplicates;  /* already accepted under the same event id */
    long unusable;    /* no entity_id, or the order could not be normalised */
} cli_enqueue_counts;

/* Queues REST orders (borrowed) as the ordinary order events the poller
 * queues (magento/order_event.h): same ids, so each is deduplicated against
 * every other path. One enqueue script for the whole batch. Adds to
 * *counts; M2J_ERR_IO when Redis cannot take them (nothing of the batch
 * was queued then). */
m2j_rc cli_enqueue_orders(m2j_queue *q, const m2j_config *cfg, json_object *const *orders, size_t n,
                          cli_enqueue_counts *counts, m2j_err *err);

#endif
