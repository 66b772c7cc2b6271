#!/usr/bin/env bash
# bench/backfill.sh [N]: `m2jortt backfill --yes` of N orders (default
# 10,000) against the Magento double: Magento calls per order (target
# <= 0.02: one page per 100 orders, nothing per order) and orders queued per
# second, beside the push path's figures from the last `bench/run.sh`
# (bench/RESULTS.jsonl). Writes its section into bench/RESULTS.md between
# the backfill markers (replacing an older one) and one JSON line to
# bench/RESULTS-backfill.jsonl. run.sh calls it last; it also runs alone.
#
# Environment: M2JORTT_BIN_DIR (default bin/), BENCH_OUT (default
# bench/RESULTS.md), BENCH_KEEP=1 keeps the temp folder.
#
# It starts redis-server (append-only, fsync always, as run.sh) and the
# Magento double on free ports on 127.0.0.1, and stops both by PID at the
# end, on error and on Ctrl-C.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH="$ROOT/bench"
N=${1:-10000}
BIN=${M2JORTT_BIN_DIR:-$ROOT/bin}
OUT=${BENCH_OUT:-$BENCH/RESULTS.md}
RAW="${OUT%.md}.jsonl"
LINE="${OUT%.md}-backfill.jsonl"
DAY=2026-11-20
RPS=100   # magento.requests_per_second: the highest the config allows
CK=ck_bench CS=cs_bench AT=at_bench ATS=ats_bench

WORK=$(mktemp -d /tmp/m2jortt-backfill.XXXXXX)
PIDS=()
log() { printf '[%s] backfill: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
cleanup() {
  local rc=$? p
  trap - EXIT INT TERM
  for p in "${PIDS[@]+"${PIDS[@]}"}"; do
    kill -TERM "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  if [ "${BENCH_KEEP:-0}" = 1 ] || [ $rc -ne 0 ]; then log "logs kept in $WORK"; else rm -rf "$WORK"; fi
  exit $rc
}
trap cleanup EXIT INT TERM

free_port() {
  local p
  for p in $(shuf -i 20000-30000 -n 50); do
    (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null || { echo "$p"; return 0; }
  done
  die "no free port"
}

for b in m2jortt magento-double; do [ -x "$BIN/$b" ] || die "$BIN/$b missing: run make all"; done
command -v node >/dev/null || die "node is needed (apt-get install nodejs)"

# ---- redis, the double, the orders -------------------------------------------
REDIS_PORT=$(free_port)
mkdir -p "$WORK/redis"
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$WORK/redis" --appendonly yes --appendfsync always \
  --save "" --maxmemory-policy noeviction > "$WORK/redis.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do redis-cli -p "$REDIS_PORT" PING >/dev/null 2>&1 && break; sleep 0.05; done
redis-cli -p "$REDIS_PORT" PING >/dev/null || die "redis-server did not start ($WORK/redis.log)"

"$BIN/magento-double" --listen 127.0.0.1:0 --consumer-key $CK --consumer-secret $CS --access-token $AT \
  --access-token-secret $ATS > "$WORK/magento.log" 2>&1 &
PIDS+=($!)
MPORT=""
for _ in $(seq 1 100); do
  MPORT=$(sed -n 's/^listening .*:\([0-9]*\)$/\1/p' "$WORK/magento.log" | head -1)
  [ -n "$MPORT" ] && break
  sleep 0.05
done
[ -n "$MPORT" ] || die "magento-double printed no port ($WORK/magento.log)"
MURL="http://127.0.0.1:$MPORT"

log "loading $N orders into the Magento double"
mkdir -p "$WORK/orders"
node "$BENCH/gen_orders.js" "$ROOT/tests/fixtures/integration/order-nl-processing.json" "$N" "$DAY" "$WORK/orders"
for f in "$WORK"/orders/orders-*.json; do
  curl -sf -o /dev/null -H 'Content-Type: application/json' --data-binary @"$f" "$MURL/_magento/orders" \
    || die "the double refused $f"
done

cat > "$WORK/m2jortt.json" <<JSON
{
  "redis": { "url": "redis://127.0.0.1:$REDIS_PORT/0", "key_prefix": "m2jortt" },
  "receiver": { "webhook_secret": "whsec_YmVuY2gtYmFja2ZpbGwtc2VjcmV0" },
  "magento": { "rest_url": "$MURL/rest/all", "consumer_key": "$CK", "consumer_secret": "$CS",
               "access_token": "$AT", "access_token_secret": "$ATS", "requests_per_second": $RPS,
               "poll_interval_seconds": 0 }
}
JSON

# ---- the run -----------------------------------------------------------------
# CPU seconds (utime+stime) of a running process
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{sub(/.*\) /, ""); printf "%.2f", ($12 + $13) / hz}' "/proc/$1/stat"; }
log "m2jortt backfill --from $DAY --to $DAY --yes"
MPID=${PIDS[1]} RPID=${PIDS[0]}
m0=$(cpu_s "$MPID") r0=$(cpu_s "$RPID")
t0=$(date +%s%N)
/usr/bin/time -f '%U %S' -o "$WORK/cli.time" "$BIN/m2jortt" --config "$WORK/m2jortt.json" \
  backfill --from $DAY --to $DAY --yes --json > "$WORK/out.json" 2> "$WORK/cli.log" \
  || die "backfill failed: $(cat "$WORK/cli.log")"
t1=$(date +%s%N)
m1=$(cpu_s "$MPID") r1=$(cpu_s "$RPID")
cli_cpu=$(awk '{printf "%.2f", $1 + $2}' "$WORK/cli.time")
dbl_cpu=$(awk -v a="$m0" -v b="$m1" 'BEGIN{printf "%.2f", b - a}')
rds_cpu=$(awk -v a="$r0" -v b="$r1" 'BEGIN{printf "%.2f", b - a}')
queued=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1])).queued)' "$WORK/out.json")
calls=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1])).magento_calls)' "$WORK/out.json")
xlen=$(redis-cli -p "$REDIS_PORT" XLEN m2jortt:events)
seen=$(curl -sf "$MURL/_magento/stats" | node -e \
  'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const c=JSON.parse(s).calls;
   console.log(Object.values(c).reduce((a,b)=>a+b,0))})')
