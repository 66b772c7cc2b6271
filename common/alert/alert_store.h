/* alert_store.h: the alerts' Redis side.
 *
 * Keys (P = redis.key_prefix):
 *   P:alerts:lease            string, the evaluator's token (PX): one process
 *                             of the whole fleet evaluates at a time
 *   P:alerts:state            string, the incidents (incident.h JSON)
 *   P:alerts:outbox:<channel> list of message texts not yet delivered
 *                             (channel "webhook" or "email"; capped at 100)
 * A round: hold the lease, read the state and the observations, evaluate,
 * then commit the new state and queue its messages in one script that first
 * checks the lease is still ours, so a message is queued once for the fleet
 * even when the lease moves. Delivery reads an outbox's head and removes it
 * only once the channel took it: a failing channel keeps its messages.
 *
 * Ownership: borrowed arguments; texts given back are malloc'd (free()). */
#ifndef M2J_ALERT_STORE_H
#define M2J_ALERT_STORE_H

#include "alert/incident.h"
#include "config/config.h"
#include "metrics/fleet_stats.h"
#include "queue/queue.h"

/* M2J_OK when this token holds the lease now (taken or renewed),
 * M2J_ERR_CONFLICT when another holds it. */
m2j_rc m2j_alert_lease(m2j_queue *q, const char *token, long ttl_ms, m2j_err *err);
m2j_rc m2j_alert_state_load(m2j_queue *q, m2j_alert_state *st, m2j_err *err);
/* The fleet snapshot's part of an observation (no dead-letter items):
 * what m2j_alert_observe reads, for callers that have a snapshot already
 * (the dashboard). polling: Magento polling is configured. */
void m2j_alert_obs_from_fleet(const m2j_fleet_stats *fs, bool polling, m2j_alert_obs *o);

/* Fills o: the fleet snapshot and the dead letters newer than
 * st->dead_seen_ms (count, the newest few with ref, kind and reason). */
m2j_rc m2j_alert_observe(m2j_queue *q, const m2j_config *cfg, const m2j_alert_state *st, m2j_alert_obs *o,
                         m2j_err *err);
/* Writes st and queues msgs[0..n) on each channel in channels[0..nch), if
 * token still holds the lease (else M2J_ERR_CONFLICT, nothing written). */
m2j_rc m2j_alert_commit(m2j_queue *q, const char *token, const m2j_alert_state *st, const m2j_alert_msg *msgs,
                        size_t n, const char *const *channels, size_t nch, m2j_err *err);
/* The oldest undelivered message of a channel (*text NULL when none). */
m2j_rc m2j_alert_outbox_head(m2j_queue *q, const char *channel, char **text, m2j_err *err);
/* Removes that head once delivered (only if it is still the same text). */
m2j_rc m2j_alert_outbox_pop(m2j_queue *q, const char *channel, const char *text, m2j_err *err);

#endif
