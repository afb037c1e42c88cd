# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A finding is a claim about this server (issue 17): the five false findings measured on a
healthy server's week, as lines of the same shapes written here, give no finding; the same
words from our own side (outbound, internal clients) still do.

Lines are our own, in the formats of the Postfix, OpenDKIM and Dovecot documentation.
"""
from __future__ import annotations

from ansible.module_utils import diagnose_rules as rules
from ansible.module_utils import log_scan
from ansible.module_utils import log_signatures as sig

T = "Nov 24 10:%02d:%02d mx1 %s: %s"


def lines(*entries):
    return [T % (i // 60, i % 60, tag, msg) for i, (tag, msg) in enumerate(entries)]


def findings(entries, **opts):
    agg = log_scan.scan_lines(lines(*entries))
    return agg, {f["id"]: f for f in rules.log_findings(agg, dict({"log_min_count": 1}, **opts))}


# A healthy MX + submission server's ordinary bad day: its own policy at work and Internet noise.
HEALTHY = [
    ("postfix/postscreen[301]", "NOQUEUE: reject: RCPT from [192.0.2.5]:40112: 550 5.7.1 Service unavailable; client "
                                "[192.0.2.5] blocked using zen.example.org; from=<a@spam.example>, to=<b@lab.example>, "
                                "proto=ESMTP, helo=<spam.example>"),
    ("postfix/smtpd[302]", "NOQUEUE: reject: RCPT from bad.example[192.0.2.6]: 554 5.7.1 Service unavailable; Client host "
                           "[192.0.2.6] blocked using zen.example.org; from=<c@bad.example> to=<d@lab.example> "
                           "proto=ESMTP helo=<bad>"),
    ("opendkim[303]", "4F1A2B3C4D: bad signature data"),
    ("opendkim[303]", "4F1A2B3C4E: s=sel d=other.example SSL error:02000068:rsa routines::bad signature; "
                      "DKIM verification failed"),
    ("postfix/smtpd[304]", "timeout after END-OF-MESSAGE from slow.example[192.0.2.7]"),
    ("postfix/smtpd[305]", "warning: TLS library problem: error:0A00010B:SSL routines::wrong version number:"
                           "../ssl/record/ssl3_record.c:354:"),
    ("postfix/submission/smtpd[306]", "warning: TLS library problem: error:0A000102:SSL routines::unsupported protocol:"
                                      "../ssl/statem/statem_srvr.c:1657:"),
    ("dovecot[307]", "imap-login: Error: Failed to initialize SSL: error:0A00010B:SSL routines::wrong version number"),
    ("postfix/smtpd[308]", "NOQUEUE: reject: RCPT from guess.example[192.0.2.8]: 550 5.1.1 <nobody@lab.example>: "
                           "Recipient address rejected: User unknown in local recipient table; from=<e@guess.example> "
                           "to=<nobody@lab.example> proto=ESMTP helo=<guess>"),
]


def test_program_of_reads_the_syslog_tag():
    assert sig.program_of("Nov 24 10:00:00 mx1 postfix/smtpd[1]: x") == (True, "smtpd")
    assert sig.program_of("Nov 24 10:00:00 mx1 postfix-out/smtp[1]: x") == (True, "smtp")
    assert sig.program_of("Nov 24 10:00:00 mx1 postfix/submission/smtpd[1]: x") == (True, "smtpd")
    assert sig.program_of("2026-11-24T10:00:00.123+01:00 mx1 opendkim[9]: x") == (False, "opendkim")
    assert sig.program_of("no header at all") == (None, None)
    # a custom syslog_name is still Postfix when its last part is a Postfix program
    assert sig.program_of("Nov 24 10:00:00 mx1 mailout/smtp[1]: x") == (True, "smtp")
    assert sig.program_of("Nov 24 10:00:00 mx1 postfix-script[1]: x") == (True, "postfix-script")


def test_a_healthy_servers_policy_and_noise_give_no_finding():
    agg, found = findings(HEALTHY)
    assert found == {}, {k: v["summary"] for k, v in found.items()}
    stats = rules.inbound_statistics(agg)
    # recognised, and counted as the statistics they are
    assert stats["rbl.listed"] == 2 and stats["auth.dkim_fail"] == 2 and stats["timeout.end_of_data"] == 1
    assert stats["tls.wrong_version"] == 2 and stats["delivery.unknown_user"] == 1
    # dovecot's TLS error is not Postfix's: dovecot's own statistic (log_neighbours, asked first),
    # never tls.wrong_version (2 above) nor another program's unknown line
    assert agg["statistics"] == {"dovecot_tls_handshake_failed": 1}, agg["statistics"]
    assert "other_program" not in agg["benign"], agg["benign"]
    assert agg["unclassified"] == 0


def test_our_own_side_of_the_same_words_is_still_found():
    outbound = [
        ("postfix/smtp[401]", "4F1A2B3C4D: to=<q@big.example>, relay=mx.big.example[192.0.2.91]:25, delay=5, "
                              "delays=0/0/0.5/4.5, dsn=5.7.1, status=bounced (host mx.big.example[192.0.2.91] said: "
                              "554 5.7.1 Client host [198.51.100.7] blocked using bl.example.org (in reply to RCPT TO command))"),
        ("postfix-out/smtp[402]", "warning: TLS library problem: error:0A00010B:SSL routines::wrong version number:"
                                  "../ssl/record/ssl3_record.c:354:"),
        ("postfix/smtp[403]", "4F1A2B3C4E: to=<n@slow.example>, relay=mx.slow.example[192.0.2.96]:25, delay=600, "
                              "delays=0/0/1/599, dsn=4.4.2, status=deferred (conversation with mx.slow.example[192.0.2.96] "
                              "timed out while sending message body)"),
    ]
    _agg, found = findings(outbound)
    assert set(found) == {"rbl.listed", "tls.wrong_version", "timeout.end_of_data"}
    assert found["rbl.listed"]["class"] == "advisory" and not found["rbl.listed"]["fix"]["can_fix"]
    assert "bl.example.org" in found["rbl.listed"]["summary"]


def test_internal_clients_make_inbound_lines_findings_with_the_right_side_fix():
    inbound = [
        ("postfix/smtpd[501]", "4F1A2B3C4D: timeout after END-OF-MESSAGE from localhost[127.0.0.1]"),
        ("postfix/smtpd[502]", "NOQUEUE: reject: RCPT from ws7.corp.example[10.1.2.7]: 554 5.7.1 Service unavailable; "
                               "Client host [10.1.2.7] blocked using dyn.example.org; from=<w@corp.example> "
                               "to=<y@lab.example> proto=ESMTP helo=<ws7>"),
    ]
    _agg, found = findings(inbound)
    assert set(found) == {"timeout.end_of_data", "rbl.listed"}
    t = found["timeout.end_of_data"]
    # a content filter's re-injection: advisory, fixed at the filter side, never with smtp_data_*
    assert t["class"] == "advisory" and "filter" in t["summary"] and t["evidence"]["direction"] == "inbound"
    assert found["rbl.listed"]["evidence"]["internal_clients"][0]["value"] == "10.1.2.7"
    # the operator's own networks decide what is internal
    _agg, found = findings(inbound, internal_networks=["10.9.0.0/16"])
    assert found == {}


def test_a_generated_healthy_week_raises_nothing_to_fix():
    """Issue 17 item 4, the generator half: a busy healthy MX + submission server's week."""
    from fixtures.healthy_mx import week

    lines_ = week()
    agg = log_scan.scan_lines(lines_, year_hint=2026)
    found = rules.log_findings(agg, {})
    share = agg["unclassified"] / agg["faultish"]
    print("\nhealthy week: %d lines, %d fault-looking, unclassified %.1f%%, findings %s, statistics %s"
          % (len(lines_), agg["faultish"], 100 * share, [(f["id"], f["class"]) for f in found],
             rules.inbound_statistics(agg)))
    assert not [f for f in found if f["class"] in ("auto", "opt-in")], [(f["id"], f["summary"]) for f in found]
    for f in found:  # an advisory must rest on its evidence: the password guessers, named
        assert f["id"] == "sasl.auth_failed" and f["evidence"]["brute_force_clients"], f
    assert share <= 0.05


