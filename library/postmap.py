#!/usr/bin/python
# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# postfix-remedy: keep lookup tables and their indexes in step, rebuilding only when needed.
from __future__ import annotations

DOCUMENTATION = r"""
---
module: postmap
short_description: Manage Postfix lookup tables and rebuild their indexes only when stale
description:
  - Builds the index of a Postfix lookup table (C(hash), C(lmdb), C(btree), C(cdb), C(dbm)) with
    C(postmap), or of an aliases file with C(postalias), but only when the index is missing,
    older than its source, the entries were changed in this call, or I(force) is set.
  - The table type defaults to the host's C(default_database_type), so the same task works on
    hash and lmdb systems. Types without an index (C(regexp), C(pcre), C(cidr), C(texthash),
    C(inline), ...) are never built; those that are files of entries can still be edited.
  - Can add, update and remove entries of the source file (keeping comments and order) and
    rebuild in the same call, set owner, group and mode of source and index, and look keys up
    with C(postmap -q) to prove the table answers.
  - Entries (I(entries), I(secret_entries), I(absent_keys), I(exclusive)) are managed only in
    lookup table files (the indexed types, C(texthash), C(cidr), C(pcre), C(regexp)) of a type
    that C(postconf -m) lists on the host. For any other type (C(mysql), C(pgsql), C(ldap),
    C(sqlite), C(memcache) client configurations, which hold the database password;
    C(proxy), C(unionmap), C(pipemap), C(static), C(inline), C(tcp), C(socketmap), ...) they are
    refused before the file is read, so nothing of it is written, diffed or returned.
  - The C(cidr), C(pcre) and C(regexp) rules given are checked before the table is written,
    first C(cidr) patterns with Python's ipaddress (an address or address/prefix without host bits
    beyond the prefix, optionally in brackets or negated with C(!)), then every rule by Postfix
    itself (C(postmap -q) on a temporary table holding the new rules), since Postfix skips a
    rule it cannot compile with only a warning. A rule it would skip fails the task, naming it.
version_added: "1.0.0"
author: postfix-remedy maintainers (@postfix-remedy)
options:
  path:
    description: Source file of the table, e.g. C(/etc/postfix/virtual) or C(/etc/aliases).
    type: path
    required: true
  type:
    description: Table type. Defaults to C(postconf -h default_database_type).
    type: str
  aliases:
    description: The file is an aliases(5) file; build it with C(postalias) and write entries as C(key:value) lines.
    type: bool
    default: false
  entries:
    description:
      - Entries that must be present, key to value (an existing key with another value is updated).
      - In C(cidr), C(pcre) and C(regexp) tables the key is the pattern and the value the result.
    type: dict
    default: {}
  secret_entries:
    description:
      - Like I(entries), for secrets such as C(sasl_passwd) credentials. Never logged; the diff
        hides the file content. Give I(mode=0600).
    type: dict
    default: {}
  absent_keys:
    description: Keys that must not be in the table.
    type: list
    elements: str
    default: []
  exclusive:
    description: The given entries (I(entries) and I(secret_entries)) are the whole table; other keys are removed.
    type: bool
    default: false
  create:
    description: Create the source file when it does not exist (otherwise a missing file is an error).
    type: bool
    default: false
  force:
    description: Rebuild the index even when it is current.
    type: bool
    default: false
  query:
    description:
      - Keys to look up with C(postmap -q) after the build; results are in C(query).
      - A table postmap cannot open fails the task. When the type is not a lookup table file
        (C(mysql), C(ldap)...), every word of its configuration file is masked in that message.
    type: list
    elements: str
    default: []
  config_dir:
    description: Postfix configuration directory (C(-c)), for multi-instance hosts.
    type: path
extends_documentation_fragment:
  - ansible.builtin.files
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: 'Check mode reports whether the table would be rebuilt and writes nothing.'
  diff_mode:
    support: full
    details: 'The source text before and after (a count of entries for secret tables).'
  platform:
    platforms: posix
notes:
  - Supports check mode and diff mode. In check mode C(query) reads the current index (no
    index yet, every key is null).
  - I(owner), I(group) and I(mode) apply to the source and to every index file.
"""

