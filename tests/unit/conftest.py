# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared pytest fixtures: run modules in-process against real Postfix instances.

`postfix_dir` is a scratch configuration directory (postconf/postmap work on it);
`postfix_instance` also starts a real master on it with every inet service disabled,
so queue tests use the real pickup/qmgr/postsuper without touching any network.
"""
from __future__ import annotations

import importlib.util
import json
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Custom module_utils are imported as ansible.module_utils.<name> by the modules.
import ansible.module_utils  # noqa: E402

if str(ROOT / "module_utils") not in ansible.module_utils.__path__:
    ansible.module_utils.__path__.append(str(ROOT / "module_utils"))

from ansible.module_utils.testing import patch_module_args  # noqa: E402

HAVE_POSTFIX = shutil.which("postconf") or os.path.exists("/usr/sbin/postconf")
needs_postfix = pytest.mark.skipif(not HAVE_POSTFIX, reason="Postfix binaries not installed")
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="a Postfix instance needs root")


class ModuleExit(Exception):
    def __init__(self, result):
        super().__init__(result.get("msg", ""))
        self.result = result


def _load(name):
    spec = importlib.util.spec_from_file_location("pfr_lib_" + name, ROOT / "library" / (name + ".py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def run_module(name, args, check=False, diff=False, module=None):
    """Run library/<name>.py main() with args; return its result dict (failed=True on fail_json).
    `module`: an already loaded library module (a test that patched something in it)."""
    mod = module or _load(name)
    full = dict(args)
    full["_ansible_check_mode"] = check
    full["_ansible_diff"] = diff
    captured = {}

    from ansible.module_utils.common.parameters import remove_values

    def _formatted(self, kw):
        """What AnsibleModule._return_formatted hands back: invocation added, then every
        no_log value masked (so the tests see exactly what a playbook would print)."""
        kw.setdefault("invocation", {"module_args": self.params})
        return remove_values(kw, self.no_log_values)

    def _exit(self, **kw):
        kw.setdefault("changed", False)
        kw = _formatted(self, kw)
        captured.update(kw)
        raise ModuleExit(kw)

    def _fail(self, msg, **kw):
        kw["failed"] = True
        kw["msg"] = msg
        kw = _formatted(self, kw)
        captured.update(kw)
        raise ModuleExit(kw)

    warned = []

    def _warn(self, warning):
        # module.warn() lands in Ansible's process-wide list, or on the controller's display once
        # another test of the worker has loaded controller code: recorded here, per run, as
        # "warnings" in the result (what a playbook shows)
        warned.append(warning)

    from ansible.module_utils import basic
    orig = basic.AnsibleModule.exit_json, basic.AnsibleModule.fail_json, basic.AnsibleModule.warn
    basic.AnsibleModule.exit_json, basic.AnsibleModule.fail_json, basic.AnsibleModule.warn = _exit, _fail, _warn
    try:
        with patch_module_args(full):
            try:
                mod.main()
            except ModuleExit:
                pass
    finally:
        basic.AnsibleModule.exit_json, basic.AnsibleModule.fail_json, basic.AnsibleModule.warn = orig
    if warned:
        captured["warnings"] = list(captured.get("warnings") or []) + warned
    json.dumps(captured, default=str)  # results must be serialisable
    return captured


def sh(*argv, check=True, input=None):
    return subprocess.run(list(argv), check=check, capture_output=True, text=True, input=input)


def backdate(path):
    """Postfix re-reads a config file modified within the last second until it settles; skip that wait."""
    past = time.time() - 60
    os.utime(path, (past, past))


def write_main_cf(d):
    _write_main_cf(d)
    backdate(d / "main.cf")
    backdate(d / "master.cf")


def _write_main_cf(d):
    (d / "main.cf").write_text(
        "compatibility_level = 3.6\n"
        f"queue_directory = {d.parent}/queue\n"
        f"data_directory = {d.parent}/data\n"
        f"maillog_file_prefixes = {d.parent}\n"
        f"maillog_file = {d.parent}/mail.log\n"
        "# no listening sockets: tests never touch the network\n"
        "master_service_disable = inet\n"
        "inet_interfaces = loopback-only\n"
        "myhostname = mx1.lab.test\n"
        "mydomain = lab.test\n"
        "mydestination = $myhostname, localhost\n"
        "smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, defer_unauth_destination\n"
        "# everything not local is deferred, so the queue fills with real messages\n"
        "default_transport = retry:lab simulated outage\n"
        "relay_transport = retry:lab simulated outage\n"
    )


def queue_dir(conf):
    """The queue directory of a scratch instance: beside, not inside, its config directory
    (as /etc/postfix and /var/spool/postfix), so `postfix check` sees a normal layout."""
    return Path(conf).parent / "queue"


def _fresh_dir():
    root = Path(tempfile.mkdtemp(prefix="pfr-"))
    root.chmod(0o755)
    d = root / "etc"
    d.mkdir(mode=0o755)
    shutil.copy("/usr/share/postfix/master.cf.dist", d / "master.cf")
    write_main_cf(d)
    (root / "queue").mkdir()
    (root / "data").mkdir()
    # Debian's master.cf chroots the daemons: give the chroot what configure-instance.sh copies
    # before every start on a real Debian host (an empty one is service.chroot_incomplete).
    (root / "queue" / "etc").mkdir()
    for name in ("localtime", "services", "resolv.conf", "hosts", "host.conf", "nsswitch.conf"):
        if os.path.isfile("/etc/" + name):
            shutil.copy("/etc/" + name, root / "queue" / "etc" / name)
    if os.geteuid() == 0:
        pw = pwd.getpwnam("postfix")
        os.chown(root / "data", pw.pw_uid, pw.pw_gid)
    return d


@pytest.fixture(scope="session")
def _postfix_template():
    """One checked instance tree (queue subdirectories created by `postfix check`), copied per test."""
    if not HAVE_POSTFIX:
        pytest.skip("Postfix binaries not installed")
    d = _fresh_dir()
    if os.geteuid() == 0:
        sh("postfix", "-c", str(d), "check", check=False)
    yield d
    shutil.rmtree(d.parent, ignore_errors=True)


@pytest.fixture
def postfix_dir(_postfix_template):
    """A scratch Postfix config directory; its queue and data directories sit beside it."""
    root = Path(tempfile.mkdtemp(prefix="pfr-"))
    root.rmdir()
    sh("cp", "-a", str(_postfix_template.parent), str(root))
    d = root / "etc"
    write_main_cf(d)
    yield d
    if (root / "data" / "master.lock").exists():
        sh("postfix", "-c", str(d), "stop", check=False)
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def postfix_instance(postfix_dir):
    """A running Postfix master on postfix_dir (no inet listeners)."""
    if os.geteuid() != 0:
        pytest.skip("starting a Postfix instance needs root")
    sh("postfix", "-c", str(postfix_dir), "start")
    for _ in range(50):
        if (queue_dir(postfix_dir) / "public" / "pickup").exists():
            break
        time.sleep(0.1)
    yield postfix_dir
    sh("postfix", "-c", str(postfix_dir), "stop", check=False)


def send(conf, sender, rcpt, body="test\n", subject="lab"):
    msg = f"From: <{sender}>\nTo: <{rcpt}>\nSubject: {subject}\n\n{body}"
    sh("sendmail", "-C", str(conf), "-f", sender, rcpt, input=msg)


def queue_ids(conf, wait_settled=True):
    """{queue_id: queue_name} from postqueue -j, waiting until nothing is in flight."""
    for _ in range(100):
        out = sh("postqueue", "-c", str(conf), "-j").stdout
        items = [json.loads(line) for line in out.splitlines() if line.strip()]
        if not wait_settled or all(i["queue_name"] in ("deferred", "hold") for i in items):
            return {i["queue_id"]: i["queue_name"] for i in items}
        time.sleep(0.1)
    return {i["queue_id"]: i["queue_name"] for i in items}


def sha(path):
    import hashlib
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def clone_deferred(conf, n, first=0xA0000):
    """Add n copies of one real deferred queue file under new short queue IDs, spread over the
    hashed deferred/ directories, next retry a day ahead (qmgr leaves them alone). Returns the IDs."""
    qd = queue_dir(conf)
    src = next(p for p in (qd / "deferred").rglob("*") if p.is_file())
    st = src.stat()
    later = time.time() + 86400
    made = []
    for i in range(n):
        qid = "%05X%06X" % (first + i % 0x5FFFF, i)
        dst = qd / "deferred" / qid[0] / qid
        if not dst.parent.exists():
            dst.parent.mkdir(mode=0o700)
            os.chown(dst.parent, st.st_uid, st.st_gid)
        shutil.copyfile(src, dst)
        shutil.copystat(src, dst)
        os.chown(dst, st.st_uid, st.st_gid)
        os.utime(dst, (later, later))
        made.append(qid)
    return made


def strict_utf8_problems(value, where="result"):
    """Paths inside a module result that Ansible's controller would refuse (not strict UTF-8)."""
    out = []
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            out.append(where)
    elif isinstance(value, dict):
        for k, v in value.items():
            out += strict_utf8_problems(k, where + ".<key>") + strict_utf8_problems(v, "%s.%s" % (where, k))
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            out += strict_utf8_problems(v, "%s[%d]" % (where, i))
    return out