def test_peers_refusing_now_and_then_are_not_a_finding_but_ours_are():
    peer = [("postfix/smtp[601]", "connect to mx.p%d.example[192.0.2.%d]:25: Connection refused" % (i, i)) for i in range(8)]
    assert "net.connection_refused" not in findings(peer)[1]
    ours = [("postfix/smtp[602]", "4F1A2B3C4D: to=<d@lab.example>, relay=none, delay=0.1, delays=0/0/0.1/0, dsn=4.4.1, "
                                  "status=deferred (connect to 127.0.0.1[127.0.0.1]:10025: Connection refused)")]
    assert "net.connection_refused" in findings(ours)[1]
    stubborn = [("postfix/smtp[603]", "connect to mx.down.example[192.0.2.50]:25: Connection refused")] * 10
    assert "net.connection_refused" in findings(stubborn)[1]


def test_guessers_hanging_up_after_auth_are_the_attack_not_a_mechanism_problem():
    guess = [("postfix/smtpd[701]", "warning: unknown[198.51.100.66]: SASL LOGIN authentication failed: UGFzc3dvcmQ6"),
             ("postfix/smtpd[701]", "lost connection after AUTH from unknown[198.51.100.66]")] * 6
    _agg, found = findings(guess)
    assert "sasl.lost_after_auth" not in found and "sasl.auth_failed" in found
    clients = [("postfix/smtpd[702]", "lost connection after AUTH from client%d.example[192.0.2.%d]" % (i, i)) for i in range(6)]
    assert "sasl.lost_after_auth" in findings(clients)[1]


