# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Turn gathered facts into findings keyed by the catalog IDs, then correlate them.

Each `*_findings` function reads one part of the facts the module gathered (config, probes,
queue, log aggregate, bounces) and returns findings made with fault_catalog.make_finding.
`correlate` links symptoms to a root cause where the seeds show it (004: relay timeouts and
name-service errors with a dead resolver are the resolver's fault).
"""
from __future__ import annotations

import datetime as _dt
import difflib
import hashlib
import ipaddress
import json
import os
import re

from . import fault_catalog as cat
from . import postfix_conf as pc
from .fault_catalog import make_finding
from .postfix_cmd import CHROOT_SYNC_RE

UNAUTH = ("reject_unauth_destination", "defer_unauth_destination")
PERMITS_BEFORE_OK = ("permit_mynetworks", "permit_sasl_authenticated", "permit_tls_clientcerts",
                     "permit_tls_all_clientcerts", "permit_auth_destination", "check_policy_service")
SAFE_RELAY = "permit_mynetworks, permit_sasl_authenticated, defer_unauth_destination"


def _iso(ts):
    return _dt.datetime.fromtimestamp(ts, _dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") if ts else None


def _top(counts, n=10):
    return [dict(value=k, count=v) for k, v in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:n]]


# ------------------------------------------------------------------ config
def restriction_is_safe(value):
    """True when the list rejects unauthorized destinations before any unconditional permit."""
    for token in pc.split_list(value or ""):
        word = token.split()[0] if token.split() else token
        if word in UNAUTH:
            return True
        if word == "permit":
            return False
    return False


# smtpd refuses to start (fatal) unless smtpd_relay_restrictions or smtpd_recipient_restrictions holds one
# of these before a "permit", directly or in a restriction class (smtpd_check.c: has_required).
RELAY_REQUIRED = ("reject_unauth_destination", "defer_unauth_destination", "reject", "defer", "defer_if_permit",
                  "check_relay_domains")


def _has_required(value, params, classes, depth=0):
    words = [t for t in pc.split_list(value or "") if not t.startswith("{")]
    skip = False
    for word in words:
        if skip:  # warn_if_reject X: X never rejects
            skip = False
            continue
        if word == "warn_if_reject":
            skip = True
        elif word == "permit":
            return False
        elif word in RELAY_REQUIRED:
            return True
        elif word in classes:  # a class we cannot read counts as holding one (no finding on a guess)
            if word not in params or depth > 8 or _has_required(params[word], params, classes, depth + 1):
                return True
    return False


def relay_required_missing(params):
    """True when Postfix's smtpd would exit: no list of the two holds a working relay restriction."""
    classes = set(pc.split_list(params.get("smtpd_restriction_classes", "")))
    return not any(_has_required(params.get(name, ""), params, classes)
                   for name in ("smtpd_relay_restrictions", "smtpd_recipient_restrictions"))


def open_relay(params, restrictions=True):
    relay = params.get("smtpd_relay_restrictions", "")
    rcpt = params.get("smtpd_recipient_restrictions", "")
    reasons = []
    if restrictions and not (restriction_is_safe(relay) or restriction_is_safe(rcpt)):
        reasons.append("neither smtpd_relay_restrictions (%r) nor smtpd_recipient_restrictions (%r) rejects "
                       "unauthorized destinations" % (relay, rcpt))
    for net in world_networks(params):
        reasons.append("mynetworks contains %s (the whole Internet)" % net)
    return reasons


def world_networks(params):
    """mynetworks entries that cover every address (0.0.0.0/0, [::]/0)."""
    out = []
    for net in pc.split_list(params.get("mynetworks", "")):
        try:
            if ipaddress.ip_network(net.strip("[]").replace("]/", "/"), strict=False).prefixlen == 0:
                out.append(net)
        except ValueError:
            continue
    return out


def relay_fix(params):
    """What closes the relay: safe restrictions if they are unsafe, and the /0 entries out of mynetworks."""
    fix = {}
    if not (restriction_is_safe(params.get("smtpd_relay_restrictions", ""))
            or restriction_is_safe(params.get("smtpd_recipient_restrictions", ""))):
        fix["params"] = {"smtpd_relay_restrictions": SAFE_RELAY}
    world = world_networks(params)
    if world:
        fix["mynetworks_remove"] = world
    return fix


def closest_param(name, known):
    hits = difflib.get_close_matches(name, known, n=1, cutoff=0.75)
    return hits[0] if hits else None


def _size(params, name):
    try:
        return int(params.get(name, "0") or 0)
    except ValueError:
        return None


# Also not a warning: Debian trixie's check syncs the chroot and says so ("updating /etc/X => ..."),
# which a read-only check undoes (Postfix.check(readonly=True)); a stale chroot resolv.conf is dns.resolver_dead's.
CHECK_COVERED = re.compile(r"unused parameter: |damaged message: |/etc/resolv\.conf and /etc/resolv\.conf differ"
                           r"|" + CHROOT_SYNC_RE.pattern)


def config_findings(c, opts):
    """c: dict(params=effective, explicit=postconf -n, services=-M, overrides=-P, unused=[...], check=(ok,text))."""
    out = []
    params, explicit = c["params"], c["explicit"]
    missing = relay_required_missing(params)
    if missing:  # smtpd exits at start: no mail is received at all, which is not an open relay
        out.append(make_finding("config.relay_restrictions_missing",
                                "smtpd refuses to start: neither smtpd_relay_restrictions (%r) nor smtpd_recipient_restrictions "
                                "(%r) holds reject_unauth_destination or another working relay restriction"
                                % (params.get("smtpd_relay_restrictions"), params.get("smtpd_recipient_restrictions")),
                                fix=dict(params={"smtpd_relay_restrictions": SAFE_RELAY})))
    reasons = open_relay(params, restrictions=not missing)
    if reasons:
        out.append(make_finding("relay.open_relay", "; ".join(reasons),
                                evidence=dict(smtpd_relay_restrictions=params.get("smtpd_relay_restrictions"),
                                              smtpd_recipient_restrictions=params.get("smtpd_recipient_restrictions"),
                                              mynetworks=params.get("mynetworks")),
                                fix=relay_fix(params)))
    window = opts.get("change_window_open")
    if params.get("soft_bounce", "no").lower() == "yes" and not window:
        out.append(make_finding("config.soft_bounce_on", "soft_bounce = yes and no change window is open: "
                                "permanent errors are being deferred", evidence=dict(soft_bounce="yes"),
                                fix=dict(params={"soft_bounce": "no"})))
    verbose = sorted(k for k, svc in c["services"].items() if re.search(r"(^|\s)-v+(\s|$)", pc.strip_o(svc.get("command", ""))))
    debug_peers = params.get("debug_peer_list", "").strip()
    if (verbose or debug_peers) and not window:
        parts = []
        if verbose:
            parts.append("-v on master.cf service(s) %s" % ", ".join(verbose))
        if debug_peers:
            parts.append("debug_peer_list = %s" % debug_peers)
        out.append(make_finding("config.debug_left_on", "Verbose logging left on: " + "; ".join(parts),
                                evidence=dict(verbose_services=verbose, debug_peer_list=debug_peers),
                                fix=dict(params={"debug_peer_list": ""} if debug_peers else {},
                                         master_args_absent={s: ["-v"] for s in verbose})))
    mbox, msg = _size(params, "mailbox_size_limit"), _size(params, "message_size_limit")
    if mbox and msg and mbox < msg:
        out.append(make_finding("config.mailbox_lt_message", "mailbox_size_limit (%d) < message_size_limit (%d)" % (mbox, msg),
                                evidence=dict(mailbox_size_limit=mbox, message_size_limit=msg),
                                fix=dict(params={"mailbox_size_limit": str(msg)})))
    host = params.get("myhostname", "")
    if not _valid_fqdn(host):
        out.append(make_finding("service.hostname_invalid", "myhostname %r is not a fully-qualified host name" % host,
                                evidence=dict(myhostname=host, explicit="myhostname" in explicit),
                                fix=dict(params={"myhostname": opts.get("fqdn") or "<FQDN of this host>"})))
    if c.get("unused"):
        items = []
        known = list(params)
        for w in c["unused"]:
            items.append(dict(file=w["file"], name=w["name"], value=w["value"], closest=closest_param(w["name"], known)))
        names = ", ".join("%s%s" % (i["name"], " (did you mean %s?)" % i["closest"] if i["closest"] else "") for i in items)
        out.append(make_finding("config.unused_parameter", "Unused parameter(s): " + names, evidence=dict(parameters=items),
                                fix=dict(remove=[i["name"] for i in items if i["file"].endswith("main.cf")],
                                         can_fix=any(i["file"].endswith("main.cf") for i in items))))
    missing_passwords = sasl_client_without_passwords(params, c.get("overrides") or {})
    if missing_passwords:
        out.append(make_finding("sasl.client_password_maps_missing", "SMTP client AUTH without a password table (smtp "
                                "exits at start, mail is deferred): " + "; ".join(missing_passwords),
                                evidence=dict(where=missing_passwords)))
    ok, text = c["check"]
    # Warnings another finding already reports (unused parameters, corrupt queue files) are not repeated.
    lines = [ln for ln in text.splitlines() if ln.strip() and not CHECK_COVERED.search(ln)]
    submit = [ln for ln in lines if SUBMIT_DRIFT.search(ln)]
    if submit:  # local submission (sendmail -> postdrop -> maildrop) is broken: its own finding, same fix
        out.append(make_finding("queue.maildrop_permission", "postfix check: %s" % "; ".join(
            SUBMIT_DRIFT.search(ln).group(0) for ln in submit[:4]), evidence=dict(output=submit[:20]),
            fix=dict(commands=["postfix set-permissions"])))
        lines = [ln for ln in lines if ln not in submit]
    if not ok or lines:
        perms = [ln for ln in lines if re.search(r"not owned by|group or other writable|bad permissions|not a directory", ln)]
        out.append(make_finding("service.check_fails", "postfix check %s: %s" % ("failed" if not ok else "warns", (lines or ["(no output)"])[0]),
                                evidence=dict(ok=ok, output=lines[:20], ownership_drift=len(perms)),
                                cls="auto" if perms and len(perms) == len(lines) else "advisory",
                                fix=dict(commands=["postfix set-permissions"] if perms else [])))
    return out


# postfix check's words when the submission path drifted (postfix-script check-warn): maildrop, or the
# set-gid postdrop and postqueue.
SUBMIT_DRIFT = re.compile(r"(?:not owned by (?:group )?\S+|not set-gid or not owner\+group\+world executable)"
                          r": \S*/(?:maildrop|postdrop|postqueue)$")


def sasl_client_without_passwords(params, overrides):
    """Where smtp(8)/lmtp(8) SASL is on with no password table (smtp_sasl_glue.c: a fatal error at start):
    main.cf, or a master.cf service whose -o options set either parameter."""
    out = []
    for proto in ("smtp", "lmtp"):
        on, maps = proto + "_sasl_auth_enable", proto + "_sasl_password_maps"
        for where, over in [("main.cf", {})] + sorted(overrides.items()):
            if where != "main.cf" and on not in over and maps not in over:
                continue
            if over.get(on, params.get(on, "no")).strip().lower() == "yes" and not over.get(maps, params.get(maps, "")).strip():
                out.append("%s: %s = yes, %s is empty" % (where, on, maps))
    return out


HOST_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")


def _valid_fqdn(name):
    labels = (name or "").rstrip(".").split(".")
    return len(labels) >= 2 and all(HOST_LABEL.match(lb) for lb in labels) and not labels[-1].isdigit()


# ------------------------------------------------------------------ probes
def postfix_addresses(inet_interfaces):
    """Addresses Postfix should listen on per inet_interfaces; None means any (all, or names we
    do not resolve here)."""
    value = (inet_interfaces or "all").strip()
    if value == "all":
        return None
    if value == "loopback-only":
        return {"127.0.0.1", "::1"}
    out = set()
    for item in pc.split_list(value):
        try:
            out.add(str(ipaddress.ip_address(item.strip("[]"))))
        except ValueError:
            return None  # a host name: leave it to Postfix
    return out or None


def _conflicts(holder, svc, wanted):
    """Would this listener keep master from binding the service's address? A wildcard on either
    side conflicts; so does the same address."""
    addr = holder["address"]
    host = svc.get("host")
    mine = {host} if host else wanted
    return mine is None or addr in ("0.0.0.0", "::") or addr in mine


# The change window's marker, as roles/postfix_change_window/files/postfix-remedy-window.py writes
# it (that host-side script cannot import this module: the two rules below are its own, kept equal
# by tests/unit/test_window_safety.py).
WINDOW_PARAMS = ("soft_bounce", "debug_peer_list")
_WINDOW_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_WINDOW_UNIT = re.compile(r"^postfix-remedy-window-[A-Za-z0-9_-]+$")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_LATEST = 253402300799  # 9999-12-31T23:59:59Z


def instance_marker(base, config_dir):
    """The marker of the Postfix instance at config_dir: one window per instance (postmulti).
    The default instance (no config_dir, or /etc/postfix) keeps base; another has its directory
    in the name."""
    if not config_dir or os.path.normpath(config_dir) == "/etc/postfix":
        return base
    cd = os.path.normpath(config_dir)
    slug = re.sub(r"[^A-Za-z0-9]+", "-", cd).strip("-")[:40]
    stem, ext = os.path.splitext(base)
    return "%s.%s-%s%s" % (stem, slug, hashlib.sha256(os.fsencode(cd)).hexdigest()[:8], ext)


def window_problem(m):
    """Why m is not a window marker the helper wrote and can close (None: it is one): the helper's
    marker_problem, plus a saved value with a control character (its close refuses to write it)."""
    if not isinstance(m, dict):
        return "not a JSON object"
    d = m.get("deadline")
    if "deadline" not in m:
        return "no deadline (a marker from before deadlines, or not ours)"
    if not isinstance(m.get("id"), str) or not _WINDOW_ID.match(m["id"]):
        return "no window id"
    if isinstance(d, bool) or not isinstance(d, (int, float)) or not 0 < d < _LATEST:
        return "the deadline %s is not a time" % json.dumps(d)[:40]
    r = m.get("replaced")
    if not isinstance(r, dict) or "soft_bounce" not in r or not set(r) <= set(WINDOW_PARAMS) \
            or not all(v is None or isinstance(v, str) for v in r.values()):
        return "no map of %s to the values they had before the window" % " and ".join(WINDOW_PARAMS)
    if not (m.get("config_dir") is None or isinstance(m["config_dir"], str)):
        return "config_dir is not a path"
    cf = m.get("close_failed")
    if cf is not None and not (isinstance(cf, dict) and isinstance(cf.get("attempts"), int) and not isinstance(cf.get("attempts"), bool)
                               and isinstance(cf.get("at"), (int, float)) and 0 < cf["at"] < _LATEST):
        return "close_failed is not a record of attempts"
    sw = m.get("switch")
    if sw is not None and not (isinstance(sw, dict) and (
            (sw.get("kind") == "watchdog" and isinstance(sw.get("pid"), int) and not isinstance(sw["pid"], bool) and sw["pid"] > 1)
            or (sw.get("kind") == "systemd" and isinstance(sw.get("unit"), str) and _WINDOW_UNIT.match(sw["unit"])))):
        return "switch is neither a watchdog pid nor a postfix-remedy-window systemd unit"
    bad = sorted(n for n, v in r.items() if v is not None and _CONTROL.search(v))
    if bad:
        return "the saved value of %s holds a control character (CR, LF, NUL...)" % ", ".join(bad)
    return None


WINDOW_FAULT = "config.change_window_expired"


def window_expired(marker, path, problem=None):
    """config.change_window_expired: a change window that no longer explains soft_bounce and
    debug. Past its deadline (its dead-man switch was lost: the host rebooted, the watchdog was
    killed) or with a close that failed (the marker says why): the fix closes the window,
    restoring what it replaced. A damaged marker (problem) says neither what to restore nor when
    it ends: not fixed here; soft_bounce and debug are their own findings."""
    if problem:
        return make_finding(
            WINDOW_FAULT, "The change window marker %s is damaged (%s): it hides no setting, "
            "and says neither what the window replaced nor when it ends" % (path, problem),
            evidence=dict(marker=path, damaged=problem),
            fix=dict(can_fix=False, note="Restore soft_bounce and debug_peer_list by hand (reported on their own), "
                                         "then delete %s" % path),
            explains_nothing=True)  # correlate(): not the root cause of the settings the catalog says it sets
    cf = marker.get("close_failed")
    summary = "The change window %s opened at %s was due to close at %s and is still open" % (
        marker.get("id", "?"), marker.get("opened_at", "?"), _iso(marker.get("deadline")))
    if cf:
        summary = "The change window %s opened at %s could not be closed (%d attempt(s), the last at %s: %s) and is " \
                  "still open" % (marker.get("id"), marker.get("opened_at", "?"), cf["attempts"], _iso(cf["at"]),
                                  str(cf.get("last_error"))[:300])
    return make_finding(
        WINDOW_FAULT, summary,
        evidence=dict(marker=path, id=marker.get("id"), opened_at=marker.get("opened_at"),
                      deadline=_iso(marker.get("deadline")), replaced=marker.get("replaced"), switch=marker.get("switch"),
                      close_failed=cf),
        fix=dict(commands=["/usr/local/sbin/postfix-remedy-window close --by remediation"], marker=path))


def _not_running(m, p):
    """service.not_running; when another process holds a port of master.cf's inet services, it
    names that process, and starting Postfix is not offered (it would fail the same way; Postfix
    3.10 logs nothing about it)."""
    wanted = postfix_addresses(p.get("inet_interfaces", "all"))
    blocked = []
    for svc in p.get("inet_services", []):
        for h in p.get("port_holders", []):
            if h["port"] == svc["port"] and _conflicts(h, svc, wanted):
                blocked.append(dict(h, service=svc["service"]))
    summary = "The Postfix master is not running (pid file %s%s)" % (
        m["pid_file"], ", pid %s is gone" % m["pid"] if m["pid"] else " missing")
    if not blocked:
        return make_finding("service.not_running", summary, evidence=m,
                            fix=dict(commands=["postfix check", "postfix start"]))
    who = "; ".join("port %d (%s) is held by %s" % (b["port"], b["service"], "%s pid %s (%s)" % (
        b["program"], b["pid"], (b["cmdline"] or "")[:120]) if b["pid"] else "a process this user cannot see")
        for b in blocked)
    return make_finding("service.not_running", summary + "; " + who, evidence=dict(m, port_holders=blocked),
                        fix=dict(can_fix=False, note="Postfix cannot bind its ports: stop or move the process "
                                                     "holding them, then: postfix check && postfix start"))


def _version_below(version, major, minor):
    try:
        parts = [int(x) for x in (version or "").split(".")[:2]]
    except ValueError:
        return False
    return len(parts) == 2 and tuple(parts) < (major, minor)


def _chroot_finding(ch, mail_version):
    """service.chroot_incomplete: system files missing or stale in the chroot of chrooted
    services. A stale chroot resolv.conf is dns.resolver_dead's (it is compared with the live
    nameservers there); a missing one is this fault."""
    if not ch:
        return None
    bad = [f for f in ch.get("files", []) if f["state"] != "ok"
           and not (f["name"] == "etc/resolv.conf" and f["state"] == "stale")]
    if not bad:
        return None
    fatal = [f["name"] for f in bad if f["state"] == "missing" and (
        f["name"] == "etc/resolv.conf" or (f["name"] == "etc/services" and _version_below(mail_version, 3, 6)))]
    why = ", ".join("%s %s" % (f["name"], f["state"]) for f in bad)
    summary = "Chrooted Postfix daemons see an incomplete %s/etc: %s" % (ch["queue_directory"], why)
    if fatal:
        summary += " (%s: every chrooted smtp dies or cannot resolve)" % ", ".join(fatal)
    return make_finding("service.chroot_incomplete", summary, evidence=dict(ch, bad=bad),
                        severity="critical" if fatal else None,
                        fix=dict(chroot_copies=[dict(src=f["source"], dest=f["path"]) for f in bad], reload=True))


def probe_findings(p, opts):
    """p: dict(resolvers, master, listening, smtp_services, tls, tables, sasl, dns, outbound)."""
    out = []
    r = p.get("resolvers") or {}
    dead = [s for s in r.get("servers", []) if not s["answers"]]
    alive = [s for s in r.get("servers", []) if s["answers"]]
    chroot = r.get("chroot") or {}
    chroot_dead = []
    if chroot.get("exists") and chroot.get("servers") is not None:
        live = {s["address"] for s in alive}
        chroot_dead = [a for a in chroot["servers"] if a not in live]
    chroot_bad = bool(chroot.get("exists") and chroot.get("same") is False)
    if dead or chroot_bad:
        what = []
        if dead:
            what.append("%d of %d nameservers in %s do not answer (%s)" % (
                len(dead), len(r["servers"]), r["path"], ", ".join("%s: %s" % (s["address"], s["error"]) for s in dead)))
        if chroot_bad:
            what.append("the chroot copy %s differs from %s" % (chroot["path"], r["path"]))
        out.append(make_finding(
            "dns.resolver_dead", "; ".join(what),
            severity="critical" if dead and not alive else None,
            evidence=dict(servers=r["servers"], chroot=chroot, first_is_dead=bool(r["servers"]) and not r["servers"][0]["answers"]),
            fix=dict(remove_nameservers=[s["address"] for s in dead], keep_nameservers=[s["address"] for s in alive],
                     chroot_dead_nameservers=chroot_dead, resync_chroot=chroot_bad or bool(dead and chroot.get("exists")),
                     can_fix=bool(alive), restart=True,
                     note=None if alive else "no nameserver answers: the fix would leave none, so it is not applied")))
    m = p.get("master")
    if m is not None and not m["running"]:
        out.append(_not_running(m, p))
        holders = out[-1]["evidence"].get("port_holders")
        if holders:  # the root cause, with the process to stop (correlate: service.not_running is its symptom)
            out.append(make_finding("service.port_in_use", "Another process holds Postfix's port(s): " + ", ".join(
                "%d (%s) by %s" % (h["port"], h["service"], "%s pid %s" % (h["program"], h["pid"]) if h["pid"]
                                   else "a process this user cannot see") for h in holders),
                evidence=dict(port_holders=holders)))
    chroot = _chroot_finding(p.get("chroot"), p.get("mail_version"))
    if chroot:
        out.append(chroot)
    if m and m["running"]:
        missing = []
        wanted = postfix_addresses(p.get("inet_interfaces", "all"))
        for svc in p.get("smtp_services", []):
            # Another daemon on the same port (a second MTA, the lab's SMTP peer) does not count.
            addrs = (p.get("listening") or {}).get(svc["port"], [])
            if not any(wanted is None or a in wanted or a in ("0.0.0.0", "::") for a in addrs):
                missing.append(dict(svc, addresses=sorted(wanted) if wanted else "all"))
        if missing:
            out.append(make_finding("net.connection_refused", "Nothing listens on %s although master.cf enables %s" % (
                ", ".join(str(s["port"]) for s in missing), ", ".join(s["service"] for s in missing)),
                evidence=dict(expected=missing, listening={str(k): v for k, v in (p.get("listening") or {}).items()}),
                fix=dict(scope="local", commands=["postfix check", "postfix reload"])))
    for pair in p.get("tls", []):
        out.extend(_tls_findings(pair, opts))
    for t in p.get("tables", []):
        prob = t.get("problem")
        if prob == "missing_index":
            out.append(make_finding("maps.missing_db", "%s:%s has no index (%s)" % (t["type"], t["source"], t.get("detail")),
                                    evidence=t, fix=dict(postmap=["%s:%s" % (t["type"], t["source"])])))
        elif prob == "stale_index":
            out.append(make_finding("maps.stale_db", "%s:%s: %s" % (t["type"], t["source"], t.get("detail")), evidence=t,
                                    fix=dict(postmap=["%s:%s" % (t["type"], t["source"])])))
        elif prob == "unreadable_index":
            out.append(make_finding("maps.db_permission", t.get("detail"), evidence=t,
                                    fix=dict(files={i: dict(owner="root", group="postfix", mode="0644") for i in t["indexes"]})))
        elif prob == "unknown":
            out.append(make_finding("maps.unsupported_type", "table type %s: (used for %s) is not known" % (t["type"], t["source"]),
                                    evidence=t))
    for s in p.get("sasl", []):
        if s.get("ok"):
            continue
        fid = "sasl.dovecot_socket" if s["type"] == "dovecot" else "sasl.saslauthd_down"
        out.append(make_finding(fid, "SASL socket %s is missing (%s)" % (s["socket"], s.get("detail", "")), evidence=s,
                                fix=dict(service="dovecot" if s["type"] == "dovecot" else "saslauthd",
                                         run_path=s.get("run_path"), chroot=s.get("chroot", False))))
    d = p.get("dns") or {}
    if d.get("ptr") is not None and d["ptr"].get("checked"):
        ptr = d["ptr"]
        if not ptr.get("match"):
            out.append(make_finding("dns.ptr_mismatch", "PTR of %s is %s, expected %s" % (
                ptr["ip"], ", ".join(ptr.get("names") or []) or "missing", ptr["expected"]), evidence=ptr,
                fix=dict(publish="%s PTR %s." % (ptr.get("ptr_name"), ptr["expected"]))))
    for dom, rec in (d.get("domains") or {}).items():
        if rec.get("spf") == []:
            out.append(make_finding("auth.spf_permerror", "%s publishes no SPF record" % dom, evidence=dict(domain=dom, txt=rec.get("txt")),
                                    fix=dict(publish='%s TXT "v=spf1 %s -all"' % (
                                        dom, " ".join("ip4:%s" % ip for ip in d.get("outbound_ips", [])) or "mx"))))
        elif rec.get("spf") and len(rec["spf"]) > 1:
            out.append(make_finding("auth.spf_permerror", "%s publishes %d SPF records (permerror)" % (dom, len(rec["spf"])),
                                    evidence=dict(domain=dom, spf=rec["spf"])))
        if rec.get("dmarc") == []:
            out.append(make_finding("auth.dmarc_missing", "_dmarc.%s has no DMARC record" % dom, evidence=dict(domain=dom),
                                    fix=dict(publish='_dmarc.%s TXT "v=DMARC1; p=none; rua=mailto:postmaster@%s"' % (dom, dom))))
    ob = p.get("outbound")
    if ob and ob.get("targets"):
        outcomes = [t["outcome"] for t in ob["targets"]]
        if all(o == "timeout" for o in outcomes):
            out.append(make_finding("net.port25_blocked", "DNS works, but port 25 of every tested MX times out (%d hosts)" % len(outcomes),
                                    evidence=ob))
        elif all(o in ("timeout", "refused") for o in outcomes) and "refused" in outcomes:
            out.append(make_finding("net.connection_refused", "Every tested MX refuses or times out on port 25", evidence=ob,
                                    cls="advisory", fix=dict(scope="remote")))
    return out


def _tls_findings(pair, opts):
    out = []
    cert, key = pair.get("cert"), pair.get("key")
    label = pair.get("role", "smtpd")
    missing = [f["path"] for f in (cert, key) if f and not f["exists"]]
    if missing:
        out.append(make_finding("tls.cert_unreadable", "%s TLS file(s) missing: %s" % (label, ", ".join(missing)),
                                evidence=pair, cls="advisory"))
        return out
    # Group read is fine (Debian's ssl-cert group: 0640 root:ssl-cert); group write or any world bit is not.
    if key and key["exists"] and (key["owner"] != "root" or int(key["mode"], 8) & 0o027):
        out.append(make_finding("tls.cert_unreadable", "%s key %s is %s:%s mode %s (want root-owned, 0600)" % (
            label, key["path"], key["owner"], key["group"], key["mode"]), evidence=pair,
            fix=dict(files={key["path"]: dict(owner="root", mode="0600")})))
    if cert and cert["exists"] and not int(cert["mode"], 8) & 0o444:
        out.append(make_finding("tls.cert_unreadable", "%s certificate %s is not readable (mode %s)" % (label, cert["path"], cert["mode"]),
                                evidence=pair, fix=dict(files={cert["path"]: dict(mode="0644")})))
    for err in pair.get("errors", []):
        out.append(make_finding("tls.cert_unreadable", err, evidence=pair, cls="advisory"))
    days = pair.get("days_left")
    if days is not None and days < opts.get("cert_days", 21):
        out.append(make_finding("tls.cert_expiry", "%s certificate %s %s" % (
            label, cert["path"], "expired %d days ago" % -days if days < 0 else "expires in %d days" % days),
            severity="critical" if days < 0 else "high", evidence=dict(cert=cert["path"], days_left=days, not_after=_iso(pair.get("not_after")))))
    if pair.get("key_matches") is False:
        out.append(make_finding("tls.cert_expiry", "%s key %s does not belong to certificate %s" % (label, key["path"], cert["path"]),
                                severity="critical", evidence=dict(cert=cert["path"], key=key["path"], key_matches=False)))
    return out


# ------------------------------------------------------------------ queue
def queue_findings(q, opts):
    out = []
    if not q or q.get("error"):
        return out
    deferred = q["counts"].get("deferred", 0)
    if deferred >= opts.get("backlog", 1000):
        out.append(make_finding("queue.deferred_backlog", "%d messages deferred (threshold %d)" % (deferred, opts.get("backlog", 1000)),
                                evidence=dict(counts=q["counts"], top_domains=q["qshape"]["domains"][:10], top_reasons=q.get("top_reasons", [])),
                                fix=dict(flush_sites=[d["domain"] for d in q["qshape"]["domains"][:10]])))
    if q.get("corrupt"):
        out.append(make_finding("queue.corrupt_files", "%d file(s) in the corrupt queue" % len(q["corrupt"]),
                                evidence=dict(files=q["corrupt"][:20])))
    total = q.get("not_held", q.get("total", 0))  # held mail is already contained
    bounces = q.get("mailer_daemon", 0)
    if total and bounces >= opts.get("bounce_flood", 100) and bounces / total >= opts.get("flood_share", 0.3):
        out.append(make_finding("queue.bounce_flood", "%d of %d queued messages are bounces (MAILER-DAEMON)" % (bounces, total),
                                evidence=dict(mailer_daemon=bounces, total=total)))
    for s in q.get("top_senders", []):
        if s["sender"] == "MAILER-DAEMON":
            continue
        if total and s["count"] >= opts.get("sender_flood", 100) and s["count"] / total >= opts.get("flood_share", 0.3):
            out.append(make_finding("queue.sender_flood", "Sender %s holds %d of %d queued messages" % (s["sender"], s["count"], total),
                                    evidence=dict(sender=s["sender"], count=s["count"], total=total),
                                    fix=dict(hold_sender=s["sender"])))
    return out


# ------------------------------------------------------------------ log
# Where "internal clients" live when the operator declared no networks (RFC 1918, loopback, ULA).
INTERNAL_DEFAULT = [ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8",
                                                      "::1/128", "fc00::/7")]


