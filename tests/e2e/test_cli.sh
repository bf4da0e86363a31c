#!/usr/bin/env bash
# Command-line contract (docs/CLI.md): exit codes 0 ok, 1 other, 2 usage, 3 data;
# errors as one `idx: ...` line on stderr; --help everywhere; a build never
# replaces something that is not an idx index.
set -euo pipefail

: "${IDX:?IDX must point at the idx binary}"
IDX_SRC=${IDX_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
T=$(mktemp -d "${TMPDIR:-/tmp}/idx-e2e-cli.XXXXXX")
trap 'rm -rf "$T"' EXIT
fail=0

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

[ "$fail" -eq 0 ] && echo PASS || echo FAILED
exit "$fail"
