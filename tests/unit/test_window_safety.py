# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 30 item 3: the change window's host-side helper
(roles/postfix_change_window/files/postfix-remedy-window.py) and the diagnosis's reading of its
marker, run for real against scratch Postfix config directories with the real postconf/postfix:
its own files are never followed, one window per instance, a failed close keeps the window and
is retried, a damaged marker is reported and never trusted, the deadline is capped, and no
control character reaches main.cf."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from ansible.module_utils.diagnose_rules import instance_marker, window_problem
from conftest import ROOT, needs_postfix, needs_root, run_module, sh, write_main_cf

HELPER = ROOT / "roles" / "postfix_change_window" / "files" / "postfix-remedy-window.py"
pytestmark = [needs_postfix]


# ------------------------------------------------------------------ helpers
@pytest.fixture
def state(tmp_path):
    """The helper's state directory; watchdogs the test started are stopped afterwards."""
    d = tmp_path / "state"
    yield d
    for path in d.glob("*.json") if d.is_dir() and not d.is_symlink() else ():
        try:
            STARTED.append(json.loads(path.read_text())["switch"]["pid"])
        except (OSError, ValueError, TypeError, KeyError):
            pass
    for pid in STARTED:
        try:
            with open("/proc/%d/cmdline" % pid, "rb") as fh:
                if b"postfix-remedy-window" in fh.read():
                    os.kill(pid, signal.SIGTERM)
        except OSError:
            pass
    STARTED.clear()


STARTED: list[int] = []


def helper(base, *args, script=HELPER, marker_env=None):
    """Run the helper as the role and the switch do; its answer is always one JSON object."""
    env = dict(os.environ, POSTFIX_REMEDY_WINDOW_MARKER=str(marker_env or base))
    p = subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True, env=env, timeout=60,
                       check=False)
    assert "Traceback" not in p.stderr, p.stderr
    lines = p.stdout.strip().splitlines()
    assert len(lines) == 1, (p.returncode, p.stdout, p.stderr)
    r = json.loads(lines[0])
    assert p.returncode == (1 if r.get("failed") else 0), (p.returncode, r)
    sw = r.get("switch") or (r.get("marker") or {}).get("switch") or {}
    if sw.get("kind") == "watchdog":
        STARTED.append(sw["pid"])
    return r


def marker_of(base, conf):
    return Path(instance_marker(str(base), str(conf) if conf else None))


def record_of(marker):
    return marker.with_name(marker.stem + "-closed" + marker.suffix)


def explicit(conf, name):
    return sh("postconf", "-c", str(conf), "-n", name).stdout.strip()


def set_cf(conf, *settings):
    sh("postconf", "-c", str(conf), "-e", *settings)


def diagnose(conf, base, tmp_path):
    res = run_module("postfix_diagnose", dict(
        config_dir=str(conf), checks=["config"], change_window_marker=str(base), dns_records=False,
        state_file=str(tmp_path / "scan" / "s.json"), fix_ledger=str(tmp_path / "scan" / "l.json"),
        log_paths=[str(tmp_path / "no.log")]))
    assert not res.get("failed"), res.get("msg")
    return {f["id"]: f for f in res["findings"]}


def second_instance(postfix_dir, tmp_path):
    """Another scratch instance (a postmulti host's second config_dir)."""
    root = tmp_path / "pf2"
    sh("cp", "-a", str(postfix_dir.parent), str(root))
    write_main_cf(root / "etc")
    return root / "etc"


def wait_for(cond, seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.2)
    return cond()


def window(**kw):
    data = dict(id="w1", opened_at="2026-11-29T00:00:00Z", deadline=time.time() + 3600, deadline_iso="later",
                reason="test", replaced={"soft_bounce": None})
    data.update(kw)
    return data


