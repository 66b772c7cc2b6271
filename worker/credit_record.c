/* credit_record.c: see credit_record.h. */
#include "worker/credit_record.h"
#include "queue/redis_cmd.h"

/* KEYS: action record, order record. */
static const char *const DROP_SCRIPT =
    "redis.call('DEL', KEYS[1])\n"
    "if redis.call('HGET', KEYS[2], 'credit_pending') == KEYS[1] then\n"
    "  redis.call('HDEL', KEYS[2], 'credit_pending') end\n"
    "return 1\n";

m2j_rc m2j_credit_record_eval(m2j_worker *w, const char *script, const char *ck, const char *ok, int nargs,
                              const char **args, m2j_err *e)
{
    const char *keys[2] = { ck, ok };
    redisReply *r = NULL;
    m2j_rc rc = m2j_weval(w->q, script, 2, keys, nargs, args, &r, e);
    if (r)
        freeReplyObject(r);
    return rc;
}

m2j_rc m2j_credit_record_drop(m2j_worker *w, const char *ck, const char *ok, m2j_err *e)
{
    return m2j_credit_record_eval(w, DROP_SCRIPT, ck, ok, 0, NULL, e);
}
