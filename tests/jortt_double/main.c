/* main.c: command line of the Jortt test double.
 *
 *   jortt-double --listen 127.0.0.1:PORT [--rate-limit N] [--client-id ID
 *                --client-secret S] [--state-file PATH] [--verbose]
 *
 * Prints "listening 127.0.0.1:PORT" once the socket is bound (PORT 0 picks
 * a free port and prints the real one), serves until SIGTERM/SIGINT, then
 * frees everything and exits 0. See README.md for the API. */
#include "jd.h"
#include "server.h"
#include "state_file.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void usage(FILE *f)
{
    fprintf(f, "usage: jortt-double --listen HOST:PORT [--rate-limit N] [--client-id ID --client-secret S]"
               " [--state-file PATH] [--verbose]\n"
               "  --rate-limit N   API requests per second (token bucket of N), 0 = unlimited; default 10\n"
               "  --client-id/--client-secret  required OAuth client credentials (default: accept any)\n"
               "  --state-file PATH  load data from PATH at start, save it there at a clean exit\n");
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)sig;
    (void)what;
    event_base_loopexit(arg, NULL);
}

static bool parse_listen(const char *arg, char *host, size_t hostlen, int *port)
{
    const char *colon = strrchr(arg, ':');
    if (!colon || colon == arg || (size_t)(colon - arg) >= hostlen)
        return false;
    char *end;
    long p = strtol(colon + 1, &end, 10);
    if (colon[1] == '\0' || *end != '\0' || p < 0 || p > 65535)
        return false;
    memcpy(host, arg, (size_t)(colon - arg));
    host[colon - arg] = '\0';
    *port = (int)p;
    return true;
}

int main(int argc, char **argv)
{
    char host[256] = "";
    int port = -1;
    long rate = 10;
    const char *client_id = NULL, *client_secret = NULL, *state_file = NULL;
    bool verbose = false;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--listen") == 0 && v) {
            if (!parse_listen(v, host, sizeof host, &port)) {
                fprintf(stderr, "jortt-double: bad --listen '%s' (want HOST:PORT)\n", v);
                return 2;
            }
            i++;
        } else if (strcmp(a, "--rate-limit") == 0 && v) {
            char *end;
            rate = strtol(v, &end, 10);
            if (*v == '\0' || *end != '\0' || rate < 0 || rate > 100000) {
                fprintf(stderr, "jortt-double: bad --rate-limit '%s'\n", v);
                return 2;
            }
            i++;
        } else if (strcmp(a, "--client-id") == 0 && v) {
            client_id = v;
            i++;
        } else if (strcmp(a, "--client-secret") == 0 && v) {
            client_secret = v;
            i++;
        } else if (strcmp(a, "--state-file") == 0 && v) {
            state_file = v;
            i++;
        } else if (strcmp(a, "--verbose") == 0 || strcmp(a, "-v") == 0) {
            verbose = true;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "jortt-double: unknown or incomplete argument '%s'\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (port < 0) {
        usage(stderr);
        return 2;
    }
    if ((client_id == NULL) != (client_secret == NULL)) {
        fprintf(stderr, "jortt-double: --client-id and --client-secret go together\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);

    jd_server s = {0};
    s.client_id = client_id;
    s.client_secret = client_secret;
    s.verbose = verbose;
    s.rng = ((uint64_t)time(NULL) << 20) ^ (uint64_t)getpid() ^ 0x9E3779B97F4A7C15ull;
    s.tokens = json_object_new_object();
    jd_state_reset(&s);
    int rc = 1;
    struct event *sigterm = NULL, *sigint = NULL;
    m2j_err err;
    if (state_file && jd_state_load(&s, state_file, &err) != M2J_OK) {
        fprintf(stderr, "jortt-double: --state-file: %s\n", err.msg);
        state_file = NULL; /* never overwrite a file we could not read */
        goto out;
    }
    s.base = event_base_new();
    if (!s.base || jd_set_rate_limit(&s, rate) != M2J_OK) {
        fprintf(stderr, "jortt-double: out of memory\n");
        goto out;
    }
    sigterm = evsignal_new(s.base, SIGTERM, on_signal, s.base);
    sigint = evsignal_new(s.base, SIGINT, on_signal, s.base);
    if (!sigterm || !sigint || evsignal_add(sigterm, NULL) != 0 || evsignal_add(sigint, NULL) != 0) {
        fprintf(stderr, "jortt-double: cannot install signal handlers\n");
        goto out;
    }
    int bound = 0;
    if (jd_server_start(&s, host, port, &bound) != M2J_OK) {
        fprintf(stderr, "jortt-double: cannot listen on %s:%d\n", host, port);
        goto out;
    }
    printf("listening %s:%d\n", host, bound);
    fflush(stdout);
    if (event_base_dispatch(s.base) < 0) {
        fprintf(stderr, "jortt-double: event loop failed\n");
        goto out;
    }
    rc = 0;
    if (state_file && jd_state_save(&s, state_file, &err) != M2J_OK) {
        fprintf(stderr, "jortt-double: --state-file: %s\n", err.msg);
        rc = 1;
    }
out:
    jd_pending_flush(&s);
    if (s.http)
        evhttp_free(s.http);
    if (sigterm)
        event_free(sigterm);
    if (sigint)
        event_free(sigint);
    jd_faults_clear(&s.faults);
    json_object_put(s.customers);
    json_object_put(s.invoices);
    json_object_put(s.deleted_invoices);
    json_object_put(s.by_endpoint);
    json_object_put(s.tokens);
    if (s.base)
        event_base_free(s.base);
    return rc;
}