EXAMPLES = r"""
- name: Virtual aliases, rebuilt only when they changed
  postfix_remedy.toolkit.postmap:
    path: /etc/postfix/virtual
    entries:
      postmaster@example.org: root
      abuse@example.org: root
    absent_keys: [old@example.org]
    query: [postmaster@example.org]

- name: Relay credentials stay 0600
  postfix_remedy.toolkit.postmap:
    path: /etc/postfix/sasl_passwd
    secret_entries:
      "[smtp.example.net]:587": "relayuser:{{ relay_password }}"
    create: true
    owner: root
    group: root
    mode: "0600"

- name: Rebuild the aliases database if /etc/aliases is newer
  postfix_remedy.toolkit.postmap:
    path: /etc/aliases
    aliases: true

- name: A pcre table is read directly; this is a no-op build
  postfix_remedy.toolkit.postmap:
    path: /etc/postfix/header_checks
    type: pcre

- name: Client networks; a bad network (10.0.0.1/8, 10.0.0.0/33) fails before the table is written
  postfix_remedy.toolkit.postmap:
    path: /etc/postfix/client_access
    type: cidr
    entries:
      192.0.2.0/24: REJECT
      "[2001:db8::]/32": OK
"""

RETURN = r"""
map:
  description: The table as Postfix names it.
  type: str
  returned: always
  sample: lmdb:/etc/postfix/virtual
type:
  description: Table type used.
  type: str
  returned: always
indexed:
  description: Whether this type has an index file.
  type: bool
  returned: always
rebuilt:
  description: Whether postmap/postalias ran (or would run, in check mode).
  type: bool
  returned: always
reason:
  description: Why it was rebuilt, or why not.
  type: str
  returned: always
  sample: index /etc/postfix/virtual.db is older than the source
index_files:
  description: Index files of the table.
  type: list
  elements: str
  returned: always
entry_changes:
  description: One line per entry added, updated or removed (keys only).
  type: list
  elements: str
  returned: always
query:
  description: Key to looked-up value (null when not found, or when the table has no source or index yet).
  type: dict
  returned: when query was given
"""

import os
import shutil
import tempfile

try:  # from this repository: ansible.cfg puts module_utils/ on the module_utils path
    from ansible.module_utils import postfix_maps as pm
    from ansible.module_utils import safe_io
    from ansible.module_utils.postfix_cmd import Postfix
    from ansible.module_utils.secret_params import hide, secret_forms
except ImportError:  # from the installed collection postfix_remedy.toolkit
    from ansible_collections.postfix_remedy.toolkit.plugins.module_utils import postfix_maps as pm
    from ansible_collections.postfix_remedy.toolkit.plugins.module_utils import safe_io
    from ansible_collections.postfix_remedy.toolkit.plugins.module_utils.postfix_cmd import Postfix
    from ansible_collections.postfix_remedy.toolkit.plugins.module_utils.secret_params import hide, secret_forms