def test_other_programs_never_count_toward_postfix_ids():
    others = [("dovecot[801]", "lmtp(u1): Error: write(/var/mail/u1) failed: No space left on device"),
              ("opendkim[802]", "error: open database /etc/opendkim/keys.db: No such file or directory")]
    agg, found = findings(others)
    # both matched a Postfix signature's words; only opendkim's ("error:") is fault-looking
    assert found == {} and agg["ids"] == {} and agg["benign"]["other_program"] == 1
    postfix = [("postfix/cleanup[803]", "warning: 4F1A2B3C4D: queue file write error: No space left on device")]
    assert "queue.write_error" in findings(postfix)[1]


# A user on the road: authenticates with SASL from a hotel's address, later our RBL rejects
# that same address (the hotel is listed). Legitimate traffic is hit: a finding.
ROAD_WARRIOR = [
    ("postfix/submission/smtpd[601]", "3C4D5E6F7A: client=hotel.example[198.51.100.9], sasl_method=PLAIN, "
                                      "sasl_username=ann@lab.example"),
    ("postfix/smtpd[602]", "NOQUEUE: reject: RCPT from hotel.example[198.51.100.9]: 554 5.7.1 Service unavailable; "
                           "Client host [198.51.100.9] blocked using zen.example.org; from=<ann@lab.example> "
                           "to=<z@partner.example> proto=ESMTP helo=<laptop>"),
]


def test_an_rbl_reject_of_a_client_that_authenticated_is_a_finding():
    agg, found = findings(ROAD_WARRIOR)
    assert agg["sasl_clients"] == {"198.51.100.9": 1}
    f = found["rbl.listed"]
    assert f["class"] == "advisory" and f["evidence"]["authenticated_clients"] == ["198.51.100.9"]
    # the same reject without that client ever authenticating: our RBL doing its job, a statistic
    agg, found = findings(ROAD_WARRIOR[1:])
    assert found == {} and agg["inbound"]["rbl.listed"]["count"] == 1


def test_authenticated_clients_are_seen_through_the_grep_prefilter_too(tmp_path):
    """Files over GREP_MIN_BYTES go through grep -F: the SASL line must reach the scanner."""
    filler = "Nov 24 09:00:00 mx1 postfix/qmgr[9]: 4F1A2B3C4D: removed\n" * (log_scan.GREP_MIN_BYTES // 40)
    path = tmp_path / "mail.log"
    path.write_text(filler + "\n".join(lines(*ROAD_WARRIOR)) + "\n")
    _state, agg, info = log_scan.scan([str(path)])
    assert info[0].get("prefilter") == "grep"
    assert agg["sasl_clients"] == {"198.51.100.9": 1}
    assert "rbl.listed" in {f["id"] for f in rules.log_findings(agg, {"log_min_count": 1})}