def _private(ip):
    return _in_nets(ip, INTERNAL_DEFAULT)


def _in_nets(ip, nets):
    try:
        a = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return any(a in n for n in nets)


# Log IDs that every healthy server logs now and then; reported from log_min_count lines in the window.
MAX_EVIDENCE_SAMPLES = 5
SPORADIC = frozenset(cat.ids_with("sporadic"))


def log_findings(agg, opts):
    out = []
    nets = []
    for n in opts.get("internal_networks") or []:
        try:
            nets.append(ipaddress.ip_network(n, strict=False))
        except ValueError:
            continue
    min_count = opts.get("log_min_count", 5)
    for fid, rec in sorted(agg.get("ids", {}).items()):
        if fid in SPORADIC and rec["count"] < min_count:
            continue  # one lost connection or mistyped password is daily life, not a fault
        groups = rec.get("groups", {})
        ev = dict(count=rec["count"], first=_iso(rec["first"]), last=_iso(rec["last"]), samples=rec["samples"],
                  top={k: _top(v) for k, v in groups.items()})
        cls = severity = fix = None
        summary = "%d log line(s)" % rec["count"]
        if fid == "relay.access_denied":
            ips = groups.get("ip", {})
            internal = {ip: n for ip, n in ips.items() if (_in_nets(ip, nets) if nets else _private(ip))}
            if not internal:
                continue  # relay attempts from outside are the server doing its job
            ev["internal_clients"] = _top(internal)
            summary = "%d relay denial(s) for %d internal client(s)" % (sum(internal.values()), len(internal))
        elif fid == "rbl.listed":  # outbound only (route): a peer refused our mail naming a blocklist
            lists = groups.get("domain", {}) or groups.get("rbl", {})
            severity = "high"
            summary = "Our mail was refused by %d peer reply(s) naming blocklist(s): %s" % (
                rec["count"], ", ".join(sorted(lists)) or "?")
        elif fid == "sasl.auth_failed":
            ips = groups.get("ip", {})
            brute = {ip: n for ip, n in ips.items() if n >= opts.get("brute_force", 10)}
            if brute:
                severity = "high"
                ev["brute_force_clients"] = _top(brute)
            summary = "%d SASL authentication failure(s) from %d client(s)" % (rec["count"], len(ips))
        elif fid == "net.connection_refused" and not _refusals_that_matter(groups, opts):
            continue  # peers down now and then, each a few times: daily life, a statistic
        elif fid == "sasl.lost_after_auth" and not _lost_after_auth_that_matter(groups, agg, min_count):
            continue  # the password guessers hanging up after a failed AUTH: the attack, not a mechanism problem
        elif fid in ("dns.mx_connect_timeout", "net.connection_refused"):
            dests = groups.get("dest", {})
            summary = "%d connection(s) %s to %d destination(s): %s" % (
                rec["count"], "timed out" if fid.startswith("dns") else "refused", len(dests),
                ", ".join("%s (%d)" % (d["value"], d["count"]) for d in _top(dests, 4)))
            if fid == "net.connection_refused":
                cls = "advisory"
        elif fid == "dns.name_service_error":
            summary = "%d DNS lookup failure(s) for %s" % (rec["count"], ", ".join(d["value"] for d in _top(groups.get("domain", {}), 4)))
        elif fid.startswith("maps.") or fid == "tls.cert_unreadable":
            files = groups.get("file", {})
            if files:
                summary = "%d log line(s) about %s" % (rec["count"], ", ".join(sorted(files)))
        elif fid == "config.unused_parameter":
            summary = "Logged unused parameter(s): %s" % ", ".join(sorted(groups.get("param", {})))
        elif cat.CATALOG[fid]["names"]:  # what the lines name: which daemon, milter, file or provider
            keys, what = cat.CATALOG[fid]["names"]
            names = _top({k: v for key in keys for k, v in groups.get(key, {}).items()}, 4)
            if names:
                summary = "%d %s: %s" % (rec["count"], what, ", ".join("%s (%d)" % (d["value"], d["count"]) for d in names))
        out.append(make_finding(fid, summary, evidence=ev, cls=cls, severity=severity, fix=fix, source="log"))
    out += inbound_findings(agg, nets, min_count)
    refusals = remote_findings(agg, min_count)
    if refusals:
        out.append(refusals)
    rotation = mx_rotation(agg)
    if rotation:
        out.append(rotation)
    return out


