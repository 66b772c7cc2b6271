/* section_redis.c: "redis": where the queue lives and the prefix of its keys.
 * Runs without the section too, to parse the default URL. */
#include "config/config_read.h"
#include "config/config_section.h"

#include <string.h>

static m2j_rc load_redis(json_object *s, m2j_buf *path, m2j_config *c, m2j_err *err)
{
    m2j_rc rc;
    if (s && ((rc = m2j_cfg_read_str(s, path, "url", &c->redis.url, err)) != M2J_OK ||
              (rc = m2j_cfg_read_str(s, path, "key_prefix", &c->redis.key_prefix, err)) != M2J_OK ||
              (rc = m2j_cfg_read_bool(s, path, "allow_volatile", &c->redis.allow_volatile, err)) != M2J_OK))
        return rc;
    if ((rc = m2j_config_parse_redis_url(c->redis.url, &c->redis, err)) != M2J_OK)
        return rc;
    /* The prefix becomes part of every key and of log lines: keep it a plain word. */
    const char *kp = c->redis.key_prefix;
    bool ok = *kp && strlen(kp) <= 64;
    for (const char *p = kp; *p && ok; p++)
        ok = *p > ' ' && *p < 0x7f && *p != '{' && *p != '}';
    if (!ok) {
        m2j_cfg_path_push(path, "key_prefix");
        rc = m2j_fail(err, M2J_ERR_INVALID,
                      "%s: must be 1-64 printable characters without spaces or braces", CFG_PATH(path));
    }
    return rc;
}

static const char *const keys[] = {"url", "key_prefix", "allow_volatile", NULL};

const m2j_cfg_section m2j_cfg_section_redis = {"redis", keys, load_redis};
