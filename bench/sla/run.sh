#!/usr/bin/env bash
# The latency-SLA experiment: short-request tail latency of inger-sla-server (libturquoise's
# preemptive pool, 1 worker) under an open-loop Poisson load mixing short (500 µs) and long
# (50 ms) requests, at about half of the server's capacity, for three series:
#   preemptive   --quantum Q (Q = turquoise::default_quantum, 1000 µs, unless --quantum)
#   no-preempt   --no-preempt (tasks run to completion, as in a plain pool)
#   overhead     --quantum 10000000 (the preemptive machinery, but the quantum never expires)
# Every point restarts the server. Results: bench/sla/out/results.json (+ results.txt, the
# per-point JSON in points/) and bench/sla/out/short_p99.png (gnuplot).
#
#   bench/sla/run.sh                 the full run: shares 0 0.5 1 2 5 %, 10 s a point (~4 min)
#   bench/sla/run.sh --quick         shares 0 and 2 %, 3 s a point (~40 s)
# Options:
#   --no-build           use the binaries already built in the build dir
#   --build-dir DIR      build dir (default build-release, at the repo root)
#   --duration S         seconds measured per point (default 10; 3 with --quick)
#   --warmup S           seconds of unrecorded load before each point (default 1; 0.5 --quick)
#   --quantum US         the preemptive series' quantum (default 1000)
#   --shares "A B ..."   long-request shares in percent (default "0 0.5 1 2 5"; "0 2" --quick)
#   --series "A B ..."   a subset of: preemptive no-preempt overhead (default all three)
#   --short-us N         short request, µs of CPU (default 500)
#   --long-us N          long request, µs of CPU (default 50000)
#   --load F             offered load as a fraction of capacity (default 0.5)
#   --out-dir DIR        where the results go (default bench/sla/out)
#   --no-wrk             skip the wrk check
#   --nice N             run the server, the load generator and wrk at nice N, each in a session
#                        (autogroup) of its own (default -20 when root, so other work on the
#                        machine disturbs the measurement less; 0: off)
# The goals (PASS/FAIL lines; they do not fail the script): at 2 % long, the preemptive short
# p99 is at most 2x the preemptive short p99 at 0 % long, and the no-preempt short p99 at 2 %
# is at least 10x the preemptive one. The wrk check (3 s of /spin?us=100 over 4 connections)
# does fail the script if wrk sees errors or non-2xx answers.
# Needs curl, python3, wrk (unless --no-wrk) and, for the plot only, gnuplot: Debian packages
# that ./dev setup installs; the script installs nothing and says what is missing.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"

build=1 quick=0 wrk_check=1
build_dir=build-release
duration="" warmup="" shares=""
quantum=1000
series="preemptive no-preempt overhead"
short_us=500 long_us=50000 load=0.5
out_dir="$here/out"
nice_level=0
[ "$(id -u)" -ne 0 ] || nice_level=-20

die() { echo "run.sh: $*" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) build=0 ;;
    --quick) quick=1 ;;
    --no-wrk) wrk_check=0 ;;
    --build-dir) build_dir=${2:?}; shift ;;
    --duration) duration=${2:?}; shift ;;
    --warmup) warmup=${2:?}; shift ;;
    --quantum) quantum=${2:?}; shift ;;
    --shares) shares=${2:?}; shift ;;
    --series) series=${2:?}; shift ;;
    --short-us) short_us=${2:?}; shift ;;
    --long-us) long_us=${2:?}; shift ;;
    --load) load=${2:?}; shift ;;
    --out-dir) out_dir=${2:?}; shift ;;
    --nice) nice_level=${2:?}; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option '$1' (try --help)" ;;
  esac
  shift
done
if [ "$quick" = 1 ]; then
  : "${duration:=3}" "${warmup:=0.5}" "${shares:=0 2}"
else
  : "${duration:=10}" "${warmup:=1}" "${shares:=0 0.5 1 2 5}"
