/* log_queue.h: finished log lines handed to a writer thread through a
 * bounded queue, so that whoever logs never waits for the log reader (a
 * pipe nobody drains, journald under pressure).
 *
 * Bound: at most max_bytes of lines wait in the queue (and as much again may
 * be in the writer's hands); a line that does not fit is dropped and
 * counted. After the writer has written the lines queued before a drop, it
 * writes the line that notice(count) returns, e.g. "log: N lines dropped".
 *
 * Lines stay whole and in order: the writer is the only one writing queued
 * lines, one after another (lines longer than PIPE_BUF may still be split
 * by others writing to the same descriptor directly).
 *
 * Threads: m2j_logq_push from any thread; start and stop from one thread,
 * with no push racing the end of stop (at exit).
 *
 * Ownership: push copies the line. notice returns a malloc'd line (or NULL)
 * that the writer frees. */
#ifndef M2J_LOG_QUEUE_H
#define M2J_LOG_QUEUE_H

#include <stdbool.h>
#include <stddef.h>

typedef char *(*m2j_logq_notice_fn)(unsigned long long dropped, size_t *len);

/* Starts the writer on fd. 0, or an errno when the thread cannot start (the
 * caller then keeps writing itself). Starting twice is a no-op. */
int  m2j_logq_start(int fd, size_t max_bytes, m2j_logq_notice_fn notice);
/* Queues one whole line (with its '\n'). True when the queue took charge of
 * it (written later, or dropped and counted); false when no writer runs and
 * the caller must write it itself. */
bool m2j_logq_push(const char *line, size_t len);
/* Writes what is queued, waiting at most flush_ms for a reader that does not
 * read, then joins the writer; lines still queued after that are lost. Later
 * pushes return false. No-op when not running. */
void m2j_logq_stop(long flush_ms);

#endif
