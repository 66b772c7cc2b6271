#!/bin/sh
# Static checks of the production sources (common/ receiver/ worker/ cli/):
# cppcheck, then clang-tidy with the checks of scripts/lint/clang-tidy.yaml.
# Any finding fails; every suppression or disabled check says why in
# scripts/lint/. Prints one closing line. Called by `make lint`.
set -u
cd "$(dirname "$0")/.."
dirs="common receiver worker cli"
failed=""

echo "lint: cppcheck"
# warning/portability/performance (and errors, always on); the style class is
# left out: its findings here are json-c's foreach macro confusing cppcheck.
if ! cppcheck -q --std=c11 --enable=warning,portability,performance --inline-suppr \
      -Icommon -I. -D_GNU_SOURCE --suppressions-list=scripts/lint/cppcheck.supp \
      --error-exitcode=1 --template='{file}:{line}: {severity}/{id}: {message}' $dirs; then
  failed="$failed cppcheck"
fi

echo "lint: clang-tidy"
# The flags the Makefile compiles with, so clang-tidy sees the same code.
flags="-std=c11 -Icommon -I. -D_GNU_SOURCE $(pkg-config --cflags libevent libcurl json-c hiredis libcrypto)"
out=$(mktemp)
# WarningsAsErrors makes any finding (and any file it cannot parse) a
# non-zero exit; xargs then exits non-zero too.
# shellcheck disable=SC2086
# The files go before "--" (what follows it is the compiler's command line).
if ! find $dirs -name '*.c' | sort | xargs -P 2 -n 12 \
      sh -c 'clang-tidy -quiet --config-file=scripts/lint/clang-tidy.yaml "$@" -- '"$flags" lint >"$out" 2>&1; then
  grep -vE '^[0-9]+ warnings? (and [0-9]+ errors? )?generated|^Suppressed|^Use -header-filter' "$out"
  failed="$failed clang-tidy"
fi
rm -f "$out"

if [ -n "$failed" ]; then
  echo "lint: FAILED:$failed"
  exit 1
fi
echo "lint: cppcheck and clang-tidy clean"
