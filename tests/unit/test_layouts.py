# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The modules import this project's module_utils in a way that works from this repository
(ansible.cfg: module_utils = module_utils, imported as ansible.module_utils.X) and from the
installed collection (ansible_collections.postfix_remedy.toolkit.plugins.module_utils.X):

- module_utils import each other relatively (`from . import x`), never by either absolute name;
- a module imports them only at its top level, in one try block with both spellings (an import
  inside a function would only break in the other layout, when that function first runs).
"""
from __future__ import annotations

import ast

import pytest
from conftest import ROOT

OWN = {p.stem for p in (ROOT / "module_utils").glob("*.py")}
COLL = "ansible_collections.postfix_remedy.toolkit.plugins.module_utils"


def _own(node):
    """The own module_utils an ImportFrom names, by absolute name (ansible.module_utils.X or the collection's)."""
    mod = node.module or ""
    for base in ("ansible.module_utils", COLL):
        if mod == base:
            return {a.name for a in node.names} & OWN
        if mod.startswith(base + "."):
            return {mod[len(base) + 1:].split(".")[0]} & OWN
    return set()


@pytest.mark.parametrize("path", sorted((ROOT / "module_utils").glob("*.py")), ids=lambda p: p.name)
def test_module_utils_import_each_other_relatively(path):
    tree = ast.parse(path.read_text())
    bad = [n.lineno for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.level == 0 and _own(n)]
    assert bad == [], "absolute import of this project's module_utils at lines %s" % bad


@pytest.mark.parametrize("path", sorted((ROOT / "library").glob("*.py")), ids=lambda p: p.name)
def test_modules_import_both_layouts_at_top_level_only(path):
    tree = ast.parse(path.read_text())
    top = [n for n in tree.body if isinstance(n, ast.Try)]
    allowed = set()
    for t in top:
        repo = set().union(*[_own(n) for n in t.body if isinstance(n, ast.ImportFrom)])
        coll = set().union(*[_own(n) for h in t.handlers for n in h.body if isinstance(n, ast.ImportFrom)])
        if repo or coll:
            assert repo == coll, "the two spellings import different module_utils: %s" % (repo ^ coll)
            allowed.update(id(n) for n in ast.walk(t) if isinstance(n, ast.ImportFrom))
    stray = [n.lineno for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and _own(n) and id(n) not in allowed]
    assert stray == [], "module_utils imported outside the top-level dual-layout block, lines %s" % stray
