#!/usr/bin/env bash
# Web endpoint (docs/WEB.md): nginx + idx-fcgi started by web/serve on a
# free loopback port. JSON answers equal `idx query --format
# json` (took_ms aside); the HTML page shows the hits with <mark>; hostile and
# malformed requests get the right status and escaped output; the watchdog
# restarts a killed responder; /health still answers at the end.
# The index: the shared cranfield collection, or where the shared data is
# absent a synthetic corpus (gen_corpus.py), plus a few hostile articles.
# Skips (77) when nginx, spawn-fcgi, curl, python3 or idx-fcgi are missing.
set -euo pipefail

. "$(dirname "$0")/lib.sh"
e2e_web_ready

e2e_web_tmpdir web
fail=0
bad() {
    echo "FAIL $*"
    fail=1
}

# ---- an index: cranfield (or a synthetic corpus) plus a few hostile articles.
# W1 W2: a two-word query with more than 5 hits, W1 alone more than 2.
CRAN=$SHARED/corpora/cranfield
if [ -f "$CRAN/docs.jsonl" ]; then
    CORPUS=$CRAN/docs.jsonl
    QSRC=$CRAN/queries.tsv
    NQ=4
    W1=wing W2=slipstream
else
    echo "note: no $CRAN: a synthetic corpus instead"
    e2e_corpus "$T/gen" --docs 400 --seed 3
    CORPUS=$T/gen/docs.jsonl
    QSRC=$T/gen/queries.tsv
    NQ=17 # one query of every kind gen_corpus.py writes
    # its first two queries are single words, a frequent one and a rarer one
    W1=$(sed -n 1p "$QSRC" | cut -f2)
    W2=$(sed -n 2p "$QSRC" | cut -f2)
fi
cat > "$T/hostile.jsonl" <<'EOF'
{"id":"x1","title":"<script>alert(1)</script> zebra","url":"javascript:alert(1)","author":"Eve \"q\" <b>bold</b>","category":"<i>cat</i>","date":"2020-01-02T05:01:32","body":"zebra </mark> <b>bold</b> & ampersand zebra \"quoted\" 'single'\n\nSecond paragraph: zebras <img src=x onerror=alert(1)>.","places":["uk","<fr>"]}
{"id":"x2","title":"Quagga page","url":"https://example.org/quagga?a=1&b=\"2\"","author":"Ann","date":"2019-05-06","body":"quagga stripes quagga"}
{"id":"x 3&<>","title":"","date":"1958-12","body":"okapi okapi"}
EOF
"$IDX" build -q -o "$T/ix" "$CORPUS" "$T/hostile.jsonl"

e2e_serve_start "$T/ix"
echo "ok   server up at $URL"

