#!/usr/bin/env bash
# Damage detection: build cranfield, then flip single bytes at ~60 positions
# spread over every file of the index (fixed seed) and truncate every file at
# several lengths; each time `idx check` must exit 3 and name the damaged
# file, and `idx get`/`idx stats` must not crash. Restored, the index passes
# again. Also: a missing index directory and a plain file are exit 3.
set -euo pipefail

: "${IDX:?IDX must point at the idx binary}"
IDX_SRC=${IDX_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
DOCS="$IDX_SRC/../shared/corpora/cranfield/docs.jsonl"
[ -f "$DOCS" ] || { echo "SKIP: $DOCS not found"; exit 77; }

T=$(mktemp -d "${TMPDIR:-/tmp}/idx-e2e-damage.XXXXXX")
trap 'rm -rf "$T"' EXIT

"$IDX" build -q --threads 2 -o "$T/ix" "$DOCS"
"$IDX" check -i "$T/ix" > /dev/null

python3 - "$IDX" "$T/ix" <<'PY'
import os, random, subprocess, sys

idx, ix = sys.argv[1], sys.argv[2]
files = sorted(f for f in os.listdir(ix) if os.path.isfile(os.path.join(ix, f)))
assert "meta" in files and len(files) >= 6, files
rng = random.Random(4242)
fails = []

def run(*args):
    p = subprocess.run([idx, *args], capture_output=True)
    return p.returncode, p.stderr.decode(errors="replace")

def expect_damage(f, what):
    rc, err = run("check", "-i", ix)
    if rc != 3:
        fails.append(f"{what}: idx check exit {rc}, want 3 ({err.strip()[:200]})")
    elif f not in err:
        fails.append(f"{what}: message does not name {f}: {err.strip()[:200]}")
    elif not err.startswith("idx: ") or err.count("\n") != 1:
        fails.append(f"{what}: message is not one 'idx: ...' line: {err!r}")
    # readers of a damaged index report or work, never crash
    for args in (("get", "-i", ix, "1"), ("get", "-i", ix, "1400"), ("stats", "-i", ix)):
        rc2, err2 = run(*args)
        if rc2 not in (0, 1, 3):
            fails.append(f"{what}: idx {args[0]} exit {rc2} (crash?): {err2.strip()[:200]}")

# ~60 single-byte flips: first and last byte of every file, the rest spread
# at random over all files.
positions = []
for f in files:
    size = os.path.getsize(os.path.join(ix, f))
    positions += [(f, 0), (f, size - 1)]
while len(positions) < 60:
    f = rng.choice(files)
    positions.append((f, rng.randrange(os.path.getsize(os.path.join(ix, f)))))
for f, pos in positions:
    path = os.path.join(ix, f)
    with open(path, "r+b") as h:
        h.seek(pos)
        orig = h.read(1)
        h.seek(pos)
        h.write(bytes([orig[0] ^ rng.choice([0x01, 0x80, 0xff, rng.randrange(1, 256)])]))
    try:
        expect_damage(f, f"flip {f}@{pos}")
    finally:
        with open(path, "r+b") as h:
            h.seek(pos)
            h.write(orig)

# Truncations of every file.
for f in files:
    path = os.path.join(ix, f)
    data = open(path, "rb").read()
    for n in sorted({0, 1, len(data) // 2, len(data) - 33, len(data) - 1}):
        if n < 0:
            continue
        with open(path, "wb") as h:
            h.write(data[:n])
        try:
            expect_damage(f, f"truncate {f} to {n}/{len(data)}")
        finally:
            with open(path, "wb") as h:
                h.write(data)
    # a missing file
    os.rename(path, path + ".away")
    try:
        expect_damage(f, f"remove {f}")
    finally:
        os.rename(path + ".away", path)

rc, err = run("check", "-i", ix)
if rc != 0:
    fails.append(f"restored index fails idx check: exit {rc}: {err}")
print(f"{len(positions)} flips, {len(files)} files truncated/removed; {len(fails)} failures")
for x in fails[:30]:
    print("FAIL " + x)
sys.exit(1 if fails else 0)
PY

fail=0
set +e
"$IDX" check -i "$T/no-such-dir" 2> "$T/err"; rc=$?
set -e
if [ "$rc" -ne 3 ] || ! grep -q "no-such-dir" "$T/err"; then
    echo "FAIL check of a missing directory: exit $rc: $(cat "$T/err")"; fail=1
fi
echo "not an index" > "$T/plain"
set +e
"$IDX" check -i "$T/plain" 2> "$T/err"; rc=$?
set -e
if [ "$rc" -ne 3 ] || ! grep -q "plain" "$T/err"; then
    echo "FAIL check of a plain file: exit $rc: $(cat "$T/err")"; fail=1
fi
mkdir "$T/emptydir"
set +e
"$IDX" check -i "$T/emptydir" 2> "$T/err"; rc=$?
set -e
if [ "$rc" -ne 3 ]; then
    echo "FAIL check of an empty directory: exit $rc: $(cat "$T/err")"; fail=1
fi
[ "$fail" -eq 0 ] && echo PASS || echo FAILED
exit "$fail"
