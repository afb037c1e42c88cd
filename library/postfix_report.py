#!/usr/bin/python
# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# postfix-remedy: the fleet report, on the controller, from the per-host JSON of the other roles.
from __future__ import annotations

DOCUMENTATION = r"""
---
module: postfix_report
short_description: Build the fleet report model, JUnit XML and fleet.json from the per-host reports
description:
  - Reads the per-host files that M(postfix_remedy.toolkit.postfix_diagnose) (through the postfix_diagnose role),
    the postfix_remediate role and the postfix_change_window role leave in a reports directory
    (C(HOST.json), C(HOST.remediation.json), C(HOST.change_window.json)).
  - Decides one state per host and finding (open, would_fix, fixed, rolled_back, not_fixed,
    opt_in, advisory, historical) and one status per host, aggregates the fleet (hosts x fault
    IDs matrix, counts by class, severity and state, deferred-queue heat map by domain and age,
    top deferral reasons and senders, bounce breakdown, the list of what needs someone outside
    the box) and the next steps.
  - Writes C(fleet.json) (the model), C(junit.xml) (one testcase per host x finding) and, from
    the given templates, C(index.html) and C(summary.md) into the directory, mode 0600.
  - Runs on the controller (delegated to localhost, or in a play on localhost); it never contacts a managed host.
  - The files it writes are the run's output, rewritten every run, not state of the fleet,
    so C(changed) is always false and a report never counts as a change in a play recap.
version_added: "1.0.0"
author: postfix-remedy maintainers (@postfix-remedy)
options:
  directory:
    description:
      - The reports directory (created, mode 0700, when missing).
      - A report's name that holds something not written by this module (a symlink, a directory, a
        hard link, or a file of another format, such as one that is not JSON for C(HOST.json) and
        C(fleet.json) or not XML for C(junit.xml)) is refused with a message naming it, and left unchanged.
    type: path
    required: true
  hosts:
    description:
      - Hosts that should have a report (usually the inventory group that was targeted). A host
        listed here without a report file is shown as "no report".
    type: list
    elements: str
    default: []
  dropped:
    description:
      - Hosts that left this run after their diagnosis (unreachable mid-run, or a task failed);
        the role passes C(ansible_play_hosts_all | difference(ansible_play_hosts)). Shown as
        "failed", with the reason, whatever their diagnosis said.
    type: list
    elements: str
    default: []
  stale_after:
    description: A host report older than the newest one by more than this many seconds is shown as stale (an earlier run).
    type: int
    default: 3600
  title:
    description: Title of the report.
    type: str
    default: Postfix fleet report
  junit:
    description: Write C(junit.xml).
    type: bool
    default: true
  html_template:
    description:
      - Jinja2 template of the HTML report, rendered here with autoescaping on (every value from
        a host is HTML-escaped) into C(index.html). The role passes its C(templates/report.html.j2).
    type: path
  markdown_template:
    description: Jinja2 template of the Markdown summary, rendered into C(summary.md). The role passes its C(templates/summary.md.j2).
    type: path
  host_reports:
    description:
      - Diagnosis reports to write first, one C(HOST.json) per key (mode 0600, atomically), so a
        play writes every host's report with one module run on the controller instead of one
        per host. The postfix_remediate role passes the records of its batch here (with
        I(host_report_suffix)).
      - The keys (inventory host names) become file names as they are, Unicode included; a name
        that cannot be one, or that would collide with another file of the directory, is refused
        before anything is written (see the notes).
    type: dict
    default: {}
  host_results:
    description:
      - postfix_diagnose results, one per host, written as C(HOST.json) like I(host_reports). The
        report's keys are taken from each result (Ansible's own keys, such as C(invocation), are
        left out); C(generated_at) is the controller's time, like every report of the fleet.
        The postfix_diagnose role passes its batch's registered results here, so no task per
        host builds a report first.
      - The keys are checked as for I(host_reports).
    type: dict
    default: {}
  host_report_suffix:
    description:
      - How the files of I(host_reports) end after the host name. The postfix_remediate role
        writes its records as C(HOST.remediation.json). The reports of I(host_results) are
        diagnoses and always end in C(.json).
    type: str
    choices: [.json, .remediation.json]
    default: .json
  render:
    description: Build and write the fleet report (fleet.json, junit.xml, index.html, summary.md). False writes only I(host_reports).
    type: bool
    default: true
  fail_severities:
    description: Severities whose unfixed findings are JUnit failures (the others pass with their text as output).
    type: list
    elements: str
    choices: [critical, high, medium, low, info]
    default: [critical, high, medium]
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: 'Check mode renders nothing and writes nothing.'
  diff_mode:
    support: none
    details: 'No diff: the report files are outputs.'
  platform:
    platforms: posix
notes:
  - Supports check mode (nothing is written) and no diff.
  - Host names name the report files (C(HOST.json), C(HOST.remediation.json),
    C(HOST.change_window.json)) unchanged, never encoded, so the file of a host is found under
    its inventory name. A name of printable UTF-8 characters is accepted (the space included;
    no control, format or other separator character), without C(/), not C(.) or C(..), and at
    most the file name limit of I(directory) (255 bytes) less the longest suffix
    (C(.change_window.json), 19 bytes) and the 10 bytes of the temporary name of an atomic
    write (226 bytes in all), so all three files of a host can be written.
  - Refused, because a file of theirs would be another file of the directory, compared
    case-insensitively (a macOS controller's file system does not tell C(Fleet.json) from
    C(fleet.json)) - C(fleet) (its report would be C(fleet.json), the fleet model), and a
    name ending in C(.remediation) or C(.change_window) (C(mx1.remediation.json) is the
    remediation record of C(mx1)). All names are checked before the first write, the directory
    included; the message names each refused host and why. Files already in I(directory) whose
    names are refused are listed in C(report.problems), not read.
"""

