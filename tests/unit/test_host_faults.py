# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 16's two host faults: who holds Postfix's ports when master is down (from /proc, no
extra tools), and an incomplete chroot (what Debian's configure-instance.sh would have copied)."""
from __future__ import annotations

import os
import socket

from ansible.module_utils import diagnose_rules as rules
from ansible.module_utils import host_probes as hp

MASTER_DOWN = dict(pid_file="/var/spool/postfix/pid/master.pid", pid=None, running=False)
SMTP = dict(service="smtp", host=None, port=25, command="smtpd")


def test_port_holders_names_this_process_from_proc():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    try:
        port = s.getsockname()[1]
        holders = hp.port_holders({port})
        assert [(h["port"], h["address"], h["pid"]) for h in holders] == [(port, "127.0.0.1", os.getpid())]
        assert holders[0]["program"] and "python" in holders[0]["cmdline"]
    finally:
        s.close()
    assert hp.port_holders({port}) == []  # closed: nobody


def finding_for(holders, inet_interfaces="127.0.0.1", services=(SMTP,)):
    p = dict(master=MASTER_DOWN, port_holders=holders, inet_services=list(services), inet_interfaces=inet_interfaces)
    return next(f for f in rules.probe_findings(p, {}) if f["id"] == "service.not_running")


def holder(address, port=25):
    return dict(port=port, address=address, pid=4321, program="python3", cmdline="python3 squat.py")


def test_a_holder_of_our_address_is_named_and_start_is_not_offered():
    f = finding_for([holder("127.0.0.1")])
    assert "port 25 (smtp) is held by python3 pid 4321" in f["summary"]
    assert f["fix"]["can_fix"] is False and "stop or move the process" in f["fix"]["note"]
    assert f["evidence"]["port_holders"][0]["pid"] == 4321


def test_a_wildcard_holder_conflicts_with_any_address():
    assert finding_for([holder("0.0.0.0")])["fix"]["can_fix"] is False
    assert finding_for([holder("::")], inet_interfaces="all")["fix"]["can_fix"] is False


def test_a_listener_on_another_address_does_not_block_postfix():
    """The lab's SMTP peer on 127.0.0.2:25 next to Postfix on 127.0.0.1: no conflict."""
    f = finding_for([holder("127.0.0.2")])
    assert f["fix"]["can_fix"] is True and f["fix"]["commands"] == ["postfix check", "postfix start"]
    assert "held by" not in f["summary"]


def test_a_service_with_its_own_address_is_checked_on_that_address():
    filt = dict(service="127.0.0.1:10025", host="127.0.0.1", port=10025, command="smtpd")
    assert finding_for([holder("127.0.0.1", 10025)], inet_interfaces="all",
                       services=(SMTP, filt))["fix"]["can_fix"] is False
    assert finding_for([holder("127.0.0.3", 10025)], inet_interfaces="all",
                       services=(SMTP, filt))["fix"]["can_fix"] is True


def make_root(tmp_path, files):
    root = tmp_path / "root"
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


def chroot_probe(tmp_path, host_files, chroot_files):
    root = make_root(tmp_path, host_files)
    queue = tmp_path / "spool"
    for rel, data in chroot_files.items():
        (queue / rel).parent.mkdir(parents=True, exist_ok=True)
        (queue / rel).write_bytes(data)
    return dict(queue_directory=str(queue), files=hp.chroot_files(str(queue), root=str(root)))


HOST = {"etc/services": b"smtp 25/tcp\n", "etc/hosts": b"127.0.0.1 localhost\n", "etc/resolv.conf": b"nameserver 127.0.0.1\n",
        "etc/localtime": b"TZif2", "etc/nsswitch.conf": b"hosts: files dns\n"}


def test_complete_chroot_is_no_finding(tmp_path):
    ch = chroot_probe(tmp_path, HOST, HOST)
    assert {f["state"] for f in ch["files"]} == {"ok"} and len(ch["files"]) == 5  # host.conf absent: not expected
    assert rules._chroot_finding(ch, "3.5.25") is None


def test_missing_services_is_critical_before_3_6_only(tmp_path):
    ch = chroot_probe(tmp_path, HOST, {k: v for k, v in HOST.items() if k not in ("etc/services", "etc/hosts")})
    old = rules._chroot_finding(ch, "3.5.25")
    assert old["id"] == "service.chroot_incomplete" and old["severity"] == "critical"
    assert "etc/services missing" in old["summary"] and "etc/hosts missing" in old["summary"]
    assert sorted(c["dest"] for c in old["fix"]["chroot_copies"]) == [ch["queue_directory"] + "/etc/hosts",
                                                              ch["queue_directory"] + "/etc/services"]
    new = rules._chroot_finding(ch, "3.7.11")  # known_tcp_ports: smtp still works
    assert new["severity"] == "high" and new["class"] == "auto"


def test_stale_resolv_conf_is_left_to_the_resolver_rule(tmp_path):
    ch = chroot_probe(tmp_path, HOST, dict(HOST, **{"etc/resolv.conf": b"nameserver 10.9.9.9\n"}))
    assert rules._chroot_finding(ch, "3.7.11") is None
    missing = chroot_probe(tmp_path / "b", HOST, {k: v for k, v in HOST.items() if k != "etc/resolv.conf"})
    f = rules._chroot_finding(missing, "3.7.11")
    assert f["severity"] == "critical" and "etc/resolv.conf missing" in f["summary"]


def test_stale_hosts_file_is_reported(tmp_path):
    ch = chroot_probe(tmp_path, HOST, dict(HOST, **{"etc/hosts": b"old\n"}))
    f = rules._chroot_finding(ch, "3.7.11")
    assert f and "etc/hosts stale" in f["summary"]
