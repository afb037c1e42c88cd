# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""library/postconf.py against real postconf(1) on scratch config directories."""
from __future__ import annotations

import pytest
from conftest import needs_postfix, run_module, sh, sha

pytestmark = needs_postfix


def pc(d, *args):
    return sh("postconf", "-c", str(d), *args).stdout.strip()


def test_set_is_idempotent_and_reports_reload(postfix_dir):
    args = {"config_dir": str(postfix_dir), "parameters": {"relayhost": "[smtp.lab.test]:587", "message_size_limit": 20480000}}
    first = run_module("postconf", args)
    assert first["changed"] and first["needs"] == "reload", first
    assert pc(postfix_dir, "-h", "relayhost") == "[smtp.lab.test]:587"
    assert first["values"]["message_size_limit"] == "20480000"
    second = run_module("postconf", args)
    assert not second["changed"] and second["needs"] == "none" and second["commands"] == []


def test_lists_compare_by_tokens_not_text(postfix_dir):
    sh("postconf", "-c", str(postfix_dir), "-e", "mynetworks=127.0.0.0/8,[::1]/128   10.1.0.0/16")
    res = run_module("postconf", {"config_dir": str(postfix_dir), "parameters": {"mynetworks": ["127.0.0.0/8", "[::1]/128", "10.1.0.0/16"]}})
    assert not res["changed"], res


def test_default_value_is_not_pinned(postfix_dir):
    default = pc(postfix_dir, "-d", "-h", "smtpd_helo_required")
    res = run_module("postconf", {"config_dir": str(postfix_dir), "parameters": {"smtpd_helo_required": default}})
    assert not res["changed"]
    assert "smtpd_helo_required" not in pc(postfix_dir, "-n")


def test_check_mode_writes_nothing_and_diff_is_exact(postfix_dir):
    before = sha(postfix_dir / "main.cf"), sha(postfix_dir / "master.cf")
    res = run_module("postconf", {"config_dir": str(postfix_dir), "parameters": {"soft_bounce": True},
                                  "services": [{"service": "smtp/inet", "args_present": ["-v"]}]}, check=True, diff=True)
    assert res["changed"] and len(res["changes"]) == 2
    assert (sha(postfix_dir / "main.cf"), sha(postfix_dir / "master.cf")) == before
    after_main = [d for d in res["diff"] if d["after_header"].endswith("main.cf")][0]["after"]
    assert "soft_bounce = yes" in after_main
    after_master = [d for d in res["diff"] if d["after_header"].endswith("master.cf")][0]["after"]
    assert any(line.startswith("smtp ") and line.rstrip().endswith("smtpd -v") for line in after_master.splitlines())
    # the real run writes exactly what the diff showed
    real = run_module("postconf", {"config_dir": str(postfix_dir), "parameters": {"soft_bounce": True},
                                   "services": [{"service": "smtp/inet", "args_present": ["-v"]}]})
    assert real["changed"]
    assert (postfix_dir / "main.cf").read_text() == after_main


def test_list_add_remove_keeps_order_and_avoids_dead_items(postfix_dir):
    d = str(postfix_dir)
    res = run_module("postconf", {"config_dir": d, "list_add": {
        "smtpd_relay_restrictions": ["reject_unauth_destination", "permit_mynetworks"],
        "smtpd_recipient_restrictions": ["check_recipient_access hash:/etc/postfix/rcpt"]},
        "list_remove": {"smtpd_relay_restrictions": ["permit_sasl_authenticated"]}})
    assert res["changed"], res
    assert pc(postfix_dir, "-h", "smtpd_relay_restrictions") == \
        "permit_mynetworks, defer_unauth_destination, reject_unauth_destination"
    assert "check_recipient_access hash:/etc/postfix/rcpt" in pc(postfix_dir, "-h", "smtpd_recipient_restrictions")
    sh("postconf", "-c", d, "-e", "smtpd_client_restrictions=permit_mynetworks, permit")
    run_module("postconf", {"config_dir": d, "list_add": {"smtpd_client_restrictions": ["reject_unknown_client_hostname"]}})
    assert pc(postfix_dir, "-h", "smtpd_client_restrictions") == "permit_mynetworks, reject_unknown_client_hostname, permit"
    again = run_module("postconf", {"config_dir": d, "list_add": {"smtpd_client_restrictions": ["reject_unknown_client_hostname"]}})
    assert not again["changed"]


