#!/usr/bin/env bash
# bench/remote/run.sh — turquoise's remote processes against CAF 0.17's middleman, two OS
# processes each over loopback: starts the peers, runs turquoise-remote-vs-caf (both halves in
# one run), prints the ratios, writes the JSON.
#
#   bench/remote/run.sh [extra Google Benchmark flags, e.g. --benchmark_filter=roundtrip]
#
# Builds nothing: it runs what BUILD_DIR (default build-release, relative to the repository)
# holds; `./dev bench` builds it, or
#   cmake --build build-release --target turquoise-remote-vs-caf remote-bench-peer remote-bench-caf-peer
# Without remote-bench-caf-peer (CAF not found at configure time) only the turquoise half runs.
# JSON: OUT (default BUILD_DIR/bench-remote.json; 3 repetitions, aggregates only); the table
# uses the medians. About a minute on the 2-core VM.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
build="${BUILD_DIR:-build-release}"
out="${OUT:-$build/bench-remote.json}"
bin="$build/bench/remote"

if [ ! -x "$bin/turquoise-remote-vs-caf" ] || [ ! -x "$bin/remote-bench-peer" ]; then
  echo "bench/remote/run.sh: $bin/turquoise-remote-vs-caf or remote-bench-peer is missing;" \
       "build them first (./dev bench, or cmake --build $build --target turquoise-remote-vs-caf" \
       "remote-bench-peer remote-bench-caf-peer)" >&2
  exit 1
fi

tmp="$(mktemp -d)"
peers=()
cleanup() {
  for pid in "${peers[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${peers[@]}"; do wait "$pid" 2>/dev/null || true; done
  cat "$tmp"/*.err 2>/dev/null || true  # the peers' last words (remote-bench-peer: its counters)
  rm -rf "$tmp"
}
trap cleanup EXIT

# start_peer NAME PROGRAM: starts it (in this shell, so that cleanup knows it), waits (10 s at
# most) for its READY line; the rest of that line in $ready.
start_peer() {
  "$2" >"$tmp/$1.out" 2>"$tmp/$1.err" &
  peers+=($!)
  for _ in $(seq 100); do
    ready="$(sed -n 's/^READY //p' "$tmp/$1.out" | head -1)"
    [ -n "$ready" ] && return 0
    kill -0 "${peers[-1]}" 2>/dev/null || break
    sleep 0.1
  done
  echo "bench/remote/run.sh: $2 did not start:" >&2
  cat "$tmp/$1.err" >&2
  return 1
}

start_peer turquoise "$bin/remote-bench-peer"
args=(--turquoise="$ready")
if [ -x "$bin/remote-bench-caf-peer" ]; then
  start_peer caf "$bin/remote-bench-caf-peer"
  args+=(--caf="127.0.0.1:$ready")
else
  echo "bench/remote/run.sh: no remote-bench-caf-peer (CAF not found when configuring):" \
       "turquoise half only" >&2
fi

"$bin/turquoise-remote-vs-caf" "${args[@]}" \
  --benchmark_out="$out" --benchmark_out_format=json "$@"

python3 - "$out" <<'PY'
import json, sys

with open(sys.argv[1]) as f:
    data = json.load(f)
rows = {}  # (name, half) -> {"ips": median items/s, "cv": cv of items/s}
for b in data["benchmarks"]:
    if b.get("run_type") != "aggregate":
        continue
    name, half = b["run_name"].split("/")[:2]
    entry = rows.setdefault((name, half), {})
    if b.get("aggregate_name") == "median":
        entry["ips"] = b.get("items_per_second")
    elif b.get("aggregate_name") == "cv":
        entry["cv"] = b.get("items_per_second")

def rate(x):
    for unit, div in (("M", 1e6), ("k", 1e3)):
        if x >= div:
            return f"{x / div:.2f}{unit}/s"
    return f"{x:.1f}/s"

def cell(e, kind):
    x = e.get("ips")
    if not x:
        return "-"
    cv = f" ±{e['cv'] * 100:.0f}%" if e.get("cv") is not None else ""
    return (f"{1e6 / x:,.1f} us" if kind == "latency" else rate(x)) + cv

table = [("benchmark", "turquoise", "CAF 0.17", "ratio", "goal", "met?")]
verdicts = []
for name, kind in (("roundtrip_64", "latency"), ("oneway_64", "throughput"),
                   ("oneway_65536", "throughput")):
    t, c = rows.get((name, "turquoise"), {}), rows.get((name, "caf"), {})
    ti, ci = t.get("ips"), c.get("ips")
    if not ti and not ci:
        continue  # filtered out
    if kind == "latency":
        ratio = ci / ti if (ti and ci) else None  # turquoise's time / CAF's time
        goal, met = "time <= 0.5x", ratio is not None and ratio <= 0.5
    else:
        ratio = ti / ci if (ti and ci) else None
        goal, met = "msgs/s >= 2x", ratio is not None and ratio >= 2.0
    if ratio is not None:
        verdicts.append(met)
    table.append((name, cell(t, kind), cell(c, kind), "-" if ratio is None else f"{ratio:.2f}x",
                  goal, "-" if ratio is None else ("yes" if met else "no")))
widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
for n, r in enumerate(table):
    print("  ".join(x.ljust(w) for x, w in zip(r, widths)).rstrip())
    if n == 0:
        print("  ".join("-" * w for w in widths))
print()
print("Medians of 3 repetitions (± = coefficient of variation). roundtrip_64: time per round")
print("trip (ratio = turquoise's / CAF's); oneway_*: messages per second from one sender (ratio =")
print("turquoise's / CAF's). Each half: a client runtime and its peer, two OS processes, loopback.")
if verdicts:
    print(f"Goals met: {sum(verdicts)} of {len(verdicts)}.")
else:
    print("No pairs to compare (one half missing).")
print(f"JSON: {sys.argv[1]}")
PY
