# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A queue action killed in the middle (SIGKILL to the module and its postsuper, the worst a
closed laptop or a killed AWX job can do) leaves the queue consistent and loses no mail:
every message is still queued (in its old or its new place) or, for a delete, saved in the
backup. Running the action again finishes the job."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT, clone_deferred, needs_postfix, needs_root, queue_dir, queue_ids, run_module, send, sh

pytestmark = [needs_postfix, needs_root]
N = 6000
RUNNER = """
import json, sys
sys.path.insert(0, %r)
from conftest import run_module
print(json.dumps(run_module("postfix_queue", json.loads(sys.argv[1])), default=str))
""" % str(ROOT / "tests" / "unit")


def files_by_queue(conf):
    """{queue_id: [queue names holding a file of that name]} straight from the spool."""
    out = {}
    for q in ("maildrop", "incoming", "active", "deferred", "hold", "corrupt"):
        for _root, _dirs, files in os.walk(queue_dir(conf) / q):
            for f in files:
                out.setdefault(f, []).append(q)
    return out


def _group_running(pgid):
    """True while a process of group pgid runs (zombies excluded), from /proc."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue  # ended while we looked
        if len(fields) > 2 and fields[2] == str(pgid) and fields[0] != "Z":
            return True
    return False


def start_and_kill(args, when, timeout=120):
    """Run postfix_queue in its own process group; SIGKILL the group once when() is true, and
    return once no process of it runs: a postsuper that the signal has not reached yet can still
    rename a file, and a spool walked meanwhile would show that message in two queues."""
    proc = subprocess.Popen([sys.executable, "-c", RUNNER, json.dumps(args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + timeout
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            if when():
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                settle = time.monotonic() + 10
                while _group_running(proc.pid) and time.monotonic() < settle:
                    time.sleep(0.01)
                return True
            time.sleep(0.005)
        return False  # finished before the moment came: the caller says so
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


@pytest.fixture
def big_queue(postfix_instance):
    d = postfix_instance
    send(d, "alice@lab.test", "bob@remote.test")
    queue_ids(d)
    ids = set(clone_deferred(d, N)) | set(queue_ids(d))
    assert len(ids) == N + 1
    return d, ids


def test_hold_killed_midway_loses_nothing_and_finishes_on_rerun(big_queue):
    d, ids = big_queue
    hold = queue_dir(d) / "hold"
    killed = start_and_kill({"config_dir": str(d), "action": "hold", "queue": ["deferred"]},
                            lambda: sum(len(f) for _r, _d, f in os.walk(hold)) > 50)
    if not killed:
        pytest.skip("the hold finished before it could be interrupted")
    where = files_by_queue(d)
    assert set(where) == ids and all(len(v) == 1 for v in where.values())  # each message once
    placed = {v[0] for v in where.values()}
    assert placed == {"deferred", "hold"}, placed  # really interrupted half way
    listed = queue_ids(d, wait_settled=False)
    assert set(listed) == ids  # postqueue reads every file: nothing half-written
    again = run_module("postfix_queue", {"config_dir": str(d), "action": "hold", "queue": ["deferred"]})
    assert again["total_after"] == N + 1 and again["counts_after"]["hold"] == N + 1


def test_delete_killed_midway_keeps_every_message_queued_or_saved(big_queue, tmp_path):
    d, ids = big_queue
    backups = tmp_path / "backups"

    def deleting():
        return len(files_by_queue(d)) < len(ids) - 50

    killed = start_and_kill({"config_dir": str(d), "action": "delete", "queue": ["deferred"], "confirm": True,
                             "backup_dir": str(backups)}, deleting)
    if not killed:
        pytest.skip("the delete finished before it could be interrupted")
    queued = set(files_by_queue(d))
    saved = {p.name.split(".")[0] for p in Path(backups).rglob("*.queuefile")}
    assert queued < ids and ids - queued <= saved, "lost: %s" % sorted(ids - queued - saved)[:5]
    assert set(queue_ids(d, wait_settled=False)) == queued
    again = run_module("postfix_queue", {"config_dir": str(d), "action": "delete", "queue": ["deferred"],
                                         "confirm": True, "backup_dir": str(backups)})
    assert again["total_after"] == 0 and again["backed_up"] == len(queued)
    saved = {p.name.split(".")[0] for p in Path(backups).rglob("*.queuefile")}
    assert saved == ids
    assert sh("postsuper", "-c", str(d), "-s").returncode == 0
