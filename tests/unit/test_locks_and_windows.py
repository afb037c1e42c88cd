# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 19 on the host side: the run lock (postfix_lock) and the change window's helper
(roles/postfix_change_window/files/postfix-remedy-window.py), run as Ansible and the dead-man switch
run them."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import ROOT, run_direct

HELPER = ROOT / "roles" / "postfix_change_window" / "files" / "postfix-remedy-window.py"


def lock(tmp_path, **kw):
    args = dict(dict(path=str(tmp_path / "run.lock"), timeout=0), **kw)
    return run_direct("postfix_lock", args)[0]


def test_a_second_run_waits_then_fails_naming_the_holder(tmp_path):
    first = lock(tmp_path, holder="alice@laptop remediate.yml")
    assert first["changed"] and first["token"] and oct(os.stat(tmp_path / "run.lock").st_mode & 0o777) == "0o600"
    t = time.monotonic()
    second = lock(tmp_path, holder="bob@ci queue.yml", timeout=3)
    assert second["failed"] and time.monotonic() - t >= 3  # it waited
    assert "alice@laptop remediate.yml" in second["msg"] and "since" in second["msg"]
    # the holder may take it again with its token; a release without it is refused
    assert lock(tmp_path, token=first["token"])["changed"]
    assert lock(tmp_path, state="absent", token="not-mine")["changed"] is False
    assert lock(tmp_path, state="absent", token=first["token"])["changed"] is True
    assert not (tmp_path / "run.lock").exists()


def test_a_waiting_run_gets_the_lock_when_the_holder_releases_it(tmp_path):
    first = lock(tmp_path, holder="alice")
    timer = threading.Timer(2.0, lambda: lock(tmp_path, state="absent", token=first["token"]))
    timer.start()
    second = lock(tmp_path, holder="bob", timeout=30)
    timer.join()
    assert second["changed"] and second["lock"]["holder"] == "bob" and second["waited"] >= 1.5


def test_an_abandoned_lock_is_taken_over(tmp_path):
    path = tmp_path / "run.lock"
    path.write_text(json.dumps(dict(holder="ghost", token="t0", started="2026-01-01T00:00:00Z", expires=time.time() - 1)))
    got = lock(tmp_path, holder="alice")
    assert got["changed"] and got["took_over"]["holder"] == "ghost" and "lease ran out" in got["took_over"]["why"]
    # said as a warning on the host's result (no task of its own): "took over the lock of ghost: ..."
    assert any("took over the lock of ghost: its lease ran out" in str(w) for w in got["warnings"]), got["warnings"]
    # a holder whose SSH session ended (a pid that no longer exists) is gone before its lease runs out
    path.write_text(json.dumps(dict(holder="ghost2", token="t1", started="x", expires=time.time() + 3600,
                                    session=dict(pid=999999, start=1))))
    got = lock(tmp_path, holder="alice")
    assert got["changed"] and "SSH session" in got["took_over"]["why"]
    # an SSH session that exited but was never reaped (a zombie, as under `sleep infinity` as PID 1)
    zombie = subprocess.Popen(["true"])
    for _ in range(50):
        with open("/proc/%d/stat" % zombie.pid) as fh:
            stat = fh.read()
        if stat[stat.rindex(")") + 2] == "Z":
            break
        time.sleep(0.05)
    start = int(stat[stat.rindex(")") + 2:].split()[19])
    path.write_text(json.dumps(dict(holder="ghost3", token="t2", started="x", expires=time.time() + 3600,
                                    session=dict(pid=zombie.pid, start=start))))
    got = lock(tmp_path, holder="alice")
    zombie.wait()
    assert got["changed"] and "SSH session" in got["took_over"]["why"]
    # a file that is not in our format is not ours: refused, named and left alone (a lock in our
    # format with fields of the wrong type is taken over: tests/unit/test_lock_lease.py)
    path.write_text("{half")
    got = lock(tmp_path, holder="alice")
    assert got["failed"] and str(path) in got["msg"] and "not our format" in got["msg"], got
    assert path.read_text() == "{half"