def main():
    module = safe_io.module_class()(
        argument_spec=dict(
            path=dict(type="path", required=True),
            type=dict(type="str"),
            aliases=dict(type="bool", default=False),
            entries=dict(type="dict", default={}),
            secret_entries=dict(type="dict", default={}, no_log=True),
            absent_keys=dict(type="list", elements="str", default=[], no_log=False),
            exclusive=dict(type="bool", default=False),
            create=dict(type="bool", default=False),
            force=dict(type="bool", default=False),
            query=dict(type="list", elements="str", default=[]),
            config_dir=dict(type="path"),
        ),
        add_file_common_args=True,
        supports_check_mode=True,
    )
    p = module.params
    # Secret values are masked in every form they can take (a query answer loses trailing blanks).
    hide(module, secret_forms(p["secret_entries"].values()))
    path = p["path"]  # absolute: RemedyModule checked every path option
    pf = Postfix(module, p["config_dir"])
    map_type = p["type"] or pf.param("default_database_type")
    if not pm.TYPE_RE.match(map_type or ""):
        module.fail_json(msg="invalid table type %r" % map_type)
    if map_type not in pm.NON_INDEXED and map_type not in pm.INDEX_SUFFIXES:
        module.fail_json(msg="unknown table type %r (indexed: %s)" % (map_type, ", ".join(sorted(pm.INDEX_SUFFIXES))))
    if p["aliases"] and map_type in pm.NON_INDEXED:
        module.fail_json(msg="aliases files need an indexed type, not %s" % map_type)
    secret = bool(p["secret_entries"])
    exists = os.path.lexists(path)
    editing = [name for name in ("entries", "secret_entries", "absent_keys", "exclusive") if p[name]]
    try:  # everything the call asks for is checked before the first write (and, for editing, read)
        if editing:
            pm.check_editable(map_type, pf.postconf("-m")[1].split(), editing, path)
        present = pm.render_entries(p["entries"], map_type, aliases=p["aliases"])
        present.update(pm.render_entries(p["secret_entries"], map_type, aliases=p["aliases"], secret=True))
        for k in p["absent_keys"]:
            pm.check_entry(k, None, map_type)
        if present and map_type in pm.RULE_TYPES:
            pm.check_rules(lambda argv: pf.run(argv, check=False), map_type, "%s:%s" % (map_type, path), present)
        for key in p["query"]:
            pm.check_query(key, map_type)
        before = safe_io.read_regular(path, "table source", missing=b"")
        pm.check_rule_blocks(map_type, safe_io.text(before), p["exclusive"], list(present) + list(p["absent_keys"]), path)
        current_mode = os.stat(path).st_mode & 0o7777 if exists else None
        mode, uid, gid = safe_io.resolve_file_args(p, current_mode)
    except (ValueError, safe_io.InputError) as exc:
        module.fail_json(msg=str(exc))
    own = {os.path.realpath(os.path.join(pf.config_dir or pf.param("config_directory"), f))
           for f in ("main.cf", "master.cf", "dynamicmaps.cf", "postfix-files")}
    spool = os.path.realpath(pf.param("queue_directory")) + "/"
    if os.path.realpath(path) in own or os.path.realpath(path).startswith(spool):
        module.fail_json(msg="%s is Postfix's own configuration or queue, not a lookup table" % path)
    if not exists and not (p["create"] and (present or p["exclusive"])):
        module.fail_json(msg="table source %s does not exist%s" % (path, "" if p["create"] else " (use create=true to create it)"))
    if not exists and not os.path.isdir(os.path.dirname(path)):
        module.fail_json(msg="cannot create %s: directory %s does not exist" % (path, os.path.dirname(path)))

    after_text, entry_changes = safe_io.text(before), []
    if present or p["absent_keys"] or p["exclusive"]:
        after_text, entry_changes = pm.edit_entries(safe_io.text(before), present, set(p["absent_keys"]),
                                                    p["exclusive"], p["aliases"])
    after = after_text.encode("utf-8", "surrogateescape")

    indexed = map_type not in pm.NON_INDEXED and map_type in pm.INDEX_SUFFIXES
    stale = pm.staleness(map_type, path) if exists else "source is new"
    if not indexed:
        reason = "%s tables are read directly; nothing to build" % map_type
        rebuild = False
    elif p["force"]:
        reason, rebuild = "forced", True
    elif entry_changes:
        reason, rebuild = "entries changed", True
    elif stale:
        reason, rebuild = stale, True
    else:
        reason, rebuild = "index is current", False

    result = dict(changed=bool(entry_changes) or rebuild, map="%s:%s" % (map_type, path), type=map_type,
                  indexed=indexed, rebuilt=rebuild, reason=reason, index_files=pm.index_files(map_type, path),
                  entry_changes=entry_changes)
    if module._diff and entry_changes:
        if secret:
            result["diff"] = dict(before_header=path, after_header=path,
                                  before="(secret table: %d entries)\n" % len(pm.parse_entries(safe_io.text(before), p["aliases"])),
                                  after="(secret table: %s)\n" % ", ".join(entry_changes))
        else:
            result["diff"] = dict(before_header=path, after_header=path, before=safe_io.text(before), after=after_text)

    tool = "postalias" if p["aliases"] else "postmap"
    # A secret table and its index are 0600 from their first byte (postmap gives the index the
    # source's mode; the umask covers the moment before).
    umask = 0o077 if secret else None
    if mode is None and not exists:
        mode = 0o600 if secret else 0o644
    if not module.check_mode and (entry_changes or rebuild):
        if entry_changes and indexed:  # prove postmap accepts the new source before the real one is touched
            trial_build(module, pf, tool, map_type, path, after, umask)
        kept = keep_copies(module, [path] + (pm.index_files(map_type, path) if indexed else []))
        try:
            if entry_changes:
                try:
                    safe_io.atomic_write(path, after, mode=mode if mode is not None else None, uid=uid, gid=gid)
                except OSError as exc:
                    module.fail_json(msg="cannot write %s: %s; the table is unchanged" % (path, safe_io.oserror_text(exc)), **result)
            if rebuild:
                rc, out, err = pf.run([tool, "%s:%s" % (map_type, path)], check=False, record=True, umask=umask)
                if rc != 0:
                    stuck = put_back(kept)
                    result.update(changed=bool(stuck), rebuilt=False)
                    module.fail_json(msg="%s %s:%s failed: %s; %s" % (
                        tool, map_type, path, (err or out).strip(),
                        "COULD NOT PUT BACK: %s" % ", ".join(stuck) if stuck else "the previous table and index were put back"),
                        rc=rc, **result)
                result["warnings_postmap"] = [line for line in err.splitlines() if line.strip()]
        finally:
            drop(kept)
    # Ownership and mode of source and index (check mode only reports the difference).
    for f in [path] + (pm.index_files(map_type, path) if indexed else []):
        if os.path.exists(f):
            fargs = module.load_file_common_arguments(module.params, path=f)
            result["changed"] = module.set_fs_attributes_if_different(fargs, result["changed"])

    if p["query"]:
        answers = {}
        target = "%s:%s" % (map_type, path)
        # No source, or (in check mode) no index yet: the table answers nothing today.
        built = all(os.path.exists(f) for f in (pm.index_files(map_type, path) if indexed else []))
        for key in p["query"]:
            if not os.path.exists(path) or not built:
                answers[key] = None
                continue
            rc, out, err = pf.run([tool, "-q", key, target], check=False)
            if rc not in (0, 1) or "fatal:" in err:  # postmap exits 1 for "not found" and for a fatal error
                module.fail_json(msg="%s -q %s %s failed: %s" % (tool, key, target, query_error(map_type, path, err or out)), **result)
            answers[key] = out.rstrip("\n") if rc == 0 else None
        result["query"] = answers
    module.exit_json(**result)


