# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lab's root transport into a container on this machine: nsenter into its namespaces.

Why: `podman exec` costs about 0.24 s of CPU per command on this machine and the podman
connection runs three or more per task without pipelining, so the scenarios spent most of their
time starting podman. nsenter costs about 3 ms, and this plugin pipelines (one command per task).
The command runs the way `podman exec` would run it: in the container's mount, UTS, IPC, network,
PID and cgroup namespaces, from its root, with the environment and the open-file and process
limits of the container's first process. It does not join the container's cgroup.

Used where the lab needs root on its containers: setting them up (playbooks/lab.yml), the Molecule
scenarios (tests/molecule/base.yml) and `lab_connection: nsenter` in inventories/lab. Users reach
their servers over SSH, which the ssh scenario and the benchmarks exercise.
"""
from __future__ import annotations

DOCUMENTATION = r"""
name: lab_nsenter
short_description: Run tasks in a local podman lab container through nsenter
description:
  - Enters the namespaces of a running podman container on the controller (root only).
  - The container is named by C(ansible_host) (default the inventory name).
author: postfix-remedy maintainers (@postfix-remedy)
options:
  remote_addr:
    description: The container's name.
    default: inventory_hostname
    type: str
    vars:
      - name: inventory_hostname
      - name: ansible_host
  pipelining:
    description: Send the module on stdin instead of copying it first.
    type: bool
    default: true
    vars:
      - name: ansible_pipelining
"""

import json
import os
import resource
import subprocess
import tempfile

from ansible.errors import AnsibleConnectionFailure, AnsibleError
from ansible.module_utils.common.text.converters import to_bytes, to_text
from ansible.plugins.connection import ConnectionBase
from ansible.utils.display import Display

display = Display()
CACHE = os.path.join(tempfile.gettempdir(), "lab-nsenter-%d" % os.getuid())
NAMESPACES = ["--mount", "--uts", "--ipc", "--net", "--pid", "--cgroup", "--root", "--wd"]
LIMITS = (resource.RLIMIT_NOFILE, resource.RLIMIT_NPROC)


def _belongs(pid, cid):
    """The PID is still the first process of container cid (PIDs are reused)."""
    try:
        with open("/proc/%d/cgroup" % pid) as fh:
            return cid in fh.read()
    except OSError:
        return False


def container_pid(name):
    """PID of the container's first process; `podman inspect` once per container start, then a
    file cache checked against /proc (workers are new processes for every task)."""
    path = os.path.join(CACHE, name + ".json")
    try:
        with open(path) as fh:
            cached = json.load(fh)
        if _belongs(cached["pid"], cached["id"]):
            return cached["pid"]
    except (OSError, ValueError, KeyError, TypeError):
        pass
    proc = subprocess.run(["podman", "inspect", "--type", "container", "--format", "{{.State.Pid}} {{.Id}}", name],
                          capture_output=True, text=True, check=False)
    fields = proc.stdout.split()
    if proc.returncode != 0 or len(fields) != 2 or fields[0] == "0":
        raise AnsibleConnectionFailure("lab container %s is not running: %s" % (name, proc.stderr.strip()))
    pid, cid = int(fields[0]), fields[1]
    os.makedirs(CACHE, mode=0o700, exist_ok=True)
    tmp = "%s.%d" % (path, os.getpid())
    with open(tmp, "w") as fh:
        json.dump({"pid": pid, "id": cid}, fh)
    os.replace(tmp, path)
    return pid


class Connection(ConnectionBase):
    transport = "lab_nsenter"
    has_pipelining = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._pid = None
        self._env = None
        self._limits = None

    def _connect(self):
        if not self._connected:
            if os.geteuid() != 0:
                raise AnsibleConnectionFailure("lab_nsenter needs root on the controller (nsenter into a container)")
            self._play_context.remote_user = "root"
            self._pid = container_pid(self.get_option("remote_addr"))
            with open("/proc/%d/environ" % self._pid, "rb") as fh:
                pairs = [item.partition(b"=") for item in fh.read().split(b"\0") if item]
            self._env = {key: value for key, _eq, value in pairs}
            self._limits = [(which, resource.prlimit(self._pid, which)) for which in LIMITS]
            self._connected = True
        return self

    def _run(self, argv, in_data=None):
        limits = self._limits

        def apply_limits():
            for which, value in limits:
                resource.setrlimit(which, value)

        proc = subprocess.Popen(["nsenter", "--target", str(self._pid), *NAMESPACES, "--", *argv], env=self._env,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                preexec_fn=apply_limits)
        stdout, stderr = proc.communicate(in_data)
        return proc.returncode, stdout, stderr

    def exec_command(self, cmd, in_data=None, sudoable=True):
        super().exec_command(cmd, in_data=in_data, sudoable=sudoable)
        display.vvv("EXEC %s" % to_text(cmd), host=self._play_context.remote_addr)
        return self._run(["/bin/sh", "-c", to_text(cmd)], in_data)

    def put_file(self, in_path, out_path):
        super().put_file(in_path, out_path)
        display.vvv("PUT %s TO %s" % (in_path, out_path), host=self._play_context.remote_addr)
        with open(to_bytes(in_path), "rb") as fh:
            data = fh.read()
        rc, _out, err = self._run(["/bin/sh", "-c", 'cat > "$1"', "sh", out_path], data)
        if rc != 0:
            raise AnsibleError("failed to write %s in %s: %s" % (out_path, self._play_context.remote_addr, to_text(err)))

    def fetch_file(self, in_path, out_path):
        super().fetch_file(in_path, out_path)
        display.vvv("FETCH %s TO %s" % (in_path, out_path), host=self._play_context.remote_addr)
        rc, out, err = self._run(["cat", "--", in_path])
        if rc != 0:
            raise AnsibleError("failed to read %s in %s: %s" % (in_path, self._play_context.remote_addr, to_text(err)))
        with open(to_bytes(out_path), "wb") as fh:
            fh.write(out)

    def close(self):
        self._connected = False
