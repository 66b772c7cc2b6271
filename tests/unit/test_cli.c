/* test_cli.c: the admin CLI's commands run in-process (memory streams for
 * stdout/stderr) against a private redis-server and a temp config file. */
#include "cli/cli.h"
#include "base/json_util.h"
#include "queue/queue.h"
#include "redis_helper.h"
#include "ingest/signature.h"

#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static m2j_test_redis srv;
static char cfg_path[300];
static char bad_cfg_path[300];
static char down_cfg_path[300];
static char tmpdir[256];

typedef struct {
    char *out, *err;
    size_t out_len, err_len;
    int code;
} run_result;

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

static void suite_setup(void)
{
    ck_assert_int_eq(m2j_test_redis_start(&srv, NULL), 0);
    snprintf(tmpdir, sizeof tmpdir, "/tmp/m2j-cli-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    char text[600];
    snprintf(cfg_path, sizeof cfg_path, "%s/ok.json", tmpdir);
    snprintf(text, sizeof text,
             "{\"redis\":{\"url\":\"redis://127.0.0.1:%d/0\",\"key_prefix\":\"cli\"},"
             "\"receiver\":{\"webhook_secret\":\"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"}}", srv.port);
    write_file(cfg_path, text);
    snprintf(bad_cfg_path, sizeof bad_cfg_path, "%s/bad.json", tmpdir);
    write_file(bad_cfg_path, "{\"redis\":{\"nonsense\":1}}");
    snprintf(down_cfg_path, sizeof down_cfg_path, "%s/down.json", tmpdir);
    snprintf(text, sizeof text,
             "{\"redis\":{\"url\":\"redis://127.0.0.1:%d/0\"},\"receiver\":{\"webhook_secret\":\"x\"}}",
             m2j_test_free_port());
    write_file(down_cfg_path, text);
}

static void suite_teardown(void)
{
    m2j_test_redis_stop(&srv);
    m2j_test_rmdir(tmpdir);
}

static void setup(void)
{
    struct timeval tv = { .tv_sec = 2 };
    redisContext *c = redisConnectWithTimeout("127.0.0.1", srv.port, tv);
    ck_assert(c && !c->err);
    freeReplyObject(redisCommand(c, "FLUSHALL"));
    redisFree(c);
}

/* Runs one command: args are the words after `m2jortt`, NULL-terminated. */
static run_result run(const char *config, ...)
{
    run_result r = {0};
    char *argv[32];
    int argc = 0;
    va_list ap;
    va_start(ap, config);
    const char *a;
    while ((a = va_arg(ap, const char *)) && argc < 31)
        argv[argc++] = (char *)a;
    va_end(ap);
    argv[argc] = NULL;
    FILE *out = open_memstream(&r.out, &r.out_len);
    FILE *err = open_memstream(&r.err, &r.err_len);
    cli_ctx c = { .config_path = config, .out = out, .err = err };
    int (*fn)(cli_ctx *, int, char **) = NULL;
    if (!strcmp(argv[0], "stats")) fn = cli_cmd_stats;
    else if (!strcmp(argv[0], "failed")) fn = cli_cmd_failed;
    else if (!strcmp(argv[0], "show")) fn = cli_cmd_show;
    else if (!strcmp(argv[0], "replay")) fn = cli_cmd_replay;
    else if (!strcmp(argv[0], "check-config")) fn = cli_cmd_check_config;
    else if (!strcmp(argv[0], "sign")) fn = cli_cmd_sign;
    else if (!strcmp(argv[0], "preview")) fn = cli_cmd_preview;
    ck_assert_ptr_nonnull(fn);
    r.code = fn(&c, argc, argv);
    fclose(out);
    fclose(err);
    return r;
}

static void run_free(run_result *r)
{
    free(r->out);
    free(r->err);
}

