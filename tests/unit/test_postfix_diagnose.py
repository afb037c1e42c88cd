# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""postfix_diagnose against real Postfix configuration directories and instances.

DNS goes only to in-test responders on 127.88.0.x (the host's resolver is never asked).
"""
from __future__ import annotations

import os
import pwd
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from conftest import needs_postfix, needs_root, queue_dir, run_module, send, sh
from fixtures import bounces
from fixtures.dns_responder import Responder
from fixtures.log_lines import CASES, as_log

pytestmark = [needs_postfix]

LIVE, DEAD = "127.88.0.1", "127.88.0.2"
RECORDS = {
    ("mx1.lab.test", "A"): ["127.0.0.1"],
    ("lab.test", "MX"): [(10, "mx1.lab.test")],
    ("lab.test", "TXT"): ["v=spf1 ip4:192.0.2.10 -all"],
    ("_dmarc.lab.test", "TXT"): ["v=DMARC1; p=none"],
    ("10.2.0.192.in-addr.arpa", "PTR"): ["mx1.lab.test"],
}


@pytest.fixture
def dns():
    live = Responder(LIVE, RECORDS)
    dead = Responder(DEAD, mode="silent")
    yield live, dead
    live.close()
    dead.close()


@pytest.fixture
def env(tmp_path, dns):
    """Paths every diagnosis call needs, all inside tmp_path."""
    resolv = tmp_path / "resolv.conf"
    resolv.write_text("nameserver %s\n" % LIVE)
    log = tmp_path / "mail.log"
    log.write_text("\n".join(as_log([c for c in CASES if c[0] is None])) + "\n")
    return dict(resolv=resolv, log=log, state=tmp_path / "state" / "logscan.json", marker=tmp_path / "cw.json")


def diagnose(conf, env, check=False, **extra):
    args = dict(config_dir=str(conf), resolv_conf=str(env["resolv"]), resolver_timeout=0.5,
                log_paths=[str(env["log"])], state_file=str(env["state"]), change_window_marker=str(env["marker"]),
                domains=["lab.test"], outbound_ip="192.0.2.10")
    args.update(extra)
    chroot_resolv = queue_dir(conf) / "etc" / "resolv.conf"
    if chroot_resolv.exists():  # the chroot copy follows the resolv.conf under test, as on a synced host
        shutil.copy(env["resolv"], chroot_resolv)
    res = run_module("postfix_diagnose", args, check=check)
    assert not res.get("failed"), res.get("msg")
    assert res["changed"] is False
    return res


def ids(res):
    return set(res["ids"])


def postconf(conf, *settings):
    sh("postconf", "-c", str(conf), "-e", *settings)
    past = time.time() - 60
    os.utime(conf / "main.cf", (past, past))


# ------------------------------------------------------------------ healthy
@needs_root
def test_healthy_instance_has_no_findings(postfix_instance, env):
    res = diagnose(postfix_instance, env)
    assert res["findings"] == [], [(f["id"], f["summary"]) for f in res["findings"]]
    assert res["probes"]["master"]["running"] is True
    assert [s["answers"] for s in res["probes"]["resolvers"]["servers"]] == [True]
    dom = res["probes"]["dns"]["domains"]["lab.test"]
    assert dom["spf"] and dom["dmarc"] and dom["mx"] == [{"pref": 10, "host": "mx1.lab.test"}]
    assert res["probes"]["dns"]["ptr"]["match"] is True
    assert res["log"]["lines"] > 0 and res["log"]["unclassified"] == 0
    assert res["postconf_n"]["myhostname"] == "mx1.lab.test"
    assert res["counts"]["total"] == 0 and res["summary"] == "healthy, no findings"


# ------------------------------------------------------------------ config
def test_config_faults(postfix_dir, env):
    postconf(postfix_dir, "soft_bounce = yes", "debug_peer_list = 192.0.2.9", "mailbox_size_limit = 1000",
             "message_size_limit = 2000", "mynetworks = 0.0.0.0/0", "smtpd_recipient_restriction = permit")
    res = diagnose(postfix_dir, env, checks=["config"])
    by_id = {f["id"]: f for f in res["findings"]}
    assert {"config.soft_bounce_on", "config.debug_left_on", "config.mailbox_lt_message", "relay.open_relay",
            "config.unused_parameter"} <= set(by_id)
    unused = by_id["config.unused_parameter"]["evidence"]["parameters"]
    assert unused[0]["name"] == "smtpd_recipient_restriction"
    assert unused[0]["closest"] == "smtpd_recipient_restrictions"
    assert by_id["config.soft_bounce_on"]["fix"]["params"] == {"soft_bounce": "no"}
    assert by_id["config.mailbox_lt_message"]["fix"]["params"] == {"mailbox_size_limit": "2000"}
    for f in res["findings"]:
        assert f["class"] in ("auto", "opt-in", "advisory") and f["cause"] and f["fix"]["steps"]


def test_change_window_allows_soft_bounce_and_debug(postfix_dir, env):
    from ansible.module_utils.diagnose_rules import instance_marker

    postconf(postfix_dir, "soft_bounce = yes", "debug_peer_list = 192.0.2.9")
    # the marker of this instance (one window per config_dir), as the window helper writes it
    Path(instance_marker(str(env["marker"]), str(postfix_dir))).write_text(
        '{"id": "w1", "deadline": %d, "config_dir": "%s", "replaced": {"soft_bounce": null}}' % (time.time() + 600, postfix_dir))
    assert not {"config.soft_bounce_on", "config.debug_left_on"} & ids(diagnose(postfix_dir, env, checks=["config"]))


def test_verbose_master_service(postfix_dir, env):
    sh("postconf", "-c", str(postfix_dir), "-M", "smtp/inet=smtp inet n - y - - smtpd -v")
    res = diagnose(postfix_dir, env, checks=["config"])
    f = next(f for f in res["findings"] if f["id"] == "config.debug_left_on")
    assert f["evidence"]["verbose_services"] == ["smtp/inet"]


def test_bad_myhostname(postfix_dir, env):
    postconf(postfix_dir, "myhostname = mailhost")
    res = diagnose(postfix_dir, env, checks=["config"], fqdn="mx1.lab.test")
    f = next(f for f in res["findings"] if f["id"] == "service.hostname_invalid")
    assert f["fix"]["params"] == {"myhostname": "mx1.lab.test"}


# ------------------------------------------------------------------ probes
def test_stopped_master(postfix_dir, env):
    res = diagnose(postfix_dir, env, checks=["probes"])
    assert "service.not_running" in ids(res)


@needs_root
def test_lookup_tables(postfix_dir, env):
    missing, stale, unreadable = (postfix_dir / n for n in ("missing", "stale", "unreadable"))
    for src in (missing, stale, unreadable):
        src.write_text("lab.test OK\n")
    sh("postmap", "-c", str(postfix_dir), "hash:%s" % stale)
    sh("postmap", "-c", str(postfix_dir), "hash:%s" % unreadable)
    old = time.time() - 3600
    os.utime(str(stale) + ".db", (old, old))
    os.utime(stale, (old + 600, old + 600))  # source edited after the index was built
    os.chown(str(unreadable) + ".db", 0, 0)
    os.chmod(str(unreadable) + ".db", 0o600)
    postconf(postfix_dir, "smtpd_client_restrictions = check_client_access hash:%s, check_client_access hash:%s, "
             "check_client_access hash:%s" % (missing, stale, unreadable), "transport_maps = nosuchtype:%s" % missing)
    res = diagnose(postfix_dir, env, checks=["probes"], dns_records=False)
    by_id = {}
    for f in res["findings"]:
        by_id.setdefault(f["id"], []).append(f)
    assert by_id["maps.missing_db"][0]["fix"]["postmap"] == ["hash:%s" % missing]
    assert by_id["maps.stale_db"][0]["fix"]["postmap"] == ["hash:%s" % stale]
    assert str(unreadable) + ".db" in by_id["maps.db_permission"][0]["fix"]["files"]
    assert "maps.unsupported_type" in by_id


def _openssl(*args):
    subprocess.run(["openssl", *args], check=True, capture_output=True)


@needs_root
def test_tls_files(postfix_dir, env, tmp_path):
    cert, key, other = tmp_path / "c.pem", tmp_path / "k.pem", tmp_path / "other.pem"
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
             "-days", "5", "-subj", "/CN=mx1.lab.test")
    _openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", str(other))
    key.chmod(0o644)
    postconf(postfix_dir, "smtpd_tls_security_level = may", "smtpd_tls_cert_file = %s" % cert,
             "smtpd_tls_key_file = %s" % key)
    res = diagnose(postfix_dir, env, checks=["probes"], dns_records=False)
    unreadable = [f for f in res["findings"] if f["id"] == "tls.cert_unreadable"]
    assert unreadable and unreadable[0]["class"] == "auto"
    assert unreadable[0]["fix"]["files"] == {str(key): {"owner": "root", "mode": "0600"}}
    expiry = [f for f in res["findings"] if f["id"] == "tls.cert_expiry"]
    assert expiry and 3 <= expiry[0]["evidence"]["days_left"] <= 5

    key.chmod(0o640)  # group read (Debian's ssl-cert group) is accepted
    postconf(postfix_dir, "smtpd_tls_key_file = %s" % other)
    other.chmod(0o600)
    res = diagnose(postfix_dir, env, checks=["probes"], dns_records=False, cert_days=1)
    found = [(f["id"], f["evidence"].get("key_matches")) for f in res["findings"]]
    assert ("tls.cert_expiry", False) in found  # key does not belong to the certificate
    assert not [f for f in res["findings"] if f["id"] == "tls.cert_unreadable"]

    postconf(postfix_dir, "smtpd_tls_cert_file = %s" % (tmp_path / "gone.pem"))
    res = diagnose(postfix_dir, env, checks=["probes"], dns_records=False)
    gone = [f for f in res["findings"] if f["id"] == "tls.cert_unreadable"]
    assert gone and gone[0]["class"] == "advisory"


@needs_root
def test_dead_resolver_is_the_root_cause(postfix_instance, env):
    """Seed 004: the first nameserver never answers; timeouts in the log are its symptom."""
    env["resolv"].write_text("nameserver %s\nnameserver %s\n" % (DEAD, LIVE))
    timeouts = [c for c in CASES if c[0] == "dns.mx_connect_timeout"]
    env["log"].write_text("\n".join(as_log(timeouts * 3)) + "\n")
    res = diagnose(postfix_instance, env)
    first = res["findings"][0]
    assert first["id"] == "dns.resolver_dead"
    assert first["fix"]["remove_nameservers"] == [DEAD] and first["fix"]["keep_nameservers"] == [LIVE]
    assert first["fix"]["can_fix"] is True and first["evidence"]["first_is_dead"] is True
    assert "dns.mx_connect_timeout" in first["explains"]
    symptom = next(f for f in res["findings"] if f["id"] == "dns.mx_connect_timeout")
    assert symptom["root_cause"] == "dns.resolver_dead"


def test_no_resolver_answers_cannot_be_fixed(postfix_dir, env):
    env["resolv"].write_text("nameserver %s\n" % DEAD)
    res = diagnose(postfix_dir, env, checks=["probes"])
    f = next(f for f in res["findings"] if f["id"] == "dns.resolver_dead")
    assert f["severity"] == "critical" and f["fix"]["can_fix"] is False
    assert res["probes"]["dns"] == {"skipped": "no resolver answers"}


def test_missing_dns_records(postfix_dir, env, dns):
    live, _dead = dns
    live.records.pop(("_dmarc.lab.test", "TXT"))
    live.records[("lab.test", "TXT")] = ["google-site-verification=x"]
    live.records[("10.2.0.192.in-addr.arpa", "PTR")] = ["dsl-192-0-2-10.isp.example"]
    found = ids(diagnose(postfix_dir, env, checks=["probes"]))
    assert {"auth.spf_permerror", "auth.dmarc_missing", "dns.ptr_mismatch"} <= found


# ------------------------------------------------------------------ queue
@needs_root
def test_queue_backlog_and_corrupt_file(postfix_instance, env):
    for i in range(3):
        send(postfix_instance, "alice@lab.test", "user%d@remote.test" % i)
    corrupt = queue_dir(postfix_instance) / "corrupt"
    corrupt.mkdir(exist_ok=True)
    (corrupt / "ABCDEF12345").write_bytes(b"\0garbage")
    for _ in range(100):
        res = diagnose(postfix_instance, env, checks=["queue"], backlog=2)
        if res["queue"]["counts"].get("deferred", 0) >= 3:
            break
        time.sleep(0.1)
    assert {"queue.deferred_backlog", "queue.corrupt_files"} <= ids(res)
    assert res["queue"]["counts"]["corrupt"] == 1
    assert res["queue"]["qshape"]["domains"][0]["domain"] == "remote.test"


# ------------------------------------------------------------------ bounces and logs
def test_bounce_file(postfix_dir, env, tmp_path):
    mbox = tmp_path / "bounces.mbox"
    mbox.write_bytes(b"From MAILER-DAEMON Tue Nov 24 10:00:00 2026\n" + bounces.POSTFIX_DSN)
    res = diagnose(postfix_dir, env, checks=["bounce"], bounce_files=[str(mbox)])
    f = next(f for f in res["findings"] if f["id"] == "bounce.dsn")
    assert f["evidence"]["summary"]["by_status"] == {"5.1.1": 1, "5.2.2": 1}
    assert all("nobody@" not in (r["recipient"] or "") for r in res["bounces"])  # masked by default


def test_log_findings_incremental_and_check_mode(postfix_dir, env):
    env["log"].write_text("\n".join(as_log([c for c in CASES if c[0] == "maps.stale_db"])) + "\n")
    res = diagnose(postfix_dir, env, check=True, checks=["log"])
    assert "maps.stale_db" in ids(res)
    assert not env["state"].exists()  # check mode saves no scan state
    # what the report and the play's summary take from the result (no task per host builds them)
    assert res["check_mode"] is True and re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", res["generated_at"])
    assert res["summary"] == "%d finding(s) (%s): %s" % (res["counts"]["total"], ", ".join(
        "%s %d" % kv for kv in sorted(res["counts"]["by_severity"].items())), ", ".join(res["ids"]))
    res = diagnose(postfix_dir, env, checks=["log"])
    assert "maps.stale_db" in ids(res) and env["state"].exists() and res["check_mode"] is False
    assert oct(env["state"].stat().st_mode & 0o777) == "0o600"
    again = diagnose(postfix_dir, env, checks=["log"])
    assert again["log"]["files"][0]["mode"] == "cached" and ids(again) == ids(res)


def test_check_mode_gives_the_same_findings(postfix_dir, env):
    postconf(postfix_dir, "soft_bounce = yes")
    real = diagnose(postfix_dir, env, incremental=False)
    dry = diagnose(postfix_dir, env, check=True, incremental=False)
    assert real["ids"] == dry["ids"] and "config.soft_bounce_on" in real["ids"]


def test_missing_log_is_reported_not_fatal(postfix_dir, env, tmp_path):
    res = diagnose(postfix_dir, env, checks=["log"], log_paths=[str(tmp_path / "nope.log")])
    assert res["log"]["files"] == [] and "log_paths match no file" in res["log"]["note"]
    assert res["log"]["read"] is False and "no log read" in res["summary"]


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize("bad,words", [
    (dict(log_window="seven days"), "log_window"),
    (dict(outbound_ip="192.0.2.1; rm -rf /"), "not an IP address"),
    (dict(resolver_timeout=0), "resolver_timeout"),
    (dict(flood_share=2.0), "flood_share"),
    (dict(internal_networks=["10.0.0.0/33"]), "internal_networks"),
    (dict(checks=["config", "everything"]), "checks"),
])
def test_bad_arguments_fail_cleanly(postfix_dir, bad, words):
    res = run_module("postfix_diagnose", dict(config_dir=str(postfix_dir), **bad))
    assert res.get("failed") and words in res["msg"]


def test_missing_config_dir_fails_cleanly(tmp_path):
    res = run_module("postfix_diagnose", dict(config_dir=str(tmp_path / "nowhere"), checks=["config"]))
    assert res.get("failed") or res["errors"]


def test_result_never_contains_a_sasl_password(postfix_dir, env):
    secret = "S3cretPassw0rd"
    pw = postfix_dir / "sasl_passwd"
    pw.write_text("[relay.lab.test]:587 user:%s\n" % secret)
    sh("postmap", "-c", str(postfix_dir), "hash:%s" % pw)
    postconf(postfix_dir, "smtp_sasl_password_maps = hash:%s" % pw, "smtp_sasl_auth_enable = yes")
    env["log"].write_text("Nov 24 10:00:00 mx1 postfix/smtp[1]: warning: SASL authentication failure: "
                          "user=relay password=%s rejected\n" % secret)
    assert secret not in repr(diagnose(postfix_dir, env))


def test_runs_as_unprivileged_reader_if_needed(postfix_dir, env):
    # The module reads files only; a nobody-owned state dir must not break it.
    if os.geteuid() == 0:
        os.chown(env["resolv"], pwd.getpwnam("nobody").pw_uid, -1)
    assert diagnose(postfix_dir, env, checks=["probes"], dns_records=False)["probes"]["resolvers"]["servers"]


def test_zombie_master_is_not_running(tmp_path):
    """A master that exited but was never reaped (PID 1 in a container) keeps its name in /proc."""
    from ansible.module_utils import host_probes
    queue, proc = tmp_path / "queue", tmp_path / "proc"
    (queue / "pid").mkdir(parents=True)
    (queue / "pid" / "master.pid").write_text("%10d\n" % 4242)
    (proc / "4242").mkdir(parents=True)
    (proc / "4242" / "stat").write_text("4242 (master) Z 1 4242 4242 0 -1 4228428 0 0\n")
    assert host_probes.master_status(str(queue), str(proc))["running"] is False
    (proc / "4242" / "stat").write_text("4242 (master) S 1 4242 4242 0 -1 4228428 0 0\n")
    assert host_probes.master_status(str(queue), str(proc))["running"] is True


@needs_root
def test_logged_fault_fixed_since_is_historical(postfix_dir, env):
    """Old log lines about a table that is fine now must not ask for the fix again."""
    table = postfix_dir / "access"
    table.write_text("lab.test OK\n")
    sh("postmap", "-c", str(postfix_dir), "hash:%s" % table)
    postconf(postfix_dir, "smtpd_client_restrictions = check_client_access hash:%s" % table)
    env["log"].write_text("\n".join(as_log([c for c in CASES if c[0] == "maps.stale_db"])) + "\n")
    only_log = diagnose(postfix_dir, env, checks=["log"], incremental=False)
    assert next(f for f in only_log["findings"] if f["id"] == "maps.stale_db")["class"] == "auto"
    res = diagnose(postfix_dir, env, checks=["log", "probes"], incremental=False, dns_records=False)
    f = next(f for f in res["findings"] if f["id"] == "maps.stale_db")
    assert f["class"] == "advisory" and f["historical"] is True and f["fix"]["can_fix"] is False


def test_fix_ledger_makes_older_log_lines_history(postfix_dir, env, tmp_path):
    """Log-only faults (no live check) fixed by a remediation must not be fixed again from old lines."""
    env["log"].write_text("\n".join(as_log([c for c in CASES if c[0] == "ipv6.unreachable"])) + "\n")
    ledger = tmp_path / "fixed.json"
    before = diagnose(postfix_dir, env, checks=["log"], incremental=False, fix_ledger=str(ledger))
    assert next(f for f in before["findings"] if f["id"] == "ipv6.unreachable")["class"] == "auto"
    ledger.write_text('{"ipv6.unreachable": %d}' % time.time())
    after = diagnose(postfix_dir, env, checks=["log"], incremental=False, fix_ledger=str(ledger))
    f = next(f for f in after["findings"] if f["id"] == "ipv6.unreachable")
    assert f["historical"] is True and f["fix"]["can_fix"] is False
    ledger.write_text('{"ipv6.unreachable": 1000}')  # fixed long before these lines: a new occurrence
    again = diagnose(postfix_dir, env, checks=["log"], incremental=False, fix_ledger=str(ledger))
    assert next(f for f in again["findings"] if f["id"] == "ipv6.unreachable")["class"] == "auto"
    ledger.write_text("not json")
    assert diagnose(postfix_dir, env, checks=["log"], incremental=False, fix_ledger=str(ledger))["ids"]


def test_saslauthd_socket_must_be_inside_the_chroot(postfix_dir, env):
    (postfix_dir / "sasl").mkdir(exist_ok=True)
    (postfix_dir / "sasl" / "smtpd.conf").write_text("pwcheck_method: saslauthd\nmech_list: PLAIN LOGIN\n")
    postconf(postfix_dir, "smtpd_sasl_auth_enable = yes")
    sh("postconf", "-c", str(postfix_dir), "-F", "smtp/inet/chroot=y")
    res = diagnose(postfix_dir, env, checks=["probes"], dns_records=False)
    f = next(f for f in res["findings"] if f["id"] == "sasl.saslauthd_down")
    assert f["fix"]["chroot"] is True
    assert f["fix"]["run_path"] == str(queue_dir(postfix_dir) / "var" / "run" / "saslauthd")
    sh("postconf", "-c", str(postfix_dir), "-F", "smtp/inet/chroot=n")
    res = diagnose(postfix_dir, env, checks=["probes"], dns_records=False)
    f = next(f for f in res["findings"] if f["id"] == "sasl.saslauthd_down")
    assert f["fix"]["chroot"] is False and f["fix"]["run_path"] == "/var/run/saslauthd"


@pytest.mark.parametrize("value,expected", [
    ("all", None), ("loopback-only", {"127.0.0.1", "::1"}), ("127.0.0.1, [::1]", {"127.0.0.1", "::1"}),
    ("192.0.2.5", {"192.0.2.5"}), ("mail.example.org", None), ("", None),
])
def test_postfix_listen_addresses(value, expected):
    from ansible.module_utils import diagnose_rules
    assert diagnose_rules.postfix_addresses(value) == expected


def test_another_daemon_on_port_25_does_not_hide_a_missing_listener():
    from ansible.module_utils import diagnose_rules
    probes = dict(master=dict(running=True, pid=1, pid_file="x"), smtp_services=[dict(service="smtp", port=25)],
                  inet_interfaces="127.0.0.1", listening={25: ["127.0.0.2"]})
    assert [f["id"] for f in diagnose_rules.probe_findings(probes, {})] == ["net.connection_refused"]
    probes["listening"] = {25: ["127.0.0.2", "127.0.0.1"]}
    assert diagnose_rules.probe_findings(probes, {}) == []
    probes.update(inet_interfaces="all", listening={25: ["0.0.0.0"]})
    assert diagnose_rules.probe_findings(probes, {}) == []


def test_inline_credentials_and_auth_exchanges_never_leave_the_module(postfix_dir, env):
    """static:/inline: password maps put the password in main.cf and master.cf; verbose SMTP
    logging shows AUTH PLAIN data. The report's postconf -n, evidence and invocation hide them."""
    import base64
    main, inline, master = "Pl4ntedMainSecret", "Pl4ntedInlineSecret", "Pl4ntedMasterSecret"
    postconf(postfix_dir, "smtp_sasl_password_maps = static:relayuser:%s" % main,
             "lmtp_sasl_password_maps = inline:{ [lmtp.lab.test]=lmtpuser:%s }" % inline)
    sh("postconf", "-c", str(postfix_dir), "-P", "smtp/unix/smtp_sasl_password_maps=static:bob:%s" % master)
    b64 = base64.b64encode(b"\0relayuser\0" + main.encode()).decode()
    env["log"].write_text("Nov 24 10:00:00 mx1 postfix/smtp[1]: > relay.lab.test[192.0.2.1]:587: AUTH PLAIN %s\n"
                          "Nov 24 10:00:01 mx1 postfix/smtp[1]: warning: SASL authentication failure: "
                          "AUTH PLAIN %s rejected\n" % (b64, b64))
    res = diagnose(postfix_dir, env)
    text = repr(res)
    for secret in (main, inline, master, b64):
        assert secret not in text, secret
    assert res["postconf_n"]["smtp_sasl_password_maps"].startswith("static:")  # the setting itself is shown
    assert "Pl4nted" in (postfix_dir / "main.cf").read_text()  # and left alone


def test_failed_lookups_claim_no_missing_record(postfix_dir, env, dns):
    """Issue 17 item 6: a resolver that answers SERVFAIL is "lookup failed", its own evidence;
    no SPF, DMARC or PTR finding (and no proposed record) rests on it."""
    live, _dead = dns
    live.mode = "servfail"
    res = diagnose(postfix_dir, env, checks=["probes"])
    found = {f["id"] for f in res["findings"]}
    assert not found & {"auth.spf_permerror", "auth.dmarc_missing", "dns.ptr_mismatch"}, found
    rec = res["probes"]["dns"]["domains"]["lab.test"]
    assert rec["lookup_failed"] == {"TXT": "SERVFAIL", "_dmarc TXT": "SERVFAIL", "MX": "SERVFAIL"}
    assert res["probes"]["dns"]["ptr"]["checked"] is False and res["probes"]["dns"]["ptr"]["lookup_failed"] == "SERVFAIL"


@needs_root
def test_chroot_missing_services_and_hosts_is_found_on_a_running_instance(postfix_instance, env):
    """Debian's master.cf chroots the daemons; their etc/ lost services and hosts (started
    without Debian's start script): service.chroot_incomplete, with the copies to make."""
    chroot = queue_dir(postfix_instance) / "etc"
    for name in ("services", "hosts"):
        (chroot / name).unlink()
    res = diagnose(postfix_instance, env)
    f = next(f for f in res["findings"] if f["id"] == "service.chroot_incomplete")
    assert f["class"] == "auto" and {c["dest"] for c in f["fix"]["chroot_copies"]} == {str(chroot / "services"),
                                                                                str(chroot / "hosts")}
    assert {x["name"]: x["state"] for x in res["probes"]["chroot"]["files"]}["etc/services"] == "missing"


@needs_root
def test_a_change_window_past_its_deadline_is_a_finding_and_soft_bounce_is_reported_again(postfix_instance, env):
    """Issue 19: the marker no longer hides soft_bounce once its deadline has passed."""
    import json as _json

    from ansible.module_utils.diagnose_rules import instance_marker

    postconf(postfix_instance, "soft_bounce=yes")
    marker = Path(instance_marker(str(env["marker"]), str(postfix_instance)))  # this instance's window
    marker.write_text(_json.dumps(dict(id="w9", opened_at="2026-11-29T01:00:00Z", deadline=time.time() + 3600,
                                       config_dir=str(postfix_instance), replaced={"soft_bounce": None})))
    assert "config.soft_bounce_on" not in ids(diagnose(postfix_instance, env))  # open window: intended
    marker.write_text(_json.dumps(dict(id="w9", opened_at="2026-11-29T01:00:00Z", deadline=time.time() - 5,
                                       config_dir=str(postfix_instance), replaced={"soft_bounce": None})))
    res = diagnose(postfix_instance, env)
    found = {f["id"]: f for f in res["findings"]}
    assert found["config.change_window_expired"]["class"] == "auto"
    assert found["config.change_window_expired"]["evidence"]["replaced"] == {"soft_bounce": None}
    # reported again, fixed by closing the window (one fix, not two)
    assert found["config.soft_bounce_on"]["fix"]["can_fix"] is False
    assert found["config.soft_bounce_on"]["root_cause"] == "config.change_window_expired"
    # a marker from before deadlines: damaged (it says nothing to restore), a finding
    marker.write_text(_json.dumps(dict(opened_at="2020-01-01T00:00:00Z")))
    assert "config.change_window_expired" in ids(diagnose(postfix_instance, env))


@needs_root
def test_auto_reads_the_log_file_postfix_writes_never_the_journal_too(postfix_instance, env):
    """One source per host: with maillog_file written by Postfix, auto picks the file, even on a
    machine that also has journalctl."""
    send(postfix_instance, "a@lab.test", "b@remote.example")  # postlogd writes maillog_file now
    log = queue_dir(postfix_instance).parent / "mail.log"
    for _ in range(50):
        if log.exists() and log.stat().st_size:
            break
        time.sleep(0.1)
    res = diagnose(postfix_instance, env, log_paths=None, checks=["log", "config"])
    assert res["log"]["source"] == "file" and "Postfix writes %s" % log in res["log"]["source_reason"], res["log"]
    assert res["log"]["journal"] is None
