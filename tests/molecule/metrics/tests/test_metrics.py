# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The metrics scenario (issue 33): node_exporter in the lab host serves what the diagnosis, the
remediation and the change window wrote, and a real Prometheus with the shipped rules alerts on it.

Everything stays on the container's loopback (--network none): node_exporter listens on its
127.0.0.1:9100; Prometheus is the controller's binary (Debian's prometheus package, installed by
`make setup` for promtool) started inside the container's network namespace with nsenter, as an
unprivileged user, listening on the container's 127.0.0.1:9090; the HTTP requests go through the
same namespace. The tests run in order: each stage builds on the one before.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import yaml
from lab_run import ENV, ROOT, inventory_args, playbook, sh
from prometheus_client.parser import text_string_to_metric_families

HOST = "met-mx1"
TEXTFILE_DIR = "/var/lib/prometheus/node-exporter"
RULES = ROOT / "roles" / "postfix_monitoring" / "files" / "postfix-remedy.rules.yml"
PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
KIND = "metrics"
STATE = {}  # what one stage leaves for the next


def _pid():
    out = subprocess.run(["podman", "inspect", "-f", "{{.State.Pid}}", HOST], env=ENV, capture_output=True, text=True,
                         check=True)
    return out.stdout.strip()


def get(url, timeout=10):
    """GET url from inside the container's network namespace (its loopback is the only network)."""
    code = "import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())"
    proc = subprocess.run(["nsenter", "-t", _pid(), "-n", "/usr/bin/python3", "-c", code, url], capture_output=True,
                          text=True, timeout=timeout, check=False)
    assert proc.returncode == 0, "GET %s: %s" % (url, proc.stderr[-1000:])
    return proc.stdout


def scrape():
    """{(name, (label, value)...): value} of node_exporter's postfix_remedy_ and textfile series."""
    out = {}
    for fam in text_string_to_metric_families(get("http://127.0.0.1:9100/metrics")):
        for s in fam.samples:
            if s.name.startswith(("postfix_remedy_", "node_textfile_")):
                out[(s.name,) + tuple(sorted(s.labels.items()))] = s.value
    return out


def one(got, name, **labels):
    hits = [v for k, v in got.items() if k[0] == name and all((lk, lv) in k[1:] for lk, lv in labels.items())]
    assert len(hits) == 1, "%s%s: %s" % (name, labels, hits)
    return hits[0]


def api(path):
    body = json.loads(get("http://127.0.0.1:9090" + path))
    assert body["status"] == "success", body
    return body["data"]


def firing():
    return {(a["labels"]["alertname"], a["labels"].get("id", "")) for a in api("/api/v1/alerts")["alerts"]
            if a["state"] == "firing"}


def wait_for(what, check, seconds=90):
    deadline = time.time() + seconds
    while True:
        value = check()
        if value:
            return value
        assert time.time() < deadline, "still not %s after %d s" % (what, seconds)
        time.sleep(1)


