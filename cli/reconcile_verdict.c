/* reconcile_verdict.c: see reconcile.h. Pure. */
#include "cli/reconcile.h"

#include <stdio.h>
#include <string.h>

const char *cli_recon_state_name(cli_recon_state s)
{
    static const char *const names[CLI_RECON_N] = { "invoiced", "skipped", "failed", "pending", "missing" };
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

void cli_reconcile_verdict(const cli_order_facts *f, cli_verdict *v)
{
    memset(v, 0, sizeof *v);
    if (is(f->record_state, "done")) {
        v->state = CLI_RECON_INVOICED;
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
