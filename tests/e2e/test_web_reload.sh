#!/usr/bin/env bash
# idx-fcgi picks up new generations of its index by itself (docs/WEB.md "New
# generations"): nginx + idx-fcgi (web/serve) under continuous queries from 4
# client threads while the index is rebuilt again and again with different
# content (synthetic corpora of other seeds; `idx build -o` swaps the whole
# directory; native and xapian indexes in turn), changed in place (appends,
# deletes, merges: new generations in the same directory), and its meta is
# damaged in between (garbage, then a truncated copy, renamed over meta) and
# repaired by the next rebuild. web_reload.py checks: 0 failed requests;
# every answer equals the `idx query --format json` answer (took_ms aside) of
# a generation that may be served at that moment: a new one is served within
# a second after its command finished and no older one afterwards, also from
# the response cache; a damaged meta keeps the current generation served and
# logs one line; one serving process throughout; /health's serial counts the
# switches, at least one per step; RSS stays within 3 MB over the steps (the
# highest after the second half's steps against the first half's; not under
# valgrind or sanitizers, where the allowed delay is longer too); afterwards
# neither the keeper nor the serving process holds a removed file of an old
# generation. Skips (77) without nginx, spawn-fcgi, curl, python3 or idx-fcgi.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
e2e_web_ready
e2e_web_tmpdir web-reload

# bN: rebuild from corpus N (xN: as a xapian index); aN: append part of it (new ids and
# replacements); d: delete a tenth of the ids; m: merge; AN, D: aN, d with --no-merge (web_reload.py; those this idx
# lacks for the index's engine are left out)
STEPS=x1,d,b2,a3,d,a4,m,x3,a1,b3,damage,b0,a1,d,m,x4,d,a2,m,b4
# then a day of a living index in one directory: 20 appends and 5 delete batches without
# their automatic merges (web_reload.py says why), 3 merges
STEPS+=,b0,A1,A2,A3,A4,D,A1,A2,A3,A4,D,m,A1,A2,A3,A4,D,A1,A2,A3,A4,D,m,A1,A2,A3,A4,D,m
VISIBLE=1
RSS_MARGIN_KB=3072
case $E2E_MODE in
    sanitize) STEPS=b1,d,a2,damage,b0,m,x3,a4,d; VISIBLE=3; RSS_MARGIN_KB=0 ;;
    valgrind) STEPS=b1,d,damage,b0,x2; VISIBLE=20; RSS_MARGIN_KB=0 ;;
esac

CORPORA=()
for i in 0 1 2 3 4; do
    e2e_corpus "$T/c$i" --docs 1500 --seed $((41 + i))
    CORPORA+=(--corpus "$T/c$i/docs.jsonl")
done
# the queries of two corpora: words each has and the other may lack
cut -f2 "$T/c0/queries.tsv" | head -15 > "$T/queries.txt"
cut -f2 "$T/c3/queries.tsv" | head -15 >> "$T/queries.txt"

"$IDX" build -q -o "$T/ix" "$T/c0/docs.jsonl"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
bash "$SERVE" start "$T/ix" --port "$PORT" --run "$RUN" --fcgi "$FCGI" --threads 2 \
    > "$T/start.out" 2> "$T/start.err" || { cat "$T/start.err"; echo "FAIL web/serve start"; exit 1; }

python3 "$E2E/web_reload.py" --idx "$IDX" --port "$PORT" --keeper "$(cat "$RUN/idx-fcgi.pid")" \
    --index "$T/ix" --work "$T" --log "$RUN/idx-fcgi.log" --queries "$T/queries.txt" \
    "${CORPORA[@]}" --steps "$STEPS" --visible "$VISIBLE" --rss-margin-kb "$RSS_MARGIN_KB" ||
    fail=1
bash "$SERVE" stop --run "$RUN" > /dev/null 2>&1 || { echo "FAIL web/serve stop"; fail=1; }
# under ASan/UBSan the responder reports to its log (also at exit, after stop): every
# generation closed, none twice
if grep -E -A 12 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$RUN/idx-fcgi.log"; then
    echo "FAIL sanitizer report in idx-fcgi.log"
    fail=1
fi
e2e_finish
