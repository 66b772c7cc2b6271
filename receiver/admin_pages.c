/* admin_pages.c: see admin_pages.h. */
#include "receiver/admin_pages.h"
#include "base/json_util.h"
#include "receiver/html.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* A page being written: the first failure sticks, so the renderers can
 * write straight on and check once. */
typedef struct {
    m2j_buf *b;
    m2j_rc   rc;
} pw;

static void put(pw *w, const char *s)
{
    if (w->rc == M2J_OK)
        w->rc = m2j_buf_puts(w->b, s);
}

static void putf(pw *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(pw *w, const char *fmt, ...)
{
    if (w->rc != M2J_OK)
        return;
    va_list ap;
    va_start(ap, fmt);
    w->rc = m2j_buf_vprintf(w->b, fmt, ap);
    va_end(ap);
}

/* Outside text, escaped. */
static void esc(pw *w, const char *s)
{
    if (w->rc == M2J_OK)
        w->rc = rcv_html_text(w->b, s ? s : "");
}

/* A query-string value (percent-encoding leaves nothing HTML cares about). */
static void query(pw *w, const char *s)
{
    if (w->rc == M2J_OK)
        w->rc = rcv_html_query(w->b, s);
}

static void when(pw *w, long long ms)
{
    if (w->rc == M2J_OK)
        w->rc = rcv_html_time(w->b, ms);
}

static void age(pw *w, long long ms)
{
    if (w->rc == M2J_OK)
        w->rc = rcv_html_age(w->b, ms);
}

static void csrf_field(pw *w, const rcv_frame *f)
{
    put(w, "<input type=\"hidden\" name=\"csrf\" value=\"");
    esc(w, f->csrf);
    put(w, "\">");
}

static void page_begin(pw *w, const rcv_frame *f, const char *title, rcv_nav nav)
{
    static const struct { rcv_nav nav; const char *href, *label; } links[] = {
        { RCV_NAV_OVERVIEW, "/admin", "Overview" },
        { RCV_NAV_ACTIVITY, "/admin/activity", "Activity" },
        { RCV_NAV_FAILED, "/admin/failed", "Failed" },
        { RCV_NAV_SETTINGS, "/admin/settings", "Settings" },
    };
    put(w, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
           "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
           "<meta name=\"referrer\" content=\"no-referrer\"><title>");
    esc(w, title);
    put(w, " \xC2\xB7 m2jortt</title><link rel=\"stylesheet\" href=\"/admin/style.css\"></head>\n<body>\n"
           "<header><span class=\"brand\">m2jortt");
    if (f->install && *f->install) {
        put(w, "<small>");
        esc(w, f->install);
        put(w, "</small>");
    }
    put(w, "</span>");
    if (f->csrf) {
        put(w, "<nav>");
        for (size_t i = 0; i < sizeof links / sizeof links[0]; i++)
            putf(w, "<a href=\"%s\"%s>%s</a>", links[i].href, links[i].nav == nav ? " aria-current=\"page\"" : "",
                 links[i].label);
        put(w, "</nav><form method=\"post\" action=\"/admin/logout\">");
        csrf_field(w, f);
        put(w, "<button type=\"submit\">Sign out</button></form>");
    }
    put(w, "</header>\n<main>\n");
}

static m2j_rc page_end(pw *w)
{
    put(w, "</main>\n</body></html>\n");
    return w->rc;
}

static void notice(pw *w, const char *text, bool bad)
{
    if (!text || !*text)
        return;
    putf(w, "<p class=\"notice%s\" role=\"%s\">", bad ? " error" : "", bad ? "alert" : "status");
    esc(w, text);
    put(w, "</p>\n");
}

/* A table cell with the label a phone shows beside it. */
static void td(pw *w, const char *label, const char *cls)
{
    putf(w, "<td data-label=\"%s\"%s%s%s>", label, cls ? " class=\"" : "", cls ? cls : "", cls ? "\"" : "");
}

/* ---- sign-in ---- */

m2j_rc rcv_page_login(m2j_buf *b, const rcv_frame *f, const char *message)
{
    pw w = { b, M2J_OK };
    rcv_frame anon = { NULL, f->install };
    page_begin(&w, &anon, "Sign in", RCV_NAV_NONE);
    put(&w, "<div class=\"login\"><h1>Dashboard sign-in</h1>\n");
    notice(&w, message, true);
    put(&w, "<form method=\"post\" action=\"/admin/login\">"
            "<label for=\"token\">Admin token (admin.token)</label>"
            "<input id=\"token\" name=\"token\" type=\"password\" autocomplete=\"current-password\" required "
            "maxlength=\"1024\" autofocus>"
            "<button type=\"submit\">Sign in</button></form></div>\n");
    return page_end(&w);
}

/* ---- overview ---- */

static void kv_num(pw *w, const char *label, long long v, const char *cls)
{
    putf(w, "<dt>%s</dt><dd%s%s%s>%lld</dd>", label, cls ? " class=\"" : "", cls ? cls : "", cls ? "\"" : "", v);
}

static const char *incident_text(m2j_incident_kind k)
{
    switch (k) {
    case M2J_INC_DEAD:    return "Failed events are waiting for a fix and a replay";
    case M2J_INC_BACKLOG: return "Events wait longer than alerts.max_age_seconds";
    case M2J_INC_JORTT:   return "Jortt is unusable: the circuit breaker is open (outage, or credentials or plan refused)";
    case M2J_INC_MAGENTO: return "Magento polls have been failing";
    case M2J_INC_WORKERS: return "No worker is alive";
    case M2J_INC_N:       break;
    }
    return "?";
}

static void incidents(pw *w, const rcv_overview *o)
{
    put(w, "<h2>Open incidents</h2>\n");
    if (!o->fleet) {
        put(w, "<p class=\"notice error\">Unknown: Redis could not be read.</p>\n");
        return;
    }
    m2j_alert_obs obs;
    memset(&obs, 0, sizeof obs);
    obs.now_ms = o->fleet->now_ms;
    obs.dead_total = o->fleet->dead;
    obs.oldest_age_ms = o->fleet->oldest_age_ms;
    obs.breaker_open = o->fleet->breaker_open;
    obs.polling = o->polling;
    obs.magento_last_ok_ms = o->fleet->magento_last_ok_ms;
    obs.workers_alive = o->fleet->workers_alive;
    int n = 0;
    for (int k = 0; k < M2J_INC_N; k++) {
        const m2j_incident *inc = o->alerts ? &o->alerts->inc[k] : NULL;
        bool told = inc && inc->active;
        bool now = m2j_incident_condition((m2j_incident_kind)k, &obs, o->policy);
        if (!told && !now)
            continue;
        if (n++ == 0)
            put(w, "<ul class=\"incidents\">");
        putf(w, "<li><strong>%s</strong>: %s", m2j_incident_name((m2j_incident_kind)k),
             incident_text((m2j_incident_kind)k));
        if (k == M2J_INC_DEAD)
            putf(w, " (<a href=\"/admin/failed\">%lld failed</a>)", o->fleet->dead);
        if (told) {
            put(w, "; open since ");
            when(w, inc->since_ms);
            put(w, ", alerts sent");
        } else {
            put(w, o->alerts ? "; not yet alerted" : "; no alert channel configured");
        }
        put(w, "</li>");
    }
    if (n)
        put(w, "</ul>\n");
    else
        put(w, "<p class=\"allclear\">None: events flow.</p>\n");
}

static void chart(pw *w, const m2j_throughput *tp)
{
    long long max = 0;
    for (int i = 0; i < 60; i++) {
        long long v = tp->minute[i][M2J_ACT_PROCESSED] + tp->minute[i][M2J_ACT_SKIPPED] + tp->minute[i][M2J_ACT_DEAD];
        if (v > max)
            max = v;
    }
    put(w, "<svg class=\"chart\" viewBox=\"0 0 600 100\" preserveAspectRatio=\"none\" role=\"img\" "
           "aria-label=\"Outcomes per minute, last 60 minutes\">");
    for (int i = 0; max > 0 && i < 60; i++) {
        long long ok = tp->minute[i][M2J_ACT_PROCESSED] + tp->minute[i][M2J_ACT_SKIPPED];
        long long bad = tp->minute[i][M2J_ACT_DEAD];
        long long hok = ok * 96 / max, hbad = bad * 96 / max;
        if (ok && !hok)
            hok = 1;
        if (bad && !hbad)
            hbad = 1;
        if (hok)
            putf(w, "<rect class=\"p\" x=\"%d\" y=\"%lld\" width=\"8\" height=\"%lld\"/>", i * 10 + 1,
                 100 - hok - hbad, hok);
        if (hbad)
            putf(w, "<rect class=\"d\" x=\"%d\" y=\"%lld\" width=\"8\" height=\"%lld\"/>", i * 10 + 1, 100 - hbad,
                 hbad);
    }
    put(w, "</svg>");
    putf(w, "<p class=\"legend\"><span class=\"p\"></span>processed or skipped "
            "<span class=\"d\"></span>failed &middot; per minute, 60 min ago to now &middot; peak %lld/min</p>", max);
}

static void jortt_card(pw *w, const m2j_fleet_stats *s)
{
    long long ok = 0, client = 0, server = 0, none = 0, limited = 0;
    for (size_t i = 0; i < s->n_jortt; i++) {
        const char *st = s->jortt[i].b;
        long long n = s->jortt[i].n;
        if (!strcmp(st, "429"))
            limited += n;
        if (st[0] == '2')
            ok += n;
        else if (st[0] == '4')
            client += n;
        else if (st[0] == '5')
            server += n;
        else
            none += n;
    }
    put(w, "<section class=\"card\"><h2>Jortt</h2>");
    if (s->breaker_open)
        put(w, "<p class=\"big bad\">Unusable</p><p>The circuit breaker is open: workers wait instead of burning "
               "attempts.</p>");
    else if (s->breaker_failures > 0)
        put(w, "<p class=\"big warn\">Failing</p>");
    else
        put(w, "<p class=\"big ok\">Healthy</p>");
    put(w, "<dl class=\"kv\">");
    kv_num(w, "Failures in a row", s->breaker_failures, s->breaker_failures ? "warn" : NULL);
    kv_num(w, "Requests 2xx", ok, NULL);
    kv_num(w, "Requests 4xx", client, client ? "warn" : NULL);
    kv_num(w, "of which 429", limited, limited ? "warn" : NULL);
    kv_num(w, "Requests 5xx", server, server ? "bad" : NULL);
    kv_num(w, "No answer", none, none ? "bad" : NULL);
    put(w, "</dl><p class=\"muted\">Requests since the counters began.</p></section>\n");
}

static void magento_card(pw *w, const rcv_overview *o)
{
    const m2j_fleet_stats *s = o->fleet;
    put(w, "<section class=\"card\"><h2>Magento</h2>");
    if (!o->polling) {
        put(w, "<p class=\"big\">Push only</p><p class=\"muted\">No polling configured (magento.rest_url, "
               "poll_interval_seconds): orders arrive as webhooks.</p></section>\n");
        return;
    }
    long long since = s->magento_last_ok_ms ? s->now_ms - s->magento_last_ok_ms : -1;
    bool stale = since < 0 || since > o->policy->magento_stale_ms;
    if (s->magento_last_ok_ms == 0)
        put(w, "<p class=\"big warn\">No poll yet</p>");
    else if (stale)
        put(w, "<p class=\"big bad\">Polls failing</p>");
    else
        put(w, "<p class=\"big ok\">Healthy</p>");
    put(w, "<dl class=\"kv\"><dt>Last good poll</dt><dd>");
    if (since >= 0) {
        age(w, since);
        put(w, " ago");
    } else {
        put(w, "never");
    }
    put(w, "</dd>");
    putf(w, "<dt>Poll interval</dt><dd>%ld s</dd>", o->poll_interval_seconds);
    kv_num(w, "Polls ok", s->magento_polls_ok, NULL);
    kv_num(w, "Polls failed", s->magento_polls_failed, s->magento_polls_failed ? "warn" : NULL);
    put(w, "</dl></section>\n");
}

m2j_rc rcv_page_overview(m2j_buf *b, const rcv_frame *f, const rcv_overview *o)
{
    pw w = { b, M2J_OK };
    page_begin(&w, f, "Overview", RCV_NAV_OVERVIEW);
    put(&w, "<h1>Overview</h1>\n");
    const m2j_fleet_stats *s = o->fleet;
    if (!s) {
        notice(&w, "Redis could not be read: the fleet's figures are missing. Try again shortly.", true);
        incidents(&w, o);
        return page_end(&w);
    }
    put(&w, "<p class=\"muted\">As of ");
    when(&w, s->now_ms);
    put(&w, " (Redis's clock).</p>\n");
    incidents(&w, o);
    put(&w, "<h2>Now</h2>\n<div class=\"cards\">\n<section class=\"card\"><h2>Queue</h2><dl class=\"kv\">");
    kv_num(&w, "Queued", s->queued, NULL);
    kv_num(&w, "In progress", s->in_progress, NULL);
    kv_num(&w, "Retry scheduled", s->scheduled_retries, s->scheduled_retries ? "warn" : NULL);
    putf(&w, "<dt><a href=\"/admin/failed\">Failed</a></dt><dd%s>%lld</dd>", s->dead ? " class=\"bad\"" : "",
         s->dead);
    put(&w, "<dt>Oldest waiting</dt><dd>");
    if (s->oldest_age_ms > 0)
        age(&w, s->oldest_age_ms);
    else
        put(&w, "-");
    put(&w, "</dd></dl></section>\n");
    putf(&w, "<section class=\"card\"><h2>Workers</h2><p class=\"big %s\">%lld alive</p>"
             "<p class=\"muted\">With a heartbeat in the last 30 s.</p></section>\n",
         s->workers_alive ? "ok" : "bad", s->workers_alive);
    jortt_card(&w, s);
    magento_card(&w, o);
    put(&w, "</div>\n<h2>Last hour</h2>\n<div class=\"cards\"><section class=\"card wide\">");
    if (o->tp) {
        put(&w, "<dl class=\"kv\">");
        for (int i = 0; i < M2J_ACT_N; i++) {
            const char *cls = i == M2J_ACT_DEAD && o->tp->total[i] ? "bad" : NULL;
            putf(&w, "<dt><a href=\"/admin/activity?outcome=%s\">%s</a></dt>", m2j_activity_outcomes[i],
                 m2j_activity_outcomes[i]);
            putf(&w, "<dd%s%s%s>%lld</dd>", cls ? " class=\"" : "", cls ? cls : "", cls ? "\"" : "",
                 o->tp->total[i]);
        }
        put(&w, "</dl>");
        chart(&w, o->tp);
    } else {
        put(&w, "<p class=\"muted\">Not available.</p>");
    }
    putf(&w, "</section></div>\n<p class=\"muted\">Since the counters began: %lld received, %lld replayed.</p>\n",
         s->received, s->replayed);
    return page_end(&w);
}

/* ---- activity ---- */

static void activity_link(pw *w, const char *outcome, const char *q, const char *before)
{
    put(w, "/admin/activity?outcome=");
    query(w, outcome);
    put(w, "&amp;q=");
    query(w, q);
    if (before) {
        put(w, "&amp;before=");
        query(w, before);
    }
}

m2j_rc rcv_page_activity(m2j_buf *b, const rcv_frame *f, const rcv_activity_page *a)
{
    pw w = { b, M2J_OK };
    const char *outcome = a->outcome ? a->outcome : "";
    const char *q = a->q ? a->q : "";
    page_begin(&w, f, "Activity", RCV_NAV_ACTIVITY);
    put(&w, "<h1>Activity</h1>\n<p class=\"muted\">The latest outcomes, newest first.</p>\n");
    put(&w, "<form class=\"filters\" method=\"get\" action=\"/admin/activity\" role=\"search\">"
            "<label>Outcome<select name=\"outcome\"><option value=\"\">any</option>");
    for (int i = 0; i < M2J_ACT_N; i++)
        putf(&w, "<option value=\"%s\"%s>%s</option>", m2j_activity_outcomes[i],
             !strcmp(outcome, m2j_activity_outcomes[i]) ? " selected" : "", m2j_activity_outcomes[i]);
    put(&w, "</select></label><label>Order number<input type=\"search\" name=\"q\" maxlength=\"64\" value=\"");
    esc(&w, q);
    put(&w, "\" inputmode=\"search\"></label><button type=\"submit\">Search</button>");
    if (*outcome || *q)
        put(&w, "<a href=\"/admin/activity\">Clear</a>");
    put(&w, "</form>\n");
    notice(&w, a->error, true);
    if (a->n == 0 && !a->error) {
        put(&w, *outcome || *q ? "<p>No outcome matches.</p>\n" : "<p>No outcomes yet.</p>\n");
        return page_end(&w);
    }
    if (a->n) {
        put(&w, "<table class=\"rows\"><thead><tr><th>Time</th><th>Order</th><th>Kind</th><th>Outcome</th>"
                "<th>Jortt invoice</th><th>Reason</th></tr></thead><tbody>\n");
        for (size_t i = 0; i < a->n; i++) {
            const m2j_activity_row *r = &a->rows[i];
            put(&w, "<tr>");
            td(&w, "Time", "mono");
            when(&w, r->at_ms);
            put(&w, "</td>");
            td(&w, "Order", NULL);
            if (*r->ref) {
                put(&w, "<a href=\"/admin/activity?q=");
                query(&w, r->ref);
                put(&w, "\">");
                esc(&w, r->ref);
                put(&w, "</a>");
            } else {
                put(&w, "-");
            }
            put(&w, "</td>");
            td(&w, "Kind", NULL);
            esc(&w, r->kind);
            put(&w, "</td>");
            td(&w, "Outcome", NULL);
            int oi = m2j_activity_outcome_index(r->outcome);
            putf(&w, "<span class=\"badge %s\">", oi >= 0 ? m2j_activity_outcomes[oi] : "");
            esc(&w, r->outcome);
            put(&w, "</span></td>");
            td(&w, "Jortt invoice", "mono");
            esc(&w, *r->jortt_id ? r->jortt_id : "-");
            put(&w, "</td>");
            td(&w, "Reason", NULL);
            esc(&w, r->reason);
            if (oi == M2J_ACT_DEAD && *r->event_id) {
                put(&w, " <a href=\"/admin/failed/event?id=");
                query(&w, r->event_id);
                put(&w, "\">details</a>");
            }
            put(&w, "</td></tr>\n");
        }
        put(&w, "</tbody></table>\n");
    }
    if (a->next) {
        put(&w, "<p class=\"actions\"><a href=\"");
        activity_link(&w, outcome, q, a->next);
        put(&w, "\">Older outcomes</a></p>\n");
    }
    return page_end(&w);
}

/* ---- failed events ---- */

static long long rec_int(json_object *rec, const char *key)
{
    int64_t v = 0;
    return m2j_json_int(rec, key, &v) == M2J_OK ? v : 0;
}

static void replay_one_form(pw *w, const rcv_frame *f, const char *id, const char *label, const char *cls)
{
    put(w, "<form class=\"inline\" method=\"post\" action=\"/admin/failed/replay\">");
    csrf_field(w, f);
    put(w, "<input type=\"hidden\" name=\"id\" value=\"");
    esc(w, id);
    putf(w, "\"><button type=\"submit\" class=\"%s\">%s</button></form>", cls, label);
}

m2j_rc rcv_page_failed(m2j_buf *b, const rcv_frame *f, const rcv_failed_page *p)
{
    pw w = { b, M2J_OK };
    const char *reason = p->reason ? p->reason : "";
    page_begin(&w, f, "Failed events", RCV_NAV_FAILED);
    put(&w, "<h1>Failed events</h1>\n");
    notice(&w, p->notice, p->notice_bad);
    put(&w, "<form class=\"filters\" method=\"get\" action=\"/admin/failed\" role=\"search\">"
            "<label>Reason contains<input type=\"search\" name=\"reason\" maxlength=\"200\" value=\"");
    esc(&w, reason);
    put(&w, "\"></label><button type=\"submit\">Filter</button>");
    if (*reason)
        put(&w, "<a href=\"/admin/failed\">Clear</a>");
    put(&w, "</form>\n");
    putf(&w, "<p>%lld failed event%s", p->total, p->total == 1 ? "" : "s");
    if (*reason) {
        put(&w, " with a reason containing \xE2\x80\x9C");
        esc(&w, reason);
        put(&w, "\xE2\x80\x9D");
    }
    if ((long long)p->n < p->total)
        putf(&w, " (the newest %zu shown)", p->n);
    put(&w, ".</p>\n");
    if (p->total > 0) {
        put(&w, "<form class=\"actions\" method=\"post\" action=\"/admin/failed/replay-all\">");
        csrf_field(&w, f);
        put(&w, "<input type=\"hidden\" name=\"reason\" value=\"");
        esc(&w, reason);
        putf(&w, "\"><button type=\"submit\" class=\"danger\">Replay all %s&hellip;</button>"
                 "<span class=\"muted\">Shows the count and asks before it acts.</span></form>\n",
             *reason ? "matching" : "");
    }
    if (p->n == 0)
        return page_end(&w);
    put(&w, "<table class=\"rows\"><thead><tr><th>Event</th><th>Order</th><th>Kind</th><th>Reason</th>"
            "<th>Attempts</th><th>First try</th><th>Last try</th><th></th></tr></thead><tbody>\n");
    for (size_t i = 0; i < p->n; i++) {
        const m2j_dead_entry *e = &p->list[i];
        json_object *r = e->record;
        const char *ref = m2j_json_str0(r, "ref");
        put(&w, "<tr>");
        td(&w, "Event", "mono");
        put(&w, "<a href=\"/admin/failed/event?id=");
        query(&w, e->event_id);
        put(&w, "\">");
        esc(&w, e->event_id);
        put(&w, "</a></td>");
        td(&w, "Order", NULL);
        esc(&w, *ref ? ref : "-");
        put(&w, "</td>");
        td(&w, "Kind", NULL);
        esc(&w, m2j_json_str0(r, "kind"));
        put(&w, "</td>");
        td(&w, "Reason", NULL);
        esc(&w, m2j_json_str0(r, "reason"));
        put(&w, "</td>");
        td(&w, "Attempts", "num");
        putf(&w, "%lld</td>", rec_int(r, "attempts"));
        td(&w, "First try", "mono");
        when(&w, rec_int(r, "first_try"));
        put(&w, "</td>");
        td(&w, "Last try", "mono");
        when(&w, rec_int(r, "last_try") ? rec_int(r, "last_try") : rec_int(r, "dead_at"));
        put(&w, "</td>");
        td(&w, "", NULL);
        replay_one_form(&w, f, e->event_id, "Replay", "small");
        put(&w, "</td></tr>\n");
    }
    put(&w, "</tbody></table>\n");
    return page_end(&w);
}

static void pretty(pw *w, json_object *v)
{
    const char *t = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                          JSON_C_TO_STRING_NOSLASHESCAPE);
    put(w, "<pre>");
    esc(w, t ? t : "");
    put(w, "</pre>\n");
}

