#!/usr/bin/python
# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# postfix-remedy: edit main.cf and master.cf through postconf(1), never by text edits.
from __future__ import annotations

DOCUMENTATION = r"""
---
module: postconf
short_description: Read and change Postfix main.cf and master.cf through postconf
description:
  - Sets, removes or comments out main.cf parameters, adds or removes items of list-valued
    parameters, and edits master.cf services, their fields and their C(-o) parameters.
  - Every edit is made with C(postconf -e/-X/-#/-M/-F/-P); the module never rewrites the files
    itself. It compares against Postfix's own view (C(postconf -h), C(-n), C(-M), C(-F), C(-P)),
    so values written differently (extra whitespace, commas instead of spaces in lists) are
    already correct and cause no change.
  - The edits are first applied to a scratch copy of the two files to produce the diff, so check
    mode shows exactly what a real run would write. A real run then applies them, runs
    C(postfix check), and restores the previous files if the check fails.
  - Contradictory options are refused before anything runs, each named in the message - one
    main.cf name in two of I(parameters), I(secret_parameters), I(absent), I(commented) and
    I(list_add)/I(list_remove); one item in both I(list_add) and I(list_remove) of a name; a
    service given twice in I(services), or with C(state=absent) and edits too; one C(-o) name in
    both C(params) and C(params_absent), one argument in both C(args_present) and C(args_absent).
  - Postfix's C(unused parameter) and C(undefined parameter) warnings about the resulting
    configuration are returned in RV(parameter_warnings) and shown as module warnings.
  - Returns C(needs=restart) when a parameter the master only reads at start changed
    (C(inet_interfaces), C(inet_protocols), C(queue_directory), ...), otherwise C(needs=reload)
    for any change and C(needs=none) when nothing changed. The module itself never reloads.
version_added: "1.0.0"
author: postfix-remedy maintainers (@postfix-remedy)
options:
  config_dir:
    description: Postfix configuration directory (C(postconf -c)), for multi-instance hosts.
    type: path
  parameters:
    description:
      - main.cf parameters to set, name to value. Lists are joined with C(, ), booleans become
        C(yes)/C(no).
    type: dict
    default: {}
  secret_parameters:
    description:
      - Like I(parameters), for values that carry a credential (C(smtp_sasl_password_maps =
        static:user:password) or C(inline:{...})). Marked C(no_log), so the value is not even in the
        invocation Ansible logs on the host; it is masked in the diff and every returned value.
      - Inline credentials already in main.cf or master.cf, or passed in I(parameters), are masked
        in the results too, but only I(secret_parameters) keeps them out of the host's log of the
        module invocation.
    type: dict
    default: {}
  absent:
    description: main.cf parameters to remove (C(postconf -X)); missing ones are fine.
    type: list
    elements: str
    default: []
  commented:
    description: main.cf parameters to comment out (C(postconf -#)).
    type: list
    elements: str
    default: []
  list_add:
    description:
      - Items to add to list-valued parameters, parameter name to list of items. An item may be
        several words (C(check_client_access hash:/etc/postfix/access)). Items already present
        are left alone; new ones are appended, but before a trailing catch-all
        C(permit)/C(reject)/C(defer) of a restriction list.
    type: dict
    default: {}
  list_remove:
    description: Items to remove from list-valued parameters, parameter name to list of items.
    type: dict
    default: {}
  services:
    description: master.cf edits, one entry per service.
    type: list
    elements: dict
    default: []
    suboptions:
      service:
        description: Service as C(NAME/TYPE), e.g. C(smtp/inet) or C(submission/inet).
        type: str
        required: true
      state:
        description: C(absent) removes the service (C(postconf -MX)).
        type: str
        choices: [present, absent]
        default: present
      entry:
        description:
          - The whole line after name and type (C(n - y - - smtpd)), to create or replace the
            service with C(postconf -M). Compared field by field, ignoring C(-o) options.
        type: str
      fields:
        description:
          - Fields to set with C(postconf -F). Keys are C(private), C(unprivileged), C(chroot),
            C(wakeup), C(process_limit), C(command).
        type: dict
        default: {}
      params:
        description: C(-o) parameters of the service to set (C(postconf -P)), name to value.
        type: dict
        default: {}
      params_absent:
        description: C(-o) parameters of the service to remove (C(postconf -PX)).
        type: list
        elements: str
        default: []
      args_present:
        description: Command arguments that must be present, e.g. C(-v) on smtpd.
        type: list
        elements: str
        default: []
      args_absent:
        description: Command arguments that must be absent, e.g. C(-v) left on by a debug session.
        type: list
        elements: str
        default: []
  allow_unknown:
    description:
      - Allow parameter names Postfix does not know (user-defined C($variables) referenced
        from master.cf). Without it an unknown name is rejected, with the closest known name
        suggested.
    type: bool
    default: false
  backup:
    description: Keep timestamped copies of main.cf and master.cf before writing.
    type: bool
    default: false
  validate:
    description: Run C(postfix check) after writing and restore the previous files if it fails.
    type: bool
    default: true
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: 'Check mode computes the change on a scratch copy of the configuration and reports it.'
  diff_mode:
    support: full
    details: 'The diff of main.cf and master.cf, secret values masked.'
  platform:
    platforms: posix
notes:
  - Supports check mode and diff mode.
  - Reading only (no option given) returns the explicit settings (C(postconf -n)) and services.
seealso:
  - name: postconf(5)
    description: Postfix configuration parameters.
    link: https://www.postfix.org/postconf.5.html
  - name: master(5)
    description: master.cf syntax.
    link: https://www.postfix.org/master.5.html
"""