# get NAME WANT_STATUS PATH [curl args...]: body in $T/body, headers in $T/hdr
get() {
    local name=$1 want=$2 path=$3
    shift 3
    local code
    code=$(curl -sS --path-as-is --max-time 10 -o "$T/body" -D "$T/hdr" -w '%{http_code}' \
        "$@" "$URL$path") || code="curl-error"
    if [ "$code" != "$want" ]; then
        bad "$name: status $code, want $want ($path)"
        head -c 300 "$T/body" | sed 's/^/     /'
        echo
        return 1
    fi
    echo "ok   $name ($code)"
}
# search NAME WANT_STATUS FORMAT QUERY [extra name=value...]: q url-encoded by curl
search() {
    local name=$1 want=$2 fmt=$3 q=$4
    shift 4
    local args=(--get --data-urlencode "q=$q" --data-urlencode "format=$fmt") a
    for a in "$@"; do args+=(--data-urlencode "$a"); done
    get "$name" "$want" /search "${args[@]}"
}
hdr_has() {
    grep -qi -- "$2" "$T/hdr" || bad "$1: headers lack /$2/: $(tr -d '\r' < "$T/hdr" | tr '\n' '|')"
}
body_has() {
    grep -qF -- "$2" "$T/body" || bad "$1: body lacks '$2'"
}
body_lacks() {
    if grep -qF -- "$2" "$T/body"; then bad "$1: body contains '$2'"; fi
}
# Bodies to validate are queued and checked by one python run at the end
# (python's start-up is the slow part of this test):
#   check_html NAME: no <script> but ours, <mark> balanced, no javascript: link
#   check_json_error NAME: a JSON object with a non-empty "error" string
mkdir -p "$T/chk"
nchk=0
queue() {
    nchk=$((nchk + 1))
    cp "$T/body" "$T/chk/$nchk"
    printf '%s\t%s\t%s\n' "$1" "$nchk" "$2" >> "$T/chk/manifest"
}
check_html() { queue html "$1"; }
check_json_error() { queue jsonerr "$1"; }
run_queued_checks() {
    [ -f "$T/chk/manifest" ] || return 0
    python3 - "$T/chk" <<'EOF' || fail=1
import json, sys
d = sys.argv[1]
ours = '<script src="/static/idx.js" defer></script>'
ok = True
n = 0
for line in open(f"{d}/manifest", encoding="utf-8"):
    kind, num, name = line.rstrip("\n").split("\t", 2)
    body = open(f"{d}/{num}", encoding="utf-8").read()
    n += 1
    why = None
    if kind == "html":
        low = body.lower()
        if low.replace(ours, "").count("<script") != 0:
            why = "a <script> tag that is not ours"
        elif body.count("<mark>") != body.count("</mark>"):
            why = "<mark> and </mark> do not pair"
        elif 'href="javascript:' in low:
            why = "a javascript: link"
        elif not low.startswith("<!doctype html>"):
            why = "not an HTML page"
    else:
        try:
            o = json.loads(body)
            if not (isinstance(o.get("error"), str) and o["error"]):
                why = "no error message"
        except Exception as e:
            why = f"not JSON: {e}"
    if why:
        print(f"FAIL {name}: {why}: {body[:200]!r}")
        ok = False
print(f"ok   {n} queued body checks" if ok else "FAIL queued body checks")
sys.exit(0 if ok else 1)
EOF
}

# ---- /health
get "health" 200 /health && hdr_has health "application/json"
python3 - "$T/body" <<'EOF' || bad "health: body"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["status"] == "ok" and d["docs"] > 2 and d["terms"] > 0 and d["index"] == "ix", d
assert "/" not in d["index"] and d["requests"] >= 1 and d["uptime_s"] >= 0, d
EOF

# ---- JSON equals `idx query --format json`, ignoring took_ms
QUERIES=$T/queries.txt
{
    head -n "$NQ" "$QSRC" | cut -f2
    printf '%s\n' "$W1 $W2" '"boundary layer" -heat' "title:$W1" "${W2:0:6}*" 'zebra' \
        'quagga OR zebra' '-leading words' '(unbalanced' 'résumé naïve' 'nothingmatcheszzz'
} > "$QUERIES"
# the web side in one curl run (a config of url/output pairs), the cli side per query
: > "$T/web.curl"
n=0
while IFS= read -r q; do
    for ko in "10 0" "3 2" "100 0"; do
        set -- $ko
        n=$((n + 1))
        enc=$(printf '%s' "$q" | od -An -v -tx1 | tr -d ' \n' | sed 's/../%&/g')
        printf 'url = "%s/search?q=%s&k=%s&offset=%s&format=json"\noutput = "%s"\n' \
            "$URL" "$enc" "$1" "$2" "$T/web.$n.json" >> "$T/web.curl"
        "$IDX" query -i "$T/ix" -k "$1" --offset "$2" --format json -- "$q" > "$T/cli.$n.json" ||
            bad "json $n: idx query failed for '$q'"
    done
