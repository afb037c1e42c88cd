# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""library/postmap.py edits only lookup table files, and only rules Postfix takes.

Database client configurations (mysql, ldap... hold the password) and the specs of other types
are never written, diffed nor quoted; cidr/pcre/regexp rules that Postfix would skip are refused
before the table is written. Real postmap/postconf throughout."""
from __future__ import annotations

import json
import tempfile

import pytest
from ansible.module_utils import postfix_maps as pm
from conftest import needs_postfix, run_module, sh

pytestmark = needs_postfix

PASSWORD = "Hunter2-s3cret"
CLIENT_CF = ("# lab database client\nhosts = db.lab.test\nuser = postfix\npassword = %s\n"
             "dbname = mail\nquery = SELECT goto FROM alias WHERE address='%%s'\n" % PASSWORD).encode()
NOT_TABLES = sorted(set(pm.NON_INDEXED) - pm.EDITABLE)
EDIT_OPTIONS = {"entries": {"k@lab.test": "OK"}, "secret_entries": {"k@lab.test": "OK"},
                "absent_keys": ["user"], "exclusive": True}


def supported():
    return sh("postconf", "-m").stdout.split()


def assert_untouched(res, cf, before):
    assert cf.read_bytes() == before
    assert "diff" not in res
    shown = json.dumps(res)
    assert PASSWORD not in shown and "SELECT" not in shown and "db.lab.test" not in shown, shown


@pytest.mark.parametrize("map_type", NOT_TABLES)
def test_entries_never_touch_what_is_not_a_table(tmp_path, postfix_dir, map_type):
    cf = tmp_path / ("%s.cf" % map_type)
    cf.write_bytes(CLIENT_CF)
    for check in (False, True):
        res = run_module("postmap", {"path": str(cf), "type": map_type, "config_dir": str(postfix_dir),
                                     "entries": {"k@lab.test": "OK"}}, check=check, diff=True)
        assert res.get("failed") and "entries refused for type %s" % map_type in res["msg"], res
        assert "not a lookup table file" in res["msg"] and "neither read nor changed" in res["msg"]
        assert_untouched(res, cf, CLIENT_CF)


@pytest.mark.parametrize("option", sorted(EDIT_OPTIONS))
@pytest.mark.parametrize("map_type", ["mysql", "ldap", "unionmap", "static"])
def test_every_edit_option_is_refused(tmp_path, map_type, option):
    cf = tmp_path / "client.cf"
    cf.write_bytes(CLIENT_CF)
    res = run_module("postmap", {"path": str(cf), "type": map_type, option: EDIT_OPTIONS[option]}, diff=True)
    assert res.get("failed") and res["msg"].startswith("%s refused for type %s" % (option, map_type)), res
    if map_type in ("mysql", "ldap"):
        assert "database client configuration, which holds its password" in res["msg"]
    assert_untouched(res, cf, CLIENT_CF)


def test_type_this_postfix_lacks_is_refused(tmp_path, postfix_dir):
    have = sh("postconf", "-c", str(postfix_dir), "-m").stdout.split()
    missing = sorted(pm.EDITABLE - set(have))
    if not missing:
        pytest.skip("this Postfix supports every editable type")
    src = tmp_path / "virtual"
    src.write_bytes(b"a@lab.test\troot\n")
    for map_type in missing:
        res = run_module("postmap", {"path": str(src), "type": map_type, "config_dir": str(postfix_dir),
                                     "entries": {"b@lab.test": "root"}}, diff=True)
        assert res.get("failed") and "entries refused for type %s" % map_type in res["msg"], res
        assert "does not support it (postconf -m lists " in res["msg"] and "hash" in res["msg"]
        assert src.read_bytes() == b"a@lab.test\troot\n" and "diff" not in res
        assert sorted(p.name for p in tmp_path.iterdir()) == ["virtual"]


def test_query_error_never_quotes_a_client_configuration(tmp_path):
    """Postfix quotes a client configuration's lines in its errors: they are masked."""
    if "memcache" not in supported():
        pytest.skip("no memcache client in this Postfix")
    cf = tmp_path / "memcache.cf"
    # an unparsable line: Postfix stops at open (no connection) and prints the whole line
    data = b"# cache\nkey_format = %%s\npassword %s\n" % PASSWORD.encode()
    cf.write_bytes(data)
    raw = sh("postmap", "-q", "k", "memcache:%s" % cf, check=False)
    assert raw.returncode != 0 and PASSWORD in raw.stderr  # what Postfix itself prints
    res = run_module("postmap", {"path": str(cf), "type": "memcache", "query": ["k"]})
    assert res.get("failed") and "postmap -q k memcache:%s failed" % cf in res["msg"], res
    assert "missing '='" in res["msg"] and "********" in res["msg"]
    assert PASSWORD not in json.dumps(res) and cf.read_bytes() == data