EXAMPLES = r"""
- name: SASL credentials for the relay, kept out of logs and diffs (prefer a hash map file)
  postfix_remedy.toolkit.postconf:
    secret_parameters:
      smtp_sasl_password_maps: "static:{{ relay_user }}:{{ relay_password }}"
    parameters:
      smtp_sasl_auth_enable: true

- name: Relay through the smarthost and keep lookups fast
  postfix_remedy.toolkit.postconf:
    parameters:
      relayhost: "[smtp.example.net]:587"
      smtp_dns_support_level: dnssec
  notify: Reload postfix

- name: Close an open relay without touching the other restrictions
  postfix_remedy.toolkit.postconf:
    list_add:
      smtpd_relay_restrictions: [reject_unauth_destination]
    list_remove:
      mynetworks: [0.0.0.0/0]

- name: Take soft_bounce out, comment out a stale parameter
  postfix_remedy.toolkit.postconf:
    absent: [soft_bounce]
    commented: [smtp_bind_address]

- name: Remove a forgotten -v from smtpd and bind the relay transport
  postfix_remedy.toolkit.postconf:
    services:
      - service: smtp/inet
        args_absent: ["-v"]
      - service: relay/unix
        params:
          smtp_bind_address: 127.0.0.1

- name: Second instance
  postfix_remedy.toolkit.postconf:
    config_dir: /etc/postfix-out
    parameters:
      inet_interfaces: loopback-only
  register: out
  # out.needs == "restart"
"""

