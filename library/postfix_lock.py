#!/usr/bin/python
# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# postfix-remedy: one run per host at a time (remediate, change window, queue actions).
from __future__ import annotations

DOCUMENTATION = r"""
---
module: postfix_lock
short_description: Hold the host-side lock of a postfix-remedy run, renew it, release it or break it
description:
  - A lock file (JSON, mode 0600) under C(/var/lib/postfix-remedy) names its holder (who, from
    where, which playbook), when it was taken and until when its lease runs. C(state=present)
    takes it, waiting up to I(timeout) seconds for another run to release it, then fails naming
    the holder, its token and how to break it. With the I(token) of the run that holds it,
    C(state=present) renews the lease (a new I(ttl) from now) and fails when the run no longer
    holds it (broken, or taken over after its lease ran out), and the run must stop.
    C(state=absent) releases it, only when I(token) is the one this run got.
  - The lease is short (I(ttl), 300 s) and the holding run renews it between its phases, so a
    lock whose controller was killed frees itself within I(ttl) seconds even when its SSH session
    on the host stays open (a sleeping laptop leaves sshd waiting for hours).
  - A lock whose holder is gone is taken over, with a warning naming why. The holder is gone when
    the SSH session that took or last renewed the lock has ended (the C(sshd) process above the
    module, recorded with its start time, no longer exists), when its lease has run out, or when
    the lock file is damaged (a field that is not of the type this module writes). Every decision
    is made under an C(flock) of the guard file C(<path>.guard), so two runs never both take it.
  - C(state=broken) is the operator's force-unlock. It removes the lock whose token is
    I(break_token) (shown in the "host is locked" message, so only a lock the operator looked at
    is broken) and appends a JSON line (when, by whom, the lock broken) to C(<path>.breaks).
    Another token changes nothing and fails naming the current holder.
  - Only files of ours are used. An existing I(path), C(<path>.guard) or C(<path>.breaks) that
    is a symlink, a directory, a device, a hard link or not in our format is refused, named and
    left unchanged, in check mode too; new files are created without following symlinks.
  - In check mode nothing is written; the result says whether the lock is free (or would be
    released or broken).
version_added: "1.0.0"
author: postfix-remedy maintainers (@postfix-remedy)
options:
  state:
    description:
      - C(present) takes the lock (or renews it, with I(token)), C(absent) releases it,
        C(broken) breaks another run's lock (needs I(break_token)).
    type: str
    choices: [present, absent, broken]
    default: present
  path:
    description: The lock file (not a directory; its directory is created mode 0700 when missing).
    type: path
    default: /var/lib/postfix-remedy/run.lock
  holder:
    description:
      - Who holds it (shown to the run that has to wait), e.g. C(alice@laptop remediate.yml); with
        C(state=broken), who breaks it (recorded in the break log). 1 to 512 characters.
    type: str
    default: postfix-remedy
  token:
    description:
      - The token RV(token) of the run that took the lock; required to release it. With
        C(state=present) it renews that run's lock (and never takes a lock it does not hold).
    type: str
  break_token:
    description:
      - With C(state=broken), the token of the lock to break, as the "host is locked" message shows
        it. Required with C(state=broken).
    type: str
  timeout:
    description: Seconds to wait for another run to release the lock before failing (0 to 86400).
    type: int
    default: 600
  ttl:
    description:
      - Seconds the lease lasts from now (1 to 86400); past it, the lock counts as abandoned. The
        holding run renews it (I(token)) between its phases, so this is how long a lock left by a
        killed controller blocks the host.
    type: int
    default: 300
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: 'Check mode reports whether the lock would be taken, renewed, released or broken and writes nothing.'
  diff_mode:
    support: none
    details: "No diff: the lock file is the module's own record."
  platform:
    platforms: posix
notes:
  - Supports check mode (nothing is written; RV(free) says whether the lock could be taken).
"""

EXAMPLES = r"""
- name: One run per host at a time
  postfix_remedy.toolkit.postfix_lock:
    holder: "{{ lookup('ansible.builtin.pipe', 'id -un') }}@controller: remediate.yml"
    ttl: 300
  register: lock

- name: Renew the lease between phases (fails when this run no longer holds the lock)
  postfix_remedy.toolkit.postfix_lock:
    holder: "{{ lock.lock.holder }}"
    token: "{{ lock.token }}"
    timeout: 0

- name: Release it
  postfix_remedy.toolkit.postfix_lock:
    state: absent
    token: "{{ lock.token }}"

- name: Break the lock of a run that is gone (the token from the "host is locked" message)
  postfix_remedy.toolkit.postfix_lock:
    state: broken
    break_token: 0f3c9a0e5b7d4c1e9a2b6d8f0c4e1a3b
    holder: alice@laptop
"""

