# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Log signatures of the cataloged faults, in every documented Postfix wording.

Each signature is (fault ID, keywords, regex), from the ID's catalog entry (fault_catalog.sig:
a new log ID is its catalog entry, nothing here). The keywords are plain substrings: the scanner
classifies the candidate lines (CANDIDATE_WORDS, below) and only runs the full regexes whose
keywords a line holds, in this order. The first regex that matches wins,
so more specific wordings come first. Named groups become evidence counters:
dest (host[ip]:port), ip, client, user, domain, file, rbl, param, rcpt, mech, where.

The regexes stay linear on long hostile lines: an alternative that starts with a run of a
character class starts only where that run starts (a lookbehind), and a bracketed or <quoted>
field stops at the next opening bracket (tests/unit/test_signature_regex.py).

The side of a line: words a remote server said ("host X said: ...") describe that server and
count per recipient domain (remote_reply), never as the local ID the same words are here.

Wording variants covered (see shared/reference/postfix-messages.md):
- Postfix 3.10 prefixes server-side session messages with "QID: " or "NOQUEUE: ".
- Postfix 3.9 appends ", sasl_username=..." to SASL failures.
- Postfix 3.7 names the Dovecot socket ("Connect to Dovecot auth socket '...' failed");
  earlier versions say "SASL: Connect to private/auth failed".
