/* cli_util.c: what every CLI command needs: config, Redis, time and file
 * helpers. */
#include "cli/cli.h"
#include "base/log.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

const char *cli_config_error(const char *path, m2j_err *err)
{
    size_t n = strlen(path);
    if (strncmp(err->msg, path, n) != 0) {
        char why[sizeof err->msg];
        memcpy(why, err->msg, sizeof why);
        m2j_fail(err, err->rc, "%s: %s", path, why);
    }
    return err->msg;
}

static m2j_rc load_config(cli_ctx *c, m2j_config **cfg)
{
    m2j_err err;
    m2j_rc rc = m2j_config_load(c->config_path, cfg, &err);
    if (rc != M2J_OK) {
        fprintf(c->err, "m2jortt: %s\n", cli_config_error(c->config_path, &err));
        return rc;
    }
    int fmt = m2j_log_format_parse((*cfg)->log.format);
    if (fmt >= 0)
        m2j_log_set_format((m2j_log_format)fmt);
    return M2J_OK;
}

static m2j_rc open_queue(cli_ctx *c, const m2j_config *cfg, m2j_queue **q)
{
    m2j_err err;
    m2j_rc rc = m2j_queue_open(cfg, q, &err);
    if (rc != M2J_OK) {
        const m2j_redis_config *r = &cfg->redis;
        const char *what = rc == M2J_ERR_AUTH ? "Redis refused our credentials" : "cannot reach Redis";
        if (r->unix_path)
            fprintf(c->err, "m2jortt: %s at unix:%s (db %d): %s\n", what, r->unix_path, r->db, err.msg);
        else
            fprintf(c->err, "m2jortt: %s at %s:%d (db %d): %s\n", what,
                    r->host ? r->host : "127.0.0.1", r->port, r->db, err.msg);
    }
    return rc;
}

int cli_start(cli_ctx *c, bool bad, const char *usage, cli_needs needs, cli_session *s)
{
    s->cfg = NULL;
    s->q = NULL;
    if (bad) {
        fputs(usage, c->err);
        return CLI_USAGE;
    }
    if (load_config(c, &s->cfg) != M2J_OK)
        return CLI_FAIL;
    if (needs == CLI_NEEDS_QUEUE && open_queue(c, s->cfg, &s->q) != M2J_OK) {
        cli_close(s);
        return CLI_FAIL;
    }
    if (s->q) {
        /* masked values in `show` carry the tags the logs carry */
        unsigned char key[M2J_INSTALL_KEY_LEN];
        m2j_err err;
        if (m2j_queue_install_key(s->q, key, NULL, &err) != M2J_OK) {
            fprintf(c->err, "m2jortt: the installation key: %s\n", err.msg);
            cli_close(s);
            return CLI_FAIL;
        }
        m2j_log_set_install_key(key);
        explicit_bzero(key, sizeof key);
    }
    return CLI_OK;
}

void cli_close(cli_session *s)
{
    if (s->q)
        m2j_queue_close(s->q);
    if (s->cfg)
        m2j_config_free(s->cfg);
    s->q = NULL;
    s->cfg = NULL;
}

void cli_positional(cli_ctx *c, const char *cmd, const char *arg, const char **positional, bool *bad)
{
    if (arg[0] != '-' && !*positional) {
        *positional = arg;
        return;
    }
    fprintf(c->err, "m2jortt %s: unexpected argument %s\n", cmd, arg);
    *bad = true;
}

bool cli_parse_count(const char *s, long long *out)
{
    if (!s || !isdigit((unsigned char)*s))
        return false;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}

/* Reads exactly n digits at *p. */
static bool digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i]))
            return false;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return true;
}

static bool parse_iso(const char *s, long long *ms)
{
    const char *p = s;
    int y, mo, d, h = 0, mi = 0, sec = 0, frac = 0;
    if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &mo) || *p++ != '-' || !digits(&p, 2, &d))
        return false;
    if (*p == 'T' || *p == 't' || *p == ' ') {
        p++;
        if (!digits(&p, 2, &h) || *p++ != ':' || !digits(&p, 2, &mi))
            return false;
        if (*p == ':') {
            p++;
            if (!digits(&p, 2, &sec))
                return false;
            if (*p == '.') {
                p++;
                int scale = 100;
                if (!isdigit((unsigned char)*p))
                    return false;
                while (isdigit((unsigned char)*p)) {
                    frac += (*p - '0') * scale;
                    scale /= 10;
                    p++;
                }
            }
        }
    }
    long offset_min = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p++ == '-' ? -1 : 1, oh, om = 0;
        if (!digits(&p, 2, &oh))
            return false;
        if (*p == ':')
            p++;
        if (*p && !digits(&p, 2, &om))
            return false;
        offset_min = sign * (oh * 60 + om);
    }
    if (*p || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return false;
    struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi, .tm_sec = sec };
    time_t t = timegm(&tm);
    if (t == (time_t)-1)
        return false;
    *ms = ((long long)t - offset_min * 60) * 1000 + frac;
    return true;
}

