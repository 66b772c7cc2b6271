/* config.h: the one JSON configuration file shared by all three binaries.
 *
 * common/config/ holds reading that file and nothing else, one job a file:
 * ${...} expansion, the typed readers and value checks, the map walker, the
 * Redis URL and host:port parsers, the defaults, one section_<name>.c per
 * top-level section (listed in config_load.c's table), freeing, lookups. It
 * validates values (types, ranges, UUIDs, templates) but holds no business
 * logic, and does no I/O beyond reading the file and the environment: no
 * Redis, no network, no logging. Everything other rooms may use is declared
 * here; config_read.h and config_section.h are internal to common/config/.
 *
 * Loading: comments allowed; a string value "${NAME}" (the whole string, or
 * any part of it) is replaced by environment variable NAME, and an unset
 * variable is an error naming it; "${file:/run/secrets/x}" by the contents
 * of that file less its trailing newline (container secrets, systemd
 * credentials: "${file:${CREDENTIALS_DIRECTORY}/x}"), and a missing,
 * unreadable or empty file is an error naming it. Unknown keys and wrong types are errors
 * naming the key's path ("orders.payment_methods.checkmo.payment_term").
 * Every key has a default except where marked REQUIRED; deploy/
 * config.example.json documents each one.
 *
 * Ownership: m2j_config_load allocates one m2j_config; every pointer inside is
 * owned by it and freed by m2j_config_free. Callers treat it as read-only. */
#ifndef M2J_CONFIG_H
#define M2J_CONFIG_H

#include "base/m2j.h"
#include "base/money.h"
#include <json-c/json.h>
#include <stdbool.h>

#define M2J_CONFIG_DEFAULT_PATH "m2jortt.json"

typedef struct {
    char *url;        /* "redis://[user:password@]host:port/db" | "unix:///path.sock"; default redis://127.0.0.1:6379/0 */
    char *key_prefix; /* default "m2jortt"; every key is "<prefix>:..." */
    bool  allow_volatile; /* default false: refuse a Redis without appendonly/noeviction (tests, demos only) */
    /* parsed from url: */
    char *host;       /* NULL for unix */
    int   port;
    char *unix_path;  /* NULL for tcp */
    char *username;   /* NULL if none */
    char *password;   /* NULL if none */
    int   db;
} m2j_redis_config;

typedef struct {
    char  *listen;            /* "127.0.0.1:8080" */
    char  *listen_host;       /* parsed */
    int    listen_port;       /* parsed */
    size_t max_body_bytes;    /* default 4 MiB; 1 KiB .. 16 MiB (parsed and checked on the event loop) */
    char  *webhook_secret;    /* Standard Webhooks secret "whsec_<base64>" (or raw); "" = scheme off.
                                 At least one scheme (this, basic_auth, an Adobe key) is REQUIRED */
    long   dedup_ttl_seconds; /* default 604800 (7 days); at least 86400 */
    size_t max_batch_events;  /* default 100 */
    long   timestamp_tolerance_seconds; /* default 300 */
    /* Adobe schemes (optional; empty disables). */
    char  *commerce_public_key_file;  /* PEM, verifies x-adobe-commerce-webhook-signature */
    char **io_events_public_key_files;/* PEM files, verify x-adobe-digital-signature-1/2 */
    size_t n_io_events_public_key_files;
    char  *io_events_client_id;       /* expected recipient_client_id, "" = not checked */
    /* HTTP Basic, for senders that cannot sign (Mageplaza-style webhook
     * modules); both "" = off, both non-empty when on. */
    char  *basic_auth_username;
    char  *basic_auth_password;
    long   threads;           /* receiver event loops (threads), 0 .. 64; default 1; 0 = one per CPU */
    long   redis_connections; /* Redis connections per event loop, 1 .. 64; default 8 (receiver/redis_pool.h) */
    /* Against clients holding the receiver (receiver/conn_guard.h). */
    size_t max_connections;          /* default 1024; 1 .. 1000000 (kept under RLIMIT_NOFILE) */
    long   header_timeout_seconds;   /* request head complete within; default 10; 1 .. 300 */
    long   body_timeout_seconds;     /* body complete within, after the head; default 30; 1 .. 3600 */
    size_t max_inflight_body_bytes;  /* requests received, not yet answered; default 64 MiB; >= max_body_bytes */
} m2j_receiver_config;

