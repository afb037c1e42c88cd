# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 31 item 3 (messages that recur in the field) and issue 32 (our rate too high for one
provider): each new ID from its own wordings (Postfix 3.7 and 3.10 share them: tests/vocabulary),
with the evidence its finding shows; the near misses (another program, a remote server, a similar
benign line) that must not raise it; and the live rules (real postconf and postfix check in a
scratch instance).

Lines are written for this project in Postfix's formats (tests/vocabulary, postfix-messages.md);
none is copied from a corpus.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import time

import pytest
from ansible.module_utils import diagnose_rules as rules
from ansible.module_utils import dsn_parse, log_scan
from ansible.module_utils import fault_catalog as cat
from ansible.module_utils import log_signatures as sig
from conftest import queue_dir, run_direct, run_module, sh

HEAD = "Dec  6 03:14:%02d mx1 %s[%d]: %s"
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="changes a queue directory's group (root)")


def line(tag, msg, i=0):
    return HEAD % (i % 60, tag, 4242 + i, msg)


def classify(tag, msg):
    fid, m = sig.classify(line(tag, msg))
    return fid, ({k: v for k, v in m.groupdict().items() if v is not None} if m else None)


def scan(lines, min_count=5):
    agg = log_scan.scan_lines(lines)
    return agg, {f["id"]: f for f in rules.log_findings(agg, {"log_min_count": min_count})}


GMAIL = "gmail-smtp-in.l.google.example[192.0.2.27]"


def status(reply, rcpt="a@gmail.example", peer=GMAIL, dsn="4.7.28", verb="said"):
    """Our smtp client's status line quoting what the peer answered."""
    return ("3D27412A016: to=<%s>, relay=%s:25, delay=2, delays=0/0/0.5/1.5, dsn=%s, status=%s (host %s %s: %s "
            "(in reply to end of DATA command))" % (rcpt, peer, dsn, "deferred" if dsn[0] == "4" else "bounced", peer,
                                                     verb, reply))


