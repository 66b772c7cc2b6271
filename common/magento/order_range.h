/* order_range.h: the Magento orders created in a range of whole UTC days,
 * for the CLI's backfill and reconcile.
 *
 * Orders are walked by entity_id with keyset paging (each page asks for
 * entity_id > the last one seen, page 1), not by currentPage: orders change
 * status while an admin command pages through thousands of them, and an
 * order leaving the filtered set before the current offset would shift the
 * next page and skip one. A page is the last when its total_count (what is
 * left after the key) fits in it, so no empty page is ever asked for: one
 * request per page of orders, nothing per order.
 *
 * Magento stores created_at in UTC as "YYYY-MM-DD HH:MM:SS"; the range is
 * [from 00:00:00, the day after to 00:00:00).
 *
 * Ownership: a range is a value; the walk borrows the client and hands fn
 * each page's items array borrowed for the call. */
#ifndef M2J_MAGENTO_ORDER_RANGE_H
#define M2J_MAGENTO_ORDER_RANGE_H

#include "base/buf.h"
#include "magento/magento_client.h"

#include <stdbool.h>

typedef struct {
    char from_day[11];  /* "2026-11-01" as given */
    char to_day[11];    /* "2026-11-30", inclusive */
    char from_ts[20];   /* "2026-11-01 00:00:00": created_at >= */
    char until_ts[20];  /* "2026-12-01 00:00:00": created_at <  */
} m2j_day_range;

/* Pure. from is "YYYY-MM-DD" (a real calendar day); to likewise or NULL for
 * today (UTC, from now_ms). M2J_ERR_INVALID when a date is malformed or to
 * is before from, err naming --from / --to. */
m2j_rc m2j_day_range_parse(const char *from, const char *to, long long now_ms, m2j_day_range *out, m2j_err *err);

/* Pure. Appends the searchCriteria for orders of the range (and, with
 * n_statuses > 0, whose status is one of statuses), entity_id > after_id
 * when after_id is not NULL, sorted by entity_id ascending. No paging. */
m2j_rc m2j_order_range_query(const m2j_day_range *r, char *const *statuses, size_t n_statuses,
                             const char *after_id, m2j_buf *q);

/* How many orders the range holds (with the status filter as above): one
 * request, asked again after 429/5xx/timeouts like a page of the walk.
 * M2J_OK whenever *resp says what happened (cls != OK: *count not set). */
m2j_rc m2j_order_range_count(m2j_magento_client *c, const m2j_day_range *r, char *const *statuses,
                             size_t n_statuses, long *count, m2j_magento_response *resp, m2j_err *err);

/* Walks the orders of the range (status filter as above), page_size (1..100)
 * at a time, oldest entity_id first, calling fn with each page's items
 * (borrowed); fn returns false to stop. *total gets the first page's
 * total_count (the orders in the range when the walk began; -1 before it).
 * A page Magento answers with 429/5xx/timeouts is asked again after a
 * back-off (Retry-After when given), up to retries times. M2J_OK whenever
 * *resp says how the walk ended (cls OK: every order seen or fn stopped). */
typedef bool (*m2j_order_page_fn)(json_object *items, void *ud);
m2j_rc m2j_order_range_walk(m2j_magento_client *c, const m2j_day_range *r, char *const *statuses,
                            size_t n_statuses, int page_size, int retries, m2j_order_page_fn fn, void *ud,
                            long *total, m2j_magento_response *resp, m2j_err *err);

#endif
