/* cmd_reconcile.c: `m2jortt reconcile --from YYYY-MM-DD [--to YYYY-MM-DD]
 * [--json] [--enqueue]`: for every Magento order of those days (created_at,
 * whole UTC days) in an invoicing status (orders.statuses), what m2jortt
 * holds: invoiced (the Jortt invoice id), changed (invoiced, but its lines
 * or totals in Magento are no longer what was invoiced: the difference in
 * plain words), skipped (why), failed (the dead letter's reason), pending
 * (in the queue or waiting for a retry) or missing; an invoiced order whose
 * total in Magento is no longer the total invoiced is also flagged
 * (total_differs); counts at the end. --enqueue queues the missing ones as
 * the poller's order events.
 *
 * Read-only apart from --enqueue: Redis is read (reconcile_held.c, one
 * HGETALL of P:order:<ref> per order) and Magento paged through as
 * backfill does, one request per 100 orders. The reference an order is
 * recorded under is worked out by the same mapping the worker runs
 * (orders.field_map may change it), falling back to the increment_id for
 * an order the mapping refuses; the total compared is the mapping's
 * grand_total, the figure the worker records, and the lines are compared
 * by the worker's own fingerprint (mapping/order_fingerprint.h). */
#include "cli/cli.h"
#include "base/clock.h"
#include "base/json_util.h"
#include "cli/reconcile.h"
#include "ingest/envelope.h"
#include "magento/order_range.h"
#include "mapping/order_fingerprint.h"
#include "mapping/order_mapping.h"
#include "queue/redis_cmd.h"

#include <stdlib.h>
#include <string.h>

#define PAGE_SIZE    100
#define PAGE_RETRIES 4

static const char usage[] = "usage: m2jortt reconcile --from YYYY-MM-DD [--to YYYY-MM-DD] [--json] [--enqueue]\n";

typedef struct {
    m2j_queue        *q;
    const m2j_config *cfg;
    cli_held          held;
    json_object      *rows;     /* one object per order */
    json_object      *missing;  /* the raw REST orders to queue (--enqueue) */
    long              counts[CLI_RECON_N];
    long              differs;
    m2j_err           err;
    bool              failed;
} recon;

/* The reference and total the worker would use for this order, and its
 * fingerprint (*have_fp: *fp filled, the caller clears it). */
static void plan_of(const m2j_config *cfg, json_object *raw, char **ref, bool *has_total, m2j_money *total,
                    m2j_order_fp *fp, bool *have_fp)
{
    *ref = NULL;
    *has_total = false;
    *have_fp = false;
    json_object *norm = NULL;
    m2j_err e;
    if (m2j_normalise_order(raw, &norm, &e) != M2J_OK)
        return;
    *have_fp = m2j_order_fingerprint(cfg, norm, fp, &e) == M2J_OK;
    m2j_order_action action;
    m2j_invoice_plan plan;
    memset(&plan, 0, sizeof plan);
    if (m2j_order_plan(cfg, norm, &action, NULL, &plan, &e) == M2J_OK && action == M2J_ORDER_INVOICE) {
        *ref = plan.reference ? strdup(plan.reference) : NULL;
        *total = plan.grand_total;
        *has_total = true;
        m2j_invoice_plan_clear(&plan);
    }
    json_object_put(norm);
}

