/* clock.h: the clocks m2jortt reads, one home for all of them.
 *
 * Two clocks for two uses. The wall clock (m2j_now_ms) is for times that are
 * stored or compared across hosts: Redis scores, history entries, due times,
 * envelope dates. It can jump (NTP, an operator), so it must not measure
 * durations. The monotonic clock (m2j_mono_*) is for durations and deadlines
 * inside one process: stall watchdogs, drain deadlines, latency, shutdown
 * grace. Its values mean nothing to another process or host.
 *
 * All of these only call clock_gettime/nanosleep, so they are safe in a
 * signal handler (worker/main.c reads the monotonic clock in one). */
#ifndef M2J_CLOCK_H
#define M2J_CLOCK_H

#include <signal.h>

/* Milliseconds since the epoch (CLOCK_REALTIME). */
long long m2j_now_ms(void);
/* CLOCK_MONOTONIC in milliseconds and in microseconds. */
long long m2j_mono_ms(void);
long long m2j_mono_us(void);
/* Sleeps ms milliseconds (restarts after signals unless *stop becomes set;
 * stop may be NULL). */
void m2j_sleep_ms(long long ms, const volatile sig_atomic_t *stop);

#endif
