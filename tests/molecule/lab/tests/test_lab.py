# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A lab host is a real mail host: Postfix up, config clean, DNS answers, mail delivered."""
from __future__ import annotations

import re
import time
import uuid


def test_postfix_running_and_check_clean(host, lab_host_name):
    assert host.run("postfix status").rc == 0
    check = host.run("postfix check")
    assert check.rc == 0, check.stderr
    assert host.process.filter(comm="master")


def test_resolver_answers_lab_zone(host, lab_host_name):
    assert "nameserver 127.0.0.1" in host.file("/etc/resolv.conf").content_string
    mx = host.check_output("dig +short +time=1 +tries=1 MX remote.test")
    assert mx.strip() == "10 peer.lab.test."
    assert host.check_output("dig +short +time=1 +tries=1 A peer.lab.test").strip() == "127.0.0.2"
    assert "v=spf1" in host.check_output("dig +short +time=1 +tries=1 TXT lab.test")
    assert "v=DMARC1" in host.check_output("dig +short +time=1 +tries=1 TXT _dmarc.lab.test")
    assert host.check_output("dig +short +time=1 +tries=1 -x 127.0.0.1").strip().endswith(".lab.test.")


def test_tls_and_tables(host, lab_host_name):
    assert host.file("/etc/ssl/private/lab-smtpd.key").mode == 0o600
    assert host.check_output("postconf -h smtpd_tls_security_level") == "may"
    dbtype = host.check_output("postconf -h default_database_type")
    assert host.check_output(f"postmap -q postmaster@virtual.test {dbtype}:/etc/postfix/virtual") == "root"
    assert host.check_output(f"postalias -q abuse {dbtype}:/etc/aliases") == "root"


def deliveries(host, tag, timeout=20):
    """Log lines with status= for the message whose Message-ID carries `tag`."""
    deadline = time.time() + timeout
    while True:
        log = host.file("/var/log/mail.log").content_string
        qids = re.findall(r"([0-9A-F]{6,}|[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-z]{10,}): message-id=<%s@lab.test>" % tag, log)
        lines = [ln for ln in log.splitlines() if qids and ("%s: to=" % qids[0]) in ln and "status=" in ln]
        if lines or time.time() > deadline:
            return lines
        time.sleep(0.5)


def send(host, rcpt):
    tag = uuid.uuid4().hex[:12]
    host.run_expect([0], "printf 'Message-ID: <%s@lab.test>\\nSubject: lab %s\\n\\nlab\\n' | sendmail -f root@lab.test %s",
                    tag, tag, rcpt)
    return tag


def test_local_delivery_through_virtual_alias(host, lab_host_name):
    lines = deliveries(host, send(host, "info@virtual.test"))
    assert lines and "orig_to=<info@virtual.test>" in lines[0] and "relay=local" in lines[0] and "status=sent" in lines[0], lines


def test_remote_delivery_via_mx_to_peer(host, lab_host_name):
    tag = send(host, "bob@remote.test")
    lines = deliveries(host, tag)
    assert lines and "relay=peer.lab.test[127.0.0.2]:25" in lines[0] and "status=sent" in lines[0], lines
    assert tag in host.run("cat /var/spool/lab-sink/*.eml").stdout


def test_check_runs_change_nothing(lab_hosts):
    """diagnose.yml and remediate.yml in check mode on fresh lab hosts leave every host's
    fingerprint (config, modes, queue files, service state) identical."""
    from lab_run import check_run

    for name in ("diagnose", "remediate"):
        rc, out, _recap, changes = check_run(name, "check-" + name, sorted(lab_hosts))
        assert rc == 0, out[-3000:]
        assert changes == {}, changes
