# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 31 item 3, configuration and table IDs: each one's lines (the wordings of Postfix 3.7 and
3.10, tests/vocabulary; 3.5 has the same ones) classify as the ID with the evidence an admin needs,
near misses do not, the cause and its symptom are linked, and the live relay rule reads a real
postconf the way smtpd's own start-up check does.

Lines are our own, written from the message formats of Postfix's source (no log line is copied).
"""
from __future__ import annotations

import json
import time

import pytest
from ansible.module_utils import diagnose_rules as rules
from ansible.module_utils import log_scan
from ansible.module_utils import log_signatures as sig
from ansible.module_utils import postfix_conf as pc
from conftest import HAVE_POSTFIX, run_direct, sh

HEAD = "Nov 24 10:00:%02d mx1 postfix/%s[4242]: %s"


def classify(daemon, msg):
    fid, m = sig.classify(HEAD % (0, daemon, msg))
    return fid, {k: v for k, v in (m.groupdict() if m else {}).items() if v is not None}


# (daemon, message, ID, the evidence groups it must carry)
CASES = [
    ("trivial-rewrite", "warning: do not list domain lab.example in BOTH mydestination and virtual_mailbox_domains",
     "config.domain_in_two_classes", dict(domain="lab.example", param="mydestination", where="virtual_mailbox_domains")),
    ("trivial-rewrite", "warning: do not list domain shop.example in BOTH mydestination and virtual_alias_domains",
     "config.domain_in_two_classes", dict(domain="shop.example", where="virtual_alias_domains")),
    ("smtpd", 'warning: unknown smtpd restriction: "reject_unknown_sender"',
     "config.unknown_restriction", dict(param="reject_unknown_sender")),
    ("smtpd", "fatal: restriction class `lab_class' needs a definition",
     "config.unknown_restriction", dict(where="lab_class")),
    ("smtpd", "warning: restriction reject_rbl_client requires domain name argument",
     "config.unknown_restriction", dict(table="reject_rbl_client")),
    ("smtpd", "warning: restriction check_policy_service must be followed by transport:server",
     "config.unknown_restriction", dict(table="check_policy_service")),
    ("smtpd", 'warning: restriction check_sender_access: bad argument "access": need maptype:mapname',
     "config.unknown_restriction", dict(table="check_sender_access")),
    ("smtpd", "fatal: bad numerical configuration: smtpd_client_connection_count_limit = ten",
     "config.bad_value", dict(param="smtpd_client_connection_count_limit")),
    ("smtp", "fatal: bad boolean configuration: smtp_tls_note_starttls_offer = maybe",
     "config.bad_value", dict(param="smtp_tls_note_starttls_offer")),
    ("smtpd", "fatal: parameter smtpd_timeout: bad time value or unit: 30x",
     "config.bad_value", dict(where="smtpd_timeout")),
    ("trivial-rewrite", "fatal: /etc/postfix/ldap-aliases.cf: bad numerical configuration: timeout = soon",
     "config.bad_value", dict(file="/etc/postfix/ldap-aliases.cf", param="timeout")),
    ("smtpd", "fatal: bad configuration: unknown_address_reject_code = 250",
     "config.bad_value", dict(param="unknown_address_reject_code")),
    ("postconf", "warning: /etc/postfix/main.cf, line 52: overriding earlier entry: message_size_limit=10240000",
     "config.overriding_entry", dict(file="/etc/postfix/main.cf", where="52", param="message_size_limit")),
    ("smtpd", "fatal: in parameter smtpd_relay_restrictions or smtpd_recipient_restrictions, specify at least one "
              "working instance of: reject_unauth_destination, defer_unauth_destination, reject, defer, defer_if_permit "
              "or check_relay_domains",
     "config.relay_restrictions_missing", dict(param="smtpd_relay_restrictions")),
    ("master", "fatal: parameter inet_interfaces: no local interface found for 192.0.2.199",
     "config.inet_interfaces_not_local", dict(param="inet_interfaces", ip="192.0.2.199")),
    ("postconf", "warning: /etc/postfix/dynamicmaps.cf: file is owned or writable by non-root users -- skipping this file",
     "config.dynamicmaps_unsafe", dict(file="/etc/postfix/dynamicmaps.cf")),
    ("smtpd", "warning: /etc/postfix/dynamicmaps.cf.d/pcre.cf: file is owned or writable by non-root users -- skipping "
              "this file", "config.dynamicmaps_unsafe", dict(file="/etc/postfix/dynamicmaps.cf.d/pcre.cf")),
    # the type that went missing with it: the cause, not maps.unsupported_type
    ("smtpd", "fatal: unsupported dictionary type: pcre (/etc/postfix/dynamicmaps.cf: file is owned or writable by "
              "non-root users)", "config.dynamicmaps_unsafe", dict(domain="pcre", table="/etc/postfix/dynamicmaps.cf")),
    ("local", "warning: required alias not found: postmaster",
     "config.postmaster_alias_missing", dict(param="postmaster")),
    ("cleanup", "warning: pcre map /etc/postfix/header_checks, line 3: error in regex at offset 9: missing closing "
                "parenthesis", "maps.regex_syntax", dict(file="/etc/postfix/header_checks", where="3")),
    ("smtpd", "warning: regexp map /etc/postfix/sender_checks, line 12: Invalid preceding regular expression: skipping "
              "this rule", "maps.regex_syntax", dict(file="/etc/postfix/sender_checks", where="12")),
    ("cleanup", "warning: pcre map /etc/postfix/body_checks, line 7: IF has no matching ENDIF",
     "maps.regex_syntax", dict(where="7")),
    ("proxymap", 'warning: request for unapproved table: "ldap:/etc/postfix/ldap-aliases.cf"',
     "maps.proxy_unapproved", dict(table="ldap:/etc/postfix/ldap-aliases.cf")),
    ("trivial-rewrite", "warning: dict_ldap_connect: Unable to bind to server ldap://ldap.lab.example:389 with dn "
                        "cn=postfix,dc=lab,dc=example: 49 (Invalid credentials)",
     "maps.backend_bind_failed", dict(dest="ldap://ldap.lab.example:389", user="cn=postfix,dc=lab,dc=example")),
    ("proxymap", "warning: connect to mysql server db.lab.example: Access denied for user 'postfix'@'mx1.lab.example' "
                 "(using password: YES)", "maps.backend_bind_failed", dict(where="mysql", dest="db.lab.example")),
    ("proxymap", 'warning: connect to pgsql server db.lab.example: connection to server at "db.lab.example" (10.1.2.6), '
                 'port 5432 failed: FATAL:  password authentication failed for user "postfix"',
     "maps.backend_bind_failed", dict(where="pgsql", dest="db.lab.example")),
    ("trivial-rewrite", "warning: dict_ldap_connect: Unable to bind to server ldap://ldap.lab.example:389 with dn "
                        "cn=postfix,dc=lab,dc=example: -1 (Can't contact LDAP server)",
     "maps.backend_unreachable", dict(dest="ldap://ldap.lab.example:389")),
    ("trivial-rewrite", "warning: dict_ldap_lookup: Search error -1: Can't contact LDAP server ",
     "maps.backend_unreachable", {}),
    ("smtpd", "warning: dict_ldap_connect: Unable to connect to LDAP server ldaps://ldap.lab.example",
     "maps.backend_unreachable", dict(dest="ldaps://ldap.lab.example")),
    ("proxymap", "warning: connect to mysql server db.lab.example: Can't connect to MySQL server on 'db.lab.example' (111)",
     "maps.backend_unreachable", dict(where="mysql", dest="db.lab.example")),
    ("proxymap", 'warning: connect to pgsql server db.lab.example: connection to server at "db.lab.example" (10.1.2.6), '
                 "port 5432 failed: Connection refused", "maps.backend_unreachable", dict(where="pgsql", dest="db.lab.example")),
    ("smtpd", "warning: connect to TCP map 127.0.0.1:2001: Connection refused",
     "maps.backend_unreachable", dict(table="127.0.0.1:2001")),
]


@pytest.mark.parametrize(("daemon", "msg", "fid", "groups"), CASES, ids=[c[2] + ":" + c[1][:30] for c in CASES])
def test_each_line_is_its_id_with_the_evidence(daemon, msg, fid, groups):
    got, found = classify(daemon, msg)
    assert got == fid, (msg, got)
    assert {k: found.get(k) for k in groups} == groups, found


# Lines that must not raise the new IDs: runtime trouble of a table (not its syntax), the other side of
# a bind (reached vs. refused), a restriction that works, other programs, a remote server's words.
NEAR_MISSES = [
    ("cleanup", "warning: pcre map /etc/postfix/body_checks, line 2: backtracking limit exceeded", "maps.regex_syntax"),
    ("smtpd", "warning: regexp map /etc/postfix/access, line 3: out of memory", "maps.regex_syntax"),
    ("trivial-rewrite", "warning: dict_ldap_connect: Unable to bind to server ldap://ldap.lab.example:389 with dn "
                        "cn=postfix,dc=lab,dc=example: -1 (Can't contact LDAP server)", "maps.backend_bind_failed"),
    ("trivial-rewrite", "warning: dict_ldap_connect: Unable to bind to server ldap://ldap.lab.example:389 with dn "
                        "cn=postfix,dc=lab,dc=example: 49 (Invalid credentials)", "maps.backend_unreachable"),
    ("proxymap", "warning: connect to mysql server db.lab.example: Access denied for user 'postfix'@'mx1' (using "
                 "password: YES)", "maps.backend_unreachable"),
    ("smtpd", "warning: restriction `reject_unauth_destination' after `permit' is ignored", "config.unknown_restriction"),
    ("smtpd", "warning: support for restriction \"reject_unknown_hostname\" has been removed in Postfix 3.9; instead, "
              "specify \"reject_unknown_helo_hostname\"", "config.unknown_restriction"),
    ("smtpd", "warning: unsupported dictionary type: pcre", "config.dynamicmaps_unsafe"),
    ("local", "warning: :include: file /home/u/list is world writable", "config.dynamicmaps_unsafe"),
    ("bounce", "warning: 4F1A2B3C4D: postmaster notice failed while bouncing to u@lab.example",
     "config.postmaster_alias_missing"),
]


@pytest.mark.parametrize(("daemon", "msg", "not_fid"), NEAR_MISSES, ids=[m[2] + ":" + m[1][:30] for m in NEAR_MISSES])
def test_near_misses_are_not_the_id(daemon, msg, not_fid):
    assert classify(daemon, msg)[0] != not_fid


def test_other_programs_and_remote_servers_saying_the_words_raise_nothing():
    lines = [
        # slapd or an LDAP client tool of the host, not a Postfix table
        "Nov 24 10:00:01 mx1 nslcd[77]: [8b4567] <group/member=\"u\"> failed to bind to LDAP server "
        "ldap://ldap.lab.example/: Can't contact LDAP server: Connection refused",
        "Nov 24 10:00:02 mx1 dovecot: auth: Error: LDAP: Can't contact LDAP server",
        # our smtp client quoting a remote server's own configuration trouble
        "Nov 24 10:00:03 mx1 postfix/smtp[42]: 4F1A2B3C4D: to=<u@remote.example>, relay=mx.remote.example[192.0.2.25]:25, "
        "delay=1, delays=0.1/0/0.5/0.4, dsn=4.3.0, status=deferred (host mx.remote.example[192.0.2.25] said: 451 4.3.0 "
        "request for unapproved table: \"ldap:/etc/postfix/x.cf\" (in reply to RCPT TO command))",
    ]
    agg = log_scan.scan_lines(lines)
    new = {fid for fid in agg["ids"] if fid.startswith(("config.", "maps."))}
    assert new == set(), agg["ids"]
    assert "remote.example" in agg["remote"]


def test_the_backend_explains_the_failed_lookups(tmp_path):
    """The real module: an unreachable LDAP server and the lookup errors it causes are one finding
    with its symptom linked (maps.lookup_failed explained_by the backend)."""
    stamp = time.strftime("%b %e %H:%M:%S", time.localtime())
    log = tmp_path / "mail.log"
    log.write_text("".join("%s mx1 postfix/trivial-rewrite[4242]: %s\n" % (stamp, msg) for msg in (
        "warning: dict_ldap_connect: Unable to bind to server ldap://ldap.lab.example:389 with dn "
        "cn=postfix,dc=lab,dc=example: -1 (Can't contact LDAP server)",
        'warning: ldap:/etc/postfix/ldap-aliases.cf lookup error for "u@lab.example"',
        'warning: request for unapproved table: "pgsql:/etc/postfix/pg.cf"')))
    r, _out, err = run_direct("postfix_diagnose", dict(checks=["log"], log_paths=[str(log)], log_window="1h",
                                                       state_file=str(tmp_path / "state.json"), log_source="file"))
    assert not r.get("failed"), (r.get("msg"), err[-500:])
    by_id = {f["id"]: f for f in r["findings"]}
    assert {"maps.backend_unreachable", "maps.lookup_failed", "maps.proxy_unapproved"} <= set(by_id)
    assert by_id["maps.lookup_failed"]["root_cause"] == "maps.backend_unreachable"
    assert by_id["maps.backend_unreachable"]["outside"]
    top = by_id["maps.backend_unreachable"]["evidence"]["top"]
    assert top["dest"] == [{"value": "ldap://ldap.lab.example:389", "count": 1}]
    assert by_id["maps.proxy_unapproved"]["evidence"]["top"]["table"][0]["value"] == "pgsql:/etc/postfix/pg.cf"


# ------------------------------------------------------------------ the live relay rule
def _params(conf, *settings):
    if settings:
        sh("postconf", "-c", str(conf), "-e", *settings)
    return pc.parse_n(sh("postconf", "-c", str(conf), "-x").stdout)


RELAY_CASES = [
    # (settings, smtpd would refuse to start)
    ((), False),  # the fixture's default: defer_unauth_destination
    (("smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated",
      "smtpd_recipient_restrictions = permit_mynetworks"), True),
    (("smtpd_relay_restrictions =", "smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination"), False),
    (("smtpd_relay_restrictions = permit_mynetworks, reject",), False),
    # after "permit" nothing counts, and warn_if_reject's restriction never rejects
    (("smtpd_relay_restrictions = permit_mynetworks, permit, reject_unauth_destination",), True),
    (("smtpd_relay_restrictions = warn_if_reject reject_unauth_destination, permit_mynetworks",), True),
    # a restriction class holding the working restriction counts; an empty one does not
    (("smtpd_restriction_classes = lab_relay", "lab_relay = reject_unauth_destination",
      "smtpd_relay_restrictions = permit_mynetworks, lab_relay"), False),
    (("smtpd_restriction_classes = lab_relay", "lab_relay = permit_mynetworks",
      "smtpd_relay_restrictions = permit_mynetworks, lab_relay"), True),
]


@pytest.mark.skipif(not HAVE_POSTFIX, reason="Postfix binaries not installed")
@pytest.mark.parametrize(("settings", "missing"), RELAY_CASES)
def test_the_live_rule_is_smtpds_own_check(postfix_dir, settings, missing):
    params = _params(postfix_dir, *settings)
    assert rules.relay_required_missing(params) is missing
    c = dict(params=params, explicit=params, services={}, overrides={}, unused=[], check=(True, ""))
    found = {f["id"]: f for f in rules.config_findings(c, {})}
    assert ("config.relay_restrictions_missing" in found) is missing
    if missing:
        f = found["config.relay_restrictions_missing"]
        assert f["class"] == "auto" and f["fix"]["params"] == {"smtpd_relay_restrictions": rules.SAFE_RELAY}
        # smtpd does not run at all: not an open relay (unless mynetworks is the Internet)
        assert "relay.open_relay" not in found


@pytest.mark.skipif(not HAVE_POSTFIX, reason="Postfix binaries not installed")
def test_the_module_finds_it_live_and_the_fix_value_makes_postfix_accept_it(postfix_dir, tmp_path):
    sh("postconf", "-c", str(postfix_dir), "-e", "smtpd_relay_restrictions = permit_mynetworks",
       "smtpd_recipient_restrictions = permit_mynetworks", "mynetworks = 0.0.0.0/0")
    args = dict(config_dir=str(postfix_dir), checks=["config"], state_file=str(tmp_path / "s.json"),
                change_window_marker=str(tmp_path / "cw.json"), fix_ledger=str(tmp_path / "fixed.json"))
    r, _out, err = run_direct("postfix_diagnose", args)
    assert not r.get("failed"), (r.get("msg"), err[-500:])
    by_id = {f["id"]: f for f in r["findings"]}
    f = by_id["config.relay_restrictions_missing"]
    assert f["evidence"]["settings"] == {"smtpd_relay_restrictions": "permit_mynetworks",
                                         "smtpd_recipient_restrictions": "permit_mynetworks"}
    # the world in mynetworks is still an open relay finding of its own, for that reason only
    assert by_id["relay.open_relay"]["summary"] == "mynetworks contains 0.0.0.0/0 (the whole Internet)"
    sh("postconf", "-c", str(postfix_dir), "-e", "smtpd_relay_restrictions = " + f["fix"]["params"]["smtpd_relay_restrictions"],
       "mynetworks = 127.0.0.0/8")
    r, _out, _err = run_direct("postfix_diagnose", args)
    assert not {"config.relay_restrictions_missing", "relay.open_relay"} & set(r["ids"]), json.dumps(r["ids"])


def test_reached_and_refused_are_told_apart_by_the_words_not_by_catalog_order():
    """Each backend ID's own regex: a login refused is never 'unreachable' and the reverse, whatever
    order the catalog tries them in."""
    rx = dict(sig.COMPILED)
    for _daemon, msg, fid, _groups in CASES:
        if fid.startswith("maps.backend_"):
            other = "maps.backend_unreachable" if fid == "maps.backend_bind_failed" else "maps.backend_bind_failed"
            assert rx[fid].search(msg) and not rx[other].search(msg), (fid, msg)


def test_a_panic_in_a_regex_table_is_postfix_s_own_bug_not_a_rule_to_fix():
    assert classify("cleanup", "panic: regexp map /etc/postfix/header_checks, line 3: bad replacement syntax")[0] is None
