#!/usr/bin/env python3
# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How much of Postfix's own vocabulary the scanner recognises (issue 31): every sample line of
samples.py goes through module_utils/log_scan.Scanner, the classification a log scan uses, and
counts as a fault ID (a finding's evidence or an inbound statistic), a benign class, or
unclassified. Printed per version and per severity, for templates (each template's first line)
and for lines (a library template once per daemon that stands for it).

    .venv/bin/python tests/vocabulary/coverage.py            # every postfix-*.json here
    .venv/bin/python tests/vocabulary/coverage.py 3.7 --json
"""
from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))

# As tests/unit/conftest.py does: the modules import module_utils as ansible.module_utils.<name>.
import ansible.module_utils  # noqa: E402
import samples  # noqa: E402


def log_scan_module(module_utils=None):
    """log_scan from this checkout's module_utils, or from another one (a committed version,
    unpacked with `git archive`, to compare): that directory is searched first."""
    path = str(Path(module_utils).resolve()) if module_utils else str(ROOT / "module_utils")
    if module_utils:
        ansible.module_utils.__path__.insert(0, path)
    elif path not in ansible.module_utils.__path__:
        ansible.module_utils.__path__.append(path)
    return importlib.import_module("ansible.module_utils.log_scan")


CLASSES = ("id", "benign", "unclassified")


def classify(scanner, line):
    """Which class Scanner.line() puts one line in (read from its aggregate's counters)."""
    agg = scanner.agg
    before = (_hits(agg), sum(agg["benign"].values()), agg["unclassified"])
    scanner.line(line.encode("utf-8", "surrogateescape"))
    after = (_hits(agg), sum(agg["benign"].values()), agg["unclassified"])
    for cls, b, a in zip(CLASSES, before, after):
        if a > b:
            return cls
    return "not_candidate"  # no fault word, so the scanner never looks at it (none expected)


def _hits(agg):
    return sum(r["count"] for where in ("ids", "inbound") for r in agg.get(where, {}).values())


def measure(version, all_programs=False):
    """{"templates"|"lines": {severity|"all": {class: n, "total": n}}} and the fault IDs seen."""
    scanner = log_scan_module().Scanner(year_hint=2026, masked=False)
    out = {"templates": {}, "lines": {}}
    seen, ids = set(), {}
    for tid, sev, line in samples.samples(version, all_programs):
        cls = classify(scanner, line)
        kinds = ["lines"] + (["templates"] if tid not in seen else [])
        seen.add(tid)
        for kind in kinds:
            for key in (sev, "all"):
                row = out[kind].setdefault(key, dict.fromkeys(CLASSES + ("not_candidate", "total"), 0))
                row[cls] += 1
                row["total"] += 1
    for where in ("ids", "inbound"):
        for fid, rec in scanner.agg.get(where, {}).items():
            ids[fid] = ids.get(fid, 0) + rec["count"]
    return out, {"ids": dict(sorted(ids.items())), "benign": dict(sorted(scanner.agg["benign"].items()))}


def table(version, result):
    rows = ["Postfix %s" % version, "%-10s %-9s %7s %8s %8s %13s" % ("", "severity", "n", "ID", "benign", "unclassified")]
    for kind in ("templates", "lines"):
        for sev in list(samples.PREFIX) + ["all"]:
            r = result[kind].get(sev)
            if not r:
                continue
            pct = [100.0 * r[c] / r["total"] for c in CLASSES]
            rows.append("%-10s %-9s %7d %7.1f%% %7.1f%% %12.1f%%" % (kind, sev, r["total"], *pct))
    return "\n".join(rows)


def versions():
    return sorted((p.stem.split("-", 1)[1] for p in HERE.glob("postfix-*.json")), key=lambda v: [int(x) for x in v.split(".")])


def main(argv=None):
    ap = argparse.ArgumentParser(description="Share of Postfix's templates the scanner classifies.")
    ap.add_argument("version", nargs="*", help="3.5, 3.7, 3.10 (default: every postfix-*.json here)")
    ap.add_argument("--all-programs", action="store_true", help="a library's lines under every program that links it")
    ap.add_argument("--json", action="store_true", help="machine-readable output, with the IDs and benign kinds hit")
    ap.add_argument("--module-utils", help="measure the scanner of this module_utils directory instead of the checkout's "
                                           "(e.g. one from `git archive HEAD module_utils`)")
    args = ap.parse_args(argv)
    log_scan_module(args.module_utils)
    report = {}
    for v in args.version or versions():
        result, hits = measure(v, args.all_programs)
        report[v] = dict(result, **hits)
        if not args.json:
            print(table(v, result) + "\n")
    if args.json:
        print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
