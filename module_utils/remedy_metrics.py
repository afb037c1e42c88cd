# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every Prometheus metric postfix-remedy writes, and how a diagnosis or a remediation becomes samples.

One registry (METRICS: name -> type, help, labels) for the three files on a host, so no name is
written by two writers and every file says the same HELP (node_exporter refuses a family whose
help differs between files). Naming follows Prometheus': the postfix_remedy_ prefix, base units
(seconds, timestamps in seconds since the epoch), _total only on counters, and labels with few
values (fault IDs, queues, classes; never an address or a queue ID). Times are exported as
timestamps, not ages: a textfile is read long after it was written, and time() - timestamp in
PromQL is always right.

Writers (each owns its file, one per Postfix instance; prom_textfile.file_path):
  postfix_remedy_diagnose.prom     postfix_diagnose (metrics_dir)
  postfix_remedy_remediation.prom  postfix_metrics, at the end of a remediation run
  postfix_remedy_window.prom       roles/postfix_change_window/files/postfix-remedy-window.py
"""
from __future__ import annotations

import calendar
import time

G, C = "gauge", "counter"
INST = ("config_dir",)  # every series names its Postfix instance (config directory)

METRICS = {
    # ---- postfix_remedy_diagnose.prom
    "postfix_remedy_diagnosis_info": (G, "Postfix of the last diagnosis: myhostname and mail_version (always 1).",
                                      INST + ("myhostname", "mail_version")),
    "postfix_remedy_diagnosis_last_run_timestamp_seconds": (G, "When the last diagnosis finished.", INST),
    "postfix_remedy_diagnosis_duration_seconds": (G, "How long the last diagnosis took.", INST),
    "postfix_remedy_diagnosis_result": (G, "Result of the last diagnosis: 1 for its result (healthy, findings, "
                                           "incomplete: evidence missing or no log read), 0 for the others.", INST + ("result",)),
    "postfix_remedy_diagnosis_errors": (G, "Evidence the last diagnosis could not gather (its errors).", INST),
    "postfix_remedy_finding": (G, "A cataloged fault found by the last diagnosis (1 while present; historical "
                                  "findings are not written).", INST + ("id", "severity", "class")),
    "postfix_remedy_finding_first_seen_timestamp_seconds": (G, "Since when the finding is present: its oldest log "
                                                               "line, or the first diagnosis that found it.", INST + ("id",)),
    "postfix_remedy_finding_last_seen_timestamp_seconds": (G, "When the finding was last seen: its newest log line, "
                                                              "or the last diagnosis for a finding of config, probes "
                                                              "or queue.", INST + ("id",)),
    "postfix_remedy_log_read": (G, "1 when the last diagnosis read a mail log (file or journal), 0 when it read none.", INST),
    "postfix_remedy_log_window_seconds": (G, "The log window of the last diagnosis.", INST),
    "postfix_remedy_log_scan_duration_seconds": (G, "How long the log scan of the last diagnosis took.", INST),
    "postfix_remedy_log_lines": (G, "Log lines read in the log window.", INST),
    "postfix_remedy_log_fault_lines": (G, "Log lines of a fault ID in the log window.", INST + ("id",)),
    "postfix_remedy_log_inbound_lines": (G, "Lines of servers about clients per fault ID in the log window (policy "
                                            "or Internet noise unless the client is internal).", INST + ("id",)),
    "postfix_remedy_log_statistic_lines": (G, "Internet, peer and neighbour-program noise in the log window, per "
                                              "statistic (never a finding).", INST + ("statistic",)),
    "postfix_remedy_log_family_lines": (G, "Postfix warnings, errors, fatals and panics no fault ID claims, per "
                                           "family, in the log window.", INST + ("family",)),
    "postfix_remedy_log_delivery_status_lines": (G, "Delivery status lines in the log window (sent, deferred, "
                                                    "bounced, expired).", INST + ("status",)),
    "postfix_remedy_log_faultish_lines": (G, "Fault-looking lines in the log window.", INST),
    "postfix_remedy_log_unclassified_lines": (G, "Fault-looking lines no signature or benign kind claims.", INST),
    "postfix_remedy_log_unclassified_ratio": (G, "Unclassified share of the fault-looking lines (0 to 1).", INST),
    "postfix_remedy_queue_messages": (G, "Messages per Postfix queue at the last diagnosis.", INST + ("queue",)),
    "postfix_remedy_queue_oldest_message_timestamp_seconds": (G, "Arrival time of the oldest message per queue "
                                                                 "(age: time() minus this).", INST + ("queue",)),
    "postfix_remedy_queue_mailer_daemon_messages": (G, "Bounces (sender MAILER-DAEMON) queued outside the hold queue.", INST),
    # ---- postfix_remedy_remediation.prom
    "postfix_remedy_remediation_last_run_timestamp_seconds": (G, "When the last remediation run ended.", INST),
    "postfix_remedy_remediation_result": (G, "Result of the last remediation: 1 for its result (fixed, nothing_to_fix, "
                                             "incomplete, queue_failed, rolled_back), 0 for the others.", INST + ("result",)),
    "postfix_remedy_remediation_fixed_timestamp_seconds": (G, "Fault IDs the last remediation fixed (and verified "
                                                              "gone), at the time it ended.", INST + ("id",)),
    "postfix_remedy_remediation_fixes_total": (C, "Fixes applied per fault ID.", INST + ("id",)),
    "postfix_remedy_remediation_runs_total": (C, "Remediation runs per result.", INST + ("result",)),
    # ---- postfix_remedy_window.prom (written by the window helper, which keeps its own copy of these)
    "postfix_remedy_change_window_open": (G, "1 while a change window is open, else 0.", INST),
    "postfix_remedy_change_window_opened_timestamp_seconds": (G, "When the open change window opened.", INST),
    "postfix_remedy_change_window_deadline_timestamp_seconds": (G, "When the open change window closes itself.", INST),
    "postfix_remedy_change_window_close_failures": (G, "Failed attempts to close the open change window.", INST),
    "postfix_remedy_change_window_last_close_timestamp_seconds": (G, "When the last change window was closed.", INST),
}

DIAGNOSIS_RESULTS = ("healthy", "findings", "incomplete")
REMEDIATION_RESULTS = ("fixed", "nothing_to_fix", "incomplete", "queue_failed", "rolled_back")
SEVERITY_ORDER = ("critical", "high", "medium", "low", "info")
PREVIOUS_FIRST_SEEN = "postfix_remedy_finding_first_seen_timestamp_seconds"


def _epoch(iso):
    """Seconds since the epoch of the report's UTC times ("2026-12-06T03:30:00Z"), None otherwise."""
    try:
        return float(calendar.timegm(time.strptime(iso, "%Y-%m-%dT%H:%M:%SZ")))
    except (TypeError, ValueError):
        return None


