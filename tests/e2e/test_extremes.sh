#!/usr/bin/env bash
# Extreme inputs end in success or in a clear error, with bounded memory. Each
# case prints its exit status, time and peak RSS; in the normal build the RSS
# is also bounded (the sanitizers' shadow memory makes their figures moot).
#   - a huge article (10 MB) on a last line without a newline, between small ones
#   - 200,000 tiny articles; `idx check` stays linear in the number of articles
#   - an article with 200,000 distinct words
#   - a query of 10,000 words (argument and --batch), 10,000 prefixes (rejected:
#     too many terms), parentheses nested 10,000 deep and other deep nestings
#     (rejected or answered)
#   - an index directory that is a regular file (build -o, query/get/stats/check -i)
#   - unreadable entries in an input directory: a file and a directory without
#     permission (the build runs as nobody through setpriv, since root reads
#     anything), a dangling symbolic link, a FIFO: each reported and skipped
# IDX_LONG_TESTS=1 runs the issue's full sizes instead: a 100 MB article,
# 2 million tiny articles, 1 million distinct words, plus a 1 GB line without a
# newline (over the 256 MiB record limit: reported and skipped). The sizes are
# divided by 4 in the sanitizer build, by 10 under valgrind.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

e2e_tmpdir extremes
long=${IDX_LONG_TESTS:-0}
case $E2E_MODE in
normal) scale=1 ;;
sanitize) scale=4 ;;
valgrind) scale=10 ;;
esac
if [ "$long" = 1 ]; then
    article_mb=$((100 / scale)) tiny=$((2000000 / scale)) distinct=$((1000000 / scale))
else
    article_mb=$((10 / scale)) tiny=$((200000 / scale)) distinct=$((200000 / scale))
fi

