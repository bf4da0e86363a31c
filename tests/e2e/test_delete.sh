#!/usr/bin/env bash
# idx delete (docs/CLI.md, docs/FORMAT.md "Deletions"). On a synthetic
# 600-article index of three segments: ids deleted from arguments, from a
# file and from standard input, unknown ids among them (reported, counted,
# not fatal); afterwards every query, pruned and exhaustive (--count), answers
# exactly the hits it had before minus the deleted articles (totals less the
# deleted matches), `idx get` finds no deleted article,
# `idx check` passes and `idx stats` shows the generation and each segment's
# deletions. A second writer is refused while one holds the lock. Damage:
# every byte flip and every truncation of a deletion file, and every byte
# flip of the meta that names it, is exit 3 for `idx check` and for
# `idx query` with one `idx: ` line. A xapian index deletes too (through
# indexer/update: Xapian's delete_document).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

e2e_tmpdir delete

e2e_corpus "$T/c" --docs 600 --seed 23
"$IDX" build -q --threads 2 --segment-docs 200 -o "$T/ix" "$T/c/docs.jsonl"
# Every hit of every query, exhaustively: ids in rank order and the total.
all_hits() {
    "$IDX" query -i "$1" --batch -k 1000 $2 --format json < "$T/c/queries.tsv" |
        python3 -c '
import json, sys
for line in sys.stdin:
    r = json.loads(line)
    print(r["qid"], r["total"], " ".join(h["id"] + ":" + "%.8f" % h["score"] for h in r["hits"]))'
}
all_hits "$T/ix" --count > "$T/before"

# Ids spread over the three segments, first, middle and last articles included.
python3 - "$T/c/docs.jsonl" "$T" <<'PY'
import json, sys
ids = [json.loads(l)["id"] for l in open(sys.argv[1])]
pick = [ids[i] for i in (0, 1, 199, 200, 333, 399, 400, 512, 598, 599, 17, 250, 450, 77, 303)]
t = sys.argv[2]
open(t + "/args", "w").write("\n".join(pick[:5]) + "\n")
open(t + "/file", "w").write("\n".join(pick[5:10] + ["no-such-id-2", ""]) + "\n")
open(t + "/stdin", "w").write("\r\n".join(pick[10:]) + "\r\n")
open(t + "/deleted", "w").write("\n".join(pick) + "\n")
PY

mapfile -t args < "$T/args"
run_rc "$IDX" delete --no-merge -i "$T/ix" "${args[@]}" no-such-id-1 2> "$T/err1"
check "delete from arguments: exit 0" test "$rc" -eq 0
check "delete: unknown id reported" grep -qx "idx: delete: no article with id 'no-such-id-1'" "$T/err1"
check "delete: summary" grep -qx "idx: deleted 5, unknown 1 (generation 1)" "$T/err1"
run_rc "$IDX" delete --no-merge -i "$T/ix" --ids-from "$T/file" 2> "$T/err2"
check "delete --ids-from FILE: exit 0, summary" \
    test "$rc" -eq 0 -a "$(tail -1 "$T/err2")" = "idx: deleted 5, unknown 1 (generation 2)"
run_rc "$IDX" delete --no-merge -i "$T/ix" --ids-from - < "$T/stdin" 2> "$T/err3"
check "delete --ids-from - (CRLF lines): exit 0, summary" \
    test "$rc" -eq 0 -a "$(cat "$T/err3")" = "idx: deleted 5, unknown 0 (generation 3)"
run_rc "$IDX" delete --no-merge -i "$T/ix" "${args[0]}" 2> "$T/err4"
check "deleting a deleted id: unknown, no new generation" \
    test "$rc" -eq 0 -a "$(tail -1 "$T/err4")" = "idx: deleted 0, unknown 1 (generation 3)"
run_rc "$IDX" delete --no-merge -i "$T/ix" 2> /dev/null
check "delete without ids: usage error" test "$rc" -eq 2

check "idx check passes after deletes" quiet "$IDX" check -i "$T/ix"
"$IDX" stats -i "$T/ix" > "$T/stats"
check "stats: generation 3" grep -qE '^generation +3$' "$T/stats"
check "stats: 585 documents" grep -qE '^documents +585$' "$T/stats"
check "stats: a line per segment with its deletions" \
    test "$(grep -cE '^segment +s000[123] \(200 docs, 5 deleted, [0-9]+ bytes\)$' "$T/stats")" -eq 3

# Queries: every hit before (all of them: k is above the collection's size),
# minus the deleted; totals less the deleted matches; pruned runs return the
# same top hits as exhaustive ones. (N is the live count, so idf and with it
# the order of close scores change: the sets are compared.)
all_hits "$T/ix" --count > "$T/after"
all_hits "$T/ix" "" > "$T/after-pruned"
check "queries: the old hits minus the deleted ones, totals less them" \
    python3 - "$T/before" "$T/after" "$T/deleted" <<'PY'
