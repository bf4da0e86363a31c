#!/usr/bin/env bash
# idx build --append, both engines (docs/FORMAT.md "Generations"):
# - an index built by appending a corpus in K batches (K = 1, 3, 7; the
#   first append makes the index) ranks exactly like the one-shot build of
#   the whole corpus: same ids, same scores (`--batch --format trec -k 20`),
#   on the synthetic corpus and, with the shared data, on every judged collection;
# - an appended article whose id is in the index replaces it: the old text
#   no longer matches, counts stay right, idx get returns the new one;
# - refused appends (no document accepted, mostly rejected input, input
#   inside the index, flags contradicting the index's settings) leave the
#   index untouched; a second writer is refused while one holds the lock, and
#   a full rebuild waits for it before swapping;
# - SIGINT/SIGTERM stop an append cleanly (exit 130/143, index untouched,
#   no file left behind);
# - kill -9 at >= 10 moments of an append: `idx check` passes and the index
#   answers exactly as the previous generation or as the new one.
# Under the sanitizers (IDX_SANITIZE=1) fewer collections, batches and kill points.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

e2e_tmpdir append
# libxapian's Database::check trips ASan's new_delete_type_mismatch (a defect
# of the library: test_xapian_engine.sh); only `idx check` runs it, so only it
# is excused.
CHECK_ASAN="${ASAN_OPTIONS:+$ASAN_OPTIONS:}new_delete_type_mismatch=0"
export CHECK_ASAN
idx_check() { ASAN_OPTIONS=$CHECK_ASAN "$IDX" check "$@"; }
slow=0
[ "$E2E_MODE" != normal ] && slow=1