# ------------------------------------------------------------------ 1. never followed
def test_the_helper_never_follows_a_path_that_is_not_its_own(postfix_dir, state, tmp_path):
    conf, base = postfix_dir, state / "change-window.json"
    marker = marker_of(base, conf)
    record = record_of(marker)
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    state.mkdir(mode=0o700)
    os.symlink(victim, str(marker) + ".tmp")  # the temporary name the helper used to write through
    r = helper(base, "open", "--seconds", "600", "--config-dir", str(conf))
    assert r["changed"] and victim.read_text() == "precious\n"
    assert marker.is_file() and not marker.is_symlink() and oct(marker.stat().st_mode & 0o777) == "0o600"
    # a symlink where the closed record goes: refused and named before anything is restored
    set_cf(conf, "soft_bounce=yes")
    os.symlink(victim, record)
    main_cf = (conf / "main.cf").read_bytes()
    r = helper(base, "close", "--config-dir", str(conf))
    assert r["failed"] and str(record) in r["msg"] and "symlink" in r["msg"], r
    assert victim.read_text() == "precious\n" and (conf / "main.cf").read_bytes() == main_cf and marker.exists()
    record.unlink()
    r = helper(base, "close", "--config-dir", str(conf))
    assert r["record"]["result"] == "closed" and not marker.exists() and explicit(conf, "soft_bounce") == ""
    main_cf = (conf / "main.cf").read_bytes()
    # the marker itself: a symlink, a directory, a FIFO, a hard link - every command refuses it
    for kind, make in (("a symlink", lambda: os.symlink(victim, marker)), ("a directory", lambda: marker.mkdir()),
                       ("not a regular file", lambda: os.mkfifo(marker)), ("a hard link", lambda: os.link(victim, marker))):
        make()
        for args in (("status",), ("close",), ("arm",), ("open", "--seconds", "600")):
            r = helper(base, *args, "--config-dir", str(conf))
            assert r["failed"] and str(marker) in r["msg"] and kind in r["msg"] and "refused" in r["msg"], (kind, r)
        assert victim.read_text() == "precious\n" and (conf / "main.cf").read_bytes() == main_cf
        marker.rmdir() if kind == "a directory" else marker.unlink()
    # a state directory that is a symlink: nothing is created through it
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    os.symlink(elsewhere, tmp_path / "linked")
    r = helper(tmp_path / "linked" / "change-window.json", "open", "--seconds", "600", "--config-dir", str(conf))
    assert r["failed"] and "symlink or not a directory" in r["msg"] and os.listdir(elsewhere) == []
    assert (conf / "main.cf").read_bytes() == main_cf


# ------------------------------------------------------------------ 2. one window per instance
def test_each_instance_has_its_own_window_diagnosis_and_switch(postfix_dir, state, tmp_path):
    a, b, base = postfix_dir, second_instance(postfix_dir, tmp_path), state / "change-window.json"
    ra = helper(base, "open", "--seconds", "600", "--config-dir", str(a))
    set_cf(a, "soft_bounce=yes")  # what the role does once the window is open
    rb = helper(base, "open", "--seconds", "12", "--config-dir", str(b), "--debug-peer", "192.0.2.9")
    set_cf(b, "soft_bounce=yes", "debug_peer_list=192.0.2.9")
    assert ra["changed"] and rb["changed"], rb  # not "already open": its own window
    ma, mb = marker_of(base, a), marker_of(base, b)
    assert ma != mb and ma.exists() and mb.exists() and not base.exists()
    assert json.loads(ma.read_text())["config_dir"] == str(a) and json.loads(mb.read_text())["config_dir"] == str(b)
    assert ra["switch"]["pid"] != rb["switch"]["pid"]
    # each diagnosis finds its own window: soft_bounce and debug are intended on both
    for conf in (a, b):
        found = diagnose(conf, base, tmp_path)
        assert not {"config.soft_bounce_on", "config.debug_left_on", "config.change_window_expired"} & set(found)
    # closing one leaves the other open, values and switch
    r = helper(base, "close", "--config-dir", str(a))
    assert r["record"]["result"] == "closed" and not ma.exists() and explicit(a, "soft_bounce") == ""
    assert mb.exists() and explicit(b, "soft_bounce") == "soft_bounce = yes"
    assert json.loads(record_of(ma).read_text())["id"] == ra["marker"]["id"]
    # b's watchdog closes b's window at its deadline, with b's marker and b's values
    assert wait_for(lambda: not mb.exists(), 30), "b's switch did not close b's window"
    rec = json.loads(record_of(mb).read_text())
    assert rec["closed_by"] == "deadline" and rec["id"] == rb["marker"]["id"]
    assert explicit(b, "soft_bounce") == "" and explicit(b, "debug_peer_list") == ""
    # a marker at the default instance's name that holds another instance's window (what the
    # helper used to leave): the default instance does not join it
    base.write_text(json.dumps(window(config_dir=str(b))))
    r = helper(base, "open", "--seconds", "600")
    assert r["failed"] and "holds the window of %s" % b in r["msg"], r


