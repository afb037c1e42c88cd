# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tasks that run on the controller never use become: over SSH with become (the field's way in),
a delegated task would otherwise sudo on the admin's laptop, and the reports would belong to root."""
from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
BLOCK_KEYS = ("block", "rescue", "always", "tasks", "pre_tasks", "post_tasks", "handlers")


def tasks_in(node, inherited_become=None):
    """Every task dict in a playbook or task file, with the become it inherits from blocks/plays."""
    if isinstance(node, list):
        for item in node:
            yield from tasks_in(item, inherited_become)
    elif isinstance(node, dict):
        become = node.get("become", inherited_become)
        nested = [k for k in BLOCK_KEYS if k in node]
        if nested:
            for key in nested:
                yield from tasks_in(node[key], become)
        elif "hosts" not in node:
            yield node, become


def controller_side(task):
    return str(task.get("delegate_to", "")).strip() in ("localhost", "127.0.0.1")


def test_every_delegated_task_says_become_false():
    files = sorted(ROOT.glob("roles/*/tasks/*.yml")) + sorted(ROOT.glob("roles/*/handlers/*.yml")) + sorted(
        ROOT.glob("playbooks/*.yml"))
    seen, wrong = 0, []
    for path in files:
        for task, become in tasks_in(yaml.safe_load(path.read_text()) or []):
            if controller_side(task):
                seen += 1
                if become is not False:
                    wrong.append("%s: %s" % (path.relative_to(ROOT), task.get("name")))
    assert seen >= 9, "the walk found too few delegated tasks (%d): the test would prove nothing" % seen
    assert not wrong, "delegated to the controller without become: false:\n" + "\n".join(wrong)


def test_lab_connection_settings_do_not_reach_the_controller():
    """The lab's SSH/become settings live in group_vars/lab.yml: the implicit localhost takes the
    variables of group all, and a variable (ansible_become) overrides a task's become keyword."""
    for inv in ("lab", "example"):
        all_vars = ROOT / "inventories" / inv / "group_vars" / "all.yml"
        if all_vars.exists():
            data = yaml.safe_load(all_vars.read_text()) or {}
            assert not {k for k in data if k.startswith(("ansible_become", "ansible_connection"))}, (inv, data)
