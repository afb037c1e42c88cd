# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The side of every fix (issue 31 item 5): words another server says describe that server.

"host mx.remote.example[192.0.2.25] said: 452 4.2.2 ... over quota" is the remote user's mailbox:
raising our mailbox_size_limit fixes the wrong server. For every log ID of the catalog, its words
on our side (a delivery agent, LMTP to our store, our own smtpd, our SMTP client's own message)
raise the ID, and the same words said by a remote host in an smtp status line do not: they are a
statistic of the recipient domain (log.remote), and delivery.remote_refusal when one domain keeps
refusing. The table is keyed by the catalog: a new log ID without a remote case fails here.

Lines are our own, in the formats of the Postfix documentation (no corpus line is copied).
"""
from __future__ import annotations

import time

import pytest
from ansible.module_utils import diagnose_rules as rules
from ansible.module_utils import fault_catalog as cat
from ansible.module_utils import log_scan
from ansible.module_utils import log_signatures as sig
from conftest import run_direct
from test_signature_regex import HOSTILE_RUNS, C, P, _first_items

HEAD = "Nov 24 10:%02d:%02d mx1 postfix/%s[4242]: %s"
PEER = "mx.remote.example[192.0.2.25]"
# Our SMTP client's status line quoting what the remote host said (WORDS: its reply).
REMOTE = ("4F1A2B3C4D: to=<user@remote.example>, relay=" + PEER + ":25, delay=1, delays=0.1/0/0.5/0.4, dsn=%s, "
          "status=%s (host " + PEER + " said: %s (in reply to RCPT TO command))")
REFUSAL = "delivery.remote_refusal"


def remote_line(words):
    """The smtp status line of a remote host saying `words` ("452 4.2.2 ..."): deferred for a 4xx,
    bounced for a 5xx, its dsn= the reply's enhanced code."""
    code = words.split()[1]
    return "smtp", REMOTE % (code, "deferred" if words[0] == "4" else "bounced", words)


def as_lines(entries):
    return [HEAD % (i // 60, i % 60, daemon, msg) for i, (daemon, msg) in enumerate(entries)]


def scan(entries, min_count=1):
    agg = log_scan.scan_lines(as_lines(entries))
    return agg, {f["id"]: f for f in rules.log_findings(agg, {"log_min_count": min_count})}


# Per log ID: its lines on our side (each must raise it) and the words a remote server would say
# (the remote variant: those words in our smtp client's "host X said:" status line).
SIDES = {
    "queue.write_error": (
        [("smtpd", "NOQUEUE: reject: MAIL from c.example[192.0.2.51]: 452 4.3.1 Insufficient system storage; "
                   "proto=ESMTP helo=<c.example>"),
         ("cleanup", "warning: 4F1A2B3C4D: write queue file: No space left on device")],
        "452 4.3.1 Insufficient system storage"),
    "maps.unsupported_type": (
        [("smtpd", "error: unsupported dictionary type: hash")],
        "451 4.3.0 error: unsupported dictionary type: hash"),
    "maps.db_permission": (
        [("smtpd", "error: open database /etc/postfix/virtual.db: Permission denied")],
        "451 4.3.0 open database /etc/postfix/virtual.db: Permission denied"),
    "maps.missing_db": (
        [("local", "error: open database /etc/aliases.db: No such file or directory")],
        "451 4.3.0 open database /etc/aliases.db: No such file or directory"),
    "maps.stale_db": (
        [("smtpd", "warning: database /etc/postfix/virtual.db is older than source file /etc/postfix/virtual")],
        "451 4.3.0 database /etc/postfix/virtual.db is older than source file /etc/postfix/virtual"),
    "sasl.saslauthd_down": (
        [("smtpd", "warning: SASL authentication failure: cannot connect to saslauthd server: No such file or directory")],
        "454 4.7.0 cannot connect to saslauthd server: No such file or directory"),
    "sasl.dovecot_socket": (
        [("smtpd", "warning: SASL: Connect to private/auth failed: No such file or directory")],
        "454 4.7.0 SASL: Connect to private/auth failed: No such file or directory"),
    "sasl.auth_failed": (
        [("smtpd", "warning: unknown[192.0.2.77]: SASL LOGIN authentication failed: authentication failure"),
         # our credentials refused by our relayhost: "server X said", our side (smtp_sasl_password_maps)
         ("smtp", "4F1A2B3C4D: to=<h@far.example>, relay=smarthost.example[192.0.2.80]:587, delay=1, delays=0/0/1/0, "
                  "dsn=4.7.0, status=deferred (SASL authentication failed; server smarthost.example[192.0.2.80] said: "
                  "535 5.7.8 Error: authentication failed)")],
        "535 5.7.8 unknown[192.0.2.77]: SASL LOGIN authentication failed: authentication failure"),
    "sasl.lost_after_auth": (
        [("smtpd", "lost connection after AUTH from unknown[192.0.2.81]")],
        "421 4.4.2 lost connection after AUTH from unknown[192.0.2.81]"),
    "tls.cert_unreadable": (
        [("smtpd", 'warning: cannot get RSA private key from file "/etc/postfix/ssl/mail.key": disabling TLS support')],
        "454 4.7.0 cannot get RSA private key from file /etc/ssl/private/mx.key: TLS not available"),
    "tls.untrusted_issuer": (
        # our client cannot verify the peer: our CA store
        [("smtp", "certificate verification failed for " + PEER + ":25: untrusted issuer /CN=Example Root")],
        "454 4.7.5 certificate verification failed for inner.remote.example[198.51.100.26]:25: untrusted issuer"),
    "tls.wrong_version": (
        [("smtp", "warning: TLS library problem: error:0A00010B:SSL routines::wrong version number:"
                  "../ssl/record/ssl3_record.c:354:")],
        "454 4.7.0 TLS library problem: wrong version number"),
    "tls.delivery_handshake": (
        [("smtp", "4F1A2B3C4D: to=<fay@strict.example>, relay=mx.strict.example[192.0.2.41]:25, delay=2, "
                  "delays=0/0/2/0, dsn=4.7.5, status=deferred (Cannot start TLS: handshake failure)")],
        "454 4.7.5 Cannot start TLS: handshake failure"),
    "delivery.mailbox_full": (
        [("local", "4F1A2B3C4D: to=<l@lab.example>, relay=local, delay=0.1, delays=0/0/0/0.1, dsn=5.2.2, status=bounced "
                   "(cannot update mailbox /var/mail/l for user l. error writing message: File too large)"),
         ("virtual", "4F1A2B3C4D: to=<v@lab.example>, relay=virtual, delay=0.1, delays=0/0/0/0.1, dsn=5.2.2, "
                     "status=bounced (maildir delivery failed: Disk quota exceeded)"),
         ("pipe", "4F1A2B3C4D: to=<p@lab.example>, relay=dovecot, delay=0.1, delays=0/0/0/0.1, dsn=4.2.2, "
                  "status=deferred (temporary failure. Command output: Quota exceeded (mailbox for user is full))"),
         # LMTP to our own store, over its socket and over loopback TCP
         ("lmtp", "4F1A2B3C4D: to=<j@lab.example>, relay=mail.lab.example[private/dovecot-lmtp], delay=0.1, "
                  "delays=0/0/0/0.1, dsn=5.2.2, status=bounced (host mail.lab.example[private/dovecot-lmtp] said: "
                  "552 5.2.2 <j@lab.example> Quota exceeded (mailbox for user is full) (in reply to end of DATA command))"),
         ("lmtp", "4F1A2B3C4D: to=<k@lab.example>, relay=127.0.0.1[127.0.0.1]:24, delay=0.1, delays=0/0/0/0.1, "
                  "dsn=4.2.2, status=deferred (host 127.0.0.1[127.0.0.1] said: 452 4.2.2 <k@lab.example> user is over "
                  "quota (in reply to RCPT TO command))"),
         # our own smtpd refusing through Dovecot's quota-status policy service
         ("smtpd", "NOQUEUE: reject: RCPT from mail.partner.example[192.0.2.60]: 552 5.2.2 <q@lab.example>: Recipient "
                   "address rejected: Mailbox is full; from=<a@partner.example> to=<q@lab.example> proto=ESMTP "
                   "helo=<mail.partner.example>")],
        "452 4.2.2 <user@remote.example>: user is over quota"),
    "queue.size_limit": (
        [("smtpd", "NOQUEUE: reject: MAIL from big.example[192.0.2.50]: 552 5.3.4 Message size exceeds fixed limit; "
                   "proto=ESMTP helo=<big.example>"),
         ("cleanup", "4F1A2B3C4D: queue file size limit exceeded")],
        "552 5.3.4 Message size exceeds fixed limit"),
    "dns.name_service_error": (
        [("smtp", "4F1A2B3C4D: to=<ann@nodomain.example>, relay=none, delay=0.2, delays=0.01/0/0.19/0, dsn=4.4.3, "
                  "status=deferred (Host or domain name not found. Name service error for name=nodomain.example "
                  "type=MX: Host not found, try again)")],
        "451 4.4.3 Host or domain name not found. Name service error for name=inner.remote.example type=MX: "
        "Host not found, try again"),
    "ipv6.unreachable": (
        [("smtp", "connect to mx.big.example[2001:db8::25]:25: Network is unreachable")],
        "451 4.4.1 connect to inner.remote.example[2001:db8::26]:25: Network is unreachable"),
    "dns.mx_connect_timeout": (
        [("smtp", "connect to relay2.corp.example[10.20.30.206]:25: Connection timed out")],
        "451 4.4.1 connect to inner.remote.example[198.51.100.26]:25: Connection timed out"),
    "net.connection_refused": (
        [("smtp", "4F1A2B3C4D: to=<d@lab.example>, relay=none, delay=0.1, delays=0/0/0.1/0, dsn=4.4.1, "
                  "status=deferred (connect to 127.0.0.1[127.0.0.1]:10025: Connection refused)")],
        # a private address in the peer's words: its own internal hop, not our content filter
        "451 4.4.1 connect to inner.remote.example[10.0.0.26]:25: Connection refused"),
    "timeout.end_of_data": (
        [("smtp", "4F1A2B3C4D: to=<n@slow.example>, relay=mx.slow.example[192.0.2.96]:25, delay=600, "
                  "delays=0/0/1/599, dsn=4.4.2, status=deferred (conversation with mx.slow.example[192.0.2.96] timed "
                  "out while sending message body)")],
        "451 4.4.2 inner.remote.example timed out while sending message body"),
    "config.loops_to_myself": (
        [("smtp", "4F1A2B3C4D: to=<o@lab.example>, relay=none, delay=0.1, delays=0/0/0.1/0, dsn=5.4.6, "
                  "status=bounced (mail for lab.example loops back to myself)")],
        "554 5.4.6 mail for remote.example loops back to myself"),
    "relay.access_denied": (
        [("smtpd", "NOQUEUE: reject: RCPT from ws12.corp.example[10.1.2.3]: 554 5.7.1 <z@outside.example>: Relay "
                   "access denied; from=<u@corp.example> to=<z@outside.example> proto=ESMTP helo=<ws12>")],
        "554 5.7.1 <user@remote.example>: Relay access denied"),
    "rbl.listed": (
        [("smtpd", "NOQUEUE: reject: RCPT from ws7.corp.example[10.1.2.7]: 554 5.7.1 Service unavailable; Client host "
                   "[10.1.2.7] blocked using dyn.example.org; from=<w@corp.example> to=<y@lab.example> proto=ESMTP "
                   "helo=<ws7>")],
        "554 5.7.1 Service unavailable; Client host [198.51.100.7] blocked using bl.example.org"),
    "delivery.unknown_user": (
        [("local", '4F1A2B3C4D: to=<nobody1@lab.example>, relay=local, delay=0, delays=0/0/0/0, dsn=5.1.1, '
                   'status=bounced (unknown user: "nobody1")'),
         ("pipe", "4F1A2B3C4D: to=<nobody2@lab.example>, relay=dovecot, delay=0.1, delays=0/0/0/0.1, dsn=5.1.1, "
                  "status=bounced (user unknown)"),
         ("smtpd", "NOQUEUE: reject: RCPT from app1.corp.example[10.1.2.8]: 550 5.1.1 <m2@lab.example>: Recipient "
                   "address rejected: User unknown in virtual mailbox table; from=<app@corp.example> "
                   "to=<m2@lab.example> proto=ESMTP helo=<app1>")],
        "550 5.1.1 <user@remote.example>: Recipient address rejected: User unknown in virtual mailbox table"),
    "smtp.illegal_address": (
        [("smtpd", "warning: Illegal address syntax from unknown[192.0.2.94] in MAIL command: <user@[bad")],
        "501 5.1.3 Illegal address syntax from unknown[192.0.2.94] in MAIL command"),
    "auth.spf_permerror": (
        [("smtpd", "NOQUEUE: reject: RCPT from app2.corp.example[10.1.2.10]: 550 5.7.24 <u@lab.example>: Recipient "
                   "address rejected: SPF PermError (No valid SPF record) for corp.example; from=<app@corp.example> "
                   "to=<u@lab.example> proto=ESMTP helo=<app2>")],
        "550 5.7.24 SPF permanent error for lab.example"),
    "auth.dkim_fail": (
        [("cleanup", "4F1A2B3C4D: milter-reject: END-OF-MESSAGE from app3.corp.example[10.1.2.11]: 5.7.1 DKIM "
                     "verification failed; from=<app@corp.example> to=<b@lab.example>")],
        "550 5.7.1 DKIM verification failed"),
    "config.unused_parameter": (
        [("postfix-script", "warning: /etc/postfix/main.cf: unused parameter: smtpd_tls_protocol=!SSLv2")],
        "451 4.3.5 warning: /etc/postfix/main.cf: unused parameter: smtpd_tls_protocol=!SSLv2"),
    "service.hostname_invalid": (
        [("master", "fatal: file /etc/postfix/main.cf: parameter myhostname: bad parameter value: mx_1!")],
        "451 4.3.0 parameter myhostname: bad parameter value: mx_1!"),
    "maps.lookup_failed": (
        [("smtpd", "NOQUEUE: reject: RCPT from client.lab.example[192.0.2.44]: 451 4.3.0 <ann@lab.example>: Temporary "
                   "lookup failure; from=<bob@partner.example> to=<ann@lab.example> proto=ESMTP helo=<client.lab.example>"),
         # a content filter on loopback passes on what our own re-injection smtpd answered
         ("smtp", "4F1A2B3C4D: to=<ann@lab.example>, relay=127.0.0.1[127.0.0.1]:10024, delay=1, delays=0/0/0.5/0.5, "
                  "dsn=4.3.0, status=deferred (host 127.0.0.1[127.0.0.1] said: 451 4.3.0 <ann@lab.example>: Temporary "
                  "lookup failure (in reply to RCPT TO command))")],
        "451 4.3.0 <user@remote.example>: Temporary lookup failure"),
    "config.invalid_setting": (
        [("smtpd", "NOQUEUE: reject: RCPT from client.lab.example[192.0.2.44]: 451 4.3.5 Server configuration error; "
                   "from=<bob@partner.example> to=<ann@lab.example> proto=ESMTP helo=<client.lab.example>")],
        "451 4.3.5 Server configuration error"),
    "service.daemon_failure": (
        [("master", "warning: process /usr/lib/postfix/sbin/smtpd pid 4242 killed by signal 11")],
        "451 4.3.0 problem talking to service rewrite: Connection reset by peer"),
    "service.chroot_incomplete": (
        [("smtp", "fatal: unknown service: smtp/tcp")],
        "451 4.3.0 fatal: unknown service: smtp/tcp"),
    "filter.milter_unreachable": (
        [("smtpd", "warning: connect to Milter service inet:localhost:8891: Connection refused"),
         ("cleanup", "warning: milter unix:/run/opendkim.sock: can't read SMFIC_OPTNEG reply packet header: "
                     "Connection timed out")],
        "451 4.7.1 connect to Milter service inet:localhost:8891: Connection refused"),
    "tls.disabled": (
        [("smtpd", "warning: RSA private key in /etc/ssl/private/mx.key does not match public key in "
                   "/etc/ssl/certs/mx.pem: disabling TLS support")],
        "454 4.7.0 error opening chain file: /etc/ssl/chain.pem: No such file or directory"),
    "sasl.no_mechanisms": (
        [("smtpd", "fatal: no SASL authentication mechanisms")],
        "454 4.7.0 no SASL authentication mechanisms"),
    "sasl.sasldb_missing": (
        [("smtpd", "warning: SASL authentication problem: unable to open Berkeley db /etc/sasldb2: Permission denied")],
        "454 4.7.0 SASL authentication problem: unable to open Berkeley db /etc/sasldb2: Permission denied"),
    "sasl.client_password_maps_missing": (
        [("smtp", "fatal: specify a password table via the `smtp_sasl_password_maps' configuration parameter")],
        "451 4.3.5 specify a password table via the `smtp_sasl_password_maps' configuration parameter"),
    "queue.maildrop_permission": (
        [("postdrop", "warning: mail_queue_enter: create file maildrop/736251.4244: Permission denied")],
        "451 4.3.0 mail_queue_enter: create file maildrop/736251.4244: Permission denied"),
    "service.port_in_use": (
        [("master", "fatal: bind 0.0.0.0 port 25: Address already in use")],
        "421 4.3.2 bind 0.0.0.0 port 25: Address already in use"),
    "service.daemon_dying": (
        [("master", "warning: process /usr/lib/postfix/sbin/cleanup pid 4243 exit status 1")],
        "451 4.3.0 process /usr/lib/postfix/sbin/cleanup pid 4243 exit status 1"),
    # our client's own line: the provider refuses to talk to us at all, for our rate
    "delivery.rate_limited": (
        [("smtp", "4F1A2B3C4D: to=<a@yahoo.example>, relay=mta7.yahoo.example[192.0.2.28]:25, delay=1, "
                  "delays=0/0/0.5/0.5, dsn=4.7.0, status=deferred (host mta7.yahoo.example[192.0.2.28] refused to "
                  "talk to me: 421 4.7.0 [TSS04] Messages from 192.0.2.25 temporarily deferred due to unexpected "
                  "volume or user complaints - 4.16.55.1)")],
        "421 4.7.0 Too many connections from your IP, try again later"),
    "config.domain_in_two_classes": (
        [("trivial-rewrite", "warning: do not list domain lab.example in BOTH mydestination and virtual_alias_domains")],
        "451 4.3.0 do not list domain remote.example in BOTH mydestination and virtual_alias_domains"),
    "config.unknown_restriction": (
        [("smtpd", 'warning: unknown smtpd restriction: "reject_unknown_sender"')],
        '451 4.3.5 unknown smtpd restriction: "reject_unknown_sender"'),
    "config.bad_value": (
        [("smtpd", "fatal: bad numerical configuration: smtpd_client_connection_count_limit = ten")],
        "451 4.3.0 fatal: bad numerical configuration: smtpd_client_connection_count_limit = ten"),
    "config.overriding_entry": (
        [("postconf", "warning: /etc/postfix/main.cf, line 52: overriding earlier entry: message_size_limit=10240000")],
        "451 4.3.0 /etc/postfix/main.cf, line 52: overriding earlier entry: message_size_limit=10240000"),
    "config.relay_restrictions_missing": (
        [("smtpd", "fatal: in parameter smtpd_relay_restrictions or smtpd_recipient_restrictions, specify at least one "
                   "working instance of: reject_unauth_destination, defer_unauth_destination, reject, defer")],
        "451 4.3.0 in parameter smtpd_relay_restrictions, specify at least one working instance of: reject"),
    "config.inet_interfaces_not_local": (
        [("master", "fatal: parameter inet_interfaces: no local interface found for 192.0.2.199")],
        "451 4.3.0 parameter inet_interfaces: no local interface found for 192.0.2.199"),
    "config.dynamicmaps_unsafe": (
        [("smtpd", "warning: /etc/postfix/dynamicmaps.cf: file is owned or writable by non-root users -- skipping this file")],
        "451 4.3.0 /etc/postfix/dynamicmaps.cf: file is owned or writable by non-root users"),
    "config.postmaster_alias_missing": (
        [("local", "warning: required alias not found: postmaster")],
        "550 5.1.1 required alias not found: postmaster"),
    "maps.backend_unreachable": (
        [("trivial-rewrite", "warning: dict_ldap_lookup: Search error -1: Can't contact LDAP server ")],
        "451 4.3.0 Can't contact LDAP server"),
    "maps.backend_bind_failed": (
        [("proxymap", "warning: connect to mysql server db.lab.example: Access denied for user 'postfix'@'mx1' "
                      "(using password: YES)")],
        "451 4.3.0 connect to mysql server db: Access denied for user 'mail'@'mx'"),
    "maps.regex_syntax": (
        [("cleanup", "warning: regexp map /etc/postfix/header_checks, line 4: no closing regexp delimiter \"/\": "
                     "skipping this rule")],
        "451 4.3.0 pcre map /etc/postfix/x, line 1: error in regex at offset 1: nothing to repeat"),
    "maps.proxy_unapproved": (
        [("proxymap", 'warning: request for unapproved table: "mysql:/etc/postfix/mysql-users.cf"')],
        '451 4.3.0 request for unapproved table: "mysql:/etc/postfix/mysql-users.cf"'),
}

# IDs whose words, said by a remote server, are about us: the remote variant keeps the ID.
EXEMPT = {
    "rbl.listed": "a peer naming a blocklist says our outbound address is listed: the delisting is ours",
    "delivery.rate_limited": "a provider saying we send too fast speaks about our sending: slowing down is ours",
}

# Every log ID: each signature's, and each with a catalog `log` fact.
LOG_IDS = sorted({fid for fid, _k, _r in sig.SIGNATURES} | {fid for fid, e in cat.CATALOG.items() if e["log"]})


def test_every_log_id_has_its_sides_and_every_exemption_is_the_catalogs():
    missing = [fid for fid in LOG_IDS if fid not in SIDES]
    assert missing == [], "log IDs without a local line and a remote variant in SIDES: %s" % missing
    assert set(SIDES) <= set(LOG_IDS), set(SIDES) - set(LOG_IDS)
    assert set(EXEMPT) == set(cat.ids_with("peer", "ours")), "EXEMPT and the catalog's peer='ours' differ"
    assert all(why for why in EXEMPT.values())


@pytest.mark.parametrize("fid", LOG_IDS)
def test_our_side_raises_the_id(fid):
    for entry in SIDES[fid][0]:
        _agg, found = scan([entry])
        assert fid in found, (entry, sorted(found))
        assert REFUSAL not in found, entry


@pytest.mark.parametrize("fid", LOG_IDS)
def test_a_remote_host_saying_the_same_words_does_not(fid):
    daemon, line = remote_line(SIDES[fid][1])
    # the words are this ID's own (without the side, the signature claims the line)
    assert sig.classify(HEAD % (0, 0, daemon, line))[0] == fid, line
    agg, found = scan([(daemon, line)])
    if fid in EXEMPT:
        assert fid in found and REFUSAL not in found and agg["remote"] == {}, EXEMPT[fid]
        return
    assert fid not in found, (line, found[fid]["summary"] if fid in found else None)
    assert agg["ids"] == {} and agg["inbound"] == {} and agg["unclassified"] == 0
    rec = agg["remote"]["remote.example"]
    assert rec["count"] == 1 and rec["groups"]["looks_like"] == {fid: 1}
    assert rec["groups"]["relay"] == {PEER: 1}
    # one refusal with log_min_count=1: the advisory, never a fix
    assert set(found) == {REFUSAL}
    f = found[REFUSAL]
    assert f["class"] == "advisory" and f["fix"]["can_fix"] is False
    assert f["evidence"]["domains"][0]["domain"] == "remote.example"


def test_the_reported_over_quota_line():
    line = ("4ABC: to=<user@their.example>, relay=mx.their.example[192.0.2.5]:25, delay=1, delays=0.1/0/0.5/0.4, "
            "dsn=4.2.2, status=deferred (host mx.their.example[192.0.2.5] said: 452 4.2.2 <user@their.example>: user is "
            "over quota (in reply to RCPT TO command))")
    agg, found = scan([("smtp", line)] * 4, min_count=5)
    assert found == {}
    assert rules.remote_statistics(agg) == {"their.example": {"count": 4, "reasons": {"mailbox full": 4}}}
    assert agg["benign"] == {"peer_temporary": 4} and agg["faultish"] == 4
    _agg, found = scan([("smtp", line)] * 5, min_count=5)
    assert set(found) == {REFUSAL}
    d = found[REFUSAL]["evidence"]["domains"][0]
    assert d["domain"] == "their.example" and d["refusals"] == 5
    assert "tell the sender" in d["advice"]["mailbox full"] and "mailbox_size_limit" not in found[REFUSAL]["summary"]
    assert d["samples"][0].count("u***@their.example") == 2  # masked as every sample is


def test_the_threshold_is_per_domain():
    def refusal(domain, i):
        rcpt = "u%d@%s" % (i, domain)
        return "smtp", REMOTE.replace("user@remote.example", rcpt) % (
            "5.1.1", "bounced", "550 5.1.1 <%s>: Recipient address rejected: User unknown" % rcpt)
    entries = [refusal("a.example", i) for i in range(4)] + [refusal("b.example", i) for i in range(4)]
    agg, found = scan(entries, min_count=5)
    assert found == {} and set(agg["remote"]) == {"a.example", "b.example"}
    _agg, found = scan(entries + [refusal("b.example", 9)], min_count=5)
    assert [d["domain"] for d in found[REFUSAL]["evidence"]["domains"]] == ["b.example"]
    assert "list hygiene" in found[REFUSAL]["summary"]


GREYLISTS = [
    "450 4.7.1 <user@remote.example>: Recipient address rejected: Greylisted, see http://postgrey.example/help",
    "450 4.2.0 <user@remote.example>: Recipient address rejected: Greylisted, try again later",
    "451 4.7.1 Greylisting in action, please try again later",
    "421 4.7.0 Try again later, closing connection (graylisted)",
]


@pytest.mark.parametrize("words", GREYLISTS)
def test_greylisting_is_a_retry_never_a_refusal(words):
    agg, found = scan([remote_line(words)] * 8)
    assert found == {}, found
    assert agg["benign"] == {"peer_greylisting": 8} and agg["unclassified"] == 0
    assert agg["remote"]["remote.example"]["groups"]["reason"] == {"greylisted": 8}
    assert rules.remote_statistics(agg)["remote.example"]["count"] == 8


def test_greylisting_does_not_count_toward_a_domains_refusals():
    grey = remote_line(GREYLISTS[0])
    full = remote_line("452 4.2.2 <user@remote.example>: user is over quota")
    _agg, found = scan([grey] * 6 + [full] * 2, min_count=3)
    assert found == {}
    _agg, found = scan([grey] * 6 + [full] * 3, min_count=3)
    assert found[REFUSAL]["evidence"]["domains"][0]["reasons"] == [{"value": "mailbox full", "count": 3}]


NULL_MX = [
    # our own SMTP client: the recipient domain publishes "MX 0 ." (RFC 7505)
    ("smtp", "4F1A2B3C4D: to=<a@nomail.example>, relay=none, delay=0.1, delays=0/0/0.1/0, dsn=5.1.0, status=bounced "
             "(Domain nomail.example does not accept mail (nullMX))"),
    # a relay saying it for us
    ("smtp", "4F1A2B3C4D: to=<b@nomail.example>, relay=" + PEER + ":25, delay=1, delays=0/0/0.5/0.5, dsn=5.1.10, "
             "status=bounced (host " + PEER + " said: 556 5.1.10 <b@nomail.example>: Recipient address rejected: "
             "Domain nomail.example does not accept mail (nullMX) (in reply to RCPT TO command))"),
    ("smtp", "4F1A2B3C4D: to=<c@nomail.example>, relay=" + PEER + ":25, delay=1, delays=0/0/0.5/0.5, dsn=5.1.0, "
             "status=bounced (host " + PEER + " said: 550 5.1.0 Domain nomail.example does not accept mail (in reply "
             "to RCPT TO command))"),
]


@pytest.mark.parametrize("entry", NULL_MX, ids=["ours", "relay nullMX", "relay plain"])
def test_a_null_mx_is_the_recipient_domains_statistic(entry):
    agg, found = scan([entry] * 2, min_count=3)
    assert found == {} and agg["unclassified"] == 0 and agg["benign"] == {"null_mx": 2}
    assert rules.remote_statistics(agg) == {"nomail.example": {"count": 2, "reasons": {"null MX": 2}}}
    _agg, found = scan([entry] * 3, min_count=3)
    d = found[REFUSAL]["evidence"]["domains"][0]
    assert d["domain"] == "nomail.example" and "fix the address" in d["advice"]["null MX"]


def test_our_smtpd_refusing_a_null_mx_sender_is_our_policy():
    line = ("NOQUEUE: reject: MAIL from c.example[192.0.2.52]: 550 5.7.27 <s@nomail.example>: Sender address rejected: "
            "Domain nomail.example does not accept mail (nullMX); from=<s@nomail.example> proto=ESMTP helo=<c.example>")
    agg, found = scan([("smtpd", line)] * 6)
    assert found == {} and agg["remote"] == {} and agg["benign"] == {"policy_reject": 6}


def test_who_speaks_for_this_server():
    """The peer is the server that said the words; ours are LMTP, loopback and sockets."""
    words = "452 4.2.2 <user@remote.example>: user is over quota"
    cases = {
        # an internal relay at a private address is another server: its mailbox, its limit
        ("smtp", REMOTE.replace("192.0.2.25", "10.0.0.5") % ("4.2.2", "deferred", words)): REFUSAL,
        ("smtp", REMOTE.replace("192.0.2.25", "2001:db8::25") % ("4.2.2", "deferred", words)): REFUSAL,
        ("postfix-out/smtp", REMOTE % ("4.2.2", "deferred", words)): REFUSAL,
        ("smtp", REMOTE.replace("192.0.2.25", "::1") % ("4.2.2", "deferred", words)): "delivery.mailbox_full",
        ("lmtp", REMOTE % ("4.2.2", "deferred", words)): "delivery.mailbox_full",  # LMTP: our store (RFC 2033)
    }
    for (daemon, line), want in cases.items():
        _agg, found = scan([(daemon, line)])
        assert set(found) == {want}, (daemon, line)


def test_the_words_before_said_stay_ours():
    """Only "host X said:" quotes the peer: our client's own words in the same kind of line keep their ID."""
    line = ("4F1A2B3C4D: to=<h@far.example>, relay=smarthost.example[192.0.2.80]:587, delay=1, delays=0/0/1/0, "
            "dsn=4.7.0, status=deferred (SASL authentication failed; server smarthost.example[192.0.2.80] said: "
            "535 5.7.8 Error: authentication failed)")
    assert sig.remote_reply(HEAD % (0, 0, "smtp", line), "sasl.auth_failed") is None
    assert sig.remote_reply(HEAD % (0, 0, "smtp", "connect to mx.remote.example[192.0.2.25]:25: Connection refused")) is None


def test_remote_domains_are_bounded_and_merge():
    entries = [("smtp", (REMOTE % ("5.1.1", "bounced", "550 5.1.1 User unknown")).replace(
        "user@remote.example", "u@d%d.example" % i)) for i in range(log_scan.MAX_REMOTE_DOMAINS + 30)]
    agg = log_scan.scan_lines(as_lines(entries))
    assert len(agg["remote"]) == log_scan.MAX_REMOTE_DOMAINS + 1 and agg["remote"]["(other)"]["count"] == 30
    merged = log_scan.merge(log_scan.new_agg(), agg)
    merged = log_scan.merge(merged, log_scan.scan_lines(as_lines(entries[:2] + [("smtp", entries[0][1].replace(
        "u@d0.example", "u@new.example"))])))
    assert len(merged["remote"]) == log_scan.MAX_REMOTE_DOMAINS + 1
    assert merged["remote"]["d0.example"]["count"] == 2 and merged["remote"]["(other)"]["count"] == 31
    old = log_scan.new_agg()
    del old["remote"]  # an aggregate from before remote records merges too
    assert log_scan.merge(old, agg)["remote"]["d1.example"]["count"] == 1
    # "(other)" is never a refusing domain of its own
    assert rules.remote_findings(agg, 1)["evidence"]["count"] == log_scan.MAX_REMOTE_DOMAINS


def test_the_side_regexes_stay_linear_on_hostile_lines():
    for rx in sig.REMOTE_SIDE_REGEXES:
        for op, av in _first_items(P.parse(rx.pattern)):
            assert not (op in (C.MAX_REPEAT, C.MIN_REPEAT) and av[1] == C.MAXREPEAT), rx.pattern
    words = "452 4.2.2 <user@remote.example>: user is over quota"
    for run in HOSTILE_RUNS + ["host a" * 800, "host a[" * 600, "said: " * 600, "Domain a " * 500]:
        line = HEAD % (0, 0, "smtp", (REMOTE % ("4.2.2", "deferred", run + " " + words))[:log_scan.MAX_LINE - 60])
        got = sig.remote_reply(line, sig.classify(line)[0])
        assert got is not None and got["domain"] == "remote.example", run[:8]


def test_the_module_reports_the_domain_not_our_mailbox(tmp_path):
    stamp = time.strftime("%b %e %H:%M:%S", time.localtime())
    words = "452 4.2.2 <user@remote.example>: user is over quota"
    log = tmp_path / "mail.log"
    log.write_text("".join("%s mx1 postfix/smtp[4242]: %s\n" % (stamp, REMOTE % ("4.2.2", "deferred", words))
                           for _ in range(6)))
    r, _out, err = run_direct("postfix_diagnose", dict(checks=["log"], log_paths=[str(log)], log_window="1h",
                                                       state_file=str(tmp_path / "state.json"), log_source="file"))
    assert not r.get("failed"), (r.get("msg"), err[-500:])
    assert REFUSAL in r["ids"] and "delivery.mailbox_full" not in r["ids"], r["ids"]
    assert r["log"]["remote"] == {"remote.example": {"count": 6, "reasons": {"mailbox full": 6}}}
    f = next(f for f in r["findings"] if f["id"] == REFUSAL)
    assert f["class"] == "advisory" and f["outside"] == cat.CATALOG[REFUSAL]["outside"]