_BOOT = (
    "import runpy, sys, ansible.module_utils as mu; mu.__path__.append(%r); "
    "path = sys.argv.pop(1); runpy.run_path(path, run_name='__main__')"
)


def run_direct(name, args, check=False, diff=False, timeout=60):
    """Run library/<name>.py the way Ansible runs it on a host: a fresh Python process, the
    arguments as JSON (with Ansible's internal flags), the result as JSON on stdout, exit code 1
    on fail_json. Returns (result, stdout, stderr); result has "hung" or "crashed" when the module
    did not answer, and "utf8_problems" for strings the controller would refuse.
    """
    import sys
    payload = {"ANSIBLE_MODULE_ARGS": dict(args, _ansible_check_mode=check, _ansible_diff=diff,
                                           _ansible_tmpdir=None, _ansible_remote_tmp="/tmp",
                                           _ansible_keep_remote_files=False)}
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump(payload, fh)
    # A scratch working directory, as Ansible's remote tmp is: a relative path a module accepts
    # (the report's directory) must not land in the repository.
    cwd = tempfile.mkdtemp(prefix="module-cwd-")
    try:
        proc = subprocess.run([sys.executable, "-c", _BOOT % str(ROOT / "module_utils"),
                               str(ROOT / "library" / (name + ".py")), fh.name],
                              capture_output=True, timeout=timeout, cwd=cwd)
    except subprocess.TimeoutExpired as exc:
        return {"hung": True, "failed": True, "msg": "no answer in %d s" % timeout}, exc.stdout or b"", exc.stderr or b""
    finally:
        os.unlink(fh.name)
        shutil.rmtree(cwd, ignore_errors=True)
    out, err = proc.stdout, proc.stderr
    start = out.find(b"{")
    try:
        result = json.loads(out[start:].decode("utf-8", "surrogateescape")) if start >= 0 else None
    except ValueError:
        result = None
    if not isinstance(result, dict):
        return {"crashed": True, "failed": True, "msg": (err or out).decode("utf-8", "replace")[-2000:]}, out, err
    result["utf8_problems"] = strict_utf8_problems(result)
    return result, out, err


