# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet report as data: built from the per-host JSON files the roles leave in reports/.

postfix_diagnose writes <host>.json, postfix_remediate <host>.remediation.json and
postfix_change_window <host>.change_window.json. This module reads them, decides one state per
host x finding, and returns the model every output (HTML, Markdown, JUnit, fleet.json) renders.
Nothing here talks to a managed host.
"""
from __future__ import annotations

import datetime
import json
import math
import os

from . import log_families, safe_io
from .fault_catalog import CATALOG, SEVERITIES

SEV_RANK = {s: i for i, s in enumerate(SEVERITIES)}
CLASSES = ("auto", "opt-in", "advisory")
# Per host x finding; the order is the legend's.
STATES = {
    "open": "auto fix available, not applied",
    "would_fix": "a dry run would fix it",
    "fixed": "fixed by this run",
    "rolled_back": "fix rolled back",
    "not_fixed": "fixed but still present",
    "opt_in": "opt-in fix, yours to decide",
    "advisory": "advisory: steps for a person",
    "cleared": "gone after this run's fixes (a root cause was fixed)",
    "historical": "historical: logged before a fix",
}
OUTPUT_FILES = ("fleet.json",)
SIDE_SUFFIXES = (".remediation.json", ".change_window.json")
# A host's files are HOST.json and HOST<side suffix>: the names that would make one of them
# another file of the directory (fleet.json, mx1.remediation.json) are refused, not mapped, so a
# report file is always found under its host's own name. Case-folded, for case-insensitive
# controller file systems (macOS).
RESERVED_HOSTS = tuple(f[:-len(".json")] for f in OUTPUT_FILES if f.endswith(".json"))
RESERVED_ENDINGS = tuple(s[:-len(".json")] for s in SIDE_SUFFIXES)
NAME_MAX = 255  # bytes of one file name (Linux, macOS): the longest suffix must fit after the host
TEMP_EXTRA = 18  # safe_io.write_own writes "." + name + ".<12 hex>.tmp" first
HEAT_LEVELS = 6
# A host's report (<host>.json): these keys of its postfix_diagnose result, in this order, each
# with what a check that did not run leaves (the result has no key for it).
REPORT_KEYS = (("generated_at", None), ("check_mode", False), ("ids", []), ("counts", {}), ("findings", []),
               ("postconf_n", {}), ("queue", {}), ("log", {}), ("probes", {}), ("bounces", []), ("errors", []))


def host_name_problem(host, name_max=NAME_MAX):
    """Why `host` cannot name its report files (HOST.json and every side file), or None.

    Inventory names are used as they are, Unicode included: a file name of printable UTF-8
    characters (no control, format or separator character other than the space), without '/',
    not '.' or '..', that fits within name_max bytes with the longest suffix, and that is not
    one of the directory's other files (fleet.json) or another host's side file."""
    if not isinstance(host, str) or not host:
        return "is empty"
    try:
        size = len(host.encode("utf-8"))
    except UnicodeEncodeError:
        return "is not UTF-8 text"
    if host in (".", "..") or "/" in host:
        return "is not a file name (a '/', or '.' or '..')"
    if not host.isprintable():
        return "has a control, format or separator character"
    folded = host.casefold()
    if folded in RESERVED_HOSTS:
        return "is the name of the fleet report's own file (%s.json)" % folded
    for ending, suffix in zip(RESERVED_ENDINGS, SIDE_SUFFIXES):
        if folded.endswith(ending):
            return "ends in %s: its %s.json would be read as the %s record of host %s" % (
                host[-len(ending):], host, suffix[1:-len(".json")], host[:-len(ending)])
    longest = max(SIDE_SUFFIXES + (".json",), key=len)
    fits = name_max - len(longest) - TEMP_EXTRA
    if size > fits:
        return "is %d bytes long: %d fit (the %d-byte limit of a file name, less %s and the %d bytes of the " \
               "temporary name of an atomic write)" % (size, fits, name_max, longest, TEMP_EXTRA)
    return None


def diagnosis_report(host, result, generated_at):
    """The report of one host from its postfix_diagnose result (Ansible's own keys left out).
    generated_at is the controller's time, as for every report of the fleet: a host whose clock
    is off must not make its own report, or every other one, look stale."""
    report = {"host": host}
    for key, empty in REPORT_KEYS:
        value = result.get(key)
        report[key] = empty if value is None else value
    report["generated_at"] = generated_at
    return report


def _read(path):
    try:  # regular files only: a FIFO named *.json in the directory must not hang the report
        with safe_io.open_regular(path, "host report") as fh:
            return json.loads(fh.read().decode("utf-8", "replace")), None
    except (safe_io.InputError, OSError, ValueError) as exc:
        return None, "%s: %s" % (os.path.basename(path), exc)


def _ts(value):
    """ISO 8601 'Z' timestamp -> epoch seconds (None when missing or malformed)."""
    try:
        return datetime.datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=datetime.timezone.utc).timestamp()
    except (TypeError, ValueError):
        return None


def load(directory):
    """{host: {"diag": ..., "remediation": ..., "change_window": ...}} and the unreadable files."""
    hosts, problems = {}, []
    try:
        names = sorted(os.listdir(directory))
    except OSError as exc:
        return hosts, ["%s: %s" % (directory, exc)]
    for name in names:
        if not name.endswith(".json") or name in OUTPUT_FILES:
            continue
        kind, host = "diag", name[:-len(".json")]
        for suffix in SIDE_SUFFIXES:
            if name.endswith(suffix):
                kind, host = suffix[1:-len(".json")], name[:-len(suffix)]
        why = host_name_problem(host, name_max=4096)  # a file that exists fits: only what the name means
        if why:
            shown = name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
            problems.append("%s: not read, the host name %s" % (shown, why))
            continue
        data, err = _read(os.path.join(directory, name))
        if err:
            problems.append(err)
        elif not isinstance(data, dict) or (kind == "diag" and "findings" not in data):
            problems.append("%s: not a postfix-remedy host report" % name)
        else:
            hosts.setdefault(host, {})[kind] = data
    return hosts, problems


def _finding_state(f, rem):
    """State of one finding given this run's remediation record (or None)."""
    if f.get("historical"):
        return "historical"
    fid = f["id"]
    if rem and fid in (rem.get("selected") or []):
        if rem.get("check_mode"):
            return "would_fix"
        if rem.get("rolled_back"):
            return "rolled_back"
        if fid in (rem.get("still_present") or []):
            return "not_fixed"
        return "fixed"
    after = (rem or {}).get("ids_after")
    if rem and isinstance(after, list) and not rem.get("check_mode") and not rem.get("rolled_back") \
            and fid not in after:
        return "cleared"
    return {"auto": "open", "opt-in": "opt_in"}.get(f.get("class"), "advisory")


def _rem_failed(rem):
    return bool(rem.get("rolled_back") or rem.get("failure") or rem.get("queue_failure") or rem.get("still_present"))


def _host_status(view):
    """One status per host, worst first: no report, stale report, failed, needs fixing, attention, fixed, healthy."""
    if view["missing"]:
        return "no report"
    if view["stale"]:
        return "stale report"
    rem = view["remediation"] or {}
    if view["dropped"] or _rem_failed(rem):
        return "failed"
    states = {f["state"] for f in view["findings"]}
    if states & {"open", "would_fix"}:
        return "needs fixing"
    if states & {"opt_in", "advisory"} or no_log_read(view):
        return "attention"  # a host whose log was not read is not known to be healthy
    return "fixed" if states & {"fixed", "cleared"} else "healthy"


def no_log_read(view):
    """Why the diagnosis read no log (issue 30: a scan of nothing is not a clean scan), or None."""
    log = view.get("log") or {}
    return (log.get("note") or "no log read") if log.get("read") is False else None


def host_view(host, files, stale_after, newest, dropped=False):
    diag = files.get("diag")
    rem = files.get("remediation")
    view = dict(host=host, missing=diag is None, dropped=False, stale=False, generated_at=None, check_mode=False,
                findings=[], counts={}, postconf_n={}, queue={}, log={}, bounces=[], errors=[],
                remediation=None, previous_remediation=None, change_window=files.get("change_window"), heat={})
    if diag is None:
        view["previous_remediation"] = rem  # a record with no diagnosis to belong to: an earlier run's
        view["status"] = _host_status(view)
        return view
    generated = _ts(diag.get("generated_at"))
    view.update(generated_at=diag.get("generated_at"), check_mode=bool(diag.get("check_mode")),
                postconf_n=diag.get("postconf_n") or {}, queue=diag.get("queue") or {}, log=diag.get("log") or {},
                bounces=diag.get("bounces") or [], errors=diag.get("errors") or [])
    view["stale"] = bool(generated and newest and newest - generated > stale_after)
    # A remediation record belongs to this diagnosis only when it was written after it.
    if rem is not None:
        rem_at = _ts(rem.get("generated_at"))
        if generated is None or rem_at is None or rem_at >= generated:
            view["remediation"] = rem
        else:
            view["previous_remediation"] = rem
    # The host left this run (unreachable mid-run, or a task failed) after its diagnosis was
    # written, and no remediation record of this run says why: its remediation may be half done.
    view["dropped"] = bool(dropped) and not _rem_failed(view["remediation"] or {})
    for f in diag.get("findings") or []:
        # a fault ID of the catalog, or the advice on a family of the host's log messages (family.*)
        if not isinstance(f, dict) or not (f.get("id") in CATALOG or log_families.is_finding_id(f.get("id"))):
            continue
        item = dict(f)
        item["state"] = _finding_state(f, view["remediation"])
        item.setdefault("outside", (CATALOG.get(f["id"]) or {}).get("outside") if f.get("class") == "advisory" else None)
        view["findings"].append(item)
    view["findings"].sort(key=lambda f: (not f.get("explains"), SEV_RANK.get(f.get("severity"), 9), f["id"]))
    for f in view["findings"]:
        view["counts"][f["state"]] = view["counts"].get(f["state"], 0) + 1
    view["status"] = _host_status(view)
    view["heat"] = heat([view])
    view["families"] = host_families(view["log"])
    return view


def host_families(log):
    """The log families of one host's diagnosis (log.families), worst first, for the report: family,
    count, severity, subjects [(subject, count)], advice. Anything malformed is left out."""
    fams = (log or {}).get("families") if isinstance(log, dict) else None
    rows = []
    for name, rec in (fams.items() if isinstance(fams, dict) else ()):
        if name not in log_families.FAMILIES or not isinstance(rec, dict):
            continue
        subjects = {str(k): _count(v) for k, v in rec["subjects"].items()} if isinstance(rec.get("subjects"), dict) else {}
        rows.append(dict(family=name, id=log_families.finding_id(name), count=_count(rec.get("count")),
                         severity=log_families.SEVERITY_OF.get(rec.get("severity"), "low"),
                         title=log_families.FAMILIES[name][0], advice=log_families.FAMILIES[name][1],
                         subjects=sorted(subjects.items(), key=lambda kv: (-kv[1], kv[0]))[:5]))
    return sorted(rows, key=lambda r: (SEV_RANK.get(r["severity"], 9), -r["count"], r["family"]))


def _count(value):
    """A count from a host file: an int, or 0 for anything else (a damaged file is no traceback)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def heat(views, limit=20):
    """Fleet qshape: deferred-queue counts per destination domain x age bucket, with a 0-5 level per cell."""
    buckets, domains, total = None, {}, None
    for v in views:
        q = (v["queue"] or {}).get("qshape") or {}
        if not q.get("buckets_minutes"):
            continue
        buckets = buckets or list(q["buckets_minutes"])
        if len(q["buckets_minutes"]) != len(buckets):
            continue
        total = [a + b for a, b in zip(total or [0] * len(buckets), q.get("total") or [0] * len(buckets))]
        for d in q.get("domains") or []:
            row = domains.setdefault(d["domain"], {"domain": d["domain"], "counts": [0] * len(buckets), "hosts": []})
            row["counts"] = [a + b for a, b in zip(row["counts"], d["counts"])]
            row["hosts"].append(v["host"])
    rows = sorted(domains.values(), key=lambda r: (-r["counts"][0], r["domain"]))
    top = max([c for r in rows for c in r["counts"][1:]] + [0])

    def level(c):
        if c <= 0 or top <= 0:
            return 0
        return 1 + min(HEAT_LEVELS - 2, int((HEAT_LEVELS - 2) * math.log(c) / math.log(top)) if top > 1 else 0)

    for r in rows:
        r["levels"] = [level(c) for c in r["counts"]]
    return dict(buckets=buckets or [], total=total or [], domains=rows[:limit], more_domains=max(0, len(rows) - limit))


def _merge_counts(items, key, limit=10):
    merged = {}
    for host, item in items:
        row = merged.setdefault(item[key], {key: item[key], "count": 0, "hosts": []})
        row["count"] += int(item.get("count") or 0)
        if host not in row["hosts"]:
            row["hosts"].append(host)
    return sorted(merged.values(), key=lambda r: (-r["count"], r[key]))[:limit]


def bounce_breakdown(views):
    """DSN outcomes and status codes across the fleet, bounces grouped by destination domain and
    reason (with the catalog ID or fix when the reason is ours), plus the individual bounces."""
    by_status, by_outcome, by_domain, rows = {}, {}, {}, []
    for v in views:
        for b in v["bounces"]:
            if not isinstance(b, dict):
                continue
            status = str(b.get("status") or "?")
            outcome = str(b.get("outcome") or b.get("action") or "?")
            by_status[status] = by_status.get(status, 0) + 1
            by_outcome[outcome] = by_outcome.get(outcome, 0) + 1
            rcpt = str(b.get("recipient") or "")
            domain = str(b.get("domain") or (rcpt.rpartition("@")[2] if "@" in rcpt else "") or "?")
            reason = str(b.get("reason") or "?") + (" (%s)" % b["cause"] if b.get("cause") else "")
            row = by_domain.setdefault((domain, reason), dict(domain=domain, reason=reason, count=0, hosts=[],
                                                              side=b.get("side"), fault_id=b.get("fault_id")))
            row["count"] += 1
            if v["host"] not in row["hosts"]:
                row["hosts"].append(v["host"])
            rows.append(dict(b, host=v["host"], status=status, outcome=outcome))
    return dict(by_status=sorted(by_status.items(), key=lambda kv: (-kv[1], kv[0])),
                by_outcome=sorted(by_outcome.items(), key=lambda kv: (-kv[1], kv[0])),
                by_domain=sorted(by_domain.values(), key=lambda r: (-r["count"], r["domain"], r["reason"]))[:50],
                rows=rows[:200], total=len(rows))


def next_steps(views, fleet):
    """What the operator should do after reading this report, most urgent first."""
    steps = []
    missing = [v["host"] for v in views if v["missing"] or v["stale"]]
    failed = [v["host"] for v in views if v["status"] == "failed" and not v["dropped"]]
    dropped = [v["host"] for v in views if v["dropped"]]
    current = [v for v in views if not v["stale"]]
    open_hosts = [v["host"] for v in current if v["counts"].get("open")]
    would = [v["host"] for v in current if v["counts"].get("would_fix")]
    opt_in = sorted({f["id"] for v in views for f in v["findings"] if f["state"] == "opt_in"})
    if missing:
        steps.append("No current report from %s: check that they are reachable, then run playbooks/diagnose.yml -l %s"
                     % (", ".join(missing), ",".join(missing)))
    if dropped:
        steps.append("%s dropped out of this run after the diagnosis (unreachable, or a task failed): its "
                     "remediation may be incomplete. Check the host, then run playbooks/remediate.yml -l %s again."
                     % (", ".join(dropped), ",".join(dropped)))
    if failed:
        steps.append("Remediation failed on %s: read the failure in the host section; the previous configuration "
                     "was restored where it says rolled back." % ", ".join(failed))
    unread = [v["host"] for v in current if not v["missing"] and no_log_read(v)]
    if unread:
        steps.append("No mail log was read on %s, so their log faults are unknown: set postfix_diagnose_log_paths "
                     "or postfix_diagnose_log_source (see the host section), then diagnose again." % ", ".join(unread))
    if would:
        steps.append("The dry run would fix %s: run playbooks/remediate.yml without --check in a change window."
                     % ", ".join(would))
    kept = [(v["host"], (v["remediation"] or {})) for v in current if (v["remediation"] or {}).get("backup")]
    if kept:
        rule = next((r["backups"] for _h, r in kept if isinstance(r.get("backups"), dict)), {})
        steps.append("Backups of this run, on each host: %s%s%s." % (
            "; ".join("%s %s" % (h, r["backup"]) for h, r in kept),
            " (kept: the newest %s runs and %s days)" % (rule["keep"], rule["keep_days"]) if rule.get("keep") else "",
            "; copies of deleted mail under %s (%s days)" % (rule["mail_dir"], rule["mail_keep_days"])
            if rule.get("mail_dir") else ""))
    if open_hosts:
        steps.append("Automatic fixes are waiting on %s: run playbooks/remediate.yml --check --diff, then without "
                     "--check." % ", ".join(open_hosts))
    if opt_in:
        steps.append("Opt-in fixes need your decision (and data): %s; enable them with "
                     "-e '{\"postfix_remediate_opt_in\": {ID: {...}}}' (see roles/postfix_remediate/README.md)."
                     % ", ".join(opt_in))
    if fleet["outside"]:
        steps.append("Hand the \"needs someone outside this box\" list to its owners (%d item(s))."
                     % len(fleet["outside"]))
    if not steps:
        steps.append("Nothing to do: every host is healthy or fixed. Run playbooks/diagnose.yml again after the "
                     "next change.")
    return steps


def build(directory, expected=(), stale_after=3600, title="Postfix fleet report", now=None, dropped=()):
    files, problems = load(directory)
    hosts = sorted(set(files) | set(expected or ()))
    newest = max([_ts((f.get("diag") or {}).get("generated_at")) or 0 for f in files.values()] + [0]) or None
    views = [host_view(h, files.get(h, {}), stale_after, newest, h in set(dropped or ())) for h in hosts]
    matrix = []
    for fid in {f["id"] for v in views for f in v["findings"]}:
        cells, found = [], []
        for v in views:
            hit = [f for f in v["findings"] if f["id"] == fid][:1]
            cells.append(hit[0]["state"] if hit else None)
            found += hit
        # A log family (family.*) is no catalog entry: its findings carry their own title; advisory always.
        family = fid not in CATALOG
        cat = CATALOG.get(fid) or dict(title=found[0].get("title", fid), cls="advisory", severity=found[0].get("severity"))
        # What the hosts' findings say, as their cards and the tallies do: a rule may raise the
        # catalog's severity (an expired certificate), a historical finding is advisory and info.
        severities = sorted({f.get("severity", "info") for f in found}, key=lambda s: SEV_RANK.get(s, 9))
        classes = sorted({f.get("class", "advisory") for f in found}, key=lambda c: (CLASSES.index(c) if c in CLASSES else 9, c))
        matrix.append(dict(id=fid, title=cat["title"], cls=cat["cls"], severity=cat["severity"], cells=cells,
                           hosts=len(found), severities=severities, classes=classes, kind="family" if family else "fault"))
    matrix.sort(key=lambda r: (SEV_RANK.get(r["severities"][0], 9), r["id"]))
    by_class = {c: 0 for c in CLASSES}
    by_severity = {s: 0 for s in SEVERITIES}
    by_state = {s: 0 for s in STATES}
    for v in views:
        for f in v["findings"]:
            by_class[f.get("class", "advisory")] = by_class.get(f.get("class", "advisory"), 0) + 1
            by_severity[f.get("severity", "info")] = by_severity.get(f.get("severity", "info"), 0) + 1
            by_state[f["state"]] += 1
    outside = [dict(host=v["host"], id=f["id"], who=f["outside"], summary=f.get("summary", ""),
                    steps=(f.get("fix") or {}).get("steps") or [])
               for v in views for f in v["findings"] if f.get("outside") and f["state"] == "advisory"]
    statuses = {}
    for v in views:
        statuses[v["status"]] = statuses.get(v["status"], 0) + 1
    fleet = dict(
        hosts=len(views), findings=sum(len(v["findings"]) for v in views),
        by_class=by_class, by_severity=by_severity, by_state=by_state, statuses=statuses, outside=outside,
        check_mode=any(v["check_mode"] for v in views),
        queue=dict(total=sum(int((v["queue"] or {}).get("total") or 0) for v in views),
                   counts={k: sum(int(((v["queue"] or {}).get("counts") or {}).get(k) or 0) for v in views)
                           for k in ("active", "incoming", "deferred", "hold", "corrupt", "maildrop")},
                   heat=heat(views),
                   reasons=_merge_counts([(v["host"], r) for v in views
                                          for r in (v["queue"] or {}).get("top_reasons") or []], "reason"),
                   senders=_merge_counts([(v["host"], r) for v in views
                                          for r in (v["queue"] or {}).get("top_senders") or []], "sender")),
        bounces=bounce_breakdown(views),
    )
    fleet["next_steps"] = next_steps(views, fleet)
    when = now or datetime.datetime.now(datetime.timezone.utc)
    return dict(title=title, generated_at=when.strftime("%Y-%m-%dT%H:%M:%SZ"), directory=directory,
                problems=problems, states=STATES, host_names=hosts, hosts=views, matrix=matrix, fleet=fleet)


def summary_lines(model):
    """The run's closing lines: one per host, then what to do next."""
    lines = []
    for v in model["hosts"]:
        found = ", ".join("%s %s" % (f["id"], f["state"].replace("_", " ")) for f in v["findings"]) or (
            "unreachable, or failed before its diagnosis" if v["missing"] else "no findings")
        if not v["missing"] and no_log_read(v):
            found += "; no log read: %s" % no_log_read(v)
        if v["dropped"]:
            found = "DROPPED OUT of the run after its diagnosis; " + found
        lines.append("%s: %s (%s)" % (v["host"], v["status"], found))
    return lines + ["next: " + s for s in model["fleet"]["next_steps"]]
