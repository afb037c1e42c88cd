# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""`make bench`: every benchmark, or the ones named; each prints its figures and ratios and
rewrites its section of tests/bench/RESULTS.md. Not part of `make test`: no thresholds here.

  python -m tests.bench.run_all                       # log 1 GiB, journal 1M, queue 1k/10k/100k, fleet 1/10/50
  python -m tests.bench.run_all --only log --log-mb 256
  python -m tests.bench.run_all --only patterns           # the classifier with more and more signatures
  python -m tests.bench.run_all --only journal --journal-n 1000000
"""
from __future__ import annotations

import argparse
import os
import sys

from .common import ROOT


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", default="log,patterns,journal,queue,fleet",
                    help="comma list of: log, patterns, journal, queue, fleet")
    ap.add_argument("--journal-n", type=int, default=int(os.environ.get("JOURNAL_N", 1_000_000)))
    ap.add_argument("--log-mb", type=int, default=int(os.environ.get("LOG_MB", 1024)))
    ap.add_argument("--queue-n", default=os.environ.get("QUEUE_N", "1000,10000,100000"))
    ap.add_argument("--fleet", default=os.environ.get("FLEET", "1,10,50"))
    ap.add_argument("--suite", default=os.environ.get("SUITE", "bookworm"))
    args = ap.parse_args(argv)
    os.chdir(ROOT)
    only = {x.strip() for x in args.only.split(",") if x.strip()}
    if "log" in only:
        from . import bench_log
        bench_log.main(args.log_mb)
    if "patterns" in only:
        from . import bench_patterns
        bench_patterns.main()
    if "journal" in only:
        from . import bench_journal
        bench_journal.main(args.journal_n)
    if "queue" in only:
        from . import bench_queue
        bench_queue.main([int(n) for n in args.queue_n.split(",")], args.suite)
    if "fleet" in only:
        from . import bench_fleet
        bench_fleet.main([int(n) for n in args.fleet.split(",")], args.suite)
    return 0


if __name__ == "__main__":
    sys.exit(main())
