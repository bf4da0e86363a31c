#!/usr/bin/env bash
# Honest totals (docs/OUTPUT.md, `total`): every page of a query reports the
# same total, equal to a count made here from the corpus itself while there
# are at most 10,000 matches, and `more than 10000` (total 10000,
# total_exact false) beyond; --count stays exact. On a synthetic corpus of
# 10,200 articles (a word in more than 10,000 of them) in both engines and
# both orders, then on reuters21578 (single words and a phrase, `the` in
# 15,637 articles) when the shared corpora exist.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
e2e_tmpdir counts

python3 - "$T" <<'EOF'
import json, random, sys
t = sys.argv[1]
rnd = random.Random(6)
docs = []
for i in range(10200):
    words = [w for w, p in (("alpha", .3), ("beta", .2)) if rnd.random() < p]
    if i % 100:  # 10,098 articles
        words.append("common")
    words += rnd.choice([["red", "fox"], ["fox", "red"], ["red", "filler", "fox"], []])
    words += ["filler"] * rnd.randrange(1, 4)
    rnd.shuffle(words)
    d = {"id": f"d{i}", "title": "", "body": " ".join(words)}
    if rnd.random() < .8:
        d["date"] = f"{rnd.randrange(1990, 2020)}-{rnd.randrange(1, 13):02d}-01"
    docs.append(d)
with open(f"{t}/docs.jsonl", "w") as f:
    for d in docs:
        f.write(json.dumps(d) + "\n")
def count(pred):
    return sum(1 for d in docs if pred(d["body"].split()))
def phrase(w, a, b):
    return any(x == a and y == b for x, y in zip(w, w[1:]))
expect = {
    "alpha": count(lambda w: "alpha" in w),
    '"red fox"': count(lambda w: phrase(w, "red", "fox")),
    "alpha beta": count(lambda w: "alpha" in w or "beta" in w),
    "+alpha +beta": count(lambda w: "alpha" in w and "beta" in w),
    "alpha -beta": count(lambda w: "alpha" in w and "beta" not in w),
    "common": count(lambda w: "common" in w),
    "common alpha": count(lambda w: "common" in w or "alpha" in w),
}
with open(f"{t}/expect.tsv", "w") as f:
    for q, n in expect.items():
        f.write(f"{q}\t{n}\n")
EOF

"$IDX" build -q -o "$T/native" "$T/docs.jsonl"
"$IDX" build -q --engine xapian -o "$T/xapian" "$T/docs.jsonl"

# pages.py INDEX EXPECT.tsv [SORT...]: every query's pages 0, 10, 20, 30 (k 10) in
# json, and --count, against the expected counts; prints the failures.
cat > "$T/pages.py" <<'EOF'
import json, os, subprocess, sys
idx, index, expect = os.environ["IDX"], sys.argv[1], sys.argv[2]
sorts = sys.argv[3:] or ["relevance"]
LIMIT = 10000
bad = 0
def run(q, *args):
    out = subprocess.run([idx, "query", "-i", index, "--format", "json", *args, "--", q],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)
for line in open(expect):
    q, n = line.rstrip("\n").split("\t")
    n = int(n)
    want = (n, True) if n <= LIMIT else (LIMIT, False)
    for s in sorts:
        for off in (0, 10, 20, 30):
            r = run(q, "--sort", s, "-k", "10", "--offset", str(off))
            got = (r["total"], r["total_exact"])
            hits = len(r["hits"])
            if got != want or hits != max(0, min(10, n - off)):
                print(f"[{q}] sort {s} offset {off}: total {got}, {hits} hits; want {want} of {n}")
                bad = 1
        r = run(q, "--sort", s, "-k", "1", "--count")
        if (r["total"], r["total_exact"]) != (n, True):
            print(f"[{q}] sort {s} --count: {r['total']} {r['total_exact']}, want {n}")
            bad = 1
sys.exit(bad)
EOF

for engine in native xapian; do
    check "$engine: every page's total is the count, or more than 10000" \
        python3 "$T/pages.py" "$T/$engine" "$T/expect.tsv" relevance -date
    check "$engine: text says 'more than 10000 results'" \
        sh -c "'$IDX' query -i '$T/$engine' --format text common | head -1 | grep -q '^more than 10000 results ('"
    check "$engine: text says the exact count below the limit" \
        sh -c "'$IDX' query -i '$T/$engine' --format text '\"red fox\"' | head -1 |
               grep -q '^$(grep '^"red fox"' "$T/expect.tsv" | cut -f2) results ('"
done

if [ -d "$SHARED/corpora/reuters21578" ]; then
    DOCS=$SHARED/corpora/reuters21578/docs.jsonl.gz
    "$IDX" build -q -o "$T/reuters" "$DOCS"
    # Independent counts: the analyzer folds case, and these words' stems
    # gather only the forms listed.
    python3 - "$DOCS" > "$T/reuters.tsv" <<'EOF'
import gzip, json, re, sys
n = {"oil": 0, '"crude oil"': 0, "the": 0, "oil OR gas": 0}
for line in gzip.open(sys.argv[1], "rt", encoding="utf-8"):
    d = json.loads(line)
    n_words = [re.findall(r"[^\W_]+", d.get(f, "").lower()) for f in ("title", "body")]
    s = set(n_words[0]) | set(n_words[1])
    oil = bool(s & {"oil", "oils", "oiled", "oiling"})
    n["oil"] += oil
    n['"crude oil"'] += any(a == "crude" and b in ("oil", "oils") for w in n_words
                            for a, b in zip(w, w[1:]))
    n["the"] += "the" in s
    n["oil OR gas"] += oil or "gas" in s
for q, c in n.items():
    print(f"{q}\t{c}")
EOF
    check "reuters: the counts are real (the over 10000, the others under)" \
        python3 -c 'import sys; n = dict(l.rstrip("\n").split("\t") for l in open(sys.argv[1]))
assert int(n["the"]) > 10000 and 0 < int(n["\"crude oil\""]) < int(n["oil"]) < 10000, n' \
        "$T/reuters.tsv"
    check "reuters: every page's total is the count, or more than 10000" \
        python3 "$T/pages.py" "$T/reuters" "$T/reuters.tsv"
else
    echo "skip: reuters21578 (shared corpora not found at $SHARED/corpora)"
fi
e2e_finish
