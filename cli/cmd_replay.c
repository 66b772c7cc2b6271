/* cmd_replay.c: `m2jortt replay`: put dead events back into the queue.
 *
 * One explicit ID replays at once (naming it is the confirmation). A filter
 * (--all, --reason, --since) first says how many events it matches and acts
 * only with --yes, because replaying a whole dead-letter queue by accident
 * can mean thousands of Jortt calls. */
#include "cli/cli.h"
#include "base/clock.h"
#include "queue/dead_select.h"

#include <string.h>
#include <unistd.h>

static void who(char *buf, size_t n)
{
    char host[128] = "unknown";
    gethostname(host, sizeof host - 1);
    host[sizeof host - 1] = '\0';
    snprintf(buf, n, "cli@%s:%d", host, (int)getpid());
}

static const char usage[] = "usage: m2jortt replay ID\n"
                            "       m2jortt replay (--all | --reason TEXT | --since DURATION|DATE) [--yes]\n";

int cli_cmd_replay(cli_ctx *c, int argc, char **argv)
{
    bool all = false, yes = false, bad = false;
    const char *id = NULL, *reason = NULL, *since = NULL;
    for (int i = 1; i < argc && !bad; i++) {
        if (!strcmp(argv[i], "--all"))
            all = true;
        else if (!strcmp(argv[i], "--yes") || !strcmp(argv[i], "-y"))
            yes = true;
        else if (cli_opt_value(c, argc, argv, &i, "--reason", &reason, &bad) ||
                 cli_opt_value(c, argc, argv, &i, "--since", &since, &bad))
            continue;
        else
            cli_positional(c, "replay", argv[i], &id, &bad);
    }
    bool filter = all || reason || since;
    if (!bad && id && filter) {
        fprintf(c->err, "m2jortt replay: give either an ID or a filter, not both\n");
        bad = true;
    }
    if (!bad && !id && !filter) {
        fprintf(c->err, "m2jortt replay: which events? give an ID, --all, --reason or --since\n");
        bad = true;
    }
    long long since_ms = 0;
    m2j_err err;
    if (!bad && since && cli_parse_since(since, m2j_now_ms(), &since_ms, &err) != M2J_OK) {
        fprintf(c->err, "m2jortt replay: --since: %s\n", err.msg);
        bad = true;
    }
    cli_session sess;
    int code = cli_start(c, bad, usage, CLI_NEEDS_QUEUE, &sess);
    if (code != CLI_OK)
        return code;
    char by[200];
    who(by, sizeof by);

    if (id) {
        if (m2j_queue_replay(sess.q, id, by, &err) == M2J_OK) {
            fprintf(c->out, "replayed %s\n", id);
        } else {
            fprintf(c->err, "m2jortt replay: %s\n", err.msg);
            code = CLI_FAIL;
        }
        goto out;
    }

    m2j_dead_entry *list = NULL;
    size_t n = 0;
    long long total = 0;
    m2j_dead_query dq = { .since_ms = since_ms, .reason = reason, .count_only = !yes };
    if (m2j_queue_dead_select(sess.q, &dq, &list, &n, &total, &err) != M2J_OK) {
        fprintf(c->err, "m2jortt replay: %s\n", err.msg);
        code = CLI_FAIL;
        goto out;
    }
    if (!yes) {
        fprintf(c->out, "%lld event%s would be replayed; add --yes\n", total, total == 1 ? "" : "s");
        m2j_dead_entries_free(list, n);
        goto out;
    }
    size_t done = 0, gone = 0, failed = 0;
    for (size_t i = 0; i < n; i++) {
        m2j_rc rc = m2j_queue_replay(sess.q, list[i].event_id, by, &err);
        if (rc == M2J_OK) {
            done++;
        } else if (rc == M2J_ERR_NOTFOUND) {
            gone++; /* replayed by someone else meanwhile */
        } else {
            failed++;
            fprintf(c->err, "m2jortt replay: %s: %s\n", list[i].event_id, err.msg);
            if (rc == M2J_ERR_IO)
                break; /* Redis is gone: the rest would fail the same way */
        }
    }
    fprintf(c->out, "replayed %zu event%s", done, done == 1 ? "" : "s");
    if (gone)
        fprintf(c->out, " (%zu already replayed by someone else)", gone);
    fputc('\n', c->out);
    if (failed || done + gone < n)
        code = CLI_FAIL;
    m2j_dead_entries_free(list, n);
out:
    cli_close(&sess);
    return code;
}
