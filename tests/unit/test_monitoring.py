# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 33: what ships for the Prometheus server (roles/postfix_monitoring): the alert rules, checked
and unit-tested with the real promtool (Debian's prometheus package, installed by `make setup`), the
Grafana dashboard, whose every query must parse and read only metrics the project emits, and the
role that installs the rules (promtool validates before they replace anything)."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys

import pytest
import yaml
from ansible.module_utils.fault_catalog import CATALOG
from ansible.module_utils.remedy_metrics import METRICS
from conftest import ROOT

FILES = ROOT / "roles" / "postfix_monitoring" / "files"
RULES = FILES / "postfix-remedy.rules.yml"
RULE_TESTS = ROOT / "tests" / "unit" / "fixtures" / "monitoring" / "postfix-remedy.rules.test.yml"
DASHBOARD = FILES / "grafana-dashboard.json"
PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(not PROMTOOL, reason="promtool not installed (Debian package prometheus; make setup installs it)")
# service.* IDs that are not a daemon dying: a stopped or misconfigured Postfix has alerts of its own.
NOT_DYING = {"service.not_running", "service.port_in_use", "service.check_fails", "service.chroot_incomplete",
             "service.hostname_invalid"}


def promtool(*args):
    return subprocess.run([PROMTOOL, *args], capture_output=True, text=True, check=False, timeout=120)


def rules():
    return yaml.safe_load(RULES.read_text())


def alerts():
    return {r["alert"]: r for g in rules()["groups"] for r in g["rules"] if "alert" in r}


@needs_promtool
def test_promtool_checks_the_rules():
    proc = promtool("check", "rules", str(RULES))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "SUCCESS: %d rules found" % sum(len(g["rules"]) for g in rules()["groups"]) in proc.stdout


@needs_promtool
def test_promtool_unit_tests_of_the_rules_pass():
    proc = promtool("test", "rules", str(RULE_TESTS))
    assert proc.returncode == 0 and "SUCCESS" in proc.stdout, proc.stdout + proc.stderr


def test_every_alert_is_unit_tested_firing_and_quiet():
    cases = yaml.safe_load(RULE_TESTS.read_text())["tests"]
    fired, quiet = set(), set()
    for case in cases:
        for t in case.get("alert_rule_test") or []:
            (fired if t.get("exp_alerts") else quiet).add(t["alertname"])
    assert set(alerts()) == fired, "alerts without a firing case: %s" % (set(alerts()) - fired)
    assert set(alerts()) == quiet, "alerts without a quiet case: %s" % (set(alerts()) - quiet)
    for name, rule in alerts().items():
        assert rule["labels"]["severity"] in ("critical", "warning"), name
        assert rule["annotations"]["summary"] and rule["annotations"]["description"], name


def test_every_service_id_of_the_catalog_is_dying_or_said_not_to_be():
    """The daemon alert takes every service.* ID but the ones listed out: a service.* ID the catalog
    gains alerts as a dying daemon unless it is added to NOT_DYING here and to the rule."""
    expr = alerts()["PostfixRemedyDaemonDying"]["expr"]
    take = re.search(r'id=~"([^"]+)"', expr).group(1).replace("\\\\", "\\")
    leave = re.search(r'id!~"([^"]+)"', expr).group(1).replace("\\\\", "\\")
    service = {fid for fid in CATALOG if fid.startswith("service.")}
    assert "service.daemon_failure" in service and NOT_DYING <= service
    for fid in sorted(service):
        dying = bool(re.fullmatch(take, fid)) and not re.fullmatch(leave, fid)
        assert dying == (fid not in NOT_DYING), fid


def test_the_critical_and_open_relay_alerts_follow_the_catalog():
    assert CATALOG["relay.open_relay"]["severity"] == "critical"  # else the open relay would page as critical twice
    assert 'id!="relay.open_relay"' in alerts()["PostfixRemedyCriticalFinding"]["expr"]


# ------------------------------------------------------------------ the dashboard

def dashboard_queries():
    dash = json.loads(DASHBOARD.read_text())
    out = []
    for panel in dash["panels"]:
        for t in panel.get("targets", []):
            out.append(("%s/%s" % (panel["title"], t["refId"]), t["expr"]))
    for var in dash["templating"]["list"]:
        if var["type"] == "query":
            out.append(("variable " + var["name"], var["definition"]))
    return out


def recorded():
    return {r["record"] for g in rules()["groups"] for r in g["rules"] if "record" in r}


def test_every_dashboard_query_reads_metrics_the_project_emits():
    emitted = set(METRICS) | recorded()
    queries = dashboard_queries()
    assert len(queries) >= 10
    used = set()
    for where, expr in queries:
        names = set(re.findall(r"\bpostfix_remedy[a-zA-Z0-9_:]*", expr))
        assert names, "%s reads no postfix-remedy metric: %s" % (where, expr)
        assert names <= emitted, "%s reads %s, which nothing writes" % (where, sorted(names - emitted))
        used |= names
    # what the issue asks the fleet view for: hosts x findings, queues, open windows
    assert {"postfix_remedy:finding:unfixed", "postfix_remedy_queue_messages", "postfix_remedy_change_window_open"} <= used


@needs_promtool
def test_every_dashboard_query_is_valid_promql(tmp_path):
    """promtool parses each query as a recording rule (Grafana's $variables filled in)."""
    group = []
    for i, (_where, expr) in enumerate(dashboard_queries()):
        if expr.startswith("label_values("):  # Grafana's own function: its argument is the PromQL
            expr = expr[len("label_values("):].rsplit(",", 1)[0]
        expr = expr.replace("$instance", ".*").replace("$__rate_interval", "5m")
        group.append(dict(record="dashboard:query_%d" % i, expr=expr))
    path = tmp_path / "dashboard.rules.yml"
    path.write_text(yaml.safe_dump(dict(groups=[dict(name="dashboard", rules=group)])))
    proc = promtool("check", "rules", str(path))
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_dashboard_is_importable_grafana_json():
    dash = json.loads(DASHBOARD.read_text())
    assert dash["uid"] and dash["title"] and dash["schemaVersion"] >= 30
    ids = [p["id"] for p in dash["panels"]]
    assert len(ids) == len(set(ids))
    for p in dash["panels"]:
        assert p["datasource"]["uid"] == "${datasource}" and set(p["gridPos"]) == {"x", "y", "w", "h"}, p["title"]


# ------------------------------------------------------------------ the role that installs them

def run_role(tmp_path, **extra):
    play = tmp_path / "play.yml"
    play.write_text(yaml.safe_dump([dict(hosts="localhost", gather_facts=False, roles=["postfix_monitoring"])]))
    args = dict(postfix_monitoring_rules_dir=str(tmp_path / "rules"), postfix_monitoring_reload=False,
                postfix_monitoring_dashboard_dir=str(tmp_path / "dash"), **extra)
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               PYTHONWARNINGS="ignore:DSA is deprecated")
    exe = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")  # the venv's, as for ansible-doc
    return subprocess.run([exe if os.path.exists(exe) else "ansible-playbook", "-i", "localhost,", "-c", "local", str(play), "-e", json.dumps(args)],
                          capture_output=True, text=True, env=env, cwd=str(tmp_path), check=False, timeout=300)


