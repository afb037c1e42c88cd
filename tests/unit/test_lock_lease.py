# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 30, the run lock (postfix_lock, run as Ansible runs it): only files of ours are used
(a symlink, a directory, a FIFO, a foreign file at the lock's paths is refused and left byte for
byte, in check mode too), a short lease that the holding run renews, the operator's break, and
lock files that are damaged or huge never crash a waiting run."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time

import pytest
from conftest import ROOT, run_direct

UNIT = ROOT / "tests" / "unit"


def lock(tmp_path, check=False, **kw):
    args = dict(dict(path=str(tmp_path / "run.lock"), timeout=0), **kw)
    return run_direct("postfix_lock", args, check=check)[0]


def listing(root):
    """Every path under root with its bytes (or link target): what a refused call must leave."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            out[p] = ("link", os.readlink(p)) if os.path.islink(p) else \
                ("dir",) if os.path.isdir(p) else ("file", open(p, "rb").read()) if os.path.isfile(p) else ("other",)
    return out


def refused(result, *words):
    assert result.get("failed") and not result.get("crashed"), result
    assert "Traceback" not in result["msg"], result["msg"]
    for w in words:
        assert w in result["msg"], (w, result["msg"])


# ------------------------------------------------------------------ only files of ours
@pytest.mark.parametrize("check", [False, True])
def test_a_symlink_at_the_lock_path_is_refused_and_its_target_kept(tmp_path, check):
    target = tmp_path / "passwd"
    shutil.copy("/etc/passwd", target)
    (tmp_path / "run.lock").symlink_to(target)
    before = listing(tmp_path)
    got = lock(tmp_path, check=check, holder="alice")
    refused(got, str(tmp_path / "run.lock"), "symlink")
    assert "free" not in got  # check mode does not say free: true
    assert listing(tmp_path) == before and target.read_bytes() == open("/etc/passwd", "rb").read()


@pytest.mark.parametrize("dangling", [False, True])
def test_a_symlink_at_the_guard_is_refused_never_followed(tmp_path, dangling):
    target = tmp_path / ("nothing-here" if dangling else "passwd")
    if not dangling:
        shutil.copy("/etc/passwd", target)
    (tmp_path / "run.lock.guard").symlink_to(target)
    before = listing(tmp_path)
    for check in (True, False):
        refused(lock(tmp_path, check=check, holder="alice"), str(tmp_path / "run.lock.guard"), "symlink")
        assert listing(tmp_path) == before  # no lock, and no file created through the link
    assert dangling or target.read_bytes() == open("/etc/passwd", "rb").read()


def test_a_guard_with_content_is_not_ours(tmp_path):
    (tmp_path / "run.lock.guard").write_bytes(b"keep me\n")
    refused(lock(tmp_path), "run.lock.guard", "not our format")
    assert (tmp_path / "run.lock.guard").read_bytes() == b"keep me\n" and not (tmp_path / "run.lock").exists()


@pytest.mark.parametrize("kind", ["directory", "fifo", "foreign", "device"])
def test_a_path_that_is_not_our_lock_is_refused_and_left_alone(tmp_path, kind):
    path = tmp_path / "run.lock"
    if kind == "directory":
        path.mkdir()
        (path / "inside").write_text("x")
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "foreign":
        path.write_bytes(b'{"somebody": "else\'s JSON"}\n')
    else:
        try:
            os.mknod(path, 0o600 | 0o020000, os.makedev(1, 3))  # a character device, as /dev/null
        except PermissionError:
            pytest.skip("creating a device needs root")
    before = listing(tmp_path)
    for check in (True, False):
        got = lock(tmp_path, check=check, holder="alice")
        refused(got, str(path))
        assert "free" not in got and listing(tmp_path) == before
    refused(lock(tmp_path, state="broken", break_token="t"), str(path))
    assert listing(tmp_path) == before


def test_a_path_with_a_trailing_slash_creates_nothing(tmp_path):
    for check in (True, False):
        got = lock(tmp_path, check=check, path=str(tmp_path / "sub") + "/")
        refused(got, str(tmp_path / "sub") + "/", "names a directory")
        assert os.listdir(tmp_path) == []


def test_a_lock_under_a_file_is_refused(tmp_path):
    (tmp_path / "file").write_text("x")
    refused(lock(tmp_path, path=str(tmp_path / "file" / "run.lock")), str(tmp_path / "file"))
    assert os.listdir(tmp_path) == ["file"]


def test_a_new_lock_directory_is_created_private_with_a_short_default_lease(tmp_path):
    got = lock(tmp_path, path=str(tmp_path / "new" / "run.lock"), holder="alice")
    assert got["changed"] and oct((tmp_path / "new").stat().st_mode & 0o777) == "0o700"
    assert 290 < got["lock"]["expires"] - time.time() <= 300  # the default lease is short: 300 s
    assert sorted(os.listdir(tmp_path / "new")) == ["run.lock", "run.lock.guard"]


# ------------------------------------------------------------------ the lease
def test_renewing_extends_the_lease_and_keeps_the_lock(tmp_path):
    first = lock(tmp_path, holder="alice@laptop: remediate", ttl=60)
    time.sleep(1.1)
    again = lock(tmp_path, holder="alice@laptop: remediate", token=first["token"], ttl=60)
    assert again["changed"] and again["renewed"] is True and again["token"] == first["token"]
    assert again["lock"]["expires"] >= first["lock"]["expires"] + 1
    assert again["lock"]["started"] == first["lock"]["started"] and again["lock"]["renewed"]
    assert json.loads((tmp_path / "run.lock").read_text()) == again["lock"]
    # a token that holds nothing never takes the lock: a renewal only renews
    other = lock(tmp_path, token="not-mine")
    refused(other, "no longer holds", "alice@laptop: remediate")
    assert json.loads((tmp_path / "run.lock").read_text()) == again["lock"]
    (tmp_path / "run.lock").unlink()
    refused(lock(tmp_path, token=first["token"]), "no longer holds", "released or removed")
    assert not (tmp_path / "run.lock").exists()


FAKE_SSHD = r"""
import ctypes, json, sys, time
ctypes.CDLL(None).prctl(15, b"sshd", 0, 0, 0)  # PR_SET_NAME: this process is "the SSH session"
from conftest import run_direct
print(json.dumps(run_direct("postfix_lock", json.loads(sys.argv[1]))[0]), flush=True)
time.sleep(600)  # the session stays open after its controller is gone (TCP keepalive, hours)
"""


def test_an_abandoned_lock_frees_itself_after_the_lease_while_its_session_lives(tmp_path):
    """The controller was killed mid-run; its sshd session on the host lingers. The lease (not
    renewed any more) runs out and the next run takes over; before that it fails saying how to
    break the lock."""
    args = dict(path=str(tmp_path / "run.lock"), timeout=0, ttl=4, holder="alice@laptop: Remediate inside a change window")
    sshd = subprocess.Popen([sys.executable, "-c", FAKE_SSHD, json.dumps(args)], stdout=subprocess.PIPE,
                            env=dict(os.environ, PYTHONPATH=str(UNIT)), text=True)
    try:
        first = json.loads(sshd.stdout.readline())
        assert first["changed"] and first["lock"]["session"]["pid"] == sshd.pid, first
        waiting = lock(tmp_path, holder="bob@ci: Remediate Postfix hosts")
        refused(waiting, "host is locked by another postfix-remedy run: alice@laptop: Remediate inside a change window",
                "postfix_lock_break_token=%s" % first["token"], "playbooks/unlock.yml")
        t = time.monotonic()
        got = lock(tmp_path, holder="bob@ci: Remediate Postfix hosts", timeout=30)
        assert sshd.poll() is None  # the session is still there
        assert got["changed"] and time.monotonic() - t >= 1 and got["waited"] <= 10, got
        assert "lease ran out" in got["took_over"]["why"] and got["took_over"]["token"] == first["token"]
        assert any("took over the lock of alice@laptop" in str(w) for w in got["warnings"]), got["warnings"]
        # the run whose lease ran out stops at its next renewal, naming who holds the host now
        refused(lock(tmp_path, token=first["token"], holder="alice"), "no longer holds", "bob@ci")
        assert json.loads((tmp_path / "run.lock").read_text())["token"] == got["token"]
    finally:
        sshd.kill()
        sshd.wait()


# ------------------------------------------------------------------ the operator's break
def test_break_with_the_holders_token_removes_records_and_names_it(tmp_path):
    held = lock(tmp_path, holder="alice@laptop: Remediate inside a change window")
    # check mode says it would break it and writes nothing
    dry = lock(tmp_path, check=True, state="broken", break_token=held["token"], holder="carol@bastion")
    assert dry["changed"] and (tmp_path / "run.lock").exists() and not (tmp_path / "run.lock.breaks").exists()
    got = lock(tmp_path, state="broken", break_token=held["token"], holder="carol@bastion: Break a host's run lock")
    assert got["changed"] and "alice@laptop: Remediate inside a change window" in got["msg"], got
    assert got["broke"]["token"] == held["token"] and not (tmp_path / "run.lock").exists()
    entries = [json.loads(line) for line in (tmp_path / "run.lock.breaks").read_text().splitlines()]
    assert len(entries) == 1 and entries[0]["by"] == "carol@bastion: Break a host's run lock"
    assert entries[0]["broke"]["holder"] == "alice@laptop: Remediate inside a change window"
    assert entries[0]["broke"]["token"] == held["token"] and entries[0]["when"].endswith("Z")
    assert oct((tmp_path / "run.lock.breaks").stat().st_mode & 0o777) == "0o600"
    # the broken run, if it was alive after all, stops at its next renewal naming who broke it
    refused(lock(tmp_path, token=held["token"], holder="alice"), "no longer holds", "carol@bastion", "broke it")
    assert not (tmp_path / "run.lock").exists()
    # the host is free again; a second break appends
    second = lock(tmp_path, holder="dave")
    lock(tmp_path, state="broken", break_token=second["token"], holder="erin")
    assert len((tmp_path / "run.lock.breaks").read_text().splitlines()) == 2
    assert lock(tmp_path, state="broken", break_token=second["token"], holder="erin")["changed"] is False  # free


def test_break_with_another_token_changes_nothing(tmp_path):
    held = lock(tmp_path, holder="alice@laptop: remediate")
    before = listing(tmp_path)
    for check in (True, False):
        got = lock(tmp_path, check=check, state="broken", break_token="0123abcd", holder="carol")
        refused(got, "alice@laptop: remediate", held["token"], "nothing was changed")
        assert listing(tmp_path) == before
    refused(lock(tmp_path, state="broken", holder="carol"), "break_token")
    refused(lock(tmp_path, state="broken", break_token="a b;rm", holder="carol"), "break_token", "not a lock token")
    assert listing(tmp_path) == before


def test_a_break_log_that_is_not_ours_is_refused(tmp_path):
    held = lock(tmp_path, holder="alice")
    (tmp_path / "run.lock.breaks").write_bytes(b"root:x:0:0\n")
    before = listing(tmp_path)
    refused(lock(tmp_path, state="broken", break_token=held["token"], holder="carol"), "run.lock.breaks")
    assert listing(tmp_path) == before


# ------------------------------------------------------------------ bounded and robust
def test_a_holder_is_bounded_and_read_back_whole(tmp_path):
    refused(lock(tmp_path, holder="x" * 70 * 1024), "holder must be 1 to 512 characters", "71680")
    assert os.listdir(tmp_path) == []
    first = lock(tmp_path, holder="h" * 512)
    assert first["changed"]
    second = lock(tmp_path, holder="bob")
    refused(second, "host is locked")  # read back whole: never "damaged", never taken over
    # a lock an older version wrote with a 70 KiB holder is a live lock too, not a damaged one
    old = dict(holder="y" * 70 * 1024, token="t0", started="2026-01-01T00:00:00Z", expires=time.time() + 3600,
               session=None, pid=1)
    (tmp_path / "run.lock").write_text(json.dumps(old))
    got = lock(tmp_path, holder="bob")
    refused(got, "host is locked", "(71680 chars)")
    assert len(got["msg"]) < 2000 and json.loads((tmp_path / "run.lock").read_text()) == old


@pytest.mark.parametrize("field, raw, why", [
    ("expires", '"tomorrow"', "its expires is str, not a time"),
    ("expires", "NaN", "its expires (nan) is not a time"),
    ("expires", "Infinity", "its expires (inf) is not a time"),
    ("expires", "1e30", "is not a time a lease can run to"),
    ("expires", "-1e400", "its expires (-inf) is not a time"),
    ("expires", "1" + "0" * 400, "is not a time a lease can run to"),
    ("expires", "true", "its expires is bool, not a time"),
    ("session", "[1, 2]", "its session is not a process"),
    ("session", '{"pid": "1", "start": 2}', "its session is not a process"),
    ("pid", '"x"', "its pid is str, not a number"),
    ("holder", "[]", "its holder is list, not a string"),
])
def test_a_lock_with_fields_of_the_wrong_type_is_taken_over_naming_why(tmp_path, field, raw, why):
    fields = dict(holder='"ghost"', token='"t0"', started='"2026-01-01T00:00:00Z"', expires=str(time.time() + 3600),
                  session="null", pid="1")
    fields[field] = raw
    (tmp_path / "run.lock").write_text("{%s}" % ", ".join('"%s": %s' % kv for kv in fields.items()))
    check = lock(tmp_path, check=True, holder="alice")
    assert check["free"] is True and not check.get("crashed"), check
    got = lock(tmp_path, holder="alice")
    assert got["changed"] and not got.get("crashed"), got
    assert "damaged" in got["took_over"]["why"] and why in got["took_over"]["why"], got["took_over"]
    assert any(why in str(w) for w in got["warnings"]), got["warnings"]
    assert json.loads((tmp_path / "run.lock").read_text())["holder"] == "alice"


@pytest.mark.parametrize("args, words", [
    (dict(ttl=10 ** 30), ["ttl", "1 to 86400"]),
    (dict(ttl=86401), ["ttl", "1 to 86400"]),
    (dict(ttl=0), ["ttl"]),
    (dict(timeout=-1), ["timeout", "0 to 86400"]),
    (dict(timeout=10 ** 9), ["timeout", "0 to 86400"]),
    (dict(ttl="inf"), ["ttl"]),
    (dict(holder=""), ["holder"]),
    (dict(token="x" * 500), ["token", "not a lock token"]),
    (dict(state="absent"), ["token"]),
])
def test_bad_options_get_a_clear_message_and_write_nothing(tmp_path, args, words):
    got = lock(tmp_path, **args)
    refused(got, *words)
    assert os.listdir(tmp_path) == []


# ------------------------------------------------------------------ the role and playbooks/unlock.yml, run for real
ROLE_PLAY = """
- name: Remediate inside a change window
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Take
      ansible.builtin.import_role:
        name: postfix_lock
    - name: Renew
      ansible.builtin.import_role:
        name: postfix_lock
        tasks_from: renew
        rolespec_validate: false