# What an inbound match from an internal client means, when it is a finding at all (issue 17):
# the catalog's inbound_finding (class, one-line summary). Internet clients are policy or noise.


PEER_PERSISTENT = 10  # refusals of one remote destination before it is more than a peer's bad day


def _refusals_that_matter(groups, opts):
    """Refused connections are ours to look at when the destination is ours (loopback or
    private: a content filter, an internal relay) or one peer refuses persistently."""
    for dest, n in groups.get("dest", {}).items():
        ip = dest.partition("[")[2].partition("]")[0]
        if _private(ip) or (dest != "(other)" and n >= opts.get("peer_persistent", PEER_PERSISTENT)):
            return True
    return False


def _lost_after_auth_that_matter(groups, agg, min_count):
    """Clients that drop after AUTH without having failed AUTH (a mechanism problem), not the
    brute forcers of sasl.auth_failed giving up."""
    guessers = set(agg.get("ids", {}).get("sasl.auth_failed", {}).get("groups", {}).get("ip", {}))
    rest = sum(n for ip, n in groups.get("ip", {}).items() if ip not in guessers)
    return rest >= min_count


def inbound_findings(agg, nets, min_count):
    """Servers' lines about clients (agg["inbound"]): a finding only for clients that are ours -
    in our internal networks (the operator's, else RFC 1918/loopback/ULA) or seen authenticating
    with SASL in the same log (a user on the road) - the rest is a statistic."""
    out = []
    users = agg.get("sasl_clients") or {}
    for fid, rec in sorted(agg.get("inbound", {}).items()):
        ips = rec.get("groups", {}).get("ip", {})
        internal = {ip: n for ip, n in ips.items() if ip in users or (_in_nets(ip, nets) if nets else _private(ip))}
        n = sum(internal.values())
        means = cat.CATALOG[fid]["inbound_finding"] if fid in cat.CATALOG else None
        if not internal or (fid in SPORADIC and n < min_count) or not means:
            continue
        cls, text = means
        ev = dict(count=n, first=_iso(rec["first"]), last=_iso(rec["last"]), internal_clients=_top(internal),
                  authenticated_clients=sorted(ip for ip in internal if ip in users),
                  samples=[x for x in rec["samples"] if any(ip in x for ip in internal)][:MAX_EVIDENCE_SAMPLES]
                  or rec["samples"][:1], direction="inbound")
        out.append(make_finding(fid, text % n, evidence=ev, cls=cls, source="log",
                                fix=dict(can_fix=False) if cls == "advisory" else None))
    return out


