#!/usr/bin/env bash
# Multi-segment indexes (the hidden, test-only `--segment-docs N` build flag,
# docs/FORMAT.md): the same documents built as 1, 2 and 7 segments pass
# `idx check` and answer every query identically (ids, ranks, scores), and a
# record superseded by a later one with the same id survives in no segment.
# On the bundled synthetic corpus (with superseding duplicates added)
# always; on the shared corpora (cranfield, bbc) when they are there.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

e2e_tmpdir multiseg
trap 'rm -rf "$T"' EXIT

# N records of DOCS cut into SEGS segments: ceil(N / SEGS) records each.
per_segment() {
    local n
    n=$( (gzip -dc -f "$1" 2> /dev/null || cat "$1") | grep -c .)
    echo $(((n + $2 - 1) / $2))
}

# compare NAME DOCS QUERIES [IDS]: builds, checks and compares the answers.
compare() {
    local name=$1 docs=$2 queries=$3 ids=${4:-} segs
    for segs in 1 2 7; do
        local opt=()
        [ "$segs" -gt 1 ] && opt=(--segment-docs "$(per_segment "$docs" "$segs")")
        "$IDX" build -q --threads 2 "${opt[@]}" -o "$T/$name-$segs" "$docs"
        check "$name: $segs segment(s) in meta" \
            test "$(grep -c '^segment ' "$T/$name-$segs/meta")" -eq "$segs"
        check "$name, $segs segment(s): idx check passes" quiet "$IDX" check -i "$T/$name-$segs"
        "$IDX" query -i "$T/$name-$segs" --batch -k 50 < "$queries" > "$T/$name-$segs.q"
        # (without the timing, the one figure that may differ)
        "$IDX" query -i "$T/$name-$segs" --batch -k 50 --count --format json < "$queries" |
            sed 's/"took_ms":[0-9.]*,//' > "$T/$name-$segs.count"
        if [ -n "$ids" ]; then
            while read -r id; do "$IDX" get -i "$T/$name-$segs" "$id"; done < "$ids" \
                > "$T/$name-$segs.get"
        fi
    done
    check "$name: queries have answers" test "$(wc -l < "$T/$name-1.q")" -gt 100
    for segs in 2 7; do
        check "$name: $segs segments answer as one (ids, ranks, scores)" \
            cmp "$T/$name-1.q" "$T/$name-$segs.q"
        check "$name: $segs segments count as one" cmp "$T/$name-1.count" "$T/$name-$segs.count"
        [ -z "$ids" ] || check "$name: $segs segments store the same records" \
            cmp "$T/$name-1.get" "$T/$name-$segs.get"
    done
}

# Synthetic: 700 articles, then new versions of 40 of them spread over the
# input (so they supersede records of earlier segments), then queries for
# both versions' words.
e2e_corpus "$T/syn" --docs 700 --seed 11
python3 - "$T/syn" <<'PY'
import json, sys
d = sys.argv[1]
docs = [json.loads(l) for l in open(d + "/docs.jsonl")]
with open(d + "/docs.jsonl", "a") as f, open(d + "/ids", "w") as ids:
    for i in range(0, 700, 17)[:40]:
        r = dict(docs[i], body="zzlater version %d " % i + docs[i]["body"][:200])
        f.write(json.dumps(r) + "\n")
        ids.write(r["id"] + "\n")
with open(d + "/queries.tsv", "a") as q:
    q.write("later\tzzlater\n")
    # prefixes with more expansions than a query keeps (MATCH_PREFIX_MAX_TERMS)
    for i, p in enumerate(("ph*", "ne*", "de*", "ul*")):
        q.write("prefix%d\t%s\n" % (i, p))
PY
compare syn "$T/syn/docs.jsonl" "$T/syn/queries.tsv" "$T/syn/ids"
check "synthetic: each new version found once" \
    test "$(grep -c '^later ' "$T/syn-7.q")" -eq 40
check "synthetic: 700 documents in 7 segments" \
    bash -c '"$1" stats -i "$2" | grep -qE "^documents +700$"' _ "$IDX" "$T/syn-7"

if [ -d "$SHARED/corpora" ]; then
    e2e_shared_corpora
    compare cranfield "$CORPORA/cranfield/docs.jsonl" "$CORPORA/cranfield/queries.tsv"
    cut -f2 "$CORPORA/bbc/duplicates.tsv" | grep -v '^#' | head -20 > "$T/bbc.ids"
    printf '1\teconomy growth\n2\t"prime minister"\n3\tfoot*\n4\ttitle:election\n5\tmarket +shares -oil\n' \
        > "$T/bbc.q"
    python3 -c 'import sys; [print("%d\t%s" % (i + 6, w)) for i, w in enumerate(sys.argv[1:])]' \
        film music game bank court sales chart profit mobile phone "re*" "co*" "st*" "title:pr*" \
        >> "$T/bbc.q"
    compare bbc "$CORPORA/bbc/docs.jsonl.gz" "$T/bbc.q" "$T/bbc.ids"
else
    echo "note: shared corpora absent, synthetic corpus only"
fi
e2e_finish
