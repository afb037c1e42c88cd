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


def _key_of(line, aliases):
    stripped = line.strip()
    if not stripped or stripped.startswith("#") or line[:1].isspace():
        return None
    if aliases:
        key, sep, _ = stripped.partition(":")
        return key.strip() if sep else None
    return stripped.split(None, 1)[0]


def parse_entries(text, aliases=False):
    """Entries of a table source as an ordered list of (key, value, first_line, last_line)."""
    lines = text.splitlines()
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


def check_entry(key, value):
    if not key or any(c.isspace() for c in key) or key.startswith("#"):
        raise ValueError("invalid table key %r: must be non-empty, without whitespace, not a comment" % (key,))
    if value is not None and any(c in str(value) for c in "\n\r\x00"):
        raise ValueError("value for key %r contains a newline or NUL byte" % (key,))


def edit_entries(text, present=None, absent=(), exclusive=False, aliases=False):
    """Return (new_text, changes). Keeps comments, order and untouched lines."""
    present = present or {}
    lines = text.splitlines()
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
