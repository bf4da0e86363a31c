#!/usr/bin/env bash
# growth_bench.sh: "daily growth" benchmark: an index kept up to date by
# appends, against one build of the whole corpus, and against Xapian and
# SQLite FTS5 doing the same appends.
#
# The input is cut into N batches in input order (equal article counts). Each
# batch is appended and committed as its own process, in turn, by:
#   idx        `idx build --append -o I BATCH` (the merge policy runs after it,
#              as a user gets it)
#   idx-nomerge `idx build --append --no-merge` (N segments at the end)
#   xapian     `xapian_build --append` (replace_document by "Q"+id, commit)
#   fts5       `fts5_build.py --append` (one transaction of INSERTs)
# interleaved batch by batch, with one-shot builds of the whole corpus between
# (idx several times, Xapian and FTS5 once). Then, for idx only: query CPU of
# `idx query --batch -k 10 --format trec` over the AOL queries (repeated) on
# the one-shot index, the auto-merged appends, the unmerged appends and those
# after `idx merge` (answers compared byte for byte with the one-shot index);
# `idx merge` time and its peak disk (du -sb of the index every 0.1 s); then a
# deletion of every 10th id (--no-merge), the query CPU again, and after
# `idx merge` the answers compared with a fresh build of the surviving 90%.
# Every process is timed by GNU time (wall, peak RSS, user + system CPU).
#
# Usage: bench/growth_bench.sh [options]
#   --input FILE      JSONL or JSONL.gz (default: enwiki-2015-sample in
#                     ../shared/corpora beside the repository)
#   --queries FILE    qid<TAB>query[<TAB>...] lines (default: the AOL
#                     benchmark queries there); only fields 1-2 are used
#   --batches N       number of appends (default 20)
#   --repeat K        the query file is repeated K times (default 5)
#   --qrounds R       interleaved rounds of every query run (default 3)
#   --builds B        one-shot idx builds, spread over the appends (default 3)
#   --mem MB          passed to every idx build/append (default: idx's, 512)
#   --engines LIST    comparison engines, comma list of xapian,fts5 (default
#                     both; empty: idx only)
#   --idx PATH        the idx binary (default: build/idx in the repository)
#   --out FILE        also write the Markdown report to FILE
#   --keep            keep the work directory
#   --workdir DIR     make the work directory under DIR (default $TMPDIR or /tmp)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
PY=/usr/bin/python3
TIME=/usr/bin/time

INPUT="$ROOT/../shared/corpora/enwiki-2015-sample/docs.jsonl.gz"
QUERIES="$ROOT/../shared/corpora/aol-benchmark-queries/queries.tsv"
BATCHES=20
REPEAT=5
QROUNDS=3
BUILDS=3
MEM=""
ENGINES="xapian,fts5"
IDX="$ROOT/build/idx"
OUT=""
KEEP=0
WORKBASE="${TMPDIR:-/tmp}"

die() { echo "growth_bench: $*" >&2; exit 2; }
log() { echo "[growth_bench] $(date -u +%H:%M:%S) $*" >&2; }
posint() { [[ "$2" =~ ^[1-9][0-9]*$ ]] || die "$1 must be a positive integer"; }

while [ $# -gt 0 ]; do
  case "$1" in
    --input) INPUT=$2; shift 2 ;;
    --queries) QUERIES=$2; shift 2 ;;
    --batches) BATCHES=$2; shift 2 ;;
    --repeat) REPEAT=$2; shift 2 ;;
    --qrounds) QROUNDS=$2; shift 2 ;;
    --builds) BUILDS=$2; shift 2 ;;
    --mem) MEM=$2; shift 2 ;;
    --engines) ENGINES=$2; shift 2 ;;
    --idx) IDX=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    --workdir) WORKBASE=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option: $1 (see --help)" ;;
  esac
