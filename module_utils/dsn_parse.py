# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Delivery status notifications: RFC 3464 reports and Postfix's own bounce text.

Returns one record per failed recipient: status code, class (temporary/permanent), the meaning
from seed 001's table (falling back to RFC 3463's subject codes), the recipient, the action,
the remote MTA and its reply. Only the stdlib `email` package is used.
"""
from __future__ import annotations

import email
import email.policy
import re

# Seed 001, 14.1.2 (translated), most specific first.
MEANINGS = {
    "4.0.0": "temporary network problem; wait for the retry",
    "4.1.1": "mailbox temporarily unavailable; check the destination server",
    "4.3.0": "mail system full; the destination server is short of disk space",
    "4.4.1": "connection timed out; check network connectivity",
    "4.7.0": "temporarily refused (greylisting); retry later",
    "5.0.0": "syntax error; check the recipient address format",
    "5.1.0": "recipient address does not exist; confirm the address",
    "5.1.1": "mailbox does not exist; the recipient address is wrong",
    "5.1.2": "domain does not exist; check the recipient domain",
    "5.2.0": "mailbox full; the recipient is out of space",
    "5.3.0": "mail system error; internal error at the destination",
    "5.4.0": "DNS lookup failed; check the MX records",
    "5.5.0": "protocol error; SMTP conversation problem",
    "5.7.0": "permission denied; SPF/DKIM checks failed",
}
# RFC 3463 subjects (X.Y.*) for codes the table above does not list.
SUBJECTS = {
    "0": "other or undefined status", "1": "addressing status", "2": "mailbox status",
    "3": "mail system status", "4": "network and routing status", "5": "mail delivery protocol status",
    "6": "message content or media status", "7": "security or policy status",
}
DETAILS = {
    "5.2.2": "mailbox full (over quota)", "4.2.2": "mailbox full (over quota), temporary",
    "5.3.4": "message too big for the system", "5.4.4": "unable to route (no MX/A for the domain)",
    "4.4.4": "unable to route, temporary", "5.4.6": "routing loop (mail loops back to itself)",
    "5.7.1": "delivery not authorized, message refused (policy, relay or blocklist)",
    "4.4.2": "bad connection (timed out or lost)", "4.4.3": "directory server failure (DNS), temporary",
    "5.1.10": "recipient address has a null MX",
}
STATUS_RE = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
FAIL_STATUS_RE = re.compile(r"\b[45]\.\d{1,3}\.\d{1,3}\b")
POSTFIX_RCPT_RE = re.compile(r"^<([^>]+)>(?: \(expanded from <[^>]+>\))?: (.+)$")


def classify_status(code):
    """(class, meaning) for an enhanced status code like '5.1.1'."""
    if not code or not STATUS_RE.fullmatch(code):
        return "unknown", "no status code"
    klass = {"2": "success", "4": "temporary", "5": "permanent"}[code[0]]
    if code in MEANINGS:
        return klass, MEANINGS[code]
    if code in DETAILS:
        return klass, DETAILS[code]
    generic = code[0] + "." + code.split(".")[1] + ".0"
    if generic in MEANINGS:
        return klass, MEANINGS[generic]
    return klass, SUBJECTS.get(code.split(".")[1], "unknown subject")


def _type_value(value):
    """'rfc822; user@x' -> 'user@x'; 'smtp; 550 ...' -> '550 ...'."""
    value = " ".join((value or "").split())
    return value.split(";", 1)[1].strip() if ";" in value else value


SMTP_REPLY_RE = re.compile(r"^\s*([245])\d\d\b")
# RFC 3464 Action values (plus "failure", seen in the wild) -> outcome, and outcome <-> class.
OUTCOME = {"failed": "failed", "failure": "failed", "delayed": "delayed", "delivered": "delivered",
           "relayed": "delivered", "expanded": "delivered"}
OUTCOME_CLASS = {"failed": "permanent", "delayed": "temporary", "delivered": "success"}


def _record(rcpt, status, action=None, diagnostic=None, remote=None, source="dsn", final=None):
    m = STATUS_RE.search(status or "") or STATUS_RE.search(diagnostic or "")
    code = m.group(0) if m else None
    if code is None:
        # Some MTAs put a bare SMTP reply ("553 Exceeded ...") where the enhanced code belongs.
        reply = SMTP_REPLY_RE.match(status or "") or SMTP_REPLY_RE.match(diagnostic or "")
        code = reply.group(1) + ".0.0" if reply else None
    klass, meaning = classify_status(code)
    if code is None and action:
        klass = OUTCOME_CLASS.get(OUTCOME.get(action.lower()), "unknown")
    if rcpt:
        rcpt = rcpt.strip().strip("<>")
    # outcome: what happened to this copy. The Action field decides (a 4.4.7 "failed" is final);
    # without it the status class does.
    outcome = OUTCOME.get((action or "").lower()) or {c: o for o, c in OUTCOME_CLASS.items()}.get(klass, "unknown")
    reason, fault = reason_of(code, diagnostic) if klass != "success" else ("delivered", None)
    rec = {"recipient": rcpt, "status": code, "class": klass, "outcome": outcome, "meaning": meaning, "action": action,
           "diagnostic": diagnostic, "remote_mta": remote, "source": source, "reason": reason, "fault_id": fault}
    if final and final.strip().strip("<>") != rcpt:
        rec["final_recipient"] = final.strip().strip("<>")
    return rec


# Why a recipient failed, from its status code and the diagnostic text (issue 17 item 5): one of
# REASONS, tried in this order (the text decides where a code is shared, as 5.7.1 is by relaying,
# blocklists, content and authentication). The catalog ID is set when the cause is ours to act on.
REASONS = ("user unknown", "mailbox full", "message too big", "host unknown", "network/timeout",
           "relaying denied", "blocked/policy", "content/spam", "authentication", "expired", "system error",
           "other")
_REASON_TEXT = [
    ("expired", r"delivery time expired|message expired|too long in queue|maximal_queue_lifetime"),
    ("authentication", r"\bSPF\b|\bDKIM\b|\bDMARC\b|authentication (?:required|failed)|not authenticated"),
    ("relaying denied", r"relay(?:ing)? (?:access )?denied|relay not permitted|unable to relay|not allowed to relay"),
    ("blocked/policy", r"blocked using|block ?list|black ?list|\bRBL\b|spamhaus|barracuda|listed (?:at|in|on|by)"
                       r"|reputation|poor reputation|policy reasons|rejected by policy|access denied"),
    ("content/spam", r"\bspam\b|content rejected|message content|virus|malware|suspicious|phishing"),
    # before "user unknown": "Recipient address rejected: Mailbox full" is a full mailbox
    ("mailbox full", r"mailbox (?:is )?full|quota|over ?quota|insufficient (?:storage|space)"),
    ("message too big", r"too (?:big|large)|size (?:limit|exceeds)|exceeds (?:the )?(?:maximum|size)"),
    ("user unknown", r"user unknown|unknown user|no such (?:user|recipient|mailbox)|does not exist|address rejected"
                     r"|mailbox unavailable|recipient not found|invalid recipient|unrouteable address|account.*disabled"),
    ("host unknown", r"host or domain name not found|domain (?:not found|does not exist)|no mx|nxdomain|null ?mx"
                     r"|host not found|name service error"),
    ("network/timeout", r"timed? ?out|connection (?:refused|reset|lost)|lost connection|network is unreachable"
                        r"|no route to host|temporar(?:il)?y (?:unavailable|failure)"),
    ("system error", r"loops back to myself|mail loop|system error|configuration error|internal error|local error"
                     r"|insufficient system storage|mail system full"),
]
_REASON_RX = [(name, re.compile(rx, re.I)) for name, rx in _REASON_TEXT]
_REASON_CODE = {
    "1.1": "user unknown", "1.0": "user unknown", "1.6": "user unknown", "2.1": "user unknown",
    "1.2": "host unknown", "1.10": "host unknown", "4.4": "host unknown",
    "2.2": "mailbox full", "2.3": "message too big", "3.4": "message too big",
    "4.1": "network/timeout", "4.2": "network/timeout", "4.0": "network/timeout",
    "4.7": "expired", "4.6": "system error", "3.0": "system error", "3.5": "system error", "3.2": "system error",
    "7.1": "blocked/policy", "7.0": "blocked/policy",
    "7.8": "authentication", "7.23": "authentication", "7.24": "authentication", "7.25": "authentication",
    "7.26": "authentication", "7.27": "authentication", "6.0": "content/spam", "7.7": "content/spam",
}
# Reasons that point at this server's own setup, and the catalog ID that says what to do.
REASON_FAULT = [
    (re.compile(r"loops back to myself", re.I), "config.loops_to_myself"),
    (re.compile(r"blocked using|block ?list|black ?list|spamhaus|\bRBL\b", re.I), "rbl.listed"),
    (re.compile(r"\bSPF\b", re.I), "auth.spf_permerror"),
    (re.compile(r"\bDKIM\b", re.I), "auth.dkim_fail"),
    (re.compile(r"TLS is required|must issue a STARTTLS", re.I), "tls.delivery_handshake"),
]


def reason_of(code, diagnostic):
    """(reason class, catalog ID or None) of one failed recipient."""
    text = diagnostic or ""
    reason = next((name for name, rx in _REASON_RX if rx.search(text)), None)
    if reason is None and code and STATUS_RE.fullmatch(code):
        reason = _REASON_CODE.get(code.split(".", 1)[1], "other")
    fault = next((fid for rx, fid in REASON_FAULT if rx.search(text)), None)
    return reason or "other", fault


def _dsn_groups(part):
    """Field groups of a message/delivery-status part: [per-message, per-recipient...]."""
    payload = part.get_payload()
    groups = []
    if isinstance(payload, list):  # email parses the blocks as sub-messages
        for block in payload:
            groups.append({k.lower(): str(v) for k, v in block.items()})
        return groups
    text = payload if isinstance(payload, str) else ""
    for block in re.split(r"\r?\n\s*\r?\n", text):
        fields, key = {}, None
        for line in block.splitlines():
            if line[:1] in (" ", "\t") and key:
                fields[key] += " " + line.strip()
            elif ":" in line:
                key, _unused, val = line.partition(":")
                key = key.strip().lower()
                fields[key] = val.strip()
        if fields:
            groups.append(fields)
    return groups


def _text_body(msg):
    for part in msg.walk():
        if part.get_content_type() == "text/plain":
            raw = part.get_payload(decode=True) or b""
            charset = part.get_content_charset() or "utf-8"
            try:
                return raw.decode(charset, "replace")
            except LookupError:  # unknown charset name
                return raw.decode("utf-8", "replace")
    return ""


def parse_message(data):
    """Parse one bounce message (bytes or str). Returns {is_bounce, reporting_mta, recipients}."""
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogateescape")
    msg = email.message_from_bytes(data, policy=email.policy.compat32)
    out = dict(is_bounce=False, reporting_mta=None, subject=str(msg.get("Subject", ""))[:200], recipients=[])
    for part in msg.walk():
        if part.get_content_type() in ("message/delivery-status", "message/global-delivery-status"):
            groups = _dsn_groups(part)
            if not groups:
                continue
            out["is_bounce"] = True
            out["reporting_mta"] = _type_value(groups[0].get("reporting-mta")) or None
            # The per-message group carries no recipient or status, so every group is tried
            # (a whitespace-only separator line can merge the first two groups).
            for g in groups:
                # The address the sender wrote (Original-Recipient) is the one an admin acts on;
                # the rewritten Final-Recipient is kept beside it.
                final = _type_value(g.get("final-recipient"))
                rcpt = _type_value(g.get("original-recipient")) or final
                if not rcpt and not g.get("status"):
                    continue
                out["recipients"].append(_record(rcpt or None, g.get("status"), g.get("action"),
                                                 _type_value(g.get("diagnostic-code")) or None,
                                                 _type_value(g.get("remote-mta")) or None, final=final or None))
    if out["recipients"]:
        return out
    # A report the MIME parser could not reach: inside a message forwarded inline, or behind a
    # broken boundary. Its per-recipient fields are still there as text.
    embedded = _text_dsn_groups(data.decode("utf-8", "replace"))
    if embedded:
        out["is_bounce"] = True
        for g in embedded:
            final = _type_value(g.get("final-recipient"))
            rcpt = _type_value(g.get("original-recipient")) or final
            out["recipients"].append(_record(rcpt or None, g.get("status"), g.get("action"),
                                             _type_value(g.get("diagnostic-code")) or None,
                                             _type_value(g.get("remote-mta")) or None, source="embedded",
                                             final=final or None))
        return out
    # No RFC 3464 part: Postfix's plain text ("<rcpt>: host X said: 550 5.1.1 ...") or any text bounce.
    body = _text_body(msg)
    for line in _unfold(body):
        m = POSTFIX_RCPT_RE.match(line.strip())
        if m:
            rcpt, reason = m.groups()
            remote = re.search(r"host (\S+) said: ", reason)
            out["recipients"].append(_record(rcpt, None, None, reason, remote.group(1) if remote else None, "text"))
    if out["recipients"]:
        out["is_bounce"] = True
        # Old Postfix text bounces carry no code: the subject tells delayed from failed.
        guess = "temporary" if re.search(r"delayed|still being retried", out["subject"], re.I) else "permanent"
        for r in out["recipients"]:
            if r["status"] is None:
                r["class"] = guess
                r["outcome"] = "delayed" if guess == "temporary" else "failed"
        return out
    m = FAIL_STATUS_RE.search(body)
    sender = str(msg.get("From", ""))
    if m and re.search(r"mailer-daemon|postmaster|mail delivery", sender + out["subject"], re.I):
        out["is_bounce"] = True
        out["recipients"].append(_record(None, m.group(0), None, None, None, "text"))
    return out


_FIELD_RE = re.compile(r"^(?:> ?)*(Final-Recipient|Original-Recipient|Action|Status|Diagnostic-Code|Remote-MTA)"
                       r"\s*:\s*(.*)$", re.I)


def _text_dsn_groups(text):
    """Per-recipient field groups found anywhere in a text (quoted with '>' or not): a group
    starts at each Final-Recipient and needs an Action or a Status or a Diagnostic-Code."""
    groups, cur, key = [], None, None
    for line in text.splitlines():
        m = _FIELD_RE.match(line.strip())
        if m:
            key = m.group(1).lower()
            if key == "final-recipient" or cur is None:
                cur = {}
                groups.append(cur)
            cur[key] = m.group(2).strip()
        elif key and cur is not None and line[:1] in (" ", "\t") and line.strip():
            cur[key] += " " + line.strip()  # a folded Diagnostic-Code
        else:
            key = None
    return [g for g in groups if (g.get("final-recipient") or g.get("original-recipient"))
            and (g.get("status") or g.get("action") or g.get("diagnostic-code"))]


def _unfold(text):
    """Postfix wraps long reasons on indented continuation lines: join them back."""
    lines = []
    for line in text.splitlines():
        if line[:1] in (" ", "\t") and lines and lines[-1].strip():
            lines[-1] += " " + line.strip()
        else:
            lines.append(line)
    return lines


def split_mbox(data):
    """Messages of an mbox file (or one message when there is no 'From ' separator)."""
    if not data.startswith(b"From "):
        return [data]
    parts = re.split(rb"(?m)^From [^\n]*\n", data)
    return [p for p in parts if p.strip()]


def summarize(records, examples=3):
    """Counts by status code, class and reason, with a few examples per reason, for the report."""
    by_code, by_class, by_reason = {}, {}, {}
    for r in records:
        by_code[r["status"] or "none"] = by_code.get(r["status"] or "none", 0) + 1
        by_class[r["class"]] = by_class.get(r["class"], 0) + 1
        reason = r.get("reason") or "other"
        row = by_reason.setdefault(reason, {"count": 0, "examples": [], "fault_ids": []})
        row["count"] += 1
        if len(row["examples"]) < examples:
            row["examples"].append({k: r.get(k) for k in ("recipient", "status", "diagnostic")})
        if r.get("fault_id") and r["fault_id"] not in row["fault_ids"]:
            row["fault_ids"].append(r["fault_id"])
    return dict(by_status=by_code, by_class=by_class, by_reason=by_reason, total=len(records))
