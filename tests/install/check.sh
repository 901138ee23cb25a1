#!/usr/bin/env bash
# Install the build tree into a scratch prefix, then build and run consumers against it:
# find_package (C++: pool, futures and processes, a Mesos framework on the embedded cluster),
# pkg-config through CMake (C), and the compiler with pkg-config alone (futures and processes;
# the Mesos framework); and check that every tool is in bin/ and finds its libraries.
# Usage: check.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1 src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix
cmake --install "$build" --prefix "$prefix" >/dev/null
for f in include/libinger.h include/inger/inger.hpp include/turquoise/pool.hpp lib/libinger.so \
         lib/libturquoise.so lib/libgotcha.so include/libgotcha.h lib/cmake/inger/inger-config.cmake \
         lib/pkgconfig/inger.pc lib/pkgconfig/turquoise.pc lib/pkgconfig/turquoise-mesos.pc \
         lib/pkgconfig/turquoise-mesos-cluster.pc lib/libturquoise_mesos.so \
         lib/libturquoise_mesos_cluster.so lib/cmake/inger/inger-mesos-targets.cmake \
         include/turquoise/mesos/v1/mesos.pb.h lib/libinger-run.so \
         bin/inger-run bin/inger-sla-server bin/inger-sla-load bin/inger-demo; do
  [ -e "$prefix/$f" ] || { echo "missing after install: $f"; exit 1; }
done
# Every executable built under tools/, and every inger-* program among the examples (inger-chat,
# inger-workers), is installed, and finds its libraries from bin/ alone.
tools=$(find "$build/tools" -path '*/CMakeFiles' -prune -o -type f -perm -u+x ! -name '*.so*' -print)
[ -n "$tools" ] || { echo "no tools found in $build/tools"; exit 1; }
if [ -d "$build/examples" ]; then
  tools+=" $(find "$build/examples" -path '*/CMakeFiles' -prune -o -type f -perm -u+x -name 'inger-*' -print)"
fi
for tool in $tools; do
  name=$(basename "$tool")
  [ -x "$prefix/bin/$name" ] || { echo "tool not installed into bin/: $name"; exit 1; }
  if env -u LD_LIBRARY_PATH ldd "$prefix/bin/$name" | grep 'not found'; then
    echo "installed $name does not find its libraries"; exit 1
  fi
done

export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
cmake -S "$src" -B "$work/consumer" \
  -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_RPATH="$prefix/lib" >/dev/null
cmake --build "$work/consumer" >/dev/null
# Futures and processes with nothing but the compiler and pkg-config (as a Makefile would).
c++ -o "$work/pc_futures" "$src/consumer_futures.cpp" $(pkg-config --cflags --libs turquoise)
c++ -o "$work/pc_mesos" "$src/consumer_mesos.cpp" $(pkg-config --cflags --libs turquoise-mesos-cluster)

export LD_LIBRARY_PATH="$prefix/lib"
"$work/consumer/consumer_cxx"
"$work/consumer/consumer_c"
"$work/consumer/consumer_turquoise"
"$work/consumer/consumer_futures"
"$work/consumer/consumer_mesos"
"$work/pc_futures"
"$work/pc_mesos"
unset LD_LIBRARY_PATH
# The installed inger-run finds its libraries relative to itself (no LD_LIBRARY_PATH).
[ "$("$prefix/bin/inger-run" --quantum 50 -- /bin/echo ok)" = ok ]
"$prefix/bin/inger-sla-server" --help >/dev/null
"$prefix/bin/inger-sla-load" --help >/dev/null
echo "install layout, tools and consumers OK"