m2j_rc rcv_page_failed_event(m2j_buf *b, const rcv_frame *f, const char *event_id, json_object *rec)
{
    pw w = { b, M2J_OK };
    page_begin(&w, f, "Failed event", RCV_NAV_FAILED);
    put(&w, "<p><a href=\"/admin/failed\">&larr; Failed events</a></p>\n<h1>Failed event <span class=\"mono\">");
    esc(&w, event_id);
    put(&w, "</span></h1>\n<dl class=\"kv facts\">");
    const char *ref = m2j_json_str0(rec, "ref");
    put(&w, "<dt>Order</dt><dd>");
    esc(&w, *ref ? ref : "-");
    put(&w, "</dd><dt>Kind</dt><dd>");
    esc(&w, m2j_json_str0(rec, "kind"));
    put(&w, "</dd><dt>Reason</dt><dd>");
    esc(&w, m2j_json_str0(rec, "reason"));
    put(&w, "</dd>");
    if (rec_int(rec, "http_status"))
        putf(&w, "<dt>HTTP status</dt><dd>%lld</dd>", rec_int(rec, "http_status"));
    const char *key = m2j_json_str0(rec, "error_key");
    if (*key) {
        put(&w, "<dt>Jortt error</dt><dd class=\"mono\">");
        esc(&w, key);
        put(&w, "</dd>");
    }
    putf(&w, "<dt>Attempts</dt><dd>%lld</dd><dt>First try</dt><dd>", rec_int(rec, "attempts"));
    when(&w, rec_int(rec, "first_try"));
    put(&w, "</dd><dt>Last try</dt><dd>");
    when(&w, rec_int(rec, "last_try"));
    put(&w, "</dd><dt>Failed at</dt><dd>");
    when(&w, rec_int(rec, "dead_at"));
    put(&w, "</dd></dl>\n<div class=\"actions\">");
    replay_one_form(&w, f, event_id, "Replay this event", "");
    put(&w, "</div>\n");
    json_object *details = m2j_json_path(rec, "error_details");
    if (details) {
        put(&w, "<h2>Error details</h2>\n");
        pretty(&w, details);
    }
    json_object *hist = m2j_json_path(rec, "job.history");
    size_t nh = hist && json_object_is_type(hist, json_type_array) ? json_object_array_length(hist) : 0;
    if (nh) {
        put(&w, "<h2>History</h2>\n<table class=\"rows\"><thead><tr><th>Time</th><th>Outcome</th><th>By</th>"
                "<th>Reason</th></tr></thead><tbody>\n");
        for (size_t i = 0; i < nh; i++) {
            json_object *h = json_object_array_get_idx(hist, i);
            put(&w, "<tr>");
            td(&w, "Time", "mono");
            when(&w, rec_int(h, "at"));
            put(&w, "</td>");
            td(&w, "Outcome", NULL);
            esc(&w, m2j_json_str0(h, "outcome"));
            put(&w, "</td>");
            td(&w, "By", "mono");
            esc(&w, m2j_json_str0(h, "by"));
            put(&w, "</td>");
            td(&w, "Reason", NULL);
            esc(&w, m2j_json_str0(h, "reason"));
            put(&w, "</td></tr>\n");
        }
        put(&w, "</tbody></table>\n");
    }
    json_object *payload = m2j_json_path(rec, "job.event");
    if (!payload)
        payload = m2j_json_path(rec, "job");
    put(&w, "<h2>Payload</h2>\n<p class=\"muted\">Personal data is masked (names, addresses, e-mail, phone, "
            "tax numbers): each value is replaced by the tag the logs carry for it.</p>\n");
    if (payload)
        pretty(&w, payload);
    else
        put(&w, "<p>None kept.</p>\n");
    return page_end(&w);
}

