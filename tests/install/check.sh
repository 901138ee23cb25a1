#!/usr/bin/env bash
# Install the build tree into a scratch prefix, then build and run consumers against it.
# Usage: check.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1 src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" >/dev/null
for f in include/libinger.h include/inger/inger.hpp include/turquoise/pool.hpp lib/libinger.so \
         lib/libturquoise.so lib/libgotcha.so include/libgotcha.h lib/cmake/inger/inger-config.cmake lib/pkgconfig/inger.pc \
         bin/inger-run lib/libinger-run.so; do
  [ -e "$work/prefix/$f" ] || { echo "missing after install: $f"; exit 1; }
done
PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig" cmake -S "$src" -B "$work/consumer" \
  -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_BUILD_RPATH="$work/prefix/lib" >/dev/null
cmake --build "$work/consumer" >/dev/null
LD_LIBRARY_PATH="$work/prefix/lib" "$work/consumer/consumer_cxx"
LD_LIBRARY_PATH="$work/prefix/lib" "$work/consumer/consumer_c"
LD_LIBRARY_PATH="$work/prefix/lib" "$work/consumer/consumer_turquoise"
# The installed inger-run finds its libraries relative to itself (no LD_LIBRARY_PATH).
[ "$("$work/prefix/bin/inger-run" --quantum 50 -- /bin/echo ok)" = ok ]
echo "install layout and consumers OK"
