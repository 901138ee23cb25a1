#!/usr/bin/env bash
# inger-run's cost on real programs: perl, bash, sed and xz (inputs generated here), each run
# plainly and under `inger-run --quantum 20` and `--quantum 100`, in one run, interleaved
# (plain, q20, q100, plain, ...) so that a change in the machine's load hits all three.
# Prints each program's median wall time, the ratios to plain (wall, and CPU time: user + system,
# which a loaded machine disturbs less) and inger-run's counters, and the median ratio over the
# four programs; writes the same as JSON.
#
#   bench/inger_run/run.sh                 build (Release) and run, 3 repetitions
# Options:
#   --no-build           use the inger-run already built in the build dir
#   --build-dir DIR      build dir (default $BUILD_DIR, or build-release, at the repo root);
#                        configured (Release) only if it is not yet, then inger-run built
#   --repeat N           repetitions of each (program, mode); the median is reported (default 3)
#   --quanta "A B"       the quanta in µs (default "20 100")
#   --programs "A B"     a subset of: perl bash sed xz (default all four)
#   --out FILE           the JSON (default BUILD_DIR/bench-inger-run.json)
# Goals (issue 15; PASS/FAIL lines, they do not fail the script): median slowdown over the
# programs <= 1.3x at --quantum 100 and <= 2.5x at --quantum 20. Every run's output must be
# byte-identical to the plain run's (that does fail the script).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"

build=1 build_dir=${BUILD_DIR:-build-release} repeat=3 quanta="20 100" programs="perl bash sed xz" out=""
die() { echo "run.sh: $*" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) build=0 ;;
    --build-dir) build_dir=${2:?}; shift ;;
    --repeat) repeat=${2:?}; shift ;;
    --quanta) quanta=${2:?}; shift ;;
    --programs) programs=${2:?}; shift ;;
    --out) out=${2:?}; shift ;;
    -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1' "$0"; exit 0 ;;
    *) die "unknown option $1 (--help)" ;;
  esac
  shift
done
[[ "$repeat" =~ ^[1-9][0-9]*$ ]] || die "--repeat wants a positive number"
for q in $quanta; do [[ "$q" =~ ^[1-9][0-9]*$ ]] || die "--quanta wants positive numbers"; done
if [ "$build" = 1 ]; then
  [ -f "$build_dir/CMakeCache.txt" ] ||
    cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DINGER_TESTS=OFF >/dev/null
  cmake --build "$build_dir" -j "$(nproc)" --target inger-run >/dev/null
fi
run=$(realpath "$build_dir/tools/run/inger-run")
[ -x "$run" ] || die "no inger-run in $build_dir (build it, or drop --no-build)"
out=${out:-$build_dir/bench-inger-run.json}
out=$(realpath -m "$out")

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
# Inputs: deterministic, generated here (about 4 MB of text).
seq 1 100000 | awk '{ printf "%08x %s line-%d %s\n", ($1 * 2654435761) % 4294967296, $1 % 97, $1,
                       substr("the quick brown fox jumps over the lazy dog", 1 + $1 % 20) }' > lines.txt
head -n 30000 lines.txt > some-lines.txt

# Each takes 0.1-0.5 s plainly on a quiet 2-core VM.
declare -A workloads=(
  [perl]="perl -e 'my %h; my \$n = 0; while (<>) { my @f = split; \$h{\$f[1]} += hex(\$f[0]) % 1000;
\$n += length(\$f[3]) if /line-\\d*7 /; } printf \"%d %d\\n\", \$n, scalar(keys %h);
print map { \"\$_ \$h{\$_}\\n\" } sort { \$a <=> \$b } keys %h;' lines.txt"
  [bash]="bash -c 's=0; declare -A seen; for ((i = 0; i < 30000; i++)); do t=\"\${i}x\${s:0:8}\"; s=\$(( (s * 31 + \${#t} + i) % 1000003 )); seen[\$((i % 97))]+=.; done; echo \$s \${#seen[@]} \${#seen[5]}'"
  [sed]="sed -E 's/([0-9a-f]{4})([0-9a-f]{4})/\\2-\\1/; s/line-([0-9]*)/L\\1/; /fox/ s/o/0/g' lines.txt"
  [xz]="xz -3 -c some-lines.txt"
)

