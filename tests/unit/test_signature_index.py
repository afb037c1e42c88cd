# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The signature index (log_signatures.classify) decides exactly as trying every signature in
order does: same ID, same match, on every line of Postfix's vocabulary, the unit tests' wordings,
the lab's lines and hostile shapes; and with signatures added (log_signatures.use)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from ansible.module_utils import log_signatures as sig
from fixtures.log_lines import CASES
from test_vocabulary import samples

ROOT = Path(__file__).resolve().parents[2]
LAB = yaml.safe_load((ROOT / "roles" / "lab_faults" / "vars" / "main.yml").read_text())["lab_faults_log_lines"]


def every_signature(line, sigs):
    """The reference: each signature in order, its regex tried when the line holds one of its words
    (and one of its `within` words, when it has them)."""
    for fid, rx, keys, within in sigs:
        if any(k in line for k in keys) and (not within or any(w in line for w in within)):
            m = rx.search(line)
            if m:
                return fid, m.span()
    return None, None


def _lines():
    out = ["Dec  6 03:14:15 mx1 postfix/%s[1]: %s" % (d, m) for _f, _l, d, m in CASES]
    out += ["Dec  6 03:14:15 mx1 postfix/%s[1]: %s" % (ln["daemon"], ln["message"]) for v in LAB.values() for ln in v]
    for version in ("3.7", "3.10"):
        out += [line for _tid, _sev, line in samples.samples(version, all_programs=True)]
    # the words at the edges of a line, glued to other text, doubled, tab-separated
    for _fid, _rx, keys, within in sig._SIGS:
        for k in keys + within:
            out += [k, "x" + k + "x", "warning: %s %s" % (k, k), "warning:\t" + k.replace(" ", "\t")]
    return out


LINES = _lines()


def _classify(line):
    fid, m = sig.classify(line)
    return fid, (m.span() if m else None)


def test_the_index_decides_as_every_signature_does():
    assert len(LINES) > 20000
    sigs = list(sig._SIGS)
    wrong = [(ln[:160], _classify(ln), every_signature(ln, sigs)) for ln in LINES
             if _classify(ln) != every_signature(ln, sigs)]
    assert wrong == []
    assert sum(1 for ln in LINES if sig.classify(ln)[0]) > 1000  # it classifies, it does not only agree on None


@pytest.fixture()
def more_signatures():
    base = list(sig._SIGS)
    extra = [("synthetic.a", re.compile(r"zq table (?P<file>\S+) is broken"), ("zq table ",)),
             ("synthetic.b", re.compile(r"Connection refused by zq"), ("refused by zq",)),
             ("synthetic.c", re.compile(r"warning: zqx"), ("zqx",)),
             # a loose word (no inner token) before a signature found by its token: the first wins
             ("synthetic.d", re.compile(r"zqloose"), ("zqloose",)),
             ("synthetic.e", re.compile(r"table zqtok here"), (" zqtok ",))]
    sig.use(extra + base)
    yield list(sig._SIGS)
    sig.use(base)


def test_signatures_added_are_found_first_in_their_order(more_signatures):
    assert sig.classify("warning: zq table hash:/x is broken")[0] == "synthetic.a"
    assert sig.classify("connect to a[192.0.2.1]:25: Connection refused by zq")[0] == "synthetic.b"
    assert sig.classify("warning: zqx")[0] == "synthetic.c"
    assert sig.classify("table zqtok here")[0] == "synthetic.e"
    assert sig.classify("table zqtok here zqloose")[0] == "synthetic.d"
    assert sig.classify("table zqtok here xzqloosex")[0] == "synthetic.d"
    for ln in LINES[:3000]:
        assert _classify(ln) == every_signature(ln, more_signatures), ln
