/* key_part.h: outside values (order increment ids, credit memo ids, Magento
 * customer ids) as parts of Redis keys.
 *
 * Keys are "<prefix>:<kind>:<id>" and ":" separates their parts, so an id
 * taken as it is can land on another record's key: a credit memo id
 * "cancel:100000123" named P:credit:cancel:100000123, the cancellation
 * record of order 100000123. Every outside value in a key goes through
 * m2j_key_part, which writes ':' '%' and a few more bytes as %XX (upper-case
 * hex) and keeps everything else as it is.
 *
 * Kept on purpose: every printable ASCII byte except ':' '%' and the Redis
 * glob and hash-tag characters * ? [ ] \ { }. Ids in use today (digits,
 * letters, "-", "/", "#", ...) therefore keep the key they have: a done
 * record of an order invoiced before this change is still found, so no
 * migration is needed and no order is invoiced twice because its record
 * moved. Only ids that contain an escaped byte get a new key; such ids could
 * collide before, which is what this fixes. '%' is always escaped, so the
 * mapping is reversible (m2j_key_part_decode) and two different ids never
 * share a key.
 *
 * Ownership: out is the caller's buffer; these functions only append to it
 * (m2j_key_id and m2j_key_part_decode reset it first). */
#ifndef M2J_KEY_PART_H
#define M2J_KEY_PART_H

#include "base/buf.h"

/* Appends id, escaped, to out. id NULL is treated as "". */
m2j_rc m2j_key_part(m2j_buf *out, const char *id);
/* out = kind followed by id escaped: m2j_key_id(&b, "order:", ref) gives
 * "order:100000123", the short form lock keys take (queue.h). */
m2j_rc m2j_key_id(m2j_buf *out, const char *kind, const char *id);
/* out = the id a part was made from. M2J_ERR_INVALID when part contains a
 * '%' not followed by two hex digits, or escapes a NUL. */
m2j_rc m2j_key_part_decode(const char *part, m2j_buf *out);

#endif
