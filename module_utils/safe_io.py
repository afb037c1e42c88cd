# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Files and results that survive careless input: bytes in, bytes out, and nothing that hangs.

Every module that reads or writes a user's file goes through here:
- read_regular()/open_regular(): only regular files are opened (a FIFO, a device or a
  directory named where a file belongs is an InputError naming it, never a hang);
- snapshot()/restore(): backups are the file's bytes, restored byte for byte in place (owner,
  mode and symlinks kept), so a lone CR or a Latin-1 byte comes back exactly as it was;
- atomic_write(): a new file carries its final mode, owner and group from its first byte;
- write_own()/check_own(): the one rule for the files postfix-remedy itself keeps on a host
  (scan state, ledger, lock, marker, record): an existing path that is not ours (a symlink, a
  directory, a device, or content not in our format) is refused, named, and left unchanged; new
  bytes go to an O_EXCL|O_NOFOLLOW temporary file in the same directory, renamed into place;
- printable(): what a module returns is valid UTF-8 (Ansible refuses anything else), with
  undecodable bytes shown as \\xNN escapes; module_class() applies it to every result.
"""
from __future__ import annotations

import math
import os
import stat
import tempfile

from ansible.module_utils.basic import AnsibleModule


class InputError(Exception):
    """A path or file the module must not use, with a message that names it."""


def text(data):
    """bytes -> str without losing a byte (undecodable bytes become surrogates)."""
    return data.decode("utf-8", "surrogateescape") if isinstance(data, bytes) else data


def printable(value):
    """A copy of value (str, bytes, dict, list, tuple) that encodes as strict UTF-8: surrogates
    and undecodable bytes become \\xNN escapes. Applied to everything a module returns."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "backslashreplace")
    if isinstance(value, str):
        try:
            value.encode("utf-8")
            return value
        except UnicodeEncodeError:
            return value.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace") \
                if _only_escapes(value) else value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, dict):
        return {printable(k): printable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(printable(v) for v in value)
    return value


def _only_escapes(value):
    try:
        value.encode("utf-8", "surrogateescape")
        return True
    except UnicodeEncodeError:
        return False


def raw_no_log_values(argument_spec, params):
    """The values of every no_log option in the raw, unvalidated params, whatever their type.

    Ansible collects no_log values while validating; when another option's sub-options are of
    the wrong type (services: "" where a list of dicts is wanted) that collection raises and is
    skipped, and the failure it reports echoes secret_parameters in its invocation. Collected
    here, independently, so the failure can be masked too."""
    out = set()

    def leaves(value):
        if isinstance(value, dict):
            for v in value.values():
                yield from leaves(v)
        elif isinstance(value, (list, tuple)):
            for v in value:
                yield from leaves(v)
        elif value is not None and not isinstance(value, bool):
            yield str(value)

    for name, opt in (argument_spec or {}).items():
        if not isinstance(opt, dict) or not isinstance(params, dict) or name not in params:
            continue
        if opt.get("no_log"):
            out.update(v for v in leaves(params[name]) if v)
        elif opt.get("options") and isinstance(params[name], (dict, list)):
            items = params[name] if isinstance(params[name], list) else [params[name]]
            for item in items:
                out |= raw_no_log_values(opt["options"], item)
    return out


def module_class():
    """AnsibleModule whose failures during argument validation still mask every no_log value
    (see raw_no_log_values). Modules build themselves with module_class()(...)."""
    class RemedyModule(AnsibleModule):
        """Also: every `type: path` option is refused when empty, relative or holding a NUL
        (naming the option), and everything returned is strict UTF-8 whatever bytes the host's
        files held (Ansible refuses anything else, and reports an applied change as failed)."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            for name, opt in (self.argument_spec or {}).items():
                value = self.params.get(name)
                if value is None or "path" not in (opt.get("type"), opt.get("elements")):
                    continue
                for path in (value if isinstance(value, list) else [value]):
                    try:
                        require_absolute(path, name)
                    except InputError as exc:
                        self.fail_json(msg=str(exc))

        def exit_json(self, **kw):
            super().exit_json(**printable(kw))

        def _load_params(self):
            # Ansible's int check does int(float(value)): "INF" or "1e999" raise OverflowError,
            # a traceback instead of a message. Such a value is made plainly not a number, so
            # the usual "argument X is of type ..." error names the option.
            super()._load_params()
            for name, opt in (self.argument_spec or {}).items():
                value = self.params.get(name) if isinstance(self.params, dict) else None
                if opt.get("type") in ("int", "float") and isinstance(value, (str, float)):
                    try:
                        finite = math.isfinite(float(value))
                    except (TypeError, ValueError):
                        continue
                    if not finite:
                        self.params[name] = "%s (not a finite number)" % (value,)

        def fail_json(self, msg, **kw):
            self.no_log_values.update(raw_no_log_values(getattr(self, "argument_spec", None), getattr(self, "params", None)))
            super().fail_json(msg=printable(msg), **printable(kw))

    return RemedyModule


def require_absolute(path, what="path"):
    if not isinstance(path, str) or not path:
        raise InputError("%s is empty: give an absolute path" % what)
    if "\x00" in path:
        raise InputError("%s %r contains a NUL byte" % (what, path))
    if not os.path.isabs(path):
        raise InputError("%s %r is relative: give an absolute path" % (what, path))
    return path


def open_regular(path, what="file"):
    """Open path read-only in binary mode, only if it is a regular file. Never blocks on a FIFO:
    the open is non-blocking and the file type is checked on the open descriptor."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise InputError("cannot read %s %s: %s" % (what, path, exc.strerror or exc)) from exc
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            kind = "a directory" if stat.S_ISDIR(st.st_mode) else "a FIFO" if stat.S_ISFIFO(st.st_mode) \
                else "a socket" if stat.S_ISSOCK(st.st_mode) else "a device" if stat.S_ISCHR(st.st_mode) \
                or stat.S_ISBLK(st.st_mode) else "not a regular file"
            raise InputError("%s %s is %s, not a regular file" % (what, path, kind))
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_regular(path, what="file", missing=None, limit=None):
    """The bytes of a regular file; `missing` (when not None) for a file that does not exist."""
    if missing is not None and not os.path.lexists(path):
        return missing
    with open_regular(path, what) as fh:
        try:
            return fh.read() if limit is None else fh.read(limit)
        except OSError as exc:
            raise InputError("cannot read %s %s: %s" % (what, path, exc.strerror or exc)) from exc


class Saved(bytes):
    """A file's bytes, and the symlink it was reached through (None for a plain file)."""
    link = None


def snapshot(paths, what="file"):
    """{path: Saved bytes, or None (absent)} for files about to be changed. Raises InputError for
    one that exists but cannot be read byte for byte (unreadable, not a regular file)."""
    out = {}
    for p in paths:
        if not os.path.lexists(p):
            out[p] = None
            continue
        out[p] = Saved(read_regular(p, what))
        out[p].link = os.readlink(p) if os.path.islink(p) else None
    return out


def keep_link(path, saved):
    """postconf -e writes a new main.cf and renames it over a symlinked one, so the symlink (a
    config-management layout) is lost. Put the new bytes into the link's target and the link back.
    Returns True when it did."""
    if saved is None or saved.link is None or os.path.islink(path) or not os.path.isfile(path):
        return False
    target = os.path.join(os.path.dirname(path), saved.link)
    with open(path, "rb") as fh:
        data = fh.read()
    atomic_write(os.path.realpath(target), data)
    _relink(path, saved.link)
    return True


def _relink(path, link):
    tmp = "%s.relink-%d" % (path, os.getpid())
    if os.path.lexists(tmp):
        os.unlink(tmp)
    os.symlink(link, tmp)
    os.replace(tmp, path)


def restore(saved):
    """Put files back exactly as snapshot() saw them: rewritten in place when their bytes differ
    (keeps inode, owner, mode), a symlink put back where the file was reached through one,
    removed when they did not exist. Returns the paths written; raises OSError when a file
    could not be put back."""
    written = []
    for path, data in saved.items():
        if data is None:
            if os.path.lexists(path):
                os.unlink(path)
                written.append(path)
            continue
        link = getattr(data, "link", None)
        if link is not None and not (os.path.islink(path) and os.readlink(path) == link):
            _relink(path, link)
            written.append(path)
        try:
            with open(path, "rb") as fh:
                if fh.read() == data:
                    continue
        except OSError:
            pass
        with open(path, "r+b" if os.path.exists(path) else "wb") as fh:
            fh.write(data)
            fh.truncate()
            fh.flush()
            os.fsync(fh.fileno())
        written.append(path)
    return written


def atomic_write(path, data, mode=None, uid=-1, gid=-1):
    """Replace path with data atomically. The temporary file is created 0600 in the same
    directory, given its final owner, group and mode, and only then renamed into place, so a
    secret table is never readable by others, not even for a moment. `mode` None keeps the
    existing file's mode (0644 for a new file)."""
    if os.path.islink(path):  # write through a symlink, as Ansible's atomic_move does
        path = os.path.realpath(path)
    directory = os.path.dirname(path) or "."
    try:
        st = os.stat(path)
    except FileNotFoundError:
        st = None
    if mode is None:
        mode = stat.S_IMODE(st.st_mode) if st else 0o644
    if st is not None:
        uid = st.st_uid if uid == -1 else uid
        gid = st.st_gid if gid == -1 else gid
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".%s." % os.path.basename(path))
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
            if uid != -1 or gid != -1:
                os.fchown(fh.fileno(), uid, gid)
            os.fchmod(fh.fileno(), mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def oserror_text(exc):
    """'No space left on device' rather than '[Errno 28] ...'."""
    if isinstance(exc, OSError) and exc.errno:
        return "%s%s" % (os.strerror(exc.errno), (": %s" % exc.filename) if exc.filename else "")
    return str(exc)


def resolve_file_args(params, current_mode=None):
    """(mode, uid, gid) from a module's owner/group/mode options, checked before anything is
    written: an unknown user or group, or a mode that is neither octal nor symbolic, is an
    InputError naming it. mode None means "not given"; uid/gid -1 means "leave as is"."""
    import grp
    import pwd

    uid = gid = -1
    owner, group, mode = params.get("owner"), params.get("group"), params.get("mode")
    if owner not in (None, ""):
        try:
            uid = int(owner) if str(owner).isdigit() else pwd.getpwnam(str(owner)).pw_uid
        except (KeyError, ValueError):
            raise InputError("owner %r is not a user on this host" % (owner,)) from None
    if group not in (None, ""):
        try:
            gid = int(group) if str(group).isdigit() else grp.getgrnam(str(group)).gr_gid
        except (KeyError, ValueError):
            raise InputError("group %r is not a group on this host" % (group,)) from None
    if mode in (None, ""):
        return None, uid, gid
    if isinstance(mode, int):
        octal = mode
    else:
        try:
            octal = int(str(mode), 8)
        except ValueError:
            base = os.stat_result(((current_mode or 0o644) | stat.S_IFREG, 0, 0, 0, 0, 0, 0, 0, 0, 0))
            try:
                octal = AnsibleModule._symbolic_mode_to_octal(base, str(mode))
            except Exception:  # noqa: BLE001 - Ansible raises bare ValueError/Exception here
                raise InputError("mode %r is neither octal (0640) nor symbolic (u=rw,g=r)" % (mode,)) from None
    if octal != stat.S_IMODE(octal) or octal < 0:
        raise InputError("mode %r is not a file mode (0000 to 07777)" % (mode,))
    return octal, uid, gid


def _kind_of(st):
    return "a symlink" if stat.S_ISLNK(st.st_mode) else "a directory" if stat.S_ISDIR(st.st_mode) \
        else "a FIFO" if stat.S_ISFIFO(st.st_mode) else "a socket" if stat.S_ISSOCK(st.st_mode) \
        else "a device" if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode) else "not a regular file"


