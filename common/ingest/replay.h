/* replay.h: what an authenticated webhook is deduplicated on, and how old a
 * body-only-signed event may be (issue 10, item 4). Pure.
 *
 * Standard Webhooks signs webhook-id and webhook-timestamp with the body,
 * and signature.c refuses a timestamp outside
 * receiver.timestamp_tolerance_seconds: its webhook-id is the delivery id.
 *
 * The Adobe schemes sign the body only. No header beside them
 * (x-adobe-commerce-request-id, or a webhook-id with a failing HMAC) is
 * covered, so deduplicating on one let a captured body, sent again under a
 * fresh header, be queued again. For them there is no delivery id: the
 * envelope takes each event's id from the signed body (a CloudEvent's id),
 * else the hash of the signed element. A replay within
 * receiver.dedup_ttl_seconds is therefore a duplicate; an older one is
 * refused by age where the body says when it happened (a CloudEvent's
 * "time"). A Commerce webhook body carries no time: a replay of it after the
 * dedup record expired cannot be told from a new delivery.
 *
 * Why not the Standard Webhooks tolerance (minutes) as the window: I/O
 * Events retries a delivery for up to a day with the event's original time,
 * and a refused (4xx) event is never sent again. The window is the one the
 * dedup record covers: a replay inside it is caught as a duplicate, so a
 * longer window would let one through, and a shorter one would refuse
 * Adobe's own retries.
 *
 * HTTP Basic (receiver.basic_auth) covers nothing of the request, so it is
 * treated like the Adobe schemes: no delivery id, ids from the body. */
#ifndef M2J_REPLAY_H
#define M2J_REPLAY_H

#include "ingest/envelope.h"
#include "ingest/signature.h"

/* The transport id to pass to m2j_envelope_parse as delivery_id: the
 * webhook-id header when Standard Webhooks verified, else NULL. Borrowed
 * from the headers. */
const char *m2j_replay_delivery_id(m2j_sig_scheme scheme, m2j_header_fn hdr, void *hdr_ctx);

/* Seconds a body-only-signed event may be old: dedup_ttl less tolerance
 * (the first delivery may have been seen up to tolerance before its time on
 * our clock), at least tolerance. */
long long m2j_replay_window(long dedup_ttl, long tolerance);

/* For the Adobe schemes: M2J_ERR_AUTH when a CloudEvent of env is older
 * than m2j_replay_window, more than tolerance ahead of now, or has a "time"
 * that is not RFC 3339 (its age cannot be known). M2J_OK for Standard
 * Webhooks (its own timestamp was checked) and for bodies without a time.
 * now in seconds since the epoch. */
m2j_rc m2j_replay_check(const m2j_envelope *env, m2j_sig_scheme scheme, long long now, long dedup_ttl,
                        long tolerance, m2j_err *err);

#endif
