# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every message gets a meaning (issue 31 item 2): log_families' rows and the dispatcher
log_other, through the real scanner, the diagnosis module and the report.

Lines are our own, written from the message formats of Postfix's source (tests/vocabulary) with
values a mail admin meets; none is copied from a log.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from ansible.module_utils import diagnose_rules as rules
from ansible.module_utils import fault_catalog as cat
from ansible.module_utils import log_families as fam
from ansible.module_utils import log_neighbours as nb
from ansible.module_utils import log_other, log_scan, report_model, report_render
from conftest import run_direct

ROOT = Path(__file__).resolve().parents[2]
T = "Nov 24 10:%02d:%02d mx1 %s: %s"


def lines(*entries):
    return [T % (i // 60 % 60, i % 60, tag, msg) for i, (tag, msg) in enumerate(entries)]


def one(tag, msg):
    """(kind, name, subject) of one line through the scanner's tail, or None."""
    got = log_other.postfix(lines((tag, msg))[0])
    return got and got[:3]


# ------------------------------------------------------------------ the data
def test_the_families_are_the_issues_twelve_with_advice():
    assert list(fam.FAMILIES) == ["config", "lookup_table", "permission", "resource", "tls", "sasl", "dns", "network",
                                  "filter", "queue_file", "internal", "version"]
    for name, (title, advice) in fam.FAMILIES.items():
        assert title and len(advice) > 60, name
    assert all(reason for reason in list(fam.STATISTICS.values()) + list(fam.BENIGN.values()))


def test_every_row_names_a_known_class_and_compiles():
    kinds = {"family": fam.FAMILIES, "statistic": fam.STATISTICS, "benign": fam.BENIGN}
    for kind, name, *_rest in fam.ROWS:
        assert name in kinds[kind], (kind, name)
    assert len(fam.compiled()[0]) == len(fam.ROWS)
    with pytest.raises(ValueError):
        fam._compile([("family", "no_such_family", r"x")])


def test_index_words_are_whole_words_every_match_holds():
    # the index is read from the pattern: a word at a run's edge counts only where it is bounded
    assert fam.index_words(r"fork: .{0,60} -- throttling") == {"fork"}
    assert fam.index_words(r"(?:foo bar|baz qux) end") in ({"end"}, {"foo", "baz"})
    assert fam.index_words(r"\S+backward time jump") == {"time"}  # "backward" may end a longer word, "jump" go on
    assert fam.index_words(r"\S+backward") is None  # no whole word: the row is tried on every message (ALWAYS)
    assert fam.index_words(r"SASL(?:: | library)") == {"sasl"}  # what follows starts with a non-word character
    assert fam.index_words(r"(?:\w+ )?lookup error: ") == {"lookup"}
    # every row's words really are in a message its pattern matches (the index never hides a row)
    for _kind, name, rx, _p in fam.compiled()[0]:
        words = fam.index_words(rx.pattern)
        assert words is None or all(w == w.lower() and fam.WORD.fullmatch(w) for w in words), name


# ------------------------------------------------------------------ what the rows say
@pytest.mark.parametrize(("tag", "msg", "expected"), [
    # a fatal is placed by its words, naming what it names
    ("postfix/master", "fatal: bind 0.0.0.0 port 25: Address already in use",
     ("family", "network", "address 0.0.0.0 port 25")),
    ("postfix/smtpd", "fatal: open /etc/postfix/sasl_passwd: Permission denied",
     ("family", "permission", "file /etc/postfix/sasl_passwd")),
    ("postfix/master", "fatal: parameter inet_interfaces: no local interface found for 192.0.2.1",
     ("family", "network", "parameter inet_interfaces")),
    ("postfix/smtpd", "fatal: bad numerical configuration: smtpd_client_connection_count_limit = ten",
     ("family", "config", "parameter smtpd_client_connection_count_limit")),
    ("postfix/smtpd", "fatal: no SASL authentication mechanisms", ("family", "sasl", None)),
    ("postfix/master", "fatal: socket: Too many open files", ("family", "resource", "call socket")),
    ("postfix/cleanup", "fatal: dict_sqlite_lookup: /etc/postfix/sqlite-virtual.cf: SQL prepare failed: no such table",
     ("family", "lookup_table", "file /etc/postfix/sqlite-virtual.cf")),
    ("postfix/postconf", "fatal: -e requires name=value argument", ("family", "config", None)),
    ("postfix/postqueue", "fatal: User nobody(65534) is not allowed to flush the mail queue",
     ("family", "permission", "user nobody(65534)")),
    # a panic is internal, naming the function
    ("postfix/qmgr", "panic: myfree: corrupt or unallocated memory block", ("family", "internal", "function myfree")),
    # warnings of this host
    ("postfix/cleanup", "warning: connect to Milter service inet:127.0.0.1:8891: Connection refused",
     ("family", "filter", "milter inet:127.0.0.1:8891")),
    ("postfix/smtpd", "warning: connect to private/tlsmgr: No such file or directory",
     ("family", "internal", "service private/tlsmgr")),
    ("postfix/cleanup", "warning: pcre map /etc/postfix/header_checks, line 3: unknown regexp option \"q\": skipping this rule",
     ("family", "lookup_table", "file /etc/postfix/header_checks")),
    ("postfix/smtpd", "warning: No server certs available. TLS won't be enabled", ("family", "tls", None)),
    ("postfix/master", "warning: master_spawn: fork: Resource temporarily unavailable -- throttling",
     ("family", "resource", "service master_spawn")),
    ("postfix/qmgr", "warning: 3F2A1B9C8D: message rejected: missing sender envelope record",
     ("family", "queue_file", "queue ID 3F2A1B9C8D")),
    ("postfix/smtp", "warning: Postfix library version mis-match: wanted 3.7.11, found 3.7.10", ("family", "version", None)),
    ("postfix/smtp", "warning: DNSSEC validation may be unavailable", ("family", "dns", None)),
    ("postfix/postfix-script", "warning: /etc/postfix/main.cf, line 7: overriding earlier entry: relayhost=[mx.example]",
     ("family", "config", "file /etc/postfix/main.cf")),
    ("postfix/master", "fatal: open lock file /var/lib/postfix/master.lock: unable to lock: Resource temporarily unavailable",
     ("family", "internal", "file /var/lib/postfix/master.lock")),
    # Internet and peer noise: statistics, never a family
    ("postfix/smtpd", "warning: valid_hostname: numeric hostname: 192.0.2.7", ("statistic", "client_syntax", None)),
    ("postfix/postscreen", "warning: dnsblog reply timeout 10s for zen.example.org", ("statistic", "peer_dns", None)),
    ("postfix/smtp", "warning: TLS library problem: error:0A000086:SSL routines::certificate verify failed:"
                     "../ssl/statem/statem_clnt.c:1889:", ("statistic", "peer_tls", None)),
    ("postfix/smtpd", "warning: mail.example.net[192.0.2.9]: SASL LOGIN authentication aborted",
     ("statistic", "client_protocol", None)),
    ("postfix/smtpd", "warning: haproxy read: time limit exceeded", ("statistic", "upstream_proxy", None)),
    ("postfix/smtpd", "warning: example.net: MX or address lookup error: DNS reply filter drops all results",
     ("statistic", "peer_dns", None)),
    # notices and second lines
    ("postfix/qmgr", "warning: to turn off these warnings specify: qmgr_clog_warn_time = 0", ("benign", "continuation", None)),
    # another program's line, no neighbour knows it: not Postfix's vocabulary
    ("sshd", "error: kex_exchange_identification: Connection closed by remote host", ("benign", "other_program", None)),
])
def test_what_a_message_means(tag, msg, expected):
    assert one(tag, msg) == expected


def test_a_fatal_is_always_a_family_and_one_nothing_places_is_internal():
    # the same words a client's noise has are a family when Postfix stopped on them
    assert fam.classify("valid_hostname: numeric hostname: 192.0.2.7", "fatal")[:2] == ("family", "internal")
    assert fam.classify("zz_no_such_words_zz", "fatal") == ("family", "internal", None)
    assert fam.classify("zz_no_such_words_zz", "warning") is None  # a warning nobody knows stays unclassified
    assert fam.classify("zz: anything at all", "panic") == ("family", "internal", "function zz")


def test_an_errno_that_ran_out_or_was_refused_decides_before_the_topic():
    # EACCES on the PRNG file: the permission is the fix, not the TLS settings
    assert fam.classify("cannot open PRNG exchange file /var/lib/postfix/prng_exch: Permission denied", "fatal")[:2] \
        == ("family", "permission")
    assert fam.classify("write queue file: No space left on device", "warning")[:2] == ("family", "resource")
    # ENOENT in a queue operation is the queue file's
    assert fam.classify("open deferred 3F2A1B9C8D: No such file or directory", "warning")[:3] \
        == ("family", "queue_file", "queue ID 3F2A1B9C8D")


# ------------------------------------------------------------------ through the scanner
def test_families_are_aggregated_with_subjects_severity_and_masked_samples():
    agg = log_scan.scan_lines(lines(
        ("postfix/master", "fatal: bind 192.0.2.3 port 25: Cannot assign requested address"),
        ("postfix/master", "fatal: bind 192.0.2.3 port 25: Cannot assign requested address"),
        ("postfix/smtp", "warning: bind 192.0.2.1 port 0: Cannot assign requested address"),
        ("postfix/cleanup", "warning: 3F2A1B9C8D: Milter request to drop multi-recipient: \"alice@corp.example\""),
        ("postfix/smtpd", "warning: valid_hostname: misplaced hyphen: -bad-.example"),
    ), year_hint=2026)
    net = agg["families"]["network"]
    assert net["count"] == 3
    assert net["groups"]["subject"] == {"address 192.0.2.3 port 25": 2, "address 192.0.2.1 port 0": 1}
    assert net["groups"]["severity"] == {"fatal": 2, "warning": 1} and net["first"] and net["last"]
    assert agg["statistics"] == {"client_syntax": 1}
    assert agg["unclassified"] == 0 and agg["faultish"] == 5
    assert "a***@corp.example" in agg["families"]["filter"]["samples"][0]  # samples are masked
    log = fam.summary(agg)
    assert log["network"]["severity"] == "fatal" and log["network"]["advice"] == fam.FAMILIES["network"][1]
    assert list(log["network"]["subjects"]) == ["address 192.0.2.3 port 25", "address 192.0.2.1 port 0"]


def test_merged_aggregates_add_families_and_statistics():
    a = log_scan.scan_lines(lines(("postfix/master", "fatal: socket: Too many open files"),
                                  ("postfix/smtpd", "warning: haproxy read: EOF")), year_hint=2026)
    b = log_scan.scan_lines(lines(("postfix/master", "fatal: socket: Too many open files")), year_hint=2026)
    merged = log_scan.merge(log_scan.merge(log_scan.new_agg(), a), b)
    assert merged["families"]["resource"]["count"] == 2
    assert merged["families"]["resource"]["groups"]["subject"] == {"call socket": 2}
    assert merged["statistics"] == {"upstream_proxy": 1}
    # a state saved before families (version 5) is read again, not merged into
    assert log_scan.STATE_VERSION >= 6
    old = log_scan.new_agg()
    del old["families"], old["statistics"]
    assert log_scan.merge(old, a)["families"]["resource"]["count"] == 1


def test_lines_older_than_the_window_are_skipped_for_families_too(neighbour):
    neighbour["fatal: cannot open /etc/fake.conf"] = ("family", "config", "file /etc/fake.conf")
    neighbour["warning: noise"] = ("statistic", "fake_noise", None)
    sc = log_scan.Scanner(since=time.mktime((2026, 11, 24, 10, 30, 0, 0, 0, -1)), year_hint=2026)
    old = lines(("postfix/master", "fatal: socket: Too many open files"), ("fakeprog[9]", "fatal: cannot open /etc/fake.conf"),
                ("fakeprog[9]", "warning: noise"))
    sc.feed(("\n".join(old) + "\n").encode())
    assert sc.agg["families"] == {} and sc.agg["statistics"] == {} and sc.agg["unclassified"] == 0
    assert sc.agg["skipped_old"] == 2  # the neighbour's lines; a Postfix line's age is checked before its class


# ------------------------------------------------------------------ the neighbours come first
@pytest.fixture
def neighbour(monkeypatch):
    """log_neighbours answering what a test says for program "fakeprog" (the dispatcher's contract)."""
    answers = {}
    monkeypatch.setattr(nb, "PROGRAMS", frozenset({"fakeprog"}))
    monkeypatch.setattr(nb, "classify", lambda program, message: answers.get(message))
    return answers


def test_each_kind_a_neighbour_answers_is_counted_where_it_belongs(neighbour):
    neighbour.update({
        "a: warning: noise": ("statistic", "fake_noise", None),
        "b: error: routine": ("benign", "fake_routine", None),
        "c: fatal: cannot open /etc/fake/fake.conf": ("family", "config", "file /etc/fake/fake.conf"),
        # the words a Postfix signature would claim: the neighbour's answer wins
        "d: warning: SASL: Connect to private/auth failed: No such file": ("id", "sasl.dovecot_socket", None),
    })
    agg = log_scan.scan_lines(lines(*[("fakeprog[9]", m) for m in neighbour]), year_hint=2026)
    assert agg["statistics"] == {"fake_noise": 1} and agg["benign"] == {"fake_routine": 1}
    assert agg["families"]["config"]["groups"] == {"subject": {"file /etc/fake/fake.conf": 1}, "severity": {"fatal": 1}}
    assert agg["ids"]["sasl.dovecot_socket"]["count"] == 1
    assert agg["faultish"] == 4 and agg["unclassified"] == 0


def test_a_neighbours_unknown_or_malformed_answer_falls_through(neighbour):
    neighbour.update({"x: error: one": ("family", "no_such_family", None), "y: error: two": ("id", "no.such_id", None),
                      "z: error: three": ("weird", "kind", None), "w: error: four": "not a tuple"})
    agg = log_scan.scan_lines(lines(*[("fakeprog[9]", m) for m in list(neighbour) + ["v: error: unknown"]]),
                              year_hint=2026)
    # not claimed by the neighbour, no Postfix words: the neighbour's program stays unclassified (its words are missing)
    assert agg["unclassified"] == 5 and agg["families"] == {} and agg["ids"] == {}
    # a Postfix line is never asked
    neighbour["warning: zz"] = ("family", "config", None)
    assert log_other.neighbour(lines(("postfix/smtpd[1]", "warning: zz"))[0]) is None


# ------------------------------------------------------------------ hostile input
def test_a_64k_line_odd_bytes_and_unknown_programs_are_counted_never_a_crash():
    big = "Nov 24 10:00:00 mx1 postfix/smtpd[1]: fatal: " + "open /" + "a/" * 32768 + ": Permission denied"
    odd = b"Nov 24 10:00:01 mx1 postfix/smtpd[1]: warning: \xff\xfe\x00\x1b[31m bind \xc3\x28 port 25: Address already in use"
    unknown = b"Nov 24 10:00:02 mx1 weird-daemon[7]: fatal: open /etc/weird.conf: No such file or directory"
    no_tag = b"warning: \x00\x01\x02 table hash:/etc/postfix/\xe9virtual lookup error: \xff"
    for feed in (True, False):
        sc = log_scan.Scanner(year_hint=2026)
        if feed:
            sc.feed(big.encode() + b"\n" + odd + b"\n" + unknown + b"\n" + no_tag + b"\n")
        else:  # the journal's path: whole decoded lines, no 4096-byte cut
            for raw in (big.encode(), odd, unknown, no_tag):
                sc.text(raw.decode("utf-8", "replace"))
        agg = sc.agg
        assert agg["faultish"] == 4
        counted = sum(r["count"] for r in agg["families"].values()) + sum(agg["benign"].values()) \
            + sum(agg["statistics"].values()) + agg["unclassified"] + sum(r["count"] for r in agg["ids"].values())
        assert counted == 4
        assert agg["benign"].get("other_program") == 1  # the unknown program
        for rec in agg["families"].values():
            assert all(len(s) <= fam.MAX_SUBJECT + 20 for s in rec["groups"].get("subject", {}))


HOSTILE = r"""
import sys, time
sys.path.insert(0, sys.argv[1])
import ansible.module_utils
ansible.module_utils.__path__.append(sys.argv[1])
from ansible.module_utils import log_families as fam
runs = ("a", "a:", "a[", "<a", "a.", "[a", "a-", "a ", ": ", '"a', "/a", "a: ", "-a ", "(a")
slowest = (0.0, None)
for word in sorted(fam.compiled()[1]):
    for run in runs:
        for msg in (run * (4000 // len(run)) + " " + word + " x", word + " " + run * (4000 // len(run))):
            start = time.perf_counter()
            fam.classify(msg, "warning", "postconf")
            slowest = max(slowest, (time.perf_counter() - start, word + " / " + run))
print("%.4f %s" % slowest)
"""


def test_hostile_messages_stay_linear_in_every_row():
    """A 4 KB message of one run of characters plus an index word tries the rows that word finds
    (and those tried always); each must answer in milliseconds, not seconds. In a child process
    with a deadline: a regex that backtracks without end cannot be interrupted in-process."""
    import subprocess
    import sys
    try:
        proc = subprocess.run([sys.executable, "-c", HOSTILE, str(ROOT / "module_utils")], capture_output=True,
                              text=True, timeout=120, check=False)
    except subprocess.TimeoutExpired:
        pytest.fail("a row of log_families backtracks without end on a hostile 4 KB message")
    assert proc.returncode == 0, proc.stderr[-2000:]
    seconds, where = proc.stdout.split(" ", 1)
    # a figure, not a threshold (no wall-clock bound in a test): a backtracking row is caught by
    # the child's deadline above
    print("\nslowest hostile 4 KB message: %.1f ms (%s)" % (float(seconds) * 1000, where.strip()))


# ------------------------------------------------------------------ a healthy server has no family finding
ROUTINE = [
    ("postfix/smtpd[2]", "warning: hostname mail.partner.example does not resolve to address 192.0.2.44: Name or service not known"),
    ("postfix/smtpd[2]", "warning: hostname 203-0-113-9.dyn.example does not resolve to address 203.0.113.9"),
    ("postfix/smtpd[2]", "warning: non-SMTP command from unknown[198.51.100.3]: GET / HTTP/1.1"),
    ("postfix/smtpd[2]", "warning: TLS library problem: error:0A000126:SSL routines::unexpected eof while reading:"
                         "../ssl/record/rec_layer_s3.c:322:"),
    ("postfix/smtp[3]", "warning: TLS library problem: error:0A000410:SSL routines::sslv3 alert handshake failure:"
                        "../ssl/record/rec_layer_s3.c:1586:SSL alert number 40:"),
    ("postfix/anvil[4]", "warning: Connection rate limit exceeded: 62 from unknown[198.51.100.7] for service smtp"),
    ("postfix/smtpd[2]", "warning: Connection concurrency limit exceeded: 11 from unknown[198.51.100.7] for service smtp"),
    ("postfix/smtpd[2]", "warning: valid_hostname: misplaced delimiter: .example"),
    ("postfix/smtpd[2]", "warning: unknown[198.51.100.8]: SASL LOGIN authentication aborted"),
    ("postfix/postscreen[5]", "warning: dnsblog reply timeout 10s for zen.example.org"),
    ("postfix/postscreen[5]", "warning: getpeername: Transport endpoint is not connected -- dropping this connection"),
    ("postfix/dnsblog[6]", "warning: dnsblog_query: lookup error for DNS query 9.113.0.203.bl.example.org: "
                           "Host or domain name not found. Name service error for name=9.113.0.203.bl.example.org "
                           "type=A: Host not found, try again"),
    ("postfix/smtpd[2]", "warning: example.net: RBL lookup error: Host or domain name not found. Name service error "
                         "for name=7.100.51.198.bl.example.org type=A: Host not found, try again"),
    ("postfix/smtp[3]", "warning: numeric domain name in resource data of MX record for example.net: 192.0.2.80"),
    ("postfix/smtp[3]", "warning: malformed domain name in resource data of MX record for example.net: mail..example.net"),
    ("postfix/tlsproxy[7]", "warning: ciphertext read/write timeout for [198.51.100.9]:51234"),
    ("postfix/master[1]", "warning: process /usr/lib/postfix/sbin/smtpd pid 4242 exit status 1"),
    ("postfix/smtpd[2]", "warning: smtpd_peer_hostaddr_to_sockaddr: unknown[198.51.100.4]: hostname unknown "
                         "verification failed: Name or service not known"),
    ("postfix/cleanup[8]", "warning: header Subject: [SPAM] hello from unknown[198.51.100.5]; from=<x@spam.example> "
                           "to=<alice@lab.example> proto=ESMTP helo=<spam.example>"),
    ("postfix/qmgr[9]", "warning: please avoid flushing the whole queue when you have"),
    ("postfix/smtpd[2]", "warning: haproxy read: EOF"),  # the load balancer's health check
]


def test_a_healthy_servers_routine_warnings_raise_no_family():
    agg = log_scan.scan_lines(lines(*ROUTINE), year_hint=2026)
    assert agg["families"] == {}, {k: v["samples"] for k, v in agg["families"].items()}
    assert fam.findings(agg) == []
    assert agg["unclassified"] == 0


def test_the_generated_healthy_weeks_raise_no_family():
    from fixtures.healthy_mx import week

    agg = log_scan.scan_lines(week(), year_hint=2026)
    assert agg["families"] == {}, {k: v["samples"] for k, v in agg["families"].items()}


# ------------------------------------------------------------------ findings: advice, never a fix
def test_one_advisory_finding_per_family_with_severity_by_the_worst_message():
    agg = log_scan.scan_lines(lines(
        ("postfix/qmgr", "panic: myfree: corrupt or unallocated memory block"),
        ("postfix/smtpd", "error: open database /etc/postfix/client_access.lmdb: MDB_INVALID: File is not an LMDB file"),
        ("postfix/smtpd", "warning: No server certs available. TLS won't be enabled"),
        ("postfix/smtpd", "warning: No server certs available. TLS won't be enabled"),
    ), year_hint=2026)
    found = {f["id"]: f for f in fam.findings(agg)}
    assert set(found) == {"family.internal", "family.lookup_table", "family.tls"}
    assert (found["family.internal"]["severity"], found["family.lookup_table"]["severity"],
            found["family.tls"]["severity"]) == ("high", "medium", "low")
    f = found["family.lookup_table"]
    assert f["class"] == "advisory" and f["fix"]["can_fix"] is False and f["fix"]["steps"] == [fam.FAMILIES["lookup_table"][1]]
    assert f["evidence"]["subjects"] == {"file /etc/postfix/client_access.lmdb": 1} and f["evidence"]["samples"]
    assert "client_access.lmdb" in f["summary"]
    assert f["remedy"] == dict(releases_mail=False, phase="config", starts_postfix=False, verify_gone=False, opt_in=None)
    # the same shape as a catalog finding (what the roles and the report read), and correlate() takes it
    assert set(cat.make_finding("maps.stale_db", "x")) <= set(f) | {"outside"}
    ordered = rules.correlate(list(found.values()) + [cat.make_finding("maps.stale_db", "x")])
    assert [x["id"] for x in ordered][0] == "family.internal"
    assert not (set(found) & set(cat.CATALOG))  # no catalog entry: no lab fault, no fix file
    assert not list((ROOT / "roles" / "postfix_remediate" / "tasks" / "fix").glob("family*"))


def test_remediation_selects_no_family_finding_even_when_an_operator_names_it():
    """The selection of roles/postfix_remediate/tasks/main.yml, templated by Ansible itself."""
    import yaml
    from ansible.parsing.dataloader import DataLoader
    from ansible.template import Templar
    try:  # ansible-core 2.19+ templates only strings trusted as templates (the role's own YAML is)
        from ansible.template import trust_as_template
    except ImportError:  # pragma: no cover - older ansible-core trusts every string
        def trust_as_template(value):
            return value

    tasks = yaml.safe_load((ROOT / "roles" / "postfix_remediate" / "tasks" / "main.yml").read_text())
    select = next(t for t in tasks if t.get("name") == "Select the fixes for this host")
    agg = log_scan.scan_lines(lines(("postfix/master", "fatal: bind 192.0.2.3 port 25: Cannot assign requested address")),
                              year_hint=2026)
    found = fam.findings(agg) + [cat.make_finding("maps.stale_db", "x", fix=dict(commands=["postmap x"]))]
    variables = dict({k: trust_as_template(v) for k, v in select["vars"].items()}, postfix_diagnose_findings=found,
                     postfix_diagnose_ids=sorted(f["id"] for f in found),
                     postfix_remediate_skip=[], postfix_remediate_only=[],
                     postfix_remediate_opt_in={"family.network": {}}, ansible_play_batch=["h"])
    templar = Templar(loader=DataLoader(), variables=variables)
    facts = select["ansible.builtin.set_fact"]
    todo = templar.template(trust_as_template(facts["postfix_remediate_todo"]))
    advisory = templar.template(trust_as_template(facts["postfix_remediate_advisory"]))
    assert [f["id"] for f in todo] == ["maps.stale_db"]
    assert [f["id"] for f in advisory] == ["family.network"]


def test_the_diagnosis_returns_log_families_and_family_findings(tmp_path):
    stamp = time.strftime("%b %e %H:%M:%S", time.localtime())
    log = tmp_path / "mail.log"
    body = [("postfix/master[1]", "fatal: bind 192.0.2.3 port 25: Cannot assign requested address"),
            ("postfix/smtpd[2]", "warning: milter inet:127.0.0.1:8891: malformed reply: Z"),
            ("postfix/smtpd[2]", "warning: valid_hostname: numeric hostname: 192.0.2.7")] + ROUTINE
    log.write_text("".join("%s mx1 %s: %s\n" % (stamp, tag, msg) for tag, msg in body))
    r, _out, err = run_direct("postfix_diagnose", dict(checks=["log"], log_paths=[str(log)], log_window="1h",
                                                       state_file=str(tmp_path / "state.json"), log_source="file"))
    assert not r.get("failed"), (r.get("msg"), err[-800:])
    fams = r["log"]["families"]
    assert set(fams) == {"network", "filter"}
    assert fams["network"] == dict(count=1, severity="fatal", subjects={"address 192.0.2.3 port 25": 1},
                                   samples=fams["network"]["samples"], advice=fam.FAMILIES["network"][1],
                                   title=fam.FAMILIES["network"][0])
    assert r["log"]["statistics"]["client_syntax"] == 2  # the numeric hostname, and ROUTINE's misplaced delimiter
    by_id = {f["id"]: f for f in r["findings"]}
    assert by_id["family.network"]["severity"] == "high" and by_id["family.filter"]["severity"] == "low"
    assert by_id["family.network"]["class"] == "advisory" and not by_id["family.network"]["fix"]["can_fix"]
    assert "family.network" in r["ids"] and "family.network" in r["summary"]
    assert r["log"]["unclassified"] == 0


# ------------------------------------------------------------------ the report shows families next to fault IDs
def test_the_report_shows_family_findings_in_the_matrix_and_each_hosts_families(tmp_path):
    agg = log_scan.scan_lines(lines(
        ("postfix/master", "fatal: bind 192.0.2.3 port 25: Cannot assign requested address"),
        ("postfix/cleanup", "warning: milter inet:127.0.0.1:8891: malformed reply: <script>x</script>")), year_hint=2026)
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    findings = fam.findings(agg) + [cat.make_finding("maps.stale_db", "virtual.db older")]
    diag = dict(host="mx1", generated_at=now, check_mode=False, ids=sorted(f["id"] for f in findings),
                counts={}, findings=findings, log=dict(lines=2, families=fam.summary(agg)))
    (tmp_path / "mx1.json").write_text(json.dumps(diag))
    (tmp_path / "mx2.json").write_text(json.dumps(dict(diag, host="mx2", findings=[], ids=[], log={})))
    model = report_model.build(str(tmp_path), expected=["mx1", "mx2"])
    rows = {r["id"]: r for r in model["matrix"]}
    assert rows["family.network"]["kind"] == "family" and rows["maps.stale_db"]["kind"] == "fault"
    assert rows["family.network"]["cells"] == ["advisory", None] and rows["family.network"]["severities"] == ["high"]
    v = {h["host"]: h for h in model["hosts"]}
    assert [f["family"] for f in v["mx1"]["families"]] == ["network", "filter"] and v["mx2"]["families"] == []
    assert v["mx1"]["status"] == "needs fixing" and v["mx2"]["status"] == "healthy"
    templates = ROOT / "roles" / "postfix_report" / "templates"
    html = report_render.render(str(templates / "report.html.j2"), model, html=True)
    md = report_render.render(str(templates / "summary.md.j2"), model, html=False)
    assert "<code>family.network</code> <span class=\"fam\">log family</span>" in html
    assert "Log message families" in html and "address 192.0.2.3 port 25 (1)" in html
    assert "<script>" not in html
    assert "| `family.network` (log family) |" in md and "| `family.network` | low |" not in md
    assert "Log message families" in md and "address 192.0.2.3 port 25 (1)" in md
    # a damaged host file never breaks the report
    (tmp_path / "mx2.json").write_text(json.dumps(dict(diag, host="mx2", findings=[{"id": "family.nope"}],
                                                       log=dict(families={"network": {"count": "x", "subjects": [1]},
                                                                          "bogus": {}}))))
    model = report_model.build(str(tmp_path), expected=["mx1", "mx2"])
    v = {h["host"]: h for h in model["hosts"]}
    assert v["mx2"]["findings"] == [] and v["mx2"]["families"][0]["count"] == 0
