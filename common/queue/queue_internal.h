/* queue_internal.h: what the queue's own files share (queue.c, enqueue.c,
 * consume.c, admin.c, lock.c). Only the .c files in common/queue/ include
 * it; everyone else goes through queue.h, so the struct and these helpers
 * can change without touching a caller.
 *
 * Ownership: the strings in struct m2j_queue are owned by the queue
 * (m2j_queue_close frees them). Replies from m2j_q_cmd/m2j_q_eval are owned
 * by the caller (freeReplyObject). */
#ifndef M2J_QUEUE_INTERNAL_H
#define M2J_QUEUE_INTERNAL_H

#include "queue/queue.h"
#include "base/pseudonym.h"
#include <hiredis/hiredis.h>
#include <json-c/json.h>

struct m2j_queue {
    m2j_redis_config rc;  /* own copies of the connection settings */
    char *prefix;
    redisContext *c;
    bool broken;
    long timeout_ms;
    char *k_stream, *k_stats, *k_retry, *k_dead_index, *k_skipped;
    /* P:install:key once read (install_key.c); wiped by m2j_queue_close */
    unsigned char install_key[M2J_INSTALL_KEY_LEN];
    bool have_install_key;
    char *k_activity;        /* P:activity (queue/activity.h) */
    char  activity_keep[24]; /* its cap, admin.activity_keep as text */
};

/* "<prefix>:<suffix>", malloc'd (caller frees); NULL when out of memory. */
char *m2j_q_key_dup(const char *prefix, const char *suffix);
/* The job as stored in Redis; borrowed from job (valid until it changes). */
const char *m2j_q_job_text(json_object *job);

/* Creates the stream and group if missing (a BUSYGROUP reply is success). */
m2j_rc m2j_q_ensure_group(redisContext *c, const char *stream, m2j_err *err);
/* Reconnects if the connection is missing or was marked broken. */
m2j_rc m2j_q_connect(m2j_queue *q, m2j_err *err);
/* Marks the queue broken on M2J_ERR_IO, so the next call reconnects;
 * returns rc. */
m2j_rc m2j_q_note(m2j_queue *q, m2j_rc rc);
/* One command / one script over the queue's connection, reconnecting first
 * and noting a lost connection. *r is NULL unless M2J_OK. */
m2j_rc m2j_q_cmd(m2j_queue *q, int argc, const char **argv, redisReply **r, m2j_err *err);
m2j_rc m2j_q_eval(m2j_queue *q, const char *script, int nkeys, const char **keys,
                  int nargs, const char **args, redisReply **r, m2j_err *err);
/* cmd followed by the n keys (MGET, UNLINK over a batch of scan.c). */
m2j_rc m2j_q_cmd_keys(m2j_queue *q, const char *cmd, const char *const *keys, size_t n, redisReply **r,
                      m2j_err *err);

#endif
