# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Live checks on the managed host: resolvers, listeners, master process, TLS files, tables,
SASL sockets, outbound SMTP reachability. Pure functions over the file system and sockets;
commands (openssl) go through the `run` callable the module passes in (run_command, argv lists).
"""
from __future__ import annotations

import datetime as _dt
import grp
import os
import pwd
import re
import socket
import stat
import time

from . import dns_probe, safe_io
from . import postfix_maps as pm

MAP_REF = re.compile(r"(?<![\w/])(?:proxy:)?([a-z][a-z0-9]*):(/[^\s,]+)")


# master.cf service types and Postfix's own transports: not map types.
MASTER_TRANSPORTS = ("inet", "unix", "pass", "fifo", "local", "smtp", "lmtp", "relay", "virtual", "error", "retry",
                     "discard", "pipe")


# ------------------------------------------------------------------ resolvers
def resolvers(resolv_conf, chroot_copy, timeout=2.0, probe_name="."):
    """Query every nameserver of resolv.conf once; compare the chroot copy."""
    out = dict(path=resolv_conf, servers=[], chroot=None, error=None)
    try:  # regular files only: a FIFO given as resolv_conf must not hang the diagnosis
        text = safe_io.read_regular(resolv_conf, "resolv_conf", limit=1 << 20).decode("utf-8", "replace")
    except safe_io.InputError as exc:
        out["error"] = str(exc)
        return out
    servers, options = dns_probe.parse_resolv_conf(text)
    out["options"] = options
    if not servers:
        servers = ["127.0.0.1"]  # the resolver library's default when none is listed
        out["implicit_default"] = True
    for addr in servers:
        res = dns_probe.query(addr, probe_name, "NS" if probe_name == "." else "A", timeout=timeout)
        out["servers"].append(dict(address=addr, answers=res["ok"], rcode=res["rcode"], ms=res["ms"], error=res["error"]))
    if chroot_copy:
        info = dict(path=chroot_copy, exists=os.path.isfile(chroot_copy), same=None)
        if info["exists"]:
            try:
                chroot_text = safe_io.read_regular(chroot_copy, "chroot resolv.conf", limit=1 << 20).decode("utf-8", "replace")
                info["same"] = chroot_text == text
                info["servers"] = dns_probe.parse_resolv_conf(chroot_text)[0]
            except safe_io.InputError as exc:
                info["error"] = str(exc)
        out["chroot"] = info
    return out


# ------------------------------------------------------------------ sockets / processes
def listening_sockets(proc_root="/proc"):
    """[(port, address, inode)] of TCP sockets in LISTEN state (IPv4 and IPv6), from /proc/net."""
    out = []
    for name, fam in (("tcp", socket.AF_INET), ("tcp6", socket.AF_INET6)):
        try:
            with open(os.path.join(proc_root, "net", name)) as fh:
                next(fh, None)
                for line in fh:
                    parts = line.split()
                    if len(parts) < 10 or parts[3] != "0A":
                        continue
                    addr_hex, port_hex = parts[1].split(":")
                    raw = bytes.fromhex(addr_hex)
                    if fam == socket.AF_INET:
                        addr = socket.inet_ntop(fam, raw[::-1])
                    else:
                        addr = socket.inet_ntop(fam, b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4)))
                    out.append((int(port_hex, 16), addr, parts[9]))
        except (OSError, ValueError):
            continue
    return out


def listening_ports(proc_root="/proc"):
    """{port: [addresses]} of TCP sockets in LISTEN state (IPv4 and IPv6)."""
    ports = {}
    for port, addr, _inode in listening_sockets(proc_root):
        ports.setdefault(port, []).append(addr)
    return ports


def _socket_owners(inodes, proc_root="/proc"):
    """{inode: [pid]} for the given socket inodes, from the /proc/PID/fd links (no lsof or ss)."""
    want = {"socket:[%s]" % i: i for i in inodes}
    owners = {}
    for pid in os.listdir(proc_root):
        if not pid.isdigit():
            continue
        fd_dir = os.path.join(proc_root, pid, "fd")
        try:
            fds = os.listdir(fd_dir)
        except OSError:
            continue  # gone, or not ours to read
        for fd in fds:
            try:
                target = os.readlink(os.path.join(fd_dir, fd))
            except OSError:
                continue
            if target in want:
                owners.setdefault(want[target], []).append(int(pid))
    return owners


def _process(pid, proc_root="/proc"):
    info = dict(pid=pid, program=None, cmdline=None)
    try:
        with open(os.path.join(proc_root, str(pid), "comm"), "rb") as fh:
            info["program"] = fh.read().decode("utf-8", "replace").strip()
        with open(os.path.join(proc_root, str(pid), "cmdline"), "rb") as fh:
            info["cmdline"] = fh.read(4096).replace(b"\0", b" ").decode("utf-8", "replace").strip()
    except OSError:
        pass
    return info


def port_holders(ports, proc_root="/proc"):
    """Who listens on these TCP ports: [{port, address, pid, program, cmdline}], from
    /proc/net/tcp{,6} and /proc/*/fd. A socket whose owner cannot be seen has pid None."""
    ports = set(ports)
    found = [(port, addr, inode) for port, addr, inode in listening_sockets(proc_root) if port in ports]
    owners = _socket_owners({inode for _unused, _unused, inode in found}, proc_root)
    out = []
    for port, addr, inode in found:
        for pid in owners.get(inode) or [None]:
            who = _process(pid, proc_root) if pid else dict(pid=None, program=None, cmdline=None)
            out.append(dict(port=port, address=addr, **who))
    return sorted(out, key=lambda h: (h["port"], h["address"], h["pid"] or 0))


# What Debian's configure-instance.sh copies into the chroot before every start.
CHROOT_FILES = ("etc/localtime", "etc/services", "etc/resolv.conf", "etc/hosts", "etc/host.conf",
                "etc/nsswitch.conf", "etc/nss_mdns.config")


def chroot_files(queue_directory, root="/"):
    """State of the system files a chrooted Postfix daemon reads, in $queue_directory/etc: for
    each that exists on the host, missing (not in the chroot), stale (different bytes) or ok."""
    out = []
    for rel in CHROOT_FILES:
        source, copy = os.path.join(root, rel), os.path.join(queue_directory, rel)
        if not os.path.isfile(source):
            continue
        state = "ok"
        if not os.path.isfile(copy):
            state = "missing"
        else:
            try:
                with open(source, "rb") as a, open(copy, "rb") as b:
                    state = "ok" if a.read(1 << 22) == b.read(1 << 22) else "stale"
            except OSError:
                state = "unreadable"
        out.append(dict(name=rel, source=source, path=copy, state=state))
    return out


def master_status(queue_directory, proc_root="/proc"):
    """Is the Postfix master running? Reads $queue_directory/pid/master.pid and /proc."""
    pid_file = os.path.join(queue_directory, "pid", "master.pid")
    out = dict(pid_file=pid_file, pid=None, running=False)
    try:
        with open(pid_file) as fh:
            pid = int(fh.read().strip() or 0)
    except (OSError, ValueError):
        return out
    out["pid"] = pid
    try:
        with open(os.path.join(proc_root, str(pid), "stat")) as fh:
            proc_stat = fh.read()
        # "pid (comm) state ...": a zombie keeps its name until reaped (containers whose
        # PID 1 never reaps show this), so the state must be checked too.
        comm = proc_stat[proc_stat.index("(") + 1:proc_stat.rindex(")")]
        state = proc_stat[proc_stat.rindex(")") + 2:][:1]
        out["state"] = state
        out["running"] = comm == "master" and state not in ("Z", "X")
    except (OSError, ValueError):
        out["running"] = False
    return out


def tcp_connect(host, port, timeout):
    """(outcome, ms): 'open', 'refused', 'timeout' or the error text."""
    start = time.monotonic()
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return "open", round((time.monotonic() - start) * 1000, 1)
    except socket.timeout:
        return "timeout", round((time.monotonic() - start) * 1000, 1)
    except ConnectionRefusedError:
        return "refused", round((time.monotonic() - start) * 1000, 1)
    except OSError as exc:
        return exc.strerror or str(exc), round((time.monotonic() - start) * 1000, 1)


# ------------------------------------------------------------------ files
def file_info(path):
    try:
        st = os.stat(path)
    except OSError as exc:
        return dict(path=path, exists=False, error=exc.strerror)
    return dict(path=path, exists=True, owner=_user(st.st_uid), group=_group(st.st_gid),
                mode="%04o" % stat.S_IMODE(st.st_mode), uid=st.st_uid, gid=st.st_gid, mtime=st.st_mtime,
                is_socket=stat.S_ISSOCK(st.st_mode))


def _user(uid):
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def _group(gid):
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def readable_by(path, user):
    """Can `user` read `path` by its mode bits (owner, group incl. supplementary, other)?"""
    try:
        st = os.stat(path)
        pw = pwd.getpwnam(user)
    except (OSError, KeyError):
        return None
    if pw.pw_uid == 0:
        return True
    if st.st_uid == pw.pw_uid:
        return bool(st.st_mode & stat.S_IRUSR)
    groups = {pw.pw_gid} | {g.gr_gid for g in grp.getgrall() if user in g.gr_mem}
    if st.st_gid in groups:
        return bool(st.st_mode & stat.S_IRGRP)
    return bool(st.st_mode & stat.S_IROTH)


# ------------------------------------------------------------------ TLS
def _openssl_date(text):
    m = re.search(r"notAfter=(.+)", text)
    if not m:
        return None
    raw = " ".join(m.group(1).split())
    for fmt in ("%b %d %H:%M:%S %Y %Z", "%b %d %H:%M:%S %Y"):
        try:
            return _dt.datetime.strptime(raw, fmt).replace(tzinfo=_dt.timezone.utc).timestamp()
        except ValueError:
            continue
    return None


def tls_pair(cert, key, run, openssl, now=None):
    """Check one certificate/key pair: files, modes, expiry, key matches cert."""
    now = now or time.time()
    out = dict(cert=file_info(cert) if cert else None, key=file_info(key) if key else None,
               not_after=None, days_left=None, key_matches=None, errors=[])
    if not openssl or not cert or not out["cert"]["exists"]:
        return out
    rc, so, se = run([openssl, "x509", "-noout", "-enddate", "-in", cert])
    if rc != 0:
        out["errors"].append("cannot read certificate %s: %s" % (cert, (se or so).strip()[:200]))
        return out
    out["not_after"] = _openssl_date(so)
    if out["not_after"] is not None:
        out["days_left"] = int((out["not_after"] - now) // 86400)
    if key and out["key"] and out["key"]["exists"]:
        rc1, pub_cert, _unused = run([openssl, "x509", "-noout", "-pubkey", "-in", cert])
        rc2, pub_key, se2 = run([openssl, "pkey", "-pubout", "-in", key])
        if rc1 == 0 and rc2 == 0:
            out["key_matches"] = pub_cert.strip() == pub_key.strip()
        elif rc2 != 0:
            out["errors"].append("cannot read key %s: %s" % (key, (se2 or "").strip()[:200]))
    return out


# ------------------------------------------------------------------ tables
def table_refs(values):
    """(type, path) of file-based lookup tables referenced in parameter values, in order, unique."""
    seen, out = set(), []
    for value in values:
        for m in MAP_REF.finditer(value or ""):
            ref = (m.group(1), m.group(2))
            if ref not in seen and m.group(1) not in MASTER_TRANSPORTS:
                seen.add(ref)
                out.append(ref)
    return out


def table_state(map_type, path, mail_owner, expand):
    """Missing/stale/unreadable state of one referenced table."""
    path = expand(path)
    out = dict(type=map_type, source=path, source_exists=os.path.exists(path), indexes=pm.index_files(map_type, path),
               problem=None)
    if not out["indexes"]:
        if map_type not in pm.NON_INDEXED and map_type not in pm.INDEX_SUFFIXES:
            out["problem"] = "unknown"
        return out
    if not out["source_exists"] and not any(os.path.exists(i) for i in out["indexes"]):
        out["problem"] = "missing_source"
        return out
    reason = pm.staleness(map_type, path) if out["source_exists"] else None
    if reason and "missing" in reason:
        out["problem"], out["detail"] = "missing_index", reason
        return out
    for idx in out["indexes"]:
        ok = readable_by(idx, mail_owner)
        if ok is False:
            out["problem"] = "unreadable_index"
            out["detail"] = "%s is not readable by %s" % (idx, mail_owner)
            out["index_info"] = file_info(idx)
            return out
    if reason:
        # Postfix warns only when the source is over 100 s old; an edit in progress is not stale yet.
        src_age = time.time() - os.stat(path).st_mtime
        if src_age > 100:
            out["problem"], out["detail"] = "stale_index", reason
    return out
