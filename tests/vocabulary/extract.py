#!/usr/bin/env python3
# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Postfix's own vocabulary (issue 31): every warning, error, fatal and panic format string
in Postfix's C source, per Debian suite, written to tests/vocabulary/postfix-<major.minor>.json.

The source is Debian's: `apt-get source` (download only) through a private apt configuration
whose deb-src entries copy this machine's own URIs, then dpkg-source -x (Debian's patches
applied, as the binaries users run) or, without dpkg-dev, the upstream tarball unpacked here.

    python3 tests/vocabulary/extract.py                 # bullseye bookworm trixie
    python3 tests/vocabulary/extract.py --suite trixie
    python3 tests/vocabulary/extract.py --tree DIR      # an unpacked Postfix source tree
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SUITES = ("bullseye", "bookworm", "trixie")
SEVERITIES = ("warning", "error", "fatal", "panic")

# Functions that log a format string: name -> (index of the format argument, severity, prefix
# the function writes before the formatted text). msg.h declares the first five.
LOGGERS = {
    "msg_warn": (0, "warning", ""),
    "msg_error": (0, "error", ""),
    "msg_fatal": (0, "fatal", ""),
    "msg_fatal_status": (1, "fatal", ""),
    "msg_panic": (0, "panic", ""),
    # dict.h: logs with vmsg_error in daemons (their skeletons set dict_allow_surrogate), with
    # vmsg_fatal in commands; the table then answers every lookup with an error
    "dict_surrogate": (4, "error", ""),
    # msg_rate_delay(stamp, delay, log_fn, fmt, ...): the severity is that of log_fn
    "msg_rate_delay": (3, None, ""),
    # master_ent.c: msg_fatal("%s: %s", "master.cf: line N", text)
    "fatal_with_context": (0, "fatal", "%s: "),
    # postconf_master.c: msg_fatal("%s", text with newlines made spaces)
    "pcf_fix_fatal": (0, "fatal", ""),
    # mac_expand.c: vmsg_warn(fmt)
    "mac_exp_parse_error": (1, "warning", ""),
    # smtp_tls_policy.c: vmsg_warn(fmt) for the administrator's own DANE mistakes (NONDANE_CONFIG)
    "dane_incompat": (3, "warning", ""),
}
# Function-like macros that pass their format to one of these (MAC_EXP_ERR_RETURN,
# SET_ERROR_AND_WARN_ONCE) are found in the source: see macro_loggers().
# Function-pointer parameters called with a format, in the one file that declares each; the
# callers that log pass msg_warn (compat_level: msg_panic/msg_fatal only for built-in constants)
POINTER_LOGGERS = {("global/compat_level.c", "msg_fn"): "warning", ("global/dict_memcache.c", "log_func"): "warning"}
CONDITION_TOKENS = ("?", ":", "==", "!=", "&&", "||", "!", "(", ")", "<", ">", "<=", ">=")
SEVERITY_OF = {"msg_info": None, "msg_warn": "warning", "msg_error": "error", "msg_fatal": "fatal", "msg_panic": "panic"}
# Directories whose PROG differs from the installed name (oqmgr builds "qmgr", installed as oqmgr).
PROGRAM_NAMES = {"oqmgr": ("oqmgr",)}
# Benchmark and test tools: they write to the terminal, not to the mail log.
EXCLUDED_DIRS = ("fsstone", "smtpstone")
# Names a daemon binary also runs under (master.cf service names that become the syslog tag).
ALIASES = {"smtp": ("lmtp",), "bounce": ("defer", "trace"), "error": ("retry",), "proxymap": ("proxywrite",)}
LIBRARY_NAMES = {"util": "util", "global": "global", "dns": "dns", "tls": "tls", "master": "master-lib",
                 "xsasl": "xsasl", "milter": "milter"}

