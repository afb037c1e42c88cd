# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a new user met on a first `make demo` and a first look around (issue 30, item 7):

- no warning on every ansible command (cryptography's DSA deprecation), none about an empty
  inventory before the lab runs;
- ansible.cfg (and Molecule's copy of its settings) passes `ansible-config validate`;
- `.ansible/` is ignored by git;
- the fix files split postconf lists with no backslash escape that plain Jinja warns about, and
  the same as before;
- no two role options share one description (copied onto the wrong option);
- the built collection ships no repository tool that cannot run there;
- the HTML report: grid, tallies and cards agree on class and severity, a journal host's log
  line names the journal, an earlier run's remediation record is not "not run".
"""
from __future__ import annotations

import configparser
import datetime
import json
import os
import re
import subprocess
import sys
import tarfile
import warnings
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, run_module

BIN = Path(sys.executable).parent
ENV = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")


def _run(argv, env=None, cwd=ROOT, timeout=300):
    return subprocess.run(argv, cwd=cwd, env=env or ENV, capture_output=True, text=True, timeout=timeout, check=False)


# ------------------------------------------------------------------ 1. quiet ansible commands

def test_ansible_commands_under_the_makefile_print_no_warning():
    """Every recipe of the Makefile runs with its exported environment (PYTHONWARNINGS there drops
    cryptography's DSA deprecation, which ansible-core 2.19 triggers at every start)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONWARNINGS"}
    proc = _run(["make", "-s", "--no-print-directory", "--eval", "papercuts-version: ; ansible --version",
                 "papercuts-version"], env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "ansible [core " in proc.stdout
    assert "DSA is deprecated" not in proc.stdout + proc.stderr
    assert "warning" not in proc.stderr.lower(), proc.stderr


def test_the_lab_inventory_is_never_empty(tmp_path):
    """Before the first `make lab` fleet.py lists no host: the controller is still in the lab
    inventory, reached as the implicit localhost was (local, the playbook's own Python)."""
    play = tmp_path / "controller.yml"
    play.write_text("- name: Controller\n  hosts: localhost\n  gather_facts: false\n  tasks:\n"
                    "    - name: Which Python\n      ansible.builtin.setup:\n        gather_subset: [min]\n"
                    "        filter: [ansible_python]\n")
    # LAB_HOSTS names no running container: fleet.py lists nothing, whatever runs on this machine
    env = dict(ENV, LAB_HOSTS="papercuts-no-such-container")
    proc = _run([str(BIN / "ansible-playbook"), "-i", str(ROOT / "inventories" / "lab"), str(play)],
                env=dict(env, ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json"))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr
    assert "provided hosts list is empty" not in proc.stderr and "[WARNING]" not in proc.stderr, proc.stderr
    result = json.loads(proc.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]
    assert result["ansible_facts"]["ansible_python"]["executable"] == sys.executable
    inv = json.loads(_run([str(BIN / "ansible-inventory"), "-i", str(ROOT / "inventories" / "lab"), "--list"],
                          env=env).stdout)
    assert not inv.get("postfix_servers", {}).get("hosts") and not inv.get("lab", {}).get("hosts")
    assert inv["controller"]["hosts"] == ["localhost"]


# ------------------------------------------------------------------ 2. ansible-config validate

def _validate(cfg):
    """ansible-config validate on every known key (-t all: callback_result_format is a callback
    plugin's option, which the default `-t base` calls unknown)."""
    return _run([str(BIN / "ansible-config"), "validate", "-t", "all"], env=dict(ENV, ANSIBLE_CONFIG=str(cfg)))


def test_ansible_cfg_validates():
    proc = _validate(ROOT / "ansible.cfg")
    assert proc.returncode == 0 and "seem valid" in proc.stdout, proc.stdout + proc.stderr


def test_molecule_config_options_validate(tmp_path):
    options = yaml.safe_load((ROOT / "tests" / "molecule" / "base.yml").read_text())["provisioner"]["config_options"]
    cp = configparser.ConfigParser()
    cp.read_dict(options)
    cfg = tmp_path / "ansible.cfg"
    with open(cfg, "w") as fh:
        cp.write(fh)
    proc = _validate(cfg)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_validate_does_read_the_file(tmp_path):
    """The two tests above would pass on a validation that never looked at the file."""
    cfg = tmp_path / "ansible.cfg"
    cfg.write_text((ROOT / "ansible.cfg").read_text().replace("[defaults]\n", "[defaults]\nresult_format = yaml\n", 1))
    proc = _validate(cfg)
    assert proc.returncode != 0 and "result_format" in proc.stderr, proc.stdout + proc.stderr


# ------------------------------------------------------------------ 3. .gitignore

def test_ansible_local_state_is_ignored():
    for path in (".ansible/collections/x", ".ansible/tmp/y"):
        assert _run(["git", "check-ignore", "-q", path]).returncode == 0, "add .ansible/ to .gitignore"


# ------------------------------------------------------------------ 4. postconf lists in the fix files

FIX = ROOT / "roles" / "postfix_remediate" / "tasks" / "fix"
LIST_EXPRESSIONS = [("maps.missing_db.yml", "postfix_remediate_alias_tables"),
                    ("maps.stale_db.yml", "postfix_remediate_alias_tables"),
                    ("relay.open_relay.yml", "postfix_remediate_nets_now")]
POSTCONF_N = [
    {"alias_maps": "hash:/etc/aliases, cdb:/etc/mail/extra", "alias_database": "hash:/etc/aliases",
     "mynetworks": "127.0.0.0/8 [::ffff:127.0.0.0]/104 [::1]/128"},
    {"alias_maps": "hash:/etc/aliases,,lmdb:/etc/aliases2\tnis:mail.aliases", "mynetworks": "10.0.0.0/8,192.168.0.0/16,\n 0.0.0.0/0"},
    {"mynetworks": ""},
    {},
]


def _task_var(fname, var):
    for task in yaml.safe_load((FIX / fname).read_text()):
        if var in (task.get("vars") or {}):
            return task["vars"][var]
    raise AssertionError("%s not in %s" % (var, fname))


@pytest.mark.parametrize("fname,var", LIST_EXPRESSIONS)
@pytest.mark.parametrize("postconf_n", POSTCONF_N)
def test_postconf_lists_split_as_before_without_a_warning(fname, var, postconf_n):
    """Rendered by Ansible's own templar (what a play does), warnings as errors; the result is what
    the old regex_findall('[^,\\s]+') gave (commas and any white space separate)."""
    from ansible.parsing.dataloader import DataLoader
    from ansible.template import Templar, trust_as_template

    expr = _task_var(fname, var)
    assert "\\" not in expr  # plain Jinja and Ansible read a backslash in a {{ }} string differently
    templar = Templar(loader=DataLoader(), variables={"postfix_diagnose_result": {"postconf_n": postconf_n}})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = templar.template(trust_as_template(expr))
    if var == "postfix_remediate_nets_now":
        source = postconf_n.get("mynetworks", "")
    else:
        source = postconf_n.get("alias_maps", "hash:/etc/aliases") + " " + postconf_n.get("alias_database", "")
    assert list(got) == re.findall(r"[^,\s]+", source)


# ------------------------------------------------------------------ 5. role option descriptions

def test_no_two_role_options_share_a_description():
    seen = {}
    for spec_file in sorted((ROOT / "roles").glob("*/meta/argument_specs.yml")):
        for entry, spec in yaml.safe_load(spec_file.read_text())["argument_specs"].items():
            for name, opt in (spec.get("options") or {}).items():
                text = opt.get("description")
                text = " ".join(text) if isinstance(text, list) else text
                assert text, "%s %s: %s has no description" % (spec_file.parent.parent.name, entry, name)
                # one option in two entry points (postfix_lock's main and release) may say the same
                seen.setdefault(" ".join(text.split()), set()).add(name)
    shared = {text: names for text, names in seen.items() if len(names) > 1}
    assert shared == {}, shared


# ------------------------------------------------------------------ 7. the built collection

def test_the_collection_ships_no_repository_tool(tmp_path):
    """`make collection` into a scratch directory (the real target; -o venv: no pip here): the
    docs ship, the script that renders them from module_utils/ (not in a collection) does not, and
    the only Python outside plugins/ is what a role copies to hosts (roles/*/files/)."""
    proc = _run(["make", "-s", "--no-print-directory", "-o", "venv", "collection",
                 "COLLECTION_DIR=%s" % (tmp_path / "build"), "DIST=%s" % (tmp_path / "dist")])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    tarballs = list((tmp_path / "dist").glob("postfix_remedy-toolkit-*.tar.gz"))
    assert len(tarballs) == 1, tarballs
    with tarfile.open(tarballs[0]) as tar:
        names = set(tar.getnames())
    assert "docs/faults.md" in names and "plugins/module_utils/fault_catalog.py" in names
    stray = sorted(n for n in names if n.endswith(".py") and not n.startswith("plugins/")
                   and not re.match(r"roles/[^/]+/files/", n))
    assert stray == [], "repository tools in the collection: %s" % stray


# ------------------------------------------------------------------ 8. the HTML report

def _iso(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def _tls_pair(days_left):
    f = dict(exists=True, owner="root", group="root")
    return dict(role="smtpd", cert=dict(f, path="/etc/ssl/certs/mx.pem", mode="0644"),
                key=dict(f, path="/etc/ssl/private/mx.key", mode="0600"), days_left=days_left, not_after=None)


def _result(findings, log):
    return dict(changed=False, check_mode=False, ids=sorted({f["id"] for f in findings}), findings=findings,
                postconf_n={}, queue=dict(total=0, counts={}), log=log, probes={}, bounces=[], errors=[],
                invocation={"module_args": {}})


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """A fleet built by postfix_report from postfix_diagnose-shaped results (the findings made by
    the diagnosis rules themselves), then rendered with the role's templates."""
    from ansible.module_utils import diagnose_rules as rules
    from ansible.module_utils.fault_catalog import make_finding

    d = tmp_path_factory.mktemp("reports")
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    # A stale index logged before the live check passed: historical (advisory, info), an auto ID.
    logged = make_finding("maps.stale_db", "2 log line(s)", evidence=dict(count=2, first=_iso(now), last=_iso(now)),
                          source="log")
    historical = rules.merge_log([], [logged], live_checks={"probes"})
    assert historical[0]["historical"] and historical[0]["class"] == "advisory"
    expired = rules._tls_findings(_tls_pair(-3), {"cert_days": 21})    # critical (the catalog says high)
    expiring = rules._tls_findings(_tls_pair(10), {"cert_days": 21})   # high
    file_log = dict(source="file", files=[dict(path="/var/log/mail.log", mode="full")], lines=120, read=True)
    journal_log = dict(source="journal", files=[], lines=5, read=True,
                       journal=dict(source="journal", directory=None, mode="full", identifiers=["postfix/smtpd"]))
    results = {"mx-hist": _result(historical + expired, file_log), "mx-tls": _result(expiring, file_log),
               "mx-journal": _result([], journal_log)}
    # mx-tls was remediated yesterday: its record predates today's diagnosis
    record = dict(host="mx-tls", generated_at=_iso(now - datetime.timedelta(days=1)), check_mode=False,
                  selected=["config.soft_bounce_on"], changes=[], postfix_action="reload", backup=None,
                  rolled_back=False, failure=None, queue_failure=None, still_present=[], ids_after=[])
    templates = ROOT / "roles" / "postfix_report" / "templates"
    r = run_module("postfix_report", dict(directory=str(d), host_reports={"mx-tls": record},
                                          host_report_suffix=".remediation.json", render=False))
    assert not r.get("failed"), r
    r = run_module("postfix_report", dict(directory=str(d), host_results=results, hosts=sorted(results),
                                          html_template=str(templates / "report.html.j2"),
                                          markdown_template=str(templates / "summary.md.j2")))
    assert not r.get("failed"), r
    return dict(html=(d / "index.html").read_text(), md=(d / "summary.md").read_text(), record=record,
                model=json.loads((d / "fleet.json").read_text()))


def _tables(html):
    from test_report import parse
    return parse(html).tables


def _table(html, first_header):
    return next(t for t in _tables(html) if t and t[0][0] == first_header)


def _sections(html):
    """{host: its "Hosts in detail" section}."""
    return dict(re.findall(r'<section class="host" id="host-([^"]+)">(.*?)</section>', html, re.S))


def _cards(section):
    """[(fault ID, severity)] of a host section's finding cards."""
    return re.findall(r'<h4><code>([^<]+)</code> <span class="badge sev-[^"]+">([^<]+)</span>', section)


def test_grid_and_tallies_agree_on_class(report):
    grid = _table(report["html"], "Fault ID")
    row = next(r for r in grid if r[0].startswith("maps.stale_db"))
    assert row[2] == "advisory", row  # as the finding says (historical), not the catalog's auto
    tally = {r[0]: int(r[1]) for r in _table(report["html"], "Class")[1:] if r[0]}
    shown = {c.strip() for r in grid[2:] for c in r[2].split(",")}
    assert shown == {c for c, n in tally.items() if n}, (shown, tally)


def test_grid_and_cards_agree_on_severity(report):
    grid = _table(report["html"], "Fault ID")
    sections = _sections(report["html"])
    for r in grid[2:]:
        fid = r[0].split()[0]
        on_cards = {sev for s in sections.values() for cid, sev in _cards(s) if cid == fid}
        assert set(r[1].split()) == on_cards, (fid, r[1], on_cards)
    row = next(r for r in grid if r[0].startswith("tls.cert_expiry"))
    assert row[1].split() == ["critical", "high"]  # the expired certificate first
    md_row = next(ln for ln in report["md"].splitlines() if ln.startswith("| `tls.cert_expiry`"))
    assert "| critical, high | advisory |" in md_row, md_row


def test_a_journal_host_says_it_read_the_journal(report):
    sections = _sections(report["html"])
    journal = " ".join(sections["mx-journal"].split())
    assert "Log: 5 line(s) read from the systemd journal;" in journal, journal[:400]
    assert "Log: 120 line(s) read from /var/log/mail.log;" in " ".join(sections["mx-tls"].split())
    assert not re.search(r"read from\s*;", report["html"])


def test_an_earlier_remediation_record_is_not_not_run(report):
    hosts = _table(report["html"], "Host")
    col = hosts[0].index("Remediation")
    cells = {r[0]: r[col] for r in hosts[1:]}
    assert cells["mx-tls"] == "last run %s, before this diagnosis" % report["record"]["generated_at"], cells
    assert cells["mx-journal"] == "not run"  # no record at all
    tls = next(v for v in report["model"]["hosts"] if v["host"] == "mx-tls")
    assert tls["remediation"] is None and tls["previous_remediation"]["generated_at"] == report["record"]["generated_at"]
    assert "Remediation: none since this diagnosis (last run %s)." % report["record"]["generated_at"] in report["md"]
