/* Unit tests for base/pseudonym.c (what is derived from an e-mail address
 * under the installation key) and queue/install_key.c (that key in Redis,
 * against a private redis-server). */
#include "base/crypto_util.h"
#include "base/pseudonym.h"
#include "queue/queue.h"
#include "redis_helper.h"

#include <check.h>
#include <stdarg.h>

static const unsigned char KEY_A[M2J_INSTALL_KEY_LEN] = { 0xa1, 0x02, 0x03 };
static const unsigned char KEY_B[M2J_INSTALL_KEY_LEN] = { 0xb1, 0x02, 0x03 };

START_TEST(normalise)
{
    m2j_buf b = {0};
    ck_assert_int_eq(m2j_email_normalise("  Jan.Jansen@Example.NL\t\n", &b), M2J_OK);
    ck_assert_str_eq(b.data, "jan.jansen@example.nl");
    ck_assert_int_eq(m2j_email_normalise(" \t ", &b), M2J_OK);
    ck_assert_str_eq(m2j_buf_str(&b), "");
    ck_assert_int_eq(m2j_email_normalise(NULL, &b), M2J_OK);
    ck_assert_uint_eq(b.len, 0);
    m2j_buf_free(&b);
}
END_TEST

START_TEST(customer_keys)
{
    char a[65], a2[65], b[65], other[65], legacy[65], want[65];
    ck_assert_int_eq(m2j_customer_key_hex(KEY_A, "Jan@Example.COM", a), M2J_OK);
    ck_assert_int_eq(m2j_customer_key_hex(KEY_A, " jan@example.com\t", a2), M2J_OK);
    ck_assert_str_eq(a, a2);
    ck_assert_uint_eq(strlen(a), 64);
    ck_assert_uint_eq(strspn(a, "0123456789abcdef"), 64);
    ck_assert_int_eq(m2j_customer_key_hex(KEY_B, "jan@example.com", b), M2J_OK);
    ck_assert_str_ne(a, b); /* keyed: another installation, another key */
    ck_assert_int_eq(m2j_customer_key_hex(KEY_A, "jan@example.org", other), M2J_OK);
    ck_assert_str_ne(a, other);

    /* HMAC-SHA256(key, label NUL address), all 256 bits */
    static const char msg[] = "m2jortt customer cache v2\0jan@example.com";
    unsigned char mac[32];
    ck_assert_int_eq(m2j_hmac_sha256(KEY_A, sizeof KEY_A, msg, sizeof msg - 1, mac), M2J_OK);
    for (int i = 0; i < 32; i++)
        snprintf(want + 2 * i, 3, "%02x", mac[i]);
    ck_assert_str_eq(a, want);

    /* the unkeyed key of older versions is what anyone can compute */
    m2j_customer_key_legacy_hex(" JAN@example.com ", legacy);
    m2j_sha256_hex("jan@example.com", 15, want);
    ck_assert_str_eq(legacy, want);
    ck_assert_str_ne(a, legacy);

    ck_assert_int_eq(m2j_customer_key_hex(KEY_A, "  ", a), M2J_ERR_INVALID);
    ck_assert_int_eq(m2j_customer_key_hex(NULL, "jan@example.com", a), M2J_ERR_INVALID);
}
END_TEST

/* A log tag and a cache key of the same address share nothing. */
START_TEST(pseudonym_differs_from_cache_key)
{
    char tag[M2J_PSEUDONYM_LEN], key[65];
    m2j_pseudonym(KEY_A, "jan@example.com", tag);
    ck_assert_int_eq(m2j_customer_key_hex(KEY_A, "jan@example.com", key), M2J_OK);
    ck_assert_uint_eq(strlen(tag), 2 + M2J_PSEUDONYM_HEX);
    ck_assert(strncmp(tag + 2, key, M2J_PSEUDONYM_HEX) != 0);
    ck_assert_str_eq(m2j_pseudonym(NULL, "jan@example.com", tag), "h:?");
    ck_assert_str_eq(m2j_pseudonym(KEY_A, "  ", tag), "-");
}
END_TEST

/* ---- the key in Redis ---- */

static m2j_test_redis srv;
static redisContext *raw;

static void suite_setup(void)
{
    ck_assert_int_eq(m2j_test_redis_start(&srv, NULL), 0);
}

static void suite_teardown(void)
{
    m2j_test_redis_stop(&srv);
}

