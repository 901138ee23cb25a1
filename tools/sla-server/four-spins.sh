#!/usr/bin/env bash
# tools/sla-server/four-spins.sh — issue 15's migration scenario: four concurrent 3 s /spin
# requests to inger-sla-server --workers 2, once per mode (/spin pinned with --no-migrate,
# the default where /spin's burn opts in to migration, and --no-preempt), printing each
# request's time and the makespan. Needs curl.
#
#   tools/sla-server/four-spins.sh [path/to/inger-sla-server] [spin us, default 3000000]
#   MODES="default --no-preempt" tools/sla-server/four-spins.sh ...   (a subset of the modes)
set -euo pipefail
server="${1:-build-release/tools/sla-server/inger-sla-server}"
us="${2:-3000000}"
port=18431
for mode in ${MODES:---no-migrate default --no-preempt}; do
	args=(--port "$port" --workers 2)
	[ "$mode" != default ] && args+=("$mode")
	"$server" "${args[@]}" 2>/dev/null &
	srv=$!
	for _ in $(seq 100); do # wait for calibration and listen (bounded: 10 s)
		curl -s -o /dev/null "http://127.0.0.1:$port/stats" && break
		sleep 0.1
	done
	start=$(date +%s.%N)
	pids=()
	for i in 1 2 3 4; do
		curl -s -o /dev/null -w "%{time_total}\n" "http://127.0.0.1:$port/spin?us=$us" >"/tmp/four-spins.$$.$i" &
		pids+=($!)
	done
	wait "${pids[@]}"
	end=$(date +%s.%N)
	times=$(cat /tmp/four-spins.$$.{1,2,3,4} | sort -n | tr '\n' ' ')
	rm -f /tmp/four-spins.$$.*
	kill "$srv"
	wait "$srv" 2>/dev/null || true
	printf '%s %-12s requests: %s makespan: %.2f s  (load %s)\n' "$server" "$mode" "$times" \
		"$(echo "$end - $start" | bc -l)" "$(cut -d' ' -f1 /proc/loadavg)"
done