# (ID, syslog tag, message, evidence groups the match must carry)
OURS = [
    # 1. a milter that cannot be reached, or breaks off
    ("filter.milter_unreachable", "postfix/smtpd", "warning: connect to Milter service inet:localhost:8891: Connection refused",
     {"where": "inet:localhost:8891", "error": "Connection refused"}),
    ("filter.milter_unreachable", "postfix/cleanup",
     "warning: connect to Milter service unix:/run/opendkim/opendkim.sock: No such file or directory",
     {"where": "unix:/run/opendkim/opendkim.sock", "error": "No such file or directory"}),
    ("filter.milter_unreachable", "postfix/smtpd",
     "warning: milter inet:127.0.0.1:11332: can't read SMFIC_OPTNEG reply packet header: Connection timed out",
     {"where": "inet:127.0.0.1:11332"}),
    ("filter.milter_unreachable", "postfix/submission/smtpd",
     "warning: 4F1A2B3C4D: milter inet:127.0.0.1:8891: EOF while reading string: Success", {"where": "inet:127.0.0.1:8891"}),
    ("filter.milter_unreachable", "postfix/smtpd", "warning: milter inet:localhost:8893: read error in initial handshake",
     {"where": "inet:localhost:8893"}),
    # 2. TLS that switches itself off
    ("tls.disabled", "postfix/smtpd", "warning: RSA private key in /etc/ssl/private/mx.key does not match public key in "
                                      "/etc/ssl/certs/mx.pem: disabling TLS support",
     {"file": "/etc/ssl/private/mx.key", "cert": "/etc/ssl/certs/mx.pem"}),
    ("tls.disabled", "postfix/smtpd", "warning: error opening chain file: /etc/ssl/mx-chain.pem: Permission denied",
     {"chain": "/etc/ssl/mx-chain.pem"}),
    ("tls.disabled", "postfix/smtpd", "warning: error loading chain from /etc/ssl/mx-chain.pem: key not first",
     {"chain": "/etc/ssl/mx-chain.pem"}),
    ("tls.disabled", "postfix/smtp", "warning: No private key found in /etc/postfix/client-chain.pem",
     {"chain": "/etc/postfix/client-chain.pem"}),
    ("tls.disabled", "postfix/smtpd", 'warning: Invalid TLS protocol list ">=TLSv9": disabling TLS support',
     {"where": "Invalid TLS protocol list"}),
    # 3. SASL
    ("sasl.no_mechanisms", "postfix/smtpd", "fatal: no SASL authentication mechanisms", {}),
    ("sasl.no_mechanisms", "postfix/submission/smtpd",
     "fatal: smtpd_sasl_mechanism_filter discards all mechanisms in 'CRAM-MD5 DIGEST-MD5'",
     {"param": "smtpd_sasl_mechanism_filter", "mech": "CRAM-MD5 DIGEST-MD5"}),
    ("sasl.sasldb_missing", "postfix/smtpd",
     "warning: SASL authentication problem: unable to open Berkeley db /etc/sasldb2: No such file or directory",
     {"file": "/etc/sasldb2", "error": "No such file or directory"}),
    ("sasl.sasldb_missing", "postfix/submission/smtpd",
     "warning: SASL authentication problem: unable to open MDB environment /etc/sasldb2: Permission denied",
     {"file": "/etc/sasldb2", "error": "Permission denied"}),
    ("sasl.client_password_maps_missing", "postfix/smtp",
     "fatal: specify a password table via the `smtp_sasl_password_maps' configuration parameter",
     {"param": "smtp_sasl_password_maps"}),
    ("sasl.client_password_maps_missing", "postfix/lmtp",
     "fatal: specify a password table via the `lmtp_sasl_password_maps' configuration parameter",
     {"param": "lmtp_sasl_password_maps"}),
    # 4. local submission
    ("queue.maildrop_permission", "postfix/postdrop",
     "warning: mail_queue_enter: create file maildrop/736251.4244: Permission denied",
     {"file": "maildrop", "error": "Permission denied"}),
    ("queue.maildrop_permission", "postfix/sendmail", "fatal: execv /usr/sbin/postdrop: Permission denied",
     {"where": "/usr/sbin/postdrop"}),
    # 5. a port held by another process
    ("service.port_in_use", "postfix/master", "fatal: bind 0.0.0.0 port 25: Address already in use",
     {"ip": "0.0.0.0", "where": "25"}),
    ("service.port_in_use", "postfix/master", "fatal: bind :: port 587: Address already in use", {"ip": "::", "where": "587"}),
    # 6. a daemon that keeps exiting
    ("service.daemon_dying", "postfix/master", "warning: process /usr/lib/postfix/sbin/smtpd pid 1234 exit status 1",
     {"daemon": "smtpd", "where": "1"}),
    ("service.daemon_dying", "postfix/master", "warning: process /usr/libexec/postfix/cleanup pid 77 exit status 1",
     {"daemon": "cleanup", "where": "1"}),
    # 7. a provider saying that we send too fast
    ("delivery.rate_limited", "postfix/smtp", status(
        "421-4.7.28 Gmail has detected an unusual rate of mail originating from your IP address. To protect our "
        "users from spam, mail has been temporarily rate limited."),
     {"domain": "gmail.example", "dest": GMAIL, "ip": "192.0.2.27", "why": "4.7.28"}),
    ("delivery.rate_limited", "postfix/smtp", status(
        "421 4.7.0 [TSS04] Messages from 192.0.2.25 temporarily deferred due to unexpected volume or user complaints",
        rcpt="b@yahoo.example", peer="mta7.yahoo.example[192.0.2.28]", dsn="4.7.0", verb="refused to talk to me"),
     {"domain": "yahoo.example", "why": "[TSS04]"}),
    ("delivery.rate_limited", "postfix/smtp", status(
        "451 4.7.500 Server busy. Please try again later from [192.0.2.25]. (S77719)", rcpt="c@ms.example",
        peer="mx.ms.example[192.0.2.30]", dsn="4.7.500"), {"domain": "ms.example"}),
    ("delivery.rate_limited", "postfix/smtp", status(
        "450 4.7.1 Too many messages from your IP address, try again later", rcpt="d@mail.example",
        peer="mx.mail.example[192.0.2.31]", dsn="4.7.1"), {"domain": "mail.example"}),
    ("delivery.rate_limited", "postfix/smtp", status(
        "421 4.7.0 Too many concurrent SMTP connections from this IP address; please try again later",
        rcpt="e@gmail.example", dsn="4.7.0"), {"domain": "gmail.example"}),
]