TOKEN = re.compile(r"""
 (?P<ws>[ \t\r\f\v]+|\\\r?\n)
|(?P<nl>\n)
|(?P<comment>/\*.*?\*/|//[^\n]*)
|(?P<str>L?"(?:[^"\\\n]|\\.|\\\n)*")
|(?P<chr>'(?:[^'\\\n]|\\.)*')
|(?P<id>[A-Za-z_]\w*)
|(?P<num>\.?\d(?:[eEpP][-+]|[\w.])*)
|(?P<punct>->|\+\+|--|<<=|>>=|<<|>>|<=|>=|==|!=|&&|\|\||\.\.\.|[-+*/%&|^!~<>=?:;,.(){}\[\]#])
|(?P<other>.)
""", re.S | re.X)
ESCAPE = re.compile(r"""\\(x[0-9a-fA-F]+|[0-7]{1,3}|.)""", re.S)
SIMPLE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "f": "\f", "v": "\v", "\n": ""}


def c_string(lit):
    """The value of one C string literal token (quotes included)."""
    body = lit[2:-1] if lit.startswith("L") else lit[1:-1]

    def one(m):
        e = m.group(1)
        if e[0] == "x":
            return chr(int(e[1:], 16))
        if e[0] in "01234567":
            return chr(int(e, 8))
        return SIMPLE_ESCAPES.get(e, e)
    return ESCAPE.sub(one, body)


class Tok:
    __slots__ = ("kind", "text", "line", "pos", "macro")

    def __init__(self, kind, text, line, pos=-1):
        self.kind, self.text, self.line, self.pos = kind, text, line, pos
        self.macro = None  # the name of the #define whose body holds this token

    def __repr__(self):
        return "%s:%r@%d" % (self.kind, self.text, self.line)


def tokenize(text):
    """C tokens without comments, with preprocessor lines handled: `#if(def) TEST` and `#if 0`
    branches (test programs) are dropped; a #define body stays in the stream (macros that log)
    followed by an "eod" token. Returns (tokens, string-valued macros, function-like macros:
    name -> (parameters, body))."""
    toks, macros = [], ({}, {})
    line, at_bol = 1, True
    stack = []  # per open #if: (skipping before it, this branch skipped, is a TEST/0 condition)
    skipping = False
    directive = None  # tokens of the preprocessor line being read
    for m in TOKEN.finditer(text):
        kind, value = m.lastgroup, m.group()
        start_line = line
        line += value.count("\n")
        if kind in ("ws", "comment"):
            continue
        if kind == "nl":
            if directive is not None:
                skipping = _directive(directive, stack, skipping, macros, toks)
                directive = None
            at_bol = True
            continue
        tok = Tok(kind, value, start_line, m.start())
        if at_bol and value == "#":
            directive = []
        elif directive is not None:
            directive.append(tok)
        elif not skipping:
            toks.append(tok)
        at_bol = False
    if directive is not None:
        _directive(directive, stack, skipping, macros, toks)
    return toks, macros[0], macros[1]


def _directive(d, stack, skipping, macros, toks):
    """Apply one preprocessor line; returns the new skipping state."""
    if not d:
        return skipping
    name, rest = d[0].text, d[1:]
    words = [t.text for t in rest]
    if name in ("if", "ifdef", "ifndef"):
        cond = None  # True: the branch is test-only code
        if name == "ifdef" and words[:1] == ["TEST"]:
            cond = True
        elif name == "ifndef" and words[:1] == ["TEST"]:
            cond = False
        elif name == "if" and (words == ["0"] or words[:4] == ["defined", "(", "TEST", ")"] and len(words) == 4):
            cond = True
        stack.append((skipping, cond))
        return skipping or cond is True
    if name in ("else", "elif"):
        if not stack:
            return skipping
        before, cond = stack[-1]
        if cond is None:
            return before
        stack[-1] = (before, not cond)
        return before or (not cond) is True
    if name == "endif":
        return stack.pop()[0] if stack else skipping
    if name == "define" and rest and not skipping and rest[0].kind == "id":
        body = rest[1:]
        if body and body[0].text == "(" and body[0].pos == rest[0].pos + len(rest[0].text):  # NAME( : function-like
            close = matching(body, 0)
            if close is None:
                return skipping
            params = [t.text for t in body[1:close] if t.text != ","]
            body = body[close + 1:]
            macros[1].setdefault(rest[0].text, (params, body))
        elif body and all(t.kind in ("str", "id") or t.text in ("(", ")") for t in body) and any(t.kind == "str" for t in body):
            macros[0].setdefault(rest[0].text, body)
        if body:
            for t in body:
                t.macro = rest[0].text
            toks.extend(body)
            toks.append(Tok("eod", "", body[-1].line))
    return skipping


