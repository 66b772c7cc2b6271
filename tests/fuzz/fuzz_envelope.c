/* fuzz_envelope: a webhook body through envelope detection, the strict JSON
 * check (json_strict.c) and normalisation, as the receiver does it. Each input
 * is parsed twice: as the receiver sees an unsigned-id body (no delivery id,
 * no ?type=), and with a delivery id and a type hint chosen by the length, so
 * the id-derivation and hint paths are reached without spending input bytes
 * (which would spoil the JSON seeds). */
#include "tests/fuzz/fuzz_input.h"
#include "ingest/envelope.h"

static const char *const hints[] = { NULL, "order", "customer", "creditmemo" };

static void parse_once(const uint8_t *data, size_t size, const char *delivery, const char *hint)
{
    m2j_envelope env = {0};
    m2j_err err = {0};
    m2j_rc rc = m2j_envelope_parse((const char *)data, size, delivery, hint, 100, 1764390000123LL, &env, &err);
    if (rc == M2J_OK) {
        FUZZ_ASSERT(env.n_events == 0 || env.events != NULL);
        FUZZ_ASSERT(env.n_events <= 100);
    } else {
        FUZZ_ASSERT(err.msg[0] != '\0');
    }
    m2j_envelope_clear(&env);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    parse_once(data, size, NULL, NULL);
    parse_once(data, size, "msg_2x5QdJ", hints[size % 4]);
    return 0;
}