def test_query_of_a_broken_table_fails_with_postmap_words(tmp_path):
    """postmap -q exits 1 for "not found" and for a fatal error: the error is not a null answer."""
    src = tmp_path / "virtual"
    src.write_text("a@lab.test\troot\n")
    assert run_module("postmap", {"path": str(src), "type": "lmdb"})["rebuilt"]
    (tmp_path / "virtual.lmdb").write_bytes(b"not an index")  # newer than the source: not rebuilt
    res = run_module("postmap", {"path": str(src), "type": "lmdb", "query": ["a@lab.test"]})
    assert res.get("failed") and res["msg"].startswith("postmap -q a@lab.test lmdb:%s failed: " % src), res
    assert "open database %s.lmdb" % src in res["msg"] and not res["changed"]


def test_check_mode_query_before_the_first_build(tmp_path):
    src = tmp_path / "virtual"
    src.write_text("a@lab.test\troot\n")
    res = run_module("postmap", {"path": str(src), "type": "lmdb", "query": ["a@lab.test"]}, check=True)
    assert res["rebuilt"] and res["query"] == {"a@lab.test": None} and not res.get("failed"), res
    assert sorted(p.name for p in tmp_path.iterdir()) == ["virtual"]


@pytest.mark.parametrize("map_type", ["texthash", "cidr", "pcre", "regexp"])
def test_file_tables_are_edited(tmp_path, map_type):
    if map_type not in supported():
        pytest.skip("%s not supported here" % map_type)
    key = {"texthash": "a@lab.test", "cidr": "[2001:db8::]/32", "pcre": "/(?<n>x)\\k<n>/", "regexp": "/^b@lab/"}[map_type]
    probe = {"texthash": "a@lab.test", "cidr": "2001:db8::1", "pcre": "xx", "regexp": "b@lab.test"}[map_type]
    src = tmp_path / "table"
    args = {"path": str(src), "type": map_type, "create": True, "entries": {key: "REJECT"}, "query": [probe]}
    res = run_module("postmap", args, diff=True)
    assert res["changed"] and res["entry_changes"] == ["add %s" % key] and res["query"] == {probe: "REJECT"}, res
    assert src.read_text() == "%s\tREJECT\n" % key and res["diff"]["after"] == src.read_text()
    assert not run_module("postmap", args)["changed"]


BAD_RULES = [
    ("cidr", "10.0.0.0/33", "prefix /33 is longer than the 32 bits of an IPv4 address"),
    ("cidr", "10.0.0.1/8", "host bits are set beyond /8 (the network is 10.0.0.0/8)"),
    ("cidr", "2001:db8::1/32", "host bits are set beyond /32 (the network is 2001:db8::/32)"),
    ("cidr", "[2001:db8::]/129", "prefix /129 is longer than the 128 bits of an IPv6 address"),
    ("cidr", "fe80::1%eth0", "zone index"),
    ("cidr", "10.0.0.0/x8", "prefix 'x8' is not a number of bits"),
    ("cidr", "lab.test", "'lab.test' is not an IPv4 or IPv6 address"),
    ("pcre", "/[/", "missing terminating ] for character class"),
    ("pcre", "/a/Z", 'unknown regexp option "Z"'),
    ("pcre", "nodelimiter", "ignoring unrecognized request"),
    ("regexp", "/[/", "Invalid regular expression"),
    ("regexp", "/a/Z", 'unknown regexp option "Z"'),
]


