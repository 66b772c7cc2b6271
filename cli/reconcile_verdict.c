/* reconcile_verdict.c: see reconcile.h. Pure. */
#include "cli/reconcile.h"

#include <stdio.h>
#include <string.h>

const char *cli_recon_state_name(cli_recon_state s)
{
    static const char *const names[CLI_RECON_N] = { "invoiced", "skipped", "failed", "pending", "missing",
                                                    "changed" };
    return s < CLI_RECON_N ? names[s] : "?";
}

static bool is(const char *a, const char *b)
{
    return a && strcmp(a, b) == 0;
}

/* The worker's skip for an order not (yet) in orders.statuses: a later
 * status change is a new event, so this skip says nothing about now. */
static bool status_skip(const char *reason)
{
    return reason && strncmp(reason, "status ", 7) == 0 && strstr(reason, "not in orders.statuses");
}

void cli_verdict_clear(cli_verdict *v)
{
    m2j_buf_free(&v->changes);
}

/* What was invoiced (the record) against the order now: the difference
 * into v->changes; true when there is one. An unreadable fingerprint is
 * compared on its total alone. */
static bool changed_since(const cli_order_facts *f, cli_verdict *v)
{
    if (!f->now || (f->credited_full && *f->credited_full))
        return false;
    m2j_order_fp was;
    m2j_err e;
    if (m2j_order_fp_parse(f->fingerprint, f->invoiced_total, &was, &e) != M2J_OK &&
        m2j_order_fp_parse(NULL, f->invoiced_total, &was, &e) != M2J_OK)
        return false;
    bool differs = m2j_order_fp_diff(&was, f->now, &v->changes);
    m2j_order_fp_clear(&was);
    return differs;
}

void cli_reconcile_verdict(const cli_order_facts *f, cli_verdict *v)
{
    memset(v, 0, sizeof *v);
    if (is(f->record_state, "done")) {
        v->state = changed_since(f, v) ? CLI_RECON_CHANGED : CLI_RECON_INVOICED;
        snprintf(v->detail, sizeof v->detail, "%s", f->invoice_id && *f->invoice_id ? f->invoice_id : "?");
        m2j_money inv = 0;
        m2j_err e;
        if (f->has_total && f->invoiced_total && *f->invoiced_total &&
            m2j_money_parse(f->invoiced_total, &inv, &e) == M2J_OK) {
            v->invoiced_total = inv;
            v->total_differs = m2j_money_round_cents(f->magento_total) != m2j_money_round_cents(inv);
        }
        return;
    }
    if (f->pending) {
        v->state = CLI_RECON_PENDING;
        snprintf(v->detail, sizeof v->detail, "%s", f->pending);
        return;
    }
    if (f->dead_reason) {
        v->state = CLI_RECON_FAILED;
        snprintf(v->detail, sizeof v->detail, "%s", f->dead_reason);
        return;
    }
    if (is(f->record_state, "deleted")) {
        v->state = CLI_RECON_SKIPPED;
        snprintf(v->detail, sizeof v->detail, "cancelled after it was invoiced; its draft invoice %s was deleted",
                 f->invoice_id && *f->invoice_id ? f->invoice_id : "?");
        return;
    }
    if (is(f->record_state, "cancelled") || is(f->record_state, "closed")) {
        v->state = CLI_RECON_SKIPPED;
        snprintf(v->detail, sizeof v->detail, "order was %s before it was invoiced", f->record_state);
        return;
    }
    if (f->skip_reason && !status_skip(f->skip_reason)) {
        v->state = CLI_RECON_SKIPPED;
        snprintf(v->detail, sizeof v->detail, "%s", f->skip_reason);
        return;
    }
    v->state = CLI_RECON_MISSING;
    if (is(f->record_state, "pending"))
        snprintf(v->detail, sizeof v->detail, "an invoice attempt was never confirmed and no event is left");
    else if (f->skip_reason)
        snprintf(v->detail, sizeof v->detail, "its last event was skipped: %s", f->skip_reason);
}
