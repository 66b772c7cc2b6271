#!/usr/bin/env bash
# Runs m2jortt locally (called by `make run` after `make deps all`):
#   - config: ./m2jortt.json when it exists, else .run/m2jortt.json (written
#     here on every run, so ports found free this time are the ones in it);
#   - Redis: the config's redis.url when it answers; otherwise a local
#     redis-server (append-only, fsync always, data in .run/redis) on
#     127.0.0.1:6379, or on a free port when 6379 is taken;
#   - Jortt: with JORTT_CLIENT_ID/JORTT_CLIENT_SECRET set, the real Jortt API;
#     without, the local Jortt test double (bin/jortt-double);
#   - the receiver and M2JORTT_WORKERS workers (default 2).
# Ctrl-C / SIGTERM stops every process this script started, by PID.
#
# Environment: M2JORTT_WORKERS, M2JORTT_PORT (receiver, default 8080),
# M2JORTT_WEBHOOK_SECRET (else a dev secret kept in .run/webhook-secret),
# JORTT_CLIENT_ID, JORTT_CLIENT_SECRET, M2JORTT_BIN_DIR (default ./bin).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
BIN=${M2JORTT_BIN_DIR:-$ROOT/bin}
RUN=$ROOT/.run
WORKERS=${M2JORTT_WORKERS:-2}

say() { printf 'm2jortt run: %s\n' "$*"; }
die() { printf 'm2jortt run: %s\n' "$*" >&2; exit 1; }

case $WORKERS in ''|*[!0-9]*) die "M2JORTT_WORKERS must be a number, not '$WORKERS'" ;; esac
for exe in m2jortt-receiver m2jortt-worker m2jortt jortt-double; do
  [ -x "$BIN/$exe" ] || die "$BIN/$exe is missing: run 'make all' first"
done
command -v redis-server >/dev/null || die "redis-server is not installed: run 'make deps'"
command -v curl >/dev/null || die "curl is not installed: run 'make deps'"

mkdir -p "$RUN"
chmod 700 "$RUN"

# ---- stopping: only what we started, by PID, newest first ----
PIDS=()
NAMES=()
stopping=0
stop_all() {
  [ "$stopping" = 1 ] && return
  stopping=1
  trap - INT TERM
  local i pid
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    pid=${PIDS[i]}
    if kill -0 "$pid" 2>/dev/null; then
      say "stopping ${NAMES[i]} (pid $pid)"
      kill -TERM "$pid" 2>/dev/null || true
      # workers finish or hand back their event within their grace period
      for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
      if kill -0 "$pid" 2>/dev/null; then
        say "${NAMES[i]} (pid $pid) did not stop in 30 s: killing it"
        kill -KILL "$pid" 2>/dev/null || true
      fi
      wait "$pid" 2>/dev/null || true
    fi
  done
}
trap 'stop_all; exit 130' INT
trap 'stop_all; exit 143' TERM
trap 'stop_all' EXIT

# setpriv --pdeathsig: should this script itself be killed hard (SIGKILL, a
# closed terminal), its children still get SIGTERM instead of lingering on
# the ports.
PDEATH=()
if setpriv --pdeathsig TERM true 2>/dev/null; then PDEATH=(setpriv --pdeathsig TERM --); fi
start() { # name logfile command...
  local name=$1 log=$2
  shift 2
  "${PDEATH[@]}" "$@" >>"$log" 2>&1 &
  PIDS+=("$!")
  NAMES+=("$name")
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() { # first free port from $1 upwards
  local p=$1
  while port_busy "$p"; do p=$((p + 1)); [ "$p" -lt 65000 ] || die "no free port"; done
  echo "$p"
}
wait_for() { # seconds description command...
  local secs=$1 what=$2
  shift 2
  local end=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$end" ] || die "$what did not come up in ${secs} s (see the logs in .run/)"
    sleep 0.1
  done
}
redis_ping() { [ "$(redis-cli -u "$1" ping 2>/dev/null)" = PONG ]; }

start_redis() { # port
  mkdir -p "$RUN/redis"
  start redis "$RUN/redis.log" redis-server --port "$1" --bind 127.0.0.1 --dir "$RUN/redis" \
    --appendonly yes --appendfsync always --save "" --maxmemory-policy noeviction \
    --daemonize no --logfile ""
  wait_for 15 "redis-server on port $1" redis_ping "redis://127.0.0.1:$1/0"
  say "started redis-server on 127.0.0.1:$1 (append-only, data in .run/redis, log .run/redis.log)"
}

# ---- webhook secret (only for the config written here) ----
dev_secret() {
  if [ -n "${M2JORTT_WEBHOOK_SECRET:-}" ]; then
    SECRET=$M2JORTT_WEBHOOK_SECRET
  else
    if [ ! -s "$RUN/webhook-secret" ]; then
      (umask 077; printf 'whsec_%s\n' "$(openssl rand -base64 32)" >"$RUN/webhook-secret")
      say "generated a development webhook secret in .run/webhook-secret"
    fi
    SECRET=$(head -n 1 "$RUN/webhook-secret")
  fi
}

# ---- config ----
DOUBLE_URL=""
if [ -f "$ROOT/m2jortt.json" ]; then
  CONFIG=$ROOT/m2jortt.json
  SECRET="(receiver.webhook_secret in ./m2jortt.json)"
  say "using ./m2jortt.json"
  # redis.url (first "url" under "redis"); the config may use ${VARS}.
  REDIS_URL=$(sed -n '/"redis"[[:space:]]*:/,/}/s/.*"url"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p' "$CONFIG" | head -n 1)
  REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379/0}
  if redis_ping "$REDIS_URL"; then
    say "Redis at the configured url answers"
  else
    hostport=${REDIS_URL#redis://}; hostport=${hostport#*@}; hostport=${hostport%%/*}
    host=${hostport%%:*}; port=${hostport##*:}; [ "$port" = "$hostport" ] && port=6379
    case $host in
      127.0.0.1|localhost) start_redis "$port" ;;
      *) die "Redis at $REDIS_URL does not answer, and it is not local: start it or fix redis.url" ;;
    esac
  fi
