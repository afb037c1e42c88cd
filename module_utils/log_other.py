# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What log_scan.Scanner asks about a line beyond the catalog's signatures (issue 31 item 2).

neighbour(line): a line of a neighbour program (dovecot, opendkim... log_neighbours.PROGRAMS),
  asked before the Postfix signatures claim it;
postfix(line): a line no signature, remote answer or benign kind claimed: log_families' rows
  for Postfix's own messages; another program's line is "other_program" (not Postfix's words).

Both return (kind, name, subject, severity) or None; kind is benign, statistic, family or id.
"""
from __future__ import annotations

import re

from . import fault_catalog as cat
from . import log_families as fam
from . import log_neighbours as nb
from . import log_signatures as sig

KINDS = ("benign", "statistic", "family", "id")
# Postfix's severity word and the message after it ("warning: ..."); the first one in the line.
SEVERITY = re.compile(r"(?<![^\s:])(warning|error|fatal|panic): ")
# A neighbour's own wording ("Error:", "Fatal:", "panic:"); a line without one counts as a warning.
OTHER_SEVERITY = re.compile(r"(?i)(?<![^\s:])(warning|error|fatal|panic)[:\]]")


def neighbour(line):
    """(kind, name, subject, severity) of a neighbour program's line by log_neighbours, or None
    (not a neighbour's line, or one it does not know: the line goes on to the signatures)."""
    if not nb.PROGRAMS:
        return None
    m = sig.TAG_RE.match(line)
    if m is None:
        return None
    is_postfix, daemon = sig.program_of(line)
    if daemon not in nb.PROGRAMS or (is_postfix and daemon in sig.POSTFIX_PROGRAMS):
        return None
    message = line[m.end():]
    got = nb.classify(daemon, message)
    if not _valid(got):
        return None
    sev = OTHER_SEVERITY.search(message[:200])
    return got[0], got[1], _subject(got[2]), sev.group(1).lower() if sev else "warning"


def _valid(got):
    """A well-formed answer of log_neighbours.classify: anything else is no answer."""
    if not isinstance(got, tuple) or len(got) != 3 or got[0] not in KINDS or not isinstance(got[1], str):
        return False
    kind, name, subject = got
    if kind == "family":
        return name in fam.FAMILIES
    if kind == "id":
        return name in cat.CATALOG
    return bool(name) and (subject is None or isinstance(subject, str))


def _subject(subject):
    return subject[:fam.MAX_SUBJECT] if isinstance(subject, str) and subject else None


def postfix(line):
    """(kind, name, subject, severity) of a line nothing else claimed, or None (unclassified)."""
    is_postfix, daemon = sig.program_of(line)
    if is_postfix is False:
        # a neighbour's line its module does not know stays unclassified (its words are missing
        # there); any other program's is not Postfix's vocabulary
        return None if daemon in nb.PROGRAMS else ("benign", "other_program", None, None)
    m = SEVERITY.search(line, 0, 400)
    if m is None:
        return None
    got = fam.classify(line[m.end():], m.group(1), daemon)
    return None if got is None else (got[0], got[1], got[2], m.group(1))
