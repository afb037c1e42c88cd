# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""library/postfix_queue.py against a running Postfix instance with a real queue."""
from __future__ import annotations

import os
import subprocess
import time
from unittest import mock

import pytest
from conftest import _load, clone_deferred, needs_postfix, needs_root, queue_dir, queue_ids, run_module, send, sh

pytestmark = [needs_postfix, needs_root]


@pytest.fixture
def filled(postfix_instance):
    """4 deferred messages (3 to remote.test, 1 bounce-like from MAILER-DAEMON) and 1 held."""
    d = postfix_instance
    for i in range(3):
        send(d, f"alice{i}@lab.test", f"bob{i}@remote.test")
    send(d, "", "carol@partner.test")
    send(d, "dave@lab.test", "erin@remote.test", body="x" * 5000)
    ids = queue_ids(d)
    assert len(ids) == 5 and set(ids.values()) == {"deferred"}, ids
    big = [qid for qid, _ in ids.items() if "erin" in sh("postcat", "-c", str(d), "-q", qid).stdout]
    sh("postsuper", "-c", str(d), "-h", big[0])
    return d, queue_ids(d)


def q(d, **args):
    return run_module("postfix_queue", dict(args, config_dir=str(d)))


def test_list_counts_qshape_and_selection(filled):
    d, ids = filled
    res = q(d)
    assert res["counts"]["deferred"] == 4 and res["counts"]["hold"] == 1 and res["total_before"] == 5
    assert not res["changed"]
    shape = {row["domain"]: row["counts"] for row in res["qshape"]["domains"]}
    assert shape["remote.test"][0] == 3 and shape["partner.test"][0] == 1
    assert shape["remote.test"][1] == 3  # all younger than 5 minutes
    assert q(d, recipient="remote.test")["selected_count"] == 4
    assert q(d, recipient="@remote.test", queue=["deferred"])["selected_count"] == 3
    assert q(d, sender="MAILER-DAEMON")["selected_count"] == 1
    assert q(d, sender="/^alice[12]@/")["selected_count"] == 2
    assert q(d, min_size=4000)["selected_count"] == 1
    assert q(d, reason="simulated outage", queue=["deferred"])["selected_count"] == 4
    assert q(d, min_age="1h")["selected_count"] == 0
    one = next(iter(ids))
    assert q(d, ids=[one])["selected_ids"] == [one]


def test_hold_release_requeue_one_call_each(filled):
    d, ids = filled
    calls = []
    real_popen = subprocess.Popen

    def spy(args, *a, **kw):  # every command, run_command's and the streamed ones, starts here
        calls.append(list(args))
        return real_popen(args, *a, **kw)

    with mock.patch.object(subprocess, "Popen", spy):
        res = q(d, action="hold", recipient="remote.test", queue=["deferred"])
    assert res["changed"] and res["affected"] == 3, res
    postsuper = [c for c in calls if os.path.basename(c[0]) == "postsuper"]
    assert len(postsuper) == 1 and postsuper[0][1:] == ["-c", str(d), "-h", "-"], postsuper
    assert res["counts_after"]["hold"] == 4 and res["total_after"] == res["total_before"]
    again = q(d, action="hold", recipient="remote.test", queue=["deferred"])
    assert not again["changed"] and again["selected_count"] == 0
    rel = q(d, action="release")
    assert rel["affected"] == 5 or rel["counts_after"]["hold"] == 0
    assert rel["total_after"] == 5
    req = q(d, action="requeue", queue=["deferred"], sender="MAILER-DAEMON")
    assert req["affected"] == 1 and req["total_after"] == 5


def test_check_mode_lists_ids_and_changes_nothing(filled):
    d, ids = filled
    res = run_module("postfix_queue", {"config_dir": str(d), "action": "delete", "confirm": True,
                                       "recipient": "remote.test"}, check=True)
    assert res["changed"] and sorted(res["selected_ids"]) == sorted(i for i in ids if i in res["selected_ids"])
    assert len(res["selected_ids"]) == 4
    assert queue_ids(d) == ids


