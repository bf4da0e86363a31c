#!/usr/bin/env bash
# Disk full during a build. Mounts a 48 MB tmpfs (skips, exit 77, where that
# is not allowed), builds a small index on it, then fills the file system so
# that only F blocks stay free and builds a bigger index over the old one. F
# is chosen from a reference build's file sizes so that the space runs out in
# each file the build writes, in the order it writes them (document store,
# lexicon, postings, positions, doc table, meta), and once, with a 30 MB
# input and --mem 32, in the inverter's spilled run. Each time: exit 1 with
# one line `idx: writing PATH: No space left on device` naming that file; the
# old index passes `idx check` and answers a query set exactly as before; the
# build's temporary directory is gone and every block it took is free again.
# With just enough space the build succeeds.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

e2e_tmpdir diskfull
e2e_tmpfs 48m

e2e_corpus "$T/old" --docs 400
e2e_corpus "$T/new" --docs 3000 --seed 2
e2e_corpus "$T/big" --docs 400 --copies 60
"$IDX" build -q --threads 2 -o "$M/ix" "$T/old/docs.jsonl"
answers() { "$IDX" query -i "$1" --batch -k 20 < "$T/old/queries.tsv"; }
answers "$M/ix" > "$T/ref"
"$IDX" build -q --threads 2 -o "$T/ref-new" "$T/new/docs.jsonl"

bsize=$(stat -f -c %S "$M")
free_blocks() { stat -f -c %a "$M"; }
blocks() { echo $((($(stat -c %s "$1") + bsize - 1) / bsize)); }
free0=$(free_blocks)

# full_build DESC FREE INPUT FILE: a build with FREE blocks left must fail
# writing FILE, and leave the old index and the free space as they were.
cases=0
clean=0
full_build() {
    local what=$1 keep=$2 input=$3 want=$4 before=$fail
    head -c $(((free0 - keep) * bsize)) /dev/zero > "$M/filler"
    run_rc "$IDX" build -q --mem 32 --threads 2 -o "$M/ix" "$input" 2> "$T/err"
    rm "$M/filler"
    local msg
    msg=$(cat "$T/err")
    echo "     $what ($keep blocks free): exit $rc, $msg"
    check "$what: exit 1" test "$rc" -eq 1
    check "$what: one line naming $want and the cause" \
        bash -c '[[ $(wc -l < "$1") = 1 && $2 == "idx: writing $3/ix.tmp-"*"/$4: No space left on device" ]]' \
        _ "$T/err" "$msg" "$M" "$want"
    check "$what: old index passes idx check" quiet "$IDX" check -i "$M/ix"
    check "$what: old index answers as before" cmp -s "$T/ref" <(answers "$M/ix")
    check "$what: temporary directory removed" test "$(ls "$M")" = ix
    check "$what: all space freed" test "$(free_blocks)" -eq "$free0"
    cases=$((cases + 1))
    if [ "$fail" = "$before" ]; then clean=$((clean + 1)); fi
}

# The build writes the store while reading, then the lexicon, postings and
# positions (buffered until they are closed, in that order), the doc table
# and meta: run out of space in the middle of each.
at=0
for f in s0001.store s0001.lex s0001.post s0001.pos s0001.docs meta; do
    n=$(blocks "$T/ref-new/$f")
    full_build "3000 articles, out of space in $f" $((at + n / 2)) "$T/new/docs.jsonl" "$f"
    at=$((at + n))
done
# The store of the 60 copies is about 60 times the old one's: with that much
# space the store still fits when the inverter spills, the run does not.
keep=$((60 * $(blocks "$M/ix/s0001.store")))
full_build "30 MB input, out of space in the spilled run" "$keep" "$T/big/docs.jsonl" run-00000.tmp

head -c $(((free0 - at) * bsize)) /dev/zero > "$M/filler"
run_rc "$IDX" build -q --threads 2 -o "$M/ix" "$T/new/docs.jsonl"
rm "$M/filler"
check "with exactly the space it needs ($at blocks) the build succeeds (exit $rc)" test "$rc" -eq 0
check "the new index passes idx check" quiet "$IDX" check -i "$M/ix"
check "the new index holds 3000 articles" \
    bash -c '"$1" stats -i "$2" | grep -qE "^documents +3000$"' _ "$IDX" "$M/ix"
echo "disk full: $clean/$cases builds failed cleanly, old index intact each time"
e2e_finish
