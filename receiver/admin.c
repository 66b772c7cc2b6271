/* admin.c: see admin.h. One request is one `adm`: it reads its input (the
 * query, or a bounded form body), checks the session, then runs its steps,
 * each a Redis command whose reply callback is the next step, and ends in
 * exactly one answer. */
#include "receiver/admin.h"
#include "alert/alert_loop.h"
#include "alert/alert_store.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/mask.h"
#include "config/config_dump.h"
#include "metrics/fleet_stats.h"
#include "queue/activity.h"
#include "queue/dead_replay.h"
#include "queue/dead_select.h"
#include "receiver/admin_auth.h"
#include "receiver/admin_pages.h"
#include "receiver/admin_style.h"
#include "receiver/html.h"
#include "receiver/http_stats.h"
#include "receiver/json_error.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <unistd.h>

#define MAX_FORM_BYTES 4096   /* a form body: the largest is a reason filter of 200 bytes */
#define MAX_EVENT_ID   256    /* event ids are at most this long (ingest/event.h) */

static const char CSP[] = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
                          "frame-ancestors 'none'; base-uri 'none'";

struct rcv_admin {
    const m2j_config *cfg;
    rpool            *redis;     /* borrowed; a ready link is picked per command */
    rcv_guard        *guard;
    const char       *prefix;
    char             *by;      /* who replays: "dashboard@<host>" */
    json_object      *dump;    /* the settings page's configuration */
    m2j_alert_policy  policy;
    bool              polling;
};

typedef struct adm adm;
typedef void (*adm_step)(adm *r, redisReply *reply);

struct adm {
    rcv_admin                *a;
    struct evhttp_request    *req;     /* NULL once the client went away */
    rcv_conn                 *watch;   /* the guard's watch on req's connection, or */
    struct evhttp_connection *conn;    /* the connection watched directly */
    bool                      watched;
    long long                 t0;
    const char               *route;   /* static, for the log */
    bool                      post;
    struct evkeyvalq          in;      /* the query (GET) or the form (POST) */
    adm_step                  next;
    bool                      down_page; /* no reply: answer "Redis is not reachable" instead of next */
    m2j_redis_args            args;    /* the command in flight (kept until its reply) */
    void                    (*page)(adm *r);
    char                      sid[RCV_SESSION_ID_LEN + 1];
    char                      csrf[RCV_CSRF_LEN + 1];
    char                      client[M2J_PSEUDONYM_LEN];
    /* carried between steps */
    m2j_fleet_stats          *fleet;
    m2j_throughput           *tp;
    m2j_dead_entry           *dead;
    size_t                    n_dead;
    long long                 total;
    m2j_replay_batch          batch;
    m2j_replay_result        *res;
};

/* ---- answers ---- */

static void reply_done(void *arg, bool delivered)
{
    (void)arg, (void)delivered; /* logged at send */
}

typedef struct {
    int         code;
    const char *ctype;
    const char *body;
    size_t      len;
    const char *location;
    const char *cookie;
    long        retry_after;
} answer;

static void send_answer(rcv_admin *a, struct evhttp_request *req, const char *route, long long t0, const answer *an)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Content-Type", an->ctype ? an->ctype : "text/html; charset=utf-8");
    evhttp_add_header(h, "Cache-Control", "no-store");
    evhttp_add_header(h, "Content-Security-Policy", CSP);
    evhttp_add_header(h, "X-Frame-Options", "DENY");
    evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
    evhttp_add_header(h, "Referrer-Policy", "no-referrer");
    if (an->location)
        evhttp_add_header(h, "Location", an->location);
    if (an->cookie)
        evhttp_add_header(h, "Set-Cookie", an->cookie);
    char num[32];
    if (an->retry_after > 0) {
        snprintf(num, sizeof num, "%ld", an->retry_after);
        evhttp_add_header(h, "Retry-After", num);
    }
    if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
        snprintf(num, sizeof num, "%zu", an->len);
        evhttp_add_header(h, "Content-Length", num);
    } else if (an->len) {
        evbuffer_add(evhttp_request_get_output_buffer(req), an->body, an->len);
    }
    rcv_guard_reply(a->guard, req, reply_done, NULL);
    evhttp_send_reply(req, an->code, an->code >= 400 ? rcv_reason_phrase(an->code) : NULL, NULL);
    long long us = m2j_mono_us() - t0;
    char st[8], ms[32];
    snprintf(st, sizeof st, "%d", an->code);
    snprintf(ms, sizeof ms, "%lld.%03lld", us / 1000, us % 1000);
    m2j_log(an->code >= 500 ? M2J_LOG_WARN : M2J_LOG_DEBUG, "request", "method",
            evhttp_request_get_command(req) == EVHTTP_REQ_POST ? "POST" : "GET", "path", route, "status", st, "ms",
            ms, NULL);
    rcv_http_observe(RCV_PATH_ADMIN, an->code, us);
}

