# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Headless Chromium (Debian's chromium package) for the report checks: a screenshot to look at
and a PDF whose text layer is what the page really shows (collapsed <details> stay hidden).

Chromium runs in its own empty network namespace (unshare --net): it cannot reach anything,
so the test also proves that the report needs nothing from the network.
"""
from __future__ import annotations

import os
import shutil
import subprocess

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-default-apps", "--hide-scrollbars"]


def chromium():
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return None


def _run(args, timeout=120):
    prefix = ["unshare", "--net"] if os.geteuid() == 0 and shutil.which("unshare") else []
    return subprocess.run(prefix + [chromium(), *FLAGS, *args], capture_output=True, text=True, timeout=timeout,
                          check=False)


def screenshot(html_path, png_path, width=1400, height=2400):
    proc = _run(["--screenshot=%s" % png_path, "--window-size=%d,%d" % (width, height), "file://%s" % html_path])
    if not os.path.exists(png_path):
        raise RuntimeError("chromium wrote no screenshot: %s" % proc.stderr[-2000:])
    return png_path


def visible_text(html_path, pdf_path):
    """The text of the page as printed (what a reader sees), via chromium's PDF and pdftotext."""
    proc = _run(["--print-to-pdf=%s" % pdf_path, "--no-pdf-header-footer", "file://%s" % html_path])
    if not os.path.exists(pdf_path):
        raise RuntimeError("chromium wrote no PDF: %s" % proc.stderr[-2000:])
    out = subprocess.run(["pdftotext", "-layout", pdf_path, "-"], capture_output=True, text=True, timeout=60,
                         check=True)
    return out.stdout


def png_size(path):
    """(width, height) from the PNG header: the screenshot is a real image of the asked size."""
    with open(path, "rb") as fh:
        head = fh.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
