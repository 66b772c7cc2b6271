#!/bin/sh
# Runs libFuzzer harnesses one after another, each for SECONDS, and prints one
# closing line. Usage: fuzz.sh SECONDS HARNESS...
#
# Each harness build-fuzz/fuzz_NAME keeps its growing corpus in
# build-fuzz/corpus/NAME (created here, so a fresh clone starts from the seeds
# alone) and reads its seeds read-only from tests/fuzz/seeds/NAME plus the
# fixture folders listed in tests/fuzz/seeds/NAME.dirs (paths from the
# repository root, one a line). A crash, leak, timeout or sanitizer report
# leaves its input in build-fuzz/crashes/ and fails the run: to reproduce,
# run the harness with that file as its only argument.
set -u
cd "$(dirname "$0")/.."
secs=$1; shift
# One worker, niced: CI has two cores, and a developer's machine other work.
nice_cmd="nice -n 10"
mkdir -p build-fuzz/crashes build-fuzz/logs
failed=""; n=0
for bin in "$@"; do
  name=$(basename "$bin"); name=${name#fuzz_}
  n=$((n + 1))
  corpus=build-fuzz/corpus/$name
  mkdir -p "$corpus"
  seeds=""
  [ -d "tests/fuzz/seeds/$name" ] && seeds="tests/fuzz/seeds/$name"
  if [ -f "tests/fuzz/seeds/$name.dirs" ]; then
    while read -r d; do
      case $d in ''|'#'*) continue ;; esac
      [ -d "$d" ] && seeds="$seeds $d"
    done < "tests/fuzz/seeds/$name.dirs"
  fi
  log=build-fuzz/logs/$name.log
  # -timeout: one input taking 10 s is a hang; -rss_limit_mb: a runaway
  # allocation is a finding too. Leak detection is on (ASan's default).
  # shellcheck disable=SC2086
  if $nice_cmd "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="build-fuzz/crashes/$name-" "$corpus" $seeds >"$log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    echo "fuzz $name: clean, ${runs:-?} runs in ${secs}s, corpus $(ls "$corpus" | wc -l)"
  else
    failed="$failed $name"
    echo "fuzz $name: FAILED (log $log)"
    grep -E 'ERROR: |SUMMARY: |runtime error|Test unit written' "$log" | head -n 8
  fi
done
nf=$(echo $failed | wc -w)
if [ -n "$failed" ]; then
  echo "fuzz: $n harnesses, ${secs}s each, FAILED:$failed (inputs in build-fuzz/crashes/)"
  echo "fuzz: $((n - nf)) passed, $nf failed"
  exit 1
fi
echo "fuzz: $n harnesses, ${secs}s each, all clean"
echo "fuzz: $n passed, 0 failed"