static void adm_free(adm *r)
{
    if (!r)
        return;
    evhttp_clear_headers(&r->in);
    m2j_redis_args_free(&r->args);
    free(r->fleet);
    free(r->tp);
    m2j_dead_entries_free(r->dead, r->n_dead);
    m2j_replay_batch_free(&r->batch);
    free(r->res);
    free(r);
}

/* Detaches from the connection (so a later close does not call into
 * freed memory) and gives back the request, or NULL when it went away. */
static struct evhttp_request *adm_take(adm *r)
{
    struct evhttp_request *req = r->req;
    if (r->watch)
        rcv_conn_unwatch(r->watch);
    else if (r->conn)
        evhttp_connection_set_closecb(r->conn, NULL, NULL);
    r->watch = NULL;
    r->conn = NULL;
    r->req = NULL;
    return req;
}

/* Ends the request with an answer (body owned by the caller). */
static void adm_answer(adm *r, const answer *an)
{
    struct evhttp_request *req = adm_take(r);
    if (req)
        send_answer(r->a, req, r->route, r->t0, an);
    adm_free(r);
}

static rcv_frame frame_of(adm *r)
{
    return (rcv_frame){ r->csrf[0] ? r->csrf : NULL, r->a->prefix };
}

/* Ends with a rendered page, or 500 when rendering ran out of memory. */
static void adm_page(adm *r, int code, m2j_buf *b, m2j_rc rendered, long retry_after)
{
    static const char oom[] = "out of memory\n";
    answer an = { code, NULL, m2j_buf_str(b), b->len, NULL, NULL, retry_after };
    if (rendered != M2J_OK)
        an = (answer){ 500, "text/plain; charset=utf-8", oom, sizeof oom - 1, NULL, NULL, 0 };
    adm_answer(r, &an);
    m2j_buf_free(b);
}

static void adm_message(adm *r, int code, const char *title, const char *message)
{
    m2j_buf b = {0};
    rcv_frame f = frame_of(r);
    adm_page(r, code, &b, rcv_page_message(&b, &f, title, message), code == 503 ? 5 : 0);
}

static void adm_redirect(adm *r, const char *location, const char *cookie)
{
    answer an = { 303, NULL, "", 0, location, cookie, 0 };
    adm_answer(r, &an);
}

static void adm_redis_down(adm *r)
{
    adm_message(r, 503, "Redis is not reachable", "The dashboard reads everything from Redis, which does not "
                                                   "answer now. Try again in a few seconds.");
}

/* The session cookie goes with Secure when configured, or when a TLS proxy
 * in front says the browser used https. */
static bool cookie_secure(adm *r)
{
    if (r->a->cfg->admin.cookie_secure)
        return true;
    const char *p = r->req ? evhttp_find_header(evhttp_request_get_input_headers(r->req), "X-Forwarded-Proto") : NULL;
    return p && strcasecmp(p, "https") == 0;
}

static void to_login(adm *r, bool clear_cookie)
{
    m2j_buf c = {0};
    if (clear_cookie && rcv_session_cookie(NULL, cookie_secure(r), &c) != M2J_OK)
        m2j_buf_free(&c);
    adm_redirect(r, "/admin/login", c.data);
    m2j_buf_free(&c);
}

/* ---- Redis ---- */

static void adm_gone(void *arg)
{
    adm *r = arg;
    r->req = NULL;
    r->watch = NULL;
    r->conn = NULL;
}

static void adm_on_close(struct evhttp_connection *conn, void *arg)
{
    (void)conn;
    adm_gone(arg);
}

/* The command's arguments are done with before its step runs (the step
 * may build the next command in r->args). */
static void adm_deliver(adm *r, redisReply *reply)
{
    m2j_redis_args_free(&r->args);
    if (!reply && r->down_page)
        adm_redis_down(r);
    else
        r->next(r, reply);
}

static void adm_on_reply(redisReply *reply, void *arg)
{
    adm *r = arg;
    if (!r->req) {
        adm_free(r);
        return;
    }
    adm_deliver(r, reply);
}

