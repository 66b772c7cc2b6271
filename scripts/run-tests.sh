#!/bin/sh
# Runs Check test executables one after another and prints one closing line.
# Usage: run-tests.sh LABEL EXE...
set -u
label=$1; shift
failed=0; passed=0
for t in "$@"; do
  echo "== $t"
  if CK_FORK=yes "$t"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAILED: $t"; fi
done
echo "$label: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