done < "$QUERIES"
curl -sS --max-time 30 -K "$T/web.curl" || bad "json: curl"
if python3 - "$T" "$n" <<'EOF'; then echo "ok   json equals idx query for $n requests"; else fail=1; fi
import json, re, sys
t, n = sys.argv[1], int(sys.argv[2])
ok = True
for i in range(1, n + 1):
    web = open(f"{t}/web.{i}.json", encoding="utf-8").read()
    cli = open(f"{t}/cli.{i}.json", encoding="utf-8").read()
    a, b = json.loads(web), json.loads(cli)
    a.pop("took_ms", None); b.pop("took_ms", None)
    strip = lambda s: re.sub(r'"took_ms":[0-9.]+', "", s)
    if a != b or strip(web) != strip(cli):
        print(f"FAIL json {i}: web and cli differ\n web: {web[:300]}\n cli: {cli[:300]}")
        ok = False
sys.exit(0 if ok else 1)
EOF

# ---- the response cache: the same requests again are answered from it,
# byte for byte, and /health counts them
for i in $(seq 1 "$n"); do mv "$T/web.$i.json" "$T/first.$i.json"; done
curl -sS --max-time 30 -K "$T/web.curl" || bad "cache: curl"
same=0
for i in $(seq 1 "$n"); do cmp -s "$T/web.$i.json" "$T/first.$i.json" && same=$((same + 1)); done
cached=$(grep -c ' cached GET "/search"' "$RUN/idx-fcgi.log" || true)
get "health after repeats" 200 /health
hits=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["cache"]["hits"])' "$T/body")
if [ "$same" = "$n" ] && [ "$cached" -ge "$n" ] && [ "$hits" -ge "$n" ]; then
    echo "ok   $n repeated requests answered from the cache, unchanged"
else
    bad "cache: $same/$n repeats unchanged, $cached cached log lines, $hits hits in /health"
fi

# ---- HTML: the hits' titles, <mark>, headers
search "html page" 200 html "$W1 $W2" k=5 && {
    hdr_has "html page" "text/html; charset=utf-8"
    hdr_has "html page" "cache-control: no-store"
    hdr_has "html page" "content-security-policy"
    body_has "html page" "<mark>"
    body_has "html page" "value=\"$W1 $W2\""
    body_has "html page" 'name="viewport"'
    body_has "html page" 'rel="next"'
    check_html "html page"
    cp "$T/body" "$T/page.html"
}
curl -sS --get --data-urlencode "q=$W1 $W2" -d k=5 -d format=json "$URL/search" > "$T/page.json"
python3 - "$T/page.html" "$T/page.json" <<'EOF' || bad "html titles"
import json, sys
from html.parser import HTMLParser
class P(HTMLParser):
    def __init__(self):
        super().__init__(); self.h2 = None; self.titles = []
    def handle_starttag(self, tag, a):
        if tag == "h2": self.h2 = ""
    def handle_endtag(self, tag):
        if tag == "h2": self.titles.append(self.h2); self.h2 = None
    def handle_data(self, d):
        if self.h2 is not None: self.h2 += d
p = P(); p.feed(open(sys.argv[1], encoding="utf-8").read())
want = [h["title"] or h["id"] for h in json.load(open(sys.argv[2]))["hits"]]
assert want and p.titles == want, (p.titles, want)
EOF
# honest count: both pages show the JSON's exact total
total=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["total"] if d["total_exact"] else "inexact")' "$T/page.json")
grep -qF "<p class=\"count\">$total results" "$T/page.html" || bad "html page: count line is not '$total results'"
search "html page 2" 200 html "$W1 $W2" k=5 offset=5 && body_has "html page 2" 'rel="prev"' &&
    body_has "html page 2" "<p class=\"count\">$total results, showing 6"
search "html no results" 200 html "nothingmatcheszzz" && body_has "html no results" "fewer words"
get "html empty form" 200 "/search" && body_has "html empty form" "autofocus"
get "html q= empty" 200 "/search?q=" && check_html "html q= empty"
get "head" 200 "/search?q=wing" -I
get "static css" 200 /static/idx.css && hdr_has "static css" "text/css"
get "static js" 200 /static/idx.js