"""
from __future__ import annotations

import re

from . import dsn_parse
from . import fault_catalog as cat

# Every log ID's signature lives in its catalog entry (fault_catalog.sig): in rank order, then
# catalog order, the first regex that matches wins.
SIGNATURES = [(fid, s["words"], s["rx"]) for _rank, _pos, fid, s in sorted(
    (e["signature"]["rank"], pos, fid, e["signature"]) for pos, (fid, e) in enumerate(cat.CATALOG.items()) if e["signature"])]

COMPILED = [(fid, re.compile(rx)) for fid, _keys, rx in SIGNATURES]
KEYWORDS = sorted({k for _fid, keys, _rx in SIGNATURES for k in keys}, key=len, reverse=True)

# The scanner's candidate lines. Postfix logs almost every fault with a severity ("warning:",
# "fatal:"...), as a reject, or as the reason of a delivery status that is not "sent": those
# FAULTISH_WORDS make a line a candidate. INFO_KEYWORDS are the signature keywords that also
# come without any of them: Postfix's info-level lines (smtp's "connect to host[addr]:25: <errno>"
# and TLS verification, smtpd's "lost connection after AUTH" / "timeout after END-OF-MESSAGE",
# cleanup's size limit; see the wording reference) and the policy daemons' and milters' own
# lines. A few short words, not one word per keyword: grep's time grows with the number of
# words (57 words took twice the time of these 29 on the 1 GiB benchmark log).
FAULT_WORDS = (b"warning:", b"error:", b"fatal:", b"reject:", b"panic:")
FAULTISH_WORDS = FAULT_WORDS + (b"status=deferred", b"status=bounced", b"status=expired")
INFO_KEYWORDS = tuple(k for _fid, e in cat.CATALOG.items() if e["signature"] for k in e["signature"]["info"])
NEIGHBOUR_KEYWORDS = (
    # the neighbours' own faults (log_neighbours: dovecot's "Error:", clamav-milter's and postgrey's
    # upper case, opendkim's and the others' own wording): without these no line of theirs is read
    # from a file. grep -E with them took the same time on the 256 MiB bench log (0.50-0.93 s both).
    "Error: ", "Fatal: ", "Panic: ", "Warning: ", "ERROR:", "FATAL:", "WARNING:", "Permission denied",
    "No such file or directory", "Address already in use", "error loading key", "signing table", "key data is not",
    "dkimf_db_open", "configuration error", "FAILED", "TROUBLE", "Traceback", "No module named", "could not bind",
    "could not chdir", "cannot open", "Cannot open", "Cannot write", "You must set", "Unable to bind",
    "unknown authentication mechanism", "faulty module", "unable to dlopen", "failed to parse line", "Failed to",
    "resource unavailable", "failed connecting", "Negative greeting", "Passed UNCHECKED", "Received-SPF: Permerror",
)
INFO_WORDS = tuple(k.encode() for k in INFO_KEYWORDS)
NEIGHBOUR_WORDS = tuple(k.encode() for k in NEIGHBOUR_KEYWORDS)
CANDIDATE_WORDS = FAULTISH_WORDS + INFO_WORDS + NEIGHBOUR_WORDS
# What grep looks for when it prefilters a big file: the candidate words, and the clients
# that authenticated (log_scan.sasl_clients).
GREP_WORDS = CANDIDATE_WORDS + (b"sasl_username=",)
# The same words as one POSIX extended regex (word|word|...): GNU grep 3.8 runs one -E
# alternation in two thirds of the time it takes for the words as -F -e patterns (same lines).
GREP_ERE = "|".join(re.sub(r"([.\[\]()*+?{}|^$\\])", r"\\\1", w.decode("latin-1")) for w in GREP_WORDS)


def is_faultish(line):
    """FAULTISH.search() on a decoded line, as plain substring tests: several times faster, and
    on str, not bytes (`in` on bytes costs four times as much in CPython). Spelt out, as any()
    over FAULTISH_WORDS costs a generator per line."""
    return ("warning:" in line or "error:" in line or "fatal:" in line or "reject:" in line or "panic:" in line
            or "status=deferred" in line or "status=bounced" in line or "status=expired" in line)


# What an admin would grep for (seed 003's pattern plus deferrals and bounces): the
# "fault-looking" lines used to measure how much the catalog leaves unclassified.
FAULTISH = re.compile(rb"(?:reject|error|warning|fatal|panic):|status=(?:deferred|bounced|expired)")
# Seed 003's own pattern, for the benchmark baseline.
SEED_003_PATTERN = r"(reject|error|warning|fatal|panic):"
STATUS = re.compile(rb"status=(sent|deferred|bounced|expired)")


# Fault-looking lines that are not faults of this server: its restrictions doing their job,
# misbehaving clients, deprecation notices. Counted by kind so the "unclassified" share
# measures only what nobody recognised. Tried only on lines no signature claimed.
BENIGN = [
    ("policy_reject", r"(?:reject|reject_warning|milter-reject|proxy-reject): .*?(?:"
     r"(?:Helo command|Client host|Sender address|Recipient address|Data command) rejected: (?!Temporary lookup failure)"
     r"|\d{3} \d\.\d\.\d+ Service unavailable(?:;|$)|Protocol error|too many connections|all server ports busy"
     r"|Greylist|[Ss]pam|Command rejected|END-OF-MESSAGE)"),
    ("client_misbehaviour", r"non-SMTP command from|improper command pipelining|rate limit exceeded"
     r"|hostname \S+ does not resolve to address|hostname \S+ verification failed|address not listed for hostname"),
    ("deprecation", r"is deprecated|will be removed|DEPRECATION_README"),
    # an Internet client's TLS garbage at our server (no shared cipher, HTTP on port 25...)
    ("inbound_tls", r"/(?:smtpd|postscreen|tlsproxy)\[\d+\]: warning: TLS library problem: "),
    # a temporary answer or a dropped connection: retried (a remote server's answers are counted
    # per domain before this, by remote_reply; what reaches here is LMTP's or a loopback filter's)
    ("peer_temporary", r"status=deferred \(host \S+ said: 4\d\d[ -]"
     r"|status=deferred \(delivery temporarily suspended: lost connection with "),
    # a peer's permanent refusal of one message (its user unknown, its content policy): the bounce
    # report's statistic; blocklists, TLS and our own tables have their own IDs, tried first
    ("peer_permanent", r"/(?:smtp|lmtp)\[\d+\]: .*status=bounced \(host \S+ said: 5\d\d[ -]"),
    # our restrictions answering 5xx with an operator's text (access maps, check_*_access)
    ("policy_custom", r"/(?:smtpd|postscreen)\[\d+\]: NOQUEUE: reject: (?:RCPT|MAIL|CONNECT|EHLO|HELO|DATA|VRFY|ETRN) "
     r"from \S+: 5\d\d "),
    # the operator's header_checks / body_checks with WARN, REJECT, HOLD...: policy at work
    ("content_check", r"/cleanup\[\d+\]: (?:\S+: )?(?:warning|reject|hold|discard|redirect|filter|info): (?:header|body) "),
    # saslauthd's or Dovecot's reason beside smtpd's "authentication failed" line (counted there)
    ("auth_detail", r"SASL authentication failure: (?:Password verification failed|cannot connect)"),
    # smtpd's DNS checks of clients, senders and helo names (their DNS, not ours: a statistic)
    ("peer_dns", r"/(?:smtpd|postscreen)\[\d+\]: warning: (?:\S+: (?:address or MX|MX or address|TXT|RBL) lookup error: "
     r"(?!.*Name service error)|Unable to look up (?:NS|MX|A) host)"),
    # mail that waited maximal_queue_lifetime and went back (the causes are the deferral findings)
    ("queue_expired", r"status=expired, returned to sender"),
    # a client that went away before smtpd or postscreen could ask who it is
    ("client_gone", r"getpeername: Transport endpoint is not connected"),
    # operator notices, not faults: queue-flush advice, NIS not configured, postfix-script checks
    ("admin_notice", r"please avoid flushing the whole queue|lots of deferred mail, that is bad for performance"
     r"|NIS domain name not set|symlink leaves directory|DN \S+ not found, skipping|ignoring earlier request: "),
]
BENIGN_RX = [(name, re.compile(rx)) for name, rx in BENIGN]


def benign_kind(line):
    """Name of the first BENIGN kind (in list order) a line belongs to, or None. Only lines no
    signature claimed get here, so the loop costs nothing on normal traffic."""
    for name, rx in BENIGN_RX:
        if rx.search(line):
            return name
    return None


# --- the side of a delivery line (issue 31 item 5)
# Our SMTP client quotes what the server at the other end answered: "host X[addr] said: 452 4.2.2
# ...". Those words describe that server - its user's quota, its tables, its size limit, its disk,
# its policy - and count per recipient domain (log.remote; delivery.remote_refusal when one domain
# keeps refusing), never as the local fault the same words are here. These speak for this server:
# the delivery agents (local, virtual, pipe), LMTP (RFC 2033: a protocol to a local mail store, so
# our store), a server on loopback or a socket (a content filter passing on what our own smtpd
# said), and our servers' own lines (smtpd, postscreen, cleanup). The one peer answer about us is a
# catalog fact (peer="ours": a blocklist naming our address). A null MX is the recipient domain's
# own DNS (RFC 7505): a statistic of that domain too, whoever says it.
OUR_SPEAKERS = frozenset(("lmtp", "cleanup") + cat.DELIVERY_DAEMONS + cat.INBOUND_DAEMONS)
# Each applied where str.find found its start (a regex starting with a lookbehind is tried at every
# position; these start with a literal, and the reply is read up to REPLY_MAX characters).
PEER_SAID = re.compile(r"host (?P<dest>[^\s\[\]]+\[(?P<addr>[^\s\[\]]*)\](?::\d+)?) said: ")
NULL_MX = re.compile(r"Domain (?P<domain>[^\s()<>]+) does not accept mail")
RCPT_DOMAIN = re.compile(r"to=<[^<>\s@]*@(?P<domain>[^<>\s@]+)>")
REPLY_DOMAIN = re.compile(r"<[^<>\s@]*@(?P<domain>[^<>\s@]+)>")
ADDRESS = re.compile(r"<[^<>\s]*>")
DSN_CODE = re.compile(r"dsn=(?P<code>[245]\.\d{1,3}\.\d{1,3})")
REPLY_CODE = re.compile(r"(?P<smtp>[245])\d\d[ -](?:(?P<code>[245]\.\d{1,3}\.\d{1,3}) )?")
DELIVERY_STATUS = re.compile(r"status=(?P<status>[\w-]+)")
# a greylisting server's words, lower-cased (postgrey's "Greylisted, see ...", "greylisting in action", "graylisted")
GREYLIST = re.compile(r"gr[ae]y-?list")
REMOTE_SIDE_REGEXES = (PEER_SAID, NULL_MX, RCPT_DOMAIN, REPLY_DOMAIN, ADDRESS, DSN_CODE, REPLY_CODE, DELIVERY_STATUS,
                       GREYLIST)
REPLY_MAX = 512  # RFC 5321's longest reply line: the words that say why


def _our_address(addr):
    """A "host X[addr] said" that is this server: loopback, or no IP address at all (a socket path
    such as private/dovecot-lmtp). String tests: ipaddress costs a third of a peer line's time."""
    if addr.startswith(("127.", "::ffff:127.")) or addr == "::1":
        return True
    return not (addr[:1].isdigit() or ":" in addr)


