# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 30 item 6, the rest of the probe: a diagnosis that read no log says so (never
"healthy"), the report's file names cannot collide, postconf refuses contradictions and says
what Postfix warned about, postfix_queue names the IDs it did not find and does not call an
empty flush a change. Real journalctl, postconf, postqueue and postsuper throughout."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile

import pytest
from conftest import ROOT, _load, needs_root, queue_ids, run_direct, run_module, send, sh
from fixtures.journal_export import available as journal_available
from fixtures.journal_export import write_journal

needs_journal = pytest.mark.skipif(not journal_available(), reason="systemd-journal-remote / journalctl not installed")


def log_only(conf, tmp_path, **extra):
    """A diagnosis of the log alone, on a scratch configuration, with its own state file."""
    args = dict(config_dir=str(conf), checks=["log"], state_file=str(tmp_path / "state" / "scan.json"), log_window="1000d")
    args.update(extra)
    return args


def assert_no_log_read(r, why):
    """Everywhere a user looks: log.read/log.note, errors (the report's "Could not check"), a
    warning, and the summary line the diagnose role prints per host (never "healthy")."""
    assert not r.get("failed"), r.get("msg")
    assert r["log"]["read"] is False and why in r["log"]["note"]
    assert any(e.startswith("no log read: ") and why in e for e in r["errors"]), r["errors"]
    warnings = [str(w) for w in r.get("warnings") or []]  # run_direct's, and run_module's recorded ones
    assert any("no log read" in w and why in w for w in warnings), warnings
    assert "no log read" in r["summary"] and why in r["summary"] and "healthy" not in r["summary"], r["summary"]


# ------------------------------------------------------------------ 1. journal without journal files
@needs_journal
def test_journal_without_journal_files_fails_the_host(postfix_dir, tmp_path):
    empty = tmp_path / "journal"
    empty.mkdir()
    r, _, _ = run_direct("postfix_diagnose", log_only(postfix_dir, tmp_path, journal_directory=str(empty)))
    assert r.get("failed") and "no journal files were found under %s" % empty in r["msg"], r
    r, _, _ = run_direct("postfix_diagnose", log_only(postfix_dir, tmp_path, log_source="journal",
                                                      journal_directory=str(empty)))
    assert r.get("failed") and r["msg"].startswith("log_source journal: no journal files"), r


@needs_journal
def test_journal_scan_of_no_journal_files_is_absent_not_clean(tmp_path):
    """journalctl says "No journal files were found." on stderr and exits 0 (--field) or 1 with
    "-- No entries --", as for a journal with no mail entry: the scan must raise, not count zero."""
    from ansible.module_utils import journal_scan as js
    with pytest.raises(js.JournalError) as err:
        js.scan(js.Journal(js.journalctl(), str(tmp_path)), since=0)
    assert err.value.absent and str(tmp_path) in str(err.value)


@needs_journal
def test_journal_without_mail_entries_is_a_read_journal(postfix_dir, tmp_path):
    """The other side: journal files without one Postfix entry were read (zero lines, no note)."""
    import time
    d = tmp_path / "journal"
    write_journal(str(d), [dict(ts=time.time() - 60, ident="sshd", facility=4, msg="Accepted publickey for x")])
    r, _, _ = run_direct("postfix_diagnose", log_only(postfix_dir, tmp_path, journal_directory=str(d)))
    assert not r.get("failed"), r.get("msg")
    assert r["log"]["read"] is True and r["log"]["lines"] == 0 and "no log read" not in r["summary"]


