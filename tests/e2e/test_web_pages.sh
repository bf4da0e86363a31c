#!/usr/bin/env bash
# The web box's pages as a browser renders them (docs/WEB.md): headless Chromium
# loads each page of the list below, saves a screenshot and the rendered DOM under
# BUILD/artifacts/web-pages/, and checks it with JavaScript run in the page (what
# is shown, highlighted and escaped; no horizontal overflow, also at phone width;
# the "/" tip hidden on a touch screen). A small synthetic index with hostile
# stored text; no shared data needed.
# Skips (77) without chromium, or what test_web.sh needs (nginx, spawn-fcgi, ...).
set -euo pipefail

. "$(dirname "$0")/lib.sh"
e2e_web_ready
CHROMIUM=$(command -v chromium || true)
[ -n "$CHROMIUM" ] || e2e_skip "chromium not installed (./run deps)"

e2e_web_tmpdir web-pages
LONGWORD=$(head -c 300 /dev/zero | tr '\0' w)
cat > "$T/docs.jsonl" <<JSON
{"id":"x1","title":"<script>alert(1)</script> zebra","url":"javascript:alert(1)","author":"Eve <b>bold</b>","category":"<i>cat</i>","date":"1987-04-01T05:01:32","body":"zebra </mark> <b>bold</b> & ampersand zebra\n\nSecond paragraph: zebras <img src=x onerror=alert(1)>."}
{"id":"x2","title":"Zebra crossings","url":"https://example.org/zebra?a=1&b=2","author":"Ann","date":"2019-05","body":"A zebra crossing is a road crossing."}
{"id":"long","title":"Long $LONGWORD","url":"https://example.org/$LONGWORD","date":"1974","body":"okapi $LONGWORD okapi"}
{"id":"x3","title":"Road crossings","date":"2001-02-03","body":"A road crossing for walkers: crossing guards stop the road."}
JSON
# Unrelated articles, so that the words x2 and x3 share are distinctive (in
# under a fifth of the articles) for similar articles and expansion.
for i in 1 2 3 4 5 6; do
    echo "{\"id\":\"f$i\",\"title\":\"Filler $i\",\"body\":\"Unrelated text $i about weather.\"}"
done >> "$T/docs.jsonl"
"$IDX" build -q -o "$T/ix" "$T/docs.jsonl"

e2e_serve_start "$T/ix"

# The pages: name, viewport (WxH, or "phone": 390x844 with a touch screen), path,
# and a JavaScript expression that must be true in the page. Add a line per new page
# or page feature; every page is also checked for horizontal overflow.
TIP='getComputedStyle(document.querySelector(".tips .key")).display'
HITS='document.querySelectorAll("li.hit")'
cat > "$T/pages.tsv" <<TSV
results	1000x900	/search?q=zebra	$HITS.length == 2 && document.querySelector("li.hit h2 mark") && document.querySelector("a[href^='/doc?id=x1&q=zebra']") && !document.querySelector("a[href^='/doc?id=x2']") && [...document.querySelectorAll(".date time")].map(t => t.textContent).sort().join("|") == "1 Apr 1987|May 2019" && $TIP != "none"
article	1000x900	/doc?id=x1&q=zebra	document.querySelector("h1").textContent == "<script>alert(1)</script> zebra" && document.querySelectorAll(".body mark").length == 3 && document.querySelector(".body").textContent.includes("<img src=x onerror=alert(1)>") && !document.querySelector(".body *:not(mark)") && document.querySelector(".category").textContent == "<i>cat</i>" && document.querySelector(".back a").getAttribute("href") == "/search?q=zebra"
phone-results	phone	/search?q=okapi+zebra	window.innerWidth == 390 && $HITS.length == 3 && $TIP == "none"
phone-article	phone	/doc?id=long&q=okapi	window.innerWidth == 390 && document.querySelectorAll(".body mark").length == 2 && $TIP == "none"
no-hits	1000x700	/search?q=nothingmatcheszzz	$HITS.length == 0 && document.querySelector(".none strong").textContent == "nothingmatcheszzz"
doc-404	1000x700	/doc?id=nosuch	document.querySelector(".error").textContent == "no article with this id"
path-404	1000x700	/nope	document.querySelector(".error") && document.querySelector("#q")
facets	1000x900	/search?q=zebra&facets=category,year,author	$HITS.length == 2 && document.querySelectorAll("aside.facets section").length == 3 && [...document.querySelectorAll("aside.facets a")].some(a => a.textContent == "<i>cat</i>") && [...document.querySelectorAll("aside.facets a")].map(a => a.textContent).join("|").includes("1987|2019") && [...document.querySelectorAll("aside.facets a")].every(a => a.getAttribute("href").includes("facets=category,year,author")) && !document.querySelector(".refine")
phone-facets	phone	/search?q=zebra&facets=category,year,author	window.innerWidth == 390 && document.querySelectorAll("aside.facets li").length == 5
sort-newest	1000x900	/search?q=zebra+okapi&sort=-date	[...document.querySelectorAll("li.hit .date time")].map(t => t.textContent).join("|") == "May 2019|1 Apr 1987|1974" && document.querySelector("select[name=sort]").value == "-date"
suggestion	1000x700	/search?q=zebar	document.querySelector(".suggest a").textContent == "zebra" && $HITS.length == 2
similar	1000x700	/search?similar=x3	$HITS.length == 1 && document.querySelector("li.hit h2").textContent == "Zebra crossings"
expand	1000x900	/search?q=crossing&expand=1&facets=category	document.querySelector(".expanded").textContent.includes("zebra") && $HITS.length == 3 && document.querySelector("form.search input[name=expand]").value == "1" && document.querySelector("form.search input[name=facets]").value == "category"
refine-link	1000x700	/search?q=zebra	document.querySelector(".refine a").getAttribute("href") == "/search?q=zebra&facets=category,year,author" && !document.querySelector("aside.facets")
TSV

OUT=$IDX_BUILD/artifacts/web-pages
rm -rf "$OUT"
python3 "$E2E/web_pages.py" "$CHROMIUM" "http://127.0.0.1:$PORT" "$T/pages.tsv" "$OUT" || fail=1
n=$(find "$OUT" -name '*.png' -size +1k | wc -l)
want=$(grep -vc '^#' "$T/pages.tsv")
if [ "$n" != "$want" ]; then
    echo "FAIL $n screenshots in $OUT, want $want"
    fail=1
fi

bash "$SERVE" stop --run "$RUN" > /dev/null 2>&1 || { echo "FAIL web/serve stop"; fail=1; }
exit $fail
