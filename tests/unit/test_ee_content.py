# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The execution environment holds ansible-core only (execution-environment.yml): every module,
filter, test and lookup that the shipped roles and playbooks use must resolve there.

Every task file of the collection's roles (the fix files included) and playbooks is walked; each
template expression (`{{ }}` strings and the bare expressions of when/changed_when/failed_when/
until/that) is compiled with Jinja and its filters, tests and lookups are resolved against what
ansible-core itself ships plus this project's modules. A call into another collection (the
`community.general.dict` that once broke the maps.unsupported_type fix in the EE) fails here.
"""
from __future__ import annotations

import importlib
import pkgutil
import warnings
from pathlib import Path

import ansible
import jinja2
import jinja2.defaults
import pytest
import yaml
from jinja2 import nodes

ROOT = Path(__file__).resolve().parents[2]
CORE = Path(ansible.__file__).parent
LAB = ("lab_faults", "lab_fleet", "lab_host")
BARE = ("when", "changed_when", "failed_when", "until", "that")


def _shipped_yaml():
    for p in sorted((ROOT / "roles").glob("*/**/*.yml")):
        role = p.relative_to(ROOT / "roles").parts[0]
        if role not in LAB and p.parts[-2] in ("tasks", "fix", "handlers") or (role not in LAB and "tasks" in p.parts):
            yield p
    for p in sorted((ROOT / "playbooks").glob("*.yml")):
        if p.stem not in ("lab", "demo"):
            yield p


FILES = sorted(set(_shipped_yaml()))


def _plugin_names(kind, attr):
    """Short names of ansible-core's filter or test plugins (Python plugins and YAML-documented ones)."""
    names = set()
    pkg = importlib.import_module("ansible.plugins." + kind)
    for info in pkgutil.iter_modules(pkg.__path__):
        mod = importlib.import_module("ansible.plugins.%s.%s" % (kind, info.name))
        cls = getattr(mod, attr, None)
        if cls is not None:
            names.update(getattr(cls(), kind + "s")().keys())
    return names


CORE_FILTERS = _plugin_names("filter", "FilterModule") | set(jinja2.defaults.DEFAULT_FILTERS)
CORE_TESTS = _plugin_names("test", "TestModule") | set(jinja2.defaults.DEFAULT_TESTS)
CORE_LOOKUPS = {p.stem for p in (CORE / "plugins" / "lookup").glob("*.py")} - {"__init__"}
CORE_MODULES = {p.stem for p in (CORE / "modules").glob("*.py")} - {"__init__"}
OUR_MODULES = {p.stem for p in (ROOT / "library").glob("*.py")}
OURS = "postfix_remedy.toolkit."
# Task keywords (not modules) that may sit beside the action.
KEYWORDS = {
    "name", "when", "register", "loop", "loop_control", "vars", "tags", "become", "become_user", "delegate_to",
    "run_once", "changed_when", "failed_when", "check_mode", "diff", "notify", "listen", "block", "rescue", "always",
    "ignore_errors", "no_log", "until", "retries", "delay", "environment", "args", "with_items", "with_dict",
    "delegate_facts", "any_errors_fatal", "throttle", "timeout", "module_defaults", "collections", "connection",
    "ignore_unreachable", "local_action", "async", "poll", "debugger", "remote_user", "become_method",
    "become_flags", "become_exe", "port", "vars_files",
}


def _resolves(name, short_names):
    if name.startswith("ansible.builtin."):
        return name[len("ansible.builtin."):] in short_names
    if name.startswith(OURS):
        return True
    return "." not in name and name in short_names


def _expressions(node, key=None):
    """(expression source, origin key) for every template string under a YAML node."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _expressions(v, k)
    elif isinstance(node, list):
        for v in node:
            yield from _expressions(v, key)
    elif isinstance(node, str):
        if key in BARE:
            yield "{{ %s }}" % node, key
        elif "{{" in node or "{%" in node:
            yield node, key


def _tasks(node):
    if isinstance(node, list):
        for t in node:
            if isinstance(t, dict):
                if "hosts" not in t and "import_playbook" not in t:  # a play is not a task
                    yield t
                for sub in ("block", "rescue", "always", "tasks", "pre_tasks", "post_tasks", "handlers"):
                    yield from _tasks(t.get(sub))


ENV = jinja2.Environment(extensions=["jinja2.ext.do", "jinja2.ext.loopcontrols"])


def _unresolved(path):
    doc = yaml.safe_load(path.read_text())
    bad = []
    for expr, key in _expressions(doc):
        # Warnings are errors: Jinja warns on an escape it does not know ('\s' in a string), which
        # Ansible (doubling backslashes in {{ }} strings first) reads another way than Jinja.
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                tree = ENV.parse(expr)
        except jinja2.TemplateSyntaxError as exc:
            bad.append("%s: syntax error %s in %r" % (key, exc, expr[:80]))
            continue
        for f in tree.find_all(nodes.Filter):
            if not _resolves(f.name, CORE_FILTERS):
                bad.append("filter %s" % f.name)
        for t in tree.find_all(nodes.Test):
            if not _resolves(t.name, CORE_TESTS):
                bad.append("test %s" % t.name)
        for c in tree.find_all(nodes.Call):
            if isinstance(c.node, nodes.Name) and c.node.name in ("lookup", "query", "q") and c.args:
                arg = c.args[0]
                if isinstance(arg, nodes.Const) and not _resolves(arg.value, CORE_LOOKUPS):
                    bad.append("lookup %s" % arg.value)
    for task in _tasks(doc):
        for k in task:
            if k in KEYWORDS or k.startswith("with_"):
                continue
            if not (_resolves(k, CORE_MODULES) or k in OUR_MODULES):
                bad.append("module %s" % k)
    return bad


def test_the_walk_sees_the_fix_files_and_their_expressions():
    fixes = [p for p in FILES if p.parent.name == "fix"]
    assert len(fixes) >= 30, fixes
    n = sum(1 for p in FILES for _ in _expressions(yaml.safe_load(p.read_text())))
    assert n > 300, n


def test_a_call_into_another_collection_is_caught(tmp_path):
    p = tmp_path / "t.yml"
    p.write_text("- name: x\n  community.general.ini_file: {path: '{{ a | community.general.dict }}'}\n"
                 "  when: a is community.general.foo\n")
    assert sorted(_unresolved(p)) == ["filter community.general.dict", "module community.general.ini_file",
                                      "test community.general.foo"]


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_expression_resolves_with_ansible_core_alone(path):
    assert _unresolved(path) == []
