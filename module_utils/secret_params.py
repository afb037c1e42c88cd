# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Credentials written straight into Postfix configuration, found so modules can hide them.

`smtp_sasl_password_maps = static:user:password` or `inline:{ [relay]:587=user:password }` put
a password in main.cf (or in a master.cf `-o`). Anything that shows configuration (postconf -n
in a report, a main.cf diff, a module's returned settings) must not repeat it. Modules add what
secret_values() finds to AnsibleModule.no_log_values, so Ansible masks it everywhere in the
result, the invocation and the diff. Map files (hash:/etc/postfix/sasl_passwd) are paths, not
secrets, and stay visible.
"""
from __future__ import annotations

import re

# Names whose static:/inline: values are credentials. Loose on purpose: a misspelt
# smtp_sasl_pasword_maps (which Postfix ignores, but the file still holds) is a secret too.
# Only static:/inline: map data is ever taken from a value; not "sasl" or "auth" alone, since
# smtpd_sasl_mechanism_filter = static:rest and authorized_*_users = static:anyone are not secrets.
SECRET_NAME = re.compile(r"(?i)(pass|pasw|pwd|secret|cred|token|sasl\w*_maps)")
# main.cf lines, and `postconf -n` / `-P` output (service/type/name = value)
MAIN_LINE = re.compile(r"^[ \t]*([\w/.:-]+)[ \t]*=[ \t]*(.*)$", re.M)
MASTER_OPT = re.compile(r"-o\s*\{?\s*([A-Za-z0-9_]+)\s*=\s*([^}\n]*?)(?=\s*\}|\s*$|\s+-)", re.M)
STATIC = re.compile(r"static:\{?\s*([^\s,}]+(?:\s[^\s,}]+)*)\s*\}?")
INLINE = re.compile(r"inline:\{([^}]*)\}?")  # an unclosed brace still holds a credential
MIN_LEN = 4  # shorter strings would mask half the output


def from_value(value):
    """The secret strings inside one parameter value (static: and inline: map data)."""
    out = set()
    for m in STATIC.finditer(value or ""):
        out.add(m.group(1).strip())
        if ":" in m.group(1):
            out.add(m.group(1).split(":", 1)[1].strip())
    for m in INLINE.finditer(value or ""):
        for item in re.split(r"[,\s]+(?=[^=\s,]+\s*=)", m.group(1)):
            if "=" in item:
                data = item.split("=", 1)[1].strip().strip(",")
                out.add(data)
                if ":" in data:
                    out.add(data.split(":", 1)[1])
    return {s for s in out if len(s) >= MIN_LEN}


def secret_values(params=None, texts=()):
    """Secrets in a {name: value} mapping and in main.cf / master.cf texts."""
    found = set()
    for name, value in (params or {}).items():
        if SECRET_NAME.search(str(name)):
            found |= from_value(str(value))
    for text in texts:
        for rx in (MAIN_LINE, MASTER_OPT):
            for name, value in rx.findall(text or ""):
                if SECRET_NAME.search(name):
                    found |= from_value(value)
    return found


def secret_forms(values):
    """Every form a secret value given to a module can take in what it returns: as given, as
    written (stripped, whitespace folded, list-joined), and quoted by repr() or JSON (a backslash
    doubled). Ansible masks substrings, so each form must be registered to be masked."""
    out = set()
    for value in values:
        items = list(value) if isinstance(value, (list, tuple)) else [value]
        if len(items) > 1:
            items.append(", ".join(str(i).strip() for i in items))
        for item in items:
            if item is None or isinstance(item, bool):
                continue
            for form in (str(item), str(item).strip(), " ".join(str(item).split())):
                out.add(form)
                out.add(repr(form)[1:-1])
                out.add(form.replace("\\", "\\\\"))
                out |= from_value(form)
    return {s for s in out if len(s) >= MIN_LEN}


def hide(module, *secrets):
    """Tell Ansible to mask these strings in everything the module returns."""
    for group in secrets:
        module.no_log_values.update(group)
