# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rollback and the rollout brake, through remediate.yml as an admin runs it."""
from __future__ import annotations

import json
import os
import subprocess

import pytest
from lab_run import ENV, check_run, finish, playbook, report, reports_dir, sh, start_playbook

BAD, GOOD = "rol-1-bad", ["rol-2-a", "rol-3-b"]
RESTART, DISKFULL = "rol-4-restart", "rol-5-diskfull"
ALL = [BAD, *GOOD, RESTART, DISKFULL]
CONFIG = "sha256sum /etc/postfix/main.cf /etc/postfix/master.cf"

pytestmark = pytest.mark.skipif(not os.environ.get("MOLECULE_INVENTORY_FILE"), reason="run by Molecule")


def test_check_run_changes_nothing_on_any_host():
    """First, before any real run: a dry run of the rollout (the bad host included) is read-only."""
    rc, out, recap, changes = check_run("remediate", "check", ALL, "-e", "remediate_serial=100%")
    assert changes == {}, changes
    assert rc == 0 and all(recap[h]["failed"] == 0 for h in ALL), out[-3000:]


@pytest.fixture(scope="module")
def stop_run():
    """One host per batch, no failure tolerated: the bad host goes first and stops the rollout."""
    before = sh(BAD, CONFIG).stdout
    result = playbook("remediate", "stop", "-e", "remediate_serial=1", "-e", "remediate_max_fail_percent=0")
    return before, result


def test_the_fix_that_cannot_validate_is_rolled_back(stop_run):
    before, (rc, output, recap) = stop_run
    assert rc != 0 and recap[BAD]["failed"] == 1, output[-3000:]
    rec = report("stop", BAD, ".remediation")
    assert rec["selected"] == ["ipv6.unreachable"] and rec["rolled_back"] is True
    assert "postfix check" in rec["failure"] or "inet_protocols" in rec["failure"] or rec["failure"]
    assert sh(BAD, CONFIG).stdout == before  # configuration exactly as before
    assert sh(BAD, "postfix status").returncode == 0  # and still running
    assert sh(BAD, "postconf -h inet_protocols").stdout.strip() == "all"
    assert "Remediation failed at" in output and "restored from" in output


def test_the_rollout_stops_at_max_fail_percentage(stop_run):
    _before, (_rc, output, recap) = stop_run
    # the play (now a block with the run lock released in `always`) ends after the failing batch:
    # no other host ran, and Ansible prints no "NO MORE HOSTS LEFT" banner on this path
    assert set(recap) == {BAD}, (recap, output[-2000:])
    # Ansible ends the playbook there, report play included: report.yml afterwards tells the story
    rc, out, _recap = playbook("report", "stop")
    assert rc == 0, out[-2000:]
    statuses = {v["host"]: v["status"] for v in json.loads((reports_dir("stop") / "fleet.json").read_text())["hosts"]}
    assert statuses == {BAD: "failed", GOOD[0]: "no report", GOOD[1]: "no report", RESTART: "no report",
                        DISKFULL: "no report"}
    for host in GOOD:
        assert host not in recap, "the rollout went on to %s" % host
        assert not (reports_dir("stop") / (host + ".remediation.json")).exists()
        assert sh(host, "postconf -h soft_bounce").stdout.strip() == "yes"  # untouched


@pytest.fixture(scope="module")
def batch_run(stop_run):
    """Every host in one batch; three of five go wrong in the middle of their fix."""
    before = {h: sh(h, CONFIG).stdout for h in (BAD, RESTART, DISKFULL)}
    return before, playbook("remediate", "batch", "-e", "remediate_serial=100%", "-e", "remediate_max_fail_percent=75")


def test_one_batch_fixes_the_others_and_fails_only_the_broken_hosts(batch_run):
    before, (rc, output, recap) = batch_run
    assert rc != 0 and recap[BAD]["failed"] == 1, output[-3000:]
    for host in GOOD:
        assert recap[host]["failed"] == 0
        assert report("batch", host, ".remediation")["selected"] == ["config.soft_bounce_on"]
        assert sh(host, "postconf -h soft_bounce").stdout.strip() == "no"
    assert sh(BAD, CONFIG).stdout == before[BAD] and sh(BAD, "postfix status").returncode == 0


def test_restart_refused_is_rolled_back_and_postfix_runs_again(batch_run):
    """The fix validates (postfix check passes) but master cannot bind port 25 on restart."""
    before, (_rc, output, recap) = batch_run
    assert recap[RESTART]["failed"] == 1, output[-3000:]
    rec = report("batch", RESTART, ".remediation")
    assert rec["selected"] == ["ipv6.unreachable"] and rec["rolled_back"] is True and rec["backup_complete"] is True
    assert rec["postfix_action"] == "restart" and "Start Postfix" in rec["failure"], rec["failure"]
    assert sh(RESTART, CONFIG).stdout == before[RESTART]  # previous configuration in place
    assert sh(RESTART, "postconf -h inet_protocols").stdout.strip() == "all"
    assert sh(RESTART, "postfix status").returncode == 0  # and running on it
    # why it failed: the port was taken while the fixed config was live, and let go after the restore
    squatter = sh(RESTART, "cat /var/log/port_squatter.log").stdout
    assert "holding 127.0.0.1 port 25" in squatter and "released" in squatter, squatter
    # Postfix 3.5/3.7 log master's bind error; on 3.10 it reaches neither mail.log nor stderr
    # (master dies before postlogd starts) and postfix start says only "mail system startup failed"
    bind = sh(RESTART, "grep 'bind 127.0.0.1 port 25' /var/log/mail.log").stdout
    assert "Address already in use" in bind or "mail system startup failed" in rec["failure"], (bind, rec["failure"])


