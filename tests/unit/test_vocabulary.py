# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""tests/vocabulary (issue 31): the extractor reads C the way the compiler would (joined
literals, escapes, macros, test-only code left out), the committed vocabulary is consistent, and
the sample lines and the coverage measure are built from it.

The C below is our own, written in Postfix's style for these cases; no network is used.
"""
from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path

import pytest
from ansible.module_utils import log_signatures as sig

VOCAB = Path(__file__).resolve().parents[1] / "vocabulary"


def _load(name):
    if str(VOCAB) not in sys.path:
        sys.path.insert(0, str(VOCAB))  # coverage.py imports samples.py as its neighbour
    spec = importlib.util.spec_from_file_location("vocab_" + name, VOCAB / (name + ".py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


extract = _load("extract")
samples = _load("samples")
coverage = _load("coverage")

UTIL_MAKEFILE = """SHELL        = /bin/sh
SRCS        = demo.c \\
        other.c
OBJS        = demo.o \\
        other.o
TESTSRC        = demo_test.c
LIB        = lib$(LIB_PREFIX)util$(LIB_SUFFIX)
"""
DEMO_C = r'''/*++
/* NAME
/*        demo 3
/* msg_warn("in a comment");
/*--*/
#include <sys_defs.h>

#define DEMO_CONF        "main.cf"
#define DEMO_WHERE        "file " DEMO_CONF
#define WARN_ONCE(flag, ...) do { \
        if ((flag) == 0) { \
            (flag) = 1; \
            msg_warn(__VA_ARGS__); \
        } \
    } while (0)

void    demo(const char *path, const char *fmt, va_list ap)
{
    const char *myname = "demo";
    static int once;

    msg_warn("%s: cannot open %s: %m", myname, path);
    msg_fatal("bad " DEMO_WHERE " entry: \"%s\" at "
              "line %d\n", path, 12);
    msg_fatal_status(EX_CONFIG, "exit %d", 1);
    (path ? msg_info : msg_warn) ("maybe %s", path);
    WARN_ONCE(once, "once %s", path);
    dict_surrogate(DICT_TYPE_DEMO, path, 0, 0, "open database %s: %m", path);
    msg_rate_delay(&stamp, 1, msg_info, "quiet %d", 1);
    msg_rate_delay(&stamp, 1, msg_warn, "loud %d", 1);
    msg_panic(path ? "yes %s" : "no %s", path);
    msg_error("%s: %s", myname, path);
    vmsg_warn(fmt, ap);
    msg_warn(fmt, path);
}

#ifdef TEST

int     main(int argc, char **argv)
{
    msg_fatal("test only");
}

#endif
'''
OTHER_C = r'''#ifndef TEST
void    other(void)
{
    msg_warn("built");
}
#else
void    other(void)
{
    msg_warn("test branch");
}
#endif
'''
SMTPD_MAKEFILE = """SRCS        = smtpd.c
OBJS        = smtpd.o
TESTSRC        = smtpd_token_test.c
PROG        = smtpd
LIBS        = ../../lib/lib$(LIB_PREFIX)util$(LIB_SUFFIX)
"""
SMTP_MAKEFILE = """SRCS        = smtp.c
OBJS        = smtp.o
PROG        = smtp
LIBS        = ../../lib/lib$(LIB_PREFIX)tls$(LIB_SUFFIX) ../../lib/lib$(LIB_PREFIX)util$(LIB_SUFFIX)
"""


@pytest.fixture
def tree(tmp_path):
    src = tmp_path / "postfix-9.9.1" / "src"
    files = {"util/Makefile.in": UTIL_MAKEFILE, "util/demo.c": DEMO_C, "util/other.c": OTHER_C,
             "util/demo_test.c": 'void t(void) { msg_warn("test source"); }\n',
             "util/unbuilt.c": 'void u(void) { msg_warn("no makefile builds me"); }\n',
             "smtpd/Makefile.in": SMTPD_MAKEFILE, "smtpd/smtpd.c": 'void s(void) { msg_warn("%s", "hello"); }\n',
             "smtpd/smtpd_token_test.c": 'void t(void) { msg_warn("token test"); }\n',
             "smtp/Makefile.in": SMTP_MAKEFILE, "smtp/smtp.c": 'void s(void) { msg_warn("%s", "hello"); }\n',
             "smtpstone/Makefile.in": "SRCS = smtp-sink.c\nOBJS = smtp-sink.o\nPROG = smtp-sink\n",
             "smtpstone/smtp-sink.c": 'void s(void) { msg_fatal("benchmark tool"); }\n'}
    for rel, text in files.items():
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_text(text)
    return src.parent


def test_extract_reads_formats_as_the_compiler_does(tree):
    doc = extract.document(tree, {"tree": "test"})
    got = {(t["severity"], t["format"]) for t in doc["templates"]}
    assert got == {
        ("warning", "%s: cannot open %s: %m"),
        ("fatal", 'bad file main.cf entry: "%s" at line %d\n'),  # joined, escapes decoded, macros expanded
        ("fatal", "exit %d"),
        ("warning", "maybe %s"),  # (cond ? msg_info : msg_warn)(...)
        ("warning", "once %s"),  # a macro handing __VA_ARGS__ to msg_warn
        ("error", "open database %s: %m"),  # dict_surrogate in a daemon
        ("warning", "loud %d"),  # msg_rate_delay with msg_warn; the msg_info one is not a warning
        ("panic", "yes %s"), ("panic", "no %s"),  # both sides of a ternary
        ("error", "%s: %s"),
        ("warning", "built"),  # #ifndef TEST
        ("warning", "%s"),  # smtpd.c and smtp.c: one template, two components
    }
    by = {t["format"]: t for t in doc["templates"]}
    assert by["%s: cannot open %s: %m"]["args"] == ['"demo"', "path"]  # myname's literal
    assert by["%s: cannot open %s: %m"]["sites"] == ["src/util/demo.c:22 msg_warn"]
    assert by['bad file main.cf entry: "%s" at line %d\n']["sites"] == ["src/util/demo.c:23 msg_fatal"]
    assert by["once %s"]["sites"] == ["src/util/demo.c:27 WARN_ONCE"]
    assert by["open database %s: %m"]["fatal_in_commands"] is True
    assert by["%s"]["components"] == ["smtp", "smtpd"]
    assert by["%s"]["sites"] == ["src/smtp/smtp.c:1 msg_warn", "src/smtpd/smtpd.c:1 msg_warn"]
    assert by["built"]["components"] == ["util"]
    assert doc["dynamic_sites"] == ["src/util/demo.c:34 msg_warn fmt"]  # vmsg_warn passes a va_list: not a site
    assert doc["programs"] == {"smtp": ["smtp", "lmtp"], "smtpd": ["smtpd"], "util": ["lmtp", "smtp", "smtpd"],
                               "tls": ["lmtp", "smtp"]}  # smtpstone left out
    assert doc["counts"] == {"templates": 12, "by_severity": {"warning": 6, "error": 2, "fatal": 2, "panic": 2},
                             "sites": 13, "dynamic_sites": 1}
    for t in doc["templates"]:
        assert t["id"] == extract.template_id(t["severity"], t["format"])


def test_extract_output_is_stable_json(tree, tmp_path):
    doc = extract.document(tree, {"tree": "test", "upstream_version": "9.9.1"})
    path = extract.write(doc, tmp_path)
    assert path.name == "postfix-9.9.json"
    first = path.read_bytes()
    assert json.loads(first) == doc
    extract.write(extract.document(tree, {"tree": "test", "upstream_version": "9.9.1"}), tmp_path)
    assert path.read_bytes() == first


def test_private_apt_sources_copy_the_machines_uris(tmp_path):
    parts = tmp_path / "sources.list.d"
    parts.mkdir()
    (parts / "debian.sources").write_text(
        "Types: deb\n# a comment\nURIs: http://mirror.invalid/debian\nSuites: bookworm bookworm-updates\n"
        "Components: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n"
        "Types: deb\nURIs: http://mirror.invalid/debian-security\nSuites: bookworm-security\nComponents: main\n\n"
        "Types: deb\nURIs: http://other.invalid/x\nSuites: stable\nComponents: main\n\n"
        "Types: deb\nEnabled: no\nURIs: http://off.invalid/debian\nSuites: bookworm\nComponents: main\n")
    (parts / "ignored.list").write_text("deb http://list.invalid/debian bookworm main\n")
    stanzas = extract.machine_stanzas(parts)
    assert [s["URIs"] for s in stanzas] == ["http://mirror.invalid/debian", "http://mirror.invalid/debian-security",
                                           "http://other.invalid/x"]
    text = extract.private_sources("trixie", stanzas, "bookworm")
    assert text == ("Types: deb-src\nURIs: http://mirror.invalid/debian\nSuites: trixie trixie-updates\nComponents: main\n"
                    "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n"
                    "Types: deb-src\nURIs: http://mirror.invalid/debian-security\nSuites: trixie-security\n"
                    "Components: main\n")
    opts = extract.apt_options(tmp_path)
    assert "Dir::Etc::sourceparts=-" in opts and "Dir::State::Lists=%s" % (tmp_path / "lists") in opts


def test_committed_vocabulary_is_consistent():
    files = sorted(VOCAB.glob("postfix-*.json"))
    assert files, "no committed vocabulary"
    for path in files:
        doc = json.loads(path.read_text())
        t = doc["templates"]
        assert path.name == "postfix-%s.json" % ".".join(doc["origin"]["upstream_version"].split(".")[:2])
        assert doc["counts"]["templates"] == len(t) > 1000
        assert doc["counts"]["by_severity"] == {s: sum(1 for x in t if x["severity"] == s) for s in extract.SEVERITIES}
        assert doc["counts"]["sites"] == sum(len(x["sites"]) for x in t)
        keys = [(extract.SEVERITIES.index(x["severity"]), x["format"]) for x in t]
        assert keys == sorted(keys) and len(set(keys)) == len(keys)
        assert all(x["id"] == extract.template_id(x["severity"], x["format"]) for x in t)
        assert all(c in doc["programs"] for x in t for c in x["components"])
        assert all(re.fullmatch(r"src/[\w-]+/[\w-]+\.c:\d+ \S+", s) for x in t for s in x["sites"])
        assert path.read_text() == extract.dumps(doc)  # written by extract.py, not by hand


def test_render_fills_every_conversion():
    line = samples.render("%s: open %s: %m (%d, %ld, %lu, %x, %o, %c, %.*s, %*s, 100%%)",
                          ['"demo"', "path", "lineno", "(long)len", "size", "mode", "mode", '"N"', "len", "name",
                           "5", "STR(buf)"])
    assert line == "demo: open /etc/postfix/main.cf: No such file or directory (12, 3, 10240000, 1a4, 644, N, " \
                   "example, example, 100%)"
    assert samples.render("connect to %s: %m", ["namaddr"]) == "connect to mail.example.com[192.0.2.10]: Connection refused"
    assert samples.render("%s: %s", ["state->queue_id", 'cond ? "timeout" : "problem"']) == "4ABC123DEF: timeout"
    assert samples.syslog_escape("a\nb\n") == "a#012b"


def test_samples_are_syslog_lines_of_the_programs_that_print_them():
    doc = json.loads((VOCAB / "postfix-3.7.json").read_text())
    lines = list(samples.samples("3.7"))
    assert {tid for tid, _sev, _line in lines} == {t["id"] for t in doc["templates"]}
    linked = {p for names in doc["programs"].values() for p in names}
    for _tid, sev, line in lines:
        assert re.match(r"^Dec  6 \d\d:\d\d:\d\d mx1 postfix/[\w-]+\[\d+\]: %s: " % sev, line), line
        is_postfix, daemon = sig.program_of(line)
        assert is_postfix is True and daemon in linked
    by_id = {t["id"]: t for t in doc["templates"]}
    raw = [line for tid, _s, line in lines if "%%" not in by_id[tid]["format"] and samples.PRINTF.search(line.split("]: ", 1)[1])]
    assert raw == []  # every conversion filled in
    lib = [line for tid, _s, line in lines if by_id[tid]["components"] == ["tls"] and "/tls_client.c:" in by_id[tid]["sites"][0]]
    assert lib and all("postfix/smtp[" in line for line in lib)  # a client-side TLS message under smtp


def test_coverage_counts_every_line_once():
    result, hits = coverage.measure("3.7")
    doc = json.loads((VOCAB / "postfix-3.7.json").read_text())
    assert result["templates"]["all"]["total"] == len(doc["templates"])
    for kind in ("templates", "lines"):
        for row in result[kind].values():
            assert sum(row[c] for c in coverage.CLASSES) + row["not_candidate"] == row["total"]
            assert row["not_candidate"] == 0  # every line carries warning:/error:/fatal:/panic:
    assert result["lines"]["all"]["id"] == sum(hits["ids"].values())


def test_coverage_classifies_through_the_scanner():
    from ansible.module_utils import log_scan
    sc = log_scan.Scanner(year_hint=2026, masked=False)
    known = "Dec  6 03:14:15 mx1 postfix/smtpd[1]: warning: database /etc/postfix/virtual.db is older than source file " \
            "/etc/postfix/virtual"
    assert coverage.classify(sc, known) == "id"
    assert "maps.stale_db" in sc.agg["ids"]
    assert coverage.classify(sc, "Dec  6 03:14:15 mx1 postfix/smtpd[1]: connect from x[192.0.2.1]") == "not_candidate"
    odd = "Dec  6 03:14:15 mx1 postfix/smtpd[1]: warning: zz_no_such_message_zz"
    assert coverage.classify(sc, odd) == "unclassified"