else
  CONFIG=$RUN/m2jortt.json
  dev_secret
  # Redis: ours, on 6379 unless something already listens there.
  if port_busy 6379; then REDIS_PORT=$(free_port 6380); else REDIS_PORT=6379; fi
  start_redis "$REDIS_PORT"

  RECV_PORT=${M2JORTT_PORT:-8080}
  if port_busy "$RECV_PORT"; then
    RECV_PORT=$(free_port $((RECV_PORT + 1)))
  fi

  if [ -z "${JORTT_CLIENT_ID:-}" ]; then
    : >"$RUN/jortt-double.log"
    start jortt-double "$RUN/jortt-double.log" "$BIN/jortt-double" --listen 127.0.0.1:0
    wait_for 10 "the Jortt test double" grep -q '^listening ' "$RUN/jortt-double.log"
    DOUBLE_PORT=$(sed -n 's/^listening [0-9.]*:\([0-9]*\).*/\1/p' "$RUN/jortt-double.log" | head -n 1)
    DOUBLE_URL=http://127.0.0.1:$DOUBLE_PORT
    say "no Jortt credentials: using the local Jortt test double at $DOUBLE_URL"
    JORTT_JSON=$(cat <<EOF
  "jortt": {
    "api_url": "$DOUBLE_URL",
    "token_url": "$DOUBLE_URL/oauth-provider/oauth/token",
    "client_id": "local-test-double",
    "client_secret": "local-test-double"
  },
EOF
)
    # The double's fixed revenue ledger account ("Omzet NL").
    ORDERS_EXTRA=', "revenue_account_by_country": { "*": "00000000-0000-4000-8000-000000000001" }'
  else
    [ -n "${JORTT_CLIENT_SECRET:-}" ] || die "JORTT_CLIENT_ID is set but JORTT_CLIENT_SECRET is not"
    say "using the Jortt API with client id from JORTT_CLIENT_ID"
    # Substituted by m2jortt when it loads the config: the secret never lands in the file.
    JORTT_JSON=$(cat <<'EOF'
  "jortt": {
    "client_id": "${JORTT_CLIENT_ID}",
    "client_secret": "${JORTT_CLIENT_SECRET}"
  },
EOF
)
    ORDERS_EXTRA=''
  fi

  (umask 077; cat >"$CONFIG" <<EOF
{
  "redis": { "url": "redis://127.0.0.1:$REDIS_PORT/0", "key_prefix": "m2jortt" },
  "receiver": { "listen": "127.0.0.1:$RECV_PORT", "webhook_secret": "$SECRET" },
$JORTT_JSON
  "orders": { "statuses": ["processing", "complete"]$ORDERS_EXTRA },
  "log": { "level": "info" }
}
EOF
)
  say "wrote .run/m2jortt.json"
fi

"$BIN/m2jortt" --config "$CONFIG" check-config >/dev/null 2>"$RUN/check-config.err" ||
  die "the configuration is not valid: $(cat "$RUN/check-config.err")"

LISTEN=$(sed -n '/"receiver"[[:space:]]*:/,/}/s/.*"listen"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p' "$CONFIG" | head -n 1)
LISTEN=${LISTEN:-127.0.0.1:8080}
URL=http://$LISTEN

start receiver "$RUN/receiver.log" "$BIN/m2jortt-receiver" --config "$CONFIG"
wait_for 15 "the receiver at $URL" curl -fsS "$URL/healthz"
for i in $(seq 1 "$WORKERS"); do
  start "worker $i" "$RUN/worker-$i.log" "$BIN/m2jortt-worker" --config "$CONFIG"
done

REL_CONFIG=${CONFIG#"$ROOT"/}
CLI=${BIN#"$ROOT"/}/m2jortt
cat <<EOF

m2jortt is running.
  receiver:        $URL/webhooks/magento   (health: $URL/healthz, $URL/readyz)
  webhook secret:  $SECRET
  workers:         $WORKERS   (logs in .run/*.log)

Post the signed example order:
  curl -sS -H @<($CLI --config $REL_CONFIG sign deploy/examples/order-nl.json) \\
       --data-binary @deploy/examples/order-nl.json $URL/webhooks/magento
What m2jortt sends to Jortt for it (no network):
  $CLI --config $REL_CONFIG preview deploy/examples/order-nl.json
Queue and failures:
  $CLI --config $REL_CONFIG stats
  $CLI --config $REL_CONFIG failed
EOF
if [ -n "$DOUBLE_URL" ]; then
  cat <<EOF
See the invoice in the test double:
  curl -sS $DOUBLE_URL/_double/state
EOF
fi
printf '\nCtrl-C stops everything.\n'

# Wait until told to stop; report any child that dies on its own.
while :; do
  wait -n "${PIDS[@]}" 2>/dev/null || true
  [ "$stopping" = 1 ] && break
  for i in "${!PIDS[@]}"; do
    if ! kill -0 "${PIDS[i]}" 2>/dev/null && [ "${NAMES[i]}" != gone ]; then
      say "${NAMES[i]} (pid ${PIDS[i]}) exited; see .run/ logs. Stopping the rest."
      NAMES[i]=gone
      stop_all
      exit 1
    fi
  done
done
