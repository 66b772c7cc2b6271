/* normalise_text.h: the canonical entity of event.h written as compact JSON
 * text straight from the slice tree of a webhook body (json_tree.h), for
 * the receiver's hot path: the few members normalisation changes are
 * rewritten, everything else is copied from the body's bytes.
 *
 * Same rules and the same result as normalise.c's json-c rewrite followed
 * by event.c's job writer (tests/unit/test_envelope_text.c compares the two
 * over every fixture): addresses found and their street made an array,
 * items' ids made strings and parent_item dropped, addresses[] and
 * shipping_assignments removed, members replaced in place and new ones
 * appended in json-c's order.
 *
 * Ownership: t and out are the caller's; nothing is kept. */
#ifndef M2J_NORMALISE_TEXT_H
#define M2J_NORMALISE_TEXT_H

#include "ingest/event.h"
#include "ingest/json_tree.h"

/* Appends the canonical text of entity (a kind's entity object; 0 stands
 * for an empty object {}) to out. kind M2J_KIND_IGNORED writes nothing.
 * M2J_ERR_INVALID when entity is not an object, M2J_ERR_NOMEM. */
m2j_rc m2j_normalise_text(m2j_jtree *t, m2j_kind kind, m2j_jnode entity, m2j_buf *out, m2j_err *err);

#endif
