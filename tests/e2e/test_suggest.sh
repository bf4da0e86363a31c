#!/usr/bin/env bash
# Spelling suggestions ("did you mean"): a misspelt word gets the corrected
# query, a word the articles really use (even a rare one stemming like the
# misspelling) gets none, a query without hits runs the suggestion, trec
# output and label fields are left alone. A synthetic corpus always, the bbc
# collection where the shared data is present.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
e2e_tmpdir suggest
tmp=$T
fail=0

python3 - "$tmp/docs.jsonl" <<'PY'
import json, sys
with open(sys.argv[1], "w") as f:
    for i in range(300):
        body = ["the government said on monday"] if i % 2 == 0 else ["markets were running higher"]
        if i % 3 == 0:
            body.append("the prime minister spoke")
        if i == 7:
            body.append("her governess arrived")
        f.write(json.dumps({"id": "d%d" % i, "title": "news %d" % i, "body": " ".join(body),
                            "author": "Smith", "date": "2020-01-01"}) + "\n")
PY
"$IDX" build -q -o "$tmp/ix" "$tmp/docs.jsonl"

sugg() { # the suggestion key of a json answer, "-" when there is none
    "$IDX" query -i "$1" -k 3 --count --format json -- "${@:2}" |
        python3 -c 'import json,sys; d=json.load(sys.stdin); print(d.get("suggestion","-"), d.get("suggestion_run",False), d["total"])'
}

check "goverment -> government" [ "$(sugg "$tmp/ix" goverment)" = "government False 1" ]
check "governess is left alone" [ "$(sugg "$tmp/ix" governess)" = "- False 1" ]
check "government is left alone" [ "$(sugg "$tmp/ix" government)" = "- False 150" ]
check "case and the rest of the query kept" \
    [ "$(sugg "$tmp/ix" 'Goverment -markets "prime minster"')" = 'Government -markets "prime minister" True 150' ]
out=$(sugg "$tmp/ix" runing)
check "no hits: the suggestion runs ($out)" [ "$out" = "running True 150" ]
check "author: names are not corrected" [ "$(sugg "$tmp/ix" author:smiht)" = "- False 0" ]
# (-goverment excludes the governess article: the same stem)
check "excluded words are not corrected" [ "$(sugg "$tmp/ix" news -goverment)" = "- False 299" ]
text_line() { # the first line of the text answer to query $2
    "$IDX" query -i "$1" --color never -k 1 -- "$2" | head -n 1
}
check "text: a Did you mean line" [ "$(text_line "$tmp/ix" goverment)" = "Did you mean: government" ]
check "text: the run is announced" \
    [ "$(text_line "$tmp/ix" runing)" = "No results; showing results for: running" ]
check "trec: no suggestion, no run" [ -z "$("$IDX" query -i "$tmp/ix" --format trec runing)" ]

# The xapian engine suggests from its own terms (the same stems) by the same
# rules: the same answers as the native index of the same articles.
"$IDX" build -q --engine xapian -o "$tmp/xix" "$tmp/docs.jsonl"
for q in goverment governess government 'Goverment -markets "prime minster"' runing author:smiht; do
    check "xapian engine: [$q] as native" [ "$(sugg "$tmp/xix" "$q")" = "$(sugg "$tmp/ix" "$q")" ]
done

BBC=$SHARED/corpora/bbc/docs.jsonl.gz
if [ -f "$BBC" ]; then
    "$IDX" build -q -o "$tmp/bbc" "$BBC"
    check "bbc: goverment" [ "$(sugg "$tmp/bbc" goverment | cut -d' ' -f1)" = government ]
    check "bbc: parliment" [ "$(sugg "$tmp/bbc" parliment | cut -d' ' -f1-2)" = "parliament True" ]
    check "bbc: chancelor" [ "$(sugg "$tmp/bbc" chancelor | cut -d' ' -f1-2)" = "chancellor True" ]
    for q in governess "economy growth" "Tony Blair" "chancellor Gordon Brown"; do
        check "bbc: $q is left alone" [ "$(sugg "$tmp/bbc" "$q" | cut -d' ' -f1)" = - ]
    done
    "$IDX" build -q --engine xapian -o "$tmp/xbbc" "$BBC"
    for q in goverment parliment chancelor governess "economy growth" "minster of finanse"; do
        check "bbc, xapian engine: [$q] as native" [ "$(sugg "$tmp/xbbc" "$q")" = "$(sugg "$tmp/bbc" "$q")" ]
    done
else
    echo "note: no $BBC: synthetic corpus only"
fi
e2e_finish
