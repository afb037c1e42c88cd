# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The scanner's fast paths find exactly what the plain regex scan finds.

- every cataloged wording holds a candidate word, and normal traffic none;
- classify() trying only the signatures whose keywords a line holds gives the same answer as
  trying every signature;
- grep's one extended regex (GREP_ERE) selects exactly the lines that hold a candidate word;
- a big file scanned through grep gives the same aggregate as the pure-Python scan, in full
  and incrementally after an append, and a line still being written is left for the next run.
"""
from __future__ import annotations

import json
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ansible.module_utils import log_scan
from ansible.module_utils import log_signatures as sig
from fixtures.log_lines import CASES, H, tag

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import gen_log  # noqa: E402


def full_classify(line):
    for fid, rx in sig.COMPILED:
        m = rx.search(line)
        if m:
            return fid
    return None


def test_every_cataloged_wording_is_a_candidate_and_normal_traffic_is_not():
    """A line becomes a candidate through CANDIDATE_WORDS alone (severity, reject, a status that
    is not sent, or an info-level keyword): every fixture wording a signature claims must hold one,
    and the lines of a healthy server's normal traffic none."""
    assert set(sig.INFO_KEYWORDS) <= set(sig.KEYWORDS)
    claimed = 0
    for _fid, label, daemon, msg in CASES:
        line = H % (10, 0, tag(daemon), 4000, msg)
        if sig.classify(line)[0] is not None or sig.is_faultish(line):
            claimed += 1
            assert any(w in line.encode() for w in sig.CANDIDATE_WORDS), (label, line)
    assert claimed >= 70
    normal = [(d, m) for i in range(200) for d, m in gen_log._message(random.Random(i), i)]
    for daemon, msg in normal:
        line = (H % (10, 0, tag(daemon), 4000, msg)).encode()
        assert not any(w in line for w in sig.CANDIDATE_WORDS), line
    assert set(sig.GREP_WORDS) >= set(sig.CANDIDATE_WORDS) >= set(sig.FAULTISH_WORDS)


def test_keyword_classify_equals_full_classify():
    lines = [H % (10, i % 60, tag(daemon), 4000 + i, msg) for i, (_fid, _label, daemon, msg) in enumerate(CASES)]
    lines += [line.replace("warning", "warning") + " trailing" for line in lines]
    for line in lines:
        fid, _m = sig.classify(line)
        assert fid == full_classify(line), line
        assert sig.is_faultish(line) == bool(sig.FAULTISH.search(line.encode())), line


def test_the_grep_regex_selects_the_lines_that_hold_a_candidate_word(tmp_path):
    """GREP_ERE is GREP_WORDS as one POSIX extended regex (faster in GNU grep than -F -e word...):
    it must select the same lines, with every word and none of the regex characters taking effect."""
    grep = shutil.which("grep")
    if grep is None:
        pytest.skip("no grep on this host")
    lines = [H % (10, i % 60, tag(daemon), 4000 + i, msg) for i, (_fid, _label, daemon, msg) in enumerate(CASES)]
    lines += [H % (10, 0, tag(d), 4000, m) for i in range(50) for d, m in gen_log._message(random.Random(i), i)]
    for word in sig.GREP_WORDS:  # each word alone, and its near misses (one character changed)
        w = word.decode()
        lines += ["x %s y" % w, "x %s y" % w[:-1], "x %s.%s y" % (w[:2], w[3:]), "x %s y" % w.upper()]
    lines += ["a.b (x) [y] *z+ ?{1} |^$ \\ warnin.: error", "status=sent (250 ok)", ""]
    path = tmp_path / "lines"
    path.write_bytes("\n".join(lines).encode() + b"\n")
    out = subprocess.run([grep, "-a", "-n", "-E", "-e", sig.GREP_ERE, str(path)], capture_output=True, check=True,
                         env={"LC_ALL": "C"}).stdout.decode()
    selected = {int(line.split(":", 1)[0]) for line in out.splitlines()}
    expected = {i + 1 for i, line in enumerate(lines) if any(w.decode() in line for w in sig.GREP_WORDS)}
    assert selected == expected
    assert len(expected) > len(sig.GREP_WORDS)


def _strip(agg):
    return json.loads(json.dumps(agg))


@pytest.fixture(scope="module")
def big_log(tmp_path_factory):
    path = tmp_path_factory.mktemp("log") / "mail.log"
    gen_log.write(str(path), 6)  # above GREP_MIN_BYTES, so the grep path is taken
    assert path.stat().st_size >= log_scan.GREP_MIN_BYTES
    return path


