#!/usr/bin/env bash
# Relevance regression check: builds cranfield, cisi, med and cacm from the
# shared corpora with default settings and asserts that
# `idx eval -i INDEX --qrels qrels.txt --queries queries.plain.tsv -k 1000`
# reaches at least the MAP recorded in docs/RELEVANCE.md ("idx (defaults)"
# row, produced by bench/relevance.sh) minus 0.005. A ranking change that
# lowers MAP by more than that on any of the four fails here; one that raises
# it should update docs/RELEVANCE.md (rerun bench/relevance.sh) and the
# figures below. Takes a few seconds.
#
# Env: IDX (binary), IDX_SRC (source dir).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
e2e_shared_corpora

# MAP of idx with its defaults (k1 1.2, b 0.75, title weight 3, english
# stemming), from docs/RELEVANCE.md as written by bench/relevance.sh.
declare -A REACHED=(
    [cranfield]=0.3114
    [cisi]=0.2060
    [med]=0.5223
    [cacm]=0.3304
)
TOLERANCE=0.005

e2e_tmpdir relevance

for c in cranfield cisi med cacm; do
    d=$CORPORA/$c
    e2e_collection "$c" queries.plain.tsv qrels.txt
    docs=$DOCS
    "$IDX" build -q -o "$T/$c" "$docs"
    rc=0
    "$IDX" eval -i "$T/$c" --qrels "$d/qrels.txt" --queries "$d/queries.plain.tsv" -k 1000 \
        > "$T/$c.eval" 2> "$T/$c.err" || rc=$?
    if [ "$rc" -ne 0 ]; then
        # 2 = some query failed to parse (scored 0): a regression too.
        echo "FAIL $c: idx eval exited $rc"
        sed 's/^/  /' "$T/$c.err"
        fail=1
        continue
    fi
    map=$(awk '$1 == "map" && $2 == "all" { print $3 }' "$T/$c.eval")
    want=${REACHED[$c]}
    if [ -z "$map" ]; then
        echo "FAIL $c: no map line in idx eval output"
        fail=1
    elif awk -v m="$map" -v w="$want" -v t="$TOLERANCE" 'BEGIN { exit !(m + 1e-9 >= w - t) }'; then
        echo "ok   $c: MAP $map (recorded $want, floor $(awk -v w="$want" -v t="$TOLERANCE" 'BEGIN { printf "%.4f", w - t }'))"
    else
        echo "FAIL $c: MAP $map < recorded $want - $TOLERANCE"
        fail=1
    fi
done
exit $fail