# ---- stored hostile text is escaped
search "stored hostile" 200 html "zebra" && {
    check_html "stored hostile"
    body_has "stored hostile" "&lt;script&gt;alert(1)&lt;/script&gt;"
    body_lacks "stored hostile" 'href="javascript'
    body_has "stored hostile" "&lt;/mark&gt;"
    body_has "stored hostile" "Eve &quot;q&quot; &lt;b&gt;bold&lt;/b&gt;"
}
search "stored url" 200 html "quagga" && {
    body_has "stored url" 'href="https://example.org/quagga?a=1&amp;b=&quot;2&quot;"'
    check_html "stored url"
}
search "stored hostile json" 200 json "zebra" && {
    body_lacks "stored hostile json" "<"
    python3 -c 'import json, sys
h = json.load(open(sys.argv[1]))["hits"][0]
assert (h["author"], h["category"]) == ("Eve \"q\" <b>bold</b>", "<i>cat</i>"), h' "$T/body" ||
        bad "json hits: author and category"
}
search "readable dates" 200 html "zebra" &&
    body_has "readable dates" '<time datetime="2020-01-02">2 Jan 2020</time>'
search "readable month" 200 html "okapi" && {
    body_has "readable month" '<time datetime="1958-12">Dec 1958</time>'
    # no url: the title (here the id, untitled) links to the article page
    body_has "doc link" 'href="/doc?id=x+3%26%3C%3E&amp;q=okapi"'
}
search "url link" 200 html "quagga" && body_lacks "url link" 'href="/doc?id=x2'

# ---- the article page
get "doc" 200 "/doc?id=x1&q=zebra" && {
    check_html "doc"
    hdr_has "doc" "text/html"
    body_has "doc" "<h1>&lt;script&gt;alert(1)&lt;/script&gt; <mark>zebra</mark></h1>"
    body_has "doc" "&lt;/mark&gt; &lt;b&gt;bold&lt;/b&gt; &amp; ampersand <mark>zebra</mark>"
    # the whole body, newlines kept, highlights past the first paragraph too
    grep -qzF $'\n\nSecond paragraph: <mark>zebras</mark> &lt;img src=x onerror=alert(1)&gt;.' \
        "$T/body" || bad "doc: second paragraph missing or not highlighted"
    body_lacks "doc" "<img"
    body_has "doc" '<span class="category">&lt;i&gt;cat&lt;/i&gt;</span>'
    body_has "doc" '<span class="author">Eve &quot;q&quot; &lt;b&gt;bold&lt;/b&gt;</span>'
    body_has "doc" '<span class="url">javascript:alert(1)</span>'
    body_has "doc" '<time datetime="2020-01-02">2 Jan 2020</time>'
    body_has "doc" '<a href="/search?q=zebra">'
}
get "doc without q" 200 "/doc?id=x1" && { body_lacks "doc without q" "<mark>"; check_html "doc without q"; }
get "doc url" 200 "/doc?id=x2" &&
    body_has "doc url" '<a href="https://example.org/quagga?a=1&amp;b=&quot;2&quot;">'
