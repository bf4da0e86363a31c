#!/usr/bin/env bash
# Clusters (docs/ENGINES.md, "The shard layout" and "Clusters"): 4 shards built
# with `idx build --shard i/4`, each served by its own xapian-tcpsrv on a free
# loopback port, combined by `idx cluster`, return the same ids and scores as
# a 1-shard build (`--shard 0/1`) of all the articles, for every query of the
# query set; after appends (new and replaced articles) and deletions applied
# to both, still. Exact ties break by docid, which differs between the two
# (Xapian interleaves the shards' docids), so at every rank of the top 10 the
# scores must be equal and the ids of each group of equal scores the same set
# (the group cut by rank 20 only a subset).
# Faults: a killed shard server gives exit 3 naming it at once; a stopped one
# (SIGSTOP) gives the same within the cluster's --timeout; restarted, queries
# succeed again, also in a running idx-fcgi (503 meanwhile) when the web tools
# are there. Bad cluster input is refused with one line each.
# Data: the shared cacm collection with its queries and the AOL sample queries,
# or a synthetic corpus where the shared data is absent.
# Skips (77) when xapian-tcpsrv (xapian-tools) is missing.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
command -v xapian-tcpsrv > /dev/null || e2e_skip "xapian-tcpsrv not installed (./run deps test)"
e2e_tmpdir cluster
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2> /dev/null || true; done
    [ -f "$T/run/idx-fcgi.pid" ] && bash "$IDX_SRC/web/serve" stop --run "$T/run" > /dev/null 2>&1
    rm -rf "$T"
}
trap cleanup EXIT

if [ -f "$SHARED/corpora/cacm/docs.jsonl" ] && [ -f "$SHARED/corpora/aol-benchmark-queries/queries.tsv" ]; then
    CORPUS=$SHARED/corpora/cacm/docs.jsonl
    cat "$SHARED/corpora/cacm/queries.plain.tsv" > "$T/queries.tsv"
    sed 's/^/aol/' "$SHARED/corpora/aol-benchmark-queries/queries.tsv" >> "$T/queries.tsv"
else
    echo "note: no shared cacm/AOL data: a synthetic corpus instead"
    e2e_corpus "$T/gen" --docs 1500 --seed 5
    CORPUS=$T/gen/docs.jsonl
    cp "$T/gen/queries.tsv" "$T/queries.tsv"
fi
echo "$(wc -l < "$T/queries.tsv") queries"

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# serve I [DB]: starts xapian-tcpsrv for DB (default: shard I's) on PORT[I] (its pid in
# SRV[I]) and waits until it accepts connections
declare -a PORT SRV
serve() {
    local i=$1 db=${2:-$T/s$1/xapian}
    # its own session: on SIGTERM xapian-tcpsrv signals its whole process group
    setsid xapian-tcpsrv --port "${PORT[$i]}" --interface 127.0.0.1 "$db" > "$T/srv$i.log" 2>&1 &
    SRV[$i]=$!
    PIDS+=("${SRV[$i]}")
    local n=0
    until python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' \
        "${PORT[$i]}" 2> /dev/null; do
        n=$((n + 1))
        [ $n -lt 100 ] || { echo "FAIL xapian-tcpsrv for shard $i does not start"; cat "$T/srv$i.log"; exit 1; }
        sleep 0.1
    done
}

"$IDX" build -q --shard 0/1 -o "$T/one" "$CORPUS"
for i in 0 1 2 3; do
    "$IDX" build -q --shard $i/4 -o "$T/s$i" "$CORPUS"
    PORT[$i]=$(free_port)
    serve $i
done
SPECS=()
for i in 0 1 2 3; do SPECS+=("127.0.0.1:${PORT[$i]}"); done
check "idx cluster over 4 shards" "$IDX" cluster -o "$T/cl" --timeout 2000 "${SPECS[@]}"

