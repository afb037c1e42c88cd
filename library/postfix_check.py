#!/usr/bin/python
# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# postfix-remedy: the one validation step, `postfix check`, read-only when it has to be.
from __future__ import annotations

DOCUMENTATION = r"""
---
module: postfix_check
short_description: Validate the Postfix configuration with postfix check, without side effects in check mode
description:
  - Runs C(postfix check) on a pseudo-terminal (Postfix prints its warnings only to a terminal)
    and fails when it exits non-zero or prints a C(fatal:) line.
  - On some systems (Debian trixie) C(postfix check) also copies C(/etc/resolv.conf),
    C(/etc/services), C(/etc/hosts) and friends into the chroot under the queue directory and says
    C(updating X => Y). That is a change, and it is reported as one.
  - In check mode, or with I(readonly=true), the files under C($queue_directory/etc) are saved
    before the check and put back afterwards, so nothing changes; the updates the check would
    have made are still returned and reported as C(changed).
version_added: "1.0.0"
author: postfix-remedy maintainers (@postfix-remedy)
options:
  config_dir:
    description: Postfix configuration directory (C(postfix -c)). Defaults to Postfix's own.
    type: path
  readonly:
    description: Put back any chroot file the check rewrote, even outside check mode.
    type: bool
    default: false
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: 'In check mode the chroot files the check rewrote are put back, so nothing changes.'
  diff_mode:
    support: none
    details: "No diff: the chroot copies are the system's own files."
  platform:
    platforms: posix
notes:
  - Supports check mode. No diff (the chroot copies are the system's own files).
"""

EXAMPLES = r"""
- name: Postfix accepts the configuration
  postfix_remedy.toolkit.postfix_check:

- name: Validate an alternate instance without touching its chroot
  postfix_remedy.toolkit.postfix_check:
    config_dir: /etc/postfix-out
    readonly: true
"""

RETURN = r"""
ok:
  description: Whether postfix check passed.
  returned: always
  type: bool
output:
  description: Everything postfix check printed.
  returned: always
  type: str
warnings_found:
  description: The C(warning:) lines of the output.
  returned: always
  type: list
  elements: str
chroot_updates:
  description: The C(updating X => Y) lines (files the check copied, or would copy, into the chroot).
  returned: always
  type: list
  elements: str
  sample: ["updating /etc/resolv.conf => /var/spool/postfix//etc/resolv.conf"]
"""

try:  # from this repository: ansible.cfg puts module_utils/ on the module_utils path
    from ansible.module_utils import safe_io
    from ansible.module_utils.postfix_cmd import CHROOT_SYNC_RE, Postfix
except ImportError:  # from the installed collection postfix_remedy.toolkit
    from ansible_collections.postfix_remedy.toolkit.plugins.module_utils import safe_io
    from ansible_collections.postfix_remedy.toolkit.plugins.module_utils.postfix_cmd import CHROOT_SYNC_RE, Postfix


def main():
    module = safe_io.module_class()(
        argument_spec=dict(
            config_dir=dict(type="path"),
            readonly=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    readonly = module.params["readonly"] or module.check_mode
    pf = Postfix(module, module.params["config_dir"])
    ok, output = pf.check(readonly=readonly)
    lines = [ln.strip() for ln in output.splitlines() if ln.strip()]
    updates = [ln for ln in lines if CHROOT_SYNC_RE.match(ln)]
    result = dict(
        ok=ok and not any("fatal:" in ln for ln in lines),
        output=output,
        warnings_found=[ln for ln in lines if "warning:" in ln],
        chroot_updates=updates,
        changed=bool(updates) and (module.check_mode or not readonly),
    )
    if not result["ok"]:
        module.fail_json(msg="postfix check failed: %s" % (output or "no output"), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