static void adm_send(adm *r, adm_step next, bool down_page)
{
    if (!r->watched) {
        r->watched = true;
        r->watch = rcv_guard_watch(r->a->guard, r->req, adm_gone, r);
        if (!r->watch && (r->conn = evhttp_request_get_connection(r->req)))
            evhttp_connection_set_closecb(r->conn, adm_on_close, r);
    }
    r->next = next;
    r->down_page = down_page;
    m2j_redis_args *a = &r->args;
    m2j_rc rc = M2J_ERR_IO;
    rlink *link = rpool_pick(r->a->redis); /* NULL while no link is ready: answered as Redis away */
    if (link && a->argc >= 3 && strcmp(a->argv[0], "EVAL") == 0) {
        char sha[41];
        rlink_script_sha(a->argv[1], sha);
        rc = rlink_eval(link, sha, a->argc, (const char **)a->argv, a->lens, adm_on_reply, r);
    } else if (link) {
        rc = rlink_command(link, a->argc, (const char **)a->argv, a->lens, adm_on_reply, r);
    }
    if (rc != M2J_OK)
        adm_deliver(r, NULL);
}

/* Sends r->args (EVAL argv as EVALSHA, else as is); next runs with the
 * reply, or at once with NULL when Redis cannot take the command now. */
static void adm_call(adm *r, adm_step next)
{
    adm_send(r, next, false);
}

/* The same for a page that has nothing to show without Redis: next runs
 * only with a reply; without one the answer is "Redis is not reachable". */
static void adm_query(adm *r, adm_step next)
{
    adm_send(r, next, true);
}

static const char *param(adm *r, const char *name)
{
    const char *v = evhttp_find_header(&r->in, name);
    return v ? v : "";
}

/* A non-negative count from a query parameter (0 when absent or junk). */
static long long count_param(adm *r, const char *name)
{
    const char *v = param(r, name);
    size_t n = strspn(v, "0123456789");
    return n > 0 && n < 10 && !v[n] ? strtoll(v, NULL, 10) : 0;
}

/* Event ids are sanitised at ingest to these characters. */
static bool event_id_ok(const char *id)
{
    size_t n = strlen(id);
    return n > 0 && n <= MAX_EVENT_ID && strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                                    "0123456789._:-") == n;
}

/* ---- overview ---- */

static void ov_alerts(adm *r, redisReply *rep)
{
    m2j_alert_state st;
    bool have = rep && rep->type == REDIS_REPLY_STRING;
    if (have)
        m2j_alert_state_parse(rep->str, &st);
    m2j_buf b = {0};
    rcv_frame f = frame_of(r);
    rcv_overview o = {
        .fleet = r->fleet,
        .tp = r->tp,
        .alerts = have ? &st : NULL,
        .policy = &r->a->policy,
        .polling = r->a->polling,
        .poll_interval_seconds = r->a->cfg->magento.poll_interval_seconds,
    };
    adm_page(r, r->fleet ? 200 : 503, &b, rcv_page_overview(&b, &f, &o), r->fleet ? 0 : 5);
}

static void ov_throughput(adm *r, redisReply *rep)
{
    m2j_err e;
    if (rep && (r->tp = malloc(sizeof *r->tp)) && m2j_throughput_parse(rep, r->tp, &e) != M2J_OK) {
        free(r->tp);
        r->tp = NULL;
    }
    m2j_redis_args_adds(&r->args, "GET");
    m2j_redis_args_addf(&r->args, "%s:alerts:state", r->a->prefix);
    if (m2j_redis_args_check(&r->args, &e) != M2J_OK) {
        ov_alerts(r, NULL);
        return;
    }
    adm_call(r, ov_alerts);
}

static void ov_fleet(adm *r, redisReply *rep)
{
    m2j_err e;
    if (!rep) {
        ov_alerts(r, NULL); /* Redis is away: the page says so */
        return;
    }
    if ((r->fleet = malloc(sizeof *r->fleet)) && m2j_fleet_stats_parse(rep, r->fleet, &e) != M2J_OK) {
        m2j_log(M2J_LOG_WARN, "dashboard: unreadable fleet figures", "error", e.msg, NULL);
        free(r->fleet);
        r->fleet = NULL;
    }
    if (m2j_throughput_args(r->a->prefix, &r->args, &e) != M2J_OK) {
        ov_throughput(r, NULL);
        return;
    }
    adm_call(r, ov_throughput);
}

static void ov_start(adm *r)
{
    m2j_fleet_args fa;
    m2j_err e;
    if (m2j_fleet_args_build(r->a->prefix, &fa, &e) != M2J_OK) {
        ov_alerts(r, NULL);
        return;
    }
    for (int i = 0; i < fa.argc; i++)
        m2j_redis_args_add(&r->args, fa.argv[i], fa.lens[i]);
    m2j_fleet_args_free(&fa);
    if (m2j_redis_args_check(&r->args, &e) != M2J_OK) {
        ov_alerts(r, NULL);
        return;
    }
    adm_call(r, ov_fleet);
}

/* ---- activity ---- */

