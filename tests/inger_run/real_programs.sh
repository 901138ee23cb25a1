#!/usr/bin/env bash
# Real programs run byte-identical under `inger-run --quantum 20`, with their own exit status,
# and are really preempted.
# Usage: real_programs.sh PATH/TO/inger-run [NAME...]   (default: every workload)
# Each takes 0.1-1 s when run plainly on a quiet 2-core VM, 10-20 times as long under a 20 us
# quantum (bench/inger_run measures that): about a minute and a half in all.
set -euo pipefail
run=$(realpath "$1")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

# Inputs: deterministic, generated here.
seq 1 600000 | awk '{ printf "%08x %s line-%d\n", ($1 * 2654435761) % 4294967296, $1 % 97, $1 }' > lines.txt
head -n 20000 lines.txt > some-lines.txt
head -n 3000 lines.txt > few-lines.txt
# A git repository of 12 commits with fixed names and dates (so fixed hashes).
export GIT_CONFIG_NOSYSTEM=1 HOME="$work" GIT_PAGER=cat
export GIT_AUTHOR_NAME=inger GIT_AUTHOR_EMAIL=inger@example.org GIT_COMMITTER_NAME=inger
export GIT_COMMITTER_EMAIL=inger@example.org
git init -q -b main repo
for i in $(seq 1 12); do
  awk -v i="$i" 'NR % 12 != i % 12' few-lines.txt > repo/lines.txt
  seq "$i" 7 1000 > "repo/numbers-$((i % 4)).txt"
  git -C repo add -A
  GIT_AUTHOR_DATE="2024-01-$((i + 10))T12:00:00Z" GIT_COMMITTER_DATE="2024-01-$((i + 10))T12:00:00Z" \
    git -C repo commit -q -m "commit $i"
done
cat > script.cmake <<'CMAKE'
set(acc "")
foreach(i RANGE 1 2000)
  math(EXPR v "${i} * 7919 % 1009")
  string(APPEND acc "${v},")
  if(v LESS 5)
    list(APPEND small ${i})
  endif()
endforeach()
string(SHA256 h "${acc}")
string(LENGTH "${acc}" n)
list(LENGTH small k)
file(SHA256 some-lines.txt f)
message(STATUS "${h} ${n} ${k} ${f}")
CMAKE


declare -A workloads=(
  [python3]="/usr/bin/python3 -c 'import hashlib, json
h = hashlib.sha256()
acc = {}
for i in range(1000000):
    k = str(i * 7919 % 1009)
    acc[k] = acc.get(k, 0) + i
    if i % 1000 == 0: h.update(json.dumps(sorted(acc.items())[:5]).encode())
print(h.hexdigest(), len(acc), sum(acc.values()))'"
  [sqlite3]="/usr/bin/sqlite3 :memory: 'WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000000)
SELECT count(*), sum(i % 13), group_concat(DISTINCT i % 7) FROM n; 
CREATE TABLE t AS WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000) SELECT i, i * 2654435761 % 1000003 AS k FROM n;
CREATE INDEX tk ON t(k); SELECT count(DISTINCT k), max(k), sum(i) FROM t WHERE k % 3 = 1;'"
  [gzip]="/usr/bin/gzip -9 -c lines.txt"
  [sort]="/usr/bin/sort -k2,2n -k1,1 lines.txt"
  [git]="/usr/bin/git -C repo log -p --stat"
  [perl]="/usr/bin/perl -e 'my %h; for my \$i (1..100000) { \$h{\$i % 1009} .= chr(65 + \$i % 26); }
my \$s = 0; for my \$k (sort { \$a <=> \$b } keys %h) { \$s += length(\$h{\$k}) * \$k; }
my @w = map { sprintf(\"%05d\", \$_ * 7919 % 100003) } 1..30000; my \$j = join(\",\", sort @w);
\$j =~ s/(\\d)\\1/<\$1>/g; printf \"%d %d %d %s\\n\", \$s, scalar(keys %h), length(\$j), substr(\$j, 0, 60);'"
  [bash]="/bin/bash -c 's=; declare -A seen; for ((i = 0; i < 10000; i++)); do s=\"\${s:0:50}\$((i * 7 % 13))\"; seen[\$((i % 101))]+=x; done
t=0; for k in \"\${!seen[@]}\"; do t=\$((t + k * \${#seen[\$k]})); done; echo \"\${#s} \$s \$t\"; exit 3'"
  [xz]="/usr/bin/xz -3 -c some-lines.txt"
  [openssl]="/usr/bin/openssl enc -aes-256-ctr -K 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f -iv 0f0e0d0c0b0a09080706050403020100 -in some-lines.txt"
  [cmake]="/usr/bin/cmake -P script.cmake"
)

names=("${@:2}")
[ ${#names[@]} -gt 0 ] || names=(python3 sqlite3 gzip sort git perl bash xz openssl cmake)
status=0
for name in "${names[@]}"; do
  cmd=${workloads[$name]}
  start=$(date +%s%N)
  plain_code=0
  eval "$cmd" > "plain.$name" 2> "plain.$name.err" || plain_code=$?
  plain_ms=$(( ($(date +%s%N) - start) / 1000000 ))
  start=$(date +%s%N)
  inger_code=0
  eval "$run --quantum 20 --stats -- $cmd" > "inger.$name" 2> "inger.$name.err" || inger_code=$?
  inger_ms=$(( ($(date +%s%N) - start) / 1000000 ))
  preemptions=$(sed -n 's/^preemptions: //p' "inger.$name.err")
  libsets=$(sed -n 's/^libsets: //p' "inger.$name.err")
  routed=$(sed -n 's/^libsets: .* \([0-9]*\) calls routed.*/\1/p' "inger.$name.err")
  if [ "$plain_code" -ne "$inger_code" ]; then
    echo "FAIL $name: exit status $inger_code under inger-run, $plain_code plainly; its stderr: $(tail -c 2000 "inger.$name.err")"; status=1
  elif [ ! -s "plain.$name" ]; then
    echo "FAIL $name: no output even plainly: $(tail -c 2000 "plain.$name.err")"; status=1
  elif ! cmp -s "plain.$name" "inger.$name"; then
    echo "FAIL $name: output differs under inger-run"; status=1
  elif [ "${preemptions:-0}" -le 0 ]; then
    echo "FAIL $name: never preempted; its stderr: $(cat "inger.$name.err")"; status=1
  elif [ "${routed:-0}" -le 0 ]; then
    echo "FAIL $name: its library calls were not relinked ($(cat "inger.$name.err"))"; status=1
  else
    printf 'ok   %-8s %8s bytes identical, exit %d, %7d preemptions, %5d ms plain, %5d ms under inger-run; libsets: %s\n' \
      "$name" "$(stat -c %s "plain.$name")" "$plain_code" "$preemptions" "$plain_ms" "$inger_ms" "$libsets"
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