typedef struct {
    char  *api_url;        /* default "https://api.jortt.nl" (no trailing slash kept) */
    char  *token_url;      /* default "https://app.jortt.nl/oauth-provider/oauth/token" */
    char  *client_id;      /* "" means: not configured (make run then uses the test double) */
    char  *client_secret;
    char  *scope;          /* default "customers:read customers:write invoices:read invoices:write" */
    int    requests_per_second; /* default 10; fleet-wide */
    long   timeout_seconds;     /* per HTTP request, default 30 */
    char  *api_version;    /* "v3" (default) | "v1": where customers, invoice list/get/credit,
                            * tradenames and organizations/me are asked (jortt/jortt_api.h) */
} m2j_jortt_config;

/* "magento": the shop's REST API, for polling, backfill, reconcile, trigger
 * events and write-back. rest_url "" (the default) means push only. */
typedef struct {
    char *rest_url;             /* "https://shop.example.nl/rest/all" (trailing '/' dropped), "" = none */
    char *consumer_key;         /* the integration's four credentials; access_token alone = Bearer */
    char *consumer_secret;
    char *access_token;
    char *access_token_secret;
    long  poll_interval_seconds; /* 0 = no polling; default 60 when rest_url is set */
    int   requests_per_second;   /* default 4; fleet-wide */
    long  timeout_seconds;       /* per HTTP request, default 30 */
    bool  write_back;            /* order comment once the invoice exists; default true */
} m2j_magento_config;

typedef struct {
    long base_seconds;   /* default 60 */
    long max_seconds;    /* default 14400 (4 h) */
    int  max_attempts;   /* default 12: 1+2+4+...+ capped, about 24 h in all */
} m2j_retry_config;

typedef struct {
    long visibility_timeout_seconds; /* default 30: a pending event idle this long is taken over */
    int  max_deliveries;             /* default 5: deliveries of one stream entry before it is poison */
    long block_ms;                   /* default 2000: XREADGROUP block */
    long lock_ttl_seconds;           /* default 30: per-order / per-customer lock expiry (renewed by the heartbeat) */
    long shutdown_grace_seconds;     /* default 30 */
    long max_defer_hours;            /* default 72: waiting (LOCKED/DEFER) longer is a dead letter */
    char *metrics_listen;            /* "host:port" of this worker's /metrics; "" (default) = off */
    char *metrics_host;              /* parsed; NULL when off */
    int   metrics_port;              /* parsed */
    m2j_retry_config retry;
} m2j_worker_config;

/* A string-keyed map entry; the value's type depends on the map. */
typedef struct {
    char *payment_method;   /* "pay_later" | "already_paid" | "direct_debit"; NULL = not set */
    int   payment_term;     /* days; -1 = not set */
    char *label;            /* text on the invoice; NULL = not set */
} m2j_payment_mapping;

typedef struct {
    char *description;       /* NULL = Magento's shipping_description */
    char *ledger_account_id; /* NULL = not set */
} m2j_shipping_mapping;

typedef struct {
    int   payment_term;       /* -1 = not set */
    char *ledger_account_id;  /* NULL = not set */
    char *invoice_language;   /* NULL = not set */
} m2j_group_mapping;

typedef struct { char *key; m2j_payment_mapping v; } m2j_payment_entry;
typedef struct { char *key; m2j_shipping_mapping v; } m2j_shipping_entry;
typedef struct { char *key; m2j_rate v; } m2j_rate_entry;       /* vat_by_country: "NL" -> 210000 (config value is a fraction "0.21" or number 0.21) */
typedef struct { char *key; char *v; } m2j_string_entry;        /* revenue accounts, languages, field maps */
typedef struct { char *key; m2j_group_mapping v; } m2j_group_entry;

typedef struct {
    char  **statuses; size_t n_statuses;     /* default ["processing","complete"] */
    char   *invoice_status;                  /* "draft" (default) | "sent" */
    char   *send_method;                     /* "self" (default) | "email"; used when invoice_status is "sent" */
    char   *default_customer_id;             /* "" = per-buyer customers */
    bool    default_customer_for_guests;     /* default false */
    m2j_payment_entry  *payment_methods;  size_t n_payment_methods;  /* "*" = fallback */
    m2j_shipping_entry *shipping_methods; size_t n_shipping_methods; /* "*" = fallback */
    m2j_rate_entry     *vat_by_country;   size_t n_vat_by_country;   /* default NL 21 % */
    m2j_string_entry   *revenue_account_by_country; size_t n_revenue_account_by_country; /* ISO, "EU", "*" */
    char   *country_from;                    /* "billing" (default) | "shipping" */
    m2j_string_entry   *field_map;        size_t n_field_map;        /* Jortt invoice field -> template */
    bool    credit_on_cancel;                /* default true: a cancelled invoiced order's draft is deleted, a sent one credited */
    char   *invoice_date;                    /* "order" (default: the order's created_at date) | "today" */
    char   *discount_label;                  /* default "Korting"; text before the discount description */
    char   *shipping_label;                  /* default "Verzendkosten" when no mapping description and none in the order */
} m2j_orders_config;