# one_line FILE WANT_RC TEXT: $rc is WANT_RC and FILE one line holding TEXT
one_line() {
    [ "$rc" = "$2" ] && [ "$(wc -l < "$1")" = 1 ] && grep -qF -- "$3" "$1"
}
docs_of() { "$IDX" stats -i "$1" | sed -n 's/^documents *//p'; }
# same WHAT: every query's top 20 from the cluster against the 1-shard index (rule above)
same() {
    local what=$1
    run_rc "$IDX" query -i "$T/one" --batch -k 20 --format trec < "$T/queries.tsv" > "$T/one.trec" 2> "$T/one.err"
    local rc1=$rc
    run_rc "$IDX" query -i "$T/cl" --batch -k 20 --format trec < "$T/queries.tsv" > "$T/cl.trec" 2> "$T/cl.err"
    if [ "$rc" != "$rc1" ] || ! cmp -s "$T/one.err" "$T/cl.err"; then
        echo "FAIL $what: exit $rc1 and $rc, errors differ:"; head -3 "$T/one.err" "$T/cl.err"; fail=1; return
    fi
    check "$what: $(docs_of "$T/one") = $(docs_of "$T/cl") documents" [ "$(docs_of "$T/one")" = "$(docs_of "$T/cl")" ]
    check "$what: same ids and scores on every query" python3 - "$T/queries.tsv" "$T/one.trec" "$T/cl.trec" << 'PY'
import sys
qfile, a_path, b_path = sys.argv[1:]
def load(path):
    runs = {}
    for line in open(path):
        qid, _, doc, rank, score, _ = line.split()
        runs.setdefault(qid, []).append((doc, score))
    return runs
a, b = load(a_path), load(b_path)
qids = [l.split("\t", 1)[0] for l in open(qfile) if l.strip()]
bad, hits = [], 0
for q in qids:
    x, y = a.get(q, []), b.get(q, [])
    hits += len(x[:10])
    if [s for _, s in x[:10]] != [s for _, s in y[:10]] or len(x) != len(y):
        bad.append(f"{q}: scores {[s for _, s in x[:10]]} vs {[s for _, s in y[:10]]}")
        continue
    cut = x[-1][1] if len(x) == 20 else None
    for s in {s for _, s in x[:10]}:
        ix = {d for d, t in x if t == s}
        iy = {d for d, t in y if t == s}
        top = {d for d, t in y[:10] if t == s}
        if (s != cut and ix != iy) or (s == cut and not top <= ix):
            bad.append(f"{q}: score {s}: ids {sorted(ix)} vs {sorted(iy)}")
print(f"{len(qids)} queries, {hits} hits compared, {len(bad)} differ")
for m in bad[:5]:
    print("  " + m)
sys.exit(1 if bad or not hits else 0)
PY
}
same "4-shard cluster = 1 shard"

# ---- appends (new articles and replacements) and deletions, to both
python3 - "$CORPUS" "$T/more.jsonl" << 'PY'
import json, sys
docs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
with open(sys.argv[2], "w") as out:
    for d in docs[:150]:  # replaced: the same ids, other text
        d = dict(d, body=(d.get("body") or "") + " appended revision zymurgy")
        out.write(json.dumps(d) + "\n")
    for k, d in enumerate(docs[150:300]):  # new ids
        out.write(json.dumps(dict(d, id="new-%d" % k, title="zymurgy " + (d.get("title") or ""))) + "\n")
PY
DEL=$(python3 -c 'import json,sys; print(" ".join(json.loads(l)["id"] for l in list(open(sys.argv[1]))[400:480]))' "$CORPUS")
run_rc "$IDX" build -q --append --no-merge -o "$T/one" "$T/more.jsonl"
check "append to the 1-shard index" [ "$rc" = 0 ]
for i in 0 1 2 3; do
    run_rc "$IDX" build --append --no-merge --shard $i/4 -o "$T/s$i" "$T/more.jsonl" 2> "$T/append$i.err"
    check "append to shard $i" [ "$rc" = 0 ]
done
check "appends count the other shards' articles" grep -q "articles of other shards skipped" "$T/append0.err"
run_rc "$IDX" build -q --append --no-merge --shard 1/4 -o "$T/s0" "$T/more.jsonl" 2> "$T/wrong.err"
check "an append naming another shard is refused: $(cat "$T/wrong.err")" one_line "$T/wrong.err" 2 shard
# shellcheck disable=SC2086 # DEL is a list of ids
quiet "$IDX" delete -i "$T/one" $DEL 2> /dev/null
for i in 0 1 2 3; do
    # shellcheck disable=SC2086
    run_rc "$IDX" delete -i "$T/s$i" $DEL > /dev/null 2>&1
done
same "after appends and deletions"

# ---- faults
run_rc "$IDX" query -i "$T/cl" -k 3 computer > /dev/null 2> "$T/before.err"
check "the cluster answers" [ "$rc" = 0 ]
kill "${SRV[2]}"
wait "${SRV[2]}" 2> /dev/null || true
start=$(date +%s.%N)
run_rc "$IDX" query -i "$T/cl" -k 3 computer > /dev/null 2> "$T/down.err"
took=$(python3 -c "import sys; print(round(float(sys.argv[2]) - float(sys.argv[1]), 2))" "$start" "$(date +%s.%N)")
check "a killed shard: exit 3 ($rc)" [ "$rc" = 3 ]
check "a killed shard: one line naming it: $(cat "$T/down.err")" \
    one_line "$T/down.err" 3 "127.0.0.1:${PORT[2]}"