import sys
gone = set(open(sys.argv[3]).read().split())
before = {l.split(" ", 2)[0]: l.split() for l in open(sys.argv[1])}
bad = 0
touched = 0
for l in open(sys.argv[2]):
    f = l.split()
    b = before[f[0]]
    old = [h.split(":")[0] for h in b[2:]]
    new = [h.split(":")[0] for h in f[2:]]
    lost = [i for i in old if i in gone]
    touched += bool(lost)
    if set(old) - gone != set(new) or int(b[1]) - len(lost) != int(f[1]):
        print("query", f[0], "before", b[:12], "after", f[:12])
        bad += 1
if bad or touched < 5:
    sys.exit(f"{bad} queries differ; {touched} queries had deleted hits")
PY
check "queries: pruned top hits are the exhaustive ones" \
    python3 - "$T/after" "$T/after-pruned" <<'PY'
import sys
ex = {l.split()[0]: l.split()[2:12] for l in open(sys.argv[1])}
for l in open(sys.argv[2]):
    f = l.split()
    if f[2:12] != ex[f[0]]:
        sys.exit(f"query {f[0]}: pruned {f[2:12]} exhaustive {ex[f[0]]}")
PY
while read -r id; do
    run_rc "$IDX" get -i "$T/ix" "$id" 2> "$T/get.err" > /dev/null
    [ "$rc" -eq 1 ] && grep -q "no article with id" "$T/get.err" || echo "$id"
done < "$T/deleted" > "$T/fetched"
check "get: no deleted article is found" test ! -s "$T/fetched"
check "get: a live article is" quiet "$IDX" get -i "$T/ix" "$(sed -n 3p "$T/c/docs.jsonl" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')"

# One writer: while the lock is held, a second is refused (exit 1).
run_rc flock "$T/ix/write.lock" "$IDX" delete --no-merge -i "$T/ix" whatever 2> "$T/busy"
check "second writer: exit 1" test "$rc" -eq 1
check "second writer: named cause" grep -q "^idx: $T/ix: another writer is updating it" "$T/busy"
check "second writer changed nothing" grep -qE '^generation +3$' <("$IDX" stats -i "$T/ix")

# Damage: every flip of every byte of each deletion file and of meta, every
# truncation of the deletion files, and a removed one.
check "damage of deletion files and meta: exit 3, one line, for check and query" \
    python3 - "$IDX" "$T/ix" "$T/c/queries.tsv" <<'PY'
import glob, os, subprocess, sys
idx, ix, queries = sys.argv[1:4]
q = open(queries, "rb").read()
def run(args, inp=None):
    p = subprocess.run([idx] + args, input=inp, capture_output=True, timeout=60)
    return p.returncode, p.stderr.decode(errors="replace")
def damaged(path, data, what):
    with open(path, "wb") as f:
        f.write(data)
    for args, inp in ((["check", "-i", ix], None), (["query", "-i", ix, "--batch"], q)):
        rc, err = run(args, inp)
        lines = err.splitlines()
        if rc != 3 or len(lines) != 1 or not lines[0].startswith("idx: "):
            sys.exit(f"{what}: {args[0]} exit {rc}, stderr {err!r}")
files = sorted(glob.glob(ix + "/*.del"))
if len(files) != 3:
    sys.exit(f"expected 3 deletion files, found {files}")
n = 0
for path in files + [ix + "/meta"]:
    orig = open(path, "rb").read()
    for i in range(len(orig)):
        d = bytearray(orig)
        d[i] ^= 0x01 << (i % 8)
        damaged(path, bytes(d), f"{os.path.basename(path)} flip at {i}")
        n += 1
    if not path.endswith("meta"):
        for size in range(len(orig)):
            damaged(path, orig[:size], f"{os.path.basename(path)} cut to {size}")
            n += 1
        os.remove(path)
        rc, err = run(["check", "-i", ix])
        if rc != 3 or os.path.basename(path) not in err:
            sys.exit(f"removed {path}: exit {rc}, {err!r}")
    with open(path, "wb") as f:
        f.write(orig)
rc, err = run(["check", "-i", ix])
if rc != 0:
    sys.exit(f"restored: exit {rc} {err}")
print(f"{n} damaged copies detected")
PY

# The xapian engine deletes through its own database (ENGINES.md "Updates").
"$IDX" build -q --engine xapian -o "$T/xap" "$T/c/docs.jsonl"
run_rc "$IDX" delete --no-merge -i "$T/xap" "${args[0]}" 2> "$T/xerr"
check "xapian: delete succeeds, exit 0" test "$rc" -eq 0
check "xapian: the summary" grep -qx "idx: deleted 1, unknown 0 (generation 1)" "$T/xerr"
run_rc "$IDX" get -i "$T/xap" "${args[0]}" 2> /dev/null
check "xapian: the deleted article is not found" test "$rc" -eq 1

e2e_finish
