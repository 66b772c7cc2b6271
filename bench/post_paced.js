'use strict';
// post_paced.js: posts every request of a gen_signed file once, at a given
// mean rate with exponential gaps between them (Poisson arrivals: orders do
// not arrive on a metronome), each on its own keep-alive connection from a
// pool so a slow answer never delays the next arrival. For the order ->
// invoice latency of bench/run.sh.
//
//   node bench/post_paced.js URL TEMPLATE SIGS RATE OUT.jsonl
//
// OUT gets one JSON line per request: {"id","sent_ms","answered_ms","code"}
// (wall clock, Date.now(): the workers' log lines carry the same clock).
// Prints a summary line; exits 1 when any request did not get a 2xx (no
// retries: a refused order would make its latency meaningless).

const fs = require('fs');
const http = require('http');

const [url, tplPath, sigsPath, rateArg, outPath] = process.argv.slice(2);
if (!url || !tplPath || !sigsPath || !rateArg || !outPath) {
  console.error('usage: node post_paced.js URL TEMPLATE SIGS RATE OUT.jsonl');
  process.exit(2);
}
const rate = Number(rateArg);
const target = new URL(url);
const tpl = fs.readFileSync(tplPath, 'utf8').replace(/[\r\n]+$/, '');
const lines = fs.readFileSync(sigsPath, 'utf8').split('\n').filter((l) => l.length > 0);
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

function body(f) {
  const v = { ID: f[0], ENTITY: f[1], INCREMENT: f[2], CUSTOMER: f[3], EMAIL: f[4] };
  return tpl.replace(/\{\{([A-Z]+)\}\}/g, (m, k) => v[k]);
}

function post(f) {
  const data = Buffer.from(body(f), 'utf8');
  const sent = Date.now();
  return new Promise((resolve) => {
    const req = http.request({
      agent, host: target.hostname, port: target.port, path: target.pathname, method: 'POST',
      headers: {
        'Content-Type': 'application/json', 'Content-Length': data.length,
        'webhook-id': f[0], 'webhook-timestamp': f[5], 'webhook-signature': f[6],
      },
    }, (res) => {
      res.resume();
      res.on('end', () => resolve({ id: f[0], sent_ms: sent, answered_ms: Date.now(), code: res.statusCode }));
    });
    req.on('error', () => resolve({ id: f[0], sent_ms: sent, answered_ms: Date.now(), code: 0 }));
    req.end(data);
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
(async () => {
  const pending = [];
  const t0 = Date.now();
  let due = t0;
  for (const l of lines) {
    const wait = due - Date.now();
    if (wait > 0) await sleep(wait);
    pending.push(post(l.split('\t')));
    due += -Math.log(1 - Math.random()) * 1000 / rate;
  }
  const res = await Promise.all(pending);
  fs.writeFileSync(outPath, res.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const ok = res.filter((r) => r.code >= 200 && r.code < 300).length;
  const secs = (Date.now() - t0) / 1000;
  console.log(JSON.stringify({ sent: res.length, ok, seconds: Number(secs.toFixed(3)),
    offered_per_s: Number((res.length / secs).toFixed(2)) }));
  agent.destroy();
  process.exit(ok === res.length ? 0 : 1);
})();