@needs_promtool
def test_the_role_installs_what_promtool_accepts_and_nothing_else(tmp_path):
    (tmp_path / "dash").mkdir()
    proc = run_role(tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert (tmp_path / "rules" / "postfix-remedy.rules.yml").read_bytes() == RULES.read_bytes()
    assert json.loads((tmp_path / "dash" / "postfix-remedy-fleet.json").read_text())["uid"] == "postfix-remedy-fleet"
    (tmp_path / "rules" / "postfix-remedy.rules.yml").write_text("groups: []\n")  # an older file in place
    proc = run_role(tmp_path, postfix_monitoring_promtool="/bin/false")  # validation refuses
    assert proc.returncode != 0 and "failed to validate" in proc.stdout, proc.stdout[-3000:]
    assert (tmp_path / "rules" / "postfix-remedy.rules.yml").read_text() == "groups: []\n"


def test_the_collection_ships_the_rules_dashboard_and_writers(tmp_path):
    """`make collection` (into a scratch directory, as tests/unit/test_papercuts.py builds it)."""
    import tarfile

    proc = subprocess.run(["make", "-s", "--no-print-directory", "-o", "venv", "collection",
                           "COLLECTION_DIR=%s" % (tmp_path / "build"), "DIST=%s" % (tmp_path / "dist")],
                          cwd=str(ROOT), capture_output=True, text=True, check=False, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with tarfile.open(next((tmp_path / "dist").glob("postfix_remedy-toolkit-*.tar.gz"))) as tar:
        names = set(tar.getnames())
    assert {"roles/postfix_monitoring/files/postfix-remedy.rules.yml", "roles/postfix_monitoring/files/grafana-dashboard.json",
            "roles/postfix_monitoring/meta/argument_specs.yml", "playbooks/monitoring.yml", "plugins/modules/postfix_metrics.py",
            "plugins/module_utils/prom_textfile.py", "plugins/module_utils/remedy_metrics.py"} <= names

