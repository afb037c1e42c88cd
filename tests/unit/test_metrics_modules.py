# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 33: the metrics of the diagnosis (postfix_diagnose metrics_dir) and of the remediation
(postfix_metrics), against real Postfix configuration directories and instances, read back with
Prometheus' own text parser. Bad input (no directory, a file in its place, a foreign file at our
name, a read-only or full file system, odd host names) is a warning, and the findings stand."""
from __future__ import annotations

import calendar
import os
import subprocess
import time
from pathlib import Path

import pytest
from ansible.module_utils import prom_textfile, remedy_metrics
from conftest import needs_postfix, needs_root, run_module, send, sh
from fixtures.log_lines import CASES, as_log
from prometheus_client.parser import text_string_to_metric_families

pytestmark = [needs_postfix]


def scrape(path):
    """{(name, labels...): value} as Prometheus reads the file (counters keep their _total name)."""
    out = {}
    for fam in text_string_to_metric_families(Path(path).read_text()):
        for s in fam.samples:
            out[(s.name,) + tuple(sorted((k, v) for k, v in s.labels.items() if k != "config_dir"))] = s.value
    return out


def postconf(conf, *settings):
    sh("postconf", "-c", str(conf), "-e", *settings)
    past = time.time() - 60
    os.utime(conf / "main.cf", (past, past))


@pytest.fixture
def env(tmp_path):
    (tmp_path / "metrics").mkdir()
    log = tmp_path / "mail.log"
    log.write_text("\n".join(as_log([c for c in CASES if c[0] == "maps.stale_db"])) + "\n")
    return dict(tmp=tmp_path, metrics=tmp_path / "metrics", log=log)


def diagnose(conf, env, check=False, **extra):
    args = dict(config_dir=str(conf), checks=["config", "queue", "log"], log_paths=[str(env["log"])],
                state_file=str(env["tmp"] / "state.json"), change_window_marker=str(env["tmp"] / "cw.json"),
                fix_ledger=str(env["tmp"] / "fixed.json"), metrics_dir=str(env["metrics"]))
    args.update(extra)
    res = run_module("postfix_diagnose", args, check=check)
    assert not res.get("failed"), res.get("msg")
    assert res["changed"] is False
    return res


def prom(conf, env, stem="postfix_remedy_diagnose"):
    return Path(prom_textfile.file_path(str(env["metrics"]), stem, str(conf)))


# ------------------------------------------------------------------ the diagnosis

def test_diagnosis_writes_its_findings_log_and_queue(postfix_dir, env):
    postconf(postfix_dir, "soft_bounce = yes", "mynetworks = 0.0.0.0/0")
    res = diagnose(postfix_dir, env)
    assert res["metrics"]["written"] and res["metrics"]["warnings"] == [] and not res.get("warnings")
    path = prom(postfix_dir, env)
    assert res["metrics"]["path"] == str(path) and path.parent == env["metrics"]
    got = scrape(path)
    assert got[("postfix_remedy_finding", ("class", "auto"), ("id", "relay.open_relay"), ("severity", "critical"))] == 1
    assert got[("postfix_remedy_finding", ("class", "auto"), ("id", "config.soft_bounce_on"), ("severity", "high"))] == 1
    findings = {k[2][1] for k in got if k[0] == "postfix_remedy_finding"}
    assert findings == set(res["ids"])  # one series per current finding, nothing else
    # a log finding: since its oldest line, last seen at its newest (the report's evidence)
    stale = next(f for f in res["findings"] if f["id"] == "maps.stale_db")
    first = calendar.timegm(time.strptime(stale["evidence"]["first"], "%Y-%m-%dT%H:%M:%SZ"))
    last = calendar.timegm(time.strptime(stale["evidence"]["last"], "%Y-%m-%dT%H:%M:%SZ"))
    assert got[("postfix_remedy_finding_first_seen_timestamp_seconds", ("id", "maps.stale_db"))] == first
    assert got[("postfix_remedy_finding_last_seen_timestamp_seconds", ("id", "maps.stale_db"))] == last
    assert got[("postfix_remedy_log_fault_lines", ("id", "maps.stale_db"))] == res["log"]["ids"]["maps.stale_db"] > 0
    assert got[("postfix_remedy_log_read",)] == 1 and got[("postfix_remedy_log_lines",)] == res["log"]["lines"]
    assert got[("postfix_remedy_log_window_seconds",)] == 7 * 86400
    assert got[("postfix_remedy_log_unclassified_ratio",)] == res["log"]["unclassified_share"]
    assert 0 <= got[("postfix_remedy_log_scan_duration_seconds",)] <= got[("postfix_remedy_diagnosis_duration_seconds",)]
    assert {k[1][1] for k in got if k[0] == "postfix_remedy_queue_messages"} == set(res["queue"]["counts"])
    assert got[("postfix_remedy_diagnosis_result", ("result", "findings"))] == 1
    assert got[("postfix_remedy_diagnosis_result", ("result", "healthy"))] == 0
    assert abs(got[("postfix_remedy_diagnosis_last_run_timestamp_seconds",)] - time.time()) < 60
    assert got[("postfix_remedy_diagnosis_errors",)] == len(res["errors"])
    info = next(k for k in got if k[0] == "postfix_remedy_diagnosis_info")
    assert ("myhostname", "mx1.lab.test") in info
    assert oct(path.stat().st_mode & 0o777) == "0o644" and sorted(os.listdir(env["metrics"])) == [path.name]


def test_first_seen_is_remembered_while_present_and_starts_again_after(postfix_dir, env):
    postconf(postfix_dir, "soft_bounce = yes")
    key = ("postfix_remedy_finding_first_seen_timestamp_seconds", ("id", "config.soft_bounce_on"))
    seen = ("postfix_remedy_finding_last_seen_timestamp_seconds", ("id", "config.soft_bounce_on"))
    diagnose(postfix_dir, env, checks=["config"])
    one = scrape(prom(postfix_dir, env))
    time.sleep(1.1)
    diagnose(postfix_dir, env, checks=["config"])
    two = scrape(prom(postfix_dir, env))
    assert two[key] == one[key] and two[seen] > one[seen]  # still present: same episode
    postconf(postfix_dir, "soft_bounce = no")
    diagnose(postfix_dir, env, checks=["config"])
    assert key not in scrape(prom(postfix_dir, env))  # gone: its series go away (the alert resolves)
    postconf(postfix_dir, "soft_bounce = yes")
    time.sleep(1.1)
    diagnose(postfix_dir, env, checks=["config"])
    assert scrape(prom(postfix_dir, env))[key] > two[seen]  # back: a new episode


def test_historical_findings_are_not_present(postfix_dir, env):
    """Lines that all predate the fix in the ledger are history: in the report, not a metric (no alert)."""
    env["log"].write_text("\n".join(as_log([c for c in CASES if c[0] == "ipv6.unreachable"])) + "\n")
    (env["tmp"] / "fixed.json").write_text('{"ipv6.unreachable": %d}' % time.time())
    res = diagnose(postfix_dir, env, checks=["log"], incremental=False)
    assert next(f for f in res["findings"] if f["id"] == "ipv6.unreachable")["historical"] is True
    got = scrape(prom(postfix_dir, env))
    assert not [k for k in got if k[0].startswith("postfix_remedy_finding") and ("id", "ipv6.unreachable") in k]
    assert got[("postfix_remedy_log_fault_lines", ("id", "ipv6.unreachable"))] > 0  # the lines still count


def test_check_mode_writes_no_metrics(postfix_dir, env):
    res = diagnose(postfix_dir, env, check=True)
    assert res["metrics"]["written"] is False and os.listdir(env["metrics"]) == []


def test_no_metrics_dir_no_metrics(postfix_dir, env):
    res = diagnose(postfix_dir, env, metrics_dir=None)
    assert "metrics" not in res and os.listdir(env["metrics"]) == []


def _full(env, conf):
    small = env["tmp"] / "small"
    small.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8k", "tmpfs", str(small)], check=False).returncode:
        pytest.skip("cannot mount a tmpfs here")
    with open(small / "filler", "wb") as fh:
        try:
            fh.write(b"x" * 65536)
        except OSError:
            pass
    return small


def _read_only(env, conf):
    ro = env["tmp"] / "ro"
    ro.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k,ro", "tmpfs", str(ro)], check=False).returncode:
        pytest.skip("cannot mount a tmpfs here")
    return ro


def _foreign(env, conf):
    prom(conf, env).write_bytes(b"node_exporter_own_thing 1\n")
    return env["metrics"]


def _symlinked_file(env, conf):
    (env["tmp"] / "target").write_bytes(b"keep me\n")
    prom(conf, env).symlink_to(env["tmp"] / "target")
    return env["metrics"]


@pytest.mark.parametrize("make,words,root", [
    (lambda env, conf: env["tmp"] / "no-node-exporter", "does not exist", False),
    (lambda env, conf: env["log"], "is not a directory", False),
    (_foreign, "not a postfix-remedy metrics file", False),
    (_symlinked_file, "symlink", False),
    (_read_only, "Read-only file system", True),
    (_full, "No space left on device", True),
])
def test_a_metrics_dir_that_cannot_take_the_file_is_a_warning_and_the_findings_stand(postfix_dir, env, make, words, root):
    if root and os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    postconf(postfix_dir, "soft_bounce = yes")
    where = make(env, postfix_dir)
    before = {p: p.read_bytes() for p in env["tmp"].rglob("*") if p.is_file() and not p.is_symlink() and p.name != "filler"}
    try:
        res = diagnose(postfix_dir, env, checks=["config"], metrics_dir=str(where))
        assert "config.soft_bounce_on" in res["ids"] and res["summary"].startswith("1 finding")
        assert res["metrics"]["written"] is False
        assert any(words in w for w in res["warnings"]), res["warnings"]  # module.warn: the play shows it
        assert res["metrics"]["warnings"] == res["warnings"]
        assert res["errors"] == []  # not an evidence error: the diagnosis itself is complete
        assert {p: p.read_bytes() for p in before} == before  # nothing that was there changed
        if where.is_dir():
            assert list(where.glob(".*.tmp")) == []  # no temporary file left behind
    finally:
        if root:
            subprocess.run(["umount", str(where)], check=False)


def test_odd_host_names_are_written_escaped_with_a_warning(postfix_dir, env):
    postconf(postfix_dir, 'myhostname = mx"1\\odd.lab.test')
    res = diagnose(postfix_dir, env, checks=["config"])
    assert res["metrics"]["written"]
    assert any("myhostname" in w and "escaped" in w for w in res["warnings"]), res.get("warnings")
    info = next(k for k in scrape(prom(postfix_dir, env)) if k[0] == "postfix_remedy_diagnosis_info")
    assert ("myhostname", 'mx"1\\odd.lab.test') in info


def test_a_latin1_host_name_is_cleaned_with_a_warning(postfix_dir, env):
    main = postfix_dir / "main.cf"
    main.write_bytes(main.read_bytes() + b"myhostname = caf\xe9.lab.test\n")
    res = diagnose(postfix_dir, env, checks=["config"])
    assert res["metrics"]["written"] and any("not valid UTF-8" in w for w in res["warnings"]), res.get("warnings")
    info = next(k for k in scrape(prom(postfix_dir, env)) if k[0] == "postfix_remedy_diagnosis_info")
    assert ("myhostname", "caf\ufffd.lab.test") in info


def test_an_id_with_odd_characters_is_a_warning():
    result = dict(findings=[dict(id='x"y\nz', severity="high", **{"class": "auto"})], errors=[], log=None, queue=None)
    samples = remedy_metrics.diagnosis_samples(result, "/etc/postfix", {}, 1000.0, 1.0)
    data, warnings = prom_textfile.render(samples, "test")
    assert any("label id" in w and "escaped" in w for w in warnings), warnings
    fams = {f.name: f for f in text_string_to_metric_families(data.decode())}
    assert fams["postfix_remedy_finding"].samples[0].labels["id"] == 'x"y\nz'


@needs_root
def test_queue_sizes_and_the_oldest_arrival(postfix_instance, env):
    for i in range(3):
        send(postfix_instance, "alice@lab.test", "user%d@remote.test" % i)
    for _ in range(100):
        res = diagnose(postfix_instance, env, checks=["queue"])
        if res["queue"]["counts"].get("deferred", 0) >= 3:
            break
        time.sleep(0.1)
    got = scrape(prom(postfix_instance, env))
    assert got[("postfix_remedy_queue_messages", ("queue", "deferred"))] == 3
    oldest = got[("postfix_remedy_queue_oldest_message_timestamp_seconds", ("queue", "deferred"))]
    assert oldest == res["queue"]["oldest"]["deferred"] and time.time() - 120 < oldest <= time.time()
    assert ("postfix_remedy_queue_oldest_message_timestamp_seconds", ("queue", "hold")) not in got  # an empty queue has none


def test_another_instance_writes_its_own_file(postfix_dir, env):
    res = diagnose(postfix_dir, env, checks=["config"])
    assert os.path.basename(res["metrics"]["path"]) != "postfix_remedy_diagnose.prom"  # not /etc/postfix
    text = Path(res["metrics"]["path"]).read_text()
    assert 'config_dir="%s"' % os.path.normpath(str(postfix_dir)) in text


# ------------------------------------------------------------------ the remediation

RECORD = dict(selected=["relay.open_relay", "config.soft_bounce_on"], still_present=[], rolled_back=False,
              queue_failure=None, check_mode=False)


def remediate_metrics(env, record, check=False, **extra):
    res = run_module("postfix_metrics", dict(directory=str(env["metrics"]), record=record, **extra), check=check)
    assert not res.get("failed"), res.get("msg")
    assert res["changed"] is False  # output, not a change: a second remediation stays changed=0
    return res


def test_remediation_metrics_and_counters_that_go_on(env):
    res = remediate_metrics(env, RECORD)
    assert res["written"] and res["result"] == "fixed"
    path = env["metrics"] / "postfix_remedy_remediation.prom"
    got = scrape(path)
    assert got[("postfix_remedy_remediation_result", ("result", "fixed"))] == 1
    assert sum(v for k, v in got.items() if k[0] == "postfix_remedy_remediation_result") == 1
    stamp = got[("postfix_remedy_remediation_last_run_timestamp_seconds",)]
    assert got[("postfix_remedy_remediation_fixed_timestamp_seconds", ("id", "relay.open_relay"))] == stamp
    assert got[("postfix_remedy_remediation_fixes_total", ("id", "relay.open_relay"))] == 1
    assert got[("postfix_remedy_remediation_runs_total", ("result", "fixed"))] == 1
    # the next run fixed nothing but one ID stayed: counters go on, this run's fixes only are stamped
    remediate_metrics(env, dict(RECORD, selected=["relay.open_relay"], still_present=["relay.open_relay"]))
    got = scrape(path)
    assert got[("postfix_remedy_remediation_result", ("result", "incomplete"))] == 1
    assert not [k for k in got if k[0] == "postfix_remedy_remediation_fixed_timestamp_seconds"]
    assert got[("postfix_remedy_remediation_fixes_total", ("id", "relay.open_relay"))] == 1
    assert got[("postfix_remedy_remediation_fixes_total", ("id", "config.soft_bounce_on"))] == 1
    assert got[("postfix_remedy_remediation_runs_total", ("result", "fixed"))] == 1
    assert got[("postfix_remedy_remediation_runs_total", ("result", "incomplete"))] == 1


@pytest.mark.parametrize("record,result", [
    (dict(RECORD, rolled_back=True), "rolled_back"),
    (dict(RECORD, queue_failure="Act on the queue: postsuper failed"), "queue_failed"),
    (dict(RECORD, selected=[]), "nothing_to_fix"),
])
def test_remediation_results(env, record, result):
    res = remediate_metrics(env, record)
    got = scrape(res["path"])
    assert res["result"] == result and got[("postfix_remedy_remediation_result", ("result", result))] == 1
    if result == "rolled_back":  # nothing was fixed: no alert may end
        assert not [k for k in got if k[0] in ("postfix_remedy_remediation_fixed_timestamp_seconds",
                                                "postfix_remedy_remediation_fixes_total")]


def test_remediation_metrics_in_check_mode_and_without_a_directory(env, tmp_path):
    res = remediate_metrics(env, RECORD, check=True)
    assert res["written"] is False and os.listdir(env["metrics"]) == [] and "relay.open_relay" in res["metrics"]
    res = run_module("postfix_metrics", dict(directory=str(tmp_path / "none"), record=RECORD))
    assert not res.get("failed") and res["written"] is False and "does not exist" in res["warnings"][0]
    assert not (tmp_path / "none").exists()


def test_remediation_record_that_is_no_record_fails_naming_it(env):
    res = run_module("postfix_metrics", dict(directory=str(env["metrics"]), record=dict(selected="relay.open_relay")))
    assert res.get("failed") and "record.selected" in res["msg"] and os.listdir(env["metrics"]) == []


def test_the_shipped_rules_read_only_names_the_writers_emit():
    """Every postfix_remedy_ name in the alert rules is one the writers emit (or the rules record)."""
    import re

    import yaml
    from conftest import ROOT

    rules = yaml.safe_load((ROOT / "roles/postfix_monitoring/files/postfix-remedy.rules.yml").read_text())
    recorded = {r["record"] for g in rules["groups"] for r in g["rules"] if "record" in r}
    for g in rules["groups"]:
        for r in g["rules"]:
            names = set(re.findall(r"\bpostfix_remedy[a-z_:]*", r["expr"]))
            assert names and names <= set(remedy_metrics.METRICS) | recorded, (r.get("alert") or r.get("record"), names)
