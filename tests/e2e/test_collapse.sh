#!/usr/bin/env bash
# Duplicates collapsed (docs/QUERY.md "Duplicates"): on a synthetic corpus
# with planted duplicates — three byte-identical copies of one story and two
# versions of another with the same title and first paragraph but different
# tails, spread over three segments — a ranked query shows one hit per story
# with "(+N like it)" (text) and "collapsed":N (JSON), --no-collapse shows
# them all, pages follow on from each other, and the same holds after a
# merge and after deleting a story's best copy, and on the xapian engine;
# `idx check` verifies the keys and a damaged key column is exit 3. Then the web page and JSON
# (collapse=0) when nginx is there, and the bbc corpus's byte-identical
# articles when the shared corpora are.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
e2e_tmpdir collapse

python3 - "$T" <<'EOF'
import json, random, sys
t = sys.argv[1]
rnd = random.Random(9)
lead = ("The quokka colony on the island grew again this year, rangers said on "
        "Monday, after a wet winter left more food for the young.")
def filler(n):
    return " ".join(rnd.choice(["sand", "reef", "ferry", "tourist", "bay", "storm"]) for _ in range(n))
docs = []
for i in range(240):
    d = {"id": f"f{i:03d}", "title": f"note {i}", "body": filler(30)}
    if i % 20 == 7:  # twelve distinct articles that mention quokkas once or twice
        d["body"] += " quokka" * (1 + i % 2) + " " + filler(10)
    docs.append(d)
story = {"title": "Quokka numbers up", "body": lead + "\n\nVisitors are asked not to feed them."}
plant = {5: ("w1", story), 90: ("w1b", story), 170: ("w1c", story),
         40: ("w2", {"title": "Island quokkas thrive", "body": lead + "\n\nMore later."}),
         200: ("w2b", {"title": "ISLAND QUOKKAS -- THRIVE", "body": lead + "\n\n" + filler(40)})}
for at, (i, d) in plant.items():
    docs[at] = {"id": i, **d}
for name, part in (("a", docs[:80]), ("b", docs[80:160]), ("c", docs[160:])):
    with open(f"{t}/{name}.jsonl", "w") as f:
        for d in part:
            f.write(json.dumps(d) + "\n")
EOF

ix=$T/ix
quiet "$IDX" build -q --threads 1 -o "$ix" "$T/a.jsonl"
quiet "$IDX" build -q --threads 1 --append --no-merge -o "$ix" "$T/b.jsonl"
quiet "$IDX" build -q --threads 1 --append --no-merge -o "$ix" "$T/c.jsonl"
check "three segments" [ "$(grep -c '^segment ' "$ix/meta")" = 3 ]
check "idx check verifies the keys" quiet "$IDX" check -i "$ix"

ids() { # the hits' ids, space-separated, of idx query ARGS (json)
    "$IDX" query -i "$ix" --format json "$@" | python3 -c '
import json, sys
print(" ".join(h["id"] + (":%d" % h["collapsed"] if "collapsed" in h else "") for h in json.load(sys.stdin)["hits"]))'
}

# $1: what; the story hits of "quokka" as expected with collapsing
collapsed_ok() {
    local what=$1 w1=$2 w2=$3
    local got all
    got=$(ids -k 20 quokka)
    all=$(ids -k 20 --no-collapse quokka)
    check "$what: 14 hits collapsed, 17 without" [ "$(wc -w <<< "$got")-$(wc -w <<< "$all")" = "14-17" ]
    check "$what: identical copies folded into $w1" grep -qw "$w1" <<< "$got"
    check "$what: same title and lead folded into $w2" grep -qw "$w2" <<< "$got"
    check "$what: no folded copy is shown" [ "$(grep -oE 'w[12][bc]?(:[0-9])?' <<< "$got" | wc -l)" = 2 ]
    check "$what: every copy without collapsing" [ "$(grep -oE '\bw[12][bc]?\b' <<< "$all" | wc -l)" = 5 ]
    # pages of 4 add up to the single page, in order
    local paged="" off
    for off in 0 4 8 12; do paged="$paged $(ids -k 4 --offset "$off" quokka)"; done
    check "$what: pages follow on" [ "$(echo $paged)" = "$got" ]
    # the kept hits keep their order in the uncollapsed ranking
    check "$what: order kept" python3 -c '
import sys
kept = [x.split(":")[0] for x in sys.argv[1].split()]
sys.exit(kept != [x for x in sys.argv[2].split() if x in kept])' "$got" "$all"
}

