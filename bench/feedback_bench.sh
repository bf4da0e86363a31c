#!/usr/bin/env bash
# feedback_bench.sh: the cost of similar articles and of query expansion
# (docs/QUERY.md), for idx (both engines) and for Xapian's RSet + ESet doing the same, in
# one process (bench/feedback_bench.cc says exactly what is timed): p50 and
# p99 in µs of plain queries, expanded queries and similar-article queries.
# Corpus: reuters21578 (news, where "similar articles" is at home); queries:
# the AOL benchmark queries; articles: a seeded sample of the corpus's ids.
# usage: bench/feedback_bench.sh [--queries N] [--articles N] [--rounds N] [--seed S]
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
CORPORA="$ROOT/../shared/corpora"
NQ=300 NA=300 ROUNDS=3 SEED=42
while [ $# -gt 0 ]; do
    case "$1" in
    --queries) NQ=$2; shift 2 ;;
    --articles) NA=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --seed) SEED=$2; shift 2 ;;
    *) echo "feedback_bench: unknown argument $1" >&2; exit 2 ;;
    esac
done
DOCS=$CORPORA/reuters21578/docs.jsonl.gz
[ -f "$DOCS" ] || { echo "feedback_bench: no $DOCS" >&2; exit 2; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/feedback-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
B="$ROOT/build"
zcat "$DOCS" > "$WORK/docs.jsonl"
"$B/idx" build -q -o "$WORK/idx" "$WORK/docs.jsonl"
"$B/idx" build -q --engine xapian -o "$WORK/idxx" "$WORK/docs.jsonl"
# shellcheck disable=SC2046
g++ -O2 -std=c++17 -o "$WORK/xapian_build" "$HERE/xapian_build.cc" \
    $(pkg-config --cflags --libs xapian-core jansson)
"$WORK/xapian_build" "$WORK/xap" "$WORK/docs.jsonl" > /dev/null
# shellcheck disable=SC2046
g++ -O2 -std=c++17 -I"$ROOT" -o "$WORK/feedback_bench" "$HERE/feedback_bench.cc" \
    "$B/libidxsearcher.a" "$B/libidxcommon.a" \
    $(pkg-config --cflags --libs xapian-core zlib libutf8proc) -lpthread -lm
head -n "$NQ" "$CORPORA/aol-benchmark-queries/queries.tsv" | cut -f2 > "$WORK/queries.txt"
python3 - "$WORK/docs.jsonl" "$NA" "$SEED" > "$WORK/ids.txt" <<'PY'
import json, random, sys
ids = [json.loads(l)["id"] for l in open(sys.argv[1])]
for i in random.Random(int(sys.argv[3])).sample(ids, int(sys.argv[2])):
    print(i)
PY
printf 'engine\tmode\tn\tp50_us\tp99_us\n'
"$WORK/feedback_bench" "$WORK/idx" "$WORK/idxx" "$WORK/xap" "$WORK/queries.txt" "$WORK/ids.txt" "$ROUNDS"