def test_absent_and_commented(postfix_dir):
    d = str(postfix_dir)
    sh("postconf", "-c", d, "-e", "soft_bounce=yes", "debug_peer_level=3")
    res = run_module("postconf", {"config_dir": d, "absent": ["soft_bounce", "relayhost"], "commented": ["debug_peer_level"]})
    assert res["changed"] and len(res["changes"]) == 2
    text = (postfix_dir / "main.cf").read_text()
    assert "soft_bounce" not in text and "#debug_peer_level = 3" in text
    assert not run_module("postconf", {"config_dir": d, "absent": ["soft_bounce"], "commented": ["debug_peer_level"]})["changed"]


def test_master_params_fields_and_removal(postfix_dir):
    d = str(postfix_dir)
    spec = [{"service": "relay/unix", "params": {"smtp_bind_address": "127.0.0.2"}},
            {"service": "smtp/inet", "fields": {"process_limit": 50}},
            {"service": "lab-out/unix", "entry": "- - n - - smtp"}]
    res = run_module("postconf", {"config_dir": d, "services": spec})
    assert res["changed"] and res["needs"] == "reload", res
    assert pc(postfix_dir, "-P", "relay/unix/smtp_bind_address") == "relay/unix/smtp_bind_address = 127.0.0.2"
    assert pc(postfix_dir, "-F", "smtp/inet/process_limit") == "smtp/inet/process_limit = 50"
    assert "lab-out/unix" in res["services"]
    assert not run_module("postconf", {"config_dir": d, "services": spec})["changed"]
    gone = run_module("postconf", {"config_dir": d, "services": [{"service": "lab-out/unix", "state": "absent"},
                                                                  {"service": "relay/unix", "params_absent": ["smtp_bind_address"]}]})
    assert gone["changed"] and "lab-out/unix" not in gone["services"]
    assert "smtp_bind_address" not in pc(postfix_dir, "-P")


def test_inet_interfaces_needs_restart(postfix_dir):
    res = run_module("postconf", {"config_dir": str(postfix_dir), "parameters": {"inet_interfaces": "127.0.0.1"}})
    assert res["needs"] == "restart"


@pytest.mark.parametrize("args, message", [
    ({"parameters": {"relay_host": "x"}}, "did you mean 'relayhost'"),
    ({"parameters": {"myhostname": "a\nb"}}, "newline"),
    ({"parameters": {"smtpd_banner": "${myhostname ESMTP"}}, "unbalanced braces"),
    ({"parameters": {"bad name": "x"}}, "invalid parameter name"),
    ({"services": [{"service": "smtp", "fields": {"chroot": "n"}}]}, "NAME/TYPE"),
    ({"services": [{"service": "nosuch/unix", "fields": {"chroot": "n"}}]}, "not in master.cf"),
    ({"services": [{"service": "smtp/inet", "fields": {"colour": "n"}}]}, "unknown master.cf field"),
    ({"list_add": {"mynetworks": "10.0.0.0/8"}}, "must be a list"),
])
def test_bad_input_fails_without_writing(postfix_dir, args, message):
    before = sha(postfix_dir / "main.cf"), sha(postfix_dir / "master.cf")
    res = run_module("postconf", dict(args, config_dir=str(postfix_dir)))
    assert res.get("failed") and message in res["msg"], res
    assert (sha(postfix_dir / "main.cf"), sha(postfix_dir / "master.cf")) == before


