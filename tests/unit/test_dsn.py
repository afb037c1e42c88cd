"""DSN/NDR analyzer: our own fixtures, then the flufl.bounce and flanker corpora."""
from __future__ import annotations

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
