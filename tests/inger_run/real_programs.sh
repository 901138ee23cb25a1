#!/usr/bin/env bash
# Real programs run byte-identical under `inger-run --quantum 20`, and are really preempted.
# Usage: real_programs.sh PATH/TO/inger-run
# Each workload takes about a second or more when run plainly.
set -euo pipefail
run=$(realpath "$1")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

# Inputs: deterministic, generated here.
seq 1 1400000 | awk '{ printf "%08x %s line-%d\n", ($1 * 2654435761) % 4294967296, $1 % 97, $1 }' > lines.txt


declare -A workloads=(
  [python3]="/usr/bin/python3 -c 'import hashlib, json
h = hashlib.sha256()
acc = {}
for i in range(2500000):
    k = str(i * 7919 % 1009)
    acc[k] = acc.get(k, 0) + i
    if i % 1000 == 0: h.update(json.dumps(sorted(acc.items())[:5]).encode())
print(h.hexdigest(), len(acc), sum(acc.values()))'"
  [sqlite3]="/usr/bin/sqlite3 :memory: 'WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000000)
SELECT count(*), sum(i % 13), group_concat(DISTINCT i % 7) FROM n; 
CREATE TABLE t AS WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300000) SELECT i, i * 2654435761 % 1000003 AS k FROM n;
CREATE INDEX tk ON t(k); SELECT count(DISTINCT k), max(k), sum(i) FROM t WHERE k % 3 = 1;'"
  [gzip]="/usr/bin/gzip -9 -c lines.txt"
  [sort]="/usr/bin/sort -k2,2n -k1,1 lines.txt"
)

status=0
for name in python3 sqlite3 gzip sort; do
  cmd=${workloads[$name]}
  start=$(date +%s%N)
  eval "$cmd" > "plain.$name" 2> "plain.$name.err"
  plain_ms=$(( ($(date +%s%N) - start) / 1000000 ))
  start=$(date +%s%N)
  eval "$run --quantum 20 --stats -- $cmd" > "inger.$name" 2> "inger.$name.err"
  inger_ms=$(( ($(date +%s%N) - start) / 1000000 ))
  preemptions=$(sed -n 's/^preemptions: //p' "inger.$name.err")
  libsets=$(sed -n 's/^libsets: //p' "inger.$name.err")
  routed=$(sed -n 's/^libsets: .* \([0-9]*\) calls routed.*/\1/p' "inger.$name.err")
  if ! cmp -s "plain.$name" "inger.$name"; then
    echo "FAIL $name: output differs under inger-run"; status=1
  elif [ "${preemptions:-0}" -le 0 ]; then
    echo "FAIL $name: never preempted; its stderr: $(cat "inger.$name.err")"; status=1
  elif [ "${routed:-0}" -le 0 ]; then
    echo "FAIL $name: its library calls were not relinked ($(cat "inger.$name.err"))"; status=1
  else
    printf 'ok   %-8s %8s bytes identical, %7d preemptions, %5d ms plain, %5d ms under inger-run; libsets: %s\n' \
      "$name" "$(stat -c %s "plain.$name")" "$preemptions" "$plain_ms" "$inger_ms" "$libsets"
  fi
done

# Exit status and stdin are the program's own.
set +e
"$run" --quantum 20 -- /bin/sh -c 'read x; echo "got $x"; exit 7' <<< "hello" > sh.out
code=$?
set -e
if [ "$code" -ne 7 ] || [ "$(cat sh.out)" != "got hello" ]; then
  echo "FAIL exit status/stdin: code $code, output '$(cat sh.out)'"; status=1
else
  echo "ok   exit status and stdin pass through"
fi
# The environment is the program's own: no LD_PRELOAD, GLIBC_TUNABLES or INGER_RUN_* left behind.
env_seen=$("$run" -- /usr/bin/env | grep -E '^(LD_PRELOAD|INGER_RUN_|GLIBC_TUNABLES)' || true)
if [ -n "$env_seen" ]; then
  echo "FAIL environment leaked: $env_seen"; status=1
else
  echo "ok   environment is the program's own"
fi
exit $status
