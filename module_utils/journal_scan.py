# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Postfix's log from the systemd journal, scanned with the same signatures as a log file.

journalctl (argv only) prints the entries in `short-iso` form, which is a syslog line with an
ISO timestamp, so log_scan.Scanner classifies them exactly as it classifies /var/log/mail.log.
Which entries: the mail facility (what rsyslog's `mail.*` would have written to mail.log) and
every syslog identifier that is a Postfix program (`postfix/smtp`, `postfix-out/smtp`, a custom
syslog_name such as `mailout/smtp`), so a Postfix logging to another facility is still read.

Incremental by journal cursor: the state keeps the cursor of the last entry read and the
aggregate so far. The next run reads only entries after the cursor. It reads the whole window
again when the cursor is refused or its entries were vacuumed (the oldest matching entry is
newer than the cursor), and when the kept aggregate reaches further back than the window by more
than a seventh of it (a journal is never rotated, so counts would otherwise grow past the window).
Each fallback is said in `note`.
"""
from __future__ import annotations

import json
import os
import re
import time

from . import log_scan
from . import log_signatures as sig
from .postfix_cmd import Stream

JOURNALCTL_CANDIDATES = ("/usr/bin/journalctl", "/bin/journalctl")
CURSOR_LINE = b"-- cursor: "
NO_ENTRIES = b"-- No entries --"
# journalctl's own lines in short output: "-- No entries --", "-- Boot ... --", "-- Reboot --".
OWN_LINES = re.compile(rb"(?m)^-- [^\n]*\n?")
NO_FILES = "No journal files were found"
UNREADABLE = ("insufficient permissions", "not seeing messages from other users")
MAIL_FACILITY = "SYSLOG_FACILITY=2"
READ_TIMEOUT = 3600
# journalctl's output is classified in blocks of FEED_BYTES while journalctl writes the next one
# into a pipe of PIPE_BYTES (the default 64 KB pipe made journalctl wait for every block, so the
# two never ran at once and a scan took journalctl's time plus ours)
FEED_BYTES = 1024 * 1024
PIPE_BYTES = 1024 * 1024


def _without_own_lines(block):
    """journalctl's own "-- ..." lines removed (they are rare: test before the regex pass)."""
    return OWN_LINES.sub(b"", block) if block.startswith(b"-- ") or b"\n-- " in block else block


class JournalError(Exception):
    """journalctl could not be run or refused to read the journal (the message says why).
    `absent` is true when the host simply has no journal files."""

    def __init__(self, msg, absent=False):
        super().__init__(msg)
        self.absent = absent


def journalctl():
    """Path of journalctl on this host, or None."""
    for path in JOURNALCTL_CANDIDATES:
        if os.access(path, os.X_OK):
            return path
    return None


def wanted_identifier(ident):
    """A syslog identifier whose entries are Postfix's, or a content checker's/dovecot's that the
    signatures know about (they route those lines themselves, as from a file)."""
    is_postfix, daemon = sig.program_of("2000-01-01T00:00:00 h %s: x" % ident)
    return bool(is_postfix) or daemon in sig.OTHER_PROGRAMS_READ


class Journal:
    """One journal: the host's (directory None) or the journal files under `directory`."""

    def __init__(self, binary, directory=None):
        self.binary, self.directory = binary, directory

    def argv(self, *extra):
        argv = [self.binary, "--no-pager"]
        if self.directory:
            argv.append("--directory=" + self.directory)
        return argv + list(extra)

    def _run(self, argv, limit=None):
        """(stdout bytes, stderr text, rc). Raises JournalError when journalctl is missing or
        says it cannot see the system's entries."""
        chunks, size = [], 0
        try:
            with Stream(argv, env={"LC_ALL": "C.UTF-8", "PATH": "/usr/bin:/bin", "SYSTEMD_PAGER": ""},
                        timeout=120) as st:
                for raw in st:
                    chunks.append(raw)
                    size += len(raw)
                    if limit and size >= limit:
                        break
        except OSError as exc:
            raise JournalError("cannot run %s: %s" % (argv[0], exc)) from exc
        self._refuse_unseen(st.stderr)
        return b"".join(chunks), st.stderr, st.rc

    def _refuse_unseen(self, stderr):
        """Raise when journalctl could not see the entries: not readable by this user, or no
        journal files at all (journalctl says so on stderr but exits 0, or 1 with "-- No entries
        --", exactly as for a journal without one mail entry: a clean scan of nothing)."""
        if any(s in (stderr or "") for s in UNREADABLE):
            raise JournalError("the journal is not readable by this user (uid %d): %s; run with become, or add the "
                               "user to the systemd-journal group" % (os.getuid(), " ".join(stderr.split())[:200]))
        if NO_FILES in (stderr or ""):
            raise JournalError("no journal files were found %s" % (
                "under %s" % self.directory if self.directory else
                "on this host (journald keeps none: Storage=none, or no journald)"), absent=True)

    def identifiers(self):
        out, err, rc = self._run(self.argv("--field=SYSLOG_IDENTIFIER"))
        if rc != 0:
            raise JournalError("journalctl --field=SYSLOG_IDENTIFIER failed (rc=%s): %s" % (rc, err.strip()[:300]))
        names = {line.decode("utf-8", "replace").strip() for line in out.splitlines()}
        return sorted(n for n in names if n and wanted_identifier(n))

    def matches(self):
        """journalctl match arguments: the mail facility OR any wanted identifier."""
        out = [MAIL_FACILITY]
        for ident in self.identifiers():
            out += ["+", "SYSLOG_IDENTIFIER=" + ident]
        return out

    def oldest(self, matches):
        """Cursor of the oldest matching entry, or None when there is none."""
        out, _unused, _unused = self._run(self.argv("-o", "json", "--quiet", *matches), limit=65536)
        try:
            return json.loads(out.split(b"\n", 1)[0].decode("utf-8", "replace")).get("__CURSOR")
        except (ValueError, AttributeError):
            return None

    def scan(self, scanner, since, after_cursor, matches):
        """Feed the matching entries to `scanner`. Returns (cursor of the last entry or None, rc,
        stderr)."""
        argv = self.argv("-o", "short-iso", "--all", "--show-cursor")
        argv += ["--after-cursor=" + after_cursor] if after_cursor else ["--since=@%d" % int(since)]
        argv += matches
        pending, cursor = b"", None
        try:
            with Stream(argv, env={"LC_ALL": "C.UTF-8", "PATH": "/usr/bin:/bin", "SYSTEMD_PAGER": ""},
                        timeout=READ_TIMEOUT, pipe_size=PIPE_BYTES) as st:
                parts, size = [], 0
                for block in st.blocks(1 << 20):
                    parts.append(block)
                    size += len(block)
                    if size < FEED_BYTES:
                        continue
                    data = pending + b"".join(parts)
                    parts, size = [], 0
                    cut = data.rfind(b"\n", 0, len(data) - 1) + 1  # keep the last line: it may be the cursor
                    pending = data[cut:]
                    if cut:
                        scanner.feed(_without_own_lines(data[:cut]))
                pending += b"".join(parts)
                cut = pending.rfind(b"\n", 0, len(pending) - 1) + 1
                if cut:
                    scanner.feed(_without_own_lines(pending[:cut]))
                    pending = pending[cut:]
        except OSError as exc:
            raise JournalError("cannot run %s: %s" % (argv[0], exc)) from exc
        self._refuse_unseen(st.stderr)
        if pending.startswith(NO_ENTRIES) and st.rc == 1:
            return None, 0, st.stderr  # systemd 252 exits 1 when nothing matches: not an error
        if pending.startswith(CURSOR_LINE):
            cursor = pending[len(CURSOR_LINE):].strip().decode("ascii", "replace")
        elif pending:
            scanner.feed(_without_own_lines(pending))
        if st.timed_out:
            return None, "timeout", "journalctl gave no end in %d s" % READ_TIMEOUT
        return cursor, st.rc, st.stderr


def _cursor_fields(cursor):
    return dict(part.split("=", 1) for part in (cursor or "").split(";") if "=" in part)


def vacuumed_since(oldest, cursor):
    """True when the oldest entry the journal still has comes after the saved cursor: the
    entries between were vacuumed. Same sequence (s=): by sequence number; else by time."""
    a, b = _cursor_fields(oldest), _cursor_fields(cursor)
    try:
        if a.get("s") and a.get("s") == b.get("s"):
            return int(a["i"], 16) > int(b["i"], 16)
        return int(a["t"], 16) > int(b["t"], 16)
    except (KeyError, ValueError):
        return False


def scan(journal, state=None, since=None, window=None, masked=True, now=None):
    """Scan the journal, incrementally from `state` (a dict kept in the diagnosis' state file).

    Returns (new_state, agg, info); info says the mode (full/incremental), the cursor and any
    fallback in `note`. Raises JournalError when the journal cannot be read at all.
    """
    now = time.time() if now is None else now
    since = now - window if since is None and window else since
    matches = journal.matches()
    identifiers = [m.split("=", 1)[1] for m in matches if m.startswith("SYSLOG_IDENTIFIER=")]
    info = {"source": "journal", "directory": journal.directory, "identifiers": identifiers}
    state = state or {}
    cursor, notes = None, []
    reuse = (state.get("cursor") and state.get("masked") == masked and state.get("directory") == journal.directory
             and isinstance(state.get("agg"), dict))
    if reuse and window and state.get("window_start", 0) < since - window / 7.0:
        reuse, _unused = False, notes.append("the kept counts reached past the window; read the window again")
    if reuse:
        if vacuumed_since(journal.oldest(matches), state["cursor"]):
            reuse = False
            notes.append("entries after the saved cursor were vacuumed; read the window again")
    if reuse:
        sc = log_scan.Scanner(since=since, masked=masked)
        cursor, rc, err = journal.scan(sc, since, state["cursor"], matches)
        if rc == 0:
            agg = log_scan.merge(json.loads(json.dumps(state["agg"])), sc.agg)
            info["mode"] = "incremental" if sc.agg["lines"] else "cached"
            new = dict(state, cursor=cursor or state["cursor"], agg=agg, scanned=now)
            info.update(cursor=new["cursor"], lines_read=sc.agg["lines"], note="; ".join(notes) or None)
            return new, agg, info
        notes.append("journalctl refused the saved cursor (rc=%s: %s); read the window again"
                     % (rc, " ".join((err or "").split())[:200]))
    sc = log_scan.Scanner(since=since, masked=masked)
    cursor, rc, err = journal.scan(sc, since, None, matches)
    if rc != 0:
        raise JournalError("journalctl failed (rc=%s): %s" % (rc, " ".join((err or "").split())[:300]))
    info.update(mode="full", cursor=cursor, lines_read=sc.agg["lines"], note="; ".join(notes) or None)
    new = {"cursor": cursor, "masked": masked, "directory": journal.directory, "window_start": since,
           "agg": sc.agg, "scanned": now}
    return new, sc.agg, info
