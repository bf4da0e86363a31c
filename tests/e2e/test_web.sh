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
{"id":"x1","title":"<script>alert(1)</script> zebra","url":"javascript:alert(1)","author":"Eve \"q\" <b>bold</b>","date":"2020-01-02","body":"zebra </mark> <b>bold</b> & ampersand zebra \"quoted\" 'single'"}
{"id":"x2","title":"Quagga page","url":"https://example.org/quagga?a=1&b=\"2\"","author":"Ann","date":"2019-05-06","body":"quagga stripes quagga"}
EOF
"$IDX" build -q -o "$T/ix" "$CORPUS" "$T/hostile.jsonl"

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
URL=http://127.0.0.1:$PORT
if ! bash "$SERVE" start "$T/ix" --port "$PORT" --run "$RUN" --fcgi "$FCGI" --threads 2 \
    > "$T/start.out" 2> "$T/start.err"; then
    cat "$T/start.err"
    echo "FAIL web/serve start"
    exit 1
fi
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
search "html page 2" 200 html "$W1 $W2" k=5 offset=5 && body_has "html page 2" 'rel="prev"'
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
search "stored hostile json" 200 json "zebra" && body_lacks "stored hostile json" "<"

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
get "unknown path" 404 "/nope" && check_json_error "unknown path"
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

# ---- still healthy after all that; the log has one line per request
get "health at the end" 200 /health
if grep -qE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z 400 [0-9.]+ms hits=0 GET "/search"' "$RUN/idx-fcgi.log"; then
    echo "ok   request log lines"
else
    bad "request log: no expected 400 line"
fi
if LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f]' "$RUN/idx-fcgi.log"; then bad "control characters in the log"; fi

run_queued_checks

# ---- stretch: a screenshot with headless Chromium, only when installed
if [ -x /usr/bin/chromium ]; then
    mkdir -p "$IDX_BUILD/artifacts"
    shot=$IDX_BUILD/artifacts/web-results.png
    rm -f "$shot"
    prof=$(mktemp -d "$T/chromium.XXXXXX")
    timeout 30 /usr/bin/chromium --headless --no-sandbox --disable-gpu \
        --disable-background-networking --disable-component-update --disable-sync \
        --no-first-run --user-data-dir="$prof" --screenshot="$shot" --window-size=1000,900 \
        "$URL/search?q=$W1+$W2" > "$T/chromium.log" 2>&1 || true
    if [ -s "$shot" ]; then echo "ok   screenshot $shot"; else bad "chromium screenshot missing"; fi
else
    echo "skip screenshot (no /usr/bin/chromium)"
fi

bash "$SERVE" stop --run "$RUN" > /dev/null 2>&1 || bad "web/serve stop"
if [ -s "$RUN/nginx.pid" ] || [ -s "$RUN/idx-fcgi.pid" ]; then bad "pid files left after stop"; fi
# under ASan/UBSan the responder reports to its log (also at exit, after stop)
if grep -E -A 12 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$RUN/idx-fcgi.log"; then
    bad "sanitizer report in idx-fcgi.log"
fi
exit $fail
