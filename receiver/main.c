/* m2jortt-receiver: accepts Magento webhooks and stores them durably in Redis.
 * It never calls Jortt; workers do (worker/).
 *
 *   m2jortt-receiver [--config FILE]     (default ./m2jortt.json)
 *
 * Endpoints
 *   POST /webhooks/magento[?type=order|customer|creditmemo]
 *     Body: an Adobe I/O Events CloudEvent (or a JSON array of them), an
 *     Adobe Commerce webhook ({"eventName","data"} or the plugin shape
 *     {"order":…}), or a bare Magento REST order/customer/credit memo
 *     (common/envelope.c has the detection rules).
 *     Checks, in order, each with a JSON error {"error","message"}:
 *       415 Content-Type present and not application/json or application/…+json
 *           (a missing Content-Type is accepted: the parser decides);
 *       413 body over receiver.max_body_bytes (for a declared Content-Length
 *           libevent answers this one itself, with its own HTML body);
 *       401 signature (Standard Webhooks, or the Adobe RSA schemes when
 *           keys are configured; common/signature.c) or, with
 *           receiver.io_events_client_id set, a CloudEvent recipient_client_id
 *           that does not match;
 *       400 malformed JSON or an unknown/unusable envelope;
 *       413 more than receiver.max_batch_events events;
 *       503 + Retry-After: 5 while Redis is unreachable or refuses the write
 *           (never a 4xx: Adobe only retries 429 and 5xx).
 *     Success, sent only after Redis confirmed the write (one atomic script
 *     for the whole batch, with dedup on the event id):
 *       202 {"status":"queued","id":"…"}        batch: {"status":"queued","ids":[…],"duplicates":N}
 *       200 {"status":"duplicate","id":"…"}     every event was already accepted
 *       200 {"op":"success"}                    Adobe Commerce Webhooks (needs exactly that)
 *   GET /webhooks/magento?challenge=X  -> 200 {"challenge":"X"}  (I/O Events registration)
 *   GET /healthz -> 200 {"status":"ok"}      (liveness: the process answers)
 *   GET /readyz  -> 200 when Redis answers a PING now, else 503
 *   Other methods on these paths -> 405 with Allow; other paths -> 404.
 *
 * Runtime: one thread, one libevent loop; Redis through hiredis's async API
 * (receiver/redis_link.c), so no request ever blocks another. The receiver
 * starts even when Redis is down and reconnects with back-off (100 ms
 * doubling to 5 s). The enqueue script is run by EVALSHA (its SHA is computed
 * locally and SCRIPT LOADed on each connect), falling back to EVAL on
 * NOSCRIPT.
 *
 * SIGTERM/SIGINT: stop accepting connections, answer new requests on open
 * connections 503, wait (at most 10 s) until every request waiting on Redis
 * has been answered and written, exit 0. A second signal exits at once.
 *
 * Logs: logfmt on stderr, one line per request outcome (status, event id,
 * kind, duration); no personal data. */
#include "config.h"
#include "log.h"
#include "server.h"

#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#define DRAIN_GRACE_MS 10000

static void usage(FILE *f)
{
    fprintf(f,
            "usage: m2jortt-receiver [--config FILE]\n"
            "  --config FILE  configuration file (default %s)\n"
            "  --help         this text\n"
            "Receives Magento webhooks on POST /webhooks/magento and queues them in Redis.\n",
            M2J_CONFIG_DEFAULT_PATH);
}

typedef struct {
    rcv_server        *srv;
    struct event_base *base;
} sig_ctx;

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    sig_ctx *c = arg;
    static int seen;
    if (seen++) {
        m2j_log(M2J_LOG_WARN, "second signal: exiting now", NULL);
        event_base_loopbreak(c->base);
        return;
    }
    m2j_log(M2J_LOG_INFO, "shutting down", "signal", sig == SIGTERM ? "TERM" : "INT", NULL);
    rcv_server_drain(c->srv, DRAIN_GRACE_MS);
}

int main(int argc, char **argv)
{
    const char *path = M2J_CONFIG_DEFAULT_PATH;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else if ((strcmp(argv[i], "--config") == 0 || strcmp(argv[i], "-c") == 0) && i + 1 < argc) {
            path = argv[++i];
        } else if (strncmp(argv[i], "--config=", 9) == 0) {
            path = argv[i] + 9;
        } else {
            fprintf(stderr, "m2jortt-receiver: unknown argument \"%s\"\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    m2j_log_set_component("receiver");
    signal(SIGPIPE, SIG_IGN); /* a client that hangs up must not kill us */

    m2j_err err = {0};
    m2j_config *cfg = NULL;
    if (m2j_config_load(path, &cfg, &err) != M2J_OK) {
        m2j_log(M2J_LOG_ERROR, "cannot load configuration", "path", path, "error", err.msg, NULL);
        return 1;
    }
    int lvl = m2j_log_level_parse(cfg->log.level ? cfg->log.level : "info");
    if (lvl >= 0)
        m2j_log_set_level((m2j_log_level)lvl);
    m2j_log_set_pseudonym_key(cfg->redis.key_prefix);

    int code = 1;
    struct event_base *base = event_base_new();
    rcv_server *srv = NULL;
    struct event *sterm = NULL, *sint = NULL;
    if (!base) {
        m2j_log(M2J_LOG_ERROR, "cannot create the event loop", NULL);
        goto out;
    }
    if (rcv_server_new(cfg, base, &srv, &err) != M2J_OK) {
        m2j_log(M2J_LOG_ERROR, "cannot start", "error", err.msg, NULL);
        goto out;
    }
    sig_ctx sc = { srv, base };
    sterm = evsignal_new(base, SIGTERM, on_signal, &sc);
    sint = evsignal_new(base, SIGINT, on_signal, &sc);
    if (!sterm || !sint || evsignal_add(sterm, NULL) != 0 || evsignal_add(sint, NULL) != 0) {
        m2j_log(M2J_LOG_ERROR, "cannot install signal handlers", NULL);
        goto out;
    }
    char listen[300];
    snprintf(listen, sizeof listen, "%s:%d", cfg->receiver.listen_host ? cfg->receiver.listen_host : "127.0.0.1",
             rcv_server_port(srv));
    m2j_log(M2J_LOG_INFO, "receiver listening", "listen", listen, "config", path, NULL);
    if (event_base_dispatch(base) < 0) {
        m2j_log(M2J_LOG_ERROR, "event loop failed", NULL);
        goto out;
    }
    m2j_log(M2J_LOG_INFO, "receiver stopped", NULL);
    code = 0;
out:
    if (sterm)
        event_free(sterm);
    if (sint)
        event_free(sint);
    rcv_server_free(srv);
    if (base)
        event_base_free(base);
    m2j_config_free(cfg);
    return code;
}