@pytest.mark.parametrize(("fid", "tag", "msg", "groups"), OURS, ids=["%s-%d" % (r[0], i) for i, r in enumerate(OURS)])
def test_each_wording_is_its_id_with_its_evidence(fid, tag, msg, groups):
    got, found = classify(tag, msg)
    assert got == fid, msg
    assert {k: found.get(k) for k in groups} == groups


# Lines that look alike and are not the ID (a near miss would be a false finding at 3 a.m.).
NEAR = [
    # a peer refusing our SMTP connection is net.connection_refused, a milter line is not
    ("postfix/smtp", "connect to mx.far.example[192.0.2.30]:25: Connection refused", "net.connection_refused"),
    # the milter's own rejection of a message is policy, not an unreachable milter
    ("postfix/cleanup", "4F1A2B3C4D: milter-reject: END-OF-MESSAGE from c.example[192.0.2.9]: 5.7.1 Spam; "
                        "from=<a@c.example> to=<b@lab.example>", None),
    # an unreadable key file is tls.cert_unreadable (the probe's ID), not the mismatch
    ("postfix/smtpd", 'warning: cannot get RSA private key from file "/etc/ssl/private/mx.key": disabling TLS support',
     "tls.cert_unreadable"),
    # saslauthd down is sasl.saslauthd_down; the password check failing is a statistic
    ("postfix/smtpd", "warning: SASL authentication failure: cannot connect to saslauthd server: No such file or directory",
     "sasl.saslauthd_down"),
    ("postfix/smtpd", "warning: SASL authentication failure: Password verification failed", None),
    # cleanup creating an incoming file on a full disk is the write error, not the maildrop
    ("postfix/cleanup", "warning: mail_queue_enter: create file incoming/736251.4245: No space left on device",
     "queue.write_error"),
    # our SMTP client failing to bind its own source address is not master's listener
    ("postfix/smtp", "warning: 4F1A2B3C4D: bind 192.0.2.99: Cannot assign requested address", None),
    # a crash is service.daemon_failure; a content filter's command exiting is spawn's, not master's
    ("postfix/master", "warning: process /usr/lib/postfix/sbin/smtpd pid 1234 killed by signal 11", "service.daemon_failure"),
    ("postfix/spawn", "warning: command /usr/local/bin/filter exit status 1", None),
    # the recipient receives too fast: about their mailbox, not our rate
    ("postfix/smtp", status("450-4.2.1 The user you are trying to contact is receiving mail at a rate that prevents "
                            "additional messages from being delivered. rate limit", dsn="4.2.1"), None),
    # a per-message recipient limit: Postfix sends the rest in the next transaction
    ("postfix/smtp", status("452 4.5.3 Too many recipients", dsn="4.5.3"), None),
    # anvil's own rate limit is our policy against a client
    ("postfix/anvil", "warning: Connection rate limit exceeded: 62 from unknown[198.51.100.7] for service smtp", None),
    # smtpd refusing a client for its rate is our policy at work
    ("postfix/smtpd", "warning: Connection rate limit exceeded: 31 from unknown[198.51.100.8] for service smtp", None),
]


@pytest.mark.parametrize(("tag", "msg", "expected"), NEAR, ids=["near-%d" % i for i in range(len(NEAR))])
def test_near_misses_are_not_the_new_ids(tag, msg, expected):
    assert classify(tag, msg)[0] == expected, msg


def test_another_program_saying_it_is_not_postfixs():
    """opendkim's and saslauthd's own lines never raise a Postfix ID."""
    agg, found = scan([line("opendkim", "connect to Milter service inet:localhost:8891: Connection refused", 1),
                       line("saslauthd", "unable to open Berkeley db /etc/sasldb2: No such file or directory", 2),
                       line("exim", "fatal: bind 0.0.0.0 port 25: Address already in use", 3)], min_count=1)
    assert not set(found) & {"filter.milter_unreachable", "sasl.sasldb_missing", "service.port_in_use"}, found


