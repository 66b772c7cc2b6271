/* incident.c: see incident.h. */
#include "alert/incident.h"

#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const char *const NAMES[M2J_INC_N] = { "dead_letters", "backlog", "jortt", "magento", "workers" };

const char *m2j_incident_name(m2j_incident_kind k)
{
    return (unsigned)k < M2J_INC_N ? NAMES[k] : "?";
}

bool m2j_incident_condition(m2j_incident_kind k, const m2j_alert_obs *o, const m2j_alert_policy *p)
{
    switch (k) {
    case M2J_INC_DEAD:    return o->dead_total > 0;
    case M2J_INC_BACKLOG: return o->oldest_age_ms > p->max_age_ms;
    case M2J_INC_JORTT:   return o->breaker_open;
    case M2J_INC_MAGENTO: return o->polling && o->magento_last_ok_ms > 0 &&
                                 o->now_ms - o->magento_last_ok_ms > p->magento_stale_ms;
    case M2J_INC_WORKERS: return o->workers_alive == 0;
    case M2J_INC_N:       break;
    }
    return false;
}

static void hhmm(long long ms, char *out, size_t n)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(out, n, "%04d-%02d-%02d %02d:%02d UTC", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min);
}

static void add(char *t, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void add(char *t, size_t n, const char *fmt, ...)
{
    size_t used = strlen(t);
    if (used + 1 >= n)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t + used, n - used, fmt, ap);
    va_end(ap);
}

static void dead_list(char *t, size_t n, const m2j_alert_obs *o)
{
    for (size_t i = 0; i < o->n_items; i++) {
        const m2j_dead_item *d = &o->items[i];
        add(t, n, "\n- %s%s (%s): %s", d->ref[0] ? "#" : "", d->ref[0] ? d->ref : "no order number", d->kind,
            d->reason);
    }
    if ((long long)o->n_items < o->new_dead)
        add(t, n, "\n- and %lld more", o->new_dead - (long long)o->n_items);
    add(t, n, "\nSee `m2jortt failed`; `m2jortt replay` puts them back once fixed.");
}

/* What the incident is about, without the started/ended wording. */
static void body(m2j_incident_kind k, m2j_alert_event ev, const m2j_alert_obs *o, const m2j_alert_policy *p,
                 char *t, size_t n)
{
    bool end = ev == M2J_ALERT_ENDED;
    switch (k) {
    case M2J_INC_DEAD:
        if (end) {
            add(t, n, "no dead letters left (replayed or resolved).");
        } else if (ev == M2J_ALERT_REMINDER) {
            add(t, n, "%lld dead letter%s still waiting for a fix and a replay.", o->dead_total,
                o->dead_total == 1 ? "" : "s");
        } else {
            add(t, n, "%lld new dead letter%s (%lld in all): events m2jortt gave up on.", o->new_dead,
                o->new_dead == 1 ? "" : "s", o->dead_total);
            dead_list(t, n, o);
        }
        break;
    case M2J_INC_BACKLOG:
        if (end)
            add(t, n, "the queue is moving again (oldest waiting event %lld s old).", o->oldest_age_ms / 1000);
        else
            add(t, n, "the oldest waiting event is %lld s old (limit %lld s); %lld waiting, %lld in progress.",
                o->oldest_age_ms / 1000, p->max_age_ms / 1000, o->queued, o->in_progress);
        break;
    case M2J_INC_JORTT:
        if (end)
            add(t, n, "Jortt is usable again (circuit breaker closed).");
        else
            add(t, n, "Jortt is unusable: the circuit breaker is open after %lld failed calls in a row (Jortt "
                      "down, or the client credentials or the plan refused: see the worker log). Events wait "
                      "in the queue.", o->breaker_failures);
        break;
    case M2J_INC_MAGENTO:
        if (end)
            add(t, n, "Magento polls succeed again.");
        else
            add(t, n, "no Magento poll has succeeded for %lld s: Magento unreachable or its token refused "
                      "(see the worker log).", (o->now_ms - o->magento_last_ok_ms) / 1000);
        break;
    case M2J_INC_WORKERS:
        if (end)
            add(t, n, "%lld worker%s alive again.", o->workers_alive, o->workers_alive == 1 ? "" : "s");
        else
            add(t, n, "no worker alive (no heartbeat for 30 s): events are not being processed.");
        break;
    case M2J_INC_N:
        break;
    }
}

