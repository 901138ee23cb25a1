#!/usr/bin/env bash
# How inger configures for a user (configure only, no build):
#  1. as a subdirectory of a parent project: no tests, benchmarks or examples, the parent's
#     build type left alone, the library targets there;
#  2. on its own without Google Benchmark or Boost: the benchmarks are skipped, not an error;
#  3. -Werror only with INGER_WERROR=ON (./dev and CI), never by default.
# Usage: configure.sh SOURCE_DIR
set -euo pipefail
src=$(realpath "$1")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "configure.sh: $*"; exit 1; }
cache() { sed -n "s/^$2:[A-Z]*=//p" "$1/CMakeCache.txt"; } # cache BUILD_DIR NAME

# 1. A parent project that add_subdirectory()s inger.
mkdir "$work/parent"
cat > "$work/parent/CMakeLists.txt" <<CMAKE
cmake_minimum_required(VERSION 3.21)
project(parent LANGUAGES C CXX)
add_subdirectory("$src" inger)
foreach(target inger::inger inger::gotcha inger::turquoise inger-run)
  if(NOT TARGET \${target})
    message(FATAL_ERROR "no target \${target}")
  endif()
endforeach()
CMAKE
cmake -S "$work/parent" -B "$work/parent-build" > "$work/parent.log" 2>&1 ||
  { cat "$work/parent.log"; fail "inger as a subdirectory does not configure"; }
for option in INGER_TESTS INGER_BENCH INGER_EXAMPLES INGER_WERROR; do
  [ "$(cache "$work/parent-build" $option)" = OFF ] ||
    fail "as a subdirectory, $option is $(cache "$work/parent-build" $option), not OFF"
done
[ -z "$(cache "$work/parent-build" CMAKE_BUILD_TYPE)" ] ||
  fail "inger set the parent's CMAKE_BUILD_TYPE to $(cache "$work/parent-build" CMAKE_BUILD_TYPE)"
[ ! -e "$work/parent-build/inger/tests" ] || fail "as a subdirectory, the tests are configured"

# 2. On its own without Boost (inger-bench skipped), then without Google Benchmark (all skipped).
top() { # top LOG [cmake args...]
  local log=$work/$1; shift
  cmake -S "$src" -B "$work/top" "$@" > "$log" 2>&1 || { cat "$log"; fail "configure $* failed"; }
}
top no-boost.log -DCMAKE_EXPORT_COMPILE_COMMANDS=ON -DINGER_TESTS=OFF \
  -DCMAKE_DISABLE_FIND_PACKAGE_Boost=ON
[ "$(cache "$work/top" INGER_BENCH)" = ON ] || fail "INGER_BENCH is not ON at the top level"
grep -q "inger-bench, which compares with it, is skipped" "$work/no-boost.log" ||
  fail "no message saying inger-bench is skipped without Boost"
top no-benchmark.log -DCMAKE_DISABLE_FIND_PACKAGE_benchmark=ON
grep -q "the benchmarks are skipped" "$work/no-benchmark.log" ||
  fail "no message saying the benchmarks are skipped without Google Benchmark"

# 3. -Werror only on request; -Wall -Wextra always for our own code.
grep -q -- '-Wall -Wextra' "$work/top/compile_commands.json" || fail "no -Wall -Wextra for our code"
! grep -q -- '-Werror' "$work/top/compile_commands.json" || fail "-Werror without INGER_WERROR"
top werror.log -DINGER_WERROR=ON
grep -q -- '-Werror' "$work/top/compile_commands.json" || fail "INGER_WERROR=ON has no -Werror"
echo "configure as a subdirectory, without benchmark dependencies, with and without -Werror: OK"
