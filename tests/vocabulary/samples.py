#!/usr/bin/env python3
# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Realistic syslog lines from Postfix's own templates (tests/vocabulary/postfix-*.json):
each format string filled with values picked by its arguments' names in the source and by the
words around each placeholder, under the syslog tag of a program that prints it.

    python3 tests/vocabulary/samples.py 3.7 > /tmp/postfix-3.7.log
    python3 tests/vocabulary/samples.py --all-programs 3.10   # every daemon linking a library
"""
from __future__ import annotations

import argparse
import errno
import json
import os
import re
import signal
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
PREFIX = {"warning": "warning: ", "error": "error: ", "fatal": "fatal: ", "panic": "panic: "}
MONTH_DAY = "Dec  6"
HOST = "mx1"

# Library code appears under the daemons that link it; one or two stand for all of them (the
# full list is the vocabulary file's "programs"). A file's own name can say which side it is.
LIBRARY_DAEMONS = {"util": ("smtpd",), "global": ("smtpd",), "master-lib": ("smtpd",), "dns": ("smtp",),
                   "tls": ("smtpd", "smtp"), "xsasl": ("smtpd",), "milter": ("smtpd", "cleanup")}
FILE_DAEMONS = [(re.compile(r"/(?:tls_client|xsasl_\w+_client|tls_proxy_client\w*)\.c:"), ("smtp",)),
                (re.compile(r"/(?:tls_server|xsasl_\w+_server|tls_proxy_server\w*)\.c:"), ("smtpd",)),
                (re.compile(r"/(?:tls_mgr|tls_scache|tls_prng\w*|tls_seed)\.c:"), ("tlsmgr",)),
                (re.compile(r"/(?:mail_queue|mail_open_ok|cleanup_strerror|mail_stream)\.c:"), ("cleanup",))]

PRINTF = re.compile(r"%([-+ #0']*)(\*|\d+)?(?:\.(\*|\d*))?(hh|h|ll|l|L|q|j|z|t)?([diouxXeEfgGaAcspm%])")

STRERROR = {
    "connect": errno.ECONNREFUSED, "refused": errno.ECONNREFUSED, "lock": errno.EAGAIN, "flock": errno.EAGAIN,
    "write": errno.EPIPE, "fsync": errno.EIO, "read": errno.EIO, "chown": errno.EPERM, "chmod": errno.EPERM,
    "bind": errno.EADDRINUSE, "socket": errno.EMFILE, "fork": errno.EAGAIN, "accept": errno.ECONNABORTED,
    "mkdir": errno.EACCES, "rename": errno.EXDEV, "timeout": errno.ETIMEDOUT, "exec": errno.ENOENT,
    "execvp": errno.ENOENT, "fstat": errno.EBADF, "setuid": errno.EPERM, "setgid": errno.EPERM, "unlink": errno.ENOENT,
}

# (pattern on the argument's source text, value). First match wins; the text is lowercased.
ARG_RULES = [
    (r"ldapsource|->parser->name|parser->name", "/etc/postfix/ldap-aliases.cf"),
    (r"dsn\.status|dsn_status|my_dsn", "5.1.1"),
    (r"policy_name|tls_level|->level\b", "may"),
    (r"protocols", ">=TLSv1.2"),
    (r"grade", "medium"),
    (r"sasl_method|mechanism", "PLAIN"),
    (r"\baction\b", "REJECT"),
    (r"\bacl\b|restriction", "permit_mynetworks"),
    (r"queue_id|\bqid\b|->id\b|^id$", "4ABC123DEF"),
    (r"namaddrport", "mail.example.com[192.0.2.10]:25"),
    (r"namaddr|client_name_addr|peer_name", "mail.example.com[192.0.2.10]"),
    (r"milter|m\.name", "inet:127.0.0.1:8891"),
    (r"sasl_username|sasl_user|login|username", "alice"),
    (r"sender|recipient|rcpt|orig_rcpt|mail_addr|\bextension\b", "user@example.com"),
    (r"dns_strtype", "MX"),
    (r"ldap_err2string", "Can't contact LDAP server"),
    (r"mysql_error", "Lost connection to MySQL server during query"),
    (r"pq_error|pqerror", "server closed the connection unexpectedly"),
    (r"sqlite3_errmsg", "unable to open database file"),
    (r"mai_strerror|gai_strerror", "Name or service not known"),
    (r"mdb_strerror", "MDB_MAP_FULL: Environment mapsize limit reached"),
    (r"sasl_strerror|xsasl_\w*strerror|sasl_errdetail", "authentication failure"),
    (r"dns_strerror|h_errno", "Host not found, try again"),
    (r"err_string|errmsg|strerror|error_text|why|reason|\berr\b|\bdetail", "Connection refused"),
    (r"hostaddr|\bip\b|inet_addr|->addr\b|^addr$|\baddr\.buf|client_addr", "192.0.2.10"),
    (r"server_host|hostname|\bhost\b|->host\b|helo|myhostname|\bsni\b|relay|nexthop|dest\b|site", "mail.example.com"),
    (r"domain|origin|mydomain", "example.com"),
    (r"map_spec|maps->title|table_name|\bmaps\b", "hash:/etc/postfix/virtual"),
    (r"dict_type|map_type|dict->type|dict\.type|->type\b|map_class|\bdict_class", "hash"),
    (r"mapname|dict_name|dict->name|dict\.name|->title|\btable\b|\bmap\b|dicts\[", "/etc/postfix/virtual"),
    (r"config_dir", "/etc/postfix"),
    (r"queue_dir|spool", "/var/spool/postfix"),
    (r"soname|dl_path", "/usr/lib/postfix/postfix-mysql.so"),
    (r"cert_type", "RSA"),
    (r"cert_file|cert\b", "/etc/ssl/certs/mail.example.com.pem"),
    (r"key_file", "/etc/ssl/private/mail.example.com.key"),
    (r"lock_file|lock_path", "/etc/postfix/virtual.lmdb"),
    (r"cleanup_path|queue_file|qfile|->path\b|path|vstream_path|file", "/etc/postfix/main.cf"),
    (r"mdalg|digest|algname|fingerprint", "sha256"),
    (r"queue_name|->queue\b|scan_info->queue|queue->name", "deferred"),
    (r"transport|service|->class\b|\bclass\b", "smtp"),
    (r"owner|default_privs|pw_name|\buser\b|mail_owner", "postfix"),
    (r"group|sgid", "postdrop"),
    (r"param_name|var_name|parameter", "smtpd_tls_cert_file"),
    (r"command|\bcmd\b", "/usr/bin/procmail"),
    (r"\bkey\b|->key\b|cache_key", "user@example.com"),
    (r"label", "SMTP"),
]
# The word(s) just before a placeholder in the format, when the argument said nothing.
CONTEXT_RULES = [
    (r"library problem$", "error:0A000126:SSL routines::unexpected eof while reading:../ssl/record/rec_layer_s3.c:322:"),
    (r"header text$", "Subject: hello"),
    (r"queue (?:id|file)$|message$", "4ABC123DEF"),
    (r"client$|from$", "mail.example.com[192.0.2.10]"),
    (r"(?:host|hostname|server|domain|helo|destination|relay|nexthop|to)$", "mail.example.com"),
    (r"(?:ip address|address|addr)$", "192.0.2.10"),
    (r"(?:sender|recipient|mailbox|user|local part)$", "user@example.com"),
    (r"(?:map|table|database|lookup table|dictionary)$", "hash:/etc/postfix/virtual"),
    (r"(?:file|directory|path|pathname|open|create|read|write|stat|lstat|unlink|rename|remove|chdir|lock|mkdir)$",
     "/etc/postfix/main.cf"),
    (r"(?:parameter|setting|variable|param)$", "smtpd_tls_cert_file"),
    (r"(?:service|transport|protocol)$", "smtp"),
    (r"(?:command|program)$", "/usr/bin/procmail"),
    (r"(?:type)$", "hash"),
    (r"(?:cipher|ciphers)$", "ECDHE-RSA-AES256-GCM-SHA384"),
    (r"(?:level)$", "may"),
]
# Numbers (%d, %ld, %u, %x, %o) by the argument's text, else by the words before the placeholder.
NUMBER_RULES = [
    (r"line|lineno", 12), (r"\bfd\b|->fd|sock|fd\b", 7), (r"pid", 12345), (r"uid|gid", 1001), (r"port", 25),
    (r"status|code|\brc\b|\bret\b|result", 2), (r"time|timeout|delay|ttl|sec", 300), (r"size|limit|max|bytes", 10240000),
    (r"len|count|num|\bn\b|todo|depth|level", 3), (r"mode|perm", 0o644), (r"family", 10), (r"errno|error", 13),
]


def _first(rules, text, default=None):
    for rx, value in rules:
        if re.search(rx, text):
            return value
    return default


def load(version):
    """The vocabulary of one version ("3.7") or of a JSON file's path."""
    path = Path(version) if version.endswith(".json") else HERE / ("postfix-%s.json" % version)
    return json.loads(path.read_text())


