#!/usr/bin/env bash
# idx merge (indexer/merge.h). On a synthetic corpus built as 1 and as 7
# segments (the hidden --segment-docs flag):
# - merging the 7 segments into one answers every query exactly as the
#   one-segment build (ids, scores, counts, stored articles), and writes its
#   postings, positions, lexicon and doc table byte for byte; --max-segments 3
#   leaves 3 segments answering the same; idx check passes each time;
# - with a third of the articles deleted, the merged index answers exactly as
#   a fresh build of the surviving articles, and no file of the old
#   generation is left behind;
# - merge -9: a merge killed at 16 moments (after delays spread over a probe
#   merge's run time, and when each file of the new segment appears, and
#   right after meta is replaced) leaves an index that passes idx check and
#   answers as the previous generation or as the new one, never a mix; the
#   next merge completes and removes the dead one's files;
# - disk full (a tmpfs; skipped where it cannot be mounted): the merge fails
#   with one line naming the file and the cause, the previous generation is
#   current and intact, and the space it took is free again;
# - a xapian index is compacted into a new database directory named by the
#   next generation's meta, and answers as before.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

e2e_tmpdir merge
M=$T/mnt
cleanup() {
    if mountpoint -q "$M" 2> /dev/null; then umount "$M"; fi
    rm -rf "$T"
}
trap cleanup EXIT

answers() {
    "$IDX" query -i "$1" --batch -k 50 < "$2"
    "$IDX" query -i "$1" --batch -k 50 --count --format json < "$2" | sed 's/"took_ms":[0-9.]*,//'
}
segments() { grep -c '^segment ' "$1/meta"; }
# The files an index directory should hold: meta, the lock, and the files
# meta names (each segment's five, its deletion file).
only_referenced() {
    local want
    want=$( (
        echo meta
        echo write.lock
        awk '$1 == "segment" { n = split("lex post pos docs store", ext, " ")
                               for (e = 1; e <= n; e++) print $2 "." ext[e]
                               if ($5 != "-") print $5 }' "$1/meta"
    ) | sort)
    [ "$(ls "$1" | sort)" = "$want" ]
}

# ---- merging a build's segments gives the one-segment build
e2e_corpus "$T/syn" --docs 700 --seed 11
Q=$T/syn/queries.tsv
"$IDX" build -q --threads 2 -o "$T/one" "$T/syn/docs.jsonl"
"$IDX" build -q --threads 2 --segment-docs 100 -o "$T/seven" "$T/syn/docs.jsonl"
cp -a "$T/seven" "$T/three"
answers "$T/one" "$Q" > "$T/one.ans"
check "the queries have answers" test "$(wc -l < "$T/one.ans")" -gt 100
check "7 segments before the merge" test "$(segments "$T/seven")" -eq 7
run_rc "$IDX" merge -i "$T/seven" 2> "$T/err"
check "idx merge exits 0" test "$rc" -eq 0
check "idx merge reports the merge" grep -q "^idx: merged 7 segment(s) into 1: 700 articles" "$T/err"
check "one segment after the merge" test "$(segments "$T/seven")" -eq 1
check "generation 1 after the merge" grep -qx "generation 1" "$T/seven/meta"
check "merged index passes idx check" quiet "$IDX" check -i "$T/seven"
check "merged index answers as the one-segment build (ids, scores, counts)" \
    cmp "$T/one.ans" <(answers "$T/seven" "$Q")
seg=$(awk '$1 == "segment" { print $2 }' "$T/seven/meta")
for ext in lex post pos docs; do
    check "merged $ext is the one-segment build's, byte for byte" \
        cmp "$T/one/s0001.$ext" "$T/seven/$seg.$ext"
done
ids=$(python3 -c 'import json, sys; [print(json.loads(l)["id"]) for l in open(sys.argv[1])]' \
    "$T/syn/docs.jsonl" | awk 'NR % 7 == 3')
# shellcheck disable=SC2086 # one argument an id
check "merged index stores the same articles" \
    cmp <("$IDX" get -i "$T/one" $ids) <("$IDX" get -i "$T/seven" $ids)
