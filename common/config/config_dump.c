/* config_dump.c: see config_dump.h. */
#include "config/config_dump.h"
#include "base/buf.h"

#include <string.h>

typedef struct {
    bool oom;
} dump;

static void add(dump *d, json_object *o, const char *key, json_object *v)
{
    if (!v || json_object_object_add(o, key, v) != 0) {
        json_object_put(v);
        d->oom = true;
    }
}

static json_object *obj(dump *d, json_object *parent, const char *key)
{
    if (!parent)
        return NULL;
    json_object *o = json_object_new_object();
    add(d, parent, key, o);
    return d->oom ? NULL : o;
}

static void str(dump *d, json_object *o, const char *key, const char *v)
{
    if (o)
        add(d, o, key, json_object_new_string(v ? v : ""));
}

static void num(dump *d, json_object *o, const char *key, long long v)
{
    if (o)
        add(d, o, key, json_object_new_int64(v));
}

static void flag(dump *d, json_object *o, const char *key, bool v)
{
    if (o)
        add(d, o, key, json_object_new_boolean(v));
}

static void secret(dump *d, json_object *o, const char *key, const char *v)
{
    str(d, o, key, v && *v ? M2J_CONFIG_HIDDEN : "");
}

static void strv(dump *d, json_object *o, const char *key, char *const *v, size_t n)
{
    if (!o)
        return;
    json_object *a = json_object_new_array();
    for (size_t i = 0; a && i < n; i++)
        if (json_object_array_add(a, json_object_new_string(v[i])) != 0)
            d->oom = true;
    add(d, o, key, a);
}

/* "scheme://user:password@host..." with the password (or a user given
 * alone, which some servers take as the password) hidden. */
static void url_userinfo_hidden(dump *d, json_object *o, const char *key, const char *url)
{
    const char *s = url ? strstr(url, "://") : NULL;
    if (!s) {
        str(d, o, key, url);
        return;
    }
    s += 3;
    size_t auth = strcspn(s, "/?#");
    const char *at = memrchr(s, '@', auth);
    if (!at) {
        str(d, o, key, url);
        return;
    }
    const char *colon = memchr(s, ':', (size_t)(at - s));
    m2j_buf b = {0};
    m2j_buf_append(&b, url, (size_t)((colon ? colon + 1 : s) - url));
    m2j_buf_puts(&b, "*****");
    m2j_buf_puts(&b, at);
    if (!b.data)
        d->oom = true;
    else
        str(d, o, key, b.data);
    m2j_buf_free(&b);
}

/* Only scheme and host of a URL whose path is its credential. */
static void url_path_hidden(dump *d, json_object *o, const char *key, const char *url)
{
    const char *s = url ? strstr(url, "://") : NULL;
    if (!s) {
        str(d, o, key, url && *url ? M2J_CONFIG_HIDDEN : "");
        return;
    }
    s += 3;
    size_t host = strcspn(s, "/?#");
    const char *at = memrchr(s, '@', host);
    m2j_buf b = {0};
    m2j_buf_append(&b, url, (size_t)(s - url));
    if (at)
        m2j_buf_puts(&b, "*****@");
    const char *h = at ? at + 1 : s;
    m2j_buf_append(&b, h, (size_t)(s + host - h));
    if (s[host])
        m2j_buf_puts(&b, "/... (path hidden)");
    if (!b.data)
        d->oom = true;
    else
        str(d, o, key, b.data);
    m2j_buf_free(&b);
}

static void string_map(dump *d, json_object *o, const char *key, const m2j_string_entry *e, size_t n)
{
    json_object *m = o ? obj(d, o, key) : NULL;
    for (size_t i = 0; m && i < n; i++)
        str(d, m, e[i].key, e[i].v);
}

