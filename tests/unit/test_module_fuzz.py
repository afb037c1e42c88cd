# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Hypothesis over each module's own argument_spec, at module level (issue 21).

Arguments are drawn from the spec the module really declares (captured from its main()), mixing
good values for this scratch instance with wrong types, empty and huge values, newlines, CR,
NUL, relative and hostile paths, FIFOs, directories and catastrophic patterns. Each example runs
the module's main() with Ansible's real argument handling and output masking
(conftest.run_module) and asserts the properties of the bad-input table:
- it ends in exit_json or fail_json (no exception escapes), within a bound;
- the result is JSON and strict UTF-8, and never contains the secret;
- a failed call leaves every file of the instance byte-identical;
- outside check mode, changed is true exactly when a file changed; in check mode nothing changes.

Case counts: FUZZ_EXAMPLES per module (default 25, so `make check`/`make test` run the code
path quickly); the long run is `make fuzz` (FUZZ_EXAMPLES=2000).
"""
from __future__ import annotations

import json
import os
import shutil
import signal
from pathlib import Path

import pytest
from conftest import (
    ModuleExit,
    _load,
    content_changed,
    needs_postfix,
    needs_root,
    queue_ids,
    run_module,
    send,
    sh,
    strict_utf8_problems,
    touched,
    tree_fingerprint,
    write_main_cf,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
SECRET = "Fuzz5ecretValue"
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=EXAMPLES <= 100,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                           HealthCheck.data_too_large, HealthCheck.filter_too_much])
pytestmark = [needs_postfix]


def spec_of(name):
    """The argument_spec a module's main() hands to AnsibleModule."""
    from ansible.module_utils import basic

    class Captured(Exception):
        pass

    orig = basic.AnsibleModule.__init__

    def capture(self, argument_spec=None, **kw):
        raise Captured(argument_spec)
    basic.AnsibleModule.__init__ = capture
    try:
        _load(name).main()
    except Captured as exc:
        return exc.args[0]
    finally:
        basic.AnsibleModule.__init__ = orig
    raise AssertionError("no AnsibleModule in %s" % name)


HOSTILE = ["", " ", "\n", "a\nb", "a\rb", "a\x00b", "x" * 5000, "é", "../../etc/passwd", "$(reboot)", "`id`",
           "{", "}", "a,b", "-e", "--", "*", "ALL", "/(a+)+$/", "/(a|aa)*$/", "/[/", "@", "MAILER-DAEMON", "0",
           "-1", "1e309", "nan", "\u2028", "\x85", "\ud7ff", "static:u:NotSecret", "inline:{ [r]=u:NotSecret }"]
texts = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=40),
                  st.text(alphabet=st.characters(codec="utf-8"), max_size=12))
scalars = st.one_of(texts, st.integers(min_value=-2**40, max_value=2**40), st.booleans(), st.none(),
                    st.floats(allow_nan=True))
junk = st.one_of(scalars, st.lists(scalars, max_size=3), st.dictionaries(texts, scalars, max_size=3))


def value_for(opt, hints, name):
    """A strategy for one option's plausible values: the module's good values (hints) or any
    value of the declared type (hostile strings included)."""
    t = opt.get("type", "str")
    good = hints.get(name)
    if opt.get("choices"):
        base = st.sampled_from(list(opt["choices"]))
        if t == "list":
            base = st.lists(base, max_size=3)
    elif t == "bool":
        base = st.booleans()
    elif t == "int":
        base = st.integers(min_value=-5, max_value=10**6)
    elif t == "float":
        base = st.floats(min_value=-1, max_value=100, allow_nan=False)
    elif t == "list":
        elem = opt.get("elements", "str")
        item = st.fixed_dictionaries({}) if elem == "dict" else texts
        base = st.lists(item, max_size=3)
    elif t == "dict":
        base = st.dictionaries(texts, st.one_of(scalars, st.lists(scalars, max_size=2)), max_size=3)
    else:
        base = texts
    return st.one_of(good, good, good, base) if good is not None else base


def args_strategy(spec, hints, fixed):
    """Plausible values for a few options; in one example of three, one option gets a value of
    any type at all (a wrong type, None, a mapping...)."""
    keys = sorted(k for k in spec if k not in fixed)
    required = {k: value_for(spec[k], hints, k) for k in keys if spec[k].get("required")}
    optional = {k: value_for(spec[k], hints, k) for k in keys if not spec[k].get("required")}
    plausible = st.fixed_dictionaries(required, optional=optional)
    wrong = st.tuples(plausible, st.sampled_from(keys), junk).map(lambda t: dict(t[0], **{t[1]: t[2]}))
    return st.one_of(plausible, plausible, wrong).map(lambda d: dict(d, **fixed))


