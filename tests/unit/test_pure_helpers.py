# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure helpers (no Postfix needed): list values, entry edits, queue selection, qshape."""
from __future__ import annotations

import time

import pytest
from ansible.module_utils import postfix_conf as pc
from ansible.module_utils import postfix_maps as pm
from ansible.module_utils import postfix_queue_lib as ql
from hypothesis import given
from hypothesis import strategies as st

token = st.from_regex(r"[a-z][a-z0-9_.:/]{0,12}", fullmatch=True)


def test_split_list_keeps_braced_groups():
    assert pc.split_list("a, b  c,{ x, y },d") == ["a", "b", "c", "{ x, y }", "d"]


@given(st.lists(token, unique=True, max_size=8), st.lists(token, max_size=4), st.lists(token, max_size=3))
def test_list_edit_never_duplicates_and_keeps_order(current, add, remove):
    new = pc.list_edit(", ".join(current), add, remove)
    result = pc.split_list(new) if new is not None else current
    kept = [t for t in current if t not in remove]
    assert [t for t in result if t in kept] == kept  # order of what stays is unchanged
    assert all(result.count(t) == 1 for t in result if t not in current) or not add
    for item in add:
        assert item in result
    for item in remove:
        if item not in add:
            assert item not in result


def test_edit_entries_drops_duplicate_keys_and_keeps_comments():
    text = "# head\na x\n  continued\nb y\na z\n"
    new, changes = pm.edit_entries(text, {"a": "w"})
    assert new == "# head\na\tw\nb y\n" and "remove duplicate a" in changes


def test_selection_and_qshape():
    now = time.time()
    msgs = [
        {"queue_name": "deferred", "queue_id": "AAAAA1", "arrival_time": now - 30, "message_size": 10, "sender": "",
         "recipients": [{"address": "x@a.test", "delay_reason": "connect to a.test: Connection timed out"}]},
        {"queue_name": "deferred", "queue_id": "AAAAA2", "arrival_time": now - 7200, "message_size": 10, "sender": "s@b.test",
         "recipients": [{"address": "y@a.test"}, {"address": "z@c.test"}]},
    ]
    sel = ql.Selection(reason="/timed out/", sender="MAILER-DAEMON", now=now)
    assert [m["queue_id"] for m in msgs if sel.matches(m)] == ["AAAAA1"]
    shape = ql.QShape(["deferred"], now=now)
    for m in msgs:
        shape.add(m)
    table = shape.table()
    row = {r["domain"]: r["counts"] for r in table["domains"]}
    head = table["buckets_minutes"]
    # qshape semantics: column "5" = younger than 5 minutes, column "160" = 80 to 160 minutes
    assert row["a.test"][head.index("T")] == 2 and row["a.test"][head.index("5")] == 1 and row["a.test"][head.index("160")] == 1
    assert table["total"][0] == 3 and not table["capped"]


def test_qshape_rows_are_bounded_and_totals_exact():
    """A queue to more distinct domains than max_rows: one row per domain up to the cap, the rest
    summed in one row, the total still counts every recipient."""
    now = time.time()
    shape = ql.QShape(["deferred"], now=now, max_rows=50)
    for i in range(500):
        shape.add({"queue_name": "deferred", "arrival_time": now - 60, "sender": "s@x.test",
                   "recipients": [{"address": "u@d%d.test" % i}]})
    table = shape.table(top=10)
    assert len(shape.rows) == 51 and table["capped"]
    assert table["total"][0] == 500
    other = {r["domain"]: r["counts"][0] for r in table["domains"]}[ql.QShape.OTHER]
    assert other == 450 and table["more_domains"] == 41


@pytest.mark.parametrize("bad", ["", "ABC/../x", "A" * 30, "1234;", "abc def"])
def test_queue_id_validation(bad):
    with pytest.raises(ql.SelectionError):
        ql.validate_ids([bad])


def test_stream_timeout_is_reported():
    """A listing that outlives its timeout is killed and the error says why (not a bare rc -9)."""
    lines = []
    rc, err, bad = ql.stream(["/bin/sh", "-c", 'while :; do echo "{}"; sleep 0.2; done'], lines.append, timeout=1)
    assert rc != 0 and "timeout" in err and lines and bad == 0


def test_stream_pipe_size_lets_the_child_write_ahead():
    """pipe_size makes the stdout pipe hold that much (journalctl keeps writing while the scanner
    classifies the block before); the output is the same, and a refused size is no error."""
    fcntl = pytest.importorskip("fcntl")
    from ansible.module_utils import postfix_cmd
    argv = ["/bin/sh", "-c", "head -c 300000 /dev/zero | tr '\\0' 'x'; echo"]
    for size, at_least in ((1 << 20, 1 << 20), (1 << 40, 0)):  # 1 TiB: more than pipe-max-size
        with postfix_cmd.Stream(argv, pipe_size=size) as st:
            held = fcntl.fcntl(st.proc.stdout.fileno(), 1032)  # F_GETPIPE_SZ
            data = b"".join(st.blocks(65536))
        assert held >= at_least and st.rc == 0 and data == b"x" * 300000 + b"\n"
