#!/bin/sh
# Make sure the Debian packages PicoVolt builds and tests with are present.
#
# Usage: scripts/deps.sh [build|test|bench|valgrind]
#
# Each need is checked the cheap way first (pkg-config, a header, a command).
# Anything missing is installed with apt-get when we are root; otherwise the
# exact command to run is printed and we exit 1, so `make` stops with a clear
# message instead of a wall of compiler errors.
set -eu

profile=${1:-build}
missing=""

need_pc() {   # need_pc PKGCONFIG-NAME DEBIAN-PACKAGE
    if ! pkg-config --exists "$1" 2>/dev/null; then missing="$missing $2"; fi
}
need_header() {   # need_header HEADER DEBIAN-PACKAGE
    if [ ! -f "/usr/include/$1" ]; then missing="$missing $2"; fi
}
need_cmd() {   # need_cmd COMMAND DEBIAN-PACKAGE
    if ! command -v "$1" >/dev/null 2>&1; then missing="$missing $2"; fi
}

need_cmd cc gcc
need_cmd make make
need_cmd pkg-config pkg-config
need_pc libzstd libzstd-dev
need_pc libxxhash libxxhash-dev
need_pc libmd libmd-dev
need_pc libgit2 libgit2-dev
need_header csv.h libcsv-dev
need_pc libedit libedit-dev
need_pc jansson libjansson-dev
case "$profile" in
test|bench|valgrind)
    need_pc cmocka libcmocka-dev
    need_cmd git git
    need_cmd sqlite3 sqlite3
    ;;
esac
case "$profile" in
test|valgrind)
    need_cmd valgrind valgrind
    ;;
esac
case "$profile" in
bench)
    need_pc sqlite3 libsqlite3-dev
    need_pc lmdb liblmdb-dev
    need_header cdb.h libcdb-dev
    need_cmd zstd zstd
    ;;
esac

[ -z "$missing" ] && exit 0

echo "deps.sh: missing Debian packages:$missing" >&2
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    # A fresh machine has empty package lists; refresh them once, then install.
    apt-get update -qq >&2
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >&2
    exit 0
fi
echo "deps.sh: run this, then make again:" >&2
echo "    sudo apt-get install -y$missing" >&2
exit 1
