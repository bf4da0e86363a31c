#!/usr/bin/env bash
# suggest_bench.sh: how often a spelling suggestion restores a misspelt word,
# and how long suggesting takes. The words are those of the shared judged
# collections' queries (../shared/corpora/*/queries.tsv, the collections with
# qrels), each misspelt by one seeded edit (a deletion, insertion,
# substitution or transposition, never of the first letter, which the
# suggester keeps), looked up in an index of its own collection. Prints one
# line per collection and the total: cases, those whose original word is in
# the collection's index (its stem is), and among these: restored (the
# suggestion stems like the original word), another suggestion, none, and
# false alarms (a suggestion for the original, correctly spelt word); then
# the time per suggestion over all cases (p50, p99, microseconds, each the
# median of three runs, in process: suggest_bench.c). The same cases go to
# Xapian's Database::get_spelling_suggestion (edit distance 2) on a database
# of the same collection built with spelling data (xapian_spell.cc), counted
# over the same cases (a case is "in the index" by idx's lexicon).
# usage: bench/suggest_bench.sh [--cases N] [--seed S]   (N: total, default 1000)
# SUGGEST_BENCH_KEEP=FILE also keeps the per-case lines.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
CORPORA="$ROOT/../shared/corpora"
CASES=1000
SEED=42
while [ $# -gt 0 ]; do
    case "$1" in
    --cases) CASES=$2; shift 2 ;;
    --seed) SEED=$2; shift 2 ;;
    *) echo "suggest_bench: unknown argument $1" >&2; exit 2 ;;
    esac
done
[ -d "$CORPORA" ] || { echo "suggest_bench: no $CORPORA" >&2; exit 2; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/suggest-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
B="$ROOT/build"
gcc -O2 -std=gnu11 -Wall -Wextra -I"$ROOT" -o "$WORK/suggest_bench" "$HERE/suggest_bench.c" \
    "$B/libidxsearcher.a" "$B/libidxcommon.a" \
    $(pkg-config --cflags --libs xapian-core zlib libutf8proc) -lstdc++ -lpthread -lm
g++ -O2 -std=c++17 -o "$WORK/xapian_spell" "$HERE/xapian_spell.cc" \
    $(pkg-config --cflags --libs xapian-core jansson)

COLLS=()
for q in "$CORPORA"/*/qrels.txt; do
    c=$(basename "$(dirname "$q")")
    [ -f "$CORPORA/$c/queries.tsv" ] && [ -f "$CORPORA/$c/docs.jsonl" ] && COLLS+=("$c")
done
PER=$(( (CASES + ${#COLLS[@]} - 1) / ${#COLLS[@]} ))
for c in "${COLLS[@]}"; do
    "$B/idx" build -q -o "$WORK/$c.ix" "$CORPORA/$c/docs.jsonl"
    python3 - "$CORPORA/$c/queries.tsv" "$PER" "$SEED" > "$WORK/$c.cases" <<'PY'
import random, re, sys
path, per, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
words = set()
for line in open(path, encoding="utf-8"):
    text = line.rstrip("\n").split("\t", 1)[-1]
    words.update(w.lower() for w in re.findall(r"\b[A-Za-z]{4,}\b", text))
rng = random.Random(seed)
words = sorted(words)
rng.shuffle(words)
abc = "abcdefghijklmnopqrstuvwxyz"
for w in words[:per]:
    while True:
        i = rng.randrange(1, len(w))
        op = rng.choice("disr" if i + 1 < len(w) else "dir")
        if op == "d":
            t = w[:i] + w[i + 1:]
        elif op == "i":
            t = w[:i] + rng.choice(abc) + w[i:]
        elif op == "s":
            t = w[:i] + w[i + 1] + w[i] + w[i + 2:]
        else:
            t = w[:i] + rng.choice(abc.replace(w[i], "")) + w[i + 1:]
        if t != w:
            break
    print(w + "\t" + t)
PY
    "$WORK/suggest_bench" "$WORK/$c.ix" < "$WORK/$c.cases" | sed "s/^/$c\t/" >> "$WORK/all.tsv"
    "$WORK/xapian_spell" "$WORK/$c.xapian" "$CORPORA/$c/docs.jsonl" < "$WORK/$c.cases" |
        sed "s/^/$c\t/" >> "$WORK/xapian.tsv"
done
# SUGGEST_BENCH_KEEP=FILE keeps the per-case lines (collection, word, misspelling, suggestion, ...)
if [ -n "${SUGGEST_BENCH_KEEP:-}" ]; then cp "$WORK/all.tsv" "$SUGGEST_BENCH_KEEP"; fi
python3 - "$WORK/all.tsv" "$WORK/xapian.tsv" <<'PY'
import sys
def load(path, present_of=None):
    rows, present = {}, {}
    for line in open(path, encoding="utf-8"):
        c, orig, typo, sugg, ok, fa, pr, us = line.rstrip("\n").split("\t")
        pr = present_of[(c, orig, typo)] if present_of else int(pr)
        present[(c, orig, typo)] = pr
        rows.setdefault(c, []).append((sugg, int(ok), int(fa), pr, float(us)))
    return rows, present
idx_rows, idx_present = load(sys.argv[1])
xap_rows, _ = load(sys.argv[2], idx_present)
def pct(v, p):
    v = sorted(v)
    return v[max(0, min(len(v) - 1, -(-len(v) * p // 100) - 1))]
def share(k, n):
    return f"{k}/{n} ({100 * k / max(n, 1):.1f}%)"
print("| collection | engine | cases | in the index | restored | other suggestion | none | false alarms | p50 µs | p99 µs |")
print("|---|---|---|---|---|---|---|---|---|---|")
every = {"idx": [], "Xapian": []}
for c in sorted(idx_rows) + ["all"]:
    for engine, rows in (("idx", idx_rows), ("Xapian", xap_rows)):
        r = every[engine] if c == "all" else rows.get(c, [])
        if c != "all":
            every[engine] += r
        p = [x for x in r if x[3]]
        ok = sum(x[1] for x in p)
        none = sum(1 for x in p if x[0] == "-")
        fa = sum(x[2] for x in p)
        us = [x[4] for x in r]
        print(f"| {c} | {engine} | {len(r)} | {len(p)} | {share(ok, len(p))} | {len(p) - ok - none} | {none} "
              f"| {share(fa, len(p))} | {pct(us, 50):.0f} | {pct(us, 99):.0f} |")
PY