get "doc odd id" 200 "/doc?id=x+3%26%3C%3E&q=okapi" && {
    body_has "doc odd id" '<span class="untitled">x 3&amp;&lt;&gt;</span>'
    body_has "doc odd id" "<mark>okapi</mark> <mark>okapi</mark>"
}
get "doc json" 200 "/doc?id=x1&q=zebra&format=json" && {
    hdr_has "doc json" "application/json"
    python3 - "$T/body" <<'EOF' || bad "doc json: wrong fields or highlights"
import json, sys
o = json.load(open(sys.argv[1], encoding="utf-8"))
b = o["body"].encode()
assert o["id"] == "x1" and o["category"] == "<i>cat</i>" and o["date"] == "2020-01-02T05:01:32"
assert o["places"] == ["uk", "<fr>"] and o["url"] == "javascript:alert(1)", o
assert [b[s:e] for s, e in o["highlights"]] == [b"zebra", b"zebra", b"zebras"], o["highlights"]
t = o["title"].encode()
assert [t[s:e] for s, e in o["title_highlights"]] == [b"zebra"]
EOF
    body_lacks "doc json" "<"
}
get "doc unknown id" 404 "/doc?id=nosuchid" && { check_html "doc unknown id"; hdr_has "doc unknown id" "text/html"; }
get "doc unknown id (json)" 404 "/doc?id=nosuchid&format=json" && check_json_error "doc unknown id json"
get "doc no id" 400 "/doc?format=json" && check_json_error "doc no id"
get "doc empty id" 400 "/doc?id=" && body_has "doc empty id" 'class="error"'
get "doc bad id" 400 "/doc?id=%G1&format=json" && check_json_error "doc bad id"
get "doc two ids" 400 "/doc?id=x1&id=x2&format=json" && check_json_error "doc two ids"
LONGID=$(head -c 2000 /dev/zero | tr '\0' a)
get "doc 2 KB id" 400 "/doc?id=$LONGID&format=json" && check_json_error "doc 2 KB id"
# (an address too long for a command line)
code=$(python3 - "$URL" <<'EOF'
import sys, urllib.error, urllib.request
try:
    print(urllib.request.urlopen(sys.argv[1] + "/doc?id=" + "a" * 1000000, timeout=10).status)
except urllib.error.HTTPError as e:
    print(e.code)
EOF
) || code=python-error
case $code in 400 | 414) echo "ok   1 MB id ($code)" ;; *) bad "1 MB id: status $code" ;; esac
get "doc bad q" 400 "/doc?id=x1&q=a)&format=json" && check_json_error "doc bad q"
get "doc POST" 405 "/doc?id=x1" -X POST -d x=1
get "doc head" 200 "/doc?id=x1" -I

# ---- spelling suggestions (docs/QUERY.md): a link, or the suggestion's hits when none
search "suggest run" 200 html "quaga" && {
    check_html "suggest run"
    body_has "suggest run" 'Showing results for <a href="/search?q=quagga">quagga</a>.'
    body_has "suggest run" 'example.org/quagga'
}
search "suggest json" 200 json "quaga" &&
    body_has "suggest json" '"suggestion":"quagga","suggestion_run":true'
search "suggest link" 200 html "zebra quaga" &&
    body_has "suggest link" 'Did you mean: <a href="/search?q=zebra+quagga">zebra quagga</a>?'
search "no suggestion" 200 json "zebra quagga" && body_lacks "no suggestion" '"suggestion"'

# ---- hostile queries come back escaped
for fmt in html json; do
    search "q <script> ($fmt)" 200 $fmt '<script>alert(1)</script>'
    if [ $fmt = html ]; then
        check_html "q <script>"
        body_has "q <script>" 'value="&lt;script&gt;alert(1)&lt;/script&gt;"'
    else
        body_lacks "q <script> json" "<"
        body_has "q <script> json" '\u003cscript\u003e'
    fi
    search "q quote ($fmt)" 200 $fmt 'a" onfocus="alert(1)'
    [ $fmt = html ] && { check_html "q quote"; body_has "q quote" 'value="a&quot; onfocus=&quot;alert(1)"'; }
    search "q </mark> ($fmt)" 200 $fmt 'wing </mark><mark> slipstream'
    [ $fmt = html ] && { check_html "q </mark>"; body_has "q </mark>" "&lt;/mark&gt;&lt;mark&gt;"; }
done