def paths_in(root):
    """Path values: good ones of the instance and every kind of bad one."""
    r = str(root)
    return st.sampled_from([r + "/etc/virtual", r + "/etc/sasl_passwd", r + "/fifo", r + "/queue", r + "/nosuch/x",
                            "relative/path", "", "/dev/zero", "/dev/null", r + "/link", r + "/etc/main.cf",
                            r + "/scan.log", r + "/bounces", r + "/reports"])


def prepare_root(root):
    """Odd files every example may meet: a FIFO, a symlink, a Latin-1 table, a log with odd bytes."""
    root = Path(root)
    for p in ("fifo",):
        if not (root / p).exists():
            os.mkfifo(root / p)
    if not (root / "link").is_symlink():
        os.symlink(root / "etc" / "virtual", root / "link")
    (root / "etc" / "virtual").write_bytes(b"# caf\xe9\rx\npostmaster@example.org root\n")
    (root / "scan.log").write_bytes(b"Nov 28 10:00:00 mx1 postfix/smtp[1]: warning: \xff\xfe odd\n")
    (root / "bounces").write_bytes(b"From MAILER-DAEMON\nSubject: Undelivered\n\n\xe9\n")
    (root / "reports").mkdir(exist_ok=True)


def created_by(directory):
    """The top-most missing ancestor of a directory the report creates (with its parents)."""
    if not isinstance(directory, str) or not directory.startswith("/"):
        return None
    path = Path(directory)
    while not path.parent.exists():
        path = path.parent
    return str(path)


class Alarm(Exception):
    pass


def run_bounded(name, args, check, seconds=120):
    """run_module with a time bound (SIGALRM): a module that does not answer fails the example."""
    def ring(*_):
        raise Alarm("%s did not answer within %d s: %r" % (name, seconds, args))
    old = signal.signal(signal.SIGALRM, ring)
    signal.alarm(seconds)
    try:
        return run_module(name, args, check=check, diff=True)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def assert_properties(name, args, check, root, reset, outputs=()):
    reset()
    before = tree_fingerprint(root)
    try:
        res = run_bounded(name, args, check)
    except ModuleExit as exc:  # pragma: no cover - run_module catches it
        res = exc.result
    after = tree_fingerprint(root)
    outputs = [o if o.startswith("/") else str(Path(root) / o) for o in outputs if isinstance(o, str) and o]

    def mine(paths):
        return {k for k in paths if not any(k.startswith(o) for o in outputs)}
    changed = mine(content_changed(before, after))
    rewritten = mine(touched(before, after))
    text = json.dumps(res, default=str)
    assert not strict_utf8_problems(res), (args, strict_utf8_problems(res))
    if isinstance(args.get("secret_parameters"), dict) and args["secret_parameters"] \
            or isinstance(args.get("secret_entries"), dict) and args["secret_entries"]:
        assert SECRET not in text.replace("\\\\", "\\"), (args, text[:3000])
    assert "Traceback" not in text, text[:3000]
    if res.get("failed"):
        assert not changed, ("failed call changed files", args, res.get("msg"), sorted(changed))
        assert res.get("msg"), res
    elif check:
        assert not rewritten, ("check mode changed files", args, sorted(rewritten))
    elif res.get("changed"):
        assert rewritten, ("changed=true but no file was touched", args)
    else:
        assert not changed, ("changed=false, files changed: %s" % sorted(changed), args)
    return res


def fuzz(name, hints, fixed, root, reset, outputs=None, adjust=None):
    """Run the module `name` on FUZZ_EXAMPLES argument sets drawn from its own argument_spec.
    outputs(args): run outputs that are not changes (reports, scan state); adjust(args): last
    touches to an example (keep checks that need the network out)."""
    spec = spec_of(name)

    @SETTINGS
    @given(args_strategy(spec, hints, fixed), st.booleans())
    def run(args, check):
        if adjust:
            adjust(args)
        assert_properties(name, args, check, root, reset, outputs=outputs(args) if outputs else ())
    run()


@pytest.fixture
def fuzz_root(postfix_dir):
    root = postfix_dir.parent
    pristine = {f: (postfix_dir / f).read_bytes() for f in ("main.cf", "master.cf")}

    def reset():
        for f, data in pristine.items():
            p = postfix_dir / f
            if p.is_dir() or p.is_symlink() or (p.exists() and not p.is_file()):
                shutil.rmtree(p) if p.is_dir() else p.unlink()
            p.write_bytes(data)
        write_main_cf(postfix_dir)
        prepare_root(root)
    reset()
    return postfix_dir, root, reset