RETURN = r"""
changed:
  description: Whether main.cf or master.cf changed (or would change in check mode).
  type: bool
  returned: always
needs:
  description: What Postfix needs for the change to take effect.
  type: str
  returned: always
  sample: reload
changes:
  description: One human-readable line per change.
  type: list
  elements: str
  returned: always
  sample: ["set relayhost: '' -> '[smtp.example.net]:587'"]
unified_diff:
  description: Unified diff (no context lines) of main.cf and master.cf, empty when nothing changes; also in check mode.
  type: str
  returned: always
commands:
  description: The postconf argv lists run against the real configuration.
  type: list
  elements: list
  returned: always
backup_files:
  description: Backup copies written (with I(backup=true)).
  type: list
  elements: str
  returned: always
values:
  description: Effective values (C(postconf -h)) of every main.cf parameter named in the call, after the change.
  type: dict
  returned: always
settings:
  description: All explicit main.cf settings (C(postconf -n)) after the call.
  type: dict
  returned: always
services:
  description: master.cf services after the call, C(NAME/TYPE) to fields.
  type: dict
  returned: always
warnings_postconf:
  description: Warnings printed by postconf while editing (an unmatched service), and every line of RV(parameter_warnings).
  type: list
  elements: str
  returned: always
parameter_warnings:
  description:
    - postconf's C(unused parameter) (a name Postfix does not use, often misspelt; ignored) and
      C(undefined parameter) (a C($name) nothing defines; read as empty) warnings about the
      configuration after the call (in check mode, the configuration it would write), each once.
    - Each is also a module warning (the first ten), so it shows in the play's output.
  type: list
  elements: str
  returned: always
  sample: ["postconf: warning: /etc/postfix/main.cf: unused parameter: smtp_sasl_pasword_maps=hash:/etc/postfix/sasl_passwd"]
check_output:
  description: Output of C(postfix check) when it was run.
  type: str
  returned: when validate ran
"""

import difflib
import os
import shutil
import tempfile
import time

from ansible.module_utils.common.parameters import remove_values

try:  # from this repository: ansible.cfg puts module_utils/ on the module_utils path
    from ansible.module_utils import postfix_conf as pc
    from ansible.module_utils import safe_io
    from ansible.module_utils.postfix_cmd import Postfix
    from ansible.module_utils.secret_params import hide, secret_forms, secret_values
except ImportError:  # from the installed collection postfix_remedy.toolkit
    from ansible_collections.postfix_remedy.toolkit.plugins.module_utils import postfix_conf as pc
    from ansible_collections.postfix_remedy.toolkit.plugins.module_utils import safe_io
    from ansible_collections.postfix_remedy.toolkit.plugins.module_utils.postfix_cmd import Postfix
    from ansible_collections.postfix_remedy.toolkit.plugins.module_utils.secret_params import hide, secret_forms, secret_values

FILES = ("main.cf", "master.cf")


def diff_lines(data):
    """Lines of a file's bytes for difflib, split on \\n only (a lone CR stays inside its line)."""
    parts = data.split(b"\n")
    lines = [safe_io.text(x + b"\n") for x in parts[:-1]]
    return lines + ([safe_io.text(parts[-1])] if parts[-1] else [])


def closest(name, known):
    match = difflib.get_close_matches(name, known, n=1, cutoff=0.75)
    return match[0] if match else None


