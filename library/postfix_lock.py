#!/usr/bin/python
# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# postfix-remedy: one run per host at a time (remediate, change window, queue actions).
from __future__ import annotations

DOCUMENTATION = r"""
---
module: postfix_lock
short_description: Hold the host-side lock of a postfix-remedy run, or release it
description:
  - A lock file (JSON, mode 0600) under C(/var/lib/postfix-remedy) names its holder (who, from
    where, which playbook), when it was taken and until when its lease runs. C(state=present)
    takes it, waiting up to I(timeout) seconds for another run to release it, then fails naming
    the holder. C(state=absent) releases it, only when I(token) is the one this run got.
  - A lock whose holder is gone is taken over. The holder is gone when the SSH session that took
    the lock has ended (the C(sshd) process above the module, recorded with its start time, no
    longer exists) or when its lease (I(ttl)) has run out. Every decision is made under an
    C(flock) of a guard file, so two runs never both take it.
  - In check mode nothing is written; the result says whether the lock is free.
version_added: "1.0.0"
author: postfix-remedy maintainers (@postfix-remedy)
options:
  state:
    description: C(present) takes the lock, C(absent) releases it.
    type: str
    choices: [present, absent]
    default: present
  path:
    description: The lock file.
    type: path
    default: /var/lib/postfix-remedy/run.lock
  holder:
    description: Who holds it (shown to the run that has to wait), e.g. C(alice@laptop remediate.yml).
    type: str
    default: postfix-remedy
  token:
    description: The token RV(token) of the run that took the lock; required to release it, and a
      run that holds the lock may take it again with it.
    type: str
  timeout:
    description: Seconds to wait for another run to release the lock before failing.
    type: int
    default: 600
  ttl:
    description: Seconds the lease lasts; past it, the lock counts as abandoned.
    type: int
    default: 7200
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: 'Check mode reports whether the lock would be taken or released and writes nothing.'
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
  postfix_lock:
    holder: "{{ lookup('env', 'USER') }}@controller remediate.yml"
  register: lock

- name: Release it
  postfix_lock:
    state: absent
    token: "{{ lock.token }}"
"""

RETURN = r"""
token:
  description: This run's token (needed to release the lock).
  returned: when state is present and the lock was taken
  type: str
lock:
  description: The lock as written (holder, token, started, expires, session).
  returned: when state is present
  type: dict
  contains:
    holder:
      description: "Who holds it (user@controller and play)."
      type: str
      returned: always
    token:
      description: "The run's token (release with it)."
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
    session:
      description: "The sshd process above the holder (pid and start time)."
      type: dict
      returned: always
    pid:
      description: "The module process that took it."
      type: int
      returned: always
took_over:
  description: The abandoned lock that was replaced (its holder and why it counted as gone).
  returned: when an abandoned lock was taken over
  type: dict
  contains:
    why:
      description: "Why it counted as gone (session ended, lease ran out, damaged)."
      type: str
      returned: always
    holder:
      description: "Who holds it (user@controller and play)."
      type: str
      returned: always
    token:
      description: "The run's token (release with it)."
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
    session:
      description: "The sshd process above the holder (pid and start time)."
      type: dict
      returned: always
    pid:
      description: "The module process that took it."
      type: int
      returned: always
waited:
  description: Seconds spent waiting for another run.
  returned: when state is present
  type: float
free:
  description: In check mode, whether this run could take the lock now.
  returned: in check mode
  type: bool
"""

import fcntl
import json
import os
import time
import uuid

try:  # from this repository: ansible.cfg puts module_utils/ on the module_utils path
    from ansible.module_utils import safe_io
except ImportError:  # from the installed collection postfix_remedy.toolkit
    from ansible_collections.postfix_remedy.toolkit.plugins.module_utils import safe_io


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


def gone(lock, now):
    """Why the lock's holder counts as gone, or None while it may still be working."""
    if not isinstance(lock, dict):
        return "the lock file is not a lock (unreadable or damaged)"
    if now > lock.get("expires", 0):
        return "its lease ran out at %s" % time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(lock.get("expires", 0)))
    sess = lock.get("session")
    if sess and _stat_start(sess["pid"]) != sess.get("start"):
        return "its SSH session (sshd pid %d) has ended" % sess["pid"]
    return None