def inbound_statistics(agg):
    """{fault ID: lines} of servers' lines about clients: policy at work or Internet noise, shown
    in the log summary (internal clients among them are findings, see inbound_findings)."""
    return {fid: rec["count"] for fid, rec in sorted(agg.get("inbound", {}).items())}


# ------------------------------------------------------------------ remote answers (issue 31 item 5)
# What the servers of a recipient domain answered about their own side (log_scan's agg["remote"],
# per domain): a statistic. log_min_count refusals of one domain make delivery.remote_refusal,
# with what to do about its main reason; greylisting is retried and delivered, never a refusal.
REMOTE_ADVICE = {
    "user unknown": "the address does not exist there: correct it or remove it from the list (list hygiene)",
    "null MX": "the domain accepts no mail at any address (null MX): fix the address, remove it from lists",
    "host unknown": "the domain has no mail server: check the address",
    "mailbox full": "the recipient's mailbox there is full: tell the sender; the quota is theirs, not ours",
    "message too big": "over their size limit: send it smaller or as a link; our message_size_limit is not involved",
    "relaying denied": "that server takes no mail for this domain from us: check the domain's MX and any "
                       "transport or relayhost route to it",
    "blocked/policy": "their policy refuses our mail: read the samples (a reputation complaint naming our address is "
                      "ours: see rbl.listed's steps; a rate complaint, delivery.rate_limited's), else ask the "
                      "domain's postmaster",
    "content/spam": "their filter takes our mail for spam: check what is sent and our address' reputation in the "
                    "samples, then ask the domain's postmaster",
    "authentication": "they fail our SPF/DKIM/DMARC: check our records (the probes' auth.* findings)",
}
REMOTE_ADVICE_OTHER = "their own trouble (disk, tables, configuration): contact the domain's postmaster if it persists"
MAX_REFUSING_DOMAINS = 20


