#!/usr/bin/env python3
"""Drives an interactive program through a real pseudo-terminal, for the tests.

Usage: pty-drive.py [-l TRANSCRIPT] [-t SECONDS] -- COMMAND [ARG...]

Starts COMMAND on a new pty and obeys one request per line on stdin, answering each
with one line on stdout, so that a test (a bash coprocess) can interleave typing with
its own actions:

  send TEXT          types TEXT; backslash escapes \\t \\n \\r \\\\ and \\xHH (\\x04 is
                     Ctrl-D, \\x03 Ctrl-C).                      -> "ok"
  expect SECS REGEX  waits up to SECS for REGEX (Python syntax) in what the program
                     wrote since the last match, with terminal control sequences,
                     bells and carriage returns removed; the match and what precedes
                     it are consumed.                               -> "ok" or "timeout"
  wait SECS          waits up to SECS for the program to end.  -> "exit N", "signal N"
                                                                  or "timeout"

A "timeout" answer carries the unconsumed output (escaped) for the test's message.
Every answer is bounded by its SECS, and the whole run by -t (default 120 s), after
which the program is killed: a test never hangs on it. The raw output is appended to
TRANSCRIPT.
"""

import argparse
import codecs
import os
import pty
import re
import select
import signal
import sys
import time

# CSI and other escape sequences, the bell, carriage returns: what a terminal would
# act on rather than show, so that a pattern matches the text a person would read.
CONTROL = re.compile(rb"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-Z\\\]^_]|[\x07\r]")


class Session:
    def __init__(self, argv, transcript):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            try:
                os.execvp(argv[0], argv)
            finally:
                os._exit(127)
        self.raw = b""
        self.seen = b""
        self.status = None
        self.transcript = transcript

    def pump(self, deadline):
        """Reads what the program wrote until the deadline; False at end of output."""
        left = max(0.0, deadline - time.monotonic())
        ready, _, _ = select.select([self.fd], [], [], min(left, 0.1))
        if not ready:
            return True
        try:
            data = os.read(self.fd, 4096)
        except OSError:  # EIO: the program closed the terminal (it ended)
            data = b""
        if not data:
            return False
        if self.transcript:
            self.transcript.write(data)
            self.transcript.flush()
        self.raw += data
        # Only complete escape sequences are removed; a split one waits for its end.
        cut = self.raw.rfind(b"\x1b")
        if cut < 0 or CONTROL.match(self.raw, cut):
            cut = len(self.raw)
        self.seen += CONTROL.sub(b"", self.raw[:cut])
        self.raw = self.raw[cut:]
        return True

    def expect(self, secs, pattern):
        deadline = time.monotonic() + secs
        regex = re.compile(pattern.encode())
        alive = True
        while True:
            m = regex.search(self.seen)
            if m:
                self.seen = self.seen[m.end():]
                return "ok"
            if time.monotonic() >= deadline:
                break
            if alive:
                alive = self.pump(deadline)
            else:
                time.sleep(0.05)
        return "timeout " + repr(self.seen[-400:])

    def wait(self, secs):
        deadline = time.monotonic() + secs
        while self.status is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = status
                break
            if time.monotonic() >= deadline:
                return "timeout " + repr(self.seen[-400:])
            if not self.pump(deadline):
                time.sleep(0.05)
        if os.WIFEXITED(self.status):
            return "exit %d" % os.WEXITSTATUS(self.status)
        return "signal %d" % os.WTERMSIG(self.status)

    def kill(self):
        if self.status is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            except OSError:
                pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-l", dest="transcript")
    ap.add_argument("-t", dest="limit", type=float, default=120)
    ap.add_argument("command", nargs="+")
    args = ap.parse_args()
    transcript = open(args.transcript, "ab") if args.transcript else None
    s = Session(args.command, transcript)
    signal.signal(signal.SIGALRM, lambda *_: (s.kill(), os._exit(124)))
    signal.alarm(int(args.limit))
    try:
        for line in sys.stdin:
            verb, _, rest = line.rstrip("\n").partition(" ")
            if verb == "send":
                text = codecs.decode(rest, "unicode_escape").encode("latin-1")
                os.write(s.fd, text)
                answer = "ok"
            elif verb == "expect":
                secs, _, pattern = rest.partition(" ")
                answer = s.expect(float(secs), pattern)
            elif verb == "wait":
                answer = s.wait(float(rest))
            else:
                answer = "error unknown request " + repr(verb)
            print(answer, flush=True)
    finally:
        s.kill()


if __name__ == "__main__":
    main()
