# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet report: playbooks/report.yml run for real (ansible-playbook on localhost) over a
fleet of per-host files in the documented format, then every output checked.

- fleet.json: one state per host x finding, one status per host;
- junit.xml: valid against the JUnit schema, one testcase per host x finding, the right failures;
- index.html: the matrix shows every host and state, hostile text is escaped, no external asset;
- summary.md: rendered with a Markdown parser, its matrix has exactly the HTML's facts.
"""
from __future__ import annotations

import json
import os
import stat
import subprocess
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fixtures.fleet_reports import HOSTILE, write_fleet

ROOT = Path(__file__).resolve().parents[2]
XSD = Path(__file__).parent / "fixtures" / "junit.xsd"
LABEL = {"open": "open", "would_fix": "would fix", "fixed": "fixed", "rolled_back": "rolled back",
         "not_fixed": "not fixed", "opt_in": "opt-in", "advisory": "advisory", "cleared": "cleared",
         "historical": "historical"}


def run_report(directory, hosts, *extra):
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    argv = [str(Path(os.sys.executable).parent / "ansible-playbook"), "-i", "localhost,", "-c", "local",
            str(ROOT / "playbooks" / "report.yml"), "-e", "postfix_report_dir=%s" % directory,
            "-e", "target=localhost", "-e", json.dumps({"postfix_report_hosts": hosts}), *extra]
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300, check=False)
    return proc.returncode, proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    d = tmp_path_factory.mktemp("reports")
    hosts, states, statuses, junit = write_fleet(str(d))
    rc, out = run_report(d, hosts)
    assert rc == 0, out
    return dict(dir=d, hosts=hosts, states=states, statuses=statuses, junit=junit, out=out)


class Tables(HTMLParser):
    """Every <table> as rows of cell texts."""

    def __init__(self):
        super().__init__()
        self.tables, self._cell, self._span, self.tags = [], None, 1, []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self.tables[-1].append([])
        elif tag == "br" and self._cell is not None:
            self._cell.append(" ")
        elif tag in ("td", "th"):
            self._cell, self._span = [], int(dict(attrs).get("colspan") or 1)

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self.tables:
            self.tables[-1][-1].extend([" ".join("".join(self._cell).split())] * self._span)
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def parse(html):
    p = Tables()
    p.feed(html)
    return p


def matrix(tables):
    """{(row label, host): cell} from the table whose header starts with 'Fault ID'."""
    t = next(t for t in tables if t and t[0][0] == "Fault ID")
    hosts = t[0][3:]
    out = {}
    for row in t[1:]:
        label = row[0].split()[0].strip("`*")
        for host, cell in zip(hosts, row[3:]):
            out[(label, host)] = cell.strip("*")
    return hosts, out


def test_states_and_statuses(fleet):
    model = json.loads((fleet["dir"] / "fleet.json").read_text())
    assert model["host_names"] == sorted(fleet["hosts"])
    for v in model["hosts"]:
        assert {f["id"]: f["state"] for f in v["findings"]} == fleet["states"][v["host"]], v["host"]
        assert v["status"] == fleet["statuses"][v["host"]], v["host"]
    # The outside-the-box list names the blacklist operator, not the cleared DNS symptom.
    assert [(o["host"], o["id"]) for o in model["fleet"]["outside"]] == [("mx-open", "rbl.listed")]
    steps = " ".join(model["fleet"]["next_steps"])
    for word in ("mx-gone", "mx-old", "mx-rolled", "mx-dry", "mx-open", "queue.corrupt_files"):
        assert word in steps
    # The run's last lines: one per host, then the next steps.
    assert "mx-rolled: failed" in fleet["out"] and "next: " in fleet["out"]


def test_outputs_are_private(fleet):
    for name in ("index.html", "summary.md", "junit.xml", "fleet.json"):
        assert stat.S_IMODE((fleet["dir"] / name).stat().st_mode) == 0o600, name


def test_junit_is_valid_and_one_case_per_host_and_finding(fleet):
    import junitparser
    import xmlschema

    path = fleet["dir"] / "junit.xml"
    xmlschema.XMLSchema(str(XSD)).validate(str(path))
    xml = junitparser.JUnitXml.fromfile(str(path))
    seen = {}
    for suite in xml:
        cases = list(suite)
        names = {c.name for c in cases}
        failing = {c.name for c in cases if any(isinstance(r, junitparser.Failure) for r in c.result)}
        erroring = {c.name for c in cases if any(isinstance(r, junitparser.Error) for r in c.result)}
        assert all(c.classname == "postfix." + suite.name for c in cases)
        assert suite.tests == len(cases) and suite.failures == len(failing) and suite.errors == len(erroring)
        seen[suite.name] = (names, failing, erroring)
    assert seen == fleet["junit"]


def test_html_matrix_escaping_and_offline(fleet):
    html = (fleet["dir"] / "index.html").read_text()
    page = parse(html)
    hosts, cells = matrix(page.tables)
    assert hosts == sorted(fleet["hosts"])
    for host, states in fleet["states"].items():
        for fid, state in states.items():
            assert cells[(fid, host)] == LABEL[state], (fid, host)
        assert cells[("Host", host)] == fleet["statuses"][host]
    # hostile text from a log line or a bounce is shown, never interpreted
    assert "<script" not in html and "&lt;script&gt;" in html
    assert not [t for t, a in page.tags if t in ("script", "img", "link", "iframe")]
    assert "http://" not in html and "https://" not in html
    # heat map: the fleet's deferred mail by domain and age
    heat = next(t for t in page.tables if t[0][:2] == ["Domain", "T"])
    assert ["remote.test", "42", "42", "30", "20", "10", "0", "0", "0", "0", "0", "0", "mx-fixed, mx-open"] in heat
    assert any(row[0] == "slow.test" and row[-2] == "5" for row in heat)
    # the change window record shows in its host's section
    assert "Change window closed" in html and "fixed in it dns.resolver_dead" in html


def test_markdown_has_the_same_facts(fleet):
    from markdown_it import MarkdownIt

    md = (fleet["dir"] / "summary.md").read_text()
    rendered = parse(MarkdownIt("commonmark").enable("table").render(md))
    html_hosts, html_cells = matrix(parse((fleet["dir"] / "index.html").read_text()).tables)
    md_hosts, md_cells = matrix(rendered.tables)
    assert md_hosts == html_hosts
    assert md_cells == html_cells
    # the hostile reason stays one cell of a three-column row
    reasons = next(t for t in rendered.tables if t[0] == ["Messages", "Reason", "Hosts"])
    assert all(len(row) == 3 for row in reasons)
    assert any(HOSTILE.split("|")[0].strip() in row[1] for row in reasons)
    assert not [t for t, a in rendered.tags if t == "script"]


def test_unreadable_host_file_is_reported_not_fatal(tmp_path):
    write_fleet(str(tmp_path))
    (tmp_path / "mx-broken.json").write_bytes(b"{\xff\xfe not json")
    rc, out = run_report(tmp_path, ["mx-broken"])
    assert rc == 0, out
    model = json.loads((tmp_path / "fleet.json").read_text())
    assert any(p.startswith("mx-broken.json") for p in model["problems"])
    assert next(v for v in model["hosts"] if v["host"] == "mx-broken")["status"] == "no report"


def test_missing_directory_gives_a_report_of_missing_hosts(tmp_path):
    d = tmp_path / "none-yet"
    rc, out = run_report(d, ["mx-a", "mx-b"])
    assert rc == 0, out
    assert stat.S_IMODE(d.stat().st_mode) == 0o700
    model = json.loads((d / "fleet.json").read_text())
    assert [v["status"] for v in model["hosts"]] == ["no report", "no report"]


def test_host_that_dropped_out_after_its_diagnosis_is_failed_not_quietly_open(tmp_path):
    """A host unreachable mid-run has a fresh diagnosis and no remediation record: the report
    marks it failed and says its remediation may be half done; a host whose remediation record
    explains the failure (rolled back) keeps that explanation."""
    import datetime

    from ansible.module_utils.fault_catalog import make_finding
    from ansible.module_utils.report_model import build
    from fixtures.fleet_reports import _diag, _rem

    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    soft = make_finding("config.soft_bounce_on", "soft_bounce = yes")
    for host in ("gone", "rolled", "ok"):
        (tmp_path / (host + ".json")).write_text(json.dumps(_diag(host, now, [soft])))
    later = now + datetime.timedelta(seconds=20)
    (tmp_path / "rolled.remediation.json").write_text(json.dumps(
        _rem("rolled", later, ["config.soft_bounce_on"], rolled_back=True, failure="postfix check failed")))
    (tmp_path / "ok.remediation.json").write_text(json.dumps(_rem("ok", later, ["config.soft_bounce_on"], ids_after=[])))
    model = build(str(tmp_path), expected=["gone", "rolled", "ok"], dropped=["gone", "rolled"])
    status = {v["host"]: (v["status"], v["dropped"]) for v in model["hosts"]}
    assert status == {"gone": ("failed", True), "rolled": ("failed", False), "ok": ("fixed", False)}
    steps = " ".join(model["fleet"]["next_steps"])
    assert "gone dropped out of this run" in steps and "Remediation failed on rolled" in steps
    assert "rolled dropped" not in steps
    # where the backups are, and how long they stay
    rec = _rem("ok", later, ["config.soft_bounce_on"], ids_after=[])
    rec["backups"] = dict(dir="/var/lib/postfix-remedy/backups", keep=10, keep_days=14,
                          mail_dir="/var/backups/postfix-remedy/queue", mail_keep_days=90)
    (tmp_path / "ok.remediation.json").write_text(json.dumps(rec))
    steps = " ".join(build(str(tmp_path), expected=["ok"])["fleet"]["next_steps"])
    assert "Backups of this run, on each host: " in steps and "ok /var/lib/postfix-remedy/backups/1" in steps
    assert "(kept: the newest 10 runs and 14 days)" in steps
    assert "copies of deleted mail under /var/backups/postfix-remedy/queue (90 days)" in steps
    # without the dropped list the same files would show gone as merely needing a fix
    assert {v["host"]: v["status"] for v in build(str(tmp_path), expected=["gone"])["hosts"]}["gone"] == "needs fixing"


def test_host_reports_of_a_batch_are_written_by_one_call(tmp_path):
    """The diagnose role writes every host's JSON with one postfix_report run on the controller
    (host_reports, render=false): 0600 files, nothing else; names that cannot be file names are
    refused before anything is written."""
    from conftest import run_module

    reports = {h: dict(host=h, generated_at="2026-11-29T07:00:00Z", check_mode=False, ids=["x.y"], counts={},
                       findings=[], errors=[]) for h in ("mx-a", "mx-b.lab.test")}
    res = run_module("postfix_report", dict(directory=str(tmp_path / "r"), host_reports=reports, render=False))
    assert not res.get("failed"), res
    assert sorted(os.listdir(tmp_path / "r")) == ["mx-a.json", "mx-b.lab.test.json"]
    for h, rep in reports.items():
        path = tmp_path / "r" / (h + ".json")
        assert stat.S_IMODE(path.stat().st_mode) == 0o600 and json.loads(path.read_text()) == rep
    bad = run_module("postfix_report", dict(directory=str(tmp_path / "s"), host_reports={"../evil": {}, "ok": {}}))
    assert bad.get("failed") and "../evil" in bad["msg"] and not (tmp_path / "s" / "ok.json").exists()


def test_diagnosis_results_become_host_reports(tmp_path):
    """The diagnose role passes its batch's registered results (host_results): each HOST.json
    holds the report's keys in order, the host from the key, what a check that did not run left
    out as empty, and none of Ansible's own keys. A result that is not a mapping, or a host given
    twice, is refused before anything is written."""
    from conftest import run_module

    result = dict(changed=False, invocation={"module_args": {"checks": ["log"]}}, ids=["dns.resolver_dead"],
                  counts={"total": 1}, findings=[{"id": "dns.resolver_dead"}], errors=[], log={"lines": 3},
                  generated_at="2026-12-06T03:00:00Z", check_mode=True, summary="1 finding(s) (high 1): dns.resolver_dead")
    res = run_module("postfix_report", dict(directory=str(tmp_path / "r"), host_results={"mx-a": result}, render=False))
    assert not res.get("failed"), res
    got = json.loads((tmp_path / "r" / "mx-a.json").read_text())
    assert list(got) == ["host", "generated_at", "check_mode", "ids", "counts", "findings", "postconf_n", "queue",
                         "log", "probes", "bounces", "errors"]
    assert got["host"] == "mx-a" and got["check_mode"] is True and got["log"] == {"lines": 3}
    # the controller's time, not the host's clock (a host's skewed clock must not make reports stale)
    assert got["generated_at"] != result["generated_at"] and got["generated_at"].startswith(time.strftime("%Y-", time.gmtime()))
    assert got["postconf_n"] == {} and got["bounces"] == [] and got["findings"] == result["findings"]
    # the suffix is for host_reports (remediation records); a diagnosis is HOST.json in the same call
    both = run_module("postfix_report", dict(directory=str(tmp_path / "m"), host_results={"mx-a": result}, render=False,
                                             host_reports={"mx-b": {"host": "mx-b"}}, host_report_suffix=".remediation.json"))
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == ["mx-a.json", "mx-b.remediation.json"], both
    for bad_args, word in (({"host_results": {"mx-a": ["not", "a", "dict"]}}, "not a mapping"),
                           ({"host_results": {"mx-a": result}, "host_reports": {"mx-a": {}}}, "both")):
        bad = run_module("postfix_report", dict(directory=str(tmp_path / "s"), render=False, **bad_args))
        assert bad.get("failed") and word in bad["msg"] and not (tmp_path / "s" / "mx-a.json").exists()


def test_remediation_records_of_a_batch_take_their_own_suffix(tmp_path):
    """The remediate role writes HOST.remediation.json for its batch with the same one call; the
    fleet report then finds them beside the diagnosis files. Only the known suffixes are accepted."""
    from conftest import run_module

    records = {h: dict(host=h, selected=["config.soft_bounce_on"], rolled_back=False) for h in ("mx-a", "mx-b")}
    res = run_module("postfix_report", dict(directory=str(tmp_path), host_reports=records,
                                            host_report_suffix=".remediation.json", render=False))
    assert not res.get("failed"), res
    assert sorted(os.listdir(tmp_path)) == ["mx-a.remediation.json", "mx-b.remediation.json"]
    assert json.loads((tmp_path / "mx-b.remediation.json").read_text()) == records["mx-b"]
    bad = run_module("postfix_report", dict(directory=str(tmp_path / "s"), host_reports=records,
                                            host_report_suffix="/../x.json", render=False))
    assert bad.get("failed") and "host_report_suffix" in bad["msg"] and not (tmp_path / "s").exists()


def test_report_files_that_are_not_ours_are_refused_and_left_alone(tmp_path):
    """The reports directory is the operator's choice, so what sits at a report's name may not be
    ours: a symlink (to anything), a directory or a file of another format is refused, named in
    the message, and left byte-identical; our own earlier report is replaced."""
    from conftest import run_module

    d = tmp_path / "r"
    d.mkdir()
    target = tmp_path / "precious.conf"
    target.write_bytes(b"keep me\n")
    (d / "mx-a.json").symlink_to(target)
    (d / "mx-b.json").write_bytes(b"not json at all\n")
    (d / "mx-c.json").mkdir()
    for host in ("mx-a", "mx-b", "mx-c"):
        res = run_module("postfix_report", dict(directory=str(d), host_reports={host: {"host": host}}, render=False))
        assert res.get("failed") and "%s.json" % host in res["msg"] and "refused" in res["msg"], res
    assert target.read_bytes() == b"keep me\n" and (d / "mx-a.json").is_symlink()
    assert (d / "mx-b.json").read_bytes() == b"not json at all\n" and (d / "mx-c.json").is_dir()
    ok = run_module("postfix_report", dict(directory=str(d), host_reports={"mx-d": {"host": "mx-d", "n": 1}}, render=False))
    again = run_module("postfix_report", dict(directory=str(d), host_reports={"mx-d": {"host": "mx-d", "n": 2}}, render=False))
    assert not ok.get("failed") and not again.get("failed") and json.loads((d / "mx-d.json").read_text())["n"] == 2
    # the fleet's junit.xml: a foreign file at its name is refused too
    (d / "junit.xml").write_bytes(b"#!/bin/sh\n")
    bad = run_module("postfix_report", dict(directory=str(d), hosts=["mx-d"], junit=True))
    assert bad.get("failed") and "junit.xml" in bad["msg"] and (d / "junit.xml").read_bytes() == b"#!/bin/sh\n"
