# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Postfix.check(readonly=True): a diagnosis leaves the chroot as it found it."""
from __future__ import annotations

import conftest  # noqa: F401  (puts module_utils on ansible.module_utils)


def test_readonly_check_puts_the_chroot_back(tmp_path):
    """Debian trixie's `postfix check` syncs /etc files into the chroot; Postfix.check(readonly=True)
    (used by the diagnosis) restores what it rewrote and removes what it added. Seen on trixie:
    the diagnose scenario's fingerprint caught the rewritten chroot resolv.conf."""
    import os

    from ansible.module_utils.postfix_cmd import restore_chroot, snapshot_chroot

    etc = tmp_path / "etc"
    etc.mkdir()
    (etc / "resolv.conf").write_text("nameserver 127.0.0.53\n")
    os.utime(etc / "resolv.conf", (1000000000, 1000000000))
    saved = snapshot_chroot(str(tmp_path))
    (etc / "resolv.conf").write_text("nameserver 127.0.0.1\n")  # what the check's sync does
    (etc / "services").write_text("smtp 25/tcp\n")
    restore_chroot(*saved)
    assert (etc / "resolv.conf").read_text() == "nameserver 127.0.0.53\n"
    assert os.stat(etc / "resolv.conf").st_mtime == 1000000000
    assert not (etc / "services").exists()