PARAM_NAMES = st.sampled_from(["soft_bounce", "relayhost", "mynetworks", "smtpd_banner", "debug_peer_list",
                               "smtp_sasl_password_maps", "smtp_sasl_pasword_maps", "delay_warning_time",
                               "smtpd_relay_restrictions", "bogus name", "", "x" * 300])


def test_postconf_fuzz(fuzz_root):
    conf, root, reset = fuzz_root
    hints = {"parameters": st.dictionaries(PARAM_NAMES, scalars, max_size=3),
             "secret_parameters": st.dictionaries(PARAM_NAMES, st.sampled_from(
                 ["static:u:" + SECRET, "static:u:%s\n" % SECRET, "static:u:%s\\" % SECRET, "inline:{ r=u:%s" % SECRET]),
                 max_size=1),
             "absent": st.lists(PARAM_NAMES, max_size=2), "commented": st.lists(PARAM_NAMES, max_size=2),
             "list_add": st.dictionaries(PARAM_NAMES, st.lists(texts, max_size=2), max_size=2),
             "services": st.lists(st.fixed_dictionaries({"service": st.sampled_from(["smtp/inet", "pickup/unix", "x", "new/unix"])},
                                                        optional={"args_absent": st.lists(texts, max_size=2),
                                                                  "params": st.dictionaries(PARAM_NAMES, texts, max_size=1),
                                                                  "entry": texts, "state": st.sampled_from(["absent", "present"])}),
                                  max_size=2)}
    fuzz("postconf", hints, {"config_dir": str(conf)}, root, reset)


def test_postmap_fuzz(fuzz_root):
    conf, root, reset = fuzz_root
    keys = st.sampled_from(["a@example.org", "postmaster@example.org", "[relay]:587", "k" * 600, "a b", "#c", ""])
    hints = {"path": paths_in(root), "type": st.sampled_from(["hash", "lmdb", "cdb", "pcre", "nosuch", "texthash"]),
             "entries": st.dictionaries(keys, scalars, max_size=2),
             "secret_entries": st.dictionaries(keys, st.sampled_from(["u:" + SECRET, "u:%s " % SECRET]), max_size=1),
             "absent_keys": st.lists(keys, max_size=2), "query": st.lists(keys, max_size=2),
             "mode": st.sampled_from(["0600", "999", "u=rw", "bogus", 0o640, "0644"]),
             "owner": st.sampled_from(["root", "postfix", "no-such-user", "0"]),
             "group": st.sampled_from(["root", "no-such-group", "0"])}
    fuzz("postmap", hints, {"config_dir": str(conf)}, root, reset)


def test_postfix_check_fuzz(fuzz_root):
    conf, root, reset = fuzz_root
    hints = {"config_dir": st.sampled_from([str(conf), "relative", "/nonexistent", str(root / "fifo")])}
    fuzz("postfix_check", hints, {}, root, reset)


def test_postfix_report_fuzz(fuzz_root):
    conf, root, reset = fuzz_root
    hints = {"directory": paths_in(root), "html_template": paths_in(root), "markdown_template": paths_in(root)}
    fuzz("postfix_report", hints, {}, root, reset, outputs=lambda a: ("reports", created_by(a.get("directory"))))


def test_postfix_lock_fuzz(fuzz_root):
    conf, root, reset = fuzz_root
    (root / "locks").mkdir(exist_ok=True)
    hints = {"path": st.sampled_from([str(root / "locks" / "run.lock"), str(root / "fifo"), str(root / "locks"),
                                      "rel/run.lock", str(root / "locks" / "new" / "run.lock")]),
             "state": st.sampled_from(["present", "absent", "bogus"]),
             "timeout": st.sampled_from([0, -1, 1]), "ttl": st.sampled_from([1, 0, 7200, -5]),
             "token": st.sampled_from([None, "", "t1", "x" * 500])}

    def inside(args):
        """Never the host's own lock (the default path), never a long wait."""
        args.setdefault("path", str(root / "locks" / "run.lock"))
        if not isinstance(args.get("timeout"), int) or args["timeout"] > 1:
            args["timeout"] = 0

    fuzz("postfix_lock", hints, {}, root, reset, adjust=inside)


def no_probes(args, root=None):
    """The probes query the host's resolvers: never in a test. Nor the machine's own state,
    ledger and window files (the defaults under /var/lib/postfix-remedy)."""
    if root is not None:
        for name, default in (("state_file", "s.json"), ("fix_ledger", "l.json"), ("change_window_marker", "cw.json")):
            args.setdefault(name, str(root / "state" / default))
    args.setdefault("checks", ["log", "config", "queue", "bounce"])
    if isinstance(args["checks"], list):
        args["checks"] = [c for c in args["checks"] if c != "probes"]


