/* log.h: structured logs, one line per event, to stderr.
 *
 * Format: logfmt  ts=2026-11-29T04:35:55.123Z level=info msg="event queued" k=v ...
 * Values are quoted and escaped when needed. Personal data (e-mail, names,
 * addresses) must never be passed in clear: use m2j_log_pseudonym() to log a
 * stable, non-reversible tag instead (e.g. email=h:3f9a1c2b).
 *
 * Usage:  m2j_log(M2J_LOG_INFO, "event queued", "id", id, "kind", "order", NULL);
 * The variadic part is key, value pairs of const char*, terminated by NULL. */
#ifndef M2J_LOG_H
#define M2J_LOG_H

typedef enum { M2J_LOG_DEBUG, M2J_LOG_INFO, M2J_LOG_WARN, M2J_LOG_ERROR } m2j_log_level;

void m2j_log_set_level(m2j_log_level lvl);
/* Parses "debug"|"info"|"warn"|"error"; returns -1 if unknown. */
int  m2j_log_level_parse(const char *s);
/* Sets a component name printed as comp=NAME on every line (e.g. "worker"). */
void m2j_log_set_component(const char *name);
void m2j_log(m2j_log_level lvl, const char *msg, ...) __attribute__((sentinel));

/* Writes "h:" + first 12 hex chars of HMAC-SHA256(process-wide log key, s)
 * into out (at least 16 bytes). The log key is random per installation unless
 * set with m2j_log_set_pseudonym_key (the config's redis key prefix is used so
 * all processes agree). NULL or "" gives "-". Returns out. */
#define M2J_PSEUDONYM_LEN 16
char *m2j_log_pseudonym(const char *s, char *out);
void  m2j_log_set_pseudonym_key(const char *key);

#endif
