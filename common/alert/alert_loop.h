/* alert_loop.h: the thread that evaluates and sends the alerts.
 *
 * Every receiver and every worker with an alert channel configured runs
 * one; only the holder of the fleet's lease (alert_store.h) evaluates, so
 * each message is sent once for the whole fleet, and the receiver can tell
 * that no worker is alive. A thread (with its own Redis connection and
 * libcurl handle) rather than work between jobs: a channel that hangs costs
 * the thread its timeout, never the queue or the receiver's event loops.
 * A failed delivery is logged and retried later with a growing pause (up to
 * 5 minutes); the message waits in the channel's outbox meanwhile.
 *
 * Ownership: the loop borrows cfg (which must outlive it). */
#ifndef M2J_ALERT_LOOP_H
#define M2J_ALERT_LOOP_H

#include "alert/incident.h"
#include "config/config.h"

typedef struct m2j_alert_loop m2j_alert_loop;

/* The policy the loop evaluates with, from cfg (the dashboard judges
 * incidents by the same numbers). */
void m2j_alert_policy_for(const m2j_config *cfg, m2j_alert_policy *p);

/* Starts the thread; *out is NULL (and M2J_OK) when no channel is
 * configured. Call after curl_global_init, before signal handling threads
 * matter: the thread blocks SIGTERM/SIGINT so they reach the main thread. */
m2j_rc m2j_alert_loop_start(const m2j_config *cfg, m2j_alert_loop **out, m2j_err *err);
/* Stops the thread (within about a channel timeout at worst) and frees it. */
void   m2j_alert_loop_stop(m2j_alert_loop *l);

#endif