static bool one(recon *r, json_object *raw)
{
    const char *inc = m2j_json_get_id(raw, "increment_id"), *eid = m2j_json_get_id(raw, "entity_id");
    char *ref = NULL;
    cli_order_facts f = {0};
    m2j_order_fp now;
    bool have_fp = false;
    plan_of(r->cfg, raw, &ref, &f.has_total, &f.magento_total, &now, &have_fp);
    f.now = have_fp ? &now : NULL;
    if (!f.has_total && m2j_json_money(raw, "grand_total", &f.magento_total, NULL) == M2J_OK)
        f.has_total = true;
    const char *key_ref = ref ? ref : inc;
    redisReply *rec = NULL;
    if (key_ref) {
        m2j_buf key = {0};
        m2j_rc rc = m2j_wkey_id(r->q, &key, "order:", key_ref);
        if (rc == M2J_OK)
            rc = m2j_wcmd(r->q, &rec, &r->err, "HGETALL", key.data, NULL);
        m2j_buf_free(&key);
        if (rc != M2J_OK) {
            free(ref);
            if (have_fp)
                m2j_order_fp_clear(&now);
            r->failed = true;
            return false;
        }
        f.record_state = m2j_reply_field(rec, "state");
        f.invoice_id = m2j_reply_field(rec, "invoice_id");
        f.invoiced_total = m2j_reply_field(rec, "grand_total");
        f.fingerprint = m2j_reply_field(rec, "fingerprint");
        f.credited_full = m2j_reply_field(rec, "credited_full");
    }
    f.pending = cli_held_pending(&r->held, key_ref, inc, eid);
    json_object *dead = cli_held_dead(&r->held, key_ref, inc, eid);
    f.dead_reason = dead ? m2j_json_scalar(dead, "reason") : NULL;
    f.skip_reason = cli_held_skip(&r->held, key_ref);
    cli_verdict v;
    cli_reconcile_verdict(&f, &v);
    r->counts[v.state]++;

    json_object *row = json_object_new_object();
    json_object_object_add(row, "increment_id", json_object_new_string(inc ? inc : ""));
    json_object_object_add(row, "entity_id", json_object_new_string(eid ? eid : ""));
    if (ref && inc && strcmp(ref, inc) != 0)
        json_object_object_add(row, "reference", json_object_new_string(ref));
    json_object_object_add(row, "status", json_object_new_string(m2j_json_scalar(raw, "status")));
    json_object_object_add(row, "state", json_object_new_string(cli_recon_state_name(v.state)));
    if (v.state == CLI_RECON_INVOICED) {
        json_object_object_add(row, "invoice_id", json_object_new_string(v.detail));
    } else if (v.state == CLI_RECON_CHANGED) {
        m2j_buf why = {0};
        m2j_buf_printf(&why, "changed after invoicing (Jortt invoice %s): %s", v.detail, m2j_buf_str(&v.changes));
        json_object_object_add(row, "invoice_id", json_object_new_string(v.detail));
        json_object_object_add(row, "changes", json_object_new_string(m2j_buf_str(&v.changes)));
        json_object_object_add(row, "reason", json_object_new_string(m2j_buf_str(&why)));
        m2j_buf_free(&why);
    } else if (*v.detail)
        json_object_object_add(row, "reason", json_object_new_string(v.detail));
    if (dead && v.state == CLI_RECON_FAILED)
        json_object_object_add(row, "event_id", json_object_new_string(m2j_json_scalar(dead, "event_id")));
    if (v.total_differs) {
        char a[M2J_MONEY_STRLEN], b[M2J_MONEY_STRLEN];
        json_object_object_add(row, "total_differs", json_object_new_boolean(1));
        json_object_object_add(row, "magento_total", json_object_new_string(m2j_money_format(f.magento_total, a)));
        json_object_object_add(row, "invoiced_total", json_object_new_string(m2j_money_format(v.invoiced_total, b)));
        r->differs++;
    }
    json_object_array_add(r->rows, row);
    if (v.state == CLI_RECON_MISSING && r->missing)
        json_object_array_add(r->missing, json_object_get(raw));
    if (rec)
        freeReplyObject(rec);
    free(ref);
    cli_verdict_clear(&v);
    if (have_fp)
        m2j_order_fp_clear(&now);
    return true;
}

static bool on_page(json_object *items, void *ud)
{
    recon *r = ud;
    size_t n = json_object_array_length(items);
    for (size_t i = 0; i < n; i++)
        if (!one(r, json_object_array_get_idx(items, i)))
            return false;
    return true;
}

static void print_human(cli_ctx *c, const recon *r, const m2j_day_range *range, const cli_enqueue_counts *eq,
                        bool enqueue)
{
    size_t n = json_object_array_length(r->rows);
    for (size_t i = 0; i < n; i++) {
        json_object *row = json_object_array_get_idx(r->rows, i);
        const char *state = m2j_json_scalar(row, "state");
        const char *detail = m2j_json_get_string(row, "invoice_id");
        if (!detail)
            detail = m2j_json_get_string(row, "reason");
        fprintf(c->out, "%-14s %-9s %s", m2j_json_scalar(row, "increment_id"), state, detail ? detail : "");
        if (m2j_json_get(row, "changes"))
            fprintf(c->out, "  CHANGED AFTER INVOICING: %s", m2j_json_scalar(row, "changes"));
        if (m2j_json_get(row, "total_differs"))
            fprintf(c->out, "  TOTAL DIFFERS: Magento %s, invoiced %s", m2j_json_scalar(row, "magento_total"),
                    m2j_json_scalar(row, "invoiced_total"));
        fputc('\n', c->out);
    }
    fprintf(c->out, "%zu order%s in orders.statuses created %s .. %s (UTC): %ld invoiced, %ld changed after "
                    "invoicing, %ld skipped, %ld failed, %ld pending, %ld missing",
            n, n == 1 ? "" : "s", range->from_day, range->to_day, r->counts[CLI_RECON_INVOICED],
            r->counts[CLI_RECON_CHANGED], r->counts[CLI_RECON_SKIPPED], r->counts[CLI_RECON_FAILED],
            r->counts[CLI_RECON_PENDING], r->counts[CLI_RECON_MISSING]);
    if (r->differs)
        fprintf(c->out, "; %ld invoiced with a total Magento no longer has", r->differs);
    fputc('\n', c->out);
    if (enqueue) {
        fprintf(c->out, "queued %ld missing order%s", eq->queued, eq->queued == 1 ? "" : "s");
        if (eq->duplicates)
            fprintf(c->out, " (%ld already accepted under the same event id, not again)", eq->duplicates);
        fputc('\n', c->out);
    } else if (r->counts[CLI_RECON_MISSING]) {
        fprintf(c->out, "add --enqueue to queue the %ld missing\n", r->counts[CLI_RECON_MISSING]);
    }
}