check "only the new generation's files remain" only_referenced "$T/seven"
run_rc "$IDX" merge -i "$T/seven" 2> "$T/err"
check "merging one segment without deletions: nothing to do (exit $rc)" test "$rc" -eq 0
check "nothing to do: no new generation" grep -qx "generation 1" "$T/seven/meta"

quiet "$IDX" merge -i "$T/three" --max-segments 3 2> /dev/null
check "--max-segments 3 leaves 3 segments" test "$(segments "$T/three")" -eq 3
check "3 segments pass idx check" quiet "$IDX" check -i "$T/three"
check "3 segments answer as one" cmp "$T/one.ans" <(answers "$T/three" "$Q")
run_rc "$IDX" merge -i "$T/three" --max-segments 0 2> /dev/null
check "--max-segments 0 is a usage error (exit $rc)" test "$rc" -eq 2

# ---- with deletions: a fresh build of the survivors
python3 - "$T/syn/docs.jsonl" "$T/del" <<'PY'
import json, sys
lines = open(sys.argv[1]).readlines()
with open(sys.argv[2] + ".ids", "w") as ids, open(sys.argv[2] + ".kept.jsonl", "w") as kept:
    for n, l in enumerate(lines):
        if n % 3 == 1:
            ids.write(json.loads(l)["id"] + "\n")
        else:
            kept.write(l)
PY
"$IDX" build -q --threads 2 -o "$T/fresh" "$T/del.kept.jsonl"
"$IDX" build -q --threads 2 --segment-docs 100 -o "$T/deleted" "$T/syn/docs.jsonl"
quiet "$IDX" delete --no-merge -i "$T/deleted" --ids-from "$T/del.ids" 2> /dev/null
answers "$T/fresh" "$Q" > "$T/fresh.ans"
answers "$T/deleted" "$Q" > "$T/deleted.ans"
run_rc "$IDX" merge -i "$T/deleted" 2> "$T/err"
check "merge with deletions exits 0" test "$rc" -eq 0
check "merge reports the deleted articles dropped" grep -q "467 articles copied, 233 deleted dropped" "$T/err"
check "merged index with deletions passes idx check" quiet "$IDX" check -i "$T/deleted"
check "merged index with deletions answers as a fresh build of the survivors" \
    cmp "$T/fresh.ans" <(answers "$T/deleted" "$Q")
seg=$(awk '$1 == "segment" { print $2 }' "$T/deleted/meta")
for ext in lex post pos docs; do
    check "merged $ext is the fresh build's, byte for byte" \
        cmp "$T/fresh/s0001.$ext" "$T/deleted/$seg.$ext"
done
check "no deletion file or old segment remains" only_referenced "$T/deleted"

# ---- a xapian index: compacted into a new database directory that meta names
"$IDX" build -q --engine xapian --threads 2 -o "$T/xa" "$T/syn/docs.jsonl"
answers "$T/xa" "$Q" > "$T/xa.ans"
run_rc "$IDX" merge -i "$T/xa" 2> "$T/err"
check "xapian: idx merge exits 0 ($(cat "$T/err"))" test "$rc" -eq 0
check "xapian: meta names the compacted database" grep -qx "database xapian.1" "$T/xa/meta"
check "xapian: the old database is gone" test "$(ls "$T/xa" | sort | tr '\n' ' ')" = "meta write.lock xapian.1 "
# libxapian 1.4.22's Database::check deletes an object through a base of another size, which
# ASan reports (as test_xapian_engine.sh says): only `idx check` of a xapian index is excused.
check "xapian: compacted index passes idx check" \
    env ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}new_delete_type_mismatch=0" \
    "$IDX" check -i "$T/xa" > /dev/null
check "xapian: compacted index answers as before" cmp "$T/xa.ans" <(answers "$T/xa" "$Q")
quiet "$IDX" merge -i "$T/xa" 2> /dev/null
check "xapian: a second compaction replaces the first" \
    test "$(ls "$T/xa" | sort | tr '\n' ' ')" = "meta write.lock xapian.2 "
check "xapian: and answers as before" cmp "$T/xa.ans" <(answers "$T/xa" "$Q")

