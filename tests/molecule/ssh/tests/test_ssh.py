# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The field's way in (issue 16): every playbook over real SSH as the unprivileged admin with sudo,
through the repository's inventories/lab (lab_connection ssh), on a file-logging host whose sudo
needs a vault-encrypted password and on a journal-only host.

diagnose -> the same IDs and counts from the file and from the journal -> remediate --check
changes nothing -> remediate fixes a reload-class and a restart-class fault -> a second run has
changed=0 -> a queue action -> a change window -> a fix that cannot validate is rolled back ->
nothing readable by others is left in the hosts' temporary directories. The reports belong
to the user who ran the playbooks (tests/unit/test_controller_tasks.py: no controller-side task
uses become; this scenario runs as root, where ownership would prove nothing). Bad input first: a wrong become password and an unreachable
host fail that host with a clear message while the other goes on, and change nothing.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import textwrap
import time

import lab_run
import pytest
from lab_run import ENV, ROOT, check_run, fingerprint, fingerprint_changes, playbook, report, sh

FILE, JOURNAL = "ssh-file", "ssh-journal"
HOSTS = [FILE, JOURNAL]
SUDO_PASSWORD = "lab-sudo-secret"  # molecule.yml gives it to lab_host for ssh-file
LOG_FAULTS = {"delivery.mailbox_full", "relay.access_denied", "tls.delivery_handshake", "ipv6.unreachable"}
FIXED = {"config.soft_bounce_on", "ipv6.unreachable", "dns.resolver_dead"}  # reload- and restart-class
CONFIG = "sha256sum /etc/postfix/main.cf /etc/postfix/master.cf"
MARKER = "/etc/lab/ssh-scenario-start"

pytestmark = pytest.mark.skipif(not os.environ.get("MOLECULE_INVENTORY_FILE"), reason="run by Molecule")


def ephemeral(name):
    return os.path.join(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "/tmp"), name)


def vault_args(password):
    """A vars file with lab_become_passwords: {ssh-file: !vault ...} and the vault password file
    it needs, both written here (0600), as an admin keeps them."""
    pw_file = ephemeral("vault-pass")
    with open(pw_file, "w") as fh:
        fh.write("scenario-vault-%d\n" % os.getpid())
    os.chmod(pw_file, 0o600)
    enc = subprocess.run(["ansible-vault", "encrypt_string", "--vault-password-file", pw_file, password,
                          "--name", FILE], env=ENV, capture_output=True, text=True, check=True).stdout
    vars_file = ephemeral("become-%s.yml" % ("right" if password == SUDO_PASSWORD else "wrong"))
    with open(vars_file, "w") as fh:
        fh.write("lab_become_passwords:\n" + textwrap.indent(enc, "  "))
    os.chmod(vars_file, 0o600)
    assert SUDO_PASSWORD not in open(vars_file).read()
    return ["-e", "@" + vars_file, "--vault-password-file", pw_file]


@pytest.fixture(scope="module", autouse=True)
def start_marker():
    for h in HOSTS:
        sh(h, "touch %s" % MARKER)
        sh(h, "sleep 1")


def run_ssh(name, kind, *args, password=SUDO_PASSWORD):
    lab_run.SSH_EXTRA[:] = vault_args(password)
    return playbook(name, kind, *args)


def findings(kind, host):
    return {f["id"]: f for f in report(kind, host)["findings"]}


# ------------------------------------------------------------------ bad input first
def test_wrong_become_password_fails_that_host_only_and_changes_nothing():
    before = {h: fingerprint(h) for h in HOSTS}
    rc, out, recap = run_ssh("diagnose", "wrongpw", password="not-the-password")
    assert rc != 0 and recap[FILE]["failed"] + recap[FILE]["unreachable"] >= 1, out[-3000:]
    assert recap[JOURNAL]["failed"] == 0 and recap[JOURNAL]["unreachable"] == 0, out[-3000:]
    assert "sudo" in out.lower() and "password" in out.lower(), out[-3000:]  # says why
    assert "not-the-password" not in out and SUDO_PASSWORD not in out
    assert fingerprint_changes(before, {h: fingerprint(h) for h in HOSTS}) == {}


