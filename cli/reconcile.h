/* reconcile.h: what `m2jortt reconcile` knows about one Magento order, and
 * the verdict it gives.
 *
 * reconcile_held.c reads, without changing anything, what m2jortt holds in
 * Redis for orders (queue.h lists the keys): the per-order records
 * (P:order:<ref>), the events waiting in the stream or for a retry, the dead
 * letters and the recent skips. reconcile_verdict.c turns the facts about
 * one order into a verdict; it is pure.
 *
 * An order is found in the queue, the dead letters and the skips by its
 * reference (the Jortt invoice reference, orders.field_map applied), its
 * increment_id or its entity_id (an id-only trigger event carries only
 * that), whichever the record holds.
 *
 * Ownership: cli_held owns its indexes (cli_held_free); lookups return text
 * borrowed from it. cli_order_facts borrows everything. */
#ifndef M2J_CLI_RECONCILE_H
#define M2J_CLI_RECONCILE_H

#include "base/buf.h"
#include "base/money.h"
#include "mapping/order_fingerprint.h"
#include "queue/queue.h"
#include <json-c/json.h>
#include <stdbool.h>

/* ---- what Redis holds (reconcile_held.c) ---- */

typedef struct {
    json_object *pending;  /* key -> "in the queue" | "waiting for a retry" */
    json_object *dead;     /* key -> {"event_id", "reason"} (the newest dead letter) */
    json_object *skipped;  /* reference -> reason (the newest skip) */
} cli_held;

/* Reads the stream, the retry set, the dead letters and the skips of order
 * events. Read-only. */
m2j_rc cli_held_load(m2j_queue *q, cli_held *h, m2j_err *err);
void   cli_held_free(cli_held *h);
/* Where an order's event waits, or NULL. ref, inc, entity_id may be NULL. */
const char  *cli_held_pending(const cli_held *h, const char *ref, const char *inc, const char *entity_id);
/* The newest dead letter of the order ({"event_id","reason"}), or NULL. */
json_object *cli_held_dead(const cli_held *h, const char *ref, const char *inc, const char *entity_id);
/* The reason of the newest skip of the order's events, or NULL. */
const char  *cli_held_skip(const cli_held *h, const char *ref);

/* ---- the verdict (reconcile_verdict.c, pure) ---- */

typedef enum {
    CLI_RECON_INVOICED = 0,
    CLI_RECON_SKIPPED,
    CLI_RECON_FAILED,
    CLI_RECON_PENDING,
    CLI_RECON_MISSING,
    CLI_RECON_CHANGED,
    CLI_RECON_N
} cli_recon_state;

/* "invoiced", "skipped", "failed", "pending", "missing", "changed". */
const char *cli_recon_state_name(cli_recon_state s);

typedef struct {
    const char *record_state;    /* P:order:<ref> state, NULL when there is no record */
    const char *invoice_id;      /* the record's invoice_id */
    const char *invoiced_total;  /* the record's grand_total ("92.17"), NULL for records older than it */
    const char *fingerprint;     /* the record's fingerprint (what was invoiced), NULL for older records */
    const char *credited_full;   /* the record's credited_full: the whole invoice was credited */
    const m2j_order_fp *now;     /* the order in Magento now, NULL when it cannot be read */
    const char *pending;         /* cli_held_pending */
    const char *dead_reason;     /* from cli_held_dead */
    const char *skip_reason;     /* cli_held_skip */
    bool        has_total;       /* magento_total is known */
    m2j_money   magento_total;   /* what the invoice would be for now (the plan's grand_total) */
} cli_order_facts;

typedef struct {
    cli_recon_state state;
    char            detail[320];   /* invoice id, reason, where it waits; "" when none */
    bool            total_differs; /* invoiced, and the total invoiced is not Magento's now */
    m2j_money       invoiced_total;
    m2j_buf         changes;       /* changed: what changed, in plain words (order_fingerprint.h) */
} cli_verdict;

/* Frees what a verdict owns (its changes). */
void cli_verdict_clear(cli_verdict *v);

/* The order is in an invoicing status in Magento. In this order of
 * precedence: invoiced (the record says done), or changed when the order
 * in Magento (now) differs from what was invoiced (the record's
 * fingerprint and grand_total; a record without a fingerprint compares its
 * total), detail the invoice id, changes what differs; an invoice
 * credited in full is not compared; pending (an event of the
 * order waits in the stream or for a retry); failed (a dead letter);
 * skipped (the record says cancelled/closed, or the newest skip of its
 * events had a reason other than its status, which a later status change
 * would have overtaken); otherwise missing, also when the record says an
 * invoice attempt is pending but no event of the order is left to settle
 * it (queuing one makes the worker find or make the invoice by reference).
 * A record whose draft was deleted on cancellation is skipped with that
 * reason. *v is overwritten: clear an earlier verdict first. */
void cli_reconcile_verdict(const cli_order_facts *f, cli_verdict *v);

#endif
