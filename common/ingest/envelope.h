/* envelope.h: detecting which sender posted a webhook body, splitting it into
 * events, and normalising each entity into the canonical shape (event.h).
 * Pure functions: no I/O. Used by the receiver and by `m2jortt preview`.
 *
 * The ingest room (common/ingest/) holds the way from a webhook request to the
 * internal event: signature schemes (signature.h), envelope detection (this
 * header), normalisation (normalise.h) and the event itself (event.h). Pure:
 * no Redis, no network, no files; the receiver and `m2jortt preview` do the
 * I/O around it, and putting events in the queue is queue/'s job.
 *
 * Envelopes:
 *  1. Adobe I/O Events CloudEvent ("specversion", "type", "event_id" or "id",
 *     entity in data.value), an object or an array of them. Kind from type:
 *     "sales_order_creditmemo" -> creditmemo, other "sales_order" -> order,
 *     "customer_save"/"customer_register" -> customer, anything else ->
 *     ignored (accepted and recorded).
 *  2. Adobe Commerce Webhooks {"eventName", "data": {"order"|"customer"|
 *     "creditmemo"|"data_object"}} and the plugin shape {"order": …}
 *     (result->commerce_webhook is set: the receiver must answer
 *     200 {"op":"success"}).
 *  3. A bare Magento REST entity, kind from type_hint ("order"|"customer"|
 *     "creditmemo") or detected from its fields.
 */
#ifndef M2J_ENVELOPE_H
#define M2J_ENVELOPE_H

#include "ingest/event.h"
#include <stdbool.h>

/* Ids from outside (the transport's delivery id, a CloudEvent's id, an
 * entity's increment_id / order_increment_id / entity_id) longer than this,
 * or holding any control character (a NUL would truncate the id and make it
 * another event's), are refused: M2J_ERR_INVALID. */
#define M2J_OUTSIDE_ID_MAX 256

typedef struct {
    m2j_event *events;      /* owned array */
    size_t     n_events;
    bool       commerce_webhook; /* sender is Adobe Commerce Webhooks */
    bool       batch;            /* body was a JSON array */
    /* For the receiver's io_events_client_id check (added after the first
     * version of this contract): the number of CloudEvents in the body, the
     * recipient_client_id of the first one that carries it (owned, or NULL),
     * and whether any CloudEvent lacks it or carries a different one. */
    size_t     n_cloudevents;
    char      *recipient_client_id;
    bool       recipient_client_id_mixed;
    /* For the replay window of body-only signatures (replay.h): how many
     * CloudEvents carry a "time", the oldest and newest of those (seconds
     * since the epoch), and whether any "time" is not RFC 3339. */
    size_t     n_timed;
    long long  oldest_time;
    long long  newest_time;
    bool       time_invalid;
} m2j_envelope;

/* Parses a raw body.
 *  delivery_id: the transport's id when the signature covers it (the
 *               Standard Webhooks webhook-id, see replay.h), or NULL. Used
 *               as the event id where the body carries none; in a batch,
 *               element i without its own id gets "<delivery_id>.<i>".
 *  type_hint:   the ?type= query value or NULL.
 *  max_events:  bound on a batch (M2J_ERR_TOO_LARGE beyond it).
 *  now_ms:      stored as received_at.
 * Errors: M2J_ERR_INVALID for an id refused by M2J_OUTSIDE_ID_MAX's rule,
 * for malformed JSON (anything but strict RFC 8259
 * JSON, see json_strict.h: the reason names the field or byte) or an unknown
 * envelope (err says which), M2J_ERR_TOO_LARGE (counted while the body is
 * checked, before any tree is built). An event with no id from the body nor the
 * transport gets "sha256:<hex of the element's compact JSON>". */
m2j_rc m2j_envelope_parse(const char *body, size_t len, const char *delivery_id,
                          const char *type_hint, size_t max_events, long long now_ms,
                          m2j_envelope *out, m2j_err *err);
/* The same, for the receiver's hot path: each event's canonical entity is
 * ev->entity_text (what m2j_job_text_append writes for the tree
 * m2j_envelope_parse would give, byte for byte), ev->entity stays NULL,
 * and no json-c tree is built. */
m2j_rc m2j_envelope_parse_text(const char *body, size_t len, const char *delivery_id,
                               const char *type_hint, size_t max_events, long long now_ms,
                               m2j_envelope *out, m2j_err *err);
void m2j_envelope_clear(m2j_envelope *env);

/* A workspace for m2j_envelope_parse_text_ws: the body's slice tree
 * (json_tree.h) and the buffer each entity's text is written into, kept
 * from one body to the next instead of allocated and freed per request.
 * Ownership: whoever made it owns it and frees it; it is not thread-safe.
 * The receiver keeps one per event loop (rcv_server), so threads never
 * share one. Between parses it holds no pointer into a body and no part of
 * an earlier result (the events own copies of what they keep); what grew
 * past M2J_JTREE_KEEP_BYTES for one large body is freed when that parse
 * ends. */
typedef struct m2j_envelope_ws m2j_envelope_ws;
m2j_envelope_ws *m2j_envelope_ws_new(void); /* NULL: out of memory */
void m2j_envelope_ws_free(m2j_envelope_ws *ws);
/* m2j_envelope_parse_text with ws's buffers: the same result, byte for
 * byte. */
m2j_rc m2j_envelope_parse_text_ws(m2j_envelope_ws *ws, const char *body, size_t len, const char *delivery_id,
                                  const char *type_hint, size_t max_events, long long now_ms,
                                  m2j_envelope *out, m2j_err *err);

/* Canonicalisers (see event.h). Each returns a NEW object (caller owns) built
 * from raw without modifying raw. */
m2j_rc m2j_normalise_order(json_object *raw, json_object **out, m2j_err *err);
m2j_rc m2j_normalise_customer(json_object *raw, json_object **out, m2j_err *err);
m2j_rc m2j_normalise_creditmemo(json_object *raw, json_object **out, m2j_err *err);

#endif