def _at(rx, line, word):
    """rx matched where `word` (a field name such as " dsn=") starts in line, or None."""
    i = line.find(word)
    return rx.match(line, i + 1) if i >= 0 else None


def remote_reply(line, fid=None):
    """The other side a delivery line speaks for, or None when it speaks for this server.

    A dict when the line holds a remote server's answer (our SMTP client's "host X said: ...", X not
    on loopback) or a recipient domain's null MX: domain (the recipient's), kind (the benign kind it
    counts as), and groups (reason - dsn_parse's reason class, or "greylisted" / "null MX" -,
    relay, status, looks_like: the ID the same words are on our side). fid: the signature the line
    matched; an ID whose catalog fact says peer="ours" keeps its line."""
    said = line.find(" said: ")
    null = line.find("does not accept mail")
    if said < 0 and null < 0:
        return None
    if fid is not None and cat.CATALOG[fid]["peer"] == "ours":
        return None
    is_postfix, daemon = program_of(line)
    if is_postfix is False or daemon in OUR_SPEAKERS:
        return None
    h = line.rfind("host ", 0, said) if said > 0 else -1
    m = PEER_SAID.match(line, h) if h >= 0 and (h == 0 or line[h - 1] in " (:") else None
    relay, words = None, ""
    if m is not None:
        if _our_address(m.group("addr")):
            return None
        relay, words = m.group("dest"), line[m.end():m.end() + REPLY_MAX]
    null = NULL_MX.search(line, max(0, null - 300)) if null >= 0 else None
    if m is None:
        if null is None:
            return None
        words = line[null.start():null.start() + REPLY_MAX]
    words = words.partition(" (in reply to ")[0]
    status = _at(DELIVERY_STATUS, line, " status=")
    status = status.group("status") if status else None
    reply = REPLY_CODE.match(words)
    code = _at(DSN_CODE, line, " dsn=")
    code = code.group("code") if code else (reply.group("code") if reply else None)
    temporary = status == "deferred" if status in ("deferred", "bounced") else (
        (code or (reply.group("smtp") if reply else "5")).startswith("4"))
    if null is not None:
        reason, kind = "null MX", "null_mx"
    elif temporary and GREYLIST.search(words.lower()):
        reason, kind = "greylisted", "peer_greylisting"
    else:
        reason = _reason(code, words)
        kind = "peer_temporary" if temporary else "peer_permanent"
    where = null or _at(RCPT_DOMAIN, line, " to=<") or REPLY_DOMAIN.search(words)
    domain = where.group("domain").lower().rstrip(".")[:253] if where else "(unknown)"
    groups = {"reason": reason, "relay": relay, "status": status, "looks_like": fid}
    return {"domain": domain, "kind": kind, "groups": groups}


