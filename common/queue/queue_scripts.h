/* queue_scripts.h: the Lua scripts behind queue.c (internal to the queue;
 * M2J_ENQUEUE_SCRIPT itself is public in queue.h). Each script's KEYS/ARGV
 * and reply are documented next to its text in queue_scripts.c. */
#ifndef M2J_QUEUE_SCRIPTS_H
#define M2J_QUEUE_SCRIPTS_H

extern const char *const M2J_SCRIPT_DONE;
extern const char *const M2J_SCRIPT_SKIP;
extern const char *const M2J_SCRIPT_RETRY;
extern const char *const M2J_SCRIPT_DEAD;
extern const char *const M2J_SCRIPT_RELEASE;
extern const char *const M2J_SCRIPT_PROMOTE;
extern const char *const M2J_SCRIPT_REPLAY;
extern const char *const M2J_SCRIPT_UNLOCK;
extern const char *const M2J_SCRIPT_LOCK_EXTEND;

#endif
