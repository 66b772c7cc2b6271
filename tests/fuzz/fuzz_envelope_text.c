/* fuzz_envelope_text: differential. Each input goes through the receiver's
 * path (m2j_envelope_parse_text: slices of the body, entities written as
 * text by normalise_text.c) and the json-c path (m2j_envelope_parse: json-c
 * trees rewritten by normalise.c, written by event.c). Both must give the
 * same outcome, message, events and job text byte for byte; any difference
 * aborts, so libFuzzer keeps the input. The unit test
 * tests/unit/test_envelope_text.c does the same over every fixture. */
#include "tests/fuzz/fuzz_input.h"
#include "ingest/envelope.h"

static const char *const hints[] = { NULL, "order", "customer", "creditmemo" };

static void job(const m2j_event *ev, m2j_buf *b)
{
    m2j_buf_reset(b);
    FUZZ_ASSERT(m2j_job_text_append(b, ev) == M2J_OK);
}

static void compare(const uint8_t *data, size_t size, const char *delivery, const char *hint)
{
    m2j_envelope a = {0}, b = {0};
    m2j_err ea = {0}, eb = {0};
    m2j_rc ra = m2j_envelope_parse((const char *)data, size, delivery, hint, 100, 1764390000123LL, &a, &ea);
    m2j_rc rb = m2j_envelope_parse_text((const char *)data, size, delivery, hint, 100, 1764390000123LL, &b, &eb);
    FUZZ_ASSERT(ra == rb);
    if (ra != M2J_OK) {
        FUZZ_ASSERT(strcmp(ea.msg, eb.msg) == 0);
        return;
    }
    FUZZ_ASSERT(a.n_events == b.n_events && a.batch == b.batch && a.commerce_webhook == b.commerce_webhook);
    FUZZ_ASSERT(a.n_cloudevents == b.n_cloudevents && a.recipient_client_id_mixed == b.recipient_client_id_mixed);
    FUZZ_ASSERT((a.recipient_client_id == NULL) == (b.recipient_client_id == NULL));
    FUZZ_ASSERT(!a.recipient_client_id || strcmp(a.recipient_client_id, b.recipient_client_id) == 0);
    FUZZ_ASSERT(a.n_timed == b.n_timed && a.oldest_time == b.oldest_time && a.newest_time == b.newest_time &&
                a.time_invalid == b.time_invalid);
    m2j_buf ja = {0}, jb = {0};
    for (size_t i = 0; i < a.n_events; i++) {
        FUZZ_ASSERT(strcmp(a.events[i].event_id, b.events[i].event_id) == 0);
        FUZZ_ASSERT(a.events[i].kind == b.events[i].kind);
        FUZZ_ASSERT(strcmp(a.events[i].event_type, b.events[i].event_type) == 0);
        FUZZ_ASSERT(b.events[i].entity == NULL);
        job(&a.events[i], &ja);
        job(&b.events[i], &jb);
        FUZZ_ASSERT(ja.len == jb.len && memcmp(ja.data, jb.data, ja.len) == 0);
    }
    m2j_buf_free(&ja);
    m2j_buf_free(&jb);
    m2j_envelope_clear(&a);
    m2j_envelope_clear(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    compare(data, size, NULL, NULL);
    compare(data, size, "msg_2x5QdJ", hints[size % 4]);
    return 0;
}