def read_lock(path):
    if not os.path.lexists(path):
        return None
    try:
        return json.loads(safe_io.read_regular(path, "lock file", limit=1 << 16))
    except FileNotFoundError:
        return None
    except (safe_io.InputError, ValueError):
        return "damaged"


def main():
    module = safe_io.module_class()(
        argument_spec=dict(
            state=dict(type="str", default="present", choices=["present", "absent"]),
            path=dict(type="path", default="/var/lib/postfix-remedy/run.lock"),
            holder=dict(type="str", default="postfix-remedy"),
            token=dict(type="str", no_log=False),
            timeout=dict(type="int", default=600),
            ttl=dict(type="int", default=7200),
        ),
        supports_check_mode=True,
    )
    p = module.params
    if p["timeout"] < 0 or p["ttl"] < 1:
        module.fail_json(msg="timeout must be >= 0 and ttl >= 1 (got %d, %d)" % (p["timeout"], p["ttl"]))
    if p["state"] == "absent" and not p["token"]:
        module.fail_json(msg="releasing the lock needs the token of the run that took it")
    path = p["path"]
    for what, candidate in (("path", path), ("guard file", path + ".guard")):
        if os.path.lexists(candidate) and not os.path.isfile(candidate):
            module.fail_json(msg="%s %s exists and is not a regular file; not used as a lock" % (what, candidate))
    if p["state"] == "absent" and not os.path.lexists(path):
        module.exit_json(changed=False, msg="not held by this run (free)")
    if not module.check_mode:
        try:
            os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        except OSError as exc:
            module.fail_json(msg="cannot create the lock directory for %s: %s" % (path, safe_io.oserror_text(exc)))
    guard_path = path + ".guard"
    start = time.monotonic()
    while True:
        now = time.time()
        if module.check_mode:
            lock = read_lock(path)
            why = gone(lock, now) if lock else None
            module.exit_json(changed=False, free=lock is None or why is not None or (
                isinstance(lock, dict) and lock.get("token") == p["token"]), lock=lock if isinstance(lock, dict) else None,
                waited=0.0)
        fd = os.open(guard_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            lock = read_lock(path)
            if p["state"] == "absent":
                if isinstance(lock, dict) and lock.get("token") == p["token"]:
                    os.unlink(path)
                    module.exit_json(changed=True, msg="lock released")
                module.exit_json(changed=False, msg="not held by this run (%s)" % (
                    "free" if lock is None else "held by %s" % (lock.get("holder") if isinstance(lock, dict) else "?")))
            why = gone(lock, now) if lock is not None else None
            if lock is None or why or (isinstance(lock, dict) and p["token"] and lock.get("token") == p["token"]):
                mine = dict(holder=p["holder"], token=p["token"] or uuid.uuid4().hex,
                            started=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)), expires=now + p["ttl"],
                            session=ssh_session(), pid=os.getpid())
                safe_io.atomic_write(path, (json.dumps(mine, indent=1) + "\n").encode(), mode=0o600,
                                     uid=os.getuid(), gid=os.getgid())
                out = dict(changed=True, token=mine["token"], lock=mine, waited=round(time.monotonic() - start, 1))
                if why:
                    out["took_over"] = dict(lock if isinstance(lock, dict) else {}, why=why)
                    # a warning, not a task of its own: the run says it on every host it happens on
                    module.warn("took over the lock of %s: %s" % (out["took_over"].get("holder", "?"), why))
                module.exit_json(**out)
        finally:
            os.close(fd)  # releases the flock
        if time.monotonic() - start >= p["timeout"]:
            module.fail_json(msg="host is locked by another postfix-remedy run: %s since %s (lease until %s); waited %d s"
                             % (lock.get("holder"), lock.get("started"),
                                time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(lock.get("expires", 0))), p["timeout"]),
                             holder=lock)
        time.sleep(min(2.0, max(0.1, p["timeout"] - (time.monotonic() - start))))


if __name__ == "__main__":
    main()
