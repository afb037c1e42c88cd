# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The systemd journal as a log source (issue 16): real journal files made with
systemd-journal-remote, read with journalctl --directory, compared with the same lines in a file."""
from __future__ import annotations

import json
import os
import shutil
import time

import pytest
from ansible.module_utils import journal_scan as js
from ansible.module_utils import log_scan
from conftest import run_direct
from fixtures import healthy_mx
from fixtures.journal_export import available, from_syslog, write_journal
from fixtures.log_lines import as_log

pytestmark = pytest.mark.skipif(not available(), reason="systemd-journal-remote / journalctl not installed")
YEAR = time.localtime().tm_year - 1  # every fixture line is in the past, whatever today is


def fault_and_noise_lines():
    return as_log() + healthy_mx.week(n_events=3000, seed=5)


def summary(agg):
    return dict(ids={k: v["count"] for k, v in agg["ids"].items()},
                inbound={k: v["count"] for k, v in agg["inbound"].items()},
                status=agg["status"], faultish=agg["faultish"], unclassified=agg["unclassified"],
                benign=agg["benign"], lines=agg["lines"])


@pytest.fixture()
def journal_dir(tmp_path):
    d = tmp_path / "journal"
    write_journal(str(d), from_syslog(fault_and_noise_lines(), YEAR))
    return d


def test_same_lines_same_ids_and_counts_as_a_file(tmp_path, journal_dir):
    """Parity: every count the diagnosis uses is the same from a file and from the journal."""
    log = tmp_path / "mail.log"
    log.write_text("\n".join(fault_and_noise_lines()) + "\n")
    os.utime(log, (time.mktime((YEAR, 12, 31, 0, 0, 0, 0, 0, -1)),) * 2)  # year of the lines
    _, file_agg, _ = log_scan.scan([str(log)], since=None)
    _, journal_agg, info = js.scan(js.Journal(js.journalctl(), str(journal_dir)), since=0)
    assert info["mode"] == "full" and info["cursor"].startswith("s=")
    assert summary(journal_agg) == summary(file_agg)
    assert len(file_agg["ids"]) > 20  # the fault lines are there, not just noise


def test_identifiers_postfix_multi_instance_and_other_facility(tmp_path):
    now = time.time() - 60
    entries = [
        dict(ts=now, ident="postfix-out/smtp", msg="connect to relay2.corp.example[10.1.2.3]:25: Connection timed out"),
        dict(ts=now + 1, ident="mailout/smtp", facility=16,  # custom syslog_name on local0
             msg="connect to relay3.corp.example[10.1.2.4]:25: Connection timed out"),
        dict(ts=now + 2, ident="sshd", facility=4, msg="fatal: unknown service: smtp/tcp"),  # not mail's
        dict(ts=now + 3, ident="postfix/submission/smtpd", msg="connect from unknown[192.0.2.7]"),
    ]
    d = tmp_path / "j"
    write_journal(str(d), entries)
    journal = js.Journal(js.journalctl(), str(d))
    assert journal.identifiers() == ["mailout/smtp", "postfix-out/smtp", "postfix/submission/smtpd"]
    _, agg, _ = js.scan(journal, since=now - 10)
    assert agg["lines"] == 3  # sshd's line (auth facility, not Postfix) is not read
    assert agg["ids"]["dns.mx_connect_timeout"]["count"] == 2


def test_incremental_by_cursor_reads_only_new_entries(tmp_path):
    d = tmp_path / "j"
    t0 = time.time() - 3600
    line = "connect to relay2.corp.example[10.1.2.3]:25: Connection timed out"
    write_journal(str(d), [dict(ts=t0 + i, ident="postfix/smtp", msg=line) for i in range(5)])
    journal = js.Journal(js.journalctl(), str(d))
    state, agg, info = js.scan(journal, window=86400)
    assert (info["mode"], agg["ids"]["dns.mx_connect_timeout"]["count"]) == ("full", 5)
    state2, agg2, info2 = js.scan(journal, state, window=86400)
    assert (info2["mode"], info2["lines_read"], agg2["ids"]["dns.mx_connect_timeout"]["count"]) == ("cached", 0, 5)
    write_journal(str(d), [dict(ts=t0 + 100 + i, ident="postfix/smtp", msg=line) for i in range(3)])
    state3, agg3, info3 = js.scan(journal, state2, window=86400)
    assert (info3["mode"], info3["lines_read"]) == ("incremental", 3)
    assert agg3["ids"]["dns.mx_connect_timeout"]["count"] == 8  # nothing counted twice
    assert state3["cursor"] != state2["cursor"]


def test_refused_cursor_falls_back_to_a_window_scan(tmp_path, journal_dir):
    journal = js.Journal(js.journalctl(), str(journal_dir))
    state, agg, _ = js.scan(journal, since=0)
    bad = dict(state, cursor="not-a-cursor")
    _, agg2, info = js.scan(journal, bad, since=0)
    assert info["mode"] == "full" and "refused the saved cursor" in info["note"]
    assert summary(agg2) == summary(agg)


def test_vacuumed_journal_falls_back_to_a_window_scan(tmp_path):
    d = tmp_path / "j"
    t0 = time.time() - 7200
    line = "connect to relay2.corp.example[10.1.2.3]:25: Connection timed out"
    write_journal(str(d), [dict(ts=t0 + i, ident="postfix/smtp", msg=line) for i in range(4)], name="old.journal")
    journal = js.Journal(js.journalctl(), str(d))
    state, _, _ = js.scan(journal, window=86400)
    write_journal(str(d), [dict(ts=t0 + 3600 + i, ident="postfix/smtp", msg=line) for i in range(2)],
                  name="new.journal")
    os.unlink(d / "old.journal")  # what journald's vacuum does: whole old files go
    _, agg, info = js.scan(journal, state, window=86400)
    assert info["mode"] == "full" and "vacuumed" in info["note"]
    assert agg["ids"]["dns.mx_connect_timeout"]["count"] == 2  # the old counts are not kept


def test_counts_older_than_the_window_are_dropped(tmp_path):
    d = tmp_path / "j"
    now = time.time()
    line = "connect to relay2.corp.example[10.1.2.3]:25: Connection timed out"
    write_journal(str(d), [dict(ts=now - 3000 + i, ident="postfix/smtp", msg=line) for i in range(3)])
    journal = js.Journal(js.journalctl(), str(d))
    state, _, _ = js.scan(journal, window=3600, now=now)
    # Two hours later with a one-hour window: the kept aggregate reaches too far back.
    _, agg, info = js.scan(journal, state, window=3600, now=now + 7200)
    assert info["mode"] == "full" and "past the window" in info["note"]
    assert "dns.mx_connect_timeout" not in agg["ids"]


def test_odd_bytes_and_multiline_messages(tmp_path):
    d = tmp_path / "j"
    now = time.time() - 60
    write_journal(str(d), [
        dict(ts=now, ident="postfix/smtp", msg=b"connect to r\xff\xfe.example[10.1.2.3]:25: Connection timed out"),
        dict(ts=now + 1, ident="postfix/smtpd", msg="warning: two\nlines: Connection timed out"),
        dict(ts=now + 2, ident="postfix/smtp", msg="connect to relay2.corp.example[10.1.2.3]:25: Connection timed out"),
    ])
    _, agg, _ = js.scan(js.Journal(js.journalctl(), str(d)), since=now - 10)
    assert agg["ids"]["dns.mx_connect_timeout"]["count"] == 2
    json.dumps(agg)  # serialisable for the state file and the result


def test_module_reads_the_journal_incrementally_and_says_so(tmp_path, journal_dir):
    state_file = tmp_path / "state" / "scan.json"
    args = dict(checks=["log"], journal_directory=str(journal_dir), state_file=str(state_file), log_window="1000d")
    r, _, _ = run_direct("postfix_diagnose", args)
    assert not r.get("failed"), r.get("msg")
    assert r["log"]["source"] == "journal" and r["log"]["source_reason"] == "journal_directory given"
    assert r["log"]["journal"]["mode"] == "full" and "dns.mx_connect_timeout" in r["ids"]
    assert not r["utf8_problems"]
    first_ids = r["ids"]
    assert json.loads(state_file.read_text())["journal"]["cursor"] == r["log"]["journal"]["cursor"]
    r2, _, _ = run_direct("postfix_diagnose", args)
    assert r2["log"]["journal"]["mode"] == "cached" and r2["ids"] == first_ids


def test_file_source_ignores_the_journal(tmp_path, journal_dir):
    log = tmp_path / "mail.log"
    log.write_text(as_log()[0] + "\n")
    r, _, _ = run_direct("postfix_diagnose", dict(checks=["log"], log_paths=[str(log)], log_window="1000d",
                                                  state_file=str(tmp_path / "s.json")))
    assert r["log"]["source"] == "file" and r["log"]["journal"] is None


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("runuser"), reason="needs root to run as another user")
def test_unreadable_journal_is_a_clear_error():
    """The real journalctl, run as a user outside systemd-journal/adm: a JournalError that says
    the journal is not readable and what to do (the module turns it into the host's failure)."""
    import tempfile
    top = tempfile.mkdtemp(prefix="journal-perm-")
    try:
        os.chmod(top, 0o755)
        write_journal(os.path.join(top, "j"), from_syslog(as_log()[:5], YEAR))
        os.chmod(os.path.join(top, "j"), 0o755)  # the directory is visible, the files (0640) are not
        wrapper = os.path.join(top, "journalctl-as-nobody")
        with open(wrapper, "w") as fh:
            fh.write('#!/bin/sh\nexec %s -u nobody -- %s "$@"\n' % (shutil.which("runuser"), js.journalctl()))
        os.chmod(wrapper, 0o755)
        with pytest.raises(js.JournalError) as err:
            js.scan(js.Journal(wrapper, os.path.join(top, "j")), since=0)
        assert "not readable by this user" in str(err.value) and "systemd-journal group" in str(err.value)
        assert not err.value.absent
    finally:
        shutil.rmtree(top)