# run_one NAME MODE: runs it, prints "WALL_S CPU_S PREEMPTIONS SIGNALS ARMS DEFERRALS" and
# checks its output against the plain run's.
run_one() {
  local name=$1 mode=$2 cmd=${workloads[$1]}
  local timing=(/usr/bin/time -o "time.$name.$mode" -f "%e %U %S")
  if [ "$mode" = plain ]; then
    "${timing[@]}" bash -c "$cmd" > "out.$name.plain"
    awk '{ print $1, $2 + $3, 0, 0, 0, 0 }' "time.$name.$mode"
    return
  fi
  "${timing[@]}" bash -c "exec $run --quantum $mode --stats -- $cmd" > "out.$name.$mode" 2> "err.$name.$mode"
  cmp -s "out.$name.plain" "out.$name.$mode" ||
    { echo "run.sh: $name's output differs under --quantum $mode" >&2; exit 1; }
  local get='s/^\(preemptions\|timer signals\|timer arms\|deferred in shared calls\): //p'
  echo "$(awk '{ print $1, $2 + $3 }' "time.$name.$mode") $(sed -n "$get" "err.$name.$mode" | tr '\n' ' ')"
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

declare -A samples cpus counters
for ((r = 0; r < repeat; r++)); do
  for name in $programs; do
    [ -n "${workloads[$name]:-}" ] || die "unknown program $name"
    for mode in plain $quanta; do
      read -r wall cpu p s a d < <(run_one "$name" "$mode")
      samples[$name.$mode]+="$wall "
      cpus[$name.$mode]+="$cpu "
      counters[$name.$mode]="$p $s $a $d" # of the last repetition
    done
  done
done

json="{\"repeat\": $repeat, \"results\": ["
sep=""
printf '%-5s %8s' program plain_s
for q in $quanta; do printf ' | %8s %7s %7s %9s %9s %8s' "q${q}_s" ratio cpu_rat preempts signals deferred; done
echo
declare -A ratios
for name in $programs; do
  plain=$(tr ' ' '\n' <<< "${samples[$name.plain]}" | grep . | median)
  plain_cpu=$(tr ' ' '\n' <<< "${cpus[$name.plain]}" | grep . | median)
  printf '%-5s %8.2f' "$name" "$plain"
  for q in $quanta; do
    t=$(tr ' ' '\n' <<< "${samples[$name.$q]}" | grep . | median)
    c=$(tr ' ' '\n' <<< "${cpus[$name.$q]}" | grep . | median)
    ratio=$(awk -v a="$t" -v b="$plain" 'BEGIN { printf "%.3f", a / (b > 0 ? b : 0.01) }')
    cpu_ratio=$(awk -v a="$c" -v b="$plain_cpu" 'BEGIN { printf "%.3f", a / (b > 0 ? b : 0.01) }')
    ratios[$q]+="$ratio "
    read -r p s a d <<< "${counters[$name.$q]}"
    printf ' | %8.2f %6.2fx %6.2fx %9d %9d %8d' "$t" "$ratio" "$cpu_ratio" "$p" "$s" "$d"
    json+="$sep{\"program\": \"$name\", \"quantum_us\": $q, \"plain_s\": $plain, \"plain_cpu_s\": $plain_cpu,"
    json+=" \"inger_run_s\": $t, \"inger_run_cpu_s\": $c, \"ratio\": $ratio, \"cpu_ratio\": $cpu_ratio,"
    json+=" \"preemptions\": $p, \"timer_signals\": $s, \"timer_arms\": $a, \"deferrals\": $d}"
    sep=", "
  done
  echo
done
json+="], \"median_ratio\": {"
sep="" status=0
for q in $quanta; do
  m=$(tr ' ' '\n' <<< "${ratios[$q]}" | grep . | median)
  json+="$sep\"$q\": $m"; sep=", "
  goal=""
  [ "$q" = 100 ] && goal=1.3
  [ "$q" = 20 ] && goal=2.5
  if [ -n "$goal" ]; then
    verdict=$(awk -v m="$m" -v g="$goal" 'BEGIN { print (m <= g) ? "PASS" : "FAIL" }')
    echo "$verdict median slowdown (wall) at --quantum $q: ${m}x (goal <= ${goal}x)"
  else
    echo "median slowdown at --quantum $q: ${m}x"
  fi
done
json+="}}"
echo "$json" > "$out"
echo "JSON: $out"
