# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Queue: postfix_queue against seed 003's pipeline on identical real queues in a lab container.

For N = 1,000 / 10,000 / 100,000 messages (30 % bounces from MAILER-DAEMON, 5 % held, the rest
deferred from three senders), each action on the MAILER-DAEMON subset runs on a freshly filled,
identical queue:
- postfix_queue through Ansible (what an admin runs; wall time includes Ansible's start-up and
  the podman connection) and the module's own time and peak memory;
- the seed's `mailq | grep MAILER-DAEMON | awk '{print $1}' | xargs -n1 postsuper -d` (and -h,
  -r for hold and requeue) inside the container. At 100,000 the xargs part runs on a sample of
  2,000 IDs and is extrapolated (listing time + per-call time x subset size), and says so.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from .common import ROOT, WORK, fmt_s, write_section

NAME = "bench-queue"
ENV = dict(os.environ, CONTAINERS_CONF=str(ROOT / "lab" / "containers.conf"), ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
           ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json", ANSIBLE_NOCOLOR="1")
SAMPLE = 2000
ACTIONS = {"delete": "-d", "hold": "-h", "requeue": "-r"}


def podman(*args, check=True, text=True):
    return subprocess.run(["podman", *args], env=ENV, capture_output=True, text=text, check=check)


def sh(script):
    return podman("exec", NAME, "bash", "-c", script).stdout


def start(suite):
    podman("rm", "-f", NAME, check=False)
    podman("run", "-d", "--name", NAME, "--network", "none", "--ulimit", "nofile=4096:4096", "--ulimit",
           "nproc=4096:4096", "--label", "io.postfix-remedy.bench=1", "localhost/postfix-lab:%s" % suite,
           "sleep", "infinity")
    podman("cp", str(ROOT / "tests" / "bench" / "queue_fill.py"), NAME + ":/usr/local/bin/queue_fill.py")
    sh("python3 /usr/local/bin/queue_fill.py templates")


def queue_counts():
    """Messages in the queue, and how many are bounces (MAILER-DAEMON)."""
    return json.loads(sh("postqueue -j | python3 -c 'import sys, json, collections; "
                         "c = collections.Counter(json.loads(l)[\"sender\"] for l in sys.stdin); "
                         "print(json.dumps(dict(total=sum(c.values()), bounces=c[\"MAILER-DAEMON\"])))'"))


def fill(n):
    t = time.perf_counter()
    sh("python3 /usr/local/bin/queue_fill.py fill %d" % n)
    counts = queue_counts()
    assert counts["total"] == n, counts
    return counts, time.perf_counter() - t


def ours(action):
    args = {"action": action, "sender": "MAILER-DAEMON", "confirm": True, "limit": 0,
            "backup_dir": "/var/backups/postfix-remedy/queue"}
    inventory = WORK / "bench-queue.ini"
    WORK.mkdir(parents=True, exist_ok=True)
    inventory.write_text("%s ansible_connection=containers.podman.podman ansible_python_interpreter=/usr/bin/python3\n"
                         % NAME)
    t = time.perf_counter()
    proc = subprocess.run([str(Path(sys.executable).parent / "ansible"), "all", "-i", str(inventory),
                           "-m", "postfix_queue", "-a", json.dumps(args)],
                          env=ENV, cwd=ROOT, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t
    out = json.loads(proc.stdout)
    res = out["plays"][0]["tasks"][0]["hosts"][NAME]
    if res.get("failed"):
        raise RuntimeError(res.get("msg"))
    return dict(wall=wall, module=res["elapsed"], rss_kb=res["peak_rss_kb"], selected=res.get("selected_count"),
                affected=res.get("affected"), total_after=res.get("total_after"), timings=res.get("timings") or {})


def seed(action, bounces):
    """The seed's pipeline, timed inside the container (no podman exec overhead)."""
    flag = ACTIONS[action]
    listing = int(sh("s=$(date +%s%N); mailq | grep MAILER-DAEMON | awk '{print $1}' > /tmp/ids; "
                     "e=$(date +%s%N); echo $((e - s))")) / 1e9
    ids = int(sh("wc -l < /tmp/ids"))
    sample = min(ids, SAMPLE) if bounces > 10000 else ids
    per = int(sh("s=$(date +%%s%%N); head -%d /tmp/ids | xargs -n1 postsuper %s >/dev/null 2>&1; "
                 "e=$(date +%%s%%N); echo $((e - s))" % (sample, flag))) / 1e9
    total = listing + per * ids / max(sample, 1)
    return dict(listing=listing, ids=ids, sample=sample, xargs=per, total=total, extrapolated=sample < ids)


def main(sizes, suite="bookworm"):
    start(suite)
    rows, mem = [], []
    try:
        for n in sizes:
            for action in ACTIONS:
                counts, fill_s = fill(n)
                mine = ours(action)
                if action == "delete":
                    after = queue_counts()
                    assert after == dict(total=n - counts["bounces"], bounces=0), (after, counts)
                    mem.append((n, mine["rss_kb"]))
                fill(n)
                base = seed(action, counts["bounces"])
                rows.append((n, action, counts["bounces"], mine, base))
                print(n, action, mine, base, flush=True)
    finally:
        podman("rm", "-f", NAME, check=False)
    lines = ["Queue in a lab container (Postfix of the %s image): N messages, 30 %% MAILER-DAEMON bounces, 5 %% held. "
             "Each row starts from a freshly filled, identical queue." % suite, "",
             "| N | action on the bounces | subset | postfix_queue via Ansible | module alone | seed pipeline | "
             "seed / module | seed / Ansible run |", "|---:|---|---:|---:|---:|---:|---:|---:|"]
    for n, action, subset, mine, base in rows:
        lines.append("| %d | %s | %d | %s | %s | %s%s | %.0fx | %.1fx |" % (
            n, action, subset, fmt_s(mine["wall"]), fmt_s(mine["module"]), fmt_s(base["total"]),
            " (extrapolated from %d calls)" % base["sample"] if base["extrapolated"] else "",
            base["total"] / mine["module"], base["total"] / mine["wall"]))
    lines += ["", "Where the module's time went (its `timings`: listing = `postqueue -j` read and selected; "
              "backup = the hard links kept before a delete; action = `postsuper`; recount = the queue files "
              "counted afterwards):", "",
              "| N | action | listing | backup | action | recount | other |", "|---:|---|---:|---:|---:|---:|---:|"]
    for n, action, _subset, mine, _base in rows:
        tm = mine["timings"]
        steps = [tm.get(k, 0.0) for k in ("listing", "backup", "action", "recount")]
        lines.append("| %d | %s | %s |" % (n, action, " | ".join(fmt_s(x) for x in steps + [max(0.0, mine["module"] - sum(steps))])))
    lines += ["", "Peak memory of the postfix_queue module process (delete): " +
              ", ".join("N=%d: %.1f MiB" % (n, kb / 1024) for n, kb in mem) + ".",
              "The seed's `mailq | awk '{print $1}'` prints held IDs with a trailing `!`, which postsuper "
              "refuses: its pipeline misses the held bounces; postfix_queue does not."]
    write_section("Queue operations", "make bench BENCH=queue", lines)
    return rows


if __name__ == "__main__":
    main([1000])
