# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""DSN/NDR analyzer: our own fixtures, then the flufl.bounce and flanker corpora."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from ansible.module_utils import dsn_parse
from fixtures import bounces

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"


def rcpts(data):
    return {r["recipient"]: r for r in dsn_parse.parse_message(data)["recipients"]}


def test_postfix_rfc3464_bounce():
    parsed = dsn_parse.parse_message(bounces.POSTFIX_DSN)
    assert parsed["is_bounce"] and parsed["reporting_mta"] == "mx1.lab.test"
    got = rcpts(bounces.POSTFIX_DSN)
    assert set(got) == {"nobody@remote.test", "full@remote.test"}
    unknown = got["nobody@remote.test"]
    assert (unknown["status"], unknown["class"], unknown["remote_mta"]) == ("5.1.1", "permanent", "mx.remote.test")
    assert "does not exist" in unknown["meaning"].lower() or "bad destination mailbox" in unknown["meaning"].lower()
    assert unknown["diagnostic"].startswith("550 5.1.1")
    assert "User unknown in virtual mailbox table" in unknown["diagnostic"]  # folded line joined
    assert got["full@remote.test"]["status"] == "5.2.2"
    assert "full" in got["full@remote.test"]["meaning"].lower()


def test_delay_warning_is_temporary():
    r = rcpts(bounces.POSTFIX_DELAY)["slow@partner.test"]
    assert (r["status"], r["class"], r["action"]) == ("4.4.1", "temporary", "delayed")


def test_postfix_text_bounce_without_codes():
    got = rcpts(bounces.POSTFIX_TEXT)
    assert set(got) == {"gone@remote.test", "other@remote.test"}
    assert got["gone@remote.test"]["class"] == "permanent" and got["gone@remote.test"]["source"] == "text"
    assert got["other@remote.test"]["status"] == "5.7.1"
    assert got["other@remote.test"]["remote_mta"] == "mx.remote.test[192.0.2.25]"


def test_bare_smtp_reply_and_space_separator():
    r = rcpts(bounces.ODD_DSN)["big@remote.test"]
    assert (r["status"], r["class"]) == ("5.0.0", "permanent")


def test_plain_mail_is_not_a_bounce():
    parsed = dsn_parse.parse_message(bounces.NOT_A_BOUNCE)
    assert not parsed["is_bounce"] and parsed["recipients"] == []


@pytest.mark.parametrize("code,klass,words", [
    ("5.1.1", "permanent", "mailbox"), ("4.4.1", "temporary", ""), ("5.7.1", "permanent", ""),
    ("4.2.2", "temporary", "full"), ("2.0.0", "success", ""), ("9.9.9", "unknown", ""), (None, "unknown", ""),
])
def test_classify_status(code, klass, words):
    got_class, meaning = dsn_parse.classify_status(code)
    assert got_class == klass and words in meaning.lower()


@pytest.mark.parametrize("data", [b"", b"\x00\xff\xfe" * 1000, b"Content-Type: multipart/report; boundary=\n\n--",
                                  b"Content-Type: message/delivery-status\n\nStatus: 5.1.1\n" + b"x" * 1_000_000])
def test_odd_input_never_raises(data):
    parsed = dsn_parse.parse_message(data)
    assert isinstance(parsed["recipients"], list)


def test_split_mbox_and_summary():
    mbox = b"From MAILER-DAEMON Tue Nov 24 10:00:00 2026\n" + bounces.POSTFIX_DSN + \
        b"\nFrom MAILER-DAEMON Tue Nov 24 10:05:00 2026\n" + bounces.POSTFIX_DELAY
    msgs = dsn_parse.split_mbox(mbox)
    assert len(msgs) == 2
    records = [r for m in msgs for r in dsn_parse.parse_message(m)["recipients"]]
    summary = dsn_parse.summarize(records)
    assert summary["total"] == 3
    assert summary["by_class"] == {"permanent": 2, "temporary": 1}


# ------------------------------------------------------------------ corpora
def _flufl_rows():
    tsv = CORPUS / "flufl.bounce" / "expectations_extracted.tsv"
    if not tsv.exists():
        return []
    rows = []
    for line in tsv.read_text().splitlines():
        if line.startswith("#") or not line.strip():
            continue
        detector, sample, addrs, temp = line.split("\t")
        rows.append((detector, sample, {a.strip().lower() for a in addrs.split(",") if a.strip()}, temp == "True"))
    return rows


