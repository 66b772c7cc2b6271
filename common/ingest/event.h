/* event.h: the one internal event every envelope is normalised into, and the
 * job record that travels through the Redis queue.
 *
 * Event JSON (what the queue stores, inside a job):
 *   {"event_id":"…","kind":"order"|"customer"|"creditmemo"|"ignored",
 *    "source":"io_events"|"commerce_webhook"|"rest",
 *    "event_type":"com.adobe.commerce.observer.sales_order_save_commit_after",
 *    "received_at":1764390000123,          // ms since epoch
 *    "entity":{…canonical entity…}}
 *
 * Canonical order (see envelope.h for how both Magento shapes get here): the
 * Magento order object with its own field names and number TEXT preserved,
 * plus: "billing_address" and "shipping_address" objects (shipping null for
 * virtual orders) whose "street" is an array of strings; "shipping_method" at
 * top level; every items[] "item_id"/"parent_item_id" as strings, with the
 * repeated "parent_item" objects removed; "addresses[]" and
 * extension_attributes.shipping_assignments removed after use.
 * Canonical customer: the REST customer object, addresses[].street arrays.
 * Canonical credit memo: the Magento credit memo object with "order_id",
 * "order_increment_id" (when known), "items", totals; "order" holds the
 * canonical order when the sender included it.
 *
 * Job JSON (one stream entry field "job"):
 *   {"event":{…},"attempts":0,"first_try":0,"last_try":0,"replays":0,
 *    "history":[{"at":ms,"by":"host:pid","outcome":"retry"|"dead"|"replay"|"released","reason":"…"}]}
 * and, once they apply: "history_dropped" (see m2j_job_add_history),
 * "deferred_since", "defer_replays", "defers" (worker/processor.c).
 */
#ifndef M2J_EVENT_H
#define M2J_EVENT_H

#include "base/buf.h"
#include "base/m2j.h"
#include <json-c/json.h>

typedef enum {
    M2J_KIND_ORDER = 0,
    M2J_KIND_CUSTOMER,
    M2J_KIND_CREDITMEMO,
    M2J_KIND_IGNORED
} m2j_kind;

/* "order", "customer", "creditmemo", "ignored". */
const char *m2j_kind_name(m2j_kind k);
/* Inverse; M2J_ERR_INVALID for anything else. */
m2j_rc m2j_kind_parse(const char *s, m2j_kind *out);

#define M2J_EVENT_ID_MAX 200  /* bytes; longer or odd ids are replaced by "sha256:<hex>" */

typedef struct {
    char        *event_id;    /* owned; [A-Za-z0-9._:-]{1,200} */
    m2j_kind     kind;
    char        *source;      /* owned */
    char        *event_type;  /* owned, may be "" */
    long long    received_at; /* ms since epoch */
    json_object *entity;      /* owned reference (NULL for ignored events) */
    /* Or, from m2j_envelope_parse_text (the receiver's hot path), the
     * canonical entity as compact JSON text (owned, NUL-terminated; entity
     * is then NULL): exactly the text m2j_job_text_append would write for
     * the tree. NULL for ignored events and for events with a tree. */
    char        *entity_text;
    size_t       entity_text_len;
} m2j_event;

/* Frees the members (not the struct itself) and zeroes it. */
void m2j_event_clear(m2j_event *ev);

/* New JSON object for the event (caller owns the returned reference); an
 * entity given as text is parsed. */
json_object *m2j_event_to_json(const m2j_event *ev);
/* Fills ev from event JSON (deep-copies what it keeps; ev owns the result). */
m2j_rc m2j_event_from_json(json_object *obj, m2j_event *ev, m2j_err *err);

/* Makes a safe event id: returns a malloc'd copy of raw when it matches
 * [A-Za-z0-9._:-]{1,200} and is not "index" (a key of its own, P:dead:index),
 * else "sha256:" + hex of raw. NULL on OOM. */
char *m2j_event_id_sanitise(const char *raw);

/* New job JSON around a copy of the event, attempts 0, empty history. */
json_object *m2j_job_new(const m2j_event *ev);
/* Appends the text of m2j_job_new(ev) (compact, same fields and order) to b,
 * without building the job or copying the entity: the receiver's hot path.
 * The entity's text is ev->entity_text when set, else ev->entity written in
 * place. M2J_ERR_NOMEM on failure (b may then hold a
 * partial text; the caller discards it). */
m2j_rc m2j_job_text_append(m2j_buf *b, const m2j_event *ev);
/* Bounds of a job's history. An event answered LOCKED or DEFER comes back
 * every few seconds, possibly for days, and each round writes its history
 * back to Redis: kept are the first M2J_HISTORY_FIRST entries (how it
 * started) and the latest M2J_HISTORY_LAST (what it does now); the ones in
 * between are dropped and counted in job.history_dropped. A reason longer
 * than M2J_HISTORY_REASON_MAX bytes is cut (on a UTF-8 boundary) and ends
 * in "...". So a job's history stays under about 25 x 0.6 KB. */
#define M2J_HISTORY_FIRST      5
#define M2J_HISTORY_LAST       20
#define M2J_HISTORY_REASON_MAX 500
/* Appends {"at","by","outcome","reason"} to job.history, within the bounds
 * above. */
m2j_rc m2j_job_add_history(json_object *job, long long at_ms, const char *by,
                           const char *outcome, const char *reason);

#endif
