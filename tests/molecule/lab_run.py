# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the remediation verifiers share: run a playbook exactly as an admin would, read the
play recap, fingerprint what a dry run must not change, read the per-host reports.

Imported by the scenario tests (tests/molecule/conftest.py puts this directory on sys.path).
"""
from __future__ import annotations

import difflib
import json
import os
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENV = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_FORCE_COLOR="0", ANSIBLE_NOCOLOR="1",
           CONTAINERS_CONF=str(ROOT / "lab" / "containers.conf"))
RECAP = re.compile(r"^(\S+)\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)\s+skipped=(\d+)\s+"
                   r"rescued=(\d+)\s+ignored=(\d+)", re.M)
FINGERPRINT = (Path(__file__).parent / "fingerprint.sh").read_text()


def reports_dir(kind):
    return Path(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "/nonexistent")) / "reports" / kind


def scenario_hosts():
    """The scenario's container names (from Molecule's inventory); [] outside Molecule."""
    import yaml

    path = os.environ.get("MOLECULE_INVENTORY_FILE")
    if not path or not os.path.exists(path):
        return []
    with open(path) as fh:
        inv = yaml.safe_load(fh) or {}
    names = set()

    def walk(group):
        names.update((group.get("hosts") or {}).keys())
        for child in (group.get("children") or {}).values():
            walk(child or {})

    for group in inv.values():
        walk(group or {})
    return sorted(names)


def inventory_args():
    """Molecule's inventory directory (root in the containers, through nsenter: base.yml), or with
    LAB_CONNECTION=ssh the repository's inventories/lab over real SSH as the admin with sudo,
    limited to this scenario's containers (the way a user reaches a fleet)."""
    if os.environ.get("LAB_CONNECTION") == "ssh":
        ENV["LAB_HOSTS"] = ",".join(scenario_hosts())
        return ["-i", str(ROOT / "inventories" / "lab"), "-e", "lab_connection=ssh", *SSH_EXTRA]
    return ["-i", os.path.dirname(os.environ["MOLECULE_INVENTORY_FILE"])]


SSH_EXTRA = []  # extra arguments for SSH runs (the vaulted become passwords), set by a scenario


def start_playbook(name, kind, *args, session=False):
    """ansible-playbook playbooks/<name>.yml on the scenario's hosts, started in the background;
    reports go to reports/<kind>. finish() waits for it. session=True starts it as its own process
    group, so a test can SIGKILL the controller and everything it started (os.killpg)."""
    argv = ["ansible-playbook", *inventory_args(), str(ROOT / "playbooks" / (name + ".yml")),
            "-e", "postfix_diagnose_report_dir=%s" % reports_dir(kind),
            "-e", "postfix_remediate_report_dir=%s" % reports_dir(kind),
            "-e", "postfix_report_dir=%s" % reports_dir(kind), *args]
    proc = subprocess.Popen(argv, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=session)
    proc.lab_name = "%s-%s" % (name, kind)
    return proc


def finish(proc, timeout=900):
    """(rc, output, recap) of a started playbook; recap = {host: {ok, changed, unreachable, failed, ...}}."""
    stdout, stderr = proc.communicate(timeout=timeout)
    recap = {m.group(1): dict(zip(("ok", "changed", "unreachable", "failed", "skipped", "rescued", "ignored"),
                                  map(int, m.groups()[1:]))) for m in RECAP.finditer(stdout)}
    keep = os.environ.get("LAB_PLAYBOOK_LOGS")  # where time goes: also set ANSIBLE_CALLBACKS_ENABLED=ansible.posix.profile_tasks
    if keep:
        os.makedirs(keep, exist_ok=True)
        Path(keep, "%s-%d.log" % (getattr(proc, "lab_name", "playbook"), proc.pid)).write_text(stdout + stderr)
    return proc.returncode, stdout + stderr, recap


def playbook(name, kind, *args):
    """Run playbooks/<name>.yml as an admin would; returns (rc, output, recap)."""
    return finish(start_playbook(name, kind, *args))


def fingerprint(host):
    """Everything a dry run must not touch on a lab container, as text (tests/molecule/fingerprint.sh)."""
    proc = subprocess.run(["podman", "exec", host, "bash", "-c", FINGERPRINT], env=ENV, capture_output=True,
                          text=True, timeout=120, check=True)
    return proc.stdout


def fingerprint_changes(before, after):
    """Host -> the fingerprint lines that differ (a readable failure, not two hashes)."""
    out = {}
    for host in before:
        diff = [ln for ln in difflib.unified_diff(before[host].splitlines(), after.get(host, "").splitlines(),
                                                  lineterm="", n=0) if ln[:1] in "+-" and ln[:3] not in ("+++", "---")]
        if diff:
            out[host] = diff[:20]
    return out


def check_run(name, kind, hosts, *args):
    """Run playbooks/<name>.yml with --check --diff, fingerprinting every host before and after:
    the read-only proof every scenario makes. Returns (rc, output, recap, changes) where changes
    is fingerprint_changes() and must be empty."""
    before = {h: fingerprint(h) for h in hosts}
    rc, out, recap = playbook(name, kind, "--check", "--diff", *args)
    return rc, out, recap, fingerprint_changes(before, {h: fingerprint(h) for h in hosts})


def sh(host, script):
    return subprocess.run(["podman", "exec", host, "bash", "-c", script], env=ENV, capture_output=True, text=True,
                          timeout=120, check=False)


def report(kind, host, suffix=""):
    path = reports_dir(kind) / (host + suffix + ".json")
    return json.loads(path.read_text())
