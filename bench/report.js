'use strict';
// report.js: turns the raw figures of one bench/run.sh run into RESULTS.md.
//
//   node bench/report.js RESULTS.jsonl machine.txt commands.txt > RESULTS.md
//
// Every ratio is computed inside one round (the figures that ran beside each
// other, seconds apart, under the same conditions) and only then is the
// median over the rounds taken; medians of ratios, not ratios of medians.
// bench/findings.md, when present, is appended: what profiling found where a
// target is missed (run.sh cannot write that part itself).

const fs = require('fs');
const path = require('path');

const [rawPath, machinePath, commandsPath] = process.argv.slice(2);
const rows = fs.readFileSync(rawPath, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
const machine = {};
for (const l of fs.readFileSync(machinePath, 'utf8').split('\n')) {
  const i = l.indexOf('=');
  if (i > 0) machine[l.slice(0, i)] = l.slice(i + 1);
}
const commands = fs.existsSync(commandsPath) ? [...new Set(fs.readFileSync(commandsPath, 'utf8').split('\n').filter(Boolean))] : [];

const median = (a) => {
  const v = a.filter((x) => x !== null && x !== undefined && !Number.isNaN(x)).sort((x, y) => x - y);
  if (!v.length) return null;
  const m = Math.floor(v.length / 2);
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
};
const f0 = (x) => (x === null || x === undefined ? 'n/a' : Math.round(x).toLocaleString('en-US'));
const f1 = (x) => (x === null || x === undefined ? 'n/a' : x.toFixed(1));
const f2 = (x) => (x === null || x === undefined ? 'n/a' : x.toFixed(2));
const ms = (us) => (us === null || us === undefined ? 'n/a' : (us / 1000).toFixed(2));
const mb = (kb) => (kb === null || kb === undefined ? 'n/a' : (kb / 1024).toFixed(1));
const yes = (ok) => (ok === null ? '?' : ok ? '**met**' : '**missed**');

const out = [];
const p = (s = '') => out.push(s);

const mode = machine.mode || 'full';
p('# m2jortt benchmark results');
p();
p(`Written by \`bench/run.sh${mode === 'quick' ? ' --quick' : mode === 'full' ? ' --full' : ''}\`` +
  `${mode === 'standard' ? ' (`make bench`)' : ''} on ${machine.date || '?'} in ${machine.elapsed || '?'}. ` +
  `${mode === 'quick' ? '**Quick mode: one round, short points, few orders: for developing the scripts, not for ' +
  'quoting.**' : mode === 'full' ? 'Full mode.' : 'Standard mode (`--full` adds 1 and 4 connections, a third round, ' +
  'longer points and the worker fleet end to end).'}`);
p('Regenerate with `make bench`; raw figures are in `bench/RESULTS.jsonl`.');
p();
p('## Machine and versions');
p();
p('| | |');
p('|---|---|');
for (const k of ['cpu', 'cores', 'memory', 'disk', 'kernel', 'os', 'cc', 'm2jortt', 'binaries', 'redis', 'nginx', 'node', 'express',
  'ioredis', 'loadgen', 'load', 'libevent-2.1-7', 'libhiredis0.14', 'libjson-c5', 'libssl3', 'libcurl4']) {
  if (machine[k] !== undefined) p(`| ${k} | ${machine[k]} |`);
}
p();
p('Redis for every peer: `appendonly yes`, `appendfsync always` (an answer means the entry is on disk), no RDB,');
p('no automatic AOF rewrite; Redis is emptied (FLUSHALL + AOF rewrite) before each measurement.');
p('Everything ran on this one machine over loopback, load generator included: on 2 cores the load generator,');
p('the server under test and Redis compete for CPU, so absolute numbers are low and the ratios are what count.');
p();

// ---------- ingest ----------
const ing = rows.filter((r) => r.part === 'ingest' && !(r.delay_ms > 0));
// Targets in this order; redis-benchmark-Nconn and receiver-poolN as the run had them.
const rank = (t) => (t === 'nginx' ? 0 : t === 'redis-benchmark' ? 1 : t.startsWith('redis-benchmark') ? 2
  : t === 'node' ? 3 : t.startsWith('receiver') ? 4 : 5);
const poolOf = (t) => (t === 'receiver' ? (Number(machine.pool_default) || 4) : Number((t.match(/pool(\d+)$/) || [])[1] || 0));
const rbConns = (t) => (t === 'redis-benchmark' ? 0 : Number((t.match(/-(\d+)conn$/) || [])[1] || 0));
const targets = [...new Set(ing.map((r) => r.target))].sort((a, b) => rank(a) - rank(b) ||
  (a.startsWith('receiver') ? poolOf(a) - poolOf(b) : rbConns(a) - rbConns(b)));
const receivers = targets.filter((t) => t.startsWith('receiver'));
const rbPool = targets.find((t) => rbConns(t) > 1);
const conns = [...new Set(ing.map((r) => r.conns))].sort((a, b) => a - b);
const rounds = [...new Set(ing.map((r) => r.round))].sort((a, b) => a - b);
const get = (t, c, rd) => ing.find((r) => r.target === t && r.conns === c && r.round === rd);
const med = (t, c, fn) => median(rounds.map((rd) => { const r = get(t, c, rd); return r ? fn(r) : null; }));
const ratio = (a, b, c) => median(rounds.map((rd) => {
  const x = get(a, c, rd), y = get(b, c, rd);
  return x && y && y.wrk.rps > 0 ? x.wrk.rps / y.wrk.rps : null;
}));
const label = (t) => (t.startsWith('receiver') ? `${t} (${poolOf(t)} Redis conn${poolOf(t) > 1 ? 's' : ''})` : t);

const summary = [];
const info = [];
if (ing.length) {
  p('## 1. Ingest');
  p();
  p('A signed ~6 KB Adobe I/O Events order (`bench/payloads/order-6kb.json`, `sales_order_save_commit_after`, EUR,');
  p('4 items) posted with a unique `webhook-id` and event id per request (`bench/gen_signed.c` pre-signs them,');
  p('`bench/loadgen.c`, a one-thread epoll HTTP/1.1 load generator, rebuilds each body), for ' +
    `${rounds.length} round(s) of ${conns.join(', ')} connections. In each round the targets ran back to back:`);
  p('- **nginx** answering 202 from memory (1 worker): the HTTP ceiling;');
  p('- **redis-benchmark** `XADD` of the same ~6 KB job field over C connections: the durable-write ceiling (no HTTP);');
  p('- **redis-benchmark-Nconn**: the same XADD with C commands in flight over N connections (`-c N -P C/N`): how');
  p('  Redis serves a client with N connections (1: the old single-connection receiver; the default pool size);');
  p('- **node**: Express + ioredis peer (`bench/peers/node-receiver`), same signature check, JSON.parse, dedup + XADD');
  p('  in one script, 202 after Redis answered (it does not normalise the order, the C receiver does);');
  p('- **receiver**: `m2jortt-receiver` with the default `receiver.redis_connections`, and **receiver-poolN** with');
  p('  N connections (same binary, other setting), default log level (info) to a file.');
  p();
  p(`Medians over ${rounds.length} round(s). CPU = utime+stime of the server process over the run / wall time`);
  p('(100 % = one core); peak RSS = VmHWM, reset before each run. Ratios are per round, then the median.');
  p('Max fsync = the longest AOF fsync Redis saw during the run (its latency monitor; 0 = none over 1 ms).');
  p('"load-generator-bound" marks rows where loadgen (or redis-benchmark) used >= 90 % of a core: there the figure is');
  p('the load generator\'s limit, and the real ceiling is higher (so a ratio against it flatters the receiver).');
  p();
  p('| conns | target | req/s | p50 ms | p99 ms | server CPU % | Redis CPU % | load generator CPU % | CPU ms/req (server) | peak RSS MB | max fsync ms |');
  p('|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const c of conns) {
    for (const t of targets) {
      if (!ing.some((r) => r.target === t && r.conns === c)) continue;
      const bound = (med(t, c, (r) => r.loadgen_cpu_pct) || 0) >= 90 ? ' (load-generator-bound)' : '';
      const rb = t.startsWith('redis-benchmark');
      const cpuReq = rb ? null : med(t, c, (r) => (r.wrk.rps > 0 ? r.server_cpu_pct * 10 / r.wrk.rps : null));
      p(`| ${c} | ${label(t)} | ${f0(med(t, c, (r) => r.wrk.rps))}${bound} | ${ms(med(t, c, (r) => r.wrk.p50_us))} | ` +
        `${ms(med(t, c, (r) => r.wrk.p99_us))} | ${f1(med(t, c, (r) => r.server_cpu_pct))} | ` +
        `${f1(med(t, c, (r) => r.redis_cpu_pct))} | ${f1(med(t, c, (r) => r.loadgen_cpu_pct))} | ` +
        `${rb ? '-' : (cpuReq === null ? 'n/a' : cpuReq.toFixed(3))} | ` +
        `${rb ? '-' : mb(med(t, c, (r) => r.hwm_kb))} | ` +
        `${rb || t === 'nginx' ? '-' : f0(med(t, c, (r) => r.fsync_max_ms))} |`);
    }
  }
  p();
  p('Ratios of req/s between targets that ran beside each other (median of per-round ratios):');
  p();
  const cols = [['receiver', 'redis-benchmark'], ...(rbPool ? [['receiver', rbPool]] : []), ['receiver', 'node'],
    ['receiver', 'nginx'], ...receivers.filter((t) => t !== 'receiver-pool1' && receivers.includes('receiver-pool1'))
      .map((t) => [t, 'receiver-pool1']),
    ['redis-benchmark-1conn', 'redis-benchmark'], ...(rbPool ? [[rbPool, 'redis-benchmark']] : [])];
  p(`| conns | ${cols.map(([a, b]) => `${a} / ${b}`).join(' | ')} |`);
  p(`|---:|${cols.map(() => '---:').join('|')}|`);
  for (const c of conns) p(`| ${c} | ${cols.map(([a, b]) => f2(ratio(a, b, c))).join(' | ')} |`);
  p();
  // Headline: each target's best connection count, per round.
  const best = (t) => Math.max(...conns.map((c) => med(t, c, (r) => r.wrk.rps) || 0));
  const bestRatio = (a, b) => median(rounds.map((rd) => {
    const xa = Math.max(...conns.map((c) => (get(a, c, rd) || { wrk: { rps: 0 } }).wrk.rps));
    const xb = Math.max(...conns.map((c) => (get(b, c, rd) || { wrk: { rps: 0 } }).wrk.rps));
    return xb > 0 ? xa / xb : null;
  }));
  p(`Best rate over the connection counts: ${receivers.map((t) => `${t} ${f0(best(t))}`).join(', ')} req/s; ` +
    `nginx ${f0(best('nginx'))}, node ${f0(best('node'))}, redis-benchmark ${f0(best('redis-benchmark'))}.`);
  p();
  const cmax = Math.max(...conns);
  const rRb = ratio('receiver', 'redis-benchmark', cmax);
  const rRbPool = rbPool ? ratio('receiver', rbPool, cmax) : null;
  const rp = bestRatio('receiver', 'node'), rn = bestRatio('receiver', 'nginx');
  summary.push([`Ingest >= 0.8x \`redis-benchmark\` XADD at the same durability and connection count (${cmax} in flight: ` +
    `${cmax} connections${rbPool ? `; against ${rbPool}, the receiver's own connection count, in brackets` : ''})`,
    `${f2(rRb)}x${rbPool ? ` (${f2(rRbPool)}x)` : ''}`, rRb === null ? null : rRb >= 0.8]);
  summary.push(['Ingest >= 4x the Node peer (best req/s of each, per round)', f2(rp) + 'x', rp === null ? null : rp >= 4]);
  info.push(['Ingest against the nginx ceiling (best req/s of each, per round; not a target here)', f2(rn) + 'x']);
  if (receivers.includes('receiver-pool1'))
    info.push([`Redis connection pool: receiver (default pool) / receiver-pool1 at ${cmax} connections`,
      f2(ratio('receiver', 'receiver-pool1', cmax)) + 'x']);

  const checks = rows.filter((r) => r.part === 'ingest-check');
  const dupRuns = checks.filter((r) => r.duplicates > 0);
  const bad = ing.filter((r) => r.wrk && (r.wrk.non2xx > 0 || (r.wrk.wraps > 0 && r.target !== 'nginx')));
  p(`Checks: ${checks.length} receiver/node runs counted in Redis; ${dupRuns.length} of them saw duplicates ` +
    `(a wrapped id list would measure the duplicate path); ${bad.length} run(s) had non-2xx answers or wrapped ids.`);
  for (const b of bad) p(`- ${b.target} c=${b.conns} round ${b.round}: non-2xx ${b.wrk.non2xx} ${JSON.stringify(b.wrk.codes || {})}, wraps ${b.wrk.wraps}`);
  p();

  const half = rows.filter((r) => r.part === 'ingest' && r.target === 'receiver-half');
  const paced = rows.filter((r) => r.part === 'ingest' && r.target === 'redis-paced');
  const hinfo = rows.find((r) => r.part === 'ingest-half');
  if (half.length && hinfo) {
    const p99 = median(half.map((r) => r.wrk.p99_us));
    const rate = median(half.map((r) => r.wrk.rps));
    p('### p99 at about half the maximum rate, against Redis paced the same way');
    p();
    p(`\`bench/loadgen.c\` paces the receiver (closed loop, like wrk's \`delay()\`): 64 connections, each`);
    p(`waiting a random 0.5-1.5 x ${hinfo.delay_ms} ms between its requests, which offers about half of the receiver's`);
    p(`best median rate (${f0(hinfo.max_rps)} req/s). Right after each such run, \`bench/redis_paced.c\` sends the`);
    p('same XADD of the same ~6 KB body straight to Redis, paced the same way (64 connections, the same pauses):');
    p('Redis\'s own latency for the durable write at that rate. Both are closed-loop (a slow answer delays that');
    p('connection\'s next request; there is no coordinated-omission correction as in wrk2). Medians of ' + half.length + ' round(s):');
    p();
    p(`| target | achieved req/s | share of max | p50 ms | p90 ms | p99 ms | max ms | CPU % (receiver / Redis) |`);
    p('|---|---:|---:|---:|---:|---:|---:|---:|');
    const row = (name, xs, cpu) => p(`| ${name} | ${f0(median(xs.map((r) => r.wrk.rps)))} | ` +
      `${f2(median(xs.map((r) => r.wrk.rps)) / hinfo.max_rps)} | ${ms(median(xs.map((r) => r.wrk.p50_us)))} | ` +
      `${ms(median(xs.map((r) => r.wrk.p90_us)))} | ${ms(median(xs.map((r) => r.wrk.p99_us)))} | ` +
      `${ms(median(xs.map((r) => r.wrk.max_us)))} | ${cpu} |`);
    row('receiver', half, `${f1(median(half.map((r) => r.server_cpu_pct)))} / ${f1(median(half.map((r) => r.redis_cpu_pct)))}`);
    if (paced.length) row('Redis alone (redis_paced)', paced, `- / ${f1(median(paced.map((r) => r.redis_cpu_pct)))}`);
    p();
    const pr = median(rounds.map((rd) => {
      const a = half.find((r) => r.round === rd), b = paced.find((r) => r.round === rd);
      return a && b && b.wrk.p99_us > 0 ? a.wrk.p99_us / b.wrk.p99_us : null;
    }));
    summary.push(['p99 at half the maximum rate <= 2x Redis\'s own p99 for the same XADD, paced the same (per round)',
      `${ms(p99)} ms at ${f0(rate)} req/s (${f2(rate / hinfo.max_rps)} of max); ratio to Redis's p99 ${f2(pr)}`,
      pr === null ? null : pr <= 2]);
  }
}

// ---------- order -> invoice latency ----------
const lat = rows.filter((r) => r.part === 'latency');
if (lat.length) {
  p('## 2. Order → invoice latency');
  p();
  for (const l of lat) {
    p(`${l.orders} orders posted with Poisson arrivals at ${l.rate}/s (the post took ${l.post.seconds} s, ` +
      `${l.post.offered_per_s}/s offered) to the receiver, queued in Redis (fsync always), taken by ${l.workers} ` +
      `workers and invoiced in \`jortt-double --rate-limit ${l.limit}\` (workers at \`jortt.requests_per_second\` ` +
      `${l.limit}): returning customers, so one Jortt call per order and the offered load is ` +
      `${f2(l.rate / l.limit)} of the rate limit. ${l.orders > 0 ? 'Latency' : ''} = from sending the POST to the worker's log line for ` +
      'the order\'s outcome (written after the invoice was created and the outcome recorded in Redis); both clocks are ' +
      'the machine\'s wall clock.');
    p();
    p('| orders | finished | outcomes | Jortt calls | 429s | order → 202 p50 / p99 ms | order → invoice p50 ms | p90 ms | p99 ms | max ms |');
    p('|---:|---:|---|---|---:|---|---:|---:|---:|---:|');
    const o = Object.entries(l.outcomes || {}).map(([k, v]) => `${k} ${v}`).join(', ');
    const c = Object.entries(l.calls || {}).map(([k, v]) => `\`${k}\` ${v}`).join(', ');
    p(`| ${l.orders} | ${l.finished} | ${o} | ${c} | ${l.throttled} | ${l.accepted_ms.p50} / ${l.accepted_ms.p99} | ` +
      `${l.invoice_ms.p50} | ${l.invoice_ms.p90} | ${l.invoice_ms.p99} | ${l.invoice_ms.max} |`);
    p();
    info.push([`Order → invoice latency at ${f2(l.rate / l.limit)} of the Jortt rate limit (p50 / p99)`,
      `${l.invoice_ms.p50} / ${l.invoice_ms.p99} ms (${l.finished} of ${l.orders} orders, ${l.throttled} 429s)`]);
  }
  p('The workers space their calls at the fleet-wide limit (GCRA in Redis, 1 % slack): an order that arrives while');
  p('a call was granted less than ~101 ms ago waits for the next slot, so at half the limit most of the latency is');
  p('that spacing plus a Jortt round trip; Poisson arrivals bunch, which is what the p99 shows.');
  p();
}

// ---------- end to end ----------
const e2e = rows.filter((r) => r.part === 'e2e');
// The double's state (run.sh keeps): {calls: {total, by_endpoint, throttled,
// faulted, dropped}, customers: count, invoices: count}.
const isAuth = (k) => /oauth|token/i.test(k);
const startupRow = rows.find((r) => r.part === 'e2e-startup');
const startupPer = {};
let startupCalls = 0;
if (startupRow && startupRow.double && startupRow.double.calls) {
  for (const [k, v] of Object.entries(startupRow.double.calls.by_endpoint || {})) {
    if (!isAuth(k)) { startupPer[k] = v; startupCalls += v; }
  }
}
function callsOf(r) {
  const b = (r.double_before && r.double_before.calls) || {};
  const a = (r.double_after && r.double_after.calls) || {};
  const be = b.by_endpoint || {}, ae = a.by_endpoint || {};
  const per = {};
  for (const k of Object.keys(ae)) {
    const v = (ae[k] || 0) - (be[k] || 0);
    if (v) per[k] = v;
  }
  const api = Object.entries(per).filter(([k]) => !isAuth(k) && !/_double/.test(k)).reduce((s, [, v]) => s + v, 0);
  const order = api;
  const d = (k) => (typeof a[k] === 'number' && typeof b[k] === 'number' ? a[k] - b[k] : null);
  const dc = (k) => (r.double_after && r.double_before && typeof r.double_after[k] === 'number'
    ? r.double_after[k] - r.double_before[k] : null);
  return { total: d('total'), throttled: d('throttled'), api: Object.keys(per).length ? api : null,
    order: Object.keys(per).length ? order : null, per,
    invoices: dc('invoices'), customers: dc('customers') };
}
if (e2e.length) {
  p('## 3. End to end (bench/run.sh --full)');
  p();
  p('W workers are started and left to finish their start-up calls; then N orders are posted through the receiver');
  p('(16 connections) and the clock runs from the first post until the Redis counters show all N processed (or');
  p('skipped/dead-lettered). First a batch where every order has a new customer e-mail, then a batch of N new orders');
  p('from the same customers (returning). Jortt is `jortt-double` with added latency (`POST /_double/faults');
  p('{"latency_ms":…}`) and `--rate-limit 10` or `0`; the workers use `jortt.requests_per_second` equal to the');
  p('double\'s limit (1000 when unlimited). Calls are the double\'s counts over the batch, OAuth token calls not');
  p(`counted. (Start-up calls, before the batches: ${Object.entries(startupPer).map(([k, v]) => `\`${k}\` ${v}`).join(', ') || 'none'} per worker.)`);
  p('One run per combination, not 3: the rate-limited ones alone take minutes each.');
  const nFast = Math.max(...e2e.filter((r) => !r.limit && !r.latency_ms).map((r) => r.orders), 0);
  const nLim = Math.max(...e2e.filter((r) => r.limit).map((r) => r.orders), 0);
  const nSlow = Math.max(...e2e.filter((r) => !r.limit && r.latency_ms).map((r) => r.orders / r.workers), 0);
  p(`**Order counts** (not 10,000 everywhere: the slow combinations would take hours): ` +
    `${nFast ? f0(nFast) : 'n/a'} per batch unlimited without latency; ` +
    `${nSlow ? f0(nSlow) + ' per worker' : 'n/a'} unlimited with added latency (a batch then takes about a minute); ` +
    `${nLim || 'n/a'} per batch rate-limited (at 10 calls/s that is ${nLim ? (nLim * 3 / 10 / 60).toFixed(1) : '?'} min ` +
    'for the two batches of one combination).');
  p();
  p('| workers | +latency ms | limit/s | customers | orders | s | orders/s | calls/order | API calls/s | share of limit (whole batch / steady) | 429s | invoices created | customers created | dead | worker peak RSS MB |');
  p('|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  const limited = [];
  for (const r of e2e) {
    const c = callsOf(r);
    const calls = c.order !== null ? c.order : c.total;
    const all = c.api !== null ? c.api : c.total;
    const cps = r.seconds > 0 && all !== null ? all / r.seconds : null;
    const share = r.limit && cps !== null ? cps / r.limit : null;
    const steady = r.limit && typeof r.steady_calls_per_s === 'number' ? r.steady_calls_per_s / r.limit : null;
    const dead = (r.stats.dead_total || 0);
    p(`| ${r.workers} | ${r.latency_ms} | ${r.limit || 'none'} | ${r.customers} | ${f0(r.orders)} | ` +
      `${r.seconds < 0 ? 'timeout' : f1(r.seconds)} | ${r.seconds > 0 ? f1(r.orders / r.seconds) : 'n/a'} | ` +
      `${calls === null ? 'n/a' : f2(calls / r.orders)} | ${f1(cps)} | ${share === null ? '-' : f2(share) + ' / ' + f2(steady)} | ` +
      `${c.throttled === null ? 'n/a' : c.throttled} | ${c.invoices === null ? 'n/a' : c.invoices} | ` +
      `${c.customers === null ? 'n/a' : c.customers} | ${dead} | ${mb(r.worker_hwm_kb)} |`);
    if (r.limit) limited.push({ r, c, share, steady });
  }
  p();
  p('Share of limit: API calls per second / limit, over the whole batch (from the first post to the last order');
  p('done, so it includes the start and the tail) and in the steady state (the double\'s call counter sampled');
  p('twice a second; the rate between the samples in the middle 80 % of the batch time).');
  p();
  // Ratios beside each other: 2 and 4 workers against 1 worker, same latency/limit/customers.
  p('Scaling (orders/s against 1 worker in the same combination):');
  p();
  p('| +latency ms | limit/s | customers | 2 workers / 1 | 4 workers / 1 |');
  p('|---:|---:|---|---:|---:|');
  const keyOf = (r) => `${r.latency_ms}|${r.limit}|${r.customers}`;
  for (const k of [...new Set(e2e.map(keyOf))]) {
    const g = e2e.filter((r) => keyOf(r) === k);
    const rate = (w) => { const r = g.find((x) => x.workers === w); return r && r.seconds > 0 ? r.orders / r.seconds : null; };
    const one = rate(1);
    const [lat, lim, cu] = k.split('|');
    p(`| ${lat} | ${lim === '0' ? 'none' : lim} | ${cu} | ${one && rate(2) ? f2(rate(2) / one) : 'n/a'} | ${one && rate(4) ? f2(rate(4) / one) : 'n/a'} |`);
  }
  p();
  const detail = e2e.map((r) => `- ${r.workers}w +${r.latency_ms}ms limit ${r.limit || 'none'} ${r.customers}: ` +
    Object.entries(callsOf(r).per).map(([k, v]) => `\`${k}\` ${v}`).join(', '));
  p('<details><summary>Calls per endpoint</summary>');
  p();
  for (const d of detail) p(d);
  p();
  p('</details>');
  p();
  // A worker makes one call at a time, so W workers facing L ms per call
  // cannot exceed W * 1000 / L calls/s: a fleet that small cannot fill the
  // limit whatever the code does. The share target is judged on the batches
  // whose fleet could (capacity at least 1.5x the limit); the others are shown.
  const capable = (r) => !r.latency_ms || (r.workers * 1000) / r.latency_ms >= 1.5 * r.limit;
  const lim = limited.filter((x) => capable(x.r));
  const small = limited.filter((x) => !capable(x.r));
  if (small.length) {
    p(`Not judged against the 95 % target: ${small.map((x) => `${x.r.workers} worker(s) at +${x.r.latency_ms} ms ` +
      `(${x.r.customers}: ${f2(x.share)})`).join(', ')}: one call at a time at ${small[0].r.latency_ms} ms per call is at most ` +
      `${f1(1000 / small[0].r.latency_ms)} calls/s per worker, so such a fleet cannot fill a ${small[0].r.limit}/s limit.`);
    p();
  }
  if (limited.length) {
    const minShare = lim.length ? Math.min(...lim.map((x) => (x.share === null ? 0 : x.share))) : null;
    const minSteady = lim.length ? Math.min(...lim.map((x) => (x.steady === null ? 0 : x.steady))) : null;
    const t429 = limited.reduce((s, x) => s + (x.c.throttled || 0), 0);
    summary.push(['Worker fleet >= 95 % of the Jortt rate limit (worst rate-limited batch whose fleet can fill it; steady state)',
      minSteady === null ? 'n/a' : `${f2(minSteady)} of the limit steady (${f2(minShare)} over whole batches, start and tail included)`,
      minSteady === null ? null : minSteady >= 0.95]);
    summary.push(['Zero 429s (all rate-limited batches)', `${t429}`, t429 === 0]);
  }
  const perOrder = (kind) => {
    const xs = e2e.filter((r) => r.customers === kind).map((r) => { const c = callsOf(r); const calls = c.order !== null ? c.order : c.total; return calls === null ? null : calls / r.orders; });
    return xs.some((x) => x === null) || !xs.length ? null : Math.max(...xs);
  };
  const cpoR = perOrder('returning'), cpoN = perOrder('new');
  summary.push(['<= 1.0 Jortt call per order, returning customers (worst batch)', cpoR === null ? 'n/a' : `${f2(cpoR)} (ratio ${f2(cpoR / 1)})`, cpoR === null ? null : cpoR <= 1.0]);
  summary.push(['<= 2.0 Jortt calls per order, new customers (worst batch)', cpoN === null ? 'n/a' : `${f2(cpoN)} (ratio ${f2(cpoN / 2)})`, cpoN === null ? null : cpoN <= 2.0]);
}

