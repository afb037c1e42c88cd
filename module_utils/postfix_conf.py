# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure helpers for main.cf / master.cf values: parsing, lists, validation.

No Postfix calls here; the modules feed in what `postconf` printed.
"""
from __future__ import annotations

import math
import re

NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
SERVICE_RE = re.compile(r"^[A-Za-z0-9._:\[\]-]+/(inet|unix|fifo|pass|unix-dgram)$")
MASTER_FIELDS = ("service", "type", "private", "unprivileged", "chroot", "wakeup", "process_limit", "command")
EDITABLE_FIELDS = MASTER_FIELDS[2:]

# Changing these is not picked up by `postfix reload`: the master must be restarted.
RESTART_PARAMS = frozenset((
    "inet_interfaces", "inet_protocols", "queue_directory", "data_directory",
    "mail_owner", "process_id_directory",
))

# Parameters whose values are lists (commas and whitespace are equivalent separators).
LIST_SUFFIXES = ("_restrictions", "_maps", "_networks", "_domains", "_classes", "_checks",
                 "_interfaces", "_protocols", "_exclude_ciphers", "_mandatory_protocols",
                 "_lookups", "_filter_domains", "_reply_filter", "_client_list")
LIST_NAMES = frozenset(("mydestination", "mynetworks", "inet_interfaces", "inet_protocols",
                        "proxy_interfaces", "notify_classes", "smtpd_sasl_security_options",
                        "smtp_sasl_security_options", "alias_database", "debug_peer_list",
                        "authorized_submit_users", "authorized_flush_users", "authorized_mailq_users",
                        "smtpd_tls_protocols", "smtp_tls_protocols", "local_recipient_maps",
                        "smtpd_milters", "non_smtpd_milters", "import_environment", "export_environment"))
# Catch-all terminators of a restriction list: anything appended after them is dead.
LIST_TERMINATORS = frozenset(("permit", "reject", "defer", "defer_if_permit", "defer_if_reject"))


MAX_VALUE = 64 * 1024
MACRO_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_{(")


def macros_ok(value):
    """$name, ${name...}, $(name...) and $$ (a literal $) are what postconf accepts; any other
    '$' makes it fatal ("empty macro name") when it next reads main.cf."""
    i = value.find("$")
    while i >= 0:
        nxt = value[i + 1:i + 2]
        if nxt == "$":
            i = value.find("$", i + 2)
            continue
        if not nxt or nxt not in MACRO_START:
            return False
        i = value.find("$", i + 1)
    return True


class ValueError_(ValueError):
    """A parameter name or value that must not be written."""


def is_list_param(name):
    return name in LIST_NAMES or name.endswith(LIST_SUFFIXES)


def render_value(value, name="value"):
    """Turn a YAML-side value into the text postconf should store. A mapping (or a list of
    lists) has no main.cf form: it is refused rather than written as a Python repr."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        if any(isinstance(v, (list, tuple, dict)) for v in value):
            raise ValueError_("%s is a nested list: give a flat list of strings" % name)
        return ", ".join(render_value(v, name) for v in value)
    if isinstance(value, dict):
        raise ValueError_("%s is a mapping: give a string, number, boolean or list" % name)
    if value is None:
        return ""
    if isinstance(value, float) and math.isnan(value):
        raise ValueError_("%s is not a number" % name)
    return str(value).strip()


def check_name(name):
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise ValueError_("invalid parameter name %r: letters, digits and '_' only" % (name,))


def check_value(name, value):
    """Reject values postconf would mangle or that break main.cf."""
    if any(c in value for c in "\n\r\x00"):
        raise ValueError_("value of %s contains a newline or NUL byte" % name)
    if len(value.encode("utf-8", "surrogateescape")) > MAX_VALUE:  # one argv string holds 128 KiB at most
        raise ValueError_("value of %s is %d bytes long; the limit is %d" % (name, len(value.encode("utf-8", "surrogateescape")), MAX_VALUE))
    depth = 0
    for ch in value:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth < 0:
                break
    if depth != 0:  # the value itself is not echoed: it may be a credential
        raise ValueError_("value of %s has unbalanced braces ({ and } must pair up)" % name)
    if not macros_ok(value):  # postconf itself dies on it ("empty macro name") once written
        raise ValueError_("value of %s has a '$' that starts no parameter name: write $$ for a literal '$'" % name)


def check_service(service):
    if not isinstance(service, str) or not SERVICE_RE.match(service):
        raise ValueError_("invalid master.cf service %r: expected NAME/TYPE, TYPE one of inet, unix, fifo, pass, unix-dgram" % (service,))


def split_list(value):
    """Split a Postfix list value into tokens; `{ ... }` groups stay whole."""
    tokens, cur, depth = [], [], 0
    for ch in value:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth = max(depth - 1, 0)
        if depth == 0 and (ch.isspace() or ch == ","):
            if cur:
                tokens.append("".join(cur))
                cur = []
            continue
        cur.append(ch)
    if cur:
        tokens.append("".join(cur))
    return tokens


