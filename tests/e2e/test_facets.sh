#!/usr/bin/env bash
# idx query --facets (docs/QUERY.md, "Facets"): the counts per category, year,
# month and author checked against counts computed here from the JSONL with
# the same query semantics, on a synthetic corpus of three segments
# (--append --no-merge) with multi-valued and repeated labels, undated and
# unlabelled articles; again after deleting articles and after a merge; text
# output; malformed lists; the xapian engine's counts (equal to the expected
# ones and the native engine's) and an old xapian index's one-line refusal of
# authors and categories; the
# web's facets= (JSON equal to the expected counts, the HTML sidebar's filter
# links) when nginx and idx-fcgi are there.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
e2e_tmpdir facets

python3 - "$T" <<'EOF'
import json, random, sys
t = sys.argv[1]
rnd = random.Random(7)
cats = ["Sport", "Politics", "Science", "Music", "Film", "Travel", "Food", "Health",
        "Books", "Art", "Law", "Games", "Energy", "Space", "Weather"]
people = ["%s %s" % (f, l) for f in ("Ann", "Bob", "Cy", "Dee", "Eve", "Fay")
          for l in ("Smith", "Jones", "Ng", "Ruiz", "Kim")]
def doc(i):
    words = [w for w, p in (("alpha", .4), ("beta", .3), ("gamma", .5)) if rnd.random() < p]
    words += ["filler"] * rnd.randrange(1, 4)
    rnd.shuffle(words)
    d = {"id": f"d{i}", "title": f"doc {i}", "body": " ".join(words)}
    if rnd.random() < .85:
        d["date"] = f"{rnd.randrange(2010, 2020)}-{rnd.randrange(1, 13):02d}-{rnd.randrange(1, 29):02d}"
    c = rnd.choices(cats, weights=[1 / (k + 1) for k in range(len(cats))], k=rnd.randrange(0, 4))
    if c: d["category"] = c if len(c) > 1 else c[0]  # repeats inside one article happen
    a = rnd.sample(people, rnd.randrange(0, 3))
    if a: d["author"] = a if len(a) > 1 else a[0]
    return d
docs = [doc(i) for i in range(1500)]
for k, part in enumerate(("a", "b", "c")):
    with open(f"{t}/{part}.jsonl", "w") as f:
        for d in docs[500 * k:500 * (k + 1)]: f.write(json.dumps(d) + "\n")
json.dump(docs, open(f"{t}/docs.json", "w"))
deleted = [d["id"] for d in rnd.sample(docs, 90)]
open(f"{t}/deleted", "w").write("\n".join(deleted) + "\n")
EOF

# expect.py DOCS DELETED|- QUERY SPEC: the expected {"total", "facets"} of a
# query, computed from the JSONL; expect.py DOCS DELETED|- --check LABEL
# RESULTS...: compares `idx query --batch --format json` outputs (one file
# per spec, named by it) with them, one ok/FAIL line per query and spec.
cat > "$T/expect.py" <<'EOF'
import json, sys
def labels(d, k):
    v = d.get(k, [])
    return set(v if isinstance(v, list) else [v])
def date(d):
    return int(d["date"].replace("-", "")) if "date" in d else 0
def words(d):
    return set(d["body"].split())
MATCH = {
    "alpha": lambda d: "alpha" in words(d),
    "+alpha +gamma": lambda d: {"alpha", "gamma"} <= words(d),
    "alpha -beta": lambda d: "alpha" in words(d) and "beta" not in words(d),
    "category:sport": lambda d: "Sport" in labels(d, "category"),
    "author:kim": lambda d: any(a.endswith(" Kim") for a in labels(d, "author")),
    "gamma date:2015": lambda d: "gamma" in words(d) and 20150101 <= date(d) <= 20151231,
    "beta date:2013..2016": lambda d: "beta" in words(d) and 20130101 <= date(d) <= 20161231,
    "nosuchword": lambda d: False,
}
def expect(docs, gone, query, spec):
    hits = [d for d in docs if d["id"] not in gone and MATCH[query](d)]
    top = {"category": 10, "year": 10, "month": 12, "author": 10}
    asked = {}
    for item in spec.split(","):
        name, _, n = item.partition(":")
        asked[name] = int(n) if n else top[name]
    if "year" in asked and "month" not in asked and query == "gamma date:2015":
        asked["month"] = 12  # a date range within one year adds months
    out = {}
    for name in ("category", "year", "month", "author"):
        if name not in asked: continue
        count = {}
        for d in hits:
            if name in ("category", "author"):
                vals = labels(d, name)
            elif "date" not in d:
                vals = set()
            else:
                vals = {d["date"][:4] if name == "year" else d["date"][:7]}
            for v in vals: count[v] = count.get(v, 0) + 1
        best = sorted(count.items(), key=lambda kv: (-kv[1], kv[0].encode()))[:asked[name]]
        out[name] = [{"value": v, "count": c} for v, c in best]
    return {"total": len(hits), "facets": out}
