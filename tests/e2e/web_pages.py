#!/usr/bin/env python3
"""Loads pages of the web box in headless Chromium, saves a screenshot and
the rendered DOM of each, and checks each page with JavaScript run in it.

    web_pages.py CHROMIUM BASE_URL PAGES_TSV OUT_DIR

PAGES_TSV: one page a line, tab-separated: name, viewport ("1000x900", or
"phone" for a 390x844 touch screen), path, and a JavaScript expression that
must be true in the loaded page ("" for none). Lines starting with # are
comments. Every page is also checked for horizontal overflow (the document is
no wider than the viewport). Writes OUT_DIR/NAME.png and NAME.html; prints
"ok   NAME" or "FAIL NAME: why" per page; exit 1 if a page failed.

Talks to Chromium over the DevTools protocol on a pipe
(--remote-debugging-pipe: commands on fd 3, answers on fd 4, JSON messages
ended by NUL), so nothing but Chromium and the standard library is needed.
"""
import base64
import json
import os
import signal
import subprocess
import sys
import tempfile

PHONE = (390, 844)


class Browser:
    def __init__(self, chromium, profile):
        to_r, self.to_w = os.pipe()
        self.from_r, from_w = os.pipe()
        args = [chromium, "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", "--hide-scrollbars",
                "--remote-debugging-pipe", f"--user-data-dir={profile}", "about:blank"]
        self.proc = subprocess.Popen(
            ["sh", "-c", f'exec "$0" "$@" 3<&{to_r} 4>&{from_w}'] + args,
            pass_fds=(to_r, from_w), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_r)
        os.close(from_w)
        self.rbuf = b""
        self.next_id = 0
        self.events = []

    def _read(self):
        while b"\0" not in self.rbuf:
            chunk = os.read(self.from_r, 1 << 16)
            if not chunk:
                raise RuntimeError("chromium closed the DevTools pipe")
            self.rbuf += chunk
        msg, self.rbuf = self.rbuf.split(b"\0", 1)
        return json.loads(msg)

    def call(self, method, session=None, **params):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params}
        if session:
            msg["sessionId"] = session
        os.write(self.to_w, json.dumps(msg).encode() + b"\0")
        while True:
            m = self._read()
            if m.get("id") == self.next_id:
                if "error" in m:
                    raise RuntimeError(f"{method}: {m['error'].get('message')}")
                return m.get("result", {})
            self.events.append(m)

    def wait_event(self, method, session):
        while True:
            for i, m in enumerate(self.events):
                if m.get("method") == method and m.get("sessionId") == session:
                    del self.events[i]
                    return m
            self.events.append(self._read())

    def close(self):
        try:
            self.call("Browser.close")
        except (RuntimeError, OSError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def load(b, base, name, view, path, check, out):
    tid = b.call("Target.createTarget", url="about:blank")["targetId"]
    s = b.call("Target.attachToTarget", targetId=tid, flatten=True)["sessionId"]
    phone = view == "phone"
    w, h = PHONE if phone else map(int, view.split("x"))
    b.call("Page.enable", s)
    b.call("Emulation.setDeviceMetricsOverride", s, width=w, height=h, deviceScaleFactor=1,
           mobile=phone)
    b.call("Emulation.setTouchEmulationEnabled", s, enabled=phone, maxTouchPoints=1)
    b.call("Page.navigate", s, url=base + path)
    b.wait_event("Page.loadEventFired", s)

    def js(expr):
        r = b.call("Runtime.evaluate", s, expression=expr, returnByValue=True)
        if "exceptionDetails" in r:
            raise RuntimeError(f"{expr}: {r['exceptionDetails'].get('text')}")
        return r["result"].get("value")

    with open(os.path.join(out, name + ".html"), "w", encoding="utf-8") as f:
        f.write(js("document.documentElement.outerHTML"))
    shot = b.call("Page.captureScreenshot", s, format="png")["data"]
    with open(os.path.join(out, name + ".png"), "wb") as f:
        f.write(base64.b64decode(shot))
    why = None
    sw, cw = js("[document.documentElement.scrollWidth, window.innerWidth]")
    if sw > cw:
        why = f"wider than the viewport ({sw} > {cw} px)"
    elif check and js(f"!!({check})") is not True:
        why = f"check failed: {check}"
    b.call("Target.closeTarget", targetId=tid)
    return why


def main():
    chromium, base, pages, out = sys.argv[1:5]
    os.makedirs(out, exist_ok=True)
    signal.alarm(120)  # a hung browser fails the test instead of blocking it
    failed = 0
    with tempfile.TemporaryDirectory(prefix="idx-chromium-") as profile:
        b = Browser(chromium, profile)
        try:
            for line in open(pages, encoding="utf-8"):
                line = line.rstrip("\n")
                if not line or line.startswith("#"):
                    continue
                name, view, path, check = (line.split("\t") + [""])[:4]
                try:
                    why = load(b, base, name, view, path, check, out)
                except RuntimeError as e:
                    why = str(e)
                if why:
                    print(f"FAIL {name} ({path}): {why}")
                    failed = 1
                else:
                    print(f"ok   {name} ({view} {path}): {out}/{name}.png")
        finally:
            b.close()
    return failed


if __name__ == "__main__":
    sys.exit(main())