# ---- malformed requests: 400 with a message in the asked format
# all in one curl run: one status line per request, in order
BAD=("q=%FF" "q=a%ffb" "q=%C0%AF" "q=%ED%A0%80" "q=%G1" "q=abc%" "q=abc%4" "q=%00"
    "q=a&k=-1" "q=a&k=0" "q=a&k=101" "q=a&k=abc" "q=a&k=" "q=a&k=99999999999999999999"
    "q=a&k=+5" "q=a&k=1e2" "q=a&offset=-1" "q=a&offset=10001" "q=a&offset=1.5"
    "q=a&offset=99999999999999999999" "q=a&q=b" "q=a&format=xml" "q=a&format=html%ZZ")
: > "$T/bad.curl"
for i in "${!BAD[@]}"; do
    printf 'url = "%s/search?%s"\noutput = "%s"\nurl = "%s/search?%s&format=json"\noutput = "%s"\n' \
        "$URL" "${BAD[$i]}" "$T/bad.$i.html" "$URL" "${BAD[$i]}" "$T/bad.$i.json" >> "$T/bad.curl"
done
curl -sS --max-time 30 -w '%{http_code}\n' -K "$T/bad.curl" > "$T/bad.codes" || bad "400s: curl"
mapfile -t CODES < "$T/bad.codes"
for i in "${!BAD[@]}"; do
    p=${BAD[$i]}
    for fmt in html json; do
        [ $fmt = json ] && code=${CODES[$((2 * i + 1))]:-none} || code=${CODES[$((2 * i))]:-none}
        if [ "$code" != 400 ]; then bad "$fmt 400: $p: status $code"; continue; fi
        cp "$T/bad.$i.$fmt" "$T/body"
        case $fmt:$p in
            html:*format=*) check_json_error "$p" ;;
            html:*) check_html "400 $p"; body_has "400 $p" 'class="error"' ;;
            json:*) check_json_error "json $p" ;;
        esac
    done
done
echo "ok   ${#BAD[@]} malformed requests x 2 formats: 400"
get "json missing q" 400 "/search?format=json" && check_json_error "missing q"
get "json empty q" 400 "/search?q=&format=json" && check_json_error "empty q"
LONG=$(head -c 2000 /dev/zero | tr '\0' a)
get "2 KB query" 400 "/search?q=$LONG&format=json" && check_json_error "2 KB query"
HUGE=$(head -c 100000 /dev/zero | tr '\0' a)
code=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 10 "$URL/search?q=$HUGE") || code=curl-error
case $code in 400 | 414) echo "ok   100 KB query ($code)" ;; *) bad "100 KB query: status $code" ;; esac
PHRASE="\"$(printf 'wing %.0s' $(seq 70))\""
search "bad query syntax (json)" 400 json "$PHRASE" && check_json_error "bad query syntax"
search "bad query syntax (html)" 400 html "$PHRASE" && body_has "bad query syntax" 'class="error"'

# ---- unknown parameters are ignored, methods and paths
get "unknown params" 200 "/search?q=$W1&foo=bar&utm_source=%ZZ&=x&&k=2&format=json"
python3 -c 'import json,sys; assert len(json.load(open(sys.argv[1]))["hits"]) == 2' "$T/body" ||
    bad "unknown params: want 2 hits"
get "POST" 405 "/search?q=wing" -X POST -d "q=wing" && hdr_has POST "allow: GET"
get "PUT" 405 "/search?q=wing&format=json" -X PUT && check_json_error "PUT"
get "DELETE /health" 405 "/health" -X DELETE
# a browser gets a page, a program asking for JSON gets JSON
get "unknown path" 404 "/nope" && { check_html "unknown path"; hdr_has "unknown path" "text/html"; }
get "unknown path (json)" 404 "/nope?format=json" && check_json_error "unknown path json"
get "dot-dot path" 404 "/search/../etc/passwd" && body_lacks "dot-dot path" "root:"
get "above the root" 400 "/../../etc/passwd" && body_lacks "above the root" "root:"
get "static dot-dot" 404 "/static/../serve"
body_lacks "static dot-dot" "bash"
get "index path in q" 200 "/search?q=../../etc/passwd&format=json"

