#!/usr/bin/env bash
# Real dumps as they come: the synthetic corpus compressed with gzip, bzip2
# (also multistream), xz and zstd, packed in tar (plain, .gz, .xz) and zip,
# and as compressed files inside a directory, builds an index that answers
# every query of the corpus exactly like the plain files do (same ids, same
# scores). The English Wikipedia export .xml.bz2 is read as MediaWiki (33
# articles, 11 redirects). Damaged archives are reported as FILE: why and
# skipped; dates in RFC 2822 are found by date:, unknown ones warned about.
# Needs bzip2, xz-utils, zstd, tar, zip (Debian); skips without them.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

for tool in bzip2 xz zstd tar zip; do
    command -v "$tool" > /dev/null || { echo "SKIP: $tool not installed"; exit 77; }
done

e2e_tmpdir dumps
trap 'rm -rf "$T"' EXIT

e2e_corpus "$T/c" --docs 400 --seed 15
# The reference: the corpus split in two files of a directory.
mkdir "$T/plain"
head -n 250 "$T/c/docs.jsonl" > "$T/plain/a.jsonl"
tail -n +251 "$T/c/docs.jsonl" > "$T/plain/b.jsonl"
printf 'A note\nplain text member kalo\n' > "$T/plain/c.txt"

answers() { # INDEX -> the answers to every corpus query
    "$IDX" query -i "$1" --batch -k 20 --format trec < "$T/c/queries.tsv"
}
build() { # NAME INPUT...: builds $T/ix-NAME, stderr in $T/err-NAME
    local name=$1
    shift
    "$IDX" build -o "$T/ix-$name" "$@" > /dev/null 2> "$T/err-$name"
}
same_as_plain() { # NAME: same documents and answers as the reference
    local name=$1
    head -n 1 "$T/err-$name" | grep -qF ": 401 docs, 0 skipped" &&
        answers "$T/ix-$name" | cmp -s - "$T/answers-plain"
}

build plain "$T/plain"
answers "$T/ix-plain" > "$T/answers-plain"
check "reference: 401 documents" grep -qF ": 401 docs, 0 skipped" "$T/err-plain"
check "reference answers queries" test "$(wc -l < "$T/answers-plain")" -gt 100

# Compressed files in a directory, under names that hide the compression.
mkdir "$T/packed"
bzip2 -c "$T/plain/a.jsonl" > "$T/packed/a.jsonl"
xz -c "$T/plain/b.jsonl" > "$T/packed/b.jsonl.xz"
zstd -q -c "$T/plain/c.txt" > "$T/packed/c.txt.zst"
build packed "$T/packed"
check "bzip2, xz and zstd files in a directory" same_as_plain packed

# Multistream .bz2 (Wikipedia's format) of the whole corpus + the note.
{ bzip2 -c "$T/plain/a.jsonl"; bzip2 -c "$T/plain/b.jsonl"; } > "$T/multi.jsonl.bz2"
gzip -n -c "$T/plain/c.txt" > "$T/c.txt.gz"
build multi "$T/multi.jsonl.bz2" "$T/c.txt.gz"
check "multistream bzip2" same_as_plain multi

# Archives: each member is an input with its own format.
tar -C "$T/plain" -cf "$T/a.tar" a.jsonl b.jsonl c.txt
tar -C "$T/plain" -czf "$T/a.tar.gz" a.jsonl b.jsonl c.txt
tar -C "$T/plain" -cJf "$T/a.tar.xz" a.jsonl b.jsonl c.txt
(cd "$T/plain" && zip -q -X "$T/a.zip" a.jsonl b.jsonl c.txt)
for a in a.tar a.tar.gz a.tar.xz a.zip; do
    build "$a" "$T/$a"
    check "$a" same_as_plain "$a"
done
# The text member's id is the archive's name + the member's path.
check "member id" sh -c "'$IDX' query -i '$T/ix-a.zip' kalo | grep -qF 'a.zip/c.txt'"
# From a pipe, too.
build pipe <(cat "$T/a.tar.gz")
check "tar.gz from a pipe" same_as_plain pipe

# Damage: reported as FILE: why, skipped, the build goes on (exit 0).
head -c 3000 "$T/a.zip" > "$T/cut.zip"
head -c 20000 "$T/multi.jsonl.bz2" > "$T/cut.jsonl.bz2"
printf 'BZh91AY&SY not really bzip2' > "$T/fake.bz2"
run_rc "$IDX" build -o "$T/ix-bad" "$T/cut.zip" "$T/cut.jsonl.bz2" "$T/fake.bz2" "$T/plain/c.txt" \
    > /dev/null 2> "$T/err-bad"
cat "$T/err-bad"
check "damaged inputs: exit 0 (got $rc)" test "$rc" -eq 0
check "cut zip reported" grep -qE "^idx: $T/cut.zip(/a.jsonl)?(:[0-9]+)?: .*(ZIP|zip|Truncated|truncated)" "$T/err-bad"
check "cut bzip2 reported" grep -qE "^idx: $T/cut.jsonl.bz2(:[0-9]+)?: .*bzip2" "$T/err-bad"
check "good input after damage indexed" sh -c "'$IDX' query -i '$T/ix-bad' kalo | grep -qF c.txt"