collapsed_ok "3 segments" "w1:2" "w2:1"
got=$("$IDX" query -i "$ix" -k 20 --color never quokka)
check "text shows (+2 like it)" grep -q "w1 .*(+2 like it)" <<< "$got"
check "--format trec lists every copy" [ "$("$IDX" query -i "$ix" -k 20 --format trec quokka | grep -cE ' w[12][bc]? ')" = 5 ]

quiet "$IDX" merge -i "$ix"
check "merged to one segment" [ "$(grep -c '^segment ' "$ix/meta")" = 1 ]
check "idx check after merge" quiet "$IDX" check -i "$ix"
collapsed_ok "merged" "w1:2" "w2:1"

quiet "$IDX" delete -i "$ix" w1 w2b
collapsed_ok_deleted() {
    local got
    got=$(ids -k 20 quokka)
    check "deleted best copy: the next one stands for the story" grep -qw "w1b:1" <<< "$got"
    check "deleted copy not counted" grep -qE "(^| )w2( |$)" <<< "$got"
    check "deleted: 14 hits" [ "$(wc -w <<< "$got")" = 14 ]
}
collapsed_ok_deleted

# The xapian engine: Enquire::set_collapse_key over the same keys
quiet "$IDX" build -q --threads 1 --engine xapian -o "$T/xix" "$T/a.jsonl" "$T/b.jsonl" "$T/c.jsonl"
ix=$T/xix collapsed_ok "xapian" "w1:2" "w2:1"

# A damaged key column is damage: exit 3 from check and from a collapsing query.
quiet "$IDX" merge -i "$ix"
docs=$(ls "$ix"/s*.docs)
python3 - "$docs" <<'EOF'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
at = b.find(b"CKEY") + 8 + 8 * 3 + 2  # inside the fourth key
b[at] ^= 0x40
open(p, "wb").write(bytes(b))
EOF
run_rc "$IDX" check -i "$ix"
check "damaged key column: check exit 3" [ "$rc" = 3 ]
run_rc "$IDX" query -i "$ix" quokka
check "damaged key column: query exit 3" [ "$rc" = 3 ]

# The web box: JSON and page, collapse=0 (needs nginx and idx-fcgi)
IDX_BUILD=$(dirname "$IDX")
FCGI=${IDX_FCGI:-$IDX_BUILD/idx-fcgi}
SERVE=$IDX_SRC/web/serve
if (command -v nginx > /dev/null || [ -x /usr/sbin/nginx ]) && command -v spawn-fcgi > /dev/null &&
    command -v curl > /dev/null && [ -x "$FCGI" ]; then
    chmod 755 "$T"
    RUN=$T/run
    trap 'bash "$SERVE" stop --run "$RUN" > /dev/null 2>&1 || true; rm -rf "$T"' EXIT
    wix=$T/wix
    quiet "$IDX" build -q --threads 1 -o "$wix" "$T/a.jsonl" "$T/b.jsonl" "$T/c.jsonl"
    PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    URL=http://127.0.0.1:$PORT
    if bash "$SERVE" start "$wix" --port "$PORT" --run "$RUN" --fcgi "$FCGI" --threads 1 > "$T/start.out" 2>&1; then
        j=$(curl -s "$URL/search?q=quokka&k=20&format=json")
        check "web JSON: collapsed counts" python3 -c '
