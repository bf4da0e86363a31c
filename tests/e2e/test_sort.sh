#!/usr/bin/env bash
# idx query --sort date|-date: the order checked against one computed here
# from the corpus (dated before undated, then by date, then index order), on
# a synthetic corpus of two segments whose dates are shuffled (so runs of
# documents overlap in date), with filters, exclusions, paging and both
# engines; then newest-first on reuters21578 when the shared corpora exist.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
e2e_tmpdir sort

python3 - "$T" <<'EOF'
import json, random, sys
t = sys.argv[1]
rnd = random.Random(14)
def doc(i):
    words = [w for w, p in (("alpha", .3), ("beta", .2), ("gamma", .5)) if rnd.random() < p]
    words += ["filler"] * rnd.randrange(1, 6)
    rnd.shuffle(words)
    d = {"id": f"d{i}", "title": f"doc {i}", "body": " ".join(words)}
    if rnd.random() < .9:  # few distinct dates: many ties
        d["date"] = f"{rnd.randrange(2010, 2020)}-{rnd.randrange(1, 13):02d}-01"
    return d
docs = [doc(i) for i in range(3000)]
with open(f"{t}/a.jsonl", "w") as f:
    for d in docs[:2000]: f.write(json.dumps(d) + "\n")
with open(f"{t}/b.jsonl", "w") as f:
    for d in docs[2000:]: f.write(json.dumps(d) + "\n")
def matches(d, q):
    w = set(d["body"].split())
    y = int(d.get("date", "0")[:4])
    return {"alpha": "alpha" in w, "+alpha +beta": {"alpha", "beta"} <= w,
            "alpha -beta": "alpha" in w and "beta" not in w,
            "alpha beta": bool({"alpha", "beta"} & w),
            "alpha date:2013..2015": "alpha" in w and 2013 <= y <= 2015}[q]
with open(f"{t}/expect.tsv", "w") as f:
    for q in ("alpha", "+alpha +beta", "alpha -beta", "alpha beta", "alpha date:2013..2015"):
        m = [(i, d) for i, d in enumerate(docs) if matches(d, q)]
        for s in ("date", "-date"):
            key = lambda x: ("date" not in x[1],
                             int(x[1].get("date", "0").replace("-", "")) * (-1 if s == "-date" else 1),
                             x[0])
            ids = [d["id"] for _, d in sorted(m, key=key)]
            f.write(f"{q}\t{s}\t{len(m)}\t{' '.join(ids[:40])}\n")
EOF

for engine in native xapian; do
    ix=$T/ix-$engine
    quiet "$IDX" build -q --threads 1 --engine "$engine" -o "$ix" "$T/a.jsonl"
    quiet "$IDX" build -q --threads 1 --append --no-merge -o "$ix" "$T/b.jsonl"
    while IFS=$'\t' read -r q s n want; do
        first=$(echo "$want" | cut -d' ' -f1-10)
        got=$("$IDX" query -i "$ix" --sort "$s" -k 10 --format trec -- "$q" | awk '{printf "%s%s", sep, $3; sep=" "}')
        check "$engine $s [$q] first 10" [ "$got" = "$first" ]
        paged=$(echo "$want" | cut -d' ' -f26-40)
        got=$("$IDX" query -i "$ix" --sort "$s" --offset 25 -k 15 --format trec -- "$q" | awk '{printf "%s%s", sep, $3; sep=" "}')
        check "$engine $s [$q] ranks 26-40" [ "$got" = "$paged" ]
        got=$("$IDX" query -i "$ix" --sort "$s" --count -k 0 --format json -- "$q" |
            python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["sort"], d["total"], d["total_exact"])')
        check "$engine $s [$q] --count total $n" [ "$got" = "$s $n True" ]
    done < "$T/expect.tsv"
done
# scores in date order are the relevance scores of the same documents
rel=$("$IDX" query -i "$T/ix-native" -k 3000 --format trec alpha | awk '{print $3, $5}' | sort)
dat=$("$IDX" query -i "$T/ix-native" --sort date -k 3000 --format trec alpha | awk '{print $3, $5}' | sort)
check "date order keeps relevance scores" [ "$rel" = "$dat" ]
# newest first stops early: fewer matches looked at than exist (a lower bound)
got=$("$IDX" query -i "$T/ix-native" --sort -date -k 3 alpha | head -1)
check "text header names the order: $got" grep -q "newest first" <<< "$got"
run_rc "$IDX" query -i "$T/ix-native" --sort newest alpha
check "--sort newest is a usage error" [ "$rc" = 2 ]

# On reuters (shared data; where it is absent the synthetic checks above stand alone)
DOCS=$SHARED/corpora/reuters21578/docs.jsonl.gz
if [ ! -f "$DOCS" ]; then
    echo "info $DOCS absent: reuters checks skipped"
    e2e_finish
fi
R=$T/reuters
quiet "$IDX" build -q -o "$R" "$DOCS"
# newest first: dates never increase, and the 10 are the 10 newest matches
"$IDX" query -i "$R" --sort -date -k 10 --format json oil > "$T/new.json"
"$IDX" query -i "$R" -k 10000 --no-collapse --format json oil > "$T/all.json"
check "reuters: oil newest first are the newest matches" python3 - "$T/new.json" "$T/all.json" <<'EOF'
import json, sys
new = json.load(open(sys.argv[1]))
alls = json.load(open(sys.argv[2]))
# the index keeps the day: within a day, index order
dates = [h["date"][:10] for h in new["hits"]]
assert len(dates) == 10 and all(dates), dates
assert dates == sorted(dates, reverse=True), dates
newest = sorted((h["date"][:10] for h in alls["hits"] if h["date"]), reverse=True)[:10]
assert dates == newest, (dates, newest)
for a, b in zip(new["hits"], new["hits"][1:]):
    assert a["date"][:10] != b["date"][:10] or int(a["id"]) < int(b["id"]), (a["id"], b["id"])
# the total is the relevance order's, exact (under 10,000 matches)
assert new["total_exact"] and alls["total_exact"], (new, alls["total_exact"])
assert new["total"] == alls["total"] == len(alls["hits"]), (new["total"], alls["total"])
EOF
# Queries of few to many matches spread over many runs of 1,024 articles: both
# orders, two pages, equal to every match sorted here (the day, then index order)
for q in 'oil' 'opec quota' '"interest rates"' 'coffee -brazil' '+"the who" +uk' 'yen date:1987-03'; do
    "$IDX" query -i "$R" -k 10000 --no-collapse --format json -- "$q" > "$T/all.json"
    for s in date -date; do
        for off in 0 10; do
            "$IDX" query -i "$R" --sort "$s" --offset "$off" -k 10 --no-collapse --format json -- "$q" \
                > "$T/page.json"
            check "reuters: $s [$q] offset $off" python3 - "$T/page.json" "$T/all.json" "$s" "$off" <<'EOF'
import json, sys
page, alls = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
desc, off = sys.argv[3] == "-date", int(sys.argv[4])
day = lambda h: int(h["date"][:10].replace("-", "")) if h.get("date") else 0
key = lambda h: (day(h) == 0, -day(h) if desc else day(h), int(h["id"]))
want = [h["id"] for h in sorted(alls["hits"], key=key)][off:off + 10]
got = [h["id"] for h in page["hits"]]
assert got == want, (got, want)
assert page["total"] == alls["total"], (page["total"], alls["total"])
EOF
        done
    done
done
e2e_finish
