#!/usr/bin/env bash
# bench/parse_cost.sh: instructions per request of the receiver's JSON work
# (bench/ingest_cost.c: envelope parse, normalisation, job text; with the
# HMAC check too), counted by callgrind. Counts do not depend on the load of
# the machine, unlike wall-clock figures.
#
#   bench/parse_cost.sh [BUILD_DIR]     default: build (make bench-bins builds it)
#
# Prints one JSON line per variant:
#   {"part":"parse-cost","what":W,"instr_per_request":N,"body_bytes":B,"top":[["function",share],...]}
# W: "text" (the receiver's path: m2j_envelope_parse_text + job text),
#    "text+hmac" (the same after the Standard Webhooks check),
#    "json-c" (m2j_envelope_parse: the path the receiver took before, json-c
#    trees; kept for the other callers), "json-c+hmac".
# The count is the difference of two runs (N2 and N1 requests) divided by
# N2 - N1, so start-up (config, template) is not counted.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
BIN="$BUILD/bench/ingest_cost"
TEMPLATE="$ROOT/bench/payloads/order-6kb.json"
[ -x "$BIN" ] || { echo "parse_cost.sh: $BIN missing (make bench-bins)" >&2; exit 2; }
command -v valgrind >/dev/null 2>&1 || { echo "parse_cost.sh: valgrind missing (apt-get install valgrind)" >&2; exit 2; }
WORK=$(mktemp -d /tmp/m2jortt-parse-cost.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
N1=200
N2=1200

total() { # OUT -> total Ir
  awk '/^summary:/ {print $2; exit} /^totals:/ {print $2; exit}' "$1"
}

for what in text text+hmac json-c json-c+hmac; do
  flag=""
  case $what in *hmac) flag="--sign" ;; esac
  case $what in json-c*) flag="$flag --json-c" ;; esac
  for n in $N1 $N2; do
    # shellcheck disable=SC2086
    valgrind --tool=callgrind --callgrind-out-file="$WORK/cg-$n.out" "$BIN" "$TEMPLATE" "$n" $flag \
      > "$WORK/out-$n.txt" 2> "$WORK/vg-$n.txt"
  done
  a=$(total "$WORK/cg-$N1.out"); b=$(total "$WORK/cg-$N2.out")
  body=$(sed -n 's/^body \([0-9]*\) bytes.*/\1/p' "$WORK/out-$N2.txt")
  # Inclusive shares of the larger run, for the functions that matter here.
  top=$(callgrind_annotate --inclusive=yes "$WORK/cg-$N2.out" 2>/dev/null | awk -v tot="$b" '
    /^ *[0-9,]+ / {
      ir = $1; gsub(/,/, "", ir); fn = $0; sub(/^ *[0-9,]+ +(\([^)]*\) +)?/, "", fn); sub(/ \[.*$/, "", fn);
      n = split(fn, parts, ":"); name = parts[n];
      if (name ~ /^(m2j_envelope_parse|m2j_envelope_parse_text|m2j_json_strict_check|m2j_json_strict_scan|m2j_jtree_parse|m2j_normalise_text|m2j_json_parse|json_tokener_parse_ex|m2j_enqueue_args_build|m2j_job_text_append|m2j_sigcheck_verify_scheme|m2j_normalise_order_inplace)$/ && !(name in seen)) {
        seen[name] = 1; printf "%s[\"%s\",%.3f]", (k++ ? "," : ""), name, ir / tot;
      }
    }')
  awk -v a="$a" -v b="$b" -v n1="$N1" -v n2="$N2" -v w="$what" -v body="$body" -v top="$top" 'BEGIN {
    printf "{\"part\":\"parse-cost\",\"what\":\"%s\",\"instr_per_request\":%d,\"body_bytes\":%d,\"top\":[%s]}\n",
      w, (b - a) / (n2 - n1), body, top }'
done
