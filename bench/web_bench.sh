#!/usr/bin/env bash
# web_bench.sh: HTTP load benchmark of idx's web search (nginx -> idx-fcgi).
#
# Builds an idx index of one corpus (reused with --keep), starts web/serve on a
# free loopback port with a private run directory, and drives it with wrk and
# bench/web_bench.lua: real queries (the AOL benchmark sample, idx syntax) cycled
# as GET /search?q=...&k=10&format=json, every 4th one format=html. Reports
# requests/s, latency percentiles (wrk --latency), errors (non-200 statuses
# counted by the Lua response hook, wrk's socket errors) and idx-fcgi's RSS
# (/proc/PID/status) before the run and after at least --min-requests requests
# (a second wrk run is added when the first did not reach it). The servers are
# stopped on exit. See bench/README.md.
#
# Usage: bench/web_bench.sh [options]
#   --input FILE        corpus JSONL or JSONL.gz (default: enwiki-2015-sample in
#                       ../shared/corpora beside the repository)
#   --queries FILE      qid<TAB>query file (default: ../shared/corpora/
#                       aol-benchmark-queries/queries.tsv beside the repository)
#   --duration S        seconds of the main wrk run (default 60)
#   --threads N         wrk threads (default 2)
#   --connections N     wrk connections (default 32)
#   --html-every N      every Nth request asks for format=html (default 4; 0 = none)
#   --min-requests N    RSS is compared after at least N requests (default 100000)
#   --max-extra S       cap of the second run's length in seconds (default 900)
#   --fcgi-threads N    idx-fcgi --threads (default: web/serve's, one per core)
#   --cache-mb N        idx-fcgi --cache-mb (default: idx-fcgi's); 0 measures
#                       every request searched and snippeted afresh
#   --no-warmup         measure from cold: by default every query is asked once
#                       in each format before RSS "before" is taken and wrk
#                       starts, so the run shows the steady state of a running
#                       server (page cache, stem caches, response cache filled)
#   --port N            loopback port (default: a free one)
#   --idx PATH          the idx binary (default: build/idx in the repository)
#   --fcgi PATH         the idx-fcgi binary (default: build/idx-fcgi); both
#                       binaries are copied into the work directory so a rebuild
#                       during the run does not replace what is measured
#   --screenshot FILE   also take a headless-chromium screenshot of a results page
#   --out FILE          also write the Markdown report to FILE
#   --workdir DIR       use DIR as the work directory (created if missing)
#   --keep              keep the work directory; with --workdir, an index already
#                       in it is reused if `idx stats` can read it (else rebuilt)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)

INPUT="$ROOT/../shared/corpora/enwiki-2015-sample/docs.jsonl.gz"
QUERIES="$ROOT/../shared/corpora/aol-benchmark-queries/queries.tsv"
DURATION=60
WTHREADS=2
CONNS=32
HTML_EVERY=4
MIN_REQ=100000
MAX_EXTRA=900
FCGI_THREADS=""
CACHE_MB=""
WARMUP=1
PORT=""
IDX="$ROOT/build/idx"
FCGI="$ROOT/build/idx-fcgi"
SHOT=""
OUT=""
KEEP=0
WORK=""

die() { echo "web_bench: $*" >&2; exit 2; }
log() { echo "[web_bench] $*" >&2; }

while [ $# -gt 0 ]; do
  case "$1" in
    --input) INPUT=$2; shift 2 ;;
    --queries) QUERIES=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --threads) WTHREADS=$2; shift 2 ;;
    --connections) CONNS=$2; shift 2 ;;
    --html-every) HTML_EVERY=$2; shift 2 ;;
    --min-requests) MIN_REQ=$2; shift 2 ;;
    --max-extra) MAX_EXTRA=$2; shift 2 ;;
    --fcgi-threads) FCGI_THREADS=$2; shift 2 ;;
    --cache-mb) CACHE_MB=$2; shift 2 ;;
    --no-warmup) WARMUP=0; shift ;;
    --port) PORT=$2; shift 2 ;;
    --idx) IDX=$2; shift 2 ;;
    --fcgi) FCGI=$2; shift 2 ;;
    --screenshot) SHOT=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --workdir) WORK=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option: $1 (see --help)" ;;
  esac