def test_a_remote_server_saying_our_words_is_its_own_side():
    """Words a peer says about its own system (its milter, its sasldb) are that domain's statistic; a peer
    saying we send too fast speaks about us (catalog fact peer="ours")."""
    words = ["451 4.7.1 connect to Milter service inet:localhost:8891: Connection refused",
             "454 4.7.0 SASL authentication problem: unable to open Berkeley db /etc/sasldb2: Permission denied"]
    lines = [line("postfix/smtp", status(w, rcpt="u@far.example", peer="mx.far.example[192.0.2.40]", dsn=w.split()[1]), i)
             for i, w in enumerate(words)]
    agg, found = scan(lines, min_count=1)
    assert agg["ids"] == {} and agg["remote"]["far.example"]["count"] == 2
    assert cat.CATALOG["delivery.rate_limited"]["peer"] == "ours"
    agg, found = scan([line("postfix/smtp", OURS[-1][2], i) for i in range(5)])
    assert agg["remote"] == {} and found["delivery.rate_limited"]["evidence"]["count"] == 5


# ------------------------------------------------------------------ findings from the log
def _module(tmp_path, lines, **extra):
    log = tmp_path / "mail.log"
    stamp = time.strftime("%b %e %H:%M:%S", time.localtime())
    log.write_text("".join("%s lab %s[4242]: %s\n" % (stamp, tag, msg) for tag, msg in lines))
    r, _out, err = run_direct("postfix_diagnose", dict(checks=["log"], log_paths=[str(log)], log_window="1h",
                                                       state_file=str(tmp_path / "state.json"), log_source="file", **extra))
    assert not r.get("failed"), (r.get("msg"), err[-500:])
    return {f["id"]: f for f in r["findings"]}


def test_the_milter_finding_shows_what_milter_default_action_does_here(tmp_path, postfix_dir):
    sh("postconf", "-c", str(postfix_dir), "-e", "milter_default_action = quarantine",
       "smtpd_milters = inet:localhost:8891")
    found = _module(tmp_path, [("postfix/smtpd", OURS[0][2])], config_dir=str(postfix_dir))
    f = found["filter.milter_unreachable"]
    assert f["evidence"]["settings"] == {"milter_default_action": "quarantine", "smtpd_milters": "inet:localhost:8891",
                                         "non_smtpd_milters": ""}
    assert "inet:localhost:8891 (1)" in f["summary"] and "quarantine" in f["cause"] and f["class"] == "advisory"


def test_a_daemon_exit_is_a_finding_only_when_it_recurs(tmp_path):
    dying = ("postfix/master", "warning: process /usr/lib/postfix/sbin/smtpd pid 4243 exit status 1")
    assert "service.daemon_dying" not in _module(tmp_path, [dying] * 4)  # log_min_count (5) not reached
    found = _module(tmp_path, [dying] * 5 + [("postfix/master", "warning: process /usr/lib/postfix/sbin/cleanup pid 9 "
                                                                  "exit status 1")])
    f = found["service.daemon_dying"]
    assert f["summary"] == "6 abnormal exit(s) of: smtpd (5), cleanup (1)"
    # with the fatal that says why, the exits are its symptom
    found = _module(tmp_path, [("postfix/smtpd", "fatal: no SASL authentication mechanisms"), dying] * 5)
    assert found["service.daemon_dying"]["root_cause"] == "sasl.no_mechanisms"
    assert "service.daemon_dying" in found["sasl.no_mechanisms"]["explains"]


def test_the_rate_finding_names_the_providers(tmp_path):
    lines = [("postfix/smtp", OURS[-5][2])] * 5
    f = _module(tmp_path, lines)["delivery.rate_limited"]
    assert f["summary"] == "5 reply(s) that we send too fast, from the provider(s) of: gmail.example (5)"
    assert f["class"] == "advisory" and any("destination_rate_delay" in s for s in f["fix"]["steps"])


# ------------------------------------------------------------------ the live rules
def test_port_holders_are_the_port_in_use_finding_and_explain_the_stopped_master():
    m = dict(running=False, pid_file="/var/spool/postfix/pid/master.pid", pid=None)
    p = dict(master=m, inet_interfaces="all", inet_services=[dict(service="smtp", port=25, host=None)],
             port_holders=[dict(port=25, address="0.0.0.0", program="exim4", pid=812, cmdline="/usr/sbin/exim4 -bd")])
    found = {f["id"]: f for f in rules.correlate(rules.probe_findings(p, {}))}
    assert found["service.port_in_use"]["evidence"]["port_holders"][0]["program"] == "exim4"
    assert "25 (smtp) by exim4 pid 812" in found["service.port_in_use"]["summary"]
    assert found["service.not_running"]["root_cause"] == "service.port_in_use"
    assert found["service.not_running"]["fix"]["can_fix"] is False
    # nobody holds the port: only the stopped master (its fix starts Postfix)
    found = {f["id"] for f in rules.probe_findings(dict(p, port_holders=[]), {})}
    assert found == {"service.not_running"}


