/* admin.h: the dashboard at /admin on the receiver's listener, on only
 * when admin.token is set (otherwise /admin is an unknown path: 404).
 *
 * Pages (GET): /admin (overview), /admin/activity, /admin/failed,
 * /admin/failed/event?id=, /admin/settings, /admin/login, /admin/style.css.
 * Actions (POST, CSRF token required): /admin/login, /admin/logout,
 * /admin/failed/replay, /admin/failed/replay-all (first the count, then,
 * with confirm=yes, the replay). Sessions, CSRF and the sign-in limits:
 * admin_auth.h; the HTML: admin_pages.h.
 *
 * Every Redis call goes over the loop's asynchronous links (redis_pool.h),
 * so a page never blocks the loop; a client that leaves mid-way is
 * forgotten when the reply comes. Every answer carries
 * Cache-Control: no-store, a Content-Security-Policy allowing only this
 * origin's stylesheet (no script, no frames), X-Frame-Options: DENY,
 * X-Content-Type-Options: nosniff and Referrer-Policy: no-referrer.
 * Sign-ins, sign-outs and replays are logged with the client's pseudonym,
 * never its address.
 *
 * Ownership: rcv_admin borrows cfg, the link and the guard (all outlive
 * it) and owns its copy of the settings page's data; requests are
 * evhttp's. */
#ifndef M2J_RECEIVER_ADMIN_H
#define M2J_RECEIVER_ADMIN_H

#include "config/config.h"
#include "receiver/conn_guard.h"
#include "receiver/redis_pool.h"

#include <stdbool.h>

struct evhttp_request;
typedef struct rcv_admin rcv_admin;

#define RCV_PATH_ADMIN "/admin"

/* *out NULL (and M2J_OK) when admin.token is empty: no dashboard. */
m2j_rc rcv_admin_new(const m2j_config *cfg, rpool *redis, rcv_guard *guard, rcv_admin **out, m2j_err *err);
void   rcv_admin_free(rcv_admin *a);

/* True for "/admin" and every path under "/admin/". */
bool rcv_admin_path(const char *path);
/* Answers req (now, or from a Redis reply). t0_us: m2j_mono_us() at arrival. */
void rcv_admin_serve(rcv_admin *a, struct evhttp_request *req, const char *path, long long t0_us);

#endif