def test_check_mode_writes_nothing(tmp_path):
    r = run_direct("postfix_lock", dict(path=str(tmp_path / "run.lock")), check=True)[0]
    assert r["changed"] is False and r["free"] is True and not (tmp_path / "run.lock").exists()


def test_two_runs_at_once_never_both_hold_it(tmp_path):
    results = []
    threads = [threading.Thread(target=lambda n=n: results.append(lock(tmp_path, holder="run%d" % n)))
               for n in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sum(1 for r in results if r.get("changed")) == 1, results


# ------------------------------------------------------------------ the window helper
def helper(marker, *args, env=None):
    e = dict(os.environ, POSTFIX_REMEDY_WINDOW_MARKER=str(marker), **(env or {}))
    p = subprocess.run([sys.executable, str(HELPER), *args], capture_output=True, text=True, env=e, timeout=60,
                       check=False)
    return json.loads(p.stdout.strip().splitlines()[-1]) if p.stdout.strip() else {"rc": p.returncode, "err": p.stderr}


def fake_postfix(tmp_path):
    """postconf/postfix stand-ins that log their argv (the helper's own logic is under test
    here; the lab scenario runs it against a real Postfix)."""
    bindir = tmp_path / "bin"
    bindir.mkdir(exist_ok=True)
    for name in ("postconf", "postfix", "logger", "systemctl"):
        if not (bindir / name).exists():  # a test may have put its own stand-in there
            (bindir / name).write_text("#!/bin/sh\necho \"%s $*\" >> %s\n" % (name, tmp_path / "calls"))
        (bindir / name).chmod(0o755)
    return bindir


def write_marker(path, **kw):
    now = time.time()
    data = dict(id="w1", opened_at="2026-11-29T00:00:00Z", deadline=now + 3600, deadline_iso="later",
                replaced={"soft_bounce": None, "debug_peer_list": "old.example"})
    data.update(kw)
    path.write_text(json.dumps(data))
    return data


def run_with_fake(tmp_path, marker, *args):
    bindir = fake_postfix(tmp_path)
    src = HELPER.read_text().replace('PATH = "/usr/sbin:/usr/bin:/sbin:/bin"', 'PATH = %r' % str(bindir))
    script = tmp_path / "postfix-remedy-window"
    script.write_text(src)
    e = dict(os.environ, POSTFIX_REMEDY_WINDOW_MARKER=str(marker))
    p = subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True, env=e, timeout=60,
                       check=False)
    return json.loads(p.stdout.strip().splitlines()[-1]), (tmp_path / "calls").read_text() if (
        tmp_path / "calls").exists() else ""


def test_close_puts_back_exactly_what_the_window_replaced(tmp_path):
    marker = tmp_path / "change-window.json"
    write_marker(marker)
    r, calls = run_with_fake(tmp_path, marker, "close", "--by", "controller")
    assert r["changed"] and r["record"]["closed_by"] == "controller"
    assert "postconf -X soft_bounce" in calls  # was not set before: removed again
    assert "postconf -e debug_peer_list=old.example" in calls  # was set: put back as it was
    assert calls.index("postfix check") < calls.index("postfix reload")
    assert not marker.exists() and json.loads((tmp_path / "change-window-closed.json").read_text())["id"] == "w1"
    # a later close is a no-op
    r, _ = run_with_fake(tmp_path, marker, "close")
    assert r == {"changed": False, "msg": "no change window is open"}


def test_a_window_that_had_soft_bounce_yes_before_keeps_it(tmp_path):
    marker = tmp_path / "change-window.json"
    write_marker(marker, replaced={"soft_bounce": "yes"})
    _r, calls = run_with_fake(tmp_path, marker, "close")
    assert "postconf -e soft_bounce=yes" in calls and "-X soft_bounce" not in calls


