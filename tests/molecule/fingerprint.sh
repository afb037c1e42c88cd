#!/bin/bash
# What a --check (or diagnosis) run must leave identical on a lab host, as text, one line per
# item: checksums of the Postfix config and the chroot copies, resolv.conf, owners and modes,
# every queue file (queued, held or corrupt), the Postfix service state.
# Shared by every Molecule scenario (lab_run.fingerprint and the diagnose converge).
set -o pipefail
export LC_ALL=C
find /etc/postfix /var/spool/postfix/etc -type f -print0 2>/dev/null | sort -z | xargs -0 -r sha256sum
sha256sum /etc/resolv.conf
find /etc/postfix /etc/ssl/private /etc/aliases* -printf 'mode %p %u %g %m\n' 2>/dev/null | sort
# deferred <-> active is Postfix's own retry scheduling (qmgr moves a message while it retries),
# so those count as one state; a message put on hold, quarantined or gone is a change.
for q in maildrop incoming active deferred hold corrupt; do
  case $q in hold|corrupt) tag=$q ;; *) tag=queued ;; esac
  find "/var/spool/postfix/$q" -type f -printf "queue $tag %f\n" 2>/dev/null
done | sort
postfix status >/dev/null 2>&1 && echo "postfix running" || echo "postfix stopped"