"""


def playbook(path, *extra):
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_ROLES_PATH=str(ROOT / "roles"))
    for name in ("USER", "LOGNAME"):  # unset under many controllers (cron, CI, AWX): the holder showed "?"
        env.pop(name, None)
    argv = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,", "-c", "local",
            "-e", "target=localhost", "-e", "ansible_python_interpreter=%s" % sys.executable, str(path), *extra]
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300, check=False)
    return proc.returncode, proc.stdout + proc.stderr


def test_the_role_names_the_controller_user_and_unlock_yml_breaks_only_the_named_lock(tmp_path):
    me = "%s@%s" % (subprocess.run(["id", "-un"], capture_output=True, text=True, check=True).stdout.strip(),
                    os.uname().nodename)
    path = tmp_path / "lk" / "run.lock"
    play = tmp_path / "play.yml"
    play.write_text(ROLE_PLAY)
    rc, out = playbook(play, "-e", "postfix_lock_path=%s" % path)
    assert rc == 0, out
    held = json.loads(path.read_text())
    assert held["holder"] == "%s: Remediate inside a change window" % me and held["renewed"], held
    # under AWX: its user and job
    rc, out = playbook(play, "-e", "postfix_lock_path=%s" % (tmp_path / "awx.lock"), "-e", "awx_user_name=alice",
                       "-e", "awx_job_id=42")
    assert rc == 0, out
    assert json.loads((tmp_path / "awx.lock").read_text())["holder"] == "alice@AWX job 42: Remediate inside a change window"
    unlock = ROOT / "playbooks" / "unlock.yml"
    before = listing(tmp_path / "lk")
    rc, out = playbook(unlock, "-e", "postfix_lock_path=%s" % path, "-e", "postfix_lock_break_token=0123abcd")
    assert rc != 0 and held["token"] in out and "nothing was changed" in out, out
    assert listing(tmp_path / "lk") == before
    rc, out = playbook(unlock, "-e", "postfix_lock_path=%s" % path, "-e", "postfix_lock_break_token=%s" % held["token"])
    assert rc == 0 and "broke the lock of %s: Remediate inside a change window" % me in out, out
    assert not path.exists()
    entry = json.loads((tmp_path / "lk" / "run.lock.breaks").read_text())
    assert entry["by"] == "%s: Break a host's run lock" % me and entry["broke"]["token"] == held["token"]
