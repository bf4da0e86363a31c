#!/usr/bin/env bash
# `idx build --index-field NAME` (docs/INPUT.md, "Searching a kept member"):
# a kept JSONL member searchable as NAME:, checked against python over the
# JSONL; phrases stay inside one value; unknown NAME: keeps its old meaning;
# refused names; append keeps the numbering and refuses another list; get
# returns the member once, verbatim; check and merge. Then Reuters-21578's
# `places` from the shared corpora (skipped without them).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
e2e_tmpdir index_field

python3 - "$T" << 'EOF'
import json, random, sys
t = sys.argv[1]
rnd = random.Random(15)
places = ["usa", "uk", "canada", "west germany", "hong kong", "japan", "west", "germany"]
def rec(i):
    r = {"id": "d%d" % i, "title": "Report %d" % i,
         "body": " ".join(rnd.choice(["grain", "oil", "ships", "usa", "trade", "west"])
                          for _ in range(rnd.randint(3, 12)))}
    if i % 7 == 0:
        r["body"] += " the organization acme said"
    k = rnd.random()
    if k < 0.4:
        r["places"] = rnd.sample(places, rnd.randint(1, 3))
    elif k < 0.8:
        r["places"] = rnd.choice(places)
    elif k < 0.9:
        r["places"] = None
    if rnd.random() < 0.5:
        r["topics"] = rnd.sample(["crude", "nat gas", "grain", "ship"], rnd.randint(0, 2))
    r["organization"] = "acme"
    return r
with open(t + "/a.jsonl", "w") as f:
    for i in range(1, 301):
        f.write(json.dumps(rec(i)) + "\n")
    # a value never spans array elements; a non-string is a bad record
    f.write(json.dumps({"id": "split", "body": "x", "places": ["west", "germany"]}) + "\n")
    f.write('{"id":"num","body":"x","places":5}\n')
with open(t + "/b.jsonl", "w") as f:
    for i in range(301, 341):
        f.write(json.dumps(rec(i)) + "\n")
EOF

# The ids whose member $1 has a value equal to $2, over the given files.
expect() {
    python3 - "$@" << 'EOF' | sort
import json, sys
name, value = sys.argv[1], sys.argv[2]
for path in sys.argv[3:]:
    for line in open(path):
        try:
            r = json.loads(line)
        except ValueError:
            continue
        v = r.get(name)
        vals = v if isinstance(v, list) else [v] if isinstance(v, str) else None
        if vals is not None and value in vals:
            print(r["id"])
EOF
}
ids() { "$IDX" query -i "$1" --format trec -k 10000 -- "$2" | awk '{print $3}' | sort; }
same() { [ "$1" = "$2" ] && [ -n "$1" ]; }

run_rc "$IDX" build -q -o "$T/ix" --index-field places --index-field topics "$T/a.jsonl" \
    2> "$T/build.err"
check "build with two --index-field" [ "$rc" = 0 ]
check "a non-string value is a bad record, named" grep -q '"places" is an --index-field' "$T/build.err"
run_rc quiet "$IDX" get -i "$T/ix" num 2> /dev/null
check "the bad record is not indexed" [ "$rc" != 0 ]
check "meta lists the fields in order" \
    [ "$(grep '^index.field' "$T/ix/meta" | tr '\n' ' ')" = "index.field places index.field topics " ]
check "stats lists the fields" sh -c "'$IDX' stats -i '$T/ix' | grep -q '^index field  topics'"

for v in usa uk canada japan; do
    check "places:$v = python" same "$(ids "$T/ix" "places:$v")" "$(expect places $v "$T/a.jsonl")"
done
check 'places:"west germany" = python (a phrase inside one value, never across values)' \
    same "$(ids "$T/ix" 'places:"west germany"')" "$(expect places 'west germany' "$T/a.jsonl")"
check "the split record has places:west and places:germany" \
    sh -c "'$IDX' query -i '$T/ix' --format trec -k 10000 --all 'places:west places:germany' |
        grep -qw split"
check 'topics:"nat gas" = python' \
    same "$(ids "$T/ix" 'topics:"nat gas"')" "$(expect topics 'nat gas' "$T/a.jsonl")"
check "Places: is the same field (case-insensitive, as title:)" \
    same "$(ids "$T/ix" 'Places:usa')" "$(ids "$T/ix" 'places:usa')"
# Label terms are not words of the article: canada only in places is not found by canada.
check "an unfielded word does not find a field value" \
    same "$(ids "$T/ix" 'places:canada -canada')" "$(ids "$T/ix" 'places:canada')"
check "organization: (not indexed) is still the phrase" \
    same "$(ids "$T/ix" 'organization:acme')" "$(ids "$T/ix" '"organization acme"')"

# idx get: the member once, verbatim (as the JSONL wrote it).
"$IDX" get -i "$T/ix" d1 > "$T/d1.json"
check "get returns places once, verbatim" python3 - "$T/d1.json" "$T/a.jsonl" << 'EOF'
import json, sys
got = open(sys.argv[1]).read()
want = next(json.loads(l) for l in open(sys.argv[2]) if json.loads(l)["id"] == "d1")
g = json.loads(got)
assert got.count('"places"') == (1 if "places" in want else 0), got
assert g.get("places") == want.get("places") and g.get("topics") == want.get("topics"), got
EOF
# Search results (JSON) carry every kept member of each hit under "fields".
"$IDX" query -i "$T/ix" -k 50 --no-collapse --format json oil > "$T/hits.json"
check "JSON hits carry the kept members under fields" python3 - "$T/hits.json" "$T/a.jsonl" \
    "$T/b.jsonl" << 'EOF'
