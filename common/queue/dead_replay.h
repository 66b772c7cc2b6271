/* dead_replay.h: putting dead letters back into the queue, one or many,
 * for `m2jortt replay` (synchronously, m2j_queue_replay in queue.h) and the
 * dashboard (whose receiver sends the script over its asynchronous link).
 *
 * A replay reads the job as stored, builds the job that goes back in C
 * (attempts reset for a full retry budget, replays counted, a "replay"
 * history entry; json-c keeps every amount's text as it was), then one
 * script moves each event only if its record still holds the job that was
 * read: an event replayed and dead again meanwhile is reported as changed,
 * never replayed from a stale copy. The same script adds a "replayed" entry
 * to the activity log (queue/activity.h).
 *
 * Ownership: texts given back are malloc'd (free()); args as redis_args.h. */
#ifndef M2J_DEAD_REPLAY_H
#define M2J_DEAD_REPLAY_H

#include "queue/queue.h"
#include "queue/redis_args.h"

/* The job as it goes back, from its stored text; by names who replays
 * ("cli@host:pid", "dashboard@host"). */
m2j_rc m2j_replay_job_text(const char *text, size_t len, const char *by, long long now_ms, char **out,
                           m2j_err *err);

typedef struct {
    const char *event_id;
    const char *job_text;  /* the job as read (m2j_dead_entry.job_text) */
} m2j_replay_item;

typedef enum {
    M2J_REPLAY_DONE,     /* back in the stream */
    M2J_REPLAY_GONE,     /* no longer dead: someone else replayed it */
    M2J_REPLAY_CHANGED,  /* its record changed since it was read: read again */
    M2J_REPLAY_BROKEN    /* its stored job is not a JSON object: left dead */
} m2j_replay_result;

/* A batch: the EVAL argv for the items whose job could be rebuilt, and
 * which item each position of the reply belongs to. */
typedef struct {
    m2j_redis_args args;
    size_t  n_items;
    size_t *sent;    /* reply position -> item index */
    size_t  n_sent;  /* 0: nothing to send (every item BROKEN) */
} m2j_replay_batch;

/* res[0..n) gets M2J_REPLAY_BROKEN for items that cannot be rebuilt; the
 * others are filled by m2j_replay_batch_parse. keep: admin.activity_keep. */
m2j_rc m2j_replay_batch_build(const char *prefix, long keep, const char *by, long long now_ms,
                              const m2j_replay_item *items, size_t n, m2j_replay_batch *out,
                              m2j_replay_result *res, m2j_err *err);
m2j_rc m2j_replay_batch_parse(const m2j_replay_batch *b, const redisReply *r, m2j_replay_result *res,
                              m2j_err *err);
void   m2j_replay_batch_free(m2j_replay_batch *b);

#endif