def matching(toks, i):
    """Index of the bracket closing toks[i] (a "("), or None when an "eod" or the end comes first."""
    depth = 0
    for j in range(i, len(toks)):
        t = toks[j].text
        if toks[j].kind == "eod":
            return None
        if t in "([{" and toks[j].kind == "punct":
            depth += 1
        elif t in ")]}" and toks[j].kind == "punct":
            depth -= 1
            if depth == 0:
                return j
    return None


def split_args(toks):
    args, cur, depth = [], [], 0
    for t in toks:
        if t.kind == "punct" and t.text in "([{":
            depth += 1
        elif t.kind == "punct" and t.text in ")]}":
            depth -= 1
        if depth == 0 and t.text == "," and t.kind == "punct":
            args.append(cur)
            cur = []
        else:
            cur.append(t)
    args.append(cur)
    return args


def source_text(toks):
    out = ""
    for t in toks:
        if out and (out[-1].isalnum() or out[-1] in "_\"") and (t.text[:1].isalnum() or t.text[:1] in "_\""):
            out += " "
        out += t.text
    return out


class Macros:
    """String-valued #define macros of the whole tree; a file's own definition wins."""

    def __init__(self):
        self.by_file = {}
        self.anywhere = {}

    def add(self, path, macros):
        self.by_file[path] = macros
        for k, v in macros.items():
            self.anywhere.setdefault(k, v)

    def value(self, path, name, depth=0):
        body = self.by_file.get(path, {}).get(name) or self.anywhere.get(name)
        if body is None or depth > 10:
            return None
        return evaluate(body, self, path, depth + 1)


def evaluate(toks, macros, path, depth=0):
    """The string values a format argument can have: literals, string macros and ternaries of
    them. None when it is computed at run time."""
    while toks and toks[0].text == "(" and matching(toks, 0) == len(toks) - 1:
        toks = toks[1:-1]
    if not toks:
        return None
    depth_now, q = 0, None
    for i, t in enumerate(toks):
        if t.kind == "punct" and t.text in "([{":
            depth_now += 1
        elif t.kind == "punct" and t.text in ")]}":
            depth_now -= 1
        elif depth_now == 0 and t.text == "?" and q is None:
            q = i
    if q is not None:  # cond ? a : b (b may itself be a ternary)
        nest, colon = 0, None
        for i in range(q + 1, len(toks)):
            t = toks[i].text
            if t == "?":
                nest += 1
            elif t == ":":
                if nest == 0:
                    colon = i
                    break
                nest -= 1
        if colon is None:
            return None
        out = []
        for part in (toks[q + 1:colon], toks[colon + 1:]):
            vals = evaluate(part, macros, path, depth)
            out.extend(vals or ())
        return out or None
    text = ""
    for t in toks:
        if t.kind == "str":
            text += c_string(t.text)
        elif t.kind == "id":
            v = macros.value(path, t.text, depth)
            if v is None or len(v) != 1:
                return None
            text += v[0]
        else:
            return None
    return [text]


def macro_loggers(functions, loggers):
    """LOGGERS plus the function-like macros whose body hands one of their parameters to a
    logger as its format (a macro of such a macro too)."""
    out = dict(loggers)
    for _round in range(5):
        added = False
        for name, (params, body) in sorted(functions.items()):
            if name in out:
                continue
            for i, t in enumerate(body[:-1]):
                if t.kind != "id" or t.text not in out or body[i + 1].text != "(" or out[t.text][1] is None:
                    continue
                end = matching(body, i + 1)
                fmt_at, sev, prefix = out[t.text]
                args = split_args(body[i + 2:end]) if end is not None else []
                p = args[fmt_at][0].text if len(args) > fmt_at and len(args[fmt_at]) == 1 else None
                p = "..." if p == "__VA_ARGS__" else p
                if p in params:
                    out[name] = (params.index(p), sev, prefix)
                    added = True
                    break
        if not added:
            break
    return out