def query_error(map_type, path, text):
    """postmap's error, without any word of the file when it is not a lookup table: Postfix
    quotes lines and values of a client configuration (mysql, ldap...), which hold passwords."""
    if map_type in pm.EDITABLE:
        return text.strip()
    try:
        words = pm.config_words(safe_io.text(safe_io.read_regular(path, "table configuration", limit=1 << 20)))
    except safe_io.InputError:
        return "(postmap's message is not shown: %s could not be read to hide its values)" % path
    return pm.redact(text.strip(), words)


def keep_copies(module, paths):
    """{path: copy or None (absent)}: byte copies, beside the files, of a table's source and
    index before they are rewritten, so a failed build puts back exactly what was there."""
    kept, f = {}, paths[0]
    try:
        for f in paths:
            if os.path.lexists(f):
                fd, copy = tempfile.mkstemp(dir=os.path.dirname(f), prefix=".%s.keep-" % os.path.basename(f))
                os.close(fd)
                kept[f] = copy  # known before the copy, so a failed copy is removed too
                shutil.copy2(f, copy)
                st = os.stat(f)
                os.chown(copy, st.st_uid, st.st_gid)
                kept[f] = copy
            else:
                kept[f] = None
    except OSError as exc:
        drop(kept)
        module.fail_json(msg="cannot keep a copy of %s before rewriting it: %s; nothing was changed"
                         % (f, safe_io.oserror_text(exc)))
    return kept


def put_back(kept):
    """Put every kept file back where its bytes changed; returns what could not be put back."""
    stuck = []
    for f, copy in kept.items():
        try:
            if copy is None:
                if os.path.lexists(f):
                    os.unlink(f)
                continue
            with open(copy, "rb") as a, open(f, "rb") as b:
                if a.read() == b.read():
                    continue
            os.replace(copy, f)
        except OSError as exc:
            stuck.append("%s (%s)" % (f, safe_io.oserror_text(exc)))
    return stuck


def drop(kept):
    for copy in kept.values():
        if copy and os.path.lexists(copy):
            os.unlink(copy)


def trial_build(module, pf, tool, map_type, path, data, umask):
    """Build the index of the new source under a temporary name beside the table; fail naming
    the user's file (not the temporary one) when postmap/postalias refuses it. Nothing of the
    real table has been touched at that point."""
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".%s.check-" % os.path.basename(path))
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        rc, out, err = pf.run([tool, "%s:%s" % (map_type, tmp)], check=False, umask=umask)
        if rc != 0:
            module.fail_json(msg="%s refuses the new content of %s, which was not written: %s"
                             % (tool, path, (err or out).strip().replace(tmp, path)))
    except OSError as exc:
        module.fail_json(msg="cannot check the new content of %s in %s: %s; the table is unchanged"
                         % (path, os.path.dirname(path), safe_io.oserror_text(exc)))
    finally:
        for f in [tmp] + pm.index_files(map_type, tmp):
            try:
                os.unlink(f)
            except OSError:
                pass


if __name__ == "__main__":
    main()