class Planner:
    """Works out the postconf argument lists that bring the config to the wanted state."""

    def __init__(self, module, pf):
        self.module = module
        self.pf = pf
        self.ops = []        # postconf argument lists, in order
        self.changes = []    # human-readable lines
        self.touched = set()  # main.cf parameter names named by the caller
        self.restart = False
        self._explicit = pc.parse_n(pf.postconf("-n")[1])
        self._written = self._main_cf_settings()  # includes names postconf -n leaves out
        self._known = None

    def _main_cf_settings(self):
        path = os.path.join(self.pf.config_dir or "/etc/postfix", "main.cf")
        try:
            with open(path, encoding="utf-8", errors="replace") as fh:
                return pc.main_cf_settings(fh.read())
        except OSError:
            return {}

    def known(self):
        if self._known is None:
            self._known = set(pc.parse_n(self.pf.postconf("-d")[1]))
            self._known |= set(pc.parse_n(self.pf.postconf()[1]))
        return self._known

    def fail(self, msg):
        self.module.fail_json(msg=msg, changed=False)

    def check_param(self, name, value=None):
        try:
            pc.check_name(name)
            if value is not None:
                pc.check_value(name, value)
        except pc.ValueError_ as exc:
            self.fail(str(exc))
        if not self.module.params["allow_unknown"] and name not in self.known() and name not in self._explicit:
            hint = closest(name, sorted(self.known()))
            self.fail("unknown Postfix parameter %r%s; set allow_unknown=true if it is a user-defined variable"
                      % (name, " (did you mean %r?)" % hint if hint else ""))

    def effective(self, name):
        if name in self._explicit:
            return self._explicit[name]
        return self.pf.param(name)

    def _changed(self, name, line):
        self.changes.append(line)
        if name in pc.RESTART_PARAMS:
            self.restart = True

    def set_params(self, params):
        for name, raw in params.items():
            value = pc.render_value(raw, name)
            self.check_param(name, value)
            self.touched.add(name)
            cur = self.effective(name)
            if name in self._explicit and pc.same_value(name, cur, value):
                continue
            if name not in self._explicit and pc.same_value(name, cur, value):
                continue  # the default already says so; don't pin it
            self.ops.append(["-e", "%s=%s" % (name, value)])
            self._changed(name, "set %s: %r -> %r" % (name, cur, value))

    def remove_params(self, names, flag, verb):
        for name in names:
            try:
                pc.check_name(name)
            except pc.ValueError_ as exc:
                self.fail(str(exc))
            self.touched.add(name)
            if name in self._explicit or name in self._written:
                self.ops.append([flag, name])
                self._changed(name, "%s %s (was %r)" % (verb, name, self._explicit.get(name, self._written.get(name))))

    def edit_lists(self, adds, removes):
        for name in sorted(set(adds) | set(removes)):
            add = [pc.render_value(v, name) for v in (adds.get(name) or [])]
            remove = [pc.render_value(v, name) for v in (removes.get(name) or [])]
            for item in add + remove:
                self.check_param(name, item)
            self.check_param(name)
            self.touched.add(name)
            cur = self.effective(name)
            new = pc.list_edit(cur, add, remove)
            if new is None:
                continue
            self.ops.append(["-e", "%s=%s" % (name, new)])
            self._changed(name, "list %s: %r -> %r" % (name, cur, new))

    def edit_services(self, services):
        if not services:
            return
        current = pc.parse_M(self.pf.postconf("-M")[1])
        params = pc.parse_P(self.pf.postconf("-P")[1])
        for spec in services:
            svc = spec["service"]
            try:
                pc.check_service(svc)
                for k, v in (spec.get("params") or {}).items():
                    pc.check_name(k)
                    pc.check_value(k, pc.render_value(v))
                for k in spec.get("params_absent") or []:
                    pc.check_name(k)
                for k, v in (spec.get("fields") or {}).items():
                    if k not in pc.EDITABLE_FIELDS:
                        raise pc.ValueError_("unknown master.cf field %r for %s (one of %s)"
                                             % (k, svc, ", ".join(pc.EDITABLE_FIELDS)))
                    pc.check_value(k, pc.render_value(v))
                if spec.get("entry"):
                    pc.check_value(svc, spec["entry"])
            except pc.ValueError_ as exc:
                self.fail(str(exc))
            cur = current.get(svc)
            if spec.get("state") == "absent":
                if cur:
                    self.ops.append(["-MX", svc])
                    self.changes.append("remove service %s" % svc)
                continue
            if spec.get("entry"):
                want = spec["entry"].split()
                if len(want) < 6:
                    self.fail("entry for %s needs 6 fields after name and type: private unpriv chroot wakeup maxproc command"
                              % svc)
                have = None
                if cur:
                    have = [cur[f] for f in pc.EDITABLE_FIELDS[:-1]] + pc.strip_o(cur["command"]).split()
                if have != want:
                    name, typ = svc.split("/")
                    line = " ".join([name, typ] + want)
                    if cur:  # keep the service's -o options: replace fields, not the whole line
                        for field, value in zip(pc.EDITABLE_FIELDS[:-1], want[:5]):
                            if cur[field] != value:
                                self.ops.append(["-F", "%s/%s=%s" % (svc, field, value)])
                        if pc.strip_o(cur["command"]).split() != want[5:]:
                            self.ops.append(["-F", "%s/command=%s" % (svc, " ".join(want[5:]))])
                    else:
                        self.ops.append(["-M", "%s=%s" % (svc, line)])
                    self.changes.append("service %s: %r -> %r" % (svc, " ".join(have or []), " ".join(want)))
                    cur = dict(zip(pc.MASTER_FIELDS, [name, typ] + want[:5] + [" ".join(want[5:])]))
            if not cur:
                self.fail("service %s is not in master.cf; give `entry` to create it" % svc)
            for field, raw in (spec.get("fields") or {}).items():
                value = pc.render_value(raw)
                have = pc.strip_o(cur["command"]) if field == "command" else cur[field]
                if " ".join(have.split()) != " ".join(value.split()):
                    self.ops.append(["-F", "%s/%s=%s" % (svc, field, value)])
                    self.changes.append("service %s field %s: %r -> %r" % (svc, field, have, value))
                    cur = dict(cur, **{field: value})
            if spec.get("args_present") or spec.get("args_absent"):
                command = pc.strip_o(cur["command"])
                new = pc.edit_args(command, spec.get("args_present") or [], spec.get("args_absent") or [])
                if new is not None:
                    self.ops.append(["-F", "%s/command=%s" % (svc, new)])
                    self.changes.append("service %s command: %r -> %r" % (svc, command, new))
            have_p = params.get(svc, {})
            for k, raw in (spec.get("params") or {}).items():
                value = pc.render_value(raw)
                if have_p.get(k) is None or not pc.same_value(k, have_p[k], value):
                    self.ops.append(["-P", "%s/%s=%s" % (svc, k, value)])
                    self.changes.append("service %s -o %s: %r -> %r" % (svc, k, have_p.get(k), value))
            for k in spec.get("params_absent") or []:
                if k in have_p:
                    self.ops.append(["-PX", "%s/%s" % (svc, k)])
                    self.changes.append("service %s remove -o %s (was %r)" % (svc, k, have_p[k]))


