#!/usr/bin/env bash
# cluster_bench.sh: what shards and replicas cost (issue 16). Run by hand, not in the suite.
#
# 1. Latency, one corpus in three forms, interleaved (native, shard, cluster, native, ...):
#    the native index (idx build), the local shard-layout index (--shard 0/1) and a
#    cluster of 4 shards (--shard i/4), each served by its own xapian-tcpsrv on loopback.
#    Each round runs every query once with `idx query --batch --format json -k 10` (one
#    process, warm after the first round, which is discarded); per query the median of
#    the rounds' took_ms (parse + match: the search), then p50/p95/p99 over the queries.
#    "page ms" is the batch's wall time per query: the search plus the result page
#    (every hit's stored record: ids, titles, snippets) and the process start.
# 2. Round trips: with strace, the client's waits for a shard (poll calls) per query at
#    -k 1 and at -k 10: the difference is the cost of fetching one more hit.
# 3. Throughput through nginx: 1, 2 and 3 idx-fcgi replicas of the native index behind
#    the shipped web/deploy/nginx-replicas.conf (its upstream cut to the first R
#    servers), driven by wrk with bench/web_bench.lua (AOL queries, every 4th as HTML),
#    --cache-mb 0 so every request is searched; order 1, 2, 3, 1, 2, 3, ... (median).
#
# Usage: bench/cluster_bench.sh [options]
#   --input FILE      corpus JSONL(.gz) (default: ../shared/corpora/enwiki-2015-sample)
#   --queries FILE    qid<TAB>query file (default: the AOL benchmark sample's queries.tsv)
#   --rounds N        timed latency rounds (default 5; one more warm-up round)
#   --web-rounds N    rounds of the 1/2/3-replica throughput runs (default 3)
#   --duration S      seconds of each wrk run (default 10)
#   --connections N   wrk connections (default 16)
#   --fcgi-threads N  idx-fcgi --threads of each replica (default 2)
#   --workdir DIR     work directory (default: a temporary one, removed at the end);
#                     indexes already in it are reused
#   --out FILE        also write the Markdown report to FILE
# Needs: xapian-tcpsrv, nginx, wrk, python3; strace for the round trips (else skipped).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
INPUT=$ROOT/../shared/corpora/enwiki-2015-sample/docs.jsonl.gz
QUERIES=$ROOT/../shared/corpora/aol-benchmark-queries/queries.tsv
ROUNDS=5
WEB_ROUNDS=3
DURATION=10
CONNS=16
FTHREADS=2
WORK=
OUT=
IDX=$ROOT/build/idx
FCGI=$ROOT/build/idx-fcgi

die() { echo "cluster_bench: $*" >&2; exit 2; }
log() { echo "[cluster_bench] $*" >&2; }
while [ $# -gt 0 ]; do
    case $1 in
        --input) INPUT=$2; shift 2 ;;
        --queries) QUERIES=$2; shift 2 ;;
        --rounds) ROUNDS=$2; shift 2 ;;
        --web-rounds) WEB_ROUNDS=$2; shift 2 ;;
        --duration) DURATION=$2; shift 2 ;;
        --connections) CONNS=$2; shift 2 ;;
        --fcgi-threads) FTHREADS=$2; shift 2 ;;
        --workdir) WORK=$2; shift 2 ;;
        --out) OUT=$2; shift 2 ;;
        -h | --help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown option $1" ;;
    esac
done
[ -f "$INPUT" ] || die "no corpus at $INPUT"
[ -f "$QUERIES" ] || die "no queries at $QUERIES"
for t in xapian-tcpsrv wrk python3; do command -v "$t" > /dev/null || die "$t not installed"; done
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$NGINX" ] || die "nginx not installed"
[ -x "$IDX" ] && [ -x "$FCGI" ] || die "build idx and idx-fcgi first (cmake --build build)"

KEEP=1
if [ -z "$WORK" ]; then
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/cluster-bench.XXXXXX")
    KEEP=0
fi
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
chmod 755 "$WORK"
cp "$IDX" "$WORK/idx.bin"
cp "$FCGI" "$WORK/idx-fcgi.bin"
IDX=$WORK/idx.bin
FCGI=$WORK/idx-fcgi.bin
PIDS=()
RUN=$WORK/run
cleanup() {
    [ -s "$RUN/nginx.pid" ] && kill -QUIT "$(cat "$RUN/nginx.pid")" 2> /dev/null
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2> /dev/null || true; done
    if [ "$KEEP" = 0 ]; then rm -rf "$WORK"; fi
}
trap cleanup EXIT

free_ports() { # N: N distinct free loopback ports
    python3 -c '
import socket, sys
ss = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in ss: s.bind(("127.0.0.1", 0))
ports = [s.getsockname()[1] for s in ss]
for s in ss: s.close()
print(*ports)' "$1"
}
wait_port() {
    local n=100
    until (: < "/dev/tcp/127.0.0.1/$1") 2> /dev/null; do
        ((n-- > 0)) || die "nothing listens on port $1"
        sleep 0.1
    done
}