RETURN = r"""
token:
  description: This run's token (needed to renew and release the lock).
  returned: when state is present and the lock was taken or renewed
  type: str
renewed:
  description: Whether this call renewed the run's own lock (rather than taking a new one).
  returned: when state is present and the lock was taken or renewed
  type: bool
lock:
  description: The lock as written (holder, token, started, expires, session, pid, renewed).
  returned: when state is present
  type: dict
  contains:
    holder:
      description: "Who holds it (user@controller and play)."
      type: str
      returned: always
    token:
      description: "The run's token (renew, release or break with it)."
      type: str
      returned: always
    started:
      description: "When it was taken (UTC)."
      type: str
      returned: always
    expires:
      description: "Epoch at which the lease runs out."
      type: float
      returned: always
    renewed:
      description: "When the holder last renewed it (UTC), null before its first renewal."
      type: str
      returned: always
    session:
      description: "The sshd process above the holder when it took or last renewed it (pid and start time)."
      type: dict
      returned: always
    pid:
      description: "The module process that took or last renewed it."
      type: int
      returned: always
took_over:
  description:
    - The abandoned lock that was replaced (its fields, as in RV(lock)) and why it counted as gone.
      For a damaged lock file, only why, holder and file (its JSON text, cut at 2000 characters).
  returned: when an abandoned lock was taken over
  type: dict
  contains:
    why:
      description: "Why it counted as gone (session ended, lease ran out, damaged and how)."
      type: str
      returned: always
    holder:
      description: "Who held it."
      type: str
      returned: always
broke:
  description: The lock that state=broken removed (all its fields, as in RV(lock)).
  returned: when state is broken and a lock was broken
  type: dict
  contains:
    holder:
      description: "Who held it."
      type: str
      returned: always
    token:
      description: "Its token (the break_token given)."
      type: str
      returned: always
    started:
      description: "When it was taken (UTC)."
      type: str
      returned: always
holder:
  description:
    - The lock that is in the way (all its fields, as in RV(lock)), when the wait timed out, when
      break_token is not its token, or when a renewal finds another run's lock.
  returned: on those failures
  type: dict
  contains:
    holder:
      description: "Who holds it."
      type: str
      returned: always
    token:
      description: "Its token (break it with this one)."
      type: str
      returned: always
    started:
      description: "When it was taken (UTC)."
      type: str
      returned: always
waited:
  description: Seconds spent waiting for another run.
  returned: when state is present
  type: float
free:
  description: In check mode, whether this run could take the lock now.
  returned: in check mode, when state is present
  type: bool
"""

import fcntl
import json
import os
import re
import stat
import time
import uuid

try:  # from this repository: ansible.cfg puts module_utils/ on the module_utils path
    from ansible.module_utils import safe_io
except ImportError:  # from the installed collection postfix_remedy.toolkit
    from ansible_collections.postfix_remedy.toolkit.plugins.module_utils import safe_io

MAX_SECONDS = 86400  # a lease or a wait longer than a day is a typo, not a plan
HOLDER_MAX = 512  # the lock file stays a few KiB, read back whole
TOKEN = re.compile(r"[A-Za-z0-9._-]{1,128}\Z")
BREAKS_KEPT = 100  # the break log keeps the newest entries
# what makes a file at the lock's path ours: a JSON object with the keys every version wrote
LOCK_FORMAT = safe_io.json_object(("holder", "token", "started", "expires"))


def _empty(data):
    return data == b""


def _break_log_format(data):
    """Ours: JSON lines, each an object with when/by/broke (or an empty file)."""
    try:
        lines = [json.loads(line) for line in data.decode("utf-8").splitlines() if line.strip()]
    except ValueError:
        return False
    return all(isinstance(e, dict) and {"when", "by", "broke"} <= set(e) for e in lines)


def _utc(epoch):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def _short(text):
    """A holder as shown in a message (a lock from an older version may hold a very long one)."""
    text = str(text)
    return text if len(text) <= HOLDER_MAX else text[:HOLDER_MAX] + "... (%d chars)" % len(text)