@needs_journal
def test_auto_on_a_host_without_journal_files_notes_no_log_read(postfix_dir, tmp_path, monkeypatch):
    """log_source auto, no mail log file, journalctl present but the host keeps no journal: the
    host's journal is an empty journal directory here (the real journalctl reads it), so the test
    does not depend on this machine's own journal."""
    from ansible.module_utils import journal_scan as js
    empty = tmp_path / "host-journal"
    empty.mkdir()

    class HostJournal(js.Journal):
        def argv(self, *extra):
            return [self.binary, "--no-pager", "--directory=" + str(empty)] + list(extra)

    monkeypatch.setattr(js, "Journal", HostJournal)
    mod = _load("postfix_diagnose")
    monkeypatch.setattr(mod, "LOG_CANDIDATES", ())  # this machine's /var/log/mail.log is not the host's
    r = run_module("postfix_diagnose", log_only(postfix_dir, tmp_path, log_source="auto"), module=mod)
    assert r["log"]["source"] is None  # maillog_file of the scratch main.cf names a file not written yet
    assert_no_log_read(r, "no mail log file found, and this host has no journal files")


# ------------------------------------------------------------------ 2. log_paths that match nothing
def test_unexpanded_glob_reads_no_log_and_says_so(postfix_dir, tmp_path):
    (tmp_path / "mail.log.1").write_text("")  # a glob would have matched this; a path does not
    pattern = str(tmp_path / "mail*.log")
    r, _, _ = run_direct("postfix_diagnose", log_only(postfix_dir, tmp_path, log_paths=[pattern]))
    assert_no_log_read(r, "log_paths match no file: " + pattern)
    assert any(pattern in e and "globs are not expanded" in e for e in r["errors"]), r["errors"]


def test_missing_log_file_reads_no_log_and_says_so(postfix_dir, tmp_path):
    missing = str(tmp_path / "nowhere" / "mail.log")
    r, _, _ = run_direct("postfix_diagnose", log_only(postfix_dir, tmp_path, log_paths=[missing]))
    assert_no_log_read(r, missing)
    assert r["log"]["source"] is None and not r["ids"]


def test_one_missing_path_of_two_is_an_error_not_a_silent_skip(postfix_dir, tmp_path):
    log = tmp_path / "mail.log"
    log.write_text("Dec  6 03:00:00 mx1 postfix/qmgr[1]: ABC: removed\n")
    missing = str(tmp_path / "maillog")
    r, _, _ = run_direct("postfix_diagnose", log_only(postfix_dir, tmp_path, log_paths=[missing, str(log)]))
    assert not r.get("failed") and r["log"]["read"] is True and r["log"]["lines"] == 1
    assert "log_paths: %s matches no file; not read" % missing in r["errors"]
    assert "no log read" not in r["summary"] and "1 probe error(s)" in r["summary"]


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run as another user")
def test_unreadable_log_file_reads_no_log(postfix_dir, monkeypatch):
    """The diagnosis run without become on a host whose mail.log is 0600 root: the file is found
    but cannot be opened; that is no log read, not a clean log. In process, as nobody (seteuid)."""
    import pwd
    top = tempfile.mkdtemp(prefix="pfr-nobody-")
    try:
        os.chmod(top, 0o755)
        log = os.path.join(top, "mail.log")
        with open(log, "w") as fh:
            fh.write("Dec  6 03:00:00 mx1 postfix/qmgr[1]: ABC: removed\n")
        os.chmod(log, 0o600)
        monkeypatch.chdir(top)
        os.seteuid(pwd.getpwnam("nobody").pw_uid)
        try:
            r = run_module("postfix_diagnose", dict(config_dir=str(postfix_dir), checks=["log"], log_paths=[log],
                                                    incremental=False))
        finally:
            os.seteuid(0)
        assert any(e.startswith("log file %s not read: " % log) and "Permission denied" in e for e in r["errors"]), r
        assert_no_log_read(r, "none of %s could be read" % log)
    finally:
        shutil.rmtree(top)