EXAMPLES = r"""
- name: Fleet report
  postfix_remedy.toolkit.postfix_report:
    directory: "{{ playbook_dir | dirname }}/reports"
    hosts: "{{ groups['postfix_servers'] }}"
  delegate_to: localhost
  run_once: true
  register: fleet
"""

RETURN = r"""
report:
  description: The report model (what the HTML and Markdown render); also written to fleet.json.
  returned: always
  type: dict
  contains:
    problems:
      description: "Files of the directory that were not read: unreadable, not a host report, or named after a refused host name."
      type: list
      elements: str
      returned: always
    hosts:
      description: One view per host (status, findings with their state, queue, log, remediation record).
      type: list
      elements: dict
      contains:
        host:
          description: "The inventory host name."
          type: str
          returned: always
        status:
          description: "The host's status in the report."
          type: str
          returned: always
        findings:
          description: "The host's findings, each with its state (fixed, open, would fix...)."
          type: list
          elements: dict
          returned: always
        queue:
          description: "The host's queue summary."
          type: dict
          returned: always
        log:
          description: "The host's log summary."
          type: dict
          returned: always
        remediation:
          description: "The remediation record written after this diagnosis, if any."
          type: dict
          returned: always
        previous_remediation:
          description: "A remediation record of an earlier run: older than the diagnosis, or of a host without one."
          type: dict
          returned: always
        change_window:
          description: "The change window record, if any."
          type: dict
          returned: always
    matrix:
      description: One row per fault ID found, one cell (state or null) per host in host_names order.
      type: list
      elements: dict
      contains:
        id:
          description: "The fault ID."
          type: str
          returned: always
        title:
          description: "The catalog title."
          type: str
          returned: always
        severity:
          description: "The catalog severity."
          type: str
          returned: always
        cls:
          description: "The catalog fix class (auto, opt-in, advisory)."
          type: str
          returned: always
        severities:
          description:
            - "The severities of the hosts' findings of this ID, worst first (what the HTML and Markdown
              grids show, like each host's findings): a rule can raise the catalog's severity (an expired
              certificate is critical), and a historical finding is info."
          type: list
          elements: str
          returned: always
        classes:
          description: "The fix classes of the hosts' findings of this ID (a historical finding is advisory)."
          type: list
          elements: str
          returned: always
        cells:
          description: "The state on each host (null where not found)."
          type: list
          elements: str
          returned: always
        hosts:
          description: "Hosts where the ID was found."
          type: int
          returned: always
    fleet:
      description: Counts by class, severity, state and host status; queue heat map, reasons, bounces, next steps.
      type: dict
      contains:
        hosts:
          description: "Hosts in the report."
          type: int
          returned: always
        findings:
          description: "Findings over all hosts."
          type: int
          returned: always
        by_class:
          description: "Findings per fix class."
          type: dict
          returned: always
        by_severity:
          description: "Findings per severity."
          type: dict
          returned: always
        by_state:
          description: "Findings per state."
          type: dict
          returned: always
        statuses:
          description: "Hosts per status."
          type: dict
          returned: always
        outside:
          description: "Findings someone outside the box must act on, with who."
          type: list
          elements: dict
          returned: always
        queue:
          description: "Fleet queue totals, heat map, top reasons and senders."
          type: dict
          returned: always
        bounces:
          description: "Bounce breakdown by status and reason."
          type: dict
          returned: always
        next_steps:
          description: "What to do next, in order."
          type: list
          elements: str
          returned: always
summary:
  description: One line per host, then the next steps, for the end of a run.
  returned: always
  type: list
  elements: str
files:
  description: Files written.
  returned: always
  type: list
  elements: str
failed_hosts:
  description: Hosts whose status is "failed", "no report" or "stale report".
  returned: always
  type: list
  elements: str
"""