static void act_render(adm *r, int code, const m2j_activity_row *rows, size_t n, const char *next, const char *error)
{
    m2j_buf b = {0};
    rcv_frame f = frame_of(r);
    rcv_activity_page p = { rows, n, next, param(r, "outcome"), param(r, "q"), error };
    adm_page(r, code, &b, rcv_page_activity(&b, &f, &p), 0);
}

static void act_got(adm *r, redisReply *rep)
{
    m2j_activity_row *rows;
    size_t n;
    char *next;
    m2j_err e;
    if (m2j_activity_parse(rep, &rows, &n, &next, &e) != M2J_OK) {
        adm_message(r, 500, "Activity unreadable", e.msg);
        return;
    }
    act_render(r, 200, rows, n, next, NULL);
    m2j_activity_rows_free(rows, n);
    free(next);
}

static void act_start(adm *r)
{
    const char *before = param(r, "before");
    m2j_activity_query q = {
        .outcome = param(r, "outcome"),
        .ref = param(r, "q"),
        .before = *before ? before : NULL,
        .limit = 50,
    };
    m2j_err e;
    if (m2j_activity_args(r->a->prefix, &q, &r->args, &e) != M2J_OK) {
        act_render(r, 400, NULL, 0, NULL, e.msg);
        return;
    }
    adm_query(r, act_got);
}

/* ---- failed events ---- */

/* The result of a replay, from the redirect's query. */
static void failed_notice(adm *r, m2j_buf *out, bool *bad)
{
    long long done = count_param(r, "replayed"), gone = count_param(r, "gone"), changed = count_param(r, "changed");
    long long broken = count_param(r, "broken"), left = count_param(r, "left");
    bool any = *param(r, "replayed") || *param(r, "gone") || *param(r, "changed") || *param(r, "broken");
    if (*param(r, "redis")) {
        m2j_buf_puts(out, "The replay could not be done: Redis did not answer. Nothing was replayed that is "
                          "not shown here; try again.");
        *bad = true;
        return;
    }
    if (!any)
        return;
    m2j_buf_printf(out, "Replayed %lld event%s into the queue.", done, done == 1 ? "" : "s");
    if (gone)
        m2j_buf_printf(out, " %lld had been replayed by someone else meanwhile.", gone);
    if (changed)
        m2j_buf_printf(out, " %lld changed while you looked (failed again): look again and replay.", changed);
    if (broken)
        m2j_buf_printf(out, " %lld could not be replayed: the stored job is not a JSON object.", broken);
    if (left)
        m2j_buf_printf(out, " %lld more still match.", left);
    *bad = done == 0;
}

static void fl_got(adm *r, redisReply *rep)
{
    m2j_err e;
    if (m2j_dead_select_parse(rep, &r->dead, &r->n_dead, &r->total, &e) != M2J_OK) {
        adm_message(r, 500, "Failed events unreadable", e.msg);
        return;
    }
    m2j_buf note = {0}, b = {0};
    bool bad = false;
    failed_notice(r, &note, &bad);
    rcv_frame f = frame_of(r);
    rcv_failed_page p = { r->dead, r->n_dead, r->total, m2j_now_ms(), param(r, "reason"),
                          note.data, bad };
    adm_page(r, 200, &b, rcv_page_failed(&b, &f, &p), 0);
    m2j_buf_free(&note);
}

static void fl_start(adm *r)
{
    m2j_dead_query q = { .reason = param(r, "reason"), .limit = RCV_FAILED_PAGE_ROWS };
    m2j_err e;
    if (m2j_dead_select_args(r->a->prefix, &q, &r->args, &e) != M2J_OK) {
        adm_message(r, 400, "Filter refused", e.msg);
        return;
    }
    adm_query(r, fl_got);
}

static void fe_got(adm *r, redisReply *rep)
{
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements == 0) {
        adm_message(r, 404, "No such failed event",
                    "There is no failed event with this id: it may have been replayed meanwhile.");
        return;
    }
    json_object *rec = NULL, *masked = NULL;
    m2j_err e;
    if (m2j_dead_record_parse(rep, &rec, &e) != M2J_OK || !(masked = m2j_mask_personal(rec))) {
        json_object_put(rec);
        adm_message(r, 500, "Failed event unreadable", "out of memory");
        return;
    }
    json_object_put(rec);
    m2j_buf b = {0};
    rcv_frame f = frame_of(r);
    m2j_rc rc = rcv_page_failed_event(&b, &f, param(r, "id"), masked);
    json_object_put(masked);
    adm_page(r, 200, &b, rc, 0);
}

