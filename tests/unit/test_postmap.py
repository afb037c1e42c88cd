# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""library/postmap.py with the real postmap/postalias and every indexed type on this host."""
from __future__ import annotations

import os
import time

import pytest
from conftest import needs_postfix, run_module, sh

pytestmark = needs_postfix


def available_types():
    out = sh("postconf", "-m").stdout.split()
    return [t for t in ("hash", "btree", "lmdb", "cdb", "dbm") if t in out]


def lookup(map_type, path, key):
    r = sh("postmap", "-q", key, f"{map_type}:{path}", check=False)
    return r.stdout.strip() if r.returncode == 0 else None


@pytest.mark.parametrize("map_type", available_types())
def test_build_only_when_stale(tmp_path, map_type):
    src = tmp_path / "virtual"
    src.write_text("a@lab.test\troot\n")
    first = run_module("postmap", {"path": str(src), "type": map_type})
    assert first["changed"] and first["rebuilt"] and "missing" in first["reason"], first
    assert lookup(map_type, src, "a@lab.test") == "root"
    second = run_module("postmap", {"path": str(src), "type": map_type})
    assert not second["changed"] and second["reason"] == "index is current"
    # source edited behind our back: the index is older and gets rebuilt
    time.sleep(1.1)
    src.write_text("a@lab.test\tadmin\n")
    third = run_module("postmap", {"path": str(src), "type": map_type})
    assert third["rebuilt"] and "older" in third["reason"]
    assert lookup(map_type, src, "a@lab.test") == "admin"


def test_type_defaults_to_default_database_type(postfix_dir, tmp_path):
    want = "lmdb" if "lmdb" in available_types() else "btree"
    sh("postconf", "-c", str(postfix_dir), "-e", f"default_database_type={want}")
    src = tmp_path / "access"
    src.write_text("10.0.0.1 REJECT\n")
    res = run_module("postmap", {"path": str(src), "config_dir": str(postfix_dir)})
    assert res["type"] == want and res["map"] == f"{want}:{src}"
    assert all(os.path.exists(f) for f in res["index_files"])


def test_entries_present_absent_and_query(tmp_path):
    src = tmp_path / "virtual"
    src.write_text("# lab aliases\nold@lab.test\troot\ninfo@lab.test\tbob\n")
    args = {"path": str(src), "type": "hash", "entries": {"info@lab.test": "alice", "new@lab.test": "root"},
            "absent_keys": ["old@lab.test"], "query": ["info@lab.test", "old@lab.test"]}
    res = run_module("postmap", args, diff=True)
    assert res["changed"] and sorted(res["entry_changes"]) == ["add new@lab.test", "remove old@lab.test", "update info@lab.test"]
    assert res["query"] == {"info@lab.test": "alice", "old@lab.test": None}
    assert src.read_text() == "# lab aliases\ninfo@lab.test\talice\nnew@lab.test\troot\n"
    assert "old@lab.test" in res["diff"]["before"] and "old@lab.test" not in res["diff"]["after"]
    assert not run_module("postmap", args)["changed"]


def test_check_mode_touches_nothing(tmp_path):
    src = tmp_path / "virtual"
    src.write_text("a@lab.test root\n")
    res = run_module("postmap", {"path": str(src), "type": "hash", "entries": {"b@lab.test": "root"}}, check=True, diff=True)
    assert res["changed"] and res["rebuilt"]
    assert src.read_text() == "a@lab.test root\n" and not (tmp_path / "virtual.db").exists()
    assert "b@lab.test" in res["diff"]["after"]


def test_secret_table_mode_and_hidden_diff(tmp_path):
    src = tmp_path / "sasl_passwd"
    res = run_module("postmap", {"path": str(src), "type": "hash", "create": True, "mode": "0600",
                                 "secret_entries": {"[relay.lab.test]:587": "user:s3cret"}}, diff=True)
    assert res["changed"]
    assert "s3cret" not in str(res)
    assert oct(os.stat(src).st_mode & 0o777) == "0o600"
    assert oct(os.stat(str(src) + ".db").st_mode & 0o777) == "0o600"
    assert lookup("hash", src, "[relay.lab.test]:587") == "user:s3cret"


def test_non_indexed_types_are_a_noop(tmp_path):
    src = tmp_path / "header_checks"
    src.write_text("/^Subject: spam/ REJECT\n")
    res = run_module("postmap", {"path": str(src), "type": "regexp"})
    assert not res["changed"] and not res["rebuilt"] and not res["indexed"]
    res = run_module("postmap", {"path": str(src), "type": "regexp", "query": ["Subject: spam"]})
    assert not res.get("failed") and res["query"]["Subject: spam"] == "REJECT"


def test_aliases_use_postalias(tmp_path):
    src = tmp_path / "aliases"
    src.write_text("postmaster: root\n")
    res = run_module("postmap", {"path": str(src), "type": "hash", "aliases": True, "entries": {"abuse": "root"},
                                 "query": ["abuse"]})
    assert res["rebuilt"] and res["query"]["abuse"] == "root"
    assert "abuse:\troot" in src.read_text()


def test_force_rebuilds(tmp_path):
    src = tmp_path / "t"
    src.write_text("k v\n")
    run_module("postmap", {"path": str(src), "type": "hash"})
    os.utime(str(src) + ".db", (1, 1))
    res = run_module("postmap", {"path": str(src), "type": "hash", "force": True})
    assert res["changed"] and res["reason"] == "forced"
    assert os.stat(str(src) + ".db").st_mtime > 1 and lookup("hash", src, "k") == "v"


@pytest.mark.parametrize("args, message", [
    ({"type": "hash"}, "does not exist"),
    ({"type": "hash", "entries": {"bad key": "x"}, "create": True}, "invalid table key"),
    ({"type": "hash", "entries": {"k": "a\nb"}, "create": True}, "newline"),
    ({"type": "nosuch", "create": True, "entries": {"k": "v"}}, "unknown table type"),
    ({"type": "hash;rm", "create": True, "entries": {"k": "v"}}, "invalid table type"),
])
def test_bad_input(tmp_path, args, message):
    res = run_module("postmap", dict(args, path=str(tmp_path / "missing")))
    assert res.get("failed") and message in res["msg"], res
    assert not (tmp_path / "missing").exists()


def test_postmap_failure_is_reported(tmp_path):
    src = tmp_path / "t"
    src.write_text("k v\n")
    (tmp_path / "t.db").mkdir()  # the index path is taken by a directory: postmap cannot create it
    res = run_module("postmap", {"path": str(src), "type": "hash"})
    # refused before anything is written (the index is kept as a copy first, and cannot be)
    assert res.get("failed") and "t.db" in res["msg"] and "nothing was changed" in res["msg"], res
