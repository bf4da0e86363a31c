#!/usr/bin/env bash
# Bad input never stops a build (unless it would replace an index with a
# wrong one, see below): invalid JSON, missing id/body, a non-object
# line, invalid UTF-8 inside strings, an empty file and a truncated .gz are
# each reported as `FILE:LINE: why` on stderr, skipped and counted; the good
# records around them are all indexed, byte-exact; invalid UTF-8 is stored
# with U+FFFD. Fixtures: tests/fixtures/bad/ (see its README.md).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

FIX="$IDX_SRC/tests/fixtures/bad"
[ -f "$FIX/bad.jsonl" ] || { echo "SKIP: fixtures missing at $FIX"; exit 77; }

e2e_tmpdir bad
trap 'rm -rf "$T"' EXIT

# A truncated .gz: 3000 lines, cut after 20000 compressed bytes.
python3 - "$T/full.jsonl" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    for i in range(1, 3001):
        f.write('{"id":"z%d","title":"zed %d","body":"record number %d, filler %d"}\n'
                % (i, i, i, i * 7919 % 100003))
PY
gzip -n -c "$T/full.jsonl" > "$T/full.jsonl.gz"
head -c 20000 "$T/full.jsonl.gz" > "$T/trunc.jsonl.gz"
# complete lines inside the part that still decompresses
zlines=$( (gzip -dc "$T/trunc.jsonl.gz" 2>/dev/null || true) | wc -l)
if [ "$zlines" -lt 100 ] || [ "$zlines" -ge 3000 ]; then
    echo "FAIL test setup: truncated gzip holds $zlines complete lines"; exit 1
fi

run_rc "$IDX" build --threads 2 -o "$T/ix" "$FIX/bad.jsonl" "$FIX/utf8.jsonl" "$FIX/empty.jsonl" \
    "$T/trunc.jsonl.gz" > "$T/out" 2> "$T/err"
cat "$T/err"
check "build exits 0 despite bad input (got $rc)" test "$rc" -eq 0

has() { grep -qF -- "$1" "$T/err"; }
lacks() { ! grep -qF -- "$1" "$T/err"; }
for n in 2 4 6 7; do
    check "bad.jsonl:$n reported" has "$FIX/bad.jsonl:$n: "
done
check "bad.jsonl:2 says invalid JSON" grep -qE "bad\.jsonl:2: .*JSON" "$T/err"
check "bad.jsonl:4 names the missing id" grep -qE "bad\.jsonl:4: .*id" "$T/err"
check "bad.jsonl:6 names the missing body" grep -qE "bad\.jsonl:6: .*body" "$T/err"
for n in 1 3 5 8 9; do
    check "good line bad.jsonl:$n not reported" lacks "$FIX/bad.jsonl:$n: "
done
check "utf8.jsonl:2 reported" grep -qE "utf8\.jsonl:2: .*UTF-8" "$T/err"
check "utf8.jsonl:1 and :3 not reported" lacks "$FIX/utf8.jsonl:1: "
check "utf8.jsonl:3 not reported" lacks "$FIX/utf8.jsonl:3: "
check "truncated gzip reported at line $((zlines + 1))" has "$T/trunc.jsonl.gz:$((zlines + 1)): "
# (a whole-file remark such as an empty file may omit the line number)
check "every warning is 'idx: FILE:LINE: why'" \
    bash -c '! grep -v "^idx: built \|^idx: [0-9]* terms\|^idx: bytes\|^idx: [0-9.]* s" "$1" |
             grep -vqE "^idx: [^ ]+(:[0-9]+)?: .+"' _ "$T/err"

docs=$((5 + 3 + zlines))
check "summary: $docs docs, 5 skipped, 0 replaced, 3 invalid UTF-8" \
    grep -qE "^idx: built .*: $docs docs, 5 skipped, 0 replaced, 3 invalid UTF-8 sequences" "$T/err"
if [ "$rc" -ne 0 ]; then echo "FAILED (no index to inspect)"; exit 1; fi

