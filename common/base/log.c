/* log.c: logfmt or JSON lines to stderr (see log.h).
 *
 * Each line is assembled in memory, then either handed whole to the writer
 * thread (base/log_queue.c, once m2j_log_start_writer ran) or written with
 * one fwrite, so lines from several threads never interleave (stdio locks
 * the stream per call). */
#include "base/log.h"

#include "base/buf.h"
#include "base/crypto_util.h"
#include "base/log_queue.h"
#include "base/pseudonym.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static atomic_int g_level = M2J_LOG_INFO;
static atomic_int g_format = M2J_LOG_LOGFMT;
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static char *g_component;    /* guarded by g_lock */
static unsigned char g_install_key[M2J_INSTALL_KEY_LEN]; /* guarded by g_lock */
static bool g_have_install_key;                          /* guarded by g_lock */

static const char *level_name(m2j_log_level l)
{
    switch (l) {
    case M2J_LOG_DEBUG: return "debug";
    case M2J_LOG_INFO:  return "info";
    case M2J_LOG_WARN:  return "warn";
    case M2J_LOG_ERROR: return "error";
    }
    return "info";
}

void m2j_log_set_level(m2j_log_level lvl)
{
    atomic_store(&g_level, (int)lvl);
}

int m2j_log_level_parse(const char *s)
{
    if (!s)
        return -1;
    if (strcmp(s, "debug") == 0) return M2J_LOG_DEBUG;
    if (strcmp(s, "info") == 0)  return M2J_LOG_INFO;
    if (strcmp(s, "warn") == 0)  return M2J_LOG_WARN;
    if (strcmp(s, "error") == 0) return M2J_LOG_ERROR;
    return -1;
}

void m2j_log_set_format(m2j_log_format f)
{
    atomic_store(&g_format, (int)f);
}

int m2j_log_format_parse(const char *s)
{
    if (s && strcmp(s, "logfmt") == 0) return M2J_LOG_LOGFMT;
    if (s && strcmp(s, "json") == 0)   return M2J_LOG_JSON;
    return -1;
}

static void set_string(char **slot, const char *s)
{
    char *copy = (s && *s) ? strdup(s) : NULL;
    pthread_mutex_lock(&g_lock);
    char *old = *slot;
    *slot = copy;
    pthread_mutex_unlock(&g_lock);
    free(old);
}

void m2j_log_set_component(const char *name)
{
    set_string(&g_component, name);
}

void m2j_log_set_install_key(const unsigned char *key)
{
    pthread_mutex_lock(&g_lock);
    if (key)
        memcpy(g_install_key, key, sizeof g_install_key);
    else
        explicit_bzero(g_install_key, sizeof g_install_key);
    g_have_install_key = key != NULL;
    pthread_mutex_unlock(&g_lock);
}

static bool needs_quotes(const char *s)
{
    if (!*s)
        return true;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p <= ' ' || *p == '"' || *p == '=' || *p == '\\' || *p == 0x7f)
            return true;
    return false;
}

/* Appends v, quoted and escaped when a logfmt parser would need it. Returns
 * non-zero if any append failed (the line is then incomplete). */
static int append_value(m2j_buf *b, const char *v)
{
    if (!v)
        v = "";
    if (!needs_quotes(v))
        return m2j_buf_puts(b, v) != M2J_OK;
    int bad = m2j_buf_append(b, "\"", 1) != M2J_OK;
    for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
        switch (*p) {
        case '"':  bad |= m2j_buf_append(b, "\\\"", 2) != M2J_OK; break;
        case '\\': bad |= m2j_buf_append(b, "\\\\", 2) != M2J_OK; break;
        case '\n': bad |= m2j_buf_append(b, "\\n", 2) != M2J_OK; break;
        case '\r': bad |= m2j_buf_append(b, "\\r", 2) != M2J_OK; break;
        case '\t': bad |= m2j_buf_append(b, "\\t", 2) != M2J_OK; break;
        default:
            if (*p < 0x20 || *p == 0x7f)
                bad |= m2j_buf_printf(b, "\\x%02x", *p) != M2J_OK;
            else
                bad |= m2j_buf_append(b, p, 1) != M2J_OK;
        }
    }
    return bad | (m2j_buf_append(b, "\"", 1) != M2J_OK);
}

/* Keys are our own constants, but a stray space or '=' would break parsing
 * of the whole line, so they are made safe rather than trusted. */
static int append_key(m2j_buf *b, const char *k)
{
    if (!*k)
        return m2j_buf_puts(b, "_") != M2J_OK;
    int bad = 0;
    for (const unsigned char *p = (const unsigned char *)k; *p; p++) {
        char c = (*p <= ' ' || *p == '"' || *p == '=' || *p == '\\' || *p >= 0x7f) ? '_' : (char)*p;
        bad |= m2j_buf_append(b, &c, 1) != M2J_OK;
    }
    return bad;
}

/* A JSON string: quotes, backslashes and control characters escaped, so
 * one line is always one parseable object whatever a value holds. */
static int append_json_string(m2j_buf *b, const char *v)
{
    int bad = m2j_buf_append(b, "\"", 1) != M2J_OK;
    for (const unsigned char *p = (const unsigned char *)(v ? v : ""); *p; p++) {
        if (*p == '"' || *p == '\\')
            bad |= m2j_buf_printf(b, "\\%c", *p) != M2J_OK;
        else if (*p == '\n')
            bad |= m2j_buf_puts(b, "\\n") != M2J_OK;
        else if (*p < 0x20 || *p == 0x7f)
            bad |= m2j_buf_printf(b, "\\u%04x", *p) != M2J_OK;
        else
            bad |= m2j_buf_append(b, p, 1) != M2J_OK;
    }
    return bad | (m2j_buf_append(b, "\"", 1) != M2J_OK);
}

