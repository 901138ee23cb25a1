#!/usr/bin/env bash
# A/B of inger-sla-server builds with inger-sla-load: the same open-loop load against each
# build in turn (A, B, A, B, ...), a fresh server per run, medians per build at the end.
#
#   bench/http/sla_ab.sh OLD_BUILD_DIR NEW_BUILD_DIR [--rounds N] [--rate R] [--short-us N]
#                        [--long-percent X] [--long-us N] [--duration S] [--workers N] [--connections C]
# Defaults: 5 rounds, 1000 requests/s, 500 us short, 0 % long, 3 s, 1 worker, 64 connections.
# Prints one line per run and the medians of achieved rate, short p50, p99, p99.9 (µs), and of the
# server's CPU time per request (user + system of all its threads, from /proc, during the load:
# less sensitive to a busy machine than the latencies).
set -euo pipefail
old=${1:?old build dir}; new=${2:?new build dir}; shift 2
rounds=5 rate=1000 short_us=500 long_percent=0 long_us=50000 duration=3 workers=1 connections=64
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift ;; --rate) rate=$2; shift ;; --short-us) short_us=$2; shift ;;
    --long-percent) long_percent=$2; shift ;; --long-us) long_us=$2; shift ;;
    --duration) duration=$2; shift ;; --workers) workers=$2; shift ;; --connections) connections=$2; shift ;;
    *) echo "sla_ab.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
nice_cmd=()
[ "$(id -u)" -ne 0 ] || nice_cmd=(nice -n -20)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

run() { # build-dir label
  local err="$tmp/server.err"
  "${nice_cmd[@]}" "$1/tools/sla-server/inger-sla-server" --port 0 --workers "$workers" 2>"$err" &
  local pid=$!
  for _ in $(seq 100); do grep -q 'port=' "$err" 2>/dev/null && break; sleep 0.05; done
  local port; port=$(grep -o 'port=[0-9]*' "$err" | cut -d= -f2)
  local cpu0; cpu0=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  "${nice_cmd[@]}" "$1/tools/sla-load/inger-sla-load" --port "$port" --rate "$rate" --duration "$duration" \
    --warmup 0.5 --short-us "$short_us" --long-percent "$long_percent" --long-us "$long_us" \
    --connections "$connections" --quiet --out "$tmp/out.json"
  local cpu1; cpu1=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  kill -INT "$pid"; wait "$pid" || true
  python3 - "$tmp/out.json" "$2" "$((cpu1 - cpu0))" "$(getconf CLK_TCK)" <<'PY' | tee -a "$tmp/$2.txt"
import json, sys
r = json.load(open(sys.argv[1]))
s = r["short"]
n = r["ok"] + r["non200"]
cpu_us = int(sys.argv[3]) * 1e6 / int(sys.argv[4]) / max(n, 1)
print(f'{sys.argv[2]} achieved {r["achieved_rate"]:.1f}/s errors {r["connection_errors"] + r["timeouts"] + r["non200"]} '
      f'p50 {s["p50_us"]:.0f} p99 {s["p99_us"]:.0f} p999 {s["p999_us"]:.0f} cpu/req {cpu_us:.1f}')
PY
}

for i in $(seq "$rounds"); do
  run "$old" old
  run "$new" new
done
python3 - "$tmp/old.txt" "$tmp/new.txt" <<'PY'
import statistics, sys
for path in sys.argv[1:]:
    rows = [l.split() for l in open(path)]
    col = lambda k: statistics.median(float(r[r.index(k) + 1].rstrip('/s')) for r in rows)
    print(f'median {rows[0][0]}: achieved {col("achieved"):.1f}/s p50 {col("p50"):.0f} us p99 {col("p99"):.0f} us '
          f'p99.9 {col("p999"):.0f} us, server CPU {col("cpu/req"):.1f} us/request')
PY