def remote_statistics(agg, top=50):
    """{domain: {count, reasons}}: what other servers answered about their own side (log.remote),
    the busiest domains first."""
    recs = sorted(agg.get("remote", {}).items(), key=lambda kv: (-kv[1]["count"], kv[0]))[:top]
    return {d: dict(count=r["count"], reasons=dict(sorted(r["groups"].get("reason", {}).items()))) for d, r in recs}


def remote_findings(agg, min_count):
    """delivery.remote_refusal for the domains that refused min_count times or more (greylisting is
    not a refusal), each with its reasons, relays, samples and what to do about each reason."""
    domains = []
    for domain, rec in agg.get("remote", {}).items():
        reasons = {k: v for k, v in rec["groups"].get("reason", {}).items() if k != "greylisted"}
        n = sum(reasons.values())
        if domain == "(other)" or not n or n < min_count:
            continue
        ranked = _top(reasons)
        domains.append(dict(domain=domain, refusals=n, reasons=ranked, relays=_top(rec["groups"].get("relay", {}), 3),
                            advice={r["value"]: REMOTE_ADVICE.get(r["value"], REMOTE_ADVICE_OTHER) for r in ranked},
                            first=_iso(rec["first"]), last=_iso(rec["last"]), samples=rec["samples"]))
    if not domains:
        return None
    domains.sort(key=lambda d: (-d["refusals"], d["domain"]))
    top = "; ".join("%s x%d, mostly %s: %s" % (d["domain"], d["refusals"], d["reasons"][0]["value"],
                                               d["advice"][d["reasons"][0]["value"]]) for d in domains[:3])
    summary = "%d destination domain(s) keep refusing our mail for reasons on their side: %s" % (len(domains), top)
    firsts = [d["first"] for d in domains if d["first"]]
    lasts = [d["last"] for d in domains if d["last"]]
    ev = dict(count=sum(d["refusals"] for d in domains), first=min(firsts) if firsts else None,
              last=max(lasts) if lasts else None, domains=domains[:MAX_REFUSING_DOMAINS],
              samples=[x for d in domains[:MAX_EVIDENCE_SAMPLES] for x in d["samples"][:1]])
    return make_finding("delivery.remote_refusal", summary, evidence=ev, source="log", fix=dict(can_fix=False))


