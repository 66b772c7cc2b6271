/* cmd_config.c: `m2jortt check-config [FILE] [--online]`: load and validate
 * a config without starting anything (for deploy scripts and CI); with
 * --online also against the services it names (check_online.c). */
#include "cli/cli.h"
#include "base/log.h"

#include <string.h>

int cli_cmd_check_config(cli_ctx *c, int argc, char **argv)
{
    const char *path = c->config_path;
    bool online = false, bad = false;
    const char *positional = NULL;
    for (int i = 1; i < argc && !bad; i++) {
        /* "-" alone is a file name, as it always was here. */
        if (!strcmp(argv[i], "--online"))
            online = true;
        else if ((argv[i][0] == '-' && argv[i][1] != '\0') || positional)
            bad = true;
        else
            positional = argv[i];
    }
    if (bad) {
        fprintf(c->err, "usage: m2jortt check-config [FILE] [--online]\n");
        return CLI_USAGE;
    }
    if (positional)
        path = positional;
    m2j_config *cfg;
    m2j_err err;
    if (m2j_config_load(path, &cfg, &err) != M2J_OK) {
        fprintf(c->err, "config error: %s\n", cli_config_error(path, &err));
        return CLI_FAIL;
    }
    m2j_buf sum = {0};
    cli_config_summary(cfg, &sum);
    fprintf(c->out, "config OK: %s\n%s", path, m2j_buf_str(&sum));
    m2j_buf_free(&sum);
    if (!online) {
        m2j_config_free(cfg);
        return CLI_OK;
    }
    cli_session s = { cfg, NULL };
    int code = cli_check_online(c, &s);
    cli_close(&s);
    return code;
}
