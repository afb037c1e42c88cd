# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fleet: diagnose.yml and a no-op remediate.yml on 1, 5, 10 and 20 lab hosts (make lab), as an
admin runs them (ansible-playbook, the lab inventory, reports to a scratch directory).

Round trips per host are the podman commands Ansible ran for one host (-vvv "RUN" lines: exec,
put and fetch), counted once at one host. Forks and pipelining are tried on the biggest fleet.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

from .common import ROOT, WORK, fmt_s, write_section

BIN = Path(sys.executable).parent
ENV = dict(os.environ, CONTAINERS_CONF=str(ROOT / "lab" / "containers.conf"), ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
           ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
RECAP = re.compile(r"^(\S+)\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)


def playbook(name, hosts, *args, env=None):
    reports = WORK / "fleet-reports"
    argv = [str(BIN / "ansible-playbook"), str(ROOT / "playbooks" / (name + ".yml")), "-l", ",".join(hosts),
            "-e", "postfix_diagnose_report_dir=%s" % reports, "-e", "postfix_remediate_report_dir=%s" % reports,
            "-e", "postfix_report_dir=%s" % reports, "-e", "remediate_serial=100%", *args]
    t = time.perf_counter()
    proc = subprocess.run(argv, cwd=ROOT, env=dict(ENV, **(env or {})), capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - t
    recap = {m.group(1): tuple(map(int, m.groups()[1:])) for m in RECAP.finditer(proc.stdout)}
    bad = [h for h in hosts if h not in recap or recap[h][2] or recap[h][3]]
    if proc.returncode != 0 or bad:
        raise RuntimeError("%s failed on %s:\n%s" % (name, bad, proc.stdout[-3000:]))
    return seconds, recap, proc.stdout


def round_trips(name, host):
    _s, _recap, out = playbook(name, [host], "-vvv")
    return sum(1 for line in out.splitlines() if re.match(r"^<%s> (RUN|PUT|FETCH) " % re.escape(host), line))


def main(sizes, suite="bookworm"):
    biggest = max(sizes)
    subprocess.run([str(BIN / "ansible-playbook"), str(ROOT / "playbooks" / "lab.yml"), "-e",
                    "lab_fleet_size=%d" % biggest, "-e", "lab_fleet_suite=%s" % suite], cwd=ROOT, env=ENV,
                   capture_output=True, check=True)
    hosts = ["lab-mx%d" % i for i in range(1, biggest + 1)]
    playbook("remediate", hosts)  # whatever an earlier demo left: fixed once, so the runs below are no-ops
    rows = []
    for k in sizes:
        d, _r, _o = playbook("diagnose", hosts[:k])
        r, recap, _o = playbook("remediate", hosts[:k])
        changed = sum(v[1] for h, v in recap.items() if h in hosts[:k])
        rows.append((k, d, r, changed))
        print(k, d, r, changed, flush=True)
    trips = {name: round_trips(name, hosts[0]) for name in ("diagnose", "remediate")}
    tries = []
    for forks in (5, 20, 50):
        s, _r, _o = playbook("diagnose", hosts, env={"ANSIBLE_FORKS": str(forks)})
        tries.append(("forks=%d" % forks, s))
    for pipelining in ("False", "True"):
        s, _r, _o = playbook("diagnose", hosts, env={"ANSIBLE_PIPELINING": pipelining})
        tries.append(("pipelining=%s" % pipelining, s))
    d1, r1 = rows[0][1], rows[0][2]
    lines = ["Lab fleet of podman containers (%s image) on this machine; forks = 20 (ansible.cfg). Each run is the "
             "whole playbook, report play included." % suite, "",
             "| hosts | diagnose.yml | per host | vs 1 host | no-op remediate.yml | per host | vs 1 host | changed |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for k, d, r, changed in rows:
        lines.append("| %d | %s | %s | %.1fx | %s | %s | %.1fx | %d |" % (k, fmt_s(d), fmt_s(d / k), d / d1, fmt_s(r),
                                                                       fmt_s(r / k), r / r1, changed))
    lines += ["", "Round trips per host (podman exec/put/fetch for one host): diagnose.yml %d, no-op remediate.yml %d."
              % (trips["diagnose"], trips["remediate"]), "",
              "Settings tried with diagnose.yml on %d hosts: " % biggest
              + ", ".join("%s %s" % (name, fmt_s(s)) for name, s in tries) + "."]
    write_section("Fleet scale", "make bench BENCH=fleet", lines)
    return rows