def _stat_start(pid):
    """Start time (clock ticks since boot) of a live process, or None when it does not exist or
    has exited and waits to be reaped (a zombie: containers whose PID 1 never reaps keep them)."""
    try:
        with open("/proc/%d/stat" % pid) as fh:
            data = fh.read()
        fields = data[data.rindex(")") + 2:].split()
        return None if fields[0] in ("Z", "X") else int(fields[19])
    except (OSError, ValueError, IndexError):
        return None


def ssh_session():
    """The nearest sshd process above this one (the SSH session that runs the module): pid and
    start time, or None (podman exec, local connection)."""
    pid = os.getppid()
    for _unused in range(32):
        if pid <= 1:
            return None
        try:
            with open("/proc/%d/comm" % pid) as fh:
                comm = fh.read().strip()
            with open("/proc/%d/stat" % pid) as fh:
                data = fh.read()
        except OSError:
            return None
        if comm == "sshd":
            return dict(pid=pid, start=_stat_start(pid))
        pid = int(data[data.rindex(")") + 2:].split()[1])
    return None


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def damage(lock, now):
    """Why a lock file in our format still cannot be a lock we wrote (a field of the wrong type,
    an expiry that is not a time), or None. Such a lock is taken over, with that reason."""
    for key in ("holder", "token", "started"):
        if not isinstance(lock[key], str):
            return "its %s is %s, not a string" % (key, type(lock[key]).__name__)
    expires = lock["expires"]
    if not (_is_int(expires) or isinstance(expires, float)):
        return "its expires is %s, not a time" % type(expires).__name__
    if not 0 <= expires <= now + MAX_SECONDS + 60:  # also NaN and +-Infinity; no float() of a huge int
        return "its expires (%s) is not a time a lease can run to" % (repr(expires)[:40],)
    sess = lock.get("session")
    if sess is not None and not (isinstance(sess, dict) and _is_int(sess.get("pid")) and sess["pid"] > 0
                                 and (sess.get("start") is None or _is_int(sess.get("start")))):
        return "its session is not a process (pid and start time): %s" % json.dumps(sess)[:200]
    if lock.get("pid") is not None and not _is_int(lock["pid"]):
        return "its pid is %s, not a number" % type(lock["pid"]).__name__
    return None


def gone(lock, now):
    """Why the holder of a well-formed lock counts as gone, or None while it may still be working."""
    if now > lock["expires"]:
        return "its lease ran out at %s" % _utc(lock["expires"])
    sess = lock.get("session")
    if sess and _stat_start(sess["pid"]) != sess.get("start"):
        return "its SSH session (sshd pid %d) has ended" % sess["pid"]
    return None


def read_lock(path, now):
    """(lock, damaged): (None, None) when there is none; a file at path that is not ours (a
    symlink, a directory, a device, not our format) raises InputError naming it."""
    data = safe_io.check_own(path, "lock file", LOCK_FORMAT)
    if data is None:
        return None, None
    lock = json.loads(data.decode("utf-8", "surrogateescape"))
    return lock, damage(lock, now)


def check_paths(path):
    """Everything this module may create or write, checked before anything is: InputError
    naming the first that is not ours."""
    if path.endswith("/") or os.path.basename(path) in ("", ".", ".."):
        raise safe_io.InputError("path %s names a directory, not a lock file: give the file's path "
                                 "(e.g. /var/lib/postfix-remedy/run.lock)" % path)
    directory = os.path.dirname(path)
    try:
        st = os.lstat(directory)
        if not stat.S_ISDIR(st.st_mode):
            raise safe_io.InputError("the lock's directory %s is not a directory (%s); refused"
                                     % (directory, "a symlink" if stat.S_ISLNK(st.st_mode) else "a file"))
    except FileNotFoundError:
        pass
    except NotADirectoryError:
        raise safe_io.InputError("the lock's directory %s is below a file, not a directory; refused" % directory) from None
    safe_io.check_own(path, "lock file", LOCK_FORMAT)
    safe_io.check_own(path + ".guard", "lock guard file", _empty)
    safe_io.check_own(path + ".breaks", "lock break log", _break_log_format)
    return path


class Guard:
    """The flock of <path>.guard, under which every decision is made. The guard is opened
    without following a symlink and used only if it is a regular file of ours (empty, one link)."""

    def __init__(self, path):
        self.path = path
        self.fd = None

    def __enter__(self):
        flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
        try:
            self.fd = os.open(self.path, flags, 0o600)
        except OSError as exc:
            raise safe_io.InputError("lock guard file %s cannot be opened (a symlink is never followed): %s"
                                     % (self.path, safe_io.oserror_text(exc))) from exc
        st = os.fstat(self.fd)
        if not stat.S_ISREG(st.st_mode) or st.st_nlink != 1 or st.st_size:
            os.close(self.fd)
            raise safe_io.InputError("lock guard file %s is not an empty regular file of ours; refused and left "
                                     "unchanged" % self.path)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        os.close(self.fd)  # releases the flock


