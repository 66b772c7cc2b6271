/* fuzz_config: the configuration loader over any text (comments, ${NAME}
 * expansion, every section's readers, the Redis URL and host:port parsers,
 * templates in the field maps). The environment variables the example
 * config names are set, so expansion succeeds as often as it fails. */
#include "tests/fuzz/fuzz_input.h"
#include "config/config.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    setenv("JORTT_CLIENT_ID", "client", 1);
    setenv("JORTT_CLIENT_SECRET", "secret", 1);
    setenv("M2JORTT_WEBHOOK_SECRET", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", 1);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_cstr(data, size);
    if (!text)
        return 0;
    m2j_config *cfg = NULL;
    m2j_err err = {0};
    if (m2j_config_load_string(text, &cfg, &err) == M2J_OK) {
        FUZZ_ASSERT(cfg != NULL);
        /* The lookups every worker makes on a loaded config. */
        (void)m2j_config_payment(cfg, "checkmo");
        (void)m2j_config_shipping(cfg, "flatrate_flatrate");
        (void)m2j_config_group(cfg, "1");
        m2j_rate r;
        (void)m2j_config_vat(cfg, "NL", &r);
        (void)m2j_config_revenue_account(cfg, "DE");
        (void)m2j_config_language(cfg, "BE");
        m2j_config_free(cfg);
    } else {
        FUZZ_ASSERT(cfg == NULL && err.msg[0] != '\0');
    }
    free(text);
    return 0;
}
