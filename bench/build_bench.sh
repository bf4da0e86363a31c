#!/usr/bin/env bash
# build_bench.sh: index-build benchmark of idx against Xapian, SQLite FTS5 and
# Apache Lucene.
#
# Each engine builds an index of the same uncompressed JSONL file as a whole
# process, timed by GNU time (wall seconds, peak RSS). Engines run interleaved
# in rounds (idx, xapian, fts5, idx, xapian, fts5, ...) so that machine noise
# is spread over all of them; the table shows the median wall time per engine.
# See bench/README.md for what is measured and the caveats.
#
# Usage: bench/build_bench.sh [options]
#   --input FILE      JSONL or JSONL.gz (default: the enwiki-2015-sample corpus
#                     in ../shared/corpora beside the repository)
#   --rounds N        rounds of every engine (default 3)
#   --engines LIST    comma list of idx,xapian,fts5,lucene (default all four;
#                     lucene is skipped with a note when Java or Debian's
#                     liblucene8-java jars are missing)
#   --scale K         build a K-times corpus: the input repeated K times with
#                     ids rewritten to ID#1..ID#K so they stay unique
#   --mem MB          passed to `idx build --mem MB` (and to Lucene as its
#                     ramBufferSizeMB; default 512, idx's default)
#   --threads N       passed to `idx build --threads N` (and to Lucene as its
#                     number of indexing threads; default one per core)
#   --idx PATH        the idx binary (default: build/idx in the repository)
#   --out FILE        also write the Markdown report to FILE
#   --keep            keep the work directory (input copy, last indexes)
#   --workdir DIR     make the work directory under DIR (default $TMPDIR or /tmp)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
PY=/usr/bin/python3
TIME=/usr/bin/time

INPUT="$ROOT/../shared/corpora/enwiki-2015-sample/docs.jsonl.gz"
ROUNDS=3
ENGINES="idx,xapian,fts5,lucene"
SCALE=1
MEM=""
THREADS=""
IDX="$ROOT/build/idx"
OUT=""
KEEP=0
WORKBASE="${TMPDIR:-/tmp}"

die() { echo "build_bench: $*" >&2; exit 2; }
log() { echo "[build_bench] $*" >&2; }

while [ $# -gt 0 ]; do
  case "$1" in
    --input) INPUT=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --engines) ENGINES=$2; shift 2 ;;
    --scale) SCALE=$2; shift 2 ;;
    --mem) MEM=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --idx) IDX=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    --workdir) WORKBASE=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option: $1 (see --help)" ;;
  esac
done

[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || die "--rounds must be a positive integer"
[[ "$SCALE" =~ ^[1-9][0-9]*$ ]] || die "--scale must be a positive integer"
[ -z "$MEM" ] || [[ "$MEM" =~ ^[1-9][0-9]*$ ]] || die "--mem must be a positive integer (MB)"
[ -z "$THREADS" ] || [[ "$THREADS" =~ ^[1-9][0-9]*$ ]] || die "--threads must be a positive integer"
[ -r "$INPUT" ] || die "cannot read input $INPUT"

# ---- tools -----------------------------------------------------------------
[ -x "$TIME" ] || die "$TIME missing: apt-get install -y time"
[ -x "$PY" ] || die "$PY missing: apt-get install -y python3"
IFS=, read -r -a ENGLIST <<<"$ENGINES"
for e in "${ENGLIST[@]}"; do
  case "$e" in idx|xapian|fts5|lucene) ;; *) die "unknown engine '$e'" ;; esac
done
want() { [[ ",$ENGINES," == *",$1,"* ]]; }

if want fts5; then
  "$PY" -c 'import sqlite3; c=sqlite3.connect(":memory:"); c.execute("create virtual table t using fts5(a, tokenize=\"porter unicode61\")")' \
    || die "python3 sqlite3 without FTS5"
