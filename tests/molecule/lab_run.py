"""What the remediation verifiers share: run a playbook exactly as an admin would, read the
play recap, fingerprint what a dry run must not change, read the per-host reports.

Imported by the scenario tests (tests/molecule/conftest.py puts this directory on sys.path).
"""
from __future__ import annotations

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
# What a --check run must leave identical: config, resolver files (and chroot copies), queue listing.
FINGERPRINT = r"""
set -o pipefail
{ find /etc/postfix /var/spool/postfix/etc -type f -print0 2>/dev/null | sort -z | xargs -0 sha256sum
  sha256sum /etc/resolv.conf
  find /etc/postfix /etc/ssl/private /etc/aliases* -printf '%p %u %g %m\n' 2>/dev/null | sort
  postqueue -j 2>/dev/null | python3 -c 'import sys, json; print(sorted(json.loads(l)["queue_id"] + json.loads(l)["queue_name"] for l in sys.stdin))'
} | sha256sum
"""


def reports_dir(kind):
    return Path(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "/nonexistent")) / "reports" / kind


def playbook(name, kind, *args):
    """ansible-playbook playbooks/<name>.yml on the scenario's inventory; reports go to reports/<kind>.
    Returns (rc, output, recap) with recap = {host: {ok, changed, unreachable, failed, ...}}."""
    inventory = os.environ["MOLECULE_INVENTORY_FILE"]
    argv = ["ansible-playbook", "-i", inventory, str(ROOT / "playbooks" / (name + ".yml")),
            "-e", "postfix_diagnose_report_dir=%s" % reports_dir(kind),
            "-e", "postfix_remediate_report_dir=%s" % reports_dir(kind),
            "-e", "postfix_report_dir=%s" % reports_dir(kind), *args]
    proc = subprocess.run(argv, env=ENV, capture_output=True, text=True, timeout=900, check=False)
    out = proc.stdout + proc.stderr
    recap = {m.group(1): dict(zip(("ok", "changed", "unreachable", "failed", "skipped", "rescued", "ignored"),
                                  map(int, m.groups()[1:]))) for m in RECAP.finditer(proc.stdout)}
    return proc.returncode, out, recap


def fingerprint(host):
    """One hash over everything a dry run must not touch on a lab container."""
    proc = subprocess.run(["podman", "exec", host, "bash", "-c", FINGERPRINT], env=ENV, capture_output=True,
                          text=True, timeout=120, check=True)
    return proc.stdout.strip()


def sh(host, script):
    return subprocess.run(["podman", "exec", host, "bash", "-c", script], env=ENV, capture_output=True, text=True,
                          timeout=120, check=False)


def report(kind, host, suffix=""):
    path = reports_dir(kind) / (host + suffix + ".json")
    return json.loads(path.read_text())
