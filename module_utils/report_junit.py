# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""JUnit XML from the fleet report model: a CI system shows failing hosts as failing tests.

One <testsuite> per host, one <testcase> per host x finding (classname = host, name = fault ID).
A finding fails when it is still there and its severity is in fail_severities; fixed, cleared and
historical findings pass; a host without a current report is an <error>; a failed remediation
is its own failing testcase. A host with no findings gets one passing "healthy" testcase.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET

PASSING_STATES = ("fixed", "cleared", "historical")
FAILED_REMEDIATION = "remediation"


# Characters XML 1.0 cannot carry at all (log lines can hold any byte).
_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def clean(value):
    return _NOT_XML.sub("\ufffd", str(value))


def _case(suite, host, name, seconds=0.0):
    return ET.SubElement(suite, "testcase", classname="postfix." + host, name=name, time="%.3f" % seconds)


def _text(f):
    lines = [f.get("summary", ""), "", "state: " + f["state"], "class: " + str(f.get("class")),
             "severity: " + str(f.get("severity")), "cause: " + str(f.get("cause", ""))]
    steps = (f.get("fix") or {}).get("steps") or []
    if steps:
        lines += ["fix:"] + ["  %d. %s" % (i + 1, s) for i, s in enumerate(steps)]
    if f.get("outside"):
        lines.append("needs: " + f["outside"])
    return clean("\n".join(lines))


def to_xml(model, fail_severities=("critical", "high", "medium")):
    root = ET.Element("testsuites", name="postfix-remedy")
    totals = dict(tests=0, failures=0, errors=0, skipped=0)
    for v in model["hosts"]:
        suite = ET.SubElement(root, "testsuite", name=v["host"], timestamp=v["generated_at"] or model["generated_at"],
                              hostname=v["host"])
        counts = dict(tests=0, failures=0, errors=0, skipped=0)
        if v["missing"] or v["stale"]:
            case = _case(suite, v["host"], "report")
            ET.SubElement(case, "error", message="no current diagnosis report for this host",
                          type="no-report").text = ("stale report from %s" % v["generated_at"]) if v["stale"] else \
                "the host was unreachable or failed before its diagnosis was written"
            counts["tests"] += 1
            counts["errors"] += 1
        for f in v["findings"]:
            case = _case(suite, v["host"], f["id"])
            counts["tests"] += 1
            if f["state"] not in PASSING_STATES and f.get("severity") in fail_severities:
                ET.SubElement(case, "failure", message=clean(f.get("summary", ""))[:500],
                              type="%s/%s" % (f.get("severity"), f["state"])).text = _text(f)
                counts["failures"] += 1
            else:
                ET.SubElement(case, "system-out").text = _text(f)
        rem = v["remediation"] or {}
        if rem.get("rolled_back") or rem.get("failure") or rem.get("queue_failure") or rem.get("still_present"):
            case = _case(suite, v["host"], FAILED_REMEDIATION)
            why = rem.get("failure") or rem.get("queue_failure") or \
                "still present: " + ", ".join(rem.get("still_present") or [])
            ET.SubElement(case, "failure", message=clean(why)[:500],
                          type="rolled-back" if rem.get("rolled_back") else "failed").text = clean(why)
            counts["tests"] += 1
            counts["failures"] += 1
        if not counts["tests"]:
            _case(suite, v["host"], "healthy")
            counts["tests"] += 1
        for k, n in counts.items():
            suite.set(k, str(n))
            totals[k] += n
    for k, n in totals.items():
        root.set(k, str(n))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
