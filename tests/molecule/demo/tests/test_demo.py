# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""`make demo`'s playbook on three lab hosts, run twice, and its report looked at in a browser.

The screenshot and PDF are kept in tests/artifacts/ (not in git) for a person to look at.
"""
from __future__ import annotations

import json
import shutil

import pytest
import yaml
from browser import chromium, png_size, screenshot, visible_text
from lab_run import ROOT, check_run, playbook, reports_dir

ARTIFACTS = ROOT / "tests" / "artifacts"
XSD = ROOT / "tests" / "unit" / "fixtures" / "junit.xsd"


def injected(hosts):
    """What demo.yml injects into each host (its demo_mix, by position in the lab group)."""
    plays = yaml.safe_load((ROOT / "playbooks" / "demo.yml").read_text())
    mix = plays[0]["vars"]["demo_mix"]
    return {h: mix[i % len(mix)] for i, h in enumerate(sorted(hosts))}


@pytest.fixture(scope="module")
def demo(lab_hosts):
    runs = [playbook("demo", "demo") for _ in range(2)]  # re-running the demo is safe
    return dict(hosts=sorted(lab_hosts), runs=runs, faults=injected(lab_hosts), dir=reports_dir("demo"))


def test_demo_runs_twice_without_failure(demo):
    for n, (rc, out, recap) in enumerate(demo["runs"], 1):
        fatal = [line for line in out.splitlines() if "fatal:" in line or "FAILED!" in line]
        assert rc == 0, "run %d: %s\n%s" % (n, "\n".join(fatal)[-6000:], out[-1500:])
        assert set(demo["hosts"]) <= set(recap), out[-2000:]
        assert all(r["failed"] == 0 and r["unreachable"] == 0 for r in recap.values()), recap
        assert "index.html" in out  # the run says where the report is


def test_every_injected_fault_was_found_and_fixed(demo):
    model = json.loads((demo["dir"] / "fleet.json").read_text())
    for v in model["hosts"]:
        states = {f["id"]: f["state"] for f in v["findings"]}
        for fid in demo["faults"][v["host"]]:
            assert fid in states, (v["host"], fid, states)
            # auto faults are fixed; the opt-in one in the mix is left for the operator
            assert states[fid] in (("fixed",) if f_class(model, fid) == "auto" else ("opt_in",)), (v["host"], fid)


def f_class(model, fid):
    return next(r["cls"] for r in model["matrix"] if r["id"] == fid)


def test_junit_validates_with_one_case_per_host_and_finding(demo):
    import junitparser
    import xmlschema

    xmlschema.XMLSchema(str(XSD)).validate(str(demo["dir"] / "junit.xml"))
    model = json.loads((demo["dir"] / "fleet.json").read_text())
    suites = {s.name: {c.name for c in s} for s in junitparser.JUnitXml.fromfile(str(demo["dir"] / "junit.xml"))}
    assert suites == {v["host"]: ({f["id"] for f in v["findings"]} or {"healthy"}) for v in model["hosts"]}


@pytest.mark.skipif(not chromium(), reason="chromium is not installed (make setup installs it)")
def test_report_in_headless_chromium_shows_every_host_and_fault(demo):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    html = demo["dir"] / "index.html"
    png = screenshot(str(html), str(ARTIFACTS / "demo-report.png"))
    assert png_size(png) == (1400, 2400)
    text = visible_text(str(html), str(ARTIFACTS / "demo-report.pdf"))
    shutil.copy(html, ARTIFACTS / "demo-report.html")
    for h in demo["hosts"]:
        assert h in text, h
    for faults in demo["faults"].values():
        for fid in faults:
            assert fid in text, fid
    assert "What to do next" in text and "Deferred queue by destination and age" in text


def test_dry_run_after_the_demo_changes_nothing_and_finds_nothing_to_fix(demo):
    """Check mode is read-only (same fingerprint of config, resolver files and queue), and after
    the demo's fixes a dry run has nothing left to change."""
    rc, out, recap, changes = check_run("remediate", "demo-check", demo["hosts"])
    assert rc == 0, out[-3000:]
    assert changes == {}, changes
    assert {h: recap[h]["changed"] for h in demo["hosts"]} == dict.fromkeys(demo["hosts"], 0), out[-3000:]