def test_delete_needs_confirm_and_keeps_a_copy(filled, tmp_path):
    d, ids = filled
    refused = q(d, action="delete", sender="MAILER-DAEMON")
    assert refused.get("failed") and "confirm" in refused["msg"]
    assert queue_ids(d) == ids
    listed = q(d)
    assert list(listed["timings"]) == ["start", "listing"]
    qid = next(i for i in ids if "MAILER-DAEMON" in sh("postcat", "-c", str(d), "-q", i).stdout or
               "sender: \n" in sh("postcat", "-c", str(d), "-q", i).stdout)
    original = next(queue_dir(d).rglob(qid)).read_bytes()
    res = q(d, action="delete", sender="MAILER-DAEMON", confirm=True, backup_dir=str(tmp_path))
    assert res["affected"] == 1 and res["total_after"] == 4 and res["backed_up"] == 1
    assert res["selected_ids"] == [qid] and qid not in queue_ids(d)
    # where the time went, step by step, in the order the steps ran (the copy before the delete)
    assert list(res["timings"]) == ["start", "listing", "backup", "action", "render", "recount"]
    assert all(t >= 0 for t in res["timings"].values()) and sum(res["timings"].values()) <= res["elapsed"] + 0.01
    kept = os.path.join(res["backup_dir"], f"{qid}.deferred.queuefile")
    # kept before the delete: the queue file's bytes (a hard link on the queue's filesystem, the
    # queue's own name gone now), readable renderings after it, in the background
    assert open(kept, "rb").read() == original and os.stat(kept).st_nlink == 1
    assert res["rendering"] == "background"
    done = os.path.join(res["backup_dir"], "rendered.done")
    for _ in range(300):
        if os.path.exists(done):
            break
        time.sleep(0.1)
    assert os.path.exists(done)
    assert "carol@partner.test" in open(os.path.join(res["backup_dir"], "messages-0000.txt")).read()


def test_delete_renders_in_the_foreground_when_asked(filled, tmp_path):
    d, ids = filled
    res = q(d, action="delete", sender="MAILER-DAEMON", confirm=True, backup_dir=str(tmp_path),
            render_copies="foreground")
    assert res["rendering"] == "done"
    assert "carol@partner.test" in open(os.path.join(res["backup_dir"], "messages-0000.txt")).read()


def test_selection_beyond_ids_limit_is_whole_and_listed_in_the_backup(filled, tmp_path):
    d, ids = filled
    res = q(d, action="delete", queue=["deferred"], confirm=True, ids_limit=2, limit=1, backup_dir=str(tmp_path))
    assert res["selected_count"] == 4 and len(res["selected_ids"]) == 2 and res["selected_ids_truncated"]
    assert len(res["messages"]) == 1
    assert res["affected"] == 4 and res["backed_up"] == 4 and res["total_after"] == 1
    listed = open(os.path.join(res["backup_dir"], "ids.txt")).read().split()
    assert sorted(listed) == sorted(i for i, queue in ids.items() if queue == "deferred")
    assert all(f"{i}.deferred.queuefile" in os.listdir(res["backup_dir"]) for i in listed)
    assert set(queue_ids(d)) == {i for i, queue in ids.items() if queue == "hold"}


def test_disk_full_during_backup_deletes_nothing(filled, tmp_path):
    """A real ENOSPC: backup_dir on a 16 KiB tmpfs cannot hold four queue files and postcat text."""
    d, ids = filled
    small = tmp_path / "small"
    small.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16k", "tmpfs", str(small)], check=False).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        (small / "filler").write_bytes(b"x" * 12000)
        res = q(d, action="delete", queue=["deferred"], confirm=True, backup_dir=str(small))
        assert res.get("failed") and "nothing was deleted" in res["msg"] and "No space" in res["msg"], res
        assert queue_ids(d) == ids
    finally:
        subprocess.run(["umount", str(small)], check=False)


def test_corrupt_files_are_quarantined(filled, tmp_path):
    d, ids = filled
    qdir = queue_dir(d) / "corrupt"
    (qdir / "ABCDEF1234").write_bytes(b"\x00garbage")
    assert q(d)["counts"]["corrupt"] == 1
    hold = q(d, action="hold", queue=["corrupt"])
    assert hold.get("failed")
    res = q(d, action="delete", queue=["corrupt"], confirm=True, backup_dir=str(tmp_path))
    assert res["quarantined"] == 1 and not (qdir / "ABCDEF1234").exists()
    assert (open(os.path.join(res["backup_dir"], "ABCDEF1234.corrupt"), "rb").read()) == b"\x00garbage"
    assert res["counts_after"]["deferred"] == 4