static void fe_start(adm *r)
{
    const char *id = param(r, "id");
    if (!event_id_ok(id)) {
        adm_message(r, 400, "Bad event id", "An event id is 1 to 256 letters, digits and . _ : - only.");
        return;
    }
    m2j_redis_args_adds(&r->args, "HGETALL");
    m2j_redis_args_addf(&r->args, "%s:dead:%s", r->a->prefix, id);
    m2j_err e;
    if (m2j_redis_args_check(&r->args, &e) != M2J_OK) {
        adm_message(r, 500, "Out of memory", e.msg);
        return;
    }
    adm_query(r, fe_got);
}

/* After a replay: back to the list, with what happened in the query (and,
 * after "replay all", how many still match). */
static void replay_redirect(adm *r, const char *reason)
{
    long long n[4] = { 0 };
    for (size_t i = 0; i < r->batch.n_items; i++)
        n[r->res[i]]++;
    long long left = strcmp(r->route, "/admin/failed/replay-all") == 0
                         ? r->total - n[M2J_REPLAY_DONE] - n[M2J_REPLAY_GONE] : 0;
    m2j_buf loc = {0};
    m2j_buf_puts(&loc, "/admin/failed?reason=");
    rcv_html_query(&loc, reason);
    m2j_buf_printf(&loc, "&replayed=%lld&gone=%lld&changed=%lld&broken=%lld&left=%lld", n[M2J_REPLAY_DONE],
                   n[M2J_REPLAY_GONE], n[M2J_REPLAY_CHANGED], n[M2J_REPLAY_BROKEN], left > 0 ? left : 0);
    char num[24];
    snprintf(num, sizeof num, "%lld", n[M2J_REPLAY_DONE]);
    m2j_log(M2J_LOG_INFO, "dashboard replay", "client", r->client, "replayed", num, NULL);
    if (!loc.data)
        adm_message(r, 500, "Out of memory", "out of memory");
    else
        adm_redirect(r, loc.data, NULL);
    m2j_buf_free(&loc);
}

static void replay_done(adm *r, redisReply *rep)
{
    m2j_err e;
    if (!rep || m2j_replay_batch_parse(&r->batch, rep, r->res, &e) != M2J_OK) {
        m2j_buf loc = {0};
        m2j_buf_puts(&loc, "/admin/failed?redis=1&reason=");
        rcv_html_query(&loc, param(r, "reason"));
        adm_redirect(r, loc.data ? loc.data : "/admin/failed?redis=1", NULL);
        m2j_buf_free(&loc);
        return;
    }
    replay_redirect(r, param(r, "reason"));
}

/* Replays r->dead[0..n_dead) (each with its job as read). */
static void replay_entries(adm *r)
{
    m2j_replay_item *items = calloc(r->n_dead ? r->n_dead : 1, sizeof *items);
    r->res = calloc(r->n_dead ? r->n_dead : 1, sizeof *r->res);
    m2j_err e;
    if (!items || !r->res) {
        free(items);
        adm_message(r, 500, "Out of memory", "out of memory");
        return;
    }
    for (size_t i = 0; i < r->n_dead; i++)
        items[i] = (m2j_replay_item){ r->dead[i].event_id, r->dead[i].job_text };
    m2j_rc rc = m2j_replay_batch_build(r->a->prefix, r->a->cfg->admin.activity_keep, r->a->by, m2j_now_ms(), items,
                                       r->n_dead, &r->batch, r->res, &e);
    free(items);
    if (rc != M2J_OK) {
        adm_message(r, 500, "Replay failed", e.msg);
        return;
    }
    if (r->batch.n_sent == 0) {
        replay_redirect(r, param(r, "reason"));
        return;
    }
    r->args = r->batch.args; /* the batch keeps nothing else that the command needs */
    memset(&r->batch.args, 0, sizeof r->batch.args);
    adm_call(r, replay_done);
}

static void r1_job(adm *r, redisReply *rep)
{
    if (!rep) {
        adm_redirect(r, "/admin/failed?redis=1", NULL);
        return;
    }
    if (rep->type != REDIS_REPLY_STRING) {
        adm_redirect(r, "/admin/failed?replayed=0&gone=1", NULL);
        return;
    }
    if (!(r->dead = calloc(1, sizeof *r->dead)) || !(r->dead->event_id = strdup(param(r, "id"))) ||
        !(r->dead->job_text = strndup(rep->str, rep->len))) {
        adm_message(r, 500, "Out of memory", "out of memory");
        return;
    }
    r->n_dead = 1;
    r->total = 1;
    replay_entries(r);
}

