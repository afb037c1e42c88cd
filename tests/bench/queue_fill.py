# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs INSIDE the bench container (python3 of the lab image): make the queue hold exactly N
messages, the same ones every time for a given N and seed.

  python3 queue_fill.py templates            # once: 4 real deferred messages to copy from
  python3 queue_fill.py fill N [seed]        # Postfix stopped: queue = N copies, then started

Copies of real queue files under new short queue IDs (enable_long_queue_ids = no), spread over
the hashed deferred/ directories; 30 % are bounces (null sender, MAILER-DAEMON), 5 % are held.
Their mtime (Postfix's next retry time) is a day ahead, so qmgr leaves them where they are.
"""
import glob
import os
import pwd
import random
import shutil
import subprocess
import sys
import time

SPOOL = "/var/spool/postfix"
TEMPLATES = "/var/lib/bench-templates"
SENDERS = [("bounce", "<>", 0.30), ("alice", "alice@example.com", 0.40), ("bob", "bob@example.net", 0.20),
           ("carol", "carol@example.org", 0.10)]


def sh(*argv):
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def templates():
    sh("postconf", "-e", "inet_interfaces=loopback-only", "inet_protocols=ipv4", "myhostname=bench.lab.test",
       "defer_transports=smtp", "queue_run_delay=1d", "minimal_backoff_time=1d", "maximal_backoff_time=1d",
       "maximal_queue_lifetime=30d", "bounce_queue_lifetime=30d")
    subprocess.run(["postfix", "start"], check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for name, sender, _share in SENDERS:
        msg = "From: %s\nSubject: bench %s\n\n%s\n" % (sender, name, "x" * 400)
        subprocess.run(["sendmail", "-f", sender, "user@remote.example"], input=msg.encode(), check=True)
    for _ in range(120):
        files = glob.glob(SPOOL + "/deferred/*/*")
        if len(files) >= len(SENDERS):
            break
        time.sleep(0.5)
    sh("postfix", "stop")
    os.makedirs(TEMPLATES, exist_ok=True)
    out = subprocess.run(["postqueue", "-j"], capture_output=True, text=True, check=False).stdout
    import json
    for line in out.splitlines():
        m = json.loads(line)
        name = next(n for n, s, _ in SENDERS if (s == "<>" and m["sender"] in ("", "MAILER-DAEMON")) or s == m["sender"])
        src = glob.glob("%s/deferred/*/%s" % (SPOOL, m["queue_id"]))[0]
        shutil.copy2(src, os.path.join(TEMPLATES, name))
    print(sorted(os.listdir(TEMPLATES)))


def fill(n, seed=1):
    subprocess.run(["postfix", "stop"], check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for q in ("maildrop", "incoming", "active", "deferred", "defer", "hold", "corrupt", "bounce", "flush"):
        for path in glob.glob("%s/%s/*" % (SPOOL, q)):
            if os.path.isdir(path):
                shutil.rmtree(path)
            else:
                os.unlink(path)
    pw = pwd.getpwnam("postfix")
    rng = random.Random(seed)
    later = time.time() + 86400
    names, weights = [s[0] for s in SENDERS], [s[2] for s in SENDERS]
    made = set()
    for i in range(n):
        qid = "%05X%06X" % (rng.randrange(0x10000, 0xFFFFF), i)
        made.add(qid)
        held = rng.random() < 0.05
        d = os.path.join(SPOOL, "hold") if held else os.path.join(SPOOL, "deferred", qid[0])
        os.makedirs(d, mode=0o700, exist_ok=True)
        os.chown(d, pw.pw_uid, pw.pw_gid)
        dst = os.path.join(d, qid)
        shutil.copyfile(os.path.join(TEMPLATES, rng.choices(names, weights)[0]), dst)
        os.chown(dst, pw.pw_uid, pw.pw_gid)
        os.chmod(dst, 0o700)
        os.utime(dst, (later, later))
    sh("postfix", "start")
    print(len(made))


if __name__ == "__main__":
    if sys.argv[1] == "templates":
        templates()
    else:
        fill(int(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else 1)