# ---- idx delete merges by itself: a third deleted puts every segment past the 20% rule, so the
# policy rewrites them after the deletion's own commit, and the answers are a fresh build's.
"$IDX" build -q --threads 2 --segment-docs 100 -o "$T/auto" "$T/syn/docs.jsonl"
run_rc "$IDX" delete -i "$T/auto" --ids-from "$T/del.ids" 2> "$T/err-auto"
check "delete: exit 0 and the automatic merge reported" \
    test "$rc" -eq 0 -a -n "$(grep '^idx: merged ' "$T/err-auto")"
check "delete: no segment keeps deleted articles after the automatic merge" \
    test -z "$(awk '$1 == "segment" && $4 != 0' "$T/auto/meta")"
check "delete + automatic merge answers as a fresh build of the survivors" \
    cmp "$T/fresh.ans" <(answers "$T/auto" "$Q")
check "delete + automatic merge passes idx check" quiet "$IDX" check -i "$T/auto"

# ---- kill -9 during a merge: the previous generation or the new one
e2e_corpus "$T/big" --docs 400 --seed 5 --copies 30
"$IDX" build -q --threads 2 --segment-docs 1500 -o "$T/kill-ref" "$T/big/docs.jsonl"
python3 -c 'import json, sys; [print(json.loads(l)["id"]) for n, l in enumerate(open(sys.argv[1])) if n % 4 == 0]' \
    "$T/big/docs.jsonl" > "$T/big.ids"
quiet "$IDX" delete --no-merge -i "$T/kill-ref" --ids-from "$T/big.ids" 2> /dev/null
python3 - "$IDX" "$T" "$E2E_MODE" <<'PY' || fail=1
import os, shutil, subprocess, sys, time

idx, T, mode = sys.argv[1], sys.argv[2], sys.argv[3]
REF, IX = os.path.join(T, "kill-ref"), os.path.join(T, "kill")
queries = open(os.path.join(T, "big", "queries.tsv"), "rb").read()
fails = []


def run(*args, stdin=None):
    return subprocess.run([idx, *args], input=stdin, capture_output=True)


def answers(ix):
    p = run("query", "-i", ix, "--batch", "-k", "20", stdin=queries)
    return p.returncode, p.stdout


def generation(ix):
    for line in open(os.path.join(ix, "meta")):
        if line.startswith("generation "):
            return int(line.split()[1])
    return 0


def fresh():
    shutil.rmtree(IX, ignore_errors=True)
    shutil.copytree(REF, IX)


old = answers(REF)
probe = None
for _ in range(3):  # the fastest of three: later merges find the files cached
    fresh()
    t0 = time.monotonic()
    p = run("merge", "-i", IX)
    probe = min(probe or 1e9, time.monotonic() - t0)
    assert p.returncode == 0, p.stderr
new = answers(IX)
assert old[0] == 0 and new[0] == 0 and old[1] != new[1], "old and new answers must differ"
new_seg = sorted(f for f in os.listdir(IX) if f.endswith(".lex"))[0].split(".")[0]
print("     probe merge: %.2f s, new segment %s" % (probe, new_seg))

def reached(event, gen0):
    files = os.listdir(IX)
    if event.startswith("file:"):
        return new_seg + "." + event[5:] in files
    if event == "meta":
        return generation(IX) != gen0
    raise ValueError(event)

points = [("delay", probe * f) for f in (0.02, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.97)]
points += [(e, 0) for e in ("file:store", "file:lex", "file:post", "file:docs", "meta")]
if mode != "normal":
    points = points[::2]