def find_calls(path, toks, macros, loggers=LOGGERS):
    """Yield (line, function, severity, format, args) for each logging call in one file."""
    strings = {}  # name -> last literal assigned to it so far (myname = "function")
    n = len(toks)
    for i, t in enumerate(toks):
        if t.kind == "id" and i + 2 < n and toks[i + 1].text == "=" and toks[i + 2].kind == "str" \
                and (i + 3 >= n or toks[i + 3].text in (";", ",")):
            strings[t.text] = toks[i + 2].text
        elif t.kind == "id" and i + 4 < n and toks[i + 1].text == "[" and toks[i + 2].text == "]" \
                and toks[i + 3].text == "=" and toks[i + 4].kind == "str":
            strings[t.text] = toks[i + 4].text
        if i + 1 >= n or toks[i + 1].text != "(":
            continue
        name = t.text
        callee = None
        if t.kind == "id" and name in loggers:
            prev = toks[i - 1].text if i else ""
            if prev in ("void", "NORETURN", "int", "*", "DICT", "static") or (prev == ")" and i > 1 and _after_printflike(toks, i)):
                continue  # a declaration or definition
            fmt_at, severity, prefix = loggers[name]
            callee = (fmt_at, [severity], prefix)
        elif t.kind == "id" and (path, name) in POINTER_LOGGERS:
            callee = (0, [POINTER_LOGGERS[(path, name)]], "")
        elif t.text == ")":
            # (cond ? msg_info : msg_warn)(fmt, ...)
            j = _opening(toks, i)
            names = [x.text for x in toks[j + 1:i]] if j is not None else []
            sevs = sorted({SEVERITY_OF[x] for x in names if x in SEVERITY_OF and SEVERITY_OF[x]}, key=SEVERITIES.index)
            if sevs and "?" in names and all(x.kind == "id" or x.text in CONDITION_TOKENS for x in toks[j + 1:i]):
                name = "/".join(x for x in names if x in SEVERITY_OF)
                callee = (0, sevs, "")
        if callee is None:
            continue
        end = matching(toks, i + 1)
        if end is None:
            continue
        args = split_args(toks[i + 2:end])
        fmt_at, sevs, prefix = callee
        if len(args) <= fmt_at:
            continue
        if name == "msg_rate_delay":
            sevs = [SEVERITY_OF.get(source_text(args[2]))]
            if sevs[0] is None:
                continue  # msg_info
        if name == "dane_incompat" and source_text(args[2]) != "NONDANE_CONFIG":
            continue  # the peer's fault: logged only with -v, or a DSN
        formats = evaluate(args[fmt_at], macros, path)
        if formats is None and t.macro is not None:
            continue  # a macro handing its own parameter on: macro_loggers() covers its uses
        rest = []
        for a in args[fmt_at + 1:]:
            value = macros.value(path, a[0].text) if len(a) == 1 and a[0].kind == "id" else None
            if len(a) == 1 and a[0].kind == "id" and a[0].text in strings:
                rest.append(strings[a[0].text])  # myname: the function's name
            elif value and len(value) == 1:  # VAR_MYHOSTNAME: "myhostname"
                rest.append(json.dumps(value[0]))
            else:
                rest.append(source_text(a))
        for sev in sevs:
            if formats is None:
                yield t.line, name, sev, None, [source_text(args[fmt_at])] + rest
                continue
            for f in formats:
                yield t.line, name, sev, prefix + f, rest


def _opening(toks, close):
    depth = 0
    for j in range(close, -1, -1):
        if toks[j].text == ")":
            depth += 1
        elif toks[j].text == "(":
            depth -= 1
            if depth == 0:
                return j
    return None


def _after_printflike(toks, i):
    j = _opening(toks, i - 1)
    return j is not None and j > 0 and toks[j - 1].text in ("PRINTFLIKE", "NORETURN")


# ---------------------------------------------------------------- the build: which file goes where
def make_vars(path):
    """Variables of a Makefile.in (continuation lines joined)."""
    text = path.read_text(errors="replace").replace("\\\n", " ")
    out = {}
    for m in re.finditer(r"^([A-Z_]+)\s*=(.*)$", text, re.M):
        out.setdefault(m.group(1), m.group(2).split())
    return out