# A decompression bomb: 1 GiB of one letter in ~150 kB of xz, read with a
# bounded record (256 MiB) and never held whole.
if [ "$E2E_MODE" = normal ]; then
    head -c 1073741824 /dev/zero | tr '\0' a | xz -T1 -c > "$T/bomb.txt.xz"
    run_rc /usr/bin/env time -f '%M' -o "$T/rss" "$IDX" build -o "$T/ix-bomb" "$T/bomb.txt.xz" \
        > /dev/null 2> "$T/err-bomb"
    check "bomb: record too large" grep -qF "$T/bomb.txt.xz:1: record too large" "$T/err-bomb"
    rss=$(tail -n 1 "$T/rss") # GNU time says "Command exited with non-zero status" first
    check "bomb: memory bounded ($rss KB)" test "$rss" -lt 700000
fi

# Dates: RFC 2822 is found by date:, an unknown date warned about.
cat > "$T/dates.jsonl" << 'EOF'
{"id": "rfc", "body": "zebra one", "date": "Tue, 15 Nov 1994 08:12:31 GMT"}
{"id": "huh", "body": "zebra two", "date": "yesterday"}
{"id": "eve", "body": "zebra three", "date": "1999-12-31T23:30:00-01:00"}
{"id": "two", "body": "zebra four", "author": ["Ann Lee", "Bob Roy"], "category": ["x", "y"]}
EOF
build dates "$T/dates.jsonl"
check "date not understood warned" grep -qF "$T/dates.jsonl:2: date not understood" "$T/err-dates"
check "RFC 2822 date found by date:1994" \
    sh -c "'$IDX' query -i '$T/ix-dates' 'zebra date:1994' | grep -qF rfc"
check "zone applied: 23:30-01:00 is in 2000" \
    sh -c "'$IDX' query -i '$T/ix-dates' 'zebra date:2000' | grep -qF eve"
check "undated article kept" sh -c "'$IDX' query -i '$T/ix-dates' 'zebra two' | grep -qF huh"
check "author array: both authors found" \
    sh -c "'$IDX' query -i '$T/ix-dates' --all 'author:ann author:roy' | grep -qF two"

# TREC newswire variants (AP, WSJ, FT, LA Times, FBIS, untagged), as a .tar.gz.
tar -C "$IDX_SRC/tests/fixtures/reader" -czf "$T/trec.tar.gz" trec
build trec "$T/trec.tar.gz"
check "TREC variants: 8 documents" grep -qF ": 8 docs, 0 skipped" "$T/err-trec"
found() { # QUERY ID: the query finds the id
    "$IDX" query -i "$T/ix-trec" -k 20 --format trec "$1" | awk '{print $3}' | grep -qx "$2"
}
check "AP <HEAD> is the title" found 'title:harbor' AP880212-0001
check "WSJ <HL> is the title" found 'title:"dye unit"' WSJ870324-0001
check "WSJ <DD> 03/24/87 is the date" found 'textile date:1987-03' WSJ870324-0001
check "FBIS <TI> is the title" found 'title:grain' FBIS3-1
check "LA Times <DATE><P> is the date" found 'library date:1989-01-01' LA010189-0001
check "<BYLINE> is the author" found 'author:okafor' AP880212-0001
check "a DOC without <TEXT> has its loose text" found 'dredging testimony' CR93H-1

# Latin-1 / Windows-1252 text (as old French newswire is) is converted.
printf 'Une \xe9conomie fran\xe7aise\nLe c\x9cur de la \x93r\xe9forme\x94 \xe0 Besan\xe7on.\n' \
    > "$T/latin1.txt"
build latin "$T/latin1.txt"
check "Windows-1252 counted" grep -qF "latin1.txt: not UTF-8: 8 bytes read as Windows-1252" "$T/err-latin"
check "Windows-1252: nothing replaced" grep -qF ", 0 invalid UTF-8 sequences" "$T/err-latin"
check "Windows-1252: réforme found" \
    sh -c "'$IDX' query -i '$T/ix-latin' --format json 'réforme besançon' | grep -qF '\"total\":1'"

# French: elisions and ligatures (--language french).
cat > "$T/fr.jsonl" << 'EOF'
{"id": "fr1", "body": "La crise de l'économie mondiale touche d'abord l'Europe."}
{"id": "fr2", "body": "Il a le cœur sur la main et l'œil vif."}
EOF
build fr --language french "$T/fr.jsonl"
frq() { "$IDX" query -i "$T/ix-fr" --format trec "$1" | awk '{print $3}' | grep -qx "$2"; }
check "French: économie finds l'économie" frq 'économie' fr1
check "French: europe finds l'Europe" frq 'europe' fr1
check "French: coeur finds cœur" frq 'coeur' fr2
check "French: oeil finds l'œil" frq 'oeil' fr2

