#!/bin/sh
# Runs Check test executables one after another and prints one closing line.
# Each test's wall time is printed after it, so a CI log shows where the
# minutes go. Usage: run-tests.sh LABEL EXE...
set -u
label=$1; shift
failed=0; passed=0; t_all=$(date +%s)
for t in "$@"; do
  echo "== $t"
  t0=$(date +%s)
  if CK_FORK=yes "$t"; then passed=$((passed + 1)); r=ok; else failed=$((failed + 1)); r=FAILED; echo "FAILED: $t"; fi
  echo "-- $r in $(( $(date +%s) - t0 )) s"
done
echo "-- $label took $(( $(date +%s) - t_all )) s"
echo "$label: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
