#!/usr/bin/env bash
# Atomic publication: a build SIGKILLed at any moment leaves the previous
# index intact (passes `idx check`, same document count). Kills a bigger
# build into the same output at 8 moments between 0.1 and 2 s, then a
# faster one at moments spread over its whole run (reaching the merge and
# the final rename); finally a complete build succeeds and removes every
# `*.tmp-*` leftover of the killed builds.
set -euo pipefail

: "${IDX:?IDX must point at the idx binary}"
IDX_SRC=${IDX_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
C="$IDX_SRC/../shared/corpora"
SMALL="$C/cranfield/docs.jsonl"
BIG="$C/enwiki-2015-sample/docs.jsonl.gz"
FAST="$C/reuters21578/docs.jsonl.gz"
for f in "$SMALL" "$BIG" "$FAST"; do
    [ -f "$f" ] || { echo "SKIP: $f not found"; exit 77; }
done

T=$(mktemp -d "${TMPDIR:-/tmp}/idx-e2e-kill.XXXXXX")
pid=""
cleanup() {
    if [ -n "$pid" ]; then kill -9 "$pid" 2>/dev/null || true; fi
    rm -rf "$T"
}
trap cleanup EXIT
OUT="$T/ix"
fail=0

"$IDX" build -q --threads 2 -o "$OUT" "$SMALL"
old_docs=$("$IDX" stats -i "$OUT" | awk '$1 == "documents" {print $2}')
[ "$old_docs" = 1400 ] || { echo "FAIL cranfield index has $old_docs docs"; exit 1; }
new_docs=21578

docs_now() { "$IDX" stats -i "$OUT" | awk '$1 == "documents" {print $2}'; }

# kill_at SECONDS INPUT STRICT: start a build, SIGKILL it after SECONDS, then
# verify. STRICT=1: the old index must still be there; 0: old or the new
# complete one (the build may have finished or been killed after its rename).
kill_at() {
    local secs=$1 input=$2 strict=$3
    "$IDX" build -q --threads 2 -o "$OUT" "$input" > /dev/null 2>&1 &
    pid=$!
    sleep "$secs"
    local finished=0
    kill -9 "$pid" 2>/dev/null || finished=1
    wait "$pid" 2>/dev/null || true
    pid=""
    local chk
    if ! chk=$("$IDX" check -i "$OUT" 2>&1); then
        echo "FAIL kill after ${secs}s ($(basename "$input")): idx check: $chk"
        fail=1
        return
    fi
    local n
    n=$(docs_now)
    if [ "$n" = "$old_docs" ]; then
        echo "ok   kill after ${secs}s: old index intact ($n docs)"
    elif [ "$strict" = 0 ] && [ "$n" = "$new_docs" ]; then
        echo "ok   kill after ${secs}s: build had published the new index ($n docs, finished=$finished)"
        # start again from the old index for the next round
        "$IDX" build -q --threads 2 -o "$OUT" "$SMALL"
    else
        echo "FAIL kill after ${secs}s ($(basename "$input")): index has $n docs, want $old_docs"
        fail=1
    fi
}

for s in 0.1 0.25 0.4 0.6 0.8 1.1 1.5 2.0; do
    kill_at "$s" "$BIG" 1
done
# Each build removes the leftovers of earlier killed ones when it starts, so
# the last killed build's temporary directory is still there.
leftovers=$( (ls -d "$OUT".tmp-* 2>/dev/null || true) | wc -l)
echo "     $leftovers leftover temporary directories after the kills"
if [ "$leftovers" -lt 1 ]; then
    echo "FAIL expected the killed build's $OUT.tmp-PID (the build never started?)"; fail=1
fi

# How long a complete build of the faster corpus takes here and now, then
# kills spread over that time (up to just before the end).
t0=$(date +%s.%N)
"$IDX" build -q --threads 2 -o "$T/probe" "$FAST"
dur=$(python3 -c "import time; print(max(0.5, time.time() - $t0))")
rm -rf "$T/probe"
for frac in 0.2 0.5 0.75 0.9 0.97 1.02; do
    kill_at "$(python3 -c "print(round($dur * $frac, 2))")" "$FAST" 0
done


# A complete build replaces the old index and cleans every leftover.
"$IDX" build -q --threads 2 -o "$OUT" "$FAST"
if ! "$IDX" check -i "$OUT" > /dev/null; then echo "FAIL final build: idx check"; fail=1; fi
n=$(docs_now)
if [ "$n" != "$new_docs" ]; then echo "FAIL final build has $n docs, want $new_docs"; fail=1; fi
if ls -d "$OUT".tmp-* 2>/dev/null | grep -q .; then
    echo "FAIL leftovers remain after a complete build:"; ls -d "$OUT".tmp-*; fail=1
fi
if ls "$T" | grep -v '^ix$' | grep -q .; then
    echo "FAIL unexpected files next to the index:"; ls "$T"; fail=1
fi

[ "$fail" -eq 0 ] && echo PASS || echo FAILED
exit "$fail"