done
posint --batches "$BATCHES"; posint --repeat "$REPEAT"; posint --qrounds "$QROUNDS"
posint --builds "$BUILDS"
[ -z "$MEM" ] || posint --mem "$MEM"
[ -r "$INPUT" ] || die "cannot read input $INPUT"
[ -r "$QUERIES" ] || die "cannot read queries $QUERIES"
[ -x "$IDX" ] || die "$IDX not found (build it first: cmake -S . -B build && cmake --build build)"
[ -x "$TIME" ] || die "$TIME missing: apt-get install -y time"
want() { [[ ",$ENGINES," == *",$1,"* ]]; }
for e in ${ENGINES//,/ }; do
  case "$e" in xapian|fts5) ;; *) die "unknown engine '$e'" ;; esac
done
if want xapian; then
  pkg-config --exists xapian-core jansson \
    || die "xapian-core/jansson dev files missing: apt-get install -y libxapian-dev libjansson-dev pkg-config"
fi

WORK=$(mktemp -d "$WORKBASE/idx-growth-bench.XXXXXX")
cleanup() { if [ "$KEEP" = 1 ]; then log "kept work directory $WORK"; else rm -rf "$WORK"; fi; }
trap cleanup EXIT

# ---- inputs --------------------------------------------------------------------
RAW="$WORK/input.jsonl"
case "$INPUT" in
  *.gz) gzip -dc -- "$INPUT" >"$RAW" ;;
  *)    cp -- "$INPUT" "$RAW" ;;