done

for v in DURATION WTHREADS CONNS MIN_REQ MAX_EXTRA; do
  [[ "${!v}" =~ ^[1-9][0-9]*$ ]] || die "${v,,} must be a positive integer"
done
[[ "$HTML_EVERY" =~ ^[0-9]+$ ]] || die "--html-every must be a non-negative integer"
[ -r "$INPUT" ] || die "cannot read input $INPUT"
[ -r "$QUERIES" ] || die "cannot read queries $QUERIES"
[ -x "$IDX" ] || die "$IDX not found (cmake -S . -B build && cmake --build build)"
[ -x "$FCGI" ] || die "$FCGI not found (needs libfcgi-dev; cmake --build build)"
command -v wrk >/dev/null || die "wrk missing: apt-get install -y wrk"
for t in nginx spawn-fcgi curl; do
  command -v "$t" >/dev/null || [ -x "/usr/sbin/$t" ] || die "$t missing: apt-get install -y nginx-light spawn-fcgi curl"
done
QUERIES=$(readlink -f "$QUERIES")

# ---- work directory ------------------------------------------------------------
if [ -z "$WORK" ]; then
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/idx-web-bench.XXXXXX")
else
  mkdir -p "$WORK"
  WORK=$(cd "$WORK" && pwd)
fi
RUN="$WORK/run"
SAMPLER=""
cleanup() {
  [ -n "$SAMPLER" ] && kill "$SAMPLER" 2>/dev/null || true
  "$ROOT/web/serve" stop --run "$RUN" >/dev/null 2>&1 || true
  if [ "$KEEP" = 1 ]; then log "kept work directory $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

LOAD_START=$(uptime)
log "load at start: $LOAD_START"

# ---- index -----------------------------------------------------------------------
# Both binaries are copied first: build/ may be rebuilt (even to a new index
# format) while the benchmark runs.
cp -f "$IDX" "$WORK/idx"
cp -f "$FCGI" "$WORK/idx-fcgi"
IX="$WORK/index.idx"
if [ "$KEEP" = 1 ] && [ -f "$IX/meta" ] && "$WORK/idx" stats "$IX" >/dev/null 2>&1; then
  log "reusing index $IX"
else
  rm -rf "$IX" "$IX.tmp"
  log "building index of $INPUT"
  t0=$SECONDS
  "$WORK/idx" build -o "$IX.tmp" --quiet "$INPUT"
  mv "$IX.tmp" "$IX"
  log "index built in $((SECONDS - t0)) s"
fi

# ---- server ----------------------------------------------------------------------
if [ -z "$PORT" ]; then
  PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
fi
serve_args=(--port "$PORT" --run "$RUN" --fcgi "$WORK/idx-fcgi")
[ -n "$FCGI_THREADS" ] && serve_args+=(--threads "$FCGI_THREADS")
[ -n "$CACHE_MB" ] && serve_args+=(--cache-mb "$CACHE_MB")
"$ROOT/web/serve" stop --run "$RUN" >/dev/null 2>&1 || true
rm -f "$RUN/idx-fcgi.log" "$RUN/nginx-access.log" "$RUN/nginx-error.log"
"$ROOT/web/serve" start "$IX" "${serve_args[@]}" >/dev/null
BASE="http://127.0.0.1:$PORT"
FPID=$(<"$RUN/idx-fcgi.pid")
log "serving on $BASE, idx-fcgi pid $FPID"

rss_kb() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
snap() { echo "$(rss_kb "$FPID" VmRSS) $(rss_kb "$FPID" RssAnon) $(rss_kb "$FPID" RssFile)"; }

# A few requests so the page cache and the responder's lazily built state are
# warm; RSS "before" is taken after them (the load itself is what is measured).
curl -fsS -o /dev/null "$BASE/search?q=roman+empire&k=10&format=json"
curl -fsS -o /dev/null "$BASE/search?q=roman+empire&k=10&format=html"
if [ "$WARMUP" = 1 ]; then
  # One curl process for the whole pass (a config of url/output pairs).
  python3 - "$QUERIES" "$BASE" >"$WORK/warmup.curl" <<'EOF'
import sys, urllib.parse
base = sys.argv[2]
for line in open(sys.argv[1], encoding="utf-8"):
    q = line.rstrip("\r\n").split("\t", 1)[-1]
    if q:
        for fmt in ("json", "html"):
            print(f'url = "{base}/search?q={urllib.parse.quote(q, safe="")}&k=10&format={fmt}"')
            print('output = "/dev/null"')
EOF
  t0=$SECONDS
  curl -sS --max-time 600 -K "$WORK/warmup.curl" || log "warm-up: some requests failed"
  log "warm-up: $(grep -c '^url' "$WORK/warmup.curl") requests in $((SECONDS - t0)) s"
fi
read -r RSS0 ANON0 FILE0 < <(snap)
log "idx-fcgi RSS before: $RSS0 kB (anon $ANON0, file $FILE0)"

# RSS every 5 s while wrk runs.
( while kill -0 "$FPID" 2>/dev/null; do echo "$SECONDS $(snap)"; sleep 5; done ) >"$WORK/rss.tsv" &
SAMPLER=$!

run_wrk() { # seconds label
  log "wrk -t$WTHREADS -c$CONNS -d$1s --latency ($2)"
  wrk -t"$WTHREADS" -c"$CONNS" -d"$1"s --latency --timeout 10s -s "$HERE/web_bench.lua" \
    "$BASE" -- "$QUERIES" "$HTML_EVERY" >"$WORK/wrk-$2.txt" 2>&1 || die "wrk failed: $(tail -3 "$WORK/wrk-$2.txt")"
}
val() { awk -v k="$2" '$1 == k {print $2}' "$WORK/wrk-$1.txt"; }

run_wrk "$DURATION" main
read -r RSS1 ANON1 FILE1 < <(snap)
TOTAL=$(val main requests)
RUNS=main
if [ "$TOTAL" -lt "$MIN_REQ" ]; then
  rps=$(val main rps)
  extra=$(awk -v need=$((MIN_REQ - TOTAL)) -v r="$rps" 'BEGIN { s = int(need / (r > 0 ? r : 1) * 1.1) + 5; print s }')
  [ "$extra" -gt "$MAX_EXTRA" ] && { log "capping the second run at $MAX_EXTRA s (wanted $extra s)"; extra=$MAX_EXTRA; }
  run_wrk "$extra" extra
  TOTAL=$((TOTAL + $(val extra requests)))
  RUNS="main extra"
fi
read -r RSS2 ANON2 FILE2 < <(snap)
kill "$SAMPLER" 2>/dev/null || true
SAMPLER=""
ALIVE=yes
[ "$(<"$RUN/idx-fcgi.pid")" = "$FPID" ] && kill -0 "$FPID" 2>/dev/null || ALIVE=no
RESTARTS=$(grep -c 'idx-fcgi exited' "$RUN/idx-fcgi.log" || true)
LOAD_END=$(uptime)
log "load at end: $LOAD_END"

if [ -n "$SHOT" ]; then
  if command -v chromium >/dev/null; then
    prof=$(mktemp -d)
    chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
      --disable-component-update --disable-sync --no-first-run --user-data-dir="$prof" \
      --screenshot="$SHOT" --window-size=1100,900 "$BASE/search?q=roman+empire" >/dev/null 2>&1 \
      && log "screenshot: $SHOT" || log "screenshot failed"
    rm -rf "$prof"
  else
    log "chromium not found: no screenshot"
  fi
fi

# ---- report ------------------------------------------------------------------------
{
  echo "## web_bench: $(date -u +%F) wrk -t$WTHREADS -c$CONNS, 1 in $HTML_EVERY html, cache ${CACHE_MB:-default} MB, warm-up $([ "$WARMUP" = 1 ] && echo 'one pass' || echo none)"
  echo
  echo "Load at start: ${LOAD_START##*load average: }; at end: ${LOAD_END##*load average: }"
  echo
  echo "| run | seconds | requests | req/s | p50 ms | p90 ms | p99 ms | max ms | non-200 | socket errors (connect/read/write/timeout) |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"
  for r in $RUNS; do
    printf '| %s | %.1f | %s | %s | %s | %s | %s | %s | %s | %s/%s/%s/%s |\n' "$r" \
      "$(awk -v d="$(val "$r" duration_us)" 'BEGIN{print d/1e6}')" "$(val "$r" requests)" "$(val "$r" rps)" \
      "$(val "$r" lat_p50_ms)" "$(val "$r" lat_p90_ms)" "$(val "$r" lat_p99_ms)" "$(val "$r" lat_max_ms)" \
      "$(val "$r" status_other)" "$(val "$r" err_connect)" "$(val "$r" err_read)" "$(val "$r" err_write)" \
      "$(val "$r" err_timeout)"
  done
  echo
  echo "| idx-fcgi RSS (kB) | VmRSS | RssAnon | RssFile |"
  echo "|---|---:|---:|---:|"
  echo "| before | $RSS0 | $ANON0 | $FILE0 |"
  echo "| after main run | $RSS1 | $ANON1 | $FILE1 |"
  echo "| after $TOTAL requests | $RSS2 | $ANON2 | $FILE2 |"
  echo "| growth, before -> end | $((RSS2 - RSS0)) | $((ANON2 - ANON0)) | $((FILE2 - FILE0)) |"
  echo "| growth, after main run -> end | $((RSS2 - RSS1)) | $((ANON2 - ANON1)) | $((FILE2 - FILE1)) |"
  echo
  echo "RssFile is the mmap-ed index and stored documents paged in (bounded by the index size);"
  echo "RssAnon is heap (per-thread analyzer stem caches, buffers). Samples every 5 s: rss.tsv."
  echo
  echo "idx-fcgi pid $FPID still the same process at the end: $ALIVE; supervisor restarts: $RESTARTS"
  echo
  rps=$(val main rps); p99=$(val main lat_p99_ms)
  errs=0
  for r in $RUNS; do
    for k in status_other err_connect err_read err_write err_timeout; do errs=$((errs + $(val "$r" $k))); done
  done
  growth=$(( (RSS2 - RSS0) ))
  verdict() { if [ "$1" = 1 ]; then echo met; else echo "**missed**"; fi; }
  echo "| target | result | verdict |"
  echo "|---|---|---|"
  echo "| ≥ 2,000 requests/s | $rps | $(verdict "$(awk -v x="$rps" 'BEGIN{print (x >= 2000)}')") |"
  echo "| p99 ≤ 50 ms | $p99 ms | $(verdict "$(awk -v x="$p99" 'BEGIN{print (x <= 50)}')") |"
  echo "| 0 errors | $errs | $(verdict "$([ "$errs" -eq 0 ] && [ "$ALIVE" = yes ] && echo 1 || echo 0)") |"
  echo "| RSS growth ≤ 5 MB over ≥ $MIN_REQ requests | $growth kB over $TOTAL requests | $(verdict "$(awk -v g="$growth" -v t="$TOTAL" -v m="$MIN_REQ" 'BEGIN{print (g <= 5120 && t >= m)}')") |"
} >"$WORK/report.md"
cat "$WORK/report.md"
[ -n "$OUT" ] && cp "$WORK/report.md" "$OUT"
log "wrk output, RSS samples (rss.tsv) and server logs are in $WORK (use --keep to keep them)"
