# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Phase tags (diagnose, backup, fix, verify, release, report) on every task of the roles that
run a remediation, so --tags / --skip-tags select phases; tasks every phase needs are `always`.
Dynamic includes pass their tags on with `apply` (tags on include_tasks alone reach no task), or
include a file whose every task carries its own phase tags (run.yml, recover_run.yml: a host
with nothing to do skips the one include instead of every task in it)."""
from __future__ import annotations

import pytest
import yaml
from conftest import ROOT

PHASES = {"diagnose", "backup", "fix", "verify", "release", "report", "always"}
FILES = ["roles/postfix_diagnose/tasks/main.yml", "roles/postfix_remediate/tasks/main.yml",
         "roles/postfix_remediate/tasks/recover.yml", "roles/postfix_remediate/tasks/run.yml",
         "roles/postfix_remediate/tasks/recover_run.yml", "roles/postfix_report/tasks/main.yml",
         "roles/postfix_lock/tasks/main.yml", "roles/postfix_lock/tasks/release.yml",
         "roles/postfix_change_window/tasks/main.yml"]


def _tasks(items, inherited=()):
    for t in items or []:
        tags = set(inherited) | set(t.get("tags") or [])
        if "block" in t:
            for part in ("block", "rescue", "always"):
                yield from _tasks(t.get(part), tags)
        else:
            yield t, tags


@pytest.mark.parametrize("path", FILES)
def test_every_task_has_a_phase_tag(path):
    untagged = [t["name"] for t, tags in _tasks(yaml.safe_load((ROOT / path).read_text())) if not tags & PHASES]
    assert untagged == []


@pytest.mark.parametrize("path", FILES)
def test_dynamic_includes_apply_their_tags(path):
    for t, _tags in _tasks(yaml.safe_load((ROOT / path).read_text())):
        inc = t.get("ansible.builtin.include_tasks")
        if inc is None:
            continue
        assert isinstance(inc, dict), t["name"]
        if "apply" in inc:
            assert set(inc["apply"]["tags"]) == set(t["tags"]), t["name"]
        else:  # no apply: the included file tags every task itself (and is checked as one of FILES)
            included = "roles/postfix_remediate/tasks/" + inc["file"] if path.startswith("roles/postfix_remediate") else None
            assert included in FILES and "always" in t["tags"], t["name"]


def test_playbooks_let_the_roles_tags_decide():
    for p in sorted((ROOT / "playbooks").glob("*.yml")):
        for play in yaml.safe_load(p.read_text()):
            for t, _tags in _tasks(play.get("tasks")):
                if "ansible.builtin.include_role" in t:
                    assert "always" in (t.get("tags") or []), (p.name, t["name"])
                if "ansible.builtin.import_role" in t:  # tags here would be forced on every task of the role
                    assert not t.get("tags"), (p.name, t["name"])