def _stems(v, key):
    return {Path(x).stem for x in v.get(key, []) if x.endswith((".o", ".c"))}


def build_map(src):
    """(component of each built .c file, programs of each component). A program's component is
    its directory; a library's is its name (master-lib: the server skeletons in src/master)."""
    where, programs, links = {}, {}, {}
    for mk in sorted(src.glob("*/Makefile.in")):
        d = mk.parent.name
        if d in EXCLUDED_DIRS:
            continue
        v = make_vars(mk)
        test_only = {Path(x).stem for x in v.get("TESTSRC", [])}
        prog = [p for p in v.get("PROG", []) if not p.startswith("$")]
        prog = list(PROGRAM_NAMES.get(d, prog)) if prog else prog
        lib_files = _stems(v, "LIB_OBJ") | _stems(v, "MAP_OBJ") | (_stems(v, "OBJS") | _stems(v, "SRCS") if not prog else set())
        prog_files = (_stems(v, "OBJS") | _stems(v, "SRCS")) - _stems(v, "LIB_OBJ") if prog else set()
        if v.get("LIB") and d in LIBRARY_NAMES:
            for s in lib_files - test_only:
                where[d + "/" + s + ".c"] = LIBRARY_NAMES[d]
        if prog:
            names = []
            for p in prog:
                names += [p, *ALIASES.get(p, ())]
            programs[d] = list(dict.fromkeys(names))  # the directory's own program first
            for s in prog_files - test_only:
                where.setdefault(d + "/" + s + ".c", d)
            libs = re.findall(r"lib(?:\$\(LIB_PREFIX\))?(\w+?)(?:\$\(LIB_SUFFIX\)|\.a)", " ".join(v.get("LIBS", [])))
            for lib in libs:
                if lib in LIBRARY_NAMES:
                    links.setdefault(LIBRARY_NAMES[lib], set()).update(programs[d])
    for lib, progs in links.items():
        programs[lib] = sorted(progs)
    return where, programs


def extract_tree(tree):
    """Templates of one unpacked Postfix tree: (templates, programs, dynamic sites)."""
    src = Path(tree) / "src"
    where, programs = build_map(src)
    macros, parsed, functions = Macros(), {}, {}
    for c in sorted(src.glob("*/*.[ch]")):
        rel = c.parent.name + "/" + c.name
        toks, defs, fdefs = tokenize(c.read_text(encoding="latin-1"))
        macros.add(rel, defs)
        for k, v in fdefs.items():
            functions.setdefault(k, v)
        if rel in where:
            parsed[rel] = toks
    loggers = macro_loggers(functions, LOGGERS)
    templates, dynamic = {}, []
    for rel, toks in sorted(parsed.items()):
        for line, func, sev, fmt, args in find_calls(rel, toks, macros, loggers):
            site = "src/%s:%d %s" % (rel, line, func)
            if fmt is None:
                dynamic.append(site + " " + args[0])
                continue
            rec = templates.get((sev, fmt))
            if rec is None:
                rec = templates[(sev, fmt)] = {"id": template_id(sev, fmt), "severity": sev, "format": fmt,
                                               "components": set(), "sites": [], "args": args}
                if func == "dict_surrogate":
                    rec["fatal_in_commands"] = True
            rec["components"].add(where[rel])
            rec["sites"].append(site)
    out = []
    for rec in templates.values():
        rec["components"] = sorted(rec["components"])
        out.append(rec)
    out.sort(key=lambda r: (SEVERITIES.index(r["severity"]), r["format"], r["id"]))
    return out, programs, dynamic


def template_id(severity, fmt):
    """Stable across versions: the same text at the same severity is the same template."""
    return hashlib.sha1(("%s\0%s" % (severity, fmt)).encode("utf-8", "surrogateescape")).hexdigest()[:12]


# ---------------------------------------------------------------- fetching Debian's source
def machine_stanzas(parts="/etc/apt/sources.list.d"):
    """deb822 stanzas of this machine's *.sources files (dicts of field -> value)."""
    stanzas = []
    for f in sorted(Path(parts).glob("*.sources")):
        cur, key = {}, None
        for raw in f.read_text().splitlines() + [""]:
            if raw.startswith("#"):
                continue
            if not raw.strip():
                if cur:
                    stanzas.append(cur)
                cur, key = {}, None
            elif raw[0] in " \t" and key:
                cur[key] += "\n" + raw
            elif ":" in raw:
                key, _, value = raw.partition(":")
                key = key.strip()
                cur[key] = value.strip()
    return [s for s in stanzas if s.get("Enabled", "yes").lower() != "no" and s.get("URIs")]


