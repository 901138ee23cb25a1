#!/usr/bin/env bash
# bench/mesos/run.sh — the Mesos framework layer beside its yardsticks, measured in one run of
# mesos-bench (3 repetitions, randomly interleaved so that each figure and its yardstick share
# the machine's load), then the ratios:
#   tasks   command tasks (`true`) launched to TASK_FINISHED per second through the embedded
#           cluster, vs posix_spawn + waitpid of /bin/true (batches of 50)
#   events  OFFERS and UPDATE events (JSON, protobuf) streamed to a SchedulerDriver and
#           dispatched to its callbacks per second, vs mesos::decode alone and vs the bare
#           parse of the same bytes (nlohmann::json::parse, Event::ParseFromString)
#
#   bench/mesos/run.sh [extra Google Benchmark flags, e.g. --benchmark_filter=events]
#
# Builds nothing: it runs what BUILD_DIR (default build-release, relative to the repository)
# holds; `cmake --build build-release --target mesos-bench` builds it. JSON: OUT (default
# BUILD_DIR/bench-mesos.json; aggregates only); the table uses the medians. About 1-2 minutes.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
build="${BUILD_DIR:-build-release}"
out="${OUT:-$build/bench-mesos.json}"
bin="$build/bench/mesos/mesos-bench"

if [ ! -x "$bin" ]; then
  echo "bench/mesos/run.sh: $bin is missing; build it first (./dev bench, or" \
       "cmake --build $build --target mesos-bench)" >&2
  exit 1
fi

echo "load before: $(cat /proc/loadavg)"
"$bin" --benchmark_repetitions=3 --benchmark_enable_random_interleaving=true \
  --benchmark_report_aggregates_only=true \
  --benchmark_out="$out" --benchmark_out_format=json "$@"
echo "load after: $(cat /proc/loadavg)"

python3 - "$out" <<'PY'
import json, sys

with open(sys.argv[1]) as f:
    data = json.load(f)
median, cv = {}, {}  # "tasks/cluster" or "events/driver/offers/json" -> items/s
for b in data["benchmarks"]:
    if b.get("run_type") != "aggregate":
        continue
    parts = b["run_name"].split("/")
    key = "/".join(parts[:2] if parts[0] == "tasks" else parts[:4])
    if b.get("aggregate_name") == "median":
        median[key] = b.get("items_per_second")
    elif b.get("aggregate_name") == "cv":
        cv[key] = b.get("items_per_second")

def rate(key):
    x = median.get(key)
    if not x:
        return "-"
    for unit, div in (("M", 1e6), ("k", 1e3)):
        if x >= div:
            s = f"{x / div:.2f}{unit}/s"
            break
    else:
        s = f"{x:.1f}/s"
    return s + (f" ±{cv[key] * 100:.0f}%" if cv.get(key) is not None else "")

def ratio(a, b):
    return f"{median[a] / median[b]:.3f}x" if median.get(a) and median.get(b) else "-"

def table(rows):
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for n, r in enumerate(rows):
        print("  ".join(x.ljust(w) for x, w in zip(r, widths)).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))
    print()

if median.get("tasks/cluster") or median.get("tasks/spawn"):
    table([("tasks (true)", "embedded cluster", "posix_spawn+waitpid", "cluster / spawn"),
           ("per second", rate("tasks/cluster"), rate("tasks/spawn"), ratio("tasks/cluster", "tasks/spawn"))])
rows = [("events", "driver (parse+dispatch)", "decode only", "bare parse", "driver / bare", "decode / bare")]
for t in ("offers", "update"):
    for f in ("json", "protobuf"):
        d, c, b = (f"events/{w}/{t}/{f}" for w in ("driver", "decode", "bare"))
        if any(median.get(k) for k in (d, c, b)):
            rows.append((f"{t}/{f}", rate(d), rate(c), rate(b), ratio(d, b), ratio(c, b)))
if len(rows) > 1:
    table(rows)
print("Medians of 3 interleaved repetitions (± = coefficient of variation), items per second.")
print("tasks: batches of 50, each task STARTING, RUNNING, FINISHED acknowledged. events: batches")
print("of 1000 records over one HTTP stream on 127.0.0.1 (driver), one record in memory (decode,")
print("bare: nlohmann::json::parse for JSON, Event::ParseFromString for protobuf).")
print(f"JSON: {sys.argv[1]}")
PY