def test_unreachable_host_fails_with_a_clear_message_and_the_other_goes_on():
    # sshd ends the controller's persisted connection too (ControlPersist would reuse it)
    sh(JOURNAL, "mv /home/admin/.ssh/authorized_keys /home/admin/.ssh/authorized_keys.off; pkill -x sshd || true")
    try:
        before = fingerprint(FILE)
        rc, out, recap = run_ssh("diagnose", "unreach")
        assert rc != 0 and recap[JOURNAL]["unreachable"] == 1, out[-3000:]
        assert "Permission denied" in out or "UNREACHABLE" in out, out[-3000:]
        assert recap[FILE]["failed"] == 0 and recap[FILE]["unreachable"] == 0, out[-3000:]
        assert report("unreach", FILE)["findings"]  # the other host was diagnosed
        assert fingerprint_changes({FILE: before}, {FILE: fingerprint(FILE)}) == {}
    finally:
        sh(JOURNAL, "mv /home/admin/.ssh/authorized_keys.off /home/admin/.ssh/authorized_keys")


def login_seconds(host):
    """One real SSH login and sudo through the lab inventory's own settings (ansible -m ping)."""
    t0 = time.monotonic()
    proc = subprocess.run(["ansible", "-i", str(ROOT / "inventories" / "lab"), "-e", "lab_connection=ssh",
                           *lab_run.SSH_EXTRA, host, "-m", "ansible.builtin.ping"], env=dict(ENV, LAB_HOSTS=host),
                          capture_output=True, text=True, check=False)
    return proc, time.monotonic() - t0


def test_the_shipped_connection_timeout_survives_a_login_slowed_by_a_black_hole_nameserver():
    """Issue 30 item 5: ssh-file's sshd has UseDNS yes and its first nameserver is a black hole
    (dns.resolver_dead): each login waits for the PTR of its peer, as on field servers. The lab
    inventory ships ansible_ssh_timeout 60 (the example inventory too), and the host is reached."""
    for inv in ("lab", "example"):
        text = (ROOT / "inventories" / inv / "group_vars" / ("lab.yml" if inv == "lab" else "postfix_servers.yml")).read_text()
        assert "\nansible_ssh_timeout: 60\n" in text, inv
    assert sh(FILE, "head -3 /etc/resolv.conf | grep -c '^nameserver 127.0.0.53'").stdout.strip() == "1"
    assert sh(FILE, "cat /etc/ssh/sshd_config.d/lab-usedns.conf").stdout.strip() == "UseDNS yes"
    lab_run.SSH_EXTRA[:] = vault_args(SUDO_PASSWORD)
    proc, seconds = login_seconds(FILE)
    print("login with a black-hole first nameserver and UseDNS: %.1f s" % seconds)
    assert proc.returncode == 0 and '"pong"' in proc.stdout, proc.stdout + proc.stderr
    assert "UNREACHABLE" not in proc.stdout


# ------------------------------------------------------------------ the sequence
@pytest.fixture(scope="module")
def runs():
    out = {"before": run_ssh("diagnose", "before")}
    out["check"] = check_run("remediate", "check", HOSTS)
    out["fix"] = run_ssh("remediate", "fix")
    out["after"] = run_ssh("diagnose", "after")
    out["again"] = run_ssh("remediate", "again")
    return out


def test_diagnosis_over_ssh_reads_the_file_on_one_host_and_the_journal_on_the_other(runs):
    rc, out, recap = runs["before"]
    assert rc == 0 and all(recap[h]["failed"] == 0 for h in HOSTS), out[-3000:]
    log_file, log_journal = report("before", FILE)["log"], report("before", JOURNAL)["log"]
    assert log_file["source"] == "file" and log_file["files"], log_file["source_reason"]
    assert log_journal["source"] == "journal", log_journal["source_reason"]
    assert "no mail log file" in log_journal["source_reason"]  # auto said what it picked, and why
    assert sh(JOURNAL, "ls /var/log/mail.log*").returncode != 0  # truly journal-only
    assert log_journal["journal"]["cursor"]
    # the first diagnosis of the journal host (in the wrong-password run) read the window whole
    assert report("wrongpw", JOURNAL)["log"]["journal"]["mode"] == "full"