import json, sys
h = {x["id"]: x.get("collapsed", 0) for x in json.loads(sys.argv[1])["hits"]}
sys.exit(not (len(h) == 14 and h["w1"] == 2 and h["w2"] == 1))' "$j"
        j=$(curl -s "$URL/search?q=quokka&k=20&format=json&collapse=0")
        check "web JSON collapse=0: every copy" python3 -c '
import json, sys
h = [x for x in json.loads(sys.argv[1])["hits"]]
sys.exit(not (len(h) == 17 and all("collapsed" not in x for x in h)))' "$j"
        page=$(curl -s "$URL/search?q=quokka&k=20")
        check "page: 2 more like it" grep -q '>2 more like it</a>' <<< "$page"
        check "page: the link shows every copy" grep -q 'collapse=0">2 more like it' <<< "$page"
        page=$(curl -s "$URL/search?q=quokka&k=5&collapse=0")
        check "page collapse=0: no fold, pager keeps it" bash -c '! grep -q "more like it" <<< "$1" && grep -q "collapse=0\">Next" <<< "$1"' _ "$page"
        code=$(curl -s -o /dev/null -w '%{http_code}' "$URL/search?q=quokka&collapse=yes&format=json")
        check "collapse=yes is a 400" [ "$code" = 400 ]
    else
        cat "$T/start.out"
        check "web/serve start" false
    fi
else
    echo "info nginx, spawn-fcgi, curl or idx-fcgi missing: web checks skipped"
fi

# bbc: byte-identical articles (duplicates.tsv) never both in a collapsed top 10
BBC=$SHARED/corpora/bbc
if [ ! -f "$BBC/docs.jsonl.gz" ]; then
    echo "info $BBC absent: bbc checks skipped"
    e2e_finish
fi
quiet "$IDX" build -q -o "$T/bbc" "$BBC/docs.jsonl.gz"
python3 - "$BBC" > "$T/pairs.tsv" <<'EOF'
import gzip, json, sys
d = sys.argv[1]
title = {}
for line in gzip.open(f"{d}/docs.jsonl.gz", "rt"):
    x = json.loads(line)
    title[x["id"]] = x["title"]
pairs = [l.split() for l in open(f"{d}/duplicates.tsv") if not l.startswith("#")]
for a, b in pairs[:25]:
    words = "".join(c if c.isalnum() else " " for c in title[a]).split()
    print(f"{a}\t{b}\t{' '.join(words)}")
EOF
both=0 folded=0 n=0
while IFS=$'\t' read -r a b q; do
    n=$((n + 1))
    all=$("$IDX" query -i "$T/bbc" -k 10 --no-collapse --format json -- "$q" | python3 -c 'import json,sys; print(" ".join(h["id"] for h in json.load(sys.stdin)["hits"]))')
    got=$("$IDX" query -i "$T/bbc" -k 10 --format json -- "$q" | python3 -c 'import json,sys; print(" ".join(h["id"] + ":%d" % h.get("collapsed", 0) for h in json.load(sys.stdin)["hits"]))')
    if grep -qw "$a" <<< "$all" && grep -qw "$b" <<< "$all"; then both=$((both + 1)); fi
    if grep -qE "(^| )($a|$b):[1-9]" <<< "$got" && ! { grep -qw "$a:0" <<< "$got" || grep -qw "$b:0" <<< "$got"; }; then
        folded=$((folded + 1))
    fi
    check "bbc [$q]: 10 hits collapsed" [ "$(wc -w <<< "$got")" = 10 ]
done < "$T/pairs.tsv"
echo "info bbc: $both of $n duplicate pairs both in the uncollapsed top 10, $folded folded"
check "bbc: duplicate pairs show up twice without collapsing" [ "$both" -ge 20 ]
check "bbc: every pair found is folded into one hit" [ "$folded" -ge "$both" ]
check "bbc index passes check" quiet "$IDX" check -i "$T/bbc"
e2e_finish