static int build_json(m2j_buf *b, const char *ts, m2j_log_level lvl, const char *msg, va_list ap)
{
    int bad = m2j_buf_printf(b, "{\"ts\":\"%s\",\"level\":\"%s\"", ts, level_name(lvl)) != M2J_OK;
    pthread_mutex_lock(&g_lock);
    if (g_component) {
        bad |= m2j_buf_puts(b, ",\"comp\":") != M2J_OK;
        bad |= append_json_string(b, g_component);
    }
    pthread_mutex_unlock(&g_lock);
    bad |= m2j_buf_puts(b, ",\"msg\":") != M2J_OK;
    bad |= append_json_string(b, msg);
    const char *k;
    while ((k = va_arg(ap, const char *)) != NULL) {
        const char *v = va_arg(ap, const char *);
        bad |= m2j_buf_append(b, ",", 1) != M2J_OK;
        bad |= append_json_string(b, k);
        bad |= m2j_buf_append(b, ":", 1) != M2J_OK;
        bad |= append_json_string(b, v);
    }
    bad |= m2j_buf_puts(b, "}\n") != M2J_OK;
    return bad;
}

/* Builds one whole line (with its '\n') into b. Non-zero when an append
 * failed (out of memory: the line is then incomplete). */
static int build_line(m2j_buf *b, m2j_log_level lvl, const char *msg, va_list ap)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char when[96];
    snprintf(when, sizeof when, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000L);
    if (atomic_load(&g_format) == M2J_LOG_JSON)
        return build_json(b, when, lvl, msg, ap);

    int bad = m2j_buf_printf(b, "ts=%s level=%s", when, level_name(lvl)) != M2J_OK;
    pthread_mutex_lock(&g_lock);
    if (g_component) {
        bad |= m2j_buf_puts(b, " comp=") != M2J_OK;
        bad |= append_value(b, g_component);
    }
    pthread_mutex_unlock(&g_lock);
    bad |= m2j_buf_puts(b, " msg=") != M2J_OK;
    bad |= append_value(b, msg);

    const char *k;
    while ((k = va_arg(ap, const char *)) != NULL) {
        const char *v = va_arg(ap, const char *);
        bad |= m2j_buf_append(b, " ", 1) != M2J_OK;
        bad |= append_key(b, k);
        bad |= m2j_buf_append(b, "=", 1) != M2J_OK;
        bad |= append_value(b, v);
    }
    bad |= m2j_buf_append(b, "\n", 1) != M2J_OK;
    return bad;
}

void m2j_log(m2j_log_level lvl, const char *msg, ...)
{
    if ((int)lvl < atomic_load(&g_level))
        return;
    m2j_buf b = {0};
    va_list ap;
    va_start(ap, msg);
    int bad = build_line(&b, lvl, msg, ap);
    va_end(ap);
    /* Out of memory part-way: say so rather than emit a torn line. */
    static const char oom[] = "level=error msg=\"log line dropped: out of memory\"\n";
    static const char oom_json[] = "{\"level\":\"error\",\"msg\":\"log line dropped: out of memory\"}\n";
    bool json = atomic_load(&g_format) == M2J_LOG_JSON;
    const char *line = bad ? (json ? oom_json : oom) : b.data;
    size_t len = bad ? (json ? sizeof oom_json : sizeof oom) - 1 : b.len;
    if (!m2j_logq_push(line, len)) {
        fwrite(line, 1, len, stderr);
        fflush(stderr);
    }
    m2j_buf_free(&b);
}

static char *line_of(size_t *len, m2j_log_level lvl, const char *msg, ...)
{
    m2j_buf b = {0};
    va_list ap;
    va_start(ap, msg);
    int bad = build_line(&b, lvl, msg, ap);
    va_end(ap);
    if (bad) {
        m2j_buf_free(&b);
        return NULL;
    }
    *len = b.len;
    return m2j_buf_detach(&b);
}

/* Runs on the writer thread once the lines before a gap are written. */
static char *dropped_notice(unsigned long long dropped, size_t *len)
{
    char msg[64], n[24];
    snprintf(msg, sizeof msg, "log: %llu lines dropped", dropped);
    snprintf(n, sizeof n, "%llu", dropped);
    return line_of(len, M2J_LOG_WARN, msg, "dropped", n, NULL);
}

static void stop_writer_at_exit(void)
{
    m2j_logq_stop(M2J_LOG_FLUSH_MS);
}

static void register_exit_flush(void)
{
    atexit(stop_writer_at_exit);
}

int m2j_log_start_writer(size_t max_queued_bytes)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    int rc = m2j_logq_start(fileno(stderr), max_queued_bytes, dropped_notice);
    if (rc == 0)
        pthread_once(&once, register_exit_flush);
    return rc;
}

void m2j_log_stop_writer(void)
{
    m2j_logq_stop(M2J_LOG_FLUSH_MS);
}

char *m2j_log_pseudonym(const char *s, char *out)
{
    pthread_mutex_lock(&g_lock);
    m2j_pseudonym(g_have_install_key ? g_install_key : NULL, s, out);
    pthread_mutex_unlock(&g_lock);
    return out;
}

void m2j_log_apply(const char *level, const char *format)
{
    int lvl = m2j_log_level_parse(level ? level : "info");
    if (lvl >= 0)
        m2j_log_set_level((m2j_log_level)lvl);
    int fmt = m2j_log_format_parse(format);
    if (fmt >= 0)
        m2j_log_set_format((m2j_log_format)fmt);
}