fi
[[ "$quantum" =~ ^[0-9]+$ && "$quantum" -gt 0 ]] || die "--quantum wants a positive integer (µs)"
[[ "$nice_level" =~ ^-?[0-9]+$ ]] || die "--nice wants an integer"
for s in $series; do
  case "$s" in preemptive|no-preempt|overhead) ;; *) die "unknown series '$s'" ;; esac
done
case "$build_dir" in /*) ;; *) build_dir="$root/$build_dir" ;; esac
mkdir -p "$out_dir"
out_dir=$(cd "$out_dir" && pwd)

# --- tools -------------------------------------------------------------------------------------
# The experiment's dependencies belong to `./dev setup` (Debian packages); this script installs
# nothing. A missing one stops it here, before any measurement, naming the package.
missing=()
need() { # need COMMAND PACKAGE
  command -v "$1" >/dev/null 2>&1 || missing+=("$1 (Debian package $2)")
}
need curl curl
need python3 python3
[ "$wrk_check" = 0 ] || need wrk wrk
if [ ${#missing[@]} -gt 0 ]; then
  echo "run.sh: missing: $(printf "%s, " "${missing[@]}" | sed "s/, $//")" >&2
  echo "run.sh: install them with ./dev setup (or apt-get install); --no-wrk skips the wrk check" >&2
  exit 2
fi
# The plot is the only use of gnuplot: without it the results (JSON and text) are still written.
plot_png=1
if ! command -v gnuplot >/dev/null 2>&1; then
  plot_png=0
  echo "run.sh: gnuplot (Debian package gnuplot-nox) is not installed: no short_p99.png this run" >&2
fi

# --- build -------------------------------------------------------------------------------------
if [ "$build" = 1 ]; then
  [ -x ./dev ] && ./dev setup
  cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$build_dir" -j "$(nproc 2>/dev/null || echo 2)" --target inger-sla-server inger-sla-load
fi
server_bin="$build_dir/tools/sla-server/inger-sla-server"
load_bin="$build_dir/tools/sla-load/inger-sla-load"
[ -x "$server_bin" ] || die "no server binary at $server_bin (build it, or drop --no-build)"
[ -x "$load_bin" ] || die "no load generator at $load_bin (build it, or drop --no-build)"

# Server on CPU 0, load generator (and wrk) on CPU 1.
pin_server=() pin_load=()
if command -v taskset >/dev/null 2>&1 && [ "$(nproc)" -ge 2 ]; then
  pin_server=(taskset -c 0) pin_load=(taskset -c 1)
else
  echo "run.sh: no taskset or fewer than 2 CPUs: server and load generator are not pinned" >&2
fi
# Other work on the machine: run the server and the load generator at a high priority. With
# autogrouping (sched_autogroup_enabled), nice only weighs threads against each other inside one
# session, so each runs in a session of its own (setsid) whose autogroup gets that nice too.
if [ "$nice_level" != 0 ]; then
  if [ "$(nice -n "$nice_level" nice 2>/dev/null)" = "$nice_level" ]; then
    boost=(nice -n "$nice_level")
    if command -v setsid >/dev/null 2>&1 && [ -w /proc/self/autogroup ]; then
      boost=(setsid -w bash -c 'echo "$0" >/proc/self/autogroup 2>/dev/null || true; exec nice -n "$0" "$@"' "$nice_level")
    fi
    pin_server=("${boost[@]}" "${pin_server[@]}") pin_load=("${boost[@]}" "${pin_load[@]}")
  else
    echo "run.sh: cannot run at nice $nice_level, running at the default priority" >&2
    nice_level=0
  fi
fi

points_dir="$out_dir/points"
rm -rf "$points_dir"
mkdir -p "$points_dir"

# --- the server --------------------------------------------------------------------------------
server_pid="" server_log=""
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
stop_server() { # sets crashed to "crashed (...)" if the server had died before we stopped it
  crashed=""
  [ -n "$server_pid" ] || return 0
  local pid=$server_pid rc=0
  server_pid=""
  if ! kill -0 "$pid" 2>/dev/null; then
    wait "$pid" 2>/dev/null || rc=$?
    crashed="crashed (exit status $rc)"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "run.sh: server $pid ignored SIGTERM for 5 s, killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}
trap 'stop_server' EXIT
# The server calibrates its CPU-burning loop against the clock when it starts; if something else
# runs on its CPU then, the calibration comes out low and every /spin burns too little. So each
# start is checked against the best calibration seen in this run and retried (up to 4 times)
# when it is more than 10 % below it.
cal_ref=0 calibration=""
launch_server() { # launch_server LOGNAME ARGS...: sets server_pid, port, calibration
  local name=$1; shift
  port=$(free_port)
  server_log="$points_dir/$name.server.log"
  "${pin_server[@]}" "$server_bin" --port "$port" --workers 1 "$@" >"$server_log" 2>&1 &
  server_pid=$!
  local ready=0 waited=0
  for _ in $(seq 200); do
    if ! kill -0 "$server_pid" 2>/dev/null; then
      echo "run.sh: the server exited at start ($server_bin --port $port --workers 1 $*):" >&2
      cat "$server_log" >&2
      exit 1
    fi
    if [ "$ready" = 0 ] && (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      ready=1
    fi
    # accepting, and its start-up line (with the calibration) is out
    if [ "$ready" = 1 ]; then
      grep -q "listening" "$server_log" && break
      waited=$((waited + 1))
      [ "$waited" -lt 40 ] || break # 2 s: a log without that line
    fi
    sleep 0.05
  done
  if [ "$ready" = 0 ]; then
    echo "run.sh: the server did not accept on port $port within 10 s" >&2
    exit 1
  fi
  calibration=$(sed -n 's/.*calibration=\([0-9.]*\).*/\1/p' "$server_log" | head -1)
}
start_server() { # start_server LOGNAME ARGS...
  local try
  for try in 1 2 3 4 5; do
    launch_server "$@"
    [ -n "$calibration" ] || return 0 # no calibration in the log: nothing to check
    if python3 -c "import sys; sys.exit(0 if $calibration >= 0.9 * $cal_ref else 1)"; then
      cal_ref=$(python3 -c "print(max($calibration, $cal_ref))")
      return 0
    fi
    echo "run.sh: server calibration $calibration iterations/us is more than 10 % below" \
         "$cal_ref (CPU 0 busy at start?), restarting it" >&2
    stop_server
    sleep 0.5
  done
  echo "run.sh: WARNING: keeping a server whose calibration is $calibration (best $cal_ref)" >&2
}
series_args() {
  case "$1" in
    preemptive) echo "--quantum $quantum" ;;
    no-preempt) echo "--no-preempt" ;;
    overhead) echo "--quantum 10000000" ;;
  esac
}