@pytest.mark.parametrize("map_type, rule, why", BAD_RULES)
def test_bad_rule_is_refused_before_writing(tmp_path, monkeypatch, map_type, rule, why):
    if map_type not in supported():
        pytest.skip("%s not supported here" % map_type)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    src = tmp_path / "checks"
    before = b"# kept\n/^x/\tOK\n" if map_type != "cidr" else b"# kept\n192.0.2.0/24\tOK\n"
    src.write_bytes(before)
    good = "/ok/" if map_type != "cidr" else "10.1.0.0/16"
    for check in (False, True):
        res = run_module("postmap", {"path": str(src), "type": map_type, "entries": {good: "OK", rule: "REJECT"}},
                         check=check, diff=True)
        assert res.get("failed"), res
        assert res["msg"].startswith("%s:%s: 1 rule refused, the table was not written: %r: " % (map_type, src, rule)), res
        assert why in res["msg"]
        assert src.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["checks", "tmp"]
        assert not list((tmp_path / "tmp").iterdir())  # the trial table is gone


def test_every_bad_rule_is_named(tmp_path):
    src = tmp_path / "header_checks"
    src.write_bytes(b"")
    res = run_module("postmap", {"path": str(src), "type": "regexp",
                                 "entries": {"/(a)/": "PREPEND X-A: $2", "/ok/": "OK", "/(/": "REJECT"}})
    assert res.get("failed") and "2 rules refused" in res["msg"], res
    assert "'/(a)/': out of range replacement index \"2\"" in res["msg"] and "'/(/': " in res["msg"]
    assert "'/ok/'" not in res["msg"] and src.read_bytes() == b""


CIDR_PATTERNS = ["10.0.0.0/8", "10.0.0.1", "[10.0.0.1]", "[10.0.0.0]/8", "10.0.0.0/08", "0.0.0.0/0", "::/0",
                 "[::]/0", "[2001:db8::]/032", "2001:db8::1", "::ffff:10.0.0.1", "!10.0.0.0/8", "![2001:db8::]/32",
                 "10.0.0.0/33", "10.0.0.1/8", "2001:db8::1/32", "[2001:db8::]/129", "fe80::1%eth0", "010.0.0.1",
                 "1.2.3", "10.0.0.0/", "10.0.0.0/+8", "[10.0.0.1", "lab.test", "10.0.0.0/8/8"]


def test_cidr_check_agrees_with_postfix(tmp_path):
    """Python's verdict on each pattern is Postfix's own (cidr map warnings: the rule is skipped)."""
    src = tmp_path / "cidr"
    for pattern in CIDR_PATTERNS:
        src.write_text("%s\tOK\n" % pattern)
        err = sh("postmap", "-q", "10.0.0.1", "cidr:%s" % src, check=False).stderr
        assert (pm.cidr_problem(pattern) is None) == ("warning" not in err), (pattern, err, pm.cidr_problem(pattern))


BLOCKS = "if /@lab\\.test$/\n/^spam@/\tREJECT\nendif\n/^x@/\tOK\n"


@pytest.mark.parametrize("map_type", ["pcre", "regexp"])
def test_exclusive_never_unnests_if_endif_blocks(tmp_path, map_type):
    """exclusive on a table with if/endif would drop the block lines and let the rules inside
    apply to every lookup: refused, bytes unchanged. A key named if/endif is refused too; a rule
    inside a block is still edited in place."""
    if map_type not in supported():
        pytest.skip("%s not supported here" % map_type)
    src = tmp_path / "checks"
    src.write_text(BLOCKS)
    for args in ({"exclusive": True, "entries": {"/^x@/": "OK"}}, {"entries": {"if": "/x/"}},
                 {"absent_keys": ["endif"]}):
        for check in (True, False):
            res = run_module("postmap", dict(path=str(src), type=map_type, **args), check=check, diff=True)
            assert res.get("failed") and not res.get("changed"), (args, res)
            assert any(w in res["msg"] for w in ("if/endif", "block keyword", "IF has no matching ENDIF")), res["msg"]
            assert src.read_text() == BLOCKS
    res = run_module("postmap", dict(path=str(src), type=map_type, entries={"/^spam@/": "DISCARD"}))
    assert res["changed"] and src.read_text() == BLOCKS.replace("/^spam@/\tREJECT", "/^spam@/\tDISCARD"), src.read_text()
