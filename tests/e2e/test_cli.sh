#!/usr/bin/env bash
# Command-line contract (docs/CLI.md): exit codes 0 ok, 1 other, 2 usage, 3 data;
# errors as one `idx: ...` line on stderr; --help everywhere; a build never
# replaces something that is not an idx index.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
e2e_tmpdir cli

# expect CODE DESCRIPTION -- ARGS...: runs idx ARGS, checks the exit code;
# leaves stdout/stderr in $T/out, $T/err.
expect() {
    local want=$1 what=$2
    shift 3
    local rc=0
    "$IDX" "$@" > "$T/out" 2> "$T/err" || rc=$?
    if [ "$rc" -ne "$want" ]; then
        echo "FAIL $what: exit $rc, want $want (idx $*)"
        sed 's/^/     /' "$T/err" | head -5
        fail=1
        return 1
    fi
    echo "ok   $what (exit $rc)"
}
# the last command's stderr is one line starting with "idx: "
one_error_line() {
    if [ "$(wc -l < "$T/err")" -ne 1 ] || ! grep -q '^idx: ' "$T/err"; then
        echo "FAIL $1: stderr is not one 'idx: ...' line:"; sed 's/^/     /' "$T/err"; fail=1
    fi
}
err_has() {
    if ! grep -qiE -- "$2" "$T/err"; then
        echo "FAIL $1: stderr lacks /$2/:"; sed 's/^/     /' "$T/err"; fail=1
    fi
}

printf '%s\n' '{"id":"a1","title":"Alpha","body":"first article"}' \
    '{"id":"b2","title":"Beta","body":"second article"}' > "$T/in.jsonl"
expect 0 "build a small index" -- build -q -o "$T/ix" "$T/in.jsonl"

# ---- usage errors: 2
expect 2 "no subcommand" --
expect 2 "unknown subcommand" -- frobnicate -i "$T/ix" && err_has "unknown subcommand" "frobnicate"
one_error_line "unknown subcommand"
for cmd in build get stats check query; do
    expect 2 "$cmd: unknown flag" -- "$cmd" --no-such-flag -i "$T/ix" -o "$T/x" "$T/in.jsonl" a1 &&
        one_error_line "$cmd: unknown flag" && err_has "$cmd: unknown flag" "^idx: $cmd: .*no-such-flag"
done
expect 2 "stats: -i without its value" -- stats -i && one_error_line "stats -i without value"
for cmd in get stats check query; do
    args=()
    [ "$cmd" = get ] && args=(a1)
    [ "$cmd" = query ] && args=(alpha)
    expect 2 "$cmd: missing -i" -- "$cmd" "${args[@]}" && err_has "$cmd: missing -i" "-i"
done
expect 2 "build: missing -o" -- build "$T/in.jsonl" && err_has "build: missing -o" "-o"
expect 2 "build: no input" -- build -o "$T/x"
expect 2 "build: --mem too small" -- build --mem 1 -o "$T/x" "$T/in.jsonl"
expect 2 "build: --threads 0" -- build --threads 0 -o "$T/x" "$T/in.jsonl"
expect 2 "build: unknown --format" -- build --format pdf -o "$T/x" "$T/in.jsonl"
expect 2 "get: no DOCID" -- get -i "$T/ix"
expect 0 "get: two DOCIDs" -- get -i "$T/ix" a1 b2 &&
    [ "$(grep -c '^{"id":' "$T/out")" -eq 2 ] || { echo "FAIL get: two DOCIDs: not two JSON lines"; fail=1; }
expect 2 "get: bad --format" -- get -i "$T/ix" --format xml a1
if ls -d "$T"/x "$T"/x.tmp-* 2>/dev/null | grep -q .; then
    echo "FAIL usage errors left files behind"; ls "$T"; fail=1
fi

# ---- --help: 0, usage on stdout
expect 0 "idx --help" -- --help && grep -q "usage" "$T/out" || { echo "FAIL idx --help prints no usage"; fail=1; }
for cmd in build get stats check query; do
    if expect 0 "$cmd --help" -- "$cmd" --help; then
        grep -q "usage: idx $cmd" "$T/out" || { echo "FAIL $cmd --help: no 'usage: idx $cmd' on stdout"; fail=1; }
    fi
done

