/* config_free.c: m2j_config_free. Every pointer in a m2j_config is owned by
 * it (config.h), and a half-loaded one is freed here too, so each free below
 * must accept NULL and a count of entries read so far. */
#include "config/config_read.h"

#include <stdlib.h>
#include <string.h>

void m2j_cfg_free_rate_entries(m2j_rate_entry *e, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(e[i].key);
    free(e);
}

static void free_string_entries(m2j_string_entry *e, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(e[i].key);
        free(e[i].v);
    }
    free(e);
}

void m2j_config_free(m2j_config *c)
{
    if (!c)
        return;
    free(c->path);
    free(c->redis.url);
    free(c->redis.key_prefix);
    free(c->redis.host);
    free(c->redis.unix_path);
    free(c->redis.username);
    free(c->redis.password);

    m2j_receiver_config *r = &c->receiver;
    free(r->listen);
    free(r->listen_host);
    free(r->webhook_secret);
    free(r->commerce_public_key_file);
    m2j_cfg_free_strv(r->io_events_public_key_files, r->n_io_events_public_key_files);
    free(r->io_events_client_id);
    free(r->basic_auth_username);
    if (r->basic_auth_password)
        memset(r->basic_auth_password, 0, strlen(r->basic_auth_password));
    free(r->basic_auth_password);

    free(c->jortt.api_url);
    free(c->jortt.token_url);
    free(c->jortt.client_id);
    free(c->jortt.client_secret);
    free(c->jortt.scope);
    free(c->jortt.api_version);
    free(c->magento.rest_url);
    free(c->magento.consumer_key);
    free(c->magento.consumer_secret);
    free(c->magento.access_token);
    free(c->magento.access_token_secret);

    m2j_orders_config *o = &c->orders;
    m2j_cfg_free_strv(o->statuses, o->n_statuses);
    free(o->invoice_status);
    free(o->send_method);
    free(o->default_customer_id);
    for (size_t i = 0; i < o->n_payment_methods; i++) {
        free(o->payment_methods[i].key);
        free(o->payment_methods[i].v.payment_method);
        free(o->payment_methods[i].v.label);
    }
    free(o->payment_methods);
    for (size_t i = 0; i < o->n_shipping_methods; i++) {
        free(o->shipping_methods[i].key);
        free(o->shipping_methods[i].v.description);
        free(o->shipping_methods[i].v.ledger_account_id);
    }
    free(o->shipping_methods);
    m2j_cfg_free_rate_entries(o->vat_by_country, o->n_vat_by_country);
    free_string_entries(o->revenue_account_by_country, o->n_revenue_account_by_country);
    free(o->country_from);
    free_string_entries(o->field_map, o->n_field_map);
    free(o->invoice_date);
    free(o->discount_label);
    free(o->shipping_label);

    m2j_customers_config *cc = &c->customers;
    for (size_t i = 0; i < cc->n_groups; i++) {
        free(cc->groups[i].key);
        free(cc->groups[i].v.ledger_account_id);
        free(cc->groups[i].v.invoice_language);
    }
    free(cc->groups);
    free_string_entries(cc->language_by_country, cc->n_language_by_country);
    free_string_entries(cc->field_map, cc->n_field_map);

    free(c->log.level);
    free(c->log.format);
    free(c->admin.token);
    free(c->alerts.webhook_url);
    free(c->alerts.smtp_url);
    free(c->alerts.smtp_from);
    m2j_cfg_free_strv(c->alerts.smtp_to, c->alerts.n_smtp_to);
    free(c->worker.metrics_listen);
    free(c->worker.metrics_host);
    free(c);
}
