"""Issue 30 item 1, on the role side: the roles never write or prune a host file through a path
an operator variable names unless the file is ours.

- run state and ledger go through postfix_state (which refuses foreign paths), never through
  ansible.builtin.copy/template/file;
- pruning backups only ever selects directories named like our own backups, so a careless
  backup_dir (/etc) loses nothing. Checked by running the tasks' own `find` arguments with the
  real ansible.builtin.find module."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from test_controller_tasks import tasks_in

ROOT = Path(__file__).resolve().parents[2]
OUR_FILES = ("postfix_remediate_state_file", "postfix_remediate_ledger", "postfix_diagnose_state_file",
             "postfix_diagnose_fix_ledger")


def role_tasks():
    for path in sorted(ROOT.glob("roles/*/tasks/**/*.yml")):
        for task, _become in tasks_in(yaml.safe_load(path.read_text()) or []):
            yield path.relative_to(ROOT), task


def test_our_state_files_are_written_only_by_postfix_state():
    writers = ("ansible.builtin.copy", "ansible.builtin.template", "ansible.builtin.file",
               "ansible.builtin.lineinfile", "ansible.builtin.blockinfile")
    wrong = []
    for where, task in role_tasks():
        for module in writers:
            args = json.dumps(task.get(module) or {})
            if any(var in args for var in OUR_FILES):
                wrong.append("%s: %s" % (where, task.get("name")))
    assert not wrong, "our own files written without the ownership check: %s" % wrong


def find_args(rel, name_part):
    for where, task in role_tasks():
        if str(where) == rel and name_part in task.get("name", ""):
            return task["ansible.builtin.find"]
    raise AssertionError("no find task %r in %s" % (name_part, rel))


@pytest.mark.parametrize("rel,name_part,ours", [
    ("roles/postfix_remediate/tasks/prune.yml", "Earlier backups", ["1764990000", "1700000000"]),
    ("roles/postfix_queue/tasks/main.yml", "Copies of deleted mail", ["20261101T010203-abcd_123", "20250101T000000-Zz9yXw8v"]),
])
def test_pruning_selects_only_our_backups_in_a_careless_backup_dir(tmp_path, rel, name_part, ours):
    old = time.time() - 400 * 86400
    foreign = ["ssl", "postfix", "2024", "1764990000.d", "backup-20261101T010203-abcdefgh", "cron.daily"]
    for name in ours + foreign:
        (tmp_path / name).mkdir()
        os.utime(tmp_path / name, (old, old))
    args = dict(find_args(rel, name_part))
    args["paths"] = str(tmp_path)
    args["age"] = "1d" if "age" in args else None
    args = {k: v for k, v in args.items() if v is not None}
    ansible = str(Path(sys.executable).parent / "ansible")  # the venv's, whatever PATH says
    proc = subprocess.run([ansible, "localhost", "-c", "local", "-m", "ansible.builtin.find", "-a", json.dumps(args),
                           "-o"], capture_output=True, text=True, cwd=ROOT,
                          env=dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_NOCOLOR="1",
                                   ANSIBLE_FORCE_COLOR="0",
                                   ANSIBLE_INVENTORY_UNPARSED_WARNING="0"), check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = json.loads(proc.stdout.split("=>", 1)[1])
    found = sorted(os.path.basename(f["path"]) for f in result["files"])
    assert found == sorted(ours), found