# A reference calibration: the best of three starts.
for _ in 1 2 3; do
  launch_server probe --no-preempt
  stop_server
  [ -z "$calibration" ] || cal_ref=$(python3 -c "print(max($calibration, $cal_ref))")
done
[ "$cal_ref" = 0 ] || echo "run.sh: reference calibration $cal_ref iterations/us" >&2

# --- wrk: once, a sanity check of the HTTP server with a standard client -----------------------
wrk_status="skipped"
if [ "$wrk_check" = 1 ]; then
  # shellcheck disable=SC2046
  start_server wrk $(series_args preemptive)
  wrk_out="$out_dir/wrk.txt"
  "${pin_load[@]}" wrk -t1 -c4 -d3s --latency "http://127.0.0.1:$port/spin?us=100" >"$wrk_out" 2>&1 || true
  stop_server
  echo "== wrk -t1 -c4 -d3s http://127.0.0.1:PORT/spin?us=100 (preemptive server)"
  cat "$wrk_out"
  wrk_requests=$(sed -n 's/^ *\([0-9][0-9]*\) requests in .*/\1/p' "$wrk_out")
  wrk_non2xx=$(sed -n 's/^ *Non-2xx or 3xx responses: *\([0-9][0-9]*\).*/\1/p' "$wrk_out")
  wrk_sockerr=$(sed -n 's/^ *Socket errors: *connect \([0-9]*\), read \([0-9]*\), write \([0-9]*\), timeout \([0-9]*\).*/\1 \2 \3 \4/p' "$wrk_out")
  wrk_errors=0
  for n in $wrk_sockerr; do wrk_errors=$((wrk_errors + n)); done
  if [ -z "$wrk_requests" ] || [ "$wrk_requests" -eq 0 ] || [ -n "$wrk_non2xx" ] ||
     [ "$wrk_errors" -ne 0 ] || [ -n "$crashed" ]; then
    echo "run.sh: wrk check FAILED: requests=${wrk_requests:-none} non-2xx=${wrk_non2xx:-0}" \
         "socket errors=${wrk_sockerr:-none} ${crashed:+server $crashed}" >&2
    exit 1
  fi
  wrk_status="ok: $wrk_requests requests in 3 s, 0 socket errors, 0 non-2xx"
  echo "wrk check: $wrk_status"
  echo
