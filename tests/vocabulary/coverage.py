#!/usr/bin/env python3
# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How much of Postfix's own vocabulary the scanner recognises (issue 31): every sample line of
samples.py goes through module_utils/log_scan.Scanner, the classification a log scan uses, and
counts as a fault ID (a finding's evidence or an inbound statistic), a statistic (Internet or peer
noise), a benign class, a family of this host's faults (module_utils/log_families.py), or
unclassified. Printed per version and per severity, for templates (each template's first line)
and for lines (a library template once per daemon that stands for it).

    .venv/bin/python tests/vocabulary/coverage.py            # every postfix-*.json here
    .venv/bin/python tests/vocabulary/coverage.py 3.7 --json
    .venv/bin/python tests/vocabulary/coverage.py --write-classes   # refresh classes-<version>.json

classes-<version>.json is the committed snapshot of each template's class ("family:lookup_table",
"id:maps.missing_db", "statistic:client_syntax", "benign:continuation", "unclassified");
tests/unit/test_vocabulary_coverage.py fails when a template loses its class.
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


CLASSES = ("id", "statistic", "benign", "family", "unclassified")


def classify(scanner, line):
    """Which class Scanner.line() puts one line in (read from its aggregate's counters)."""
    agg = scanner.agg
    before = _counts(agg)
    scanner.line(line.encode("utf-8", "surrogateescape"))
    after = _counts(agg)
    for cls, b, a in zip(CLASSES, before, after):
        if a > b:
            return cls
    return "not_candidate"  # no fault word, so the scanner never looks at it (none expected)


def _named(agg):
    """Every counter of the aggregate that names a class: {(class, name): n}."""
    out = {("unclassified", ""): agg["unclassified"]}
    for where in ("ids", "inbound"):
        for fid, rec in agg.get(where, {}).items():
            out[("id", fid)] = out.get(("id", fid), 0) + rec["count"]
    for cls, key in (("statistic", "statistics"), ("benign", "benign")):
        for name, n in agg.get(key, {}).items():
            out[(cls, name)] = n
    for name, rec in agg.get("families", {}).items():
        out[("family", name)] = rec["count"]
    return out


def classify_named(scanner, line):
    """classify(), with the name: "family:config", "id:maps.missing_db", "unclassified"..."""
    before = _named(scanner.agg)
    scanner.line(line.encode("utf-8", "surrogateescape"))
    for key, n in _named(scanner.agg).items():
        if n > before.get(key, 0):
            return key[0] if key[0] == "unclassified" else "%s:%s" % key
    return "not_candidate"


def template_classes(version):
    """{template ID: class:name} of each template's first sample line (the snapshot's content)."""
    scanner = log_scan_module().Scanner(year_hint=2026, masked=False)
    out = {}
    for tid, _sev, line in samples.samples(version):
        if tid not in out:
            out[tid] = classify_named(scanner, line)
    return dict(sorted(out.items()))


def snapshot_path(version):
    return HERE / ("classes-%s.json" % version)


def write_classes(version):
    """Write classes-<version>.json: one template a line, sorted, so a diff shows what moved."""
    body = ",\n".join(" %s: %s" % (json.dumps(k), json.dumps(v)) for k, v in template_classes(version).items())
    snapshot_path(version).write_text('{"version": %s, "classes": {\n%s\n}}\n' % (json.dumps(version), body))


def _hits(agg):
    return sum(r["count"] for where in ("ids", "inbound") for r in agg.get(where, {}).values())


def _counts(agg):
    """The counter of each class, in CLASSES order (an older scanner has no statistics or families)."""
    return (_hits(agg), sum(agg.get("statistics", {}).values()), sum(agg["benign"].values()),
            sum(r["count"] for r in agg.get("families", {}).values()), agg["unclassified"])


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
    families = {f: rec["count"] for f, rec in sorted(scanner.agg.get("families", {}).items())}
    return out, {"ids": dict(sorted(ids.items())), "benign": dict(sorted(scanner.agg["benign"].items())),
                 "statistics": dict(sorted(scanner.agg.get("statistics", {}).items())), "families": families}


def table(version, result):
    rows = ["Postfix %s" % version, "%-10s %-9s %7s %8s %8s %8s %8s %13s" % (
        "", "severity", "n", "ID", "statistic", "benign", "family", "unclassified")]
    for kind in ("templates", "lines"):
        for sev in list(samples.PREFIX) + ["all"]:
            r = result[kind].get(sev)
            if not r:
                continue
            pct = [100.0 * r[c] / r["total"] for c in CLASSES]
            rows.append("%-10s %-9s %7d %7.1f%% %8.1f%% %7.1f%% %7.1f%% %12.1f%%" % (kind, sev, r["total"], *pct))
    return "\n".join(rows)


def versions():
    return sorted((p.stem.split("-", 1)[1] for p in HERE.glob("postfix-*.json")), key=lambda v: [int(x) for x in v.split(".")])


def main(argv=None):
    ap = argparse.ArgumentParser(description="Share of Postfix's templates the scanner classifies.")
    ap.add_argument("version", nargs="*", help="3.5, 3.7, 3.10 (default: every postfix-*.json here)")
    ap.add_argument("--all-programs", action="store_true", help="a library's lines under every program that links it")
    ap.add_argument("--json", action="store_true", help="machine-readable output, with the IDs and benign kinds hit")
    ap.add_argument("--write-classes", action="store_true",
                    help="write classes-<version>.json, the snapshot tests/unit/test_vocabulary_coverage.py compares with")
    ap.add_argument("--module-utils", help="measure the scanner of this module_utils directory instead of the checkout's "
                                           "(e.g. one from `git archive HEAD module_utils`)")
    args = ap.parse_args(argv)
    log_scan_module(args.module_utils)
    report = {}
    if args.write_classes:
        for v in args.version or versions():
            write_classes(v)
            print("wrote %s" % snapshot_path(v))
        return 0
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
