#!/usr/bin/python
# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# postfix-remedy: read, write or remove the run's own JSON files on a host (run state, fix ledger),
# never a file that is not ours, whatever variable named it.
from __future__ import annotations

DOCUMENTATION = r"""
---
module: postfix_state
short_description: Read, write or remove one of postfix-remedy's own state files on a host
description:
  - The remediation keeps two small JSON files on each host, the run state (a run in the middle
    of its fixes) and the fix ledger (which IDs were fixed, and when). This module is the only
    way the roles touch them.
  - An existing path that is not one of ours (a symlink, a directory, a device, a hard link, or
    content that is not that kind of file, such as C(main.cf) named by a careless variable) is
    refused with a message naming it, in check mode too, and nothing is written or removed.
  - New content goes to a fresh temporary file in the same directory (C(O_EXCL|O_NOFOLLOW)),
    mode 0600, and is renamed into place.
version_added: "1.1.0"
author: postfix-remedy maintainers (@postfix-remedy)
options:
  path:
    description: The file.
    type: path
    required: true
  kind:
    description:
      - Which of our files it is; decides what counts as ours.
      - C(run_state) is a JSON object with C(state) and C(backup); C(ledger) is a JSON object of
        fault ID to the epoch its fix started.
    type: str
    choices: [ledger, run_state]
    required: true
  state:
    description: C(present) writes I(content), C(absent) removes the file, C(read) only reads it.
    type: str
    choices: [present, absent, read]
    default: present
  content:
    description: The JSON object to write (C(state=present)).
    type: dict
  merge:
    description: With C(state=present), add I(content)'s keys to the file's object instead of replacing it.
    type: bool
    default: false
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: 'Check mode reports what would change and writes nothing; a path that is not ours fails in check mode too.'
  diff_mode:
    support: full
    details: 'The JSON before and after.'
  platform:
    platforms: posix
notes:
  - Supports check mode and diff.
"""

EXAMPLES = r"""
- name: Mark the run in progress on the host
  postfix_remedy.toolkit.postfix_state:
    path: /var/lib/postfix-remedy/run-state.json
    kind: run_state
    content: {state: applying, backup: /var/lib/postfix-remedy/backups/1764990000, files: [], absent: []}

- name: Record the fixed IDs
  postfix_remedy.toolkit.postfix_state:
    path: /var/lib/postfix-remedy/fixed.json
    kind: ledger
    merge: true
    content: {dns.resolver_dead: 1764990000}

- name: Did an earlier run stop in the middle
  postfix_remedy.toolkit.postfix_state:
    path: /var/lib/postfix-remedy/run-state.json
    kind: run_state
    state: read
  register: unfinished
"""

RETURN = r"""
content:
  description: The file's JSON object after the task (null when the file does not exist).
  returned: always
  type: dict
previous:
  description: The file's JSON object before the task (null when it did not exist).
  returned: always
  type: dict
exists:
  description: Whether the file exists after the task.
  returned: always
  type: bool
"""

import json

try:  # from this repository: ansible.cfg puts module_utils/ on the module_utils path
    from ansible.module_utils import safe_io
except ImportError:  # from the installed collection postfix_remedy.toolkit
    from ansible_collections.postfix_remedy.toolkit.plugins.module_utils import safe_io


def _ledger(data):
    try:
        obj = json.loads(safe_io.text(data))
    except ValueError:
        return False
    return isinstance(obj, dict) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in obj.values())


KINDS = {
    "run_state": ("run state", safe_io.json_object(("state", "backup"))),
    "ledger": ("fix ledger", _ledger),
}


def main():
    module = safe_io.module_class()(
        argument_spec=dict(
            path=dict(type="path", required=True),
            kind=dict(type="str", required=True, choices=sorted(KINDS)),
            state=dict(type="str", default="present", choices=["present", "absent", "read"]),
            content=dict(type="dict"),
            merge=dict(type="bool", default=False),
        ),
        required_if=[("state", "present", ("content",))],
        supports_check_mode=True,
    )
    p = module.params
    what, is_ours = KINDS[p["kind"]]
    if p["content"] is not None and not is_ours(json.dumps(p["content"]).encode()):
        shape = "a JSON object with state and backup" if p["kind"] == "run_state" else "fault ID -> epoch"
        module.fail_json(msg="content is not a %s (%s)" % (what, shape))
    try:
        raw = safe_io.check_own(p["path"], what, is_ours)
    except (safe_io.InputError, OSError) as exc:
        module.fail_json(msg=safe_io.oserror_text(exc))
    before = json.loads(safe_io.text(raw)) if raw is not None else None
    if p["state"] == "read":
        module.exit_json(changed=False, content=before, previous=before, exists=before is not None)
    if p["state"] == "absent":
        after = None
    else:
        after = dict(before or {}, **p["content"]) if p["merge"] else dict(p["content"])
    changed = after != before or (after is not None and raw is None)
    if changed and not module.check_mode:
        try:
            if after is None:
                safe_io.remove_own(p["path"], what, is_ours)
            else:
                safe_io.write_own(p["path"], (json.dumps(after, indent=1, sort_keys=True) + "\n").encode(),
                                  what, is_ours)
        except (safe_io.InputError, OSError) as exc:
            module.fail_json(msg=safe_io.oserror_text(exc))
    diff = dict(before=json.dumps(before, indent=1, sort_keys=True) + "\n" if before is not None else "",
                after=json.dumps(after, indent=1, sort_keys=True) + "\n" if after is not None else "",
                before_header=p["path"], after_header=p["path"])
    extra = dict(diff=diff) if module._diff else {}
    module.exit_json(changed=changed, content=after, previous=before, exists=after is not None, **extra)


if __name__ == "__main__":
    main()