def codename():
    for raw in Path("/etc/os-release").read_text().splitlines():
        if raw.startswith("VERSION_CODENAME="):
            return raw.split("=", 1)[1].strip().strip('"')
    return None


def private_sources(suite, stanzas, own):
    """deb822 deb-src entries for `suite`: each stanza of this machine, its suites renamed from
    this machine's codename to `suite` (bookworm-security -> trixie-security)."""
    out = []
    for s in stanzas:
        suites = []
        for name in s.get("Suites", "").split():
            if own and (name == own or name.startswith(own + "-")):
                suites.append(suite + name[len(own):])
        if not suites:
            continue
        entry = ["Types: deb-src", "URIs: " + s["URIs"], "Suites: " + " ".join(suites),
                 "Components: " + s.get("Components", "main")]
        if s.get("Signed-By"):
            entry.append("Signed-By: " + s["Signed-By"])
        out.append("\n".join(entry))
    return "\n\n".join(out) + "\n"


def apt_options(root):
    return ["-o", "Dir::Etc::sourcelist=%s" % (root / "postfix.sources"), "-o", "Dir::Etc::sourceparts=-",
            "-o", "Dir::State::Lists=%s" % (root / "lists"), "-o", "Dir::State::status=%s" % (root / "status"),
            "-o", "Dir::Cache=%s" % (root / "cache"), "-o", "Dir::Cache::archives=%s" % (root / "archives"),
            "-o", "APT::Sandbox::User=root", "-q"]


def fetch(suite, work, stanzas, own):
    """Download and unpack Debian's postfix source of `suite`; returns (tree, origin)."""
    root = work / suite
    for d in ("lists/partial", "cache", "archives/partial", "src"):
        (root / d).mkdir(parents=True, exist_ok=True)
    (root / "status").write_text("")
    sources = private_sources(suite, stanzas, own)
    if not sources.strip():
        raise RuntimeError("no deb822 source of this machine names its own suite %r" % own)
    (root / "postfix.sources").write_text(sources)
    opts = apt_options(root)
    run(["apt-get", *opts, "update"], root, check=False)  # a missing -updates suite is no failure
    show = run(["apt-cache", *opts, "showsrc", "postfix"], root).stdout
    versions = re.findall(r"^Version: (\S+)", show, re.M)
    if not versions:
        raise RuntimeError("no postfix source package listed")
    errors = []
    for version in sorted(set(versions), key=_debian_key, reverse=True):  # the newest the archive still serves
        got = run(["apt-get", *opts, "source", "--download-only", "postfix=" + version], root / "src", check=False)
        if got.returncode == 0:
            break
        errors.append("postfix=%s: %s" % (version, "; ".join(x for x in got.stderr.splitlines() if x.startswith("E:"))))
    else:
        raise RuntimeError("apt-get source failed for every version listed:\n%s" % "\n".join(errors))
    upstream = version.split(":")[-1].rsplit("-", 1)[0]
    orig = next((root / "src").glob("postfix_%s.orig.tar.*" % upstream))
    tree = root / "src" / ("postfix-" + upstream)
    dsc = next((root / "src").glob("*.dsc"))
    if shutil.which("dpkg-source"):
        run(["dpkg-source", "--no-check", "-x", dsc.name, tree.name], root / "src")
        patched = True
    else:  # upstream source only
        with tarfile.open(orig) as tf:
            if hasattr(tarfile, "data_filter"):
                tf.extractall(root / "src", filter="data")
            else:
                for m in tf.getmembers():
                    if m.name.startswith("/") or ".." in Path(m.name).parts or not (m.isfile() or m.isdir()):
                        raise RuntimeError("%s: unsafe member %r" % (orig.name, m.name))
                tf.extractall(root / "src")  # noqa: S202 (members checked above)
        patched = False
    origin = {"suite": suite, "source_package": "postfix", "debian_version": version, "upstream_version": upstream,
              "orig_tarball": orig.name, "orig_sha256": hashlib.sha256(orig.read_bytes()).hexdigest(),
              "debian_patches_applied": patched}
    return tree, origin