@pytest.mark.parametrize("args, message", [
    ({"ids": ["ABC; rm -rf /"]}, "invalid queue ID"),
    ({"ids": ["../../etc/passwd"]}, "invalid queue ID"),
    ({"sender": "/(unclosed/"}, "invalid regex"),
    ({"sender": "a" * 600}, "too long"),
    ({"min_age": "yesterday"}, "invalid age"),
    ({"action": "flush", "site": "example.org; reboot"}, "site"),
    ({"qshape_queues": ["bogus"]}, "unknown queue"),
])
def test_hostile_input_is_refused(filled, args, message):
    d, ids = filled
    res = q(d, **args)
    assert res.get("failed") and message in res["msg"], res
    assert queue_ids(d) == ids


def test_flush_when_postfix_is_stopped(filled):
    d, ids = filled
    sh("postfix", "-c", str(d), "stop")
    listed = q(d)
    assert listed["total_before"] == 5  # postqueue reads the queue directly
    res = q(d, action="flush")
    assert res.get("failed") and "not running" in res["msg"]
    assert queue_ids(d, wait_settled=False) == ids


def test_flush_selected_and_all(filled):
    d, ids = filled
    res = q(d, action="flush", recipient="partner.test")
    assert res["changed"] and res["flush_calls"] == 1 and res["command"][1:3] in (["-c", str(d)],)
    res = q(d, action="flush")
    assert res["changed"] and res["command"][-1] == "-f"
    assert sum(q(d)["counts"].values()) == 5  # still deferred by the retry transport, nothing lost


@needs_root
def test_no_half_action_while_postfix_is_down(filled):
    """With maillog_file set, postsuper dies after the first ID when postlogd is not running
    (seen on Postfix 3.7): the module must refuse before touching anything."""
    d, ids = filled
    before = queue_ids(d)
    sh("postfix", "-c", str(d), "stop")
    res = q(d, action="hold", queue=["deferred"])
    assert res.get("failed") and "start Postfix first" in res["msg"]
    assert {k: v for k, v in queue_ids(d, wait_settled=False).items()} == before


def test_large_selection_goes_through_one_postsuper_without_deadlock(filled):
    """20,000 selected IDs (about 280 KB on postsuper's stdin): fed from a pipe, postsuper fills its
    stderr while we still write its stdin and both wait forever (seen in the 100,000 benchmark)."""
    import signal

    d, ids = filled
    n = 20000
    clone_deferred(d, n)

    def hung(*_a):
        raise TimeoutError("postfix_queue hung on a large selection")

    old = signal.signal(signal.SIGALRM, hung)
    signal.alarm(180)
    try:
        res = q(d, action="hold", queue=["deferred"])
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    assert res.get("affected") == n + 4 and res["selected_count"] == n + 4, {k: res.get(k) for k in ("msg", "failed")}
    assert res["counts_after"]["hold"] == n + 5 and res["total_after"] == res["total_before"]


def test_postsuper_on_every_cpu_acts_on_each_message_once(filled, monkeypatch):
    """Many IDs are dealt out to one postsuper per CPU (disjoint parts): every selected message
    is held exactly once and the summaries of all parts add up."""
    d, ids = filled
    mod = _load("postfix_queue")
    monkeypatch.setattr(mod, "POSTSUPER_PART_MIN", 1)
    monkeypatch.setattr(mod, "_cpus", lambda: 3)
    res = run_module("postfix_queue", dict(config_dir=str(d), action="hold", queue=["deferred"]), module=mod)
    assert res["affected"] == 4 and res["counts_after"]["hold"] == 5 and res["counts_after"]["deferred"] == 0, res


def test_delete_finds_hashed_and_flat_queue_files(filled, tmp_path):
    """The backup looks where hash_queue_names / hash_queue_depth put a file (deferred is hashed,
    hold is flat by default) and falls back to the walk for a file elsewhere."""
    d, ids = filled
    res = q(d, action="delete", queue=["deferred", "hold"], confirm=True, backup_dir=str(tmp_path), render_copies="no")
    assert res["backed_up"] == 5 and res["affected"] == 5 and res["total_after"] == 0
    kept = sorted(f for f in os.listdir(res["backup_dir"]) if f.endswith(".queuefile"))
    assert kept == sorted("%s.%s.queuefile" % (i, queue) for i, queue in ids.items())
