#!/usr/bin/env bash
# bench/profile.sh: where does the time go? Runs one component under the
# benchmark's load with a profiler and prints the hottest functions.
#
#   bench/profile.sh receiver [CONNS] [SECONDS]   perf record -g on the receiver under bench/loadgen.c
#   bench/profile.sh receiver-callgrind [N]       valgrind --tool=callgrind, N requests (slow)
#   bench/profile.sh receiver-strace [CONNS] [SECONDS]  strace -c -f on the receiver under loadgen:
#                                                 system calls per request (epoll_ctl, brk, ...)
#   bench/profile.sh worker [ORDERS]              perf record -g on one worker draining ORDERS orders
#
# Same Redis set-up as run.sh (appendfsync always, temp folder, free port);
# everything it starts is stopped by PID on exit. Output and the raw profile
# stay in the printed temp folder. M2JORTT_BIN_DIR as for run.sh.
# PROFILE_LOG_LEVEL (default warn; run.sh's ingest runs at info) sets the receiver's log.level:
# "info" profiles it writing its per-request log line too.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH="$ROOT/bench"
BIN=${M2JORTT_BIN_DIR:-$ROOT/bin}
WHAT=${1:-receiver}
SECRET="whsec_bTJqb3J0dC1iZW5jaC1zZWNyZXQtMDEyMzQ1Njc4OWFi"
TEMPLATE="$BENCH/payloads/order-6kb.json"
WORK=$(mktemp -d /tmp/m2jortt-profile.XXXXXX)
PIDS=()
log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
cleanup() {
  local rc=$? i p
  trap - EXIT INT TERM
  for ((i=${#PIDS[@]}-1; i>=0; i--)); do
    p=${PIDS[$i]}
    kill -TERM "$p" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  log "profile and logs in $WORK"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM
start_bg() { local name=$1; shift; ( exec "$@" ) >"$WORK/$name.log" 2>&1 & LAST_PID=$!; PIDS+=("$LAST_PID"); }
# A port nobody listens on, below the kernel's ephemeral range so that no
# outgoing connection (the load generator's, a Redis client's) can be holding it either.
free_port() {
  local p lo
  lo=$(awk '{print $1}' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
  [ "$lo" -gt 11000 ] || lo=32768
  for _ in $(seq 1 200); do
    p=$((10000 + RANDOM % (lo - 10000)))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && \
       ! { command -v ss >/dev/null 2>&1 && ss -Htan "( sport = :$p )" 2>/dev/null | grep -q .; }; then
      echo "$p"; return 0
    fi
  done
  die "no free port"
}
wait_port() {
  for _ in $(seq 1 150); do
    kill -0 "$2" 2>/dev/null || return 1
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}
case "$WHAT" in
  receiver-strace) command -v strace >/dev/null 2>&1 || die "strace missing (apt-get install strace)" ;;
  *) command -v perf >/dev/null 2>&1 || die "perf missing (apt-get install linux-perf)" ;;
esac
cc -O2 -std=c11 -D_GNU_SOURCE "$BENCH/gen_signed.c" -o "$WORK/gen_signed" -lcrypto
cc -O2 -std=c11 -D_GNU_SOURCE "$BENCH/loadgen.c" -o "$WORK/loadgen"

REDIS_PORT=$(free_port)
mkdir -p "$WORK/redis"
start_bg redis redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$WORK/redis" --appendonly yes \
  --appendfsync always --save "" --maxmemory-policy noeviction
wait_port "$REDIS_PORT" "$LAST_PID" || die "redis did not start"

config() { # LISTEN_PORT JORTT_URL
  cat > "$WORK/config.json" <<EOF
{ "redis": { "url": "redis://127.0.0.1:$REDIS_PORT/0" },
  "receiver": { "listen": "127.0.0.1:$1", "webhook_secret": "$SECRET" },
  "jortt": { "api_url": "$2", "token_url": "$2/oauth-provider/oauth/token", "client_id": "bench",
             "client_secret": "bench-secret", "requests_per_second": 1000 },
  "worker": { "block_ms": 200 },
  "log": { "level": "${PROFILE_LOG_LEVEL:-warn}" } }
EOF
}

report() { # PERFDATA
  perf report -i "$1" --stdio --no-children --percent-limit 1 --sort symbol 2>/dev/null \
    | grep -v '^$' | head -80 | tee "$WORK/report.txt" || true # head closes the pipe early (pipefail)
  log "callers of the top entries: perf report -i $1 --stdio --children"
}

case "$WHAT" in
  receiver|receiver-callgrind|receiver-strace)
    RPORT=$(free_port)
    config "$RPORT" "http://127.0.0.1:9"
    "$WORK/gen_signed" "$TEMPLATE" "$SECRET" 200000 --tag prof > "$WORK/sigs.tsv"
    if [ "$WHAT" = receiver-strace ]; then
      start_bg receiver "$BIN/m2jortt-receiver" --config "$WORK/config.json"
      RPID=$LAST_PID
      wait_port "$RPORT" "$RPID" || die "receiver did not start: $(cat "$WORK/receiver.log")"
      C=${2:-16}; S=${3:-5}
      log "strace -c -f on receiver pid $RPID, loadgen with $C connections for $S s"
      strace -c -f -p "$RPID" -o "$WORK/strace.txt" &
      STRACE=$!
      sleep 0.5
      "$WORK/loadgen" "http://127.0.0.1:$RPORT/webhooks/magento" "$C" "$S" "$TEMPLATE" "$WORK/sigs.tsv" \
        | tee "$WORK/loadgen.txt"
      kill -INT "$STRACE"; wait "$STRACE" 2>/dev/null || true
      REQS=$(grep -o '"requests":[0-9]*' "$WORK/loadgen.txt" | head -1 | cut -d: -f2)
      cat "$WORK/strace.txt"
      log "requests: $REQS (divide the calls column by it; strace slows the receiver, so only counts matter)"
    elif [ "$WHAT" = receiver ]; then
      start_bg receiver "$BIN/m2jortt-receiver" --config "$WORK/config.json"
      RPID=$LAST_PID
      wait_port "$RPORT" "$RPID" || die "receiver did not start: $(cat "$WORK/receiver.log")"
      C=${2:-16}; S=${3:-10}
      log "perf record -g on receiver pid $RPID, loadgen with $C connections for $S s"
      perf record -F 999 -g -p "$RPID" -o "$WORK/perf.data" -- sleep "$S" >/dev/null 2>&1 &
      PERF=$!
      "$WORK/loadgen" "http://127.0.0.1:$RPORT/webhooks/magento" "$C" "$S" "$TEMPLATE" "$WORK/sigs.tsv" \
        | tee "$WORK/loadgen.txt"
      wait "$PERF" || true
      report "$WORK/perf.data"
      grep -E 'VmHWM|VmRSS' "/proc/$RPID/status"
    else
      N=${2:-3000}
      head -n "$N" "$WORK/sigs.tsv" > "$WORK/sigs-n.tsv"
      start_bg receiver valgrind --tool=callgrind --callgrind-out-file="$WORK/callgrind.out" \
        "$BIN/m2jortt-receiver" --config "$WORK/config.json"
      RPID=$LAST_PID
      wait_port "$RPORT" "$RPID" || die "receiver did not start under valgrind"
      node "$BENCH/post.js" "http://127.0.0.1:$RPORT/webhooks/magento" "$TEMPLATE" "$WORK/sigs-n.tsv" 4
      kill -TERM "$RPID"; wait "$RPID" 2>/dev/null || true
      callgrind_annotate "$WORK/callgrind.out" 2>/dev/null | head -60 | tee "$WORK/report.txt"
    fi
    ;;
  worker)
    N=${2:-2000}
    start_bg double "$BIN/jortt-double" --listen 127.0.0.1:0 --rate-limit 0
    for _ in $(seq 1 50); do
      DPORT=$(sed -n 's/^listening 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$WORK/double.log" | head -1)
      [ -n "$DPORT" ] && break; sleep 0.1
    done
    [ -n "${DPORT:-}" ] || die "double printed no port"
    RPORT=$(free_port)
    config "$RPORT" "http://127.0.0.1:$DPORT"
    start_bg receiver "$BIN/m2jortt-receiver" --config "$WORK/config.json"
    wait_port "$RPORT" "$LAST_PID" || die "receiver did not start"
    "$WORK/gen_signed" "$TEMPLATE" "$SECRET" "$N" --tag profw > "$WORK/sigs.tsv"
    node "$BENCH/post.js" "http://127.0.0.1:$RPORT/webhooks/magento" "$TEMPLATE" "$WORK/sigs.tsv" 16
    start_bg worker "$BIN/m2jortt-worker" --config "$WORK/config.json"
    WPID=$LAST_PID
    perf record -F 999 -g -p "$WPID" -o "$WORK/perf.data" >/dev/null 2>&1 &
    PERF=$!
    T0=$(date +%s.%N)
    for _ in $(seq 1 3000); do
      D=$(redis-cli -p "$REDIS_PORT" HMGET m2jortt:stats processed skipped dead_total | awk '{s += $1} END {print s + 0}')
      [ "$D" -ge "$N" ] && break
      sleep 0.2
    done
    log "drained $D of $N in $(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.2f", b - a}') s"
    kill -INT "$PERF"; wait "$PERF" 2>/dev/null || true
    report "$WORK/perf.data"
    grep -E 'VmHWM|VmRSS' "/proc/$WPID/status"
    curl -s "http://127.0.0.1:$DPORT/_double/state" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.stringify(JSON.parse(s).calls)))'
    ;;
  *) die "unknown target $WHAT (receiver | receiver-callgrind | receiver-strace | worker)" ;;
esac
