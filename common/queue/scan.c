/* scan.c: walking keys by pattern (SCAN), for the few jobs that must look at
 * every record of a kind: the retention sweep, m2jortt forget, dropping
 * customer cache entries of an older version. SCAN, never KEYS: Redis keeps
 * serving the fleet between batches. A key may be seen twice (SCAN's
 * guarantee is at least once), so callbacks must be idempotent. */
#include "queue/queue.h"
#include "queue/queue_internal.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

m2j_rc m2j_queue_glob(const m2j_queue *q, m2j_buf *out, const char *pattern)
{
    m2j_buf_reset(out);
    m2j_rc rc = m2j_buf_append(out, "", 0);
    for (const char *p = q->prefix; *p && rc == M2J_OK; p++) {
        if (strchr("*?[]\\", *p))
            rc = m2j_buf_append(out, "\\", 1);
        if (rc == M2J_OK)
            rc = m2j_buf_append(out, p, 1);
    }
    if (rc == M2J_OK)
        rc = m2j_buf_printf(out, ":%s", pattern);
    return rc;
}

m2j_rc m2j_queue_scan(m2j_queue *q, const char *match, long count, m2j_scan_fn fn, void *ud, m2j_err *err)
{
    char cursor[32] = "0", cnt[24];
    snprintf(cnt, sizeof cnt, "%ld", count > 0 ? count : 500);
    do {
        const char *argv[] = { "SCAN", cursor, "MATCH", match, "COUNT", cnt };
        redisReply *r;
        m2j_rc rc = m2j_q_cmd(q, 6, argv, &r, err);
        if (rc != M2J_OK)
            return rc;
        if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 || r->element[0]->type != REDIS_REPLY_STRING ||
            r->element[1]->type != REDIS_REPLY_ARRAY || r->element[0]->len >= sizeof cursor) {
            freeReplyObject(r);
            return m2j_fail(err, M2J_ERR_INTERNAL, "SCAN: unexpected reply");
        }
        snprintf(cursor, sizeof cursor, "%s", r->element[0]->str);
        const redisReply *ks = r->element[1];
        const char **keys = ks->elements ? calloc(ks->elements, sizeof *keys) : NULL;
        if (ks->elements && !keys) {
            freeReplyObject(r);
            return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
        }
        size_t n = 0;
        for (size_t i = 0; i < ks->elements; i++)
            if (ks->element[i]->type == REDIS_REPLY_STRING)
                keys[n++] = ks->element[i]->str;
        rc = n ? fn(q, keys, n, ud, err) : M2J_OK;
        free(keys);
        freeReplyObject(r);
        if (rc != M2J_OK)
            return rc == M2J_ERR_EMPTY ? M2J_OK : rc;
    } while (strcmp(cursor, "0") != 0);
    return M2J_OK;
}

m2j_rc m2j_q_cmd_keys(m2j_queue *q, const char *cmd, const char *const *keys, size_t n, redisReply **r,
                      m2j_err *err)
{
    *r = NULL;
    if (n >= (size_t)INT_MAX)
        return m2j_fail(err, M2J_ERR_INVALID, "%s: too many keys", cmd);
    const char **argv = calloc(n + 1, sizeof *argv);
    if (!argv)
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    argv[0] = cmd;
    memcpy(argv + 1, keys, n * sizeof *argv);
    m2j_rc rc = m2j_q_cmd(q, (int)n + 1, argv, r, err);
    free(argv);
    return rc;
}

static m2j_rc unlink_batch(m2j_queue *q, const char *const *keys, size_t n, void *ud, m2j_err *err)
{
    long *count = ud;
    redisReply *r;
    m2j_rc rc = m2j_q_cmd_keys(q, "UNLINK", keys, n, &r, err);
    if (rc != M2J_OK)
        return rc;
    if (r->type == REDIS_REPLY_INTEGER)
        *count += r->integer;
    freeReplyObject(r);
    return M2J_OK;
}

m2j_rc m2j_queue_unlink_matching(m2j_queue *q, const char *match, long *count, m2j_err *err)
{
    *count = 0;
    return m2j_queue_scan(q, match, 500, unlink_batch, count, err);
}
