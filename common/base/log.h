/* log.h: structured logs, one line per event, to stderr.
 *
 * Format: logfmt  ts=2026-11-29T04:35:55.123Z level=info msg="event queued" k=v ...
 * Values are quoted and escaped when needed. Or (log.format "json") one
 * JSON object a line with the same keys, every value a string:
 *   {"ts":"2026-11-29T04:35:55.123Z","level":"info","msg":"event queued","k":"v"} Personal data (e-mail, names,
 * addresses) must never be passed in clear: use m2j_log_pseudonym() to log a
 * stable tag keyed with the installation key instead
 * (email=h:3f9a1c2b04d5e6f708192a3b, base/pseudonym.h).
 *
 * Usage:  m2j_log(M2J_LOG_INFO, "event queued", "id", id, "kind", "order", NULL);
 * The variadic part is key, value pairs of const char*, terminated by NULL. */
#ifndef M2J_LOG_H
#define M2J_LOG_H

#include "base/pseudonym.h"
#include <stdbool.h>
#include <stddef.h>

typedef enum { M2J_LOG_DEBUG, M2J_LOG_INFO, M2J_LOG_WARN, M2J_LOG_ERROR } m2j_log_level;

void m2j_log_set_level(m2j_log_level lvl);
typedef enum { M2J_LOG_LOGFMT, M2J_LOG_JSON } m2j_log_format;
void m2j_log_set_format(m2j_log_format f);
/* Parses "logfmt"|"json"; returns -1 if unknown. */
int  m2j_log_format_parse(const char *s);
/* Parses "debug"|"info"|"warn"|"error"; returns -1 if unknown. */
int  m2j_log_level_parse(const char *s);
/* A program's logging as its configuration says: level ("debug" ... "error",
 * NULL or unknown = info) and format ("logfmt" | "json", NULL or unknown =
 * logfmt). The config loader has checked the values. The pseudonym key
 * comes from Redis, later: m2j_log_set_install_key. */
void m2j_log_apply(const char *level, const char *format);
/* Sets a component name printed as comp=NAME on every line (e.g. "worker"). */
void m2j_log_set_component(const char *name);
void m2j_log(m2j_log_level lvl, const char *msg, ...) __attribute__((sentinel));
/* Whether a line at lvl would be written: lets a hot path skip formatting
 * the values of a line nobody reads (the receiver's per-request line). */
bool m2j_log_enabled(m2j_log_level lvl);

/* By default a line is written to stderr before m2j_log returns, waiting for
 * the reader if it is slow (fine for the worker and the CLI). A process
 * whose threads must never wait for the log reader (the receiver's event
 * loops) calls m2j_log_start_writer first: lines then go through a queue of
 * at most max_queued_bytes to a writer thread; lines past the bound are
 * dropped and counted, and "log: N lines dropped" is logged once the reader
 * catches up (base/log_queue.h). What is queued is written at exit (an atexit
 * handler) or by m2j_log_stop_writer, waiting at most M2J_LOG_FLUSH_MS for a
 * reader that does not read. Returns 0, or an errno when the thread cannot
 * start (writing then stays as by default). Not after fork. */
#define M2J_LOG_FLUSH_MS 2000
int  m2j_log_start_writer(size_t max_queued_bytes);
void m2j_log_stop_writer(void);

/* Writes m2j_pseudonym(installation key, s) into out (at least
 * M2J_PSEUDONYM_LEN bytes): "h:" + 24 hex digits, "-" for NULL or "".
 * Until m2j_log_set_install_key ran (a process that has not read the key
 * from Redis: the receiver, which logs no personal data) it writes "h:?":
 * never the value, never an unkeyed hash. Returns out. */
char *m2j_log_pseudonym(const char *s, char *out);
/* The installation key (M2J_INSTALL_KEY_LEN bytes, copied; NULL forgets
 * it), read by queue/install_key.c. */
void  m2j_log_set_install_key(const unsigned char *key);

#endif
