#!/usr/bin/env bash
# Replicas for load (issue 16): three idx-fcgi processes serving one index
# behind nginx, with the shipped web/deploy/nginx-replicas.conf (its ports and
# listen line replaced by free loopback ones, inside an http block with
# web/nginx.conf.in's fastcgi_param lines: the test proves the shipped file).
# replica_load.py keeps four connections busy with JSON searches, each answer
# checked against `idx query --batch --format json`. Mid-load one replica (its
# keeper and serving process) is killed with SIGKILL; later it is started
# again on its port. Asserts: 0 failed requests and 0 wrong answers over the
# whole run, nginx retried on another replica (fastcgi_next_upstream) at
# least once, both other replicas served after the kill, and the restarted
# one serves again. A generated corpus: no shared data needed.
# Skips (77) when nginx, curl, python3 or idx-fcgi are missing.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
e2e_web_ready
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

e2e_tmpdir replicas
chmod 755 "$T"
RUN=$T/run
mkdir -p "$RUN/tmp"
chmod 1777 "$RUN/tmp" # nginx's workers (nobody, when run as root) write temp files there
declare -A PIDS=()
LOAD=
cleanup() {
    if [ -n "$LOAD" ]; then
        touch "$T/stop"
        wait "$LOAD" || true
    fi
    [ -s "$RUN/nginx.pid" ] && kill -QUIT "$(cat "$RUN/nginx.pid")" 2> /dev/null
    local p
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2> /dev/null || true; done
    for p in "${PIDS[@]}"; do
        while kill -0 "$p" 2> /dev/null; do sleep 0.1; done
    done
    rm -rf "$T"
}
trap cleanup EXIT

e2e_corpus "$T/gen" --docs 2000 --seed 7
"$IDX" build -q -o "$T/ix" "$T/gen/docs.jsonl"
for off in 0 10; do
    "$IDX" query -i "$T/ix" --batch --format json -k 10 --offset "$off" \
        < "$T/gen/queries.tsv" > "$T/answers$off.jsonl"
done

