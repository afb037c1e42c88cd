# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Mail queue helpers: streamed `postqueue -j`, selection, qshape, queue-file lookup.

`postqueue -j` is read line by line from a pipe (AnsibleModule.run_command buffers the whole
output, which grows with the queue); only counters, the qshape table and the selected
messages are kept.
"""
from __future__ import annotations

import json
import os
import re
import tempfile
import time

from . import bounded_match
from .postfix_cmd import Stream

QUEUES = ("maildrop", "incoming", "active", "deferred", "hold", "corrupt")
# Short (hex) and long (Postfix >= 2.9 enable_long_queue_ids) queue IDs.
QUEUE_ID_RE = re.compile(r"^[0-9A-Za-z]{5,20}$")
# qshape's default age buckets, in minutes.
BUCKETS = (5, 10, 20, 40, 80, 160, 320, 640, 1280)
DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")
UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
MAX_PATTERN = 512


class SelectionError(ValueError):
    pass


def parse_duration(text):
    """'90', '30m', '4h', '2d' -> seconds."""
    m = DURATION_RE.match(str(text))
    if not m:
        raise SelectionError("invalid age %r: use a number with s, m, h, d or w" % (text,))
    return float(m.group(1)) * UNITS[m.group(2)]


def _slash_regex(pattern):
    """A bounded case-insensitive matcher for '/.../' patterns, else None. The user's regex runs
    under a time bound (bounded_match): a catastrophic one fails the run, it cannot hang it."""
    if not (len(pattern) >= 2 and pattern.startswith("/") and pattern.endswith("/")):
        return None
    try:
        return bounded_match.compile_bounded(pattern[1:-1])
    except re.error as exc:
        raise SelectionError("invalid regex %s: %s" % (pattern, exc)) from exc


def _check_pattern(pattern, what):
    if not isinstance(pattern, str):
        raise SelectionError("%s must be a string, not %r" % (what, pattern))
    if not pattern.strip():
        raise SelectionError("%s is empty: an empty pattern would select every message%s"
                             % (what, "; use MAILER-DAEMON for the null sender" if what == "sender" else ""))
    if len(pattern) > MAX_PATTERN or any(c in pattern for c in "\n\r\x00"):
        raise SelectionError("%s pattern too long (over %d characters) or contains a newline or NUL" % (what, MAX_PATTERN))


def address_matcher(pattern, what="address"):
    """exact address, @domain / domain, MAILER-DAEMON (null sender) or /regex/."""
    if pattern is None:
        return None
    _check_pattern(pattern, what)
    rx = _slash_regex(pattern)
    if rx is not None:
        return rx.search
    if pattern.upper() in ("MAILER-DAEMON", "<>"):
        return lambda addr: addr in ("", "MAILER-DAEMON")
    low = pattern.lower()
    if "@" not in low.lstrip("@") or low.startswith("@"):
        dom = low.lstrip("@")
        if not dom:
            raise SelectionError("%s %r names no domain" % (what, pattern))
        return lambda addr: addr.lower().rpartition("@")[2] == dom
    return lambda addr: addr.lower() == low


def text_matcher(pattern, what="reason"):
    if pattern is None:
        return None
    _check_pattern(pattern, what)
    rx = _slash_regex(pattern)
    if rx is not None:
        return rx.search
    low = pattern.lower()
    return lambda text: low in text.lower()


def validate_ids(ids):
    bad = [i for i in ids if not isinstance(i, str) or not QUEUE_ID_RE.match(i)]
    if bad:
        raise SelectionError("invalid queue ID(s): %s" % ", ".join(repr(b) for b in bad[:5]))
    return set(ids)


class Selection:
    """All filters ANDed. A filter not given (None) does not restrict; a filter given empty
    (ids: [], queue: []) selects nothing. No filter at all matches every message."""

    def __init__(self, queues=None, sender=None, recipient=None, min_age=None, max_age=None,
                 min_size=None, max_size=None, reason=None, ids=None, now=None):
        for q in queues or ():
            if q not in QUEUES:
                raise SelectionError("unknown queue %r (one of %s)" % (q, ", ".join(QUEUES)))
        for name, size in (("min_size", min_size), ("max_size", max_size)):
            if size is not None and size < 0:
                raise SelectionError("%s must not be negative" % name)
        self.queues = None if queues is None else set(queues)
        self.sender = address_matcher(sender, "sender")
        self.recipient = address_matcher(recipient, "recipient")
        self.min_age = parse_duration(min_age) if min_age is not None else None
        self.max_age = parse_duration(max_age) if max_age is not None else None
        self.min_size, self.max_size = min_size, max_size
        self.reason = text_matcher(reason)
        self.ids = None if ids is None else validate_ids(ids)
        self.now = now or time.time()
        self.by_content = any((sender is not None, recipient is not None, min_age is not None, max_age is not None,
                               min_size is not None, max_size is not None, reason is not None))
        self.empty = self.queues is None and self.ids is None and not self.by_content
        self.nothing = self.queues == set() or self.ids == set()

    def takes_corrupt(self):
        """Corrupt queue files have no sender, recipients or age to filter on: they are selected
        by queue (corrupt) or by ID, and only when no content filter is given."""
        if self.nothing or self.by_content:
            return False
        return (self.queues is not None and "corrupt" in self.queues) or (self.queues is None and self.ids is not None)

    def matches(self, msg):
        if self.nothing:
            return False
        if self.queues is not None and msg.get("queue_name") not in self.queues:
            return False
        if self.ids is not None and msg.get("queue_id") not in self.ids:
            return False
        if self.sender and not self.sender(msg.get("sender") or ""):
            return False
        rcpts = msg.get("recipients") or []
        if self.recipient and not any(self.recipient(r.get("address") or "") for r in rcpts):
            return False
        age = self.now - (msg.get("arrival_time") or self.now)
        if self.min_age is not None and age < self.min_age:
            return False
        if self.max_age is not None and age > self.max_age:
            return False
        size = msg.get("message_size") or 0
        if self.min_size is not None and size < self.min_size:
            return False
        if self.max_size is not None and size > self.max_size:
            return False
        if self.reason and not any(self.reason(r.get("delay_reason") or "") for r in rcpts):
            return False
        return True


class QShape:
    """Domain x age table like `qshape` (recipient domains, or sender domains).

    At most max_rows domains get a row of their own (memory stays bounded on a queue to
    100,000 domains, like the sender table); later ones are added up in one OTHER row, so the
    totals stay exact."""

    OTHER = "(other domains)"

    def __init__(self, queues, by="recipient", now=None, max_rows=10000):
        self.queues, self.by, self.now = set(queues), by, now or time.time()
        self.rows, self.max_rows, self.capped = {}, max_rows, False

    def add(self, msg):
        if msg.get("queue_name") not in self.queues:
            return
        age_min = max(0.0, (self.now - (msg.get("arrival_time") or self.now)) / 60.0)
        col = next((i for i, b in enumerate(BUCKETS) if age_min < b), len(BUCKETS))
        if self.by == "sender":
            domains = [(msg.get("sender") or "MAILER-DAEMON").rpartition("@")[2].lower() or "MAILER-DAEMON"]
        else:
            domains = [(r.get("address") or "").rpartition("@")[2].lower() or "(local)" for r in msg.get("recipients") or []]
        for dom in domains:
            if dom not in self.rows and len(self.rows) >= self.max_rows:
                dom, self.capped = self.OTHER, True
            row = self.rows.setdefault(dom, [0] * (len(BUCKETS) + 2))
            row[0] += 1
            row[col + 1] += 1

    def table(self, top=20):
        head = ["T"] + [str(b) for b in BUCKETS] + ["%d+" % BUCKETS[-1]]
        ranked = sorted(self.rows.items(), key=lambda kv: (-kv[1][0], kv[0]))
        total = [sum(col) for col in zip(*self.rows.values())] if self.rows else [0] * len(head)
        return {"buckets_minutes": head, "total": total,
                "domains": [dict(domain=d, counts=c) for d, c in ranked[:top]],
                "more_domains": max(0, len(ranked) - top), "capped": self.capped}


def stream(argv, on_message, timeout=600):
    """Run `postqueue -j` and call on_message(dict) per line. Returns (rc, stderr, bad_lines)."""
    bad = 0
    with Stream(argv, timeout=timeout) as st:
        for raw in st:
            try:
                msg = json.loads(raw.decode("utf-8", "surrogateescape"))
            except ValueError:
                bad += 1
                continue
            if isinstance(msg, dict):
                on_message(msg)
            else:
                bad += 1
    if st.timed_out:  # killed by Stream: say why instead of a bare rc -9
        return st.rc, "listing stopped after %d s (timeout); %s" % (timeout, st.stderr), bad
    return st.rc, st.stderr, bad


def corrupt_files(queue_directory):
    """Queue files in the corrupt queue (postqueue does not list them)."""
    base = os.path.join(queue_directory, "corrupt")
    out = []
    for root, _dirs, files in os.walk(base):
        out.extend(os.path.join(root, f) for f in files)
    return sorted(out)


class SelectionFile:
    """The selected messages as "queue<TAB>id" lines in a temporary file: memory stays flat
    however many messages a selection holds. Keeps the first `keep` IDs for the result."""

    def __init__(self, keep=1000):
        # one JSON array per line: a corrupt file's name may hold any byte, a tab or a newline
        self.fh = tempfile.TemporaryFile(mode="w+", encoding="ascii")
        self.count, self.keep, self.first = 0, keep, []
        self.by_queue = {}

    def add(self, queue_name, queue_id):
        self.fh.write(json.dumps([queue_name, queue_id]) + "\n")
        self.count += 1
        self.by_queue[queue_name] = self.by_queue.get(queue_name, 0) + 1
        if len(self.first) < self.keep:
            self.first.append(queue_id)

    def __iter__(self):
        """(queue, id) pairs in listing order."""
        self.fh.flush()
        self.fh.seek(0)
        for line in self.fh:
            queue_name, qid = json.loads(line)
            yield queue_name, qid

    def ids(self, skip=("corrupt",)):
        return (qid for q, qid in self if q not in skip)

    def close(self):
        self.fh.close()


def external_sort(module, lines, workdir):
    """Write lines to a file and sort it with sort(1) in C order (bounded memory, spills to
    workdir); returns the open sorted file. OSError when the disk is full."""
    raw = tempfile.NamedTemporaryFile(mode="w", encoding="utf-8", errors="surrogateescape", dir=workdir,
                                      delete=False)
    with raw:
        for line in lines:
            raw.write(line + "\n")
    out = raw.name + ".sorted"
    try:
        rc, _o, err = module.run_command(["sort", "-S", "8M", "-T", workdir, "-o", out, raw.name],
                                         environ_update={"LC_ALL": "C"})
        if rc != 0:
            if os.path.exists(out):
                os.unlink(out)
            raise OSError("sort of the queue selection failed: %s" % err.strip())
        return open(out, encoding="utf-8", errors="surrogateescape")
    finally:
        os.unlink(raw.name)


def locate(module, queue_directory, selection, workdir):
    """Yield (queue, id, path) for every selected message whose file is still in the queue.
    A merge join of two sorted files (selection, directory walk): memory does not grow with
    the queue or the selection. Queue directories may be hashed into subdirectories."""
    queues = sorted(q for q in selection.by_queue if q != "corrupt")
    wanted = external_sort(module, ("%s/%s" % (q, qid) for q, qid in selection if q != "corrupt"), workdir)

    def walk():
        for q in queues:
            for root, _dirs, files in os.walk(os.path.join(queue_directory, q)):
                for f in files:
                    yield "%s/%s\t%s" % (q, f, os.path.join(root, f))

    found = external_sort(module, walk(), workdir)
    try:
        have = next(found, None)
        for want in wanted:
            key = want.rstrip("\n")
            while have is not None and have.partition("\t")[0] < key:
                have = next(found, None)
            if have is not None and have.partition("\t")[0] == key:
                q, _slash, qid = key.partition("/")
                yield q, qid, have.rstrip("\n").partition("\t")[2]
    finally:
        for fh in (wanted, found):
            fh.close()
            os.unlink(fh.name)


def count_files(queue_directory, queue_names=QUEUES):
    """Messages per queue, counted as files (the check after an action: no second postqueue -j)."""
    counts = dict.fromkeys(queue_names, 0)
    for name in queue_names:
        for _root, _dirs, files in os.walk(os.path.join(queue_directory, name)):
            counts[name] += len(files)
    return counts


REASON_SHAPE = re.compile(r"\[[^\]]*\]|\d+(?:\.\d+)*|<[^>]*>")


class Summary:
    """Counts per queue, qshape of the deferred queue, top senders and deferral reasons
    (senders and bounces among the mail not on hold)."""

    def __init__(self, keep_bounce_ids=10, now=None):
        self.counts = dict.fromkeys(QUEUES, 0)
        self.qshape = QShape(["deferred"], now=now)
        self.senders, self.reasons = {}, {}
        self.total = self.mailer_daemon = self.active = 0
        self.bounce_ids, self.keep = [], keep_bounce_ids
        self.oldest = {}  # queue -> arrival_time of its oldest message (the metrics' queue age)

    def add(self, msg):
        q = msg.get("queue_name")
        self.counts[q] = self.counts.get(q, 0) + 1
        self.total += 1
        t = msg.get("arrival_time")
        if isinstance(t, (int, float)) and not isinstance(t, bool) and (q not in self.oldest or t < self.oldest[q]):
            self.oldest[q] = t
        if q == "hold":
            return  # held mail is contained: it counts in the totals, not in floods or qshape
        self.active += 1
        sender = msg.get("sender") or "MAILER-DAEMON"
        if sender == "MAILER-DAEMON":
            self.mailer_daemon += 1
            if len(self.bounce_ids) < self.keep and QUEUE_ID_RE.match(msg.get("queue_id") or ""):
                self.bounce_ids.append(msg["queue_id"])
        if len(self.senders) < 10000 or sender in self.senders:
            self.senders[sender] = self.senders.get(sender, 0) + 1
        self.qshape.add(msg)
        if q == "deferred":
            for r in msg.get("recipients") or []:
                reason = REASON_SHAPE.sub("#", (r.get("delay_reason") or "")[:200])
                if reason and (len(self.reasons) < 1000 or reason in self.reasons):
                    self.reasons[reason] = self.reasons.get(reason, 0) + 1

    def result(self, top=10):
        def rank(d):
            return sorted(d.items(), key=lambda kv: (-kv[1], kv[0]))[:top]

        return dict(counts=self.counts, total=self.total, not_held=self.active, mailer_daemon=self.mailer_daemon,
                    top_senders=[dict(sender=s, count=n) for s, n in rank(self.senders)],
                    top_reasons=[dict(reason=r, count=n) for r, n in rank(self.reasons)],
                    qshape=self.qshape.table(top=20), bounce_ids=self.bounce_ids,
                    oldest={q: t for q, t in sorted(self.oldest.items()) if q in QUEUES})
