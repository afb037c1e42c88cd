# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A minimal stdlib DNS client over UDP: enough to tell a live resolver from a dead one and to
read MX, A, PTR and TXT records through the host's own resolver.

Managed hosts cannot be assumed to have dnspython, and the module must run on any Python 3
with nothing installed, so this is a small RFC 1035 encoder/decoder.
"""
from __future__ import annotations

import ipaddress
import os
import socket
import struct
import time

TYPES = {"A": 1, "NS": 2, "PTR": 12, "MX": 15, "TXT": 16, "AAAA": 28, "SOA": 6}
RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}


class DNSError(Exception):
    pass


def encode_name(name):
    out = b""
    for label in name.rstrip(".").split(".") if name not in ("", ".") else []:
        raw = label.encode("idna") if not label.isascii() else label.encode()
        if not 0 < len(raw) < 64:
            raise DNSError("bad label in %r" % name)
        out += bytes([len(raw)]) + raw
    return out + b"\x00"


EDNS_PAYLOAD = 1232  # the DNS flag day 2020 size: big TXT answers fit without fragmentation


def build_query(name, qtype, qid=None, edns=True):
    """A query with RD set and, by default, an EDNS0 OPT record advertising EDNS_PAYLOAD bytes,
    so a long SPF TXT answer is not truncated to 512 bytes."""
    qid = qid if qid is not None else struct.unpack("!H", os.urandom(2))[0]
    header = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 1 if edns else 0)
    opt = b"\x00" + struct.pack("!HHIH", 41, EDNS_PAYLOAD, 0, 0) if edns else b""
    return qid, header + encode_name(name) + struct.pack("!HH", TYPES[qtype], 1) + opt


def _read_name(msg, off, depth=0):
    labels = []
    while True:
        if off >= len(msg) or depth > 20:
            raise DNSError("truncated name")
        n = msg[off]
        if n & 0xC0 == 0xC0:
            if off + 1 >= len(msg):
                raise DNSError("truncated pointer")
            ptr = ((n & 0x3F) << 8) | msg[off + 1]
            name, _unused = _read_name(msg, ptr, depth + 1)
            labels.append(name)
            return ".".join(x for x in labels if x), off + 2
        if n == 0:
            return ".".join(labels), off + 1
        labels.append(msg[off + 1:off + 1 + n].decode("ascii", "replace"))
        off += 1 + n


def parse_response(msg, qid):
    """(rcode_name, [(type, value)...]) of a response to query `qid`."""
    rcode, answers, _tc = parse_full(msg, qid)
    return rcode, answers


def parse_full(msg, qid):
    """(rcode_name, answers, truncated): truncated is the TC flag (retry over TCP)."""
    if len(msg) < 12:
        raise DNSError("short response")
    rid, flags, qd, an, _ns, _ar = struct.unpack("!HHHHHH", msg[:12])
    if rid != qid:
        raise DNSError("response id mismatch")
    off = 12
    for _unused in range(qd):
        _unused, off = _read_name(msg, off)
        off += 4
    answers = []
    for _unused in range(an):
        _unused, off = _read_name(msg, off)
        if off + 10 > len(msg):
            raise DNSError("truncated answer")
        rtype, _cls, _ttl, rdlen = struct.unpack("!HHIH", msg[off:off + 10])
        off += 10
        rdata = msg[off:off + rdlen]
        if rtype == 1 and rdlen == 4:
            answers.append(("A", socket.inet_ntop(socket.AF_INET, rdata)))
        elif rtype == 28 and rdlen == 16:
            answers.append(("AAAA", socket.inet_ntop(socket.AF_INET6, rdata)))
        elif rtype == 15:
            pref = struct.unpack("!H", rdata[:2])[0]
            answers.append(("MX", (pref, _read_name(msg, off + 2)[0])))
        elif rtype in (12, 2):
            answers.append(("PTR" if rtype == 12 else "NS", _read_name(msg, off)[0]))
        elif rtype == 16:
            parts, i = [], 0
            while i < len(rdata):
                ln = rdata[i]
                parts.append(rdata[i + 1:i + 1 + ln].decode("utf-8", "replace"))
                i += 1 + ln
            answers.append(("TXT", "".join(parts)))
        off += rdlen
    return RCODES.get(flags & 0x0F, str(flags & 0x0F)), answers, bool(flags & 0x0200)


def query(server, name, qtype, timeout=2.0, port=53):
    """Ask one server. Returns dict(ok, rcode, answers, ms, error). ok=False means no answer."""
    family = socket.AF_INET6 if ":" in server else socket.AF_INET
    start = time.monotonic()
    try:
        qid, packet = build_query(name, qtype)
    except (DNSError, UnicodeError) as exc:
        return dict(ok=False, rcode=None, answers=[], ms=0, error="bad query name: %s" % exc)
    sock = socket.socket(family, socket.SOCK_DGRAM)
    sock.settimeout(timeout)
    try:
        sock.connect((server, port))
        sock.send(packet)
        deadline = start + timeout
        while True:
            sock.settimeout(max(0.01, deadline - time.monotonic()))
            data = sock.recv(65535)
            try:
                rcode, answers, truncated = parse_full(data, qid)
            except DNSError as exc:
                if "id mismatch" in str(exc) and time.monotonic() < deadline:
                    continue
                raise
            via = "udp"
            if truncated:  # the answer did not fit: ask again over TCP, as a resolver library would
                rcode, answers = _query_tcp(family, server, port, packet, qid, max(0.1, deadline - time.monotonic()))
                via = "tcp"
            return dict(ok=True, rcode=rcode, answers=answers, ms=round((time.monotonic() - start) * 1000, 1), error=None,
                        via=via)
    except socket.timeout:
        return dict(ok=False, rcode=None, answers=[], ms=round((time.monotonic() - start) * 1000, 1),
                    error="no answer within %.1fs" % timeout)
    except (OSError, DNSError) as exc:
        return dict(ok=False, rcode=None, answers=[], ms=round((time.monotonic() - start) * 1000, 1), error=str(exc))
    finally:
        sock.close()


def _query_tcp(family, server, port, packet, qid, timeout):
    """The same query over TCP (RFC 1035 4.2.2: two-byte length prefix). Raises OSError/DNSError."""
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect((server, port))
        sock.sendall(struct.pack("!H", len(packet)) + packet)
        head = _recv_exact(sock, 2)
        data = _recv_exact(sock, struct.unpack("!H", head)[0])
    rcode, answers, _tc = parse_full(data, qid)
    return rcode, answers


def _recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise DNSError("TCP answer cut short")
        buf += chunk
    return buf


def parse_resolv_conf(text):
    """nameserver addresses and options of a resolv.conf text."""
    servers, options = [], {}
    for line in text.splitlines():
        parts = line.split("#", 1)[0].split(";", 1)[0].split()
        if len(parts) >= 2 and parts[0] == "nameserver":
            addr = parts[1].split("%", 1)[0]
            try:
                ipaddress.ip_address(addr)
            except ValueError:
                continue
            servers.append(addr)
        elif parts and parts[0] == "options":
            for opt in parts[1:]:
                k, _unused, v = opt.partition(":")
                options[k] = v or True
    return servers, options


def ptr_name(ip):
    return ipaddress.ip_address(ip).reverse_pointer


class Resolver:
    """Look records up through the first answering server (the host's own resolver order)."""

    def __init__(self, servers, timeout=2.0):
        self.servers = list(servers)
        self.timeout = timeout

    def lookup(self, name, qtype):
        """(values, rcode). values is None when the lookup failed: no server answered, or every
        answer was SERVFAIL/REFUSED/... A failed lookup is never "no record": only NOERROR (with or
        without records) and NXDOMAIN say what the zone holds."""
        failed = None
        for server in self.servers:
            res = query(server, name, qtype, self.timeout)
            if res["ok"] and res["rcode"] in ("NOERROR", "NXDOMAIN"):
                return [v for t, v in res["answers"] if t == qtype], res["rcode"]
            failed = res["rcode"] if res["ok"] else (failed or res["error"])
        return None, failed
