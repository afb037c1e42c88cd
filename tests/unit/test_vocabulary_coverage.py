# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every Postfix message keeps its meaning (issue 31 item 2): each template of Postfix's own
vocabulary (tests/vocabulary/postfix-<version>.json), as samples.py writes it into a log line,
goes through the real scanner; its class is compared with the committed snapshot
tests/vocabulary/classes-<version>.json.

A template that had a class and lost it fails, and so does a fatal or panic without a family
(or a fault ID, which says more); a template newly classified, or placed in another family, is
fine (refresh the snapshot to keep it). The shares of the issue are checked too.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

VOCAB = Path(__file__).resolve().parents[1] / "vocabulary"
REFRESH = ("if the change is intended, refresh the snapshot: .venv/bin/python tests/vocabulary/coverage.py "
           "--write-classes (and commit tests/vocabulary/classes-*.json)")


from test_vocabulary import coverage  # one loader of tests/vocabulary for both files

VERSIONS = coverage.versions()


@pytest.fixture(scope="module", params=VERSIONS)
def measured(request):
    version = request.param
    doc = json.loads((VOCAB / ("postfix-%s.json" % version)).read_text())
    snapshot = json.loads(coverage.snapshot_path(version).read_text())
    return version, {t["id"]: t for t in doc["templates"]}, snapshot["classes"], coverage.template_classes(version)


def test_every_version_has_its_snapshot():
    assert VERSIONS and all(coverage.snapshot_path(v).is_file() for v in VERSIONS), REFRESH


def test_no_template_loses_its_class(measured):
    version, templates, before, now = measured
    lost = {tid: (before[tid], templates[tid]["severity"], templates[tid]["format"][:100])
            for tid in before if tid in now and before[tid] != "unclassified" and now[tid] == "unclassified"}
    assert lost == {}, "Postfix %s: templates that lost their class: %s\n%s" % (version, json.dumps(lost, indent=1), REFRESH)
    gone = set(before) - set(now)
    assert not gone, "Postfix %s: snapshot templates no longer in the vocabulary: %s\n%s" % (version, sorted(gone)[:10], REFRESH)


def test_every_fatal_and_panic_has_at_least_a_family(measured):
    version, templates, _before, now = measured
    missing = {tid: (now[tid], t["format"][:100]) for tid, t in templates.items()
               if t["severity"] in ("fatal", "panic") and not now[tid].startswith(("family:", "id:"))}
    assert missing == {}, "Postfix %s: fatal/panic templates without a family: %s" % (version, json.dumps(missing, indent=1))
    panics = {now[tid] for tid, t in templates.items() if t["severity"] == "panic"}
    assert panics == {"family:internal"}  # a panic is Postfix's own bug or a damaged process, whatever its words


def test_the_shares_of_the_issue(measured):
    version, templates, _before, now = measured
    classified = sum(1 for c in now.values() if c != "unclassified")
    share = classified / len(now)
    by_sev = {}
    for tid, t in templates.items():
        row = by_sev.setdefault(t["severity"], [0, 0])
        row[0] += now[tid] != "unclassified"
        row[1] += 1
    print("\nPostfix %s: %d/%d templates classified (%.1f%%); %s" % (
        version, classified, len(now), 100 * share,
        ", ".join("%s %.1f%%" % (s, 100.0 * a / n) for s, (a, n) in sorted(by_sev.items()))))
    assert share >= 0.95
    assert all(now[tid] != "not_candidate" for tid in now)  # every sample line carries a severity word


def test_the_snapshot_is_what_coverage_writes(measured, tmp_path, monkeypatch):
    """The snapshot's format: coverage.py --write-classes, one template a line, sorted."""
    version, _templates, _before, now = measured
    monkeypatch.setattr(coverage, "HERE", tmp_path)
    monkeypatch.setattr(coverage, "template_classes", lambda v: now)
    coverage.write_classes(version)
    written = (tmp_path / ("classes-%s.json" % version)).read_text()
    assert json.loads(written) == {"version": version, "classes": now}
    assert written.count("\n") == len(now) + 2