# ---- the indexes ----
build() { # DIR ARGS...: idx build unless DIR holds an index; its build time in DIR.secs
    local dir=$1
    shift
    [ -f "$dir/meta" ] && return 0
    local t0
    t0=$(date +%s.%N)
    "$IDX" build -q "$@" -o "$dir" "$INPUT"
    python3 -c "import sys; print(round(float(sys.argv[2]) - float(sys.argv[1]), 2))" \
        "$t0" "$(date +%s.%N)" > "$dir.secs"
}
log "building (native, --shard 0/1, 4 x --shard i/4) in $WORK"
build "$WORK/native"
build "$WORK/one" --shard 0/1
for i in 0 1 2 3; do build "$WORK/s$i" --shard "$i/4"; done

read -r -a SP <<< "$(free_ports 4)"
SPECS=()
for i in 0 1 2 3; do
    # its own session: on SIGTERM xapian-tcpsrv signals its whole process group
    setsid xapian-tcpsrv --quiet --port "${SP[$i]}" --interface 127.0.0.1 "$WORK/s$i/xapian" \
        > "$WORK/srv$i.log" 2>&1 &
    PIDS+=("$!")
    SPECS+=("127.0.0.1:${SP[$i]}")
done
for p in "${SP[@]}"; do wait_port "$p"; done
rm -rf "$WORK/cluster"
"$IDX" cluster -o "$WORK/cluster" "${SPECS[@]}" > /dev/null

# ---- 1. latency, interleaved ----
mkdir -p "$WORK/lat"
for r in $(seq 0 "$ROUNDS"); do
    for e in native one cluster; do
        t0=$(date +%s.%N)
        "$IDX" query -i "$WORK/$e" --batch --format json -k 10 < "$QUERIES" > "$WORK/lat/$e.$r.json"
        echo "$e $r $t0 $(date +%s.%N)" >> "$WORK/lat/wall.txt"
    done
    log "latency round $r of $ROUNDS done"
done

# ---- 2. round trips ----
RT=
if command -v strace > /dev/null; then
    for k in 1 10; do
        strace -f -c -e trace=poll -o "$WORK/strace.$k" \
            "$IDX" query -i "$WORK/cluster" --batch --format json -k "$k" < "$QUERIES" > "$WORK/rt.$k.json"
    done
    RT=$WORK
fi

# ---- 3. throughput through nginx with 1, 2, 3 replicas ----
mkdir -p "$RUN/tmp"
chmod 1777 "$RUN/tmp"
read -r NPORT R1 R2 R3 <<< "$(free_ports 4)"
RP=("$R1" "$R2" "$R3")
for i in 0 1 2; do
    "$FCGI" -i "$WORK/native" --listen "127.0.0.1:${RP[$i]}" --threads "$FTHREADS" --cache-mb 0 \
        2> /dev/null &
    PIDS+=("$!")
