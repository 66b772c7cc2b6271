/* admin_pages.h: the dashboard's pages as HTML, from data already read.
 *
 * Pure: no I/O, no clock (times come in the data, from Redis's clock), so
 * every page can be rendered from hostile data in a unit test. Every value
 * from outside goes through receiver/html.h. Pages link only to /admin/...
 * and /admin/style.css, carry no inline script or style, and every form
 * that changes something is a POST with the session's CSRF token in a
 * hidden field (receiver/admin_auth.h checks it).
 *
 * csrf: the signed-in session's token (the header then shows the
 * navigation and the sign-out button); NULL on the sign-in page.
 *
 * Ownership: everything is borrowed; pages are appended to the caller's
 * buffer, which the caller discards when a call fails (out of memory). */
#ifndef M2J_RECEIVER_ADMIN_PAGES_H
#define M2J_RECEIVER_ADMIN_PAGES_H

#include "alert/incident.h"
#include "base/buf.h"
#include "metrics/fleet_stats.h"
#include "queue/activity.h"
#include "queue/queue.h"

#include <json-c/json.h>
#include <stdbool.h>

typedef enum { RCV_NAV_NONE, RCV_NAV_OVERVIEW, RCV_NAV_ACTIVITY, RCV_NAV_FAILED, RCV_NAV_SETTINGS } rcv_nav;

/* What every signed-in page's frame shows. */
typedef struct {
    const char *csrf;      /* NULL: not signed in (no navigation) */
    const char *install;   /* redis.key_prefix, to tell installations apart */
} rcv_frame;

typedef struct {
    const m2j_fleet_stats  *fleet;    /* NULL: Redis could not be read */
    const m2j_throughput   *tp;       /* NULL: not read */
    const m2j_alert_state  *alerts;   /* NULL: no alert state kept (no channel configured) */
    const m2j_alert_policy *policy;   /* the alerts' thresholds (alert_loop.h) */
    bool                    polling;  /* Magento polling configured */
    long                    poll_interval_seconds;
} rcv_overview;

typedef struct {
    const m2j_activity_row *rows;
    size_t                  n;
    const char             *next;     /* `before` of the next page, or NULL */
    const char             *outcome;  /* the filter as asked ("" = any) */
    const char             *q;        /* the order number searched for ("" = none) */
    const char             *error;    /* a refused filter, or NULL */
} rcv_activity_page;

typedef struct {
    const m2j_dead_entry *list;       /* summaries, newest first */
    size_t                n;
    long long             total;      /* all that match */
    long long             now_ms;
    const char           *reason;     /* the filter ("" = none) */
    const char           *notice;     /* a result to report, or NULL */
    bool                  notice_bad;
} rcv_failed_page;

#define RCV_FAILED_PAGE_ROWS 100   /* rows on the failed events page */
#define RCV_REPLAY_ALL_MAX   200   /* events one "replay all" moves */

m2j_rc rcv_page_login(m2j_buf *b, const rcv_frame *f, const char *message);
m2j_rc rcv_page_overview(m2j_buf *b, const rcv_frame *f, const rcv_overview *o);
m2j_rc rcv_page_activity(m2j_buf *b, const rcv_frame *f, const rcv_activity_page *a);
m2j_rc rcv_page_failed(m2j_buf *b, const rcv_frame *f, const rcv_failed_page *p);
/* One failed event; record is the dead record with personal data already
 * masked (base/mask.h). */
m2j_rc rcv_page_failed_event(m2j_buf *b, const rcv_frame *f, const char *event_id, json_object *record);
/* "count failed events match; replay them?" (reason "" = all). */
m2j_rc rcv_page_replay_confirm(m2j_buf *b, const rcv_frame *f, const char *reason, long long count);
/* The configuration (config_dump.h) as tables, one per section. */
m2j_rc rcv_page_settings(m2j_buf *b, const rcv_frame *f, const char *path, json_object *dump);
/* A short page: a title, a message and a link back. */
m2j_rc rcv_page_message(m2j_buf *b, const rcv_frame *f, const char *title, const char *message);

#endif