def _reason(code, words):
    """dsn_parse's reason class of a reply, remembered by its words without the addresses (a peer
    says the same to every recipient, and to every retry)."""
    key = (code, ADDRESS.sub("<>", words))
    reason = _REASONS.get(key)
    if reason is None:
        reason = dsn_parse.reason_of(code, words)[0]
        if len(_REASONS) < 2000:  # a log holds few distinct replies; a hostile log cannot grow this
            _REASONS[key] = reason
    return reason


_REASONS = {}


# The syslog tag of a line: "Nov 28 10:00:00 host TAG[pid]: " or "2026-11-28T10:00:00+01:00 host TAG[pid]: ".
TAG_RE = re.compile(r"^(?:[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d|\d{4}-\d\d-\d\dT\S+) +\S+ +([^\s\[:]+)(?:\[\d+\])?: ")


# Programs other than Postfix whose lines a mail log holds and the signatures route themselves
# (a journal scan reads their identifiers too, so it sees what a mail.log file would).
OTHER_PROGRAMS_READ = frozenset(cat.CONTENT_CHECKERS + ("dovecot", "saslauthd"))


def program_of(line):
    """(is_postfix, daemon) of a log line: ("postfix/smtpd" and "postfix-out/smtp" and
    "postfix/submission/smtpd" -> (True, "smtpd"/"smtp"); "opendkim" -> (False, "opendkim")).
    (None, None) when the line has no syslog header (a bare message: taken as Postfix's)."""
    m = TAG_RE.match(line)
    if not m:
        return None, None
    tag = m.group(1)
    known = _TAGS.get(tag)
    if known is None:
        known = _tag_program(tag)
        if len(_TAGS) < 1000:  # a log names few programs; a hostile log cannot grow this
            _TAGS[tag] = known
    return known


