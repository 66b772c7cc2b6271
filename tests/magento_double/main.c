/* main.c: command line of the Magento test double.
 *
 *   magento-double --listen 127.0.0.1:PORT --consumer-key K --consumer-secret S
 *                  --access-token T --access-token-secret TS [--bearer] [--verbose]
 *
 * Prints "listening 127.0.0.1:PORT" once bound (PORT 0 picks a free port),
 * serves until SIGTERM/SIGINT, then frees everything and exits 0. */
#include "md.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)sig, (void)what;
    event_base_loopexit(arg, NULL);
}

static void usage(void)
{
    fprintf(stderr, "usage: magento-double --listen HOST:PORT --consumer-key K --consumer-secret S "
                    "--access-token T --access-token-secret TS [--bearer] [--verbose]\n");
}

int main(int argc, char **argv)
{
    md_server s = {0};
    s.consumer_key = s.consumer_secret = s.token = s.token_secret = "";
    const char *listen = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--bearer") == 0) { s.allow_bearer = true; continue; }
        if (strcmp(a, "--verbose") == 0) { s.verbose = true; continue; }
        if (!v) { usage(); return 2; }
        if (strcmp(a, "--listen") == 0) listen = v;
        else if (strcmp(a, "--consumer-key") == 0) s.consumer_key = v;
        else if (strcmp(a, "--consumer-secret") == 0) s.consumer_secret = v;
        else if (strcmp(a, "--access-token") == 0) s.token = v;
        else if (strcmp(a, "--access-token-secret") == 0) s.token_secret = v;
        else { usage(); return 2; }
        i++;
    }
    const char *colon = listen ? strrchr(listen, ':') : NULL;
    if (!colon || !*s.token) {
        usage();
        return 2;
    }
    char host[256];
    snprintf(host, sizeof host, "%.*s", (int)(colon - listen), listen);
    signal(SIGPIPE, SIG_IGN);
    s.base = event_base_new();
    if (!s.base || md_server_start(&s, host, atoi(colon + 1)) != 0) {
        fprintf(stderr, "magento-double: cannot listen on %s\n", listen);
        return 1;
    }
    printf("listening %s:%d\n", host, s.port);
    fflush(stdout);
    struct event *t = evsignal_new(s.base, SIGTERM, on_signal, s.base);
    struct event *n = evsignal_new(s.base, SIGINT, on_signal, s.base);
    event_add(t, NULL);
    event_add(n, NULL);
    event_base_dispatch(s.base);
    event_free(t);
    event_free(n);
    md_server_free(&s);
    event_base_free(s.base);
    return 0;
}