static m2j_queue *open_queue(m2j_config **cfg)
{
    char json[256];
    snprintf(json, sizeof json,
             "{\"redis\":{\"url\":\"redis://127.0.0.1:%d/0\",\"key_prefix\":\"ik\"},"
             "\"receiver\":{\"webhook_secret\":\"s\"}}", srv.port);
    m2j_err e;
    ck_assert_int_eq(m2j_config_load_string(json, cfg, &e), M2J_OK);
    m2j_queue *q = NULL;
    ck_assert_int_eq(m2j_queue_open(*cfg, &q, &e), M2J_OK);
    return q;
}


START_TEST(install_key_created_once)
{
    struct timeval tv = { .tv_sec = 2 };
    raw = redisConnectWithTimeout("127.0.0.1", srv.port, tv);
    ck_assert(raw && !raw->err);
    freeReplyObject(m2j_test_cmd(raw, "FLUSHALL"));
    freeReplyObject(m2j_test_cmd(raw, "SET ik:cust:index-warm 123"));

    m2j_config *c1, *c2;
    m2j_queue *q1 = open_queue(&c1), *q2 = open_queue(&c2);
    unsigned char k1[M2J_INSTALL_KEY_LEN], k2[M2J_INSTALL_KEY_LEN];
    bool created = false;
    m2j_err e;
    ck_assert_int_eq(m2j_queue_install_key(q1, k1, &created, &e), M2J_OK);
    ck_assert(created);
    /* creating it clears the warm flag: the index is read again under it */
    redisReply *r = m2j_test_cmd(raw, "EXISTS ik:cust:index-warm");
    ck_assert_int_eq(r->integer, 0);
    freeReplyObject(r);
    /* a second process reads the same key and creates nothing */
    freeReplyObject(m2j_test_cmd(raw, "SET ik:cust:index-warm 456"));
    ck_assert_int_eq(m2j_queue_install_key(q2, k2, &created, &e), M2J_OK);
    ck_assert(!created);
    ck_assert_mem_eq(k1, k2, sizeof k1);
    r = m2j_test_cmd(raw, "EXISTS ik:cust:index-warm");
    ck_assert_int_eq(r->integer, 1);
    freeReplyObject(r);
    /* stored as 64 hex digits, and random (not all zero) */
    r = m2j_test_cmd(raw, "GET ik:install:key");
    ck_assert_int_eq(r->type, REDIS_REPLY_STRING);
    ck_assert_uint_eq(r->len, 64);
    char hex[65];
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", k1[i]);
    ck_assert_str_eq(r->str, hex);
    freeReplyObject(r);
    static const unsigned char zero[M2J_INSTALL_KEY_LEN];
    ck_assert(memcmp(k1, zero, sizeof zero) != 0);

    /* kept in the handle: a later change in Redis does not re-key a running process */
    freeReplyObject(m2j_test_cmd(raw, "SET ik:install:key %s", "0000000000000000000000000000000000000000000000000000000000000000"));
    ck_assert_int_eq(m2j_queue_install_key(q1, k2, NULL, &e), M2J_OK);
    ck_assert_mem_eq(k1, k2, sizeof k1);
    m2j_queue_close(q1);
    m2j_queue_close(q2);

    /* a value of another shape is refused, not replaced */
    freeReplyObject(m2j_test_cmd(raw, "SET ik:install:key not-a-key"));
    m2j_config_free(c1);
    q1 = open_queue(&c1);
    ck_assert_int_eq(m2j_queue_install_key(q1, k1, NULL, &e), M2J_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(e.msg, "ik:install:key is not 64 hex digits"));
    ck_assert_ptr_null(strstr(e.msg, "not-a-key"));
    r = m2j_test_cmd(raw, "GET ik:install:key");
    ck_assert_str_eq(r->str, "not-a-key");
    freeReplyObject(r);
    m2j_queue_close(q1);
    m2j_config_free(c1);
    m2j_config_free(c2);
    redisFree(raw);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("pseudonym");
    TCase *pure = tcase_create("pure");
    tcase_add_test(pure, normalise);
    tcase_add_test(pure, customer_keys);
    tcase_add_test(pure, pseudonym_differs_from_cache_key);
    suite_add_tcase(s, pure);
    TCase *tc = tcase_create("redis");
    tcase_add_unchecked_fixture(tc, suite_setup, suite_teardown);
    tcase_add_test(tc, install_key_created_once);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
