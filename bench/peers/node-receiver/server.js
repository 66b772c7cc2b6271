'use strict';
// Peer for the m2jortt ingest benchmark: what a typical Node.js webhook
// receiver does for the same job, so the C receiver's figures have something
// comparable beside them. Per request:
//   1. Standard Webhooks check: HMAC-SHA256(key, id + "." + timestamp + "." +
//      raw body), base64, constant-time compare against every "v1,<sig>" in
//      webhook-signature; timestamp within the tolerance.
//   2. JSON.parse the body, take the event id (event_id, id, else webhook-id).
//   3. One Lua script: dedup on <prefix>:seen:<id>, XADD the job JSON to
//      <prefix>:events, count it; the same keys and steps as m2jortt's
//      enqueue script.
//   4. 202 {"status":"queued"} only after Redis answered (with appendfsync
//      always that means the entry is on disk). Redis down -> 503.
// It does NOT normalise the order (addresses, items) as the C receiver does:
// that would only make the peer slower, so the comparison favours Node.
//
// Environment: PORT, REDIS_PORT, REDIS_HOST (127.0.0.1), SECRET
// ("whsec_<base64>" or raw), PREFIX (m2jortt), TOLERANCE (seconds, 300).
// Prints "listening 127.0.0.1:PORT" once ready.

const crypto = require('crypto');
const express = require('express');
const Redis = require('ioredis');

const port = Number(process.env.PORT || 0);
const prefix = process.env.PREFIX || 'm2jortt';
const tolerance = Number(process.env.TOLERANCE || 300);
const secret = process.env.SECRET || '';
if (!secret) {
  console.error('SECRET is required');
  process.exit(2);
}
const key = secret.startsWith('whsec_') ? Buffer.from(secret.slice(6), 'base64') : Buffer.from(secret);
const dedupTtl = 7 * 24 * 3600;

const redis = new Redis({
  host: process.env.REDIS_HOST || '127.0.0.1',
  port: Number(process.env.REDIS_PORT || 6379),
  enableOfflineQueue: false,
  maxRetriesPerRequest: 1,
});
redis.on('error', () => {}); // surfaced per request as 503

redis.defineCommand('enqueue', {
  numberOfKeys: 3,
  lua:
    "if redis.call('EXISTS', KEYS[3]) == 1 then\n" +
    "  redis.call('HINCRBY', KEYS[2], 'duplicates', 1)\n" +
    "  return false\n" +
    "end\n" +
    "local id = redis.call('XADD', KEYS[1], '*', 'job', ARGV[2])\n" +
    "redis.call('SET', KEYS[3], id, 'EX', ARGV[1])\n" +
    "redis.call('HINCRBY', KEYS[2], 'received', 1)\n" +
    'return id\n',
});

function verify(req, body) {
  const id = req.get('webhook-id');
  const ts = req.get('webhook-timestamp');
  const sigs = req.get('webhook-signature');
  if (!id || !ts || !sigs) return 'missing webhook headers';
  const t = Number(ts);
  if (!Number.isInteger(t) || Math.abs(Date.now() / 1000 - t) > tolerance) return 'timestamp outside tolerance';
  const mac = crypto.createHmac('sha256', key).update(`${id}.${ts}.`).update(body).digest();
  for (const s of sigs.split(' ')) {
    if (!s.startsWith('v1,')) continue;
    const given = Buffer.from(s.slice(3), 'base64');
    if (given.length === mac.length && crypto.timingSafeEqual(given, mac)) return null;
  }
  return 'no matching signature';
}

const app = express();
app.disable('x-powered-by');
app.disable('etag');
app.post('/webhooks/magento', express.raw({ type: () => true, limit: '1mb' }), async (req, res) => {
  const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
  const why = verify(req, body);
  if (why) return res.status(401).json({ error: why });
  let ev;
  try {
    ev = JSON.parse(body.toString('utf8'));
  } catch (e) {
    return res.status(400).json({ error: 'invalid JSON' });
  }
  if (!ev || typeof ev !== 'object' || !ev.data || typeof ev.data.value !== 'object') {
    return res.status(400).json({ error: 'not an I/O Events order' });
  }
  const eventId = String(ev.event_id || ev.id || req.get('webhook-id'));
  const job = JSON.stringify({
    event: {
      event_id: eventId,
      kind: 'order',
      source: 'io_events',
      event_type: String(ev.type || ''),
      received_at: Date.now(),
      entity: ev.data.value,
    },
    attempts: 0, first_try: 0, last_try: 0, replays: 0, history: [],
  });
  try {
    const id = await redis.enqueue(`${prefix}:events`, `${prefix}:stats`, `${prefix}:seen:${eventId}`, dedupTtl, job);
    return res.status(id ? 202 : 200).json({ status: id ? 'queued' : 'duplicate' });
  } catch (e) {
    return res.status(503).json({ error: 'queue unavailable' });
  }
});

const server = app.listen(port, '127.0.0.1', () => {
  console.log(`listening 127.0.0.1:${server.address().port}`);
});
server.keepAliveTimeout = 75000;
process.on('SIGTERM', () => {
  server.close();
  redis.quit().finally(() => process.exit(0));
});
