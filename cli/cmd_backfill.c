/* cmd_backfill.c: `m2jortt backfill --from YYYY-MM-DD [--to YYYY-MM-DD]
 * [--yes] [--json]`: the orders Magento has from those days (created_at,
 * whole UTC days, to inclusive, default today), how many are in
 * orders.statuses, and with --yes those queued as ordinary order events.
 *
 * For first-time set-up and catch-up after an outage. Without --yes it only
 * counts (two requests), because queuing a year of orders by accident costs
 * a Jortt invoice per order. With --yes it pages through the in-status
 * orders 100 at a time (one request per page, nothing per order) and queues
 * each page in one enqueue script, with the poller's event ids: running it
 * twice, or over orders the poller already queued, queues nothing new; an
 * order already invoiced by push costs no Jortt call (the worker's per-order
 * record says so). */
#include "cli/cli.h"
#include "base/clock.h"
#include "magento/order_range.h"

#include <string.h>

#define PAGE_SIZE     100
#define PAGE_RETRIES  4

static const char usage[] = "usage: m2jortt backfill --from YYYY-MM-DD [--to YYYY-MM-DD] [--yes] [--json]\n";

typedef struct {
    m2j_queue         *q;
    const m2j_config  *cfg;
    cli_enqueue_counts counts;
    m2j_err            err;
    bool               failed;
} fill;

static bool on_page(json_object *items, void *ud)
{
    fill *f = ud;
    size_t n = json_object_array_length(items);
    json_object *orders[PAGE_SIZE];
    if (n > PAGE_SIZE)
        n = PAGE_SIZE;
    for (size_t i = 0; i < n; i++)
        orders[i] = json_object_array_get_idx(items, i);
    if (cli_enqueue_orders(f->q, f->cfg, orders, n, &f->counts, &f->err) != M2J_OK) {
        f->failed = true;
        return false;
    }
    return true;
}

static void print_result(cli_ctx *c, bool json, const m2j_config *cfg, const m2j_day_range *r, long all,
                         long in_status, bool yes, const fill *f, long calls)
{
    if (json) {
        json_object *o = json_object_new_object(), *st = json_object_new_array();
        json_object_object_add(o, "from", json_object_new_string(r->from_day));
        json_object_object_add(o, "to", json_object_new_string(r->to_day));
        json_object_object_add(o, "orders", json_object_new_int64(all));
        for (size_t i = 0; i < cfg->orders.n_statuses; i++)
            json_object_array_add(st, json_object_new_string(cfg->orders.statuses[i]));
        json_object_object_add(o, "statuses", st);
        json_object_object_add(o, "in_status", json_object_new_int64(in_status));
        if (yes) {
            json_object_object_add(o, "queued", json_object_new_int64(f->counts.queued));
            json_object_object_add(o, "duplicates", json_object_new_int64(f->counts.duplicates));
            json_object_object_add(o, "unusable", json_object_new_int64(f->counts.unusable));
        }
        json_object_object_add(o, "magento_calls", json_object_new_int64(calls));
        fprintf(c->out, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
        json_object_put(o);
        return;
    }
    fprintf(c->out, "orders created %s .. %s (UTC): %ld\n", r->from_day, r->to_day, all);
    fprintf(c->out, "in orders.statuses (");
    for (size_t i = 0; i < cfg->orders.n_statuses; i++)
        fprintf(c->out, "%s%s", i ? ", " : "", cfg->orders.statuses[i]);
    fprintf(c->out, "): %ld\n", in_status);
    if (!yes) {
        if (in_status > 0)
            fprintf(c->out, "add --yes to queue them\n");
        return;
    }
    fprintf(c->out, "queued %ld", f->counts.queued);
    if (f->counts.duplicates)
        fprintf(c->out, " (%ld already queued before, not again)", f->counts.duplicates);
    fputc('\n', c->out);
    if (f->counts.unusable)
        fprintf(c->out, "%ld order%s without a usable entity_id could not be queued\n", f->counts.unusable,
                f->counts.unusable == 1 ? "" : "s");
}

int cli_cmd_backfill(cli_ctx *c, int argc, char **argv)
{
    bool yes = false, json = false, bad = false;
    const char *from = NULL, *to = NULL;
    for (int i = 1; i < argc && !bad; i++) {
        if (!strcmp(argv[i], "--yes") || !strcmp(argv[i], "-y"))
            yes = true;
        else if (!strcmp(argv[i], "--json"))
            json = true;
        else if (cli_opt_value(c, argc, argv, &i, "--from", &from, &bad) ||
                 cli_opt_value(c, argc, argv, &i, "--to", &to, &bad))
            continue;
        else {
            fprintf(c->err, "m2jortt backfill: unexpected argument %s\n", argv[i]);
            bad = true;
        }
    }
    m2j_day_range range;
    m2j_err err = {0};
    if (!bad && m2j_day_range_parse(from, to, m2j_now_ms(), &range, &err) != M2J_OK) {
        fprintf(c->err, "m2jortt backfill: %s\n", err.msg);
        bad = true;
    }
    /* Redis first with --yes: finding it down after paging through Magento
     * would have spent the shop's rate for nothing. */
    cli_session sess;
    int code = cli_start(c, bad, usage, yes ? CLI_NEEDS_QUEUE : CLI_NEEDS_CONFIG, &sess);
    if (code != CLI_OK)
        return code;
    const m2j_config *cfg = sess.cfg;
    cli_magento m;
    if (cli_magento_open(c, "backfill", cfg, sess.q, &m) != M2J_OK) {
        cli_close(&sess);
        return CLI_FAIL;
    }
    fill f = { .q = sess.q, .cfg = cfg };
    m2j_magento_response resp = {0};
    long all = 0, in_status = 0;
    m2j_rc rc = m2j_order_range_count(m.client, &range, NULL, 0, &all, &resp, &err);
    if (rc == M2J_OK && resp.cls == M2J_MAGENTO_OK) {
        m2j_magento_response_clear(&resp);
        if (yes)
            rc = m2j_order_range_walk(m.client, &range, cfg->orders.statuses, cfg->orders.n_statuses, PAGE_SIZE,
                                      PAGE_RETRIES, on_page, &f, &in_status, &resp, &err);
        else
            rc = m2j_order_range_count(m.client, &range, cfg->orders.statuses, cfg->orders.n_statuses,
                                       &in_status, &resp, &err);
    }
    if (rc != M2J_OK) {
        fprintf(c->err, "m2jortt backfill: %s\n", err.msg);
        code = CLI_FAIL;
    } else if (resp.cls != M2J_MAGENTO_OK) {
        fprintf(c->err, "m2jortt backfill: %s\n", m2j_buf_str(&resp.reason));
        code = CLI_FAIL;
    } else if (f.failed) {
        fprintf(c->err, "m2jortt backfill: queuing failed: %s\n", f.err.msg);
        code = CLI_FAIL;
    }
    if (code == CLI_OK) {
        print_result(c, json, cfg, &range, all, in_status < 0 ? 0 : in_status, yes, &f, cli_magento_calls(&m));
    } else if (yes && f.counts.queued + f.counts.duplicates > 0) {
        fprintf(c->err, "m2jortt backfill: %ld order%s queued before that; running it again is safe (what is "
                        "queued is not queued twice)\n",
                f.counts.queued, f.counts.queued == 1 ? " was" : "s were");
    }
    m2j_magento_response_clear(&resp);
    cli_magento_close(&m);
    cli_close(&sess);
    return code;
}