def test_same_fault_lines_give_the_same_ids_and_counts_from_file_and_journal(runs):
    got = {h: findings("before", h) for h in HOSTS}
    for h in HOSTS:
        assert LOG_FAULTS | FIXED <= set(got[h]), (h, sorted(got[h]))
    counts = {h: {fid: got[h][fid]["evidence"].get("count") for fid in LOG_FAULTS} for h in HOSTS}
    assert counts[FILE] == counts[JOURNAL], counts
    assert all(n for n in counts[FILE].values()), counts


def test_check_mode_over_ssh_reports_and_changes_nothing(runs):
    rc, out, recap, changes = runs["check"]
    assert changes == {}, changes
    assert rc == 0 and all(recap[h]["failed"] == 0 and recap[h]["changed"] > 0 for h in HOSTS), out[-3000:]


def test_reload_and_restart_class_fixes_over_ssh(runs):
    rc, out, recap = runs["fix"]
    assert rc == 0 and all(recap[h]["failed"] == 0 for h in HOSTS), out[-3000:]
    for h in HOSTS:
        assert sh(h, "postconf -h soft_bounce inet_protocols").stdout.split() == ["no", "ipv4"], h
        assert "127.0.0.53" not in sh(h, "grep ^nameserver /etc/resolv.conf").stdout, h  # the black hole is gone
        assert sh(h, "postfix status").returncode == 0, h
        rec = report("fix", h, ".remediation")
        assert FIXED <= set(rec["selected"]) and rec["rolled_back"] is False and rec["still_present"] == [], rec
    rc, out, recap = runs["again"]
    assert rc == 0 and all(recap[h]["changed"] == 0 for h in HOSTS), out[-3000:]


def test_second_diagnosis_is_clean_for_the_fixed_ids(runs):
    for h in HOSTS:
        live = {fid for fid, f in findings("after", h).items() if not f.get("historical")}
        assert not FIXED & live, (h, live)
    # the journal host read only what was new since its cursor
    assert report("after", JOURNAL)["log"]["journal"]["mode"] in ("incremental", "cached")


def test_queue_action_over_ssh(runs):
    held = "postqueue -j | grep -c '\"queue_name\": *\"hold\"' || true"
    # every fault that queues mail (backlog, dead resolver) sends it from sender@lab.test
    queued = "postqueue -j | grep '\"sender\": *\"sender@lab.test\"' | grep -vc '\"queue_name\": *\"hold\"' || true"
    from_sender = int(sh(FILE, queued).stdout.strip() or 0)
    assert from_sender >= 5
    rc, out, _ = run_ssh("queue", "queue", "-l", FILE, "-e", "postfix_queue_action=hold_sender",
                         "-e", "postfix_queue_sender=sender@lab.test")
    assert rc == 0, out[-3000:]
    assert int(sh(FILE, held).stdout.strip() or 0) == from_sender
    rc, out, _ = run_ssh("queue", "queue", "-l", FILE, "-e", "postfix_queue_action=release_sender",
                         "-e", "postfix_queue_sender=sender@lab.test")
    assert rc == 0, out[-3000:]
    assert int(sh(FILE, held).stdout.strip() or 0) == 0


def test_change_window_over_ssh(runs):
    rc, out, recap = run_ssh("change_window", "window", "-l", FILE)
    assert rc == 0 and recap[FILE]["failed"] == 0, out[-3000:]
    assert "Open the window" in out and "Close the window" in out
    assert sh(FILE, "postconf -h soft_bounce").stdout.strip() == "no"
    assert sh(FILE, "test -e /var/lib/postfix-remedy/change-window.json").returncode != 0