check "a killed shard: fails in ${took}s, under the 2 s timeout" python3 -c "import sys; sys.exit(float(sys.argv[1]) >= 2)" "$took"
kill -STOP "${SRV[1]}"
start=$(date +%s.%N)
run_rc "$IDX" query -i "$T/cl" -k 3 computer > /dev/null 2> "$T/hung.err"
took=$(python3 -c "import sys; print(round(float(sys.argv[2]) - float(sys.argv[1]), 2))" "$start" "$(date +%s.%N)")
kill -CONT "${SRV[1]}"
check "a hung shard: exit 3 naming it in ${took}s: $(cat "$T/hung.err")" \
    one_line "$T/hung.err" 3 "127.0.0.1:${PORT[1]}"
check "a hung shard: no wait past the timeout (+2 s)" python3 -c "import sys; sys.exit(float(sys.argv[1]) >= 4.5)" "$took"
serve 2
run_rc "$IDX" query -i "$T/cl" -k 3 computer > /dev/null 2> "$T/after.err"
check "restarted shard: the cluster answers again" [ "$rc" = 0 ]

# idx-fcgi keeps running through a shard's failure and recovery
if command -v nginx > /dev/null || [ -x /usr/sbin/nginx ]; then
    FCGI=$(dirname "$IDX")/idx-fcgi
    if [ -x "$FCGI" ] && command -v spawn-fcgi > /dev/null && command -v curl > /dev/null; then
        chmod 755 "$T"
        WPORT=$(free_port)
        URL="http://127.0.0.1:$WPORT/search?format=json&q"
        if bash "$IDX_SRC/web/serve" start "$T/cl" --port "$WPORT" --run "$T/run" --fcgi "$FCGI" \
            --threads 2 > "$T/web.out" 2> "$T/web.err"; then
            # code WORD: the status of a search (a new word each time: answers are cached)
            code() { curl -sS --max-time 20 -o "$T/body" -w '%{http_code}' "$URL=$1" || echo curl-error; }
            check "idx-fcgi over the cluster: 200" [ "$(code computer)" = 200 ]
            fpid=$(cat "$T/run/idx-fcgi.pid" 2> /dev/null || echo none)
            kill "${SRV[3]}"
            wait "${SRV[3]}" 2> /dev/null || true
            check "idx-fcgi, a shard down: 503" [ "$(code program)" = 503 ]
            serve 3
            check "idx-fcgi, the shard back: 200 again" [ "$(code language)" = 200 ]
            check "idx-fcgi was not restarted" [ "$(cat "$T/run/idx-fcgi.pid" 2> /dev/null || echo none)" = "$fpid" ]
        else
            cat "$T/web.err"
            echo "FAIL web/serve start over the cluster"
            fail=1
        fi
    fi
fi

# ---- bad cluster input: one line each
refused() { # WHAT WANT_RC ARGS...
    local what=$1 want=$2
    shift 2
    run_rc "$IDX" cluster -o "$T/bad" "$@" > /dev/null 2> "$T/bad.err"
    check "refused, exit $want: $what: $(cat "$T/bad.err")" one_line "$T/bad.err" "$want" ""
    check "$what: nothing written" [ ! -e "$T/bad/meta" ]
}
CLOSED=$(free_port)
head -100 "$CORPUS" > "$T/small.jsonl" # what they hold does not matter here
"$IDX" build -q --engine xapian -o "$T/oracle" "$T/small.jsonl"
"$IDX" build -q --shard 0/4 --language none -o "$T/s0none" "$T/small.jsonl"
PORT[4]=$(free_port) PORT[5]=$(free_port)
serve 4 "$T/oracle/xapian"
serve 5 "$T/s0none/xapian"
refused "unknown host" 3 "no-such-host.invalid:${PORT[0]}" "${SPECS[@]:1}"
refused "closed port" 3 "127.0.0.1:$CLOSED" "${SPECS[@]:1}"
refused "duplicate shard" 2 "${SPECS[0]}" "${SPECS[0]}" "${SPECS[@]:2}"
refused "a shard missing" 2 "${SPECS[@]:1}"
refused "not a shard (the oracle layout)" 3 "127.0.0.1:${PORT[4]}" "${SPECS[@]:1}"
refused "a shard of another analyzer" 2 "127.0.0.1:${PORT[5]}" "${SPECS[@]:1}"
refused "not HOST:PORT" 2 "127.0.0.1" "${SPECS[@]:1}"
run_rc "$IDX" cluster -o "$T/one" "${SPECS[@]}" 2> "$T/over.err"
check "an index is not overwritten by a cluster: $(cat "$T/over.err")" one_line "$T/over.err" 2 "not a cluster"
check "the index still opens" quiet "$IDX" stats -i "$T/one"
e2e_finish