# ---- get
expect 0 "get a present id" -- get -i "$T/ix" a1
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(d != {"id":"a1","title":"Alpha","body":"first article"})' "$T/out" \
    || { echo "FAIL get a1 output: $(cat "$T/out")"; fail=1; }
expect 1 "get a missing id" -- get -i "$T/ix" zz9 && err_has "get missing id" "zz9"
one_error_line "get missing id"

# ---- data errors: 3
echo "just a file" > "$T/plainfile"
for cmd in get stats check query; do
    args=()
    [ "$cmd" = get ] && args=(a1)
    [ "$cmd" = query ] && args=(alpha)
    expect 3 "$cmd: index is a plain file" -- "$cmd" -i "$T/plainfile" "${args[@]}" &&
        one_error_line "$cmd on a plain file" && err_has "$cmd on a plain file" "plainfile"
    expect 3 "$cmd: index missing" -- "$cmd" -i "$T/nope" "${args[@]}" &&
        one_error_line "$cmd on a missing index" && err_has "$cmd on a missing index" "nope"
done
mkdir "$T/emptydir"
expect 3 "stats: empty directory is not an index" -- stats -i "$T/emptydir"

# ---- build refuses to replace what is not an index
mkdir "$T/precious"
echo "keep me" > "$T/precious/notes.txt"
mkdir "$T/precious/sub" && echo "me too" > "$T/precious/sub/more.txt"
before=$(cd "$T/precious" && find . -type f -exec sha256sum {} + | sort)
rc=0
"$IDX" build -q -o "$T/precious" "$T/in.jsonl" 2> "$T/err" || rc=$?
if [ "$rc" -eq 0 ]; then
    echo "FAIL build into a non-index, non-empty directory succeeded"; fail=1
else
    echo "ok   build into a non-index directory refused (exit $rc)"
    one_error_line "build into a non-index directory"
    err_has "build into a non-index directory" "precious"
fi
after=$(cd "$T/precious" && find . -type f -exec sha256sum {} + | sort)
[ "$before" = "$after" ] || { echo "FAIL the refused build changed $T/precious"; fail=1; }
if ls -d "$T"/precious.tmp-* 2>/dev/null | grep -q .; then
    echo "FAIL the refused build left a temporary directory"; fail=1
fi
echo "a file" > "$T/afile"
rc=0
"$IDX" build -q -o "$T/afile" "$T/in.jsonl" 2> "$T/err" || rc=$?
if [ "$rc" -eq 0 ] || [ "$(cat "$T/afile")" != "a file" ]; then
    echo "FAIL build over a plain file: exit $rc, file now: $(head -c 50 "$T/afile")"; fail=1
else
    echo "ok   build over a plain file refused (exit $rc)"
fi
# an empty directory and an existing index may be replaced
mkdir "$T/fresh"
expect 0 "build into an empty directory" -- build -q -o "$T/fresh" "$T/in.jsonl"
expect 0 "rebuild over an existing index" -- build -q -o "$T/ix" "$T/in.jsonl"
expect 0 "check the rebuilt index" -- check -i "$T/ix"


# ---- BM25 parameters: one check (finite, k1 0..1000, b 0..1, title weight 0..1000) at the
# flags, before anything is written; an index with others would be refused as damaged
for bad in "--k1 nan" "--k1 inf" "--k1=" "--k1 1e400" "--b 2" "--title-weight -1"; do
    # shellcheck disable=SC2086 # "$bad" is a flag and its value
    expect 2 "build $bad" -- build -q -o "$T/bm" $bad "$T/in.jsonl" &&
        one_error_line "build $bad" && err_has "build $bad" "^idx: build: --(k1|b|title-weight)"
    if [ -e "$T/bm" ] || compgen -G "$T/bm.tmp-*" > /dev/null; then
        echo "FAIL build $bad wrote an index"; fail=1; rm -rf "$T/bm" "$T"/bm.tmp-*
    fi
done
for bad in "--k1 nan" "--b 1.5" "--title-weight inf"; do
    # shellcheck disable=SC2086
    expect 2 "query $bad" -- query -i "$T/ix" $bad alpha && one_error_line "query $bad"
done
printf 'q1 0 a1 1\n' > "$T/qrels"
printf 'q1\talpha\n' > "$T/queries"
expect 2 "eval --k1 -1" -- eval -i "$T/ix" --qrels "$T/qrels" --queries "$T/queries" --k1 -1 &&
    one_error_line "eval --k1 -1"
