# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Hostile input, property-based (hypothesis): random bytes, invalid UTF-8, 1 MB lines, truncated
gzip, lines crafted to look like another fault; queue IDs, senders and patterns with shell
metacharacters and newlines; parameter values that try to add a second main.cf line.

None may raise anything but the documented validation error, run a shell, or write outside its
target. Case counts are fixed per test (settings below) so the note can say how many ran.
"""
from __future__ import annotations

import gzip
import os
import re
import subprocess

import pytest
from ansible.module_utils import dsn_parse, log_scan
from ansible.module_utils import log_signatures as sig
from ansible.module_utils import postfix_conf as pc
from ansible.module_utils import postfix_queue_lib as ql
from conftest import needs_postfix, run_module
from fixtures.log_lines import CASES, H, tag
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

FAULT_LINES = [(H % (10, i % 60, tag(d), 100 + i, m)).encode() for i, (_f, _l, d, m) in enumerate(CASES)]
SHELLY = st.text(alphabet=st.sampled_from(list("abcXYZ019@._-+/\\$`'\";|&<>(){}*?![]#~ \t\n\r\x00é")), max_size=60)

# A line made of pieces of real fault lines glued together, with junk around: it looks like
# several faults at once, or like one fault with another's words.
crafted = st.lists(st.sampled_from(FAULT_LINES), min_size=1, max_size=3).flatmap(
    lambda parts: st.tuples(st.just(parts), st.binary(max_size=40))).map(
    lambda t: b" ".join(p[len(p) // 3:] for p in t[0]) + t[1])
lines = st.one_of(st.binary(max_size=300), crafted, st.sampled_from(FAULT_LINES),
                  st.text(max_size=200).map(lambda s: s.encode("utf-8", "surrogatepass")))


@settings(max_examples=300, deadline=None)
@given(st.lists(lines, max_size=40))
def test_scanner_takes_any_bytes(block_lines):
    buf = b"\n".join(block_lines) + b"\n"
    sc = log_scan.Scanner(masked=True)
    agg = sc.feed(buf)
    assert agg["lines"] == buf.count(b"\n")
    hits = sum(v["count"] for v in agg["ids"].values())
    assert hits <= agg["lines"]
    assert set(agg["ids"]) <= {f for f, _k, _r in sig.SIGNATURES}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(lines, min_size=1, max_size=60))
def test_grep_prefilter_equals_python_on_any_bytes(tmp_path, block_lines):
    path = tmp_path / "mail.log"
    path.write_bytes(b"\n".join(block_lines) + b"\n")
    size = path.stat().st_size
    a = log_scan.Scanner()
    assert a.grep_file("/usr/bin/grep" if os.path.exists("/usr/bin/grep") else "/bin/grep", str(path), 0, size)
    b = log_scan.Scanner()
    b.feed(path.read_bytes())
    for key in ("lines", "faultish", "unclassified", "benign", "skipped_old"):
        assert a.agg[key] == b.agg[key], key
    assert {k: v["count"] for k, v in a.agg["ids"].items()} == {k: v["count"] for k, v in b.agg["ids"].items()}


def test_one_megabyte_lines_and_no_newline(tmp_path):
    big = b"x" * (1 << 20)
    fault = FAULT_LINES[0]
    path = tmp_path / "mail.log"
    path.write_bytes(big + b" " + fault + b"\n" + fault + big + b"\n" + b"\xff\xfe" * 1000 + fault)
    for use_grep in (True, False):
        _state, agg, info = log_scan.scan_file(str(path), use_grep=use_grep)
        assert "error" not in info and agg["lines"] >= 2
        # a match past MAX_LINE bytes of a huge line is not classified; the short line is
        assert sum(v["count"] for v in agg["ids"].values()) >= 1


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(min_value=1, max_value=2000), st.lists(st.sampled_from(FAULT_LINES), min_size=50, max_size=200))
def test_truncated_gzip_is_reported_not_fatal(tmp_path, cut, content):
    data = gzip.compress(b"\n".join(content) + b"\n")
    path = tmp_path / "mail.log.2.gz"
    path.write_bytes(data[:max(1, len(data) - cut)])
    _state, agg, info = log_scan.scan_file(str(path))
    assert info.get("error", "").startswith("truncated or damaged gzip file") or agg["lines"] >= 0


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.binary(max_size=3000),
                 st.builds(lambda head, body: b"From: MAILER-DAEMON\r\nContent-Type: multipart/report; "
                                              b"report-type=delivery-status; boundary=b\r\n\r\n--b\r\n"
                                              b"Content-Type: message/delivery-status\r\n\r\n" + head + b"\r\n\r\n"
                                              + body + b"\r\n--b--\r\n",
                           st.binary(max_size=200), st.binary(max_size=400))))
def test_dsn_parser_takes_any_message(data):
    out = dsn_parse.parse_message(data)
    assert isinstance(out["recipients"], list)
    for r in out["recipients"]:
        for k in ("recipient", "status", "diagnostic", "remote_mta"):
            assert r.get(k) is None or isinstance(r[k], str)


messages = st.fixed_dictionaries({
    "queue_name": st.one_of(st.sampled_from(ql.QUEUES), st.text(max_size=10)),
    "queue_id": SHELLY, "sender": SHELLY, "arrival_time": st.one_of(st.none(), st.integers(-10**10, 10**11)),
    "message_size": st.one_of(st.none(), st.integers(-1, 10**9)),
    "recipients": st.lists(st.fixed_dictionaries({"address": SHELLY, "delay_reason": SHELLY}), max_size=3)})


@settings(max_examples=300, deadline=None)
@given(st.lists(messages, max_size=30))
def test_qshape_and_summary_take_any_queue_listing(msgs):
    q = ql.QShape(["deferred", "hold"])
    s = ql.Summary()
    for m in msgs:
        q.add(m)
        s.add(m)
    table = q.table()
    assert len(table["total"]) == len(table["buckets_minutes"])
    s.result()


@settings(max_examples=500, deadline=None)
@given(SHELLY)
def test_queue_ids_with_metacharacters_are_refused(text):
    try:
        accepted = ql.validate_ids([text])
    except ql.SelectionError:
        return
    assert accepted == {text} and re.fullmatch(r"[A-Za-z0-9]{5,20}", text)


@settings(max_examples=500, deadline=None)
@given(SHELLY)
def test_sender_patterns_never_escape(pattern):
    try:
        match = ql.address_matcher(pattern)
    except ql.SelectionError:
        return
    if match is not None:
        assert match("someone@example.org") in (True, False)
        assert match("") in (True, False)


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=80))
def test_parameter_values_cannot_add_a_line(value):
    try:
        pc.check_value("relayhost", value)
    except pc.ValueError_:
        return
    assert not any(c in value for c in "\n\r\x00")


@needs_postfix
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(alphabet=st.sampled_from(list("ab =\n\r$`;|&{}#x")), min_size=1, max_size=20).filter(
    lambda v: any(c in v for c in "\n\r")))
def test_postconf_module_refuses_injection_and_leaves_main_cf(postfix_dir, value):
    """A newline inside the value is refused and nothing is written; surrounding whitespace (a
    YAML block scalar's trailing newline) is trimmed like postconf does, never a second line."""
    main_before = (postfix_dir / "main.cf").read_text().splitlines()
    master_before = (postfix_dir / "master.cf").read_bytes()
    res = run_module("postconf", {"config_dir": str(postfix_dir), "parameters": {"relayhost": value}})
    main_after = (postfix_dir / "main.cf").read_text().splitlines()
    assert (postfix_dir / "master.cf").read_bytes() == master_before
    if any(c in value.strip() for c in "\n\r"):
        assert res.get("failed") and "newline" in res["msg"]
        assert main_after == main_before
    else:
        changed = [line for line in main_after if line not in main_before]
        assert all(line.startswith("relayhost =") for line in changed), changed
        assert len(main_after) <= len(main_before) + 1


@needs_postfix
@pytest.mark.parametrize("bad", ["ABCDE; rm -rf /", "$(reboot)", "ABCDEF\nALL", "`id`", "-d ALL", "ALL"])
def test_queue_module_refuses_hostile_ids_before_running_anything(postfix_dir, bad, monkeypatch):
    calls = []
    real = subprocess.Popen

    def spy(argv, *a, **kw):
        calls.append(argv)
        return real(argv, *a, **kw)

    monkeypatch.setattr(subprocess, "Popen", spy)
    res = run_module("postfix_queue", {"config_dir": str(postfix_dir), "action": "delete", "ids": [bad], "confirm": True})
    assert res.get("failed") and "invalid queue ID" in res["msg"]
    assert not [c for c in calls if "postsuper" in " ".join(map(str, c))]