check "idx check passes" "$IDX" check -i "$T/ix"
check "idx stats counts $docs documents" \
    bash -c '"$1" stats -i "$2" | grep -qE "^documents +$3\$"' _ "$IDX" "$T/ix" "$docs"
for id in x2 x6 g2 g4 g6 g7 "z$((zlines + 1))" z3000; do
    check "skipped record $id absent (exit 1)" \
        bash -c '"$1" get -i "$2" "$3" >/dev/null 2>&1; test $? -eq 1' _ "$IDX" "$T/ix" "$id"
done

# Good records byte-exact (expected values written out here, not re-read
# through the reader under test).
python3 - "$IDX" "$T/ix" "$zlines" <<'PY' || fail=1
import json, subprocess, sys
idx, ix, zlines = sys.argv[1], sys.argv[2], int(sys.argv[3])
R = "\ufffd"
expect = {
    "g1": {"title": "Good one", "body": "first good record"},
    "g3": {"title": "Good three", "body": "third line is fine", "url": "http://e/3"},
    "g5": {"body": "fifth"},
    "g8": {"body": "uses the text field", "author": "A. Writer"},
    "g9": {"body": "last line without a newline", "date": "2001-02-03"},
    "u1": {"title": "caf\u00e9 ok", "body": "valid utf8"},
    "u2": {"title": "bad " + R + " title", "body": "bad " + R + "( and " + R + " end"},
    "u3": {"body": "after"},
}
for i in sorted({1, 2, 3, zlines // 2, zlines - 1, zlines}):
    expect["z%d" % i] = {"title": "zed %d" % i,
                         "body": "record number %d, filler %d" % (i, i * 7919 % 100003)}
bad = 0
for rid, fields in expect.items():
    p = subprocess.run([idx, "get", "-i", ix, rid], capture_output=True)
    if p.returncode != 0:
        print("FAIL get %s: exit %d %s" % (rid, p.returncode, p.stderr.decode()))
        bad += 1
        continue
    got = json.loads(p.stdout.decode("utf-8"))
    want = dict(fields, id=rid)
    if got != want:
        print("FAIL get %s:\n  got  %r\n  want %r" % (rid, got, want))
        bad += 1
    else:
        print("ok   get %s byte-exact" % rid)
# U+FFFD is stored as its UTF-8 bytes
p = subprocess.run([idx, "get", "-i", ix, "u2"], capture_output=True)
if b"bad \xef\xbf\xbd title" not in p.stdout:
    print("FAIL u2: U+FFFD bytes not in output: %r" % p.stdout)
    bad += 1
sys.exit(1 if bad else 0)
PY

# Builds that would replace an index with a wrong one are refused: exit 3,
# one line saying why (docs/ROBUSTNESS.md), the old index untouched (same answers, same files),
# no temporary directory left.
"$IDX" build -q --threads 2 -o "$T/keep" "$T/full.jsonl"
"$IDX" query -i "$T/keep" -k 50 --format trec record > "$T/keep.before"
(cd "$T/keep" && md5sum ./*) > "$T/keep.md5"
refused() { # DESC WHY-SUBSTRING ARGS...
    local what=$1 why=$2
    shift 2
    run_rc "$IDX" build -q --threads 2 -o "$T/keep" "$@" 2> "$T/err3"
    check "$what: exit 3 (got $rc)" test "$rc" -eq 3
    # (after the reader's warnings about the records themselves)
    check "$what: one line saying why, last" bash -c \
        '[ "$(grep -c "left unchanged" "$1")" -eq 1 ] && tail -1 "$1" | grep -qF -- "$2"' \
        _ "$T/err3" "$why"
    check "$what: old index files untouched" bash -c 'cd "$1/keep" && md5sum -c --quiet "$1/keep.md5" > /dev/null 2>&1' _ "$T"
    "$IDX" query -i "$T/keep" -k 50 --format trec record > "$T/keep.after"
    check "$what: old index answers as before" cmp -s "$T/keep.before" "$T/keep.after"
    check "$what: no temporary directory left" \
        bash -c '! ls -d "$1"/keep.tmp-* 2>/dev/null | grep -q .' _ "$T"
}
# An empty file alone: no document accepted.
refused "empty input" "no document accepted" "$FIX/empty.jsonl"
# A wrong --format: every record rejected (here no <DOC> at all).
refused "wrong --format" "no document accepted" --format trec "$T/full.jsonl"
# The index itself, or a file inside it, as input.
refused "input = output" "inside the index it would replace" "$T/keep"
refused "input inside output" "inside the index it would replace" "$T/keep/meta"
refused "input = output (trailing slash, relative path)" "inside the index" \
    "$(cd "$T" && pwd)/./keep/"
# The index inside an input directory: the walk would read the old index.
mkdir -p "$T/tree"
cp "$T/full.jsonl" "$T/tree/"
"$IDX" build -q --threads 2 -o "$T/tree/ix" "$T/tree/full.jsonl"
run_rc "$IDX" build -q --threads 2 -o "$T/tree/ix" "$T/tree" 2> "$T/err5"
check "index inside an input directory: exit 3 (got $rc)" test "$rc" -eq 3
check "index inside an input directory: says why" grep -qF "lies inside this input directory" "$T/err5"
check "index inside an input directory: index unchanged" quiet "$IDX" check -i "$T/tree/ix"
run_rc "$IDX" build -q --threads 2 -o "$T/tree/new" "$T/tree" 2> "$T/err5"
check "new index inside an input directory: exit 3 (got $rc)" test "$rc" -eq 3
check "new index inside an input directory: nothing created" \
    bash -c '! ls -d "$1"/tree/new* 2>/dev/null | grep -q .' _ "$T"
# More than half of the records rejected: refused unless --force.
python3 - "$T/mostly-bad.jsonl" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    for i in range(10):
        f.write('{"id":"m%d","body":"good record %d"}\n' % (i, i) if i < 4 else "not json %d\n" % i)
PY
refused "6 of 10 records rejected" "6 of 10 records rejected" "$T/mostly-bad.jsonl"
run_rc "$IDX" build -q --force -o "$T/forced" "$T/mostly-bad.jsonl" 2> /dev/null
check "6 of 10 rejected with --force: exit 0 (got $rc)" test "$rc" -eq 0
check "6 of 10 rejected with --force: the 4 good records indexed" \
    bash -c '"$1" stats -i "$2" | grep -qE "^documents +4$"' _ "$IDX" "$T/forced"
head -8 "$T/mostly-bad.jsonl" > "$T/half-bad.jsonl" # 4 good, 4 bad: not more than half
run_rc "$IDX" build -q -o "$T/half" "$T/half-bad.jsonl" 2> /dev/null
check "4 of 8 records rejected: built (exit $rc)" test "$rc" -eq 0

# A binary file skipped in a walked directory adds nothing to the invalid
# UTF-8 count, and the MediaWiki-only figure is not printed for JSON input.
mkdir "$T/withbin"
head -c 200000 "$IDX" > "$T/withbin/a.bin"
head -3 "$T/full.jsonl" > "$T/withbin/b.jsonl"
"$IDX" build --threads 2 -o "$T/binix" "$T/withbin" 2> "$T/err4" || true
check "binary file reported as skipped" grep -qF "1 files skipped" "$T/err4"
check "binary file adds no invalid UTF-8 sequences" grep -qF " 0 invalid UTF-8 sequences" "$T/err4"
check "no redirects figure for JSON input" bash -c '! grep -qF "redirects" "$1"' _ "$T/err4"

# A missing input named on the command line is a data error (exit 3), and
# leaves nothing behind.
run_rc "$IDX" build -q -o "$T/none" "$T/does-not-exist.jsonl" 2> "$T/err2"
check "missing input: exit 3 (got $rc)" test "$rc" -eq 3
check "missing input: message names the path" grep -qF "does-not-exist.jsonl" "$T/err2"
check "missing input: no index and no leftovers" \
    bash -c '! ls -d "$1"/none "$1"/none.tmp-* 2>/dev/null | grep -q .' _ "$T"

e2e_finish
