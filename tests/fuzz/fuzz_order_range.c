/* fuzz_order_range: the days of `m2jortt backfill` / `reconcile` (--from,
 * --to) and the searchCriteria built from them. One input is, line by line:
 * --from, --to (absent = today), the id to continue after, then statuses
 * (one a line). Besides crashes it asserts that a range that parses has two
 * well-formed timestamps, from before until, and that a refusal says why. */
#include "tests/fuzz/fuzz_lines.h"
#include "magento/order_range.h"

#define NOW_MS 1764390000000LL /* 2025-11-29 */

static void stamp_ok(const char *ts, size_t size)
{
    FUZZ_ASSERT(memchr(ts, '\0', size) != NULL);
    FUZZ_ASSERT(strlen(ts) == 19 && ts[4] == '-' && ts[7] == '-' && ts[10] == ' ' && ts[13] == ':');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_fields f;
    if (!fuzz_split(data, size, 4, &f))
        return 0;
    m2j_day_range r;
    m2j_err err = {0};
    if (m2j_day_range_parse(f.field[0], f.field[1], NOW_MS, &r, &err) == M2J_OK) {
        stamp_ok(r.from_ts, sizeof r.from_ts);
        stamp_ok(r.until_ts, sizeof r.until_ts);
        FUZZ_ASSERT(strcmp(r.from_ts, r.until_ts) < 0);
        FUZZ_ASSERT(strncmp(r.from_ts, r.from_day, 10) == 0);
        char *statuses[64];
        size_t n = 0;
        for (char *p = f.field[3]; p && *p && n < 64;) {
            char *nl = strchr(p, '\n');
            if (nl)
                *nl = '\0';
            statuses[n++] = p;
            p = nl ? nl + 1 : NULL;
        }
        m2j_buf q = {0};
        FUZZ_ASSERT(m2j_order_range_query(&r, statuses, n, f.field[2], &q) == M2J_OK);
        FUZZ_ASSERT(strlen(q.data) == q.len);
        m2j_buf_free(&q);
    } else {
        FUZZ_ASSERT(err.msg[0] != '\0');
    }
    fuzz_fields_free(&f);
    return 0;
}