def _previous(previous, name):
    """{labels dict as sorted tuple minus config_dir: value} of one family of our previous file."""
    return {tuple(kv for kv in labels if kv[0] != "config_dir"): v for (n, labels), v in previous.items() if n == name}


def diagnosis_samples(result, config_dir, previous, now, duration):
    """Samples of one diagnosis result (the module's return value). previous: prom_textfile.parse()
    of our last file, for the first-seen times of findings still present (a finding that went away
    and came back starts again)."""
    inst = dict(config_dir=config_dir)
    out = [("postfix_remedy_diagnosis_last_run_timestamp_seconds", inst, now),
           ("postfix_remedy_diagnosis_duration_seconds", inst, round(duration, 3)),
           ("postfix_remedy_diagnosis_errors", inst, len(result.get("errors") or []))]
    hostname = (result.get("postconf_n") or {}).get("myhostname", "")
    version = (result.get("probes") or {}).get("mail_version", "")
    out.append(("postfix_remedy_diagnosis_info", dict(inst, myhostname=hostname, mail_version=version), 1))
    current = [f for f in result.get("findings") or [] if not f.get("historical")]
    log = result.get("log")
    verdict = "findings" if current else "incomplete" if result.get("errors") or (log and not log.get("read")) else "healthy"
    out += [("postfix_remedy_diagnosis_result", dict(inst, result=r), int(r == verdict)) for r in DIAGNOSIS_RESULTS]
    first_before = {dict(k).get("id"): v for k, v in _previous(previous, PREVIOUS_FIRST_SEEN).items()}
    worst = {}
    for f in current:  # one series per ID: an ID found twice (two TLS pairs) keeps its worst severity
        rank = SEVERITY_ORDER.index(f["severity"]) if f.get("severity") in SEVERITY_ORDER else len(SEVERITY_ORDER)
        if f["id"] not in worst or rank < worst[f["id"]][0]:
            worst[f["id"]] = (rank, f)
    for fid, (_rank, f) in sorted(worst.items()):
        ev = f.get("evidence") or {}
        logged_first, logged_last = _epoch(ev.get("first")), _epoch(ev.get("last"))
        first = min(x for x in (first_before.get(fid), logged_first, now) if x is not None)
        out += [("postfix_remedy_finding", dict(inst, id=fid, severity=f.get("severity", ""), **{"class": f.get("class", "")}), 1),
                ("postfix_remedy_finding_first_seen_timestamp_seconds", dict(inst, id=fid), first),
                ("postfix_remedy_finding_last_seen_timestamp_seconds", dict(inst, id=fid), logged_last or now)]
    if log is not None:
        out += _log_samples(log, inst)
    queue = result.get("queue")
    if queue:
        for q, n in sorted((queue.get("counts") or {}).items()):
            out.append(("postfix_remedy_queue_messages", dict(inst, queue=q), n))
        for q, t in sorted((queue.get("oldest") or {}).items()):
            out.append(("postfix_remedy_queue_oldest_message_timestamp_seconds", dict(inst, queue=q), t))
        out.append(("postfix_remedy_queue_mailer_daemon_messages", inst, queue.get("mailer_daemon", 0)))
    return out