_TAGS = {}


def _tag_program(tag):
    head, slash, _rest = tag.partition("/")
    daemon = tag.rpartition("/")[2]
    if slash and (head.startswith("postfix") or daemon in POSTFIX_PROGRAMS):
        return True, daemon  # postfix/..., postfix-out/..., or a custom syslog_name such as mailout/smtp
    if tag.startswith("postfix"):
        return True, tag  # "postfix[123]:" (postfix(1) itself), "postfix-script"
    return False, daemon.lower()


# Every program of a Postfix installation, by its syslog name's last part.
POSTFIX_PROGRAMS = frozenset((
    "smtpd", "smtp", "lmtp", "local", "virtual", "pipe", "cleanup", "qmgr", "oqmgr", "pickup", "master", "bounce",
    "defer", "trace", "error", "retry", "discard", "trivial-rewrite", "postscreen", "tlsproxy", "dnsblog", "anvil",
    "scache", "showq", "verify", "proxymap", "proxywrite", "postmap", "postalias", "postsuper", "postqueue",
    "postdrop", "sendmail", "postfix-script", "postlog", "postlogd", "spawn", "flush", "tlsmgr", "postconf",
    "postkick", "postlock", "postcat", "postmulti", "qmqpd", "lmtp"))


def route(fid, line):
    """Where a line classified as `fid` counts, by the program that wrote it (the catalog entry's `log`):
    "ids" (a finding's evidence), "inbound" (a server's line about a client: a statistic unless
    the client is internal, decided with the operator's networks) or None (another program's
    line that only looks like this ID: dovecot's TLS errors are not Postfix's)."""
    is_postfix, daemon = program_of(line)
    if is_postfix is None:
        return "ids"  # no syslog header (a bare message): nothing to route on
    key = (fid, is_postfix, daemon, daemon == "cleanup" and "milter-" in line)
    where = _ROUTES.get(key, False)
    if where is False:
        where = _route(fid, *key[1:])
        if len(_ROUTES) < 5000:  # IDs x the programs of one log; a hostile log cannot grow this
            _ROUTES[key] = where
    return where


_ROUTES = {}


