#!/usr/bin/env bash
# Damage detection. Builds a synthetic 400-article index (six files), then
# damages it one way at a time (fixed seed): single-byte flips at >= 500
# positions spread over every file (each file cut into equal strata, one flip
# in each, plus its first and last byte), each file truncated at random
# lengths, extended by a byte, removed. Each time:
#   - `idx check` exits 3 with one `idx: ` line naming the file, and the
#     offset for the checksummed files (meta, a text file with one CRC,
#     cannot say where);
#   - `idx query --batch` (JSON, with snippets: lexicon, postings, positions,
#     store) and `idx get` of ids spread over the store either answer exactly
#     as on the undamaged index (the damage is where they do not read) or print
#     a prefix of those answers and exit 3 with one `idx: ` line: no crash, no
#     hang, no garbage.
# Restored, the index passes again. Also: a missing index directory, a plain
# file and an empty directory are exit 3. Random flips: 500; 50 in the
# sanitizer build, 12 under valgrind, where each process costs 5 to 30 times
# more (DAMAGE_FLIPS overrides).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

e2e_tmpdir damage
trap 'rm -rf "$T"' EXIT

e2e_corpus "$T/c" --docs 400
"$IDX" build -q --threads 2 -o "$T/ix" "$T/c/docs.jsonl"
"$IDX" check -i "$T/ix" > /dev/null
case $E2E_MODE in
normal) flips=500 ;;
sanitize) flips=50 ;;
valgrind) flips=12 ;;
esac
flips=${DAMAGE_FLIPS:-$flips}

python3 - "$IDX" "$T/ix" "$T/c/queries.tsv" "$flips" <<'PY' || fail=1
import os, random, re, subprocess, sys

idx, ix, queries, n_flips = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
files = sorted(os.listdir(ix))
assert files == ["meta", "s0001.docs", "s0001.lex", "s0001.pos", "s0001.post",
                 "s0001.store"], files
qtext = open(queries, "rb").read()
ids = ["d%d" % i for i in (0, 1, 2, 57, 120, 199, 200, 263, 333, 398, 399)]
took = re.compile(rb'"took_ms":[0-9.e+-]+')
TIMEOUT = 120  # a hang is a failure too


def start():
    """The three readers run concurrently on the same damaged index."""
    def popen(args, stdin=None):
        return subprocess.Popen([idx, *args], stdin=subprocess.PIPE if stdin else None,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return [("check", popen(["check", "-i", ix]), None),
            ("query", popen(["query", "-i", ix, "--batch", "--format", "json", "-k", "5"],
                            qtext), qtext),
            ("get", popen(["get", "-i", ix, *ids]), None)]


def finish(procs):
    res = {}
    for name, p, stdin in procs:
        try:
            out, err = p.communicate(stdin, timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
            err = b"TIMEOUT " + err
        res[name] = (p.returncode, took.sub(b'"took_ms":0', out), err.decode(errors="replace"))
    return res


ref = finish(start())
for name in ("check", "query", "get"):
    assert ref[name][0] == 0 and ref[name][2] == "", (name, ref[name])
fails = []
count = {"cases": 0, "detected": 0, "query exact": 0, "query exit 3": 0, "get exact": 0,
         "get exit 3": 0}


def one_line(err):
    return err.startswith("idx: ") and err.count("\n") == 1


def verify(f, what, want_offset):
    res = finish(start())
    count["cases"] += 1
    rc, _, err = res["check"]
    if rc != 3:
        fails.append(f"{what}: idx check exit {rc}, want 3: {err.strip()[:200]}")
    elif f not in err or (want_offset and "offset" not in err) or not one_line(err):
        fails.append(f"{what}: idx check does not report one line naming {f}"
                     f"{' and the offset' if want_offset else ''}: {err!r}")
    else:
        count["detected"] += 1
    for name in ("query", "get"):
        rc, out, err = res[name]
        if rc == 0 and out == ref[name][1] and not err:
            count[name + " exact"] += 1
        elif (rc == 3 and one_line(err) and ref[name][1].startswith(out)
              and out.endswith(b"\n" if out else b"")):
            count[name + " exit 3"] += 1
        else:
            fails.append(f"{what}: idx {name} exit {rc}, output "
                         f"{'differs' if out != ref[name][1] else 'same'}: {err.strip()[:200]}")


rng = random.Random(4242)
sizes = {f: os.path.getsize(os.path.join(ix, f)) for f in files}
positions = []
per_file = -(-n_flips // len(files))
for f in files:
    n = sizes[f]
    positions += [(f, 0), (f, n - 1)]
    positions += [(f, rng.randrange(j * n // per_file, max((j + 1) * n // per_file, j * n // per_file + 1)))
                  for j in range(per_file)]
for f, pos in positions:
    path = os.path.join(ix, f)
    with open(path, "r+b") as h:
        h.seek(pos)
        orig = h.read(1)
        h.seek(pos)
        h.write(bytes([orig[0] ^ rng.choice([0x01, 0x80, 0xff, rng.randrange(1, 256)])]))
    try:
        verify(f, f"flip {f}@{pos}", f != "meta")
    finally:
        with open(path, "r+b") as h:
            h.seek(pos)
            h.write(orig)
flip_stats = dict(count)

for f in files:
    path = os.path.join(ix, f)
    data = open(path, "rb").read()
    cuts = {0, 1, len(data) - 1} | {rng.randrange(1, len(data) - 1) for _ in range(3)}
    variants = [(f"truncate {f} to {n}/{len(data)}", data[:n], n > 0 and f != "meta")
                for n in sorted(cuts)]
    variants.append((f"extend {f} by a byte", data + b"\0", f != "meta"))
    for what, content, want_offset in variants:
        with open(path, "wb") as h:
            h.write(content)
        try:
            verify(f, what, want_offset)
        finally:
            with open(path, "wb") as h:
                h.write(data)
    os.rename(path, path + ".away")
    try:
        verify(f, f"remove {f}", False)
    finally:
        os.rename(path + ".away", path)

res = finish(start())
if res["check"][0] != 0:
    fails.append(f"restored index fails idx check: {res['check']}")
other = {k: count[k] - flip_stats[k] for k in count}
for label, c in (("flips", flip_stats), ("truncations/extensions/removals", other)):
    print(f"{label}: {c['cases']} cases over {len(files)} files; idx check reported "
          f"{c['detected']}/{c['cases']}; query exact {c['query exact']}, exit 3 "
          f"{c['query exit 3']}; get exact {c['get exact']}, exit 3 {c['get exit 3']}")
print(f"{len(fails)} failures")
for x in fails[:30]:
    print("FAIL " + x)
sys.exit(1 if fails else 0)
PY

run_rc "$IDX" check -i "$T/no-such-dir" 2> "$T/err"
check "check of a missing directory: exit 3 naming it (got $rc)" \
    bash -c '[ "$1" -eq 3 ] && grep -q no-such-dir "$2"' _ "$rc" "$T/err"
echo "not an index" > "$T/plain"
run_rc "$IDX" check -i "$T/plain" 2> "$T/err"
check "check of a plain file: exit 3 naming it (got $rc)" \
    bash -c '[ "$1" -eq 3 ] && grep -q plain "$2"' _ "$rc" "$T/err"
mkdir "$T/emptydir"
run_rc "$IDX" check -i "$T/emptydir" 2> "$T/err"
check "check of an empty directory: exit 3 (got $rc)" test "$rc" -eq 3
e2e_finish
