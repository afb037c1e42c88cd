# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Credentials in configuration never appear in what the postconf module returns (diff,
settings, values, invocation), as Ansible would print it; map paths stay visible."""
from __future__ import annotations

import pytest
from conftest import needs_postfix, run_module, sh

pytestmark = needs_postfix
SECRET = "Pl4ntedS3cretValue"


@pytest.fixture
def with_inline_password(postfix_dir):
    sh("postconf", "-c", str(postfix_dir), "-e", "smtp_sasl_password_maps = static:relayuser:%s" % SECRET)
    sh("postconf", "-c", str(postfix_dir), "-M", "-e",
       "relay/unix=relay unix - - n - - smtp -o smtp_sasl_password_maps=inline:{[r.lab.test]=u:%s2}" % SECRET)
    return postfix_dir


def test_diff_of_an_unrelated_change_hides_the_password(with_inline_password):
    d = with_inline_password
    for check in (True, False):
        res = run_module("postconf", {"config_dir": str(d), "parameters": {"delay_warning_time": "%dh" % (4 + check)}},
                         check=check, diff=True)
        assert res["changed"] and res["diff"], res
        assert SECRET not in repr(res)
        assert "********" in repr(res["diff"])  # Ansible's mask where the value was
    assert SECRET in (d / "main.cf").read_text() and SECRET + "2" in (d / "master.cf").read_text()


def test_setting_the_password_itself_hides_it_everywhere(postfix_dir):
    new = "static:relayuser:" + SECRET + "New"
    res = run_module("postconf", {"config_dir": str(postfix_dir), "parameters": {"smtp_sasl_password_maps": new}},
                     diff=True)
    assert res["changed"] and SECRET not in repr(res)
    assert sh("postconf", "-c", str(postfix_dir), "-h", "smtp_sasl_password_maps").stdout.strip() == new


def test_map_paths_are_not_secrets(postfix_dir):
    res = run_module("postconf", {"config_dir": str(postfix_dir),
                                  "parameters": {"smtp_sasl_password_maps": "hash:/etc/postfix/sasl_passwd"}}, diff=True)
    assert res["values"]["smtp_sasl_password_maps"] == "hash:/etc/postfix/sasl_passwd"


def test_secret_parameters_are_no_log_and_applied(postfix_dir):
    value = "static:relayuser:" + SECRET
    res = run_module("postconf", {"config_dir": str(postfix_dir), "secret_parameters": {"smtp_sasl_password_maps": value},
                                  "parameters": {"smtp_sasl_auth_enable": True}}, diff=True)
    assert res["changed"] and SECRET not in repr(res)
    assert res["invocation"]["module_args"]["secret_parameters"] == {"smtp_sasl_password_maps": "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"}
    assert sh("postconf", "-c", str(postfix_dir), "-h", "smtp_sasl_password_maps").stdout.strip() == value
    again = run_module("postconf", {"config_dir": str(postfix_dir), "secret_parameters": {"smtp_sasl_password_maps": value}})
    assert not again["changed"]
    both = run_module("postconf", {"config_dir": str(postfix_dir), "secret_parameters": {"smtp_sasl_password_maps": value},
                                   "parameters": {"smtp_sasl_password_maps": "hash:/etc/postfix/x"}})
    assert both.get("failed") and "both" in both["msg"]