/* Puts n dead events straight into the queue through the real API. */
static void make_dead(const char *id, const char *reason)
{
    m2j_config *cfg;
    m2j_queue *q;
    m2j_err err;
    ck_assert_int_eq(m2j_config_load(cfg_path, &cfg, &err), M2J_OK);
    ck_assert_int_eq(m2j_queue_open(cfg, &q, &err), M2J_OK);
    m2j_event ev = { .event_id = strdup(id), .kind = M2J_KIND_ORDER, .source = strdup("rest"),
                     .event_type = strdup(""), .received_at = 1 };
    const char *entity = "{\"increment_id\":\"100000077\",\"customer_email\":\"secret@example.nl\","
                         "\"grand_total\":\"10.0000\"}";
    ck_assert_int_eq(m2j_json_parse(entity, strlen(entity), &ev.entity, NULL), M2J_OK);
    m2j_enqueue_result res;
    ck_assert_int_eq(m2j_queue_enqueue(q, &ev, 1, 86400, &res, &err), M2J_OK);
    m2j_enqueue_results_clear(&res, 1);
    m2j_event_clear(&ev);
    m2j_job j;
    ck_assert_int_eq(m2j_queue_take(q, "t", 100, 60000, &j, &err), M2J_OK);
    m2j_dead_info info = { .reason = reason, .http_status = 422, .error_key = "invalid", .ref = "100000077" };
    ck_assert_int_eq(m2j_queue_dead(q, &j, &info, &err), M2J_OK);
    m2j_job_clear(&j);
    m2j_queue_close(q);
    m2j_config_free(cfg);
}

/* ---- pure helpers ---- */

START_TEST(since_parsing)
{
    long long now = 1764390000000LL, t;
    m2j_err err;
    ck_assert_int_eq(cli_parse_since("90s", now, &t, &err), M2J_OK);
    ck_assert_int_eq(t, now - 90000);
    ck_assert_int_eq(cli_parse_since("30m", now, &t, &err), M2J_OK);
    ck_assert_int_eq(t, now - 1800000);
    ck_assert_int_eq(cli_parse_since("1h30m", now, &t, &err), M2J_OK);
    ck_assert_int_eq(t, now - 5400000);
    ck_assert_int_eq(cli_parse_since("7d", now, &t, &err), M2J_OK);
    ck_assert_int_eq(t, now - 7 * 86400000LL);
    ck_assert_int_eq(cli_parse_since("2026-11-29", now, &t, &err), M2J_OK);
    ck_assert_int_eq(t, 1795910400000LL);
    ck_assert_int_eq(cli_parse_since("2026-11-29T04:00:00Z", now, &t, &err), M2J_OK);
    ck_assert_int_eq(t, 1795924800000LL);
    ck_assert_int_eq(cli_parse_since("2026-11-29T05:00:00+01:00", now, &t, &err), M2J_OK);
    ck_assert_int_eq(t, 1795924800000LL);
    ck_assert_int_eq(cli_parse_since("2026-11-29T04:00", now, &t, &err), M2J_OK);
    ck_assert_int_eq(t, 1795924800000LL);
    ck_assert_int_eq(cli_parse_since("", now, &t, &err), M2J_ERR_INVALID);
    ck_assert_int_eq(cli_parse_since("5", now, &t, &err), M2J_ERR_INVALID);
    ck_assert_int_eq(cli_parse_since("5x", now, &t, &err), M2J_ERR_INVALID);
    ck_assert_int_eq(cli_parse_since("h", now, &t, &err), M2J_ERR_INVALID);
    ck_assert_int_eq(cli_parse_since("2026-13-01", now, &t, &err), M2J_ERR_INVALID);
    ck_assert_int_eq(cli_parse_since("2026-11-29T04:00:00Zjunk", now, &t, &err), M2J_ERR_INVALID);
}
END_TEST

START_TEST(formatting)
{
    char b[32];
    ck_assert_str_eq(cli_format_age(45000, b, sizeof b), "45s");
    ck_assert_str_eq(cli_format_age(12 * 60000, b, sizeof b), "12m");
    ck_assert_str_eq(cli_format_age(3 * 3600000 + 5 * 60000, b, sizeof b), "3h05m");
    ck_assert_str_eq(cli_format_age(2 * 86400000LL + 4 * 3600000, b, sizeof b), "2d04h");
    ck_assert_str_eq(cli_format_time(1795924800000LL, b, sizeof b), "2026-11-29T04:00:00Z");
    ck_assert_str_eq(cli_format_time(0, b, sizeof b), "-");
    ck_assert_str_eq(cli_format_rate(210000, b, sizeof b), "21%");
    ck_assert_str_eq(cli_format_rate(55000, b, sizeof b), "5.5%");
    ck_assert_str_eq(cli_format_rate(0, b, sizeof b), "0%");
    long long n;
    ck_assert(cli_parse_count("10", &n) && n == 10);
    ck_assert(!cli_parse_count("-1", &n));
    ck_assert(!cli_parse_count("1x", &n));
}
END_TEST

