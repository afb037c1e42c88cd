# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The reader's pages stay true: docs/faults.md is what the catalog renders, and nothing a user
reads points outside this repository."""
from __future__ import annotations

import importlib.util
import re
import subprocess

from conftest import ROOT


def _renderer():
    spec = importlib.util.spec_from_file_location("render_faults", ROOT / "docs" / "render_faults.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_faults_page_is_generated_from_the_catalog():
    r = _renderer()
    assert (ROOT / "docs" / "faults.md").read_text() == r.render(r.load_catalog()), \
        "docs/faults.md is stale: run make docs"


def test_every_catalog_id_has_a_section():
    r = _renderer()
    text = (ROOT / "docs" / "faults.md").read_text()
    assert [m for m in re.findall(r"^## (\S+)$", text, re.M)] == list(r.load_catalog().CATALOG)


def _user_facing_files():
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    for name in tracked:
        if name.startswith("tests/"):
            continue  # tests may read the shared corpus (and skip without it)
        if name.endswith((".md", ".py", ".yml", ".j2", ".cfg")) or name in ("Makefile",):
            yield ROOT / name


def test_nothing_a_user_reads_points_outside_the_repository():
    bad = {}
    for p in _user_facing_files():
        text = p.read_text(errors="replace")
        hits = [m.group(0) for m in re.finditer(r"\.\./shared|FAULTS\.md", text)]
        if hits:
            bad[str(p.relative_to(ROOT))] = hits
    assert bad == {}
