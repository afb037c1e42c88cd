# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Lookup-table helpers: index file names, staleness, and source-file entry edits."""
from __future__ import annotations

import os
import re

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
