/* redis_cmd.c: see redis_cmd.h. */
#include "queue/redis_cmd.h"
#include "queue/redis_conn.h"
#include "base/key_part.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WCMD_MAX_ARGS 32

m2j_rc m2j_wcmd(m2j_queue *q, redisReply **reply, m2j_err *err, const char *arg0, ...)
{
    const char *argv[WCMD_MAX_ARGS];
    int argc = 0;
    va_list ap;
    va_start(ap, arg0);
    for (const char *a = arg0; a; a = va_arg(ap, const char *)) {
        if (argc == WCMD_MAX_ARGS) {
            va_end(ap);
            return m2j_fail(err, M2J_ERR_INTERNAL, "too many redis arguments");
        }
        argv[argc++] = a;
    }
    va_end(ap);
    redisContext *c = m2j_queue_redis(q);
    if (!c)
        return m2j_fail(err, M2J_ERR_IO, "redis: not connected");
    redisReply *r = NULL;
    m2j_rc rc = m2j_redis_cmd(c, argc, argv, NULL, &r, err);
    if (rc != M2J_OK)
        return rc;
    if (reply)
        *reply = r;
    else
        freeReplyObject(r);
    return M2J_OK;
}

m2j_rc m2j_weval(m2j_queue *q, const char *script, int nkeys, const char **keys,
                 int nargs, const char **args, redisReply **reply, m2j_err *err)
{
    redisContext *c = m2j_queue_redis(q);
    if (!c)
        return m2j_fail(err, M2J_ERR_IO, "redis: not connected");
    redisReply *r = NULL;
    m2j_rc rc = m2j_redis_eval(c, script, nkeys, keys, nargs, args, &r, err);
    if (rc != M2J_OK)
        return rc;
    if (reply)
        *reply = r;
    else
        freeReplyObject(r);
    return M2J_OK;
}

m2j_rc m2j_wkey(m2j_queue *q, m2j_buf *out, const char *fmt, ...)
{
    m2j_buf_reset(out);
    if (m2j_buf_printf(out, "%s:", m2j_queue_prefix(q)) != M2J_OK)
        return M2J_ERR_NOMEM;
    va_list ap;
    va_start(ap, fmt);
    m2j_rc rc = m2j_buf_vprintf(out, fmt, ap);
    va_end(ap);
    return rc;
}

m2j_rc m2j_wkey_id(m2j_queue *q, m2j_buf *out, const char *kind, const char *id)
{
    m2j_buf_reset(out);
    if (m2j_buf_printf(out, "%s:%s", m2j_queue_prefix(q), kind ? kind : "") != M2J_OK)
        return M2J_ERR_NOMEM;
    return m2j_key_part(out, id);
}

const char *m2j_reply_field(const redisReply *r, const char *field)
{
    if (!r || r->type != REDIS_REPLY_ARRAY)
        return NULL;
    for (size_t i = 0; i + 1 < r->elements; i += 2) {
        const redisReply *k = r->element[i], *v = r->element[i + 1];
        if (k->type == REDIS_REPLY_STRING && v->type == REDIS_REPLY_STRING && strcmp(k->str, field) == 0)
            return v->str;
    }
    return NULL;
}

long long m2j_reply_ll(const char *s)
{
    if (!s)
        return 0;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    return errno || end == s ? 0 : v;
}
