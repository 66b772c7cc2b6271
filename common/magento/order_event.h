/* order_event.h: a Magento REST entity (as GET /V1/orders, /V1/creditmemos or
 * /V1/customers/search return it) turned into the ordinary m2j_event the
 * receiver would have queued for a push of the same entity. Shared by the
 * worker's poller and the CLI's backfill and reconcile, so an order reaching
 * the queue by any of these paths is deduplicated against the others.
 *
 * Event id: "magento:<kind>:<id>:<updated_at as 14 digits>", e.g.
 * "magento:order:123:20261120100000". The same entity unchanged polled again
 * is the same id (a duplicate at enqueue, dropped there); once Magento changes
 * it, updated_at moves and it is a new event. An entity without updated_at
 * falls back to created_at, then to "0".
 *
 * Source "rest", event_type "". The entity is normalised with
 * m2j_normalise_order / _creditmemo / _customer (envelope.h).
 *
 * Pure: no I/O. Ownership: the raw entity is borrowed and not modified; *out
 * owns what it holds (m2j_event_clear). */
#ifndef M2J_MAGENTO_ORDER_EVENT_H
#define M2J_MAGENTO_ORDER_EVENT_H

#include "ingest/event.h"

/* Writes the event id into out (cap bytes; 120 always suffice). The entity's
 * id is "entity_id" for orders and credit memos, "id" for customers.
 * M2J_ERR_INVALID when the entity has no usable id. */
m2j_rc m2j_magento_event_id(m2j_kind kind, json_object *entity, char *out, size_t cap, m2j_err *err);

/* The event for one REST entity of that kind (order, creditmemo, customer). */
m2j_rc m2j_magento_entity_event(m2j_kind kind, json_object *entity, long long now_ms, m2j_event *out,
                                m2j_err *err);

/* m2j_magento_entity_event(M2J_KIND_ORDER, ...). */
m2j_rc m2j_magento_order_event(json_object *order, long long now_ms, m2j_event *out, m2j_err *err);

#endif