/* ---- commands ---- */

START_TEST(stats_json_is_one_object)
{
    make_dead("e1", "boom");
    run_result r = run(cfg_path, "stats", "--json", NULL);
    ck_assert_int_eq(r.code, 0);
    json_object *o;
    ck_assert_int_eq(m2j_json_parse(r.out, r.out_len, &o, NULL), M2J_OK);
    ck_assert(json_object_is_type(o, json_type_object));
    static const char *const keys[] = { "queued", "in_progress", "scheduled_retries", "failed", "processed",
                                        "skipped", "received", "duplicates", "retried", "replayed",
                                        "oldest_age_seconds", "jortt_calls_per_second", NULL };
    for (int i = 0; keys[i]; i++)
        ck_assert_msg(m2j_json_path(o, keys[i]) != NULL, "missing %s", keys[i]);
    ck_assert_str_eq(m2j_json_str(o, "failed"), "1");
    ck_assert_str_eq(m2j_json_str(o, "received"), "1");
    json_object_put(o);
    run_free(&r);

    r = run(cfg_path, "stats", NULL);
    ck_assert_int_eq(r.code, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "failed"));
    run_free(&r);

    r = run(cfg_path, "stats", "--bogus", NULL);
    ck_assert_int_eq(r.code, 2);
    run_free(&r);
}
END_TEST

START_TEST(redis_down_and_bad_config)
{
    run_result r = run(down_cfg_path, "stats", NULL);
    ck_assert_int_eq(r.code, 1);
    ck_assert_ptr_nonnull(strstr(r.err, "cannot reach Redis"));
    run_free(&r);
    r = run(down_cfg_path, "failed", NULL);
    ck_assert_int_eq(r.code, 1);
    run_free(&r);
    r = run(bad_cfg_path, "stats", NULL);
    ck_assert_int_eq(r.code, 1);
    ck_assert_ptr_nonnull(strstr(r.err, bad_cfg_path));
    run_free(&r);
}
END_TEST

START_TEST(check_config)
{
    run_result r = run(cfg_path, "check-config", NULL);
    ck_assert_int_eq(r.code, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "config OK: "));
    run_free(&r);
    r = run(cfg_path, "check-config", bad_cfg_path, NULL);
    ck_assert_int_eq(r.code, 1);
    ck_assert_ptr_nonnull(strstr(r.err, "nonsense"));
    run_free(&r);
    r = run(cfg_path, "check-config", "a", "b", NULL);
    ck_assert_int_eq(r.code, 2);
    run_free(&r);
}
END_TEST