def _log_samples(log, inst):
    out = [("postfix_remedy_log_read", inst, int(bool(log.get("read"))))]
    if not log.get("read"):
        return out
    out += [("postfix_remedy_log_window_seconds", inst, log.get("window_seconds", 0)),
            ("postfix_remedy_log_lines", inst, log.get("lines", 0)),
            ("postfix_remedy_log_faultish_lines", inst, log.get("faultish", 0)),
            ("postfix_remedy_log_unclassified_lines", inst, log.get("unclassified", 0)),
            ("postfix_remedy_log_unclassified_ratio", inst, log.get("unclassified_share", 0.0))]
    if "scan_seconds" in log:
        out.append(("postfix_remedy_log_scan_duration_seconds", inst, log["scan_seconds"]))
    for fid, n in sorted((log.get("ids") or {}).items()):
        out.append(("postfix_remedy_log_fault_lines", dict(inst, id=fid), n))
    for fid, n in sorted((log.get("inbound") or {}).items()):
        out.append(("postfix_remedy_log_inbound_lines", dict(inst, id=fid), n))
    for name, n in sorted((log.get("statistics") or {}).items()):
        out.append(("postfix_remedy_log_statistic_lines", dict(inst, statistic=name), n))
    for fam, rec in sorted((log.get("families") or {}).items()):
        out.append(("postfix_remedy_log_family_lines", dict(inst, family=fam), rec.get("count", 0)))
    for status, n in sorted((log.get("status") or {}).items()):
        out.append(("postfix_remedy_log_delivery_status_lines", dict(inst, status=status), n))
    return out


def remediation_result(record):
    """The one word for a remediation record (roles/postfix_remediate/tasks/record.yml)."""
    if record.get("rolled_back"):
        return "rolled_back"
    if record.get("queue_failure"):
        return "queue_failed"
    if record.get("still_present"):
        return "incomplete"
    return "fixed" if record.get("selected") else "nothing_to_fix"


def remediation_samples(record, config_dir, previous, now):
    """Samples of one remediation record; the counters go on from our previous file."""
    inst = dict(config_dir=config_dir)
    verdict = remediation_result(record)
    fixed = [] if verdict == "rolled_back" else sorted(set(record.get("selected") or []) - set(record.get("still_present") or []))
    out = [("postfix_remedy_remediation_last_run_timestamp_seconds", inst, now)]
    out += [("postfix_remedy_remediation_result", dict(inst, result=r), int(r == verdict)) for r in REMEDIATION_RESULTS]
    out += [("postfix_remedy_remediation_fixed_timestamp_seconds", dict(inst, id=fid), now) for fid in fixed]
    fixes = {dict(k)["id"]: v for k, v in _previous(previous, "postfix_remedy_remediation_fixes_total").items() if dict(k).get("id")}
    for fid in fixed:
        fixes[fid] = fixes.get(fid, 0) + 1
    out += [("postfix_remedy_remediation_fixes_total", dict(inst, id=fid), n) for fid, n in sorted(fixes.items())]
    runs = {dict(k).get("result"): v for k, v in _previous(previous, "postfix_remedy_remediation_runs_total").items()}
    out += [("postfix_remedy_remediation_runs_total", dict(inst, result=r), runs.get(r, 0) + (r == verdict))
            for r in REMEDIATION_RESULTS]
    return out
