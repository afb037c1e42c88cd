# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Render the report templates with Jinja2 directly: autoescaping on for HTML (every value that
came from a host, a log line or a bounce is escaped), a sandbox for both, no Ansible filters.

Ansible's own template engine does not honour {% autoescape %}, so the HTML is not rendered
with ansible.builtin.template.
"""
from __future__ import annotations

import json
import os

try:  # the report runs on the controller, where Ansible itself brings Jinja2
    from jinja2 import FileSystemLoader, select_autoescape
    from jinja2.sandbox import SandboxedEnvironment
    HAS_JINJA2, JINJA2_ERROR = True, None
except ImportError as exc:  # pragma: no cover - a target without Jinja2 (the report module fails clearly)
    HAS_JINJA2, JINJA2_ERROR = False, exc


def _pretty(value):
    return json.dumps(value, indent=1, sort_keys=True, default=str)


def render(template_path, report, html=True):
    env = SandboxedEnvironment(
        loader=FileSystemLoader(os.path.dirname(os.path.abspath(template_path))),
        autoescape=select_autoescape(default=html, default_for_string=html),
        trim_blocks=True, keep_trailing_newline=True)
    env.filters["pretty"] = _pretty
    return env.get_template(os.path.basename(template_path)).render(report=report)
