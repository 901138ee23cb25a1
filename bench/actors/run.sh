#!/usr/bin/env bash
# bench/actors/run.sh — build turquoise-vs-caf (Release), run it, print turquoise/CAF ratios.
#
#   bench/actors/run.sh [extra Google Benchmark flags, e.g. --benchmark_filter=fanin]
#
# Needs libbenchmark-dev and, for the CAF half, libcaf-dev (Debian 12: CAF 0.17).
# BUILD_DIR (default build-release, relative to the repository) selects the build tree.
# Results: bench/actors/out/results.json (Google Benchmark JSON: 3 repetitions, aggregates
# only); the table uses the medians. Takes about a minute on the 2-core VM.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
build="${BUILD_DIR:-build-release}"
out=bench/actors/out
mkdir -p "$out"

cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DINGER_BENCH=ON >/dev/null
cmake --build "$build" --target turquoise-vs-caf -j"$(nproc)"

"$build/bench/actors/turquoise-vs-caf" \
  --benchmark_out="$out/results.json" --benchmark_out_format=json "$@"

python3 - "$out/results.json" <<'EOF'
import json, sys

with open(sys.argv[1]) as f:
    data = json.load(f)

# name/impl -> {"ips": median items/s, "cv": cv of items/s}
rows = {}
for b in data["benchmarks"]:
    if b.get("run_type") != "aggregate":
        continue
    parts = b["run_name"].split("/")
    key = (parts[0], parts[1])
    entry = rows.setdefault(key, {})
    agg = b.get("aggregate_name")
    if agg == "median":
        entry["ips"] = b.get("items_per_second")
    elif agg == "cv":
        entry["cv"] = b.get("items_per_second")

# (label, turquoise benchmark, CAF benchmark, goal kind, like-for-like?)
LATENCY, THROUGHPUT = "latency", "throughput"
pairs = [
    ("roundtrip_blocking", "roundtrip_blocking", "roundtrip_blocking", LATENCY, True),
    ("roundtrip_actors", "roundtrip_actors", "roundtrip_actors", LATENCY, True),
    ("fanin_4", "fanin_4", "fanin_4", THROUGHPUT, True),
    ("fanin_16", "fanin_16", "fanin_16", THROUGHPUT, True),
    ("spawn_terminate", "spawn_terminate", "spawn_terminate", THROUGHPUT, True),
    ("then_chain_actor", "then_chain_actor", "then_chain_actor", THROUGHPUT, True),
    ("then_chain_ready*", "then_chain_ready", "then_chain_actor", THROUGHPUT, False),
]

def fmt_rate(x):
    if x is None:
        return "-"
    for unit, div in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if x >= div:
            return f"{x / div:.2f}{unit}/s"
    return f"{x:.1f}/s"

def fmt_ns(ips):
    return "-" if not ips else f"{1e9 / ips:,.0f} ns"

def fmt_cv(e):
    cv = e.get("cv")
    return "" if cv is None else f" ±{cv * 100:.0f}%"

header = ("benchmark", "turquoise", "CAF", "thr. ratio", "turquoise/item", "CAF/item",
          "lat. ratio", "goal", "met?")
table = [header]
verdicts = []
for label, tq, caf, kind, fair in pairs:
    t = rows.get((tq, "turquoise"), {})
    c = rows.get((caf, "caf"), {})
    ti, ci = t.get("ips"), c.get("ips")
    if ti is None:
        continue
    thr = ti / ci if (ti and ci) else None
    lat = ci / ti if (ti and ci) else None  # (1/ti) / (1/ci)
    if kind == LATENCY:
        goal, met = "lat <= 0.5x", (lat is not None and lat <= 0.5)
    else:
        goal, met = "thr >= 2x", (thr is not None and thr >= 2.0)
    verdict = "-" if thr is None else ("yes" if met else "no")
    if not fair and thr is not None:
        verdict += " (n/a)"
    elif thr is not None:
        verdicts.append(met)
    table.append((label, fmt_rate(ti) + fmt_cv(t), fmt_rate(ci) + fmt_cv(c),
                  "-" if thr is None else f"{thr:.2f}x", fmt_ns(ti), fmt_ns(ci),
                  "-" if lat is None else f"{lat:.2f}x", goal, verdict))

widths = [max(len(r[i]) for r in table) for i in range(len(header))]
for n, r in enumerate(table):
    print("  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip())
    if n == 0:
        print("  ".join("-" * w for w in widths))
print()
print("Medians of 3 repetitions (± = coefficient of variation of items/s). thr. ratio =")
print("turquoise items/s / CAF items/s; lat. ratio = turquoise time per item / CAF time per")
print("item (for roundtrip_* an item is one round trip). Goal: >= 2x CAF's throughput, <= 0.5x")
print("its round-trip latency.")
print("* then_chain_ready: turquoise's 10 then() on a ready future (plain calls on the caller's")
print("  thread) against CAF's closest idiom, 10 request().then() continuations through an actor")
print("  (CAF 0.17 has no future with continuations outside actors): not like-for-like, left out")
print("  of the verdict. then_chain_actor is the like-for-like pair.")
if verdicts:
    print(f"Goals met: {sum(verdicts)} of {len(verdicts)} like-for-like benchmarks"
          + (" (all)." if all(verdicts) else "."))
else:
    print("No CAF results (built without libcaf-dev?): no ratios.")
EOF
