'use strict';
// post.js: posts every request of a gen_signed file exactly once (the
// end-to-end benchmark needs an exact number of orders, which loadgen does
// not do: it runs for a duration). Same body reconstruction as bench/loadgen.c.
//
//   node bench/post.js URL TEMPLATE SIGS [CONCURRENCY]
//
// Prints one JSON line: {"sent":N,"ok":N,"failed":N,"codes":{...},"seconds":S}.
// Exits 1 when any request did not get a 2xx after 3 tries (429 and 5xx and
// connection errors are retried, as Adobe I/O Events would).

const fs = require('fs');
const http = require('http');

const [url, tplPath, sigsPath, concArg] = process.argv.slice(2);
if (!url || !tplPath || !sigsPath) {
  console.error('usage: node post.js URL TEMPLATE SIGS [CONCURRENCY]');
  process.exit(2);
}
const concurrency = Number(concArg || 8);
const target = new URL(url);
const tpl = fs.readFileSync(tplPath, 'utf8').replace(/[\r\n]+$/, '');
const lines = fs.readFileSync(sigsPath, 'utf8').split('\n').filter((l) => l.length > 0);
const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });

function body(f) {
  const v = { ID: f[0], ENTITY: f[1], INCREMENT: f[2], CUSTOMER: f[3], EMAIL: f[4] };
  return tpl.replace(/\{\{([A-Z]+)\}\}/g, (m, k) => {
    if (!(k in v)) throw new Error(`unknown placeholder ${k}`);
    return v[k];
  });
}

function postOnce(f) {
  const data = Buffer.from(body(f), 'utf8');
  return new Promise((resolve) => {
    const req = http.request({
      agent, host: target.hostname, port: target.port, path: target.pathname, method: 'POST',
      headers: {
        'Content-Type': 'application/json', 'Content-Length': data.length,
        'webhook-id': f[0], 'webhook-timestamp': f[5], 'webhook-signature': f[6],
      },
    }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', () => resolve(0));
    req.end(data);
  });
}

const codes = {};
let ok = 0, failed = 0, next = 0;
async function lane() {
  while (next < lines.length) {
    const f = lines[next++].split('\t');
    let code = 0;
    for (let attempt = 0; attempt < 3; attempt++) {
      code = await postOnce(f);
      if (code !== 0 && code !== 429 && code < 500) break;
      await new Promise((r) => setTimeout(r, 200 * (attempt + 1)));
    }
    codes[code] = (codes[code] || 0) + 1;
    if (code >= 200 && code < 300) ok++; else failed++;
  }
}

const t0 = process.hrtime.bigint();
Promise.all(Array.from({ length: concurrency }, lane)).then(() => {
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(JSON.stringify({ sent: lines.length, ok, failed, codes, seconds: Number(seconds.toFixed(3)) }));
  agent.destroy();
  process.exit(failed ? 1 : 0);
});
