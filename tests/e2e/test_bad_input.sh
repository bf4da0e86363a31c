#!/usr/bin/env bash
# Bad input never stops a build: invalid JSON, missing id/body, a non-object
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

# An empty file alone: a valid empty index, exit 0.
check "empty input builds an empty index" "$IDX" build -q -o "$T/empty" "$FIX/empty.jsonl"
check "empty index passes idx check" "$IDX" check -i "$T/empty"
check "empty index has 0 documents" \
    bash -c '"$1" stats -i "$2" | grep -qE "^documents +0$"' _ "$IDX" "$T/empty"

# A missing input named on the command line is a data error (exit 3), and
# leaves nothing behind.
run_rc "$IDX" build -q -o "$T/none" "$T/does-not-exist.jsonl" 2> "$T/err2"
check "missing input: exit 3 (got $rc)" test "$rc" -eq 3
check "missing input: message names the path" grep -qF "does-not-exist.jsonl" "$T/err2"
check "missing input: no index and no leftovers" \
    bash -c '! ls -d "$1"/none "$1"/none.tmp-* 2>/dev/null | grep -q .' _ "$T"

e2e_finish