import json, sys
hits = json.load(open(sys.argv[1]))["hits"]
recs = {}
for path in sys.argv[2:]:
    for line in open(path):
        try:
            r = json.loads(line)
        except ValueError:
            continue
        recs[r["id"]] = r
known = {"id", "title", "body", "url", "date", "author", "category"}
assert len(hits) > 5, len(hits)
for h in hits:
    want = {k: v for k, v in recs[h["id"]].items() if k not in known}
    assert h.get("fields", {}) == want, (h["id"], h.get("fields"), want)
EOF
check "check passes" quiet "$IDX" check -i "$T/ix"

# Refused names and settings: exit 2.
for bad in title text date Places 1x a-b "a b"; do
    run_rc "$IDX" build -q -o "$T/bad" --index-field "$bad" "$T/a.jsonl" 2> /dev/null
    check "--index-field '$bad' is refused (2)" [ "$rc" = 2 ]
done
run_rc "$IDX" build -q -o "$T/bad" --index-field places --index-field places "$T/a.jsonl" 2> /dev/null
check "a repeated --index-field is refused (2)" [ "$rc" = 2 ]
run_rc "$IDX" build -q -o "$T/bad" --engine xapian --index-field places "$T/a.jsonl" 2> "$T/xap.err"
check "--index-field with --engine xapian is refused (2)" [ "$rc" = 2 ]
check "no index left by refused builds" [ ! -e "$T/bad" ]

# Append: the index's fields; another list is a usage error.
run_rc "$IDX" build -q --append -o "$T/ix" --index-field topics "$T/b.jsonl" 2> "$T/app.err"
check "append with another --index-field list is refused (2)" [ "$rc" = 2 ]
check "the refusal names the index's fields" grep -q "index fields: places topics" "$T/app.err"
run_rc "$IDX" build -q --append -o "$T/ix" --index-field topics --index-field places \
    "$T/b.jsonl" 2> /dev/null
check "append with the fields reordered is refused (2)" [ "$rc" = 2 ]
run_rc "$IDX" build -q --append --no-merge -o "$T/ix" --segment-docs 10 "$T/b.jsonl" 2> /dev/null
check "append without --index-field takes the index's" [ "$rc" = 0 ]
check "places:usa finds appended articles too" \
    same "$(ids "$T/ix" 'places:usa')" "$(expect places usa "$T/a.jsonl" "$T/b.jsonl")"
check "topics:grain after append" \
    same "$(ids "$T/ix" 'topics:grain')" "$(expect topics grain "$T/a.jsonl" "$T/b.jsonl")"
quiet "$IDX" merge -i "$T/ix" 2> /dev/null
check "merge keeps the fields in meta" \
    [ "$(grep -c '^index.field' "$T/ix/meta")" = 2 ]
check 'places:"west germany" after merge' \
    same "$(ids "$T/ix" 'places:"west germany"')" \
    "$(expect places 'west germany' "$T/a.jsonl" "$T/b.jsonl")"
check "check passes after append and merge" quiet "$IDX" check -i "$T/ix"

# Without --index-field, places:usa is the phrase "places usa" (QUERY.md).
quiet "$IDX" build -q -o "$T/plain" "$T/a.jsonl" 2> /dev/null
check "no fields: places:usa is the phrase" \
    [ "$(ids "$T/plain" 'places:usa')" = "$(ids "$T/plain" '"places usa"')" ]

# Reuters-21578: `places` is one comma-separated string ("el-salvador, usa").
if [ -f "$SHARED/corpora/reuters21578/docs.jsonl.gz" ]; then
    R=$SHARED/corpora/reuters21578/docs.jsonl.gz
    quiet "$IDX" build -q -o "$T/reuters" --index-field places --index-field split "$R"
    count() { "$IDX" query -i "$T/reuters" --count --format json -k 1 -- "$1" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])'; }
    python3 - "$R" > "$T/reuters.counts" << 'EOF'
import gzip, json, sys
usa = wg = test = 0
for line in gzip.open(sys.argv[1], "rt"):
    r = json.loads(line)
    p = [x.strip() for x in (r.get("places") or "").split(",")]
    usa += "usa" in p
    wg += "west-germany" in p
    test += r.get("split") == "TEST"
print(usa, wg, test)
EOF
    read -r usa wg test < "$T/reuters.counts"
    check "reuters: places:usa = python ($usa)" [ "$(count 'places:usa')" = "$usa" ]
    check "reuters: places:\"west germany\" = python ($wg)" \
        [ "$(count 'places:"west germany"')" = "$wg" ]
    check "reuters: split:test = python ($test)" [ "$(count 'split:test')" = "$test" ]
else
    echo "SKIP: reuters part ($SHARED/corpora/reuters21578 missing)"
fi
e2e_finish