static void r1_start(adm *r)
{
    const char *id = param(r, "id");
    if (!event_id_ok(id)) {
        adm_message(r, 400, "Bad event id", "An event id is 1 to 256 letters, digits and . _ : - only.");
        return;
    }
    m2j_redis_args_adds(&r->args, "HGET");
    m2j_redis_args_addf(&r->args, "%s:dead:%s", r->a->prefix, id);
    m2j_redis_args_adds(&r->args, "job");
    m2j_err e;
    if (m2j_redis_args_check(&r->args, &e) != M2J_OK) {
        adm_message(r, 500, "Out of memory", e.msg);
        return;
    }
    adm_call(r, r1_job);
}

static void ra_rows(adm *r, redisReply *rep)
{
    m2j_err e;
    if (m2j_dead_select_parse(rep, &r->dead, &r->n_dead, &r->total, &e) != M2J_OK) {
        adm_message(r, 500, "Failed events unreadable", e.msg);
        return;
    }
    replay_entries(r);
}

static void ra_count(adm *r, redisReply *rep)
{
    m2j_err e;
    if (m2j_dead_select_parse(rep, &r->dead, &r->n_dead, &r->total, &e) != M2J_OK) {
        adm_message(r, 500, "Failed events unreadable", e.msg);
        return;
    }
    m2j_buf b = {0};
    rcv_frame f = frame_of(r);
    adm_page(r, 200, &b, rcv_page_replay_confirm(&b, &f, param(r, "reason"), r->total), 0);
}

static void ra_start(adm *r)
{
    bool confirm = strcmp(param(r, "confirm"), "yes") == 0;
    m2j_dead_query q = { .reason = param(r, "reason"), .count_only = !confirm, .whole = confirm,
                         .limit = RCV_REPLAY_ALL_MAX };
    m2j_err e;
    if (m2j_dead_select_args(r->a->prefix, &q, &r->args, &e) != M2J_OK) {
        adm_message(r, 400, "Filter refused", e.msg);
        return;
    }
    adm_query(r, confirm ? ra_rows : ra_count);
}

/* ---- settings, sign-out ---- */

static void settings_page(adm *r)
{
    m2j_buf b = {0};
    rcv_frame f = frame_of(r);
    adm_page(r, 200, &b, rcv_page_settings(&b, &f, r->a->cfg->path, r->a->dump), 0);
}

static void logout_done(adm *r, redisReply *rep)
{
    (void)rep; /* gone or not, the browser forgets the cookie; the session expires anyway */
    m2j_log(M2J_LOG_INFO, "dashboard sign-out", "client", r->client, NULL);
    to_login(r, true);
}

static void logout_start(adm *r)
{
    m2j_err e;
    if (rcv_session_del_args(r->a->prefix, r->sid, &r->args, &e) != M2J_OK) {
        to_login(r, true);
        return;
    }
    adm_call(r, logout_done);
}

/* ---- the session ---- */

static void session_got(adm *r, redisReply *rep)
{
    if (rep->type != REDIS_REPLY_STRING || !rcv_session_value_parse(rep->str, m2j_now_ms(), r->csrf)) {
        r->csrf[0] = '\0';
        to_login(r, true);
        return;
    }
    if (r->post && !rcv_secret_equal(param(r, "csrf"), r->csrf)) {
        m2j_log(M2J_LOG_WARN, "dashboard: a form without its session's CSRF token refused", "client", r->client,
                "path", r->route, NULL);
        adm_message(r, 403, "Form refused", "This form did not carry this session's token (an old page, or a "
                                            "page from elsewhere). Reload the page and try again.");
        return;
    }
    r->page(r);
}

static void session_start(adm *r)
{
    const char *cookie = evhttp_find_header(evhttp_request_get_input_headers(r->req), "Cookie");
    m2j_err e;
    if (!cookie || !rcv_cookie_get(cookie, RCV_SESSION_COOKIE, r->sid, sizeof r->sid) ||
        !rcv_session_id_valid(r->sid)) {
        to_login(r, false);
        return;
    }
    if (rcv_session_get_args(r->a->prefix, r->sid, &r->args, &e) != M2J_OK) {
        adm_message(r, 500, "Out of memory", e.msg);
        return;
    }
    adm_query(r, session_got);
}

/* ---- sign-in ---- */

static void login_page(adm *r, int code, const char *message, long retry_after)
{
    m2j_buf b = {0};
    rcv_frame f = { NULL, r->a->prefix };
    adm_page(r, code, &b, rcv_page_login(&b, &f, message), retry_after);
}