import json
import os
import time

from ansible.module_utils.basic import missing_required_lib

try:  # from this repository: ansible.cfg puts module_utils/ on the module_utils path
    from ansible.module_utils import safe_io
    from ansible.module_utils.report_junit import to_xml
    from ansible.module_utils.report_model import NAME_MAX, build, diagnosis_report, host_name_problem, summary_lines
    from ansible.module_utils.report_render import HAS_JINJA2, JINJA2_ERROR, render
except ImportError:  # from the installed collection postfix_remedy.toolkit
    from ansible_collections.postfix_remedy.toolkit.plugins.module_utils import safe_io
    from ansible_collections.postfix_remedy.toolkit.plugins.module_utils.report_junit import to_xml
    from ansible_collections.postfix_remedy.toolkit.plugins.module_utils.report_model import (
        NAME_MAX,
        build,
        diagnosis_report,
        host_name_problem,
        summary_lines,
    )
    from ansible_collections.postfix_remedy.toolkit.plugins.module_utils.report_render import HAS_JINJA2, JINJA2_ERROR, render


_JSON = safe_io.json_object()


def _xml(data):
    return data.lstrip().startswith(b"<?xml") or data.lstrip().startswith(b"<testsuites")


def _write(path, text, is_ours=None):
    """Our own report file (safe_io.write_own): 0600 from the first byte (reports carry host
    details), a fresh temporary name, renamed into place; an existing path that is a symlink, a
    directory, a hard link or a file of another format (is_ours) is refused and left as it is."""
    safe_io.write_own(os.path.abspath(path), text.encode("utf-8", "surrogateescape"), "report file", is_ours, mode=0o600)


def _name_max(directory):
    """The file name limit (bytes) where the reports go: the directory's, or its nearest
    existing parent's (the directory may not exist yet)."""
    path = os.path.abspath(directory)
    while not os.path.isdir(path) and path != os.path.dirname(path):
        path = os.path.dirname(path)
    try:
        return min(NAME_MAX, os.pathconf(path, "PC_NAME_MAX"))
    except (OSError, ValueError):
        return NAME_MAX