START_TEST(failed_lists_and_filters)
{
    make_dead("e1", "Jortt refused: VAT rate");
    make_dead("e2", "customer e-mail invalid");
    run_result r = run(cfg_path, "failed", "--json", NULL);
    ck_assert_int_eq(r.code, 0);
    json_object *a;
    ck_assert_int_eq(m2j_json_parse(r.out, r.out_len, &a, NULL), M2J_OK);
    ck_assert_int_eq(json_object_array_length(a), 2);
    ck_assert_str_eq(m2j_json_str(a, "0.id"), "e2"); /* newest first */
    ck_assert_str_eq(m2j_json_str(a, "1.reason"), "Jortt refused: VAT rate");
    ck_assert_str_eq(m2j_json_str(a, "1.http_status"), "422");
    ck_assert_str_eq(m2j_json_str(a, "1.ref"), "100000077");
    ck_assert_ptr_null(strstr(r.out, "secret@example.nl")); /* no payload in the list */
    json_object_put(a);
    run_free(&r);

    r = run(cfg_path, "failed", "--json", "--reason", "vat", NULL);
    ck_assert_int_eq(m2j_json_parse(r.out, r.out_len, &a, NULL), M2J_OK);
    ck_assert_int_eq(json_object_array_length(a), 1);
    ck_assert_str_eq(m2j_json_str(a, "0.id"), "e1");
    json_object_put(a);
    run_free(&r);

    r = run(cfg_path, "failed", "--json", "--limit", "1", NULL);
    ck_assert_int_eq(m2j_json_parse(r.out, r.out_len, &a, NULL), M2J_OK);
    ck_assert_int_eq(json_object_array_length(a), 1);
    json_object_put(a);
    run_free(&r);

    r = run(cfg_path, "failed", "--json", "--since", "2020-01-01", NULL);
    ck_assert_int_eq(m2j_json_parse(r.out, r.out_len, &a, NULL), M2J_OK);
    ck_assert_int_eq(json_object_array_length(a), 2);
    json_object_put(a);
    run_free(&r);

    r = run(cfg_path, "failed", NULL);
    ck_assert_int_eq(r.code, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "e1"));
    ck_assert_ptr_nonnull(strstr(r.out, "customer e-mail invalid"));
    run_free(&r);

    r = run(cfg_path, "failed", "--since", "yesterday", NULL);
    ck_assert_int_eq(r.code, 2);
    run_free(&r);
}
END_TEST

START_TEST(show_masks_unless_revealed)
{
    make_dead("e1", "boom");
    run_result r = run(cfg_path, "show", "e1", NULL);
    ck_assert_int_eq(r.code, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "boom"));
    ck_assert_ptr_nonnull(strstr(r.out, "100000077"));
    ck_assert_ptr_nonnull(strstr(r.out, "10.0000"));
    ck_assert_ptr_null(strstr(r.out, "secret@example.nl"));
    ck_assert_ptr_nonnull(strstr(r.out, "[masked h:"));
    run_free(&r);

    r = run(cfg_path, "show", "e1", "--json", NULL);
    ck_assert_int_eq(r.code, 0);
    json_object *o;
    ck_assert_int_eq(m2j_json_parse(r.out, r.out_len, &o, NULL), M2J_OK);
    ck_assert_str_eq(m2j_json_str(o, "reason"), "boom");
    ck_assert_ptr_nonnull(strstr(m2j_json_str(o, "job.event.entity.customer_email"), "[masked"));
    json_object_put(o);
    run_free(&r);

    r = run(cfg_path, "show", "e1", "--reveal", NULL);
    ck_assert_ptr_nonnull(strstr(r.out, "secret@example.nl"));
    run_free(&r);

    r = run(cfg_path, "show", "nope", NULL);
    ck_assert_int_eq(r.code, 1);
    run_free(&r);
    r = run(cfg_path, "show", NULL);
    ck_assert_int_eq(r.code, 2);
    run_free(&r);
}
END_TEST

START_TEST(replay_needs_yes_for_filters)
{
    make_dead("e1", "timeout");
    make_dead("e2", "timeout");
    make_dead("e3", "vat");
    run_result r = run(cfg_path, "replay", "--all", NULL);
    ck_assert_int_eq(r.code, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "3 events would be replayed; add --yes"));
    run_free(&r);

    r = run(cfg_path, "replay", "--reason", "TIMEOUT", "--yes", NULL);
    ck_assert_int_eq(r.code, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "replayed 2 events"));
    run_free(&r);

    r = run(cfg_path, "replay", "e3", NULL); /* an explicit id needs no --yes */
    ck_assert_int_eq(r.code, 0);
    run_free(&r);

    r = run(cfg_path, "stats", "--json", NULL);
    json_object *o;
    ck_assert_int_eq(m2j_json_parse(r.out, r.out_len, &o, NULL), M2J_OK);
    ck_assert_str_eq(m2j_json_str(o, "failed"), "0");
    ck_assert_str_eq(m2j_json_str(o, "queued"), "3");
    ck_assert_str_eq(m2j_json_str(o, "replayed"), "3");
    json_object_put(o);
    run_free(&r);

    r = run(cfg_path, "replay", "e3", NULL);
    ck_assert_int_eq(r.code, 1);
    run_free(&r);
    r = run(cfg_path, "replay", NULL);
    ck_assert_int_eq(r.code, 2);
    run_free(&r);
    r = run(cfg_path, "replay", "e1", "--all", NULL);
    ck_assert_int_eq(r.code, 2);
    run_free(&r);
}
END_TEST

