/* install_key.c: P:install:key, the installation's secret key (queue.h,
 * base/pseudonym.h).
 *
 * Stored as 64 lower-case hex digits so redis-cli shows it as text; the
 * value is as secret as the data it protects. One script creates it and
 * clears the warm-index flag together, so no process can see the new key
 * while the flag still says the cache is complete under the old one. */
#include "queue/queue.h"
#include "queue/queue_internal.h"
#include "base/crypto_util.h"

#include <string.h>

/* KEYS[1] P:install:key, KEYS[2] P:cust:index-warm; ARGV[1] a fresh key.
 * Reply {1, key} when this call created it, {0, key} when it existed. */
static const char *const INSTALL_KEY_SCRIPT =
    "if redis.call('SET', KEYS[1], ARGV[1], 'NX') then\n"
    "  redis.call('DEL', KEYS[2])\n"
    "  return {1, ARGV[1]}\n"
    "end\n"
    "return {0, redis.call('GET', KEYS[1])}\n";

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static bool parse_key(const char *s, size_t n, unsigned char *out)
{
    if (n != 2 * M2J_INSTALL_KEY_LEN)
        return false;
    for (size_t i = 0; i < M2J_INSTALL_KEY_LEN; i++) {
        int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return true;
}

m2j_rc m2j_queue_install_key(m2j_queue *q, unsigned char *key, bool *created, m2j_err *err)
{
    if (created)
        *created = false;
    if (q->have_install_key) {
        memcpy(key, q->install_key, M2J_INSTALL_KEY_LEN);
        return M2J_OK;
    }
    static const char HEX[] = "0123456789abcdef";
    unsigned char fresh[M2J_INSTALL_KEY_LEN];
    char hex[2 * M2J_INSTALL_KEY_LEN + 1];
    if (m2j_random_bytes(fresh, sizeof fresh) != M2J_OK)
        return m2j_fail(err, M2J_ERR_INTERNAL, "no randomness for the installation key");
    for (size_t i = 0; i < sizeof fresh; i++) {
        hex[2 * i] = HEX[fresh[i] >> 4];
        hex[2 * i + 1] = HEX[fresh[i] & 15];
    }
    hex[sizeof hex - 1] = '\0';
    explicit_bzero(fresh, sizeof fresh);
    char *k_key = m2j_q_key_dup(q->prefix, "install:key");
    char *k_warm = m2j_q_key_dup(q->prefix, "cust:index-warm");
    m2j_rc rc;
    redisReply *r = NULL;
    if (!k_key || !k_warm) {
        rc = m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    } else {
        const char *keys[] = { k_key, k_warm };
        const char *args[] = { hex };
        rc = m2j_q_eval(q, INSTALL_KEY_SCRIPT, 2, keys, 1, args, &r, err);
    }
    explicit_bzero(hex, sizeof hex);
    if (rc == M2J_OK) {
        if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 || r->element[0]->type != REDIS_REPLY_INTEGER) {
            rc = m2j_fail(err, M2J_ERR_INTERNAL, "installation key script: unexpected reply");
        } else if (r->element[1]->type != REDIS_REPLY_STRING ||
                   !parse_key(r->element[1]->str, r->element[1]->len, q->install_key)) {
            rc = m2j_fail(err, M2J_ERR_INVALID, "%s is not 64 hex digits: it was written by something else; "
                          "deleting it makes a new key (and every customer cache entry is looked up again)", k_key);
        } else {
            q->have_install_key = true;
            memcpy(key, q->install_key, M2J_INSTALL_KEY_LEN);
            if (created)
                *created = r->element[0]->integer == 1;
        }
        if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 && r->element[1]->type == REDIS_REPLY_STRING)
            explicit_bzero(r->element[1]->str, r->element[1]->len);
        freeReplyObject(r);
    }
    free(k_key);
    free(k_warm);
    return rc;
}