fi
if want xapian; then
  command -v g++ >/dev/null || die "g++ missing: apt-get install -y g++"
  pkg-config --exists xapian-core jansson \
    || die "xapian-core/jansson dev files missing: apt-get install -y libxapian-dev libjansson-dev pkg-config"
fi
IDX_NOTE=""
if want idx && [ ! -x "$IDX" ]; then
  IDX_NOTE="idx skipped: $IDX not found (build it first: cmake -S . -B build && cmake --build build)"
  log "$IDX_NOTE"
  ENGLIST=("${ENGLIST[@]/idx}")
fi

# ---- work directory and input ----------------------------------------------
WORK=$(mktemp -d "$WORKBASE/idx-build-bench.XXXXXX")
cleanup() { if [ "$KEEP" = 1 ]; then log "kept work directory $WORK"; else rm -rf "$WORK"; fi; }
trap cleanup EXIT

LUCENE_NOTE="" LUCENE_JAVA=()
if want lucene; then
  # shellcheck source=bench/lucene/lucene.sh
  . "$HERE/lucene/lucene.sh"
  if ! lucene_setup "$WORK"; then
    log "$LUCENE_NOTE"
    ENGLIST=("${ENGLIST[@]/lucene}")
  fi
fi

RAW="$WORK/input.jsonl"
case "$INPUT" in
  *.gz) log "decompressing $INPUT once to $RAW"; gzip -dc -- "$INPUT" >"$WORK/base.jsonl" ;;
  *)    cp -- "$INPUT" "$WORK/base.jsonl" ;;
esac
if [ "$SCALE" = 1 ]; then
  mv "$WORK/base.jsonl" "$RAW"
else
  log "building a ${SCALE}x corpus (ids suffixed #1..#$SCALE)"
  # json.dumps(ensure_ascii=False) reproduces the corpus lines byte for byte,
  # so the copies differ from the original only by the id suffix.
  "$PY" - "$WORK/base.jsonl" "$SCALE" >"$RAW" <<'EOF'
import json, sys
src, k = sys.argv[1], int(sys.argv[2])
out = sys.stdout
for i in range(1, k + 1):
    with open(src, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            d = json.loads(line)
            d["id"] = f"{d['id']}#{i}"
            out.write(json.dumps(d, ensure_ascii=False) + "\n")
EOF
  rm -f "$WORK/base.jsonl"
fi
RAW_BYTES=$(stat -c %s "$RAW")
RAW_DOCS=$(grep -c . "$RAW" || true)
log "input: $RAW_BYTES bytes, $RAW_DOCS docs (uncompressed; every engine reads this same file)"

if want xapian; then
  log "compiling xapian_build"
  # shellcheck disable=SC2046
  g++ -O2 -std=c++17 -o "$WORK/xapian_build" "$HERE/xapian_build.cc" \
    $(pkg-config --cflags --libs xapian-core jansson)
fi

# Warm the page cache so that no engine pays the first read of the input.
cat "$RAW" >/dev/null

RESULTS="$WORK/results.tsv"   # engine round wall_s rss_kb cpu_s index_bytes status
: >"$RESULTS"

engine_cmd() { # engine outpath -> command words in CMD
  local e=$1 out=$2
  case "$e" in
    idx)
      CMD=("$IDX" build -o "$out" --quiet)
      [ -z "$MEM" ] || CMD+=(--mem "$MEM")
      [ -z "$THREADS" ] || CMD+=(--threads "$THREADS")
      CMD+=("$RAW") ;;
    xapian) CMD=("$WORK/xapian_build" "$out" "$RAW") ;;
    fts5)   CMD=("$PY" "$HERE/fts5_build.py" "$out" "$RAW") ;;
    lucene)
      CMD=("${LUCENE_JAVA[@]}" build "$out" "$RAW")
      [ -z "$MEM" ] || CMD+=(--mem "$MEM")
      [ -z "$THREADS" ] || CMD+=(--threads "$THREADS") ;;
  esac
}

