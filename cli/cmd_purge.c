/* cmd_purge.c: `m2jortt purge [--yes] [--json]`: what is past retention
 * (config "retention"), counted first; removed only with --yes. Workers do
 * the same every hour (worker/retention_sweep.c); this is for an operator
 * who wants it now, or to see what the next sweep will remove. It takes the
 * same fleet-wide lock, so it never runs beside a worker's sweep. */
#include "cli/cli.h"
#include "base/clock.h"
#include "base/crypto_util.h"
#include "queue/retention.h"

#include <string.h>

#define PURGE_LOCK_MS (15L * 60 * 1000)

static const char usage[] = "usage: m2jortt purge [--yes] [--json]\n";

static void print_json(FILE *f, const m2j_config *cfg, const m2j_retention_counts *n, bool removed,
                       long long dead_before, long long processed_before)
{
    char a[32], b[32];
    json_object *o = json_object_new_object();
    json_object_object_add(o, "removed", json_object_new_boolean(removed));
    json_object_object_add(o, "failed_days", json_object_new_int64(cfg->retention.failed_days));
    json_object_object_add(o, "processed_days", json_object_new_int64(cfg->retention.processed_days));
    json_object_object_add(o, "dead_before", json_object_new_string(cli_format_time(dead_before, a, sizeof a)));
    json_object_object_add(o, "processed_before",
                           json_object_new_string(cli_format_time(processed_before, b, sizeof b)));
    json_object_object_add(o, "dead_letters", json_object_new_int64(n->dead));
    json_object_object_add(o, "order_records", json_object_new_int64(n->orders));
    json_object_object_add(o, "credit_records", json_object_new_int64(n->credits));
    json_object_object_add(o, "skipped_entries", json_object_new_int64(n->skipped));
    fprintf(f, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    json_object_put(o);
}

static void print_table(FILE *f, const m2j_config *cfg, const m2j_retention_counts *n, bool removed,
                        long long dead_before, long long processed_before)
{
    char a[32], b[32];
    fprintf(f, "%s (retention.failed_days %ld, retention.processed_days %ld):\n",
            removed ? "removed" : "past retention", cfg->retention.failed_days, cfg->retention.processed_days);
    fprintf(f, "  %-18s%lld  (died before %s; the whole payload)\n", "dead letters", n->dead,
            cli_format_time(dead_before, a, sizeof a));
    fprintf(f, "  %-18s%lld  (settled before %s; ids and outcome)\n", "order records", n->orders,
            cli_format_time(processed_before, b, sizeof b));
    fprintf(f, "  %-18s%lld\n", "credit records", n->credits);
    fprintf(f, "  %-18s%lld\n", "skipped entries", n->skipped);
    long long total = n->dead + n->orders + n->credits + n->skipped;
    if (!removed)
        fputs(total ? "nothing removed yet; add --yes to remove them\n" : "nothing to remove\n", f);
}

int cli_cmd_purge(cli_ctx *c, int argc, char **argv)
{
    bool yes = false, json = false, bad = false;
    for (int i = 1; i < argc && !bad; i++) {
        if (!strcmp(argv[i], "--yes") || !strcmp(argv[i], "-y"))
            yes = true;
        else if (!strcmp(argv[i], "--json"))
            json = true;
        else {
            fprintf(c->err, "m2jortt purge: unexpected argument %s\n", argv[i]);
            bad = true;
        }
    }
    cli_session s;
    int code = cli_start(c, bad, usage, CLI_NEEDS_QUEUE, &s);
    if (code != CLI_OK)
        return code;
    long long dead_before, processed_before;
    m2j_retention_cutoffs(s.cfg, m2j_now_ms(), &dead_before, &processed_before);
    m2j_retention_counts n;
    m2j_err err;
    char token[33] = "";
    if (yes) {
        if (m2j_random_hex(token) != M2J_OK) {
            fprintf(c->err, "m2jortt purge: no randomness for a lock token\n");
            code = CLI_FAIL;
            goto out;
        }
        m2j_rc lrc = m2j_lock_acquire(s.q, "retention", token, PURGE_LOCK_MS, &err);
        if (lrc != M2J_OK) {
            fprintf(c->err, "m2jortt purge: %s\n", lrc == M2J_ERR_CONFLICT
                    ? "a worker is sweeping right now (lock retention); try again in a minute" : err.msg);
            token[0] = '\0';
            code = CLI_FAIL;
            goto out;
        }
    }
    if (m2j_retention_run(s.q, dead_before, processed_before, yes, &n, &err) != M2J_OK) {
        fprintf(c->err, "m2jortt purge: %s\n", err.msg);
        if (yes)
            print_table(c->err, s.cfg, &n, true, dead_before, processed_before); /* what went before it stopped */
        code = CLI_FAIL;
        goto out;
    }
    if (json)
        print_json(c->out, s.cfg, &n, yes, dead_before, processed_before);
    else
        print_table(c->out, s.cfg, &n, yes, dead_before, processed_before);
out:
    if (token[0])
        m2j_lock_release(s.q, "retention", token, NULL);
    cli_close(&s);
    return code;
}
