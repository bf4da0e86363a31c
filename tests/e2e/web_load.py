#!/usr/bin/env python3
"""Load driver for test_web_load.sh: many requests through nginx, some hostile.

    web_load.py BASE QUERIES N OUT.json [--threads 8] [--hostile 0.1] [--seed 1]
                [--keeper PID]

Builds the set of distinct requests (every query of QUERIES, a qid<TAB>query
file, as json and html, first and second page; and the hostile requests of
the web issue, each with the status it must get), asks each once (warm-up:
page cache, response cache), then N requests drawn from it (a fraction
--hostile of them hostile) over --threads keep-alive connections. With
--keeper, the serving process (the child of that idx-fcgi keeper) is killed
with SIGKILL half-way through. Writes counts, RSS samples of the serving
process and every unexpected answer to OUT.json; exits 0 (the shell script
judges)."""
import argparse
import http.client
import json
import os
import random
import signal
import threading
import time
import urllib.parse


def hostile_requests():
    """(method, path, body, allowed statuses): the hostile list of the web issue."""
    long_q = "a" * 2000
    huge_q = "a" * 100_000
    reqs = [
        ("GET", "/search?q=%FF%FE&format=json", None, {400}),
        ("GET", "/search?q=a%ffb", None, {400}),
        ("GET", "/search?q=%C0%AF&format=json", None, {400}),
        ("GET", "/search?q=%ED%A0%80", None, {400}),
        ("GET", "/search?q=%G1&format=json", None, {400}),
        ("GET", "/search?q=abc%", None, {400}),
        ("GET", "/search?q=%00&format=json", None, {400}),
        ("GET", "/search?q=" + long_q + "&format=json", None, {400}),
        ("GET", "/search?q=" + huge_q, None, {400, 414}),
        ("GET", "/search?q=%3Cscript%3Ealert(1)%3C/script%3E", None, {200}),
        ("GET", "/search?q=%3Cscript%3Ealert(1)%3C/script%3E&format=json", None, {200}),
        ("GET", "/search?q=a%22%20onfocus%3D%22alert(1)", None, {200}),
        ("GET", "/search?q=wing%20%3C/mark%3E%3Cmark%3E&format=json", None, {200}),
        ("GET", "/search?q=a&k=-1", None, {400}),
        ("GET", "/search?q=a&k=99999999999999999999&format=json", None, {400}),
        ("GET", "/search?q=a&k=abc", None, {400}),
        ("GET", "/search?q=a&offset=-1&format=json", None, {400}),
        ("GET", "/search?q=a&offset=10001", None, {400}),
        ("GET", "/search?q=a&q=b&format=json", None, {400}),
        ("GET", "/search?q=a&format=xml", None, {400}),
        ("GET", "/search?q=wing&foo=bar&=x&&utm=%ZZ&format=json", None, {200}),
        ("POST", "/search?q=wing", "q=wing", {405}),
        ("PUT", "/search?q=wing&format=json", None, {405}),
        ("GET", "/nope", None, {404}),
        ("GET", "/search/../etc/passwd", None, {404}),
        ("GET", "/search?q=%22" + "wing%20" * 70 + "%22&format=json", None, {400}),
        ("GET", "/search?q=((((((((((wing&format=json", None, {200, 400}),
    ]
    return reqs


def normal_requests(queries_path):
    reqs = []
    with open(queries_path, encoding="utf-8") as f:
        for line in f:
            q = line.rstrip("\r\n").split("\t", 1)[-1].strip()
            if not q:
                continue
            enc = urllib.parse.quote(q, safe="")
            for fmt in ("json", "html"):
                for offset in (0, 10):
                    reqs.append(("GET", f"/search?q={enc}&k=10&offset={offset}&format={fmt}",
                                 None, {200}))
    return reqs


def rss_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def serving_pid(keeper):
    """The keeper's child (the process that serves), or None."""
    try:
        with open(f"/proc/{keeper}/task/{keeper}/children") as f:
            kids = f.read().split()
        return int(kids[0]) if kids else None
    except (OSError, ValueError):
        return None


