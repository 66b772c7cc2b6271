#!/bin/sh
# Checks `make install`: into a temporary DESTDIR with a non-default PREFIX,
# every listed file lands with its mode, the units start the installed
# programs, and the man pages format without warnings (when groff is here).
# Usage: BINDIR=bin scripts/test-install.sh   (run from the repository root)
set -u
bindir=${BINDIR:-bin}
tmp=$(mktemp -d /tmp/m2jortt-install-XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT
fail=0
bad() { echo "test-install: $*"; fail=1; }

if ! make --no-print-directory -s install BINDIR="$bindir" DESTDIR="$tmp" PREFIX=/opt/m2j >"$tmp.log" 2>&1; then
  cat "$tmp.log"; rm -f "$tmp.log"; echo "test-install: make install failed"; exit 1
fi
rm -f "$tmp.log"
root=$tmp/opt/m2j
for f in bin/m2jortt bin/m2jortt-receiver bin/m2jortt-worker; do
  [ -x "$root/$f" ] || bad "$f missing or not executable"
done
for f in share/man/man1/m2jortt.1 share/man/man8/m2jortt-receiver.8 share/man/man8/m2jortt-worker.8 \
         share/man/man5/m2jortt.json.5 lib/systemd/system/m2jortt-receiver.service \
         lib/systemd/system/m2jortt-worker@.service share/doc/m2jortt/m2jortt.json.example; do
  [ -f "$root/$f" ] || { bad "$f missing"; continue; }
  [ "$(stat -c %a "$root/$f")" = 644 ] || bad "$f: mode $(stat -c %a "$root/$f"), want 644"
done
for u in m2jortt-receiver.service m2jortt-worker@.service; do
  grep -q '^ExecStart=/opt/m2j/bin/m2jortt-' "$root/lib/systemd/system/$u" || bad "$u does not start /opt/m2j/bin"
done
[ -z "$(find "$tmp" -path "$root" -prune -o -type f -print)" ] || bad "files outside PREFIX: $(find "$tmp" -path "$root" -prune -o -type f -print)"
"$root/bin/m2jortt" --help >/dev/null 2>&1 || bad "the installed m2jortt does not run"
if command -v groff >/dev/null 2>&1; then
  for m in "$root"/share/man/man*/*; do
    w=$(LC_ALL=C.UTF-8 groff -man -Tutf8 -ww -z "$m" 2>&1)
    [ -z "$w" ] || bad "${m##*/}: $w"
  done
fi
[ $fail -eq 0 ] && echo "test-install: ok"
exit $fail