# measure DESC CMD...: runs CMD (stdout to $T/out, stderr to $T/err) and sets
# rc, secs and rss (peak resident set of CMD, MB).
measure() {
    local what=$1
    shift
    read -r rc secs rss < <(python3 -c '
import resource, subprocess, sys, time
t = time.monotonic()
with open(sys.argv[1], "wb") as o, open(sys.argv[2], "wb") as e:
    rc = subprocess.call(sys.argv[3:], stdout=o, stderr=e)
print(rc, "%.2f" % (time.monotonic() - t), resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)
' "$T/out" "$T/err" "$@")
    echo "     $what: exit $rc, $secs s, peak RSS $rss MB"
}
# rss_below MB: the last measured peak RSS is below MB (normal build only).
rss_below() { [ "$E2E_MODE" != normal ] || [ "$rss" -lt "$1" ]; }
one_error() { [ "$(wc -l < "$T/err")" = 1 ] && grep -qE "^idx: .*$1" "$T/err"; }

# ---- a huge article on a last line without a newline ----
python3 - "$T/huge.jsonl" "$article_mb" <<'PY'
import random, sys
rng = random.Random(7)
words = ["w%x" % i for i in range(5000)]
chunk = " ".join(rng.choice(words) for _ in range(100000)) + " "
n = int(sys.argv[2]) << 20
body = (chunk * (n // len(chunk) + 1))[:n - 6] + " omega"
with open(sys.argv[1], "w") as f:
    f.write('{"id":"small1","body":"alpha before"}\n')
    f.write('{"id":"huge","title":"huge article","body":"%s"}' % body)
PY
measure "build, one $article_mb MB article" "$IDX" build --threads 2 -o "$T/ix-huge" "$T/huge.jsonl"
check "huge article: build succeeds" test "$rc" -eq 0
check "huge article: peak RSS $rss MB < 12 x the article + 100 MB" rss_below $((12 * article_mb + 100))
check "huge article: idx check passes" quiet "$IDX" check -i "$T/ix-huge"
check "huge article: found by its last word" \
    bash -c '"$1" query -i "$2" --format trec omega | grep -q " huge "' _ "$IDX" "$T/ix-huge"
check "huge article: stored whole" bash -c '"$1" get -i "$2" huge small1 | python3 -c "
import json, sys
docs = [json.loads(l) for l in sys.stdin]
sys.exit(not (len(docs[0][\"body\"]) == $3 << 20 and docs[1][\"body\"] == \"alpha before\"))"' \
    _ "$IDX" "$T/ix-huge" "$article_mb"
rm -rf "$T/huge.jsonl" "$T/ix-huge"

# ---- many tiny articles ----
awk -v n="$tiny" 'BEGIN { for (i = 0; i < n; i++) printf "{\"id\":\"t%d\",\"body\":\"tiny w%d\"}\n", i, i % 50000 }' \
    > "$T/tiny.jsonl"
measure "build, $tiny tiny articles" "$IDX" build --threads 2 -o "$T/ix-tiny" "$T/tiny.jsonl"
build_secs=$secs
check "tiny articles: build succeeds" test "$rc" -eq 0
check "tiny articles: peak RSS $rss MB < 600 MB" rss_below 600
check "tiny articles: all $tiny indexed" \
    bash -c '"$1" stats -i "$2" | grep -qE "^documents +$3\$"' _ "$IDX" "$T/ix-tiny" "$tiny"
measure "check, $tiny tiny articles" "$IDX" check -i "$T/ix-tiny"
check "tiny articles: idx check passes" test "$rc" -eq 0
# It used to inflate half a store block per article: 2 minutes for 2 million.
check "tiny articles: idx check ($secs s) is not much slower than the build ($build_secs s)" \
    python3 -c "import sys; sys.exit(not ($secs <= 2 * $build_secs + 1))"
check "tiny articles: the last one is there" \
    bash -c '"$1" get -i "$2" "t$(($3 - 1))" | grep -q "tiny w"' _ "$IDX" "$T/ix-tiny" "$tiny"
rm -rf "$T/tiny.jsonl" "$T/ix-tiny"

# ---- an article with many distinct words ----
python3 -c '
import sys
n = int(sys.argv[2])
words = " ".join("u%07x" % (i * 2654435761 % 2**32) for i in range(n))
with open(sys.argv[1], "w") as f:
    f.write("{\"id\":\"m1\",\"title\":\"distinct\",\"body\":\"%s\"}\n" % words)
    f.write("{\"id\":\"m2\",\"body\":\"another u0000000\"}\n")
' "$T/distinct.jsonl" "$distinct"
measure "build, $distinct distinct words" "$IDX" build --threads 2 -o "$T/ix-distinct" "$T/distinct.jsonl"
check "distinct words: build succeeds" test "$rc" -eq 0
check "distinct words: peak RSS $rss MB < 600 MB" rss_below 600
check "distinct words: idx check passes" quiet "$IDX" check -i "$T/ix-distinct"
check "distinct words: a rare one is found" \
    bash -c '"$1" query -i "$2" --format trec u9e3779b1 | grep -q " m1 "' _ "$IDX" "$T/ix-distinct"
rm -rf "$T/distinct.jsonl" "$T/ix-distinct"

# ---- a line over the record limit (long run only: 1 GB of disk) ----
if [ "$long" = 1 ]; then
    { echo '{"id":"before","body":"fine"}'; printf '{"id":"g1","body":"'
      head -c $((1024 * 1024 * 1024)) /dev/zero | tr '\0' a; } > "$T/gb.jsonl"
    measure "build, a 1 GB line without a newline" "$IDX" build --threads 2 -o "$T/ix-gb" "$T/gb.jsonl"
    check "1 GB line: build succeeds" test "$rc" -eq 0
    check "1 GB line: reported as too large" grep -q "gb.jsonl:2: record too large" "$T/err"
    check "1 GB line: peak RSS $rss MB < 450 MB" rss_below 450
    check "1 GB line: the record before it is indexed" quiet "$IDX" get -i "$T/ix-gb" before
    rm -rf "$T/gb.jsonl" "$T/ix-gb"
fi

# ---- queries ----
e2e_corpus "$T/c" --docs 400
"$IDX" build -q --threads 2 -o "$T/ix" "$T/c/docs.jsonl"
python3 - "$T" <<'PY'
import json, random, sys
T = sys.argv[1]
rng = random.Random(3)
vocab = sorted({w for l in open(T + "/c/docs.jsonl") for w in json.loads(l)["body"].rstrip(".").split()})
words = " ".join(rng.choice(vocab) for _ in range(10000))
queries = {"words": words, "prefixes": " ".join(w[:3] + "*" for w in words.split()),
           "parens": "(" * 10000 + vocab[0] + ")" * 10000, "open": "(" * 10000 + vocab[0],
           "close": ")" * 10000 + vocab[0], "not": "NOT " * 10000 + vocab[0],
           "minus": "-(" * 10000 + vocab[0], "fields": "title:(" * 10000 + vocab[0],
           "and": (vocab[0] + " AND ") * 10000 + vocab[1], "quotes": '"' * 10001}
for name, q in queries.items():
    open("%s/q-%s.txt" % (T, name), "w").write(q)
with open(T + "/batch.tsv", "w") as f:
    f.write("1\t%s\n2\t%s\n3\t%s\n" % (words, queries["prefixes"], vocab[0]))
PY
measure "query of 10,000 words" "$IDX" query -i "$T/ix" --format trec -k 5 "$(cat "$T/q-words.txt")"
check "10,000 words: answered (exit $rc)" bash -c '[ "$1" = 0 ] && [ "$(wc -l < "$2")" = 5 ]' _ "$rc" "$T/out"
check "10,000 words: peak RSS $rss MB < 100 MB" rss_below 100
measure "query of 10,000 words, --all" "$IDX" query -i "$T/ix" --all --format trec "$(cat "$T/q-words.txt")"
check "10,000 words --all: answered (exit $rc)" test "$rc" -eq 0
measure "query of 10,000 prefixes" "$IDX" query -i "$T/ix" --format trec "$(cat "$T/q-prefixes.txt")"
check "10,000 prefixes: rejected, exit 2 (got $rc), too many terms" \
    bash -c '[ "$1" = 2 ] && grep -q "too large" "$2"' _ "$rc" "$T/err"
check "10,000 prefixes: peak RSS $rss MB < 200 MB (it was 2.7 GB)" rss_below 200
"$IDX" build -q --engine xapian -o "$T/ix-xapian" "$T/c/docs.jsonl"
measure "query of 10,000 prefixes, xapian engine" \
    "$IDX" query -i "$T/ix-xapian" --format trec "$(cat "$T/q-prefixes.txt")"
check "10,000 prefixes, xapian engine: rejected, exit 2 (got $rc), too many terms" \
    bash -c '[ "$1" = 2 ] && grep -q "too large" "$2"' _ "$rc" "$T/err"
check "10,000 prefixes, xapian engine: peak RSS $rss MB < 200 MB (it was 1.4 GB)" rss_below 200
rm -rf "$T/ix-xapian"
measure "--batch: 10,000 words, 10,000 prefixes, one word" \
    bash -c '"$1" query -i "$2" --batch -k 5 < "$3"' _ "$IDX" "$T/ix" "$T/batch.tsv"
check "--batch: exit 2 for the rejected query (got $rc), the others answered" \
    bash -c '[ "$1" = 2 ] && [ "$(cut -d" " -f1 "$2" | sort -u | tr "\n" " ")" = "1 3 " ]' \
    _ "$rc" "$T/out"
for name in parens open minus fields; do
    measure "query $name: $(head -c 24 "$T/q-$name.txt")..." \
        "$IDX" query -i "$T/ix" "$(cat "$T/q-$name.txt")"
    check "$name: rejected, exit 2 (got $rc), nesting too deep" \
        bash -c '[ "$1" = 2 ] && grep -q "nested deeper than 100" "$2"' _ "$rc" "$T/err"
done
measure "query close: $(head -c 24 "$T/q-close.txt")..." "$IDX" query -i "$T/ix" "$(cat "$T/q-close.txt")"
check "close: rejected, exit 2 (got $rc), one line" \
    bash -c '[ "$1" = 2 ] && [ "$(wc -l < "$2")" = 1 ]' _ "$rc" "$T/err"
measure "query quotes: \" x 10,001" "$IDX" query -i "$T/ix" "$(cat "$T/q-quotes.txt")"
check "quotes: repaired (the last quote closed at the end) and answered (exit $rc)" test "$rc" -eq 0
measure "query not: NOT x 10,000" "$IDX" query -i "$T/ix" "$(cat "$T/q-not.txt")"
check "NOT x 10,000: answered (exit $rc)" test "$rc" -eq 0
# 160 KB: more than one argument may hold; through --batch
printf '1\t%s\n' "$(cat "$T/q-and.txt")" > "$T/and.tsv"
measure "query: 10,000 ANDs" bash -c '"$1" query -i "$2" --batch < "$3"' _ "$IDX" "$T/ix" "$T/and.tsv"
check "10,000 ANDs: answered (exit $rc)" test "$rc" -eq 0

# ---- an index directory that is a regular file ----
echo "not an index" > "$T/plain"
run_rc "$IDX" build -q -o "$T/plain" "$T/c/docs.jsonl" 2> "$T/err"
check "build -o FILE: exit 3 (got $rc)" test "$rc" -eq 3
check "build -o FILE: one line naming it" one_error "plain: exists and is not a directory"
check "build -o FILE: the file is untouched" grep -qx "not an index" "$T/plain"
run_rc "$IDX" build -q -o "$T/plain/sub" "$T/c/docs.jsonl" 2> "$T/err"
check "build -o FILE/sub: exit 3 (got $rc)" test "$rc" -eq 3
check "build -o FILE/sub: one line naming it" one_error "plain/sub"
for cmd in "query -i $T/plain word" "get -i $T/plain d1" "stats -i $T/plain" "check -i $T/plain"; do
    # shellcheck disable=SC2086 # the words of $cmd are meant to split
    run_rc "$IDX" $cmd > /dev/null 2> "$T/err"
    check "${cmd%% *} -i FILE: exit 3 (got $rc), one line naming it" \
        bash -c '[ "$1" = 3 ] && grep -q "plain: not an index directory" "$2"' _ "$rc" "$T/err"
done

# ---- unreadable entries in an input directory ----
in=$T/in
mkdir -p "$in/sub" "$in/locked"
echo '{"id":"a","body":"readable"}' > "$in/a.jsonl"
echo '{"id":"s","body":"in a subdirectory"}' > "$in/sub/s.jsonl"
echo '{"id":"b","body":"unreadable"}' > "$in/b.jsonl"
echo '{"id":"l","body":"locked in"}' > "$in/locked/l.jsonl"
chmod 000 "$in/b.jsonl" "$in/locked"
ln -s "$T/nowhere" "$in/dangling.jsonl"
mkfifo "$in/fifo.jsonl"
# Root reads anything: the unreadable entries need another user (valgrind's
# log directory is world-writable, so that works under memcheck too).
as=()
if [ "$(id -u)" = 0 ]; then
    if command -v setpriv > /dev/null; then
        as=(setpriv --reuid=65534 --regid=65534 --clear-groups)
        chmod 755 "$T"
        mkdir "$T/outdir" && chmod 777 "$T/outdir"
    fi
else
    mkdir "$T/outdir"
fi
if [ -d "$T/outdir" ]; then
    measure "build of a directory with unreadable entries${as:+ (as nobody)}" \
        timeout 60 "${as[@]}" "$IDX" build --threads 2 -o "$T/outdir/ix" "$in"
    check "unreadable entries: build succeeds (exit $rc)" test "$rc" -eq 0
    check "unreadable file reported" grep -q "b.jsonl: cannot open: Permission denied" "$T/err"
    check "unreadable directory reported" grep -q "locked: cannot read directory: Permission denied" "$T/err"
    check "the readable articles indexed" grep -q "built .*: 2 docs" "$T/err"
else
    echo "SKIP unreadable file and directory: running as root without setpriv"
    mkdir "$T/outdir"
    chmod 755 "$in/b.jsonl" "$in/locked"
    measure "build of a directory with a dangling link and a FIFO" \
        timeout 60 "$IDX" build --threads 2 -o "$T/outdir/ix" "$in"
    check "build succeeds (exit $rc)" test "$rc" -eq 0
fi
check "dangling symbolic link reported" grep -q "dangling.jsonl: cannot open: No such file" "$T/err"
check "FIFO reported, not opened" grep -q "fifo.jsonl: not a regular file, skipped" "$T/err"
chmod 755 "$in/b.jsonl" "$in/locked" # so that the trap can remove them
e2e_finish
