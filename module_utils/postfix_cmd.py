# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run Postfix commands from modules: argv lists only, one place for `-c`.

Shared by every postfix-remedy module. Nothing here builds a shell string.
"""
from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import subprocess
import tempfile
import time

CONFIG_DIR_RE = re.compile(r"^/[A-Za-z0-9._/@+-]*$")
# What Debian trixie's `postfix check` prints when it copies an /etc file into the chroot.
CHROOT_SYNC_RE = re.compile(r"^updating /\S+ => /\S+$")


def valid_config_dir(path):
    """True when `path` is an absolute, plain path we can pass to `-c`."""
    return bool(path) and bool(CONFIG_DIR_RE.match(path)) and ".." not in path.split("/")


def with_config(argv, config_dir):
    """Insert `-c DIR` after the command name when a config_dir is given."""
    if not config_dir:
        return list(argv)
    return [argv[0], "-c", config_dir] + list(argv[1:])


class Postfix:
    """Thin runner bound to one AnsibleModule and one config directory."""

    def __init__(self, module, config_dir=None):
        self.module = module
        self.config_dir = config_dir or None
        if self.config_dir and not valid_config_dir(self.config_dir):
            module.fail_json(msg="config_dir must be an absolute path without '..' or special characters: %r" % config_dir)
        if self.config_dir and not os.path.isfile(os.path.join(self.config_dir, "main.cf")):
            module.fail_json(msg="no main.cf in config_dir %s" % self.config_dir)
        self.commands = []
        self._bins = {}

    def bin(self, name):
        if name not in self._bins:
            self._bins[name] = self.module.get_bin_path(name, required=True, opt_dirs=["/usr/sbin", "/usr/bin"])
        return self._bins[name]

    def run(self, argv, check=True, data=None, config=True, record=False, **kw):
        """Run a Postfix command; fail the module with its output when check is set."""
        argv = [self.bin(argv[0])] + list(argv[1:])
        if config:
            argv = with_config(argv, self.config_dir)
        if record:
            self.commands.append(argv)
        rc, out, err = self.module.run_command(argv, data=data, binary_data=data is not None, **kw)
        if check and rc != 0:
            self.module.fail_json(msg="%s failed (rc=%d): %s" % (" ".join(argv), rc, (err or out).strip()),
                                  rc=rc, stdout=out, stderr=err, cmd=argv)
        return rc, out, err

    def postconf(self, *args, check=True, record=False):
        return self.run(["postconf"] + list(args), check=check, record=record)

    def param(self, name, default=False):
        """Effective (or built-in default) value of one parameter, unexpanded."""
        flags = ["-d", "-h"] if default else ["-h"]
        return self.postconf(*flags, name)[1].rstrip("\n")

    def check(self, readonly=False):
        """`postfix check`: returns (ok, messages). Postfix only prints to a terminal, so use a pty.

        readonly: Debian trixie's `postfix check` copies resolv.conf, hosts, services... into the
        chroot ("updating /etc/resolv.conf => ..."). A diagnosis must change nothing, so the chroot
        etc files are saved first and anything the check rewrote or added is put back."""
        argv = with_config([self.bin("postfix"), "check"], self.config_dir)
        saved = snapshot_chroot(self.param("queue_directory")) if readonly else None
        try:
            rc, output = run_tty(argv)
        finally:
            if saved is not None:
                restore_chroot(*saved)
        return rc == 0, output.strip()


CHROOT_SNAPSHOT_MAX = 8 * 1024 * 1024


def snapshot_chroot(queue_directory):
    """(base, {path: (bytes, stat)}) of the files under $queue_directory/etc, or None when too big."""
    base = os.path.join(queue_directory or "/nonexistent", "etc")
    files, total = {}, 0
    for root, _dirs, names in os.walk(base):
        for name in names:
            path = os.path.join(root, name)
            if os.path.islink(path) or not os.path.isfile(path):
                continue
            with open(path, "rb") as fh:
                data = fh.read()
            total += len(data)
            if total > CHROOT_SNAPSHOT_MAX:
                return None
            files[path] = (data, os.stat(path))
    return base, files


def restore_chroot(base, files):
    """Put back what a check rewrote; remove files it added."""
    for root, _dirs, names in os.walk(base):
        for name in names:
            path = os.path.join(root, name)
            if path not in files and os.path.isfile(path) and not os.path.islink(path):
                os.unlink(path)
    for path, (data, st) in files.items():
        try:
            with open(path, "rb") as fh:
                same = fh.read() == data
        except OSError:
            same = False
        if not same:
            with open(path, "wb") as fh:
                fh.write(data)
            os.chmod(path, st.st_mode & 0o7777)
            os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def run_tty(argv, timeout=120):
    """Run argv with stdout/stderr on a pseudo-terminal and return (rc, output).

    postfix(1) and postfix-script write their warnings only when stderr is a
    terminal (otherwise only to syslog), so validation output needs a pty.
    """
    pid, fd = pty.fork()
    if pid == 0:  # child
        try:
            os.execv(argv[0], argv)
        finally:
            os._exit(127)
    chunks = []
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            os.kill(pid, 9)
            break
        ready, _unused, _unused = select.select([fd], [], [], min(left, 1.0))
        if ready:
            try:
                data = os.read(fd, 65536)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
    os.close(fd)
    _unused, status = os.waitpid(pid, 0)
    rc = os.waitstatus_to_exitcode(status)
    return rc, b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n")


F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)  # Linux 2.6.35+; the constant is in fcntl from Python 3.10


class Stream:
    """Run argv (a list; never a shell) and read its stdout line by line as it comes.

    For outputs that grow with the queue or the log (postqueue -j, grep over a mail log,
    postsuper's line per message), which run_command would hold in memory whole. stdin is a
    file object or nothing; stderr goes to a temporary file (or into stdout with
    merge_stderr), so a chatty stderr can never block the child while we read.

        with Stream(argv, stdin=fh) as st:
            for raw in st:        # bytes, newline included
                ...
        st.rc, st.stderr          # after the block; a child still running then is killed

    Starting the command raises OSError (missing binary), like subprocess.
    """

    def __init__(self, argv, stdin=None, env=None, merge_stderr=False, timeout=None, pipe_size=None):
        """pipe_size: bytes the stdout pipe holds (Linux; default 64 KB, at most
        /proc/sys/fs/pipe-max-size): a fast child keeps writing while the reader works on a block."""
        self.argv, self.stdin, self.env = list(argv), stdin, env
        self.merge_stderr, self.timeout, self.pipe_size = merge_stderr, timeout, pipe_size
        self.rc, self.stderr, self.timed_out = None, "", False

    def __enter__(self):
        self._err = None if self.merge_stderr else tempfile.TemporaryFile()  # noqa: SIM115 - closed in __exit__
        try:
            self.proc = subprocess.Popen(  # noqa: S603 - argv list, no shell
                self.argv, stdin=self.stdin if self.stdin is not None else subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT if self.merge_stderr else self._err,
                env=self.env)
        except OSError:
            if self._err:
                self._err.close()
            raise
        if self.pipe_size:
            try:
                fcntl.fcntl(self.proc.stdout.fileno(), F_SETPIPE_SZ, self.pipe_size)
            except OSError:
                pass  # not Linux, or more than pipe-max-size: the default pipe works, only slower
        self._deadline = time.monotonic() + self.timeout if self.timeout else None
        return self

    def __iter__(self):
        for raw in self.proc.stdout:
            yield raw
            if self._deadline and time.monotonic() > self._deadline:
                self.timed_out = True
                break

    def blocks(self, size):
        """stdout in raw blocks of up to `size` bytes (not split at lines), for big outputs."""
        read = self.proc.stdout.read1 if hasattr(self.proc.stdout, "read1") else self.proc.stdout.read
        while True:
            data = read(size)
            if not data:
                break
            yield data
            if self._deadline and time.monotonic() > self._deadline:
                self.timed_out = True
                break

    def __exit__(self, *exc):
        self.proc.stdout.close()
        if self.proc.poll() is None:
            self.proc.kill()
        self.rc = self.proc.wait()
        if self._err:
            self._err.seek(0)
            self.stderr = self._err.read().decode("utf-8", "replace")
            self._err.close()
        return False


def run_together(argv, jobs):
    """Run one argv per job at the same time, job = (stdin path, output path): each process reads
    its own file and writes stdout+stderr to its own file (no pipe to fill while we wait). Waits
    for all of them and returns their exit codes in job order. For postsuper on every CPU."""
    procs = []
    try:
        for stdin_path, out_path in jobs:
            with open(stdin_path, "rb") as stdin, open(out_path, "wb") as out:
                procs.append(subprocess.Popen(argv, stdin=stdin, stdout=out, stderr=subprocess.STDOUT,
                                              env=dict(os.environ, LC_ALL="C")))
    finally:
        rcs = [proc.wait() for proc in procs]
    return rcs