done
for p in "${RP[@]}"; do wait_port "$p"; done
nginx_conf() { # R: the shipped upstream cut to its first R servers, on this run's ports
    local conf
    conf=$(< "$ROOT/web/deploy/nginx-replicas.conf")
    conf=${conf//listen 80;/listen 127.0.0.1:$NPORT;}
    conf=${conf//127.0.0.1:9001 /127.0.0.1:$R1 }
    conf=${conf//127.0.0.1:9002 /127.0.0.1:$R2 }
    conf=${conf//127.0.0.1:9003 /127.0.0.1:$R3 }
    [ "$1" -lt 3 ] && conf=$(printf '%s\n' "$conf" | grep -v "127.0.0.1:$R3 ")
    [ "$1" -lt 2 ] && conf=$(printf '%s\n' "$conf" | grep -v "127.0.0.1:$R2 ")
    printf '%s\n' "$conf" > "$RUN/replicas.conf"
    cat > "$RUN/nginx.conf" << EOF
worker_processes 1;
pid $RUN/nginx.pid;
error_log $RUN/nginx-error.log warn;
events { worker_connections 1024; }
http {
    client_body_temp_path $RUN/tmp/body;
    fastcgi_temp_path $RUN/tmp/fastcgi;
    proxy_temp_path $RUN/tmp/proxy;
    scgi_temp_path $RUN/tmp/scgi;
    uwsgi_temp_path $RUN/tmp/uwsgi;
    access_log off;
$(grep -E '^[[:space:]]*fastcgi_(param|pass_request_body)' "$ROOT/web/nginx.conf.in")
    include $RUN/replicas.conf;
}
EOF
}
NGX=("$NGINX" -p "$RUN" -c "$RUN/nginx.conf" -e "$RUN/nginx-error.log")
nginx_conf 1
"${NGX[@]}" -t -q
"${NGX[@]}" -g "daemon on;"
wait_port "$NPORT"
# warm the page cache and the replicas' stem caches once
wrk -t2 -c"$CONNS" -d3s -s "$HERE/web_bench.lua" "http://127.0.0.1:$NPORT" -- "$QUERIES" 4 > /dev/null
: > "$WORK/web.txt"
for r in $(seq 1 "$WEB_ROUNDS"); do
    for n in 1 2 3; do
        nginx_conf "$n"
        "${NGX[@]}" -s reload
        sleep 1
        wrk -t2 -c"$CONNS" -d"${DURATION}s" -s "$HERE/web_bench.lua" \
            "http://127.0.0.1:$NPORT" -- "$QUERIES" 4 > "$WORK/wrk.$n.$r.txt"
        echo "$n $r $WORK/wrk.$n.$r.txt" >> "$WORK/web.txt"
        log "throughput round $r, $n replica(s): $(grep Requests/sec "$WORK/wrk.$n.$r.txt")"
    done
done

# ---- the report ----
python3 - "$WORK" "$ROUNDS" "$(nproc)" "$QUERIES" "$INPUT" "$RT" << 'EOF' | tee "${OUT:-/dev/null}"
import json, os, re, statistics, sys
work, rounds, cores, queries, corpus, rt = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
names = {"native": "native index", "one": "shard layout, local (--shard 0/1)",
         "cluster": "4-shard cluster, loopback xapian-tcpsrv"}
def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]
walls = {}
for line in open(f"{work}/lat/wall.txt"):
    e, r, t0, t1 = line.split()
    if int(r) > 0:
        walls.setdefault(e, []).append(float(t1) - float(t0))
res = {}
for e in names:
    per = {}
    for r in range(1, rounds + 1):
        for line in open(f"{work}/lat/{e}.{r}.json"):
            a = json.loads(line)
            per.setdefault(a["qid"], []).append(a["took_ms"])
    med = [statistics.median(v) for v in per.values()]
    res[e] = (len(med), pct(med, 50), pct(med, 95), pct(med, 99), statistics.median(walls[e]) * 1000 / len(med))
print(f"Corpus {os.path.basename(os.path.dirname(corpus))}, {res['native'][0]} queries of "
      f"{os.path.basename(queries)}, -k 10, {rounds} interleaved rounds after a warm-up, {cores} cores "
      f"(loaded by other work: read the ratios).\n")
print("| index | p50 ms | p95 ms | p99 ms | page ms (wall / query) | p50 / native | page / native |")
print("| --- | --- | --- | --- | --- | --- | --- |")
n0 = res["native"]
for e, name in names.items():
    n, p50, p95, p99, page = res[e]
    print(f"| {name} | {p50:.3f} | {p95:.3f} | {p99:.3f} | {page:.3f} | {p50 / n0[1]:.2f} | {page / n0[4]:.2f} |")
print()
builds = {d: open(f"{work}/{d}.secs").read().strip() for d in ["native", "one", "s0", "s1", "s2", "s3"]
          if os.path.exists(f"{work}/{d}.secs")}
if builds:
    print("Build seconds (one at a time): " + ", ".join(f"{d} {s}" for d, s in builds.items()) + "\n")
if rt:
    polls = {}
    hits = {}
    for k in (1, 10):
        # strace -c's row: % time, seconds, usecs/call, calls, [errors,] syscall
        rows = [l.split() for l in open(f"{rt}/strace.{k}") if l.split()[-1:] == ["poll"]]
        polls[k] = int(rows[0][3]) if rows else 0
        hits[k] = sum(len(json.loads(l)["hits"]) for l in open(f"{rt}/rt.{k}.json"))
    nq = res["native"][0]
    extra = (polls[10] - polls[1]) / max(1, hits[10] - hits[1])
    print(f"Waits for a shard (poll calls) per query on the cluster: {polls[1] / nq:.1f} at -k 1 "
          f"({hits[1] / nq:.2f} hits a query), {polls[10] / nq:.1f} at -k 10 ({hits[10] / nq:.2f} hits); "
          f"{extra:.2f} per extra hit.\n")
print("| replicas | requests/s (median) | runs | p50 ms | p99 ms | errors |")
print("| --- | --- | --- | --- | --- | --- |")
runs = {}
for line in open(f"{work}/web.txt"):
    n, r, path = line.split()
    kv = dict(l.split(None, 1) for l in open(path).read().split("--- web_bench\n")[1].splitlines() if " " in l)
    errs = int(kv["status_other"]) + sum(int(kv[x]) for x in kv if x.startswith("err_"))
    runs.setdefault(n, []).append((float(kv["rps"]), float(kv["lat_p50_ms"]), float(kv["lat_p99_ms"]), errs))
for n in sorted(runs):
    v = runs[n]
    print(f"| {n} | {statistics.median(x[0] for x in v):.0f} | {', '.join(f'{x[0]:.0f}' for x in v)} | "
          f"{statistics.median(x[1] for x in v):.2f} | {statistics.median(x[2] for x in v):.2f} | "
          f"{sum(x[3] for x in v)} |")
EOF
