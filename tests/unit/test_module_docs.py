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
