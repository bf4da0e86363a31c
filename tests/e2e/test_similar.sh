#!/usr/bin/env bash
# idx similar and --expand (docs/QUERY.md, "Similar articles" and "Query
# expansion") on a synthetic corpus of topical groups (five articles sharing
# a vocabulary of their own) and a near-duplicate pair, among filler
# articles: the similar articles of a group's article are the rest of its
# group, first, never itself, and never a deleted article; an unknown id is
# exit 2 with one line; --expand of a word only one article of a group has
# brings the rest of the group; the same on the xapian engine, whose terms
# Xapian's ESet chooses. Then the
# web endpoint (when nginx and friends are there): /search?similar=ID as
# JSON and as a page, its 404 and 400s, the "similar" link on every hit, and
# expand=1; similar= and expand=1 again over the xapian index.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
e2e_tmpdir similar
chmod 755 "$T" # the web part's nginx workers read the index

python3 - "$T" <<'EOF'
import json, random, sys
t = sys.argv[1]
rnd = random.Random(14)
def word():
    return "".join(rnd.choice("bcdfgklmnprstvz") + rnd.choice("aeiou") for _ in range(3))
# common words, none rarer than a group's words (which are then the most
# distinctive of an article, as a topic's words are in real text)
filler = [word() for _ in range(200)]
weights = [1.0 / (i + 1) ** 0.5 for i in range(len(filler))]
def fill(n):
    return rnd.choices(filler, weights, k=n)
docs = []
for g in range(8):
    vocab = [f"grp{g}x{word()}" for _ in range(12)]
    for d in range(5):
        own = rnd.sample(vocab, 9)
        body = own + fill(30)
        rnd.shuffle(body)
        docs.append({"id": f"g{g}d{d}", "title": " ".join(own[:2] + fill(2)), "body": " ".join(body)})
# the marker is in g3d0 only: its feedback is group 3's vocabulary
docs[15]["body"] += " uniquemarker"
dup = fill(40) + [f"dupx{word()}" for _ in range(6)]
docs.append({"id": "dupa", "title": "wire story", "body": " ".join(dup)})
docs.append({"id": "dupb", "title": "wire story", "body": " ".join(dup[:-1] + ["extra"])})
for i in range(110):
    docs.append({"id": f"f{i}", "title": " ".join(fill(3)), "body": " ".join(fill(40))})
rnd.shuffle(docs)
with open(f"{t}/docs.jsonl", "w") as f:
    for d in docs:
        f.write(json.dumps(d) + "\n")
EOF
IX=$T/ix
quiet "$IDX" build -q --threads 1 -o "$IX" "$T/docs.jsonl"

ids() { awk '{printf "%s%s", sep, $3; sep=" "}'; }

# every group article of index $1: its 4 group mates are the first 4 hits,
# itself never; and the near-duplicate first
similar_groups() {
    local bad=0 g d got first4 want
    for g in 0 1 2 3 4 5 6 7; do
        for d in 0 1 2 3 4; do
            got=$("$IDX" similar -i "$1" -k 20 --format trec "g${g}d$d" | ids)
            first4=$(echo "$got" | tr ' ' '\n' | head -4 | sort | tr '\n' ' ')
            want=$(for e in 0 1 2 3 4; do [ "$e" = "$d" ] || echo "g${g}d$e"; done | sort | tr '\n' ' ')
            if [ "$first4" != "$want" ] || grep -qw "g${g}d$d" <<< "$got"; then
                echo "  g${g}d$d: $got"
                bad=1
            fi
        done
    done
    check "similar $2: a group's articles first, never the article itself (40 articles)" [ "$bad" = 0 ]
    got=$("$IDX" similar -i "$1" -k 1 --format trec dupa | ids)
    check "similar $2: the near-duplicate first ($got)" [ "$got" = dupb ]
}
similar_groups "$IX" native

# paging: offset continues the same list
all=$("$IDX" similar -i "$IX" -k 8 --format trec g2d1 | ids)
p2=$("$IDX" similar -i "$IX" -k 4 --offset 4 --format trec g2d1 | ids)
check "similar --offset 4 -k 4 = ranks 5-8" [ "$p2" = "$(echo "$all" | cut -d' ' -f5-8)" ]

# text and json
out=$("$IDX" similar -i "$IX" -k 2 g1d0)
check "text names the article" grep -q "^Similar to g1d0: grp1x" <<< "$out"
printf '%s\n' '{"id":"lone1","body":"quokka wombat"}' '{"id":"lone2","body":"kestrel heron"}' \
    > "$T/lone.jsonl"
quiet "$IDX" build -q -o "$T/lone" "$T/lone.jsonl"
out=$("$IDX" similar -i "$T/lone" lone1)
check "text: an article sharing no words says so" \
    grep -q "^Similar to lone1: (no words it shares with a few other articles)" <<< "$out"