def test_postfix_diagnose_fuzz(fuzz_root):
    conf, root, reset = fuzz_root
    (root / "state").mkdir(exist_ok=True)
    paths = paths_in(root)
    hints = {"log_paths": st.lists(paths, max_size=2), "bounce_files": st.lists(paths, max_size=2),
             "state_file": st.sampled_from([str(root / "state" / "s.json"), str(root / "fifo"), "rel"]),
             "fix_ledger": st.sampled_from([str(root / "state" / "l.json"), str(root / "fifo")]),
             "change_window_marker": st.sampled_from([str(root / "state" / "cw.json"), str(root / "fifo")]),
             "checks": st.lists(st.sampled_from(["log", "config", "queue", "bounce"]), max_size=3),
             "log_window": st.sampled_from(["7d", "1h", "0", "forever", "", "99999999w"]),
             "resolv_conf": st.sampled_from([str(root / "fifo"), "/nonexistent", "/dev/null"]),
             "metrics_dir": st.sampled_from([str(root / "metrics"), str(root / "fifo"), str(root / "nosuch"),
                                             str(root / "link"), str(root / "etc" / "main.cf"), "rel"])}
    (root / "metrics").mkdir(exist_ok=True)
    fuzz("postfix_diagnose", hints, {"config_dir": str(conf), "dns_records": False, "probe_outbound": False},
         root, reset, outputs=lambda a: ("state", "metrics"), adjust=lambda a: no_probes(a, root))


def test_postfix_metrics_fuzz(fuzz_root):
    conf, root, reset = fuzz_root
    (root / "metrics").mkdir(exist_ok=True)
    ids = st.lists(st.one_of(texts, st.sampled_from(["relay.open_relay", "config.soft_bounce_on"])), max_size=3)
    hints = {"directory": st.sampled_from([str(root / "metrics"), str(root / "fifo"), str(root / "nosuch"),
                                           str(root / "link"), str(root / "etc" / "main.cf"), "rel"]),
             "config_dir": st.sampled_from([str(conf), "/etc/postfix", "rel"]),
             "record": st.fixed_dictionaries({}, optional={"selected": ids, "still_present": ids, "rolled_back": scalars,
                                                           "queue_failure": scalars})}
    fuzz("postfix_metrics", hints, {}, root, reset, outputs=lambda a: ("metrics",))


@needs_root
def test_postfix_queue_fuzz(fuzz_root):
    conf, root, reset = fuzz_root
    sh("postfix", "-c", str(conf), "start")
    try:
        def refill():
            if len(queue_ids(conf)) < 4:
                for i in range(4):
                    send(conf, "s%d@example.org" % i, "r%d@remote.example" % i)
                send(conf, "a" * 30 + "!@example.org", "x@remote.example")
                queue_ids(conf)
        refill()
        spec = spec_of("postfix_queue")
        ids = list(queue_ids(conf))
        hints = {"ids": st.lists(st.sampled_from(ids + ["ZZZZZZZZZZ", "../x", "", "ALL"]), max_size=3),
                 "sender": st.sampled_from(["s1@example.org", "@example.org", "/^s[12]@/", "/(a+)+$/", "", "MAILER-DAEMON"]),
                 "recipient": st.sampled_from(["r1@remote.example", "remote.example", "/r[0-9]@/", ""]),
                 "backup_dir": st.sampled_from([str(root / "backup"), str(conf / "main.cf"), "rel/dir"]),
                 "site": st.sampled_from(["remote.example", "[127.0.0.1]", "bad site"]),
                 "min_age": st.sampled_from(["0", "1h", "x"]), "queue": st.lists(st.sampled_from(
                     ["deferred", "hold", "corrupt", "bogus"]), max_size=2)}
        def held():
            """{queue_id: on hold?}: what an action can change (qmgr moves deferred <-> active by itself)."""
            return {k: v == "hold" for k, v in queue_ids(conf, wait_settled=False).items()}

        @SETTINGS
        @given(args_strategy(spec, hints, {"config_dir": str(conf)}), st.booleans())
        def run(args, check):
            refill()
            before = held()
            res = run_bounded("postfix_queue", args, check)
            after = held()
            assert not strict_utf8_problems(res) and "Traceback" not in json.dumps(res, default=str), res
            if res.get("failed") or check or not res.get("changed"):
                if args.get("action") != "flush":
                    assert before == after, ("queue changed", args, res.get("msg"))
            gone = set(before) - set(after)
            if gone:  # nothing deleted without an explicit request and its copy
                assert args.get("action") == "delete" and args.get("confirm") is True, (gone, args)
                saved = {p.name.split(".")[0] for p in Path(res["backup_dir"]).glob("*.queuefile")}
                assert gone <= saved, (gone, saved)
        run()
    finally:
        sh("postfix", "-c", str(conf), "stop", check=False)
