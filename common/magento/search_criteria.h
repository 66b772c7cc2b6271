/* search_criteria.h: Magento's searchCriteria query string, built one part
 * at a time into a caller-owned buffer.
 *
 * Filters inside one filter group are ORed, groups are ANDed. Names keep
 * their brackets percent-encoded (%5B, %5D) so the URL is valid as sent and
 * the OAuth signature (which decodes and re-encodes) signs the same text
 * Magento sees. Pure; every function appends to q ('&' between parts) and
 * returns M2J_ERR_NOMEM or M2J_OK. */
#ifndef M2J_SEARCH_CRITERIA_H
#define M2J_SEARCH_CRITERIA_H

#include "base/buf.h"
#include <stdbool.h>

/* condition_type: "eq", "gteq", "lteq", "in", "like", ... (Magento's names) */
m2j_rc m2j_sc_filter(m2j_buf *q, int group, int index, const char *field, const char *value,
                     const char *condition_type);
m2j_rc m2j_sc_sort(m2j_buf *q, int index, const char *field, bool ascending);
m2j_rc m2j_sc_page(m2j_buf *q, int page_size, int current_page);

#endif