m2j_rc rcv_page_replay_confirm(m2j_buf *b, const rcv_frame *f, const char *reason, long long count)
{
    pw w = { b, M2J_OK };
    reason = reason ? reason : "";
    page_begin(&w, f, "Replay failed events", RCV_NAV_FAILED);
    put(&w, "<h1>Replay failed events</h1>\n<p class=\"notice\" role=\"status\">");
    putf(&w, "<strong>%lld</strong> failed event%s", count, count == 1 ? "" : "s");
    if (*reason) {
        put(&w, " with a reason containing \xE2\x80\x9C");
        esc(&w, reason);
        put(&w, "\xE2\x80\x9D");
    }
    put(&w, count == 1 ? " matches.</p>\n" : " match.</p>\n");
    if (count == 0) {
        put(&w, "<p>Nothing to replay. <a href=\"/admin/failed\">Back to failed events</a></p>\n");
        return page_end(&w);
    }
    putf(&w, "<p>Each goes back into the queue with a fresh retry budget and is invoiced once its cause is "
             "fixed (an order already invoiced is skipped, never invoiced twice). At most %d move per click.</p>\n",
         RCV_REPLAY_ALL_MAX);
    put(&w, "<form class=\"actions\" method=\"post\" action=\"/admin/failed/replay-all\">");
    csrf_field(&w, f);
    put(&w, "<input type=\"hidden\" name=\"reason\" value=\"");
    esc(&w, reason);
    put(&w, "\"><input type=\"hidden\" name=\"confirm\" value=\"yes\">");
    long long n = count < RCV_REPLAY_ALL_MAX ? count : RCV_REPLAY_ALL_MAX;
    putf(&w, "<button type=\"submit\" class=\"danger\">Replay %lld event%s</button>", n, n == 1 ? "" : "s");
    put(&w, "<a href=\"/admin/failed?reason=");
    query(&w, reason);
    put(&w, "\">Cancel</a></form>\n");
    return page_end(&w);
}