# ------------------------------------------------------------------ 3. a failed close keeps the window
def chattr(flag, path):
    return subprocess.run(["chattr", flag, str(path)], capture_output=True, check=False).returncode == 0


@needs_root
def test_a_failed_close_keeps_the_window_reports_it_and_a_retry_closes_it(postfix_dir, state, tmp_path):
    conf, base = postfix_dir, state / "change-window.json"
    marker = marker_of(base, conf)
    wid = helper(base, "open", "--seconds", "600", "--config-dir", str(conf))["marker"]["id"]
    set_cf(conf, "soft_bounce=yes")
    if not chattr("+i", conf / "main.cf"):
        pytest.skip("chattr +i does not work on this file system")
    try:
        r = helper(base, "close", "--config-dir", str(conf))
        assert r["failed"] and "NOT closed (attempt 1)" in r["msg"] and "tries again" in r["msg"], r
        kept = json.loads(marker.read_text())
        assert kept["id"] == wid and kept["close_failed"]["attempts"] == 1
        assert "postconf" in kept["close_failed"]["last_error"] and "not permitted" in kept["close_failed"]["last_error"]
        rec = json.loads(record_of(marker).read_text())
        assert rec["result"] == "close failed" and rec["not_restored"] == {"soft_bounce": None} and rec["restored"] == {}
        assert "closed_by" not in rec  # never recorded as restored
        assert helper(base, "close", "--config-dir", str(conf))["record"]["attempts"] == 2  # a retry still sees it
        found = diagnose(conf, base, tmp_path)
        f = found["config.change_window_expired"]
        assert "could not be closed (2 attempt(s)" in f["summary"] and f["evidence"]["close_failed"]["attempts"] == 2
        assert f["fix"]["can_fix"] and found["config.soft_bounce_on"]["root_cause"] == "config.change_window_expired"
    finally:
        chattr("-i", conf / "main.cf")
    r = helper(base, "close", "--config-dir", str(conf))
    assert r["changed"] and r["record"]["result"] == "closed" and r["record"]["attempts"] == 3, r
    assert not marker.exists() and explicit(conf, "soft_bounce") == ""
    # the config directory moved away: same story
    helper(base, "open", "--seconds", "600", "--config-dir", str(conf))
    set_cf(conf, "soft_bounce=yes")
    conf.rename(conf.with_name("moved"))
    try:
        r = helper(base, "close", "--config-dir", str(conf))
        assert r["failed"] and "NOT closed" in r["msg"] and marker.exists()
    finally:
        conf.with_name("moved").rename(conf)
    assert helper(base, "close", "--config-dir", str(conf))["record"]["result"] == "closed"
    assert explicit(conf, "soft_bounce") == ""


def test_the_watchdog_keeps_trying_until_the_close_succeeds(postfix_dir, state, tmp_path):
    conf, base = postfix_dir, state / "change-window.json"
    marker = marker_of(base, conf)
    script = tmp_path / "postfix-remedy-window"
    src = HELPER.read_text()
    assert "RETRY = 60  #" in src
    script.write_text(src.replace("RETRY = 60  #", "RETRY = 1  #"))  # the same code, a test-sized interval
    state.mkdir(mode=0o700)
    marker.write_text(json.dumps(window(deadline=time.time() + 1, config_dir=str(conf))))
    set_cf(conf, "soft_bounce=yes")
    moved = conf.with_name("moved")
    conf.rename(moved)
    try:
        assert helper(base, "arm", "--config-dir", str(conf), script=script)["switch"]["kind"] == "watchdog"

        def attempts():
            return (json.loads(marker.read_text()).get("close_failed") or {}).get("attempts", 0)
        assert wait_for(lambda: attempts() >= 2, 20), "the watchdog gave up after a failed close"
    finally:
        moved.rename(conf)
    assert wait_for(lambda: not marker.exists(), 20), "the watchdog never closed the window"
    rec = json.loads(record_of(marker).read_text())
    assert rec["result"] == "closed" and rec["closed_by"] == "deadline" and rec["attempts"] >= 3
    assert explicit(conf, "soft_bounce") == ""