def same_value(name, a, b):
    """Postfix-equivalent: lists compare token by token, scalars by collapsed whitespace."""
    if is_list_param(name):
        return split_list(a) == split_list(b)
    return " ".join(a.split()) == " ".join(b.split())


def _find(tokens, item):
    n = len(item)
    for i in range(len(tokens) - n + 1):
        if tokens[i:i + n] == item:
            return i
    return -1


def list_edit(current, add=(), remove=()):
    """Return the new value text after removing then adding list items.

    Items may span several tokens ("check_client_access hash:/etc/postfix/access").
    Existing order is kept, nothing is duplicated, and new items go before a
    trailing catch-all (permit/reject/defer) so they are not dead code.
    Returns None when nothing changes.
    """
    flat = split_list(current)
    changed = False
    for item in remove:
        want = split_list(item)
        pos = _find(flat, want) if want else -1
        while pos >= 0:
            flat = flat[:pos] + flat[pos + len(want):]
            changed = True
            pos = _find(flat, want)
    for item in add:
        want = split_list(item)
        if not want or _find(flat, want) >= 0:
            continue
        at = len(flat)
        while at > 0 and flat[at - 1] in LIST_TERMINATORS:
            at -= 1
        flat = flat[:at] + want + flat[at:]
        changed = True
    if not changed:
        return None
    # Re-render items: restriction arguments stay on the same item as their keyword.
    return ", ".join(_join_items(flat))


_TAKES_ARG = re.compile(r"^(check_\w+|reject_rbl_client|reject_rhsbl_\w+|permit_dnswl_client|permit_rhswl_client|"
                        r"reject_maps_rbl|warn_if_reject|sleep)$")


def _join_items(tokens):
    out, i = [], 0
    while i < len(tokens):
        tok = tokens[i]
        if _TAKES_ARG.match(tok) and not tok.endswith("_mynetworks") and i + 1 < len(tokens) \
                and tok not in ("check_relay_domains",):
            out.append(tok + " " + tokens[i + 1])
            i += 2
            continue
        out.append(tok)
        i += 1
    return out


def parse_n(text):
    """Parse `postconf -n` / `postconf` output into {name: value}."""
    out = {}
    for line in text.splitlines():
        name, sep, value = line.partition(" = ")
        if sep:
            out[name.strip()] = value
        elif line.endswith(" ="):
            out[line[:-2].strip()] = ""
    return out


MAIN_CF_LINE = re.compile(r"^([A-Za-z0-9_]+)\s*=\s*(.*)$")


def main_cf_settings(text):
    """{name: value} of every setting written in a main.cf text, known to Postfix or not.

    `postconf -n` leaves out parameters Postfix does not know (it only warns "unused parameter"),
    so removing a misspelt name has to look at the file itself. Continuation lines are joined.
    """
    out, name = {}, None
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            name = None if not line.strip() else name
            continue
        if line[0] in " \t" and name:
            out[name] += " " + line.strip()
            continue
        m = MAIN_CF_LINE.match(line)
        name = m.group(1) if m else None
        if m:
            out[name] = m.group(2).strip()
    return out


def parse_master_line(line):
    """Split one `postconf -M` line into the 8 fields (command keeps its args)."""
    parts = line.split(None, 7)
    if len(parts) < 8:
        return None
    return dict(zip(MASTER_FIELDS, parts))


def parse_M(text):
    """{"smtp/inet": {...fields...}} from `postconf -M` output."""
    out = {}
    for line in text.splitlines():
        fields = parse_master_line(line)
        if fields:
            out["%s/%s" % (fields["service"], fields["type"])] = fields
    return out


def parse_P(text):
    """{"smtp/inet": {"param": "value"}} from `postconf -P` output."""
    out = {}
    for line in text.splitlines():
        key, sep, value = line.partition(" = ")
        if not sep:
            continue
        parts = key.split("/")
        if len(parts) != 3:
            continue
        out.setdefault("%s/%s" % (parts[0], parts[1]), {})[parts[2]] = value
    return out


def strip_o(command):
    """The command field without its `-o name=value` options (those are -P's business)."""
    words = command.split()
    out, i = [], 0
    while i < len(words):
        if words[i] == "-o" and i + 1 < len(words):
            i += 2
            continue
        if words[i].startswith("-o") and "=" in words[i]:
            i += 1
            continue
        out.append(words[i])
        i += 1
    return " ".join(out)


def edit_args(command, present=(), absent=()):
    """Add/remove arguments (e.g. -v) of a master.cf command; None when unchanged."""
    words = command.split()
    if not words:
        return None
    head, args = words[0], words[1:]
    new = [a for a in args if a not in absent]
    for a in present:
        if a not in new:
            new.append(a)
    if new == args:
        return None
    return " ".join([head] + new)
