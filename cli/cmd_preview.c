/* cmd_preview.c: `m2jortt preview FILE [--json] [--type T]`: what the worker
 * would send to Jortt for a webhook body, without any network. It runs the
 * same pure code as the receiver and the worker (envelope.h, order_mapping.h),
 * so a preview that passes is exactly what will be invoiced. */
#include "cli/cli.h"
#include "base/clock.h"
#include "ingest/envelope.h"
#include "base/json_util.h"
#include "mapping/order_mapping.h"

#include <string.h>

static json_object *money_json(m2j_money m)
{
    char b[M2J_MONEY_STRLEN];
    return json_object_new_string(m2j_money_format(m, b));
}

static json_object *totals_json(const m2j_invoice_plan *p)
{
    json_object *t = json_object_new_object();
    json_object_object_add(t, "grand_total", money_json(p->grand_total));
    json_object_object_add(t, "total_incl", money_json(p->total_incl));
    json_object_object_add(t, "total_excl", money_json(p->total_excl));
    json_object *vat = json_object_new_array();
    for (size_t i = 0; i < p->n_vat; i++) {
        char r[M2J_RATE_STRLEN];
        json_object *v = json_object_new_object();
        json_object_object_add(v, "rate", json_object_new_string(m2j_rate_format_fraction(p->vat[i].rate, r)));
        json_object_object_add(v, "incl", money_json(p->vat[i].incl));
        json_object_object_add(v, "jortt_vat", money_json(p->vat[i].jortt_vat));
        json_object_object_add(v, "magento_vat", money_json(p->vat[i].magento_vat));
        json_object_array_add(vat, v);
    }
    json_object_object_add(t, "vat", vat);
    return t;
}

static void print_plan(FILE *f, const m2j_invoice_plan *p)
{
    char a[M2J_MONEY_STRLEN], b[M2J_MONEY_STRLEN], m[M2J_MONEY_STRLEN], r[32];
    if (p->fixed_customer_id)
        fprintf(f, "customer: the fixed Jortt customer %s (orders.default_customer_id)\n", p->fixed_customer_id);
    else if (p->customer)
        fprintf(f, "customer request (POST /customers, only if no customer with this e-mail exists):\n%s\n",
                cli_json_pretty(p->customer));
    fprintf(f, "invoice request (POST /v3/invoices; customer_id is added once known):\n%s\n",
            cli_json_pretty(p->invoice));
    fprintf(f, "totals:\n");
    fprintf(f, "  Magento grand total      %12s\n", m2j_money_format(p->grand_total, a));
    fprintf(f, "  Jortt total incl. VAT    %12s\n", m2j_money_format(p->total_incl, a));
    fprintf(f, "  Jortt total excl. VAT    %12s\n", m2j_money_format(p->total_excl, a));
    for (size_t i = 0; i < p->n_vat; i++) {
        fprintf(f, "  VAT %-6s on %12s: Jortt %10s, Magento %10s\n", cli_format_rate(p->vat[i].rate, r, sizeof r),
                m2j_money_format(p->vat[i].incl, a), m2j_money_format(p->vat[i].jortt_vat, b),
                m2j_money_format(p->vat[i].magento_vat, m));
    }
    if (p->report.len)
        fprintf(f, "checks passed:\n%s%s", m2j_buf_str(&p->report),
                p->report.data[p->report.len - 1] == '\n' ? "" : "\n");
}

static void put_str(json_object *o, const char *key, const char *val)
{
    json_object_object_add(o, key, json_object_new_string(val));
}

/* Notes in obj why the event could not be mapped; returns false, the
 * preview's verdict for an event that would become a dead letter. */
static bool mapping_failed(json_object *obj, const char *why)
{
    put_str(obj, "action", "error");
    put_str(obj, "error", why);
    return false;
}

/* Previews one event; fills obj (for --json) and prints (otherwise).
 * Returns false when the event could not be mapped (a future dead letter). */