def test_the_systemd_path_arms_a_new_timer_after_a_failed_close(postfix_dir, state, tmp_path):
    """systemd does not run here: systemd-run and systemctl are stand-ins that log their argv (the
    one thing mocked); postconf and postfix are the real ones."""
    conf, base = postfix_dir, state / "change-window.json"
    marker = marker_of(base, conf)
    bindir, calls = tmp_path / "bin", tmp_path / "calls"
    bindir.mkdir()
    for name in ("systemd-run", "systemctl"):
        (bindir / name).write_text('#!/bin/sh\necho "%s $*" >> %s\n' % (name, calls))
        (bindir / name).chmod(0o755)
    (tmp_path / "systemd").mkdir()
    src = HELPER.read_text()
    assert '"/run/systemd/system"' in src and 'PATH = "/usr/sbin' in src
    script = tmp_path / "postfix-remedy-window"
    script.write_text(src.replace('"/run/systemd/system"', repr(str(tmp_path / "systemd")))
                      .replace('PATH = "/usr/sbin', 'PATH = "%s:/usr/sbin' % bindir))
    state.mkdir(mode=0o700)
    marker.write_text(json.dumps(window(id="w7", config_dir=str(conf),
                                        switch=dict(kind="systemd", unit="postfix-remedy-window-w7"))))
    set_cf(conf, "soft_bounce=yes")
    conf.rename(conf.with_name("moved"))
    try:
        r = helper(base, "close", "--config-dir", str(conf), script=script)
        assert r["failed"] and "NOT closed" in r["msg"]
        log = calls.read_text()
        assert "systemctl stop postfix-remedy-window-w7.timer" in log  # the deadline's timer
        assert "systemd-run --unit=postfix-remedy-window-w7-retry1 --on-active=60s" in log
        assert "--setenv=POSTFIX_REMEDY_WINDOW_MARKER=%s" % marker in log
        assert log.rstrip().endswith("close --if-due --window-id w7 --by deadline")
        assert json.loads(marker.read_text())["switch"] == dict(kind="systemd", unit="postfix-remedy-window-w7-retry1")
        # what that timer runs (marker from its environment, before the deadline): fails, arms the next
        r = helper(base, "close", "--if-due", "--window-id", "w7", "--by", "deadline", script=script, marker_env=marker)
        assert r["failed"] and r["record"]["attempts"] == 2
        assert "systemd-run --unit=postfix-remedy-window-w7-retry2" in calls.read_text()
    finally:
        conf.with_name("moved").rename(conf)
    r = helper(base, "close", "--if-due", "--window-id", "w7", "--by", "deadline", script=script, marker_env=marker)
    assert r["record"]["result"] == "closed" and r["record"]["closed_by"] == "deadline" and not marker.exists()
    assert explicit(conf, "soft_bounce") == ""


def test_a_switch_firing_just_before_the_deadline_still_closes(postfix_dir, state):
    """A systemd timer armed with the remaining whole seconds can fire a fraction of a second
    early; it fires once, so "not due yet" would leave the window open."""
    conf, base = postfix_dir, state / "change-window.json"
    marker = marker_of(base, conf)
    state.mkdir(mode=0o700)
    set_cf(conf, "soft_bounce=yes")
    marker.write_text(json.dumps(window(config_dir=str(conf), deadline=time.time() + 60)))
    r = helper(marker, "close", "--if-due", "--window-id", "w1", "--by", "deadline")
    assert r["changed"] is False and "due at" in r["msg"] and marker.exists()
    marker.write_text(json.dumps(window(config_dir=str(conf), deadline=time.time() + 3)))
    r = helper(marker, "close", "--if-due", "--window-id", "w1", "--by", "deadline")
    assert r["record"]["result"] == "closed" and not marker.exists() and explicit(conf, "soft_bounce") == ""


# ------------------------------------------------------------------ 4. a damaged marker
DAMAGED = {
    "truncated": b'{"id": "w1", "dead',
    "a JSON list": b"[1, 2]",
    "a string deadline": json.dumps(window(deadline="tomorrow")).encode(),
    "a NaN deadline": b'{"id": "w1", "deadline": NaN, "replaced": {"soft_bounce": null}}',
    "a deadline in year 275817": json.dumps(window(deadline=8641796472060.0)).encode(),
    "no deadline (from before deadlines)": b'{"opened_at": "2020-01-01T00:00:00Z", "reason": "remediation"}',
    "a parameter no window replaces": json.dumps(window(replaced={"soft_bounce": None, "mynetworks": "0/0"})).encode(),
    "a switch that is not ours": json.dumps(window(switch=dict(kind="systemd", unit="sshd"))).encode(),
    "not UTF-8": b'{"id": "w1\xff"}',
}


