#!/usr/bin/env bash
# Bounded build memory for many articles (docs/CLI.md --mem): the state kept
# per article (ids for duplicates, lengths, dates, collapse keys) spills to
# temporary files and the segments are cut at --mem's share, so at the least
# --mem the peak RSS of a build of 3N small articles is that of N articles
# plus little, where it used to grow by ~220 bytes an article. The index of
# 3N articles (several segments) passes `idx check`, holds each live article
# once, and a duplicate id across segment boundaries keeps its last record.
# Synthetic; the bench for 2 million articles is bench/mem_bench.sh.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

e2e_tmpdir membound
TIME=/usr/bin/time
[ -x "$TIME" ] || e2e_skip "GNU time (/usr/bin/time) is not installed"
[ "$E2E_MODE" = normal ] || e2e_skip "memory figures mean nothing under $E2E_MODE"

N=60000
e2e_corpus "$T/c" --docs 6000 --words 12 --copies 10 # N small articles
head -n "$N" "$T/c/docs.jsonl" > "$T/small.jsonl"
# 3N: the N articles under other ids twice more, then the first 500 again
# with their original ids and a new title (they replace the first copies).
{
    cat "$T/small.jsonl"
    sed 's/^{"id": "d/{"id": "x/' "$T/small.jsonl"
    sed 's/^{"id": "d/{"id": "y/' "$T/small.jsonl"
    head -n 500 "$T/small.jsonl" | sed 's/"title": "/"title": "zzreplaced /'
} > "$T/big.jsonl"

# peak_kb FILE OUT: builds FILE at the least --mem; prints the peak RSS in KB.
peak_kb() {
    "$TIME" -f '%M' -o "$T/rss" "$IDX" build -q --mem 32 --threads 2 -o "$2" "$1"
    cat "$T/rss"
}
small=$(peak_kb "$T/small.jsonl" "$T/small.idx")
big=$(peak_kb "$T/big.jsonl" "$T/big.idx")
echo "peak RSS: $N articles ${small} KB, $((3 * N + 500)) articles ${big} KB"
# 2N more articles cost 26 MB at 220 bytes each before; allow 8 MB of noise.
check "peak RSS grows by less than 8 MB for 2N more articles" test $((big - small)) -lt 8192
check "peak RSS within --mem + 64 MB" test "$big" -lt $(((32 + 64) * 1024))
check "the big index is several segments" test "$(grep -c '^segment ' "$T/big.idx/meta")" -gt 1
check "idx check passes" quiet "$IDX" check -i "$T/big.idx"
docs=$("$IDX" stats -i "$T/big.idx" | awk '$1 == "documents" {print $2}')
check "every live article once ($((3 * N)), got $docs)" test "$docs" = $((3 * N))
"$IDX" get -i "$T/big.idx" d7 > "$T/d7"
check "a duplicate id keeps its last record" grep -q 'zzreplaced' "$T/d7"
"$IDX" query -i "$T/big.idx" --batch -k 1000 <<< $'1\tzzreplaced' > "$T/q"
check "the superseded records are gone, the last ones found" test "$(grep -c . "$T/q")" -eq 500
e2e_finish