fi

# --- the points ----------------------------------------------------------------------------------
seed=1
for share in $shares; do
  seed=$((seed + 1)) # the same arrivals for every series at one share
  rate=$(python3 -c "p=$share/100; m=(1-p)*$short_us+p*$long_us; print(f'{$load*1e6/m:.3f}')")
  for s in $series; do
    name="$s-$share"
    loadavg=$(cut -d' ' -f1 /proc/loadavg)
    # shellcheck disable=SC2046
    start_server "$name" $(series_args "$s")
    echo "== $s, long $share %, $rate req/s, ${duration} s (+${warmup} s warm-up), server port $port" >&2
    load_rc=0
    "${pin_load[@]}" "$load_bin" --port "$port" --rate "$rate" --duration "$duration" \
      --warmup "$warmup" --drain 10 --long-percent "$share" --short-us "$short_us" \
      --long-us "$long_us" --seed "$seed" --out "$points_dir/$name.json" || load_rc=$?
    stats_ok=1
    curl -sS --max-time 5 "http://127.0.0.1:$port/stats" >"$points_dir/$name.stats.json" 2>"$points_dir/$name.stats.err" || stats_ok=0
    stop_server
    python3 - "$points_dir/$name.meta.json" "$s" "$share" "$rate" "$load_rc" "$stats_ok" "$crashed" \
      "${calibration:-0}" "$loadavg" <<'EOF'
import json, sys
path, series, share, rate, rc, stats_ok, crashed, cal, loadavg = sys.argv[1:]
json.dump({"series": series, "long_percent": float(share), "rate": float(rate),
           "load_exit": int(rc), "stats_ok": stats_ok == "1", "server_crashed": crashed,
           "calibration": float(cal) or None, "loadavg_before": float(loadavg)},
          open(path, "w"))
EOF
    if [ -n "$crashed" ]; then
      echo "run.sh: WARNING: the server $crashed during $name; its log:" >&2
      tail -20 "$server_log" >&2
    fi
  done
done

# --- results -------------------------------------------------------------------------------------
python3 - "$points_dir" "$out_dir" "$quantum" "$duration" "$warmup" "$short_us" "$long_us" "$load" \
  "$wrk_status" "$shares" "$series" <<'EOF'
import json, os, sys
points, out, quantum, duration, warmup, short_us, long_us, load, wrk_status, shares, series = sys.argv[1:]
shares = shares.split(); series = series.split()

def load_json(p):
    try:
        with open(p) as f:
            return json.load(f)
    except Exception as e:
        return None

