#!/bin/bash
# chat_test.sh INGER_CHAT — a Registry and three Nodes of inger-chat as OS processes over
# 127.0.0.1: each Node sends 20 lines, and every Node must print all 60, each sender's in the
# order sent. Bounded: every process runs under timeout; the whole script under 60 s.
set -u
chat=$1
dir=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT
fail() { echo "chat_test: $*" >&2; for f in "$dir"/*.err; do echo "--- $f"; cat "$f"; done >&2; exit 1; }

timeout 60 "$chat" registry --port 0 >"$dir/registry.out" 2>"$dir/registry.err" &
pids+=($!)
for _ in $(seq 100); do grep -q '^READY ' "$dir/registry.out" && break; sleep 0.1; done
address=$(sed -n 's/^READY //p' "$dir/registry.out")
[ -n "$address" ] || fail "the registry printed no READY line"

names=(alice bob carol)
for n in "${names[@]}"; do
	mkfifo "$dir/$n.in"
	timeout 40 "$chat" node --registry "$address" --name "$n" <"$dir/$n.in" >"$dir/$n.out" 2>"$dir/$n.err" &
	pids+=($!)
	eval "exec {fd_$n}>\"$dir/$n.in\""
done
for n in "${names[@]}"; do
	for _ in $(seq 100); do grep -q 'joined' "$dir/$n.err" && break; sleep 0.1; done
	grep -q 'joined' "$dir/$n.err" || fail "$n did not join"
done

lines=20
for i in $(seq 1 $lines); do
	for n in "${names[@]}"; do
		fd_var=fd_$n
		echo "line $i from $n" >&"${!fd_var}"
	done
done
# A node exits once its stdin is closed and its own last message came back, maybe before
# the others' last ones: close the inputs once every node has printed every line (bounded).
for _ in $(seq 200); do
	done_nodes=0
	for n in "${names[@]}"; do
		[ "$(wc -l <"$dir/$n.out")" -ge $((3 * lines)) ] && done_nodes=$((done_nodes + 1))
	done
	[ $done_nodes = 3 ] && break
	sleep 0.1
done
for n in "${names[@]}"; do
	fd_var=fd_$n
	eval "exec ${!fd_var}>&-"
done

status=0
for i in 1 2 3; do
	wait "${pids[$i]}" || { echo "chat_test: node ${names[$((i - 1))]} exited with $?" >&2; status=1; }
done
[ $status = 0 ] || fail "a node failed"

for n in "${names[@]}"; do
	out="$dir/$n.out"
	[ "$(wc -l <"$out")" = $((3 * lines)) ] || fail "$n printed $(wc -l <"$out") lines, not $((3 * lines))"
	for sender in "${names[@]}"; do
		expected=$(for i in $(seq 1 $lines); do echo "$sender: line $i from $sender"; done)
		got=$(grep "^$sender: " "$out")
		[ "$got" = "$expected" ] || fail "$n saw $sender's lines out of order or changed: $(echo "$got" | head -3)"
	done
done
echo "chat_test: 3 nodes each saw all $((3 * lines)) lines, in order per sender"