def main():
    module = safe_io.module_class()(
        argument_spec=dict(
            directory=dict(type="path", required=True),
            hosts=dict(type="list", elements="str", default=[]),
            dropped=dict(type="list", elements="str", default=[]),
            stale_after=dict(type="int", default=3600),
            title=dict(type="str", default="Postfix fleet report"),
            junit=dict(type="bool", default=True),
            html_template=dict(type="path"),
            markdown_template=dict(type="path"),
            fail_severities=dict(type="list", elements="str", default=["critical", "high", "medium"],
                                 choices=["critical", "high", "medium", "low", "info"]),
            host_reports=dict(type="dict", default={}),
            host_results=dict(type="dict", default={}),
            host_report_suffix=dict(type="str", default=".json", choices=[".json", ".remediation.json"]),
            render=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    if not HAS_JINJA2 and (module.params["html_template"] or module.params["markdown_template"]):
        module.fail_json(msg=missing_required_lib("jinja2"), exception=str(JINJA2_ERROR))
    p = module.params
    for key in ("html_template", "markdown_template"):
        if p[key]:
            try:  # regular, readable files only: a FIFO must not hang the run
                safe_io.read_regular(p[key], key, limit=1)
            except safe_io.InputError as exc:
                module.fail_json(msg=str(exc))
    if p["stale_after"] < 0:
        module.fail_json(msg="stale_after must not be negative (got %d)" % p["stale_after"])
    if os.path.lexists(p["directory"]) and not os.path.isdir(p["directory"]):
        module.fail_json(msg="directory %s exists and is not a directory" % p["directory"])
    # Every name before the first write (the directory included): one bad name must not leave
    # half a batch of reports behind.
    name_max = _name_max(p["directory"])
    for key in ("host_reports", "host_results"):
        bad = [(h, host_name_problem(h, name_max)) for h in sorted(p[key])]
        bad = [(h, why) for h, why in bad if why]
        if bad:
            shown = "; ".join("%r %s" % (h if len(h) <= 60 else h[:50] + "...", why) for h, why in bad[:5])
            module.fail_json(msg="%s: %s; rename the inventory host (or its inventory_hostname): a report file is "
                             "named after it" % (key, shown))
    bad = sorted(h for h, r in p["host_results"].items() if not isinstance(r, dict))
    if bad:
        module.fail_json(msg="host_results: the result of %s is not a mapping" % ", ".join(repr(h) for h in bad[:5]))
    both = sorted(set(p["host_reports"]) & set(p["host_results"]))
    if both:
        module.fail_json(msg="%s in both host_reports and host_results: give each host once" % ", ".join(both[:5]))
    if not os.path.isdir(p["directory"]) and not module.check_mode:
        # No host got as far as its diagnosis: still write a report that says so.
        try:
            os.makedirs(p["directory"], mode=0o700)
        except OSError as exc:
            module.fail_json(msg="cannot create the reports directory %s: %s" % (p["directory"], exc))
    # host_report_suffix names the files of host_reports; diagnoses are always HOST.json
    reports = {h: (r, p["host_report_suffix"]) for h, r in p["host_reports"].items()}
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    reports.update((h, (diagnosis_report(h, r, stamp), ".json")) for h, r in p["host_results"].items())
    files = []
    if not module.check_mode:
        for host in sorted(reports):
            report, suffix = reports[host]
            path = os.path.join(p["directory"], host + suffix)
            try:
                _write(path, json.dumps(report, indent=4, sort_keys=False) + "\n", _JSON)
            except (OSError, safe_io.InputError) as exc:
                module.fail_json(msg="cannot write %s: %s" % (path, safe_io.oserror_text(exc)))
            files.append(path)
    if not p["render"]:
        module.exit_json(changed=False, files=files, report={}, summary=[], failed_hosts=[])
    model = build(p["directory"], expected=p["hosts"], stale_after=p["stale_after"], title=p["title"],
                  dropped=p["dropped"])
    if not module.check_mode:
        try:
            path = os.path.join(p["directory"], "fleet.json")
            _write(path, json.dumps(model, indent=1, sort_keys=False) + "\n", _JSON)
            files.append(path)
            if p["junit"]:
                path = os.path.join(p["directory"], "junit.xml")
                _write(path, to_xml(model, p["fail_severities"]), _xml)
                files.append(path)
            for key, name in (("html_template", "index.html"), ("markdown_template", "summary.md")):
                if p[key]:
                    path = os.path.join(p["directory"], name)
                    _write(path, render(p[key], model, html=name.endswith(".html")))
                    files.append(path)
        except (OSError, safe_io.InputError) as exc:
            module.fail_json(msg="cannot write the report into %s: %s" % (p["directory"], safe_io.oserror_text(exc)))
        except Exception as exc:  # a template error must say which template, not just fail
            module.fail_json(msg="cannot render the report: %s: %s" % (type(exc).__name__, exc))
    failed = [v["host"] for v in model["hosts"] if v["status"] in ("failed", "no report", "stale report")]
    module.exit_json(changed=False, report=model, summary=summary_lines(model), files=files, failed_hosts=failed)


if __name__ == "__main__":
    main()
