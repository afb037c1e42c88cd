# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One place per fault: module_utils/fault_catalog.py holds every per-ID fact, and everything
that acts on an ID agrees with it (a new fault ID cannot be half added, and no role keeps its
own list of IDs)."""
from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
import yaml
from ansible.module_utils import fault_catalog as cat
from ansible.module_utils import log_signatures as sig
from conftest import run_direct

ROOT = Path(__file__).resolve().parents[2]
FIX_DIR = ROOT / "roles" / "postfix_remediate" / "tasks" / "fix"
FIXES = {p.stem for p in FIX_DIR.glob("*.yml")}
LAB = ROOT / "roles" / "lab_faults"
LAB_LINES = yaml.safe_load((LAB / "vars" / "main.yml").read_text())["lab_faults_log_lines"]


def test_every_fixable_id_has_its_fix_file_and_no_fix_file_is_orphaned():
    fixable = {fid for fid, e in cat.CATALOG.items() if e["cls"] != cat.ADVISORY}
    assert fixable - FIXES == set(), "auto/opt-in IDs without roles/postfix_remediate/tasks/fix/<ID>.yml"
    assert FIXES - set(cat.CATALOG) == set(), "fix files for IDs the catalog does not know"
    # advisory IDs whose finding can still carry an operator-chosen fix (postfix_remediate_opt_in)
    assert FIXES - fixable == {"config.unused_parameter"}


def test_every_id_has_a_detector():
    sources = "".join((ROOT / p).read_text() for p in ("module_utils/diagnose_rules.py", "library/postfix_diagnose.py"))
    logged = {fid for fid, _keys, _rx in sig.SIGNATURES}
    undetected = {fid for fid in cat.CATALOG if fid not in logged and '"%s"' % fid not in sources}
    assert undetected == set(), undetected


def test_the_lab_injects_exactly_the_catalog():
    spec = yaml.safe_load((LAB / "meta" / "argument_specs.yml").read_text())
    choices = spec["argument_specs"]["main"]["options"]["lab_faults_inject"]["choices"]
    assert choices == list(cat.CATALOG), "lab_faults choices differ from the catalog (order included)"
    tasks = {p.stem for p in (LAB / "tasks").glob("*.yml")}
    assert set(choices) <= tasks, set(choices) - tasks


def test_every_catalog_fact_is_known_and_well_formed():
    for fid, e in cat.CATALOG.items():
        assert set(e) == set(cat.FACTS) | {"cls", "severity", "title", "cause", "steps", "seeds"}, fid
        assert e["severity"] in cat.SEVERITIES and e["cls"] in (cat.AUTO, cat.OPT_IN, cat.ADVISORY), fid
        assert e["phase"] in ("config", "queue"), fid
        assert all(r in cat.CATALOG and r != fid for r in e["explained_by"]), fid
        assert e["live_check"] in (None, "probes", "config", "no_sasl"), fid
        if e["log"] is not None:
            assert set(e["log"]) == {"programs", "inbound", "means"} and e["log"]["inbound"] in ("fault", "internal")
        if e["inbound_finding"] is not None:
            assert e["log"] and e["log"]["inbound"] == "internal", fid
        if e["opt_in"] is not None:
            assert e["cls"] != cat.AUTO, fid
            for typ, required, meaning in e["opt_in"].values():
                assert typ in ("str", "int", "list", "dict", "path", "bool") and isinstance(required, bool) and meaning


OPT_IN_USE = re.compile(r"postfix_remediate_opt_in\['([a-z0-9_.]+)'\]\.(\w+)")


def test_the_opt_in_data_each_fix_reads_is_the_catalog_schema():
    used = {}
    for p in FIX_DIR.glob("*.yml"):
        for fid, key in OPT_IN_USE.findall(p.read_text()):
            assert fid == p.stem, "%s reads another ID's opt-in data (%s)" % (p.name, fid)
            used.setdefault(fid, set()).add(key)
    declared = {fid: set(e["opt_in"]) for fid, e in cat.CATALOG.items() if e["opt_in"]}
    assert used == declared


def _shipped_role_files():
    for p in sorted((ROOT / "roles").rglob("*.yml")):
        rel = p.relative_to(ROOT / "roles")
        # the lab injects by ID; meta/ is documentation (an ID named in a description)
        if rel.parts[0].startswith("lab_") or p.parent == FIX_DIR or rel.parts[1] == "meta":
            continue
        yield p
    yield from sorted(p for p in (ROOT / "playbooks").glob("*.yml") if p.stem not in ("lab", "demo"))


def test_no_role_or_playbook_keeps_a_list_of_fault_ids():
    """Roles act on the facts findings carry (finding.remedy, finding.outside); a fault ID
    written in a role or playbook is a second place that can drift."""
    offenders = {}
    ids = sorted(cat.CATALOG, key=len, reverse=True)
    for p in _shipped_role_files():
        text = p.read_text()
        body = "\n".join(ln for ln in text.splitlines() if not ln.lstrip().startswith("#"))
        found = [fid for fid in ids if re.search(r"(?<![\w.])%s(?![\w])" % re.escape(fid), body)]
        if found:
            offenders[str(p.relative_to(ROOT))] = found
    assert offenders == {}


def test_every_finding_carries_the_facts_the_roles_read():
    f = cat.make_finding("dns.resolver_dead", "x")
    assert f["remedy"] == dict(releases_mail=True, phase="config", starts_postfix=False, verify_gone=True, opt_in=None)
    assert cat.make_finding("queue.sender_flood", "x")["remedy"]["phase"] == "queue"
    assert cat.make_finding("bounce.dsn", "x")["outside"] == cat.CATALOG["bounce.dsn"]["outside"]


LOG_IDS = sorted(LAB_LINES)


@pytest.mark.parametrize("fid", LOG_IDS)
def test_each_log_line_injection_of_the_lab_is_diagnosed_as_its_id(tmp_path, fid):
    """The lines roles/lab_faults writes for an ID, scanned by the real module: that ID is found
    (the lab scenarios and `make fault` rely on it)."""
    stamp = time.strftime("%b %e %H:%M:%S", time.localtime())
    log = tmp_path / "mail.log"
    log.write_text("".join("%s lab postfix/%s[4242]: %s\n" % (stamp, ln["daemon"], ln["message"])
                           for ln in LAB_LINES[fid]))
    r, _out, err = run_direct("postfix_diagnose", dict(checks=["log"], log_paths=[str(log)], log_window="1h",
                                                       state_file=str(tmp_path / "state.json"), log_source="file"))
    assert not r.get("failed"), (r.get("msg"), err[-500:])
    assert fid in r["ids"], (r["ids"], r["log"].get("unclassified_top"))


def test_the_lab_has_example_data_for_every_fix_an_operator_opts_into():
    examples = yaml.safe_load((LAB / "vars" / "main.yml").read_text())["lab_faults_opt_in_examples"]
    opt_in = {fid for fid, e in cat.CATALOG.items() if e["cls"] == cat.OPT_IN} | (FIXES - {
        fid for fid, e in cat.CATALOG.items() if e["cls"] != cat.ADVISORY})
    assert set(examples) == opt_in, set(examples) ^ opt_in
    for fid, data in examples.items():
        schema = cat.CATALOG[fid]["opt_in"] or {}
        assert set(data) <= set(schema), fid
        assert {k for k, (_t, required, _m) in schema.items() if required} <= set(data), fid