static void print_json(cli_ctx *c, recon *r, const m2j_day_range *range, const cli_enqueue_counts *eq,
                       bool enqueue, long calls)
{
    json_object *o = json_object_new_object(), *counts = json_object_new_object();
    json_object_object_add(o, "from", json_object_new_string(range->from_day));
    json_object_object_add(o, "to", json_object_new_string(range->to_day));
    json_object_object_add(o, "orders", json_object_get(r->rows));
    for (int s = 0; s < CLI_RECON_N; s++)
        json_object_object_add(counts, cli_recon_state_name((cli_recon_state)s), json_object_new_int64(r->counts[s]));
    json_object_object_add(counts, "total_differs", json_object_new_int64(r->differs));
    json_object_object_add(o, "counts", counts);
    if (enqueue) {
        json_object *e = json_object_new_object();
        json_object_object_add(e, "queued", json_object_new_int64(eq->queued));
        json_object_object_add(e, "duplicates", json_object_new_int64(eq->duplicates));
        json_object_object_add(e, "unusable", json_object_new_int64(eq->unusable));
        json_object_object_add(o, "enqueued", e);
    }
    json_object_object_add(o, "magento_calls", json_object_new_int64(calls));
    fprintf(c->out, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    json_object_put(o);
}

int cli_cmd_reconcile(cli_ctx *c, int argc, char **argv)
{
    bool json = false, enqueue = false, bad = false;
    const char *from = NULL, *to = NULL;
    for (int i = 1; i < argc && !bad; i++) {
        if (!strcmp(argv[i], "--json"))
            json = true;
        else if (!strcmp(argv[i], "--enqueue"))
            enqueue = true;
        else if (cli_opt_value(c, argc, argv, &i, "--from", &from, &bad) ||
                 cli_opt_value(c, argc, argv, &i, "--to", &to, &bad))
            continue;
        else {
            fprintf(c->err, "m2jortt reconcile: unexpected argument %s\n", argv[i]);
            bad = true;
        }
    }
    m2j_day_range range;
    m2j_err err = {0};
    if (!bad && m2j_day_range_parse(from, to, m2j_now_ms(), &range, &err) != M2J_OK) {
        fprintf(c->err, "m2jortt reconcile: %s\n", err.msg);
        bad = true;
    }
    cli_session sess;
    int code = cli_start(c, bad, usage, CLI_NEEDS_QUEUE, &sess);
    if (code != CLI_OK)
        return code;
    const m2j_config *cfg = sess.cfg;
    cli_magento m;
    if (cli_magento_open(c, "reconcile", cfg, sess.q, &m) != M2J_OK) {
        cli_close(&sess);
        return CLI_FAIL;
    }
    recon r = { .q = sess.q, .cfg = cfg };
    cli_enqueue_counts eq = {0};
    code = CLI_FAIL;
    /* What Redis holds is read before Magento is: an order invoiced while
     * the walk runs then shows as pending or missing (and --enqueue queues
     * an event the worker skips as already invoiced), never the reverse. */
    if (cli_held_load(r.q, &r.held, &err) != M2J_OK) {
        fprintf(c->err, "m2jortt reconcile: reading Redis: %s\n", err.msg);
        goto out;
    }
    r.rows = json_object_new_array();
    r.missing = enqueue ? json_object_new_array() : NULL;
    m2j_magento_response resp = {0};
    long total = 0;
    m2j_rc rc = m2j_order_range_walk(m.client, &range, cfg->orders.statuses, cfg->orders.n_statuses, PAGE_SIZE,
                                     PAGE_RETRIES, on_page, &r, &total, &resp, &err);
    if (rc != M2J_OK)
        fprintf(c->err, "m2jortt reconcile: %s\n", err.msg);
    else if (resp.cls != M2J_MAGENTO_OK)
        fprintf(c->err, "m2jortt reconcile: %s\n", m2j_buf_str(&resp.reason));
    else if (r.failed)
        fprintf(c->err, "m2jortt reconcile: reading Redis: %s\n", r.err.msg);
    else
        code = CLI_OK;
    m2j_magento_response_clear(&resp);
    size_t nm = r.missing ? json_object_array_length(r.missing) : 0;
    for (size_t i = 0; code == CLI_OK && i < nm; i += PAGE_SIZE) {
        json_object *batch[PAGE_SIZE];
        size_t k = 0;
        for (; k < PAGE_SIZE && i + k < nm; k++)
            batch[k] = json_object_array_get_idx(r.missing, i + k);
        if (cli_enqueue_orders(r.q, cfg, batch, k, &eq, &err) != M2J_OK) {
            fprintf(c->err, "m2jortt reconcile: queuing the missing orders: %s (%ld queued before that)\n",
                    err.msg, eq.queued);
            code = CLI_FAIL;
        }
    }
    if (code == CLI_OK) {
        if (json)
            print_json(c, &r, &range, &eq, enqueue, cli_magento_calls(&m));
        else
            print_human(c, &r, &range, &eq, enqueue);
    }
out:
    json_object_put(r.rows);
    json_object_put(r.missing);
    cli_held_free(&r.held);
    cli_magento_close(&m);
    cli_close(&sess);
    return code;
}