[ "$queued" = "$N" ] && [ "$xlen" = "$N" ] || die "queued $queued, stream holds $xlen, expected $N"
[ "$seen" = "$calls" ] || die "the CLI counted $calls Magento calls, the double $seen"

ms=$(( (t1 - t0) / 1000000 ))
# The push path, as the bench/run.sh that called this measured it: the receiver's best
# ingest rate, and one worker's end-to-end rate for returning customers.
push_rps=$( [ -f "$RAW" ] && node -e '
  const l=require("fs").readFileSync(process.argv[1],"utf8").split("\n").filter(Boolean).map(JSON.parse);
  const r=l.filter(x=>x.part==="ingest"&&x.target==="receiver"&&!x.delay_ms).map(x=>x.wrk.rps);
  console.log(r.length?Math.round(Math.max(...r)):"-")' "$RAW" || echo -)
push_e2e=$( [ -f "$RAW" ] && node -e '
  const l=require("fs").readFileSync(process.argv[1],"utf8").split("\n").filter(Boolean).map(JSON.parse);
  const r=l.filter(x=>x.part==="e2e"&&x.workers===1&&!x.latency_ms&&!x.limit&&x.customers==="returning");
  console.log(r.length&&r[0].seconds?(r[0].orders/r[0].seconds).toFixed(1):"-")' "$RAW" 2>/dev/null || echo -)
read -r per_order qps <<< "$(node -e '
  const [n,c,ms]=process.argv.slice(1).map(Number);
  console.log((c/n).toFixed(4), Math.round(n/(ms/1000)))' "$N" "$calls" "$ms")"
met=$(node -e 'console.log(Number(process.argv[1]) <= 0.02 ? "met" : "missed")' "$per_order")
rev=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo "?")
printf '{"part":"backfill","orders":%s,"magento_calls":%s,"calls_per_order":%s,"seconds":%s,"orders_per_second":%s,"requests_per_second_limit":%s,"cpu_s":{"cli":%s,"double":%s,"redis":%s},"push_receiver_rps":"%s","rev":"%s","at":"%s"}\n' \
  "$N" "$calls" "$per_order" "$(node -e 'console.log((process.argv[1]/1000).toFixed(2))' "$ms")" "$qps" "$RPS" \
  "$cli_cpu" "$dbl_cpu" "$rds_cpu" "$push_rps" "$rev" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >> "$LINE"

section=$(cat <<MD
<!-- backfill:begin (bench/backfill.sh) -->
## 5. Backfill from Magento's REST API

\`m2jortt backfill --from $DAY --to $DAY --yes\` of $N orders (all in \`orders.statuses\`) against the Magento
double, Redis as above (append-only, fsync always), \`magento.requests_per_second\` $RPS (the pace: one request
per 1/$RPS s), one run at $rev on $(date -u +%Y-%m-%d). Calls are the double's counts (equal to the CLI's).

| orders | Magento calls | calls/order (target <= 0.02) | s | orders queued/s | CPU s: CLI / double / Redis |
|---:|---:|---:|---:|---:|---|
| $N | $calls | $per_order (**$met**) | $(node -e 'console.log((process.argv[1]/1000).toFixed(2))' "$ms") | $qps | $cli_cpu / $dbl_cpu / $rds_cpu |

Beside it, the push path as the same bench run measured it (section 1, and section 3 with \`--full\`):
the receiver takes $push_rps signed orders/s at best, and one worker invoices $push_e2e orders/s end to end
(returning customers, no added latency; "-" when the run had no end-to-end section).

One request counts the range, then one page per 100 in-status orders (keyset on \`entity_id\`, stopping by
\`total_count\`); nothing per order. The pace bounds it: $RPS requests/s of 100 orders is at most
$((RPS * 100)) orders/s; a shop's real limit (default 4/s) makes it 400 orders/s, still far above what the
workers invoice, so backfill is never the slow part of a catch-up. Queuing is one enqueue script per page.
Most of the CPU is the double's (it filters and sorts all $N orders for every page, as a database would not
need to); the CLI's share is normalising each order into its event. Wall time above the CPU sums is waiting:
the pace, one fsync per page, and a machine shared with other work.
<!-- backfill:end -->
MD
)
if [ -f "$OUT" ] && grep -q '<!-- backfill:begin' "$OUT"; then
  node -e '
    const fs=require("fs"); const [f,s]=[process.argv[1],process.argv[2]];
    const t=fs.readFileSync(f,"utf8");
    fs.writeFileSync(f, t.replace(/<!-- backfill:begin[\s\S]*?<!-- backfill:end -->/, s));' "$OUT" "$section"
else
  printf '\n%s\n' "$section" >> "$OUT"
fi
log "$N orders, $calls Magento calls ($per_order per order, $met), ${ms} ms, $qps orders/s: $OUT"
