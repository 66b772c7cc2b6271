/* mapping_fixtures.h: what the table-driven mapping tests share (order and
 * credit memo): the fixture list, JSON helpers, and an independent
 * recomputation of an invoice's total the way Jortt computes it, with its own
 * decimal parsing (not money.c), so the mapping is checked against arithmetic
 * it does not share. Header-only: each test file is its own executable. */
#ifndef M2J_MAPPING_FIXTURES_H
#define M2J_MAPPING_FIXTURES_H

#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json_util.h"
#include "base/money.h"

static char fixture_dir[4096];
static char **fixtures;
static size_t n_fixtures;

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void load_fixture_list(const char *subdir)
{
    const char *src = getenv("M2JORTT_SRC_DIR");
    snprintf(fixture_dir, sizeof fixture_dir, "%s%stests/fixtures/%s", src && *src ? src : "",
             src && *src ? "/" : "", subdir);
    DIR *d = opendir(fixture_dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (n < 6 || strcmp(e->d_name + n - 5, ".json") != 0)
            continue;
        fixtures = realloc(fixtures, (n_fixtures + 1) * sizeof *fixtures);
        fixtures[n_fixtures++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(fixtures, n_fixtures, sizeof *fixtures, cmp_names);
}


static json_object *parse(const char *s)
{
    json_object *o = NULL;
    m2j_err err = {0};
    ck_assert_msg(m2j_json_parse(s, strlen(s), &o, &err) == M2J_OK, "parse: %s: %s", err.msg, s);
    return o;
}

static const char *pretty(json_object *o)
{
    return o ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE)
             : "(null)";
}

/* Own decimal parsing for the independent recomputation: "12.34" / "-0.5"
 * / 12.3400 -> hundredths of a cent (4 decimals), exact, no money.c. */
static long long dec4(const char *s)
{
    int sign = 1;
    long long ip = 0, fp = 0;
    int nd = 0;
    if (*s == '-') {
        sign = -1;
        s++;
    }
    while (*s >= '0' && *s <= '9')
        ip = ip * 10 + (*s++ - '0');
    if (*s == '.') {
        s++;
        while (*s >= '0' && *s <= '9') {
            if (nd < 4) {
                fp = fp * 10 + (*s - '0');
                nd++;
            }
            s++;
        }
    }
    ck_assert_msg(*s == '\0', "not a plain decimal: %s", s);
    while (nd++ < 4)
        fp *= 10;
    return sign * (ip * 10000 + fp);
}

static long long round_cents4(long long v) /* half away from zero */
{
    long long a = v < 0 ? -v : v;
    a = (a + 50) / 100 * 100;
    return v < 0 ? -a : a;
}

/* The invoice as Jortt totals it (jortt-api.md 4.2, order_mapping.h): sum of
 * quantity x amount; VAT per rate from the incl. amounts. Checks the line
 * shapes Jortt requires on the way. Returns the total in 1/10000. */
static long long jortt_total(json_object *inv, json_object *vat_out)
{
    json_object *na = NULL, *lines = NULL;
    ck_assert(json_object_object_get_ex(inv, "net_amounts", &na) && json_object_get_boolean(na));
    ck_assert(!json_object_object_get_ex(inv, "customer_id", NULL));
    ck_assert(json_object_object_get_ex(inv, "line_items", &lines));
    long long total = 0;
    json_object *per = json_object_new_object();
    for (size_t i = 0; i < json_object_array_length(lines); i++) {
        json_object *l = json_object_array_get_idx(lines, i);
        const char *q = m2j_json_str(l, "quantity");
        const char *a = m2j_json_str(l, "amount.amount");
        const char *v = m2j_json_str(l, "vat.value");
        ck_assert_ptr_nonnull(q);
        ck_assert_ptr_nonnull(a);
        ck_assert_ptr_nonnull(v);
        ck_assert(json_object_is_type(json_object_object_get(l, "quantity"), json_type_string));
        ck_assert_str_eq(m2j_json_str(l, "amount.currency"), "EUR");
        ck_assert(*m2j_json_str0(l, "description"));
        long long qty = dec4(q), amt = dec4(a);
        ck_assert_msg(qty % 10000 == 0 && qty > 0, "whole positive quantities only: %s", q);
        ck_assert_msg(amt % 100 == 0, "amounts in whole cents: %s", a);
        long long line = qty / 10000 * amt;
        total += line;
        json_object *cur = json_object_object_get(per, v);
        json_object_object_add(per, v, json_object_new_int64((cur ? json_object_get_int64(cur) : 0) + line));
    }
    json_object_object_foreach(per, rate, incl) {
        long long r = dec4(rate); /* 0.21 -> 2100 */
        long long in = json_object_get_int64(incl);
        /* VAT = incl x r / (1 + r), rounded half away from zero to cents */
        __int128 num = (__int128)in * r;
        long long den = 10000 + r;
        long long q = (long long)(num / den), rem = (long long)(num % den);
        if (2 * (rem < 0 ? -rem : rem) >= den)
            q += num < 0 ? -1 : 1;
        char buf[40];
        long long vat = round_cents4(q);
        snprintf(buf, sizeof buf, "%s%lld.%02lld", vat < 0 ? "-" : "", llabs(vat) / 10000, llabs(vat) % 10000 / 100);
        if (vat_out)
            json_object_object_add(vat_out, rate, json_object_new_string(buf));
    }
    json_object_put(per);
    return total;
}

#endif
