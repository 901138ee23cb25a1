#!/usr/bin/env bash
# inger_export_map.sh — writes a library's version script: the hand-written MAP with every
# symbol the OBJECTS define that is internal (internal_names.awk, HIDE) added as a literal
# local: name (why: cmake/inger_export_map.cmake). Runs just before the link.
# Usage: inger_export_map.sh MAP OUTPUT OBJECTS_LIST_FILE HIDE_REGEX [KEEP_REGEX]
set -euo pipefail
map=$1 output=$2 objects=$3 hide=$4 keep=${5-}
[ -n "$keep" ] || keep='^$' # matches no symbol name
grep -q '^ *local: *$' "$map" || { echo "$map: no 'local:' line to add the hidden names after" >&2; exit 1; }
mangled=$(mktemp) demangled=$(mktemp) hidden=$(mktemp)
trap 'rm -f "$mangled" "$demangled" "$hidden"' EXIT
# Global and weak symbols the objects define (local ones never reach the dynamic table).
xargs -d '\n' nm -g --defined-only -j < "$objects" | awk 'NF && !/:$/' | sort -u > "$mangled"
c++filt < "$mangled" > "$demangled"
paste -d '\t' "$mangled" "$demangled" | awk -v hide="$hide" -v keep="$keep" -f "$(dirname "$0")/internal_names.awk" \
  | sed 's/.*/    &;/' > "$hidden"
# Written beside, then moved: a failed run never leaves half a map for the next link.
sed "/^ *local: *$/r $hidden" "$map" > "$output.tmp"
mv "$output.tmp" "$output"