static void orders(dump *d, json_object *root, const m2j_orders_config *c)
{
    json_object *o = obj(d, root, "orders");
    if (!o)
        return;
    strv(d, o, "statuses", c->statuses, c->n_statuses);
    str(d, o, "invoice_status", c->invoice_status);
    str(d, o, "send_method", c->send_method);
    str(d, o, "default_customer_id", c->default_customer_id);
    flag(d, o, "default_customer_for_guests", c->default_customer_for_guests);
    json_object *pm = obj(d, o, "payment_methods");
    for (size_t i = 0; pm && i < c->n_payment_methods; i++) {
        const m2j_payment_mapping *v = &c->payment_methods[i].v;
        json_object *e = obj(d, pm, c->payment_methods[i].key);
        if (v->payment_method)
            str(d, e, "payment_method", v->payment_method);
        if (v->payment_term >= 0)
            num(d, e, "payment_term", v->payment_term);
        if (v->label)
            str(d, e, "label", v->label);
    }
    json_object *sm = obj(d, o, "shipping_methods");
    for (size_t i = 0; sm && i < c->n_shipping_methods; i++) {
        const m2j_shipping_mapping *v = &c->shipping_methods[i].v;
        json_object *e = obj(d, sm, c->shipping_methods[i].key);
        if (v->description)
            str(d, e, "description", v->description);
        if (v->ledger_account_id)
            str(d, e, "ledger_account_id", v->ledger_account_id);
    }
    json_object *vat = obj(d, o, "vat_by_country");
    for (size_t i = 0; vat && i < c->n_vat_by_country; i++) {
        char r[M2J_RATE_STRLEN];
        str(d, vat, c->vat_by_country[i].key, m2j_rate_format_fraction(c->vat_by_country[i].v, r));
    }
    string_map(d, o, "revenue_account_by_country", c->revenue_account_by_country, c->n_revenue_account_by_country);
    str(d, o, "country_from", c->country_from);
    string_map(d, o, "field_map", c->field_map, c->n_field_map);
    flag(d, o, "credit_on_cancel", c->credit_on_cancel);
    str(d, o, "invoice_date", c->invoice_date);
    str(d, o, "discount_label", c->discount_label);
    str(d, o, "shipping_label", c->shipping_label);
}

static void customers(dump *d, json_object *root, const m2j_customers_config *c)
{
    json_object *o = obj(d, root, "customers");
    if (!o)
        return;
    flag(d, o, "sync", c->sync);
    flag(d, o, "update_existing", c->update_existing);
    json_object *g = obj(d, o, "groups");
    for (size_t i = 0; g && i < c->n_groups; i++) {
        const m2j_group_mapping *v = &c->groups[i].v;
        json_object *e = obj(d, g, c->groups[i].key);
        if (v->payment_term >= 0)
            num(d, e, "payment_term", v->payment_term);
        if (v->ledger_account_id)
            str(d, e, "ledger_account_id", v->ledger_account_id);
        if (v->invoice_language)
            str(d, e, "invoice_language", v->invoice_language);
    }
    string_map(d, o, "language_by_country", c->language_by_country, c->n_language_by_country);
    string_map(d, o, "field_map", c->field_map, c->n_field_map);
}

