#!/usr/bin/env bash
# bench/run.sh: the m2jortt benchmarks (`make bench` runs it after `make deps
# all bench-bins`). Writes bench/RESULTS.md (and the raw figures to
# bench/RESULTS.jsonl).
#
#   bench/run.sh            standard (make bench): 2 rounds of 16 and 64 connections, 5 s points,
#                           Redis connection pools 1/4/8, p99 at half rate against Redis paced the
#                           same, order -> invoice latency, backfill of 2,000 orders (~5 min)
#   bench/run.sh --full     3 rounds of 1/4/16/64 connections, 10 s points, plus the worker fleet
#                           end to end (10,000 orders, rate limits, latencies), backfill of 10,000 (~35 min)
#   bench/run.sh --quick    development: 1 round, 3 s points, few orders (~3 min)
#   bench/run.sh --only ingest|latency|e2e|parse|backfill   one part (development)
#   (the backfill part is bench/backfill.sh, run last: Magento calls per order)
#
# Environment: M2JORTT_BIN_DIR (default bin/ of this tree, as `make all`
# builds it), BENCH_BUILD (the build folder holding bench/ingest_cost, as
# `make bench-bins` builds it; default build/), BENCH_OUT (default
# bench/RESULTS.md), BENCH_KEEP=1 keeps the temp folder with every log.
#
# Everything this script starts (redis-server on a free port in a temp folder,
# nginx with a temp config and pid file, the Node peer, the Jortt double, the
# receiver, the workers) is stopped by PID at the end and on error or Ctrl-C.
# All traffic stays on 127.0.0.1.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH="$ROOT/bench"
QUICK=0
FULL=0
ONLY=""
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --full) FULL=1 ;;
    --only) ONLY="$2"; shift ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
BIN=${M2JORTT_BIN_DIR:-$ROOT/bin}
OUT=${BENCH_OUT:-$BENCH/RESULTS.md}
RAW="${OUT%.md}.jsonl"
if [ "$ONLY" = backfill ]; then
  # needs none of the rest; writes only its own section of RESULTS.md
  BENCH_OUT="$OUT" M2JORTT_BIN_DIR="$BIN" exec "$BENCH/backfill.sh" "$([ "$FULL" = 1 ] && echo 10000 || echo 2000)"
fi

# ---- sizes ----------------------------------------------------------------
# POOLS: receiver.redis_connections of the receivers measured side by side;
# POOL_DEFAULT (the configuration default) is the one called "receiver".
# LAT_*: the order -> invoice latency batch (LAT_N orders at half the Jortt
# limit LAT_LIMIT, returning customers: one call per order).
POOLS="1 4 8"; POOL_DEFAULT=8; LAT_LIMIT=10; LAT_CUST=20; E2E=0
if [ "$QUICK" = 1 ]; then
  MODE=quick; ROUNDS=1; DUR=3; CONNS="16 64"; NSIGS=60000; RB_N_PER_CONN=1000; RB_N_MIN=3000; RB_N_MAX=20000
  LAT_N=40
elif [ "$FULL" = 1 ]; then
  MODE=full; ROUNDS=3; DUR=10; CONNS="1 4 16 64"; NSIGS=120000; RB_N_PER_CONN=3000; RB_N_MIN=10000; RB_N_MAX=60000
  LAT_N=300; E2E=1
  E2E_WORKERS="1 2 4"; E2E_N_FAST=10000; E2E_N_SLOW_PER_WORKER=150; E2E_N_LIMITED=300
  E2E_LATENCIES="0 100"; E2E_LIMITS="0 10"
else
  MODE=standard; ROUNDS=2; DUR=5; CONNS="16 64"; NSIGS=120000; RB_N_PER_CONN=1500; RB_N_MIN=5000; RB_N_MAX=30000
  LAT_N=100
fi
SECRET="whsec_bTJqb3J0dC1iZW5jaC1zZWNyZXQtMDEyMzQ1Njc4OWFi"
PREFIX="m2jortt"
TEMPLATE="$BENCH/payloads/order-6kb.json"
PATH_URL="/webhooks/magento"

# ---- processes and clean-up ----------------------------------------------
WORK=$(mktemp -d /tmp/m2jortt-bench.XXXXXX)
mkdir -p "$WORK/logs"
PIDS=()

log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# Stops one process we started: TERM, up to 10 s, then KILL.
stop_pid() {
  local pid=$1 i
  [ -n "$pid" ] || return 0
  kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  local keep=() p
  for p in "${PIDS[@]}"; do [ "$p" = "$pid" ] || keep+=("$p"); done
  PIDS=("${keep[@]+"${keep[@]}"}")
}

