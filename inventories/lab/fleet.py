#!/usr/bin/env python3
# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Inventory of the running lab fleet: every container labelled io.postfix-remedy.lab=1, or the
running containers named in LAB_HOSTS (comma-separated: the test scenarios' own containers).

Container name = inventory hostname; how it is reached (SSH as admin with sudo, or podman exec)
is in group_vars/all.yml (lab_connection).
Groups: postfix_servers (what the playbooks target by default) and lab.
"""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def containers():
    env = dict(os.environ, CONTAINERS_CONF=os.path.join(HERE, "..", "..", "lab", "containers.conf"))
    try:
        wanted = [n for n in os.environ.get("LAB_HOSTS", "").split(",") if n]
        filters = ["--filter", "label=io.postfix-remedy.lab=1"] if not wanted else []
        out = subprocess.run(["podman", "ps", *filters, "--format", "json"],
                             capture_output=True, text=True, env=env, check=True, timeout=60).stdout
        if wanted:
            return [c for c in json.loads(out or "[]") if c["Names"][0] in wanted]
    except (OSError, subprocess.SubprocessError):
        return []
    return json.loads(out or "[]")


def main():
    hosts, hostvars = [], {}
    for c in sorted(containers(), key=lambda c: c["Names"][0]):
        name = c["Names"][0]
        hosts.append(name)
        hostvars[name] = {
            "lab_suite": (c.get("Labels") or {}).get("io.postfix-remedy.suite", ""),
            # journal-only hosts (lab_fleet_journal_hosts): lab_host sets them up that way
            "lab_host_log": (c.get("Labels") or {}).get("io.postfix-remedy.log") or "file",
        }
    if len(sys.argv) > 2 and sys.argv[1] == "--host":
        print(json.dumps(hostvars.get(sys.argv[2], {})))
        return
    print(json.dumps({
        "postfix_servers": {"hosts": hosts},
        "lab": {"hosts": hosts},
        "_meta": {"hostvars": hostvars},
    }))


if __name__ == "__main__":
    main()
