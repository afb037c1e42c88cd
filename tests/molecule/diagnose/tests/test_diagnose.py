# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The diagnose scenario: each host's report names exactly the faults injected into it.

Reports come from the converge run (reports/real) and from `ansible-playbook --check
playbooks/diagnose.yml`, run here against the same hosts exactly as an admin would (reports/check).
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from lab_run import check_run

EXPECTED = {
    "diag-ok": set(),
    "diag-dns": {"dns.resolver_dead", "queue.deferred_backlog"},
    "diag-cfg": {"config.soft_bounce_on", "config.debug_left_on", "config.mailbox_lt_message",
                 "config.unused_parameter", "relay.open_relay", "config.change_window_expired",
                 "config.invalid_setting", "service.daemon_failure", "maps.lookup_failed", "queue.write_error"},
    "diag-files": {"maps.stale_db", "maps.missing_db", "tls.cert_unreadable", "queue.corrupt_files",
                   "service.chroot_incomplete", "net.port25_blocked", "dns.mx_connect_timeout",
                   "timeout.mx_rotation", "dns.name_service_error"},
    # another process holds port 25 while master is down: the holder is the root cause
    "diag-down": {"service.not_running", "service.port_in_use"},
    "diag-records": {"tls.cert_expiry", "auth.spf_permerror", "auth.dmarc_missing", "sasl.saslauthd_down",
                     "dns.ptr_mismatch", "sasl.auth_failed", "smtp.illegal_address", "auth.dkim_fail",
                     "bounce.dsn", "delivery.unknown_user"},
}


EPHEMERAL = Path(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "/nonexistent"))


@pytest.fixture(scope="module")
def dry_run():
    """ansible-playbook --check --diff playbooks/diagnose.yml on the scenario's hosts, each host
    fingerprinted before and after (lab_run.check_run)."""
    if not os.environ.get("MOLECULE_INVENTORY_FILE"):
        pytest.skip("not run by Molecule")
    rc, out, _recap, changes = check_run("diagnose", "check", sorted(EXPECTED))
    assert rc == 0, out[-5000:]
    return out, changes


def test_check_run_changes_nothing(dry_run):
    assert dry_run[1] == {}, dry_run[1]


# Symptoms that appear only once the smtp client has logged a failed lookup (timing-dependent);
# when present they must be attributed to the root cause.
SYMPTOMS = {"diag-dns": {"dns.name_service_error"}}


def report(kind, name):
    base = EPHEMERAL / "reports" / kind
    path = base / (name + ".json")
    if not path.exists():
        pytest.skip("no report at %s (not run by Molecule?)" % path)
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    return json.loads(path.read_text())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_report_names_exactly_the_injected_faults(name):
    rep = report("real", name)
    extra = set(rep["ids"]) - EXPECTED[name]
    assert EXPECTED[name] <= set(rep["ids"]) and extra <= SYMPTOMS.get(name, set()), \
        [(f["id"], f["summary"]) for f in rep["findings"]]
    for f in rep["findings"]:
        if f["id"] in extra:
            assert f["root_cause"] == "dns.resolver_dead" and f["class"] == "advisory"
    assert rep["host"] == name and rep["postconf_n"]["myhostname"].endswith(".lab.test")
    assert "counts" in rep["queue"] and rep["errors"] == []
    for f in rep["findings"]:
        assert f["class"] in ("auto", "opt-in", "advisory") and f["summary"] and f["fix"]["steps"]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_check_mode_report_is_the_same(name, dry_run):
    assert "%s: " % name in dry_run[0]  # the one-line summary is printed
    real, dry = report("real", name), report("check", name)
    assert dry["check_mode"] is True and real["check_mode"] is False
    assert dry["ids"] == real["ids"]


def test_dead_resolver_fix_and_correlation():
    rep = report("real", "diag-dns")
    dead = next(f for f in rep["findings"] if f["id"] == "dns.resolver_dead")
    assert rep["findings"][0]["id"] == "dns.resolver_dead"  # the root cause comes first
    assert dead["fix"]["remove_nameservers"] == ["127.0.0.53"] and dead["fix"]["keep_nameservers"] == ["127.0.0.1"]
    assert dead["evidence"]["first_is_dead"] is True and "queue.deferred_backlog" in dead["explains"]
    backlog = next(f for f in rep["findings"] if f["id"] == "queue.deferred_backlog")
    assert backlog["root_cause"] == "dns.resolver_dead"
    assert rep["queue"]["counts"]["deferred"] >= 5
    assert rep["queue"]["qshape"]["domains"][0]["domain"] == "remote.test"


def test_file_findings_name_the_files():
    rep = report("real", "diag-files")
    by_id = {f["id"]: f for f in rep["findings"]}
    assert by_id["maps.stale_db"]["fix"]["postmap"][0].endswith(":/etc/postfix/virtual")
    assert by_id["maps.missing_db"]["fix"]["postmap"][0].endswith(":/etc/postfix/sender_access")
    assert by_id["tls.cert_unreadable"]["fix"]["files"] == {"/etc/ssl/private/lab-smtpd.key": {"owner": "root", "mode": "0600"}}
    assert rep["queue"]["counts"]["corrupt"] == 1


def test_unused_parameter_suggests_the_real_name():
    rep = report("real", "diag-cfg")
    f = next(f for f in rep["findings"] if f["id"] == "config.unused_parameter")
    assert f["evidence"]["parameters"][0]["closest"] == "smtpd_recipient_restrictions"


def test_healthy_host_was_really_checked():
    rep = report("real", "diag-ok")
    assert rep["probes"]["master"]["running"] is True
    assert rep["probes"]["dns"]["ptr"]["match"] is True
    assert rep["probes"]["tls"] and rep["probes"]["tables"]


def test_port_holder_is_named_when_master_is_down():
    """Postfix 3.10 logs nothing when another process holds port 25; the diagnosis names it from
    /proc and does not offer a start that would fail."""
    f = next(f for f in report("real", "diag-down")["findings"] if f["id"] == "service.not_running")
    assert "port 25 (smtp) is held by python3" in f["summary"], f["summary"]
    assert f["fix"]["can_fix"] is False
    assert f["evidence"]["port_holders"][0]["address"] == "127.0.0.1"
    assert f["root_cause"] == "service.port_in_use"


def test_chroot_finding_names_the_missing_files():
    rep = report("real", "diag-files")
    f = next(f for f in rep["findings"] if f["id"] == "service.chroot_incomplete")
    assert "etc/services missing" in f["summary"] and "etc/hosts missing" in f["summary"]
    # before 3.6 a missing services file kills every chrooted smtp; 3.6+ has known_tcp_ports
    version = rep["probes"]["mail_version"]
    assert (f["severity"] == "critical") == version.startswith("3.5."), (version, f["severity"])
