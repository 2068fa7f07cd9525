#!/usr/bin/python3
"""Drive a headless chromium through the DevTools protocol, for the shell
suites (tests/regress/dashboard.sh): one command per line on standard
input, one answer line per command on standard output.

The protocol runs over chromium's --remote-debugging-pipe (file
descriptors 3 and 4, NUL-terminated JSON), so nothing but python3's
standard library and Debian's chromium is needed.

Commands:
  open URL              load URL, wait for its load event: ok
  eval JS               the value of the expression (promises awaited),
                        as JSON, or "error: ..."
  wait SECONDS JS       eval until the value is truthy: it, or "timeout"
  type SELECTOR TEXT    focus the element and type TEXT: ok
  click SELECTOR        click the element: ok
  size W H MOBILE       the viewport (MOBILE 1: a phone's, with touch): ok
  shot FILE             a PNG of the whole page: ok
  errors                the page's exceptions and console errors, JSON
  requests              every URL the page asked for, JSON
  quit                  close chromium: ok
"""

import base64
import json
import os
import select
import subprocess
import sys
import time

TIMEOUT = 60.0  # s for one answer of chromium


class Chromium:
    def __init__(self, binary, profile, width, height):
        to_r, self.to_w = os.pipe()
        self.from_r, from_w = os.pipe()

        def fds():
            os.dup2(to_r, 3)
            os.dup2(from_w, 4)

        self.proc = subprocess.Popen(
            [binary, "--headless", "--remote-debugging-pipe",
             "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--no-default-browser-check", "--disable-extensions",
             "--disable-background-networking", "--disable-sync",
             "--disable-component-update", "--mute-audio",
             "--hide-scrollbars", "--user-data-dir=" + profile,
             "--window-size=%d,%d" % (width, height), "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            pass_fds=(3, 4), preexec_fn=fds)
        os.close(to_r)
        os.close(from_w)
        self.buf = b""
        self.next_id = 0
        self.session = None
        self.events = []
        self.errors = []
        self.requests = []
        self.loaded = False

    def send(self, method, params=None, session=True):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method,
               "params": params or {}}
        if session and self.session:
            msg["sessionId"] = self.session
        os.write(self.to_w, json.dumps(msg).encode() + b"\0")
        return self.next_id

    def read(self, deadline):
        while b"\0" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no answer from chromium")
            ready, _, _ = select.select([self.from_r], [], [], left)
            if not ready:
                continue
            chunk = os.read(self.from_r, 65536)
            if not chunk:
                raise EOFError("chromium went away")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\0", 1)
        return json.loads(line)

    def event(self, msg):
        method = msg.get("method", "")
        p = msg.get("params", {})
        if method == "Page.loadEventFired":
            self.loaded = True
        elif method == "Runtime.exceptionThrown":
            d = p.get("exceptionDetails", {})
            self.errors.append(d.get("exception", {}).get(
                "description", d.get("text", "exception")))
        elif method == "Runtime.consoleAPICalled" and \
                p.get("type") in ("error", "assert"):
            self.errors.append(" ".join(
                str(a.get("value", a.get("description", "")))
                for a in p.get("args", [])))
        elif method == "Log.entryAdded" and \
                p.get("entry", {}).get("level") == "error":
            self.errors.append(p["entry"].get("text", ""))
        elif method == "Network.requestWillBeSent":
            self.requests.append(p.get("request", {}).get("url", ""))

    def call(self, method, params=None, session=True):
        want = self.send(method, params, session)
        deadline = time.monotonic() + TIMEOUT
        while True:
            msg = self.read(deadline)
            if msg.get("id") == want:
                if "error" in msg:
                    raise RuntimeError(msg["error"].get("message"))
                return msg.get("result", {})
            self.event(msg)

    def pump(self, seconds):
        deadline = time.monotonic() + seconds
        try:
            while True:
                self.event(self.read(deadline))
        except TimeoutError:
            pass

    def attach(self):
        targets = self.call("Target.getTargets", session=False)
        page = [t for t in targets["targetInfos"] if t["type"] == "page"]
        if not page:
            page = [{"targetId": self.call(
                "Target.createTarget", {"url": "about:blank"},
                session=False)["targetId"]}]
        self.session = self.call(
            "Target.attachToTarget",
            {"targetId": page[0]["targetId"], "flatten": True},
            session=False)["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(domain + ".enable")

    def evaluate(self, js):
        r = self.call("Runtime.evaluate", {
            "expression": js, "returnByValue": True,
            "awaitPromise": True})
        if "exceptionDetails" in r:
            d = r["exceptionDetails"]
            raise RuntimeError(d.get("exception", {}).get(
                "description", d.get("text", "exception")))
        return r.get("result", {}).get("value")

    def open(self, url):
        self.loaded = False
        self.call("Page.navigate", {"url": url})
        deadline = time.monotonic() + TIMEOUT
        while not self.loaded:
            if time.monotonic() > deadline:
                raise TimeoutError("no load event")
            self.pump(0.2)

    def shot(self, path):
        m = self.call("Page.getLayoutMetrics")
        size = m.get("cssContentSize", m.get("contentSize"))
        r = self.call("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": size["width"],
                     "height": size["height"], "scale": 1}})
        with open(path, "wb") as f:
            f.write(base64.b64decode(r["data"]))

    def quit(self):
        try:
            self.call("Browser.close", session=False)
        except (RuntimeError, TimeoutError, EOFError, OSError):
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def run(c, line):
    cmd, _, arg = line.partition(" ")
    if cmd == "open":
        c.open(arg)
        return "ok"
    if cmd == "eval":
        return json.dumps(c.evaluate(arg), ensure_ascii=False)
    if cmd == "wait":
        secs, _, js = arg.partition(" ")
        deadline = time.monotonic() + float(secs)
        while True:
            v = c.evaluate(js)
            if v:
                return json.dumps(v, ensure_ascii=False)
            if time.monotonic() > deadline:
                return "timeout"
            c.pump(0.25)
    if cmd == "type":
        sel, _, text = arg.partition(" ")
        c.evaluate("document.querySelector(%s).focus()" % json.dumps(sel))
        c.call("Input.insertText", {"text": text})
        return "ok"
    if cmd == "click":
        c.evaluate("document.querySelector(%s).click()" % json.dumps(arg))
        return "ok"
    if cmd == "size":
        w, h, mobile = (int(x) for x in arg.split())
        c.call("Emulation.setDeviceMetricsOverride", {
            "width": w, "height": h, "deviceScaleFactor": 2 if mobile
            else 1, "mobile": bool(mobile)})
        c.call("Emulation.setTouchEmulationEnabled",
               {"enabled": bool(mobile)})
        return "ok"
    if cmd == "shot":
        c.shot(arg)
        return "ok"
    if cmd == "errors":
        c.pump(0.1)
        return json.dumps(c.errors)
    if cmd == "requests":
        c.pump(0.1)
        return json.dumps(c.requests)
    return "error: unknown command " + cmd


def main():
    binary, profile = sys.argv[1], sys.argv[2]
    c = Chromium(binary, profile, 1280, 900)
    try:
        c.attach()
        print("ready", flush=True)
        for line in sys.stdin:
            line = line.rstrip("\n")
            if line == "quit":
                break
            try:
                out = run(c, line)
            except (RuntimeError, TimeoutError, ValueError,
                    KeyError) as e:
                out = "error: %s" % e
            print(out.replace("\n", " "), flush=True)
    finally:
        c.quit()
    print("ok", flush=True)


if __name__ == "__main__":
    main()
