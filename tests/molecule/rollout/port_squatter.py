# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs INSIDE a rollout lab host: a stand-in for another service that grabs port 25 the moment
Postfix lets go of it, but only while the watched files differ from what they were at start-up.

So a restart on the changed (fixed) configuration fails for real: master dies with
"bind 127.0.0.1 port 25: Address already in use" and `postfix start` exits non-zero, while a
start on the restored files succeeds. That is the restart-refused rollback case of issue 8.

  python3 port_squatter.py /etc/postfix/main.cf [more files]

It notes each grab and release in /var/log/port_squatter.log: Postfix 3.10 logs the bind error
nowhere (master dies before postlogd runs, and `postfix start` only says "mail system startup
failed"), so that note is the evidence of why the restart failed.
"""
import hashlib
import socket
import sys
import time


def digest(paths):
    h = hashlib.sha256()
    for path in paths:
        try:
            with open(path, "rb") as fh:
                h.update(fh.read())
        except OSError:
            h.update(b"missing")
    return h.hexdigest()


def note(text):
    with open("/var/log/port_squatter.log", "a") as fh:
        fh.write("%s %s\n" % (time.strftime("%H:%M:%S"), text))


def main(paths):
    original, held = digest(paths), None
    while True:
        changed = digest(paths) != original
        if changed and held is None:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", 25))
                sock.listen(1)
                held = sock
                note("holding 127.0.0.1 port 25")
            except OSError:  # Postfix still holds it
                sock.close()
        elif not changed and held is not None:
            held.close()
            held = None
            note("released 127.0.0.1 port 25")
        time.sleep(0.02)


if __name__ == "__main__":
    main(sys.argv[1:])
