# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# postfix-remedy: the host side of a change window (seed 002). Installed by the
# postfix_change_window role as /usr/local/sbin/postfix-remedy-window; standard library only.
#
#   postfix-remedy-window open --seconds N [--max-seconds M] [--reason R] [--debug-peer P] [--config-dir D]
#                              [--metrics-dir M]
#                                             write the marker (the values the window will replace),
#                                             then arm the dead-man switch; an open window is kept
#   postfix-remedy-window arm [--config-dir D]  start the dead-man switch of the open window
#   postfix-remedy-window close [--config-dir D] [--if-due] [--window-id ID] [--by WHO] [--dry-run]
#   postfix-remedy-window wait ID             (the detached watchdog: sleep to the deadline, close)
#   postfix-remedy-window status [--config-dir D]  the marker, as JSON
#
# One window per Postfix instance: the marker is POSTFIX_REMEDY_WINDOW_MARKER for the default
# instance (no --config-dir, or /etc/postfix), and that name with the instance's directory in it
# for another (postmulti). The marker (JSON, 0600) holds the window's id, its deadline (at most
# --max-seconds, 24 h, away) and the values the window replaced (null: not set in main.cf).
# Closing puts exactly those back (postconf -e, or postconf -X), runs postfix check, reloads a
# running master, writes a record and removes the marker. A close that cannot put them back keeps
# the marker (with its attempts and last error), fails, and is tried again by the switch every
# RETRY seconds. A close with no marker, or for another window, is a no-op. A marker that is not
# ours (a symlink, damaged JSON) is refused. Output: one JSON object, also on errors.
# With --metrics-dir (kept in the marker, so the switch's close knows it too), every open, close
# and failed close rewrites postfix_remedy_window.prom there for node_exporter's textfile collector;
# a directory that is missing or not writable is a warning (metrics_warning), never a failure.
import calendar
import contextlib
import hashlib
import json
import math
import os
import re
import signal
import stat
import subprocess
import sys
import time
import uuid

BASE = os.environ.get("POSTFIX_REMEDY_WINDOW_MARKER", "/var/lib/postfix-remedy/change-window.json")
MARKER = BASE  # this instance's marker: main() derives it from --config-dir
PATH = "/usr/sbin:/usr/bin:/sbin:/bin"
PARAMS = ("soft_bounce", "debug_peer_list")  # all a window ever replaces
MAX_SECONDS = 86400  # the longest window unless --max-seconds (postfix_change_window_max_seconds) says otherwise
RETRY = 60  # a close that failed is tried again this often
EARLY = 5  # a switch firing this much before the deadline still closes the window
LIMIT = 1 << 20  # our files are small; a bigger one is not ours
CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # CR, LF, NUL...: never written into main.cf
WINDOW_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
UNIT = re.compile(r"^postfix-remedy-window-[A-Za-z0-9_-]+$")
LATEST = 253402300799  # 9999-12-31T23:59:59Z: a later deadline is not a time
# The window's metrics: the names, help and format of module_utils/remedy_metrics.py and
# prom_textfile.py, which this standard-library script cannot import (tests/unit/test_prom_textfile.py
# checks that both say the same).
PROM_HEADER = "# postfix-remedy metrics"
PROM_NAME = "postfix_remedy_window.prom"
WINDOW_METRICS = {
    "postfix_remedy_change_window_open": "1 while a change window is open, else 0.",
    "postfix_remedy_change_window_opened_timestamp_seconds": "When the open change window opened.",
    "postfix_remedy_change_window_deadline_timestamp_seconds": "When the open change window closes itself.",
    "postfix_remedy_change_window_close_failures": "Failed attempts to close the open change window.",
    "postfix_remedy_change_window_last_close_timestamp_seconds": "When the last change window was closed.",
}
PROM_ODD = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029]")


class Refused(Exception):
    """A file or marker this helper must not use; the message names it."""


def out(**kw):
    print(json.dumps(kw, sort_keys=True))
    return 0 if not kw.get("failed") else 1


def iso(ts):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def instance_marker(base, config_dir):
    """The marker of the instance at config_dir. Same rule as
    module_utils/diagnose_rules.instance_marker, which the diagnosis uses to find it."""
    if not config_dir or os.path.normpath(config_dir) == "/etc/postfix":
        return base
    cd = os.path.normpath(config_dir)
    slug = re.sub(r"[^A-Za-z0-9]+", "-", cd).strip("-")[:40]
    stem, ext = os.path.splitext(base)
    return "%s.%s-%s%s" % (stem, slug, hashlib.sha256(os.fsencode(cd)).hexdigest()[:8], ext)