def write_lock(path, lock):
    data = (json.dumps(lock, indent=1, allow_nan=False) + "\n").encode()
    if not LOCK_FORMAT(data) or json.loads(data) != lock or damage(lock, time.time()):  # it must read back whole
        raise safe_io.InputError("the lock for %s would not read back as written" % path)
    safe_io.write_own(path, data, "lock file", LOCK_FORMAT, mode=0o600)


def record_break(path, entry):
    """Append to <path>.breaks (JSON lines, newest BREAKS_KEPT kept)."""
    log = path + ".breaks"
    old = safe_io.check_own(log, "lock break log", _break_log_format) or b""
    lines = [line for line in old.decode("utf-8").splitlines() if line.strip()]
    lines = lines[-(BREAKS_KEPT - 1):] + [json.dumps(entry, sort_keys=True)]
    safe_io.write_own(log, ("\n".join(lines) + "\n").encode(), "lock break log", _break_log_format, mode=0o600)


def broken_by(path, token):
    """The break log's entry for the lock with this token, or None."""
    try:
        data = safe_io.check_own(path + ".breaks", "lock break log", _break_log_format) or b""
    except safe_io.InputError:
        return None
    for line in reversed(data.decode("utf-8").splitlines()):
        entry = json.loads(line) if line.strip() else {}
        if isinstance(entry.get("broke"), dict) and entry["broke"].get("token") == token:
            return entry
    return None


def _take(p, lock, now):
    """The lock this run writes: a new one, or its own renewed (same token and start)."""
    mine = dict(holder=p["holder"], token=p["token"] or uuid.uuid4().hex, started=_utc(now), expires=now + p["ttl"],
                session=ssh_session(), pid=os.getpid(), renewed=None)
    if p["token"]:
        mine.update(started=lock["started"], renewed=_utc(now))
    return mine


def _lost(path, token, lock, damaged):
    """Why a run that gives its token no longer holds the lock."""
    if lock is None:
        entry = broken_by(path, token)
        return ("%s broke it at %s" % (_short(entry.get("by")), entry.get("when")) if entry
                else "there is no lock: it was released or removed")
    if damaged:
        return "the lock file is damaged (%s)" % damaged
    return "another run holds it: %s since %s (this run's lease ran out and that run took it over)" % (
        _short(lock["holder"]), lock["started"])


def decide(p, lock, damaged, now, check):
    """The result for this call under the guard (nothing is written when check), or None to wait."""
    path, token = p["path"], p["token"]
    theirs = lock.get("token") if isinstance(lock, dict) else None
    if p["state"] == "absent":
        if lock is not None and theirs == token:
            if not check:
                os.unlink(path)
            return dict(changed=True, msg="lock would be released" if check else "lock released")
        return dict(changed=False, msg="not held by this run (%s)" % (
            "free" if lock is None else "held by %s" % _short(lock.get("holder"))))
    if p["state"] == "broken":
        if lock is None:
            return dict(changed=False, msg="no lock on this host: nothing to break")
        if theirs != p["break_token"]:
            return dict(failed=True, holder=lock, msg=(
                "the lock on this host is held by %s since %s with token %s, not by the run whose token you gave "
                "(%s); nothing was changed: look at the holder again before breaking its lock"
                % (_short(lock.get("holder")), lock.get("started"), theirs, p["break_token"])))
        if not check:
            record_break(path, dict(when=_utc(now), by=p["holder"], broke=lock))
            os.unlink(path)
        return dict(changed=True, broke=lock, msg="%s the lock of %s (taken at %s); recorded in %s.breaks" % (
            "would break" if check else "broke", _short(lock.get("holder")), lock.get("started"), path))
    if token:  # a renewal: only the run's own lock, never a new one
        if lock is None or damaged or theirs != token:
            return dict(failed=True, holder=None if damaged else lock, msg=(
                "this run no longer holds the host's lock: %s. Stopped here so that two runs never work on "
                "the host at once; run it again" % _lost(path, token, lock, damaged)))
        why = None
    else:
        why = "the lock file is damaged: %s" % damaged if damaged else gone(lock, now) if lock else None
        if lock is not None and why is None:
            return dict(changed=False, free=False, lock=lock) if check else None
    if check:
        return dict(changed=False, free=True, lock=lock if lock is not None and not damaged else None)
    mine = _take(p, lock, now)
    write_lock(path, mine)
    out = dict(changed=True, token=mine["token"], lock=mine, renewed=bool(token))
    if why:
        out["took_over"] = dict(why=why, holder=_short(lock.get("holder")), file=json.dumps(lock)[:2000]) \
            if damaged else dict(lock, why=why)
        # a warning, not a task of its own: the run says it on every host it happens on
        out["warnings"] = ["took over the lock of %s: %s" % (_short(lock.get("holder", "?")), why)]
    return out