docs = json.load(open(sys.argv[1]))
gone = set(open(sys.argv[2]).read().split()) if sys.argv[2] != "-" else set()
if sys.argv[3] != "--check":
    print(json.dumps(expect(docs, gone, sys.argv[3], sys.argv[4]), sort_keys=True))
    sys.exit(0)
bad = 0
for path in sys.argv[5:]:
    spec = path.rsplit("/", 1)[1]
    for line in open(path):
        r = json.loads(line)
        got = {"total": r["total"], "facets": r["facets"]}
        want = expect(docs, gone, r["query"], spec)
        bad += got != want
        print("%s %s [%s] --facets %s" % ("ok  " if got == want else "FAIL", sys.argv[4],
                                          r["query"], spec))
        if got != want: print("     got  %s\n     want %s" % (json.dumps(got), json.dumps(want)))
sys.exit(1 if bad else 0)
EOF
printf 'q%s\n' 1$'\t'alpha 2$'\t'"+alpha +gamma" 3$'\t'"alpha -beta" 4$'\t'category:sport \
    5$'\t'author:kim 6$'\t'"gamma date:2015" 7$'\t'"beta date:2013..2016" 8$'\t'nosuchword \
    > "$T/queries.tsv"

IX=$T/ix
quiet "$IDX" build -q --threads 1 -o "$IX" "$T/a.jsonl"
quiet "$IDX" build -q --threads 1 --append --no-merge -o "$IX" "$T/b.jsonl"
quiet "$IDX" build -q --threads 1 --append --no-merge -o "$IX" "$T/c.jsonl"
check "three segments" [ "$("$IDX" stats -i "$IX" | grep -c '^segment ')" = 3 ]

# every query with every spec, against expect.py
compare_all() { # LABEL DELETED-FILE|-
    local s
    rm -rf "$T/got"
    mkdir "$T/got"
    for s in "category,year,author" "category:3,month,author:40" "year"; do
        "$IDX" query -i "$IX" --batch -k 3 --format json --facets "$s" < "$T/queries.tsv" \
            > "$T/got/$s"
    done
    python3 "$T/expect.py" "$T/docs.json" "$2" --check "$1" "$T/got/"* || fail=1
    # the facet columns every build, append and merge writes match the stored articles
    # (libxapian's Database::check trips ASan's new_delete_type_mismatch, a
    # defect of the library: test_xapian_engine.sh)
    check "$1: idx check" quiet env ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}new_delete_type_mismatch=0" \
        "$IDX" check -i "$IX"
}
compare_all "3 segments" -

