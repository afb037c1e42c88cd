# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The signature regexes stay linear on long, hostile log lines.

Python's re tries a search at every position of a line. An alternative that starts with an
unbounded repeat of a character class ("\\w+ lookup failure", "\\S*main.cf: ...") then scans the
rest of the run from every position inside it: a 4 KB line made of one long run (a client's
HELO name can be that long) cost 0.6 s in one signature before the lookbehinds. Timing is for
the benchmark (tests/bench/bench_log.py prints the hostile-line figure); this test checks the
shape that makes it linear: such an alternative starts only where its run starts.
"""
from __future__ import annotations

import re

import pytest
from ansible.module_utils import log_signatures as sig

try:  # Python 3.11+
    from re import _constants as C
    from re import _parser as P
except ImportError:  # pragma: no cover - older controllers
    import sre_constants as C  # noqa: N812
    import sre_parse as P  # noqa: N812


def _first_items(seq):
    """The first consuming item of every way into a parsed pattern (through groups, alternations
    and optional prefixes)."""
    items = list(seq)
    for i, (op, av) in enumerate(items):
        if op is C.BRANCH:
            for alt in av[1]:
                yield from _first_items(list(alt) + items[i + 1:])
            return
        if op is C.SUBPATTERN:
            yield from _first_items(list(av[-1]) + items[i + 1:])
            return
        if op in (C.MAX_REPEAT, C.MIN_REPEAT) and av[0] == 0 and av[1] != C.MAXREPEAT:
            yield from _first_items(list(av[2]))  # an optional prefix: it, or what follows it
            continue
        yield op, av
        return


@pytest.mark.parametrize(("fid", "rx"), [(fid, rx) for fid, _keys, rx in sig.SIGNATURES])
def test_no_alternative_starts_with_an_unanchored_run(fid, rx):
    for op, av in _first_items(P.parse(rx)):
        unbounded = op in (C.MAX_REPEAT, C.MIN_REPEAT) and av[1] == C.MAXREPEAT
        assert not unbounded, "%s: an alternative starts with an unbounded repeat; put a lookbehind first" % fid


def test_the_check_finds_the_shape_it_forbids():
    bad = [op for op, av in _first_items(P.parse(r"x|(?:\w+) lookup failure"))
           if op in (C.MAX_REPEAT, C.MIN_REPEAT) and av[1] == C.MAXREPEAT]
    good = [op for op, av in _first_items(P.parse(r"x|(?<!\w)\w+ lookup failure"))
            if op in (C.MAX_REPEAT, C.MIN_REPEAT) and av[1] == C.MAXREPEAT]
    assert bad and not good


HOSTILE_RUNS = ["a" * 4000, "a:" * 2000, "a[" * 2000, "<a" * 2000, "a." * 2000, "[a" * 2000]


@pytest.mark.parametrize("run", HOSTILE_RUNS, ids=lambda r: repr(r[:2]))
def test_the_lookbehinds_keep_every_real_match(run):
    """The anchored alternatives still find what they are for, next to hostile runs."""
    line = "Nov 30 06:05:04 mx1 postfix/cleanup[1]: warning: %s hash:/etc/postfix/virtual lookup error for x" % run
    fid, m = sig.classify(line)
    assert fid == "maps.lookup_failed" and m.group("file") == "hash:/etc/postfix/virtual"
    line = "Nov 30 06:05:04 mx1 postfix/smtpd[1]: warning: %s unknown[192.0.2.1]: SASL LOGIN authentication failed: x" % run
    fid, m = sig.classify(line)
    assert fid == "sasl.auth_failed" and m.group("client") == "unknown[192.0.2.1]"
    assert re.search(r"\[", m.group("client"))