def locked_message(lock, timeout):
    return ("host is locked by another postfix-remedy run: %s since %s (lease until %s, renewed while that run "
            "works); waited %d s. If that run is gone (controller killed or cut off), the lock frees itself when "
            "its lease runs out, or break it now with its token: ansible-playbook playbooks/unlock.yml "
            "-l <this host> -e postfix_lock_break_token=%s"
            % (_short(lock["holder"]), lock["started"], _utc(lock["expires"]), timeout, lock["token"]))


def bad_params(p):
    """What is wrong with the options, or None. Checked before anything is read or written."""
    if not 0 <= p["timeout"] <= MAX_SECONDS:
        return "timeout must be 0 to %d seconds (got %d)" % (MAX_SECONDS, p["timeout"])
    if not 1 <= p["ttl"] <= MAX_SECONDS:
        return "ttl (the lease) must be 1 to %d seconds (got %d)" % (MAX_SECONDS, p["ttl"])
    if not 1 <= len(p["holder"]) <= HOLDER_MAX:
        return "holder must be 1 to %d characters (got %d): it is shown to the runs that wait" % (
            HOLDER_MAX, len(p["holder"]))
    for name in ("token", "break_token"):
        if p[name] is not None and not TOKEN.match(p[name]):
            return "%s %r is not a lock token (1 to 128 of A-Z a-z 0-9 . _ -)" % (name, _short(p[name]))
    if p["state"] == "absent" and not p["token"]:
        return "releasing the lock needs the token of the run that took it"
    if p["state"] == "broken" and not p["break_token"]:
        return ("breaking a lock needs break_token: the token of the holder to break, as the "
                "'host is locked' message shows it")
    return None


def finish(module, p, result, start):
    if result.pop("failed", False):
        module.fail_json(**result)
    for warning in result.pop("warnings", []):
        module.warn(warning)
    if p["state"] == "present":
        result["waited"] = round(time.monotonic() - start, 1)
    module.exit_json(**result)


def main():
    module = safe_io.module_class()(
        argument_spec=dict(
            state=dict(type="str", default="present", choices=["present", "absent", "broken"]),
            path=dict(type="path", default="/var/lib/postfix-remedy/run.lock"),
            holder=dict(type="str", default="postfix-remedy"),
            token=dict(type="str", no_log=False),
            break_token=dict(type="str", no_log=False),
            timeout=dict(type="int", default=600),
            ttl=dict(type="int", default=300),
        ),
        supports_check_mode=True,
    )
    p = module.params
    problem = bad_params(p)
    if problem:
        module.fail_json(msg=problem)
    path = p["path"]
    start = time.monotonic()
    try:  # everything this module may touch is checked before anything is created
        check_paths(path)
        lock, damaged = read_lock(path, time.time())
        if module.check_mode:
            finish(module, p, decide(p, lock, damaged, time.time(), check=True), start)
        safe_io.make_own_dir(os.path.dirname(path))
    except (safe_io.InputError, OSError) as exc:
        module.fail_json(msg=safe_io.oserror_text(exc))
    while True:
        try:
            with Guard(path + ".guard"):
                now = time.time()
                lock, damaged = read_lock(path, now)
                result = decide(p, lock, damaged, now, check=False)
        except (safe_io.InputError, OSError) as exc:
            module.fail_json(msg=safe_io.oserror_text(exc))
        if result is not None:
            finish(module, p, result, start)
        if time.monotonic() - start >= p["timeout"]:
            module.fail_json(msg=locked_message(lock, p["timeout"]), holder=lock)
        time.sleep(min(2.0, max(0.1, p["timeout"] - (time.monotonic() - start))))


if __name__ == "__main__":
    main()
