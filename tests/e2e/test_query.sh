#!/usr/bin/env bash
# idx query end to end on a real collection (cranfield, or where the shared
# data is absent a synthetic corpus from gen_corpus.py): batch output equals
# one query at a time, pages concatenate to one big page, --count is exact,
# --explain adds up, and bad queries exit 2 naming the column.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
e2e_tmpdir query
tmp=$T
CRAN=$SHARED/corpora/cranfield
if [ -f "$CRAN/docs.jsonl" ]; then
    DOCS=$CRAN/docs.jsonl
    QUERIES=$CRAN/queries.plain.tsv
    Q_COUNT="boundary layer transition"
    Q_EXPLAIN='"boundary layer" title:flow heat*'
    MIN_HITS=500
else
    echo "note: no $CRAN: a synthetic corpus instead"
    e2e_corpus "$tmp/gen" --docs 2000 --seed 11
    DOCS=$tmp/gen/docs.jsonl
    QUERIES=$tmp/gen/queries.tsv
    # its lines 4 and 5: three words of falling frequency, then a two-word phrase
    Q_COUNT=$(sed -n 4p "$QUERIES" | cut -f2)
    # shellcheck disable=SC2086 # its words
    set -- $Q_COUNT
    Q_EXPLAIN="$(sed -n 5p "$QUERIES" | cut -f2) title:$1 ${2:0:3}*"
    MIN_HITS=300
fi
"$IDX" build -q -o "$tmp/ix" "$DOCS"
head -n 40 "$QUERIES" > "$tmp/q.tsv"
# A few queries with operators, so batch mode is not tested on plain words only.
printf 'op1\t"boundary layer" +flow -heat\nop2\ttitle:wing OR title:wings\nop3\tairfoil* AND (mach OR supersonic)\n' >> "$tmp/q.tsv"
NQ=$(wc -l < "$tmp/q.tsv")

# 1. --batch equals one process per query, in trec and in json (took_ms aside).
"$IDX" query -i "$tmp/ix" --batch -k 20 --format trec < "$tmp/q.tsv" > "$tmp/batch.trec"
"$IDX" query -i "$tmp/ix" --batch -k 20 --format json < "$tmp/q.tsv" > "$tmp/batch.json"
: > "$tmp/single.trec"
: > "$tmp/single.json"
while IFS=$'\t' read -r qid q; do
    "$IDX" query -i "$tmp/ix" -k 20 --format trec "$q" | sed "s/^1 /$qid /" >> "$tmp/single.trec"
    "$IDX" query -i "$tmp/ix" -k 20 --format json "$q" >> "$tmp/single.json"
done < "$tmp/q.tsv"
cmp "$tmp/batch.trec" "$tmp/single.trec" || { echo "FAIL: --batch trec differs"; exit 1; }
python3 - "$tmp/batch.json" "$tmp/single.json" "$NQ" "$MIN_HITS" <<'PY'
import json, sys
b = [json.loads(l) for l in open(sys.argv[1])]
s = [json.loads(l) for l in open(sys.argv[2])]
assert len(b) == len(s) == int(sys.argv[3]), (len(b), len(s))
for x, y in zip(b, s):
    x.pop("took_ms"); y.pop("took_ms"); x.pop("qid", None)
    assert x == y, (x["query"], y["query"])
assert sum(len(x["hits"]) for x in b) > int(sys.argv[4]), sum(len(x["hits"]) for x in b)
PY

# 2. Pages of 10 concatenate to one page of 100, ids and scores.
while IFS=$'\t' read -r qid q; do
    "$IDX" query -i "$tmp/ix" -k 100 --format trec "$q" | awk '{print $3, $5}' > "$tmp/big"
    : > "$tmp/paged"
    for off in 0 10 20 30 40 50 60 70 80 90; do
        "$IDX" query -i "$tmp/ix" -k 10 --offset "$off" --format trec "$q" | awk '{print $3, $5}' >> "$tmp/paged"
    done
    cmp "$tmp/big" "$tmp/paged" || { echo "FAIL: paging differs for $qid"; exit 1; }
done < <(head -n 8 "$tmp/q.tsv")

# 3. --count makes the total exact, and equals the number of matches.
q=$Q_COUNT
n_all=$("$IDX" query -i "$tmp/ix" -k 2000 --count --format trec "$q" | wc -l)
python3 - "$n_all" <<PY
import json, subprocess, sys
out = json.loads(subprocess.check_output(["$IDX", "query", "-i", "$tmp/ix", "--count", "--format", "json", "$q"]))
assert out["total_exact"] is True, out
assert out["total"] == int(sys.argv[1]), (out["total"], sys.argv[1])
PY

# 4. --explain parts add up to each hit's score.
python3 - "$IDX" "$tmp/ix" "$Q_EXPLAIN" <<'PY'
import json, subprocess, sys
idx, ix, q = sys.argv[1:4]
out = json.loads(subprocess.check_output([idx, "query", "-i", ix, "--explain", "--format", "json", q]))
assert out["hits"], out
for h in out["hits"]:
    parts = sum(p["score"] for p in h["explain"])
    assert abs(parts - h["score"]) < 1e-6 * max(1, h["score"]), (h["id"], parts, h["score"])
PY

# 5. Bad queries exit 2 and name the column; a missing index exits 3.
set +e
err=$("$IDX" query -i "$tmp/ix" 'wing AND' 2>&1); rc=$?
[ $rc -eq 2 ] && [[ $err == *"column"* ]] || { echo "FAIL: 'wing AND' gave $rc: $err"; exit 1; }
err=$("$IDX" query -i "$tmp/ix" 'a (b c))' 2>&1); rc=$?
[ $rc -eq 2 ] && [[ $err == *"column 8"* ]] || { echo "FAIL: unbalanced ) gave $rc: $err"; exit 1; }
"$IDX" query -i "$tmp/missing" wing > /dev/null 2>&1; rc=$?
[ $rc -eq 3 ] || { echo "FAIL: missing index gave $rc"; exit 1; }
set -e
echo "ok: batch, paging, count, explain and errors"
