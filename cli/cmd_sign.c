/* cmd_sign.c: `m2jortt sign FILE [--id ID] [--timestamp TS]`: the Standard
 * Webhooks headers for FILE's exact bytes, one per line, so that
 *   curl -H @<(m2jortt sign order.json) --data-binary @order.json URL
 * posts a request the receiver accepts (tests, smoke checks, manual replays
 * from a shop's export). */
#include "cli/cli.h"
#include "base/crypto_util.h"
#include "ingest/signature.h"

#include <string.h>
#include <time.h>

int cli_cmd_sign(cli_ctx *c, int argc, char **argv)
{
    const char *file = NULL, *id = NULL, *ts_s = NULL;
    bool bad = false;
    for (int i = 1; i < argc && !bad; i++) {
        if (cli_opt_value(c, argc, argv, &i, "--id", &id, &bad) ||
            cli_opt_value(c, argc, argv, &i, "--timestamp", &ts_s, &bad))
            continue;
        cli_positional(c, "sign", argv[i], &file, &bad);
    }
    long long ts = (long long)time(NULL);
    if (!bad && ts_s && !cli_parse_count(ts_s, &ts)) {
        fprintf(c->err, "m2jortt sign: --timestamp wants seconds since the epoch, not %s\n", ts_s);
        bad = true;
    }
    /* The id goes into a header line: no spaces or control characters. */
    for (const char *p = id; !bad && p && *p; p++) {
        if ((unsigned char)*p <= ' ' || *p == 0x7f) {
            fprintf(c->err, "m2jortt sign: --id must not contain spaces or control characters\n");
            bad = true;
        }
    }
    if (!bad && id && !*id) {
        fprintf(c->err, "m2jortt sign: --id must not be empty\n");
        bad = true;
    }
    cli_session sess;
    int code = cli_start(c, bad || !file, "usage: m2jortt sign FILE [--id ID] [--timestamp SECONDS]\n",
                         CLI_NEEDS_CONFIG, &sess);
    if (code != CLI_OK)
        return code;
    code = CLI_FAIL;
    m2j_buf body = {0}, sig = {0};
    m2j_err err;
    char idbuf[40];
    if (!id) {
        char hex[33];
        if (m2j_random_hex(hex) != M2J_OK) {
            fprintf(c->err, "m2jortt sign: no random bytes\n");
            goto out;
        }
        snprintf(idbuf, sizeof idbuf, "msg_%s", hex);
        id = idbuf;
    }
    if (cli_read_file(file, CLI_MAX_FILE_BYTES, &body, &err) != M2J_OK) {
        fprintf(c->err, "m2jortt sign: %s\n", err.msg);
        goto out;
    }
    if (m2j_standard_webhooks_sign(sess.cfg->receiver.webhook_secret, id, ts, m2j_buf_str(&body), body.len,
                                   &sig, &err) != M2J_OK) {
        fprintf(c->err, "m2jortt sign: %s\n", err.msg);
        goto out;
    }
    fprintf(c->out, "content-type: application/json\n"
                    "webhook-id: %s\n"
                    "webhook-timestamp: %lld\n"
                    "webhook-signature: %s\n",
            id, ts, m2j_buf_str(&sig));
    code = CLI_OK;
out:
    m2j_buf_free(&body);
    m2j_buf_free(&sig);
    cli_close(&sess);
    return code;
}
