#!/usr/bin/env bash
# The web box under load, with hostile requests and a crash (issue: robust
# under bad input, faults and load). nginx + idx-fcgi started by web/serve;
# web_load.py asks every distinct request once, then N requests of which 10%
# are hostile (invalid UTF-8 and percent-encoding, 2 KB and 100 KB queries,
# markup and quotes in q, bad k and offset, unknown parameters, POST and PUT,
# unknown paths), and half-way through kills the serving process with
# SIGKILL. Asserts: every answer has the status its request must get, except
# at most one per connection at the moment of the kill (the requests in
# flight); the keeper replaced the serving process; its RSS grew by at most
# 5 MB between the end of the warm-up and the kill (not checked under
# valgrind or sanitizers).
# N: 20,000 (IDX_LONG_TESTS=1: 100,000; under sanitizers or valgrind: 3,000).
# Skips (77) when nginx, spawn-fcgi, curl, python3 or idx-fcgi are missing.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
e2e_web_ready

N=20000
[ "${IDX_LONG_TESTS:-0}" = 1 ] && N=100000
if [ "${IDX_SANITIZE:-0}" = 1 ] || [ "${IDX_VALGRIND:-0}" = 1 ]; then N=3000; fi
THREADS=8

e2e_web_tmpdir web-load

CRAN=$SHARED/corpora/cranfield
if [ -f "$CRAN/docs.jsonl" ]; then
    CORPUS=$CRAN/docs.jsonl
    QUERIES=$CRAN/queries.tsv
else
    e2e_corpus "$T/gen" --docs 2000 --seed 7
    CORPUS=$T/gen/docs.jsonl
    QUERIES=$T/gen/queries.tsv
fi
"$IDX" build -q -o "$T/ix" "$CORPUS"

e2e_serve_start "$T/ix"
KEEPER=$(cat "$RUN/idx-fcgi.pid")

python3 "$E2E/web_load.py" "http://127.0.0.1:$PORT" "$QUERIES" "$N" "$T/load.json" \
    --threads "$THREADS" --keeper "$KEEPER"

# Under valgrind or ASan RSS is mostly the tool's own bookkeeping (memcheck's
# shadow memory, ASan's quarantine of freed blocks): not checked there; their
# leak checkers look for leaks instead.
tooled=0
if [ "${IDX_SANITIZE:-0}" = 1 ] || [ "${IDX_VALGRIND:-0}" = 1 ]; then tooled=1; fi
python3 - "$T/load.json" "$THREADS" "$tooled" <<'EOF' || fail=1
import json, sys
r = json.load(open(sys.argv[1]))
threads = int(sys.argv[2])
tooled = sys.argv[3] == "1"
ok = True
def bad(msg):
    global ok
    print("FAIL " + msg)
    ok = False
w = r["warmup"]
print(f"info warm-up: {w['requests']} distinct requests in {w['seconds']} s: {w['counts']}")
if w["unexpected_total"]:
    bad(f"warm-up: {w['unexpected_total']} unexpected answers, e.g. {w['unexpected'][:3]}")
print(f"info load: {r['requests']} requests ({r['hostile_sent']} hostile) in {r['seconds']} s, "
      f"{r['rps']} req/s: {r['counts']}")
k = r["killed"]
if not k:
    bad("the serving process was never killed")
else:
    late = r["failed_after_kill"]
    others = [x for x in r["unexpected"] if x not in late]
    if others or r["unexpected_total"] > len(r["unexpected"]):
        bad(f"{r['unexpected_total']} unexpected answers, e.g. {(others or r['unexpected'])[:3]}")
    # each connection has at most one request in flight when the process dies
    if len(late) > threads:
        bad(f"{len(late)} requests failed around the kill (at most {threads} were in flight)")
    else:
        print(f"ok   serving process {k['pid']} killed after {k['done']} requests: "
              f"{len(late)} in-flight requests failed ({[x['status'] for x in late]}), no other")
    after = r["serving_pid_after"]
    if not after or after == k["pid"]:
        bad(f"no new serving process after the kill ({after})")
    else:
        print(f"ok   the keeper started serving process {after}")
samples = [s for s in r["rss_samples"] if s["pid"] == r["serving_pid_before"] and s["rss_kb"]]
if len(samples) < 2:
    bad("too few RSS samples")
else:
    growth = samples[-1]["rss_kb"] - samples[0]["rss_kb"]
    print(f"info RSS of the serving process: {samples[0]['rss_kb']} kB after the warm-up, "
          f"{samples[-1]['rss_kb']} kB after {samples[-1]['done']} more requests ({growth:+d} kB)")
    if tooled:
        print("info RSS not checked under valgrind or sanitizers")
    elif growth > 5120:
        bad(f"RSS grew by {growth} kB")
    else:
        print("ok   RSS flat (growth at most 5 MB)")
if ok:
    print("ok   every other answer had the status its request must get")
sys.exit(0 if ok else 1)
EOF
curl -sf -o /dev/null --max-time 5 "http://127.0.0.1:$PORT/health" || { echo "FAIL /health after the load"; fail=1; }
# the keeper logged the replacement; nothing was restarted by the watchdog
grep -q "serving process .* killed by signal 9; restarting" "$RUN/idx-fcgi.log" ||
    { echo "FAIL no restart line in the log"; fail=1; }
if grep -q "web/serve: idx-fcgi exited" "$RUN/idx-fcgi.log"; then
    echo "FAIL the keeper itself died"
    fail=1
fi
e2e_finish
