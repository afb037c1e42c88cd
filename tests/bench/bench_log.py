# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Log scan: the diagnosis scan against the seeds' methods on the same generated mail log.

Baselines (each a separate process, measured with its own peak memory): seed 003's
`grep -E '(reject|error|warning|fatal|panic):'`, `grep -E` with every signature pattern
(the catalog's regexes translated to ERE), and pflogsumm. The file is read once before the
runs so every tool sees it in the page cache (a warm, equal start; "cold" for the scan means
no state file). Then the incremental re-run on the unchanged file and after appending 1%.
"""
from __future__ import annotations

import json
import os
import re
import shutil

import ansible.module_utils

from . import gen_log
from .common import PY, ROOT, WORK, fmt_s, run, write_section


def _signatures():
    if str(ROOT / "module_utils") not in ansible.module_utils.__path__:
        ansible.module_utils.__path__.append(str(ROOT / "module_utils"))
    from ansible.module_utils import log_signatures as sig
    return sig


def _group_end(rx, i):
    """The index after the group that opens at rx[i] ("("), escapes and bracket expressions skipped."""
    depth, j, in_class = 0, i, False
    while j < len(rx):
        c = rx[j]
        if c == "\\":
            j += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
            j += 1 if rx[j + 1:j + 2] == "^" else 0
            j += 1 if rx[j + 1:j + 2] == "]" else 0
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return j + 1
        j += 1
    return j


def to_ere(rx):
    """Python regex -> POSIX ERE that grep -E takes without a warning: named and non-capturing
    groups (and (?i:...)) become plain groups, lazy quantifiers greedy, and lookarounds go (ERE has
    none: the baseline matches a little more than the scan, never less)."""
    out, i = [], 0
    while i < len(rx):
        if rx.startswith(("(?=", "(?!", "(?<=", "(?<!"), i):
            i = _group_end(rx, i)
            continue
        m = re.compile(r"\(\?P<\w+>|\(\?[a-zA-Z]*:").match(rx, i)
        if m:
            out.append("(")
            i = m.end()
            continue
        if rx[i] == "\\":
            out.append(rx[i:i + 2])
            i += 2
            continue
        if rx[i] == "?" and out and out[-1][-1:] in ("*", "+", "?", "}"):
            i += 1  # lazy: the same lines match
            continue
        out.append(rx[i])
        i += 1
    rx = "".join(out)
    rx = rx.replace(r"\d", "[0-9]").replace(r"\S", "[^[:space:]]").replace(r"\s", "[[:space:]]")
    return rx.replace(r"\w", "[[:alnum:]_]")


HOSTILE_RUNS = ("a", "a:", "a[", "<a", "a.", "[a", "a-", "a ")
HOSTILE_KEYWORDS = ("lookup error for x", "is unavailable. x", "map lookup problem", "lookup failure",
                    ": x: table lookup problem", "]: SASL LOGIN authentication failed: x", "main.cf: undefined parameter",
                    ": duplicate entry", ">: Recipient address rejected: User unknown in local recipient table",
                    "blocked using x", "Relay access denied")


def write_hostile(path, n):
    """n log lines of 4 KB: a run of one character class, then a signature keyword (each regex's
    worst case if it scanned the run from every position). Returns n."""
    with open(path, "w") as fh:
        for i in range(n):
            run = HOSTILE_RUNS[i % len(HOSTILE_RUNS)]
            kw = HOSTILE_KEYWORDS[(i // len(HOSTILE_RUNS)) % len(HOSTILE_KEYWORDS)]
            fh.write("Nov 30 06:05:04 mx1 postfix/smtpd[%d]: warning: %s%s\n" % (i, run * (3900 // len(run)), kw))
    return n


def main(size_mb=1024, locale="C"):
    WORK.mkdir(parents=True, exist_ok=True)
    log = WORK / "mail.log"
    state = WORK / "logscan.json"
    ere = WORK / "signatures.ere"
    sig = _signatures()
    ere.write_text("\n".join([to_ere(rx) for _f, _k, rx in sig.SIGNATURES] + [to_ere(sig.FAULTISH.pattern.decode())]) + "\n")
    nbytes, nlines = gen_log.write(str(log), size_mb)
    mb = nbytes / 2**20
    with open(log, "rb") as fh:  # page cache: every tool starts equal
        while fh.read(2**24):
            pass
    env = dict(os.environ, LC_ALL=locale)
    scan = [PY, "-m", "tests.bench.scan_once", str(log)]
    results = {}
    if state.exists():
        state.unlink()
    def scan_run():
        t, rss, out = run(scan + [str(state)])
        data = json.loads(out)
        return data["seconds"], rss, data, t  # in-process scan time (the module's), process wall time

    results["scan (cold, no state)"] = scan_run()
    results["grep -E seed 003 pattern"] = run(["grep", "-E", "-c", sig.SEED_003_PATTERN, str(log)], env=env, check=False)
    results["grep -E all signature patterns"] = run(["grep", "-E", "-c", "-f", str(ere), str(log)], env=env, check=False)
    results["grep -E all signature patterns, LC_ALL=C.UTF-8"] = run(
        ["grep", "-E", "-c", "-f", str(ere), str(log)], env=dict(os.environ, LC_ALL="C.UTF-8"), check=False)
    if shutil.which("pflogsumm"):
        results["pflogsumm"] = run(["pflogsumm", str(log)], env=env, check=False)
    results["scan incremental, unchanged file"] = scan_run()
    added = gen_log.append(str(log), max(1, size_mb // 100))
    results["scan incremental, +1% appended"] = scan_run()
    hostile = WORK / "hostile.log"
    n_hostile = write_hostile(hostile, 1000)
    _t, _rss, out = run([PY, "-m", "tests.bench.scan_once", str(hostile), "-", "36500"])
    hostile_s = json.loads(out)["seconds"]

    base = results["scan (cold, no state)"][0]
    lines = ["File: %.0f MiB, %d lines (generated by tests/bench/gen_log.py: normal traffic with about 3%% "
             "fault lines in every cataloged wording); baselines run with LC_ALL=%s unless the row says otherwise." % (mb, nlines, locale), "",
             "| run | time | MB/s | peak RSS | time / scan time |", "|---|---:|---:|---:|---:|"]
    for name, (t, rss, *_rest) in results.items():
        size = added / 2**20 if "appended" in name else mb
        ratio = "" if name.startswith("scan") else "%.2fx" % (t / base)
        speed = "-" if "unchanged" in name else "%.0f" % (size / t)
        lines.append("| %s | %s | %s | %.0f MiB | %s |" % (name, fmt_s(t), speed, rss, ratio))
    cold = results["scan (cold, no state)"][2]
    lines += ["", "Scan times are the scan inside its process (what the module spends; Python start-up "
              "excluded: %s wall for the cold run); baselines are whole processes."
              % fmt_s(results["scan (cold, no state)"][3]),
              "Scan found %d hits of %d fault IDs; %d fault-looking lines; prefilter: grep -E, %d words in one alternation."
              % (cold["hits"], cold["ids"], cold["faultish"], len(sig.GREP_WORDS)), ""]
    lines += ["Hostile lines: %d lines of 4 KB, each a long run of one character class (\"aaaa\", \"a:a:\", \"a[a[\", "
              "\"<a<a\"...) before a signature keyword (what a client can put in a logged HELO or address): "
              "scanned in %s, %.2f ms per line (%.0f us per candidate line in the file above)."
              % (n_hostile, fmt_s(hostile_s), hostile_s / n_hostile * 1000, base / max(1, cold["faultish"]) * 1e6), ""]
    g = results["grep -E all signature patterns"][0]
    lines.append("Targets: scan throughput / grep -E all patterns = %.2f (target >= 1.0, issue 20); pflogsumm / scan = %s "
                 "(target >= 20); incremental unchanged = %s (target < 0.1 s)."
                 % (g / base, ("%.1f" % (results["pflogsumm"][0] / base)) if "pflogsumm" in results else "n/a",
                    fmt_s(results["scan incremental, unchanged file"][0])))
    write_section("Log scan", "make bench BENCH=log LOG_MB=%d" % size_mb, lines)
    return results