def daemons(template, programs, all_programs=False):
    """Syslog names to show this template under: the program directories that hold it, else
    one or two representatives of each library (all linking programs with all_programs)."""
    out = []
    for comp in template["components"]:
        names = programs.get(comp, [comp])
        if comp not in LIBRARY_DAEMONS:
            out.extend(names if all_programs else names[:1])
    if out and not all_programs:
        return sorted(set(out))
    for comp in template["components"]:
        if comp not in LIBRARY_DAEMONS:
            continue
        if all_programs:
            out.extend(programs.get(comp, []))
            continue
        linked = programs.get(comp, [])
        picked = next((names for rx, names in FILE_DAEMONS if any(rx.search(s) for s in template["sites"])), ())
        picked = [p for p in picked if p in linked] or [p for p in LIBRARY_DAEMONS[comp] if p in linked] or linked[:1]
        out.extend(picked)
    return sorted(set(out)) or ["master"]


def render(fmt, args, program="smtpd"):
    """printf as Postfix's vbuf_print does it (%m is strerror(errno)), with invented values."""
    out, pos, ai = [], 0, 0
    for m in PRINTF.finditer(fmt):
        out.append(fmt[pos:m.start()])
        pos = m.end()
        flags, width, prec, _length, conv = m.groups()
        before = fmt[:m.start()]
        if conv == "%":
            out.append("%")
            continue
        if conv == "m":
            out.append(os.strerror(_errno_for(before)))
            continue
        if width == "*":
            ai += 1
        if prec == "*":
            ai += 1
        arg = args[ai] if ai < len(args) else ""
        ai += 1
        out.append(value_for(conv, arg, before, fmt[pos:], program))
    out.append(fmt[pos:])
    return "".join(out)