START_TEST(sign_prints_curl_headers)
{
    char body[320];
    snprintf(body, sizeof body, "%s/body.json", tmpdir);
    write_file(body, "{\"a\":1}");
    run_result r = run(cfg_path, "sign", body, "--id", "msg_1", "--timestamp", "1700000000", NULL);
    ck_assert_int_eq(r.code, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "content-type: application/json\n"));
    ck_assert_ptr_nonnull(strstr(r.out, "webhook-id: msg_1\n"));
    ck_assert_ptr_nonnull(strstr(r.out, "webhook-timestamp: 1700000000\n"));
    ck_assert_ptr_nonnull(strstr(r.out, "webhook-signature: v1,"));
    run_free(&r);
    r = run(cfg_path, "sign", body, NULL);
    ck_assert_int_eq(r.code, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "webhook-id: msg_"));
    run_free(&r);
    r = run(cfg_path, "sign", "/nonexistent/file", NULL);
    ck_assert_int_eq(r.code, 1);
    run_free(&r);
    r = run(cfg_path, "sign", NULL);
    ck_assert_int_eq(r.code, 2);
    run_free(&r);
}
END_TEST

START_TEST(preview_bad_input)
{
    char body[320];
    snprintf(body, sizeof body, "%s/garbage.json", tmpdir);
    write_file(body, "{not json");
    run_result r = run(cfg_path, "preview", body, NULL);
    ck_assert_int_eq(r.code, 1);
    ck_assert_ptr_nonnull(strstr(r.err, "garbage.json"));
    run_free(&r);
    r = run(cfg_path, "preview", NULL);
    ck_assert_int_eq(r.code, 2);
    run_free(&r);
}
END_TEST


/* Header lookup over the sign command's output. */
static const char *hdr_from_text(void *ctx, const char *name)
{
    /* the verifier holds several values at once: one buffer per header */
    static char vals[4][256];
    static int next;
    char *val = vals[next++ % 4];
    const char *text = ctx;
    size_t n = strlen(name);
    for (const char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        if (strncasecmp(line, name, n) == 0 && line[n] == ':') {
            const char *v = line + n + 1;
            while (*v == ' ')
                v++;
            size_t len = strcspn(v, "\n");
            if (len >= sizeof vals[0])
                return NULL;
            memcpy(val, v, len);
            val[len] = '\0';
            return val;
        }
    }
    return NULL;
}

START_TEST(sign_output_verifies)
{
    char body[320];
    snprintf(body, sizeof body, "%s/signed.json", tmpdir);
    const char *text = "{\"increment_id\":\"100000001\", \"x\": \"caf\u00e9\"}\n";
    write_file(body, text);
    char ts[32];
    snprintf(ts, sizeof ts, "%lld", (long long)time(NULL));
    run_result r = run(cfg_path, "sign", body, "--timestamp", ts, NULL);
    ck_assert_int_eq(r.code, 0);
    m2j_config *cfg;
    m2j_err err;
    ck_assert_int_eq(m2j_config_load(cfg_path, &cfg, &err), M2J_OK);
    m2j_sigcheck *sc;
    ck_assert_int_eq(m2j_sigcheck_new(&cfg->receiver, &sc, &err), M2J_OK);
    ck_assert_msg(m2j_sigcheck_verify(sc, hdr_from_text, r.out, text, strlen(text), (long long)time(NULL), &err)
                  == M2J_OK, "%s", err.msg);
    /* one byte different: refused */
    ck_assert_int_eq(m2j_sigcheck_verify(sc, hdr_from_text, r.out, text, strlen(text) - 1, (long long)time(NULL), &err),
                     M2J_ERR_AUTH);
    m2j_sigcheck_free(sc);
    m2j_config_free(cfg);
    run_free(&r);
}
END_TEST

/* Writes a config made of the fixture's "config" plus our redis and secret,
 * and the fixture's "order" as a bare REST body. */