def _route(fid, is_postfix, daemon, milter):
    src = _SOURCES.get(fid) or cat.log_source(fid)
    progs = src["programs"]
    if progs == "postfix":
        if not is_postfix:
            return None
    elif daemon not in progs or (not is_postfix and daemon in _POSTFIX_DAEMONS):
        return None
    if src["inbound"] == "internal" and (
            (is_postfix and (daemon in cat.INBOUND_DAEMONS or milter)) or daemon in cat.CONTENT_CHECKERS):
        return "inbound"
    return "ids"


_POSTFIX_DAEMONS = frozenset(cat.INBOUND_DAEMONS + cat.OUTBOUND_DAEMONS + cat.DELIVERY_DAEMONS + ("cleanup", "master"))


_SOURCES = {fid: cat.log_source(fid) for fid, _keys, _rx in SIGNATURES}
# (ID, regex, words, within): within, the words one of which the line must hold too (fault_catalog.sig)
_SIGS = [(fid, rx, tuple(keys), cat.CATALOG[fid]["signature"]["within"])
         for (fid, rx), (_f, keys, _r) in zip(COMPILED, SIGNATURES)]


# Which signatures a line may match, without testing every signature's words (issue 31 item 7:
# the cost per line stays flat as the catalog grows). A word of a signature that holds a
# space-delimited token inside it (" version " in "wrong version number") is found through that
# token: a line holding the word holds the token among line.split(). A word with no such token
# ("Connection refused", "ailbox full") is tested with `in` on every line, as before. The
# candidates are then tried in signature order exactly as a test of every signature would.
def index(sigs):
    """(token -> signature positions, [(loose word, positions)], the tokens) for a list of (ID,
    regex, words, within): a signature with `within` words is found through those."""
    by_token, loose = {}, {}
    for pos, (_fid, _rx, keys, within) in enumerate(sigs):
        for k in within or keys:
            inner = k.split(" ")[1:-1]  # the tokens with a space on both sides inside the word
            inner = [t for t in inner if t]
            if inner:
                by_token.setdefault(max(inner, key=len), set()).add(pos)
            else:
                loose.setdefault(k, set()).add(pos)
    # loose words in the order of their first signature: a line that a signature before them
    # matched need not be searched for them
    loose = sorted(((min(p), k, frozenset(p)) for k, p in loose.items()), key=lambda x: x[0])
    return ({t: frozenset(p) for t, p in by_token.items()}, loose, frozenset(by_token))


def use(sigs):
    """Classify with these signatures from now on (the catalog's at import; the benchmark adds its
    own): (ID, regex, words) or (ID, regex, words, within)."""
    _SIGS[:] = [tuple(s) + ((),) * (4 - len(s)) for s in sigs]
    _INDEX[:] = index(_SIGS)


_INDEX = list(index(_SIGS))


def classify(line):
    """(fault_id, match) for one decoded line, or (None, None). Only signatures whose words the
    line may hold are tried (a signature's regex never matches without one of its words): first
    those its tokens point to; then, before the first of them that matched, those of the loose
    words the line holds."""
    by_token, loose, tokens = _INDEX
    cand = None
    for tok in tokens.intersection(line.split()):  # the line's tokens that are keys, found in C
        cand = by_token[tok] if cand is None else cand | by_token[tok]
    found, end = None, len(_SIGS)
    if cand is not None:
        for pos in (sorted(cand) if len(cand) > 1 else cand):
            m = _try(pos, line)
            if m is not None:
                found, end = (_SIGS[pos][0], m), pos
                break
    more = None
    for first, k, hit in loose:
        if first >= end:
            break
        if k in line:
            more = hit if more is None else more | hit
    if more is not None:
        for pos in sorted(more):
            if pos >= end:
                break
            if cand is not None and pos in cand:
                continue  # tried above, and it did not match
            m = _try(pos, line)
            if m is not None:
                return _SIGS[pos][0], m
    return found if found is not None else (None, None)


def _try(pos, line):
    """Signature pos's match on line, when the line holds its words (and a `within` word), else None."""
    _fid, rx, keys, within = _SIGS[pos]
    if within and not any(w in line for w in within):
        return None
    for k in keys:
        if k in line:
            return rx.search(line)
    return None
