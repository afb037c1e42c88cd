# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Render docs/faults.md, the reader's page of the fault catalog, from module_utils/fault_catalog.py.

    python3 docs/render_faults.py > docs/faults.md     (make docs)

A repository tool: the collection ships docs/faults.md, not this script (galaxy.yml build_ignore).

tests/unit/test_docs.py fails when docs/faults.md is not what this prints (a stale page)."""
import importlib.util
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_catalog():
    spec = importlib.util.spec_from_file_location("fault_catalog", os.path.join(ROOT, "module_utils", "fault_catalog.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _programs(log):
    progs = log["programs"]
    return "any Postfix daemon" if progs == "postfix" else ", ".join(progs)


def render(cat):
    out = ["# Fault catalog", "",
           "Generated from the fault catalog (`module_utils/fault_catalog.py` in the repository,",
           "`plugins/module_utils/fault_catalog.py` in the collection) by the repository's `docs/render_faults.py`",
           "(`make docs`); do not edit.",
           "Every fact about a fault ID lives in its catalog entry; the roles read them from the findings.", "",
           "Fix classes: **auto** (applied by `playbooks/remediate.yml`), **opt-in** (applied only when the ID is",
           "a key of `postfix_remediate_opt_in`, with the data listed), **advisory** (reported with the steps; a",
           "person acts).", "",
           "| ID | class | severity | title |", "|---|---|---|---|"]
    for fid, e in cat.CATALOG.items():
        out.append("| [`%s`](#%s) | %s | %s | %s |" % (fid, fid.replace(".", ""), e["cls"], e["severity"], e["title"]))
    for fid, e in cat.CATALOG.items():
        out += ["", "## %s" % fid, "", "**%s** (%s, %s). %s" % (e["title"], e["cls"], e["severity"], e["cause"]), ""]
        out += ["%d. %s" % (i, step) for i, step in enumerate(e["steps"], 1)]
        out.append("")
        fix = "roles/postfix_remediate/tasks/fix/%s.yml" % fid
        facts = []
        if os.path.exists(os.path.join(ROOT, fix)):
            facts.append("Fix: `%s`" % fix)
        else:
            facts.append("Fix: none automated (advisory)")
        own = os.path.exists(os.path.join(ROOT, "roles/lab_faults/tasks/%s.yml" % fid))
        facts.append("Lab injection (in the repository): %s (`make fault ID=%s`)" % (
            "`roles/lab_faults/tasks/%s.yml`" % fid if own else "its lines in `roles/lab_faults/vars/main.yml`", fid))
        if e["signature"]:
            facts.append("Log signature: a line holding %s (the regex: its catalog entry)" % (
                " or ".join("`%s`" % w for w in e["signature"]["words"])))
        if e["opt_in"]:
            facts.append("Opt-in data (`postfix_remediate_opt_in['%s']`): %s" % (fid, "; ".join(
                "`%s` (%s%s): %s" % (k, t, ", required" if req else "", what) for k, (t, req, what) in e["opt_in"].items())))
        if e["log"]:
            facts.append("Log lines: written by %s; inbound lines are %s (%s)" % (
                _programs(e["log"]), "a finding only for internal clients" if e["log"]["inbound"] == "internal"
                else "a fault", e["log"]["means"]))
        if e["inbound_finding"]:
            facts.append("Internal clients: %s finding" % (e["inbound_finding"][0] or "the catalog's class"))
        if e["sporadic"]:
            facts.append("Sporadic: a finding only from `log_min_count` lines in the window (default 5)")
        if e["live_check"]:
            facts.append("Live check: `%s` (when it passes, log lines are history)" % e["live_check"])
        if e["settings"]:
            facts.append("Shows this host's %s (what the fault does depends on them)" % ", ".join(
                "`%s`" % k for k in e["settings"]))
        if e["explained_by"]:
            facts.append("Symptom of: %s" % ", ".join("`%s`" % r for r in e["explained_by"]))
        if e["outside"]:
            facts.append("Needs someone outside: %s" % e["outside"])
        if e["releases_mail"]:
            facts.append("Its fix releases deferred mail (the queue is flushed afterwards)")
        if e["phase"] != "config":
            facts.append("Applied in the %s phase (after Postfix is up)" % e["phase"])
        if e["starts_postfix"]:
            facts.append("Its fix starts Postfix")
        if not e["verify_gone"]:
            facts.append("Not expected gone at the second diagnosis (drains over time)")
        facts.append("Seeds: %s" % e["seeds"])
        out += ["- %s" % f for f in facts]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render(load_catalog()))