m2j_rc m2j_config_dump(const m2j_config *c, json_object **out, m2j_err *err)
{
    dump d = { false };
    json_object *root = json_object_new_object();
    if (!root)
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");

    json_object *o = obj(&d, root, "redis");
    url_userinfo_hidden(&d, o, "url", c->redis.url);
    str(&d, o, "key_prefix", c->redis.key_prefix);
    flag(&d, o, "allow_volatile", c->redis.allow_volatile);

    const m2j_receiver_config *r = &c->receiver;
    o = obj(&d, root, "receiver");
    str(&d, o, "listen", r->listen);
    num(&d, o, "threads", r->threads);
    num(&d, o, "max_body_bytes", (long long)r->max_body_bytes);
    secret(&d, o, "webhook_secret", r->webhook_secret);
    json_object *ba = o ? obj(&d, o, "basic_auth") : NULL;
    str(&d, ba, "username", r->basic_auth_username);
    secret(&d, ba, "password", r->basic_auth_password);
    num(&d, o, "dedup_ttl_seconds", r->dedup_ttl_seconds);
    num(&d, o, "max_batch_events", (long long)r->max_batch_events);
    num(&d, o, "timestamp_tolerance_seconds", r->timestamp_tolerance_seconds);
    str(&d, o, "commerce_public_key_file", r->commerce_public_key_file);
    strv(&d, o, "io_events_public_key_files", r->io_events_public_key_files, r->n_io_events_public_key_files);
    str(&d, o, "io_events_client_id", r->io_events_client_id);
    num(&d, o, "max_connections", (long long)r->max_connections);
    num(&d, o, "header_timeout_seconds", r->header_timeout_seconds);
    num(&d, o, "body_timeout_seconds", r->body_timeout_seconds);
    num(&d, o, "max_inflight_body_bytes", (long long)r->max_inflight_body_bytes);

    const m2j_jortt_config *j = &c->jortt;
    o = obj(&d, root, "jortt");
    str(&d, o, "api_url", j->api_url);
    str(&d, o, "token_url", j->token_url);
    str(&d, o, "client_id", j->client_id);
    secret(&d, o, "client_secret", j->client_secret);
    str(&d, o, "scope", j->scope);
    num(&d, o, "requests_per_second", j->requests_per_second);
    num(&d, o, "timeout_seconds", j->timeout_seconds);
    str(&d, o, "api_version", j->api_version);

    const m2j_magento_config *m = &c->magento;
    o = obj(&d, root, "magento");
    str(&d, o, "rest_url", m->rest_url);
    secret(&d, o, "consumer_key", m->consumer_key);
    secret(&d, o, "consumer_secret", m->consumer_secret);
    secret(&d, o, "access_token", m->access_token);
    secret(&d, o, "access_token_secret", m->access_token_secret);
    num(&d, o, "poll_interval_seconds", m->poll_interval_seconds);
    num(&d, o, "requests_per_second", m->requests_per_second);
    num(&d, o, "timeout_seconds", m->timeout_seconds);
    flag(&d, o, "write_back", m->write_back);

    const m2j_worker_config *w = &c->worker;
    o = obj(&d, root, "worker");
    num(&d, o, "visibility_timeout_seconds", w->visibility_timeout_seconds);
    num(&d, o, "max_deliveries", w->max_deliveries);
    num(&d, o, "block_ms", w->block_ms);
    num(&d, o, "lock_ttl_seconds", w->lock_ttl_seconds);
    num(&d, o, "shutdown_grace_seconds", w->shutdown_grace_seconds);
    num(&d, o, "max_defer_hours", w->max_defer_hours);
    str(&d, o, "metrics_listen", w->metrics_listen);
    json_object *rt = o ? obj(&d, o, "retry") : NULL;
    num(&d, rt, "base_seconds", w->retry.base_seconds);
    num(&d, rt, "max_seconds", w->retry.max_seconds);
    num(&d, rt, "max_attempts", w->retry.max_attempts);

    if (!d.oom)
        orders(&d, root, &c->orders);
    if (!d.oom)
        customers(&d, root, &c->customers);

    o = obj(&d, root, "log");
    str(&d, o, "level", c->log.level);
    str(&d, o, "format", c->log.format);

    o = obj(&d, root, "admin");
    secret(&d, o, "token", c->admin.token);
    num(&d, o, "activity_keep", c->admin.activity_keep);
    flag(&d, o, "cookie_secure", c->admin.cookie_secure);

    const m2j_alerts_config *a = &c->alerts;
    o = obj(&d, root, "alerts");
    url_path_hidden(&d, o, "webhook_url", a->webhook_url);
    json_object *em = o ? obj(&d, o, "email") : NULL;
    url_userinfo_hidden(&d, em, "smtp_url", a->smtp_url);
    str(&d, em, "from", a->smtp_from);
    strv(&d, em, "to", a->smtp_to, a->n_smtp_to);
    num(&d, o, "max_age_seconds", a->max_age_seconds);
    num(&d, o, "repeat_seconds", a->repeat_seconds);

    if (d.oom) {
        json_object_put(root);
        return m2j_fail(err, M2J_ERR_NOMEM, "out of memory");
    }
    *out = root;
    return M2J_OK;
}
