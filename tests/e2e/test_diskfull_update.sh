#!/usr/bin/env bash
# Disk full while the index is updated in place: `idx build --append`,
# `idx merge` and `idx delete` on a 48 MB tmpfs (skips, exit 77, where
# mounting one is not allowed). Each operation runs with the file system filled
# so that only part of the space it needs is free, at eight levels from none to
# nearly all. Each time the operation either fails with exit 1 and one line
# naming the cause (`No space left on device`), or it fits and succeeds. After
# a failure the previous generation is what readers get: `idx check` passes,
# a query set answers exactly as before, the index directory holds the same
# files, and every block the operation took is free again. With room to spare
# each operation succeeds.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

e2e_tmpdir diskfull-update
e2e_tmpfs 48m

# The appended batch shares ids with the base (gen_corpus numbers its
# articles from 1), so the append also replaces articles.
e2e_corpus "$T/base" --docs 1500
e2e_corpus "$T/more" --docs 2000 --seed 2
head -n 300 "$T/base/docs.jsonl" | python3 -c '
import json, sys
for line in sys.stdin:
    print(json.loads(line)["id"])' > "$T/delete-ids"

bsize=$(stat -f -c %S "$M")
free_blocks() { stat -f -c %a "$M"; }
answers() { "$IDX" query -i "$1" --batch -k 20 < "$T/base/queries.tsv"; }

# Three segments, none merged: the base, then two halves of the second batch.
head -n 1000 "$T/more/docs.jsonl" > "$T/more1.jsonl"
tail -n +1001 "$T/more/docs.jsonl" > "$T/more2.jsonl"
make_index() {
    rm -rf "$1"
    "$IDX" build -q --threads 2 -o "$1" "$T/base/docs.jsonl"
    if [ "$2" = segments ]; then
        "$IDX" build -q --append --no-merge -o "$1" "$T/more1.jsonl"
        "$IDX" build -q --append --no-merge -o "$1" "$T/more2.jsonl"
    fi
    # The writers' lock file stays once made (FORMAT.md §8.1): make it now, so
    # that the space and the files counted before an update include it.
    echo 99999999 > "$1/write.lock"
}

# blocks_needed KIND OP...: the blocks OP takes on a fresh index of KIND here
# (what it adds, or the whole index for a merge, which rewrites it and then
# frees the old segments), at least 8.
blocks_needed() {
    make_index "$M/ix" "$1"
    shift
    local before size
    before=$(free_blocks)
    size=$(($(du -sk "$M/ix" | cut -f1) * 1024 / bsize))
    "$@" > /dev/null 2>&1 || { echo "reference $1 failed" >&2; return 1; }
    local added=$((before - $(free_blocks)))
    if [ "$1" = "$IDX" ] && [ "$2" = merge ]; then added=$size; fi
    echo $((added > 8 ? added : 8))
}

cases=0
failed_cleanly=0
# try_full DESC KIND NEED OP...: OP on the index (KIND: base or segments)
# with 0, 1/8, ..., 7/8 of NEED blocks free.
try_full() {
    local what=$1 kind=$2 need=$3 eighth
    shift 3
    make_index "$M/ix" "$kind"
    answers "$M/ix" > "$T/ref"
    ls "$M/ix" > "$T/ref-files"
    local free0
    free0=$(free_blocks)
    for eighth in 0 1 2 3 4 5 6 7; do
        local keep=$((need * eighth / 8))
        head -c $(((free0 - keep) * bsize)) /dev/zero > "$M/filler"
        run_rc "$@" 2> "$T/err" > /dev/null
        rm "$M/filler"
        cases=$((cases + 1))
        local desc="$what with $keep of $need blocks free"
        if [ "$rc" -eq 0 ]; then
            # It fitted (the reference measured a peak, not a floor): the new
            # generation must be whole; start again from the old index.
            check "$desc: succeeded, new index passes idx check" quiet "$IDX" check -i "$M/ix"
            make_index "$M/ix" "$kind"
            free0=$(free_blocks)
            continue
        fi
        echo "     $desc: exit $rc, $(head -c 300 "$T/err")"
        check "$desc: exit 1" test "$rc" -eq 1
        check "$desc: one line naming the cause" \
            bash -c '[[ $(wc -l < "$1") = 1 && $(cat "$1") == "idx: "*"No space left on device"* ]]' _ "$T/err"
        check "$desc: previous generation passes idx check" quiet "$IDX" check -i "$M/ix"
        check "$desc: previous generation answers as before" cmp -s "$T/ref" <(answers "$M/ix")
        check "$desc: the index holds the same files" cmp -s "$T/ref-files" <(ls "$M/ix")
        check "$desc: nothing else left on the file system" test "$(ls "$M")" = ix
        check "$desc: all space freed" test "$(free_blocks)" -eq "$free0"
        failed_cleanly=$((failed_cleanly + 1))
    done
}

append_op=("$IDX" build -q --append --no-merge --threads 2 -o "$M/ix" "$T/more/docs.jsonl")
merge_op=("$IDX" merge -i "$M/ix")
delete_op=("$IDX" delete -i "$M/ix" --no-merge --ids-from "$T/delete-ids")

need=$(blocks_needed base "${append_op[@]}") || fail=1
try_full "append" base "$need" "${append_op[@]}"
need=$(blocks_needed segments "${merge_op[@]}") || fail=1
try_full "merge" segments "$need" "${merge_op[@]}"
need=$(blocks_needed segments "${delete_op[@]}") || fail=1
try_full "delete" segments "$need" "${delete_op[@]}"

# With room to spare, all three succeed one after the other, and the result
# answers like the same operations on an index off the tmpfs.
make_index "$M/ix" base
make_index "$T/ix" base
for ix in "$M/ix" "$T/ix"; do
    "$IDX" build -q --append --no-merge --threads 2 -o "$ix" "$T/more/docs.jsonl"
    "$IDX" delete -i "$ix" --no-merge --ids-from "$T/delete-ids" > /dev/null
    "$IDX" merge -i "$ix" > /dev/null
done
check "with room to spare: append, delete, merge succeed and pass idx check" quiet "$IDX" check -i "$M/ix"
check "with room to spare: answers equal the same operations elsewhere" \
    cmp -s <(answers "$T/ix") <(answers "$M/ix")
echo "disk full during updates: $failed_cleanly of $cases attempts failed cleanly, the rest fitted"
check "most attempts ran out of space (the levels are below the need)" test "$failed_cleanly" -ge $((cases / 2))
e2e_finish
