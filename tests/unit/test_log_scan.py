# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Log signatures and the incremental scanner, on our own fixture lines (one per documented wording)."""
from __future__ import annotations

import gzip
import os
import re
import time
from pathlib import Path

import pytest
from ansible.module_utils import diagnose_rules as rules
from ansible.module_utils import fault_catalog, log_scan
from ansible.module_utils import log_signatures as sig
from fixtures.log_lines import CASES, as_log

SHARED = Path(__file__).resolve().parents[3] / "shared"


def ids_of(lines, **opts):
    agg = log_scan.scan_lines(lines)
    return {f["id"] for f in rules.log_findings(agg, opts)}


@pytest.mark.parametrize("case", CASES, ids=["%s-%s" % (c[0], c[1]) for c in CASES])
def test_each_wording_gives_its_id(case):
    fid, _label, _daemon, _msg = case
    line = as_log([case])[0]
    assert ids_of([line], log_min_count=1) == ({fid} if fid else set())


def test_sporadic_ids_need_log_min_count_lines():
    case = next(c for c in CASES if c[0] == "sasl.lost_after_auth")
    assert ids_of(as_log([case]) * 4) == set()
    assert ids_of(as_log([case]) * 5) == {"sasl.lost_after_auth"}
    assert ids_of(as_log([case]) * 2, log_min_count=2) == {"sasl.lost_after_auth"}


def catalog_log_ids():
    """IDs whose evidence column in FAULTS.md includes `log` (falls back to the signature list)."""
    faults = SHARED / "FAULTS.md"
    if not faults.is_file():
        return sorted({fid for fid, _k, _r in sig.SIGNATURES})
    out = []
    for row in faults.read_text().splitlines():
        m = re.match(r"^\| ([a-z0-9]+\.[a-z0-9_]+) \| (.*?) \|", row)
        if m and re.search(r"(^|; )log:", m.group(2)):
            out.append(m.group(1))
    return out


def test_every_log_row_of_the_catalog_has_a_signature_and_a_fixture():
    log_ids = catalog_log_ids()
    assert len(log_ids) >= 25
    with_signature = {fid for fid, _k, _r in sig.SIGNATURES}
    with_fixture = {c[0] for c in CASES}
    derived = {"timeout.mx_rotation"}  # built from several timeout lines, tested below
    assert set(log_ids) - with_signature - derived == set()
    assert set(log_ids) - with_fixture - derived == set()


def test_catalog_covers_every_faults_md_id():
    faults = SHARED / "FAULTS.md"
    if not faults.is_file():
        pytest.skip("shared/FAULTS.md not present")
    ids = re.findall(r"^\| ([a-z0-9]+\.[a-z0-9_]+) \|", faults.read_text(), re.M)
    # FAULTS.md is where the catalog started; IDs found in the field since (issue 16's chroot,
    # issue 17's table failures, invalid settings and crashing daemons, issue 31's remote refusals)
    # are the catalog's own.
    assert ids and set(ids) <= set(fault_catalog.CATALOG)
    assert set(fault_catalog.CATALOG) - set(ids) <= {"service.chroot_incomplete", "maps.lookup_failed",
                                                     "config.invalid_setting", "service.daemon_failure",
                                                     "config.change_window_expired", "delivery.remote_refusal"} | {
        # issue 31 item 3 (recurring field messages) and issue 32 (our rate too high for one provider)
        "filter.milter_unreachable", "tls.disabled", "sasl.no_mechanisms", "sasl.sasldb_missing",
        "sasl.client_password_maps_missing", "queue.maildrop_permission", "service.port_in_use",
        "service.daemon_dying", "delivery.rate_limited",
        "config.domain_in_two_classes", "config.unknown_restriction", "config.bad_value", "config.overriding_entry",
        "config.relay_restrictions_missing", "config.inet_interfaces_not_local", "config.dynamicmaps_unsafe",
        "config.postmaster_alias_missing", "maps.regex_syntax", "maps.proxy_unapproved", "maps.backend_unreachable",
        "maps.backend_bind_failed"}


def test_mx_rotation_from_several_timeouts():
    lines = ["Nov 24 10:00:0%d mx1 postfix/smtp[9]: connect to mx%d.far.example[192.0.2.%d]:25: Connection timed out" % (i, i, i)
             for i in range(1, 4)]
    found = ids_of(lines)
    assert {"dns.mx_connect_timeout", "timeout.mx_rotation"} <= found


