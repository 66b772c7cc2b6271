/* mask.h: hiding personal data in event payloads shown by `m2jortt show`
 * and by the dashboard's failed events page (one rule for both).
 *
 * Which values are personal is decided by the field NAME (e-mail, names,
 * street, postcode, city, phone, VAT/tax numbers, date of birth, IP address,
 * payment owner data, ...), anywhere in the tree; amounts, SKUs, statuses,
 * ids and product names stay visible so an admin can still see why an event
 * failed. A masked value becomes "[masked h:xxxxxxxxxxxx]" where the tag is
 * m2j_log_pseudonym() of the value: the same tag the logs carry, so events
 * can be matched to log lines without revealing anyone. Empty strings and
 * nulls stay as they are (they hide nothing and show that a field was empty).
 * Pure apart from the process-wide pseudonym key (log.h). */
#ifndef M2J_BASE_MASK_H
#define M2J_BASE_MASK_H

#include <json-c/json.h>
#include <stdbool.h>

/* True when values under this key are personal data (case-insensitive). */
bool m2j_mask_key_is_personal(const char *key);

/* Returns a NEW tree (caller owns one reference) equal to v with every
 * personal value masked; unmasked leaves are shared with v (json-c reference
 * counting), so v must not be modified while the result is alive. NULL in,
 * NULL out; NULL on OOM otherwise. */
json_object *m2j_mask_personal(json_object *v);

#endif
