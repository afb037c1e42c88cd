# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""make fault ID=<id>: one fault, one lab host, the whole cycle through the playbooks an admin runs.

Fixable IDs (auto, or opt-in with the lab's example data in roles/lab_faults/vars/main.yml) are
fixed and gone at the second diagnosis; advisory IDs are reported and nothing is changed. Every
run: --check changes nothing, and the second remediation has changed=0.
"""
from __future__ import annotations

import importlib.util
import json
import os

import pytest
import yaml
from lab_run import ROOT, check_run, playbook, report

_spec = importlib.util.spec_from_file_location("fault_catalog", ROOT / "module_utils" / "fault_catalog.py")
cat = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cat)

pytestmark = pytest.mark.skipif(not os.environ.get("MOLECULE_INVENTORY_FILE"), reason="run by Molecule")
HOST = "fault-host"
FID = os.environ.get("FAULT_ID", "config.soft_bounce_on")
LAB_VARS = yaml.safe_load((ROOT / "roles" / "lab_faults" / "vars" / "main.yml").read_text())
ENTRY = cat.CATALOG.get(FID)
OPT_IN = LAB_VARS["lab_faults_opt_in_examples"].get(FID)
FIXABLE = ENTRY is not None and (ENTRY["cls"] == cat.AUTO or OPT_IN is not None)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    assert ENTRY is not None, "FAULT_ID=%s is not a catalog ID (docs/faults.md lists them)" % FID
    extra = tmp_path_factory.mktemp("fault") / "opt_in.json"
    extra.write_text(json.dumps({"postfix_remediate_opt_in": {FID: OPT_IN} if OPT_IN is not None else {}}))
    ev = ["-e", "@%s" % extra]
    out = {"before": playbook("diagnose", "before")}
    out["check"] = check_run("remediate", "check", [HOST], *ev)
    out["fix"] = playbook("remediate", "fix", *ev)
    out["after"] = playbook("diagnose", "after")
    out["again"] = playbook("remediate", "again", *ev)
    return out


def test_the_fault_is_diagnosed(runs):
    rc, output, _ = runs["before"]
    assert rc == 0, output[-3000:]
    assert FID in report("before", HOST)["ids"]


def test_check_mode_changes_nothing(runs):
    rc, output, recap, changes = runs["check"]
    assert rc == 0, output[-3000:]
    assert changes == {}, changes
    selected = report("check", HOST, ".remediation")["selected"]
    assert (FID in selected) == FIXABLE, selected


def test_the_real_run_fixes_it_or_leaves_an_advisory_alone(runs):
    rc, output, recap = runs["fix"]
    assert rc == 0, output[-4000:]
    rec = report("fix", HOST, ".remediation")
    assert rec["rolled_back"] is False and rec["still_present"] == [], rec
    if not FIXABLE:
        assert FID not in rec["selected"]


def test_second_diagnosis(runs):
    live = {f["id"] for f in report("after", HOST)["findings"] if not f.get("historical")}
    if FIXABLE and ENTRY["verify_gone"]:
        assert FID not in live, live
    elif not FIXABLE:
        assert FID in set(report("after", HOST)["ids"]), "an advisory stays reported"


def test_second_remediation_changes_nothing(runs):
    rc, output, recap = runs["again"]
    assert rc == 0, output[-3000:]
    assert recap[HOST]["changed"] == 0, output[-3000:]
