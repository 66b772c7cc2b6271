/* fuzz_money: money and rate text as it comes from Magento (decimal strings
 * and JSON number text), and the arithmetic every parsed amount goes through.
 * Besides crashes and UBSan's overflow checks it asserts that formatting an
 * amount with 4 decimals parses back to the same amount. */
#include "tests/fuzz/fuzz_input.h"
#include "base/money.h"

static const m2j_rate rates[] = { 0, 55000, 90000, 210000, M2J_RATE_100PCT };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_cstr(data, size);
    if (!text)
        return 0;
    m2j_money m = 0;
    m2j_err err = {0};
    if (m2j_money_parse(text, &m, &err) == M2J_OK) {
        FUZZ_ASSERT(m >= -M2J_MONEY_MAX && m <= M2J_MONEY_MAX);
        char out[M2J_MONEY_STRLEN], out4[M2J_MONEY_STRLEN];
        m2j_money_format(m, out);
        m2j_money_format4(m, out4);
        m2j_money back = 0;
        FUZZ_ASSERT(m2j_money_parse(out4, &back, NULL) == M2J_OK && back == m);
        FUZZ_ASSERT(m2j_money_parse(out, &back, NULL) == M2J_OK && back == m2j_money_round_cents(m));
        for (size_t i = 0; i < sizeof rates / sizeof rates[0]; i++) {
            (void)m2j_vat_from_incl(m, rates[i]);
            (void)m2j_vat_from_excl(m, rates[i]);
        }
        (void)m2j_money_muldiv(m, 3, 7);
        (void)m2j_money_muldiv(m, -M2J_MONEY_MAX, M2J_MONEY_MAX);
    } else {
        FUZZ_ASSERT(err.msg[0] != '\0');
    }
    m2j_rate r = 0;
    char rs[M2J_RATE_STRLEN];
    if (m2j_rate_parse_percent(text, &r, NULL) == M2J_OK)
        m2j_rate_format_fraction(r, rs);
    if (m2j_rate_parse_fraction(text, &r, NULL) == M2J_OK) {
        m2j_rate_format_fraction(r, rs);
        m2j_rate back = 0;
        FUZZ_ASSERT(m2j_rate_parse_fraction(rs, &back, NULL) == M2J_OK && back == r);
    }
    free(text);
    return 0;
}