static void login_done(adm *r, redisReply *rep)
{
    rcv_login_verdict v;
    long wait = 0;
    m2j_err e;
    if (!rep || rcv_login_parse(rep, &v, &wait, &e) != M2J_OK) {
        login_page(r, 503, "Redis does not answer, so no session can start. Try again shortly.", 5);
        return;
    }
    if (v == RCV_LOGIN_LIMITED) {
        char s[24], msg[160];
        snprintf(s, sizeof s, "%ld", wait);
        m2j_log(M2J_LOG_WARN, "dashboard sign-in held back", "client", r->client, "retry_after_s", s, NULL);
        snprintf(msg, sizeof msg, "Too many wrong tokens (from here, or in all). Try again in %ld min.",
                 (wait + 59) / 60);
        login_page(r, 429, msg, wait);
        return;
    }
    if (v == RCV_LOGIN_WRONG) {
        m2j_log(M2J_LOG_WARN, "dashboard sign-in refused: wrong token", "client", r->client, NULL);
        login_page(r, 401, "That is not the admin token.", 0);
        return;
    }
    m2j_log(M2J_LOG_INFO, "dashboard sign-in", "client", r->client, NULL);
    m2j_buf c = {0};
    if (rcv_session_cookie(r->sid, cookie_secure(r), &c) != M2J_OK) {
        m2j_buf_free(&c);
        login_page(r, 500, "out of memory", 0);
        return;
    }
    adm_redirect(r, "/admin", c.data);
    m2j_buf_free(&c);
}

static void login_start(adm *r)
{
    const char *token = param(r, "token");
    bool ok = rcv_secret_equal(token, r->a->cfg->admin.token);
    char csrf[RCV_CSRF_LEN + 1];
    m2j_buf value = {0};
    m2j_err e;
    if (rcv_session_new(r->sid, csrf) != M2J_OK || rcv_session_value(csrf, m2j_now_ms(), &value) != M2J_OK ||
        rcv_login_args(r->a->prefix, r->client, ok, r->sid, value.data, &r->args, &e) != M2J_OK) {
        m2j_buf_free(&value);
        login_page(r, 500, "out of memory", 0);
        return;
    }
    m2j_buf_free(&value);
    adm_call(r, login_done);
}

/* ---- routing ---- */

typedef struct {
    const char *path;
    bool        post;     /* else GET (and HEAD) */
    bool        session;  /* needs a signed-in session */
    void      (*run)(adm *r);
} route;

static const route ROUTES[] = {
    { "/admin", false, true, ov_start },
    { "/admin/", false, true, ov_start },
    { "/admin/activity", false, true, act_start },
    { "/admin/failed", false, true, fl_start },
    { "/admin/failed/event", false, true, fe_start },
    { "/admin/settings", false, true, settings_page },
    { "/admin/logout", true, true, logout_start },
    { "/admin/failed/replay", true, true, r1_start },
    { "/admin/failed/replay-all", true, true, ra_start },
    { "/admin/login", true, false, login_start },
};

bool rcv_admin_path(const char *path)
{
    return strcmp(path, RCV_PATH_ADMIN) == 0 || strncmp(path, RCV_PATH_ADMIN "/", sizeof RCV_PATH_ADMIN) == 0;
}

static void answer_now(rcv_admin *a, struct evhttp_request *req, const char *route_name, long long t0, int code,
                       const char *title, const char *message, const char *allow)
{
    m2j_buf b = {0};
    rcv_frame f = { NULL, a->prefix };
    m2j_rc rc = rcv_page_message(&b, &f, title, message);
    if (allow)
        evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", allow);
    answer an = { code, NULL, m2j_buf_str(&b), b.len, NULL, NULL, 0 };
    if (rc != M2J_OK)
        an = (answer){ 500, "text/plain; charset=utf-8", "out of memory\n", 14, NULL, NULL, 0 };
    send_answer(a, req, route_name, t0, &an);
    m2j_buf_free(&b);
}

/* Reads the form of a POST into r->in: application/x-www-form-urlencoded,
 * at most MAX_FORM_BYTES. Returns 0 or the status to refuse with. */
static int read_form(adm *r)
{
    struct evhttp_request *req = r->req;
    const char *ct = evhttp_find_header(evhttp_request_get_input_headers(req), "Content-Type");
    if (!ct || strncasecmp(ct, "application/x-www-form-urlencoded", 33) != 0)
        return 415;
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t n = evbuffer_get_length(in);
    if (n > MAX_FORM_BYTES)
        return 413;
    char *text = malloc(n + 1);
    if (!text)
        return 500;
    evbuffer_copyout(in, text, n);
    text[n] = '\0';
    int code = memchr(text, '\0', n) || (n && evhttp_parse_query_str(text, &r->in) != 0) ? 400 : 0;
    free(text);
    return code;
}

