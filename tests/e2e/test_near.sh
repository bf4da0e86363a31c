#!/usr/bin/env bash
# Unordered proximity (docs/QUERY.md, `a NEAR/N b`) end to end, in both
# engines: "brown gordon"~2 keeps the order and does not find "Gordon
# Brown"; brown NEAR/2 gordon does. On a small fixture, then on the bbc
# corpus (when the shared corpora exist) against a count made here from the
# articles' text.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
e2e_tmpdir near

cat > "$T/docs.jsonl" <<'EOF'
{"id":"gb","title":"","body":"the prime minister Gordon Brown said"}
{"id":"bg","title":"","body":"Brown, Gordon: a name as a register writes it"}
{"id":"gap","title":"","body":"brown bears fish near gordon street"}
{"id":"far","title":"","body":"brown one two three four five six seven eight nine ten eleven gordon"}
{"id":"twice","title":"","body":"gordon met gordon"}
{"id":"title","title":"Brown and Gordon","body":"nothing here"}
EOF
"$IDX" build -q -o "$T/native" "$T/docs.jsonl"
"$IDX" build -q --engine xapian -o "$T/xapian" "$T/docs.jsonl"

ids() { # engine query: the hit ids, sorted, on one line
    "$IDX" query -i "$T/$1" --format trec -k 100 -- "$2" | awk '{print $3}' | sort | tr '\n' ' '
}
for e in native xapian; do
    check "$e: \"brown gordon\"~2 keeps the order" [ "$(ids $e '"brown gordon"~2')" = "bg title " ]
    check "$e: brown NEAR/2 gordon finds both orders" [ "$(ids $e 'brown NEAR/2 gordon')" = "bg gb title " ]
    check "$e: NEAR is NEAR/10" [ "$(ids $e 'gordon NEAR brown')" = "bg gap gb title " ]
    check "$e: NEAR/0 is side by side" [ "$(ids $e 'gordon NEAR/0 brown')" = "bg gb " ]
    check "$e: title:(brown NEAR/1 gordon)" [ "$(ids $e 'title:(brown NEAR/1 gordon)')" = "title " ]
    check "$e: a NEAR chain of three" [ "$(ids $e 'prime NEAR/1 brown NEAR/1 gordon')" = "gb " ]
done
check "native: gordon NEAR/1 gordon needs two" [ "$(ids native 'gordon NEAR/1 gordon')" = "twice " ]
run_rc "$IDX" query -i "$T/xapian" 'gordon NEAR/1 gordon'
check "xapian: a repeated NEAR word exits 2" [ "$rc" = 2 ]
run_rc "$IDX" query -i "$T/native" 'brown NEAR/3 gordon NEAR/4 x'
check "two distances in one chain exit 2" [ "$rc" = 2 ]

if [ -d "$SHARED/corpora/bbc" ]; then
    DOCS=$SHARED/corpora/bbc/docs.jsonl.gz
    "$IDX" build -q -o "$T/bbc" "$DOCS"
    "$IDX" build -q --engine xapian -o "$T/bbc-x" "$DOCS"
    # Articles with gordon and brown at most 3 positions apart (NEAR/2 of two
    # words), either order, within the title or within the body.
    python3 - "$DOCS" > "$T/bbc.txt" <<'EOF'
import gzip, json, re, sys
near = ordered = 0
for line in gzip.open(sys.argv[1], "rt", encoding="utf-8"):
    d = json.loads(line)
    hit = hit_o = False
    for f in ("title", "body"):
        w = re.findall(r"[^\W_]+", d.get(f, "").lower())
        g = [i for i, x in enumerate(w) if x == "gordon"]
        b = [i for i, x in enumerate(w) if x == "brown"]
        hit |= any(abs(i - j) <= 3 for i in g for j in b)
        hit_o |= any(0 < j - i <= 3 for i in b for j in g)
    near += hit
    ordered += hit_o
print(near, ordered)
EOF
    read -r want want_o < "$T/bbc.txt"
    total() { "$IDX" query -i "$T/$1" --format json -k 1 -- "$2" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])'; }
    check "bbc: gordon brown is common ($want articles), the reverse order rare ($want_o)" \
        [ "$want" -gt 50 ] && [ "$want_o" -lt "$want" ]
    for ix in bbc bbc-x; do
        check "$ix: brown NEAR/2 gordon finds the $want articles" [ "$(total $ix 'brown NEAR/2 gordon')" = "$want" ]
        check "$ix: \"brown gordon\"~2 finds only the $want_o in that order" \
            [ "$(total $ix '"brown gordon"~2')" = "$want_o" ]
    done
else
    echo "skip: bbc (shared corpora not found at $SHARED/corpora)"
fi
e2e_finish