/* ---- settings ---- */

static void setting_rows(pw *w, const char *prefix, json_object *o)
{
    json_object_object_foreach(o, key, v) {
        m2j_buf path = {0};
        if (m2j_buf_printf(&path, "%s%s%s", prefix, *prefix ? "." : "", key) != M2J_OK) {
            m2j_buf_free(&path);
            w->rc = M2J_ERR_NOMEM;
            return;
        }
        json_type t = json_object_get_type(v);
        if (t == json_type_object && json_object_object_length(v) > 0) {
            setting_rows(w, path.data, v);
            m2j_buf_free(&path);
            continue;
        }
        put(w, "<tr>");
        td(w, "Key", "mono");
        esc(w, path.data);
        m2j_buf_free(&path);
        put(w, "</td>");
        td(w, "Value", NULL);
        if (t == json_type_object) {
            put(w, "<span class=\"muted\">(none)</span>");
        } else if (t == json_type_array) {
            size_t n = json_object_array_length(v);
            if (n == 0)
                put(w, "<span class=\"muted\">(none)</span>");
            for (size_t i = 0; i < n; i++) {
                if (i)
                    put(w, ", ");
                esc(w, json_object_get_string(json_object_array_get_idx(v, i)));
            }
        } else if (t == json_type_string && json_object_get_string_len(v) == 0) {
            put(w, "<span class=\"muted\">\"\"</span>");
        } else {
            esc(w, json_object_get_string(v));
        }
        put(w, "</td></tr>\n");
    }
}

