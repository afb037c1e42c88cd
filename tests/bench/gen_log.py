# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A realistic Postfix mail log of a given size: mostly normal traffic (smtpd sessions, cleanup,
qmgr, smtp/local deliveries) with a few percent of fault lines in every cataloged wording (our
own fixture lines, tests/unit/fixtures/log_lines.py) and benign policy rejects.

Fast: one block of varied line bodies is built once, then written again and again with an
advancing timestamp, so 1 GB takes seconds and the timestamps stay inside a 7-day window.
"""
from __future__ import annotations

import datetime
import random
import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))
from fixtures.log_lines import CASES  # noqa: E402

LAB_VARS = Path(__file__).resolve().parents[2] / "roles" / "lab_faults" / "vars" / "main.yml"


def fault_lines():
    """(daemon, message) of every cataloged wording: the unit tests' cases and the lab's lines of
    each log ID (so an ID added to the catalog is in the benchmark's log too)."""
    lab = yaml.safe_load(LAB_VARS.read_text())["lab_faults_log_lines"]
    return [(d, m) for _fid, _label, d, m in CASES] + [(ln["daemon"], ln["message"]) for lines in lab.values()
                                                        for ln in lines]

HOST = "mx1"
DOMAINS = ["example.com", "example.net", "example.org", "corp.example", "partner.example", "shop.example"]


def _qid(rng):
    return "%05X%06X" % (rng.randrange(16**5), rng.randrange(16**6))


def _message(rng, n):
    """The lines of one normal message, as (daemon, text) without the syslog prefix."""
    qid = _qid(rng)
    ip = "198.51.100.%d" % rng.randrange(1, 255)
    client = "client%d.%s[%s]" % (rng.randrange(1000), rng.choice(DOMAINS), ip)
    sender = "user%d@%s" % (rng.randrange(5000), rng.choice(DOMAINS))
    rcpt = "rcpt%d@%s" % (rng.randrange(5000), rng.choice(DOMAINS))
    size = rng.randrange(800, 90000)
    relay = "mx%d.%s[203.0.113.%d]:25" % (rng.randrange(1, 4), rcpt.split("@")[1], rng.randrange(1, 255))
    delay = rng.random() * 3
    lines = [
        ("smtpd", "connect from %s" % client),
        ("smtpd", "%s: client=%s" % (qid, client)),
        ("cleanup", "%s: message-id=<%d.%d@%s>" % (qid, n, rng.randrange(10**9), rng.choice(DOMAINS))),
        ("qmgr", "%s: from=<%s>, size=%d, nrcpt=1 (queue active)" % (qid, sender, size)),
        ("smtpd", "disconnect from %s ehlo=2 starttls=1 mail=1 rcpt=1 data=1 quit=1 commands=7" % client),
    ]
    if rng.random() < 0.15:
        lines.append(("local", "%s: to=<%s>, relay=local, delay=%.2f, delays=0.01/0/0/%.2f, dsn=2.0.0, "
                      "status=sent (delivered to mailbox)" % (qid, rcpt, delay, delay)))
    else:
        lines.append(("smtp", "%s: to=<%s>, relay=%s, delay=%.2f, delays=0.1/0.01/0.3/%.2f, dsn=2.0.0, "
                      "status=sent (250 2.0.0 Ok: queued as %s)" % (qid, rcpt, relay, delay, delay, _qid(rng))))
    lines.append(("qmgr", "%s: removed" % qid))
    return lines


def block(seed=1, messages=20000, fault_share=0.03):
    """One block of line bodies ('postfix/DAEMON[PID]: text\\n'), faults mixed in at fault_share."""
    rng = random.Random(seed)
    faults = fault_lines()
    bodies = []
    for n in range(messages):
        for daemon, text in _message(rng, n):
            bodies.append("postfix/%s[%d]: %s\n" % (daemon, rng.randrange(1000, 65000), text))
            if rng.random() < fault_share:
                d, m = rng.choice(faults)
                bodies.append("postfix/%s[%d]: %s\n" % (d, rng.randrange(1000, 65000), m))
    return bodies


def write(path, size_mb, days=6, seed=1):
    """Write about size_mb MiB to path; returns (bytes, lines). Timestamps run over `days` days up to now."""
    target = size_mb * 2**20
    # at least ~24 blocks, so the timestamps spread over the days even in a small file
    bodies = block(seed, messages=int(max(200, min(20000, target // 900 // 24))))
    per_block = sum(len(b) for b in bodies) + len(bodies) * len("Nov 24 10:00:00 %s " % HOST)
    blocks = max(1, target // per_block + 1)
    now = datetime.datetime.now()
    start = now - datetime.timedelta(days=days)
    step = (now - start) / blocks
    written = lines = 0
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(blocks):
            ts = (start + step * i).strftime("%b %e %H:%M:%S") + " %s " % HOST
            chunk = "".join(ts + b for b in bodies)
            if written + len(chunk) > target:
                chunk = chunk[:chunk.rfind("\n", 0, target - written) + 1]
            fh.write(chunk)
            written += len(chunk)
            lines += chunk.count("\n")
            if written >= target:
                break
    return written, lines


def append(path, size_mb, seed=2):
    """Append about size_mb MiB of new traffic with the current time."""
    bodies = block(seed, messages=max(100, int(20000 * size_mb / 16)))
    ts = datetime.datetime.now().strftime("%b %e %H:%M:%S") + " %s " % HOST
    chunk = "".join(ts + b for b in bodies)[: int(size_mb * 2**20)]
    chunk = chunk[:chunk.rfind("\n") + 1]
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(chunk)
    return len(chunk)


if __name__ == "__main__":
    print(write(sys.argv[1], int(sys.argv[2])))