typedef struct {
    bool    sync;                 /* default true: customer events create/update Jortt customers */
    bool    update_existing;      /* default true */
    m2j_group_entry  *groups;     size_t n_groups;    /* customer_group_id (as text) -> overrides */
    m2j_string_entry *language_by_country; size_t n_language_by_country; /* ISO or "*" -> nl|de|en|fr|es */
    m2j_string_entry *field_map;  size_t n_field_map; /* Jortt customer field -> template */
} m2j_customers_config;

typedef struct {
    char *level;  /* "debug" | "info" (default) | "warn" | "error" */
    char *format; /* "logfmt" (default) | "json" (one object a line) */
} m2j_log_config;

/* "admin": the secret that guards /metrics and the dashboard (/admin). */
typedef struct {
    char *token;          /* "" (default) = /metrics open and no dashboard; else at least 32
                             characters, sent as Bearer or typed at the dashboard's sign-in */
    long  activity_keep;  /* outcomes kept in the activity log (P:activity); default 10000, 100 .. 100000 */
    bool  cookie_secure;  /* default false: the session cookie gets Secure only behind a proxy that
                             says X-Forwarded-Proto: https; true: always */
} m2j_admin_config;

/* "alerts": who is told when invoices stop flowing. Empty channels = none. */
typedef struct {
    char  *webhook_url;          /* POST {"text": "..."}; "" = none */
    char  *smtp_url;             /* email.smtp_url: smtps://host:465 or smtp://host:587 (STARTTLS); "" = none */
    char  *smtp_from;            /* email.from */
    char **smtp_to; size_t n_smtp_to; /* email.to */
    long   max_age_seconds;      /* oldest waiting event older than this is an incident; default 900 */
    long   repeat_seconds;       /* reminder while an incident lasts; default 3600 */
} m2j_alerts_config;

/* "retention": how long settled records are kept (section_retention.c says
 * why the bounds are what they are). */
typedef struct {
    long failed_days;    /* dead letters, whole payload; default 30; 1 .. 3650 */
    long processed_days; /* records after success (ids, outcome); default 400;
                            90 .. 3650 and >= failed_days + 7 */
} m2j_retention_config;

typedef struct {
    char *path;   /* the file it was loaded from (or "<memory>") */
    m2j_redis_config     redis;
    m2j_receiver_config  receiver;
    m2j_jortt_config     jortt;
    m2j_magento_config   magento;
    m2j_worker_config    worker;
    m2j_orders_config    orders;
    m2j_customers_config customers;
    m2j_log_config       log;
    m2j_admin_config     admin;
    m2j_alerts_config    alerts;
    m2j_retention_config retention;
} m2j_config;

/* Loads and validates a file. On error *out is NULL and err names the problem
 * (with the key path where there is one). */
m2j_rc m2j_config_load(const char *path, m2j_config **out, m2j_err *err);
/* Same from a JSON text already in memory (tests). */
m2j_rc m2j_config_load_string(const char *text, m2j_config **out, m2j_err *err);
void   m2j_config_free(m2j_config *cfg);

/* Parses a redis URL into the parsed fields of rc (url itself untouched). */
m2j_rc m2j_config_parse_redis_url(const char *url, m2j_redis_config *rc, m2j_err *err);

/* Map lookups. Return the entry for key, else the "*" entry, else NULL. */
const m2j_payment_mapping  *m2j_config_payment(const m2j_config *c, const char *code);
const m2j_shipping_mapping *m2j_config_shipping(const m2j_config *c, const char *code);
const m2j_group_mapping    *m2j_config_group(const m2j_config *c, const char *group_id);
/* vat_by_country: exact country only (no fallback). Returns false if absent. */
bool m2j_config_vat(const m2j_config *c, const char *country, m2j_rate *out);
/* revenue_account_by_country: country, then "EU" if country is an EU member, then "*". */
const char *m2j_config_revenue_account(const m2j_config *c, const char *country);
/* language_by_country: country, then "*". */
const char *m2j_config_language(const m2j_config *c, const char *country);
/* True for the 27 EU member states (ISO alpha-2, upper case). */
bool m2j_is_eu_country(const char *iso2);

#endif
