/* redis_args.c: see redis_args.h. */
#include "queue/redis_args.h"
#include "base/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void m2j_redis_args_add(m2j_redis_args *a, const char *s, size_t len)
{
    if (a->oom)
        return;
    if ((size_t)a->argc == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 16;
        char **argv = realloc(a->argv, cap * sizeof *argv);
        if (argv)
            a->argv = argv;
        size_t *lens = argv ? realloc(a->lens, cap * sizeof *lens) : NULL;
        if (lens)
            a->lens = lens;
        if (!argv || !lens || cap > (size_t)1 << 24) {
            a->oom = true;
            return;
        }
        a->cap = cap;
    }
    char *copy = malloc(len + 1);
    if (!copy) {
        a->oom = true;
        return;
    }
    if (len)
        memcpy(copy, s, len);
    copy[len] = '\0';
    a->argv[a->argc] = copy;
    a->lens[a->argc] = len;
    a->argc++;
}

void m2j_redis_args_adds(m2j_redis_args *a, const char *s)
{
    m2j_redis_args_add(a, s ? s : "", s ? strlen(s) : 0);
}

void m2j_redis_args_addll(m2j_redis_args *a, long long v)
{
    char b[32];
    int n = snprintf(b, sizeof b, "%lld", v);
    m2j_redis_args_add(a, b, (size_t)n);
}

void m2j_redis_args_addf(m2j_redis_args *a, const char *fmt, ...)
{
    m2j_buf b = {0};
    va_list ap;
    va_start(ap, fmt);
    m2j_rc rc = m2j_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    if (rc != M2J_OK)
        a->oom = true;
    else
        m2j_redis_args_add(a, m2j_buf_str(&b), b.len);
    m2j_buf_free(&b);
}

m2j_rc m2j_redis_args_check(const m2j_redis_args *a, m2j_err *err)
{
    return a->oom ? m2j_fail(err, M2J_ERR_NOMEM, "out of memory") : M2J_OK;
}

void m2j_redis_args_free(m2j_redis_args *a)
{
    for (int i = 0; i < a->argc; i++)
        free(a->argv[i]);
    free(a->argv);
    free(a->lens);
    memset(a, 0, sizeof *a);
}
