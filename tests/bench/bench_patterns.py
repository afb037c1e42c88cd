# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How the classifier scales with the number of signature patterns (issue 31 item 7).

The same candidate lines - what the prefilter hands the classifier: every cataloged wording,
normal traffic's fault-looking lines and one line per template of Postfix's vocabulary
(tests/vocabulary) - classified by log_scan.Scanner with the catalog's signatures, then with N
more synthetic signatures whose words the lines never hold (what most new IDs are to a line that
is not theirs). Beside it, grep -E with the same patterns (each set as ERE) on the same lines:
the baseline of the 1 GiB benchmark, scaled the same way. Figures are per candidate line and
relative to the catalog-only run in the same process.
"""
from __future__ import annotations

import re
import subprocess
import sys
import time

import ansible.module_utils

from . import gen_log
from .bench_log import to_ere
from .common import ROOT, WORK, fmt_s, run, write_section

EXTRA = (0, 25, 50, 100, 200, 400)


def _modules():
    if str(ROOT / "module_utils") not in ansible.module_utils.__path__:
        ansible.module_utils.__path__.append(str(ROOT / "module_utils"))
    from ansible.module_utils import log_scan, log_signatures
    return log_scan, log_signatures


def candidate_lines(sig, n=200_000):
    """n candidate lines (str, with a syslog header), the mix a busy host's prefilter passes on."""
    words = [w.decode() for w in sig.CANDIDATE_WORDS]
    pool = [ln.rstrip("\n") for ln in gen_log.block(seed=3, messages=4000) if any(w in ln for w in words)]
    vocab = subprocess.run([sys.executable, str(ROOT / "tests" / "vocabulary" / "samples.py"), "3.10"],
                           capture_output=True, text=True, check=True).stdout.splitlines()
    pool = ["Dec  6 03:14:15 mx1 " + ln for ln in pool] + vocab
    return (pool * (n // len(pool) + 1))[:n]


def synthetic(n):
    """n signatures (ID, compiled regex, words) in the catalog's shape that no line holds."""
    return [("synthetic.s%d" % i, re.compile(r"zq%dx table (?P<file>\S+) is broken|zq%dx backend down" % (i, i)),
             ("zq%dx table " % i, "zq%dx backend down" % i)) for i in range(n)]


def main():
    log_scan, sig = _modules()
    WORK.mkdir(parents=True, exist_ok=True)
    lines = candidate_lines(sig)
    data = WORK / "candidates.log"
    data.write_text("\n".join(lines) + "\n")
    base_sigs = list(sig._SIGS)
    broad = [s for s in base_sigs if sig.cat.CATALOG[s[0]]["signature"]["rank"] > 0]
    rows = []
    try:
        for extra in EXTRA:
            # new specific signatures go before the broad ones (rank 0), as a new catalog ID does
            sig.use([s for s in base_sigs if s not in broad] + synthetic(extra) + broad)
            best = None
            for _ in range(3):
                scanner = log_scan.Scanner(masked=True)
                t0 = time.perf_counter()
                for ln in lines:
                    scanner.text(ln)
                t = time.perf_counter() - t0
                best = t if best is None else min(best, t)
            ere = WORK / "patterns.ere"
            ere.write_text("\n".join([to_ere(s[1].pattern) for s in sig._SIGS] + [to_ere(sig.FAULTISH.pattern.decode())])
                           + "\n")
            g = min(run(["grep", "-E", "-c", "-f", str(ere), str(data)], env={"LC_ALL": "C"}, check=False)[0]
                    for _ in range(3))
            rows.append((len(sig._SIGS), best, g))
    finally:
        sig.use(base_sigs)
    n = len(lines)
    b_scan, b_grep = rows[0][1], rows[0][2]
    out = ["%d candidate lines: every cataloged wording, normal traffic's fault-looking lines, one line per "
           "template of Postfix 3.10's vocabulary. N signatures: the catalog's %d, then synthetic ones whose words "
           "no line holds, tried before the broad ones as a new ID is. Best of 3 each; the classifier is "
           "log_scan.Scanner.text in this process, grep a process on a file of the same lines." % (n, len(base_sigs)),
           "",
           "| signatures | classifier | per line | vs catalog only | grep -E same patterns | vs catalog only |",
           "|---:|---:|---:|---:|---:|---:|"]
    for count, t, g in rows:
        out.append("| %d | %s | %.1f us | %.2fx | %s | %.2fx |" % (count, fmt_s(t), t / n * 1e6, t / b_scan,
                                                                 fmt_s(g), g / b_grep))
    out += ["", "With %d more signatures the classifier takes %.2fx its time per candidate line, grep -E %.2fx: a "
            "line's tokens find the signatures it may match (log_signatures.index), so a signature whose words a line "
            "does not hold costs that line next to nothing; the prefilter (grep -E with the candidate words) keeps "
            "the classifier to a few percent of a file's lines." % (rows[-1][0] - rows[0][0], rows[-1][1] / b_scan,
                                                                  rows[-1][2] / b_grep)]
    write_section("Classifier scaling", "make bench BENCH=patterns", out)
    return rows