esac
mkdir "$WORK/batch"
# Batches of equal article counts in input order; the ids of every 10th
# article (the deletion) and the other 90% in input order (its fresh build).
"$PY" - "$RAW" "$BATCHES" "$WORK/batch" "$WORK/del_ids.txt" "$WORK/survivors.jsonl" <<'EOF'
import json, sys
raw, n, bdir, delf, survf = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
lines = [l for l in open(raw, "rb") if l.strip()]
outs = [open(f"{bdir}/{i + 1:03d}.jsonl", "wb") for i in range(n)]
with open(delf, "w") as dels, open(survf, "wb") as surv:
    for k, l in enumerate(lines):
        outs[k * n // len(lines)].write(l)
        if (k + 1) % 10 == 0:
            dels.write(json.loads(l)["id"] + "\n")
        else:
            surv.write(l)
EOF
RAW_BYTES=$(stat -c %s "$RAW")
RAW_DOCS=$(grep -c . "$RAW" || true)
QFILE="$WORK/queries.tsv"
for ((i = 0; i < REPEAT; i++)); do cut -f1,2 "$QUERIES"; done >"$QFILE"
QLINES=$(wc -l <"$QFILE")
log "input: $RAW_BYTES bytes, $RAW_DOCS docs, $BATCHES batches; $QLINES query lines"

if want xapian; then
  log "compiling xapian_build"
  # shellcheck disable=SC2046
  g++ -O2 -std=c++17 -o "$WORK/xapian_build" "$HERE/xapian_build.cc" \
    $(pkg-config --cflags --libs xapian-core jansson)
fi
cat "$RAW" "$WORK"/batch/*.jsonl >/dev/null   # warm the page cache

# ---- timing ------------------------------------------------------------------------
RESULTS="$WORK/results.tsv"   # label wall_s rss_kb cpu_s
: >"$RESULTS"
MEMFLAG=()
[ -z "$MEM" ] || MEMFLAG=(--mem "$MEM")

# timed LABEL CMD... [< stdin]: one process under GNU time; stdout goes to
# $WORK/out.LABEL, stderr to $WORK/log.LABEL; a failure stops the benchmark.
timed() {
  local label=$1; shift
  local tf="$WORK/time.$label" rc=0
  "$TIME" -f '%e %M %U %S' -o "$tf" -- "$@" >"$WORK/out.$label" 2>"$WORK/log.$label" || rc=$?
  if [ "$rc" != 0 ]; then
    tail -n 5 "$WORK/log.$label" >&2
    die "$label failed (exit $rc): $*"
  fi
  local wall rss usr sys
  read -r wall rss usr sys < <(tail -n 1 "$tf")
  printf '%s\t%s\t%s\t%s\n' "$label" "$wall" "$rss" \
    "$(awk -v u="$usr" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')" >>"$RESULTS"
}

# merge_polled LABEL INDEX ARGS...: idx merge under GNU time while du -sb of
# the index is sampled every 0.1 s; the peak goes to $WORK/disk.LABEL.
merge_polled() {
  local label=$1 index=$2; shift 2
  local stop="$WORK/stop.$label" samples="$WORK/du.$label"
  rm -f "$stop"; : >"$samples"
  ( while [ ! -e "$stop" ]; do du -sb "$index" 2>/dev/null | cut -f1 >>"$samples"; sleep 0.1; done ) &
  local poller=$!
  timed "$label" "$IDX" merge -i "$index" "$@"
  touch "$stop"; wait "$poller"
  du -sb "$index" | cut -f1 >>"$samples"
  printf '%s\t%s\n' "$(sort -n "$samples" | tail -n 1)" "$(grep -c . "$samples")" >"$WORK/disk.$label"
}

size_of() { du -sb "$1" | cut -f1; }
segments_of() { "$IDX" stats -i "$1" | grep -c '^segment'; }

# ---- builds and appends, interleaved ----------------------------------------------------
oneshot() { # k
  rm -rf "$WORK/oneshot"
  log "one-shot idx build $1/$BUILDS"
  timed "oneshot.$1" "$IDX" build -o "$WORK/oneshot" --quiet "${MEMFLAG[@]}" "$RAW"
}
# spread the one-shot builds: before the first batch, after the last, evenly between
declare -A BUILD_AT=()
for ((k = 1; k <= BUILDS; k++)); do
  if [ "$BUILDS" = 1 ]; then at=0; else at=$(( (k - 1) * BATCHES / (BUILDS - 1) )); fi
  BUILD_AT[$at]="${BUILD_AT[$at]:-} $k"
done
if want xapian; then
  log "one-shot Xapian build"
  timed xapian.oneshot "$WORK/xapian_build" "$WORK/xapian.oneshot" "$RAW"
  rm -rf "$WORK/xapian.oneshot"
fi
if want fts5; then
  log "one-shot FTS5 build"
  timed fts5.oneshot "$PY" "$HERE/fts5_build.py" "$WORK/fts5.oneshot.db" "$RAW"
  rm -f "$WORK/fts5.oneshot.db"
fi
for ((i = 0; i <= BATCHES; i++)); do
  for k in ${BUILD_AT[$i]:-}; do oneshot "$k"; done
  [ "$i" -lt "$BATCHES" ] || break
  b=$(printf '%03d' $((i + 1)))
  f="$WORK/batch/$b.jsonl"
  log "batch $b"
  timed "append.$b" "$IDX" build --append -o "$WORK/appended" --quiet "${MEMFLAG[@]}" "$f"
  timed "nomerge.$b" "$IDX" build --append --no-merge -o "$WORK/nomerge" --quiet "${MEMFLAG[@]}" "$f"
  if want xapian; then timed "xapian.$b" "$WORK/xapian_build" --append "$WORK/xapian.db" "$f"; fi
  if want fts5; then timed "fts5.$b" "$PY" "$HERE/fts5_build.py" --append "$WORK/fts5.db" "$f"; fi
done

FACTS="$WORK/facts.tsv"   # key value
{
  printf 'raw_bytes\t%s\nraw_docs\t%s\nbatches\t%s\nqlines\t%s\nrepeat\t%s\n' \
    "$RAW_BYTES" "$RAW_DOCS" "$BATCHES" "$QLINES" "$REPEAT"
  printf 'size.oneshot\t%s\nsize.appended\t%s\nsize.nomerge\t%s\n' \
    "$(size_of "$WORK/oneshot")" "$(size_of "$WORK/appended")" "$(size_of "$WORK/nomerge")"
  printf 'segments.oneshot\t%s\nsegments.appended\t%s\nsegments.nomerge\t%s\n' \
    "$(segments_of "$WORK/oneshot")" "$(segments_of "$WORK/appended")" "$(segments_of "$WORK/nomerge")"
  if want xapian; then printf 'size.xapian\t%s\n' "$(size_of "$WORK/xapian.db")"; fi
  if want fts5; then printf 'size.fts5\t%s\n' "$(size_of "$WORK/fts5.db")"; fi
} >"$FACTS"

# ---- idx merge of the unmerged appends ------------------------------------------
cp -a "$WORK/nomerge" "$WORK/merged"
log "idx merge of the $BATCHES-segment index"
merge_polled merge "$WORK/merged"
printf 'size.merged\t%s\nsegments.merged\t%s\n' "$(size_of "$WORK/merged")" \
  "$(segments_of "$WORK/merged")" >>"$FACTS"

# ---- deletion of every 10th id ------------------------------------------------------
cp -a "$WORK/merged" "$WORK/deleted"
log "idx delete of $(wc -l <"$WORK/del_ids.txt") ids (--no-merge)"
timed delete "$IDX" delete -i "$WORK/deleted" --no-merge --ids-from "$WORK/del_ids.txt"
log "fresh idx build of the survivors"
timed survivors.build "$IDX" build -o "$WORK/survivors" --quiet "${MEMFLAG[@]}" "$WORK/survivors.jsonl"
cp -a "$WORK/deleted" "$WORK/delmerged"
log "idx merge after the deletion"
merge_polled delmerge "$WORK/delmerged"
printf 'size.deleted\t%s\nsize.delmerged\t%s\nsize.survivors\t%s\n' "$(size_of "$WORK/deleted")" \
  "$(size_of "$WORK/delmerged")" "$(size_of "$WORK/survivors")" >>"$FACTS"

# ---- queries, interleaved --------------------------------------------------------------
QSETS=(oneshot appended nomerge merged survivors deleted delmerged)
for ((r = 1; r <= QROUNDS; r++)); do
  log "query round $r/$QROUNDS"
  for s in "${QSETS[@]}"; do
    timed "query.$s.$r" "$IDX" query -i "$WORK/$s" --batch -k 10 --format trec <"$QFILE"
  done
done
same() { if cmp -s "$WORK/out.query.$1.1" "$WORK/out.query.$2.1"; then echo identical; else echo DIFFERENT; fi; }
{
  for s in appended nomerge merged; do printf 'same.%s\t%s\n' "$s" "$(same "$s" oneshot)"; done
  for s in deleted delmerged; do printf 'same.%s\t%s\n' "$s" "$(same "$s" survivors)"; done
  for s in "${QSETS[@]}"; do
    ok=identical
    for ((r = 2; r <= QROUNDS; r++)); do
      cmp -s "$WORK/out.query.$s.1" "$WORK/out.query.$s.$r" || ok=DIFFERENT
    done
    printf 'stable.%s\t%s\n' "$s" "$ok"
  done
  printf 'disk.merge\t%s\ndisk.delmerge\t%s\n' "$(cat "$WORK/disk.merge")" "$(cat "$WORK/disk.delmerge")"
  printf 'mem\t%s\n' "${MEM:-512}"
  printf 'merge.summary\t%s\ndelmerge.summary\t%s\ndelete.summary\t%s\n' \
    "$(grep 'merged' "$WORK/log.merge" | tail -n 1)" "$(grep 'merged' "$WORK/log.delmerge" | tail -n 1)" \
    "$(tail -n 1 "$WORK/log.delete")"
} >>"$FACTS"

# ---- report ------------------------------------------------------------------------------
REPORT="$WORK/report.md"
"$PY" "$HERE/growth_report.py" "$RESULTS" "$FACTS" "$(basename "$INPUT")" "$(basename "$QUERIES")" >"$REPORT"
cat "$REPORT"
[ -z "$OUT" ] || cp "$REPORT" "$OUT"
