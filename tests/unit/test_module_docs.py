# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every module's DOCUMENTATION matches its argument_spec, and ansible-doc renders it."""
from __future__ import annotations

import os
import subprocess
import sys
from unittest import mock

import pytest
import yaml
from conftest import ROOT, _load, patch_module_args

MODULES = sorted(p[:-3] for p in os.listdir(ROOT / "library") if p.endswith(".py"))


class _Captured(Exception):
    pass


def argument_spec(name):
    mod = _load(name)
    seen = {}

    def fake_init(self, argument_spec, **kw):
        seen["spec"] = argument_spec
        seen["kw"] = kw
        raise _Captured()

    from ansible.module_utils import basic
    with mock.patch.object(basic.AnsibleModule, "__init__", fake_init), patch_module_args({}):
        with pytest.raises(_Captured):
            mod.main()
    return mod, seen["spec"], seen["kw"]


def compare(doc_opts, spec, where):
    assert set(doc_opts) == set(spec), "%s: documented %s vs spec %s" % (where, sorted(doc_opts), sorted(spec))
    for name, doc in doc_opts.items():
        arg = spec[name]
        assert doc.get("type", "str") == arg.get("type", "str"), (where, name)
        assert doc.get("required", False) == arg.get("required", False), (where, name)
        if "default" in arg and arg["default"] not in (None, [], {}):
            assert doc.get("default") == arg["default"], (where, name, doc.get("default"), arg["default"])
        if "choices" in arg:
            assert list(doc.get("choices")) == list(arg["choices"]), (where, name)
        if doc.get("type") == "list":
            assert doc.get("elements") == arg.get("elements"), (where, name)
        if "suboptions" in doc or "options" in arg:
            compare(doc.get("suboptions", {}), arg.get("options", {}), where + "." + name)


@pytest.mark.parametrize("name", MODULES)
def test_documentation_matches_argument_spec(name):
    mod, spec, kw = argument_spec(name)
    doc = yaml.safe_load(mod.DOCUMENTATION)
    options = dict(doc["options"])
    if kw.get("add_file_common_args"):
        # owner/group/mode/... come from the ansible.builtin.files fragment
        assert "ansible.builtin.files" in doc.get("extends_documentation_fragment", [])
    compare(options, spec, name)
    yaml.safe_load(mod.EXAMPLES)
    yaml.safe_load(mod.RETURN)
    assert kw.get("supports_check_mode") is True


@pytest.mark.parametrize("name", MODULES)
def test_ansible_doc_renders(name):
    exe = os.path.join(os.path.dirname(sys.executable), "ansible-doc")
    if not os.path.exists(exe):
        pytest.skip("ansible-doc not installed next to this python")
    out = subprocess.run([exe, "-M", str(ROOT / "library"), name], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert "OPTIONS" in out.stdout and "EXAMPLES" in out.stdout and "RETURN VALUES" in out.stdout


# Maps keyed by names the caller chose (parameters, services, table keys): no fixed keys to list.
FREE_FORM = {("postconf", "values"), ("postconf", "settings"), ("postconf", "services"), ("postmap", "query"),
             ("postfix_diagnose", "postconf_n"), ("postfix_state", "content"), ("postfix_state", "previous")}
AUTHOR = r"^[^()]+ \(@[A-Za-z0-9-]+\)$"  # ansible-test's format: Name (@github-handle)


@pytest.mark.parametrize("name", MODULES)
def test_collection_documentation_conventions(name):
    """What ansible-test validate-modules expects of a collection module, checked in the fast loop
    too: author format, an attributes block (check_mode, diff_mode, platform) and `contains`
    for every nested return value that has fixed keys."""
    import re

    mod = _load(name)
    doc = yaml.safe_load(mod.DOCUMENTATION)
    authors = doc["author"] if isinstance(doc["author"], list) else [doc["author"]]
    assert all(re.match(AUTHOR, a) for a in authors), authors
    assert {"check_mode", "diff_mode", "platform"} <= set(doc.get("attributes", {})), name
    assert all(doc["attributes"][a]["support"] in ("full", "partial", "none", "N/A")
               for a in ("check_mode", "diff_mode")), doc["attributes"]
    missing = []

    def walk(entries, path):
        for key, entry in (entries or {}).items():
            nested = entry.get("type") == "dict" or (entry.get("type") == "list" and entry.get("elements") == "dict")
            if nested and "contains" not in entry and (name, path + key) not in FREE_FORM and path:
                continue  # second-level detail dicts are described in words
            if nested and "contains" not in entry and (name, path + key) not in FREE_FORM:
                missing.append(path + key)
            walk(entry.get("contains"), path + key + ".")

    walk(yaml.safe_load(mod.RETURN), "")
    assert missing == [], "%s: nested return values without contains: %s" % (name, missing)