# split_input FILE K DIR: FILE (JSONL, possibly gzipped) cut into K consecutive
# batches DIR/b1.jsonl .. DIR/bK.jsonl of about equal size.
split_input() {
    mkdir -p "$3"
    python3 - "$1" "$2" "$3" << 'PY'
import gzip, sys
src, k, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
op = gzip.open if src.endswith(".gz") else open
lines = [l for l in op(src, "rt", encoding="utf-8") if l.strip()]
n = len(lines)
for i in range(k):
    with open("%s/b%d.jsonl" % (out, i + 1), "w", encoding="utf-8") as f:
        f.writelines(lines[i * n // k:(i + 1) * n // k])
PY
}

# append_batches IX K DIR ENGINE: builds IX by K appends of DIR's batches.
append_batches() {
    local ix=$1 k=$2 dir=$3 engine=$4 i
    rm -rf "$ix"
    "$IDX" build -q --threads 2 --append --engine "$engine" -o "$ix" "$dir/b1.jsonl"
    for ((i = 2; i <= k; i++)); do
        "$IDX" build -q --threads 2 --append -o "$ix" "$dir/b$i.jsonl"
    done
}

answers() { # IX QUERIES: the top 20 of every query, with scores
    "$IDX" query -i "$1" --batch -k 20 --format trec < "$2"
}

# same_as_one_shot NAME DOCS QUERIES KS: K-batch appends rank as one build.
same_as_one_shot() {
    local name=$1 docs=$2 q=$3 ks=$4 e k
    for e in native xapian; do
        "$IDX" build -q --threads 2 --engine "$e" -o "$T/one" "$docs"
        answers "$T/one" "$q" > "$T/one.trec"
        for k in $ks; do
            rm -rf "$T/split"
            split_input "$docs" "$k" "$T/split"
            append_batches "$T/k" "$k" "$T/split" "$e"
            answers "$T/k" "$q" > "$T/k.trec"
            check "$name $e: $k appends rank as the one-shot build ($(wc -l < "$T/one.trec") hits)" \
                cmp -s "$T/one.trec" "$T/k.trec"
            check "$name $e: $k appends pass idx check" quiet idx_check -i "$T/k"
        done
        rm -rf "$T/one" "$T/k"
    done
}

# ---- K batches rank as one ----
e2e_corpus "$T/syn" --docs 700
ks="1 3 7"
[ $slow = 1 ] && ks="1 3"
same_as_one_shot synthetic "$T/syn/docs.jsonl" "$T/syn/queries.tsv" "$ks"

if [ -d "$SHARED/corpora" ]; then
    collections="cranfield cisi med cacm lisa adi cf"
    ks="3 7"
    [ $slow = 1 ] && collections="cranfield adi" && ks=3
    for c in $collections; do
        d=$SHARED/corpora/$c
        docs=$d/docs.jsonl
        [ -f "$docs" ] || docs=$d/docs.jsonl.gz
        if [ ! -f "$docs" ] || [ ! -f "$d/queries.plain.tsv" ]; then
            echo "FAIL $c: collection incomplete in $SHARED/corpora"
            fail=1
            continue
        fi
        same_as_one_shot "$c" "$docs" "$d/queries.plain.tsv" "$ks"
    done
else
    echo "skip the judged collections: $SHARED/corpora absent"
fi

# ---- replacement ----
cat > "$T/r1.jsonl" << 'EOF'
{"id": "a1", "title": "Apple orchards", "body": "apple trees in the orchard"}
{"id": "a2", "title": "Pumpkin harvest", "body": "the pumpkin harvest of the village"}
{"id": "a3", "title": "Pear trees", "body": "pear trees and apple trees in the village"}
EOF
cat > "$T/r2.jsonl" << 'EOF'
{"id": "a2", "title": "Zucchini festival", "body": "the zucchini festival of the village"}
{"id": "a4", "title": "Plum jam", "body": "plum jam from the village"}
EOF
count() { "$IDX" query -i "$1" --count "$2" | head -n 1 | sed 's/ (.*//'; }
for e in native xapian; do
    rm -rf "$T/r"
    "$IDX" build -q --engine "$e" -o "$T/r" "$T/r1.jsonl"
    check "$e: village in 2 before" test "$(count "$T/r" village)" = "2 results"
    "$IDX" build --append -o "$T/r" "$T/r2.jsonl" 2> "$T/r.err"
    check "$e: the summary counts the replaced article" grep -q " 2 docs, 0 skipped, 1 replaced" "$T/r.err"
    check "$e: the old text no longer matches" test "$(count "$T/r" pumpkin)" = "0 results"
    check "$e: the new text matches" test "$(count "$T/r" zucchini)" = "1 result"
    check "$e: village counted once per live article" test "$(count "$T/r" village)" = "3 results"
    check "$e: idx get returns the new article" \
        grep -q '"title":"Zucchini festival"' <("$IDX" get -i "$T/r" a2)
    check "$e: idx stats counts live documents" grep -Eq '^documents +4$' <("$IDX" stats -i "$T/r")
    check "$e: idx check passes after a replacement" quiet idx_check -i "$T/r"
    # replacing an article by itself, twice in one input: the later wins
    printf '%s\n' '{"id": "a4", "title": "Plum pie", "body": "plum pie"}' \
        '{"id": "a4", "title": "Plum cake", "body": "plum cake"}' > "$T/r3.jsonl"
    "$IDX" build -q --append -o "$T/r" "$T/r3.jsonl"
    check "$e: the later duplicate of an input wins" test "$(count "$T/r" plum)" = "1 result"
    check "$e: ... and its text is the one found" test "$(count "$T/r" cake)" = "1 result"
done

# ---- refusals, settings, the writer lock ----
snapshot() { # IX: what must not change
    find "$1" -mindepth 1 -maxdepth 1 ! -name write.lock -printf '%f\n' | sort
    cat "$1/meta"
    answers "$1" "$T/syn/queries.tsv"
}
for e in native xapian; do
    ix=$T/ref.$e
    split_input "$T/syn/docs.jsonl" 2 "$T/refsplit"
    "$IDX" build -q --engine "$e" -o "$ix" "$T/refsplit/b1.jsonl"
    snapshot "$ix" > "$T/before"
    refused() { # WANT-STATUS MESSAGE-PATTERN ARGS...: an append refused, the index untouched
        local want=$1 pat=$2
        shift 2
        run_rc "$IDX" build -q --append -o "$ix" "$@" 2> "$T/err"
        check "$e: refused ($*): exit $want (got $rc)" test "$rc" -eq "$want"
        check "$e: refused ($*): says why" grep -q -- "$pat" "$T/err"
        snapshot "$ix" > "$T/after"
        check "$e: refused ($*): index untouched" cmp -s "$T/before" "$T/after"
    }
    : > "$T/empty.jsonl"
    printf 'not json\nnor this\n{"id": "x1", "body": "one"}\n' > "$T/junk.jsonl"
    refused 3 "no document accepted" "$T/empty.jsonl"
    refused 3 "records rejected" --format jsonl "$T/junk.jsonl"
    refused 3 "inside the index" "$ix/meta"
    refused 2 "--k1 contradicts" --k1 2 "$T/refsplit/b2.jsonl"
    refused 2 "--b contradicts" --b 0.5 "$T/refsplit/b2.jsonl"
    refused 2 "--title-weight contradicts" --title-weight 9 "$T/refsplit/b2.jsonl"
    refused 2 "--language contradicts" --language french "$T/refsplit/b2.jsonl"
    refused 2 "--no-accent-folding contradicts" --no-accent-folding "$T/refsplit/b2.jsonl"
    other=native
    [ "$e" = native ] && other=xapian
    refused 2 "--engine contradicts" --engine "$other" "$T/refsplit/b2.jsonl"
    # a second writer: this shell holds the lock (flock(1) takes the same flock(2) lock)
    exec 9>> "$ix/write.lock"
    flock -n 9
    refused 1 "another writer is updating it" "$T/refsplit/b2.jsonl"
    exec 9>&-
    # settings equal to the index's are no contradiction
    run_rc "$IDX" build -q --append --engine "$e" --k1 1.2 --b 0.75 -o "$ix" "$T/refsplit/b2.jsonl"
    check "$e: an append repeating the index's settings is accepted (exit $rc)" test "$rc" -eq 0
    "$IDX" build -q --engine "$e" -o "$T/ref.one" "$T/syn/docs.jsonl"
    check "$e: ... and completes the corpus" \
        cmp -s <(answers "$ix" "$T/syn/queries.tsv") <(answers "$T/ref.one" "$T/syn/queries.tsv")
    rm -rf "$ix" "$T/ref.one" "$T/refsplit"
done

# ---- a full rebuild swaps only when no writer holds the lock ----
# (the rebuilds must not inherit fd 9: the lock would be theirs)
"$IDX" build -q -o "$T/rb" "$T/r1.jsonl"
ino=$(stat -c %i "$T/rb")
exec 9>> "$T/rb/write.lock"
flock -n 9
"$IDX" build -q -o "$T/rb" "$T/r2.jsonl" 9>&- 2> /dev/null &
rebuild=$!
sleep 1
kill -TERM "$rebuild"
run_rc wait "$rebuild"
check "a rebuild waiting for the writer lock stops on SIGTERM (exit $rc)" test "$rc" -eq 143
check "... without swapping or leaving its directory" \
    test "$(stat -c %i "$T/rb")" = "$ino" -a ! -e "$T/rb.tmp-$rebuild"
"$IDX" build -q -o "$T/rb" "$T/r2.jsonl" 9>&- &
rebuild=$!
sleep 1
check "a rebuild waits for the writer lock before its swap" test "$(stat -c %i "$T/rb")" = "$ino"
exec 9>&-
run_rc wait "$rebuild"
check "... and swaps once it is released (exit $rc)" test "$rc" -eq 0 -a "$(stat -c %i "$T/rb")" != "$ino"
check "... the rebuilt index is the new one" test "$(count "$T/rb" zucchini)" = "1 result"
rm -rf "$T/rb"

# ---- SIGINT/SIGTERM stop an append cleanly ----
# Big enough that the append is still running 0.3 s in on a fast idle machine
# (16,000 articles took 0.33 s).
e2e_corpus "$T/big" --docs 400 --seed 5 --copies 200
for e in native xapian; do
    ix=$T/sig.$e
    "$IDX" build -q --engine "$e" -o "$ix" "$T/syn/docs.jsonl"
    snapshot "$ix" > "$T/before"
    for sig in INT TERM; do
        "$IDX" build -q --append --mem 32 --threads 2 -o "$ix" "$T/big/docs.jsonl" 2> "$T/sig.err" &
        pid=$!
        sleep 0.3
        kill "-$sig" "$pid"
        run_rc wait "$pid"
        want=130
        [ $sig = TERM ] && want=143
        check "$e: SIG$sig stops an append: exit $want (got $rc)" test "$rc" -eq "$want"
        check "$e: SIG$sig: says idx: interrupted" grep -qx "idx: interrupted" "$T/sig.err"
        snapshot "$ix" > "$T/after"
        check "$e: SIG$sig: the index and its files are as before" cmp -s "$T/before" "$T/after"
    done
    rm -rf "$ix"
done

# ---- kill -9 during an append ----
e2e_corpus "$T/old" --docs 400
python3 - "$IDX" "$T" "$slow" << 'PY' || fail=1
import os, shutil, subprocess, sys, time

idx, T, slow = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
OLD = os.path.join(T, "old", "docs.jsonl")
NEW = os.path.join(T, "big", "docs.jsonl")  # 16,000 articles; 400 replace old ones
queries = open(os.path.join(T, "old", "queries.tsv"), "rb").read()
fails = []


def answers(ix):
    p = subprocess.run([idx, "query", "-i", ix, "--batch", "-k", "20"], input=queries,
                       capture_output=True)
    return p.returncode, p.stdout


def version(ix):
    """The Xapian database's committed revision, as its version file shows it."""
    try:
        st = os.stat(os.path.join(ix, "xapian", "iamglass"))
        return (st.st_ino, st.st_mtime_ns)
    except FileNotFoundError:
        return None


def events(ix, before, meta_ino, pid, xver):
    """What an append has done so far, seen from outside: the index
    directory, and the scratch directory beside it where runs spill."""
    try:
        files = set(os.listdir(ix))
        ino = os.stat(os.path.join(ix, "meta")).st_ino
    except FileNotFoundError:
        return set()
    try:
        runs = any(f.startswith("run-") for f in os.listdir("%s.tmp-%d" % (ix, pid)))
    except FileNotFoundError:
        runs = False
    new = files - before
    ev = {"start"}
    if runs:
        ev.add("run")
    if any(f.endswith(".lex") for f in new):
        ev.add("lex")
        if not runs:
            ev.add("merged")
    if any(f.endswith(".del") for f in new):
        ev.add("del")
    if xver and version(ix) != xver:
        ev.add("xcommit")  # Xapian committed; meta not necessarily yet
    if ino != meta_ino:
        ev.add("commit")
    return ev


def append(ix, new, event, delay, kill=True):
    before = set(os.listdir(ix))
    meta_ino = os.stat(os.path.join(ix, "meta")).st_ino
    xver = version(ix)
    # --no-merge: the append's own commit is what is killed here (a merge changes the
    # scores of replaced articles' terms, a third state; test_merge kills merges)
    p = subprocess.Popen([idx, "build", "-q", "--append", "--no-merge", "--mem", "32",
                          "--threads", "2", "-o", ix, new], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t0, seen = time.monotonic(), {}
    while p.poll() is None and event not in seen:
        for ev in events(ix, before, meta_ino, p.pid, xver):
            seen.setdefault(ev, time.monotonic() - t0)
        time.sleep(0.0005)
    end = time.monotonic() + delay
    while p.poll() is None and time.monotonic() < end:
        time.sleep(0.0005)
    finished = p.poll() is not None
    if kill:
        p.kill()
    p.wait()
    return finished, p.returncode, seen, time.monotonic() - t0


# Xapian adds documents about ten times slower: it appends the first 4,000.
NEW_X = os.path.join(T, "big", "head.jsonl")
with open(NEW, "rb") as f, open(NEW_X, "wb") as out:
    out.writelines(f.readlines()[:4000])
for engine in ("native", "xapian"):
    new = NEW if engine == "native" else NEW_X
    pristine = os.path.join(T, "kill.%s.old" % engine)
    ix = os.path.join(T, "kill.%s" % engine)
    subprocess.run([idx, "build", "-q", "--threads", "2", "--engine", engine, "-o", pristine,
                    OLD], check=True)
    rc, ref_old = answers(pristine)
    assert rc == 0 and ref_old.count(b"\n") > 500, rc
    # a complete append: the new generation's answers, and when its phases happen
    shutil.copytree(pristine, ix)
    finished, rc, seen, t_end = append(ix, new, "never", 0, kill=False)
    assert rc == 0, "the probe append failed"
    rc, ref_new = answers(ix)
    assert rc == 0 and ref_new != ref_old
    print("%s probe append: %.2f s; %s" % (engine, t_end, ", ".join(
        "%s at %.2f s" % (e, t) for e, t in sorted(seen.items(), key=lambda kv: kv[1]))))
    plan = [("start", t_end * f) for f in (0, 0.05, 0.15, 0.3, 0.45, 0.6, 0.75, 0.9, 0.97)]
    for ev in ("run", "lex", "merged", "del", "xcommit", "commit"):
        if ev in seen:
            plan += [(ev, 0), (ev, 0.002)]
    if slow:
        plan = plan[::2]
    survived = 0
    for event, delay in plan:
        shutil.rmtree(ix)
        shutil.copytree(pristine, ix)
        finished, _, seen, at = append(ix, new, event, delay)
        chk = subprocess.run([idx, "check", "-i", ix], capture_output=True,
                             env=dict(os.environ, ASAN_OPTIONS=os.environ["CHECK_ASAN"]))
        rc, got = answers(ix)
        gen = "old" if got == ref_old else "new" if got == ref_new else "NEITHER"
        what = "%s: kill %.3f s after '%s' (at %.2f s%s)" % (
            engine, delay, event, at, ", finished" if finished else "")
        if chk.returncode != 0 or rc != 0 or gen == "NEITHER":
            fails.append("%s: check exit %d %s, answers of %s generation" % (
                what, chk.returncode, chk.stderr.decode().strip(), gen))
            print("FAIL " + what)
            continue
        survived += 1
        print("ok   %s: %s generation intact" % (what, gen))
        # the next append after a crash completes and cleans up
        if gen == "old" and survived % 3 == 1:
            finished, rc, _, _ = append(ix, new, "never", 0, kill=False)
            ok = rc == 0 and answers(ix)[1] == ref_new and not any(
                f.startswith("kill.%s.tmp-" % engine) for f in os.listdir(T))
            print("%s   %s: the append after it completes, no scratch directory left" % (
                "ok " if ok else "FAIL", engine))
            if not ok:
                fails.append("%s: the append after a kill" % engine)
    print("%s: %d/%d kill points survived" % (engine, survived, len(plan)))
    if len(plan) < (5 if slow else 10):
        fails.append("%s: only %d kill points" % (engine, len(plan)))
    shutil.rmtree(ix)
    shutil.rmtree(pristine)
for x in fails:
    print("FAIL " + x)
sys.exit(1 if fails else 0)
PY
e2e_finish
