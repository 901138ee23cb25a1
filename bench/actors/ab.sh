#!/usr/bin/env bash
# bench/actors/ab.sh — compare two builds of turquoise-vs-caf on a noisy machine.
#
#   bench/actors/ab.sh A_BINARY B_BINARY [ROUNDS=3] [FILTER=turquoise]
#
# Runs the two binaries in turn ROUNDS times (A, B, A, B...), so that a slow spell of the
# machine hits both, and prints for each benchmark the median and the best of the per-run
# medians (items/s) of A and B, and B/A of the medians; with a filter that keeps CAF's rows
# (e.g. FILTER=fanin), also each side's turquoise/CAF ratio, run by run (A and B run the same
# CAF code: it is the yardstick for the machine's state). Build A from another worktree (its
# RUNPATH points at its own libturquoise.so, so the two do not mix):
#   git worktree add /tmp/base main && cmake -S /tmp/base -B /tmp/base/build-release \
#     -DCMAKE_BUILD_TYPE=Release -DINGER_BENCH=ON -DINGER_TESTS=OFF && \
#   cmake --build /tmp/base/build-release --target turquoise-vs-caf
set -euo pipefail
a=$1 b=$2 rounds=${3:-3} filter=${4:-turquoise}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for _ in $(seq 1 "$rounds"); do
  for side in a b; do
    bin=$a
    [ "$side" = b ] && bin=$b
    "$bin" --benchmark_filter="$filter" 2>/dev/null | grep _median | grep items_per_second |
      sed 's/min_time.*items_per_second=/ /' | awk -v s="$side" '{print s, $1, $2}' >>"$out"
  done
done
python3 - "$out" <<'PY'
import collections, statistics, sys

def rate(text):  # "12.3M/s" -> 12.3e6
    text = text.removesuffix("/s")
    scale = {"k": 1e3, "M": 1e6, "G": 1e9}.get(text[-1])
    return float(text[:-1]) * scale if scale else float(text)

runs = collections.defaultdict(list)
for line in open(sys.argv[1]):
    side, name, value = line.split()
    runs[(name, side)].append(rate(value))
for name in sorted({n for n, _ in runs}):
    a, b = runs.get((name, "a")), runs.get((name, "b"))
    if not a or not b:
        continue
    ma, mb = statistics.median(a), statistics.median(b)
    print(f"{name:40s} A median {ma / 1e3:10.1f}k best {max(a) / 1e3:10.1f}k | "
          f"B median {mb / 1e3:10.1f}k best {max(b) / 1e3:10.1f}k | B/A {mb / ma:.2f}")
# With a filter that selects CAF's rows too: each side's turquoise/CAF ratio, from the CAF
# runs of the same binary (the yardstick that saw the same spells of the machine).
for name in sorted({n for n, _ in runs if "/turquoise/" in n}):
    peer = name.replace("/turquoise/", "/caf/")
    sides = []
    for side in "ab":
        t, c = runs.get((name, side)), runs.get((peer, side))
        if t and c:
            sides.append(f"{side.upper()} {statistics.median(t) / statistics.median(c):.2f}x "
                         f"(per run: {', '.join(f'{x / y:.2f}' for x, y in zip(t, c))})")
    if sides:
        print(f"{name.split('/')[0]:40s} turquoise/CAF  " + " | ".join(sides))
PY
