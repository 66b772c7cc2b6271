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

/* The line is built with appends of runs and small hand-written
 * formatters, not printf: the receiver writes one per request. The
 * format is exactly what it was with printf (tests/unit/test_buf_log.c
 * pins it byte for byte). */

static bool logfmt_plain(unsigned char c)
{
    return c > ' ' && c != '"' && c != '=' && c != '\\' && c != 0x7f;
}

static bool needs_quotes(const char *s)
{
    if (!*s)
        return true;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (!logfmt_plain(*p))
            return true;
    return false;
}

static const char hexdig[] = "0123456789abcdef";

/* Appends the bytes from p up to the first one a quoted value must escape
 * (a control character, '"', '\\', DEL) and returns where it stopped. Shared
 * by the logfmt and JSON writers: both quote the same bytes. */
static const unsigned char *append_unescaped(m2j_buf *b, const unsigned char *p, int *bad)
{
    const unsigned char *run = p;
    while (*p && *p >= 0x20 && *p != '"' && *p != '\\' && *p != 0x7f)
        p++;
    if (p > run)
        *bad |= m2j_buf_append(b, run, (size_t)(p - run)) != M2J_OK;
    return p;
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
    const unsigned char *p = (const unsigned char *)v;
    while (*p) {
        p = append_unescaped(b, p, &bad);
        if (!*p)
            break;
        char e[4] = { '\\', 0, 0, 0 };
        size_t n = 2;
        switch (*p) {
        case '"':  e[1] = '"'; break;
        case '\\': e[1] = '\\'; break;
        case '\n': e[1] = 'n'; break;
        case '\r': e[1] = 'r'; break;
        case '\t': e[1] = 't'; break;
        default: /* \xNN */
            e[1] = 'x';
            e[2] = hexdig[*p >> 4];
            e[3] = hexdig[*p & 15];
            n = 4;
        }
        bad |= m2j_buf_append(b, e, n) != M2J_OK;
        p++;
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
    const unsigned char *p = (const unsigned char *)k;
    while (*p) {
        const unsigned char *run = p;
        while (*p && logfmt_plain(*p) && *p < 0x7f)
            p++;
        if (p > run)
            bad |= m2j_buf_append(b, run, (size_t)(p - run)) != M2J_OK;
        if (!*p)
            break;
        bad |= m2j_buf_append(b, "_", 1) != M2J_OK;
        p++;
    }
    return bad;
}

/* A JSON string: quotes, backslashes and control characters escaped, so
 * one line is always one parseable object whatever a value holds. */
static int append_json_string(m2j_buf *b, const char *v)
{
    int bad = m2j_buf_append(b, "\"", 1) != M2J_OK;
    const unsigned char *p = (const unsigned char *)(v ? v : "");
    while (*p) {
        p = append_unescaped(b, p, &bad);
        if (!*p)
            break;
        if (*p == '"' || *p == '\\') {
            char e[2] = { '\\', (char)*p };
            bad |= m2j_buf_append(b, e, 2) != M2J_OK;
        } else if (*p == '\n') {
            bad |= m2j_buf_append(b, "\\n", 2) != M2J_OK;
        } else { /* \u00NN */
            char e[6] = { '\\', 'u', '0', '0', hexdig[*p >> 4], hexdig[*p & 15] };
            bad |= m2j_buf_append(b, e, 6) != M2J_OK;
        }
        p++;
    }
    return bad | (m2j_buf_append(b, "\"", 1) != M2J_OK);
}

static int build_json(m2j_buf *b, const char *ts, m2j_log_level lvl, const char *msg, va_list ap)
{
    int bad = m2j_buf_puts(b, "{\"ts\":\"") != M2J_OK;
    bad |= m2j_buf_puts(b, ts) != M2J_OK;
    bad |= m2j_buf_puts(b, "\",\"level\":\"") != M2J_OK;
    bad |= m2j_buf_puts(b, level_name(lvl)) != M2J_OK;
    bad |= m2j_buf_append(b, "\"", 1) != M2J_OK;
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

/* n in exactly width digits (zero-padded; n is never wider here). */
static char *put_digits(char *o, long n, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        o[i] = (char)('0' + n % 10);
        n /= 10;
    }
    return o + width;
}

/* ts: YYYY-MM-DDTHH:MM:SS.mmmZ (UTC), what "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ"
 * gave; out has room for TS_CAP bytes. */
#define TS_CAP 96
static void format_ts(char *out)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    long year = tm.tm_year + 1900L;
    if (year < 0 || year > 9999) { /* not this millennium: leave it to printf */
        snprintf(out, TS_CAP, "%04ld-%02d-%02dT%02d:%02d:%02d.%03ldZ", year, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                 tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000L);
        return;
    }
    char *o = put_digits(out, year, 4);
    *o++ = '-';
    o = put_digits(o, tm.tm_mon + 1, 2);
    *o++ = '-';
    o = put_digits(o, tm.tm_mday, 2);
    *o++ = 'T';
    o = put_digits(o, tm.tm_hour, 2);
    *o++ = ':';
    o = put_digits(o, tm.tm_min, 2);
    *o++ = ':';
    o = put_digits(o, tm.tm_sec, 2);
    *o++ = '.';
    o = put_digits(o, ts.tv_nsec / 1000000L, 3);
    *o++ = 'Z';
    *o = '\0';
}

