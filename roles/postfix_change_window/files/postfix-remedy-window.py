# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# postfix-remedy: the host side of a change window (seed 002). Installed by the
# postfix_change_window role as /usr/local/sbin/postfix-remedy-window; standard library only.
#
#   postfix-remedy-window open --seconds N [--reason R] [--debug-peer P] [--config-dir D]
#                                             write the marker (the values the window will replace),
#                                             then arm the dead-man switch; an open window is kept
#   postfix-remedy-window arm                 start the dead-man switch of the open window
#   postfix-remedy-window close [--if-due] [--window-id ID] [--by WHO] [--dry-run]
#   postfix-remedy-window wait ID             (the detached watchdog: sleep to the deadline, close)
#   postfix-remedy-window status              the marker, as JSON
#
# The marker (JSON, 0600) holds the window's id, its deadline and the values the window replaced
# (null: the parameter was not set in main.cf). Closing puts exactly those back (postconf -e, or
# postconf -X for a parameter that was not set), runs postfix check, reloads a running master,
# writes a record and removes the marker. A close with no marker, or for another window, is a
# no-op. Output: one JSON object.
import json
import os
import signal
import subprocess
import sys
import time
import uuid

MARKER = os.environ.get("POSTFIX_REMEDY_WINDOW_MARKER", "/var/lib/postfix-remedy/change-window.json")
PATH = "/usr/sbin:/usr/bin:/sbin:/bin"


def out(**kw):
    print(json.dumps(kw, sort_keys=True))
    return 0 if not kw.get("failed") else 1


def load():
    try:
        with open(MARKER) as fh:
            return json.load(fh)
    except FileNotFoundError:
        return None


def save(marker):
    tmp = MARKER + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(marker, fh, indent=1, sort_keys=True)
        fh.write("\n")
    os.replace(tmp, MARKER)


def run(argv):
    p = subprocess.run(argv, capture_output=True, text=True, env={"PATH": PATH, "LC_ALL": "C"}, check=False)
    return p.returncode, (p.stdout + p.stderr).strip()


def explicit_values(conf, names):
    """{name: value as set in main.cf, or None when main.cf does not set it} (postconf -n)."""
    p = subprocess.run(["postconf"] + conf + ["-n"] + names, capture_output=True, text=True,
                       env={"PATH": PATH, "LC_ALL": "C"}, check=False)
    values = {n: None for n in names}
    for line in p.stdout.splitlines():
        name, eq, value = line.partition("=")
        if eq and name.strip() in values:
            values[name.strip()] = value.strip()
    return values


def open_window(seconds, reason="remediation", debug_peer=None, config_dir=None):
    """Write the marker first (what the window replaces, its deadline), then arm the switch. An
    open window keeps its first opening, deadline and saved values; its switch is re-armed."""
    marker = load()
    if marker is not None:
        return arm(already_open=True)
    conf = ["-c", config_dir] if config_dir else []
    names = ["soft_bounce"] + (["debug_peer_list"] if debug_peer else [])
    now = time.time()
    marker = dict(id=uuid.uuid4().hex[:12], opened_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
                  deadline=now + seconds, deadline_iso=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + seconds)),
                  reason=reason, debug_peer=debug_peer, config_dir=config_dir, replaced=explicit_values(conf, names))
    os.makedirs(os.path.dirname(MARKER), mode=0o700, exist_ok=True)
    save(marker)
    return arm()


def conf_args(marker):
    return ["-c", marker["config_dir"]] if marker.get("config_dir") else []


def log(message):
    run(["logger", "-p", "mail.notice", "-t", "postfix-remedy", message])


def stop_switch(marker):
    """Stop the window's dead-man switch (closed by the controller first): kill the watchdog or
    stop the systemd timer. A switch already gone is fine."""
    sw = marker.get("switch") or {}
    if sw.get("kind") == "watchdog" and sw.get("pid") and sw["pid"] != os.getpid():
        try:
            with open("/proc/%d/cmdline" % sw["pid"], "rb") as fh:
                if b"postfix-remedy-window" in fh.read():
                    os.kill(sw["pid"], signal.SIGTERM)
        except (OSError, ValueError):
            pass
    elif sw.get("kind") == "systemd" and sw.get("unit"):
        run(["systemctl", "stop", sw["unit"] + ".timer"])