def test_the_report_says_no_log_read(postfix_dir, tmp_path):
    """The diagnosis result of a host that read no log, through postfix_report with the role's
    templates: the host section of index.html and summary.md says it ("Could not check")."""
    missing = str(tmp_path / "mail.log")
    diag, _, _ = run_direct("postfix_diagnose", log_only(postfix_dir, tmp_path, log_paths=[missing]))
    assert diag["log"]["read"] is False
    diag = {k: v for k, v in diag.items() if k not in ("warnings", "utf8_problems")}  # shown by the controller, not kept
    tpl = ROOT / "roles" / "postfix_report" / "templates"
    out = tmp_path / "reports"
    r, _, _ = run_direct("postfix_report", dict(directory=str(out), host_results={"mx1": diag}, hosts=["mx1"],
                                                html_template=str(tpl / "report.html.j2"),
                                                markdown_template=str(tpl / "summary.md.j2")))
    assert not r.get("failed"), r.get("msg")
    for name in ("index.html", "summary.md"):
        text = (out / name).read_text()
        assert "no log read: log_paths match no file: " + missing in text, name
    assert json.loads((out / "mx1.json").read_text())["log"]["read"] is False
    # the closing lines never call such a host healthy, and say what to do
    assert r["summary"][0].startswith("mx1: attention (no findings; no log read: log_paths match no file"), r["summary"]
    assert any("No mail log was read on mx1" in line for line in r["summary"]), r["summary"]


# ------------------------------------------------------------------ 3. report file names
RESULT = dict(ids=[], counts={"total": 0}, findings=[], errors=[], generated_at="2026-12-06T03:00:00Z")


def report(tmp_path, **args):
    out = tmp_path / "reports"
    r, _, _ = run_direct("postfix_report", dict(directory=str(out), **args))
    assert not r.get("utf8_problems"), r["utf8_problems"]
    return r, out


@pytest.mark.parametrize("host,words", [
    ("fleet", "fleet report's own file (fleet.json)"),
    ("Fleet", "fleet report's own file (fleet.json)"),  # one file on a case-insensitive controller
    ("mx1.remediation", "would be read as the remediation record of host mx1"),
    ("mx1.change_window", "would be read as the change_window record of host mx1"),
    ("mx1.REMEDIATION", "remediation record of host mx1"),
])
def test_host_names_that_collide_with_the_reports_own_files_are_refused(tmp_path, host, words):
    r, out = report(tmp_path, host_results={"aa": RESULT, host: RESULT, "mx1": RESULT}, hosts=["mx1", host])
    assert r.get("failed") and repr(host) in r["msg"] and words in r["msg"] and "rename the inventory host" in r["msg"]
    assert not out.exists()  # not even the directory: every name is checked first
    r, out = report(tmp_path, host_reports={host: {"host": host}}, host_report_suffix=".remediation.json", render=False)
    assert r.get("failed") and repr(host) in r["msg"] and not out.exists()


def test_a_name_too_long_for_its_files_is_refused_before_any_write(tmp_path):
    """All three files of a host must fit, with the temporary name of the write (safe_io.write_own):
    "." + HOST.change_window.json + ".<12 hex>.tmp" in 255 bytes leaves 218 for the name. Multi-byte
    characters count in bytes."""
    r, out = report(tmp_path, host_results={"a": RESULT, "b" * 250: RESULT}, render=False)
    assert r.get("failed") and "is 250 bytes long: 218 fit" in r["msg"] and "255-byte limit" in r["msg"], r["msg"]
    assert not out.exists()
    r, out = report(tmp_path, host_results={"a": RESULT, "é" * 110: RESULT}, render=False)  # 220 bytes
    assert r.get("failed") and "is 220 bytes long" in r["msg"] and not out.exists()
    longest = "é" * 109  # 218 bytes: every file of the host fits
    r, out = report(tmp_path, host_results={longest: RESULT}, render=False)
    assert not r.get("failed"), r.get("msg")
    r, out = report(tmp_path, host_reports={longest: {"host": longest}}, host_report_suffix=".remediation.json",
                    render=False)
    assert not r.get("failed"), r.get("msg")
    from ansible.module_utils import safe_io
    safe_io.write_own(str(out / (longest + ".change_window.json")), b"{}", "report")  # the longest file: it fits
    assert sorted(os.listdir(out)) == sorted(longest + s for s in (".json", ".remediation.json", ".change_window.json"))
    r, out = report(tmp_path, hosts=[longest])  # and the fleet report reads them back under the name
    assert [v["host"] for v in r["report"]["hosts"]] == [longest] and r["report"]["problems"] == []


