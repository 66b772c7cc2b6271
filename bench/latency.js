'use strict';
// latency.js: order -> invoice latency of one paced batch (bench/run.sh).
// Joins post_paced.js's record of each order (when it was sent, when the
// receiver answered) with the workers' "job" log lines (logfmt; ts is when
// the worker recorded the outcome, after Jortt created the invoice).
//
//   node bench/latency.js POSTED.jsonl WORKER.log...
//
// Prints one JSON object: counts, and p50/p90/p99/max in ms of
// order -> invoice (sent -> job logged) and of order -> 202.

const fs = require('fs');
const [postedPath, ...logs] = process.argv.slice(2);
const posted = fs.readFileSync(postedPath, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
const done = new Map();
for (const f of logs) {
  for (const line of fs.readFileSync(f, 'utf8').split('\n')) {
    if (!/ msg=job /.test(line)) continue;
    const id = (line.match(/ event_id=([^ ]+)/) || [])[1];
    const ts = (line.match(/^ts=([^ ]+)/) || [])[1];
    const outcome = (line.match(/ outcome=([^ ]+)/) || [])[1];
    // final outcomes only: "retry", "locked" and "deferred" come back later
    if (!id || !ts || !['done', 'skip', 'dead'].includes(outcome)) continue;
    const t = Date.parse(ts);
    if (!done.has(id) || done.get(id).t > t) done.set(id, { t, outcome });
  }
}
const pct = (a, p) => {
  if (!a.length) return null;
  const v = [...a].sort((x, y) => x - y);
  return v[Math.min(v.length - 1, Math.floor((v.length - 1) * p))];
};
const e2e = [], ack = [], outcomes = {};
let missing = 0;
for (const r of posted) {
  ack.push(r.answered_ms - r.sent_ms);
  const d = done.get(r.id);
  if (!d) { missing++; continue; }
  outcomes[d.outcome] = (outcomes[d.outcome] || 0) + 1;
  e2e.push(d.t - r.sent_ms);
}
console.log(JSON.stringify({
  orders: posted.length, finished: e2e.length, missing, outcomes,
  invoice_ms: { p50: pct(e2e, 0.5), p90: pct(e2e, 0.9), p99: pct(e2e, 0.99), max: pct(e2e, 1) },
  accepted_ms: { p50: pct(ack, 0.5), p99: pct(ack, 0.99), max: pct(ack, 1) },
}));