def test_grep_path_equals_python_path(big_log):
    import time

    since = time.time() - 3 * 86400  # half of the generated week is outside the window
    _s1, grep_agg, info1 = log_scan.scan_file(str(big_log), since=since)
    _s2, py_agg, info2 = log_scan.scan_file(str(big_log), since=since, use_grep=False)
    assert info1.get("prefilter") == "grep" and "prefilter" not in info2
    assert grep_agg["ids"] and grep_agg["skipped_old"] > 0 and grep_agg["faultish"] > 0
    assert _strip(grep_agg) == _strip(py_agg)


def test_incremental_grep_after_append_and_partial_line(big_log, tmp_path):
    log = tmp_path / "mail.log"
    log.write_bytes(big_log.read_bytes())
    state, _agg, _ = log_scan.scan_file(str(log))
    gen_log.append(str(log), 5)  # enough for the grep path on the appended part too
    with open(log, "ab") as fh:
        fh.write(b"Nov 24 10:00:00 mx1 postfix/smtp[1]: connect to mx.example[192.0.2.1]:25: Connection tim")
    state2, inc_agg, info = log_scan.scan_file(str(log), state)
    assert info["mode"] == "incremental" and info.get("prefilter") == "grep"
    assert state2["offset"] == log.stat().st_size - len(b"Nov 24 10:00:00 mx1 postfix/smtp[1]: connect to "
                                                         b"mx.example[192.0.2.1]:25: Connection tim")
    # the same bytes scanned in one go, without the partial line, give the same aggregate
    whole = tmp_path / "whole.log"
    whole.write_bytes(log.read_bytes()[:state2["offset"]])
    _s, full_agg, _ = log_scan.scan_file(str(whole), use_grep=False)
    assert _strip(inc_agg)["ids"] == _strip(full_agg)["ids"]
    assert inc_agg["lines"] == full_agg["lines"] and inc_agg["faultish"] == full_agg["faultish"]


def _counts(agg):
    a = _strip(agg)
    return dict(ids={k: v["count"] for k, v in a["ids"].items()}, inbound={k: v["count"] for k, v in a["inbound"].items()},
                **{k: a[k] for k in ("lines", "bytes", "faultish", "unclassified", "skipped_old", "status", "benign",
                                     "first", "last", "sasl_clients")})


def test_parallel_parts_equal_one_pass(big_log, monkeypatch):
    """The range split at line boundaries over several processes (one grep each) gives the
    counts of one pass, and reads every byte once."""
    import time

    since = time.time() - 3 * 86400
    _s, one, info1 = log_scan.scan_file(str(big_log), since=since)
    monkeypatch.setattr(log_scan, "_workers", lambda nbytes: 3)
    _s, three, info3 = log_scan.scan_file(str(big_log), since=since)
    assert info1["workers"] == 1 and info3["workers"] == 3 and info3["read_bytes"] == big_log.stat().st_size
    assert _counts(three) == _counts(one)
    for fid, rec in _strip(one)["ids"].items():  # the first samples are the file's first lines either way
        assert _strip(three)["ids"][fid]["samples"] == rec["samples"], fid


def test_split_points_are_line_starts(big_log):
    data = big_log.read_bytes()
    parts = log_scan._split(str(big_log), 0, len(data), 4)
    assert parts[0][0] == 0 and parts[-1][1] == len(data) and len(parts) == 4
    for (_lo, hi), (lo2, _hi2) in zip(parts, parts[1:]):
        assert hi == lo2 and data[hi - 1:hi] == b"\n"


def test_a_failing_part_is_scanned_again_by_the_parent(big_log, monkeypatch):
    """A child that cannot scan its part (here: its grep_file says so) costs time, not results."""
    import os

    _s, one, _ = log_scan.scan_file(str(big_log))
    parent = os.getpid()
    real = log_scan.Scanner.grep_file

    def flaky(self, *args):
        return False if os.getpid() != parent else real(self, *args)

    monkeypatch.setattr(log_scan.Scanner, "grep_file", flaky)
    monkeypatch.setattr(log_scan, "_workers", lambda nbytes: 2)
    _s, two, info = log_scan.scan_file(str(big_log))
    assert info["prefilter"] == "grep" and _counts(two) == _counts(one)