void rcv_admin_serve(rcv_admin *a, struct evhttp_request *req, const char *path, long long t0)
{
    enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
    bool get = cmd == EVHTTP_REQ_GET || cmd == EVHTTP_REQ_HEAD, post = cmd == EVHTTP_REQ_POST;
    if (strcmp(path, "/admin/style.css") == 0) {
        if (!get) {
            answer_now(a, req, "/admin/style.css", t0, 405, "Method not allowed", "GET only.", "GET, HEAD");
            return;
        }
        answer an = { 200, "text/css; charset=utf-8", rcv_admin_css, strlen(rcv_admin_css), NULL, NULL, 0 };
        send_answer(a, req, "/admin/style.css", t0, &an);
        return;
    }
    if (strcmp(path, "/admin/login") == 0 && get) {
        m2j_buf b = {0};
        rcv_frame f = { NULL, a->prefix };
        m2j_rc rc = rcv_page_login(&b, &f, NULL);
        answer an = { rc == M2J_OK ? 200 : 500, NULL, m2j_buf_str(&b), b.len, NULL, NULL, 0 };
        send_answer(a, req, "/admin/login", t0, &an);
        m2j_buf_free(&b);
        return;
    }
    const route *rt = NULL;
    const char *allow = NULL;
    for (size_t i = 0; i < sizeof ROUTES / sizeof ROUTES[0]; i++) {
        if (strcmp(path, ROUTES[i].path) != 0)
            continue;
        if (ROUTES[i].post ? post : get)
            rt = &ROUTES[i];
        else
            allow = strcmp(path, "/admin/login") == 0 ? "GET, HEAD, POST" : ROUTES[i].post ? "POST" : "GET, HEAD";
    }
    if (!rt) {
        if (allow)
            answer_now(a, req, "/admin", t0, 405, "Method not allowed", "Not with this method.", allow);
        else
            answer_now(a, req, "/admin/-", t0, 404, "Not found", "There is no such page.", NULL);
        return;
    }
    adm *r = calloc(1, sizeof *r);
    if (!r) {
        answer an = { 500, "text/plain; charset=utf-8", "out of memory\n", 14, NULL, NULL, 0 };
        send_answer(a, req, rt->path, t0, &an);
        return;
    }
    TAILQ_INIT(&r->in);
    r->a = a;
    r->req = req;
    r->t0 = t0;
    r->route = rt->path;
    r->post = rt->post;
    r->page = rt->run;
    char *addr = NULL;
    ev_uint16_t port = 0;
    struct evhttp_connection *conn = evhttp_request_get_connection(req);
    if (conn)
        evhttp_connection_get_peer(conn, &addr, &port);
    m2j_log_pseudonym(addr ? addr : "unknown", r->client);
    int refused = 0;
    if (rt->post) {
        refused = read_form(r);
    } else {
        const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
        const char *q = uri ? evhttp_uri_get_query(uri) : NULL;
        if (q && *q && evhttp_parse_query_str(q, &r->in) != 0)
            refused = 400;
    }
    if (refused) {
        adm_message(r, refused, "Request refused",
                    refused == 413   ? "The form is too large."
                    : refused == 415 ? "Forms are sent as application/x-www-form-urlencoded."
                                     : "The request's parameters could not be read.");
        return;
    }
    if (rt->session)
        session_start(r);
    else
        rt->run(r);
}

/* ---- life cycle ---- */

m2j_rc rcv_admin_new(const m2j_config *cfg, rpool *redis, rcv_guard *guard, rcv_admin **out, m2j_err *err)
{
    *out = NULL;
    if (!cfg->admin.token || !*cfg->admin.token)
        return M2J_OK;
    rcv_admin *a = calloc(1, sizeof *a);
    if (!a)
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    a->cfg = cfg;
    a->redis = redis;
    a->guard = guard;
    a->prefix = cfg->redis.key_prefix && *cfg->redis.key_prefix ? cfg->redis.key_prefix : "m2jortt";
    a->polling = cfg->magento.rest_url && *cfg->magento.rest_url && cfg->magento.poll_interval_seconds > 0;
    m2j_alert_policy_for(cfg, &a->policy);
    char host[256] = "unknown";
    gethostname(host, sizeof host - 1);
    host[sizeof host - 1] = '\0';
    m2j_buf by = {0};
    m2j_rc rc = m2j_buf_printf(&by, "dashboard@%s", host);
    a->by = m2j_buf_detach(&by);
    if (rc == M2J_OK)
        rc = m2j_config_dump(cfg, &a->dump, err);
    else
        m2j_fail(err, rc, "out of memory");
    if (rc != M2J_OK) {
        rcv_admin_free(a);
        return rc;
    }
    *out = a;
    return M2J_OK;
}

void rcv_admin_free(rcv_admin *a)
{
    if (!a)
        return;
    free(a->by);
    json_object_put(a->dump);
    free(a);
}
