#!/usr/bin/env bash
# Damage detection. Builds a synthetic 400-article index (six files), then
# damages it one way at a time (fixed seed): single-byte flips at >= 500
# positions spread over every file (each file cut into equal strata, one flip
# in each, plus its first and last byte), each file truncated at random
# lengths, extended by a byte, removed. Each time:
#   - `idx check` exits 3 with one `idx: ` line naming the file, and the
#     offset for the checksummed files (meta, a text file with one CRC,
#     cannot say where);
#   - `idx query --batch` (JSON, with snippets and facets: lexicon, postings,
#     positions, store with the position tables of the records of 128 words or
#     more (FORMAT.md 7.1), dates and facet columns) and `idx get` of ids spread over the store either answer exactly
#     as on the undamaged index (the damage is where they do not read) or print
#     a prefix of those answers and exit 3 with one `idx: ` line: no crash, no
#     hang, no garbage.
# Then forged damage: flips with every checksum recomputed afterwards, so they
# reach the decoders behind the checksums (what a bug in a writer, or a
# deliberate forgery, would produce). Nothing can say such an index is wrong
# byte for byte, so the readers must only stay sane: exit 0 or 3 (one `idx: `
# line), JSON output that parses, UTF-8 text, no hang, and under a 1 GiB
# address-space limit (normal build) no out-of-memory.
# Restored, the index passes again. Also: a missing index directory, a plain
# file and an empty directory are exit 3. Random flips: 500 (+ 200 forged);
# 50 (+ 20) in the sanitizer build, 12 (+ 6) under valgrind, where each
# process costs 5 to 30 times more (DAMAGE_FLIPS overrides).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

e2e_tmpdir damage

e2e_corpus "$T/c" --docs 400
"$IDX" build -q --threads 2 -o "$T/ix" "$T/c/docs.jsonl"
"$IDX" check -i "$T/ix" > /dev/null
case $E2E_MODE in
normal) flips=500 forged=200 ;;
sanitize) flips=50 forged=20 ;;
valgrind) flips=12 forged=6 ;;
esac
flips=${DAMAGE_FLIPS:-$flips}

python3 - "$IDX" "$T/ix" "$T/c/queries.tsv" "$flips" "$forged" "$E2E_MODE" <<'PY' || fail=1
import json, os, random, re, resource, struct, subprocess, sys, zlib

idx, ix, queries, n_flips = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
n_forged, mode = int(sys.argv[5]), sys.argv[6]
files = sorted(os.listdir(ix))
assert files == ["meta", "s0001.docs", "s0001.lex", "s0001.pos", "s0001.post",
                 "s0001.store"], files
qtext = open(queries, "rb").read()
ids = ["d%d" % i for i in (0, 1, 2, 57, 120, 199, 200, 263, 333, 398, 399)]
took = re.compile(rb'"took_ms":[0-9.e+-]+')
TIMEOUT = 120  # a hang is a failure too


def limit_memory():
    # ASan and valgrind reserve far more address space than they use
    if mode == "normal":
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))


def start():
    """The three readers run concurrently on the same damaged index."""
    def popen(args, stdin=None):
        return subprocess.Popen([idx, *args], stdin=subprocess.PIPE if stdin else None,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                preexec_fn=limit_memory)
    return [("check", popen(["check", "-i", ix]), None),
            ("query", popen(["query", "-i", ix, "--batch", "--format", "json", "-k", "5",
                             "--facets", "category,year,author"], qtext), qtext),
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



def reseal(f, m):
    """Recomputes the checksums of file f (bytearray m) over its body as it is now."""
    if f == "meta":
        at = m.rindex(b"crc32 ")
        m[at:] = b"crc32 %08x\n" % zlib.crc32(m[:at])
        return
    foot = len(m) - 32
    data_end, n_pages = struct.unpack_from("<QI", m, foot)
    for p in range(n_pages):
        page = m[p * 4096:min(data_end, (p + 1) * 4096)]
        struct.pack_into("<I", m, data_end + 4 * p, zlib.crc32(page))
    struct.pack_into("<I", m, foot + 16, zlib.crc32(m[data_end:data_end + 4 * n_pages]))
    struct.pack_into("<I", m, foot + 20, zlib.crc32(m[foot:foot + 20]))


def body_end(f, m):
    return m.rindex(b"crc32 ") if f == "meta" else struct.unpack_from("<Q", m, len(m) - 32)[0]


def sane(what, res):
    """Forged damage: any answer is possible, but only a well-formed one. A
    forged id table can make an article unfindable: `get` then says so (exit
    1), which is well-formed as long as idx check reports the damage."""
    for name in ("check", "query", "get"):
        rc, out, err = res[name]
        lines = err.splitlines()
        if (name == "get" and rc == 1 and lines and
                all(l.startswith("idx: get: no article with id") for l in lines)):
            if res["check"][0] != 3:
                fails.append(f"{what}: idx get lost an article but idx check passed")
            forged["get not found"] += 1
            continue
        if rc not in (0, 3) or (rc == 3 and not one_line(err)) or (rc == 0 and err):
            fails.append(f"{what}: idx {name} exit {rc}: {err.strip()[:200]}")
            continue
        try:
            text = out.decode()
            if name == "query":
                for line in text.splitlines():
                    json.loads(line)
        except ValueError as e:
            fails.append(f"{what}: idx {name} printed malformed output: {e}")
            continue
        forged[name + (" exit 0" if rc == 0 else " exit 3")] += 1


forged = {k: 0 for k in ("check exit 0", "check exit 3", "query exit 0", "query exit 3",
                         "get exit 0", "get exit 3", "get not found")}
per_file = -(-n_forged // len(files))
for f in files:
    path = os.path.join(ix, f)
    data = open(path, "rb").read()
    end = body_end(f, data)
    check = bytearray(data)
    reseal(f, check)
    assert check == data, f"reseal of the undamaged {f} changes it: the test's CRC layout is wrong"
    for j in range(per_file):
        m = bytearray(data)
        pos = rng.randrange(j * end // per_file, max((j + 1) * end // per_file, j * end // per_file + 1))
        m[pos] ^= rng.choice([0x01, 0x80, 0xff, rng.randrange(1, 256)])
        reseal(f, m)
        with open(path, "wb") as h:
            h.write(m)
        try:
            sane(f"forged flip {f}@{pos}", finish(start()))
        finally:
            with open(path, "wb") as h:
                h.write(data)
n = per_file * len(files)
print(f"forged flips (checksums recomputed): {n} cases; idx check exit 3 "
      f"{forged['check exit 3']}, exit 0 {forged['check exit 0']}; query exit 0/3 "
      f"{forged['query exit 0']}/{forged['query exit 3']}; get exit 0/3 "
      f"{forged['get exit 0']}/{forged['get exit 3']}, not found {forged['get not found']}")

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