def test_flufl_corpus(record_property):
    rows = _flufl_rows()
    if not rows:
        pytest.skip("shared/corpus/flufl.bounce absent")
    data_dir = CORPUS / "flufl.bounce" / "flufl" / "bounce" / "tests" / "data"
    found, in_scope, in_scope_ok, wrong_class = 0, 0, 0, []
    for detector, sample, expected, temporary in rows:
        parsed = dsn_parse.parse_message((data_dir / sample).read_bytes())
        got = {(r["recipient"] or "").lower(): r for r in parsed["recipients"]}
        hit = bool(expected) and expected <= set(got)
        found += hit
        # In scope: what this analyzer claims to read (RFC 3464 reports and Postfix's own bounces).
        if detector in ("dsn", "postfix"):
            in_scope += 1
            in_scope_ok += hit
            for addr in expected & set(got):
                want = "delayed" if temporary else "failed"
                if got[addr]["outcome"] != want:
                    wrong_class.append((sample, addr, got[addr]["outcome"]))
    print("\nflufl.bounce: %d/%d samples with every expected address; RFC 3464 + Postfix: %d/%d; "
          "outcome mismatches: %d" % (found, len(rows), in_scope_ok, in_scope, len(wrong_class)))
    # per-class agreement over every labelled address we found (the corpus labels temporary vs
    # permanent; it has no reason labels, so reasons are printed as a distribution only)
    agree, reasons = {"temporary": [0, 0], "permanent": [0, 0]}, {}
    for _detector, sample, expected, temporary in rows:
        got = {(r["recipient"] or "").lower(): r for r in dsn_parse.parse_message((data_dir / sample).read_bytes())["recipients"]}
        for addr in expected & set(got):
            want = "temporary" if temporary else "permanent"
            agree[want][1] += 1
            agree[want][0] += got[addr]["class"] == want
            reasons[got[addr]["reason"]] = reasons.get(got[addr]["reason"], 0) + 1
    print("per-class agreement: %s; reasons: %s" % (
        ", ".join("%s %d/%d" % (k, a, n) for k, (a, n) in agree.items()), json.dumps(reasons, sort_keys=True)))
    record_property("flufl_in_scope", "%d/%d" % (in_scope_ok, in_scope))
    assert in_scope_ok == in_scope
    assert wrong_class == []


FLANKER = {"zed.eml": "5.1.1", "office365.eml": "5.1.10", "mailbox-full.eml": "5.2.2", "delayed.eml": "4.0.0",
           "no-mx.eml": "4.4.4"}


@pytest.mark.parametrize("name,status", sorted(FLANKER.items()))
def test_flanker_corpus(name, status):
    path = CORPUS / "flanker" / "tests" / "fixtures" / "messages" / "bounce" / name
    if not path.exists():
        pytest.skip("shared/corpus/flanker absent")
    records = dsn_parse.parse_message(path.read_bytes())["recipients"]
    assert status in {r["status"] for r in records}
    assert {r["class"] for r in records} == {"temporary" if status[0] == "4" else "permanent"}


# ------------------------------------------------------------------ issue 17 item 5
REPORT = """Reporting-MTA: dns; mx.far.example

Final-Recipient: rfc822; {rcpt}
Action: failed
{status}Diagnostic-Code: smtp; {diag}
"""


def _forwarded(rcpt, diag, status="Status: 5.1.1\\n"):
    """A bounce an admin forwarded inline: the report is quoted text in a plain message."""
    quoted = "\n".join("> " + ln for ln in REPORT.format(rcpt=rcpt, status=status, diag=diag).splitlines())
    return ("From: admin@lab.example\nTo: postmaster@lab.example\nSubject: Fwd: Undelivered Mail\n\n"
            "See below.\n\n---------- Forwarded message ----------\n" + quoted + "\n").encode()


def test_report_embedded_in_a_forwarded_message():
    parsed = dsn_parse.parse_message(_forwarded("gone@far.example", "550 5.1.1 <gone@far.example>: User unknown"))
    assert parsed["is_bounce"]
    [r] = parsed["recipients"]
    assert (r["recipient"], r["status"], r["reason"], r["source"]) == ("gone@far.example", "5.1.1", "userunknown", "embedded")