def contradictions(p):
    """Options that ask for two end states of one thing: which one wins must not depend on the
    order the edits happen to run in, so they are refused before anything runs."""
    out = []
    main = (("parameters", set(p["parameters"])), ("secret_parameters", set(p["secret_parameters"])),
            ("absent", set(p["absent"])), ("commented", set(p["commented"])),
            ("list_add/list_remove", set(p["list_add"]) | set(p["list_remove"])))
    for i, (key_a, names_a) in enumerate(main):
        for key_b, names_b in main[i + 1:]:
            out += ["%s is in both %s and %s" % (n, key_a, key_b) for n in sorted(names_a & names_b, key=str)]
    for name in sorted(set(p["list_add"]) & set(p["list_remove"]), key=str):
        add = {" ".join(pc.render_value(v, name).split()) for v in p["list_add"][name]}
        both = [v for v in p["list_remove"][name] if " ".join(pc.render_value(v, name).split()) in add]
        out += ["list_add and list_remove of %s both have %r" % (name, v) for v in both]
    seen = set()
    for spec in p["services"]:
        svc = spec["service"]
        if svc in seen:
            out.append("service %s is given twice in services (one entry per service)" % svc)
        seen.add(svc)
        if spec.get("state") == "absent":
            edits = [k for k in ("entry", "fields", "params", "params_absent", "args_present", "args_absent")
                     if spec.get(k)]
            if edits:
                out.append("service %s is state=absent but also has %s" % (svc, ", ".join(edits)))
        out += ["service %s has %r in both params and params_absent" % (svc, k)
                for k in sorted(set(spec.get("params") or {}) & set(spec.get("params_absent") or []))]
        out += ["service %s has %r in both args_present and args_absent" % (svc, a)
                for a in sorted(set(spec.get("args_present") or []) & set(spec.get("args_absent") or []))]
    return out


def parameter_warnings(stderr, scratch=None, conf_dir=None):
    """postconf's "unused parameter" (a misspelt or unknown name, which Postfix ignores) and
    "undefined parameter" (a $name nothing defines) warnings, once each, naming the real files."""
    out = []
    for line in (stderr or "").splitlines():
        if "warning:" in line and ("unused parameter:" in line or "undefined parameter:" in line):
            line = line.strip().replace(scratch, conf_dir) if scratch else line.strip()
            if line not in out:
                out.append(line)
    return out