def test_unicode_inventory_names_are_report_files_as_they_are(tmp_path):
    """Accepted as file names of printable UTF-8, written and read back under the same name,
    rendered in every output."""
    names = ["mx-é.example", "почта", "邮件服务器", "mx 1"]
    tpl = ROOT / "roles" / "postfix_report" / "templates"
    r, out = report(tmp_path, host_results={h: RESULT for h in names}, hosts=names,
                    html_template=str(tpl / "report.html.j2"), markdown_template=str(tpl / "summary.md.j2"))
    assert not r.get("failed"), r.get("msg")
    assert sorted(os.listdir(out)) == sorted([h + ".json" for h in names] + ["fleet.json", "index.html", "junit.xml",
                                                                             "summary.md"])
    assert [v["host"] + ":" + v["status"] for v in r["report"]["hosts"]] == [h + ":healthy" for h in sorted(names)]
    assert r["report"]["problems"] == []
    for name in ("index.html", "summary.md", "junit.xml"):
        text = (out / name).read_text(encoding="utf-8")
        assert all(h in text for h in names), name


@pytest.mark.parametrize("host", ["", ".", "..", "a/b", "../evil", "mx1\n", "mx\x07", "mx\u202e1", "mx\u00a01",
                                  "mx\u2028"])
def test_names_that_cannot_be_file_names_are_refused(tmp_path, host):
    r, out = report(tmp_path, host_results={"ok": RESULT, host: RESULT}, render=False)
    assert r.get("failed") and r["msg"].startswith("host_results: "), r
    assert "rename the inventory host" in r["msg"] and not out.exists()


def test_stray_files_under_a_refused_name_are_listed_not_read(tmp_path):
    """A Fleet.json someone left in the directory (another tool, an older version) is not a
    host's report; the report lists it among its problems."""
    out = tmp_path / "reports"
    out.mkdir()
    (out / "Fleet.json").write_text(json.dumps(dict(RESULT, host="Fleet")))
    (out / "mx1.json").write_text(json.dumps(dict(RESULT, host="mx1")))
    r, _ = report(tmp_path, hosts=["mx1"])
    assert not r.get("failed"), r.get("msg")
    assert [v["host"] for v in r["report"]["hosts"]] == ["mx1"]
    assert any(p.startswith("Fleet.json: not read, the host name is the name of the fleet report's own file")
               for p in r["report"]["problems"]), r["report"]["problems"]


# ------------------------------------------------------------------ 4. postconf
def conf_files(conf):
    return {f: (conf / f).read_bytes() for f in ("main.cf", "master.cf")}


def test_postconf_unused_and_undefined_parameters_are_warnings(postfix_dir):
    """The misspelt name Postfix ignores and the $name nothing defines: in parameter_warnings and
    as module warnings, naming the real main.cf/master.cf (not the scratch copy), in check mode
    (nothing written) as in a real run."""
    args = dict(config_dir=str(postfix_dir), allow_unknown=True, parameters={"relay_hots": "[smtp.lab.test]"},
                services=[{"service": "submission/inet", "entry": "n - y - - smtpd",
                           "params": {"smtpd_client_restrictions": "$mua_client_restrictions"}}])
    before = conf_files(postfix_dir)
    for check in (True, False):
        r, _, _ = run_direct("postconf", args, check=check)
        assert not r.get("failed") and r["changed"], r.get("msg")
        want = ["%s/main.cf: unused parameter: relay_hots=[smtp.lab.test]" % postfix_dir,
                "%s/master.cf: undefined parameter: mua_client_restrictions" % postfix_dir]
        for w in want:
            assert any(line.endswith(w) and "warning:" in line for line in r["parameter_warnings"]), (w, r)
            assert any(line.endswith(w) for line in r["warnings_postconf"])
            assert any(w in str(m) for m in r.get("warnings") or []), (w, r.get("warnings"))
        assert not any("postconf-" in line for line in r["parameter_warnings"])  # no scratch path
        assert conf_files(postfix_dir) == before if check else conf_files(postfix_dir) != before
    again, _, _ = run_direct("postconf", args)  # nothing to change, and still said
    assert not again["changed"] and len(again["parameter_warnings"]) == 2, again["parameter_warnings"]


