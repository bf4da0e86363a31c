#!/usr/bin/env bash
# report.sh --reset DIR | report.sh DIR: the fixture around the end-to-end tests of an
# IDX_VALGRIND build. --reset empties DIR, the home of every memcheck.sh log, and lets any user
# write there (as root, web/serve runs idx-fcgi as nobody). Without it: counts the processes
# that ran under memcheck, prints every non-empty log and fails if there is one.
set -euo pipefail
if [ "${1:-}" = --reset ]; then
    dir=${2:?usage: report.sh --reset DIR}
    rm -rf "$dir"
    mkdir -p "$dir"
    chmod 1777 "$dir"
    exit 0
fi
dir=${1:?usage: report.sh DIR}
[ -d "$dir" ] || { echo "FAIL no memcheck logs in $dir"; exit 1; }
total=0 bad=0
declare -A per_test
for f in "$dir"/*.log; do
    [ -e "$f" ] || continue
    total=$((total + 1))
    t=${f##*/}
    t=${t%%.*}
    per_test[$t]=$((${per_test[$t]:-0} + 1))
    if [ -s "$f" ]; then
        bad=$((bad + 1))
        echo "==== $f"
        cat "$f"
    fi
done
for t in "${!per_test[@]}"; do
    printf '     %-24s %6d processes\n' "$t" "${per_test[$t]}"
done | sort
if [ "$bad" -gt 0 ]; then
    echo "FAIL memcheck reported on $bad of $total processes (logs in $dir)"
    exit 1
fi
[ "$total" -gt 0 ] || { echo "FAIL no process ran under memcheck"; exit 1; }
echo "ok   memcheck clean on $total processes"