def preemptions(stats):
    # inger-sla-server's /stats: {"total": {"preemptions": N, ...}, "per_worker": [{...}, ...]}
    if not isinstance(stats, dict):
        return None
    if isinstance(stats.get("total"), dict) and "preemptions" in stats["total"]:
        return int(stats["total"]["preemptions"])
    per = stats.get("per_worker")
    if isinstance(per, list) and all(isinstance(w, dict) and "preemptions" in w for w in per):
        return sum(int(w["preemptions"]) for w in per)
    return int(stats["preemptions"]) if "preemptions" in stats else None

rows = []
for share in shares:
    for s in series:
        name = f"{s}-{share}"
        r = load_json(os.path.join(points, name + ".json")) or {}
        meta = load_json(os.path.join(points, name + ".meta.json")) or {}
        st = load_json(os.path.join(points, name + ".stats.json"))
        sh, lo = r.get("short", {}), r.get("long", {})
        rows.append({
            "series": s, "long_percent": float(share),
            "quantum_us": {"preemptive": int(quantum), "overhead": 10000000}.get(s),
            "offered_rate": r.get("offered_rate", meta.get("rate")),
            "achieved_rate": r.get("achieved_rate"),
            "short_count": sh.get("count"), "short_p50_us": sh.get("p50_us"),
            "short_p99_us": sh.get("p99_us"), "short_p999_us": sh.get("p999_us"),
            "short_max_us": sh.get("max_us"),
            "long_count": lo.get("count"), "long_p50_us": lo.get("p50_us"),
            "long_p99_us": lo.get("p99_us"),
            "send_lag_p99_us": (r.get("send_lag") or {}).get("p99_us"),
            "errors": (r.get("non200", 0) + r.get("connection_errors", 0)) if r else None,
            "timeouts": r.get("timeouts"),
            "preemptions": preemptions(st),
            "server_crashed": meta.get("server_crashed") or None,
            "calibration": meta.get("calibration"),
            "loadavg_before": meta.get("loadavg_before"),
        })

def find(s, share):
    for row in rows:
        if row["series"] == s and row["long_percent"] == share:
            return row
    return None

goals = []
p0, p2, n2 = find("preemptive", 0.0), find("preemptive", 2.0), find("no-preempt", 2.0)
def ok(v): return isinstance(v, (int, float)) and v > 0
if p0 and p2 and ok(p0["short_p99_us"]) and ok(p2["short_p99_us"]):
    ratio = p2["short_p99_us"] / p0["short_p99_us"]
    goals.append({"goal": "preemptive short p99 at 2% long <= 2x preemptive short p99 at 0% long",
                  "value": round(ratio, 2), "pass": ratio <= 2.0})
if p2 and n2 and ok(p2["short_p99_us"]) and ok(n2["short_p99_us"]):
    ratio = n2["short_p99_us"] / p2["short_p99_us"]
    goals.append({"goal": "no-preempt short p99 at 2% long >= 10x preemptive's",
                  "value": round(ratio, 2), "pass": ratio >= 10.0})

result = {
    "config": {"quantum_us": int(quantum), "duration_s": float(duration), "warmup_s": float(warmup),
               "short_us": int(short_us), "long_us": int(long_us), "load_fraction": float(load),
               "workers": 1, "shares": [float(x) for x in shares], "series": series},
    "wrk_check": wrk_status,
    "table": rows,
    "goals": goals,
}
with open(os.path.join(out, "results.json"), "w") as f:
    json.dump(result, f, indent=2)

def f(v, w=9, d=0):
    if v is None: return "-".rjust(w)
    if isinstance(v, float): return f"{v:{w}.{d}f}"
    return str(v).rjust(w)
lines = []
hdr = (f"{'series':<11} {'long%':>5} {'rate/s':>7} {'achvd/s':>7} | {'short p50':>9} {'p99':>9} "
       f"{'p99.9':>9} | {'long p50':>9} {'p99':>9} | {'preempt':>8} {'err':>4} {'tmo':>4} {'cal':>6} {'lag99':>6}")
lines.append("latencies in µs; preemptive quantum %s µs, %s s a point, 1 worker; "
             "cal: the server's spin-loop calibration (iterations/µs);\n"
             "lag99: p99 of how late the load generator sent (µs; included in the latencies)" % (quantum, duration))
