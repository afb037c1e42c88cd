#!/usr/bin/python
# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# postfix-remedy: the remediation's metrics for node_exporter's textfile collector on a host.
from __future__ import annotations

DOCUMENTATION = r"""
---
module: postfix_metrics
short_description: Write a remediation run's metrics for node_exporter's textfile collector
description:
  - Turns the record of one remediation run (what the C(postfix_remediate) role keeps as
    C(postfix_remediate_record)) into Prometheus metrics and writes them as
    C(postfix_remedy_remediation.prom) in I(directory), where node_exporter's textfile collector reads
    them; another Postfix instance than C(/etc/postfix) has its directory in the file name.
  - 'Metrics: C(postfix_remedy_remediation_last_run_timestamp_seconds), C(postfix_remedy_remediation_result)
    (one series per result: fixed, nothing_to_fix, incomplete, queue_failed, rolled_back; 1 for this run''s),
    C(postfix_remedy_remediation_fixed_timestamp_seconds) per fault ID this run fixed, and the counters
    C(postfix_remedy_remediation_fixes_total) per fault ID and C(postfix_remedy_remediation_runs_total) per
    result, which go on from the previous file.'
  - The shipped alert rules (role C(postfix_monitoring)) treat a finding as fixed once a remediation
    fixed it after the diagnosis that reported it, until the next diagnosis.
  - The file (mode 0644) is written through a fresh temporary file renamed into place, and only
    where it is ours (a regular file starting with postfix-remedy's header). A missing directory (it
    is never created), one that is not writable or full, or a foreign file or symlink at the name
    is a warning, never a failure.
  - C(changed) is always false (the file is the run's output, as the diagnosis' scan state is), so a
    second remediation still reports changed=0.
version_added: "1.1.0"
author: postfix-remedy maintainers (@postfix-remedy)
options:
  directory:
    description: node_exporter's textfile collector directory (Debian's C(/var/lib/prometheus/node-exporter)).
    type: path
    required: true
  record:
    description:
      - The remediation record. Keys read are C(selected) (fault IDs the run set out to fix),
        C(still_present), C(rolled_back) and C(queue_failure).
    type: dict
    required: true
  config_dir:
    description: The Postfix instance's configuration directory (the metrics' C(config_dir) label; default C(/etc/postfix)).
    type: path
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: 'Check mode writes nothing and says what it would write.'
  diff_mode:
    support: none
  platform:
    platforms: posix
notes:
  - Supports check mode.
"""

EXAMPLES = r"""
- name: The remediation's metrics for node_exporter
  postfix_remedy.toolkit.postfix_metrics:
    directory: /var/lib/prometheus/node-exporter
    record:
      selected: [relay.open_relay]
      still_present: []
      rolled_back: false
"""

RETURN = r"""
path:
  description: The metrics file.
  returned: always
  type: str
written:
  description: Whether it was written.
  returned: always
  type: bool
result:
  description: The run's result as the metrics say it (fixed, nothing_to_fix, incomplete, queue_failed, rolled_back).
  returned: always
  type: str
metrics:
  description: The text written (or that would be written).
  returned: always
  type: str
"""

import os
import time

try:  # from this repository: ansible.cfg puts module_utils/ on the module_utils path
    from ansible.module_utils import prom_textfile, remedy_metrics, safe_io
except ImportError:  # from the installed collection postfix_remedy.toolkit
    from ansible_collections.postfix_remedy.toolkit.plugins.module_utils import prom_textfile, remedy_metrics, safe_io


def main():
    module = safe_io.module_class()(
        argument_spec=dict(
            directory=dict(type="path", required=True),
            record=dict(type="dict", required=True),
            config_dir=dict(type="path"),
        ),
        supports_check_mode=True,
    )
    p = module.params
    record = p["record"]
    for key in ("selected", "still_present"):
        value = record.get(key) or []
        if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
            module.fail_json(msg="record.%s must be a list of fault IDs, not %r" % (key, value))
    config_dir = os.path.normpath(p["config_dir"]) if p["config_dir"] else "/etc/postfix"
    path = prom_textfile.file_path(p["directory"], "postfix_remedy_remediation", p["config_dir"])
    samples = remedy_metrics.remediation_samples(record, config_dir, prom_textfile.read_own(path), time.time())
    data, warnings = prom_textfile.render(samples, "postfix_metrics")
    dry = module.check_mode  # a dry run writes nothing on the host
    problem = None if dry else prom_textfile.write(path, data)
    if problem:
        warnings.append(problem)
    for w in warnings:
        module.warn(w)
    module.exit_json(changed=False, path=path, written=not dry and problem is None,
                     result=remedy_metrics.remediation_result(record), metrics=data.decode("utf-8"))


if __name__ == "__main__":
    main()