def test_relay_denied_only_for_internal_networks():
    line = as_log([c for c in CASES if c[1] == "relay denied from the Internet"])[0]
    assert ids_of([line]) == set()
    assert ids_of([line], internal_networks=["203.0.113.0/24"]) == {"relay.access_denied"}
    internal = as_log([c for c in CASES if c[1] == "internal client"])[0]
    assert ids_of([internal], internal_networks=["172.16.0.0/12"]) == set()


def test_evidence_counts_times_and_masks():
    lines = as_log([c for c in CASES if c[0] == "sasl.auth_failed"])
    f = next(f for f in rules.log_findings(log_scan.scan_lines(lines), {"log_min_count": 1}) if f["id"] == "sasl.auth_failed")
    ev = f["evidence"]
    assert ev["count"] == 4
    assert ev["first"].endswith("Z") and ev["first"] <= ev["last"]
    assert not any("gina@" in s for s in ev["samples"])
    assert any("sasl_username=g***" in s for s in ev["samples"])
    assert {"value": "192.0.2.77", "count": 2} in ev["top"]["ip"]


def write(path, lines, mtime=None):
    with open(path, "a") as fh:
        fh.write("".join(line + "\n" for line in lines))
    if mtime:
        os.utime(path, (mtime, mtime))


def test_incremental_rerun_reads_only_appended_bytes(tmp_path):
    log = tmp_path / "mail.log"
    lines = as_log()
    write(log, lines[:30])
    state, agg, info = log_scan.scan([str(log)])
    assert info[0]["mode"] == "full" and info[0]["read_bytes"] == log.stat().st_size
    first_total = sum(r["count"] for r in agg["ids"].values())
    state, agg, info = log_scan.scan([str(log)], state)
    assert info[0]["mode"] == "cached" and info[0]["read_bytes"] == 0
    size = log.stat().st_size
    write(log, lines[30:])
    state, agg2, info = log_scan.scan([str(log)], state)
    assert info[0]["mode"] == "incremental"
    assert info[0]["read_bytes"] == log.stat().st_size - size
    full = log_scan.scan([str(log)])[1]
    assert {k: v["count"] for k, v in agg2["ids"].items()} == {k: v["count"] for k, v in full["ids"].items()}
    assert sum(r["count"] for r in agg2["ids"].values()) > first_total


def test_rotation_is_detected_and_not_reread(tmp_path):
    log = tmp_path / "mail.log"
    write(log, as_log()[:20])
    state, _agg, _ = log_scan.scan([str(log)])
    os.rename(log, str(log) + ".1")
    write(log, as_log()[20:25])
    paths = log_scan.discover([str(log)])
    assert set(paths) == {str(log), str(log) + ".1"}
    state, agg, infos = log_scan.scan(paths, state)
    rotated = next(i for i in infos if i["path"].endswith(".1"))
    assert rotated["mode"] == "cached" and rotated.get("rotated_from") == str(log)
    fresh = next(i for i in infos if i["path"] == str(log))
    assert fresh["mode"] == "full"
    assert agg["lines"] == 25


def test_truncated_file_is_rescanned(tmp_path):
    log = tmp_path / "mail.log"
    write(log, as_log()[:20])
    state, _agg, _ = log_scan.scan([str(log)])
    log.write_text(as_log()[40] + "\n")  # copytruncate-style rotation: same inode, smaller file
    state, agg, infos = log_scan.scan([str(log)], state)
    assert infos[0]["mode"] == "full" and agg["lines"] == 1