def test_a_fix_that_cannot_validate_is_rolled_back_over_ssh(runs):
    play = ephemeral("break-ipv6.yml")
    with open(play, "w") as fh:
        fh.write(textwrap.dedent("""\
            - name: ipv6.unreachable whose fix cannot validate (smtpd also on [::1])
              hosts: %s
              gather_facts: false
              roles:
                - role: lab_faults
                  vars:
                    lab_faults_inject: [ipv6.unreachable]
                    lab_faults_ipv6_listen: true
                    lab_faults_log_fresh: true  # new lines: the earlier ones predate the fix in the ledger
            """ % JOURNAL))
    env = dict(ENV, ANSIBLE_ROLES_PATH=str(ROOT / "roles"), ANSIBLE_LIBRARY=str(ROOT / "library"),
               ANSIBLE_MODULE_UTILS=str(ROOT / "module_utils"))
    subprocess.run(["ansible-playbook", "-i", os.path.dirname(os.environ["MOLECULE_INVENTORY_FILE"]), play], env=env, check=True,
                   capture_output=True, timeout=300)
    before = sh(JOURNAL, CONFIG).stdout
    rc, out, recap = run_ssh("remediate", "rollback", "-l", JOURNAL)
    assert rc != 0 and recap[JOURNAL]["failed"] == 1, out[-3000:]
    rec = report("rollback", JOURNAL, ".remediation")
    assert rec["rolled_back"] is True and "ipv6.unreachable" in rec["selected"], rec
    assert sh(JOURNAL, CONFIG).stdout == before  # byte for byte as before
    assert sh(JOURNAL, "postfix status").returncode == 0
    assert "Remediation failed at" in out
    # put the host back for the tests after this one (no [::1] listener, IPv4 only)
    sh(JOURNAL, "postconf -e inet_interfaces=127.0.0.1 inet_protocols=ipv4 && postfix stop; postfix start")


def test_nothing_readable_by_others_left_in_temporary_directories(runs):
    for h in HOSTS:
        left = sh(h, "find /tmp /var/tmp /home/admin/.ansible /root/.ansible -mindepth 1 -newer %s "
                     "-perm -o=r ! -type l 2>/dev/null" % MARKER).stdout.split()
        assert left == [], (h, left)


# ------------------------------------------------------------------ issue 19 over SSH
def start_ssh(name, kind, *args, session=True):
    lab_run.SSH_EXTRA[:] = vault_args(SUDO_PASSWORD)
    return lab_run.start_playbook(name, kind, *args, session=session)


def wait_for(host, script, seconds=120):
    for _ in range(int(seconds / 0.2)):
        if sh(host, script).returncode == 0:
            return True
        time.sleep(0.2)
    return False


def kill_controller(proc):
    """SIGKILL ansible-playbook and everything it started (its SSH clients included)."""
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=60)


def deferred_or_held(host):
    return int(sh(host, "postqueue -j | grep -c '\"queue_name\": *\"\\(deferred\\|hold\\|active\\|incoming\\)\"' "
                        "|| true").stdout.strip() or 0)


def test_a_window_closes_itself_when_the_controller_is_killed(runs):
    """Seed 002's danger: the controller dies with soft_bounce on. The host-side switch closes the
    window at its deadline: settings restored, Postfix up, permanent errors bounce again, no mail
    lost, and a later close is a no-op."""
    assert sh(FILE, "postconf -h soft_bounce").stdout.strip() == "no"
    queued = deferred_or_held(FILE)
    proc = start_ssh("change_window", "killed", "-l", FILE, "-e", "postfix_change_window_deadline=30s")
    assert wait_for(FILE, "test -e /var/lib/postfix-remedy/change-window.json && "
                          "[ \"$(postconf -h soft_bounce)\" = yes ]"), "the window never opened"
    kill_controller(proc)
    assert sh(FILE, "postconf -h soft_bounce").stdout.strip() == "yes"  # the window is open, nobody to close it
    marker = json.loads(sh(FILE, "cat /var/lib/postfix-remedy/change-window.json").stdout)
    assert marker["switch"]["kind"] == "watchdog" and marker["replaced"] == {"soft_bounce": "no"}
    assert wait_for(FILE, "! test -e /var/lib/postfix-remedy/change-window.json", seconds=90), "still open"
    record = json.loads(sh(FILE, "cat /var/lib/postfix-remedy/change-window-closed.json").stdout)
    assert record["closed_by"] == "deadline" and record["id"] == marker["id"] and not record["errors"]
    assert sh(FILE, "postconf -h soft_bounce").stdout.strip() == "no"
    assert sh(FILE, "postfix status").returncode == 0
    # a permanent error bounces again instead of waiting in the queue
    sh(FILE, "printf 'Subject: t\\n\\nx\\n' | sendmail -f sender@lab.test nosuchuser-w@ssh-file.lab.test")
    assert wait_for(FILE, "grep -q 'nosuchuser-w@ssh-file.lab.test.*status=bounced' /var/log/mail.log", seconds=60)
    assert deferred_or_held(FILE) >= queued  # nothing queued was lost
    assert json.loads(sh(FILE, "/usr/local/sbin/postfix-remedy-window close").stdout)["changed"] is False