/* Builds one whole line (with its '\n') into b. Non-zero when an append
 * failed (out of memory: the line is then incomplete). */
static int build_line(m2j_buf *b, m2j_log_level lvl, const char *msg, va_list ap)
{
    char when[TS_CAP];
    format_ts(when);
    if (atomic_load(&g_format) == M2J_LOG_JSON)
        return build_json(b, when, lvl, msg, ap);

    int bad = m2j_buf_puts(b, "ts=") != M2J_OK;
    bad |= m2j_buf_puts(b, when) != M2J_OK;
    bad |= m2j_buf_puts(b, " level=") != M2J_OK;
    bad |= m2j_buf_puts(b, level_name(lvl)) != M2J_OK;
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

/* Each thread's line buffer, kept between lines (a line is usually a few
 * hundred bytes; a buffer that grew past LINE_KEEP_BYTES for one long line
 * is given back). Owned by its thread, freed when the thread ends. */
#define LINE_KEEP_BYTES 16384
static pthread_key_t g_line_key;
static pthread_once_t g_line_once = PTHREAD_ONCE_INIT;
static bool g_line_key_ok;

static void line_buf_free(void *p)
{
    m2j_buf *b = p;
    m2j_buf_free(b);
    free(b);
}

static void line_key_make(void)
{
    g_line_key_ok = pthread_key_create(&g_line_key, line_buf_free) == 0;
}

/* NULL when none could be made: the caller uses a buffer of its own. */
static m2j_buf *line_buf(void)
{
    pthread_once(&g_line_once, line_key_make);
    if (!g_line_key_ok)
        return NULL;
    m2j_buf *b = pthread_getspecific(g_line_key);
    if (!b && (b = calloc(1, sizeof *b)) && pthread_setspecific(g_line_key, b) != 0) {
        free(b);
        b = NULL;
    }
    return b;
}

bool m2j_log_enabled(m2j_log_level lvl)
{
    return (int)lvl >= atomic_load(&g_level);
}

void m2j_log(m2j_log_level lvl, const char *msg, ...)
{
    if (!m2j_log_enabled(lvl))
        return;
    m2j_buf own = {0};
    m2j_buf *b = line_buf();
    if (!b)
        b = &own;
    m2j_buf_reset(b);
    va_list ap;
    va_start(ap, msg);
    int bad = build_line(b, lvl, msg, ap);
    va_end(ap);
    /* Out of memory part-way: say so rather than emit a torn line. */
    static const char oom[] = "level=error msg=\"log line dropped: out of memory\"\n";
    static const char oom_json[] = "{\"level\":\"error\",\"msg\":\"log line dropped: out of memory\"}\n";
    bool json = atomic_load(&g_format) == M2J_LOG_JSON;
    const char *line = bad ? (json ? oom_json : oom) : b->data;
    size_t len = bad ? (json ? sizeof oom_json : sizeof oom) - 1 : b->len;
    if (!m2j_logq_push(line, len)) {
        fwrite(line, 1, len, stderr);
        fflush(stderr);
    }
    if (b == &own || b->cap > LINE_KEEP_BYTES)
        m2j_buf_free(b);
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