def _errno_for(before):
    words = re.findall(r"[a-z_]+", before.lower())
    op = next((w for w in reversed(words[-4:]) if w in STRERROR), None)
    if op == "write" and re.search(r"file|queue|table|database|mailbox", before, re.I):
        return errno.ENOSPC  # writing a file: the disk is full; a socket or a pipe: the peer went away
    if op:
        return STRERROR[op]
    if re.search(r"permission|owner|mode", before, re.I):
        return errno.EACCES
    return errno.ENOENT


def value_for(conv, arg, before, after, program="smtpd"):
    """One value for one conversion, from the argument's source text and the format around it."""
    a = arg.lower()
    choice = re.search(r'\?\s*("(?:[^"\\]|\\.)*")', arg)  # cond ? "timeout" : "problem"
    if choice and conv in "sc":
        arg = choice.group(1)
    if re.search(r"myname|progname|argv\[0\]", a) and conv == "s":
        return program  # usage messages: the command's own name
    param = re.search(r"var_lmtp_smtp\((\w+)\)", a)
    if param and conv == "s":
        return "smtp_" + param.group(1)
    if conv in "diouxX":
        n = _first(NUMBER_RULES, a, None)
        if n is None:
            n = _first(NUMBER_RULES, _words(before, 2), 1)
        return {"o": "%o", "x": "%x", "X": "%X"}.get(conv, "%d") % n
    if conv in "eEfgGaA":
        return "0.5"
    if conv == "p":
        return "0x55d5c0a01234"
    if conv == "c":
        lit = _literal(arg)
        return lit[:1] if lit else "X"
    lit = _literal(arg)
    if lit is not None:
        return lit
    v = _first(ARG_RULES, a)
    if v is None:
        v = _first(CONTEXT_RULES, _words(before, 2))
    if v is None and before.strip() == "" and after.startswith(":"):
        v = "/etc/postfix/main.cf"  # "%s: ..." at the start: nearly always a file or table name
    if v is None:
        v = "example"
    return v


def _literal(arg):
    if len(arg) >= 2 and arg[0] == '"' and arg[-1] == '"':
        try:
            return json.loads(arg)
        except ValueError:
            return arg[1:-1]
    return None


def _words(text, n):
    return " ".join(re.findall(r"[a-z][a-z_-]*", text.lower())[-n:])


def syslog_escape(text):
    # rsyslog's defaults: a trailing newline dropped, other control characters as "#012"
    text = text.rstrip("\n")
    return re.sub(r"[\x00-\x1f]", lambda m: "#%03o" % ord(m.group()), text)


def samples(version, all_programs=False):
    """Yield (template_id, severity, line) for every template of one version, one line for each
    daemon that stands for it."""
    doc = load(version)
    programs = doc["programs"]
    n = 0
    for t in doc["templates"]:
        for daemon in daemons(t, programs, all_programs):
            message = syslog_escape(PREFIX[t["severity"]] + render(t["format"], t["args"], daemon))
            stamp = "%s %02d:%02d:%02d" % (MONTH_DAY, 3 + n // 3600 % 20, n // 60 % 60, n % 60)
            yield t["id"], t["severity"], "%s %s postfix/%s[%d]: %s" % (stamp, HOST, daemon, 10000 + n % 50000, message)
            n += 1


def main(argv=None):
    ap = argparse.ArgumentParser(description="Write a sample Postfix log from the vocabulary of one version.")
    ap.add_argument("version", help="3.5, 3.7, 3.10 (tests/vocabulary/postfix-VERSION.json) or a JSON path")
    ap.add_argument("--all-programs", action="store_true", help="a library's lines under every program that links it")
    ap.add_argument("--with-ids", action="store_true", help="prefix each line with its template ID and severity")
    args = ap.parse_args(argv)
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `samples.py 3.7 | head` ends quietly
    out = sys.stdout
    for tid, sev, line in samples(args.version, args.all_programs):
        out.write("%s\t%s\t%s\n" % (tid, sev, line) if args.with_ids else line + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