static void message(m2j_incident_kind k, m2j_alert_event ev, const m2j_incident *inc, const m2j_alert_obs *o,
                    const m2j_alert_policy *p, m2j_alert_msg *m)
{
    static const char *const WORD[] = { "started", "update", "still open", "ended" };
    char since[40];
    hhmm(inc->since_ms, since, sizeof since);
    m->kind = k;
    m->event = ev;
    m->text[0] = '\0';
    /* The installation's name tells several shops' messages apart; the
     * default prefix adds nothing to "[m2jortt]". */
    bool named = p->name && *p->name && strcmp(p->name, "m2jortt") != 0;
    add(m->text, sizeof m->text, "[m2jortt%s%s] %s %s", named ? " " : "", named ? p->name : "",
        m2j_incident_name(k), WORD[ev]);
    if (ev != M2J_ALERT_STARTED)
        add(m->text, sizeof m->text, " (since %s)", since);
    add(m->text, sizeof m->text, ": ");
    body(k, ev, o, p, m->text, sizeof m->text);
}

size_t m2j_alert_evaluate(m2j_alert_state *st, const m2j_alert_obs *o, const m2j_alert_policy *p,
                          m2j_alert_msg *out, size_t max)
{
    size_t n = 0;
    for (int k = 0; k < M2J_INC_N; k++) {
        m2j_incident *inc = &st->inc[k];
        bool now = m2j_incident_condition((m2j_incident_kind)k, o, p);
        if (k == M2J_INC_WORKERS && !inc->active) {
            if (!now)
                inc->seen_ms = 0;
            else if (!inc->seen_ms)
                inc->seen_ms = o->now_ms;
            now = now && o->now_ms - inc->seen_ms >= p->workers_hold_ms;
        }
        int ev = -1;
        if (now && !inc->active) {
            inc->active = true;
            inc->since_ms = o->now_ms;
            ev = M2J_ALERT_STARTED;
        } else if (!now && inc->active) {
            ev = M2J_ALERT_ENDED;
        } else if (now && k == M2J_INC_DEAD && o->new_dead > 0 && o->now_ms - inc->last_msg_ms >= p->dead_batch_ms) {
            ev = M2J_ALERT_UPDATE;
        } else if (now && o->now_ms - inc->last_msg_ms >= p->repeat_ms) {
            ev = M2J_ALERT_REMINDER;
        }
        if (ev < 0)
            continue;
        /* No room: the transition waits for the next round rather than
         * being recorded without its message. */
        if (n >= max) {
            if (ev == M2J_ALERT_STARTED)
                inc->active = false;
            continue;
        }
        message((m2j_incident_kind)k, (m2j_alert_event)ev, inc, o, p, &out[n++]);
        inc->last_msg_ms = o->now_ms;
        if (ev == M2J_ALERT_ENDED)
            memset(inc, 0, sizeof *inc);
        if (k == M2J_INC_DEAD && (ev == M2J_ALERT_STARTED || ev == M2J_ALERT_UPDATE) &&
            o->newest_dead_ms > st->dead_seen_ms)
            st->dead_seen_ms = o->newest_dead_ms;
    }
    return n;
}

m2j_rc m2j_alert_state_text(const m2j_alert_state *st, m2j_buf *out)
{
    m2j_buf_reset(out);
    m2j_rc rc = m2j_buf_printf(out, "{\"dead_seen_ms\":%lld", st->dead_seen_ms);
    for (int k = 0; k < M2J_INC_N && rc == M2J_OK; k++) {
        const m2j_incident *i = &st->inc[k];
        if (i->active || i->seen_ms)
            rc = m2j_buf_printf(out, ",\"%s\":[%d,%lld,%lld,%lld]", NAMES[k], i->active, i->since_ms,
                                i->last_msg_ms, i->seen_ms);
    }
    if (rc == M2J_OK)
        rc = m2j_buf_puts(out, "}");
    return rc;
}

void m2j_alert_state_parse(const char *text, m2j_alert_state *st)
{
    memset(st, 0, sizeof *st);
    json_object *o = text ? json_tokener_parse(text) : NULL, *v;
    if (!o || !json_object_is_type(o, json_type_object)) {
        json_object_put(o);
        return;
    }
    if (json_object_object_get_ex(o, "dead_seen_ms", &v))
        st->dead_seen_ms = json_object_get_int64(v);
    for (int k = 0; k < M2J_INC_N; k++) {
        if (json_object_object_get_ex(o, NAMES[k], &v) && json_object_is_type(v, json_type_array) &&
            json_object_array_length(v) == 4) {
            st->inc[k].active = json_object_get_int(json_object_array_get_idx(v, 0)) != 0;
            st->inc[k].since_ms = json_object_get_int64(json_object_array_get_idx(v, 1));
            st->inc[k].last_msg_ms = json_object_get_int64(json_object_array_get_idx(v, 2));
            st->inc[k].seen_ms = json_object_get_int64(json_object_array_get_idx(v, 3));
        }
    }
    json_object_put(o);
}
