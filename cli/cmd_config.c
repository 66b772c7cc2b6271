/* cmd_config.c: `m2jortt check-config [FILE]`: load and validate a config
 * without starting anything (for deploy scripts and CI), and say what it
 * sets up (config_summary.c). */
#include "cli/cli.h"

#include <string.h>

int cli_cmd_check_config(cli_ctx *c, int argc, char **argv)
{
    const char *path = c->config_path;
    if (argc > 2 || (argc == 2 && argv[1][0] == '-' && argv[1][1] != '\0')) {
        fprintf(c->err, "usage: m2jortt check-config [FILE]\n");
        return CLI_USAGE;
    }
    if (argc == 2)
        path = argv[1];
    m2j_config *cfg;
    m2j_err err;
    if (m2j_config_load(path, &cfg, &err) != M2J_OK) {
        fprintf(c->err, "config error: %s\n", cli_config_error(path, &err));
        return CLI_FAIL;
    }
    m2j_buf sum = {0};
    cli_config_summary(cfg, &sum);
    m2j_config_free(cfg);
    fprintf(c->out, "config OK: %s\n%s", path, m2j_buf_str(&sum));
    m2j_buf_free(&sum);
    return CLI_OK;
}