"$IDX" similar -i "$IX" -k 4 --format json g1d0 > "$T/sim.json"
check "json: similar, query of terms, 4 hits of group 1" python3 - "$T/sim.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["similar"] == "g1d0", d
assert "grp1x" in d["query"] and "expanded" not in d, d
assert sorted(h["id"] for h in d["hits"]) == ["g1d1", "g1d2", "g1d3", "g1d4"], d["hits"]
assert d["total"] >= 4
EOF

# unknown ids and usage
run_rc "$IDX" similar -i "$IX" nosuchid 2> "$T/err"
check "unknown id: exit 2" [ "$rc" = 2 ]
check "unknown id: one line naming it" [ "$(cat "$T/err")" = "idx: similar: no article with id 'nosuchid'" ]
run_rc "$IDX" similar -i "$IX" 2> /dev/null
check "no id: exit 2" [ "$rc" = 2 ]
run_rc "$IDX" similar -i "$IX" a b 2> /dev/null
check "two ids: exit 2" [ "$rc" = 2 ]

# deleted articles never come back, and cannot be asked about
quiet "$IDX" delete -i "$IX" g4d1 2> /dev/null
got=$("$IDX" similar -i "$IX" -k 200 --format trec g4d0 | ids)
check "similar after delete: g4d1 gone" bash -c "! grep -qw g4d1 <<< '$got'"
first3=$(echo "$got" | tr ' ' '\n' | head -3 | sort | tr '\n' ' ')
check "similar after delete: the other 3 first ($first3)" [ "$first3" = "g4d2 g4d3 g4d4 " ]
run_rc "$IDX" similar -i "$IX" g4d1 2> /dev/null
check "similar of a deleted article: exit 2" [ "$rc" = 2 ]

# --expand: uniquemarker is in g3d0 only; its feedback brings group 3
plain=$("$IDX" query -i "$IX" --format trec uniquemarker | ids)
check "plain query: one hit ($plain)" [ "$plain" = g3d0 ]
exp=$("$IDX" query -i "$IX" --expand -k 5 --format trec uniquemarker | ids)
check "--expand: g3d0 first, then group 3 ($exp)" \
    [ "$(echo "$exp" | tr ' ' '\n' | sort | tr '\n' ' ')" = "g3d0 g3d1 g3d2 g3d3 g3d4 " \
    -a "${exp%% *}" = g3d0 ]
"$IDX" query -i "$IX" --expand --format json uniquemarker > "$T/exp.json"
check "--expand json: expanded holds group 3's words, not the query's" python3 - "$T/exp.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
e = d["expanded"].split()
assert e and all(w.startswith("grp3x") or not w.startswith("grp") for w in e), e
assert "uniquemark" not in d["expanded"], e
EOF
check "plain json has no expanded" bash -c "! '$IDX' query -i '$IX' --format json uniquemarker | grep -q expanded"
# idx eval --expand answers the same queries expanded
printf 'q1\tuniquemarker\n' > "$T/q.tsv"
printf 'q1 0 g3d4 1\n' > "$T/qrels"
r0=$("$IDX" eval -i "$IX" --qrels "$T/qrels" --queries "$T/q.tsv" | awk '$1 == "recall_1000" {print $3}')
r1=$("$IDX" eval -i "$IX" --qrels "$T/qrels" --queries "$T/q.tsv" --expand | awk '$1 == "recall_1000" {print $3}')
check "eval --expand finds what only expansion finds ($r0 -> $r1)" [ "$r0" = 0.0000 -a "$r1" = 1.0000 ]

# the xapian engine: Xapian's ESet chooses the terms, with the same results
# on these groups; --expand and eval --expand as above
XIX=$T/xix
quiet "$IDX" build -q --threads 1 --engine xapian -o "$XIX" "$T/docs.jsonl"
similar_groups "$XIX" xapian
"$IDX" similar -i "$XIX" -k 4 --format json g1d0 > "$T/xsim.json"
check "xapian similar json: terms of group 1, its 4 other articles" python3 - "$T/xsim.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["similar"] == "g1d0" and "expanded" not in d, d
terms = d["query"].split()
assert 10 <= len(terms) <= 25 and sum(t.startswith("grp1x") for t in terms) >= 8, terms
assert not any(t.startswith("grp") and not t.startswith("grp1x") for t in terms), terms
assert sorted(h["id"] for h in d["hits"]) == ["g1d1", "g1d2", "g1d3", "g1d4"], d["hits"]
EOF
run_rc "$IDX" similar -i "$XIX" nosuchid 2> "$T/err"
check "xapian unknown id: exit 2, one line" \
    [ "$rc" = 2 -a "$(cat "$T/err")" = "idx: similar: no article with id 'nosuchid'" ]
