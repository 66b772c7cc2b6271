/* incident.h: when to tell someone, and what: the alert state machine.
 *
 * The alert room (common/alert/) holds the alerts: this pure state machine,
 * its Redis side (alert_store.h: the fleet-wide lease, the state, the
 * observations, the per-channel outbox), the channels (alert_send.h: a
 * webhook, e-mail over SMTP) and the thread that runs them (alert_loop.h).
 *
 * Five incidents, each open while its condition holds:
 *   dead_letters  there are dead letters (new ones are told at most once per
 *                 policy.dead_batch_ms, with order numbers and reasons)
 *   backlog       the oldest waiting event is older than max_age_seconds
 *   jortt         the Jortt circuit breaker is open (outage, refused
 *                 credentials: every call fails)
 *   magento       polling is configured and no poll has succeeded for
 *                 policy.magento_stale_ms (unreachable, or the token refused)
 *   workers       no worker has a heartbeat younger than 30 s
 * One message when an incident opens, a reminder every repeat_ms while it
 * lasts, one when it ends.
 *
 * Messages hold counts, order numbers (refs) and reasons as m2j_queue_dead
 * recorded them (the same text the logs carry, which never hold personal
 * data); nothing else of an order.
 *
 * Pure: no I/O, no clock; the caller passes the time in observations.
 * Ownership: plain values; text is the caller's buffer. */
#ifndef M2J_INCIDENT_H
#define M2J_INCIDENT_H

#include "base/buf.h"
#include <stdbool.h>
#include <stddef.h>

typedef enum { M2J_INC_DEAD, M2J_INC_BACKLOG, M2J_INC_JORTT, M2J_INC_MAGENTO, M2J_INC_WORKERS, M2J_INC_N } m2j_incident_kind;
typedef enum { M2J_ALERT_STARTED, M2J_ALERT_UPDATE, M2J_ALERT_REMINDER, M2J_ALERT_ENDED } m2j_alert_event;

const char *m2j_incident_name(m2j_incident_kind k);

typedef struct {
    bool      active;
    long long since_ms;     /* when it opened */
    long long last_msg_ms;  /* the last message about it */
    long long seen_ms;      /* condition true since (not yet open: within policy.workers_hold_ms) */
} m2j_incident;

typedef struct {
    m2j_incident inc[M2J_INC_N];
    long long    dead_seen_ms; /* dead_at of the newest dead letter already told */
} m2j_alert_state;

#define M2J_ALERT_MAX_ITEMS 10

typedef struct {
    char      ref[64];     /* order number (or other reference); "" when none */
    char      kind[16];
    char      reason[161]; /* cut to 160 bytes */
} m2j_dead_item;

typedef struct {
    long long now_ms;
    long long dead_total;                   /* dead letters now */
    long long new_dead;                     /* dead_at > state.dead_seen_ms */
    long long newest_dead_ms;               /* the newest dead_at (0 when none) */
    m2j_dead_item items[M2J_ALERT_MAX_ITEMS]; size_t n_items; /* the newest new ones */
    long long queued, in_progress;
    long long oldest_age_ms;
    bool      breaker_open;
    long long breaker_failures;
    bool      polling;                      /* Magento polling configured */
    long long magento_last_ok_ms;           /* 0: no poll succeeded yet (not an incident) */
    long long workers_alive;
} m2j_alert_obs;

typedef struct {
    const char *name;         /* the installation, in every message ("shop1") */
    long long max_age_ms;
    long long repeat_ms;
    long long dead_batch_ms;  /* new dead letters told at most this often */
    long long magento_stale_ms;
    /* "no worker alive" must last this long before it opens: a fleet being
     * restarted or deployed is not an incident. */
    long long workers_hold_ms;
} m2j_alert_policy;

typedef struct {
    m2j_incident_kind kind;
    m2j_alert_event   event;
    char              text[1536];
} m2j_alert_msg;

/* Whether an incident's condition holds in o now (before any hold time):
 * the dashboard shows these while no alert channel keeps a state. */
bool m2j_incident_condition(m2j_incident_kind k, const m2j_alert_obs *o, const m2j_alert_policy *p);

/* Advances st by one observation and writes the messages it calls for into
 * out[0..max); returns how many. */
size_t m2j_alert_evaluate(m2j_alert_state *st, const m2j_alert_obs *o, const m2j_alert_policy *p,
                          m2j_alert_msg *out, size_t max);

/* The state as a JSON text and back (what alert_store keeps in Redis). A
 * text that does not parse gives the zero state. */
m2j_rc m2j_alert_state_text(const m2j_alert_state *st, m2j_buf *out);
void   m2j_alert_state_parse(const char *text, m2j_alert_state *st);

#endif