/* "1h30m": the sum of number-unit pairs, as ms back from now_ms. */
static bool parse_duration(const char *s, long long now_ms, long long *since_ms)
{
    long long total = 0;
    const char *p = s;
    while (*p) {
        if (!isdigit((unsigned char)*p))
            return false;
        long long v = 0;
        while (isdigit((unsigned char)*p)) {
            v = v * 10 + (*p - '0');
            if (v > 100000000LL)
                return false;
            p++;
        }
        long long unit;
        switch (*p) {
        case 's': unit = 1000; break;
        case 'm': unit = 60 * 1000LL; break;
        case 'h': unit = 3600 * 1000LL; break;
        case 'd': unit = 86400 * 1000LL; break;
        case 'w': unit = 7 * 86400 * 1000LL; break;
        default: return false;
        }
        p++;
        total += v * unit;
        if (total > 100LL * 365 * 86400 * 1000)
            return false;
    }
    *since_ms = now_ms - total;
    return true;
}

m2j_rc cli_parse_since(const char *s, long long now_ms, long long *since_ms, m2j_err *err)
{
    if (!s || !*s)
        return m2j_fail(err, M2J_ERR_INVALID, "empty --since value");
    /* A date starts with four digits and a dash; a duration never does. */
    bool date = strlen(s) >= 5 && isdigit((unsigned char)s[0]) && isdigit((unsigned char)s[3]) && s[4] == '-';
    if (date ? parse_iso(s, since_ms) : parse_duration(s, now_ms, since_ms))
        return M2J_OK;
    return m2j_fail(err, M2J_ERR_INVALID, "not a duration (30m, 2h, 7d) or ISO 8601 date: %.100s", s);
}

char *cli_format_time(long long ms, char *buf, size_t n)
{
    if (ms <= 0) {
        snprintf(buf, n, "-");
        return buf;
    }
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

char *cli_format_age(long long ms, char *buf, size_t n)
{
    long long s = ms > 0 ? ms / 1000 : 0;
    if (s < 60)
        snprintf(buf, n, "%llds", s);
    else if (s < 3600)
        snprintf(buf, n, "%lldm", s / 60);
    else if (s < 86400)
        snprintf(buf, n, "%lldh%02lldm", s / 3600, s % 3600 / 60);
    else
        snprintf(buf, n, "%lldd%02lldh", s / 86400, s % 86400 / 3600);
    return buf;
}

char *cli_format_rate(m2j_rate r, char *buf, size_t n)
{
    long long whole = (long long)(r / M2J_RATE_SCALE), frac = (long long)(r % M2J_RATE_SCALE);
    if (frac < 0)
        frac = -frac;
    if (frac == 0) {
        snprintf(buf, n, "%lld%%", whole);
        return buf;
    }
    char f[8];
    snprintf(f, sizeof f, "%04lld", frac);
    for (int i = 3; i > 0 && f[i] == '0'; i--)
        f[i] = '\0';
    snprintf(buf, n, "%lld.%s%%", whole, f);
    return buf;
}

m2j_rc cli_read_file(const char *path, size_t max, m2j_buf *out, m2j_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return m2j_fail(err, M2J_ERR_IO, "%s: %s", path, strerror(errno));
    m2j_buf_reset(out);
    char chunk[65536];
    size_t got;
    m2j_rc rc = M2J_OK;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (out->len + got > max) {
            rc = m2j_fail(err, M2J_ERR_TOO_LARGE, "%s: larger than %zu bytes", path, max);
            break;
        }
        if (m2j_buf_append(out, chunk, got) != M2J_OK) {
            rc = m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
            break;
        }
    }
    if (rc == M2J_OK && ferror(f))
        rc = m2j_fail(err, M2J_ERR_IO, "%s: read error", path);
    fclose(f);
    return rc;
}

const char *cli_json_pretty(json_object *o)
{
    return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                 JSON_C_TO_STRING_NOSLASHESCAPE);
}

bool cli_opt_value(cli_ctx *c, int argc, char **argv, int *i, const char *name, const char **val, bool *bad)
{
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n) != 0)
        return false;
    if (a[n] == '=') {
        *val = a + n + 1;
        return true;
    }
    if (a[n] != '\0')
        return false;
    if (*i + 1 >= argc) {
        fprintf(c->err, "m2jortt: %s needs a value\n", name);
        *bad = true;
        return true;
    }
    *val = argv[++*i];
    return true;
}