def inject(*ids):
    argv = ["ansible-playbook", *inventory_args(), str(Path(__file__).parents[1] / "inject.yml"),
            "-e", json.dumps(dict(lab_faults_inject=list(ids)))]
    proc = subprocess.run(argv, env=ENV, capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout[-4000:]


def run(name, *args):
    rc, out, recap = playbook(name, KIND, *args)
    assert rc == 0, out[-6000:]
    return recap


@pytest.fixture(scope="module")
def prometheus():
    """Prometheus with the shipped rules, scraping the container's node_exporter every second."""
    if not os.environ.get("MOLECULE_INVENTORY_FILE"):
        pytest.skip("not run by Molecule")
    work = Path(tempfile.mkdtemp(prefix="pfr-prometheus-"))
    work.chmod(0o755)
    (work / "data").mkdir()
    os.chown(work / "data", 65534, 65534)
    shutil.copy(RULES, work / "postfix-remedy.rules.yml")
    (work / "prometheus.yml").write_text(yaml.safe_dump({
        "global": dict(scrape_interval="1s", evaluation_interval="1s"),
        "rule_files": [str(work / "postfix-remedy.rules.yml")],
        "scrape_configs": [dict(job_name="node", static_configs=[dict(targets=["127.0.0.1:9100"])])]}))
    log = open(work / "prometheus.log", "w")
    proc = subprocess.Popen(["nsenter", "-t", _pid(), "-n", "--setuid", "65534", "--setgid", "65534", PROMETHEUS,
                             "--config.file=%s" % (work / "prometheus.yml"), "--storage.tsdb.path=%s" % (work / "data"),
                             "--web.listen-address=127.0.0.1:9090", "--log.level=warn"],
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for("ready", lambda: proc.poll() is None and _ready(), 60)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        print((work / "prometheus.log").read_text()[-3000:])
        shutil.rmtree(work, ignore_errors=True)


def _ready():
    try:
        return get("http://127.0.0.1:9090/-/ready").startswith("Prometheus")
    except AssertionError:
        return False


# ------------------------------------------------------------------ stages, in order

def test_node_exporter_serves_the_diagnosis_of_a_healthy_host():
    if not os.environ.get("MOLECULE_INVENTORY_FILE"):
        pytest.skip("not run by Molecule")
    listening = sh(HOST, "ss -Hltn")
    assert "127.0.0.1:9100" in listening.stdout and "0.0.0.0:9100" not in listening.stdout, listening.stdout
    got = scrape()
    assert one(got, "node_textfile_scrape_error") == 0  # node_exporter read every file
    assert one(got, "node_textfile_mtime_seconds", file=TEXTFILE_DIR + "/postfix_remedy_diagnose.prom") > 0
    assert one(got, "postfix_remedy_diagnosis_result", result="healthy") == 1, got
    assert not [k for k in got if k[0] == "postfix_remedy_finding"]
    assert one(got, "postfix_remedy_log_read") == 1
    assert one(got, "postfix_remedy_queue_messages", queue="deferred") == 0
    info = [k for k in got if k[0] == "postfix_remedy_diagnosis_info"][0]
    labels = dict(info[1:])
    assert labels["myhostname"].endswith(".lab.test") and labels["mail_version"].startswith("3."), labels
    stat = sh(HOST, "stat -c '%U %a' " + TEXTFILE_DIR + "/postfix_remedy_diagnose.prom").stdout.split()
    assert stat == ["root", "644"]
    STATE["healthy"] = got


def test_prometheus_loads_the_shipped_rules_and_nothing_fires(prometheus):
    groups = api("/api/v1/rules")["groups"]
    names = {r["name"] for g in groups for r in g["rules"]}
    assert {"PostfixRemedyOpenRelay", "PostfixRemedyDaemonDying", "postfix_remedy:finding:unfixed"} <= names
    wait_for("scraped", lambda: api('/api/v1/query?query=up{job="node"}')["result"], 30)
    wait_for("evaluated", lambda: all(r["health"] == "ok" and r.get("lastEvaluation", "").startswith("2")
                                      for g in api("/api/v1/rules")["groups"] for r in g["rules"]), 30)
    assert {a for a, _id in firing() if a.startswith("PostfixRemedy")} == set()


def test_an_injected_open_relay_is_a_metric_and_fires_its_alert(prometheus):
    inject("relay.open_relay")
    before = time.time()
    run("diagnose")
    got = scrape()
    assert one(got, "postfix_remedy_finding", id="relay.open_relay", severity="critical", **{"class": "auto"}) == 1
    first = one(got, "postfix_remedy_finding_first_seen_timestamp_seconds", id="relay.open_relay")
    assert before - 5 <= first <= time.time()
    assert one(got, "postfix_remedy_diagnosis_result", result="findings") == 1
    assert one(got, "postfix_remedy_diagnosis_last_run_timestamp_seconds") > \
        one(STATE["healthy"], "postfix_remedy_diagnosis_last_run_timestamp_seconds")
    wait_for("firing", lambda: ("PostfixRemedyOpenRelay", "relay.open_relay") in firing())
    assert ("PostfixRemedyCriticalFinding", "relay.open_relay") not in firing()  # one page, not two
    STATE["found"] = got


def test_the_remediation_changes_the_metrics_and_resolves_the_alert(prometheus):
    run("remediate")
    got = scrape()
    assert one(got, "node_textfile_scrape_error") == 0
    assert one(got, "postfix_remedy_remediation_result", result="fixed") == 1
    fixed = one(got, "postfix_remedy_remediation_fixed_timestamp_seconds", id="relay.open_relay")
    assert fixed > one(got, "postfix_remedy_diagnosis_last_run_timestamp_seconds")  # fixed after the diagnosis that saw it
    assert one(got, "postfix_remedy_remediation_fixes_total", id="relay.open_relay") == 1
    assert one(got, "postfix_remedy_remediation_runs_total", result="fixed") == 1
    # the remediation's own diagnosis (before its fixes) still saw the relay: the rule's fix mask ends the alert
    wait_for("resolved", lambda: ("PostfixRemedyOpenRelay", "relay.open_relay") not in firing())
    query = api('/api/v1/query?query=postfix_remedy:finding:unfixed{id="relay.open_relay"}')["result"]
    assert query == []
    run("diagnose")
    again = scrape()
    assert not [k for k in again if k[0] == "postfix_remedy_finding" and ("id", "relay.open_relay") in k[1:]]
    assert one(again, "postfix_remedy_diagnosis_result", result="healthy") == 1
    time.sleep(3)  # a few evaluations: the fault is gone, so nothing comes back
    assert ("PostfixRemedyOpenRelay", "relay.open_relay") not in firing()


def test_a_change_window_is_shown_open_and_closed(prometheus):
    run("change_window")  # opens (the helper writes the window's file), remediates, closes
    got = scrape()
    assert one(got, "postfix_remedy_change_window_open") == 0
    closed = one(got, "postfix_remedy_change_window_last_close_timestamp_seconds")
    assert time.time() - 600 < closed <= time.time()
    assert one(got, "postfix_remedy_remediation_result", result="nothing_to_fix") == 1
    # a window whose controller is gone: its switch (the detached watchdog here, no systemd) closes it
    opened = sh(HOST, "/usr/local/sbin/postfix-remedy-window open --seconds 12 --reason metrics-test --metrics-dir "
                + TEXTFILE_DIR)
    assert opened.returncode == 0 and "metrics_warning" not in opened.stdout, opened.stdout + opened.stderr
    got = scrape()
    assert one(got, "postfix_remedy_change_window_open") == 1
    deadline = one(got, "postfix_remedy_change_window_deadline_timestamp_seconds")
    assert 0 < deadline - time.time() <= 13
    wait_for("open in Prometheus", lambda: api("/api/v1/query?query=postfix_remedy_change_window_open==1")["result"], 30)
    wait_for("closed by its switch", lambda: one(scrape(), "postfix_remedy_change_window_open") == 0, 60)
    got = scrape()
    assert one(got, "postfix_remedy_change_window_last_close_timestamp_seconds") >= int(deadline) - 6
    assert not [k for k in got if k[0] == "postfix_remedy_change_window_deadline_timestamp_seconds"]
    assert sh(HOST, "postconf -h soft_bounce").stdout.strip() == "no"
    assert one(got, "node_textfile_scrape_error") == 0