@pytest.mark.parametrize("name", sorted(DAMAGED))
def test_a_damaged_marker_is_a_finding_and_hides_nothing(postfix_dir, state, tmp_path, name):
    conf, base = postfix_dir, state / "change-window.json"
    marker = marker_of(base, conf)
    state.mkdir(mode=0o700)
    marker.write_bytes(DAMAGED[name])
    set_cf(conf, "soft_bounce=yes", "debug_peer_list=192.0.2.9")
    main_cf = (conf / "main.cf").read_bytes()
    for args in (("status",), ("close",), ("close", "--if-due", "--by", "deadline"), ("arm",), ("open", "--seconds", "600")):
        r = helper(base, *args, "--config-dir", str(conf))
        assert r["failed"] and "%s is damaged" % marker in r["msg"] and "by hand" in r["msg"], (args, r)
    # the watchdog stops with a log line, not a traceback
    p = subprocess.run([sys.executable, str(HELPER), "wait", "w1"], capture_output=True, text=True, timeout=30,
                       env=dict(os.environ, POSTFIX_REMEDY_WINDOW_MARKER=str(marker)), check=False)
    assert p.returncode == 1 and p.stderr == "" and p.stdout == ""
    assert marker.read_bytes() == DAMAGED[name] and (conf / "main.cf").read_bytes() == main_cf
    # the diagnosis: the marker is a finding it cannot fix, and explains nothing
    found = diagnose(conf, base, tmp_path)
    f = found["config.change_window_expired"]
    assert f["evidence"]["damaged"] and "damaged" in f["summary"] and f["fix"]["can_fix"] is False, f
    for fid in ("config.soft_bounce_on", "config.debug_left_on"):
        assert found[fid]["fix"]["can_fix"] and "root_cause" not in found[fid], found[fid]
    # the diagnosis and the helper judge markers by the same rule
    try:
        parsed = json.loads(DAMAGED[name])
    except ValueError:
        return
    assert window_problem(parsed)


def test_a_marker_that_is_a_symlink_is_a_finding(postfix_dir, state, tmp_path):
    conf, base = postfix_dir, state / "change-window.json"
    state.mkdir(mode=0o700)
    good = tmp_path / "good.json"
    good.write_text(json.dumps(window(config_dir=str(conf))))
    os.symlink(good, marker_of(base, conf))
    set_cf(conf, "soft_bounce=yes")
    found = diagnose(conf, base, tmp_path)
    assert "symlink" in found["config.change_window_expired"]["evidence"]["damaged"]
    assert "root_cause" not in found["config.soft_bounce_on"]


def test_the_diagnosis_and_the_helper_accept_the_same_valid_window(postfix_dir, state, tmp_path):
    conf, base = postfix_dir, state / "change-window.json"
    r = helper(base, "open", "--seconds", "600", "--config-dir", str(conf), "--debug-peer", "192.0.2.9")
    written = json.loads(marker_of(base, conf).read_text())
    assert window_problem(written) is None and helper(base, "status", "--config-dir", str(conf))["marker"]["id"] == \
        r["marker"]["id"]
    helper(base, "close", "--config-dir", str(conf))


# ------------------------------------------------------------------ 5. the deadline is capped
def test_the_helper_caps_the_deadline(postfix_dir, state, tmp_path):
    conf, base = postfix_dir, state / "change-window.json"
    main_cf = (conf / "main.cf").read_bytes()
    for seconds, extra in (("8639999913600", ()), ("86401", ()), ("7200", ("--max-seconds", "3600")), ("9", ())):
        r = helper(base, "open", "--seconds", seconds, "--config-dir", str(conf), *extra)
        assert r["failed"] and "--seconds N between 10 and" in r["msg"] and seconds in r["msg"], r
    assert not state.exists() and (conf / "main.cf").read_bytes() == main_cf
    r = helper(base, "open", "--seconds", "90000", "--max-seconds", "172800", "--config-dir", str(conf))
    assert r["changed"] and 89990 < r["marker"]["deadline"] - time.time() <= 90000
    helper(base, "close", "--config-dir", str(conf))


ROLE_PLAY = """
- hosts: localhost
  gather_facts: false
  roles:
    - role: postfix_change_window
"""