def close(if_due=False, window_id=None, by="controller", dry_run=False):
    marker = load()
    if marker is None:
        return out(changed=False, msg="no change window is open")
    if window_id and marker.get("id") != window_id:
        return out(changed=False, msg="window %s is not open (the open one is %s)" % (window_id, marker.get("id")))
    now = time.time()
    if if_due and now < marker.get("deadline", 0):
        return out(changed=False, msg="window %s is due at %s" % (marker.get("id"), marker.get("deadline_iso")))
    replaced = marker.get("replaced") or {}
    if dry_run:
        return out(changed=True, msg="would close window %s" % marker.get("id"), restore=replaced)
    conf = conf_args(marker)
    errors = []
    for name, value in sorted(replaced.items()):
        argv = ["postconf"] + conf + (["-X", name] if value is None else ["-e", "%s=%s" % (name, value)])
        rc, text = run(argv)
        if rc != 0:
            errors.append("%s: %s" % (" ".join(argv), text))
    check_rc, check_text = run(["postfix"] + conf + ["check"])
    reloaded = False
    if check_rc == 0 and run(["postfix"] + conf + ["status"])[0] == 0:
        reloaded = run(["postfix"] + conf + ["reload"])[0] == 0
    if check_rc != 0:
        errors.append("postfix check: " + check_text[:500])
    record = dict(id=marker.get("id"), opened_at=marker.get("opened_at"), deadline=marker.get("deadline_iso"),
                  closed_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)), closed_by=by,
                  restored=replaced, reloaded=reloaded, errors=errors)
    with open(os.path.join(os.path.dirname(MARKER), "change-window-closed.json"), "w") as fh:
        json.dump(record, fh, indent=1, sort_keys=True)
    if by != "deadline":
        stop_switch(marker)
    os.unlink(MARKER)
    log("change window %s closed by %s: restored %s%s" % (
        marker.get("id"), by, json.dumps(replaced, sort_keys=True), "; errors: " + "; ".join(errors) if errors else ""))
    return out(changed=True, failed=bool(errors), msg="window %s closed by %s" % (marker.get("id"), by), record=record)


def arm(already_open=False):
    """Start the dead-man switch of the open window: a systemd transient timer where systemd runs
    (it survives everything but the machine), else a detached watchdog process that survives the
    end of the SSH session (setsid: no controlling terminal, no SIGHUP)."""
    marker = load()
    if marker is None:
        return out(failed=True, msg="no change window is open: nothing to arm")
    if already_open:
        stop_switch(marker)  # one switch per window: the new one replaces it
    wid, left = marker["id"], max(1, int(marker["deadline"] - time.time()))
    me = os.path.realpath(__file__)
    if os.path.isdir("/run/systemd/system"):
        unit = "postfix-remedy-window-%s" % wid
        rc, text = run(["systemd-run", "--unit=" + unit, "--on-active=%ds" % left, "--timer-property=AccuracySec=1s",
                        "--setenv=POSTFIX_REMEDY_WINDOW_MARKER=" + MARKER,
                        me, "close", "--if-due", "--window-id", wid, "--by", "deadline"])
        if rc == 0:
            marker["switch"] = dict(kind="systemd", unit=unit)
            save(marker)
            return out(changed=not already_open, msg="systemd timer %s closes window %s in %d s" % (unit, wid, left),
                       switch=marker["switch"], marker=marker)
        log("systemd-run failed (%s); using a watchdog process" % text[:200])
    pid = os.fork()
    if pid == 0:  # the watchdog: its own session, no terminal, nothing inherited
        os.setsid()
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        os.execv(sys.executable, [sys.executable, me, "wait", wid])
    marker["switch"] = dict(kind="watchdog", pid=pid)
    save(marker)
    return out(changed=not already_open, msg="watchdog pid %d closes window %s in %d s" % (pid, wid, left),
               switch=marker["switch"], marker=marker)


def wait(wid):
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    while True:
        marker = load()
        if marker is None or marker.get("id") != wid:
            return 0  # closed (or replaced) by someone else
        left = marker.get("deadline", 0) - time.time()
        if left <= 0:
            return close(if_due=True, window_id=wid, by="deadline")
        time.sleep(min(left, 30))


def main(argv):
    if not argv:
        print(__doc__ or "usage: postfix-remedy-window arm|close|wait ID|status", file=sys.stderr)
        return 2
    cmd, rest = argv[0], argv[1:]
    if cmd == "arm":
        return arm()
    if cmd == "open":
        opts = {}
        for flag, key in (("--seconds", "seconds"), ("--reason", "reason"), ("--debug-peer", "debug_peer"),
                          ("--config-dir", "config_dir")):
            if flag in rest and rest.index(flag) + 1 < len(rest):
                opts[key] = rest[rest.index(flag) + 1]
        try:
            opts["seconds"] = int(opts["seconds"])
            if opts["seconds"] < 10:
                raise ValueError
        except (KeyError, ValueError):
            return out(failed=True, msg="open needs --seconds N (at least 10)")
        return open_window(**opts)
    if cmd == "wait" and rest:
        return wait(rest[0])
    if cmd == "status":
        return out(changed=False, marker=load())
    if cmd == "close":
        opts = dict(if_due="--if-due" in rest, dry_run="--dry-run" in rest)
        for flag, key in (("--window-id", "window_id"), ("--by", "by")):
            if flag in rest and rest.index(flag) + 1 < len(rest):
                opts[key] = rest[rest.index(flag) + 1]
        return close(**opts)
    print("unknown command: %s" % cmd, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