# Four distinct free ports: nginx's any, the replicas' below the ephemeral range, where no
# outgoing connection (nginx makes one per request) can take the killed one's port while
# it is down.
read -r PORT P1 P2 P3 < <(python3 -c '
import random, socket
low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
ss = [socket.socket()]
ss[0].bind(("127.0.0.1", 0))
while len(ss) < 4:
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", random.randrange(max(1024, low - 20000), low)))
        ss.append(s)
    except OSError:
        s.close()
ports = [s.getsockname()[1] for s in ss]
for s in ss:
    s.close()  # before the ports are printed: the replicas bind them at once
print(*ports)')
RP=("" "$P1" "$P2" "$P3")

# start_replica I: idx-fcgi on 127.0.0.1:RP[I], logging to RUN/rI.log (appended)
start_replica() {
    local i=$1 n=100
    "$FCGI" -i "$T/ix" --listen "127.0.0.1:${RP[$i]}" --threads 2 2>> "$RUN/r$i.log" &
    PIDS[$i]=$!
    disown "$!" # its death by SIGKILL is the test's doing, not worth the shell's notice
    until (: < "/dev/tcp/127.0.0.1/${RP[$i]}") 2> /dev/null; do
        ((n-- > 0)) || { cat "$RUN/r$i.log"; echo "FAIL replica $i did not start"; exit 1; }
        sleep 0.1
    done
}
for i in 1 2 3; do start_replica "$i"; done

# The shipped fragment with this run's ports: each replaced line must exist.
conf=$(< "$IDX_SRC/web/deploy/nginx-replicas.conf")
for pat in "listen 80;" "server 127.0.0.1:9001 " "server 127.0.0.1:9002 " "server 127.0.0.1:9003 "; do
    [[ $conf == *"$pat"* ]] || { echo "FAIL web/deploy/nginx-replicas.conf has no '$pat'"; exit 1; }
done
conf=${conf//listen 80;/listen 127.0.0.1:$PORT;}
conf=${conf//127.0.0.1:9001 /127.0.0.1:$P1 }
conf=${conf//127.0.0.1:9002 /127.0.0.1:$P2 }
conf=${conf//127.0.0.1:9003 /127.0.0.1:$P3 }
printf '%s\n' "$conf" > "$RUN/replicas.conf"
cat > "$RUN/nginx.conf" << EOF
worker_processes 1;
pid $RUN/nginx.pid;
error_log $RUN/nginx-error.log warn;
events { worker_connections 256; }
http {
    client_body_temp_path $RUN/tmp/body;
    fastcgi_temp_path $RUN/tmp/fastcgi;
    proxy_temp_path $RUN/tmp/proxy;
    scgi_temp_path $RUN/tmp/scgi;
    uwsgi_temp_path $RUN/tmp/uwsgi;
    # which replica answered each request, and every one tried before it
    log_format up '\$msec|\$status|\$upstream_addr|\$upstream_status';
    access_log $RUN/access.log up;
$(grep -E '^[[:space:]]*fastcgi_(param|pass_request_body)' "$IDX_SRC/web/nginx.conf.in")
    include $RUN/replicas.conf;
}
EOF
NGX=("$NGINX" -p "$RUN" -c "$RUN/nginx.conf" -e "$RUN/nginx-error.log")
"${NGX[@]}" -t -q 2> "$T/nginx-t.err" || { cat "$T/nginx-t.err"; echo "FAIL nginx -t"; exit 1; }
"${NGX[@]}" -g "daemon on;"
check "nginx answers /health through the replicas" \
    curl -sf -o /dev/null --max-time 10 "http://127.0.0.1:$PORT/health"

# answers FROM TO I [retried]: requests logged from time FROM to TO that replica I answered
# with 200 (it is the last address nginx tried); with "retried", those where I was tried
# and failed, and another replica answered
answers() {
    awk -F'|' -v from="$1" -v to="$2" -v a="127.0.0.1:${RP[$3]}" -v retried="${4:-}" '
        $1 >= from && $1 < to && $2 == 200 {
            n = split($3, tried, ", ")
            if (!retried && tried[n] == a) c++
            if (retried) for (i = 1; i < n; i++) if (tried[i] == a) c++
        }
        END { print c + 0 }' "$RUN/access.log"
}
# wait_done N: until the driver has done N requests (at most 60 s)
wait_done() {
    local n=600
    until [ -s "$T/load.json.progress" ] && [ "$(cat "$T/load.json.progress")" -ge "$1" ]; do
        if ((n-- <= 0)); then
            tail -n 5 "$RUN/nginx-error.log" "$RUN/access.log"
            echo "FAIL the load stalled below $1 requests"
            exit 1
        fi
        sleep 0.1
    done
}

python3 "$E2E/replica_load.py" "http://127.0.0.1:$PORT" "$T/gen/queries.tsv" \
    "$T/answers0.jsonl" "$T/answers10.jsonl" "$T/stop" "$T/load.json" --threads 4 &
LOAD=$!
wait_done 300

# the whole replica: its keeper (which holds the listening socket) and the serving process
serving=$(cat "/proc/${PIDS[1]}/task/${PIDS[1]}/children")
kill_t=$(date +%s.%N)
kill -KILL "${PIDS[1]}" "$serving"
for p in "${PIDS[1]}" "$serving"; do
    while kill -0 "$p" 2> /dev/null; do sleep 0.05; done
done
echo "info replica 1 (port $P1) killed after $(cat "$T/load.json.progress") requests"
start=$(cat "$T/load.json.progress")
wait_done $((start + 600))

restart_t=$(date +%s.%N)
start_replica 1
echo "info replica 1 started again after $(cat "$T/load.json.progress") requests"
# nginx tries it again once fail_timeout (5 s) since it was marked failed has passed
n=300
until [ "$(answers "$restart_t" 1e12 1)" -ge 20 ]; do
    ((n-- > 0)) || break
    sleep 0.1
done
touch "$T/stop"
wait "$LOAD"
LOAD=

python3 - "$T/load.json" << 'EOF' || fail=1
import json, sys
r = json.load(open(sys.argv[1]))
print(f"info {r['requests']} requests in {r['seconds']} s ({r['rps']} req/s), "
      f"{r['distinct']} distinct")
ok = True
if r["failed_total"]:
    print(f"FAIL {r['failed_total']} failed requests, e.g. {r['failed'][:3]}")
    ok = False
if r["wrong_total"]:
    print(f"FAIL {r['wrong_total']} answers differ from idx query's, e.g. {r['wrong'][:3]}")
    ok = False
if r["ok"] < 1000:
    print(f"FAIL only {r['ok']} correct answers")
    ok = False
if ok:
    print(f"ok   0 failed requests, all {r['ok']} answers equal to idx query's")
sys.exit(0 if ok else 1)
EOF

retried=$(answers "$kill_t" 1e12 1 retried)
check "nginx retried requests on another replica after the kill ($retried)" [ "$retried" -ge 1 ]
s2=$(answers "$kill_t" "$restart_t" 2)
s3=$(answers "$kill_t" "$restart_t" 3)
check "replica 2 served while 1 was down ($s2 answers)" [ "$s2" -ge 50 ]
check "replica 3 served while 1 was down ($s3 answers)" [ "$s3" -ge 50 ]
s1=$(answers "$restart_t" 1e12 1)
check "the restarted replica serves again ($s1 answers)" [ "$s1" -ge 20 ]
check "nginx still answers" curl -sf -o /dev/null --max-time 10 "http://127.0.0.1:$PORT/health"
e2e_finish
