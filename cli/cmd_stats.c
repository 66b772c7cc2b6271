/* cmd_stats.c: `m2jortt stats [--json]`: where every event is right now. */
#include "cli/cli.h"

#include <string.h>

static void print_json(FILE *f, const m2j_queue_stats *s)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "queued", json_object_new_int64(s->queued));
    json_object_object_add(o, "in_progress", json_object_new_int64(s->in_progress));
    json_object_object_add(o, "scheduled_retries", json_object_new_int64(s->scheduled_retries));
    json_object_object_add(o, "failed", json_object_new_int64(s->failed));
    json_object_object_add(o, "processed", json_object_new_int64(s->processed));
    json_object_object_add(o, "skipped", json_object_new_int64(s->skipped));
    json_object_object_add(o, "received", json_object_new_int64(s->received));
    json_object_object_add(o, "duplicates", json_object_new_int64(s->duplicates));
    json_object_object_add(o, "retried", json_object_new_int64(s->retried));
    json_object_object_add(o, "replayed", json_object_new_int64(s->replayed));
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
    fprintf(f, "queued              %lld\n", s->queued);
    fprintf(f, "in progress         %lld\n", s->in_progress);
    fprintf(f, "scheduled retries   %lld\n", s->scheduled_retries);
    fprintf(f, "failed              %lld\n", s->failed);
    fprintf(f, "processed           %lld\n", s->processed);
    fprintf(f, "skipped             %lld\n", s->skipped);
    fprintf(f, "received            %lld\n", s->received);
    fprintf(f, "duplicates          %lld\n", s->duplicates);
    fprintf(f, "retried             %lld\n", s->retried);
    fprintf(f, "replayed            %lld\n", s->replayed);
    fprintf(f, "oldest waiting      %s\n", s->oldest_age_ms > 0 ? cli_format_age(s->oldest_age_ms, age, sizeof age) : "-");
    fprintf(f, "jortt calls/s       %.1f\n", s->jortt_calls_per_second);
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
