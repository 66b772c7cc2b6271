#!/bin/sh
# Checks that release binaries carry the hardening the Makefile asks for, by
# reading each ELF: PIE (type DYN with an interpreter), full RELRO (a
# GNU_RELRO segment and BIND_NOW), stack protector (__stack_chk_fail
# imported) and FORTIFY (at least one __*_chk function imported). A compiler
# or flag change that silently drops one fails make check.
# Usage: check-hardening.sh BINARY...
set -u
bad=0
for b in "$@"; do
  miss=""
  readelf -hW "$b" | grep -Eq 'Type:[[:space:]]+DYN' || miss="$miss PIE"
  readelf -lW "$b" | grep -q 'INTERP' || miss="$miss PIE(no-interp)"
  readelf -lW "$b" | grep -q 'GNU_RELRO' || miss="$miss RELRO"
  readelf -dW "$b" | grep -Eq '\(BIND_NOW\)|\(FLAGS\).*BIND_NOW|\(FLAGS_1\).*NOW' || miss="$miss BIND_NOW"
  syms=$(readelf --dyn-syms -W "$b")
  echo "$syms" | grep -q '__stack_chk_fail' || miss="$miss stack-protector"
  echo "$syms" | grep -Eq '__[a-z_]+_chk(@|$)' || miss="$miss FORTIFY"
  if [ -n "$miss" ]; then
    echo "hardening: $b lacks:$miss"
    bad=$((bad + 1))
  fi
done
if [ "$bad" -ne 0 ]; then
  echo "hardening: $bad of $# binaries not hardened"
  exit 1
fi
echo "hardening: $# binaries: PIE, full RELRO, stack protector, FORTIFY"
