#!/usr/bin/env bash
# `idx build ... -` reads standard input: from a pipe, gzip-compressed in a
# pipe, redirected from a file, and beside a file argument, it builds the same
# index, byte for byte (meta's creation time and checksum aside), as the same
# input named as a file; the format is
# recognised by content (TREC too); bad lines are reported as `-:LINE: why`.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
e2e_tmpdir stdin
trap 'rm -rf "$T"' EXIT

e2e_corpus "$T/c" --docs 300 --seed 5
DOCS=$T/c/docs.jsonl
"$IDX" build -q -o "$T/file" "$DOCS"
# same_index A B: equal files, meta's `created` time and the crc32 over it aside
same_index() {
    diff -r -x meta "$1" "$2" > /dev/null &&
        diff <(grep -v '^created \|^crc32 ' "$1/meta") <(grep -v '^created \|^crc32 ' "$2/meta") > /dev/null
}
same() { same_index "$T/file" "$1"; }

# shellcheck disable=SC2002 # a pipe on stdin, not a regular file
cat "$DOCS" | "$IDX" build -q -o "$T/pipe" -
check "cat docs | idx build -o I -: the index of the file" same "$T/pipe"
gzip -c "$DOCS" | "$IDX" build -q -o "$T/gz" -
check "gzip -c docs | idx build -o I -: the same" same "$T/gz"
"$IDX" build -q -o "$T/redir" - < "$DOCS"
check "idx build -o I - < docs: the same" same "$T/redir"

# half from a file, half from stdin: the same as both halves as files
head -n 150 "$DOCS" > "$T/h1.jsonl"
tail -n +151 "$DOCS" > "$T/h2.jsonl"
"$IDX" build -q -o "$T/halves" "$T/h1.jsonl" "$T/h2.jsonl"
tail -n +151 "$DOCS" | "$IDX" build -q -o "$T/mixed" "$T/h1.jsonl" -
check "a file and stdin: the index of the two files" same_index "$T/halves" "$T/mixed"
check "which answers queries" test "$("$IDX" query -i "$T/mixed" --format trec -k 3 \
    "$(sed -n 1p "$T/c/queries.tsv" | cut -f2)" | wc -l)" = 3

TREC=$IDX_SRC/tests/fixtures/reader/sample.trec
"$IDX" build -q -o "$T/trec-file" "$TREC"
"$IDX" build -q -o "$T/trec-pipe" - < "$TREC"
check "TREC on stdin: recognised by content" same_index "$T/trec-file" "$T/trec-pipe"

printf '{"id":"1","body":"one"}\n{bad\n{"id":"2","body":"two"}\n' |
    "$IDX" build -o "$T/bad" - > /dev/null 2> "$T/bad.err"
check "a bad line on stdin is reported as -:2:" grep -q '^idx: -:2: invalid JSON' "$T/bad.err"
check "and the good ones are indexed" test "$("$IDX" get -i "$T/bad" 1 2 | wc -l)" = 2

e2e_finish
