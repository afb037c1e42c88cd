# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Prometheus text exposition for node_exporter's textfile collector, written as our own file.

- render(): metric families (HELP and TYPE from remedy_metrics.METRICS, so every file says the
  same about a name) with their samples, sorted, label values escaped as the exposition format
  wants (backslash, double quote, line feed). A value that cannot be said faithfully (invalid
  UTF-8, another control character, a huge string) is cleaned and becomes a warning naming it.
- write(): into a directory that must exist (node_exporter's package creates it; we never create
  /var/lib/prometheus on a host without it), through safe_io.write_own: a file is ours when it is a
  regular file starting with HEADER; a symlink or a foreign file at the name is refused. Never
  raises: what went wrong is a warning for module.warn(), and the caller's work stands.
- read_own(): the samples of our previous file, for what must survive across runs (first-seen
  times, counters).
The window helper (roles/postfix_change_window/files) carries its own copy of render's rules: it
runs with the standard library only (tests/unit/test_prom_textfile.py keeps both in step).
"""
from __future__ import annotations

import math
import os
import re

from . import safe_io
from .diagnose_rules import instance_marker
from .remedy_metrics import METRICS

HEADER = b"# postfix-remedy metrics"
NAME_RE = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
LABEL_RE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
ODD = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029]")  # control characters but the line feed
NEEDS_ESCAPE = re.compile(r'[\\"\n]')
MAX_VALUE = 256  # characters of one label value
MAX_SERIES = 1000  # per family: a label that grows without bound is a bug, not data


def is_ours(data):
    return data.startswith(HEADER)


def escape(value):
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def unescape(value):
    return re.sub(r'\\(.)', lambda m: "\n" if m.group(1) == "n" else m.group(1), value)


def clean(value, what, warnings):
    """A label value as text the format can carry: invalid UTF-8 (surrogates) and control
    characters become U+FFFD, a huge value is cut; each with a warning naming what. Backslash,
    quote and line feed are kept (escaped on output), with a warning too: a host name or fault ID
    holding them is odd enough to say so."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "surrogateescape")
    text = value if isinstance(value, str) else str(value)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # undecodable bytes (surrogateescape) or lone surrogates
        try:
            text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        except UnicodeEncodeError:
            text = text.encode("utf-8", "replace").decode("utf-8")
        warnings.append("%s %s is not valid UTF-8; written with U+FFFD for the bad bytes" % (what, _show(value)))
    if ODD.search(text):
        warnings.append("%s %s holds control characters; written with U+FFFD in their place" % (what, _show(text)))
        text = ODD.sub("\ufffd", text)
    elif NEEDS_ESCAPE.search(text):
        warnings.append("%s %s holds a backslash, quote or line feed; written escaped" % (what, _show(text)))
    if len(text) > MAX_VALUE:
        warnings.append("%s %s is %d characters long; cut to %d" % (what, _show(text), len(text), MAX_VALUE))
        text = text[:MAX_VALUE]
    return text


def _show(value):
    text = safe_io.printable(value if isinstance(value, (str, bytes)) else str(value))
    return repr(text[:80] + ("..." if len(text) > 80 else "")).encode("ascii", "backslashreplace").decode("ascii")


def number(value):
    """A sample value in the format's spelling: integers without a fraction, NaN and +-Inf."""
    value = float(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value.is_integer() and abs(value) < 2 ** 53:
        return str(int(value))
    return repr(value)


def render(samples, writer):
    """Exposition text (bytes) and warnings for samples [(name, {label: value}, number)].
    Every name must be in METRICS with exactly its labels (a programming error otherwise). Two
    samples with the same name and labels: the last wins (node_exporter refuses duplicates)."""
    warnings, series = [], {}
    for name, labels, value in samples:
        kind, help_text, label_names = METRICS[name]
        if set(labels) != set(label_names):
            raise ValueError("metric %s takes labels %s, not %s" % (name, sorted(label_names), sorted(labels)))
        try:
            value = float(value)
        except (TypeError, ValueError):
            warnings.append("metric %s%s: value %s is not a number; not written" % (name, _show(str(labels)), _show(str(value))))
            continue
        key = tuple((k, clean(labels[k], "metric %s label %s value" % (name, k), warnings)) for k in sorted(labels))
        fam = series.setdefault(name, {})
        if key not in fam and len(fam) >= MAX_SERIES:
            warnings.append("metric %s has more than %d series; the rest are not written" % (name, MAX_SERIES))
            continue
        fam[key] = value
    lines = ["%s (%s); node_exporter textfile collector. Written anew by every run: do not edit."
             % (HEADER.decode(), writer)]
    for name in sorted(series):
        kind, help_text, _names = METRICS[name]
        lines.append("# HELP %s %s" % (name, help_text.replace("\\", "\\\\").replace("\n", "\\n")))
        lines.append("# TYPE %s %s" % (name, kind))
        for key in sorted(series[name]):
            labels = ",".join('%s="%s"' % (k, escape(v)) for k, v in key)
            lines.append("%s%s %s" % (name, "{%s}" % labels if labels else "", number(series[name][key])))
    return ("\n".join(lines) + "\n").encode("utf-8"), _unique(warnings)


def _unique(items):
    seen = set()
    return [x for x in items if not (x in seen or seen.add(x))]


SAMPLE_RE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
PAIR_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse(data):
    """{(name, ((label, value), ...)): float} of a file render() wrote (comments skipped)."""
    out = {}
    for line in data.decode("utf-8", "replace").split("\n"):  # not splitlines: U+2028 is no line end here
        m = SAMPLE_RE.match(line)
        if not m or line.startswith("#"):
            continue
        try:
            value = float(m.group(3))
        except ValueError:
            continue
        labels = tuple(sorted((k, unescape(v)) for k, v in PAIR_RE.findall(m.group(2) or "")))
        out[(m.group(1), labels)] = value
    return out


def file_path(directory, stem, config_dir=None):
    """directory/stem.prom for the default instance (/etc/postfix); another instance's file has
    its directory in the name (the rule of the change window markers), so no two runs write one file."""
    return instance_marker(os.path.join(directory, stem + ".prom"), config_dir)


def read_own(path):
    """The samples of our previous file at path; {} when there is none or it is not ours."""
    try:
        data = safe_io.check_own(path, "metrics file", is_ours)
    except (safe_io.InputError, OSError):
        return {}
    return parse(data) if data else {}


def write(path, data, what="metrics file"):
    """Write data as our file at path. Returns a warning (str) when it was not written, else None.
    The directory must exist already and be a directory (not a symlink to one)."""
    directory = os.path.dirname(path)
    try:
        safe_io.require_absolute(path, what)
        if not os.path.lexists(directory):
            return ("%s not written: the directory %s does not exist (node_exporter's textfile directory; "
                    "install prometheus-node-exporter, name its directory, or turn metrics off)" % (what, directory))
        if os.path.islink(directory) or not os.path.isdir(directory):
            return "%s not written: %s is not a directory (a symlink or a file); name the real directory" % (what, directory)
        safe_io.write_own(path, data, what, is_ours, mode=0o644)
    except safe_io.InputError as exc:
        return "%s not written: %s" % (what, exc)
    except OSError as exc:
        return "%s %s not written: %s" % (what, path, safe_io.oserror_text(exc))
    return None