def test_disk_full_while_backing_up_changes_nothing(batch_run):
    """The backup cannot be completed (4 KiB filesystem): no fix runs, nothing half-copied is
    restored over the live files, Postfix keeps running, the host is reported failed."""
    before, (_rc, output, recap) = batch_run
    assert recap[DISKFULL]["failed"] == 1, output[-3000:]
    rec = report("batch", DISKFULL, ".remediation")
    assert rec["rolled_back"] is True and rec["backup_complete"] is False and rec["changes"] == []
    assert "No space left on device" in rec["failure"], rec["failure"]
    assert sh(DISKFULL, CONFIG).stdout == before[DISKFULL]
    assert sh(DISKFULL, "postfix check && postfix status").returncode == 0
    assert sh(DISKFULL, "postconf -h soft_bounce").stdout.strip() == "yes"  # the fault is still there, honestly
    assert "the backup could not be completed" in output
    statuses = {v["host"]: v["status"] for v in json.loads((reports_dir("batch") / "fleet.json").read_text())["hosts"]}
    assert statuses[DISKFULL] == statuses[RESTART] == statuses[BAD] == "failed", statuses


def test_change_window_always_closes(stop_run):
    """Seed 002: the window closes (soft_bounce off, marker gone) even when the remediation in it fails."""
    rc, output, recap = playbook("change_window", "window", "-l", BAD, "-e", "postfix_change_window_debug_peer=192.0.2.7")
    assert rc != 0 and recap[BAD]["failed"] == 1, output[-3000:]
    assert "Close the window" in output
    assert sh(BAD, "postconf -h soft_bounce debug_peer_list").stdout.split("\n")[:2] == ["no", ""]
    assert sh(BAD, "test -e /var/lib/postfix-remedy/change-window.json").returncode != 0
    assert report("window", BAD, ".change_window")["rolled_back"] is True
    assert sh(BAD, "postfix status").returncode == 0


def test_queue_role_needs_confirmation_to_delete(stop_run):
    rc, output, _recap = playbook("queue", "queue", "-l", GOOD[0], "-e", "postfix_queue_action=delete_bounces")
    assert rc != 0 and "needs postfix_queue_confirm=true" in output
    rc, output, _recap = playbook("queue", "queue", "-l", GOOD[0])
    assert rc == 0 and "list selected" in output


def test_unreachable_host_and_stopped_postfix_do_not_stop_the_others(stop_run):
    """Fleet faults: one host goes away in the middle of the run (its container is stopped once
    its diagnosis is written, while its fix is under way), the other has Postfix stopped. Below
    max_fail_percentage the run goes on and starts Postfix where it is down; the report marks the
    vanished host failed ("dropped out") instead of showing its diagnosis as if nothing happened."""
    import time

    gone, down = GOOD[1], GOOD[0]
    sh(down, "postfix stop")
    sh(gone, "postconf -e soft_bounce=yes && postfix reload")  # work for it to be in the middle of
    started = time.time()
    proc = start_playbook("remediate", "faults", "-l", "%s,%s" % (down, gone),
                          "-e", "remediate_serial=100%", "-e", "remediate_max_fail_percent=50")
    diag = reports_dir("faults") / (gone + ".json")
    try:
        while proc.poll() is None and not (diag.exists() and diag.stat().st_mtime >= started):
            time.sleep(0.05)
        subprocess.run(["podman", "stop", "-t", "0", gone], env=ENV, capture_output=True, check=True)
        rc, output, recap = finish(proc)
        assert recap[gone]["unreachable"] == 1, output[-3000:]
        assert recap[down]["failed"] == 0 and recap[down]["unreachable"] == 0, output[-3000:]
        assert "service.not_running" in report("faults", down, ".remediation")["selected"]
        assert sh(down, "postfix status").returncode == 0
        model = json.loads((reports_dir("faults") / "fleet.json").read_text())
        views = {v["host"]: v for v in model["hosts"]}
        assert views[gone]["status"] == "failed" and views[gone]["dropped"], views[gone]["status"]
        assert views[down]["status"] in ("fixed", "attention"), views[down]["status"]
        assert "%s dropped out of this run" % gone in " ".join(model["fleet"]["next_steps"])
        assert "DROPPED OUT" in output
    finally:
        if proc.poll() is None:
            proc.kill()
        subprocess.run(["podman", "start", gone], env=ENV, capture_output=True, check=False)
