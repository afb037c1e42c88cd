# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""library/postfix_check.py with the real `postfix check` on scratch instances."""
from __future__ import annotations

import os

import pytest
from conftest import needs_postfix, queue_dir, run_module, sh, sha

pytestmark = needs_postfix


def test_clean_config_passes_and_changes_nothing(postfix_dir):
    r = run_module("postfix_check", {"config_dir": str(postfix_dir)})
    assert r["ok"] and not r["changed"] and r["chroot_updates"] == [], r


def test_warnings_are_returned(postfix_dir):
    # a world-writable file in the config directory is one of postfix check's own warnings
    (postfix_dir / "loose").write_text("x\n")
    (postfix_dir / "loose").chmod(0o666)
    r = run_module("postfix_check", {"config_dir": str(postfix_dir)})
    assert r["ok"], r
    assert any("loose" in w for w in r["warnings_found"]), r


def test_failing_check_fails_and_touches_nothing(postfix_dir):
    with open(postfix_dir / "main.cf", "a") as fh:
        fh.write("mail_owner = no-such-user-pfr\n")
    before = sha(postfix_dir / "main.cf")
    r = run_module("postfix_check", {"config_dir": str(postfix_dir)}, check=True)
    assert r["failed"] and not r["ok"] and "no-such-user-pfr" in r["msg"], r
    assert sha(postfix_dir / "main.cf") == before


def trixie_like(postfix_dir, tmp_path):
    """Make the scratch instance's `postfix check` sync a file into its chroot the way Debian
    trixie's does (post-install create-missing -> configure-instance.sh -> syncfiles.pl):
    daemon_directory points at the real daemons, with post-install wrapped."""
    real = sh("postconf", "-h", "daemon_directory").stdout.strip()
    daemons = tmp_path / "daemons"
    daemons.mkdir()
    daemons.chmod(0o755)
    for name in os.listdir(real):
        if name != "post-install":
            (daemons / name).symlink_to(os.path.join(real, name))
    src = tmp_path / "resolv.conf"
    src.write_text("nameserver 127.0.0.1\n")
    wrapper = daemons / "post-install"
    wrapper.write_text(f"""#!/bin/sh
{real}/post-install "$@" || exit
mkdir -p "$queue_directory/etc"
cmp -s {src} "$queue_directory/etc/resolv.conf" || {{
  cp {src} "$queue_directory/etc/resolv.conf"
  echo "updating {src} => $queue_directory//etc/resolv.conf"
}}
""")
    wrapper.chmod(0o755)
    with open(postfix_dir / "main.cf", "a") as fh:
        fh.write(f"daemon_directory = {daemons}\n")
    etc = queue_dir(postfix_dir) / "etc"
    etc.mkdir(exist_ok=True)
    (etc / "resolv.conf").write_text("nameserver 127.0.0.53\n")
    return etc / "resolv.conf"


@pytest.mark.skipif(os.geteuid() != 0, reason="postfix check of a scratch instance needs root")
def test_check_mode_puts_back_what_the_check_synced(postfix_dir, tmp_path):
    copy = trixie_like(postfix_dir, tmp_path)
    r = run_module("postfix_check", {"config_dir": str(postfix_dir)}, check=True)
    assert r["ok"] and r["changed"] and len(r["chroot_updates"]) == 1, r
    assert copy.read_text() == "nameserver 127.0.0.53\n"
    readonly = run_module("postfix_check", {"config_dir": str(postfix_dir), "readonly": True})
    assert readonly["ok"] and not readonly["changed"] and readonly["chroot_updates"], readonly
    assert copy.read_text() == "nameserver 127.0.0.53\n"
    # a real run syncs, says so, and the next one has nothing left to do
    real = run_module("postfix_check", {"config_dir": str(postfix_dir)})
    assert real["changed"] and copy.read_text() == "nameserver 127.0.0.1\n", real
    again = run_module("postfix_check", {"config_dir": str(postfix_dir)})
    assert not again["changed"] and again["chroot_updates"] == [], again


def test_bad_config_dir_is_refused():
    r = run_module("postfix_check", {"config_dir": "/etc/postfix;rm -rf /"})
    assert r["failed"] and "config_dir" in r["msg"]
