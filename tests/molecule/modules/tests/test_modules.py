# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""After converge: the module edits are in Postfix's own view and the mail is on hold, not lost."""
from __future__ import annotations

import json


def test_postconf_edits(host, lab_host_name):
    assert host.check_output("postconf -h smtpd_helo_required") == "yes"
    assert "check_client_access" in host.check_output("postconf -h smtpd_client_restrictions")
    assert host.check_output("postconf -P smtp/inet/smtpd_client_connection_count_limit").endswith("= 20")
    assert host.run("postfix check").rc == 0


def test_access_table_built(host, lab_host_name):
    dbtype = host.check_output("postconf -h default_database_type")
    assert host.check_output(f"postmap -q blocked.lab.test {dbtype}:/etc/postfix/client_access") == "REJECT lab block"


def test_stuck_mail_is_held_not_lost(host, lab_host_name):
    msgs = [json.loads(line) for line in host.check_output("postqueue -j").splitlines() if line.strip()]
    held = [m for m in msgs if m["queue_name"] == "hold"]
    assert len(held) == 3 and all(m["recipients"][0]["address"].endswith("@nowhere.test") for m in held)


def test_check_runs_of_every_queue_action_change_nothing(lab_hosts):
    """Check mode of postfix_queue (through queue.yml) and of a remediation: the host's
    fingerprint (config, modes, every queue file, service state) stays identical."""
    from lab_run import check_run

    hosts = sorted(lab_hosts)
    runs = [("queue", "-e", "postfix_queue_action=delete_bounces", "-e", "postfix_queue_confirm=true"),
            ("queue", "-e", "postfix_queue_action=hold_sender", "-e", "postfix_queue_sender=root@lab.test"),
            ("queue", "-e", "postfix_queue_action=release_sender", "-e", "postfix_queue_sender=/.*/"),
            ("queue", "-e", "postfix_queue_action=requeue"),
            ("remediate",)]
    for name, *args in runs:
        rc, out, _recap, changes = check_run(name, "check-" + name, hosts, *args)
        assert rc == 0, out[-3000:]
        assert changes == {}, (args, changes)


def test_check_run_of_a_resync_fix_leaves_the_stale_chroot_copy(lab_hosts):
    """A stale chroot resolv.conf is a dns.resolver_dead fix (resync + restart). Under --check the
    remediation validates with postfix check, which on Debian trixie copies resolv.conf into the
    chroot itself; postfix_check must put it back, so --check still changes nothing."""
    from lab_run import check_run, sh

    hosts = sorted(lab_hosts)
    chroot = "/var/spool/postfix/etc/resolv.conf"
    for h in hosts:
        sh(h, f"cp -a {chroot} {chroot}.orig && echo '# stale copy' >> {chroot}")
    try:
        rc, out, _recap, changes = check_run("remediate", "check-resync", hosts)
        assert rc == 0, out[-3000:]
        assert "would restart Postfix" in out, out[-3000:]
        assert changes == {}, changes
        for h in hosts:
            assert "# stale copy" in sh(h, f"cat {chroot}").stdout
    finally:
        for h in hosts:
            sh(h, f"mv {chroot}.orig {chroot}")
