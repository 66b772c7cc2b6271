/* test_redis_durability.c: the receiver and the worker refuse a Redis that
 * would lose acknowledged events (appendonly no, an eviction policy), as
 * Debian's packaged redis-server on 6379 is configured, and say why; with
 * redis.allow_volatile they start and warn. */
#include "harness.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

static h_env *E;

static void setup(void) { E = NULL; }
static void teardown(void) { h_env_free(E); E = NULL; }

static void redis_set(const char *name, const char *value)
{
    redisReply *r = h_redis_cmd(E, "CONFIG SET %s %s", name, value);
    H_ASSERT(E, r && r->type == REDIS_REPLY_STATUS, "CONFIG SET %s %s failed", name, value);
    freeReplyObject(r);
}

typedef struct { pid_t pid; } exit_arg;
static bool exited(h_env *e, void *arg) { return !h_alive(e, ((exit_arg *)arg)->pid); }

static char *log_of(const char *name)
{
    char p[600];
    snprintf(p, sizeof p, "%s/%s.log", E->dir, name);
    size_t n = 0;
    return h_read_file(p, &n);
}

/* Starts exe with the test config and waits for it to exit on its own. */
static char *refused(const char *exe, const char *name)
{
    const char *args[] = { "--config", E->config_path, NULL };
    exit_arg a = { h_spawn(E, H_ROLE_OTHER, name, exe, args) };
    H_WAIT(E, 10000, exited, &a, "%s did not refuse the volatile Redis (still running)", exe);
    return log_of(name);
}

START_TEST(volatile_redis_refused)
{
    E = h_env_new("durability");
    h_redis_start(E);
    h_double_start(E);
    h_config_write(E, NULL);
    redis_set("appendonly", "no");
    char *t = refused("m2jortt-receiver", "receiver-volatile");
    H_ASSERT(E, strstr(t, "refusing a volatile redis") && strstr(t, "appendonly is no"), "receiver log: %s", t);
    free(t);
    t = refused("m2jortt-worker", "worker-volatile");
    H_ASSERT(E, strstr(t, "refusing a volatile redis") && strstr(t, "appendonly is no"), "worker log: %s", t);
    free(t);

    redis_set("appendonly", "yes");
    redis_set("maxmemory-policy", "allkeys-lru");
    t = refused("m2jortt-worker", "worker-evicting");
    H_ASSERT(E, strstr(t, "maxmemory-policy is allkeys-lru"), "worker log: %s", t);
    free(t);
}
END_TEST

START_TEST(allow_volatile_starts_and_warns)
{
    E = h_env_new("durability_allowed");
    h_redis_start(E);
    h_double_start(E);
    h_config_write(E, "{\"redis\":{\"allow_volatile\":true}}");
    redis_set("appendonly", "no");
    h_receiver_start(E); /* aborts the test unless it becomes ready */
    h_worker_start(E);
    char *t = log_of("receiver");
    H_ASSERT(E, strstr(t, "redis is not durable"), "receiver log: %s", t);
    free(t);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("redis_durability");
    TCase *tc = h_tcase("redis_durability");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, volatile_redis_refused);
    tcase_add_test(tc, allow_volatile_starts_and_warns);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
