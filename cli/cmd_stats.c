/* cmd_stats.c: `m2jortt stats [--json]`: where every event is right now. */
#include "cli/cli.h"

#include <stddef.h>
#include <string.h>

/* The counters, in the order both views show them: one list, so the JSON
 * and the table cannot drift apart. */
static const struct {
    const char *key, *label;
    size_t      off;
} counters[] = {
    { "queued", "queued", offsetof(m2j_queue_stats, queued) },
    { "in_progress", "in progress", offsetof(m2j_queue_stats, in_progress) },
    { "scheduled_retries", "scheduled retries", offsetof(m2j_queue_stats, scheduled_retries) },
    { "failed", "failed", offsetof(m2j_queue_stats, failed) },
    { "processed", "processed", offsetof(m2j_queue_stats, processed) },
    { "skipped", "skipped", offsetof(m2j_queue_stats, skipped) },
    { "received", "received", offsetof(m2j_queue_stats, received) },
    { "duplicates", "duplicates", offsetof(m2j_queue_stats, duplicates) },
    { "retried", "retried", offsetof(m2j_queue_stats, retried) },
    { "replayed", "replayed", offsetof(m2j_queue_stats, replayed) },
};
#define N_COUNTERS (sizeof counters / sizeof counters[0])

/* The listed fields are all long long (queue.h): the offset is enough. */
static long long counter(const m2j_queue_stats *s, size_t i)
{
    return *(const long long *)((const char *)s + counters[i].off);
}

static void print_json(FILE *f, const m2j_queue_stats *s)
{
    json_object *o = json_object_new_object();
    for (size_t i = 0; i < N_COUNTERS; i++)
        json_object_object_add(o, counters[i].key, json_object_new_int64(counter(s, i)));
    /* Display figures, not money. Written with a fixed number of decimals
     * so the JSON reads "12.345", not "12.345000000000001". */
    char age[40], rate[40];
    snprintf(age, sizeof age, "%lld.%03lld", s->oldest_age_ms / 1000, s->oldest_age_ms % 1000);
    snprintf(rate, sizeof rate, "%.1f", s->jortt_calls_per_second);
    json_object_object_add(o, "oldest_age_seconds", json_object_new_double_s(s->oldest_age_ms / 1000.0, age));
    json_object_object_add(o, "jortt_calls_per_second", json_object_new_double_s(s->jortt_calls_per_second, rate));
    fprintf(f, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    json_object_put(o);
}

static void print_table(FILE *f, const m2j_queue_stats *s)
{
    char age[32];
    for (size_t i = 0; i < N_COUNTERS; i++)
        fprintf(f, "%-20s%lld\n", counters[i].label, counter(s, i));
    fprintf(f, "%-20s%s\n", "oldest waiting",
            s->oldest_age_ms > 0 ? cli_format_age(s->oldest_age_ms, age, sizeof age) : "-");
    fprintf(f, "%-20s%.1f\n", "jortt calls/s", s->jortt_calls_per_second);
}

int cli_cmd_stats(cli_ctx *c, int argc, char **argv)
{
    bool json = false, bad = false;
    for (int i = 1; i < argc && !bad; i++) {
        if (!strcmp(argv[i], "--json")) {
            json = true;
        } else {
            fprintf(c->err, "m2jortt stats: unknown argument %s\n", argv[i]);
            bad = true;
        }
    }
    cli_session sess;
    int code = cli_start(c, bad, "usage: m2jortt stats [--json]\n", CLI_NEEDS_QUEUE, &sess);
    if (code != CLI_OK)
        return code;
    m2j_queue_stats s;
    m2j_err err;
    if (m2j_queue_stats_get(sess.q, &s, &err) != M2J_OK) {
        fprintf(c->err, "m2jortt stats: %s\n", err.msg);
        code = CLI_FAIL;
    } else if (json) {
        print_json(c->out, &s);
    } else {
        print_table(c->out, &s);
    }
    cli_close(&sess);
    return code;
}
