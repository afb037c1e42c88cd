# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The AWX / ansible-runner route: the same project run through ansible-runner's Python API
(what AWX and AAP execution environments call), on the controller-only report playbook, and the
EE definition accepted by ansible-builder (the image itself is built in AWX's pipeline, not here).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from fixtures.fleet_reports import write_fleet

ROOT = Path(__file__).resolve().parents[2]


def test_report_playbook_through_ansible_runner(tmp_path, monkeypatch):
    import ansible_runner

    # runner finds ansible-playbook on PATH, as in an execution environment
    monkeypatch.setenv("PATH", "%s:%s" % (Path(sys.executable).parent, os.environ.get("PATH", "")))
    reports = tmp_path / "reports"
    hosts, states, statuses, _ = write_fleet(str(reports))
    private = tmp_path / "runner"
    private.mkdir()
    r = ansible_runner.run(private_data_dir=str(private), project_dir=str(ROOT), playbook="playbooks/report.yml",
                           inventory="localhost ansible_connection=local ansible_python_interpreter=%s" % sys.executable, quiet=True,
                           extravars={"postfix_report_dir": str(reports), "postfix_report_hosts": hosts,
                                      "target": "localhost"},
                           envvars={"ANSIBLE_CONFIG": str(ROOT / "ansible.cfg")})
    assert (r.status, r.rc) == ("successful", 0), r.stdout.read()[-3000:]
    model = json.loads((reports / "fleet.json").read_text())
    assert {v["host"]: v["status"] for v in model["hosts"]} == statuses
    # the per-host lines and next steps reach runner's event stream (what AWX shows)
    text = " ".join(json.dumps(e.get("event_data", {}).get("res", {})) for e in r.events)
    assert "mx-rolled: failed" in text


def test_execution_environment_definition_is_valid(tmp_path):
    builder = shutil.which("ansible-builder") or str(Path(sys.executable).parent / "ansible-builder")
    proc = subprocess.run([builder, "create", "-f", str(ROOT / "execution-environment.yml"), "-c", str(tmp_path / "ctx")],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    containerfile = (tmp_path / "ctx" / "Containerfile").read_text()
    assert "ansible-core==2.19.14" in containerfile and "ansible-runner" in containerfile
