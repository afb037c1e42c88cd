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
    """Each ID is injected by its task file or by its log lines (one entry), never both, and
    nothing else is (lab_faults' main.yml picks the way by the same rule)."""
    tasks = {p.stem for p in (LAB / "tasks").glob("*.*.yml")}
    assert set(cat.CATALOG) - tasks - set(LAB_LINES) == set(), "catalog IDs the lab cannot inject"
    assert (tasks | set(LAB_LINES)) - set(cat.CATALOG) == set(), "lab injections of IDs the catalog does not know"
    for fid in tasks & set(LAB_LINES):  # a task file that writes its lines itself, among other steps
        assert "log_line.yml" in (LAB / "tasks" / ("%s.yml" % fid)).read_text(), fid


def test_every_catalog_fact_is_known_and_well_formed():
    for fid, e in cat.CATALOG.items():
        assert set(e) == set(cat.FACTS) | {"cls", "severity", "title", "cause", "steps", "seeds"}, fid
        assert e["severity"] in cat.SEVERITIES and e["cls"] in (cat.AUTO, cat.OPT_IN, cat.ADVISORY), fid
        assert e["phase"] in ("config", "queue"), fid
        assert all(r in cat.CATALOG and r != fid for r in e["explained_by"]), fid
        assert e["live_check"] in (None, "probes", "config", "no_sasl"), fid
        assert isinstance(e["settings"], tuple) and all(re.fullmatch(r"[a-z0-9_]+", k) for k in e["settings"]), fid
        if e["names"] is not None:  # the summary names what these groups of its own signature captured
            groups, words = e["names"]
            assert e["signature"] and words and set(groups) <= set(re.compile(e["signature"]["rx"]).groupindex), fid
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
        # the lab injects by ID; meta/ is documentation (an ID named in a description); the alert
        # rules are Prometheus' (an alert per ID an admin pages on; test_monitoring checks them
        # against the catalog)
        if rel.parts[0].startswith("lab_") or p.parent == FIX_DIR or rel.parts[1] == "meta" or \
                rel.parts[:2] == ("postfix_monitoring", "files"):
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


FIX_KEY_USE = re.compile(r"postfix_remediate_finding\.fix\.(\w+)")
# every finding's fix has these (fault_catalog.make_finding)
FIX_ALWAYS = {"steps", "can_fix"}


def _fix_keys_made():
    """ID -> the keys diagnose_rules and the diagnose module put in that ID's finding["fix"], read
    from their source: fix=dict(k=...) or {...} literals, and a helper's `fix["k"] = ` lines."""
    import ast
    keys = {}
    for rel in ("module_utils/diagnose_rules.py", "library/postfix_diagnose.py"):
        tree = ast.parse((ROOT / rel).read_text())
        helpers = {}
        for fn in (n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)):
            helpers[fn.name] = {t.slice.value for n in ast.walk(fn) if isinstance(n, ast.Assign)
                                for t in n.targets if isinstance(t, ast.Subscript) and isinstance(t.value, ast.Name)
                                and t.value.id == "fix" and isinstance(t.slice, ast.Constant)}
        def ids_named(scope):  # variable -> the catalog IDs assigned to it in this scope
            named = {}
            for n in ast.walk(scope):
                if isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name):
                    named.setdefault(n.targets[0].id, set()).update(
                        c.value for c in ast.walk(n.value) if isinstance(c, ast.Constant) and c.value in cat.CATALOG)
            return named
        module_ids = ids_named(ast.Module(body=[n for n in tree.body if isinstance(n, ast.Assign)], type_ignores=[]))
        calls = []
        for fn in (n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)):
            named = dict(module_ids, **ids_named(fn))
            calls += [(c, named) for c in ast.walk(fn) if isinstance(c, ast.Call)]
        for call, named in calls:
            name = getattr(call.func, "id", getattr(call.func, "attr", None))
            if name != "make_finding" or not call.args:
                continue
            first = call.args[0]
            fids = {first.value} if isinstance(first, ast.Constant) else named.get(getattr(first, "id", None), set())
            made = set()
            for fid in fids:
                keys.setdefault(fid, set())
            for kw in call.keywords:
                if kw.arg != "fix":
                    continue
                for node in ast.walk(kw.value):
                    if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "dict":
                        made |= {k.arg for k in node.keywords if k.arg}
                    elif isinstance(node, ast.Dict) and node is kw.value:
                        made |= {k.value for k in node.keys if isinstance(k, ast.Constant)}
                    elif isinstance(node, ast.Call) and getattr(node.func, "id", None) in helpers:
                        made |= helpers[node.func.id]
            for fid in fids:
                keys[fid] |= made
    return keys


def test_every_fix_reads_only_keys_its_finding_carries():
    """A fix file reading finding.fix.KEY that the diagnosis never sets for that ID would act on
    nothing (or fail at 3 a.m.): each key it reads without a default is one the rules put there."""
    made = _fix_keys_made()
    missing = {}
    for p in FIX_DIR.glob("*.yml"):
        text = p.read_text()
        for key in set(FIX_KEY_USE.findall(text)) - FIX_ALWAYS - made.get(p.stem, set()):
            # read with a default: optional by design ("| default(...)" right after the key)
            if not re.search(r"postfix_remediate_finding\.fix\.%s\s*\|\s*default\(" % key, text):
                missing.setdefault(p.stem, set()).add(key)
    assert missing == {}, missing
    # and the reader of the source is not blind: known keys are seen
    assert {"remove_nameservers", "keep_nameservers", "restart"} <= made["dns.resolver_dead"]
    assert made["relay.open_relay"] >= {"params", "mynetworks_remove"}