static void fixture_files(const char *fixture, char *cfg_out, char *order_out, size_t n)
{
    json_object *fx;
    m2j_err err;
    ck_assert_msg(m2j_json_parse_file(fixture, 1 << 20, &fx, &err) == M2J_OK, "%s", err.msg);
    json_object *cfg = m2j_json_path(fx, "config");
    ck_assert_ptr_nonnull(cfg);
    cfg = json_object_get(cfg);
    json_object *redis = json_object_new_object(), *recv = json_object_new_object();
    char url[80];
    snprintf(url, sizeof url, "redis://127.0.0.1:%d/0", srv.port);
    json_object_object_add(redis, "url", json_object_new_string(url));
    json_object_object_add(recv, "webhook_secret", json_object_new_string("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));
    json_object_object_add(cfg, "redis", redis);
    json_object_object_add(cfg, "receiver", recv);
    snprintf(cfg_out, n, "%s/fx-config.json", tmpdir);
    snprintf(order_out, n, "%s/fx-order.json", tmpdir);
    write_file(cfg_out, json_object_to_json_string(cfg));
    write_file(order_out, json_object_to_json_string(m2j_json_path(fx, "order")));
    json_object_put(cfg);
    json_object_put(fx);
}

START_TEST(preview_invoice_skip_and_failure)
{
    char pc[320], po[320];
    fixture_files("tests/fixtures/orders/01-nl-private-excl-tax-21.json", pc, po, sizeof pc);
    run_result r = run(pc, "preview", po, "--type", "order", NULL);
    ck_assert_msg(r.code == 0, "%s", r.err);
    ck_assert_ptr_nonnull(strstr(r.out, "invoice request"));
    ck_assert_ptr_nonnull(strstr(r.out, "Magento grand total"));
    ck_assert_ptr_nonnull(strstr(r.out, "customer request"));
    run_free(&r);

    r = run(pc, "preview", po, "--type", "order", "--json", NULL);
    ck_assert_int_eq(r.code, 0);
    json_object *a;
    ck_assert_int_eq(m2j_json_parse(r.out, r.out_len, &a, NULL), M2J_OK);
    ck_assert_str_eq(m2j_json_str(a, "0.action"), "invoice");
    ck_assert_str_eq(m2j_json_str(a, "0.totals.grand_total"), m2j_json_str(a, "0.totals.total_incl"));
    ck_assert_ptr_nonnull(m2j_json_path(a, "0.invoice"));
    json_object_put(a);
    run_free(&r);

    fixture_files("tests/fixtures/orders/23-status-pending-skip.json", pc, po, sizeof pc);
    r = run(pc, "preview", po, "--type", "order", NULL);
    ck_assert_int_eq(r.code, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "skipped"));
    run_free(&r);

    fixture_files("tests/fixtures/orders/24-does-not-add-up.json", pc, po, sizeof pc);
    r = run(pc, "preview", po, "--type", "order", NULL);
    ck_assert_int_eq(r.code, 1);
    ck_assert_ptr_nonnull(strstr(r.out, "MAPPING FAILED"));
    run_free(&r);
}
END_TEST

int main(void)
{
    signal(SIGPIPE, SIG_IGN); /* a killed redis-server must give errors, not kill the test */
    Suite *s = suite_create("cli");
    TCase *pure = tcase_create("helpers");
    tcase_add_test(pure, since_parsing);
    tcase_add_test(pure, formatting);
    suite_add_tcase(s, pure);
    TCase *tc = tcase_create("commands");
    tcase_add_unchecked_fixture(tc, suite_setup, suite_teardown);
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, stats_json_is_one_object);
    tcase_add_test(tc, redis_down_and_bad_config);
    tcase_add_test(tc, check_config);
    tcase_add_test(tc, failed_lists_and_filters);
    tcase_add_test(tc, show_masks_unless_revealed);
    tcase_add_test(tc, replay_needs_yes_for_filters);
    tcase_add_test(tc, sign_prints_curl_headers);
    tcase_add_test(tc, sign_output_verifies);
    tcase_add_test(tc, preview_bad_input);
    tcase_add_test(tc, preview_invoice_skip_and_failure);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