lines.append(hdr)
lines.append("-" * len(hdr))
for s in series:
    for share in shares:
        row = find(s, float(share))
        lines.append(f"{s:<11} {float(share):5.1f} {f(row['offered_rate'],7)} {f(row['achieved_rate'],7)} | "
                     f"{f(row['short_p50_us'])} {f(row['short_p99_us'])} {f(row['short_p999_us'])} | "
                     f"{f(row['long_p50_us'])} {f(row['long_p99_us'])} | {f(row['preemptions'],8)} "
                     f"{f(row['errors'],4)} {f(row['timeouts'],4)} {f(row['calibration'],6)} {f(row['send_lag_p99_us'],6)}"
                     + (f"  SERVER {row['server_crashed']}" if row["server_crashed"] else ""))
lines.append("")
for g in goals:
    lines.append(f"{'PASS' if g['pass'] else 'FAIL'}: {g['goal']} (ratio {g['value']})")
if not goals:
    lines.append("goals: not evaluated (need preemptive at 0 and 2 % and no-preempt at 2 %)")
text = "\n".join(lines) + "\n"
with open(os.path.join(out, "results.txt"), "w") as fh:
    fh.write(text)
print(text, end="")

# gnuplot data: one block per series (share, short p99 in ms)
with open(os.path.join(out, "short_p99.dat"), "w") as fh:
    for s in series:
        fh.write(f"# {s}\n")
        for share in shares:
            row = find(s, float(share))
            if row and ok(row["short_p99_us"]):
                fh.write(f"{float(share)} {row['short_p99_us'] / 1000.0}\n")
        fh.write("\n\n")
EOF

titles=()
for s in $series; do
  case "$s" in
    preemptive) titles+=("preemptive (quantum $quantum µs)") ;;
    no-preempt) titles+=("no preemption") ;;
    overhead) titles+=("preemptive pool, quantum never fires") ;;
  esac
done
plot=""
i=0
for t in "${titles[@]}"; do
  [ -n "$plot" ] && plot+=", "
  plot+="'$out_dir/short_p99.dat' index $i using 1:2 with linespoints lw 2 pt 7 title '$t'"
  i=$((i + 1))
done
# The first goal's bound: 2x the preemptive short p99 at 0 % long, as a dashed line.
goal_ms=$(python3 -c "
import json, sys
for r in json.load(open(sys.argv[1]))['table']:
    if r['series'] == 'preemptive' and r['long_percent'] == 0 and r['short_p99_us']:
        print(2 * r['short_p99_us'] / 1000.0)
" "$out_dir/results.json")
goal_cmd=""
[ -z "$goal_ms" ] || goal_cmd="set arrow from graph 0, first $goal_ms to graph 1, first $goal_ms nohead dt 2 lc rgb 'gray40'
set label 'goal: 2 x preemptive p99 at 0 %' at graph 0.99, first $goal_ms offset 0,0.7 right tc rgb 'gray40'"
if [ "$plot_png" = 1 ]; then
gnuplot <<EOF
set terminal pngcairo size 900,560 font ",11" noenhanced
set output '$out_dir/short_p99.png'
set title "Short requests (${short_us} µs) p99 vs share of long requests (${long_us} µs), 1 worker, ~${load} load"
set xlabel "long requests (% of requests)"
set ylabel "short-request p99 latency (ms)"
set logscale y
set grid xtics ytics mytics
set key top left
$goal_cmd
set xtics ($(echo "$shares" | sed 's/\([0-9.][0-9.]*\)/"\1" \1/g; s/ "/, "/g; s/^, //'))
plot $plot
EOF
fi
echo
echo "results: $out_dir/results.json, $out_dir/results.txt"
if [ "$plot_png" = 1 ]; then
  echo "plot:    $out_dir/short_p99.png"
else
  echo "plot:    none (gnuplot is not installed)"
fi
