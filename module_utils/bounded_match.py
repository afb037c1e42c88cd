# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A user's regular expression, evaluated under a time bound.

Python's re is a backtracking engine: `/(a+)+$/` against a sender the attacker chose
("aaaa...a!") runs for hours, and a signal cannot interrupt a running match. The target hosts
have no linear-time engine we can count on (re2 is not in their Python), so the pattern runs in
a forked child process that answers one text at a time; the parent waits at most `seconds` for
each answer and kills the child when it does not come. A run with a catastrophic pattern then
fails with a message naming the pattern instead of hanging, and nothing has been changed yet
(selection comes before any action).

Cost: one pipe round trip per text (tens of microseconds), paid only for /regex/ patterns.
"""
from __future__ import annotations

import os
import re
import select
import signal
import struct

DEFAULT_SECONDS = 2.0
_LEN = struct.Struct("!I")


class PatternTimeout(Exception):
    """The pattern took longer than its bound on one text."""


def _read_exact(fd, n):
    buf = b""
    while len(buf) < n:
        chunk = os.read(fd, n - len(buf))
        if not chunk:
            raise EOFError
        buf += chunk
    return buf


class BoundedRegex:
    """search(text) -> bool, like re.search(...) is not None, but bounded in time."""

    def __init__(self, compiled, seconds=DEFAULT_SECONDS, label=None):
        self.rx = compiled
        self.seconds = seconds
        self.label = label or "/%s/" % compiled.pattern
        self.pid = None

    def _start(self):
        req_r, req_w = os.pipe()
        rep_r, rep_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # child: answer until the parent closes the pipe
            code = 0
            try:
                os.close(req_w)
                os.close(rep_r)
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                while True:
                    try:
                        (n,) = _LEN.unpack(_read_exact(req_r, _LEN.size))
                        data = _read_exact(req_r, n)
                    except EOFError:
                        break
                    hit = self.rx.search(data.decode("utf-8", "surrogateescape")) is not None
                    os.write(rep_w, b"1" if hit else b"0")
            except BaseException:  # noqa: BLE001 - the child never returns into the module
                code = 1
            finally:
                os._exit(code)
        os.close(req_r)
        os.close(rep_w)
        self.pid, self.req, self.rep = pid, req_w, rep_r

    def search(self, text):
        if self.pid is None:
            self._start()
        data = text.encode("utf-8", "surrogateescape")
        os.write(self.req, _LEN.pack(len(data)) + data)
        ready, _unused, _unused = select.select([self.rep], [], [], self.seconds)
        if not ready:
            self.close()
            raise PatternTimeout("pattern %s took more than %g s on %r...: it backtracks catastrophically; "
                                 "use a simpler pattern (no nested repetition such as (a+)+)"
                                 % (self.label, self.seconds, text[:60]))
        answer = os.read(self.rep, 1)
        if answer not in (b"0", b"1"):
            self.close()
            raise PatternTimeout("pattern %s could not be evaluated" % self.label)
        return answer == b"1"

    def close(self):
        if self.pid is None:
            return
        for fd in (self.req, self.rep):
            try:
                os.close(fd)
            except OSError:
                pass
        try:
            os.kill(self.pid, signal.SIGKILL)
        except OSError:
            pass
        try:
            os.waitpid(self.pid, 0)
        except OSError:
            pass
        self.pid = None

    def __del__(self):
        self.close()


def compile_bounded(pattern, flags=re.IGNORECASE, seconds=DEFAULT_SECONDS):
    """Compile pattern (re.error for bad syntax) and return a bounded searcher for it."""
    return BoundedRegex(re.compile(pattern, flags), seconds=seconds, label="/%s/" % pattern)
