/* main.c: `m2jortt`, the admin CLI. Parses the global options and hands the
 * rest to one command (cli.h). */
#include "cli/cli.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

void cli_usage(FILE *f)
{
    fprintf(f,
        "usage: m2jortt [--config FILE] <command> [options]\n"
        "\n"
        "  -c, --config FILE   configuration (default " M2J_CONFIG_DEFAULT_PATH "); may also\n"
        "                      follow the command\n"
        "\n"
        "commands:\n"
        "  stats [--json]                 where events are: queued, in progress, retries, failed, ...\n"
        "  failed [--json] [--reason TEXT] [--since DURATION|DATE] [--limit N]\n"
        "                                 list dead events (newest first)\n"
        "  show ID [--reveal] [--json]    one dead event: reason, Jortt error, history, payload\n"
        "                                 (personal data masked unless --reveal)\n"
        "  replay ID                      put one dead event back into the queue at once\n"
        "  replay --all | --reason TEXT | --since DURATION|DATE  [--yes]\n"
        "                                 put every matching dead event back; without --yes\n"
        "                                 only says how many would be replayed\n"
        "  check-config [FILE] [--online] validate a configuration file; --online also checks it\n"
        "                                 against Redis, Jortt and Magento, one line per check\n"
        "  sign FILE [--id ID] [--timestamp SECONDS]\n"
        "                                 Standard Webhooks headers for FILE (curl -H @file)\n"
        "  preview FILE [--json] [--type order|customer|creditmemo]\n"
        "                                 what would be sent to Jortt for a webhook body (no network)\n"
        "  backfill --from DAY [--to DAY] [--yes] [--json]\n"
        "                                 Magento orders created those days (UTC, --to inclusive,\n"
        "                                 default today) and how many are in orders.statuses;\n"
        "                                 --yes queues those (needs magento.rest_url)\n"
        "  reconcile --from DAY [--to DAY] [--json] [--enqueue]\n"
        "                                 per Magento order in orders.statuses: invoiced, changed\n"
        "                                 after invoicing (what changed), skipped, failed, pending\n"
        "                                 or missing; --enqueue queues the missing\n"
        "  jortt ledger-accounts|tradenames|vat|whoami [--json]\n"
        "                                 what the config needs from Jortt, read with its credentials\n"
        "  magento payment-methods|shipping-methods [--limit N] [--json]\n"
        "                                 method codes of the N (200) most recent orders, with counts\n"
        "  magento customer-groups|stores [--json]\n"
        "                                 customer group ids, store views and base currencies\n"
        "  purge [--yes] [--json]         what is past retention (dead letters after\n"
        "                                 retention.failed_days, settled records after\n"
        "                                 retention.processed_days); --yes removes it\n"
        "  forget --email ADDRESS [--dry-run] [--json]\n"
        "                                 remove what m2jortt holds about one person (dead\n"
        "                                 letters, waiting events, customer cache) and say what\n"
        "                                 went; Jortt's own copy is erased in Jortt\n"
        "\n"
        "DURATION is e.g. 90s, 30m, 2h, 7d, 1w or 1h30m (back from now); DATE is ISO 8601\n"
        "(2026-11-29, 2026-11-29T04:00:00Z; UTC when no zone is given). DAY is YYYY-MM-DD.\n"
        "\n"
        "exit status: 0 ok, 1 failed (config, Redis unreachable, not found, bad input), 2 usage error\n");
}

static const struct {
    const char *name;
    int (*fn)(cli_ctx *, int, char **);
} commands[] = {
    { "stats", cli_cmd_stats },
    { "failed", cli_cmd_failed },
    { "show", cli_cmd_show },
    { "replay", cli_cmd_replay },
    { "check-config", cli_cmd_check_config },
    { "sign", cli_cmd_sign },
    { "preview", cli_cmd_preview },
    { "backfill", cli_cmd_backfill },
    { "reconcile", cli_cmd_reconcile },
    { "jortt", cli_cmd_jortt },
    { "magento", cli_cmd_magento },
    { "purge", cli_cmd_purge },
    { "forget", cli_cmd_forget },
};

int main(int argc, char **argv)
{
    cli_ctx c = { .config_path = M2J_CONFIG_DEFAULT_PATH, .out = stdout, .err = stderr };
    /* hiredis writes with plain write(): a Redis that went away must give an
     * error, not kill us with SIGPIPE. */
    signal(SIGPIPE, SIG_IGN);
    bool bad = false;
    int i = 1;
    for (; i < argc && argv[i][0] == '-' && !bad; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            cli_usage(stdout);
            return CLI_OK;
        }
        if (!cli_opt_value(&c, argc, argv, &i, "--config", &c.config_path, &bad) &&
            !cli_opt_value(&c, argc, argv, &i, "-c", &c.config_path, &bad)) {
            fprintf(stderr, "m2jortt: unknown option %s\n", a);
            bad = true;
        }
    }
    if (bad || i >= argc) {
        cli_usage(stderr);
        return CLI_USAGE;
    }
    if (!strcmp(argv[i], "help")) {
        cli_usage(stdout);
        return CLI_OK;
    }
    for (size_t k = 0; k < sizeof commands / sizeof commands[0]; k++) {
        if (!strcmp(argv[i], commands[k].name)) {
            /* per-command --help */
            for (int j = i + 1; j < argc; j++) {
                if (!strcmp(argv[j], "--help") || !strcmp(argv[j], "-h")) {
                    cli_usage(stdout);
                    return CLI_OK;
                }
            }
            /* --config may also follow the command ("m2jortt check-config -c
             * FILE", "m2jortt stats --config FILE"): take it out here so
             * every command sees only its own options. */
            char **sub = calloc((size_t)(argc - i + 1), sizeof *sub);
            if (!sub) {
                fprintf(stderr, "m2jortt: out of memory\n");
                return CLI_FAIL;
            }
            int n = 0;
            sub[n++] = argv[i];
            for (int j = i + 1; j < argc && !bad; j++) {
                if (!cli_opt_value(&c, argc, argv, &j, "--config", &c.config_path, &bad) &&
                    !cli_opt_value(&c, argc, argv, &j, "-c", &c.config_path, &bad))
                    sub[n++] = argv[j];
            }
            if (bad) {
                free(sub);
                return CLI_USAGE;
            }
            sub[n] = NULL;
            int code = commands[k].fn(&c, n, sub);
            free(sub);
            fflush(stdout);
            return code;
        }
    }
    fprintf(stderr, "m2jortt: unknown command %s\n", argv[i]);
    cli_usage(stderr);
    return CLI_USAGE;
}