class Driver:
    def __init__(self, host, port, plan, threads):
        self.host, self.port = host, port
        self.plan = plan
        self.next = 0
        self.lock = threading.Lock()
        self.counts = {}
        self.unexpected = []
        self.done = 0
        self.threads = threads

    def take(self):
        with self.lock:
            if self.next >= len(self.plan):
                return None
            i = self.next
            self.next += 1
            return i

    def record(self, i, status, detail=""):
        method, path, _, allowed = self.plan[i]
        with self.lock:
            self.done += 1
            key = str(status)
            self.counts[key] = self.counts.get(key, 0) + 1
            if status not in allowed:
                self.unexpected.append({"index": i, "method": method, "path": path[:120],
                                        "status": status, "allowed": sorted(allowed),
                                        "t": time.monotonic(), "detail": detail[:200]})

    def worker(self):
        conn = None
        while True:
            i = self.take()
            if i is None:
                break
            method, path, body, _ = self.plan[i]
            if conn is None:
                conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
            try:
                headers = {"Content-Type": "application/x-www-form-urlencoded"} if body else {}
                conn.request(method, path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                status = resp.status
                detail = ""
                if status == 200 and not data:
                    status, detail = "empty-200", ""
                self.record(i, status, detail)
                if resp.will_close:
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException) as e:
                self.record(i, "conn-error", repr(e))
                conn.close()
                conn = None
        if conn:
            conn.close()

    def run(self):
        ts = [threading.Thread(target=self.worker) for _ in range(self.threads)]
        for t in ts:
            t.start()
        return ts


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("base")
    ap.add_argument("queries")
    ap.add_argument("n", type=int)
    ap.add_argument("out")
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--hostile", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keeper", type=int)
    a = ap.parse_args()

    u = urllib.parse.urlparse(a.base)
    normal, hostile = normal_requests(a.queries), hostile_requests()
    rnd = random.Random(a.seed)
    plan = [hostile[rnd.randrange(len(hostile))] if rnd.random() < a.hostile
            else normal[rnd.randrange(len(normal))] for _ in range(a.n)]
    res = {"requests": a.n, "distinct_normal": len(normal), "distinct_hostile": len(hostile)}

    warm = Driver(u.hostname, u.port, normal + hostile, a.threads)
    t0 = time.monotonic()
    for t in warm.run():
        t.join()
    res["warmup"] = {"requests": len(warm.plan), "seconds": round(time.monotonic() - t0, 2),
                     "counts": warm.counts, "unexpected": warm.unexpected[:20],
                     "unexpected_total": len(warm.unexpected)}

    d = Driver(u.hostname, u.port, plan, a.threads)
    first = serving_pid(a.keeper) if a.keeper else None
    res["serving_pid_before"] = first
    samples = []
    t0 = time.monotonic()
    ts = d.run()
    killed = None
    while any(t.is_alive() for t in ts):
        time.sleep(0.05)
        pid = serving_pid(a.keeper) if a.keeper else None
        if pid and not killed:
            samples.append({"done": d.done, "rss_kb": rss_kb(pid), "pid": pid})
        if a.keeper and not killed and d.done >= a.n // 2 and pid:
            os.kill(pid, signal.SIGKILL)
            killed = {"pid": pid, "done": d.done, "t": time.monotonic()}
    for t in ts:
        t.join()
    secs = time.monotonic() - t0
    res.update({
        "seconds": round(secs, 2), "rps": round(a.n / secs, 1), "counts": d.counts,
        "hostile_sent": sum(1 for r in plan if r in hostile),
        "unexpected_total": len(d.unexpected),
        "unexpected": d.unexpected[:50],
        "rss_samples": samples,
        "killed": killed,
        "serving_pid_after": serving_pid(a.keeper) if a.keeper else None,
    })
    if killed:
        # answers that failed because of the kill: those that were in flight
        res["failed_after_kill"] = [x for x in d.unexpected if x["t"] >= killed["t"] - 0.01]
    with open(a.out, "w") as f:
        json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()
