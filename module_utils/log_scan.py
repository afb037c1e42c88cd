# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One-pass, incremental scanner of Postfix mail logs.

Per file: find the candidate lines (grep -E on log_signatures.GREP_ERE, the candidate words, for big plain
files, bytes.find on blocks otherwise), classify only those lines with the ordered signatures, and keep compact
aggregates per fault ID (count, first/last time, a few masked samples, counters per named
group). The state (offset and aggregates) is saved per file identity (device + inode), so a
re-run reads only what was appended, and a rotated file (renamed, same inode) is recognised
and not read again. A file that shrank or whose first bytes changed is read from the start.
"""
from __future__ import annotations

import datetime as _dt
import glob
import hashlib
import json
import os
import re
import shutil
import time
import zlib

from . import log_other as other
from . import log_signatures as sig
from . import safe_io
from .postfix_cmd import Stream

BLOCK = 8 * 1024 * 1024
HEAD = 256
STATE_VERSION = 6  # 3: inbound records (issue 17); 4: SASL-authenticated clients; 5: remote answers per domain;
# 6: families and statistics (issue 31 item 2: lines an older state counted as unclassified are read again)
STATE_IS_OURS = safe_io.json_object(("version",))  # any version of ours: an older one is replaced
MAX_SAMPLES = 3
MAX_GROUP_VALUES = 50
MAX_SASL_CLIENTS = 1000
MAX_REMOTE_DOMAINS = 200  # recipient domains with their own record in agg["remote"]; the rest is "(other)"
# "client=host[ip], sasl_method=PLAIN, sasl_username=..." (smtpd, after a successful AUTH)
SASL_CLIENT = re.compile(rb"client=[^\s\[]*\[([^\]]+)\][^\n]*?sasl_username=")
MAX_LINE = 4096  # longer lines are classified on their first MAX_LINE bytes
# Plain files bigger than this are prefiltered by grep (-E, the candidate words) when the host has grep.
GREP_MIN_BYTES = 4 * 1024 * 1024
# With more than this to read per CPU, the range is split at line boundaries and every CPU scans
# one part (its own grep and its own Python process); the parts' aggregates are merged.
PARALLEL_MIN_BYTES = 32 * 1024 * 1024
MAX_WORKERS = 4

MONTHS = {m: i for i, m in enumerate(("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1)}
TS_SYSLOG = re.compile(r"^([A-Z][a-z]{2}) {1,2}(\d{1,2}) (\d\d):(\d\d):(\d\d)")
TS_ISO = re.compile(r"^(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:\.\d+)?(Z|[+-]\d\d:?\d\d)?")
EMAIL = re.compile(r"(?<![\w.+-])([\w.+-])[\w.+-]*@([\w-]+(?:\.[\w-]+)+)")
SASL_USER = re.compile(r"(sasl_username=)([^\s,]+)")
# Debug output of policy daemons and milters can carry "password=..."; never pass it on.
SECRET = re.compile(r"(?i)\b(pass(?:word|wd)?\s*[=:]\s*)([^\s,;]+)")
# Verbose SMTP client/server logging (debug_peer_list) shows the AUTH exchange: base64 credentials.
AUTH_DATA = re.compile(r"(?i)\b(AUTH\s+(?:PLAIN|LOGIN|XOAUTH2|CRAM-MD5|DIGEST-MD5)\s+)(\S+)")
SHAPE = re.compile(r"\b[0-9A-F]{6,}\b|\b[0-9a-zA-Z]{10,}(?=:)|\d+|\[[^\[\]]*\]|<[^<>]*>")  # no nesting: linear on "a[a[a[..."

ROTATED_SUFFIX = re.compile(r"^(?:\.\d+|-\d{8}|-\d{10}|\.\d{8}|\.\d+\.gz|-\d{8}\.gz|\.gz|-\d{10}\.gz)$")


# ---------------------------------------------------------------- helpers
def mask(text):
    """Mask local parts of addresses and SASL user names (first character kept) and password values."""
    text = EMAIL.sub(lambda m: "%s***@%s" % (m.group(1), m.group(2)), text)
    text = SECRET.sub(lambda m: m.group(1) + "***", text)
    text = AUTH_DATA.sub(lambda m: m.group(1) + "***", text)
    return SASL_USER.sub(lambda m: m.group(1) + (m.group(2)[:1] + "***" if m.group(2) else ""), text)


def mask_value(name, value):
    if name in ("user", "rcpt"):
        return (value[:1] + "***" + value[value.find("@"):]) if "@" in value else (value[:1] + "***" if value else value)
    return value


def shape(line):
    """A line with its variable parts (numbers, IDs, hosts, addresses) blanked: groups similar lines."""
    msg = line.split(": ", 1)[1] if ": " in line[:120] else line
    return SHAPE.sub("#", msg)[:160]


def parse_time(line, year_hint, latest=None):
    """Epoch seconds of a log line's timestamp, or None (e.g. regression output without one).
    A syslog stamp has no year: it is taken in year_hint, or in the year before when that would
    put it after `latest` (a file written in January holds December's lines of the year before)."""
    m = TS_SYSLOG.match(line)
    if m and m.group(1) in MONTHS:
        try:
            t = _dt.datetime(year_hint, MONTHS[m.group(1)], int(m.group(2)), int(m.group(3)), int(m.group(4)),
                             int(m.group(5)))
            if latest is not None and t.timestamp() > latest:
                t = t.replace(year=year_hint - 1)
        except ValueError:  # no such day (Feb 30, or Feb 29 of a year that has none)
            return None
        return t.timestamp()
    m = TS_ISO.match(line)
    if m:
        try:
            t = _dt.datetime(*(int(g) for g in m.groups()[:6]))
        except ValueError:
            return None
        tz = m.group(7)
        if tz and tz != "Z":
            sign = 1 if tz[0] == "+" else -1
            off = _dt.timedelta(hours=int(tz[1:3]), minutes=int(tz[-2:]))
            t = (t - sign * off).replace(tzinfo=_dt.timezone.utc)
        elif tz == "Z":
            t = t.replace(tzinfo=_dt.timezone.utc)
        return t.timestamp()
    return None


def new_agg():
    # ids: a finding's evidence; inbound: servers' lines about clients of the IDs whose inbound
    # matches are policy or noise unless the client is internal (decided by the rules).
    # sasl_clients: addresses that authenticated (our users): an inbound reject of one of them hits
    # legitimate traffic, as for internal networks. remote: per recipient domain, what other servers
    # answered about their own side (sig.remote_reply): a statistic, never a local fault ID.
    # families: per log_families family, the lines no fault ID claimed (groups: subject, severity);
    # statistics: per name, Internet and peer noise counted (log_families.STATISTICS, neighbours').
    return {"ids": {}, "inbound": {}, "remote": {}, "lines": 0, "bytes": 0, "faultish": 0, "benign": {}, "unclassified": 0,
            "unclassified_shapes": {}, "status": {}, "skipped_old": 0, "first": None, "last": None, "sasl_clients": {},
            "families": {}, "statistics": {}}


def _add_sasl_clients(agg, data):
    """Count the addresses of SASL-authenticated clients in a block (or one line) of log bytes."""
    clients = agg.setdefault("sasl_clients", {})
    for m in SASL_CLIENT.finditer(data):
        ip = m.group(1).decode("ascii", "replace")
        if ip in clients or len(clients) < MAX_SASL_CLIENTS:
            clients[ip] = clients.get(ip, 0) + 1


def _add_hit(agg, fid, line, groups_found, ts, masked, where="ids"):
    """Count one classified line (runs once per hit: spelt out without setdefault and min/max).
    fid: the fault ID (the recipient domain for where="remote"); groups_found: {group: value}."""
    recs = agg.get(where)
    if recs is None:
        recs = agg[where] = {}
    rec = recs.get(fid)
    if rec is None and where == "remote" and len(recs) >= MAX_REMOTE_DOMAINS:  # a hostile log cannot grow this
        fid = "(other)"
        rec = recs.get(fid)
    if rec is None:
        rec = recs[fid] = {"count": 0, "first": None, "last": None, "samples": [], "groups": {}}
    rec["count"] += 1
    if ts is not None:
        if rec["first"] is None or ts < rec["first"]:
            rec["first"] = ts
        if rec["last"] is None or ts > rec["last"]:
            rec["last"] = ts
    if len(rec["samples"]) < MAX_SAMPLES:
        rec["samples"].append(mask(line) if masked else line)
    groups = rec["groups"]
    for name, value in groups_found.items():
        if value is None:
            continue
        if masked:
            value = mask_value(name, value)
        counts = groups.get(name)
        if counts is None:
            counts = groups[name] = {}
        n = counts.get(value)
        if n is not None:
            counts[value] = n + 1
        elif len(counts) < MAX_GROUP_VALUES:
            counts[value] = 1
        else:
            counts["(other)"] = counts.get("(other)", 0) + 1


def merge(into, other):
    """Merge aggregate `other` into `into` (both from new_agg())."""
    for key in ("lines", "bytes", "faultish", "unclassified", "skipped_old"):
        into[key] += other.get(key, 0)
    for key in ("status", "benign", "statistics"):
        tgt = into.setdefault(key, {})
        for k, v in other.get(key, {}).items():
            tgt[k] = tgt.get(k, 0) + v
    for k, v in other.get("unclassified_shapes", {}).items():
        _bump_shape(into["unclassified_shapes"], k, v.get("count", 0), v.get("sample"))
    for key, pick in (("first", min), ("last", max)):
        vals = [x for x in (into.get(key), other.get(key)) if x is not None]
        into[key] = pick(vals) if vals else None
    clients = into.setdefault("sasl_clients", {})
    for ip, n in other.get("sasl_clients", {}).items():
        if ip in clients or len(clients) < MAX_SASL_CLIENTS:
            clients[ip] = clients.get(ip, 0) + n
    for where, fid, rec in [(w, f, r) for w in ("ids", "inbound", "remote", "families") for f, r in other.get(w, {}).items()]:
        recs = into.setdefault(where, {})
        if where == "remote" and fid not in recs and len(recs) >= MAX_REMOTE_DOMAINS:
            fid = "(other)"
        mine = recs.setdefault(fid, {"count": 0, "first": None, "last": None, "samples": [], "groups": {}})
        mine["count"] += rec["count"]
        for key, pick in (("first", min), ("last", max)):
            vals = [x for x in (mine[key], rec[key]) if x is not None]
            mine[key] = pick(vals) if vals else None
        mine["samples"] = (mine["samples"] + [s for s in rec["samples"] if s not in mine["samples"]])[:MAX_SAMPLES]
        for name, counts in rec["groups"].items():
            tgt = mine["groups"].setdefault(name, {})
            for value, n in counts.items():
                if value in tgt or len(tgt) < MAX_GROUP_VALUES:
                    tgt[value] = tgt.get(value, 0) + n
                else:
                    tgt["(other)"] = tgt.get("(other)", 0) + n
    return into


def _bump_shape(shapes, key, n, sample):
    rec = shapes.get(key)
    if rec is None:
        if len(shapes) >= 200:
            key = "(other)"
            rec = shapes.setdefault(key, {"count": 0, "sample": None})
        else:
            rec = shapes[key] = {"count": 0, "sample": sample}
    rec["count"] += n


# ---------------------------------------------------------------- scanning
class Scanner:
    """Classify candidate lines into an aggregate. Candidates come either from feed() (blocks of
    bytes, candidate words found with bytes.find) or from grep_file() (grep -E, in C)."""

    def __init__(self, since=None, year_hint=None, masked=True, latest=None):
        """year_hint: the year of syslog stamps (the file's last write; default: this year);
        latest: the newest time a line can have (that write, plus a day of clock skew; default:
        now, plus that day, when no year_hint is given)."""
        self.since = since
        self.year_hint = year_hint or time.localtime().tm_year
        self.latest = latest if latest is not None or year_hint else time.time() + 86400
        self.masked = masked
        self.agg = new_agg()
        self._ts_key, self._ts = None, None

    def feed(self, buf):
        """Scan a block of whole lines (bytes ending in a newline, or the last partial line)."""
        agg = self.agg
        agg["lines"] += buf.count(b"\n")
        agg["bytes"] += len(buf)
        find, rfind = buf.find, buf.rfind
        starts = set()
        status = agg["status"]
        if b"sasl_username=" in buf:
            _add_sasl_clients(agg, buf)
        for m in sig.STATUS.finditer(buf):
            k = m.group(1).decode()
            status[k] = status.get(k, 0) + 1
            if k != "sent":
                starts.add(rfind(b"\n", 0, m.start()) + 1)
        for word in sig.FAULT_WORDS + sig.INFO_WORDS + sig.NEIGHBOUR_WORDS:  # the status= part of CANDIDATE_WORDS is above
            i = find(word)
            while i >= 0:
                starts.add(rfind(b"\n", 0, i) + 1)
                i = find(b"\n", i)  # the rest of this line is already a candidate
                if i < 0:
                    break
                i = find(word, i)
        for start in sorted(starts):
            end = find(b"\n", start)
            self.line(buf[start:min(len(buf) if end < 0 else end, start + MAX_LINE)])
        return agg

    def _time(self, line):
        """parse_time(), remembering the last syslog stamp: a busy log has many lines per second,
        and "Mmm dd hh:mm:ss" (the first 15 characters) decides the result alone."""
        key = line[:15] if line[3:4] == " " else None
        if key is not None and key == self._ts_key:
            return self._ts
        ts = parse_time(line, self.year_hint, self.latest)
        if key is not None:
            self._ts_key, self._ts = key, ts
        return ts

    def line(self, raw):
        """One candidate line (bytes, no newline): classify it, or count it as fault-looking."""
        self.text(raw.decode("utf-8", "replace"))

    def text(self, line):
        """line(), decoded: the substring tests run on str (four times cheaper than on bytes)."""
        agg, since = self.agg, self.since
        # A neighbour program's line (dovecot, opendkim...) is its module's before any Postfix signature's;
        # "postfix/" as the syslog tag (the host name has no "/") skips the look-up for most lines.
        if other.nb.PROGRAMS and not line.startswith("postfix/", line.find(" ", 16) + 1):
            got = other.neighbour(line)
            if got is not None:
                self._other(line, got, sig.is_faultish(line))
                return
        faultish = sig.is_faultish(line)
        fid, match = sig.classify(line)  # tries only the signatures whose keywords the line holds
        remote = sig.remote_reply(line, fid) if fid is not None or faultish else None
        if remote is not None:  # another server's answer about its own side: a statistic of its domain
            ts = self._time(line)
            agg["faultish"] += faultish
            if since is not None and ts is not None and ts < since:
                agg["skipped_old"] += 1
                return
            if faultish:  # benign counts fault-looking lines, as below
                agg["benign"][remote["kind"]] = agg["benign"].get(remote["kind"], 0) + 1
            _add_hit(agg, remote["domain"], line.rstrip("\r"), remote["groups"], ts, self.masked, "remote")
            if ts is not None:
                if agg["first"] is None or ts < agg["first"]:
                    agg["first"] = ts
                if agg["last"] is None or ts > agg["last"]:
                    agg["last"] = ts
            return
        if fid is not None:
            where = sig.route(fid, line)
            if where is None:  # another program's line that only looks like a Postfix fault
                if faultish:
                    agg["faultish"] += 1
                    agg["benign"]["other_program"] = agg["benign"].get("other_program", 0) + 1
                return
            ts = self._time(line)
            if since is not None and ts is not None and ts < since:
                agg["skipped_old"] += 1
            else:
                _add_hit(agg, fid, line.rstrip("\r"), match.groupdict(), ts, self.masked, where)
                if ts is not None:
                    if agg["first"] is None or ts < agg["first"]:
                        agg["first"] = ts
                    if agg["last"] is None or ts > agg["last"]:
                        agg["last"] = ts
            if faultish:
                agg["faultish"] += 1
            return
        if not faultish:
            return
        agg["faultish"] += 1
        if since is not None:
            ts = self._time(line)
            if ts is not None and ts < since:
                return
        kind = sig.benign_kind(line)
        if kind:
            agg["benign"][kind] = agg["benign"].get(kind, 0) + 1
            return
        got = other.postfix(line)  # log_families: a statistic, a benign notice or a family of this host
        if got is not None:
            self._other(line, got, False)
            return
        agg["unclassified"] += 1
        _bump_shape(agg["unclassified_shapes"], shape(line), 1, mask(line) if self.masked else line)

    def _other(self, line, got, faultish):
        """Count a line log_other classified: (kind, name, subject, severity). faultish: not yet
        counted in agg["faultish"] (a neighbour's line, taken before the signatures)."""
        agg, (kind, name, subject, severity) = self.agg, got
        agg["faultish"] += faultish
        ts = self._time(line) if self.since is not None or kind in ("id", "family") else None
        if self.since is not None and ts is not None and ts < self.since:
            agg["skipped_old"] += 1
            return
        if kind in ("benign", "statistic"):
            counts = agg.get("benign" if kind == "benign" else "statistics")
            if counts is None:
                counts = agg["statistics"] = {}
            counts[name] = counts.get(name, 0) + 1
            return
        if kind == "id":
            where, groups = sig.route(name, line) or "ids", {}
        else:  # a family: what it names, and how bad the message said it was
            where, groups = "families", {"subject": mask(subject) if subject and self.masked else subject,
                                         "severity": severity}
        _add_hit(agg, name, line.rstrip("\r"), groups, ts, self.masked, where)
        if ts is not None:
            if agg["first"] is None or ts < agg["first"]:
                agg["first"] = ts
            if agg["last"] is None or ts > agg["last"]:
                agg["last"] = ts

    def grep_file(self, grep, path, start, stop):
        """Candidates from grep (the candidate words, sig.GREP_ERE) over [start, stop) of a plain
        file, then one counting pass in Python (delivered mail; the lines after the last
        candidate, as grep numbers the others). Returns False when grep could not run (the caller
        then scans in Python). grep's argv is fixed; nothing goes through a shell."""
        argv = [grep, "-a", "-n", "-b", "-E", "-e", sig.GREP_ERE]
        agg, status = self.agg, self.agg["status"]
        stopped = False
        last = None  # the last candidate in range: "LINENO:OFFSET:line" and its two colons
        with open(path, "rb") as fh:
            fh.seek(start)
            try:
                with Stream(argv, stdin=fh, env={"LC_ALL": "C", "PATH": "/usr/bin:/bin"}) as st:
                    rest = b""
                    for block in st.blocks(1 << 20):  # split here: cheaper than a readline per line
                        block = rest + block
                        cut = block.rfind(b"\n") + 1
                        rest = block[cut:]
                        for out in block[:cut].split(b"\n")[:-1]:
                            c1 = out.find(b":")
                            c2 = out.find(b":", c1 + 1)
                            if c1 < 1 or c2 <= c1 + 1 or start + int(out[c1 + 1:c2]) >= stop:
                                stopped = True  # past this range (another part, or appended since)
                                break
                            last, last_c1, last_c2 = out, c1, c2
                            raw = out[c2 + 1:c2 + 1 + MAX_LINE]
                            text = raw.decode("utf-8", "replace")
                            if "sasl_username=" in text:
                                _add_sasl_clients(agg, raw)
                                if not any(w in raw for w in sig.CANDIDATE_WORDS):
                                    continue  # only here for its client address
                            m = sig.STATUS.search(raw) if "status=" in text else None
                            if m and m.group(1) != b"sent":
                                k = m.group(1).decode()
                                status[k] = status.get(k, 0) + 1
                            self.text(text)
                        if stopped:
                            break
            except OSError:
                return False
        # -9: Stream's own kill of a grep that had not exited yet when its output ended; stopped
        # early, grep may also end by SIGPIPE (the pipe closed): all fine, the output was read
        if st.rc not in (0, 1, -9) and not (stopped and st.rc < 0):
            return False
        lines, counted_to = 0, start  # lines up to the end of the last candidate (grep numbered them)
        if last is not None:
            lines, counted_to = int(last[:last_c1]), start + int(last[last_c1 + 1:last_c2]) + len(last) - last_c2
        with open(path, "rb") as fh:
            fh.seek(start)
            pos = start
            while pos < stop:
                buf = fh.read(min(BLOCK, stop - pos))
                if not buf:
                    break
                if pos + len(buf) > counted_to:
                    lines += buf.count(b"\n", max(0, counted_to - pos))
                pos += len(buf)
                sent = buf.count(b"status=sent")
                if sent:
                    status["sent"] = status.get("sent", 0) + sent
        agg["lines"] += lines
        agg["bytes"] += pos - start
        return True


def scan_lines(lines, since=None, masked=True, year_hint=None):
    """Scan an iterable of str lines (tests, small inputs). Returns an aggregate."""
    sc = Scanner(since=since, masked=masked, year_hint=year_hint)
    sc.feed("".join(line if line.endswith("\n") else line + "\n" for line in lines).encode("utf-8", "surrogateescape"))
    return sc.agg


def _blocks(fh, start=0):
    """Yield byte blocks that end on a line boundary, from offset `start`; returns the end offset."""
    fh.seek(start)
    rest = b""
    while True:
        data = fh.read(BLOCK)
        if not data:
            break
        data = rest + data
        cut = data.rfind(b"\n") + 1
        if cut == 0:
            rest = data
            if len(rest) > 4 * BLOCK:  # a pathological line without newline: take it as is
                yield rest
                rest = b""
            continue
        yield data[:cut]
        rest = data[cut:]
    if rest:
        yield rest


class GzipLines:
    """Line-aligned blocks of a gzip file's content (several members allowed), as far as it can
    be decompressed: a file cut short or damaged yields every complete line before the cut and
    sets `error`, where gzip.open would raise and lose the block it was reading."""

    def __init__(self, fh):
        self.fh, self.error = fh, None

    def __iter__(self):
        rest, dec, fed = b"", zlib.decompressobj(wbits=31), False
        while not self.error:
            data = self.fh.read(1 << 20)
            if not data:
                break
            while data:
                fed = True
                try:
                    out = dec.decompress(data)
                except zlib.error as exc:
                    self.error = str(exc)
                    break
                data = b""
                if dec.eof:  # the next member starts in what is left, if anything
                    data, dec, fed = dec.unused_data, zlib.decompressobj(wbits=31), False
                rest += out
                cut = rest.rfind(b"\n") + 1
                if cut:
                    yield rest[:cut]
                    rest = rest[cut:]
                elif len(rest) > 4 * BLOCK:  # a pathological line without newline: take it as is
                    yield rest
                    rest = b""
        if not self.error and fed and not dec.eof:
            self.error = "compressed data ends before the end-of-stream marker"
        if rest and not self.error:
            yield rest  # a last line without newline in a complete file


def _head(path, opener=open):
    try:
        with opener(path, "rb") as fh:
            return hashlib.sha1(fh.read(HEAD)).hexdigest()  # noqa: S324 - identity, not security
    except (OSError, EOFError, zlib.error):
        return None


def _complete_end(path, start, size):
    """Offset just after the last newline in [start, size): a line still being written is left
    for the next run."""
    with open(path, "rb") as fh:
        pos = size
        while pos > start:
            chunk = max(start, pos - 65536)
            fh.seek(chunk)
            data = fh.read(pos - chunk)
            cut = data.rfind(b"\n")
            if cut >= 0:
                return chunk + cut + 1
            pos = chunk
    return start


def _workers(nbytes):
    """How many processes scan a range: one per usable CPU (at most MAX_WORKERS), and none
    with less than PARALLEL_MIN_BYTES to read."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, MAX_WORKERS, nbytes // PARALLEL_MIN_BYTES))


def _split(path, start, stop, n):
    """[start, stop) cut into n parts at line boundaries: [(start, b1), (b1, b2), ..., (bk, stop)]."""
    bounds = [start]
    with open(path, "rb") as fh:
        for i in range(1, n):
            at = start + (stop - start) * i // n
            fh.seek(at)
            while True:  # the next line starts after the next newline
                chunk = fh.read(65536)
                nl = chunk.find(b"\n")
                if nl >= 0 or not chunk:
                    at = at + nl + 1 if nl >= 0 else stop
                    break
                at += len(chunk)
            if bounds[-1] < at < stop:
                bounds.append(at)
    bounds.append(stop)
    return list(zip(bounds, bounds[1:]))


def _grep_parts(sc, grep, path, parts):
    """grep_file() over every part, the first in this process and the others in forked children
    that send their aggregate back as JSON; merged into sc.agg in file order. A part whose child
    failed is scanned again here (the result never depends on the children working). False
    when grep could not run."""
    children = []
    for lo, hi in parts[1:]:
        rfd, wfd = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: scan, report, exit without running the parent's cleanup
            status = 1
            try:
                os.close(rfd)
                child = Scanner(since=sc.since, masked=sc.masked, year_hint=sc.year_hint, latest=sc.latest)
                data = json.dumps({"ok": child.grep_file(grep, path, lo, hi), "agg": child.agg}).encode()
                with os.fdopen(wfd, "wb") as out:
                    out.write(data)
                status = 0
            finally:
                os._exit(status)
        os.close(wfd)
        children.append((pid, rfd, lo, hi))
    ok = sc.grep_file(grep, path, *parts[0])
    for pid, rfd, lo, hi in children:
        with os.fdopen(rfd, "rb") as res:
            raw = res.read()
        _pid, status = os.waitpid(pid, 0)
        try:
            got = json.loads(raw) if status == 0 else None
        except ValueError:
            got = None
        if got and got.get("ok"):
            merge(sc.agg, got["agg"])
        elif ok:
            extra = Scanner(since=sc.since, masked=sc.masked, year_hint=sc.year_hint, latest=sc.latest)
            ok = extra.grep_file(grep, path, lo, hi)
            merge(sc.agg, extra.agg)
    return ok


def scan_file(path, state=None, since=None, masked=True, use_grep=True):
    """Scan one file, incrementally from `state` when it still describes this file.

    Returns (new_state, agg_for_window, info). gzip files are read whole once and then cached.
    Big plain files are prefiltered with grep when the host has it (use_grep), else in Python.
    """
    st = os.stat(path)
    is_gz = path.endswith(".gz")
    year_hint = time.localtime(st.st_mtime).tm_year
    latest = st.st_mtime + 86400  # no line is newer than the file's last write (a day of skew)
    info = {"path": path, "size": st.st_size, "mode": "full", "read_bytes": 0}
    head = _head(path)
    reuse = (state and state.get("ino") == st.st_ino and state.get("dev") == st.st_dev
             and state.get("head") == head and state.get("offset", 0) <= st.st_size
             and state.get("masked") == masked)
    if reuse and is_gz and not state.get("complete", True):
        reuse = False  # read while still being written (logrotate's compress): read it whole again
    if reuse and (is_gz or state["offset"] == st.st_size):
        info["mode"] = "cached"
        return state, state["agg"], info
    agg = state["agg"] if reuse else new_agg()
    start = state["offset"] if reuse else 0
    info["mode"] = "incremental" if reuse and start else "full"
    sc = Scanner(since=since, masked=masked, year_hint=year_hint, latest=latest)
    offset = start
    grep = shutil.which("grep", path="/usr/bin:/bin") if use_grep and not is_gz else None
    if grep and st.st_size - start >= GREP_MIN_BYTES:
        stop = _complete_end(path, start, st.st_size)
        parts = _split(path, start, stop, _workers(stop - start))
        if _grep_parts(sc, grep, path, parts):
            offset, info["read_bytes"], info["prefilter"] = stop, stop - start, "grep"
            info["workers"] = len(parts)
        else:
            sc = Scanner(since=since, masked=masked, year_hint=year_hint, latest=latest)
    complete = True
    if "prefilter" not in info:
        with open(path, "rb") as fh:
            gz = GzipLines(fh) if is_gz else None
            for block in (gz if gz else _blocks(fh, start)):
                sc.feed(block)
                offset += len(block)
                info["read_bytes"] += len(block)
        if gz and gz.error:
            # Every complete line before the damage was read. Not cached: a file caught while
            # logrotate still compresses it is read whole again next time.
            info["error"] = "truncated or damaged gzip file (%s); read the %d complete lines before it" % (
                gz.error, sc.agg["lines"])
            complete = False
    merged = merge(json.loads(json.dumps(agg)), sc.agg) if start else sc.agg
    new_state = {"ino": st.st_ino, "dev": st.st_dev, "head": head, "offset": st.st_size if is_gz else offset,
                 "path": path, "masked": masked, "agg": merged, "scanned": time.time(), "complete": complete}
    return new_state, merged, info


def discover(candidates, extra=(), window_start=None):
    """Mail log files: the first existing candidate family plus its rotated siblings, newest first."""
    found = []
    for base in list(extra) + list(candidates):
        if not base:
            continue
        family = [base] if os.path.isfile(base) else []
        for p in glob.glob(glob.escape(base) + "*"):
            if p != base and ROTATED_SUFFIX.match(p[len(base):]) and os.path.isfile(p):
                family.append(p)
        for p in family:
            if p in found:
                continue
            if window_start is not None and p != base and os.stat(p).st_mtime < window_start:
                continue
            found.append(p)
    return sorted(found, key=lambda p: os.stat(p).st_mtime, reverse=True)


def load_state(path):
    """The saved scan state; a fresh one when it is absent, damaged or not a regular file."""
    try:
        with safe_io.open_regular(path, "scan state") as fh:
            data = json.load(fh)
        return data if data.get("version") == STATE_VERSION else {"version": STATE_VERSION, "files": {}}
    except (safe_io.InputError, OSError, ValueError, AttributeError):
        return {"version": STATE_VERSION, "files": {}}


def save_state(path, state):
    """Write the state 0600 with safe_io.write_own: never over a path that is not ours (main.cf,
    a symlink, a FIFO, a directory: InputError naming it, nothing written)."""
    safe_io.write_own(path, json.dumps(state).encode("utf-8", "surrogateescape"), "scan state", STATE_IS_OURS)


def scan(paths, state=None, since=None, masked=True):
    """Scan files (state keyed by dev:inode). Returns (new_state, total_agg, per_file_info)."""
    state = state or {"version": STATE_VERSION, "files": {}}
    new_files, total, infos = {}, new_agg(), []
    for path in paths:
        try:
            st = os.stat(path)
        except OSError as exc:
            infos.append({"path": path, "error": str(exc)})
            continue
        key = "%d:%d" % (st.st_dev, st.st_ino)
        try:
            fstate, agg, info = scan_file(path, state["files"].get(key), since=since, masked=masked)
        except OSError as exc:
            infos.append({"path": path, "error": str(exc)})
            continue
        old = state["files"].get(key)
        if old and old.get("path") != path and info["mode"] == "cached":
            info["rotated_from"] = old.get("path")
        new_files[key] = fstate
        infos.append(info)
        if since is not None and agg.get("last") is not None and agg["last"] < since:
            continue
        merge(total, agg)
    return {"version": STATE_VERSION, "files": new_files}, total, infos
