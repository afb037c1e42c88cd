# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fleet cost, split: controller CPU and target-side CPU per host, on a lab fleet of up to 50
Postfix containers (make lab N=50), over both transports of the lab inventory (podman exec, and
SSH as the admin with sudo through `sshd -i`), for diagnose.yml and a no-op remediate.yml next to
`ansible -m ping` and a one-task playbook (ping) on the same hosts.

- Controller CPU: user+system seconds of the ansible process and every process it waited for
  (os.wait4 on it: its workers, its local modules, the ssh / podman clients), per host.
- Target CPU: the CPU the lab containers' cgroups used during the run (the modules, sshd, sudo,
  Python start-up), per host.
- Wall time of each run, and round trips per host (commands Ansible ran for one host, -vvv).
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
REPEAT = 3  # at the biggest size, the one-task and diagnose.yml runs: the median of REPEAT interleaved pairs
RECAP = re.compile(r"^(\S+)\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)
ONE_TASK = WORK / "one-task.yml"


def _cgroup_cpu(name):
    """CPU seconds a container's cgroup has used (cgroup v1 cpuacct, else v2 cpu.stat)."""
    path = subprocess.run(["podman", "inspect", "--format", "{{.State.CgroupPath}}", name], env=ENV,
                          capture_output=True, text=True, check=True).stdout.strip()
    for f in ("/sys/fs/cgroup/cpuacct%s/cpuacct.usage" % path, "/sys/fs/cgroup%s/cpu.stat" % path,
              "/sys/fs/cgroup/unified%s/cpu.stat" % path):
        if path and os.path.exists(f):
            text = Path(f).read_text()
            if f.endswith("cpuacct.usage"):
                return int(text) / 1e9
            return int(re.search(r"usage_usec (\d+)", text).group(1)) / 1e6
    raise RuntimeError("no cgroup CPU accounting for %s (%r)" % (name, path))


def _paths(hosts):
    return {h: _cgroup_cpu(h) for h in hosts}


def measured(argv, hosts, env=None, check_recap=True):
    """Run argv; returns dict(wall, ctrl, target, out). ctrl: CPU of the process tree (wait4)."""
    before = _paths(hosts)
    t = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=ROOT, env=dict(ENV, **(env or {})), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    out = proc.stdout.read()
    _pid, status, ru = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - t
    after = _paths(hosts)
    if check_recap:
        recap = {m.group(1): tuple(map(int, m.groups()[1:])) for m in RECAP.finditer(out)}
        bad = [h for h in hosts if h not in recap or recap[h][2] or recap[h][3]]
        if proc.returncode != 0 or bad:
            raise RuntimeError("%s failed on %s:\n%s" % (argv[:3], bad[:5], out[-3000:]))
    elif proc.returncode != 0:
        raise RuntimeError("%s failed:\n%s" % (argv[:3], out[-3000:]))
    return dict(wall=wall, ctrl=ru.ru_utime + ru.ru_stime, target=sum(after[h] - before[h] for h in hosts), out=out)


def _median(runs):
    """The run with the median controller CPU (its other figures come with it)."""
    return sorted(runs, key=lambda r: r["ctrl"])[len(runs) // 2]


def inventory(transport):
    return ["-i", str(ROOT / "inventories" / "lab"), "-e", "lab_connection=%s" % transport]


def playbook_argv(name, hosts, transport, *args):
    reports = WORK / "fleet-reports"
    path = str(ONE_TASK) if name == "one-task" else str(ROOT / "playbooks" / (name + ".yml"))
    return [str(BIN / "ansible-playbook"), *inventory(transport), path, "-l", ",".join(hosts),
            "-e", "postfix_diagnose_report_dir=%s" % reports, "-e", "postfix_remediate_report_dir=%s" % reports,
            "-e", "postfix_report_dir=%s" % reports, "-e", "remediate_serial=100%", *args]


def ping_argv(hosts, transport):
    return [str(BIN / "ansible"), *inventory(transport), "lab", "-l", ",".join(hosts), "-m", "ansible.builtin.ping"]


def round_trips(name, host, transport):
    out = measured(playbook_argv(name, [host], transport, "-vvv"), [host])["out"]
    if transport == "ssh":
        return sum(1 for line in out.splitlines() if re.match(r"^<%s> SSH: EXEC " % re.escape(host), line))
    return sum(1 for line in out.splitlines() if re.match(r"^<%s> (RUN|PUT|FETCH) " % re.escape(host), line))


def main(sizes, suite="bookworm"):
    biggest = max(sizes)
    ONE_TASK.parent.mkdir(parents=True, exist_ok=True)
    ONE_TASK.write_text("---\n- name: One task\n  hosts: lab\n  gather_facts: false\n  tasks:\n"
                        "    - name: Ping\n      ansible.builtin.ping:\n")
    t = time.perf_counter()
    subprocess.run([str(BIN / "ansible-playbook"), str(ROOT / "playbooks" / "lab.yml"), "-e",
                    "lab_fleet_size=%d" % biggest, "-e", "lab_fleet_suite=%s" % suite], cwd=ROOT, env=ENV,
                   capture_output=True, check=True)
    setup = time.perf_counter() - t
    hosts = ["lab-mx%d" % i for i in range(1, biggest + 1)]
    measured(playbook_argv("remediate", hosts, "podman"), hosts)  # fix what the lab left, so remediate is a no-op
    rows, spread = [], {}
    for transport in ("podman", "ssh"):
        for k in sizes:
            sub = hosts[:k]
            runs = {"ansible -m ping": measured(ping_argv(sub, transport), sub, check_recap=False),
                    "one-task playbook": measured(playbook_argv("one-task", sub, transport), sub),
                    "diagnose.yml": measured(playbook_argv("diagnose", sub, transport), sub),
                    "no-op remediate.yml": measured(playbook_argv("remediate", sub, transport), sub)}
            if k == biggest and REPEAT > 1:
                # one run of each varied by a third between runs (SSH sessions, the neighbours of
                # this VM): the target ratio is taken from medians of interleaved pairs
                pairs = [(runs["one-task playbook"], runs["diagnose.yml"])]
                for _i in range(REPEAT - 1):
                    pairs.append((measured(playbook_argv("one-task", sub, transport), sub),
                                  measured(playbook_argv("diagnose", sub, transport), sub)))
                runs["one-task playbook"] = _median([p[0] for p in pairs])
                runs["diagnose.yml"] = _median([p[1] for p in pairs])
                spread[transport] = pairs
            changed = sum(int(m.group(3)) for m in RECAP.finditer(runs["no-op remediate.yml"]["out"]) if m.group(1) in sub)
            rows.append((transport, k, runs, changed))
            print(transport, k, {n: (round(r["wall"], 1), round(r["ctrl"], 1), round(r["target"], 1))
                                 for n, r in runs.items()}, flush=True)
    trips = {(n, tr): round_trips(n, hosts[0], tr) for n in ("one-task", "diagnose", "remediate") for tr in ("podman", "ssh")}
    lines = ["Lab fleet of %d podman containers (%s image, one Postfix each) on this machine, set up in %s; forks = 20 "
             "(ansible.cfg). Transports as the lab inventory makes them: `podman` (podman exec, as root) and `ssh` "
             "(the admin with sudo, pipelining, ControlPersist, through `sshd -i`). Each run is the whole command; the "
             "playbooks' report plays included." % (biggest, suite, fmt_s(setup)), "",
             "Controller CPU = user+system CPU of ansible's process tree (os.wait4); target CPU = CPU of the containers' "
             "cgroups during the run. Both per host; the last column is controller CPU per host over the one-task "
             "playbook's.", "",
             "| transport | hosts | run | wall | controller CPU / host | target CPU / host | ctrl / one-task |",
             "|---|---:|---|---:|---:|---:|---:|"]
    for transport, k, runs, changed in rows:
        base = runs["one-task playbook"]["ctrl"] / k
        for name, r in runs.items():
            lines.append("| %s | %d | %s | %s | %s | %s | %.2fx |" % (
                transport, k, name + (" (changed=%d)" % changed if "remediate" in name else ""), fmt_s(r["wall"]),
                fmt_s(r["ctrl"] / k), fmt_s(r["target"] / k), (r["ctrl"] / k) / base))
    lines += ["", "Round trips for one host (-vvv: podman RUN/PUT/FETCH, ssh EXEC): " + ", ".join(
        "%s over %s %d" % (n, tr, v) for (n, tr), v in sorted(trips.items())) + "."]
    for tr, pairs in spread.items():
        lines += ["", "%s, %d hosts: the one-task and diagnose.yml rows are the median of %d interleaved runs each "
                  "(controller CPU per host, run by run: one-task %s; diagnose.yml %s; ratio per pair %s)." % (
                      tr, biggest, len(pairs), ", ".join(fmt_s(o["ctrl"] / biggest) for o, _d in pairs),
                      ", ".join(fmt_s(d["ctrl"] / biggest) for _o, d in pairs),
                      ", ".join("%.2fx" % (d["ctrl"] / o["ctrl"]) for o, d in pairs))]
    big = [(tr, runs) for tr, k, runs, _c in rows if k == biggest]
    lines.append("")
    lines.append("Target: controller CPU per host of diagnose.yml at most 2x the one-task playbook's: " + "; ".join(
        "%s %.2fx" % (tr, runs["diagnose.yml"]["ctrl"] / runs["one-task playbook"]["ctrl"]) for tr, runs in big) + ".")
    write_section("Fleet scale", "make bench BENCH=fleet FLEET=%s" % ",".join(map(str, sizes)), lines)
    return rows