def test_the_deadline_close_waits_for_the_deadline_and_its_own_window(tmp_path):
    marker = tmp_path / "change-window.json"
    write_marker(marker)
    r, calls = run_with_fake(tmp_path, marker, "close", "--if-due", "--window-id", "w1", "--by", "deadline")
    assert r["changed"] is False and "due at" in r["msg"] and calls == ""
    r, _ = run_with_fake(tmp_path, marker, "close", "--window-id", "other", "--by", "deadline")
    assert r["changed"] is False and marker.exists()  # another window is never closed by this one's switch
    write_marker(marker, deadline=time.time() - 1)
    r, _ = run_with_fake(tmp_path, marker, "close", "--if-due", "--window-id", "w1", "--by", "deadline")
    assert r["changed"] and r["record"]["closed_by"] == "deadline" and not marker.exists()


def test_dry_run_changes_nothing(tmp_path):
    marker = tmp_path / "change-window.json"
    write_marker(marker)
    r, calls = run_with_fake(tmp_path, marker, "close", "--dry-run")
    assert r["changed"] and r["restore"]["debug_peer_list"] == "old.example" and calls == "" and marker.exists()


def test_the_watchdog_closes_the_window_at_its_deadline_on_its_own(tmp_path):
    """arm without systemd: a detached process (its own session) that closes the window when
    the deadline passes, with nobody else running."""
    marker = tmp_path / "change-window.json"
    write_marker(marker, deadline=time.time() + 3)
    if Path("/run/systemd/system").is_dir():
        pytest.skip("systemd runs here: arm would use a transient timer")
    r, _ = run_with_fake(tmp_path, marker, "arm")
    assert r["switch"]["kind"] == "watchdog"
    pid = r["switch"]["pid"]
    assert os.getsid(pid) == pid  # its own session: the end of an SSH session does not reach it
    for _ in range(100):
        if not marker.exists():
            break
        time.sleep(0.2)
    assert not marker.exists()
    record = json.loads((tmp_path / "change-window-closed.json").read_text())
    assert record["closed_by"] == "deadline" and record["restored"]["soft_bounce"] is None


def test_every_decision_is_made_under_the_guard_flock(tmp_path):
    """While another run holds the guard (deciding), this one waits for it instead of reading a
    lock file that is about to change: what makes two simultaneous runs safe."""
    import fcntl

    guard = os.open(str(tmp_path / "run.lock.guard"), os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(guard, fcntl.LOCK_EX)
    release = threading.Timer(6.0, lambda: os.close(guard))
    release.start()
    t = time.monotonic()
    got = lock(tmp_path, holder="late")
    elapsed = time.monotonic() - t
    release.join()
    assert got["changed"] and elapsed >= 5.8, "took the lock without waiting for the guard (%.1f s)" % elapsed
    assert "took_over" not in got  # there was no lock to take over


def test_open_saves_what_it_replaces_then_arms_and_keeps_a_window_already_open(tmp_path):
    bindir = fake_postfix(tmp_path)
    # main.cf sets soft_bounce = no and does not set debug_peer_list
    (bindir / "postconf").write_text('#!/bin/sh\necho "postconf $*" >> %s\n'
                                     'case "$*" in *-n*) echo "soft_bounce = no";; esac\n' % (tmp_path / "calls"))
    marker = tmp_path / "state" / "change-window.json"
    r, _ = run_with_fake(tmp_path, marker, "open", "--seconds", "3600", "--reason", "test", "--debug-peer", "mx.peer.example")
    data = json.loads(marker.read_text())
    assert r["changed"] and data["replaced"] == {"soft_bounce": "no", "debug_peer_list": None}
    assert data["deadline"] - time.time() > 3500 and data["switch"]["kind"] in ("watchdog", "systemd")
    assert oct(marker.stat().st_mode & 0o777) == "0o600" and oct(marker.parent.stat().st_mode & 0o777) == "0o700"
    first = data["id"]
    r, _ = run_with_fake(tmp_path, marker, "open", "--seconds", "60")
    assert r["changed"] is False and json.loads(marker.read_text())["id"] == first  # the first opening stays
    assert run_with_fake(tmp_path, marker, "open", "--seconds", "5")[0]["failed"]  # under 10 s: refused
    run_with_fake(tmp_path, marker, "close")  # stops the watchdog