run_one() { # engine round
  local e=$1 r=$2 out="$WORK/index.$1" tf="$WORK/time.$1.$2" lf="$WORK/log.$1.$2"
  [ "$e" = fts5 ] && out="$WORK/index.fts5.db"
  rm -rf "$out"
  engine_cmd "$e" "$out"
  log "round $r: $e: ${CMD[*]}"
  sync
  local rc=0
  "$TIME" -f '%e %M %U %S' -o "$tf" -- "${CMD[@]}" >"$lf" 2>&1 || rc=$?
  local wall rss usr sys cpu bytes status=ok
  read -r wall rss usr sys < <(tail -n 1 "$tf")
  cpu=$(awk -v u="$usr" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
  if [ "$rc" != 0 ]; then
    status="failed(rc=$rc)"
    log "$e failed (exit $rc); last lines of its output:"
    tail -n 5 "$lf" >&2
    bytes=0
  else
    bytes=$(du -sb "$out" | cut -f1)
    if [ "$e" = idx ]; then
      find "$out" -type f -printf '%P\t%s\n' | sort >"$WORK/idx_components.tsv"
    fi
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$e" "$r" "$wall" "$rss" "$cpu" "$bytes" "$status" >>"$RESULTS"
  log "round $r: $e: ${wall}s wall, ${cpu}s CPU, peak RSS $((rss / 1024)) MiB, index $bytes bytes, $status"
  [ "$KEEP" = 1 ] || rm -rf "$out"
}

# JSON parsing alone, once per helper, so the report can say what share of the
# Xapian and FTS5 times is spent parsing JSON rather than indexing.
PARSE="$WORK/parse.tsv"
: >"$PARSE"
if want xapian; then
  "$TIME" -f '%e %M' -o "$WORK/time.parse.xapian" -- "$WORK/xapian_build" --parse-only - "$RAW" 2>/dev/null
  printf 'xapian\t%s\n' "$(tail -n 1 "$WORK/time.parse.xapian" | cut -d' ' -f1)" >>"$PARSE"
fi
if want fts5; then
  "$TIME" -f '%e %M' -o "$WORK/time.parse.fts5" -- "$PY" "$HERE/fts5_build.py" --parse-only - "$RAW" 2>/dev/null
  printf 'fts5\t%s\n' "$(tail -n 1 "$WORK/time.parse.fts5" | cut -d' ' -f1)" >>"$PARSE"
fi
if [[ " ${ENGLIST[*]} " == *" lucene "* ]]; then
  "$TIME" -f '%e %M' -o "$WORK/time.parse.lucene" -- "${LUCENE_JAVA[@]}" build --parse-only - "$RAW" 2>/dev/null
  printf 'lucene\t%s\n' "$(tail -n 1 "$WORK/time.parse.lucene" | cut -d' ' -f1)" >>"$PARSE"
fi

for ((r = 1; r <= ROUNDS; r++)); do
  for e in "${ENGLIST[@]}"; do
    [ -n "$e" ] || continue
    run_one "$e" "$r"
  done
done

# ---- report ------------------------------------------------------------------
idx_flags="build -o DIR --quiet"
[ -z "$MEM" ] || idx_flags+=" --mem $MEM"
[ -z "$THREADS" ] || idx_flags+=" --threads $THREADS"
REPORT="$WORK/report.md"
"$PY" - "$RESULTS" "$PARSE" "$WORK/idx_components.tsv" "$RAW_BYTES" "$RAW_DOCS" \
  "$INPUT" "$SCALE" "$ROUNDS" "$idx_flags" "$IDX_NOTE" "$LUCENE_NOTE" >"$REPORT" <<'EOF'
import os, statistics, sys
res, parse, comp, raw, docs, inp, scale, rounds, idx_flags, idx_note, lucene_note = sys.argv[1:]
raw, docs = int(raw), int(docs)
rows = {}
for line in open(res):
    e, r, wall, rss, cpu, size, status = line.rstrip("\n").split("\t")
    rows.setdefault(e, []).append((float(wall), int(rss), int(size), status, float(cpu)))
parse_s = dict(l.rstrip("\n").split("\t") for l in open(parse) if l.strip())
names = {"idx": "idx", "xapian": "Xapian 1.4 (C++ API)", "fts5": "SQLite FTS5 (Python sqlite3)",
         "lucene": "Lucene 8 (Java)"}
print(f"## Build benchmark\n")
print(f"Input: `{os.path.basename(inp)}`" + (f" x{scale} (ids suffixed #1..#{scale})" if scale != "1" else "")
      + f", decompressed once: {raw:,} bytes, {docs:,} docs; every engine reads the same uncompressed file.")
print(f"Rounds: {rounds}, interleaved; wall = median of rounds, peak RSS = max of rounds. "
      f"MB = 10^6 bytes; RSS in MiB; CPU = user + system seconds (less sensitive to a busy machine than wall). "
      f"idx flags: `{idx_flags}`.\n")
for note in (idx_note, lucene_note):
    if note:
        print(f"*{note}*\n")
print("| engine | wall s (median) | MB/s | CPU s (median) | peak RSS MiB | index bytes | index/raw | wall s per round |")
print("|---|---:|---:|---:|---:|---:|---:|---|")
med, medcpu = {}, {}
for e in ("idx", "xapian", "fts5", "lucene"):
    if e not in rows:
        continue
    ok = [x for x in rows[e] if x[3] == "ok"]
    walls = ", ".join(f"{x[0]:.2f}" if x[3] == "ok" else x[3] for x in rows[e])
    if not ok:
        print(f"| {names[e]} | failed | | | | | | {walls} |")
        continue
    w = statistics.median(x[0] for x in ok)
    med[e] = w
    rss = max(x[1] for x in ok) / 1024
    size = ok[-1][2]
    cpu = statistics.median(x[4] for x in ok)
    medcpu[e] = cpu
    print(f"| {names[e]} | {w:.2f} | {raw / 1e6 / w:.2f} | {cpu:.2f} | {rss:.0f} | {size:,} | {size / raw:.3f} | {walls} |")
if parse_s:
    print()
    for e, s in parse_s.items():
        s = float(s)
        share = f" = {100 * s / med[e]:.0f}% of its median build" if e in med else ""
        what = {"xapian": "jansson (C)", "fts5": "Python json.loads", "lucene": "a small Java parser"}[e]
        print(f"- JSON parsing alone in the {names[e]} helper ({what}): {s:.2f} s{share}.")
if os.path.exists(comp) and os.path.getsize(comp):
    print("\n### idx index components (last successful round)\n")
    print("| file | bytes | share |")
    print("|---|---:|---:|")
    items = [l.rstrip("\n").split("\t") for l in open(comp) if l.strip()]
    total = sum(int(b) for _, b in items) or 1
    for name, b in items:
        print(f"| {name} | {int(b):,} | {100 * int(b) / total:.1f}% |")
print("\n### Throughput ratios (higher is better for idx)\n")
for other, target in (("fts5", 3), ("xapian", 40), ("lucene", 1)):
    goal = f"target >= {target}x" if other != "lucene" else "idx must stay ahead: > 1x"
    if "idx" in med and other in med:
        ratio = med[other] / med["idx"]
        verdict = "meets" if ratio >= target else "misses"
        cpu = f"; by CPU seconds {medcpu[other] / medcpu['idx']:.2f}x" if medcpu.get("idx") else ""
        print(f"- idx / {names[other]}: {ratio:.2f}x by wall time ({goal}: {verdict}){cpu}")
    else:
        print(f"- idx / {names[other]}: n/a ({goal})")
EOF
cat "$REPORT"
[ -z "$OUT" ] || cp "$REPORT" "$OUT"
