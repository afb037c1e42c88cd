# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The catalog and the places that act on it agree (a new fault ID cannot be half added)."""
from __future__ import annotations

from pathlib import Path

import yaml
from ansible.module_utils import fault_catalog as cat
from ansible.module_utils import log_signatures as sig

ROOT = Path(__file__).resolve().parents[2]
FIXES = {p.stem for p in (ROOT / "roles" / "postfix_remediate" / "tasks" / "fix").glob("*.yml")}
# Advisory IDs whose finding can still carry an operator-chosen fix (postfix_remediate_opt_in).
ADVISORY_WITH_FIX = {"config.unused_parameter"}


def test_every_fixable_id_has_its_fix_file_and_no_fix_file_is_orphaned():
    fixable = {fid for fid, e in cat.CATALOG.items() if e["cls"] != cat.ADVISORY}
    assert fixable - FIXES == set(), "auto/opt-in IDs without roles/postfix_remediate/tasks/fix/<ID>.yml"
    assert FIXES - set(cat.CATALOG) == set(), "fix files for IDs the catalog does not know"
    assert FIXES - fixable == ADVISORY_WITH_FIX


def test_every_id_has_a_detector():
    sources = "".join((ROOT / p).read_text() for p in ("module_utils/diagnose_rules.py", "library/postfix_diagnose.py"))
    logged = {fid for fid, _keys, _rx in sig.SIGNATURES}
    undetected = {fid for fid in cat.CATALOG if fid not in logged and '"%s"' % fid not in sources}
    assert undetected == set(), undetected


def test_the_lab_injects_only_catalog_ids():
    spec = yaml.safe_load((ROOT / "roles" / "lab_faults" / "meta" / "argument_specs.yml").read_text())
    choices = set(spec["argument_specs"]["main"]["options"]["lab_faults_inject"]["choices"])
    assert choices <= set(cat.CATALOG), choices - set(cat.CATALOG)
    tasks = {p.stem for p in (ROOT / "roles" / "lab_faults" / "tasks").glob("*.yml")}
    assert choices <= tasks, choices - tasks