exp=$("$IDX" query -i "$XIX" --expand -k 5 --format trec uniquemarker | ids)
check "xapian --expand: g3d0 first, then group 3 ($exp)" \
    [ "$(echo "$exp" | tr ' ' '\n' | sort | tr '\n' ' ')" = "g3d0 g3d1 g3d2 g3d3 g3d4 " \
    -a "${exp%% *}" = g3d0 ]
"$IDX" query -i "$XIX" --expand --format json uniquemarker > "$T/xexp.json"
check "xapian --expand json: expanded holds group 3's words, not the query's" \
    python3 - "$T/xexp.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
e = d["expanded"].split()
assert e and sum(w.startswith("grp3x") for w in e) >= 5, e
assert all(w.startswith("grp3x") or not w.startswith("grp") for w in e), e
assert "uniquemark" not in e, e
EOF
r1=$("$IDX" eval -i "$XIX" --qrels "$T/qrels" --queries "$T/q.tsv" --expand | awk '$1 == "recall_1000" {print $3}')
check "xapian eval --expand finds what only expansion finds ($r1)" [ "$r1" = 1.0000 ]

# ---- the web endpoint
if ! (e2e_web_ready > /dev/null); then
    echo "info web checks skipped: $(e2e_web_ready || true)"
    e2e_finish
fi
e2e_web_ready
RUN=$T/run
trap 'bash "$SERVE" stop --run "$RUN" > /dev/null 2>&1 || true; rm -rf "$T"' EXIT
e2e_serve_start "$IX"
# status PATH: the HTTP status, body in $T/body
status() { curl -sS --max-time 10 -o "$T/body" -w '%{http_code}' "$URL$1"; }
check "web similar json: 200" [ "$(status '/search?similar=g1d0&format=json&k=4')" = 200 ]
check "web similar json: the CLI's hits" python3 - "$T/body" "$T/sim.json" <<'EOF'
import json, sys
w, c = (json.load(open(p)) for p in sys.argv[1:3])
assert [h["id"] for h in w["hits"]] == [h["id"] for h in c["hits"]], (w, c)
assert w["similar"] == "g1d0"
EOF
check "web similar unknown id: 404" [ "$(status '/search?similar=nosuch&format=json')" = 404 ]
check "web similar unknown id: json error" grep -q '"error"' "$T/body"
check "web similar unknown id page: 404" [ "$(status '/search?similar=nosuch')" = 404 ]
long=$(head -c 2000 /dev/zero | tr '\0' a)
check "web similar 2000-byte id: 400" [ "$(status "/search?similar=$long&format=json")" = 400 ]
check "web similar empty id: 400" [ "$(status '/search?similar=&format=json')" = 400 ]
check "web similar page: 200" [ "$(status '/search?similar=g1d0')" = 200 ]
check "web similar page names the article" grep -q 'Articles like <a href="/doc?id=g1d0">g1d0</a>' "$T/body"
check "web results page: a similar link per hit" [ "$(status '/search?q=uniquemarker')" = 200 ]
check "web results page: the link" grep -q 'href="/search?similar=g3d0">similar</a>' "$T/body"
check "web expand=1: 200" [ "$(status '/search?q=uniquemarker&expand=1&format=json')" = 200 ]
check "web expand=1: expanded and group 3" python3 - "$T/body" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["expanded"].startswith("grp3x"), d
assert len(d["hits"]) >= 5, d
EOF
check "web expand=1 page: the added terms shown" \
    bash -c "[ \"\$(curl -sS '$URL/search?q=uniquemarker&expand=1' | grep -c 'Also searched for: grp3x')\" = 1 ]"
check "web expand=2: 400" [ "$(status '/search?q=a&expand=2&format=json')" = 400 ]
# the same endpoints over the xapian index: its CLI answers
bash "$SERVE" stop --run "$RUN" > /dev/null 2>&1
if ! bash "$SERVE" start "$XIX" --port "$PORT" --run "$RUN" --fcgi "$FCGI" --threads 2 \
    > "$T/start.out" 2> "$T/start.err"; then
    cat "$T/start.err"
    echo "FAIL web/serve start (xapian)"
    exit 1
fi
check "web xapian similar json: 200" [ "$(status '/search?similar=g1d0&format=json&k=4')" = 200 ]
check "web xapian similar json: the CLI's hits and terms" python3 - "$T/body" "$T/xsim.json" <<'EOF'
import json, sys
w, c = (json.load(open(p)) for p in sys.argv[1:3])
assert [h["id"] for h in w["hits"]] == [h["id"] for h in c["hits"]], (w, c)
assert w["similar"] == "g1d0" and w["query"] == c["query"], (w, c)
EOF
check "web xapian expand=1: 200" [ "$(status '/search?q=uniquemarker&expand=1&format=json')" = 200 ]
check "web xapian expand=1: the CLI's expansion" python3 - "$T/body" "$T/xexp.json" <<'EOF'
import json, sys
w, c = (json.load(open(p)) for p in sys.argv[1:3])
assert w["expanded"] == c["expanded"], (w, c)
EOF
e2e_finish
