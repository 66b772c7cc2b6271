/* fuzz_poll_cursor: the Magento poller's stored position (what
 * P:magento:cursor:* holds, and the updated_at / id texts Magento answers
 * with). One input is, line by line: a stored cursor, an updated_at, an
 * entity id, then an overlap in seconds. Besides crashes it asserts that a
 * cursor that parses formats back to the same text, that every cursor the
 * functions hand back is a well-formed one (19-character time, decimal id)
 * that parses again, that a cursor at rest never moves back, and that the
 * ordering is consistent. */
#include "tests/fuzz/fuzz_lines.h"
#include "magento/poll_cursor.h"

#include <ctype.h>

/* What every cursor handed back must look like. */
static void well_formed(const m2j_poll_cursor *c)
{
    FUZZ_ASSERT(memchr(c->ts, '\0', sizeof c->ts) != NULL);
    FUZZ_ASSERT(memchr(c->id, '\0', sizeof c->id) != NULL);
    FUZZ_ASSERT(c->id[0] != '\0');
    for (const char *p = c->id; *p; p++)
        FUZZ_ASSERT(isdigit((unsigned char)*p));
    m2j_buf t = {0};
    FUZZ_ASSERT(m2j_poll_cursor_format(c, &t) == M2J_OK);
    m2j_poll_cursor back;
    /* a time of another year length (before year 1000, after 9999) is
     * stored as it is; only the 19-character ones parse again */
    if (strlen(c->ts) == 19)
        FUZZ_ASSERT(m2j_poll_cursor_parse(t.data, &back) && m2j_poll_cursor_cmp(&back, c) == 0);
    m2j_buf_free(&t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_fields f;
    if (!fuzz_split(data, size, 4, &f))
        return 0;
    long overlap = f.field[3] ? strtol(f.field[3], NULL, 10) % 86400 : 10;
    if (overlap < 0)
        overlap = -overlap;
    m2j_poll_cursor c, last, rest;
    if (m2j_poll_cursor_parse(f.field[0], &c)) {
        m2j_buf t = {0};
        FUZZ_ASSERT(m2j_poll_cursor_format(&c, &t) == M2J_OK);
        FUZZ_ASSERT(strcmp(t.data, f.field[0]) == 0);
        m2j_buf_free(&t);
        well_formed(&c);
        FUZZ_ASSERT(m2j_poll_cursor_cmp(&c, &c) == 0);
        m2j_buf q = {0};
        FUZZ_ASSERT(m2j_poll_query(&q, &c, "updated_at", "entity_id", 100) == M2J_OK);
        m2j_buf_free(&q);
        if (m2j_poll_cursor_set(&last, f.field[1], f.field[2])) {
            well_formed(&last);
            int ab = m2j_poll_cursor_cmp(&c, &last), ba = m2j_poll_cursor_cmp(&last, &c);
            FUZZ_ASSERT(ab == -ba && ab >= -1 && ab <= 1);
            if (m2j_poll_cursor_at_rest(&c, &last, overlap, &rest)) {
                well_formed(&rest);
                FUZZ_ASSERT(strcmp(rest.id, "0") == 0);
                if (strcmp(c.id, "0") == 0)
                    FUZZ_ASSERT(m2j_poll_cursor_cmp(&rest, &c) >= 0); /* never back */
            }
        }
        if (m2j_poll_cursor_at_rest(&c, NULL, overlap, &rest))
            well_formed(&rest);
    }
    if (f.field[1] && m2j_poll_cursor_rewound(f.field[1], overlap, &rest))
        well_formed(&rest);
    fuzz_fields_free(&f);
    return 0;
}