def test_tls_disabled_is_explained_by_the_probes_key_mismatch():
    probe = rules._tls_findings(dict(role="smtpd", cert=dict(path="/c.pem", exists=True, mode="0644"),
                                     key=dict(path="/k.key", exists=True, owner="root", group="root", mode="0600"),
                                     key_matches=False), {})
    log = cat.make_finding("tls.disabled", "1 log line(s)")
    found = {f["id"]: f for f in rules.correlate(probe + [log])}
    assert found["tls.disabled"]["root_cause"] == "tls.cert_expiry"


def _config(postfix_dir):
    res = run_module("postfix_diagnose", dict(config_dir=str(postfix_dir), checks=["config"]))
    assert not res.get("failed"), res.get("msg")
    return {f["id"]: f for f in res["findings"]}


def test_client_sasl_without_a_password_table_real_postconf(postfix_dir):
    assert "sasl.client_password_maps_missing" not in _config(postfix_dir)
    sh("postconf", "-c", str(postfix_dir), "-e", "smtp_sasl_auth_enable = yes")
    f = _config(postfix_dir)["sasl.client_password_maps_missing"]
    assert f["evidence"]["where"] == ["main.cf: smtp_sasl_auth_enable = yes, smtp_sasl_password_maps is empty"]
    sh("postconf", "-c", str(postfix_dir), "-e", "smtp_sasl_password_maps = hash:/etc/postfix/sasl_passwd")
    assert "sasl.client_password_maps_missing" not in _config(postfix_dir)
    # a master.cf service that turns AUTH on for itself, without a table in main.cf
    sh("postconf", "-c", str(postfix_dir), "-X", "smtp_sasl_auth_enable", "smtp_sasl_password_maps")
    sh("postconf", "-c", str(postfix_dir), "-P", "relay/unix/smtp_sasl_auth_enable=yes")
    f = _config(postfix_dir)["sasl.client_password_maps_missing"]
    assert f["evidence"]["where"] == ["relay/unix: smtp_sasl_auth_enable = yes, smtp_sasl_password_maps is empty"]


@needs_root
def test_maildrop_drift_is_its_own_finding_real_postfix_check(postfix_dir):
    maildrop = queue_dir(postfix_dir) / "maildrop"
    assert "queue.maildrop_permission" not in _config(postfix_dir)
    shutil.chown(maildrop, group="root")
    found = _config(postfix_dir)
    f = found["queue.maildrop_permission"]
    assert f["class"] == "auto" and f["fix"]["commands"] == ["postfix set-permissions"]
    assert "not owned by group postdrop: %s" % maildrop in f["summary"]
    assert "service.check_fails" not in found  # one finding, one fix
    subprocess.run(["postfix", "-c", str(postfix_dir), "set-permissions"], check=True, capture_output=True)
    assert "queue.maildrop_permission" not in _config(postfix_dir)


# ------------------------------------------------------------------ bounce analysis (issue 32 item 5)
@pytest.mark.parametrize(("code", "reply", "fault", "side"), [
    ("4.7.28", "421-4.7.28 Gmail has detected an unusual rate of mail originating from your IP address. 421 4.7.28 "
               "mail has been temporarily rate limited.", "delivery.rate_limited", "ours"),
    ("4.7.0", "421 4.7.0 Too many connections from your IP, try again later", "delivery.rate_limited", "ours"),
    ("4.5.3", "452 4.5.3 Too many recipients", None, "message"),
    ("5.5.3", "552 Too many recipients", None, "message"),
    ("4.2.1", "450-4.2.1 The user you are trying to contact is receiving mail too quickly.", None, "recipient"),
])
def test_bounce_analysis_links_our_rate_to_the_catalog(code, reply, fault, side):
    c = dsn_parse.classify(code, reply)
    assert (c["fault_id"], c["side"]) == (fault, side), c
    if fault:  # the log signature agrees with the bounce analysis
        assert classify("postfix/smtp", status(reply, dsn=code))[0] == fault