cleanup() {
  local rc=$? i
  trap - EXIT INT TERM
  for ((i=${#PIDS[@]}-1; i>=0; i--)); do stop_pid "${PIDS[$i]}"; done
  if [ "${BENCH_KEEP:-0}" = 1 ] || [ $rc -ne 0 ]; then
    log "logs kept in $WORK"
  else
    rm -rf "$WORK"
  fi
  exit $rc
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

# start_bg NAME CMD...: starts CMD in the background with its output in
# logs/NAME.log; sets LAST_PID. exec keeps the PID the program's own.
start_bg() {
  local name=$1; shift
  ( exec "$@" ) >"$WORK/logs/$name.log" 2>&1 &
  LAST_PID=$!
  PIDS+=("$LAST_PID")
}

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

wait_port() { # PORT PID [SECONDS]
  local i
  for i in $(seq 1 $(( ${3:-15} * 10 ))); do
    kill -0 "$2" 2>/dev/null || return 1
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

CLK_TCK=$(getconf CLK_TCK)
# utime+stime of a process, in clock ticks (fields 14 and 15 of stat, counted
# after the ")" that ends the command name, which may contain spaces).
cpu_ticks() { awk '{sub(/.*\) /, ""); print $12 + $13}' "/proc/$1/stat" 2>/dev/null || echo 0; }
status_kb() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
# Resets VmHWM to the current RSS, so each measurement has its own peak.
reset_hwm() { echo 5 > "/proc/$1/clear_refs" 2>/dev/null || true; }
# CPU seconds of this shell's finished children so far (loadgen, redis-benchmark:
# they run in the foreground). `times` must run in this shell, not in a $(...)
# subshell, which has no children of its own: hence the file.
children_cpu() {
  times > "$WORK/times.txt"
  awk 'NR==2 {split($1,u,/[ms]/); split($2,s,/[ms]/); printf "%.3f", u[1]*60+u[2]+s[1]*60+s[2]}' "$WORK/times.txt"
}

rcli() { redis-cli -p "$REDIS_PORT" "$@"; }

record() { printf '%s\n' "$1" >> "$WORK/results.jsonl"; }
note_cmd() { printf '%s\n' "$*" >> "$WORK/commands.txt"; }

# ---- dependencies ----------------------------------------------------------
need_pkgs=""
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need_pkgs="$need_pkgs nginx-light"
command -v node >/dev/null 2>&1 || need_pkgs="$need_pkgs nodejs"
command -v npm >/dev/null 2>&1 || need_pkgs="$need_pkgs npm"
command -v redis-server >/dev/null 2>&1 || need_pkgs="$need_pkgs redis-server"
command -v redis-benchmark >/dev/null 2>&1 || need_pkgs="$need_pkgs redis-tools"
command -v cc >/dev/null 2>&1 || need_pkgs="$need_pkgs build-essential"
command -v valgrind >/dev/null 2>&1 || need_pkgs="$need_pkgs valgrind"
if [ -n "$need_pkgs" ]; then
  log "installing:$need_pkgs"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  # shellcheck disable=SC2086
  $SUDO apt-get install -y -qq --no-install-recommends $need_pkgs >/dev/null
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
for b in m2jortt-receiver m2jortt-worker m2jortt jortt-double; do
  [ -x "$BIN/$b" ] || die "$BIN/$b missing: run make all first (or set M2JORTT_BIN_DIR)"
done

log "building bench/gen_signed.c, bench/loadgen.c and bench/redis_paced.c"
cc -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror "$BENCH/gen_signed.c" -o "$WORK/gen_signed" -lcrypto
GEN="$WORK/gen_signed"
cc -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror "$BENCH/loadgen.c" -o "$WORK/loadgen"
LOADGEN="$WORK/loadgen"
# shellcheck disable=SC2046
cc -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror "$BENCH/redis_paced.c" -o "$WORK/redis_paced" \
  $(pkg-config --cflags --libs hiredis) -lpthread
PACED="$WORK/redis_paced"
if [ ! -d "$BENCH/peers/node-receiver/node_modules/express" ] || [ ! -d "$BENCH/peers/node-receiver/node_modules/ioredis" ]; then
  log "npm ci (bench/peers/node-receiver)"
  (cd "$BENCH/peers/node-receiver" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi

# ---- redis -----------------------------------------------------------------
# The same Redis for every peer: append-only file, fsync on every write
# (appendfsync always): "answered" then means "on disk", which is what the
# receiver promises. No RDB snapshots, no automatic AOF rewrite during a
# measurement (run.sh rewrites the emptied AOF between measurements).
REDIS_PORT=$(free_port)
mkdir -p "$WORK/redis"
REDIS_ARGS=(--port "$REDIS_PORT" --bind 127.0.0.1 --dir "$WORK/redis" --appendonly yes --appendfsync always
            --save "" --auto-aof-rewrite-percentage 0 --maxmemory-policy noeviction --daemonize no
            --latency-monitor-threshold 1)
start_bg redis redis-server "${REDIS_ARGS[@]}"
REDIS_PID=$LAST_PID
wait_port "$REDIS_PORT" "$REDIS_PID" || die "redis-server did not start (logs/redis.log)"
note_cmd "redis-server ${REDIS_ARGS[*]}"

# Empties Redis and its append-only file between measurements, so every one
# starts from the same state and the dedup keys of one do not touch the next.
redis_reset() {
  rcli FLUSHALL >/dev/null
  rcli BGREWRITEAOF >/dev/null 2>&1 || true
  local i
  for i in $(seq 1 300); do
    rcli INFO persistence | grep -q '^aof_rewrite_in_progress:0' && \
      ! rcli INFO persistence | grep -q '^aof_rewrite_scheduled:1' && return 0
    sleep 0.1
  done
}

# ---- configuration for receiver and worker ---------------------------------
# write_config FILE LISTEN_PORT JORTT_URL RPS [REDIS_CONNECTIONS]
write_config() {
  cat > "$1" <<EOF
{
  "redis": { "url": "redis://127.0.0.1:$REDIS_PORT/0", "key_prefix": "$PREFIX" },
  "receiver": {
    "listen": "127.0.0.1:$2",
    "webhook_secret": "$SECRET",
    "redis_connections": ${5:-$POOL_DEFAULT}
  },
  "jortt": {
    "api_url": "$3",
    "token_url": "$3/oauth-provider/oauth/token",
    "client_id": "bench",
    "client_secret": "bench-secret",
    "requests_per_second": $4
  },
  "worker": { "block_ms": 200 },
  "log": { "level": "info" }
}
EOF
}

start_receiver() { # CONFIG -> RECEIVER_PID
  start_bg receiver "$BIN/m2jortt-receiver" --config "$1"
  RECEIVER_PID=$LAST_PID
}

# ---- machine and versions --------------------------------------------------
machine_info() {
  {
    echo "kernel=$(uname -srm)"
    echo "cpu=$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)"
    echo "cores=$(nproc)"
    echo "memory=$(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
    echo "disk=$(df -h "$WORK" | awk 'NR==2 {print $1" ("$2")"}')"
    echo "os=$(. /etc/os-release 2>/dev/null; echo "${PRETTY_NAME:-unknown}")"
    echo "cc=$(cc --version | head -1)"
    echo "redis=$(redis-server --version | awk '{print $3}' | sed 's/v=//')"
    echo "nginx=$($NGINX -v 2>&1 | sed 's#.*/##')"
    echo "node=$(node -v)"
    echo "express=$(node -p 'require("'"$BENCH"'/peers/node-receiver/node_modules/express/package.json").version')"
    echo "ioredis=$(node -p 'require("'"$BENCH"'/peers/node-receiver/node_modules/ioredis/package.json").version')"
    echo "loadgen=bench/loadgen.c (built by run.sh with the cc above)"
    for p in libevent-2.1-7 libhiredis0.14 libjson-c5 libssl3 libcurl4; do
      echo "$p=$(dpkg-query -W -f='${Version}' "$p" 2>/dev/null || echo '?')"
    done
    echo "m2jortt=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$ROOT" diff --quiet HEAD -- receiver worker common 2>/dev/null || echo ' (with uncommitted changes)')"
    echo "binaries=$BIN"
    echo "mode=$MODE"
    echo "pool_default=$POOL_DEFAULT"
    echo "load=$(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min load average at the start; 2 cores)"
    echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  } > "$WORK/machine.txt"
}
machine_info

# ---- 1. ingest ---------------------------------------------------------------
# One load-generator measurement (bench/loadgen.c, one thread) against the
# server at URL whose main process is PID. Writes one JSON line: loadgen's
# figures plus CPU (server, redis, loadgen) and the server's peak RSS during
# the run. loadgen's figures stay under the "wrk" key, the name they had when
# wrk + post.lua made them, so report.js, backfill.sh and older RESULTS.jsonl
# files all read the same shape.
http_point() { # TARGET ROUND CONNS URL PID SIGS [DELAY_MS]
  local target=$1 round=$2 c=$3 url=$4 pid=$5 sigs=$6 delay=${7:-0}
  local out="$WORK/loadgen-$target-$round-$c.json"
  rm -f "$out"
  reset_hwm "$pid"
  rcli LATENCY RESET >/dev/null
  local t0 r0 c0 w0 t1 r1 c1 w1
  children_cpu > "$WORK/w0"
  t0=$(date +%s.%N); c0=$(cpu_ticks "$pid"); r0=$(cpu_ticks "$REDIS_PID"); w0=$(cat "$WORK/w0")
  local cmd=("$LOADGEN" "$url" "$c" "$DUR" "$TEMPLATE" "$sigs" "$out" "$delay")
  "${cmd[@]}" > "$WORK/logs/loadgen-$target-$round-$c.txt" 2>&1 \
    || die "loadgen failed ($target c=$c): $(tail -3 "$WORK/logs/loadgen-$target-$round-$c.txt")"
  t1=$(date +%s.%N); c1=$(cpu_ticks "$pid"); r1=$(cpu_ticks "$REDIS_PID")
  children_cpu > "$WORK/w1"; w1=$(cat "$WORK/w1")
  [ -s "$out" ] || die "loadgen wrote no figures ($target c=$c): logs/loadgen-$target-$round-$c.txt"
  local hwm rss fsync
  hwm=$(status_kb "$pid" VmHWM); rss=$(status_kb "$pid" VmRSS)
  # Longest AOF fsync during the run (Redis latency monitor, >= 1 ms).
  fsync=$(rcli LATENCY LATEST | awk 'f {n++; if (n == 3) {print; exit}} $0 == "aof-fsync-always" {f = 1}')
  note_cmd "${cmd[*]}"
  record "$(awk -v tg="$target" -v r="$round" -v c="$c" -v t0="$t0" -v t1="$t1" -v c0="$c0" -v c1="$c1" \
      -v r0="$r0" -v r1="$r1" -v w0="$w0" -v w1="$w1" -v hz="$CLK_TCK" -v hwm="$hwm" -v rss="$rss" -v d="$delay" \
      -v fs="${fsync:-0}" -v wrk="$(cat "$out")" 'BEGIN {
        wall = t1 - t0;
        printf "{\"part\":\"ingest\",\"target\":\"%s\",\"round\":%d,\"conns\":%d,\"delay_ms\":%s,\"server_cpu_pct\":%.1f,\"redis_cpu_pct\":%.1f,\"loadgen_cpu_pct\":%.1f,\"hwm_kb\":%d,\"rss_kb\":%d,\"fsync_max_ms\":%d,\"wrk\":%s}",
          tg, r, c, d, (c1-c0)/hz/wall*100, (r1-r0)/hz/wall*100, (w1-w0)/wall*100, hwm, rss, fs, wrk }')"
}

rb_point() { # ROUND CONNS BODYFILE [REDIS_CONNS]
  local round=$1 c=$2 body=$3 pipe=${4:-0}
  # REDIS_CONNS: C commands in flight over that many connections (-c N -P C/N),
  # the way a receiver with N Redis connections sends them, instead of C
  # connections with one command each.
  local target=redis-benchmark rbc=(-c "$c")
  if [ "$pipe" -ge 1 ]; then
    target=redis-benchmark-$([ "$pipe" = 1 ] && echo 1conn || echo "${pipe}conn")
    rbc=(-c "$pipe" -P "$(( c / pipe > 0 ? c / pipe : 1 ))")
  fi
  local csv="$WORK/$target-$round-$c.csv" t0 r0 w0 t1 r1 w1
  children_cpu > "$WORK/w0"
  t0=$(date +%s.%N); r0=$(cpu_ticks "$REDIS_PID"); w0=$(cat "$WORK/w0")
  # Requests: about a few seconds' worth at each concurrency.
  local n=$(( c * RB_N_PER_CONN )); [ "$n" -lt "$RB_N_MIN" ] && n=$RB_N_MIN; [ "$n" -gt "$RB_N_MAX" ] && n=$RB_N_MAX
  redis-benchmark -p "$REDIS_PORT" "${rbc[@]}" -n "$n" --csv XADD "$PREFIX:rb" '*' job "$(cat "$body")" \
    > "$csv" 2>"$WORK/logs/$target-$round-$c.err" || die "redis-benchmark failed"
  t1=$(date +%s.%N); r1=$(cpu_ticks "$REDIS_PID")
  children_cpu > "$WORK/w1"; w1=$(cat "$WORK/w1")
  note_cmd "redis-benchmark -p $REDIS_PORT ${rbc[*]} -n $n --csv XADD $PREFIX:rb '*' job \"\$(cat order-6kb-rendered.json)\""
  # --csv: "test","rps","avg","min","p50","p95","p99","max"; the test name is
  # the whole command (with the body's quotes doubled), so count from the end.
  record "$(tail -1 "$csv" | awk -F'","' -v tg="$target" -v r="$round" -v c="$c" -v t0="$t0" -v t1="$t1" -v r0="$r0" -v r1="$r1" \
      -v w0="$w0" -v w1="$w1" -v hz="$CLK_TCK" '{
        n = NF; gsub(/"/, "", $n); wall = t1 - t0;
        printf "{\"part\":\"ingest\",\"target\":\"%s\",\"round\":%d,\"conns\":%d,\"server_cpu_pct\":%.1f,\"redis_cpu_pct\":%.1f,\"loadgen_cpu_pct\":%.1f,\"wrk\":{\"rps\":%s,\"p50_us\":%d,\"p99_us\":%d,\"max_us\":%d,\"requests\":%d,\"non2xx\":0,\"wraps\":0}}",
          tg, r, c, (r1-r0)/hz/wall*100, (r1-r0)/hz/wall*100, (w1-w0)/wall*100, $(n-6), $(n-3)*1000, $(n-1)*1000, $n*1000, '"$n"' }')"
}

# Checks the Redis counters after a receiver/node run: every 2xx must be one
# queued event (no duplicates from wrapped ids).
check_received() { # TARGET ROUND CONNS
  local recv dup
  recv=$(rcli HGET "$PREFIX:stats" received); dup=$(rcli HGET "$PREFIX:stats" duplicates)
  record "{\"part\":\"ingest-check\",\"target\":\"$1\",\"round\":$2,\"conns\":$3,\"received\":${recv:-0},\"duplicates\":${dup:-0},\"stream_len\":$(rcli XLEN "$PREFIX:events")}"
}

ingest() {
  log "ingest: starting nginx, the Node peer and the receiver"
  local ngport nodeport recvport ngdir="$WORK/nginx"
  mkdir -p "$ngdir"
  ngport=$(free_port)
  sed -e "s#@DIR@#$ngdir#g" -e "s#@PORT@#$ngport#g" "$BENCH/nginx.conf.in" > "$ngdir/nginx.conf"
  start_bg nginx "$NGINX" -c "$ngdir/nginx.conf" -p "$ngdir" -e "$ngdir/error.log"
  local ngmaster=$LAST_PID
  wait_port "$ngport" "$ngmaster" || die "nginx did not start (logs/nginx.log)"
  note_cmd "nginx -c nginx.conf (bench/nginx.conf.in: 1 worker, return 202 from memory)"
  local ngworker
  ngworker=$(pgrep -P "$ngmaster" | head -1)
  [ -n "$ngworker" ] || die "no nginx worker process"

  nodeport=$(free_port)
  ( cd "$BENCH/peers/node-receiver" && PORT=$nodeport REDIS_PORT=$REDIS_PORT SECRET=$SECRET PREFIX=$PREFIX \
      exec node server.js ) >"$WORK/logs/node.log" 2>&1 &
  local nodepid=$!; PIDS+=("$nodepid")
  wait_port "$nodeport" "$nodepid" || die "node peer did not start (logs/node.log)"
  note_cmd "PORT=... REDIS_PORT=... SECRET=... node bench/peers/node-receiver/server.js"

  # One receiver per pool size, side by side (an idle one costs nothing):
  # "receiver" has the default receiver.redis_connections, the others are
  # "receiver-poolN".
  local pool name
  declare -A RPORT RPID
  for pool in $POOLS; do
    name=receiver; [ "$pool" = "$POOL_DEFAULT" ] || name=receiver-pool$pool
    RPORT[$name]=$(free_port)
    write_config "$WORK/ingest-$name.json" "${RPORT[$name]}" "http://127.0.0.1:9" 10 "$pool"
    start_bg "$name" "$BIN/m2jortt-receiver" --config "$WORK/ingest-$name.json"
    RPID[$name]=$LAST_PID
    wait_port "${RPORT[$name]}" "$LAST_PID" || die "$name did not start (logs/$name.log)"
  done
  RECEIVER_PID=${RPID[receiver]}
  recvport=${RPORT[receiver]}
  note_cmd "$BIN/m2jortt-receiver --config ingest.json (appendfsync always Redis, log level info to a file; receiver.redis_connections $POOLS, default $POOL_DEFAULT)"
  sleep 1
  record "{\"part\":\"memory\",\"what\":\"receiver\",\"state\":\"idle\",\"rss_kb\":$(status_kb "$RECEIVER_PID" VmRSS),\"hwm_kb\":$(status_kb "$RECEIVER_PID" VmHWM)}"
  record "{\"part\":\"memory\",\"what\":\"node\",\"state\":\"idle\",\"rss_kb\":$(status_kb "$nodepid" VmRSS),\"hwm_kb\":$(status_kb "$nodepid" VmHWM)}"
  record "{\"part\":\"memory\",\"what\":\"nginx\",\"state\":\"idle\",\"rss_kb\":$(status_kb "$ngworker" VmRSS),\"hwm_kb\":$(status_kb "$ngworker" VmHWM)}"

  # A first request of each kind proves the set-up (signature accepted).
  local sigs="$WORK/sigs.tsv" body="$WORK/order-6kb-rendered.json"
  "$GEN" "$TEMPLATE" "$SECRET" 1 --tag probe > "$sigs"
  "$GEN" "$TEMPLATE" "$SECRET" 1 --body 0 --tag probe > "$body"
  node "$BENCH/post.js" "http://127.0.0.1:$recvport$PATH_URL" "$TEMPLATE" "$sigs" 1 >"$WORK/logs/probe-receiver.txt" 2>&1 \
    || die "the receiver refused a signed order: $(cat "$WORK/logs/probe-receiver.txt"; tail -5 "$WORK/logs/receiver.log")"
  node "$BENCH/post.js" "http://127.0.0.1:$nodeport$PATH_URL" "$TEMPLATE" "$sigs" 1 >"$WORK/logs/probe-node.txt" 2>&1 \
    || die "the Node peer refused a signed order: $(cat "$WORK/logs/probe-node.txt")"

  local round c
  for round in $(seq 1 "$ROUNDS"); do
    for c in $CONNS; do
      # Fresh timestamps per point: the signatures stay inside the receiver's
      # 300 s tolerance however long the whole run takes.
      log "ingest round $round/$ROUNDS, $c connections"
      "$GEN" "$TEMPLATE" "$SECRET" "$NSIGS" --tag "r$round" > "$sigs"
      http_point nginx "$round" "$c" "http://127.0.0.1:$ngport$PATH_URL" "$ngworker" "$sigs"
      redis_reset
      rb_point "$round" "$c" "$body"
      redis_reset
      rb_point "$round" "$c" "$body" 1
      redis_reset
      rb_point "$round" "$c" "$body" "$POOL_DEFAULT"
      redis_reset
      http_point node "$round" "$c" "http://127.0.0.1:$nodeport$PATH_URL" "$nodepid" "$sigs"
      check_received node "$round" "$c"
      redis_reset
      for name in "${!RPORT[@]}"; do
        http_point "$name" "$round" "$c" "http://127.0.0.1:${RPORT[$name]}$PATH_URL" "${RPID[$name]}" "$sigs"
        check_received "$name" "$round" "$c"
        redis_reset
      done
    done
  done
  record "{\"part\":\"memory\",\"what\":\"receiver\",\"state\":\"after ingest\",\"rss_kb\":$(status_kb "$RECEIVER_PID" VmRSS),\"hwm_kb\":$(status_kb "$RECEIVER_PID" VmHWM)}"

  # p99 at about half the maximum rate. loadgen paces each of 64 connections
  # (closed loop, as wrk's delay() did): it waits a random 0.5-1.5x D ms
  # between its requests, D = 64 / (half max rate).
  local maxrps delay
  maxrps=$(node -e '
    const rs = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map(JSON.parse)
      .filter(r => r.part === "ingest" && r.target === "receiver" && !r.delay_ms);
    const by = {};
    for (const r of rs) (by[r.conns] = by[r.conns] || []).push(r.wrk.rps);
    const med = a => { a.sort((x, y) => x - y); return a[Math.floor(a.length / 2)]; };
    console.log(Math.max(...Object.values(by).map(med)).toFixed(0));' "$WORK/results.jsonl")
  delay=$(awk -v m="$maxrps" 'BEGIN {printf "%.2f", 64 * 1000 / (m / 2)}')
  # Calibrate once: each connection's cycle is its latency plus the pause, so
  # the first guess offers less than half; take the latency it measured off
  # the pause (not below 1 ms).
  "$GEN" "$TEMPLATE" "$SECRET" "$NSIGS" --tag "hc" > "$sigs"
  http_point receiver-calibrate 1 64 "http://127.0.0.1:$recvport$PATH_URL" "$RECEIVER_PID" "$sigs" "$delay"
  redis_reset
  delay=$(node -e '
    const rs = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map(JSON.parse);
    const r = rs.filter(x => x.target === "receiver-calibrate").pop();
    const [d, max] = [Number(process.argv[2]), Number(process.argv[3])];
    const lat = r.wrk.rps > 0 ? 64 * 1000 / r.wrk.rps - d : 0;
    console.log(Math.max(1, 64 * 1000 / (max / 2) - Math.max(0, lat)).toFixed(2));' "$WORK/results.jsonl" "$delay" "$maxrps")
  for round in $(seq 1 "$ROUNDS"); do
    log "ingest: receiver paced to ~$((maxrps / 2)) req/s (64 connections, ${delay} ms between requests each), round $round"
    "$GEN" "$TEMPLATE" "$SECRET" "$NSIGS" --tag "h$round" > "$sigs"
    http_point receiver-half "$round" 64 "http://127.0.0.1:$recvport$PATH_URL" "$RECEIVER_PID" "$sigs" "$delay"
    check_received receiver-half "$round" 64
    redis_reset
    # Redis alone, paced the same way (64 connections, the same pauses), for
    # the same XADD of the same ~6 KB body: its own p99 at that rate.
    local r0 r1 t0 t1
    t0=$(date +%s.%N); r0=$(cpu_ticks "$REDIS_PID")
    "$PACED" "$REDIS_PORT" 64 "$delay" "$DUR" "$body" "$PREFIX:rp" > "$WORK/paced-$round.json" \
      2>"$WORK/logs/redis-paced-$round.err" || die "redis_paced failed: $(cat "$WORK/logs/redis-paced-$round.err")"
    t1=$(date +%s.%N); r1=$(cpu_ticks "$REDIS_PID")
    note_cmd "redis_paced $REDIS_PORT 64 $delay $DUR order-6kb-rendered.json $PREFIX:rp   # bench/redis_paced.c: XADD, paced as loadgen"
    record "$(awk -v r="$round" -v d="$delay" -v t0="$t0" -v t1="$t1" -v r0="$r0" -v r1="$r1" -v hz="$CLK_TCK" \
        -v j="$(cat "$WORK/paced-$round.json")" 'BEGIN {
        printf "{\"part\":\"ingest\",\"target\":\"redis-paced\",\"round\":%d,\"conns\":64,\"delay_ms\":%s,\"server_cpu_pct\":%.1f,\"redis_cpu_pct\":%.1f,\"wrk\":%s}",
          r, d, (r1-r0)/hz/(t1-t0)*100, (r1-r0)/hz/(t1-t0)*100, j }')"
    redis_reset
  done
  record "{\"part\":\"ingest-half\",\"max_rps\":$maxrps,\"delay_ms\":$delay}"

  for name in "${!RPID[@]}"; do stop_pid "${RPID[$name]}"; done
  stop_pid "$nodepid"; stop_pid "$ngmaster"
}

# ---- 2. end to end (--full) ----------------------------------------------------
# The double's state holds every customer and invoice: keep only the call
# counters and the entity counts (10,000 invoices would not fit in argv).
double_state() { # FILE
  curl -sf "http://127.0.0.1:$DOUBLE_PORT/_double/state" -o "$1.full" || return 1
  node -e '
    const s = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const n = (x) => Array.isArray(x) ? x.length : (x && typeof x === "object" ? Object.keys(x).length : null);
    console.log(JSON.stringify({ calls: s.calls || null, customers: n(s.customers), invoices: n(s.invoices),
      rate_limit: s.rate_limit }));' "$1.full" > "$1"
  rm -f "$1.full"
}

start_double() { # LIMIT (0 = none) LATENCY_MS
  # The double limits to 10/s unless told otherwise: 0 = unlimited.
  local args=(--listen 127.0.0.1:0 --rate-limit "$1")
  start_bg double "$BIN/jortt-double" "${args[@]}"
  DOUBLE_PID=$LAST_PID
  local i
  DOUBLE_PORT=""
  for i in $(seq 1 100); do
    DOUBLE_PORT=$(sed -n 's/^listening 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$WORK/logs/double.log" | head -1)
    [ -n "$DOUBLE_PORT" ] && break
    kill -0 "$DOUBLE_PID" 2>/dev/null || die "jortt-double died: $(cat "$WORK/logs/double.log")"
    sleep 0.1
  done
  [ -n "$DOUBLE_PORT" ] || die "jortt-double printed no port"
  if [ "$2" -gt 0 ]; then
    curl -sf -X POST -H 'Content-Type: application/json' -d "{\"latency_ms\":$2}" \
      "http://127.0.0.1:$DOUBLE_PORT/_double/faults" >/dev/null || die "could not set the double's latency"
  fi
  note_cmd "$BIN/jortt-double ${args[*]}$([ "$2" -gt 0 ] && echo "; POST /_double/faults {\"latency_ms\":$2}")"
}

# Waits until the stream has no waiting or pending entries and the counters
# account for TARGET events; prints the seconds it took.
wait_drained() { # TARGET TIMEOUT_S T0
  local target=$1 timeout=$2 t0=$3 done_n now
  while :; do
    done_n=$(rcli HMGET "$PREFIX:stats" processed skipped dead_total | awk '{s += $1} END {print s + 0}')
    now=$(date +%s.%N)
    if [ "$done_n" -ge "$target" ]; then
      awk -v a="$t0" -v b="$now" 'BEGIN {printf "%.3f", b - a}'
      return 0
    fi
    if awk -v a="$t0" -v b="$now" -v t="$timeout" 'BEGIN {exit !(b - a > t)}'; then
      log "drain timed out after ${timeout}s with $done_n of $target done"
      echo "-1"
      return 0
    fi
    sleep 0.05
  done
}

WORKER_PIDS=()
start_workers() { # N CONFIG
  local i
  WORKER_PIDS=()
  for i in $(seq 1 "$1"); do
    start_bg "worker$i" "$BIN/m2jortt-worker" --config "$2"
    WORKER_PIDS+=("$LAST_PID")
  done
}
stop_workers() {
  local p
  for p in "${WORKER_PIDS[@]+"${WORKER_PIDS[@]}"}"; do stop_pid "$p"; done
  WORKER_PIDS=()
}
workers_hwm_max() {
  local p m=0 v
  for p in "${WORKER_PIDS[@]}"; do v=$(status_kb "$p" VmHWM); [ "${v:-0}" -gt "$m" ] && m=$v; done
  echo "$m"
}

# Waits until the double's call count has not moved for a second (the
# workers finished their start-up calls), at most 10 s.
wait_double_quiet() {
  local last="" cur i
  for i in $(seq 1 20); do
    cur=$(curl -sf "http://127.0.0.1:$DOUBLE_PORT/_double/state" | node -e '
      let s = ""; process.stdin.on("data", (d) => s += d).on("end", () => console.log(JSON.parse(s).calls.total));')
    [ -n "$last" ] && [ "$cur" = "$last" ] && return 0
    last=$cur
    sleep 0.5
  done
}

# One batch with the W workers already running and idle: snapshot the
# double, post N orders, clock from the first post until the Redis counters
# account for all N. Customers: new = each order a new e-mail; returning =
# the e-mails of the previous batch.
e2e_batch() { # COMBO W LAT LIMIT N KIND START CUSTBASE RECVPORT
  local combo=$1 w=$2 lat=$3 limit=$4 n=$5 kind=$6 start=$7 cbase=$8 rport=$9
  local sigs="$WORK/e2e.tsv" post secs timeout p
  "$GEN" "$TEMPLATE" "$SECRET" "$n" --start "$start" --customer-base "$cbase" --customers "$n" \
    --tag "e$combo$kind" > "$sigs"
  double_state "$WORK/state-before.json" || die "no double state"
  local done0 stats0 p0 p1
  stats0=$(rcli HGETALL "$PREFIX:stats" | paste -sd' ')
  done0=$(rcli HMGET "$PREFIX:stats" processed skipped dead_total | awk '{s += $1} END {print s + 0}')
  p0=$(rcli HGET "$PREFIX:stats" received); p0=${p0:-0}
  # Generous bound: each order needs at most ~3 calls, at the slowest.
  if [ "$limit" -gt 0 ]; then timeout=$(( n * 3 / limit + 120 )); else timeout=$(( n * 3 * (lat + 20) / 1000 / w + 120 )); fi
  for p in "${WORKER_PIDS[@]}"; do reset_hwm "$p"; done
  # Rate-limited batches: sample the double's call counter twice a second,
  # for the steady-state call rate (the middle of the batch, without the
  # start and the tail). Its state lists every entity, so only for these
  # small batches.
  local sampler=""
  rm -f "$WORK/samples.txt"
  if [ "$limit" -gt 0 ]; then
    ( while :; do
        printf '%s %s\n' "$(date +%s.%N)" "$(curl -sf "http://127.0.0.1:$DOUBLE_PORT/_double/state" | \
          node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).calls.total))')"
        sleep 0.5
      done ) >> "$WORK/samples.txt" 2>/dev/null &
    sampler=$!; PIDS+=("$sampler")
  fi
  local t0
  t0=$(date +%s.%N)
  post=$(node "$BENCH/post.js" "http://127.0.0.1:$rport$PATH_URL" "$TEMPLATE" "$sigs" 16) \
    || die "posting orders failed: $post"
  p1=$(rcli HGET "$PREFIX:stats" received)
  [ $((p1 - p0)) -eq "$n" ] || die "posted $n orders but the receiver queued $((p1 - p0))"
  secs=$(wait_drained $((done0 + n)) "$timeout" "$t0")
  [ -n "$sampler" ] && stop_pid "$sampler"
  [ -s "$WORK/samples.txt" ] || echo "" > "$WORK/samples.txt"
  double_state "$WORK/state-after.json" || die "no double state"
  local hwm stats
  hwm=$(workers_hwm_max)
  stats=$(rcli HGETALL "$PREFIX:stats" | paste -sd' ')
  for p in "${WORKER_PIDS[@]}"; do
    kill -0 "$p" 2>/dev/null || die "a worker died during combo $combo (logs/worker*.log)"
  done
  record "$(node -e '
    const fs = require("fs");
    const [bf, af, post, stats, stats0, sf, t0] = process.argv.slice(1, 8);
    const before = fs.readFileSync(bf, "utf8"), after = fs.readFileSync(af, "utf8");
    const [combo, w, lat, limit, n, kind, secs, hwm] = process.argv.slice(8);
    // Steady call rate: samples in the middle 80 % of the batch time.
    const smp = fs.readFileSync(sf, "utf8").trim().split("\n").map((l) => l.split(" ").map(Number))
      .filter((x) => x.length === 2 && !Number.isNaN(x[1]));
    const T = Number(secs), a = Number(t0) + 0.1 * T, b = Number(t0) + 0.9 * T;
    const mid = smp.filter(([t]) => t >= a && t <= b);
    const steady = mid.length >= 3 ? (mid[mid.length - 1][1] - mid[0][1]) / (mid[mid.length - 1][0] - mid[0][0]) : null;
    const parse = (t) => { const kv = t.split(" "), o = {}; for (let i = 0; i + 1 < kv.length; i += 2) o[kv[i]] = Number(kv[i + 1]); return o; };
    const s1 = parse(stats), s0 = parse(stats0), st = {};
    for (const k of Object.keys(s1)) st[k] = s1[k] - (s0[k] || 0);
    console.log(JSON.stringify({ part: "e2e", combo: Number(combo), workers: Number(w), latency_ms: Number(lat),
      limit: Number(limit), orders: Number(n), customers: kind === "n" ? "new" : "returning",
      seconds: Number(secs), worker_hwm_kb: Number(hwm), post: JSON.parse(post), stats: st,
      steady_calls_per_s: steady, steady_samples: mid.length,
      double_before: JSON.parse(before), double_after: JSON.parse(after) }));' \
    "$WORK/state-before.json" "$WORK/state-after.json" "$post" "$stats" "$stats0" "$WORK/samples.txt" "$t0" "$combo" "$w" "$lat" "$limit" "$n" "$kind" "$secs" "$hwm")"
  [ "$secs" != "-1" ] || log "warning: combo $combo ($kind) did not drain"
}

e2e() {
  local combo=0 w lat limit n rport cfg
  # Worker memory when idle: one worker, empty queue.
  redis_reset
  start_double 0 0
  rport=$(free_port); cfg="$WORK/e2e-idle.json"
  write_config "$cfg" "$rport" "http://127.0.0.1:$DOUBLE_PORT" 1000
  start_workers 1 "$cfg"
  sleep 3
  kill -0 "${WORKER_PIDS[0]}" 2>/dev/null || die "the worker exited: $(tail -5 "$WORK/logs/worker1.log")"
  # What a worker asks Jortt once at start, with no event (reported; the
  # batches start their clock and call count after this).
  double_state "$WORK/state-idle.json" || die "no double state"
  record "{\"part\":\"e2e-startup\",\"workers\":1,\"double\":$(cat "$WORK/state-idle.json")}"
  record "{\"part\":\"memory\",\"what\":\"worker\",\"state\":\"idle\",\"rss_kb\":$(status_kb "${WORKER_PIDS[0]}" VmRSS),\"hwm_kb\":$(status_kb "${WORKER_PIDS[0]}" VmHWM)}"
  stop_workers; stop_pid "$DOUBLE_PID"

  for limit in $E2E_LIMITS; do
    for lat in $E2E_LATENCIES; do
      for w in $E2E_WORKERS; do
        combo=$((combo + 1))
        if [ "$limit" -gt 0 ]; then n=$E2E_N_LIMITED
        elif [ "$lat" -gt 0 ]; then n=$((E2E_N_SLOW_PER_WORKER * w))
        else n=$E2E_N_FAST; fi
        log "e2e $combo: $w worker(s), +$lat ms, limit $([ "$limit" -gt 0 ] && echo "$limit/s" || echo none), $n orders x2"
        redis_reset
        start_double "$limit" "$lat"
        rport=$(free_port); cfg="$WORK/e2e-$combo.json"
        write_config "$cfg" "$rport" "http://127.0.0.1:$DOUBLE_PORT" "$([ "$limit" -gt 0 ] && echo "$limit" || echo 1000)"
        start_receiver "$cfg"
        wait_port "$rport" "$RECEIVER_PID" || die "receiver did not start (logs/receiver.log)"
        start_workers "$w" "$cfg"
        wait_double_quiet
        e2e_batch "$combo" "$w" "$lat" "$limit" "$n" n 0 0 "$rport"
        e2e_batch "$combo" "$w" "$lat" "$limit" "$n" r "$n" 0 "$rport"
        stop_workers; stop_pid "$RECEIVER_PID"; stop_pid "$DOUBLE_PID"
        cp "$WORK/logs/worker1.log" "$WORK/logs/e2e-$combo-worker1.log" 2>/dev/null || true
      done
    done
  done
  note_cmd "$BIN/m2jortt-worker --config e2e-N.json   # x W, started first, idle until the double sees no more calls"
  note_cmd "node bench/post.js http://127.0.0.1:PORT$PATH_URL bench/payloads/order-6kb.json SIGS 16   # N orders; timed until processed+skipped+dead = N"
}

# ---- 3. order -> invoice latency ---------------------------------------------
# Orders arriving at half of the Jortt rate limit (Poisson arrivals, mean
# LAT_LIMIT / 2 per second), returning customers (one Jortt call per order),
# 2 workers with jortt.requests_per_second = the double's limit: the time
# from each POST until a worker logged the order's outcome (the invoice is
# in the double by then). First LAT_CUST orders of new customers create
# the customers (not timed).
latency() {
  local rport cfg rate
  rate=$(awk -v l="$LAT_LIMIT" 'BEGIN {printf "%.2f", l / 2}')
  log "latency: $LAT_N orders at $rate/s (half of a $LAT_LIMIT calls/s Jortt limit), 2 workers"
  redis_reset
  start_double "$LAT_LIMIT" 0
  rport=$(free_port); cfg="$WORK/latency.json"
  write_config "$cfg" "$rport" "http://127.0.0.1:$DOUBLE_PORT" "$LAT_LIMIT"
  start_receiver "$cfg"
  wait_port "$rport" "$RECEIVER_PID" || die "receiver did not start (logs/receiver.log)"
  start_workers 2 "$cfg"
  wait_double_quiet
  local warm="$WORK/lat-warm.tsv" timed="$WORK/lat-timed.tsv" done0 out
  "$GEN" "$TEMPLATE" "$SECRET" "$LAT_CUST" --start 700000 --customer-base 900000 --customers "$LAT_CUST" \
    --tag lw > "$warm"
  node "$BENCH/post.js" "http://127.0.0.1:$rport$PATH_URL" "$TEMPLATE" "$warm" 4 >/dev/null \
    || die "posting the warm-up orders failed"
  [ "$(wait_drained "$LAT_CUST" 120 "$(date +%s.%N)")" != "-1" ] || die "warm-up orders not processed"
  double_state "$WORK/lat-before.json" || die "no double state"
  "$GEN" "$TEMPLATE" "$SECRET" "$LAT_N" --start 710000 --customer-base 900000 --customers "$LAT_CUST" \
    --tag lt > "$timed"
  out=$(node "$BENCH/post_paced.js" "http://127.0.0.1:$rport$PATH_URL" "$TEMPLATE" "$timed" "$rate" \
    "$WORK/lat-posted.jsonl") || die "paced posting failed: $out"
  [ "$(wait_drained $((LAT_CUST + LAT_N)) $((LAT_N * 2 / LAT_LIMIT + 120)) "$(date +%s.%N)")" != "-1" ] \
    || die "timed orders not processed"
  double_state "$WORK/lat-after.json" || die "no double state"
  note_cmd "node bench/post_paced.js URL bench/payloads/order-6kb.json SIGS $rate OUT   # $LAT_N orders, Poisson arrivals; jortt-double --rate-limit $LAT_LIMIT, 2 workers"
  record "$(node -e '
    const fs = require("fs");
    const [lat, post, before, after, n, limit, rate] = process.argv.slice(1);
    const b = JSON.parse(fs.readFileSync(before, "utf8")).calls || {}, a = JSON.parse(fs.readFileSync(after, "utf8")).calls || {};
    const per = {};
    for (const k of Object.keys(a.by_endpoint || {})) {
      const v = (a.by_endpoint[k] || 0) - ((b.by_endpoint || {})[k] || 0);
      if (v && !/oauth|token|_double/i.test(k)) per[k] = v;
    }
    console.log(JSON.stringify({ part: "latency", orders: Number(n), limit: Number(limit), rate: Number(rate),
      workers: 2, post: JSON.parse(post), calls: per, throttled: (a.throttled || 0) - (b.throttled || 0),
      ...JSON.parse(lat) }));' "$(node "$BENCH/latency.js" "$WORK/lat-posted.jsonl" "$WORK"/logs/worker*.log)" \
    "$out" "$WORK/lat-before.json" "$WORK/lat-after.json" "$LAT_N" "$LAT_LIMIT" "$rate")"
  stop_workers; stop_pid "$RECEIVER_PID"; stop_pid "$DOUBLE_PID"
}

# ---- instructions per request (callgrind) -------------------------------------
# The receiver's JSON work on the bench order, both paths of the same build
# (bench/parse_cost.sh): counts, unlike the wall-clock figures above, do not
# depend on what else the machine runs.
parse_cost() {
  local b=${BENCH_BUILD:-$ROOT/build}
  if [ ! -x "$b/bench/ingest_cost" ] || ! command -v valgrind >/dev/null 2>&1; then
    log "parse cost: skipped ($b/bench/ingest_cost or valgrind missing: make bench-bins, apt-get install valgrind)"
    return 0
  fi
  log "parse cost: callgrind on bench/ingest_cost (both paths)"
  "$BENCH/parse_cost.sh" "$b" > "$WORK/parse-cost.jsonl" 2>"$WORK/logs/parse-cost.err" \
    || { log "parse cost failed: $(tail -3 "$WORK/logs/parse-cost.err")"; return 0; }
  cat "$WORK/parse-cost.jsonl" >> "$WORK/results.jsonl"
  note_cmd "bench/parse_cost.sh $b   # valgrind --tool=callgrind on bench/ingest_cost, (Ir at 1200 - Ir at 200) / 1000"
}

# ---- run ---------------------------------------------------------------------
T_START=$(date +%s)
case "$ONLY" in
  ""|ingest) ingest ;;
esac
case "$ONLY" in
  ""|latency) latency ;;
esac
if [ "$ONLY" = e2e ] || { [ -z "$ONLY" ] && [ "$E2E" = 1 ]; }; then
  e2e
fi
case "$ONLY" in
  ""|parse) parse_cost ;;
esac
echo "elapsed=$(( $(date +%s) - T_START )) s" >> "$WORK/machine.txt"

log "writing $OUT"
cp "$WORK/results.jsonl" "$RAW"
node "$BENCH/report.js" "$WORK/results.jsonl" "$WORK/machine.txt" "$WORK/commands.txt" > "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
if [ -z "$ONLY" ]; then
  BENCH_OUT="$OUT" M2JORTT_BIN_DIR="$BIN" "$BENCH/backfill.sh" "$([ "$FULL" = 1 ] && echo 10000 || echo 2000)"
fi
log "done in $(( $(date +%s) - T_START )) s: $OUT"