def json_object(keys=()):
    """An is_ours test for write_own(): the file is a JSON object (with these keys, when given)."""
    import json

    def test(data):
        try:
            obj = json.loads(data.decode("utf-8", "surrogateescape") if isinstance(data, bytes) else data)
        except ValueError:
            return False
        return isinstance(obj, dict) and all(k in obj for k in keys)
    return test


OWN_LIMIT = 64 << 20  # our own files are small; a bigger one at that path is not ours


def check_own(path, what, is_ours=None):
    """Raise InputError (naming path and what it is) when path exists and is not ours: not a
    regular file (never followed: a symlink is refused whatever it points at), a hard link to
    another file, or content that is_ours(bytes) rejects. Returns the current bytes (None when
    absent). Nothing is written."""
    require_absolute(path, what)
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise InputError("%s %s cannot be checked: %s" % (what, path, oserror_text(exc))) from exc
    if not stat.S_ISREG(st.st_mode):
        raise InputError("%s %s is %s, not a postfix-remedy file; refused and left unchanged"
                         % (what, path, _kind_of(st)))
    if st.st_nlink > 1:
        raise InputError("%s %s has %d hard links (another file shares it); refused and left unchanged"
                         % (what, path, st.st_nlink))
    if st.st_size > OWN_LIMIT:
        raise InputError("%s %s is %d bytes, far more than postfix-remedy writes; refused and left unchanged"
                         % (what, path, st.st_size))
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):  # swapped between lstat and open
            raise InputError("%s %s is not a regular file; refused and left unchanged" % (what, path))
        data = fh.read(OWN_LIMIT + 1)
    if is_ours is not None and not is_ours(data):
        raise InputError("%s %s exists and is not a postfix-remedy %s (not our format); refused and left "
                         "unchanged: name a path of its own" % (what, path, what))
    return data