m2j_rc rcv_page_settings(m2j_buf *b, const rcv_frame *f, const char *path, json_object *dump)
{
    pw w = { b, M2J_OK };
    page_begin(&w, f, "Settings", RCV_NAV_SETTINGS);
    put(&w, "<h1>Settings</h1>\n<p class=\"muted\">Read-only: the configuration this receiver loaded from <code>");
    esc(&w, path);
    put(&w, "</code> at start, defaults filled in. Secrets are hidden. Change the file and restart to change "
            "them; <code>m2jortt check-config</code> checks it first.</p>\n");
    json_object_object_foreach(dump, section, v) {
        put(&w, "<h2>");
        esc(&w, section);
        put(&w, "</h2>\n<table class=\"kv\"><thead><tr><th>Key</th><th>Value</th></tr></thead><tbody>\n");
        setting_rows(&w, section, v);
        put(&w, "</tbody></table>\n");
    }
    return page_end(&w);
}

m2j_rc rcv_page_message(m2j_buf *b, const rcv_frame *f, const char *title, const char *message)
{
    pw w = { b, M2J_OK };
    page_begin(&w, f, title, RCV_NAV_NONE);
    put(&w, "<h1>");
    esc(&w, title);
    put(&w, "</h1>\n<p>");
    esc(&w, message);
    put(&w, "</p>\n<p><a href=\"/admin\">Back to the dashboard</a></p>\n");
    return page_end(&w);
}