def test_postconf_clean_configuration_has_no_parameter_warnings(postfix_dir):
    r, _, _ = run_direct("postconf", dict(config_dir=str(postfix_dir), parameters={"relayhost": "[smtp.lab.test]"}))
    assert not r.get("failed") and r["changed"] and r["parameter_warnings"] == [] and not r.get("warnings")


def test_postconf_secret_in_an_unused_warning_is_masked(postfix_dir):
    """A misspelt password map name is unused, and Postfix's warning repeats its value."""
    secret = "s3cr3t-in-a-warning"
    r, _, _ = run_direct("postconf", dict(config_dir=str(postfix_dir), allow_unknown=True,
                                          secret_parameters={"smtp_sasl_pasword_maps": "static:relay:" + secret}))
    assert not r.get("failed") and any("unused parameter: smtp_sasl_pasword_maps" in w for w in r["parameter_warnings"])
    assert secret not in json.dumps(r)


@pytest.mark.parametrize("args,words", [
    (dict(parameters={"soft_bounce": "yes"}, absent=["soft_bounce"]), "soft_bounce is in both parameters and absent"),
    (dict(parameters={"soft_bounce": "yes"}, commented=["soft_bounce"]), "soft_bounce is in both parameters and commented"),
    (dict(absent=["relayhost"], commented=["relayhost"]), "relayhost is in both absent and commented"),
    (dict(parameters={"mynetworks": "127.0.0.0/8"}, list_add={"mynetworks": ["10.0.0.0/8"]}),
     "mynetworks is in both parameters and list_add/list_remove"),
    (dict(list_add={"mynetworks": ["10.0.0.0/8", "192.0.2.0/24"]}, list_remove={"mynetworks": ["192.0.2.0/24"]}),
     "list_add and list_remove of mynetworks both have '192.0.2.0/24'"),
    (dict(list_add={"smtpd_recipient_restrictions": ["check_recipient_access  hash:/etc/postfix/rcpt"]},
          list_remove={"smtpd_recipient_restrictions": ["check_recipient_access hash:/etc/postfix/rcpt"]}),
     "list_add and list_remove of smtpd_recipient_restrictions both have"),
    (dict(services=[{"service": "submission/inet", "state": "absent", "entry": "n - y - - smtpd"}]),
     "service submission/inet is state=absent but also has entry"),
    (dict(services=[{"service": "smtp/inet", "state": "absent", "fields": {"chroot": "n"}, "args_present": ["-v"]}]),
     "service smtp/inet is state=absent but also has fields, args_present"),
    (dict(services=[{"service": "relay/unix", "state": "absent"}, {"service": "relay/unix", "fields": {"chroot": "n"}}]),
     "service relay/unix is given twice in services"),
    (dict(services=[{"service": "smtp/inet", "params": {"smtpd_tls_security_level": "may"},
                     "params_absent": ["smtpd_tls_security_level"]}]),
     "service smtp/inet has 'smtpd_tls_security_level' in both params and params_absent"),
    (dict(services=[{"service": "smtp/inet", "args_present": ["-v"], "args_absent": ["-v"]}]),
     "service smtp/inet has '-v' in both args_present and args_absent"),
])
def test_postconf_contradictory_options_are_refused_before_any_write(postfix_dir, args, words):
    before = conf_files(postfix_dir)
    for check in (True, False):
        r, _, _ = run_direct("postconf", dict(config_dir=str(postfix_dir), **args), check=check)
        assert r.get("failed") and r["msg"].startswith("contradictory options, nothing changed: ") and words in r["msg"], r
        assert conf_files(postfix_dir) == before