def make_own_dir(directory, mode=0o700):
    """Create our directory (and its parents) when missing; an existing one that is a symlink or
    not a directory is refused."""
    try:
        st = os.lstat(directory)
    except FileNotFoundError:
        os.makedirs(directory, mode=mode, exist_ok=True)
        return
    if not stat.S_ISDIR(st.st_mode):
        raise InputError("directory %s is %s, not a directory; refused" % (directory, _kind_of(st)))


def write_own(path, data, what, is_ours=None, mode=0o600, uid=None, gid=None):
    """Write one of postfix-remedy's own files: check_own() first (an existing path that is not
    ours is refused and left unchanged), then the bytes go to a fresh temporary file in the same
    directory, created with O_CREAT|O_EXCL|O_NOFOLLOW (a planted symlink or file at any name is
    never followed nor reused), given its mode and owner, fsynced, and renamed over path (rename
    replaces a name; it never writes through a symlink). uid/gid None: the running user's."""
    check_own(path, what, is_ours)
    directory = os.path.dirname(path)
    make_own_dir(directory)
    uid = os.getuid() if uid is None else uid
    gid = os.getgid() if gid is None else gid
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    for _attempt in range(16):
        tmp = os.path.join(directory, ".%s.%s.tmp" % (os.path.basename(path), os.urandom(6).hex()))
        try:
            fd = os.open(tmp, flags, 0o600)
            break
        except FileExistsError:
            continue
    else:
        raise InputError("cannot create a temporary file for %s %s" % (what, path))
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            if uid != -1 or gid != -1:
                os.fchown(fh.fileno(), uid, gid)
            os.fchmod(fh.fileno(), mode)
            os.fsync(fh.fileno())
        check_own(path, what, is_ours)  # a path swapped while we wrote is still refused
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def remove_own(path, what, is_ours=None):
    """Remove one of our own files; one that is not ours (check_own) is refused and kept.
    Returns True when something was removed."""
    if check_own(path, what, is_ours) is None:
        return False
    os.unlink(path)
    return True