def _debian_key(v):
    # enough of Debian's ordering for the versions one suite lists (3.5.23-0+deb11u1 < 3.5.25-0+deb11u1)
    return [int(x) if x.isdigit() else x for x in re.split(r"(\d+)", v)]


def run(argv, cwd, check=True):
    proc = subprocess.run(argv, cwd=str(cwd), capture_output=True, text=True, env=dict(os.environ, LC_ALL="C"))
    if check and proc.returncode:
        raise RuntimeError("%s failed (%d): %s" % (" ".join(argv[:1] + argv[-2:]), proc.returncode, proc.stderr.strip()[-500:]))
    return proc


# ---------------------------------------------------------------- output
def document(tree, origin):
    templates, programs, dynamic = extract_tree(tree)
    by_sev = {s: sum(1 for t in templates if t["severity"] == s) for s in SEVERITIES}
    return {
        "origin": origin,
        "note": "Format strings of Postfix's msg_warn/msg_error/msg_fatal/msg_fatal_status/msg_panic calls and of "
                "the functions that log through them, one object per distinct (severity, format). components: "
                "the program directories or libraries whose code holds it; programs: who links each library.",
        "counts": {"templates": len(templates), "by_severity": by_sev,
                   "sites": sum(len(t["sites"]) for t in templates), "dynamic_sites": len(dynamic)},
        "programs": programs,
        "dynamic_sites": sorted(dynamic),
        "templates": templates,
    }


def dumps(doc):
    """JSON with one template (one program list) a line: small files, readable diffs."""
    def one(v):
        return json.dumps(v, ensure_ascii=False)
    parts = []
    for key, value in doc.items():
        if isinstance(value, dict) and value and all(isinstance(v, list) for v in value.values()):
            inner = ",\n".join("  %s: %s" % (one(k), one(v)) for k, v in value.items())
            parts.append(" %s: {\n%s\n }" % (one(key), inner))
        elif isinstance(value, list) and value:
            parts.append(" %s: [\n%s\n ]" % (one(key), ",\n".join("  " + one(v) for v in value)))
        else:
            parts.append(" %s: %s" % (one(key), one(value)))
    return "{\n" + ",\n".join(parts) + "\n}\n"


def write(doc, out_dir):
    up = doc["origin"]["upstream_version"]
    path = Path(out_dir) / ("postfix-%s.json" % ".".join(up.split(".")[:2]))
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(dumps(doc))
    os.replace(tmp, path)
    return path


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--suite", action="append", choices=SUITES, help="Debian suite (repeatable; default: all three)")
    ap.add_argument("--tree", help="extract from this unpacked Postfix source tree instead of downloading")
    ap.add_argument("--out", default=str(HERE), help="directory for postfix-<version>.json (default: %(default)s)")
    ap.add_argument("--keep", help="download and unpack here, and keep it (default: a temporary directory)")
    args = ap.parse_args(argv)
    if args.tree:
        tree = Path(args.tree)
        up = re.search(r"(\d+\.\d+(?:\.\d+)?)", tree.resolve().name)
        origin = {"tree": tree.resolve().name, "upstream_version": up.group(1) if up else "unknown"}
        path = write(document(tree, origin), args.out)
        print("%s: %s" % (path, json.dumps(json.loads(path.read_text())["counts"])))
        return 0
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="postfix-vocab."))
    work.mkdir(parents=True, exist_ok=True)
    stanzas, own, failed = machine_stanzas(), codename(), []
    try:
        for suite in args.suite or SUITES:
            try:
                tree, origin = fetch(suite, work, stanzas, own)
            except (RuntimeError, StopIteration, OSError) as e:
                print("%s: %s" % (suite, e or "no source files downloaded"), file=sys.stderr)
                failed.append(suite)
                continue
            path = write(document(tree, origin), args.out)
            print("%s: %s" % (path, json.dumps(json.loads(path.read_text())["counts"])))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
