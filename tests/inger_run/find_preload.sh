#!/usr/bin/env bash
# inger-run finds libinger-run.so wherever it is installed: in the library directory the build
# was configured with, relative to the (resolved) binary, for any prefix and through a symbolic
# link; beside the binary in a build tree; and says so clearly when it is in neither.
# Usage: find_preload.sh INGER_RUN LIBINGER_RUN_SO LIBDIR_FROM_BINDIR INGER_RUN_C CC
set -euo pipefail
run=$(realpath "$1") preload=$(realpath "$2") libdir_from_bindir=$3 source=$(realpath "$4") cc=$5
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
check() { # NAME INGER-RUN: runs `true` under it, expects the preload's counters on stderr
  local name=$1 bin=$2 status=0
  "$bin" --stats -- true 2> "$work/err" || status=$?
  if [ "$status" = 0 ] && grep -q '^preemptions: ' "$work/err"; then
    echo "ok: $name"
  else
    echo "FAIL: $name (exit $status):"; sed 's/^/  /' "$work/err"; failures=$((failures + 1))
  fi
}
install_layout() { # PREFIX INGER-RUN LIBDIR_FROM_BINDIR
  mkdir -p "$1/bin" "$1/bin/$3"
  cp "$2" "$1/bin/inger-run"
  cp "$preload" "$1/bin/$3/libinger-run.so"
}

# The build tree: the library beside the binary.
check "build tree" "$run"

# Installed with the configured CMAKE_INSTALL_LIBDIR, under a prefix the build never saw,
# run directly and through a symbolic link from elsewhere.
install_layout "$work/prefix" "$run" "$libdir_from_bindir"
check "installed (LIBDIR from bin: $libdir_from_bindir)" "$work/prefix/bin/inger-run"
mkdir -p "$work/elsewhere"
ln -s "$work/prefix/bin/inger-run" "$work/elsewhere/inger-run"
check "through a symbolic link" "$work/elsewhere/inger-run"

# A multiarch LIBDIR (Debian's lib/x86_64-linux-gnu): the same source built for it.
"$cc" -O2 -DINGER_RUN_LIBDIR_FROM_BINDIR='"../lib/x86_64-linux-gnu"' -o "$work/inger-run-multiarch" "$source"
install_layout "$work/multiarch" "$work/inger-run-multiarch" ../lib/x86_64-linux-gnu
check "multiarch LIBDIR" "$work/multiarch/bin/inger-run"

# Nowhere it looks (a stray copy in another directory does not count): a clear error, 127.
mkdir -p "$work/lost/bin" "$work/lost/lib64"
cp "$work/inger-run-multiarch" "$work/lost/bin/inger-run"
cp "$preload" "$work/lost/lib64/libinger-run.so"
status=0
"$work/lost/bin/inger-run" -- true 2> "$work/err" || status=$?
if [ "$status" = 127 ] && grep -q 'cannot find libinger-run.so in ../lib/x86_64-linux-gnu' "$work/err"; then
  echo "ok: missing library reported"
else
  echo "FAIL: missing library (exit $status):"; sed 's/^/  /' "$work/err"; failures=$((failures + 1))
fi
[ "$failures" = 0 ]
