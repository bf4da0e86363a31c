#!/usr/bin/env bash
# mem_bench.sh: peak memory and speed of `idx build --mem MB` as the number
# of articles grows (docs/CLI.md --mem: peak RSS <= --mem + 64 MB for any
# number of articles, build time linear in the input).
#
# Generates one corpus of small synthetic articles (tests/e2e/gen_corpus.py:
# 20,000 articles of ~20 words, repeated under distinct ids up to the largest
# size, ~380 bytes an article), builds the first N articles for each size as
# a whole process timed by GNU time, and prints per size: input MB, wall
# seconds, MB/s, peak RSS, RSS minus --mem, segments. The corpus is made in
# the work directory and removed with it (2M articles: 760 MB).
#
# Usage: bench/mem_bench.sh [options]
#   --sizes LIST      comma list of article counts (default 500000,1000000,2000000)
#   --mem MB          passed to `idx build --mem` (default 100)
#   --threads N       passed to `idx build --threads` (default 2)
#   --idx PATH        the idx binary (default: build/idx in the repository)
#   --out FILE        also write the Markdown table to FILE
#   --workdir DIR     make the work directory under DIR (default $TMPDIR or /tmp)
#   --keep            keep the work directory
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
TIME=/usr/bin/time
SIZES=500000,1000000,2000000
MEM=100
THREADS=2
IDX="$ROOT/build/idx"
OUT=""
WORKBASE="${TMPDIR:-/tmp}"
KEEP=0

while [ $# -gt 0 ]; do
    case $1 in
        --sizes) SIZES=$2; shift 2 ;;
        --mem) MEM=$2; shift 2 ;;
        --threads) THREADS=$2; shift 2 ;;
        --idx) IDX=$2; shift 2 ;;
        --out) OUT=$2; shift 2 ;;
        --workdir) WORKBASE=$2; shift 2 ;;
        --keep) KEEP=1; shift ;;
        -h | --help) sed -n '2,/^set -e/p' "$0" | sed 's/^# \{0,1\}//; /^set -e/d'; exit 0 ;;
        *) echo "mem_bench.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
[ -x "$IDX" ] || { echo "mem_bench.sh: no idx binary at $IDX" >&2; exit 1; }
[ -x "$TIME" ] || { echo "mem_bench.sh: GNU time ($TIME) is needed" >&2; exit 1; }

W=$(mktemp -d "$WORKBASE/idx-mem-bench.XXXXXX")
[ "$KEEP" = 1 ] || trap 'rm -rf "$W"' EXIT
IFS=, read -r -a sizes <<< "$SIZES"
max=0
for n in "${sizes[@]}"; do [ "$n" -gt "$max" ] && max=$n; done
copies=$(((max + 19999) / 20000))
python3 "$ROOT/tests/e2e/gen_corpus.py" "$W/all.jsonl" "$W/q.tsv" --docs 20000 --words 20 \
    --copies "$copies"

table="| articles | input MB | wall s | MB/s | peak RSS MB | RSS - --mem MB | segments |
|---:|---:|---:|---:|---:|---:|---:|"
for n in "${sizes[@]}"; do
    head -n "$n" "$W/all.jsonl" > "$W/in.jsonl"
    rm -rf "$W/ix"
    "$TIME" -f '%e %M' -o "$W/time" "$IDX" build -q --mem "$MEM" --threads "$THREADS" \
        -o "$W/ix" "$W/in.jsonl"
    read -r wall kb < "$W/time"
    bytes=$(stat -c %s "$W/in.jsonl")
    segs=$(grep -c '^segment ' "$W/ix/meta")
    row=$(awk -v n="$n" -v b="$bytes" -v w="$wall" -v kb="$kb" -v m="$MEM" -v s="$segs" \
        'BEGIN { printf "| %d | %.0f | %.1f | %.1f | %.0f | %.0f | %d |", n, b / 1e6, w,
                 b / 1e6 / w, kb / 1024, kb / 1024 - m, s }')
    echo "$row"
    table+=$'\n'"$row"
done
report="idx build --mem $MEM --threads $THREADS, small generated articles ($(date -u +%F))

$table"
echo
echo "$report"
[ -z "$OUT" ] || echo "$report" > "$OUT"
