/* durability.c: see durability.h. */
#include "queue/durability.h"
#include "queue/redis_conn.h"

#include <string.h>

m2j_durability m2j_durability_judge(const char *appendonly, const char *maxmemory_policy, m2j_buf *why)
{
    if (!appendonly || !maxmemory_policy) {
        m2j_buf_puts(why, "Redis refused CONFIG GET, so its persistence could not be checked: make sure it runs "
                          "with appendonly yes and maxmemory-policy noeviction");
        return M2J_UNCHECKED;
    }
    bool aof = strcmp(appendonly, "yes") == 0;
    bool noevict = strcmp(maxmemory_policy, "noeviction") == 0;
    if (aof && noevict)
        return M2J_DURABLE;
    m2j_buf_puts(why, "Redis would lose queued events:");
    if (!aof)
        m2j_buf_puts(why, " appendonly is no (a restart loses every waiting event; set appendonly yes, "
                          "appendfsync always or everysec)");
    if (!noevict)
        m2j_buf_printf(why, "%s maxmemory-policy is %s (a full Redis evicts events; set noeviction)",
                       aof ? "" : ";", maxmemory_policy);
    m2j_buf_puts(why, ". Set redis.allow_volatile to true only for tests and demos.");
    return M2J_VOLATILE;
}

/* The value of one CONFIG GET; NULL when refused. *reply keeps it alive. */
static m2j_rc config_get(redisContext *c, const char *name, redisReply **reply, const char **value, m2j_err *err)
{
    const char *argv[] = { "CONFIG", "GET", name };
    *value = NULL;
    m2j_err e = {0};
    m2j_rc rc = m2j_redis_cmd(c, 3, argv, NULL, reply, &e);
    if (rc == M2J_ERR_IO) {
        if (err)
            *err = e;
        return rc;
    }
    if (rc == M2J_OK && (*reply)->type == REDIS_REPLY_ARRAY && (*reply)->elements == 2 &&
        (*reply)->element[1]->type == REDIS_REPLY_STRING)
        *value = (*reply)->element[1]->str;
    return M2J_OK; /* an error reply (NOPERM, renamed command) is "not readable", not a failure */
}

m2j_rc m2j_durability_check(redisContext *c, m2j_durability *out, m2j_buf *why, m2j_err *err)
{
    redisReply *a = NULL, *p = NULL;
    const char *aof = NULL, *policy = NULL;
    m2j_rc rc = config_get(c, "appendonly", &a, &aof, err);
    if (rc == M2J_OK)
        rc = config_get(c, "maxmemory-policy", &p, &policy, err);
    if (rc == M2J_OK)
        *out = m2j_durability_judge(aof, policy, why);
    if (a)
        freeReplyObject(a);
    if (p)
        freeReplyObject(p);
    return rc;
}