def test_two_runs_on_one_host_the_second_waits_then_fails_naming_the_first(runs):
    sh(JOURNAL, "postconf -e soft_bounce=yes && postfix reload")  # work for the first run (a fix, verified)
    first = start_ssh("remediate", "lock-a", "-l", JOURNAL, session=False)
    assert wait_for(JOURNAL, "test -e /var/lib/postfix-remedy/run.lock", seconds=120)
    rc, out, recap = run_ssh("remediate", "lock-b", "-l", JOURNAL, "-e", "postfix_lock_timeout=2")
    rc_a, out_a, recap_a = lab_run.finish(first)
    assert rc != 0 and recap[JOURNAL]["failed"] == 1, out[-3000:]
    assert "host is locked by another postfix-remedy run" in out and "Remediate Postfix hosts" in out
    assert rc_a == 0 and recap_a[JOURNAL]["failed"] == 0, out_a[-3000:]  # the first one was not disturbed
    assert sh(JOURNAL, "test -e /var/lib/postfix-remedy/run.lock").returncode != 0  # released


def test_connection_lost_in_the_middle_of_a_fix_is_rolled_back_by_the_next_run(runs):
    sh(JOURNAL, "postconf -e soft_bounce=yes && postfix reload")
    before = sh(JOURNAL, CONFIG).stdout
    proc = start_ssh("remediate", "cut", "-l", JOURNAL)
    assert wait_for(JOURNAL, "test -e /var/lib/postfix-remedy/run-state.json", seconds=120), "the fix never started"
    sh(JOURNAL, "pkill -x sshd || true")  # the connection drops (every SSH session to the host)
    kill_controller(proc)
    state = json.loads(sh(JOURNAL, "cat /var/lib/postfix-remedy/run-state.json").stdout)
    assert state["state"] == "applying" and "config.soft_bounce_on" in state["fixes"]
    # the next run rolls the half-done run back from its backup first, then fixes cleanly
    rc, out, recap = run_ssh("remediate", "after-cut", "-l", JOURNAL)
    assert rc == 0 and recap[JOURNAL]["failed"] == 0, out[-3000:]
    assert "rolled back an unfinished run" in out and state["backup"] in out
    assert "took over the lock" in out  # the killed run's lock: its SSH session is gone
    assert sh(JOURNAL, "postconf -h soft_bounce").stdout.strip() == "no"
    assert sh(JOURNAL, "test -e /var/lib/postfix-remedy/run-state.json").returncode != 0
    assert sh(JOURNAL, "postfix status").returncode == 0
    assert before != sh(JOURNAL, CONFIG).stdout  # fixed, not left as before


def test_old_backups_are_pruned_and_recent_ones_kept(runs):
    """15 backups from a month ago beside this scenario's own: the next run that backs up (here
    it fixes soft_bounce) keeps the newest 10 (its own and the scenario's among them) and removes
    the old ones past that count."""
    own = set(sh(FILE, "ls /var/lib/postfix-remedy/backups").stdout.split())
    assert own, "the scenario's runs made backups"
    sh(FILE, "cd /var/lib/postfix-remedy/backups && for i in $(seq 10 24); do mkdir -p 10000000$i; "
             "touch -d '30 days ago' 10000000$i; done")
    sh(FILE, "postconf -e soft_bounce=yes && postfix reload")  # config.soft_bounce_on: a fix, so a backup
    rc, out, _ = run_ssh("remediate", "prune", "-l", FILE)
    assert rc == 0, out[-3000:]
    assert sh(FILE, "postconf -h soft_bounce").stdout.strip() == "no"
    left = set(sh(FILE, "ls /var/lib/postfix-remedy/backups").stdout.split())
    new = left - own - {"10000000%d" % i for i in range(10, 25)}
    assert len(new) == 1 and own <= left  # this run's backup, and the recent ones stay (younger than 14 days)
    kept = len(own) + 1
    old_left = sorted(d for d in left if d.startswith("10000000"))
    assert len(left) == max(10, kept) and old_left == sorted(
        "10000000%d" % i for i in range(10, 25))[::-1][:max(0, 10 - kept)][::-1], (own, old_left)
