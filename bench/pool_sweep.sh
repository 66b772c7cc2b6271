#!/usr/bin/env bash
# bench/pool_sweep.sh: how receiver.redis_connections changes ingest when the
# disk is fast and when it is slow, measured the same way each time:
# Redis (appendfsync always) runs under bench/slow_fsync.c, which adds a
# fixed delay to every fsync (0 = the disk as it is) and counts them, so the
# figure that matters, enqueues per fsync, is read directly.
#
#   bench/pool_sweep.sh [ROUNDS] [SECONDS] [DELAYS_US] [POOLS] [CONNS]
#   defaults:            3        4         "0 2000"    "1 2 4 8 16" 64
#
# For each fsync delay: one Redis, one receiver per pool size; each round
# runs redis-benchmark (-c CONNS) and then every receiver with bench/loadgen.c
# at CONNS connections (order shuffled per round), Redis emptied between
# runs. Prints one JSON line per run and a table of medians; ratios are per
# round, then medians.
# M2JORTT_BIN_DIR as for run.sh. Everything started is stopped by PID.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH="$ROOT/bench"
BIN=${M2JORTT_BIN_DIR:-$ROOT/bin}
ROUNDS=${1:-3}; DUR=${2:-4}; DELAYS=${3:-"0 2000"}; POOLS=${4:-"1 2 4 8 16"}; CONNS=${5:-64}
SECRET="whsec_bTJqb3J0dC1iZW5jaC1zZWNyZXQtMDEyMzQ1Njc4OWFi"
TEMPLATE="$BENCH/payloads/order-6kb.json"
WORK=$(mktemp -d /tmp/m2jortt-pool-sweep.XXXXXX)
PIDS=()
log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
stop_all() {
  local i p
  for ((i=${#PIDS[@]}-1; i>=0; i--)); do
    p=${PIDS[$i]}
    kill -TERM "$p" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  PIDS=()
}
cleanup() { local rc=$?; trap - EXIT INT TERM; stop_all; [ "${BENCH_KEEP:-0}" = 1 ] || rm -rf "$WORK"; exit $rc; }
trap cleanup EXIT
trap 'exit 130' INT TERM
free_port() {
  local p
  for p in $(shuf -i 20000-30000 -n 50); do
    (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null || { echo "$p"; return 0; }
  done
  die "no free port"
}
wait_port() { for _ in $(seq 1 100); do (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.1; done; return 1; }
ticks() { awk '{sub(/.*\) /, ""); print $12 + $13}' "/proc/$1/stat"; }

cc -O2 -std=c11 -D_GNU_SOURCE "$BENCH/gen_signed.c" -o "$WORK/gen_signed" -lcrypto
cc -O2 -std=c11 -D_GNU_SOURCE "$BENCH/loadgen.c" -o "$WORK/loadgen"
cc -shared -fPIC -O2 -o "$WORK/slow_fsync.so" "$BENCH/slow_fsync.c" -ldl
"$WORK/gen_signed" "$TEMPLATE" "$SECRET" 1 --body 0 --tag probe > "$WORK/body.json"
HZ=$(getconf CLK_TCK)

for delay in $DELAYS; do
  RPORT=$(free_port); mkdir -p "$WORK/redis-$delay"; CNT="$WORK/fsyncs-$delay"
  SLOW_FSYNC_US=$delay SLOW_FSYNC_COUNT=$CNT LD_PRELOAD="$WORK/slow_fsync.so" \
    redis-server --port "$RPORT" --bind 127.0.0.1 --dir "$WORK/redis-$delay" --appendonly yes --appendfsync always \
    --save "" --auto-aof-rewrite-percentage 0 --daemonize no > "$WORK/redis-$delay.log" 2>&1 &
  REDIS=$!; PIDS+=("$REDIS")
  wait_port "$RPORT" || die "redis did not start"
  rc() { redis-cli -p "$RPORT" "$@"; }
  fsyncs() { [ -f "$CNT" ] && od -An -t u8 "$CNT" | tr -d ' ' || echo 0; }
  declare -A PORT PID
  for pool in $POOLS; do
    PORT[$pool]=$(free_port)
    cat > "$WORK/r-$pool.json" <<EOF
{ "redis": { "url": "redis://127.0.0.1:$RPORT/0" },
  "receiver": { "listen": "127.0.0.1:${PORT[$pool]}", "webhook_secret": "$SECRET", "redis_connections": $pool },
  "log": { "level": "warn" } }
EOF
    "$BIN/m2jortt-receiver" --config "$WORK/r-$pool.json" > "$WORK/r-$pool.log" 2>&1 &
    PID[$pool]=$!; PIDS+=("$!")
    wait_port "${PORT[$pool]}" || die "receiver (pool $pool) did not start"
  done
  sleep 1
  for round in $(seq 1 "$ROUNDS"); do
    log "fsync +${delay} us, round $round/$ROUNDS"
    "$WORK/gen_signed" "$TEMPLATE" "$SECRET" 60000 --tag "s$delay$round" > "$WORK/sigs.tsv"
    rc FLUSHALL >/dev/null
    f0=$(fsyncs); r0=$(ticks "$REDIS")
    redis-benchmark -p "$RPORT" -c "$CONNS" -n $((CONNS * 200)) --csv XADD rb '*' job "$(cat "$WORK/body.json")" \
      > "$WORK/rb.csv" 2>/dev/null
    f1=$(fsyncs)
    rps=$(tail -1 "$WORK/rb.csv" | awk -F'","' '{gsub(/"/, "", $NF); print $(NF-6)}')
    n=$((CONNS * 200))
    echo "{\"delay_us\":$delay,\"round\":$round,\"target\":\"redis-benchmark\",\"rps\":$rps,\"requests\":$n,\"fsyncs\":$((f1 - f0))}"
    for pool in $(echo $POOLS | tr ' ' '\n' | shuf); do
      rc FLUSHALL >/dev/null
      rm -f "$WORK/loadgen.json"
      f0=$(fsyncs); c0=$(ticks "${PID[$pool]}")
      "$WORK/loadgen" "http://127.0.0.1:${PORT[$pool]}/webhooks/magento" "$CONNS" "$DUR" "$TEMPLATE" \
        "$WORK/sigs.tsv" "$WORK/loadgen.json" 0 > "$WORK/loadgen.log" 2>&1 || die "loadgen failed: $(tail -3 "$WORK/loadgen.log")"
      f1=$(fsyncs); c1=$(ticks "${PID[$pool]}")
      node -e '
        const w = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
        const [delay, round, pool, f, c, hz] = process.argv.slice(2).map(Number);
        console.log(JSON.stringify({ delay_us: delay, round, target: "receiver", pool, rps: w.rps, requests: w.requests,
          p99_us: w.p99_us, non2xx: w.non2xx, fsyncs: f, cpu_ms_per_req: w.requests ? c / hz * 1000 / w.requests : null }));' \
        "$WORK/loadgen.json" "$delay" "$round" "$pool" "$((f1 - f0))" "$((c1 - c0))" "$HZ"
    done
  done
  stop_all
  unset PORT PID
done | tee "$WORK/sweep.jsonl"

node -e '
  const rows = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map(JSON.parse);
  const med = (a) => { const v = a.filter((x) => x !== null).sort((x, y) => x - y); return v.length ? v[Math.floor((v.length - 1) / 2)] : null; };
  for (const d of [...new Set(rows.map((r) => r.delay_us))]) {
    const rs = rows.filter((r) => r.delay_us === d);
    const rounds = [...new Set(rs.map((r) => r.round))];
    const rb = (rd) => rs.find((r) => r.round === rd && r.target === "redis-benchmark");
    console.log(`\nfsync +${d} us: redis-benchmark ${Math.round(med(rs.filter((r) => r.target === "redis-benchmark").map((r) => r.rps)))} XADD/s, ` +
      `${med(rs.filter((r) => r.target === "redis-benchmark").map((r) => r.requests / r.fsyncs)).toFixed(1)} per fsync`);
    console.log("| pool | req/s | / pool 1 | / redis-benchmark | enqueues per fsync | p99 ms | receiver CPU ms/req |");
    console.log("|---:|---:|---:|---:|---:|---:|---:|");
    for (const pool of [...new Set(rs.filter((r) => r.pool).map((r) => r.pool))].sort((a, b) => a - b)) {
      const xs = rs.filter((r) => r.pool === pool);
      const vs1 = med(rounds.map((rd) => { const a = xs.find((r) => r.round === rd), b = rs.find((r) => r.round === rd && r.pool === 1); return a && b ? a.rps / b.rps : null; }));
      const vsrb = med(rounds.map((rd) => { const a = xs.find((r) => r.round === rd), b = rb(rd); return a && b ? a.rps / b.rps : null; }));
      console.log(`| ${pool} | ${Math.round(med(xs.map((r) => r.rps)))} | ${vs1 === null ? "-" : vs1.toFixed(2)} | ${vsrb.toFixed(2)} | ` +
        `${med(xs.map((r) => r.fsyncs ? r.requests / r.fsyncs : null)).toFixed(1)} | ${(med(xs.map((r) => r.p99_us)) / 1000).toFixed(1)} | ` +
        `${med(xs.map((r) => r.cpu_ms_per_req)).toFixed(3)} |`);
    }
  }' "$WORK/sweep.jsonl"