def test_allow_unknown_for_user_variables(postfix_dir):
    res = run_module("postconf", {"config_dir": str(postfix_dir), "parameters": {"mua_client_restrictions": "permit_sasl_authenticated, reject"},
                                  "allow_unknown": True})
    assert res["changed"]


def test_failed_validation_rolls_back(postfix_dir):
    before = (postfix_dir / "main.cf").read_text()
    res = run_module("postconf", {"config_dir": str(postfix_dir), "parameters": {"queue_directory": "/nonexistent/queue"}})
    assert res.get("failed") and res.get("rolled_back") and "postfix check failed" in res["msg"], res
    assert "/nonexistent" in res["msg"]
    assert (postfix_dir / "main.cf").read_text() == before


def test_backup_files(postfix_dir):
    res = run_module("postconf", {"config_dir": str(postfix_dir), "parameters": {"delay_warning_time": "4h"}, "backup": True})
    assert len(res["backup_files"]) == 2
    for path in res["backup_files"]:
        assert "delay_warning_time" not in open(path).read()


def test_bad_config_dir():
    res = run_module("postconf", {"config_dir": "/nonexistent/postfix", "parameters": {"relayhost": ""}})
    assert res.get("failed") and "no main.cf" in res["msg"]
    res = run_module("postconf", {"config_dir": "/etc/postfix/../x;rm", "parameters": {"relayhost": ""}})
    assert res.get("failed") and "config_dir" in res["msg"]


def test_absent_removes_a_misspelt_parameter(postfix_dir):
    """postconf -n leaves out names Postfix does not know; removal must still find them."""
    with open(postfix_dir / "main.cf", "a") as fh:
        fh.write("smtpd_recipient_restriction = permit_mynetworks,\n    reject_unauth_destination\n")
    assert "smtpd_recipient_restriction" not in pc(postfix_dir, "-n")
    dry = run_module("postconf", dict(config_dir=str(postfix_dir), absent=["smtpd_recipient_restriction"]), check=True)
    assert dry["changed"] and "smtpd_recipient_restriction" in (postfix_dir / "main.cf").read_text()
    res = run_module("postconf", dict(config_dir=str(postfix_dir), absent=["smtpd_recipient_restriction"]))
    assert res["changed"] and "smtpd_recipient_restriction" not in (postfix_dir / "main.cf").read_text()
    assert "reject_unauth_destination" not in (postfix_dir / "main.cf").read_text().split("smtpd_relay_restrictions")[0]
    again = run_module("postconf", dict(config_dir=str(postfix_dir), absent=["smtpd_recipient_restriction"]))
    assert again["changed"] is False


def test_disk_full_half_way_restores_both_files(postfix_dir, tmp_path):
    """A real ENOSPC: the config directory is a small tmpfs with almost no room. An edit of
    main.cf and master.cf fails part way; both files end exactly as they were."""
    import os
    import shutil
    import subprocess

    small = tmp_path / "etc"
    small.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(small)], check=False).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        for f in os.listdir(postfix_dir):
            if os.path.isfile(postfix_dir / f):
                shutil.copy2(postfix_dir / f, small / f)
        before = {f: sha(small / f) for f in ("main.cf", "master.cf")}
        free = os.statvfs(small).f_bavail * os.statvfs(small).f_frsize
        # leave room (whole pages) for postconf's new main.cf, not for its bigger new master.cf
        pages = -(-os.path.getsize(small / "main.cf") // 4096)
        assert os.path.getsize(small / "master.cf") > pages * 4096
        (small / "filler").write_bytes(b"x" * (free - pages * 4096))
        res = run_module("postconf", {"config_dir": str(small), "parameters": {"delay_warning_time": "4h"},
                                      "services": [{"service": "relay/unix", "params": {"smtp_helo_timeout": "77s"}}]})
        assert res.get("failed"), res
        assert {f: sha(small / f) for f in ("main.cf", "master.cf")} == before  # nothing half-applied
        assert "No space left" in res["msg"] and "restored" in res["msg"], res["msg"]
    finally:
        subprocess.run(["umount", str(small)], check=False)
