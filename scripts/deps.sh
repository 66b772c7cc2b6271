#!/bin/sh
# Installs the Debian packages m2jortt needs to build, test and run, and does
# nothing when they are all present. Called by `make deps`, `make run`,
# `make check`; with FUZZ=1 (`make fuzz-deps`) it also installs clang and its
# libFuzzer runtime, with LINT=1 (`make lint-deps`) cppcheck and clang-tidy,
# with BROWSER=1 (`make browser-check`) Chromium and its chromedriver: tools
# only those targets use, so `make run` on a fresh machine stays small.
set -eu
PKGS="build-essential pkg-config libevent-dev libcurl4-openssl-dev libjson-c-dev
libhiredis-dev check libssl-dev redis-server curl openssl"
[ "${FUZZ:-0}" = 1 ] && PKGS="$PKGS clang libclang-rt-14-dev"
[ "${LINT:-0}" = 1 ] && PKGS="$PKGS cppcheck clang-tidy"
[ "${BROWSER:-0}" = 1 ] && PKGS="$PKGS chromium chromium-driver"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps: installing:$missing"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "deps: need root (or sudo) to install:$missing" >&2; exit 1; }
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
