/* poll_cursor.h: where the Magento poller stands in a list of entities sorted
 * by (updated_at, id), and the keyset query that continues from there. Pure.
 *
 * Why keyset and not currentPage: while the poller pages, orders change and
 * move to the end of the updated_at order, which shifts every later order one
 * place back; an offset page would then skip one. And a burst of more orders
 * in one second than a page holds would, with a cursor of updated_at alone,
 * return the same first page forever. The position (updated_at, id) of the
 * last entity queued is unique, so
 *     (updated_at >= ts) AND (updated_at > ts OR id > last_id)
 * sorted updated_at ASC, id ASC, currentPage 1, returns exactly the entities
 * after it. searchCriteria ANDs filter groups and ORs the filters inside one,
 * so that is group 0 {updated_at gteq ts}, group 1 {updated_at gt ts, id gt
 * last_id}.
 *
 * The overlap rule. Magento stamps updated_at when the row is written, but
 * the transaction may commit later (a slow checkout, a long admin save), and
 * the shop's clock is not ours. An order committed after we read past its
 * updated_at would be missed for good. So a poll that reached the end of the
 * list does not store the position of its last entity but
 *     (newest updated_at seen - overlap, id 0)
 * and the next poll re-reads that short window. Entities re-read unchanged
 * have the same event id (magento/order_event.h) and are dropped as
 * duplicates at enqueue: cheap. Between pages of one poll the exact position
 * is stored, so a window holding more than a page is paged through and never
 * stalls the cursor. An order committed more than `overlap` after its
 * updated_at is still missed by polling: reconcile finds it.
 *
 * Stored form: "<YYYY-MM-DD HH:MM:SS>|<id>" in P:magento:cursor:<what>. */
#ifndef M2J_POLL_CURSOR_H
#define M2J_POLL_CURSOR_H

#include "base/buf.h"
#include <stdbool.h>

#define M2J_POLL_OVERLAP_S 10 /* seconds re-read after each poll: late commits and clock skew */

typedef struct {
    char ts[20];  /* "YYYY-MM-DD HH:MM:SS", Magento's UTC text */
    char id[24];  /* decimal id, "0" before the first entity of ts */
} m2j_poll_cursor;

/* Parses the stored form. false for anything malformed. */
bool m2j_poll_cursor_parse(const char *s, m2j_poll_cursor *out);
/* "<ts>|<id>" into out (reset first). */
m2j_rc m2j_poll_cursor_format(const m2j_poll_cursor *c, m2j_buf *out);
/* A cursor at (unix seconds t, id 0). */
void m2j_poll_cursor_at(long long t, m2j_poll_cursor *out);
/* Sets c to the entity's position. false when ts or id is unusable
 * (ts not "YYYY-MM-DD HH:MM:SS", id not decimal). */
bool m2j_poll_cursor_set(m2j_poll_cursor *c, const char *ts, const char *id);
/* The position at rest after a poll that reached the end, newest entity at
 * ts: (ts - overlap_s, 0). false when ts is unusable. */
bool m2j_poll_cursor_rewound(const char *ts, long overlap_s, m2j_poll_cursor *out);

/* The cursor to store after a page that ended the list (fewer items than a
 * page): c the cursor the page was asked from, last the position of its last
 * entity or NULL when it was empty. (newest seen - overlap, 0), where newest
 * is last, else c when c is an exact position; a cursor already at rest never
 * moves back (a late entity found in the window does not push the window
 * further into the past each poll). false when a ts is unusable. */
bool m2j_poll_cursor_at_rest(const m2j_poll_cursor *c, const m2j_poll_cursor *last, long overlap_s,
                             m2j_poll_cursor *out);

/* Appends the keyset filters and sort orders after c (ts_field, id_field:
 * "updated_at", "entity_id" / "id") and pageSize page_size, currentPage 1. */
m2j_rc m2j_poll_query(m2j_buf *q, const m2j_poll_cursor *c, const char *ts_field, const char *id_field,
                      int page_size);

/* The order of two positions (like strcmp): by ts, then numerically by id. */
int m2j_poll_cursor_cmp(const m2j_poll_cursor *a, const m2j_poll_cursor *b);

#endif