# text: one line per facet after the hits
want=$(python3 "$T/expect.py" "$T/docs.json" - alpha category,year | python3 -c '
import json, sys
f = json.load(sys.stdin)["facets"]
for n in ("category", "year"):
    print(n + ": " + ", ".join("%s (%d)" % (v["value"], v["count"]) for v in f[n]))')
got=$("$IDX" query -i "$IX" --color never --facets category,year alpha | tail -2)
check "text facet lines" [ "$got" = "$want" ]

# after deleting articles in every segment: the deleted count nowhere
quiet "$IDX" delete --no-merge -i "$IX" --ids-from "$T/deleted" 2> /dev/null
compare_all "after deletes" "$T/deleted"
# and the same counts once merged into one segment
quiet "$IDX" merge -i "$IX" 2> /dev/null
compare_all "merged" "$T/deleted"

# malformed lists and formats: exit 2, one line
for bad in bogus "category,category" "year:0" "author:1001" "category:x" \
    "$(python3 -c 'print(",".join(["year"] * 1000))')"; do
    run_rc "$IDX" query -i "$IX" --facets "$bad" alpha > "$T/out" 2> "$T/err"
    check "--facets ${bad:0:30}: exit 2, one line, no output" \
        [ "$rc" = 2 -a "$(wc -l < "$T/err")" = 1 -a ! -s "$T/out" ]
done
run_rc "$IDX" query -i "$IX" --facets year --format trec alpha 2> /dev/null
check "--facets with --format trec: exit 2" [ "$rc" = 2 ]
run_rc "$IDX" query -i "$IX" --facets year --batch < "$T/queries.tsv" > /dev/null 2>&1
check "--facets with --batch's default trec: exit 2" [ "$rc" = 2 ]

# the xapian engine: every facet from Xapian's ValueCountMatchSpy over the
# date, author and category values, equal to the counts from the JSONL (built
# in three appends, then after deletes) and to the native engine's
NIX=$IX
IX=$T/xall
quiet "$IDX" build -q --threads 1 --engine xapian -o "$IX" "$T/a.jsonl"
quiet "$IDX" build -q --threads 1 --engine xapian --append -o "$IX" "$T/b.jsonl"
quiet "$IDX" build -q --threads 1 --engine xapian --append -o "$IX" "$T/c.jsonl"
compare_all "xapian" -
quiet "$IDX" delete -i "$IX" --ids-from "$T/deleted" 2> /dev/null
compare_all "xapian after deletes" "$T/deleted"
IX=$NIX
quiet "$IDX" build -q --threads 1 --engine xapian -o "$T/xap" "$T/a.jsonl"
quiet "$IDX" build -q --threads 1 -o "$T/nat" "$T/a.jsonl"
for e in xap nat; do
    "$IDX" query -i "$T/$e" --batch -k 0 --format json --facets category,year,month,author:30 \
        < "$T/queries.tsv" |
        python3 -c 'import json,sys
for l in sys.stdin: d=json.loads(l); print(d["query"], d["total"], d["total_exact"], json.dumps(d["facets"]))' \
        > "$T/$e.facets"
done
check "xapian facets equal the native engine's" cmp -s "$T/xap.facets" "$T/nat.facets"
check "xapian facets are not empty" grep -q '"Sport".*"2015-.* Kim"' "$T/xap.facets"
# a xapian index built before author and category were kept (no "Xlabels" in
# its metadata): exit 2 and one line for them, also after an append; years work
if command -v xapian-metadata > /dev/null; then
    xapian-metadata set "$T/xap/xapian" Xlabels ""
    quiet "$IDX" build -q --threads 1 --engine xapian --append -o "$T/xap" "$T/b.jsonl"
    run_rc "$IDX" query -i "$T/xap" --facets year,category alpha > "$T/out" 2> "$T/err"
    check "old xapian index --facets category: exit 2 and one line" \
        [ "$rc" = 2 -a "$(wc -l < "$T/err")" = 1 -a ! -s "$T/out" ]
    check "old xapian index --facets category: says why" grep -q "rebuild" "$T/err"
    check "old xapian index --facets year: works" \
        bash -c "'$IDX' query -i '$T/xap' --format json --facets year alpha | grep -q '\"2015\"'"
else
    echo "info xapian-metadata missing: the old xapian index checks skipped"
fi

# ---- the web: facets= in JSON and the HTML sidebar (when the web stack is there)
IDX_BUILD=${IDX_BUILD:-$(dirname "$IDX")}
FCGI=${IDX_FCGI:-$IDX_BUILD/idx-fcgi}
SERVE=$IDX_SRC/web/serve
if ! { command -v nginx > /dev/null || [ -x /usr/sbin/nginx ]; } ||
    ! command -v spawn-fcgi > /dev/null || ! command -v curl > /dev/null || [ ! -x "$FCGI" ]; then
    echo "info nginx, spawn-fcgi, curl or idx-fcgi missing: web checks skipped"
    e2e_finish
fi
chmod 755 "$T"
RUN=$T/run
trap 'bash "$SERVE" stop --run "$RUN" > /dev/null 2>&1 || true; rm -rf "$T"' EXIT
e2e_serve_start "$IX"
web() { # STATUS-FILE BODY-FILE ARGS... (curl --get --data-urlencode ARGS)
    local st=$1 body=$2 a args=()
    shift 2
    for a in "$@"; do args+=(--data-urlencode "$a"); done
    curl -sS --max-time 10 --get -o "$body" -w '%{http_code}' "${args[@]}" "$URL/search" > "$st"
}
for q in "alpha" "gamma date:2015" "category:sport"; do
    web "$T/st" "$T/web.json" "q=$q" format=json facets=category,year,author k=3
    got=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(json.dumps({"total":d["total"],"facets":d["facets"]},sort_keys=True))' "$T/web.json")
    want=$(python3 "$T/expect.py" "$T/docs.json" "$T/deleted" "$q" category,year,author)
    check "web json [$q] facets" [ "$(cat "$T/st")" = 200 -a "$got" = "$want" ]
done
web "$T/st" "$T/page.html" "q=alpha" facets=category,year,author k=3
check "web html: 200" [ "$(cat "$T/st")" = 200 ]
check "web html: the next page keeps the facets" \
    grep -q 'rel="next" href="[^"]*&amp;facets=category,year,author"' "$T/page.html"
python3 - "$T/page.html" "$T/docs.json" "$T/deleted" "$T/expect.py" "$T/follow.tsv" <<'EOF' || fail=1
import html, json, re, subprocess, sys, urllib.parse
page = open(sys.argv[1], encoding="utf-8").read()
want = json.loads(subprocess.check_output(
    [sys.executable, sys.argv[4], sys.argv[2], sys.argv[3], "alpha", "category,year,author"]))["facets"]
side = re.search(r'<aside class="facets".*?</aside>', page, re.S)
ok = True
if not side:
    print("FAIL web html: no facets sidebar"); sys.exit(1)
links = re.findall(r'<a href="([^"]*)"[^>]*>(.*?)</a>\s*<span class="n">(\d+)</span>', side.group(0))
got = [(urllib.parse.parse_qs(urllib.parse.urlsplit(html.unescape(h)).query)["q"][0],
        html.unescape(t), int(c)) for h, t, c in links]
expect = []
for v in want["category"]:
    expect.append(("+(alpha) +category:%s" % v["value"], v["value"], v["count"]))
for v in want["year"]:
    expect.append(("alpha date:%s" % v["value"], v["value"], v["count"]))
for v in want["author"]:
    expect.append(('+(alpha) +author:"%s"' % v["value"], v["value"], v["count"]))
if got != expect:
    print("FAIL web html sidebar links\n  got  %s\n  want %s" % (got, expect)); sys.exit(1)
print("ok   web html sidebar: %d filter links with their counts" % len(got))
with open(sys.argv[5], "w") as f:  # one link of each facet, to follow
    for i in (0, len(want["category"]), len(got) - 1):
        f.write("%s\t%d\n" % (got[i][0], got[i][2]))
EOF
# following a sidebar link gives as many results as the link said
while IFS=$'\t' read -r q n; do
    web "$T/st" "$T/follow.json" "q=$q" format=json facets=category,year,author
    got=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["total"])' "$T/follow.json")
    check "web: the link [$q] narrows to its $n results" [ "$got" = "$n" ]
done < "$T/follow.tsv"
many=$(python3 -c 'print(",".join(["year"] * 1000))')
web "$T/st" "$T/err.json" "q=alpha" format=json "facets=$many"
check "web facets= with 1,000 names: 400 with a message" \
    [ "$(cat "$T/st")" = 400 ] && grep -q '"error":"facets' "$T/err.json"
web "$T/st" "$T/err.json" "q=alpha" format=json facets=nope
check "web facets=nope: 400" [ "$(cat "$T/st")" = 400 ]
e2e_finish