def test_broken_mime_boundary_still_gives_every_recipient():
    msg = ("From: MAILER-DAEMON@mx.far.example\nSubject: Undelivered Mail Returned to Sender\nMIME-Version: 1.0\n"
           'Content-Type: multipart/report; report-type=delivery-status; boundary="AAA"\n\n'
           "--BBB\nContent-Type: text/plain\n\nsorry\n\n--BBB\nContent-Type: message/delivery-status\n\n"
           + REPORT.format(rcpt="a@far.example", status="Status: 5.2.2\n", diag="552 5.2.2 Mailbox full")
           + "\nFinal-Recipient: rfc822; b@far.example\nAction: failed\nStatus: 5.7.1\n"
           "Diagnostic-Code: smtp; 554 5.7.1 Client host [192.0.2.10] blocked using bl.example.org\n--BBB--\n")
    got = {r["recipient"]: r for r in dsn_parse.parse_message(msg.encode())["recipients"]}
    assert got["a@far.example"]["reason"] == "mailboxfull"
    assert got["b@far.example"]["reason"] == "blocked" and got["b@far.example"]["fault_id"] == "rbl.listed"


def test_status_only_in_the_diagnostic_text():
    parsed = dsn_parse.parse_message(_forwarded("big@far.example", "552 5.3.4 Message size exceeds fixed limit", status=""))
    [r] = parsed["recipients"]
    assert r["status"] == "5.3.4" and r["class"] == "permanent" and r["reason"] == "mesgtoobig"


@pytest.mark.parametrize("code,diag,reason,group,fault", [
    ("5.1.1", "550 5.1.1 <x@y>: Recipient address rejected: User unknown in virtual mailbox table", "userunknown",
     "user unknown", None),
    ("5.2.2", "552 5.2.2 Quota exceeded (mailbox for user is full)", "mailboxfull", "mailbox full", None),
    ("5.3.4", "552 5.3.4 Message size exceeds fixed limit", "mesgtoobig", "message too big", None),
    ("5.4.4", "Host or domain name not found. Name service error for name=gone.example type=A: Host not found",
     "hostunknown", "host unknown", None),
    ("4.4.1", "connect to mx.far.example[192.0.2.9]:25: Connection timed out", "networkerror", "network/timeout", None),
    ("5.7.1", "554 5.7.1 <x@y>: Relay access denied", "norelaying", "relaying denied", None),
    ("5.7.1", "554 5.7.1 Service unavailable; Client host [192.0.2.10] blocked using zen.example.org", "blocked",
     "blocked/policy", "rbl.listed"),
    ("5.7.1", "550 5.7.1 Message rejected as spam by content filter", "spamdetected", "content/spam", None),
    ("5.7.23", "550 5.7.23 SPF validation failed", "authfailure", "authentication", "auth.spf_permerror"),
    ("4.4.7", "delivery time expired", "expired", "expired", None),
    ("5.4.6", "mail for lab.example loops back to myself", "systemerror", "system error", "config.loops_to_myself"),
    ("5.0.0", "550 go away", "blocked", "blocked/policy", None),
    ("5.0.0", "550 nothing useful here", "onhold", "other", None),
])
def test_reason_classes(code, diag, reason, group, fault):
    got = dsn_parse.classify(code, diag)
    assert (got["reason"], got["group"], got["fault_id"]) == (reason, group, fault)
    # the coarse group is what the log scanner counts remote answers in
    assert dsn_parse.reason_of(code, diag) == (group, fault)


def test_bounce_finding_groups_by_reason():
    from ansible.module_utils import diagnose_rules as rules
    recs = [dsn_parse._record("a@x.example", "5.1.1", "failed", "550 5.1.1 User unknown"),
            dsn_parse._record("b@x.example", "5.1.1", "failed", "550 5.1.1 no such user"),
            dsn_parse._record("c@x.example", "5.7.1", "failed", "554 5.7.1 blocked using bl.example.org")]
    [f] = rules.bounce_findings(recs, ["test"])
    assert f["summary"].startswith("3 bounced recipient(s): userunknown x2, blocked x1 (rbl.listed)")
    assert f["evidence"]["summary"]["by_reason"]["userunknown"]["count"] == 2