def apply_ops(pf, ops, record, on_error=None):
    """Run the postconf edits in order. A failing edit (disk full, read-only file system) calls
    on_error(message) when given, else fails the module."""
    warnings = []
    for op in ops:
        rc, out, err = pf.postconf(*op, record=record, check=on_error is None)
        if rc != 0:
            on_error("postconf %s failed: %s" % (" ".join(op), (err or out).strip()))
        warnings.extend(line for line in err.splitlines() if line.strip())
    return warnings


def main():
    service_spec = dict(
        service=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        entry=dict(type="str"),
        fields=dict(type="dict", default={}),
        params=dict(type="dict", default={}),
        params_absent=dict(type="list", elements="str", default=[]),
        args_present=dict(type="list", elements="str", default=[]),
        args_absent=dict(type="list", elements="str", default=[]),
    )
    module = safe_io.module_class()(
        argument_spec=dict(
            config_dir=dict(type="path"),
            parameters=dict(type="dict", default={}),
            secret_parameters=dict(type="dict", default={}, no_log=True),
            absent=dict(type="list", elements="str", default=[]),
            commented=dict(type="list", elements="str", default=[]),
            list_add=dict(type="dict", default={}),
            list_remove=dict(type="dict", default={}),
            services=dict(type="list", elements="dict", default=[], options=service_spec),
            allow_unknown=dict(type="bool", default=False),
            backup=dict(type="bool", default=False),
            validate=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    p = module.params
    # Every form a secret value can take in a result (as given, as written, quoted) is masked
    # before anything can fail and echo it.
    hide(module, secret_forms(p["secret_parameters"].values()))
    pf = Postfix(module, p["config_dir"])
    conf_dir = p["config_dir"] or pf.postconf("-h", "config_directory")[1].strip()
    for key in ("list_add", "list_remove"):
        for name, items in p[key].items():
            if not isinstance(items, list):
                module.fail_json(msg="%s.%s must be a list of items" % (key, name))
    try:
        clash = contradictions(p)
    except pc.ValueError_ as exc:  # an item with no main.cf form (a mapping): said as edit_lists says it
        module.fail_json(msg=str(exc))
    if clash:
        module.fail_json(msg="contradictory options, nothing changed: %s" % "; ".join(clash))
    paths = {f: os.path.join(conf_dir, f) for f in FILES}
    try:  # the files exactly as they are: the diff's "before" and what a rollback puts back
        saved = safe_io.snapshot(paths.values(), "Postfix configuration file")
    except safe_io.InputError as exc:
        module.fail_json(msg=str(exc))
    before = {f: saved[paths[f]] or b"" for f in FILES}
    hide(module, secret_values(p["parameters"], texts=[safe_io.text(b) for b in before.values()]))

    plan = Planner(module, pf)
    try:  # every value is validated here, before the first write
        plan.set_params(dict(p["parameters"], **p["secret_parameters"]))
        plan.remove_params(p["absent"], "-X", "remove")
        plan.remove_params(p["commented"], "-#", "comment out")
        plan.edit_lists(p["list_add"], p["list_remove"])
        plan.edit_services(p["services"])
    except pc.ValueError_ as exc:
        module.fail_json(msg=str(exc))

    after = dict(before)
    warnings, param_warnings = [], None
    if plan.ops:
        # Dry run on a scratch copy: the diff shows what postconf itself writes.
        scratch = tempfile.mkdtemp(prefix="postconf-")
        try:
            for f in FILES:
                path = os.path.join(scratch, f)
                with open(path, "wb") as fh:
                    fh.write(before[f])
                # Postfix waits for a config file modified "just now" to settle; backdate the scratch copy.
                os.utime(path, (time.time() - 60, time.time() - 60))
            dry = Postfix(module, scratch)

            def dry_failed(message):  # name the user's directory, not the scratch copy
                module.fail_json(msg=message.replace(scratch, conf_dir), changed=False)
            warnings = [w.replace(scratch, conf_dir) for w in apply_ops(dry, plan.ops, record=False, on_error=dry_failed)]
            after = {f: safe_io.read_regular(os.path.join(scratch, f), missing=b"") for f in FILES}
            # what Postfix will warn about in the new configuration (check mode included)
            param_warnings = parameter_warnings(dry.postconf("-n", check=False)[2], scratch, conf_dir)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    # inline credentials (static:/inline: password maps) are masked in diffs, settings, invocation
    hide(module, secret_values(p["parameters"], texts=[safe_io.text(b) for b in after.values()]))
    changed = after != before
    result = dict(changed=changed, changes=plan.changes if changed else [], commands=[], backup_files=[],
                  needs=("restart" if plan.restart else "reload") if changed else "none",
                  warnings_postconf=warnings)
    # A compact unified diff, always: the remediation record and the fleet report show it.
    result["unified_diff"] = "".join(
        "".join(difflib.unified_diff(diff_lines(before[f]), diff_lines(after[f]), paths[f], paths[f], n=0))
        for f in FILES if before[f] != after[f])
    if module._diff:
        result["diff"] = [dict(before_header=paths[f], after_header=paths[f],
                               before=safe_io.text(before[f]), after=safe_io.text(after[f]))
                          for f in FILES if before[f] != after[f]]

    if changed and not module.check_mode:
        if p["backup"]:
            for f in FILES:
                if os.path.exists(paths[f]):
                    result["backup_files"].append(module.backup_local(paths[f]))

        def undo(message):
            # an edit failed half way (e.g. main.cf written, master.cf not): put both files back
            try:
                safe_io.restore(saved)
                state = "previous main.cf and master.cf restored"
                for copy in result["backup_files"]:  # copies of what is live again: not left behind
                    os.unlink(copy)
                result["backup_files"] = []
            except OSError as exc:
                state = "RESTORING THE PREVIOUS FILES FAILED TOO (%s); copies: %s" % (
                    safe_io.oserror_text(exc), result["backup_files"] or "none")
            result.update(changed=False, needs="none", rolled_back=True, commands=pf.commands)
            module.fail_json(msg="%s; %s" % (message, state), **result)

        apply_ops(pf, plan.ops, record=True, on_error=undo)
        result["commands"] = pf.commands
        rc, _out, err = pf.postconf("-n", check=False)  # Postfix must still read what was written
        if rc != 0:
            undo("postconf cannot read the new configuration: %s" % (err.strip() or "rc=%d" % rc))
        for f in FILES:  # a symlinked main.cf stays a symlink; its target gets the new content
            try:
                if safe_io.keep_link(paths[f], saved[paths[f]]):
                    result.setdefault("kept_symlinks", []).append(paths[f])
            except OSError as exc:
                undo("cannot write the new %s through its symlink: %s" % (f, safe_io.oserror_text(exc)))
        if p["validate"]:
            ok, output = pf.check()
            result["check_output"] = output
            if not ok:
                undo("postfix check failed after the change: %s" % (output or "no output"))

    if not module.check_mode or not changed:
        _rc, out_n, err_n = pf.postconf("-n")
        settings = pc.parse_n(out_n)
        param_warnings = parameter_warnings(err_n)
        result["settings"] = settings
        result["values"] = {n: (settings[n] if n in settings else pf.param(n)) for n in sorted(plan.touched)
                            if n in settings or n in plan.known()}
        result["services"] = pc.parse_M(pf.postconf("-M")[1])
    else:
        result.update(settings={}, values={}, services={})
    # Postfix ignores an unused (misspelt, unknown) parameter and reads an undefined $name as
    # empty, with only a warning in its log: said here, not left inside check_output
    result["parameter_warnings"] = param_warnings or []
    result["warnings_postconf"] = warnings + [w for w in result["parameter_warnings"] if w not in warnings]
    for line in result["parameter_warnings"][:10]:  # warnings are not masked by Ansible: mask them here
        module.warn(remove_values(line, module.no_log_values))
    if len(result["parameter_warnings"]) > 10:
        module.warn("and %d more postconf warnings: see parameter_warnings" % (len(result["parameter_warnings"]) - 10))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
