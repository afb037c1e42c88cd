# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Lookup-table helpers: index file names, staleness, which tables may be edited, rule checks,
and source-file entry edits."""
from __future__ import annotations

import ipaddress
import os
import re
import tempfile

# Types whose source is compiled into an index file by postmap/postalias.
INDEX_SUFFIXES = {
    "hash": (".db",),
    "btree": (".db",),
    "lmdb": (".lmdb",),
    "cdb": (".cdb",),
    "dbm": (".dir", ".pag"),
    "sdbm": (".dir", ".pag"),
}
# Types read directly from the source (or not file-based at all): building is a no-op.
NON_INDEXED = frozenset(("regexp", "pcre", "cidr", "texthash", "inline", "static", "unionmap", "pipemap",
                         "randmap", "environ", "fail", "internal", "memcache", "proxy", "tcp", "socketmap",
                         "ldap", "mysql", "pgsql", "sqlite", "nis", "nisplus", "unix", "netinfo"))
TYPE_RE = re.compile(r"^[a-z][a-z0-9]*$")

# Tables whose file is the admin's list of entries or rules, so entries may be managed: the
# indexed types, texthash, and the rule tables Postfix compiles when it opens them. Any other
# type's "path" is not a lookup table: a database client configuration (which holds the
# password), or the spec of another table, a value or a service.
RULE_TYPES = frozenset(("cidr", "pcre", "regexp"))
EDITABLE = frozenset(INDEX_SUFFIXES) | RULE_TYPES | {"texthash"}
CLIENT_TYPES = frozenset(("mysql", "pgsql", "ldap", "sqlite", "memcache"))


def check_editable(map_type, supported, options, path):
    """Refuse the entry options a call uses (names in `options`) unless map_type is a table file
    of EDITABLE that this Postfix supports (`supported`: what postconf -m lists). Called before
    the file is read, so nothing of a refused file is ever written, diffed or returned."""
    if not options:
        return
    opts = ", ".join(options)
    if map_type not in EDITABLE:
        why = ("%s:%s names a database client configuration, which holds its password" % (map_type, path)
               if map_type in CLIENT_TYPES else "%s tables do not keep their entries in that file" % map_type)
        raise ValueError("%s refused for type %s: not a lookup table file (%s); entries are managed in %s "
                         "tables only. %s was neither read nor changed"
                         % (opts, map_type, why, ", ".join(sorted(EDITABLE & set(supported))), path))
    if map_type not in supported:
        raise ValueError("%s refused for type %s: this host's Postfix does not support it (postconf -m lists "
                         "%s). %s was neither read nor changed" % (opts, map_type, " ".join(sorted(supported)), path))


def config_words(text):
    """What Postfix may quote from a client configuration (name = value lines) in an error: each
    line without its attribute name, each value, and each word of them (4 characters or more,
    longest first), so redact() keeps a password out of a message."""
    out = set()
    for line in split_lines(text):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, eq, value = line.partition("=")
        value = value if eq and name.strip() and not line[:1].isspace() else line
        out.add(value.strip())
        out.update(re.split(r"[\s,\"'{}()]+", value))
    return sorted((w for w in out if len(w) >= 4), key=len, reverse=True)


def redact(message, words):
    for w in words:
        message = message.replace(w, "********")
    return message


def cidr_problem(pattern):
    """Why Postfix would skip this cidr_table(5) pattern, or None: an address, or address/prefix
    with no host bits set beyond the prefix; the address may be in [], and a leading ! negates."""
    addr, slash, prefix = pattern[1:].partition("/") if pattern.startswith("!") else pattern.partition("/")
    if addr.startswith("[") and addr.endswith("]"):
        addr = addr[1:-1]
    if "%" in addr:  # Python takes an IPv6 zone index, Postfix does not
        return "an address with a zone index (%) is not allowed"
    try:
        ip = ipaddress.ip_address(addr)
    except ValueError:
        return "%r is not an IPv4 or IPv6 address" % addr
    if not slash:
        return None
    if not re.fullmatch(r"[0-9]+", prefix):
        return "prefix %r is not a number of bits" % prefix
    if int(prefix) > ip.max_prefixlen:
        return "prefix /%s is longer than the %d bits of an IPv%d address" % (prefix, ip.max_prefixlen, ip.version)
    net = ipaddress.ip_network((ip, int(prefix)), strict=False)
    if net.network_address != ip:
        return "host bits are set beyond /%s (the network is %s)" % (prefix, net)
    return None


PROBE_KEY = "postfix-remedy.probe"


def check_rules(run, map_type, table, rules):
    """Raise ValueError naming every rule of `rules` ({pattern: result}) that Postfix would skip
    in the `map_type` table `table`. cidr patterns are checked here first, for a precise reason;
    then the rules alone are opened by Postfix itself (postmap -q on a temporary table: Postfix
    compiles every rule when it opens a cidr, pcre or regexp table, and warns about each one it
    skips). run(argv) runs a Postfix command and returns (rc, out, err)."""
    items = list(rules.items())
    problems = []
    if map_type == "cidr":
        problems = ["%r: %s" % (k, why) for k, why in ((k, cidr_problem(k)) for k, _v in items) if why]
    if not problems:
        problems = _postfix_problems(run, map_type, items)
    if problems:
        raise ValueError("%s: %d rule%s refused, the table was not written: %s"
                         % (table, len(problems), "" if len(problems) == 1 else "s", "; ".join(problems)))


def _postfix_problems(run, map_type, items):
    data = "".join(format_entry(k, v) + "\n" for k, v in items).encode("utf-8", "surrogateescape")
    fd, tmp = tempfile.mkstemp(prefix="postfix-remedy-rules-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        rc, out, err = run(["postmap", "-q", PROBE_KEY, "%s:%s" % (map_type, tmp)])
    except OSError as exc:
        raise ValueError("cannot check the new rules in a temporary file: %s" % exc) from exc
    finally:
        try:
            os.unlink(tmp)
        except OSError:
            pass
    at_line = re.compile(re.escape(tmp) + r", line (\d+): (.*)$")
    problems = []
    for line in err.splitlines():
        m = at_line.search(line)
        if m and 0 < int(m.group(1)) <= len(items):
            problems.append("%r: %s" % (items[int(m.group(1)) - 1][0], m.group(2).strip()))
        elif tmp in line or "fatal:" in line:
            problems.append(line.replace(tmp, "(the new rules)").strip())
    if rc not in (0, 1) and not problems:
        problems.append("postmap could not check them (rc=%d): %s" % (rc, (err or out).strip()))
    return problems


def index_files(map_type, path):
    return [path + s for s in INDEX_SUFFIXES.get(map_type, ())]


def staleness(map_type, path):
    """Why the index needs a rebuild, or None when it is current."""
    files = index_files(map_type, path)
    if not files:
        return None
    try:
        src = os.stat(path).st_mtime
    except FileNotFoundError:
        return None
    for f in files:
        if not os.path.isfile(f):
            return "index %s is missing" % f
        if os.stat(f).st_mtime < src:
            return "index %s is older than the source" % f
    return None


def split_lines(text):
    """Lines split on \\n only, as postmap reads them (str.splitlines() would also split on a
    lone CR, a form feed or U+2028 and change the file's meaning when it is written back)."""
    lines = text.split("\n")
    return lines[:-1] if lines and lines[-1] == "" else lines


def _key_of(line, aliases):
    stripped = line.strip()
    if not stripped or stripped.startswith("#") or line[:1].isspace():
        return None
    if aliases:
        key, sep, _unused = stripped.partition(":")
        return key.strip() if sep else None
    return stripped.split(None, 1)[0]


def parse_entries(text, aliases=False):
    """Entries of a table source as an ordered list of (key, value, first_line, last_line)."""
    lines = split_lines(text)
    out, i = [], 0
    while i < len(lines):
        key = _key_of(lines[i], aliases)
        if key is None:
            i += 1
            continue
        start = i
        i += 1
        while i < len(lines) and lines[i][:1].isspace() and lines[i].strip() and not lines[i].strip().startswith("#"):
            i += 1
        body = " ".join(part.strip() for part in lines[start:i])
        if aliases:
            value = body.partition(":")[2].strip()
        else:
            parts = body.split(None, 1)
            value = parts[1] if len(parts) > 1 else ""
        out.append((key, value, start, i - 1))
    return out


def format_entry(key, value, aliases=False):
    return "%s:\t%s" % (key, value) if aliases else "%s\t%s" % (key, value)


# LMDB refuses keys over 511 bytes; other types take longer ones, but no address, domain or
# network is longer than this, so a longer key is a mistake (or an attack), refused up front.
MAX_KEY = {"lmdb": 511}
MAX_KEY_DEFAULT = 1024
MAX_VALUE = 64 * 1024


def check_entry(key, value, map_type=None, what="table key"):
    """Refuse a key or value that postmap would reject or that would break the source file."""
    if not isinstance(key, str) or not key or any(c.isspace() for c in key) or key.startswith("#"):
        raise ValueError("invalid %s %r: must be non-empty, without whitespace, not a comment" % (what, key))
    if "\x00" in key:
        raise ValueError("invalid %s %r: contains a NUL byte" % (what, key))
    limit = MAX_KEY.get(map_type, MAX_KEY_DEFAULT)
    size = len(key.encode("utf-8", "surrogateescape"))
    if size > limit:
        raise ValueError("%s %r... is %d bytes long; the limit is %d%s" % (
            what, key[:40], size, limit, " (LMDB)" if map_type == "lmdb" else ""))
    if value is not None:
        if any(c in value for c in "\n\r\x00"):  # the value itself is not echoed: it may be secret
            raise ValueError("value for key %r contains a newline, CR or NUL byte" % (key,))
        if len(value.encode("utf-8", "surrogateescape")) > MAX_VALUE:
            raise ValueError("value for key %r is longer than %d bytes" % (key, MAX_VALUE))
        if not value.strip():
            raise ValueError("value for key %r is empty: postmap would take the key as a key without value" % (key,))


def check_query(key, map_type=None):
    """A lookup key for postmap -q: any text on one line (a regexp table matches whole headers)."""
    if not isinstance(key, str) or not key or any(c in key for c in "\n\r\x00"):
        raise ValueError("invalid query key %r: must be non-empty, on one line, without NUL" % (key,))
    if len(key.encode("utf-8", "surrogateescape")) > MAX_VALUE:
        raise ValueError("query key %r... is longer than %d bytes" % (key[:40], MAX_VALUE))


def render_value(key, value):
    """A table value as written in the source: strings and numbers as is, a flat list joined with
    ', ' (virtual: one address to several); a mapping or a boolean has no table form."""
    if isinstance(value, bool):
        raise ValueError("value for key %r is a boolean: quote it ('OK', 'yes')" % (key,))
    if isinstance(value, (list, tuple)):
        if not value or any(isinstance(v, (list, tuple, dict, bool)) or v is None for v in value):
            raise ValueError("value for key %r must be a flat, non-empty list of strings" % (key,))
        return ", ".join(str(v).strip() for v in value)
    if isinstance(value, dict) or value is None:
        raise ValueError("value for key %r must be a string, not %s" % (key, "null" if value is None else "a mapping"))
    return str(value)


def render_entries(entries, map_type=None, aliases=False, secret=False):
    """{key: value text} from a module's entries option, every key and value checked."""
    out = {}
    for key, value in entries.items():
        key = str(key) if isinstance(key, (int, float)) and not isinstance(key, bool) else key
        if aliases and isinstance(key, str) and ":" in key:
            raise ValueError("invalid aliases key %r: contains ':'" % (key,))
        text = render_value(key, value)
        check_entry(key, text, map_type)
        out[key] = text
    return out


def edit_entries(text, present=None, absent=(), exclusive=False, aliases=False):
    """Return (new_text, changes). Keeps comments, order and untouched lines."""
    present = present or {}
    lines = split_lines(text)
    entries = parse_entries(text, aliases)
    changes = []
    drop = set()
    replace = {}
    seen = set()
    for key, value, first, last in entries:
        if key in absent or (exclusive and key not in present):
            drop.update(range(first, last + 1))
            changes.append("remove %s" % key)
            continue
        if key in present:
            if key in seen:  # a duplicate key: postmap warns and uses the first; drop the rest
                drop.update(range(first, last + 1))
                changes.append("remove duplicate %s" % key)
                continue
            want = str(present[key])
            if " ".join(value.split()) != " ".join(want.split()):
                replace[first] = format_entry(key, want, aliases)
                drop.update(range(first + 1, last + 1))
                changes.append("update %s" % key)
        seen.add(key)
    new = []
    for i, line in enumerate(lines):
        if i in replace:
            new.append(replace[i])
        elif i not in drop:
            new.append(line)
    for key, value in present.items():
        if key not in seen:
            new.append(format_entry(key, str(value), aliases))
            changes.append("add %s" % key)
    result = "\n".join(new) + ("\n" if new else "")
    if not changes:
        return text, []
    return result, changes


def check_rule_blocks(map_type, text, exclusive, keys, path):
    """pcre, regexp and cidr tables nest rules in `if PATTERN` ... `endif` blocks. An entry edit
    sees those lines as keys: exclusive would drop them (the rules inside would then apply to
    every address), and an entry named if/endif would break the nesting. Refused, naming the table."""
    if map_type not in RULE_TYPES:
        return
    bad = sorted(k for k in keys if k.lower() in ("if", "endif", "!if"))
    if bad:
        raise ValueError("%s:%s: %s is a block keyword of %s tables, not a rule; edit such blocks by hand"
                         % (map_type, path, ", ".join(bad), map_type))
    if exclusive and any((line.split(None, 1) or [""])[0].lower() in ("if", "endif")
                         for line in split_lines(text)):
        raise ValueError("%s:%s holds if/endif blocks: exclusive would remove them and let the rules inside "
                         "apply to every lookup; manage this table without exclusive" % (map_type, path))