def touched(before, after):
    """Paths whose content, mode or modification time differ between two fingerprints."""
    return {k for k in set(before) | set(after) if before.get(k) != after.get(k)}


def content_changed(before, after):
    """Paths whose type, mode or bytes differ (a rewrite with the same bytes does not count)."""
    return {k for k in set(before) | set(after) if (before.get(k) or ())[:4] != (after.get(k) or ())[:4]}


def tree_fingerprint(*roots, skip=("pid", "master.lock", "mail.log", "prng_exch")):
    """{path: (type, mode, size, sha256, mtime_ns)} of every file under roots: what a failed call
    must leave byte-identical (config, tables, queue files). The mtime tells a rewrite with the
    same bytes (an index rebuilt from a source that only looked stale)."""
    import hashlib
    import stat as st_
    out = {}
    for root in roots:
        root = Path(root)
        if not root.exists():
            continue
        for p in sorted(root.rglob("*")):
            if any(part in skip for part in p.parts):
                continue
            s = p.lstat()
            kind = "l" if st_.S_ISLNK(s.st_mode) else "d" if st_.S_ISDIR(s.st_mode) else \
                "f" if st_.S_ISREG(s.st_mode) else "o"
            digest = hashlib.sha256(p.read_bytes()).hexdigest() if kind == "f" else ""
            out[str(p)] = (kind, st_.S_IMODE(s.st_mode), s.st_size if kind == "f" else 0, digest,
                           s.st_mtime_ns if kind == "f" else 0)
    return out


POSTFIX_FIXTURES = {"postfix_dir", "postfix_instance", "_postfix_template"}


def pytest_collection_modifyitems(config, items):
    """Mark every test that needs a real Postfix or root (`-m "not postfix"` is `make check`):
    it uses a Postfix instance fixture, runs a module against one (run_direct/run_module with a
    config_dir), or carries the needs_postfix / needs_root skip markers."""
    for item in items:
        reasons = " ".join(str(m.kwargs.get("reason", "")) for m in item.iter_markers("skipif"))
        if POSTFIX_FIXTURES & set(getattr(item, "fixturenames", ())) or "Postfix" in reasons or "root" in reasons:
            item.add_marker("postfix")