def role(tmp_path, conf, marker, *extra):
    play = tmp_path / "play.yml"
    play.write_text(ROLE_PLAY)
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_ROLES_PATH=str(ROOT / "roles"))
    argv = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,", "-c", "local",
            "-e", "ansible_python_interpreter=%s" % sys.executable, "-e", "postfix_diagnose_config_dir=%s" % conf,
            "-e", "postfix_change_window_marker=%s" % marker, str(play), *extra]
    p = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300, check=False)
    return p.returncode, p.stdout + p.stderr


def test_the_role_refuses_a_deadline_past_its_cap_before_anything_changes(postfix_dir, state, tmp_path):
    conf, base = postfix_dir, state / "change-window.json"
    installed = Path("/usr/local/sbin/postfix-remedy-window")
    before = installed.read_bytes() if installed.exists() else None
    main_cf = (conf / "main.cf").read_bytes()
    for deadline, extra in (("99999999d", ()), ("25h", ()), ("2h", ("-e", "postfix_change_window_max_seconds=3600"))):
        rc, out = role(tmp_path, conf, base, "-e", "postfix_change_window_deadline=%s" % deadline, *extra)
        assert rc != 0 and "at most postfix_change_window_max_seconds" in out and "not %s" % deadline in out, out
        assert "changed=0" in out
    # within the cap it passes the check (in check mode: nothing is written)
    rc, out = role(tmp_path, conf, base, "--check", "-e", "postfix_change_window_deadline=23h")
    assert rc == 0 and "failed=0" in out, out
    assert (conf / "main.cf").read_bytes() == main_cf and not state.exists()
    assert (installed.read_bytes() if installed.exists() else None) == before


# ------------------------------------------------------------------ 6. control characters
@pytest.mark.parametrize("char", ["\r", "\n", "\x00"], ids=["CR", "LF", "NUL"])
def test_a_stored_value_with_a_control_character_never_reaches_main_cf(postfix_dir, state, tmp_path, char):
    conf, base = postfix_dir, state / "change-window.json"
    marker = marker_of(base, conf)
    state.mkdir(mode=0o700)
    evil = "old.example%smynetworks = 0.0.0.0/0" % char
    marker.write_text(json.dumps(window(config_dir=str(conf), replaced={"soft_bounce": None, "debug_peer_list": evil})))
    set_cf(conf, "soft_bounce=yes", "debug_peer_list=192.0.2.9")
    assert helper(base, "close", "--dry-run", "--config-dir", str(conf))["refused"] == ["debug_peer_list"]
    r = helper(base, "close", "--config-dir", str(conf))
    assert r["failed"] and "debug_peer_list: the saved value" in r["msg"] and "control character" in r["msg"], r
    data = (conf / "main.cf").read_bytes()
    assert b"\r" not in data and b"\x00" not in data and b"0.0.0.0/0" not in data
    assert explicit(conf, "debug_peer_list") == "debug_peer_list = 192.0.2.9"  # refused: left as the window set it
    assert explicit(conf, "soft_bounce") == ""  # the sound value was put back
    kept = json.loads(marker.read_text())
    assert kept["close_failed"]["attempts"] == 1 and "debug_peer_list" in kept["close_failed"]["last_error"]
    # the diagnosis: not a window it can close; debug is its own finding
    found = diagnose(conf, base, tmp_path)
    assert "control character" in found["config.change_window_expired"]["evidence"]["damaged"]
    assert found["config.debug_left_on"]["fix"]["can_fix"] and "root_cause" not in found["config.debug_left_on"]


def test_open_refuses_what_it_could_not_put_back(postfix_dir, state, tmp_path):
    conf, base = postfix_dir, state / "change-window.json"
    with open(conf / "main.cf", "ab") as fh:
        fh.write(b"debug_peer_list = a\x01b\n")
    main_cf = (conf / "main.cf").read_bytes()
    r = helper(base, "open", "--seconds", "600", "--config-dir", str(conf), "--debug-peer", "192.0.2.9")
    assert r["failed"] and "debug_peer_list holds a control character" in r["msg"], r
    # a postconf that fails (the config directory is not there): the values are unknown
    r = helper(base, "open", "--seconds", "600", "--config-dir", str(tmp_path / "nowhere"))
    assert r["failed"] and "postconf -c %s -n failed" % (tmp_path / "nowhere") in r["msg"], r
    assert not state.exists() and (conf / "main.cf").read_bytes() == main_cf