def test_postconf_contradiction_check_of_an_unwritable_item_is_a_clear_error(postfix_dir):
    """The check renders list items to compare them: an item with no main.cf form (a mapping)
    is the same clear error edit_lists gives, not a traceback."""
    before = conf_files(postfix_dir)
    r, _, _ = run_direct("postconf", dict(config_dir=str(postfix_dir), list_add={"mynetworks": [{"a": 1}]},
                                          list_remove={"mynetworks": ["10.0.0.0/8"]}))
    assert r.get("failed") and not r.get("crashed") and r["msg"] == "mynetworks is a mapping: give a string, number, boolean or list"
    assert conf_files(postfix_dir) == before


# ------------------------------------------------------------------ 5. postfix_queue
def queue_run(conf, **args):
    """run_module with every command the module starts recorded (run_command's and the
    streamed ones all go through subprocess.Popen)."""
    from unittest import mock
    calls, real_popen = [], subprocess.Popen
    check = args.pop("_check", False)

    def spy(argv, *a, **kw):
        words = [x.decode() if isinstance(x, bytes) else str(x) for x in argv]
        calls.append([os.path.basename(words[0])] + words[1:])
        return real_popen(argv, *a, **kw)

    with mock.patch.object(subprocess, "Popen", spy):
        r = run_module("postfix_queue", dict(args, config_dir=str(conf)), check=check)
    return r, calls


@pytest.fixture
def two_deferred(postfix_instance):
    d = postfix_instance
    send(d, "alice@lab.test", "bob@remote.test")
    send(d, "carol@lab.test", "dave@remote.test")
    ids = queue_ids(d)
    assert sorted(ids.values()) == ["deferred", "deferred"], ids
    return d, sorted(ids)


@needs_root
def test_requested_ids_not_in_the_queue_are_returned_and_warned(two_deferred):
    d, ids = two_deferred
    gone = "B7E3C2F4A1"  # a well-formed ID no message has
    for check in (True, False):
        r, _ = queue_run(d, action="hold", ids=[ids[0], gone], _check=check)
        assert not r.get("failed"), r.get("msg")
        assert r["missing_ids"] == [gone] and r["selected_ids"] == [ids[0]] and r["changed"]
        assert any(gone in w and "not in the queue" in w for w in r.get("warnings", [])), r.get("warnings")
    assert queue_ids(d) == {ids[0]: "hold", ids[1]: "deferred"}
    listed, _ = queue_run(d, ids=ids)  # all there (one on hold): none missing
    assert listed["missing_ids"] == [] and listed["selected_count"] == 2
    none, _ = queue_run(d)  # ids not given: nothing can be missing
    assert none["missing_ids"] == []


@needs_root
def test_flush_of_an_empty_queue_is_no_change_and_no_command(postfix_instance):
    d = postfix_instance
    assert queue_ids(d) == {}
    for args in (dict(action="flush"), dict(action="flush", site="remote.test"), dict(action="flush", _check=True)):
        r, calls = queue_run(d, **args)
        assert not r.get("failed"), r.get("msg")
        assert r["changed"] is False and r["flush_calls"] == 0 and r["command"] == [], (args, r)
        assert not [c for c in calls if c[0] == "postqueue" and "-j" not in c], calls  # no -f, -s, -i


@needs_root
def test_flush_with_only_held_mail_is_no_change(postfix_instance):
    """postqueue -f does not touch the hold queue: nothing there is flushable."""
    d = postfix_instance
    send(d, "alice@lab.test", "bob@remote.test")
    (qid,) = queue_ids(d)
    sh("postsuper", "-c", str(d), "-h", qid)
    r, calls = queue_run(d, action="flush")
    assert r["changed"] is False and r["flush_calls"] == 0
    assert not [c for c in calls if c[0] == "postqueue" and "-f" in c], calls


@needs_root
def test_flush_of_deferred_mail_is_still_a_change(two_deferred):
    d, ids = two_deferred
    r, calls = queue_run(d, action="flush")
    assert r["changed"] is True and r["flush_calls"] == 1 and r["command"][-1] == "-f"
    assert [c for c in calls if c[0] == "postqueue" and c[-1] == "-f"], calls