# CJK: a one-character query finds the character inside longer runs (indexed as unigrams
# besides the bigrams), and bigram phrases still match.
printf '%s\n' '{"id": "ja1", "body": "京都の夜桜はとても美しい。"}' \
    '{"id": "zh1", "body": "北京是中国的首都。"}' \
    '{"id": "ja2", "body": "東京の天気は晴れです。"}' '{"id": "zh2", "body": "我爱妈妈。"}' \
    > "$T/cjk.jsonl"
build cjk "$T/cjk.jsonl"
check "CJK: a run ending in a repeated character indexes cleanly" \
    "$IDX" check -i "$T/ix-cjk"
cjk() { "$IDX" query -i "$T/ix-cjk" --format trec "$1" | awk '{print $3}' | sort | tr '\n' ' '; }
check "CJK: 桜 finds 夜桜" test "$(cjk '桜')" = "ja1 "
check "CJK: 妈 finds 妈妈" test "$(cjk '妈')" = "zh2 "
check "CJK: 北 finds 北京" test "$(cjk '北')" = "zh1 "
check "CJK: 京 finds 京都, 北京, 東京" test "$(cjk '京')" = "ja1 ja2 zh1 "
check "CJK: the phrase 夜桜 still matches" test "$(cjk '"夜桜"')" = "ja1 "

# Several authors or categories: each value is a label of its own, all
# shown; a phrase never spans two values (it did when they were one text).
mkdir "$T/multi"
printf '%s\n' '{"id":"m1","body":"x","author":["Ann Smith","Bob Jones"],"category":["solar power","wind"]}' \
    '{"id":"m2","body":"x","author":"Ann Smith Bob"}' > "$T/multi/m.jsonl"
for engine in native xapian; do
    build "multi-$engine" --engine "$engine" "$T/multi/m.jsonl"
    labels() { "$IDX" query -i "$T/ix-multi-$engine" --format trec "$1" | awk '{printf "%s ", $3}'; }
    check "labels ($engine): author:\"bob jones\" finds the second author" \
        test "$(labels 'author:"bob jones"')" = "m1 "
    check "labels ($engine): author:\"smith bob\" does not span two authors" \
        test "$(labels 'author:"smith bob"')" = "m2 "
    check "labels ($engine): category:\"power wind\" does not span two categories" \
        test "$(labels 'category:"power wind"')" = ""
    check "labels ($engine): category:wind" test "$(labels 'category:wind')" = "m1 "
done
check "labels: all authors shown" sh -c "'$IDX' get -i '$T/ix-multi-native' --format text m1 |
    grep -qx 'author: Ann Smith; Bob Jones'"

# The analyzer version in meta: an index from an idx before the key existed
# (the meta without it, its checksum redone) is still searched, but an append,
# whose articles would be analysed differently, is refused.
check "meta records analyzer.version" grep -qx "analyzer.version [1-9][0-9]*" "$T/ix-multi-native/meta"
python3 - "$T/ix-multi-native/meta" <<'PY'
import sys, zlib
path = sys.argv[1]
lines = [l for l in open(path, encoding="ascii").read().splitlines(True)
         if not l.startswith(("analyzer.version ", "crc32 "))]
body = "".join(lines)
open(path, "w", encoding="ascii").write(body + "crc32 %08x\n" % zlib.crc32(body.encode()))
PY
engine=native
check "older analyzer: still searched" test "$(labels 'category:wind')" = "m1 "
run_rc "$IDX" build --append -o "$T/ix-multi-native" "$T/multi/m.jsonl" > /dev/null 2> "$T/err-oldana"
check "older analyzer: append refused (exit 2)" test "$rc" = 2
check "older analyzer: the message says why" grep -qF "analyzer version 0, this one" "$T/err-oldana"

# The real Wikipedia export.
WIKI=$SHARED/corpora/mediawiki-sample/en_test.xml.bz2
if [ -f "$WIKI" ]; then
    for fmt in auto mediawiki; do
        build "wiki-$fmt" --format "$fmt" "$WIKI"
        check "Wikipedia .xml.bz2 (--format $fmt): 33 articles" \
            grep -qF ": 33 docs, 0 skipped" "$T/err-wiki-$fmt"
        check "Wikipedia .xml.bz2 (--format $fmt): 11 redirects" \
            grep -qF "11 redirects" "$T/err-wiki-$fmt"
    done
    wfound() { "$IDX" query -i "$T/ix-wiki-auto" -k 50 --format json "$1" | grep -qF "$2"; }
    check "Wikipedia: {{convert|55|km|mi}} is 55 km" wfound '"55 km" pretoria' '"title":"Pretoria"'
    check "Wikipedia: URL from <base> and the title" \
        wfound pretoria '"url":"http://en.wikipedia.org/wiki/Pretoria"'
    check "Wikipedia: the revision's timestamp is the date" \
        wfound 'pretoria date:2013' '"date":"2013-06-01T22:12:27Z"'
else
    echo "skip Wikipedia export: $WIKI not found"
fi

e2e_finish