outcomes = {"old": 0, "new": 0}
for what, delay in points:
    fresh()
    gen0 = generation(IX)
    q = subprocess.Popen([idx, "merge", "-i", IX], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    t0 = time.monotonic()
    if what != "delay":
        while q.poll() is None and not reached(what, gen0):
            time.sleep(0.0005)
    else:
        while q.poll() is None and time.monotonic() - t0 < delay:
            time.sleep(0.0005)
    finished = q.poll() is not None
    q.kill()
    q.wait()
    label = "%s%s" % (what, " %.3fs" % delay if what == "delay" else "")
    c = run("check", "-i", IX)
    if c.returncode != 0:
        fails.append("%s: idx check fails: %s" % (label, c.stderr.decode().strip()))
    a = answers(IX)
    state = "old" if a == old else "new" if a == new else None
    if state is None:
        fails.append("%s: answers are neither the old nor the new generation's" % label)
    elif (state == "new") != (generation(IX) != gen0):
        fails.append("%s: answers %s under generation %d" % (label, state, generation(IX)))
    else:
        outcomes[state] += 1
    m = run("merge", "-i", IX)
    if m.returncode != 0 or answers(IX) != new:
        fails.append("%s: the next merge does not complete: %s" % (label, m.stderr.decode().strip()))
    if state == "new":  # nothing was left to merge: the next commit removes the leftovers
        run("delete", "-i", IX, "d1")
    leftovers = [f for f in os.listdir(IX) if f.startswith("s") and f.split(".")[0] not in
                 open(os.path.join(IX, "meta")).read()]
    if leftovers:
        fails.append("%s: the next merge leaves %s" % (label, leftovers))
    print("     kill at %-16s %s%s" % (label, state, " (had finished)" if finished else ""))
print("     %d kills: %d left the old generation, %d the new" % (len(points), outcomes["old"],
                                                              outcomes["new"]))
for f in fails:
    print("FAIL " + f)
sys.exit(1 if fails else 0)
PY
check "kill -9 at every phase of a merge leaves the old or the new generation" test "$fail" -eq 0

# ---- disk full during a merge
mkdir "$M"
if ! mount -t tmpfs -o size=24m tmpfs "$M" 2> "$T/err"; then
    echo "SKIP (disk full part): cannot mount a tmpfs: $(cat "$T/err")"
    e2e_finish
fi
cp -a "$T/kill-ref" "$M/ix"
answers "$M/ix" "$T/big/queries.tsv" > "$T/full.ans"
cp "$M/ix/meta" "$T/full.meta"
cp -a "$T/kill-ref" "$T/full-ref"
quiet "$IDX" merge -i "$T/full-ref" 2> /dev/null
bsize=$(stat -f -c %S "$M")
free_blocks() { stat -f -c %a "$M"; }
free0=$(free_blocks)
new_total=$(cat "$T"/full-ref/s*.{lex,post,pos,docs,store} | wc -c)
new_blocks=$(((new_total + bsize - 1) / bsize))
echo "     the merged segment takes $new_blocks blocks ($free0 free)"
cases=0
for keep in 2 $((new_blocks / 8)) $((new_blocks / 4)) $((new_blocks / 2)) $((new_blocks * 3 / 4)) $((new_blocks - 8)); do
    head -c $(((free0 - keep) * bsize)) /dev/zero > "$M/filler"
    run_rc "$IDX" merge -i "$M/ix" 2> "$T/err"
    rm "$M/filler"
    msg=$(cat "$T/err")
    echo "     $keep blocks free: exit $rc, $msg"
    check "$keep blocks free: exit 1" test "$rc" -eq 1
    check "$keep blocks free: one line naming the file and the cause" \
        bash -c '[[ $(wc -l < "$1") = 1 && $2 == "idx: "*"$3/ix/"*": No space left on device" ]]' \
        _ "$T/err" "$msg" "$M"
    check "$keep blocks free: the previous generation is current" cmp "$T/full.meta" "$M/ix/meta"
    check "$keep blocks free: it passes idx check" quiet "$IDX" check -i "$M/ix"
    check "$keep blocks free: it answers as before" cmp "$T/full.ans" <(answers "$M/ix" "$T/big/queries.tsv")
    check "$keep blocks free: all space freed" test "$(free_blocks)" -eq "$free0"
    cases=$((cases + 1))
done
run_rc "$IDX" merge -i "$M/ix" 2> /dev/null
check "with room the merge succeeds (exit $rc)" test "$rc" -eq 0
check "and passes idx check" quiet "$IDX" check -i "$M/ix"
echo "disk full: $cases merges out of space, the previous generation intact each time"
e2e_finish