// ---------- instructions per request ----------
const pc = rows.filter((r) => r.part === 'parse-cost');
if (pc.length) {
  const of = (w) => pc.find((r) => r.what === w);
  p('## Instructions per request (callgrind)');
  p();
  p('The receiver\'s JSON work on the bench order (envelope parse, normalisation, job text; "+hmac": after the');
  p('Standard Webhooks check, as in the receiver) counted by callgrind in `bench/ingest_cost` (`bench/parse_cost.sh`):');
  p('instructions do not depend on the machine\'s load. "json-c" is `m2j_envelope_parse` (a json-c tree of the');
  p('whole body, what the receiver ran before), "text" is `m2j_envelope_parse_text` (slices of the body, entity');
  p('written as text), both from this build.');
  p();
  p('| path | instructions / request | share of the json-c path | biggest parts (inclusive) |');
  p('|---|---:|---:|---|');
  for (const w of ['json-c', 'text', 'json-c+hmac', 'text+hmac']) {
    const r = of(w);
    if (!r) continue;
    const base = of(w.replace('text', 'json-c'));
    p(`| ${w} | ${f0(r.instr_per_request)} | ${base ? f2(r.instr_per_request / base.instr_per_request) : '-'} | ` +
      `${(r.top || []).slice(0, 4).map(([n, sh]) => `\`${n}\` ${Math.round(sh * 100)} %`).join(', ')} |`);
  }
  p();
  const a = of('text'), b = of('json-c');
  if (a && b) info.push(['Instructions per request, envelope + job text (callgrind; json-c path → text path)',
    `${f0(b.instr_per_request)} → ${f0(a.instr_per_request)} (${f2(a.instr_per_request / b.instr_per_request)})`]);
}

// ---------- memory ----------
const mem = rows.filter((r) => r.part === 'memory');
const recvLoad = Math.max(...ing.filter((r) => r.target.startsWith('receiver')).map((r) => r.hwm_kb || 0), 0);
const nodeLoad = Math.max(...ing.filter((r) => r.target === 'node').map((r) => r.hwm_kb || 0), 0);
const ngLoad = Math.max(...ing.filter((r) => r.target === 'nginx').map((r) => r.hwm_kb || 0), 0);
const wLoad = Math.max(...e2e.map((r) => r.worker_hwm_kb || 0), 0);
if (mem.length || recvLoad) {
  p('## 4. Memory');
  p();
  p('Idle = VmRSS a second (receiver) or three (worker, empty queue) after start. Under load = the highest VmHWM');
  p('of any ingest run (every receiver, pool sizes included; peers; HWM reset before each run) or of any worker');
  p('over a drain (--full only).');
  p();
  p('| process | idle RSS MB | under load, peak RSS MB | ratio to the receiver (under load) |');
  p('|---|---:|---:|---:|');
  const idle = (w) => { const r = mem.find((m) => m.what === w && m.state === 'idle'); return r ? r.rss_kb : null; };
  p(`| m2jortt-receiver | ${mb(idle('receiver'))} | ${mb(recvLoad || null)} | 1.00 |`);
  if (wLoad || idle('worker'))
    p(`| m2jortt-worker (one process) | ${mb(idle('worker'))} | ${mb(wLoad || null)} | ${recvLoad && wLoad ? f2(wLoad / recvLoad) : 'n/a'} |`);
  p(`| node peer | ${mb(idle('node'))} | ${mb(nodeLoad || null)} | ${recvLoad && nodeLoad ? f2(nodeLoad / recvLoad) : 'n/a'} |`);
  p(`| nginx worker | ${mb(idle('nginx'))} | ${mb(ngLoad || null)} | ${recvLoad && ngLoad ? f2(ngLoad / recvLoad) : 'n/a'} |`);
  p();
  if (recvLoad) summary.push(['Receiver RSS < 20 MB under load', `${mb(recvLoad)} MB (ratio to target ${f2(recvLoad / 1024 / 20)})`, recvLoad < 20 * 1024]);
}

// backfill.sh (run after this) puts its section here
p('<!-- backfill:begin (bench/backfill.sh) -->');
p('<!-- backfill:end -->');
p();

// ---------- summary goes near the top ----------
const head = out.splice(0, out.indexOf('## Machine and versions'));
const sum = [];
sum.push('## Targets');
sum.push('');
sum.push('| target | measured | |');
sum.push('|---|---|---|');
for (const [t, m, ok] of summary) sum.push(`| ${t} | ${m} | ${yes(ok)} |`);
sum.push('');
if (info.length) {
  sum.push('Measured and published, no target:', '');
  sum.push('| figure | measured |', '|---|---|');
  for (const [t, m] of info) sum.push(`| ${t} | ${m} |`);
  sum.push('');
}
const findings = path.join(__dirname, 'findings.md');
if (fs.existsSync(findings)) sum.push('Where a target is missed, the cause found by profiling is under "Findings" below.', '');

const tail = [];
tail.push('## Exact commands');
tail.push('');
tail.push('```');
for (const c of commands) tail.push(c);
tail.push('```');
tail.push('');
if (fs.existsSync(findings)) {
  tail.push(fs.readFileSync(findings, 'utf8').trim());
  tail.push('');
}
process.stdout.write([...head, ...sum, ...out, ...tail].join('\n') + '\n');
