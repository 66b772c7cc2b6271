/* redis_link.h: one asynchronous Redis connection of the receiver, kept alive
 * on the event loop: connect at start (the receiver starts even when Redis is
 * down), reconnect with back-off (100 ms doubling to 5 s), and a watchdog
 * that drops a connection whose replies stall, so requests never hang.
 *
 * Every command's callback is called exactly once: with the reply, or with
 * NULL when the connection failed or was dropped before a reply came (the
 * command may or may not have run: callers answer "try again", and the
 * enqueue script's dedup makes the retry safe).
 *
 * A loop holds receiver.redis_connections links (redis_pool.h, which picks
 * one per command); each link keeps the rules above on its own.
 *
 * Threads: a link belongs to the thread running its event loop; only
 * rlink_ready_seen may be called from others.
 *
 * A Redis host given by name is looked up without blocking the loop
 * (receiver/resolve.h) before each connect; numeric hosts and unix sockets
 * connect at once.
 *
 * Ownership: the link owns its redisAsyncContext. argv/lens given to
 * rlink_eval must stay valid until its callback has run (a NOSCRIPT reply
 * makes the link send them again as EVAL). */
#ifndef M2J_REDIS_LINK_H
#define M2J_REDIS_LINK_H

#include "config/config.h"
#include <hiredis/hiredis.h>
#include <stdbool.h>

struct event_base;
typedef struct rlink rlink;

/* reply is NULL on failure; it is freed by the link after the call. */
typedef void (*rlink_reply_fn)(redisReply *reply, void *arg);

/* Creates the link and starts connecting. preload_script (static, may be
 * NULL) is sent as SCRIPT LOAD after each connect so EVALSHA usually hits.
 * index names the link in log lines ("conn": its place in the pool). */
m2j_rc rlink_new(struct event_base *base, const m2j_redis_config *rc, const char *preload_script,
                 unsigned index, rlink **out, m2j_err *err);
/* Frees the link; pending callbacks run with NULL first. */
void   rlink_free(rlink *l);
/* For a draining server, while its loop still runs: no more connecting (the
 * reconnect timer stops, a host name lookup in flight is cancelled, which
 * evdns completes on a later loop turn); an open connection and the commands
 * in flight on it are left to finish. */
void   rlink_stop_connecting(rlink *l);

/* True when connected and a PING since the connect has answered. */
bool   rlink_ready(const rlink *l);
/* The same as rlink_ready, but safe to call from another thread (the
 * receiver's /readyz asks every event loop's link). */
bool   rlink_ready_seen(const rlink *l);
/* Bound on commands in flight (default 4096; each pending enqueue holds its
 * job text, ~10 KB): beyond it rlink_command fails at once. Several links
 * in one process share the memory budget by splitting it. */
void   rlink_set_max_pending(rlink *l, size_t n);
/* Commands sent and not yet answered. */
size_t rlink_pending(const rlink *l);

/* Sends a command. M2J_ERR_IO (callback NOT called) when not ready or the
 * pending bound is reached; M2J_OK means the callback will run once. */
m2j_rc rlink_command(rlink *l, int argc, const char **argv, const size_t *lens,
                     rlink_reply_fn cb, void *arg);
/* Runs a script whose argv is EVAL <script> <numkeys> ...: sent as EVALSHA
 * <sha>, and again as the given EVAL argv on a NOSCRIPT reply. */
m2j_rc rlink_eval(rlink *l, const char *sha, int argc, const char **argv, const size_t *lens,
                  rlink_reply_fn cb, void *arg);

/* SHA1 hex of a script (41 bytes with the NUL). */
void rlink_script_sha(const char *script, char sha[41]);

#endif
