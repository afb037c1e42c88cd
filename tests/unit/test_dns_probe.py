# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The stdlib DNS client against in-test responders on loopback."""
from __future__ import annotations

import pytest
from ansible.module_utils import dns_probe
from fixtures.dns_responder import Responder

ADDR = "127.88.0.3"


@pytest.fixture
def server():
    r = Responder(ADDR, {("lab.test", "MX"): [(10, "mx1.lab.test"), (20, "mx2.lab.test")],
                         ("lab.test", "TXT"): ["v=spf1 " + "ip4:192.0.2.1 " * 30 + "-all"],
                         ("mx1.lab.test", "A"): ["127.0.0.1"]})
    yield r
    r.close()


def test_answers_and_long_txt(server):
    res = dns_probe.query(ADDR, "lab.test", "MX", timeout=1)
    assert res["ok"] and res["rcode"] == "NOERROR"
    assert sorted(v for t, v in res["answers"] if t == "MX") == [(10, "mx1.lab.test"), (20, "mx2.lab.test")]
    txt, rcode = dns_probe.Resolver([ADDR], timeout=1).lookup("lab.test", "TXT")
    assert rcode == "NOERROR" and txt[0].startswith("v=spf1") and len(txt[0]) > 255  # split strings joined


def test_nxdomain_is_an_answer(server):
    res = dns_probe.query(ADDR, "nothing.lab.test", "A", timeout=1)
    assert res["ok"] and res["rcode"] == "NXDOMAIN" and res["answers"] == []


def test_silent_server_times_out():
    silent = Responder("127.88.0.4", mode="silent")
    try:
        res = dns_probe.query("127.88.0.4", "lab.test", "A", timeout=0.3)
        assert not res["ok"] and "no answer" in res["error"] and silent.queries == 1
    finally:
        silent.close()


def test_closed_port_is_not_an_answer():
    res = dns_probe.query("127.88.0.5", "lab.test", "A", timeout=0.5)
    assert not res["ok"] and res["error"]


def test_resolver_falls_through_to_a_live_server(server):
    values, rcode = dns_probe.Resolver(["127.88.0.6", ADDR], timeout=0.3).lookup("mx1.lab.test", "A")
    assert values == ["127.0.0.1"] and rcode == "NOERROR"


@pytest.mark.parametrize("name", ["a" * 64 + ".lab.test", "bad..name", "x" * 300])
def test_bad_names_are_errors_not_exceptions(name):
    res = dns_probe.query(ADDR, name, "A", timeout=0.2)
    assert not res["ok"] and "bad query name" in res["error"]


def test_resolv_conf_parsing():
    servers, options = dns_probe.parse_resolv_conf(
        "# comment\nnameserver 10.255.255.53\nnameserver fe80::1%eth0\nnameserver not-an-ip\n"
        "options timeout:1 attempts:2 rotate\nsearch lab.test\n")
    assert servers == ["10.255.255.53", "fe80::1"]
    assert options == {"timeout": "1", "attempts": "2", "rotate": True}
    assert dns_probe.ptr_name("192.0.2.10") == "10.2.0.192.in-addr.arpa"


def test_queries_carry_edns0(server):
    dns_probe.query(ADDR, "lab.test", "TXT", timeout=1)
    assert server.edns == [True]


def test_truncated_answer_is_asked_again_over_tcp():
    big = "v=spf1 " + "ip4:192.0.2.1 " * 120 + "-all"  # well over 512 bytes
    r = Responder("127.88.0.7", {("big.lab.test", "TXT"): [big]}, mode="truncate")
    try:
        res = dns_probe.query("127.88.0.7", "big.lab.test", "TXT", timeout=1)
        assert res["ok"] and res["via"] == "tcp" and r.tcp_queries == 1
        assert [v for t, v in res["answers"] if t == "TXT"] == [big]
    finally:
        r.close()


def test_servfail_is_a_failed_lookup_not_a_missing_record(server):
    broken = Responder("127.88.0.8", mode="servfail")
    try:
        values, rcode = dns_probe.Resolver(["127.88.0.8"], timeout=0.5).lookup("lab.test", "TXT")
        assert values is None and rcode == "SERVFAIL"  # not [] ("no record")
        # a later server that answers is asked
        values, rcode = dns_probe.Resolver(["127.88.0.8", ADDR], timeout=0.5).lookup("lab.test", "TXT")
        assert rcode == "NOERROR" and values[0].startswith("v=spf1")
    finally:
        broken.close()
