"""A headless Chromium driven over the DevTools protocol on a pipe
(--remote-debugging-pipe: commands on the browser's fd 3, answers and events on its
fd 4, each message JSON ended by a NUL byte). Only what the dashboard test needs:
open a page, evaluate JavaScript, answer dialogs, emulate a phone, take screenshots."""

import base64
import json
import os
import subprocess
import time


class Browser:
    def __init__(self, args, log):
        to_child_r, self._w = os.pipe()
        self._r, from_child_w = os.pipe()

        def fds():
            os.dup2(to_child_r, 3)
            os.dup2(from_child_w, 4)

        self.proc = subprocess.Popen(
            args + ["--remote-debugging-pipe"], preexec_fn=fds, pass_fds=(3, 4),
            stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        os.close(to_child_r)
        os.close(from_child_w)
        self._buf = b""
        self._id = 0
        self.events = []
        self.session = None

    def _read(self, deadline):
        while b"\0" not in self._buf:
            if time.time() > deadline:
                raise TimeoutError("no message from the browser")
            chunk = os.read(self._r, 65536)
            if not chunk:
                raise EOFError("the browser closed its pipe")
            self._buf += chunk
        msg, self._buf = self._buf.split(b"\0", 1)
        return json.loads(msg)

    def send(self, method, params=None, session=True, timeout=30):
        self._id += 1
        mine = self._id
        msg = {"id": mine, "method": method, "params": params or {}}
        if session and self.session:
            msg["sessionId"] = self.session
        os.write(self._w, json.dumps(msg).encode() + b"\0")
        deadline = time.time() + timeout
        while True:
            m = self._read(deadline)
            if m.get("id") == mine:
                if "error" in m:
                    raise RuntimeError(f"{method}: {m['error']}")
                return m.get("result", {})
            if "method" in m:
                self._event(m)

    def _event(self, m):
        self.events.append(m)
        # Dialogs (confirm before a disconnect) are accepted as a person would.
        if m.get("method") == "Page.javascriptDialogOpening":
            self.dialogs.append(m["params"]["message"])
            self._id += 1
            os.write(self._w, json.dumps({
                "id": self._id, "method": "Page.handleJavaScriptDialog",
                "params": {"accept": True}, "sessionId": m.get("sessionId")}).encode() + b"\0")

    dialogs = []

    def open(self, url):
        target = self.send("Target.createTarget", {"url": "about:blank"}, session=False)
        att = self.send("Target.attachToTarget",
                        {"targetId": target["targetId"], "flatten": True}, session=False)
        self.session = att["sessionId"]
        self.send("Page.enable")
        self.send("Runtime.enable")
        self.send("Page.navigate", {"url": url})

    def eval(self, expr, timeout=30):
        r = self.send("Runtime.evaluate", {"expression": expr, "returnByValue": True,
                                           "awaitPromise": True}, timeout=timeout)
        if "exceptionDetails" in r:
            raise RuntimeError(f"{expr}: {r['exceptionDetails']}")
        return r["result"].get("value")

    def wait(self, expr, timeout=20, what=None):
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                v = self.eval(expr)
                if v:
                    return v
            except RuntimeError:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"timed out waiting for {what or expr}")

    def screenshot(self, path, width, height, mobile=False):
        self.send("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile})
        time.sleep(0.5)
        data = self.send("Page.captureScreenshot", {"format": "png"})["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))

    def close(self):
        try:
            self.send("Browser.close", session=False, timeout=5)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