def mx_rotation(agg):
    """Several distinct MX hosts of one destination timing out (002): from the timeout counters."""
    rec = agg.get("ids", {}).get("dns.mx_connect_timeout")
    if not rec:
        return None
    hosts = {}
    for dest in rec.get("groups", {}).get("dest", {}):
        name = dest.split("[", 1)[0]
        parent = name.split(".", 1)[1] if "." in name else name
        hosts.setdefault(parent, set()).add(name)
    rotating = {p: sorted(h) for p, h in hosts.items() if len(h) >= 2}
    if not rotating:
        return None
    return make_finding("timeout.mx_rotation", "Several hosts time out in turn: " + "; ".join(
        "%s (%s)" % (p, ", ".join(h)) for p, h in sorted(rotating.items())), evidence=dict(groups=rotating), source="log")


# ------------------------------------------------------------------ bounces
def bounce_findings(records, sources):
    if not records:
        return []
    from .dsn_parse import summarize  # local: only needed with bounces
    s = summarize(records)
    # grouped by reason (sisimai's set), with the catalog IDs of the reasons that are ours to act on;
    # each refusal that points at this server carries its catalog entry's title and steps (a provider's
    # rate limit: delivery.rate_limited), or what to do when no ID covers it (a refused sender address)
    reasons = sorted(s["by_reason"].items(), key=lambda kv: (-kv[1]["count"], kv[0]))
    for o in s["own_faults"]:
        if o["fault_id"] in cat.CATALOG:
            o.update(title=cat.CATALOG[o["fault_id"]]["title"], steps=cat.CATALOG[o["fault_id"]]["steps"])
    ours = "; ours: " + ", ".join("%s x%d (%s)" % (o["fault_id"] or o["reason"], o["count"], ", ".join(o["domains"][:3]))
                                  for o in s["own_faults"][:4]) if s["own_faults"] else ""
    return [make_finding("bounce.dsn", "%d bounced recipient(s): %s%s" % (s["total"], ", ".join(
        "%s x%d%s" % (k, v["count"], " (%s)" % ", ".join(v["fault_ids"]) if v["fault_ids"] else "") for k, v in reasons[:6]),
        ours), evidence=dict(summary=s, recipients=records[:20], sources=sources[:20]))]