def test_gzip_rotated_and_truncated_gzip(tmp_path):
    base = tmp_path / "maillog"
    write(base, as_log()[:5])
    with gzip.open(str(base) + "-20261101.gz", "wt") as fh:
        fh.write("\n".join(as_log()[5:15]) + "\n")
    good = (tmp_path / "maillog-20261101.gz").read_bytes()
    (tmp_path / "maillog-20261001.gz").write_bytes(good[: len(good) // 2])
    paths = log_scan.discover([str(base)])
    assert len(paths) == 3
    _state, agg, infos = log_scan.scan(paths)
    assert any("error" in i and "gzip" in i["error"] for i in infos)
    assert agg["lines"] >= 15


def test_window_skips_old_lines_and_old_rotated_files(tmp_path):
    log = tmp_path / "mail.log"
    old = "Jan  2 10:00:00 mx1 postfix/smtpd[1]: warning: SASL: Connect to private/auth failed: No such file or directory"
    year = time.localtime().tm_year
    write(log, [old.replace("Jan  2", "Jan  2") for _ in range(3)])
    os.utime(log, (time.mktime((year, 1, 3, 0, 0, 0, 0, 0, -1)),) * 2)
    since = time.mktime((year, 6, 1, 0, 0, 0, 0, 0, -1))
    _state, agg, _ = log_scan.scan([str(log)], since=since)
    assert agg["ids"] == {} and agg["skipped_old"] == 3
    rotated = tmp_path / "mail.log.1"
    write(rotated, [old], mtime=since - 86400)
    assert str(rotated) not in log_scan.discover([str(log)], window_start=since)


def test_odd_bytes_long_lines_and_no_final_newline(tmp_path):
    log = tmp_path / "mail.log"
    junk = b"\xff\xfe\x00garbage \xc3\x28 " * 10
    big = b"Nov 24 10:00:00 mx1 postfix/smtpd[1]: warning: " + b"A" * (1024 * 1024) + b" Relay access denied\n"
    tail = (as_log([c for c in CASES if c[0] == "maps.stale_db"])[0]).encode()
    log.write_bytes(junk + b"\n" + big + tail)  # no newline at the end
    _state, agg, infos = log_scan.scan([str(log)])
    assert "maps.stale_db" in agg["ids"]
    assert agg["lines"] == 2  # the last line has no newline


def test_iso_timestamps_and_unknown_formats():
    iso = "2026-11-24T10:00:00.123456+01:00 mx1 postfix/smtpd[1]: warning: SASL: Connect to private/auth failed: No such file"
    agg = log_scan.scan_lines([iso, "./smtpd_check: warning: SASL: Connect to private/auth failed: x"])
    rec = agg["ids"]["sasl.dovecot_socket"]
    assert rec["count"] == 2 and rec["first"] == rec["last"]
    assert time.strftime("%Y-%m-%d %H", time.gmtime(rec["first"])) == "2026-11-24 09"


def test_unclassified_fault_lines_are_counted_with_shapes():
    # a wording no signature knows (made up here): counted, with its shape
    lines = ["Nov 24 10:00:0%d mx1 postfix/cleanup[1]: warning: %d: frobnication limit reached for s%d@example.org"
             % (i, i, i) for i in range(5)]
    benign = ["Nov 24 10:00:0%d mx1 postfix/smtpd[1]: warning: hostname h%d.example does not resolve to address 192.0.2.%d"
              % (i, i, i) for i in range(3)]
    agg = log_scan.scan_lines(lines + benign + as_log([c for c in CASES if c[0] == "maps.stale_db"]))
    assert agg["faultish"] == 9 and agg["unclassified"] == 5
    assert agg["benign"] == {"client_misbehaviour": 3}
    assert len(agg["unclassified_shapes"]) == 1


def test_state_file_roundtrip_is_private(tmp_path):
    path = tmp_path / "state" / "logscan.json"
    log_scan.save_state(str(path), {"version": log_scan.STATE_VERSION, "files": {}})
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert log_scan.load_state(str(path))["files"] == {}
    path.write_text("{not json")
    assert log_scan.load_state(str(path))["files"] == {}


def test_a_syslog_stamp_after_the_files_last_write_is_last_year(tmp_path):
    """Syslog stamps have no year: a file written on 1 January holds 31 December's lines of the
    year before (not of the year that has just begun, which would date them in the future)."""
    log = tmp_path / "mail.log"
    log.write_text("Dec 31 23:59:00 mx1 postfix/smtp[1]: connect to mx.far.example[192.0.2.1]:25: Connection timed out\n"
                   "Jan  1 00:01:00 mx1 postfix/smtp[1]: connect to mx.far.example[192.0.2.1]:25: Connection timed out\n")
    written = time.mktime((2027, 1, 1, 0, 5, 0, 0, 0, -1))
    os.utime(log, (written, written))
    _state, agg, _info = log_scan.scan_file(str(log))
    rec = agg["ids"]["dns.mx_connect_timeout"]
    assert rec["first"] == time.mktime((2026, 12, 31, 23, 59, 0, 0, 0, -1))
    assert rec["last"] == time.mktime((2027, 1, 1, 0, 1, 0, 0, 0, -1))
    # a stamp within the day after the last write (clock skew between hosts) keeps its year
    assert log_scan.parse_time("Jan  1 12:00:00 x", 2027, latest=written + 86400) == time.mktime((2027, 1, 1, 12, 0, 0, 0, 0, -1))
