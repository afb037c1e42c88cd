# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Delivery status notifications: RFC 3464 reports and Postfix's own bounce text.

Returns one record per failed recipient: status code, class (temporary/permanent), the meaning
from seed 001's table (falling back to RFC 3463's subject codes), the recipient and its domain,
the action, the remote MTA and its reply, and why it failed: a reason of the field's reference
classifier's set (sisimai), whose side the refusal is on, and the catalog ID when the cause is
this server's. Only the stdlib `email` package is used; every input is parsed within a bound.
"""
from __future__ import annotations

import base64
import binascii
import email
import email.message
import email.policy
import quopri
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
SMTP_REPLY_RE = re.compile(r"^\s*([245])\d\d\b")
REPLY_CODE_RE = re.compile(r"^\s*([245]\d\d)\b")

# Bounds: what one message may cost. A bounce is small; its report parts come before the returned
# message, so the head of a huge one still holds every status (the rest is counted, not parsed).
MAX_PARSE_BYTES = 4 * 1024 * 1024
MAX_DEPTH = 12          # message/rfc822 and multipart levels read; deeper parts are skipped
MAX_RECIPIENTS = 1000   # per-recipient records kept per message; the rest are counted
MAX_TEXT = 2000         # characters of a diagnostic kept
MAX_CLASSIFIED = 1024   # characters of it classified (the words that say why come first)


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


# ------------------------------------------------------------------ reasons
# Why a recipient failed: the reason set of sisimai (v5 names), the bounce classifier mail tooling
# speaks, in ONE table. Each reason: our older coarse group (the vocabulary of the log scanner's
# remote answers and of the remote-refusal advice), whose side the refusal is on, and its meaning.
# Sides: "recipient" (the recipient's mailbox there), "destination" (their system or network),
# "message" (what we sent: size, content), "ours" (our server, address, domain or sending
# practice), "unknown". sisimai's "speeding" (v5.0-5.2) is named "ratelimited" here, as in later
# versions; toomanyconn stays the concurrency limit, ratelimited the volume or rate limit.
REASONS = {
    "userunknown": ("user unknown", "recipient", "the address does not exist there"),
    "filtered": ("user unknown", "recipient", "the recipient's own filter or settings refuse it"),
    "suspend": ("user unknown", "recipient", "the recipient's account is disabled, suspended or frozen"),
    "hasmoved": ("user unknown", "recipient", "the mailbox has moved and forwards nothing"),
    "mailboxfull": ("mailbox full", "recipient", "the recipient's mailbox is full"),
    "mesgtoobig": ("message too big", "message", "the message is over their size limit"),
    "exceedlimit": ("message too big", "message", "the message is over the recipient's own limit"),
    "hostunknown": ("host unknown", "destination", "the recipient domain does not exist or has no mail host"),
    "notaccept": ("host unknown", "destination", "the domain accepts no mail at all (null MX)"),
    "networkerror": ("network/timeout", "destination", "no connection, a timeout, a DNS failure or a loop"),
    "expired": ("expired", "destination", "retried until the queue lifetime ran out"),
    "norelaying": ("relaying denied", "ours", "that server does not relay for us: our route to it is wrong"),
    "blocked": ("blocked/policy", "ours", "our IP address or host name is blocked there"),
    "rejected": ("blocked/policy", "ours", "our sender address or domain was refused"),
    "policyviolation": ("blocked/policy", "message", "their local policy refuses the message"),
    "badreputation": ("blocked/policy", "ours", "our IP address or domain has a poor reputation there"),
    "toomanyconn": ("blocked/policy", "ours", "too many concurrent connections or sessions from us"),
    "ratelimited": ("blocked/policy", "ours", "we send too much or too fast to that provider"),
    "requireptr": ("blocked/policy", "ours", "our IP address has no (matching) reverse DNS"),
    "spamdetected": ("content/spam", "message", "their filter took the message for spam"),
    "virusdetected": ("content/spam", "message", "their filter found a virus or dangerous attachment"),
    "contenterror": ("content/spam", "message", "malformed headers or MIME, or content they refuse"),
    "authfailure": ("authentication", "ours", "SPF, DKIM or DMARC of our domain failed"),
    "securityerror": ("blocked/policy", "ours", "a security requirement was not met (SMTP AUTH, credentials)"),
    "failedstarttls": ("system error", "ours", "a TLS requirement was not met"),
    "systemerror": ("system error", "destination", "their mail system failed or is misconfigured"),
    "systemfull": ("system error", "destination", "their mail system is out of disk or congested"),
    "mailererror": ("system error", "destination", "a delivery program failed"),
    "syntaxerror": ("other", "unknown", "an SMTP syntax or protocol error"),
    "onhold": ("other", "unknown", "the reply gives too little to decide"),
    "undefined": ("other", "unknown", "no diagnostic at all"),
    "delivered": ("delivered", "unknown", "delivered"),
}
GROUPS = ("user unknown", "mailbox full", "message too big", "host unknown", "network/timeout", "relaying denied",
          "blocked/policy", "content/spam", "authentication", "expired", "system error", "other")

# Ambiguous vendor phrases first: words that would otherwise fall into a wider rule below.
_OVERRIDES = (
    ("host not found, try again", "networkerror"),
    ("message contains spam or virus", "spamdetected"), ("considered as spam or virus", "spamdetected"),
    ("spam or virus content", "spamdetected"), ("email rejected due to security policies", "virusdetected"),
    ("suspected spam ip", "blocked"), ("sender address blocked", "blocked"), ("account inbounds disabled", "notaccept"),
    ("sending for this account", "rejected"), ("blocked from sending", "rejected"),
    ("mailbox unavailable or access denied", "suspend"), ("account storage limit", "mailboxfull"),
    ("sending quota", "ratelimited"), ("message quota", "ratelimited"), ("daily quota", "ratelimited"),
    ("domain of sender address", "rejected"), ("sender domain does not exist", "rejected"),
    ("transaction failed reject due to content", "spamdetected"), ("inactive email address", "userunknown"),
    ("recipient address rejected: access denied", "userunknown"), ("header size exceeds", "contenterror"),
    ("header based anti-spoofing", "policyviolation"), ("header-based anti-spoofing", "policyviolation"),
    ("helo command rejected", "blocked"), ("unauthenticated senders", "securityerror"),
    ("content presents a potential", "policyviolation"), ("does not allow external forwarding", "policyviolation"),
    ("rfc 5322 compliant", "contenterror"), ("section 3.6", "contenterror"), ("not rfc compliant", "contenterror"),
    ("internal resources are temporarily unavailable", "blocked"), ("ip reputation - (reject)", "blocked"),
    ("sender address has null mx", "rejected"), ("- infected", "virusdetected"), ("- banned", "policyviolation"),
    ("- spam", "spamdetected"), ("blocked using", "blocked"),
)

# The reply's own words, most specific reason first. A string is a substring of the lower-cased
# reply; a compiled pattern is searched (each bounded: no pattern starts with an unbounded repeat).
_W = re.compile
_TEXT_RULES = (
    ("virusdetected", ("virus detected", "virus found", "prohibited virus", "contains a virus", "infected with", "virus infected",
                       "malware", "malicious", "trojan", "executable attachment", "used by recent viruses")),
    ("authfailure", (_W(r"\b(?:spf|dkim|dmarc)\b"), "sender policy framework", "domainkeys", "unauthenticated email",
                     "sender is unauthenticated", "authentication checks", "authenticate with", "anti-spoofing",
                     "authentication level", "authentication requirements")),
    ("requireptr", ("ptr record", "ptr-record", "ptr resource record", "missing ptr", "no ptr", "reverse dns",
                    "reverse-dns", "reverse lookup", "reverse hostname", "rdns", "cannot find your hostname",
                    "cannot resolve your address", "ip name lookup failed", "forward dns entry", "unresolvable relay host",
                    "generic dns", "dns check failure", "c=rdns")),
    ("badreputation", ("poor reputation", "low reputation", "bad reputation", "reputation of the sending",
                       "ip reputation", "sender reputation", "senderbase reputation", "reputation score",
                       "reputation database", "user complaints", "unusual rate of unsolicited", "unusual traffic",
                       "suspicious activity")),
    ("ratelimited", ("frequency limit", "unusual rate of mail", "relay limit", "rate limit", "ratelimit",
                     "rate-limit", "throttl", "too many recipients", "too many messages", "too many mails",
                     "too many emails", "sent too many", "sending too many",
                     "receiving mail too quickly", "receiving mail at a rate", "excessive volume", "high volume",
                     "try again slower", "max emails per", "per hour", "per day", "this hour", "per minute",
                     "sending limit", "sending rate", "message rate", "submission rate", "too fast", "slow down",
                     "exceeded the max", "exceeded the maximum number of", "volume limit")),
    ("toomanyconn", ("too many connections", "too many concurrent", "too many sessions", "too many smtp sessions",
                     "connection limit", "connections limit", "concurrent connections", "trop de connexions",
                     "too many simultaneous", "max message per connection", "maximum number of connections",
                     "thread limit", "too many errors from your ip", "account service is temporarily unavailable")),
    ("mailboxfull", ("mailbox full", "mailbox is full", "mailbox has exceeded", "mailbox size limit", "over quota",
                     "overquota", "over the quota", "quota exceeded", "exceeded quota", "exceeding its mailbox quota",
                     "quota exceed", "exceeded storage allocation", "out of storage", "storage space", "not enough space",
                     "disk quota", "user has exceeded", "full mailbox", "mailfolder is full", "inbox is full",
                     "boite du destinataire pleine", "boîte du destinataire pleine", "destinataire pleine",
                     "ящик переполнен", "превышен", "空间不足", "邮箱已满", "容量")),
    ("exceedlimit", ("recipsizelimit", "too large for this recipient", "exceeds the recipient's size",
                     "message length exceeds administrative limit")),
    ("mesgtoobig", ("message too big", "message too large", "message is too large", "message is too big",
                    "message size exceeds", "message exceeds the maximum size", "size exceeds", "exceeds size limit",
                    "size limit", "message file too big", "message is too long", "mail size", "mailsize",
                    "email size", "exceeded maximum inbound message size", "taille limite", "message size limit",
                    "maximum message size", "message too large for", "attachment is too long", "too big for system")),
    ("suspend", ("suspended", "suspend the service", "is disabled", "account disabled", "mailbox disabled",
                 "has been disabled", "mailbox is frozen", "account is frozen", "frozen", "deactivated",
                 "inactive account", "account is inactive", "temporarily inactive", "inactive user", "is locked",
                 "temporary locked", "temporarily locked", "account has been locked", "archived recipient", "archivee",
                 "no longer active", "is no longer valid", "account is blocked", "account isblocked", "compte du destinataire",
                 "account has expired", "account expired", "user is terminated", "account closed", "has been closed",
                 "dormant", "not activated")),
    ("hasmoved", ("has moved", "has been replaced by", "no longer on server", "address has changed",
                  "mailbox owner has changed")),
    ("norelaying", ("relay access denied", "relaying denied", "relay denied", "relay not permitted", "relay not allowed",
                    "relaying not allowed", "relaying mail to", "unable to relay", "cannot relay", "can't relay",
                    "not allowed to relay", "not permitted to relay", "open relay not allowed", "we do not relay",
                    "relay prohibited", "denies relay", "no relaying", "mail relay denied", "not configured to relay",
                    "not a gateway", "we don't handle mail for", "not local host", "relay check")),
    ("rejected", ("sender address rejected", "sender rejected", "sender verify failed", "sender verification",
                  "could not verify sender", "invalid sender", "sender invalid", "sender is invalid",
                  "sender address is invalid", "emetteur invalide", "sender domain", "from domain", "from: domain",
                  "mail from not owned", "not owned by user", "sender address has been", "sender is in my black list",
                  "bogus mail from", "sender not pre-approved", "sender not allowed", "sender email address rejected",
                  "unroutable sender", "unknown sender", "sender unknown", "sender address does not exist",
                  "sender does not exist", "envelope blocked", "envelope rejected", "envelope sender",
                  "envelope from", "null sender", "empty envelope", "blank from", "as a from", "please provide a valid from",
                  "batv", "backscatter", "third-party dsn", "does not accept mail from", "sender blocked",
                  "sender has been blocked", "you are not allowed to post", "your access to submit messages",
                  "sender address blacklisted", "mail from address", "return-path", "sender denied",
                  "host denies the sender", "sender is unvalidated", "forged sender", "spoofed sender",
                  "delivery not authorized", "administrative prohibition",
                  _W(r"sender(?: address)? (?:is )?not (?:allowed|permitted)"))),
    ("userunknown", ("user unknown", "unknown user", "unknown recipient", "recipient unknown", "unknown mailbox",
                     "no such user", "no such recipient", "no such mailbox", "no such address", "no such person",
                     "user not found", "recipient not found", "mailbox not found", "address not found",
                     "recipientnotfound", "recipient notfound", "mailbox unavailable", "mailbox is unavailable",
                     "mailbox not available", "invalid recipient", "invalid mailbox", "invalid address",
                     "invalid user", "not a valid mailbox", "not a valid recipient", "not a valid user",
                     "bad destination", "bad recipient", "badrcptto", "no mailbox", "no account by that name",
                     "not our customer", "not a known user", "address unknown", "address invalid",
                     "user not exist", "recipient not exist", "recipient is not local", "is not an active address",
                     "this user doesn't have a", "account unavailable", "no one at this address",
                     "address could not be found", "illegal alias", "destinataire invalide", "utilisateur inconnu",
                     "unbekannt", "nicht gefunden", "no existe",
                     "нет такого пользователя", "пользователь не найден", "不存在",
                     _W(r"\b(?:user|mailbox|address|recipient|account|e-?mail|rcpt)\b[^.;]{0,80}?"
                        r"\b(?:does not|doesn't|do not) exist"))),
    ("filtered", ("user reject", "rejected by recipient", "rejected by the recipient", "blocked by the recipient",
                  "recipient preferences", "only accepting mail from", "only accepts mail from",
                  "only accepts messages from", "not accepting any mail", "message filtered", "user rules",
                  "refuses to receive", "recipient refuses", "refuse to receive", "restricted sms",
                  "list of senders", "delivery restriction", "notauthenticatedforgroup")),
    # a policy named in so many words, before the spam and block rules that share its wording
    ("policyviolation", ("policy reasons", "local policy", "organization policy", "organizational settings",
                         "denied by policy", "policy violation", "policy rejection", "rejected by policy",
                         "policy restriction", "not accepted for policy", "content examination")),
    ("spamdetected", ("spam detected", "detected as spam", "as spam", "spam message", "message is spam",
                      "looks like spam", "suspected spam", "probable spam", "likely spam", "spam content",
                      "spam score", "considered spam", "classified as spam", "spam-like", "spam like",
                      "likely unsolicited", "unsolicited", "bulk mail", "bulk email", "content rejected",
                      "content reject", "spam denied", "mail content denied", "content denied", "junk mail",
                      "rejected by anti-spam", "anti-spam engine", "antispam", "spamassassin", "content filter",
                      "suspicion of spam", "mail rejected. ", "mail rejete", "spam rejected", "spam message rejected", "high spam",
                      "message refused by", "spam filter", "urlbl", "url in message", "blacklisted url",
                      "dt:spm", "block for spam", "phishing", "垃圾邮件")),
    ("blocked", ("blocked using", "blocklist", "block list", "blacklist", "black list", "denylist", "deny list",
                 _W(r"\blisted (?:in|on|at|by)\b"), _W(r"\b(?:dns)?rbl\b"), "dnsbl", "spamhaus", "spamcop",
                 "barracuda", "sorbs", "uceprotect", "invaluement", "proofpoint", "ipcheck", "cloudmark",
                 "mail-abuse", "trend micro", "senderscore", "banned", "client host rejected", "client host blocked",
                 "not in whitelist", "host network not allowed", "service refused", "service refuse",
                 "refused to talk", "permanently deferred", "not accepting connections", "connection dropped",
                 "connection refused by", "too many bad commands", "too many invalid recipients", "go away",
                 "access denied", "has been blocked", "is blocked", "are blocked", "blocked by", "blocked for",
                 "blocked -", "blocked.", "temporarily blocked", "ip blocked", "ip address blocked", "your ip",
                 "not allowed to send", "poor ip", "abuse detected", "bloquee", "dynamic ip", "not accepted from this ip",
                 "ip is rejected", "ip rejected",
                 "blocked")),
    ("policyviolation", ("security polic", "violates", "content policy", "members-only", "closed mailing list", "illegal attachment",
                         "attachments are not allowed", "not accepted for policy", "message not allowed",
                         "geographical", "protocol violation", "transport rule", "message bounced due to",
                         "message rejected due to", "policy")),
    ("contenterror", (_W(r"\bmime\b"), "8-bit", "8bit", "bare lf", "bare line feed", "invalid characters", "malformed",
                      "rfc 5322", "rfc5322", "rfc 2822", "rfc2822", "rfc compliant", "not compliant", "header",
                      "too many received", "message-id", "improperly formatted", "formatting")),
    ("notaccept", ("does not accept mail", "accepts no mail", "null mx", "nullmx", "no mx record",
                   "not accepting network messages", "no route for current request", "system not accepting")),
    ("hostunknown", ("host or domain name not found", "domain name not found", "domain not found",
                     "domain does not exist", "domain doesn't exist", "no such domain", "unknown domain",
                     "domain unknown", "domain is not reachable", "domain must exist", "unrouteable address",
                     "unroutable address", "host unknown", "unknown host", "host not found", "name or service not known",
                     "nxdomain", "dns query error", "mail domain mentioned", "invalid domain")),
    ("failedstarttls", ("starttls", "tls required", "tls is required", "requires encryption", "requiretls",
                        "tls version", "high-strength ciphers", "mta-sts", "dane", "tls/ssl", "handshake",
                        "must use tls", "encryption required", "tls negotiation")),
    ("securityerror", ("authentication required", "authentication failed", "authentication failure",
                       "authentification", "credentials invalid", "must authenticate", "not authenticated",
                       "anonymous mail", "authentication is required", "insecure mail relay", "auth error",
                       "submitter failed", "verification failure", "certificate")),
    ("mailererror", ("command output:", "command died with status", "mailer error", "pipe to |", "procmail:",
                     "maildrop:", "exit status", "returned exit code")),
    ("systemfull", ("mail system full", "insufficient system storage", "system storage", "no space left",
                    "out of disk", "disk full", "server is full", "mail system congestion", "server busy",
                    "system congestion")),
    ("systemerror", ("loops back to myself", "would create a mail loop", "local error", "internal error",
                     "internal server error", "system error", "configuration error", "config error", "misconfigured",
                     "temporary local problem", "local problem", "service currently unavailable",
                     "temporary server error", "server error", "unable to process", "transaction failed",
                     "timeout waiting for input", "queue file write error", "temporary system problem",
                     "temporarily unavailable", "try again later", "storedrv", "interrupted system call",
                     "message ended early", "out of memory", "database temporary error", "temporary failure",
                     "currently unavailable")),
    ("networkerror", ("connection timed out", "timed out", "timeout", "connection refused", "connection reset",
                      "lost connection", "connection lost", "connection closed", "no route to host",
                      "network is unreachable", "host is unreachable", "host unreachable", "could not connect",
                      "unable to connect", "failed to connect", "cannot connect", "socket error", "mail forwarding loop",
                      "routing loop", "mail loop", "too many hops", "hop count", "hops", "name server",
                      "nameserver", "dns lookup", "dns failure", "temporary failure in name resolution",
                      "malformed or unexpected name server reply", "could not find a gateway")),
    ("syntaxerror", ("syntax error", "bad address syntax", "command unrecognized", "command not recognized",
                     "unrecognized command", "bad sequence of commands", "invalid command", "line too long",
                     "command not implemented", "parameter not implemented")),
)

# Words that say the message expired in the queue (decisive: the rest is the last attempt's cause).
_EXPIRY = ("delivery time expired", "message expired", "expired after", "too long in queue", "in the queue too long",
           "in queue too long", "queue lifetime", "giving up", "retry timeout exceeded", "could not be delivered for",
           "delivery expired", "after multiple retries", "queue expired", "within the allowed queue period",
           "have been failing for a long time")

# Vendor codes that name their reason better than the words around them.
_VENDOR_RX = re.compile(r"\b(cxbl|cdrbl|cxthrt|cxmj|cxdns|cxsndr|cxsmtp|cxcnct|cxmxrt|ipbl\d{4,5}|urlbl\d{3,4}"
                        r"|ib\d{3}|(?:ofr|lpn)(?:\d{0,3})?_\d{3}|lpnaaa_\d{3}|hl:(?:rep|icc|ifc|mep)"
                        r"|mi:(?:cel|ccl|dmc|sfq|stc|nhd)|rp:(?:drc|ccl|cel|trc)|dt:(?:rbl|spm)|wm:(?:bli|blu)"
                        r"|tss?\d\d|bl2[13]|ph01|cs01|hme1|s3150|s3140)\b")
_VENDOR = {
    "cxbl": "blocked", "cdrbl": "blocked", "cxthrt": "securityerror", "cxmj": "securityerror",
    "cxdns": "requireptr", "cxsndr": "rejected", "cxsmtp": "rejected", "cxcnct": "toomanyconn",
    "cxmxrt": "ratelimited", "ipbl": "blocked", "urlbl": "spamdetected",
    "ib103": "blocked", "ib104": "blocked", "ib105": "blocked", "ib106": "blocked", "ib007": "toomanyconn",
    "ib101": "systemerror", "ib108": "requireptr", "ib110": "blocked", "ib111": "blocked", "ib112": "blocked",
    "ib113": "blocked", "ib212": "spamdetected", "ib401": "securityerror", "ib501": "rejected",
    "ib502": "rejected", "ib504": "ratelimited", "ib506": "rejected", "ib508": "authfailure", "ib510": "toomanyconn",
    "ib607": "ratelimited", "ib705": "virusdetected",
    "hl:rep": "badreputation", "hl:icc": "toomanyconn", "hl:ifc": "ratelimited", "hl:mep": "rejected",
    "mi:cel": "blocked", "mi:ccl": "blocked", "mi:dmc": "toomanyconn", "mi:sfq": "ratelimited",
    "mi:stc": "ratelimited", "mi:nhd": "blocked", "rp:drc": "toomanyconn", "rp:ccl": "blocked", "rp:cel": "blocked",
    "rp:trc": "ratelimited", "dt:rbl": "blocked", "dt:spm": "spamdetected", "wm:bli": "blocked", "wm:blu": "rejected",
    "ts01": "badreputation", "ts02": "badreputation", "ts03": "badreputation", "tss04": "badreputation",
    "tss05": "badreputation", "tss09": "blocked", "tss11": "blocked", "bl21": "blocked", "bl23": "blocked",
    "ph01": "policyviolation", "cs01": "policyviolation", "hme1": "authfailure", "s3150": "blocked", "s3140": "blocked",
}
# Orange and La Poste: the number after OFR/LPN..._ names the reason.
_FRANCE = {"101": "blocked", "102": "blocked", "103": "blocked", "104": "toomanyconn", "305": "securityerror",
           "401": "authfailure", "402": "securityerror", "403": "rejected", "405": "rejected", "415": "rejected",
           "416": "userunknown", "417": "mailboxfull", "418": "userunknown", "420": "suspend", "421": "rejected",
           "426": "suspend", "505": "systemerror", "506": "spamdetected", "510": "blocked", "514": "mesgtoobig",
           "517": "authfailure", "630": "policyviolation", "999": "blocked"}

# Enhanced status codes, when the words decide nothing (RFC 3463/5248 meanings).
_CODE_REASON = {
    "1.0": "userunknown", "1.1": "userunknown", "1.2": "hostunknown", "1.3": "userunknown", "1.4": "filtered",
    "1.6": "hasmoved", "1.7": "rejected", "1.8": "rejected", "1.9": "systemerror", "1.10": "notaccept",
    "2.0": "filtered", "2.1": "suspend", "2.2": "mailboxfull", "2.3": "exceedlimit", "2.4": "filtered",
    "3.0": "systemerror", "3.1": "systemfull", "3.2": "notaccept", "3.3": "systemerror", "3.4": "mesgtoobig",
    "3.5": "systemerror", "4.0": "networkerror", "4.1": "networkerror", "4.2": "networkerror", "4.3": "systemerror",
    "4.4": "hostunknown", "4.5": "systemfull", "4.6": "networkerror", "4.7": "expired", "4.8": "networkerror",
    "5.1": "syntaxerror", "5.2": "syntaxerror", "5.3": "ratelimited", "5.4": "syntaxerror", "5.5": "systemerror",
    "5.6": "syntaxerror", "7.0": "securityerror", "7.1": "securityerror", "7.2": "securityerror",
    "7.13": "suspend", "7.17": "hasmoved", "7.18": "hasmoved", "7.20": "authfailure", "7.21": "authfailure",
    "7.22": "authfailure", "7.23": "authfailure", "7.24": "authfailure", "7.25": "requireptr", "7.26": "authfailure",
    "7.27": "rejected", "7.28": "spamdetected", "7.29": "authfailure", "7.30": "failedstarttls",
}
_SUBJECT_REASON = {"1": "userunknown", "2": "filtered", "3": "systemerror", "4": "networkerror",
                   "6": "contenterror", "7": "securityerror"}

# A rate or connection limit about the recipient (its mailbox receives too fast), not about us.
_RECIPIENT_RATE = re.compile(r"receiving mail|user is receiving|recipient thread|mailbox unavailable or access denied"
                             r"|recipient\S{0,3} (?:rate|limit)|to this recipient")
# A limit of one transaction or session (recipients per message, messages per connection), not of our
# rate: Postfix sends the rest in the next transaction or connection by itself.
_PER_TRANSACTION = re.compile(r"too many recipients(?! (?:today|this hour|per (?:hour|day)|in the last))"
                              r"|per (?:connection|session)|in this (?:connection|session)")
# Reasons that say we send too much or too fast (delivery.rate_limited when they are about us).
RATE_REASONS = ("ratelimited", "toomanyconn")
# Words that name a blocklist or a ban of our address: the refusal is rbl.listed.
_LISTED = re.compile(r"spamhaus|spamcop|barracuda|sorbs|uceprotect|invaluement|cloudmark|proofpoint|ipcheck"
                     r"|senderscore|mail-abuse|trend micro|block(?:ed)? ?list|black ?list|deny ?list|blocked using|banned"
                     r"|not accepted from this ip|\btss(?:09|11)\b"
                     r"|\blisted\b|\b(?:dns)?rbl\b|dnsbl|reputation|\b(?:cxbl|cdrbl|ipbl\d+|s3150|s3140|bl2[13])\b"
                     r"|\bib1(?:0[3-6]|1[0-3])\b|dt:rbl|(?:ofr|lpn)\d{0,3}_10[123]\b|lpnaaa_101")
# What to do when the refusal is ours but no catalog ID covers it.
# (Our rate too high for one provider is delivery.rate_limited, with its steps.)
OWN_FIX = {
    "rejected": "our envelope sender was refused: check that its domain (X-Postfix-Sender) resolves (MX or A), "
                "that the address exists, and what myorigin and masquerade_domains make of local senders",
    "blocked": "our address or host name is refused: look it up in the reply's lookup page, check our PTR and "
               "HELO name (smtp_helo_name), then ask the provider to unblock it",
    "securityerror": "the next hop wants SMTP AUTH or credentials: check smtp_sasl_auth_enable and "
                     "smtp_sasl_password_maps for the relayhost",
    "norelaying": "that server does not take mail for this domain from us: check the domain's MX and our "
                  "transport_maps and relayhost routes to it",
}


def _norm(text):
    """The reply lower-cased on one line, without repeated multi-line reply prefixes ('550-5.7.1 ')."""
    t = (text or "")[:MAX_CLASSIFIED].lower()
    t = re.sub(r"(?<!\S)[245]\d\d[- ][245]\.\d{1,3}\.\d{1,3}(?=\s)|(?<!\S)[245]\d\d-(?=\S)", " ", t)
    return " ".join(t.split())


def _vendor(norm):
    for m in _VENDOR_RX.finditer(norm):
        tok = m.group(1)
        if tok.startswith(("ofr", "lpn")):
            reason = _FRANCE.get(tok[-3:])
        else:
            reason = _VENDOR.get(tok) or _VENDOR.get(re.sub(r"\d+$", "", tok))
        if reason:
            return reason
    return None


def _text_reason(norm, skip=()):
    """The reason the words name, or None; rules named in skip are not tried. A phrase is only
    searched when its first three characters occur in the reply (one pass over the reply instead of
    hundreds of searches: a hostile MAX_CLASSIFIED-character reply costs a few milliseconds at most)."""
    if not norm:
        return None
    grams = {norm[i:i + 3] for i in range(len(norm) - 2)}
    for phrase, reason in _OVERRIDES:
        if phrase[:3] in grams and phrase in norm and reason not in skip:
            return reason
    reason = _vendor(norm)
    if reason and reason not in skip:
        return reason
    for reason, needles in _TEXT_RULES:
        if reason in skip:
            continue
        for n in needles:
            if (n[:3] in grams and n in norm) if isinstance(n, str) else n.search(norm):
                return reason
    return None


def _code_reason(code, skip=()):
    if not code or not STATUS_RE.fullmatch(code):
        return None
    detail = code.split(".", 1)[1]
    # a route that cannot be found is a missing host when final, a network fault while retried
    reason = "networkerror" if code == "4.4.4" else _CODE_REASON.get(detail) or _SUBJECT_REASON.get(detail.split(".")[0])
    return reason if reason not in skip else None


def _fault(reason, norm):
    """The catalog ID when the refusal names a fault of this server."""
    if reason in ("blocked", "badreputation", "rejected") and (reason == "badreputation" or _LISTED.search(norm)):
        return "rbl.listed"
    if reason == "requireptr":
        return "dns.ptr_mismatch"
    if reason == "authfailure":
        spf, dkim = re.search(r"\bspf\b|sender policy framework", norm), re.search(r"\bdkim\b|domainkeys", norm)
        return "auth.dkim_fail" if dkim and (not spf or dkim.start() < spf.start()) else "auth.spf_permerror"
    if reason == "failedstarttls":
        return "tls.delivery_handshake"
    if reason == "systemerror" and "loops back to myself" in norm:
        return "config.loops_to_myself"
    return None


def classify(code, diagnostic, outcome=None, dtype=None):
    """Why one recipient failed: dict(reason, group, side, fault_id, cause, returned).

    reason: a key of REASONS. A recipient that failed for good with a temporary status (Postfix
    returns mail after maximal_queue_lifetime with the last attempt's 4.X.X) was returned expired:
    its reason is 'expired' when the words say so (X.4.7, "message expired") or the last attempt
    failed on the network, a timeout or said nothing useful, and cause is that last attempt's
    reason (networkerror...); a last attempt refused for a reason of its own (mailbox full, our
    address blocked, our rate) keeps that reason, as the reference classifier does. returned
    says whether the message was returned after its queue lifetime. A delay warning keeps the
    reason of its words (expired when they name none, with the code's as cause).
    dtype: the Diagnostic-Code's type ('smtp', 'x-unix', 'x-postfix'); x-unix is a delivery program's."""
    norm = _norm(diagnostic)
    reply = REPLY_CODE_RE.match(norm)
    words = "expired" if any(p in norm for p in _EXPIRY) else _text_reason(norm)
    cause = None
    returned = outcome != "delayed" and ((outcome == "failed" and (code or "").startswith("4."))
                                         or (code or "")[1:] == ".4.7" or words == "expired")
    if outcome == "delivered" or (code or "").startswith("2."):
        reason, returned = "delivered", False
    elif returned:
        cause = _text_reason(norm, skip=("expired",)) or _code_reason(code, skip=("expired",))
        if words == "expired" or (code or "")[1:] == ".4.7" or cause in (None, "networkerror", "onhold"):
            reason = "expired"
        else:
            reason, cause = cause, None
    elif words:
        reason = words
    elif outcome == "delayed":
        # a delay warning without words: a specific code decides; a generic one (X.Y.0), no answer
        # from the host (4.4.1) or none at all is a message ageing in the queue
        cause = _code_reason(code, skip=("expired",))
        reason = cause if cause and not (code or "").endswith(".0") and code != "4.4.1" else "expired"
        cause = cause if reason == "expired" else None
    elif (dtype or "").lower() == "x-unix":
        reason = "mailererror"
    else:
        reason = (_code_reason(code) or ("syntaxerror" if reply and reply.group(1)[:2] == "50" else None)
                  or ("onhold" if norm else "undefined"))
    decisive = cause or reason
    side = REASONS[decisive][1]
    if decisive in RATE_REASONS and _RECIPIENT_RATE.search(norm):
        side = "recipient"
    elif decisive in RATE_REASONS and (_PER_TRANSACTION.search(norm) or (code or "")[1:] == ".5.3"):
        side = "message"
    fault_id = "delivery.rate_limited" if decisive in RATE_REASONS and side == "ours" else _fault(decisive, norm)
    return dict(reason=reason, group=REASONS[reason][0], side=side, fault_id=fault_id, cause=cause,
                returned=bool(returned))


def reason_of(code, diagnostic):
    """(group, catalog ID or None) of one reply: the coarse group of classify()'s reason (REASONS'
    first column), the vocabulary the log scanner counts remote answers in."""
    c = classify(code, diagnostic)
    return c["group"], c["fault_id"]


def own_fix(record):
    """What to do about a refusal of ours that no catalog ID covers (or None)."""
    if record.get("side") != "ours" or record.get("fault_id"):
        return None
    return OWN_FIX.get(record.get("cause") or record.get("reason"))


# ------------------------------------------------------------------ records
def _type_value(value):
    """'rfc822; user@x' -> 'user@x'; 'smtp; 550 ...' -> '550 ...'."""
    value = " ".join((value or "").split())
    return value.split(";", 1)[1].strip() if ";" in value else value


def _clean(value, limit=MAX_TEXT):
    """Text for the result: undecodable bytes (kept as surrogates by the parser) read as UTF-8, or
    replaced; never a string a JSON encoder refuses."""
    if value is None:
        return None
    value = str(value)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return value[:limit]


# RFC 3464 Action values (plus "failure", seen in the wild) -> outcome, and outcome <-> class.
OUTCOME = {"failed": "failed", "failure": "failed", "delayed": "delayed", "delivered": "delivered",
           "relayed": "delivered", "expanded": "delivered"}
OUTCOME_CLASS = {"failed": "permanent", "delayed": "temporary", "delivered": "success"}


def prefer_status(field, diagnostic):
    """The status to report: the Status field, unless the reply holds a more telling code (the
    field is generic - X.0.0, X.Y.0 -, an ambiguous 4.4.7/4.7.0/5.3.Z/X.5.Z, or its class
    disagrees with the reply's); a bare SMTP reply gives X.0.0."""
    fm = STATUS_RE.search(field or "")
    dm = STATUS_RE.search(diagnostic or "")
    f, d = fm.group(0) if fm else None, dm.group(0) if dm else None
    reply = SMTP_REPLY_RE.match(diagnostic or "") or SMTP_REPLY_RE.match(field or "")
    if f is None and d is None:
        return reply.group(1) + ".0.0" if reply else None
    if f is None or d is None or f == d:
        return f or d
    if f[0] != d[0] and reply:
        return f if reply.group(1) == f[0] else d if reply.group(1) == d[0] else f
    fz, dz = f.endswith(".0") or ".0." in f, d.endswith(".0") or ".0." in d
    if f[1:] == ".0.0" or (fz and not dz):
        return d if not d[1:] == ".0.0" else f
    if d[1:] == ".0.0" or dz:
        return f
    if f in ("4.4.7", "4.7.0") or f.startswith("5.3.") or f[1:4] in (".5.1", ".5.2", ".5.4", ".5.5"):
        return d
    if f == "5.1.1" and not d.startswith("5.5."):
        return d
    return f


def _record(rcpt, status, action=None, diagnostic=None, remote=None, source="dsn", final=None, dtype=None):
    diagnostic = _clean(diagnostic)
    code = prefer_status(_clean(status, 200), diagnostic)
    klass, meaning = classify_status(code)
    if code is None and action:
        klass = OUTCOME_CLASS.get(OUTCOME.get(action.lower()), "unknown")
    rcpt = _clean(rcpt, 320)
    if rcpt:
        rcpt = rcpt.strip().strip("<>")
    # outcome: what happened to this copy. The Action field decides (a 4.4.7 "failed" is final);
    # without it the status class does.
    outcome = OUTCOME.get((action or "").strip().lower()) or \
        {c: o for o, c in OUTCOME_CLASS.items()}.get(klass, "unknown")
    why = classify(code, diagnostic, outcome, dtype)
    final = (_clean(final, 320) or "").strip().strip("<>")
    addr = rcpt or final
    rec = {"recipient": rcpt, "status": code, "class": klass, "outcome": outcome, "meaning": meaning,
           "action": _clean(action, 40), "diagnostic": diagnostic, "remote_mta": _clean(remote, 300),
           "source": source, "reason": why["reason"], "group": why["group"], "side": why["side"],
           "fault_id": why["fault_id"],
           "domain": addr.rpartition("@")[2].lower().rstrip(".")[:253] if addr and "@" in addr else None}
    if why["cause"]:
        rec["cause"] = why["cause"]
    if why["returned"]:
        rec["expired"] = True
    if final and final != rcpt:
        rec["final_recipient"] = final
    return rec


# ------------------------------------------------------------------ parsing
def _walk(msg, depth=0, out=None):
    """(depth, part) of every part down to MAX_DEPTH levels (email's own walk recurses without end)."""
    out = [] if out is None else out
    out.append((depth, msg))
    payload = msg.get_payload()
    if isinstance(payload, list) and depth < MAX_DEPTH:
        for sub in payload:
            if isinstance(sub, email.message.Message):
                _walk(sub, depth + 1, out)
    return out


def _decode_cte(text, cte):
    """A report part sent base64 or quoted-printable (RFC 3464 says 7bit; some MTAs encode it)."""
    try:
        if cte == "base64":
            return base64.b64decode(re.sub(r"\s+", "", text), validate=False).decode("utf-8", "replace")
        return quopri.decodestring(text.encode("utf-8", "surrogateescape")).decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        return text


def _dsn_groups(part):
    """Field groups of a message/delivery-status part: [per-message, per-recipient...]."""
    payload = part.get_payload()
    cte = str(part.get("Content-Transfer-Encoding", "")).strip().lower()
    if isinstance(payload, list):  # email parses the blocks as sub-messages
        if cte in ("base64", "quoted-printable"):
            payload = "\n".join(b.get_payload() if isinstance(b.get_payload(), str) else "" for b in payload)
        else:
            # raw values: email's own items() turns undecodable bytes into replacement characters
            return [{k.lower(): _clean(v, 10 * MAX_TEXT) for k, v in block.raw_items()} for block in payload
                    if isinstance(block, email.message.Message)]
    text = payload if isinstance(payload, str) else ""
    if cte in ("base64", "quoted-printable"):
        text = _decode_cte(text, cte)
    groups = []
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


def _text_body(parts):
    for _depth, part in parts:
        if part.get_content_type() == "text/plain":
            raw = part.get_payload(decode=True) or b""
            charset = part.get_content_charset() or "utf-8"
            try:
                return raw.decode(charset, "replace")
            except (LookupError, TypeError):  # an unknown or malformed charset name
                return raw.decode("utf-8", "replace")
    return ""


def parse_message(data):
    """Parse one bounce message (bytes or str), within the bounds above.

    Returns {is_bounce, reporting_mta, sender, subject, recipients, notes}: notes say what was cut
    (size, depth, recipients) or why the message could not be read; never raises on bad input."""
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogateescape")
    out = dict(is_bounce=False, reporting_mta=None, sender=None, subject="", recipients=[], notes=[])
    if len(data) > MAX_PARSE_BYTES:
        out["notes"].append("message of %d bytes: only its first %d bytes were read (the report parts come "
                            "first)" % (len(data), MAX_PARSE_BYTES))
        data = data[:MAX_PARSE_BYTES]
    try:
        msg = email.message_from_bytes(data, policy=email.policy.compat32)
        parts = _walk(msg)
    except (RecursionError, MemoryError):
        out["notes"].append("MIME structure nested too deeply to parse: read as plain text")
        msg, parts = None, []
    if any(d == MAX_DEPTH and isinstance(p.get_payload(), list) for d, p in parts):
        out["notes"].append("parts nested deeper than %d levels were not read" % MAX_DEPTH)
    if msg is not None:
        out["subject"] = _clean(msg.get("Subject", ""), 200)
    total = [0]

    def add(rec):
        total[0] += 1
        if len(out["recipients"]) < MAX_RECIPIENTS:
            out["recipients"].append(rec)

    # The outermost reports only: a report inside the returned message (a bounce of a bounce) is
    # about another message; a forwarded bounce has its report one level down, and that is the outermost.
    reports = [(d, p) for d, p in parts if p.get_content_type() in ("message/delivery-status",
                                                                    "message/global-delivery-status")]
    top = min((d for d, _p in reports), default=None)
    for _depth, part in (r for r in reports if r[0] == top):
        groups = _dsn_groups(part)
        if not groups:
            continue
        out["is_bounce"] = True
        out["reporting_mta"] = out["reporting_mta"] or _clean(_type_value(groups[0].get("reporting-mta")), 300) or None
        out["sender"] = out["sender"] or _clean(_type_value(groups[0].get("x-postfix-sender")), 320) or None
        # The per-message group carries no recipient or status, so every group is tried
        # (a whitespace-only separator line can merge the first two groups).
        for g in groups:
            _add_group(g, "dsn", add)
    if not out["recipients"]:
        # A report the MIME parser could not reach: inside a message forwarded inline, behind a
        # broken boundary, or in a structure too deep to parse. Its fields are still there as text.
        text = data.decode("utf-8", "replace")
        embedded = _text_dsn_groups(text)
        if embedded:
            out["is_bounce"] = True
            m = re.search(r"(?im)^(?:> ?)*X-Postfix-Sender\s*:\s*(.*)$", text)
            out["sender"] = out["sender"] or (_clean(_type_value(m.group(1)), 320) if m else None)
            for g in embedded:
                _add_group(g, "embedded", add)
        else:
            _postfix_text(parts, msg, out, add)
    if total[0] > len(out["recipients"]):
        out["notes"].append("%d recipients in this report: the first %d were kept" % (total[0], MAX_RECIPIENTS))
    out["sender"] = out["sender"] or None
    return out


def _add_group(g, source, add):
    final = _type_value(g.get("final-recipient"))
    rcpt = _type_value(g.get("original-recipient")) or final
    if not rcpt and not g.get("status"):
        return
    raw = " ".join((g.get("diagnostic-code") or "").split())
    dtype = raw.split(";", 1)[0].strip() if ";" in raw else None
    diag = _type_value(raw)
    if not diag:
        # No Diagnostic-Code: the words some MTAs put after the Status code ("5.0.0 (recipient
        # reached disk quota)", "553 Exceeded maximum inbound message size") are the reply.
        diag = STATUS_RE.sub("", g.get("status") or "", 1).strip(" ()") if STATUS_RE.search(g.get("status") or "") \
            else (g.get("status") or "").strip()
        diag = "" if re.fullmatch(r"[\d. ]*", diag) else diag
    if g.get("x400-supplementary-info"):  # an X.400 gateway's report names the real error here
        diag = (diag + " " + g["x400-supplementary-info"].strip('" ')).strip()
    # The address the sender wrote (Original-Recipient) is the one an admin acts on; the
    # rewritten Final-Recipient is kept beside it.
    add(_record(rcpt or None, g.get("status"), g.get("action"), diag or None,
                _type_value(g.get("remote-mta")) or None, source=source, final=final or None, dtype=dtype))


def _postfix_text(parts, msg, out, add):
    """No RFC 3464 part: Postfix's plain text ("<rcpt>: host X said: 550 5.1.1 ...") or any text bounce."""
    body = _text_body(parts)
    found = 0
    for line in _unfold(body):
        m = POSTFIX_RCPT_RE.match(line.strip())
        if m:
            rcpt, reason = m.groups()
            remote = re.search(r"host (\S+) said: ", reason)
            # Old Postfix text bounces carry no action: the subject tells delayed from failed.
            action = "delayed" if re.search(r"delayed|still being retried", out["subject"], re.I) else "failed"
            add(_record(rcpt, None, action, reason, remote.group(1) if remote else None, "text"))
            found += 1
    if found:
        out["is_bounce"] = True
        return
    m = FAIL_STATUS_RE.search(body)
    sender = str(msg.get("From", "")) if msg is not None else ""
    if m and re.search(r"mailer-daemon|postmaster|mail delivery", sender + out["subject"], re.I):
        out["is_bounce"] = True
        add(_record(None, m.group(0), None, None, None, "text"))


_QUOTE_RE = re.compile(r"^(?:> ?)+")
_FIELD_RE = re.compile(r"^(?:> ?)*(Final-Recipient|Original-Recipient|Action|Status|Diagnostic-Code|Remote-MTA)"
                       r"\s*:\s*(.*)$", re.I)


_PER_RCPT = {"action", "status", "diagnostic-code", "remote-mta"}


def _text_dsn_groups(text):
    """Per-recipient field groups found anywhere in a text (quoted with '>' or not): a group
    starts at each Final-Recipient and needs an Action or a Status or a Diagnostic-Code."""
    groups, cur, key = [], None, None
    for line in text.splitlines():
        line = _QUOTE_RE.sub("", line, 1)  # a forwarded report quoted with "> ", folds included
        m = _FIELD_RE.match(line.strip())
        if m:
            key = m.group(1).lower()
            # a new recipient: its address after the previous one's fields, or any field repeated
            if cur is None or key in cur or (key in ("final-recipient", "original-recipient")
                                             and _PER_RCPT & set(cur)):
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
    """Counts by status code, class and reason, with a few examples per reason; bounces by
    destination domain and reason; and the refusals that are ours (catalog ID, or what to do)."""
    by_code, by_class, by_reason, by_domain, own = {}, {}, {}, {}, {}
    for r in records:
        by_code[r["status"] or "none"] = by_code.get(r["status"] or "none", 0) + 1
        by_class[r["class"]] = by_class.get(r["class"], 0) + 1
        reason = r.get("reason") or "undefined"
        row = by_reason.setdefault(reason, {"count": 0, "examples": [], "fault_ids": [], "causes": {}})
        row["count"] += 1
        if len(row["examples"]) < examples:
            row["examples"].append({k: r.get(k) for k in ("recipient", "status", "diagnostic")})
        if r.get("fault_id") and r["fault_id"] not in row["fault_ids"]:
            row["fault_ids"].append(r["fault_id"])
        if r.get("cause"):
            row["causes"][r["cause"]] = row["causes"].get(r["cause"], 0) + 1
        key = (r.get("domain") or "(unknown)", reason)
        d = by_domain.setdefault(key, {"domain": key[0], "reason": reason, "count": 0, "fault_id": r.get("fault_id"),
                                       "side": r.get("side")})
        d["count"] += 1
        fix = own_fix(r)
        if r.get("side") == "ours" and (r.get("fault_id") or fix):
            k = r.get("fault_id") or (r.get("cause") or reason)
            o = own.setdefault(k, {"fault_id": r.get("fault_id"), "reason": r.get("cause") or reason, "count": 0,
                                   "domains": [], "fix": fix, "example": r.get("diagnostic")})
            o["count"] += 1
            if key[0] not in o["domains"] and len(o["domains"]) < 20:
                o["domains"].append(key[0])
    domains = sorted(by_domain.values(), key=lambda x: (-x["count"], x["domain"], x["reason"]))
    return dict(by_status=by_code, by_class=by_class, by_reason=by_reason, by_domain=domains[:100],
                own_faults=sorted(own.values(), key=lambda o: -o["count"]), total=len(records))
