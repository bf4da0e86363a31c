#!/usr/bin/env bash
# `idx build --engine xapian` end to end, on a small fixture that needs no
# shared data:
#  1. every field and operator the judged collections lack (author:,
#     category:, date ranges, title scope, prefixes, exclusions, a replaced
#     duplicate id) ranks exactly as with the native engine, and get, stats,
#     eval and check work on the xapian index;
#  2. a damaged Xapian database is exit 3 with one `idx: ...` line carrying
#     Xapian's message, for query, get, stats, eval and check;
#  3. a killed xapian build leaves the previous index intact.
#
# Env: IDX (binary), IDX_SANITIZE.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
# libxapian 1.4.22's Database::check deletes an object through a base of
# another size (a defect of the library, harmless to the allocator), which
# ASan reports; only `idx check` runs that code, so only it is excused.
CHECK_ASAN="${ASAN_OPTIONS:+$ASAN_OPTIONS:}new_delete_type_mismatch=0"
e2e_tmpdir xapeng
fail() {
    echo "FAIL: $*"
    exit 1
}

cat > "$T/docs.jsonl" <<'EOF'
{"id":"a1","title":"Solar power plants","body":"Solar power is growing fast. Power plants use solar panels.","author":"Jane Smith","category":"energy","date":"2019-03-01"}
{"id":"a2","title":"Wind energy","body":"Wind turbines produce power. Solar and wind together.","author":"John Doe","category":"energy","date":"2020-07-15"}
{"id":"a3","title":"Cooking with the sun","body":"A solar cooker uses the power of the sun. Smith's recipes.","author":"Ann Smith Smith","category":"food","date":"2018"}
{"id":"a2","title":"Wind energy revised","body":"Wind turbines produce electric power. Offshore wind farms.","author":"John Doe","category":"energy news","date":"2021-01-02"}
{"id":"a4","title":"Nothing here","body":"Plain text without a date, about power and powerful plants.","author":"","category":""}
{"id":"a5","title":"Power","body":"Power power power. Solar.","category":"energy"}
EOF
"$IDX" build -q -o "$T/native" "$T/docs.jsonl"
"$IDX" build -q --engine xapian -o "$T/xapian" "$T/docs.jsonl"

# 1. Same ranking, ids and scores, as the native engine.
queries=(power 'solar power' author:smith 'category:energy power' 'power date:2019..2020-12'
    'date:2019..2021' title:wind 'pow*' 'author:smi*' '-wind power' '+solar -cooker power'
    'wind AND NOT offshore' '(solar OR wind) AND energy' 'title:pow* plants' 'category:"energy news"')
for q in "${queries[@]}"; do
    for e in native xapian; do
        "$IDX" query -i "$T/$e" -k 10 --format trec "$q" > "$T/$e.trec"
    done
    cmp -s "$T/native.trec" "$T/xapian.trec" || {
        diff "$T/native.trec" "$T/xapian.trec" || true
        fail "query '$q' ranks differently"
    }
done
# A phrase matches the same documents (its score differs by design: ENGINES.md).
for e in native xapian; do
    "$IDX" query -i "$T/$e" --format trec '"solar power"' | cut -d' ' -f3 | sort > "$T/$e.ids"
done
cmp -s "$T/native.ids" "$T/xapian.ids" || fail "phrase matches differ"
grep -q '^engine xapian$' "$T/xapian/meta" || fail "meta does not record the engine"
"$IDX" stats -i "$T/xapian" | grep -q '^engine  *xapian$' || fail "stats does not show the engine"
[ "$("$IDX" get -i "$T/xapian" a2)" = "$("$IDX" get -i "$T/native" a2)" ] ||
    fail "idx get differs between the engines"
"$IDX" query -i "$T/xapian" --format json power | python3 -c '
import json, sys
r = json.load(sys.stdin)
assert r["total"] == 5 and r["hits"][0]["id"] == "a5", r'
printf '1\tsolar power\n2\twind\n' > "$T/q.tsv"
printf '1 0 a1 1\n2 0 a2 1\n' > "$T/qrels.txt"
for e in native xapian; do
    "$IDX" eval -i "$T/$e" --qrels "$T/qrels.txt" --queries "$T/q.tsv" > "$T/$e.eval"
done
cmp -s "$T/native.eval" "$T/xapian.eval" || fail "idx eval differs between the engines"
ASAN_OPTIONS=$CHECK_ASAN "$IDX" check -i "$T/xapian" > /dev/null ||
    fail "idx check fails on a sound xapian index"

# 2. Damage: exit 3 and one line with Xapian's message, never a crash.
damaged() { # FILE: every reader must answer exit 3 naming the database
    for args in "query -i $T/bad power" "get -i $T/bad a1" "stats -i $T/bad" "check -i $T/bad" \
        "eval -i $T/bad --qrels $T/qrels.txt --queries $T/q.tsv"; do
        rc=0
        asan=${ASAN_OPTIONS:-}
        [ "${args%% *}" = check ] && asan=$CHECK_ASAN
        # shellcheck disable=SC2086
        ASAN_OPTIONS=$asan "$IDX" $args > /dev/null 2> "$T/err" || rc=$?
        [ "$rc" = 3 ] || fail "$1 damaged: idx ${args%% *} exit $rc, want 3: $(cat "$T/err")"
        [ "$(wc -l < "$T/err")" = 1 ] && grep -q '^idx: .*xapian.*Error' "$T/err" ||
            fail "$1 damaged: idx ${args%% *} says: $(cat "$T/err")"
    done
}
for f in iamglass postlist.glass docdata.glass termlist.glass position.glass; do
    rm -rf "$T/bad"
    cp -r "$T/xapian" "$T/bad"
    python3 - "$T/bad/xapian/$f" <<'PY'
import sys
p = sys.argv[1]
d = bytearray(open(p, "rb").read())
for i in range(0, len(d), 97):
    d[i] ^= 0x5A
open(p, "wb").write(bytes(d))
PY
    damaged "$f"
done
rm -rf "$T/bad"
cp -r "$T/xapian" "$T/bad"
rm "$T/bad/xapian/postlist.glass"
damaged "a missing postlist.glass"

# 3. A killed build leaves the old index answering as before.
python3 - "$T/big.jsonl" <<'PY'
import random, sys
rng = random.Random(7)
words = [f"w{i}" for i in range(5000)]
with open(sys.argv[1], "w") as f:
    for i in range(60000):
        body = " ".join(rng.choice(words) for _ in range(60))
        f.write(f'{{"id":"b{i}","title":"doc {i}","body":"{body}"}}\n')
PY
"$IDX" query -i "$T/xapian" --format trec power > "$T/before.trec"
"$IDX" build -q --threads 1 --engine xapian -o "$T/xapian" "$T/big.jsonl" &
pid=$!
sleep 1
kill -9 "$pid" 2> /dev/null || true
wait "$pid" 2> /dev/null || true
"$IDX" query -i "$T/xapian" --format trec power > "$T/after.trec"
cmp -s "$T/before.trec" "$T/after.trec" || fail "a killed build changed the index"
"$IDX" build -q --engine xapian -o "$T/xapian" "$T/docs.jsonl"
ls -d "$T"/xapian.tmp-* > /dev/null 2>&1 && fail "the next build left a temporary directory"
echo "ok: xapian engine"
