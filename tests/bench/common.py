# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared by the benchmarks: timing a child process with its peak memory, machine facts, and
RESULTS.md (written by the benchmark itself, one section per benchmark)."""
from __future__ import annotations

import datetime
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RESULTS = Path(__file__).parent / "RESULTS.md"
WORK = Path(os.environ.get("BENCH_DIR", "/var/tmp/postfix-remedy-bench"))
PY = sys.executable


def run(argv, env=None, check=True):
    """Run a child to completion; return (seconds, peak RSS in MiB, stdout bytes).

    Output goes to a pipe, never /dev/null (GNU grep stops at the first match when it sees
    /dev/null). Peak RSS comes from GNU time -f %M: the rusage of a child forked from this
    Python process would include the parent's pages from before exec."""
    with tempfile.NamedTemporaryFile("r") as mem:
        t0 = time.perf_counter()
        proc = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", mem.name, *argv], env=env,  # noqa: S603
                              stdin=subprocess.DEVNULL, capture_output=True, check=False)
        seconds = time.perf_counter() - t0
        rss = mem.read().strip().splitlines()
    if check and proc.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (argv, proc.returncode, proc.stderr.decode(errors="replace")[-2000:]))
    return seconds, (int(rss[-1]) / 1024.0 if rss and rss[-1].isdigit() else float("nan")), proc.stdout


def machine():
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as fh:
            m = re.search(r"model name\s*:\s*(.+)", fh.read())
            cpu = m.group(1).strip() if m else cpu
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return "%s, %d CPU(s), %.0f GiB RAM, %s, Python %s" % (cpu, os.cpu_count() or 0, mem, platform.platform(),
                                                           platform.python_version())


def write_section(name, command, lines):
    """Replace this benchmark's section of RESULTS.md (the others stay as they were)."""
    header = "# Benchmark results\n\nWritten by `tests/bench` (`make bench`); each section by its own benchmark.\n"
    text = RESULTS.read_text() if RESULTS.exists() else header
    start = "<!-- %s -->" % name
    end = "<!-- /%s -->" % name
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    body = "\n".join([start, "## %s" % name, "",
                      "- date: %s" % when, "- machine: %s" % machine(), "- command: `%s`" % command, ""]
                     + lines + [end])
    if start in text and end in text:
        text = text[:text.index(start)] + body + text[text.index(end) + len(end):]
    else:
        text = text.rstrip("\n") + "\n\n" + body + "\n"
    RESULTS.write_text(text)
    print("\n".join(lines))


def fmt_s(seconds):
    return "%.3f s" % seconds if seconds < 10 else "%.1f s" % seconds