# ------------------------------------------------------------------ log vs live state
# Log IDs that a live check also decides (the catalog's live_check). When that check ran and found
# nothing, the log lines are history (a fault fixed since, still inside the log window): reported,
# never "fixed" again.


def merge_log(existing, log_found, live_checks, fixed_at=None):
    """Log findings to add: folded into a live finding of the same ID as evidence, or marked
    historical when the live check for that ID ran (live_checks) and passed, or when every line
    is older than the time a remediation fixed that ID (fixed_at: {id: epoch}, the fix ledger)."""
    by_id = {f["id"]: f for f in existing}
    fresh = []
    for f in log_found:
        if f["id"] in by_id:
            by_id[f["id"]]["evidence"]["log"] = f["evidence"]
            continue
        fixed = (fixed_at or {}).get(f["id"])
        last = _epoch(f["evidence"].get("last"))
        if cat.CATALOG[f["id"]]["live_check"] in live_checks:
            _historical(f, "the live check passes now (logged before a fix?)")
        elif fixed and last is not None and last <= fixed:
            _historical(f, "every line predates the fix applied at %s" % _iso(fixed))
        fresh.append(f)
    return fresh


def _historical(f, why):
    f.update({"class": "advisory", "severity": "info", "historical": True})
    f["fix"]["can_fix"] = False
    f["summary"] += "; " + why


def _epoch(iso):
    try:
        return _dt.datetime.strptime(iso, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=_dt.timezone.utc).timestamp()
    except (TypeError, ValueError):
        return None


# ------------------------------------------------------------------ correlation

def correlate(findings):
    """Mark symptoms explained by a root cause found too (the catalog's explained_by); order
    findings by severity then ID."""
    by_id = {f["id"]: f for f in findings}
    explains = {}
    for f in findings:
        # a log family finding (family.*, log_families) is advice outside the catalog: it explains nothing
        root = next((r for r in cat.CATALOG.get(f["id"], cat.FACTS)["explained_by"]
                     if r in by_id and not by_id[r].get("explains_nothing")), None)
        if root:
            f["root_cause"] = root
            explains.setdefault(root, set()).add(f["id"])
    for root, symptoms in sorted(explains.items()):
        by_id[root]["explains"] = sorted(symptoms)
        by_id[root]["summary"] += "; this explains %s" % ", ".join(sorted(symptoms))
    order = {s: i for i, s in enumerate(cat.SEVERITIES)}
    findings.sort(key=lambda f: (order.get(f["severity"], 9), f["id"]))
    return findings