# the qid<TAB>query loop: a line without a tab and a bad query are reported with where they
# are, the others answered, exit 2 at the end
printf 'q1\talpha\nno tab here\n\nq3\tAND\nq4\tarticle\n' > "$T/mixed.tsv"
rc=0
"$IDX" query -i "$T/ix" --batch < "$T/mixed.tsv" > "$T/out" 2> "$T/err" || rc=$?
if [ "$rc" -eq 2 ] && [ "$(cut -d' ' -f1 "$T/out" | sort -u | tr '\n' ' ')" = "q1 q4 " ] &&
    grep -q '^idx: query: stdin:2: expected qid<TAB>query$' "$T/err" &&
    grep -q "^idx: query q3: 'AND' at column 1 " "$T/err" && [ "$(wc -l < "$T/err")" -eq 2 ]; then
    echo "ok   query --batch: bad lines reported, the others answered (exit 2)"
else
    echo "FAIL query --batch with bad lines: exit $rc"; sed 's/^/     /' "$T/err" "$T/out"; fail=1
fi
rc=0
"$IDX" eval -i "$T/ix" --qrels "$T/qrels" --queries "$T/mixed.tsv" > "$T/out" 2> "$T/err" || rc=$?
if [ "$rc" -eq 2 ] && grep -q "^idx: eval: $T/mixed.tsv:2: expected qid<TAB>query$" "$T/err" &&
    grep -q '^idx: eval: query q3: ' "$T/err" && grep -q '^num_q' "$T/out"; then
    echo "ok   eval: bad lines reported, the table printed (exit 2)"
else
    echo "FAIL eval with bad lines: exit $rc"; sed 's/^/     /' "$T/err"; fail=1
fi
# an unreadable queries file is bad input (3), for both users of the qid<TAB>query loop
expect 3 "eval --queries DIR" -- eval -i "$T/ix" --qrels "$T/qrels" --queries "$T" &&
    one_error_line "eval --queries DIR"
rc=0
"$IDX" query -i "$T/ix" --batch < "$T" > /dev/null 2> "$T/err" || rc=$?
[ "$rc" -eq 3 ] && echo "ok   query --batch < DIR (exit 3)" ||
    { echo "FAIL query --batch < DIR: exit $rc, want 3"; fail=1; }
expect 0 "build --k1 0 --b 0 --title-weight 0" -- build -q -o "$T/bm" --k1 0 --b 0 \
    --title-weight 0 "$T/in.jsonl"
expect 0 "query the k1 0 index" -- query -i "$T/bm" alpha

# ---- settings in meta that pass its checksum but not idx: damage (3) for every command,
# with the context "index meta" (the analyzer's or BM25's own message re-coded)
# forge_meta DIR KEY VALUE: rewrites KEY's line of DIR/meta and its crc32 line
forge_meta() {
    python3 - "$1/meta" "$2" "$3" << 'EOF'
import sys, zlib
path, key, value = sys.argv[1:4]
text = open(path).read()
body = text[:text.rindex("crc32 ")]
lines = [f"{key} {value}" if l.split(" ")[0] == key else l for l in body.split("\n")]
body = "\n".join(lines)
open(path, "w").write(body + "crc32 %08x\n" % zlib.crc32(body.encode()))
EOF
}
for forged in "analyzer.language klingon" "analyzer.max_token_len 0" "bm25.k1 5000"; do
    rm -rf "$T/forged"
    cp -r "$T/ix" "$T/forged"
    forge_meta "$T/forged" "${forged% *}" "${forged#* }"
    expect 3 "$forged: query" -- query -i "$T/forged" alpha
    err_has "$forged: query" "index meta"
    expect 3 "$forged: eval" -- eval -i "$T/forged" --qrels "$T/qrels" --queries "$T/queries"
    err_has "$forged: eval" "index meta"
    expect 3 "$forged: get" -- get -i "$T/forged" a1
    err_has "$forged: get" "index meta"
    for cmd in stats check; do
        expect 3 "$forged: $cmd" -- "$cmd" -i "$T/forged" && one_error_line "$forged: $cmd"
        err_has "$forged: $cmd" "index meta"
    done
done

e2e_finish