# ---- concurrency: parallel requests all succeed
seq 1 40 | xargs -P 8 -I{} curl -sS -o /dev/null -w '%{http_code}\n' --max-time 10 \
    "$URL/search?q=wing+{}&format=json" > "$T/par.txt" || true
if [ "$(grep -c '^200$' "$T/par.txt")" = 40 ]; then echo "ok   40 parallel requests"; else
    bad "parallel requests: $(sort "$T/par.txt" | uniq -c | tr '\n' ' ')"; fi

# ---- the watchdog restarts a killed responder
old=$(cat "$RUN/idx-fcgi.pid")
kill -KILL "$old"
up=0
for _ in $(seq 1 60); do
    sleep 0.1
    new=$(cat "$RUN/idx-fcgi.pid" 2>/dev/null || true)
    if [ -n "$new" ] && [ "$new" != "$old" ] &&
        curl -sf -o /dev/null --max-time 2 "$URL/health"; then
        up=1
        break
    fi
done
if [ $up = 1 ]; then echo "ok   watchdog restarted idx-fcgi"; else bad "idx-fcgi not restarted"; fi

# ---- sort=: the order, the page's selector and paging links keep it, a bad one is a 400
search "sort json" 200 json "zebra OR quagga" sort=-date &&
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["sort"]=="-date" and [h["id"] for h in d["hits"]][:2]==["x1","x2"], d' "$T/body" ||
    bad "sort=-date: x1 (2020) before x2 (2019)"
search "sort json oldest" 200 json "zebra OR quagga" sort=date &&
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["sort"]=="date" and [h["id"] for h in d["hits"]][:2]==["x2","x1"], d' "$T/body" ||
    bad "sort=date: x2 (2019) before x1 (2020)"
search "sort html" 200 html "zebra OR quagga" sort=-date && body_has "sort html" '<option value="-date" selected>'
search "sort bogus" 400 json zebra sort=bogus && check_json_error "sort bogus"


# ---- deleted and replaced articles are never shown on the article page
echo '{"id":"x2","title":"Quagga replaced","body":"quagga anew"}' > "$T/x2.jsonl"
"$IDX" build -q --append -o "$T/ix" "$T/x2.jsonl"
"$IDX" delete -i "$T/ix" x1 > /dev/null
gone=0
for _ in $(seq 1 50); do # a new generation is served within a second
    code=$(curl -sS -o "$T/body" -w '%{http_code}' --max-time 5 "$URL/doc?id=x1&format=json") || true
    if [ "$code" = 404 ]; then
        gone=1
        break
    fi
    sleep 0.1
done
if [ $gone = 1 ]; then echo "ok   deleted article: 404"; else bad "deleted article still shown ($code)"; fi
get "replaced article" 200 "/doc?id=x2" && {
    body_has "replaced article" "<h1>Quagga replaced</h1>"
    body_lacks "replaced article" "stripes"
}

# ---- still healthy after all that; the log has one line per request
get "health at the end" 200 /health
if grep -qE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z 400 [0-9.]+ms hits=0 GET "/search"' "$RUN/idx-fcgi.log"; then
    echo "ok   request log lines"
else
    bad "request log: no expected 400 line"
fi
if LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f]' "$RUN/idx-fcgi.log"; then bad "control characters in the log"; fi

run_queued_checks

# (the pages in a browser, with screenshots: test_web_pages.sh)

bash "$SERVE" stop --run "$RUN" > /dev/null 2>&1 || bad "web/serve stop"
if [ -s "$RUN/nginx.pid" ] || [ -s "$RUN/idx-fcgi.pid" ]; then bad "pid files left after stop"; fi
# under ASan/UBSan the responder reports to its log (also at exit, after stop)
if grep -E -A 12 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$RUN/idx-fcgi.log"; then
    bad "sanitizer report in idx-fcgi.log"
fi
exit $fail
