#!/bin/bash
# workers_test.sh INGER_WORKERS — a proxy, two workers and a master of inger-workers as OS
# processes over 127.0.0.1: the master's 30 tasks come back, each computed once, and both
# workers took some. Bounded: every process under timeout.
set -u
bin=$1
dir=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT
fail() { echo "workers_test: $*" >&2; for f in "$dir"/*; do echo "--- $f"; cat "$f"; done >&2; exit 1; }

timeout 60 "$bin" proxy --port 0 >"$dir/proxy.out" 2>"$dir/proxy.err" &
pids+=($!)
for _ in $(seq 100); do grep -q '^READY ' "$dir/proxy.out" && break; sleep 0.1; done
address=$(sed -n 's/^READY //p' "$dir/proxy.out")
[ -n "$address" ] || fail "the proxy printed no READY line"
for w in 1 2; do
	timeout 60 "$bin" worker --proxy "$address" >"$dir/worker$w.out" 2>"$dir/worker$w.err" &
	pids+=($!)
	for _ in $(seq 100); do grep -q 'ready' "$dir/worker$w.err" && break; sleep 0.1; done
	grep -q 'ready' "$dir/worker$w.err" || fail "worker $w did not start"
done
timeout 40 "$bin" master --proxy "$address" --tasks 30 >"$dir/master.out" 2>"$dir/master.err" || fail "the master failed"
[ "$(wc -l <"$dir/master.out")" = 30 ] || fail "$(wc -l <"$dir/master.out") results, not 30"
for n in $(seq 1 30); do
	grep -q "^$n^2 = $((n * n)) by " "$dir/master.out" || fail "no right result for $n"
done
[ "$(sed 's/.* by //' "$dir/master.out" | sort -u | wc -l)" = 2 ] || fail "the tasks did not go to both workers"
echo "workers_test: 30 tasks computed once each, by both workers"