static bool preview_event(cli_ctx *c, const m2j_config *cfg, const m2j_event *ev, bool json, json_object *obj)
{
    FILE *f = c->out;
    m2j_err err;
    bool ok = true;
    const char *kind = m2j_kind_name(ev->kind);
    put_str(obj, "event_id", ev->event_id);
    put_str(obj, "kind", kind);
    put_str(obj, "event_type", ev->event_type ? ev->event_type : "");
    if (!json)
        fprintf(f, "== event %s: %s%s%s\n", ev->event_id, kind, ev->event_type && *ev->event_type ? " " : "",
                ev->event_type ? ev->event_type : "");

    if (ev->kind == M2J_KIND_ORDER) {
        m2j_order_action action;
        m2j_buf skip = {0};
        m2j_invoice_plan plan;
        memset(&plan, 0, sizeof plan);
        const char *ref = m2j_json_str0(ev->entity, "increment_id");
        put_str(obj, "ref", ref);
        m2j_rc rc = m2j_order_plan(cfg, ev->entity, &action, &skip, &plan, &err);
        if (rc != M2J_OK) {
            ok = mapping_failed(obj, err.msg);
            if (!json)
                fprintf(f, "order %s: MAPPING FAILED (%s): %s\n", *ref ? ref : "-", m2j_rc_name(rc), err.msg);
        } else if (action == M2J_ORDER_SKIP) {
            put_str(obj, "action", "skip");
            put_str(obj, "skip_reason", m2j_buf_str(&skip));
            if (!json)
                fprintf(f, "order %s: skipped: %s\n", *ref ? ref : "-", m2j_buf_str(&skip));
        } else {
            put_str(obj, "action", "invoice");
            if (plan.fixed_customer_id)
                put_str(obj, "fixed_customer_id", plan.fixed_customer_id);
            json_object_object_add(obj, "customer", plan.customer ? json_object_get(plan.customer) : NULL);
            json_object_object_add(obj, "invoice", json_object_get(plan.invoice));
            json_object_object_add(obj, "totals", totals_json(&plan));
            put_str(obj, "checks", m2j_buf_str(&plan.report));
            if (!json) {
                fprintf(f, "order %s: invoice\n", *ref ? ref : "-");
                print_plan(f, &plan);
            }
            m2j_invoice_plan_clear(&plan);
        }
        m2j_buf_free(&skip);
    } else if (ev->kind == M2J_KIND_CUSTOMER) {
        json_object *body = NULL;
        if (!cfg->customers.sync) {
            put_str(obj, "action", "skip");
            put_str(obj, "skip_reason", "customers.sync is off");
            if (!json)
                fprintf(f, "customer: skipped: customers.sync is off\n");
        } else if (m2j_customer_from_magento(cfg, ev->entity, &body, &err) != M2J_OK) {
            ok = mapping_failed(obj, err.msg);
            if (!json)
                fprintf(f, "customer: MAPPING FAILED: %s\n", err.msg);
        } else {
            put_str(obj, "action", "customer");
            json_object_object_add(obj, "customer", json_object_get(body));
            if (!json)
                fprintf(f, "customer request (create, or update the customer found by e-mail):\n%s\n",
                        cli_json_pretty(body));
            json_object_put(body);
        }
    } else if (ev->kind == M2J_KIND_CREDITMEMO) {
        const char *ref = m2j_json_str0(ev->entity, "order_increment_id");
        put_str(obj, "action", "creditmemo");
        put_str(obj, "ref", ref);
        if (!json)
            fprintf(f, "credit memo for order %s: the worker credits the order's invoice in Jortt "
                       "(no preview of that request)\n", *ref ? ref : "(unknown)");
    } else {
        put_str(obj, "action", "ignored");
        if (!json)
            fprintf(f, "ignored: accepted and recorded, nothing is sent to Jortt\n");
    }
    return ok;
}

int cli_cmd_preview(cli_ctx *c, int argc, char **argv)
{
    const char *file = NULL, *type = NULL;
    bool json = false, bad = false;
    for (int i = 1; i < argc && !bad; i++) {
        if (!strcmp(argv[i], "--json"))
            json = true;
        else if (cli_opt_value(c, argc, argv, &i, "--type", &type, &bad))
            continue;
        else
            cli_positional(c, "preview", argv[i], &file, &bad);
    }
    if (!bad && type && strcmp(type, "order") && strcmp(type, "customer") && strcmp(type, "creditmemo")) {
        fprintf(c->err, "m2jortt preview: --type is order, customer or creditmemo\n");
        bad = true;
    }
    cli_session sess;
    int code = cli_start(c, bad || !file,
                         "usage: m2jortt preview FILE [--json] [--type order|customer|creditmemo]\n",
                         CLI_NEEDS_CONFIG, &sess);
    if (code != CLI_OK)
        return code;
    const m2j_config *cfg = sess.cfg;
    m2j_buf body = {0};
    m2j_envelope env;
    memset(&env, 0, sizeof env);
    m2j_err err;
    size_t max = cfg->receiver.max_body_bytes ? cfg->receiver.max_body_bytes : CLI_MAX_FILE_BYTES;
    m2j_rc rc = cli_read_file(file, max, &body, &err);
    if (rc != M2J_OK) {
        fprintf(c->err, "m2jortt preview: %s%s\n", err.msg,
                rc == M2J_ERR_TOO_LARGE ? " (receiver.max_body_bytes: the receiver would refuse it)" : "");
        code = CLI_FAIL;
        goto out;
    }
    rc = m2j_envelope_parse(m2j_buf_str(&body), body.len, NULL, type,
                            cfg->receiver.max_batch_events ? cfg->receiver.max_batch_events : 100,
                            m2j_now_ms(), &env, &err);
    if (rc != M2J_OK) {
        fprintf(c->err, "m2jortt preview: %s: %s\n", file, err.msg);
        code = CLI_FAIL;
        goto out;
    }
    json_object *all = json_object_new_array();
    for (size_t i = 0; i < env.n_events; i++) {
        json_object *one = json_object_new_object();
        if (!preview_event(c, cfg, &env.events[i], json, one))
            code = CLI_FAIL;
        json_object_array_add(all, one);
        if (!json && i + 1 < env.n_events)
            fputc('\n', c->out);
    }
    if (json)
        fprintf(c->out, "%s\n", cli_json_pretty(all));
    json_object_put(all);
out:
    m2j_envelope_clear(&env);
    m2j_buf_free(&body);
    cli_close(&sess);
    return code;
}