def same_instance(a, b):
    return os.path.normpath(a or "/etc/postfix") == os.path.normpath(b or "/etc/postfix")


def closed_path():
    stem, ext = os.path.splitext(MARKER)
    return stem + "-closed" + ext


# Our own files follow module_utils/safe_io.check_own/write_own (not importable on the host): an
# existing path that is not ours is refused and left unchanged, never followed; new bytes go to
# an O_CREAT|O_EXCL|O_NOFOLLOW file in our own directory, renamed into place.
def read_own(path, what):
    """The bytes of one of our files, None when absent."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    if not stat.S_ISREG(st.st_mode) or st.st_nlink > 1 or st.st_size > LIMIT:
        kind = "a symlink" if stat.S_ISLNK(st.st_mode) else "a directory" if stat.S_ISDIR(st.st_mode) else \
            "a hard link" if stat.S_ISREG(st.st_mode) and st.st_nlink > 1 else "a huge file" \
            if stat.S_ISREG(st.st_mode) else "not a regular file"
        raise Refused("%s %s is %s, not a postfix-remedy file; refused and left unchanged" % (what, path, kind))
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
            raise Refused("%s %s is not a regular file; refused and left unchanged" % (what, path))
        return fh.read(LIMIT + 1)


def parse(data):
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None


def write_own(path, obj, what):
    write_bytes(path, (json.dumps(obj, indent=1, sort_keys=True) + "\n").encode(), what,
                lambda old: isinstance(parse(old), dict))


def write_bytes(path, data, what, ours, mode=0o600, make_dir=True):
    """data as our file at path: an existing file that ours(bytes) rejects is Refused."""
    old = read_own(path, what)
    if old is not None and not ours(old):
        raise Refused("%s %s exists and is not a postfix-remedy file (not our format); refused and left unchanged"
                      % (what, path))
    directory = os.path.dirname(path)
    try:
        st = os.lstat(directory)
        if not stat.S_ISDIR(st.st_mode):
            raise Refused("directory %s of the %s is a symlink or not a directory; refused" % (directory, what))
    except FileNotFoundError:
        if not make_dir:
            raise Refused("directory %s of the %s does not exist" % (directory, what)) from None
        os.makedirs(directory, mode=0o700, exist_ok=True)
    tmp = os.path.join(directory, ".%s.%s.tmp" % (os.path.basename(path), uuid.uuid4().hex))
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fchmod(fh.fileno(), mode)
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _is_int(value):
    """An int that is not a bool (JSON true is not a pid or a count)."""
    return isinstance(value, int) and not isinstance(value, bool)


def marker_problem(m):
    """What makes m not a window marker this helper wrote, or None. The diagnosis applies the same
    test (module_utils/diagnose_rules.window_problem)."""
    if not isinstance(m, dict):
        return "not a JSON object"
    d = m.get("deadline")
    if "deadline" not in m:
        return "no deadline (a marker from before deadlines, or not ours)"
    if not isinstance(m.get("id"), str) or not WINDOW_ID.match(m["id"]):
        return "no window id"
    if isinstance(d, bool) or not isinstance(d, (int, float)) or not 0 < d < LATEST:
        return "the deadline %s is not a time" % json.dumps(d)[:40]
    r = m.get("replaced")
    if not isinstance(r, dict) or "soft_bounce" not in r or not set(r) <= set(PARAMS) \
            or not all(v is None or isinstance(v, str) for v in r.values()):
        return "no map of %s to the values they had before the window" % " and ".join(PARAMS)
    if not (m.get("config_dir") is None or isinstance(m["config_dir"], str)):
        return "config_dir is not a path"
    cf = m.get("close_failed")
    if cf is not None and not (isinstance(cf, dict) and _is_int(cf.get("attempts"))
                               and isinstance(cf.get("at"), (int, float)) and 0 < cf["at"] < LATEST):
        return "close_failed is not a record of attempts"
    sw = m.get("switch")
    if sw is not None and not (isinstance(sw, dict) and (
            (sw.get("kind") == "watchdog" and _is_int(sw.get("pid")) and sw["pid"] > 1)
            or (sw.get("kind") == "systemd" and isinstance(sw.get("unit"), str) and UNIT.match(sw["unit"])))):
        return "switch is neither a watchdog pid nor a postfix-remedy-window systemd unit"
    return None


def load():
    """The open window's marker, None when no window is open. A marker that is not ours or that we
    cannot trust (truncated, a list, a deadline that is not a time) is Refused, saying what."""
    data = read_own(MARKER, "change window marker")
    if data is None:
        return None
    marker = parse(data)
    problem = marker_problem(marker) if marker is not None else "not JSON (truncated?)"
    if problem:
        raise Refused("change window marker %s is damaged: %s; refused and left unchanged (restore soft_bounce "
                      "and debug_peer_list by hand, then delete it)" % (MARKER, problem))
    return marker


def run(argv):
    p = subprocess.run(argv, capture_output=True, text=True, errors="replace", env={"PATH": PATH, "LC_ALL": "C"},
                       check=False)
    return p.returncode, (p.stdout + p.stderr).strip()


def explicit_values(conf, names):
    """{name: value as set in main.cf, or None when main.cf does not set it} (postconf -n). A
    postconf that fails, or a value with a control character, is Refused: the window could not put
    it back as it was."""
    p = subprocess.run(["postconf"] + conf + ["-n"] + names, capture_output=True, env={"PATH": PATH, "LC_ALL": "C"},
                       check=False)
    if p.returncode != 0:
        raise Refused("postconf %s-n failed, so the values the window would replace are unknown: %s" % (
            " ".join(conf) + " " if conf else "", p.stderr.decode("utf-8", "replace").strip()[:300]))
    values = {n: None for n in names}
    for line in p.stdout.split(b"\n"):
        name, eq, value = line.decode("utf-8", "surrogateescape").partition("=")
        if eq and name.strip() in values:
            values[name.strip()] = value.strip(" ")
            if CONTROL.search(values[name.strip()]):
                raise Refused("main.cf's %s holds a control character (%r); the window is not opened"
                              % (name.strip(), values[name.strip()]))
    return values


def open_window(seconds, reason="remediation", debug_peer=None, config_dir=None, metrics_dir=None):
    """Write the marker first (what the window replaces, its deadline), then arm the switch. An
    open window keeps its first opening, deadline and saved values; its switch is re-armed."""
    marker = load()
    if marker is not None:
        if not same_instance(marker.get("config_dir"), config_dir):
            raise Refused("the marker %s holds the window of %s, not of %s; refused" % (
                MARKER, marker.get("config_dir") or "/etc/postfix", config_dir or "/etc/postfix"))
        return arm(already_open=True)
    conf = ["-c", config_dir] if config_dir else []
    names = ["soft_bounce"] + (["debug_peer_list"] if debug_peer else [])
    replaced = explicit_values(conf, names)
    now = time.time()
    marker = dict(id=uuid.uuid4().hex[:12], opened_at=iso(now), deadline=now + seconds, deadline_iso=iso(now + seconds),
                  reason=reason, debug_peer=debug_peer, config_dir=config_dir, replaced=replaced)
    if metrics_dir:
        marker["metrics_dir"] = metrics_dir
    write_own(MARKER, marker, "change window marker")
    return arm()


def prom_value(value):
    """A label value as the exposition format carries it (the rules of prom_textfile.clean/escape)."""
    try:
        value = value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")  # undecodable bytes: U+FFFD
    except UnicodeEncodeError:
        value = value.encode("utf-8", "replace").decode("utf-8")
    value = PROM_ODD.sub("\ufffd", value)[:256]
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def prom_number(value):
    value = float(value)
    return str(int(value)) if value.is_integer() and abs(value) < 2 ** 53 else repr(value)


def last_close():
    """When the last window of this instance was closed (its record), or None."""
    try:
        record = parse(read_own(closed_path(), "change window record") or b"")
    except (Refused, OSError):
        return None
    if not isinstance(record, dict) or record.get("result") != "closed":
        return None
    try:
        return calendar.timegm(time.strptime(record.get("closed_at") or "", "%Y-%m-%dT%H:%M:%SZ"))
    except ValueError:
        return None


def write_metrics(metrics_dir, config_dir, marker):
    """postfix_remedy_window.prom (this instance's) in metrics_dir for node_exporter's textfile
    collector: the open window (marker, None when closed) and the last close. Returns a warning
    when it could not be written (never raises: the window's work stands), None otherwise."""
    if not metrics_dir:
        return None
    if not isinstance(metrics_dir, str) or not os.path.isabs(metrics_dir) or CONTROL.search(metrics_dir):
        return "metrics_dir %r is not an absolute path; window metrics not written" % (metrics_dir,)
    if not os.path.lexists(metrics_dir):
        return ("window metrics not written: the directory %s does not exist (node_exporter's textfile directory)"
                % metrics_dir)
    values = {"postfix_remedy_change_window_open": 1 if marker else 0}
    if marker:
        values["postfix_remedy_change_window_deadline_timestamp_seconds"] = marker["deadline"]
        values["postfix_remedy_change_window_close_failures"] = (marker.get("close_failed") or {}).get("attempts", 0)
        with contextlib.suppress(TypeError, ValueError):
            values["postfix_remedy_change_window_opened_timestamp_seconds"] = calendar.timegm(
                time.strptime(marker.get("opened_at"), "%Y-%m-%dT%H:%M:%SZ"))
    closed = last_close()
    if closed is not None:
        values["postfix_remedy_change_window_last_close_timestamp_seconds"] = closed
    label = 'config_dir="%s"' % prom_value(os.path.normpath(config_dir) if config_dir else "/etc/postfix")
    lines = ["%s (postfix-remedy-window); node_exporter textfile collector. Written anew by every run: do not edit."
             % PROM_HEADER]
    for name in sorted(values):
        lines += ["# HELP %s %s" % (name, WINDOW_METRICS[name]), "# TYPE %s gauge" % name,
                  "%s{%s} %s" % (name, label, prom_number(values[name]))]
    path = instance_marker(os.path.join(metrics_dir, PROM_NAME), config_dir)
    try:
        write_bytes(path, ("\n".join(lines) + "\n").encode("utf-8"), "metrics file",
                    lambda old: old.startswith(PROM_HEADER.encode()), mode=0o644, make_dir=False)
    except (Refused, OSError) as exc:
        why = os.strerror(exc.errno) if isinstance(exc, OSError) and exc.errno else str(exc)
        return "window metrics %s not written: %s" % (path, why)
    return None


def metrics_of(marker, open_marker):
    """Write the metrics of marker's window (open_marker: it is open, else it was just closed);
    returns {metrics_warning: ...} for the output when that failed (also logged)."""
    warning = write_metrics(marker.get("metrics_dir"), marker.get("config_dir"), open_marker)
    if warning:
        log(warning)
        return dict(metrics_warning=warning)
    return {}


def conf_args(marker):
    return ["-c", marker["config_dir"]] if marker.get("config_dir") else []


def log(message):
    run(["logger", "-p", "mail.notice", "-t", "postfix-remedy", message])


def watchdog_alive(pid):
    if pid == os.getpid():
        return True
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as fh:
            return b"postfix-remedy-window" in fh.read()
    except (OSError, TypeError):
        return False


def stop_switch(marker):
    """Stop the window's dead-man switch (closed by the controller first): kill the watchdog or
    stop the systemd timer. A switch already gone is fine."""
    sw = marker.get("switch") or {}
    if sw.get("kind") == "watchdog" and sw["pid"] != os.getpid() and watchdog_alive(sw["pid"]):
        with contextlib.suppress(OSError):
            os.kill(sw["pid"], signal.SIGTERM)
    elif sw.get("kind") == "systemd":
        run(["systemctl", "stop", sw["unit"] + ".timer"])


def start_switch(marker, delay):
    """A switch that closes the window in `delay` s: a systemd transient timer where systemd runs
    (it survives everything but the machine), else a detached watchdog process that survives the
    end of the SSH session (setsid: no controlling terminal, no SIGHUP). Returns its description."""
    wid, me = marker["id"], os.path.realpath(__file__)
    if os.path.isdir("/run/systemd/system"):
        attempts = (marker.get("close_failed") or {}).get("attempts", 0)
        unit = "postfix-remedy-window-%s" % wid + ("-retry%d" % attempts if attempts else "")  # a timer fires once
        rc, text = run(["systemd-run", "--unit=" + unit, "--on-active=%ds" % delay, "--timer-property=AccuracySec=1s",
                        "--setenv=POSTFIX_REMEDY_WINDOW_MARKER=" + MARKER,
                        me, "close", "--if-due", "--window-id", wid, "--by", "deadline"])
        if rc == 0:
            return dict(kind="systemd", unit=unit)
        log("systemd-run failed (%s); using a watchdog process" % text[:200])
    pid = os.fork()
    if pid == 0:  # the watchdog: its own session, no terminal, nothing inherited
        try:
            os.setsid()
            devnull = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(devnull, fd)
            os.execve(sys.executable, [sys.executable, me, "wait", wid],
                      dict(os.environ, POSTFIX_REMEDY_WINDOW_MARKER=MARKER))
        finally:
            os._exit(127)
    return dict(kind="watchdog", pid=pid)


def due_at(marker):
    """When the switch closes the window: its deadline, or RETRY s after a close that failed."""
    cf = marker.get("close_failed")
    return min(marker["deadline"], cf["at"] + RETRY) if cf else marker["deadline"]


def due(marker, now):
    """For close --if-due: at the deadline (EARLY s of slack: a timer that fires a little early
    must not leave the window open), and at once after a close that failed."""
    return bool(marker.get("close_failed")) or now + EARLY >= marker["deadline"]


def close(if_due=False, window_id=None, by="controller", dry_run=False):
    marker = load()
    if marker is None:
        return out(changed=False, msg="no change window is open")
    wid = marker["id"]
    if window_id and wid != window_id:
        return out(changed=False, msg="window %s is not open (the open one is %s)" % (window_id, wid))
    now = time.time()
    if if_due and not due(marker, now):
        return out(changed=False, msg="window %s is due at %s" % (wid, iso(marker["deadline"])))
    replaced = marker["replaced"]
    bad = sorted(n for n, v in replaced.items() if v is not None and CONTROL.search(v))
    if dry_run:
        return out(changed=True, msg="would close window %s" % wid, restore=replaced, refused=bad)
    errors = ["%s: the saved value %r holds a control character; refused, main.cf keeps the window's value"
              % (n, replaced[n]) for n in bad]
    restored = {}
    try:
        read_own(closed_path(), "change window record")  # a record path not ours: nothing is restored
    except Refused as exc:
        errors.append(str(exc))
    else:
        for name, value in sorted(replaced.items()):
            if name in bad:
                continue
            argv = ["postconf"] + conf_args(marker) + (["-X", name] if value is None else ["-e", "%s=%s" % (name, value)])
            rc, text = run(argv)
            if rc != 0:
                errors.append("%s: %s" % (" ".join(argv), text[:500]))
            else:
                restored[name] = value
    if errors:
        return close_failed(marker, by, restored, errors)
    conf = conf_args(marker)
    check_rc, check_text = run(["postfix"] + conf + ["check"])
    reloaded = False
    if check_rc == 0 and run(["postfix"] + conf + ["status"])[0] == 0:
        reloaded = run(["postfix"] + conf + ["reload"])[0] == 0
    if check_rc != 0:  # the values are back in main.cf: the window is closed, the check's failure is reported
        errors.append("postfix check: " + check_text[:500])
    attempts = (marker.get("close_failed") or {}).get("attempts", 0) + 1
    record = dict(id=wid, opened_at=marker.get("opened_at"), deadline=marker.get("deadline_iso"), result="closed",
                  closed_at=iso(now), closed_by=by, restored=replaced, reloaded=reloaded, errors=errors, attempts=attempts)
    try:
        write_own(closed_path(), record, "change window record")
    except (Refused, OSError) as exc:
        errors.append("record not written: %s" % exc)
    if by != "deadline":
        stop_switch(marker)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(MARKER)
    log("change window %s closed by %s: restored %s%s" % (
        wid, by, json.dumps(replaced, sort_keys=True), "; errors: " + "; ".join(errors) if errors else ""))
    return out(changed=True, failed=bool(errors), msg="window %s closed by %s" % (wid, by), record=record,
               **metrics_of(marker, None))


def close_failed(marker, by, restored, errors):
    """The window stays open: the marker keeps it (with the attempts and the last error, so the
    diagnosis reports it) and a switch tries again in RETRY s. A live watchdog polls the marker
    itself; a systemd timer fires once, so a new one is started."""
    now = time.time()
    attempts = (marker.get("close_failed") or {}).get("attempts", 0) + 1
    last_error = "; ".join(errors)[:2000]
    marker["close_failed"] = dict(attempts=attempts, at=now, at_iso=iso(now), by=by, last_error=last_error)
    sw = marker.get("switch") or {}
    if not (sw.get("kind") == "watchdog" and watchdog_alive(sw["pid"])):
        stop_switch(marker)
        marker["switch"] = start_switch(marker, RETRY)
    record = dict(id=marker["id"], opened_at=marker.get("opened_at"), deadline=marker.get("deadline_iso"),
                  result="close failed", attempted_at=iso(now), attempted_by=by, attempts=attempts, restored=restored,
                  not_restored={n: v for n, v in marker["replaced"].items() if n not in restored}, errors=errors)
    for path, obj, what in ((MARKER, marker, "change window marker"), (closed_path(), record, "change window record")):
        try:
            write_own(path, obj, what)
        except (Refused, OSError) as exc:
            if str(exc) not in errors:  # a record path refused before restoring is said once
                errors.append("%s not written: %s" % (what, exc))
    log("change window %s NOT closed by %s (attempt %d): %s" % (marker["id"], by, attempts, "; ".join(errors)))
    return out(changed=bool(restored), failed=True, record=record, errors=errors, switch=marker.get("switch"),
               **metrics_of(marker, marker),
               msg="window %s NOT closed (attempt %d): %s; the window stays open and its switch tries again in %d s"
                   % (marker["id"], attempts, "; ".join(errors), RETRY))


def arm(already_open=False):
    """Start the dead-man switch of the open window (one per window: a new one replaces it)."""
    marker = load()
    if marker is None:
        return out(failed=True, msg="no change window is open: nothing to arm")
    if already_open:
        stop_switch(marker)
    left = max(1, math.ceil(due_at(marker) - time.time()))
    marker["switch"] = sw = start_switch(marker, left)
    write_own(MARKER, marker, "change window marker")
    how = "systemd timer %s" % sw["unit"] if sw["kind"] == "systemd" else "watchdog pid %d" % sw["pid"]
    return out(changed=not already_open, msg="%s closes window %s in %d s" % (how, marker["id"], left),
               switch=sw, marker=marker, **metrics_of(marker, marker))


def wait(wid):
    """The watchdog: sleep to the deadline, close; after a failed close, try again every RETRY s."""
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    next_try = 0
    while True:
        try:
            marker = load()
        except (Refused, OSError) as exc:
            log("the watchdog of window %s stops: %s" % (wid, exc))
            return 1
        if marker is None or marker["id"] != wid:
            return 0  # closed (or replaced) by someone else
        left = max(due_at(marker), next_try) - time.time()  # next_try: at most every RETRY s, recorded or not
        if left <= 0:
            next_try = time.time() + RETRY
            try:
                close(if_due=True, window_id=wid, by="deadline")
            except (Refused, OSError) as exc:
                log("the watchdog of window %s could not close it: %s" % (wid, exc))
            continue
        time.sleep(min(left, 30))


def main(argv):
    global MARKER
    if not argv:
        print("usage: postfix-remedy-window open|arm|close|wait ID|status [--config-dir D] (see the script)",
              file=sys.stderr)
        return 2
    cmd, rest = argv[0], argv[1:]

    def opt(flag):
        return rest[rest.index(flag) + 1] if flag in rest and rest.index(flag) + 1 < len(rest) else None

    MARKER = instance_marker(BASE, opt("--config-dir"))
    try:
        if cmd == "arm":
            return arm()
        if cmd == "open":
            try:
                seconds, most = int(opt("--seconds")), int(opt("--max-seconds") or MAX_SECONDS)
            except (TypeError, ValueError):
                seconds = most = 0
            if not 10 <= seconds <= most:
                return out(failed=True, msg="open needs --seconds N between 10 and %s (--max-seconds), not %s"
                           % (most or "--max-seconds", opt("--seconds")))
            return open_window(seconds, reason=opt("--reason") or "remediation", debug_peer=opt("--debug-peer"),
                               config_dir=opt("--config-dir"), metrics_dir=opt("--metrics-dir"))
        if cmd == "wait" and rest:
            return wait(rest[0])
        if cmd == "status":
            return out(changed=False, marker=load())
        if cmd == "close":
            return close(if_due="--if-due" in rest, dry_run="--dry-run" in rest, window_id=opt("--window-id"),
                         by=opt("--by") or "controller")
    except (Refused, OSError) as exc:
        return out(failed=True, msg=str(exc))
    print("unknown command: %s" % cmd, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
