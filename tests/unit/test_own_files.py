"""Issue 30 item 1: the files postfix-remedy keeps on a host (scan state, run state, ledger) are
written only where the path is ours. A path that names main.cf, a symlink, a directory or a
device is refused, named, and left byte-identical; in check mode too."""
import json
import os
import stat

import pytest
from conftest import run_direct

MAIN_CF = b"# the admin's main.cf\nmyhostname = mx1.example.org\n"
RUN_STATE = {"state": "applying", "backup": "/var/lib/postfix-remedy/backups/1", "files": [], "absent": []}


@pytest.fixture
def etc(tmp_path):
    d = tmp_path / "etc"
    d.mkdir()
    (d / "main.cf").write_bytes(MAIN_CF)
    (d / "master.cf").write_bytes(b"smtp inet n - y - - smtpd\n")
    return d


def state(path, kind="run_state", check=False, **kw):
    return run_direct("postfix_state", dict(path=str(path), kind=kind, **kw), check=check, diff=True)[0]


@pytest.mark.parametrize("check", [False, True], ids=["run", "check"])
@pytest.mark.parametrize("how", ["main.cf itself", "symlink to master.cf", "directory", "fifo", "hard link"])
@pytest.mark.parametrize("action", ["present", "absent", "read"])
def test_a_path_that_is_not_ours_is_refused_and_left_alone(etc, tmp_path, how, action, check):
    target = etc / "main.cf"
    if how == "main.cf itself":
        path = target
    elif how == "symlink to master.cf":
        path, target = tmp_path / "run-state.json", etc / "master.cf"
        os.symlink(target, path)
    elif how == "directory":
        path = tmp_path / "adir"
        path.mkdir()
    elif how == "fifo":
        path = tmp_path / "fifo"
        os.mkfifo(path)
    else:
        path = tmp_path / "hard.json"
        (tmp_path / "elsewhere.json").write_text(json.dumps(RUN_STATE))
        os.link(tmp_path / "elsewhere.json", path)
        target = tmp_path / "elsewhere.json"
    before = target.read_bytes()
    kw = dict(content=RUN_STATE) if action == "present" else {}
    res = state(path, state=action, check=check, **kw)
    assert res.get("failed") and not res.get("changed"), res
    assert str(path) in res["msg"], res["msg"]
    expected = {"main.cf itself": "not our format", "symlink to master.cf": "is a symlink",
                "directory": "is a directory", "fifo": "is a FIFO", "hard link": "hard links"}[how]
    assert expected in res["msg"], res["msg"]
    assert target.read_bytes() == before
    assert os.path.lexists(path)


def test_run_state_written_private_read_back_and_removed(tmp_path):
    path = tmp_path / "lib" / "run-state.json"
    res = state(path, content=RUN_STATE, check=True)
    assert res["changed"] and not path.exists(), res  # check mode: reported, not written
    res = state(path, content=RUN_STATE)
    assert res["changed"] and json.loads(path.read_text()) == RUN_STATE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not [p for p in path.parent.iterdir() if p.name != "run-state.json"], "temporary file left behind"
    assert state(path, content=RUN_STATE)["changed"] is False
    read = state(path, state="read")
    assert read["exists"] and read["content"] == RUN_STATE and not read["changed"]
    assert state(path, state="absent", check=True)["changed"] and path.exists()
    assert state(path, state="absent")["changed"] and not path.exists()
    assert state(path, state="absent")["changed"] is False
    assert state(path, state="read")["exists"] is False


def test_ledger_merges_and_refuses_a_run_state_or_foreign_json(tmp_path):
    path = tmp_path / "fixed.json"
    assert state(path, kind="ledger", merge=True, content={"dns.resolver_dead": 100})["changed"]
    res = state(path, kind="ledger", merge=True, content={"relay.open_relay": 200})
    assert res["content"] == {"dns.resolver_dead": 100, "relay.open_relay": 200}
    assert json.loads(path.read_text()) == res["content"]
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"some": "tool's", "config": True}))
    res = state(other, kind="ledger", merge=True, content={"x.y": 1})
    assert res.get("failed") and "not a postfix-remedy fix ledger" in res["msg"], res
    assert json.loads(other.read_text()) == {"some": "tool's", "config": True}
    res = state(path, kind="ledger", content={"x.y": "soon"})
    assert res.get("failed") and "content is not a fix ledger" in res["msg"], res


def test_a_symlink_planted_at_a_temporary_name_is_not_followed(tmp_path, etc):
    """write_own never reuses a name: a symlink waiting where a temporary file might go is
    left as it is, and its target untouched."""
    import importlib.util
    import sys
    sys.path.insert(0, str(tmp_path))
    spec = importlib.util.spec_from_file_location("safe_io_under_test", os.path.join(
        os.path.dirname(__file__), "..", "..", "module_utils", "safe_io.py"))
    safe_io = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(safe_io)
    path = tmp_path / "state.json"
    for guess in ("state.json.tmp", ".state.json.tmp"):
        os.symlink(etc / "main.cf", tmp_path / guess)
    safe_io.write_own(str(path), b'{"version": 4}', "scan state", safe_io.json_object(("version",)))
    assert (etc / "main.cf").read_bytes() == MAIN_CF
    assert json.loads(path.read_text()) == {"version": 4}
    with pytest.raises(safe_io.InputError, match="is a symlink"):
        safe_io.write_own(str(tmp_path / "state.json.tmp"), b"{}", "scan state", safe_io.json_object())
    assert (etc / "main.cf").read_bytes() == MAIN_CF
