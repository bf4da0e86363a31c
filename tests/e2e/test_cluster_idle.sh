#!/usr/bin/env bash
# A cluster survives its shard servers' idle timeout: xapian-tcpsrv closes a
# connection that has been idle past --idle-timeout (60 s by default), and a
# long-running idx process (idx-fcgi, `idx query --batch`) must not fail its
# first query after a quiet spell. Two shards of a generated corpus, each
# served with --idle-timeout 1000; one `idx query --batch` process asks a
# query, waits 2.5 s, asks another: both answers must equal those of a
# `--shard 0/1` index, exit 0. (Before the fix: "shard unavailable: ...
# write failed (Broken pipe)", exit 3.) Then one server is killed between two
# queries: the second fails under the timeout with one line naming it.
# Skips (77) when xapian-tcpsrv (xapian-tools) is missing.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
command -v xapian-tcpsrv > /dev/null || e2e_skip "xapian-tcpsrv not installed (./run deps test)"
e2e_tmpdir cluster-idle
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2> /dev/null || true; done
    rm -rf "$T"
}
trap cleanup EXIT

e2e_corpus "$T/gen" --docs 1500 --seed 11
"$IDX" build -q --shard 0/1 -o "$T/one" "$T/gen/docs.jsonl"
read -r P0 P1 < <(python3 -c '
import socket
ss = [socket.socket() for _ in range(2)]
for s in ss: s.bind(("127.0.0.1", 0))
ports = [s.getsockname()[1] for s in ss]
for s in ss: s.close()
print(*ports)')
PORTS=("$P0" "$P1")
for i in 0 1; do
    "$IDX" build -q --shard "$i/2" -o "$T/s$i" "$T/gen/docs.jsonl"
    # its own session: on SIGTERM xapian-tcpsrv signals its whole process group
    setsid xapian-tcpsrv --port "${PORTS[$i]}" --interface 127.0.0.1 --idle-timeout 1000 \
        --quiet "$T/s$i/xapian" > "$T/srv$i.log" 2>&1 &
    PIDS+=("$!")
    n=100
    until (: < "/dev/tcp/127.0.0.1/${PORTS[$i]}") 2> /dev/null; do
        ((n-- > 0)) || { cat "$T/srv$i.log"; echo "FAIL xapian-tcpsrv $i does not start"; exit 1; }
        sleep 0.1
    done
done
"$IDX" cluster -o "$T/cl" --timeout 2000 "127.0.0.1:$P0" "127.0.0.1:$P1"

head -n 2 "$T/gen/queries.tsv" > "$T/q.tsv"
"$IDX" query -i "$T/one" --batch -k 10 < "$T/q.tsv" > "$T/want.trec"
run_rc bash -c '{ head -n 1 "$1"; sleep 2.5; tail -n 1 "$1"; } |
    "$2" query -i "$3" --batch -k 10' _ "$T/q.tsv" "$IDX" "$T/cl" > "$T/got.trec" 2> "$T/got.err"
check "a query after the servers closed the idle connections succeeds (exit $rc: $(cat "$T/got.err"))" \
    [ "$rc" -eq 0 ]
check "both answers equal the one-shard index's" cmp -s "$T/want.trec" "$T/got.trec"
[ -s "$T/want.trec" ] || { echo "FAIL no hits to compare"; fail=1; }

# a shard killed while the process waits: its next query fails at once (the retry finds
# the port closed), with one line naming the shard
start=$(date +%s.%N)
run_rc bash -c '{ head -n 1 "$1"; sleep 1; kill "$4"; sleep 0.5; tail -n 1 "$1"; } |
    "$2" query -i "$3" --batch -k 10' _ "$T/q.tsv" "$IDX" "$T/cl" "${PIDS[1]}" \
    > /dev/null 2> "$T/gone.err"
end=$(date +%s.%N)
took=$(python3 -c "import sys; print(round(float(sys.argv[2]) - float(sys.argv[1]) - 1.5, 2))" "$start" "$end")
check "a killed shard: exit 3 ($rc)" [ "$rc" -eq 3 ]
check "one line naming it: $(cat "$T/gone.err")" grep -q "shard unavailable: .*127.0.0.1:$P1" "$T/gone.err"
check "no wait past the timeout (${took}s)" python3 -c "import sys; sys.exit(float(sys.argv[1]) >= 2)" "$took"
e2e_finish
