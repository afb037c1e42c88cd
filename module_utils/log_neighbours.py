# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The other programs of a mail host (dovecot, opendkim, opendmarc, amavis, spamd, rspamd,
clamav-milter, saslauthd, policyd-spf, postgrey, postsrsd): what their log lines mean.

classify(program, message) -> (kind, name, subject) or None
  kind: "benign" (name: a benign class, with its reason in REASONS), "statistic" (name: an
  inbound statistic class: noise from the Internet, counted, never a fault), "family" (name: a
  log_families family: a fault of this host whose fix is here) or "id" (name: a catalog fault ID);
  subject: the file, parameter, table, socket or peer the message names, or None.
Where the catalog already has the exact meaning of a neighbour's line, the answer is its ID:
OpenDKIM's failed verification is auth.dkim_fail and a policy daemon's SPF permerror is
auth.spf_permerror, both counted as inbound (a statistic unless the client is internal, as the
signatures route them), so a line means the same whichever of the two reads it first.

program is the syslog tag without its [pid] ("dovecot", "amavis", "postfix/policy-spf": its last
part counts); message is what follows "TAG[PID]: ". None: not a line of these programs, or a
wording this module does not know (the caller counts it as unclassified).

Written from each program's own sources and documentation (Dovecot's login and auth processes,
OpenDKIM's and OpenDMARC's syslog calls, amavisd-new's log templates, clamav-milter's clamfi.c,
saslauthd's ipc_unix.c, postgrey's mylog_action, postsrsd's handle_forward/handle_reverse, pypolicyd-
spf, spamd and libspamc, rspamd's task log). Cheap by construction: a dict dispatch on the program,
then plain substring tests; the few regexes start with a literal and run only where find() found it.
"""
from __future__ import annotations

import re

MAX_MESSAGE = 4096  # the scanner classifies the first 4096 bytes of a line: the same bound here

REASONS = {
    "lifecycle": "a daemon starting, reloading or stopping, and what it loaded",
    "session": "an ordinary client session: connect, login, logout",
    "delivery": "mail stored or handed on as it should be",
    "verdict": "a check that passed: clean mail, a valid signature, an SPF or DMARC pass",
    "signing": "our outgoing mail got its DKIM signature",
    "decision_note": "a filter saying why it let a message through untouched (not ours, whitelisted, excluded)",
    "housekeeping": "periodic maintenance and counters of a daemon",
    "self_repair": "Dovecot rebuilding a damaged index or cache file by itself",
    "debug": "verbose or debug output",
    "rewrite": "postsrsd rewriting a sender or bounce address, as it is there to do",
}

# Inbound statistics: what the Internet does to a mail host, counted per class and never a fault.
STATISTICS = frozenset((
    "dovecot_auth_failed", "dovecot_tls_handshake_failed", "dovecot_login_abandoned", "dovecot_plaintext_refused",
    "dovecot_connection_limit", "dovecot_client_protocol_error", "dovecot_quota_exceeded",
    "dkim_inbound_no_signature", "dkim_inbound_key_unavailable",
    "dkim_inbound_malformed", "dkim_inbound_spoofed_sender",
    "dmarc_inbound_fail", "dmarc_inbound_temperror", "dmarc_inbound_malformed",
    "amavis_blocked_spam", "amavis_blocked_infected", "amavis_blocked_banned", "amavis_blocked_bad_header",
    "amavis_blocked_oversized", "amavis_blocked_outbound", "amavis_tagged", "amavis_unchecked_encrypted",
    "amavis_decode_failed",
    "spamd_identified_spam", "rspamd_rejected", "rspamd_soft_rejected", "rspamd_greylisted", "rspamd_tagged",
    "clamav_infected", "saslauthd_auth_failed", "saslauthd_bad_request",
    "spf_inbound_fail", "spf_inbound_softfail", "spf_inbound_temperror",
    "postgrey_greylisted", "postsrsd_bad_srs", "postsrsd_not_rewritten",
))

# A path in a message: starts with "/" and stops at a blank, a quote, a bracket, a comma or a colon.
PATH = re.compile(r"/[^\s'\"`()<>\[\],;:]*")
# "<tag>; module; function: text" (rspamd's syslog lines)
RSPAMD_HEAD = re.compile(r"<[^<>\s]*>; (?P<module>[\w-]+); (?P<func>[\w.:-]+): ")
# amavisd-new's log id: "(01234-05) " or "(01234-05-2) "
AMAVIS_ID = re.compile(r"\(\d+(?:-\d+)+\) ")
REGEXES = (PATH, RSPAMD_HEAD, AMAVIS_ID)  # tests/unit/test_log_neighbours.py checks their shape


# ---------------------------------------------------------------- helpers
def _path(text, start=0):
    """The first path at or after `start`, without a trailing dot, or None."""
    i = text.find("/", start)
    if i < 0:
        return None
    m = PATH.match(text, i)
    return m.group(0).rstrip(".") or None


def _errno_family(text, default=None):
    """The family an errno text names: a permission, a resource (disk, memory, descriptors)."""
    if "Permission denied" in text or "Operation not permitted" in text:
        return "permission"
    if ("No space left" in text or "Disk quota exceeded" in text or "Too many open files" in text
            or "Cannot allocate memory" in text or "Out of memory" in text or "out of memory" in text):
        return "resource"
    return default


def _after(text, word, stop=None):
    """The text after `word` up to `stop` (or a blank), or None when `word` is absent."""
    i = text.find(word)
    if i < 0:
        return None
    rest = text[i + len(word):]
    if stop is not None:
        return rest.partition(stop)[0] or None
    return rest.split(None, 1)[0].strip("'\".,") if rest.strip() else None


def _milter_socket(msg):
    """libmilter's own words when a milter cannot open its socket (OpenDKIM, OpenDMARC,
    clamav-milter): "X Filter: Unable to bind to port local:/path: Permission denied"."""
    if "Unable to bind to port" in msg or "Unable to create listening socket" in msg or "smfi_opensocket" in msg:
        sock = _after(msg, " port ", ": ") or _after(msg, " on conn ", ": ") or _path(msg)
        return "family", _errno_family(msg, "config"), sock
    return None


def _bayes(msg):
    """SpamAssassin (in spamd or amavis) that cannot open its Bayes store."""
    if "cannot open bayes databases" in msg:
        return "family", _errno_family(msg, "resource"), _path(msg)
    return None


# ---------------------------------------------------------------- dovecot
_DOVECOT_LEVELS = ("Error: ", "Fatal: ", "Panic: ", "Warning: ", "Info: ", "Debug: ")
_AUTH_FAILED = ("unknown user", "Password mismatch", "authentication failure", "Authentication failure",
                "pam_authenticate() failed", "user unknown", "Empty username", "disallowed character",
                "Invalid base64", "timeouted after", "waiting for client to continue authentication")


def _dovecot(msg):
    if msg.startswith("dovecot: "):  # some syslog setups repeat the tag
        msg = msg[9:]
    head, sep, rest = msg.partition(": ")
    if not sep:
        return None
    proc = head.partition("(")[0]
    level = ""
    if rest.startswith(_DOVECOT_LEVELS):
        level, _s, rest = rest.partition(": ")
    if level == "Debug":
        return "benign", "debug", None
    if proc.endswith("-login"):
        return _dovecot_login(level, rest)
    if proc in ("auth", "auth-worker"):
        return _dovecot_auth(level, rest)
    if proc == "master":
        return _dovecot_master(level, rest)
    if proc in ("config", "doveconf"):
        return _dovecot_config(rest)
    if proc in ("lmtp", "lda", "deliver"):
        return _dovecot_delivery(level, rest)
    if proc in ("imap", "pop3", "submission", "managesieve", "indexer-worker", "doveadm"):
        return _dovecot_mail(level, rest)
    if proc == "ssl-params":
        return "benign", "housekeeping", None
    return None


def _dovecot_tls_setup(rest):
    """Our own TLS material that Dovecot cannot load (ssl_cert / ssl_key)."""
    if ("SSL server context" in rest or "Can't load SSL certificate" in rest or "Can't load private" in rest
            or "ssl_cert" in rest or "ssl_key" in rest or "ssl_ca" in rest):
        return "family", "tls", _path(rest) or _after(rest, "(", ")")
    return None


def _dovecot_login(level, rest):
    if rest.startswith("Login: ") or "started proxying" in rest:
        return "benign", "session", None
    tls = _dovecot_tls_setup(rest)
    if tls:
        return tls
    if "auth failed" in rest:
        return "statistic", "dovecot_auth_failed", None
    if ("TLS handshaking" in rest or "SSL_accept() failed" in rest or "Failed to initialize SSL" in rest
            or "TLS handshake" in rest or "SSL routines" in rest):
        return "statistic", "dovecot_tls_handshake_failed", None
    if "plaintext auth" in rest:
        return "statistic", "dovecot_plaintext_refused", None
    if "Maximum number of connections" in rest:
        return "statistic", "dovecot_connection_limit", None
    if "Too many invalid" in rest or "Too many bad commands" in rest:
        return "statistic", "dovecot_client_protocol_error", None
    if ("no auth attempts" in rest or "before greeting" in rest or "Inactivity" in rest
            or "while authenticating" in rest or "didn't finish SASL auth" in rest):
        return "statistic", "dovecot_login_abandoned", None
    if "Auth process not responding" in rest or "auth-login" in rest or "auth-client" in rest:
        return "family", "sasl", _path(rest) or "dovecot auth"
    if rest.startswith(("Disconnected", "Aborted login", "Login aborted")) or "proxy(" in rest:
        return "benign", "session", None
    return None


def _dovecot_auth(level, rest):
    if any(w in rest for w in _AUTH_FAILED):
        return "statistic", "dovecot_auth_failed", None
    if "disconnected with" in rest and "pending requests" in rest:
        return "benign", "session", None
    if "Connected to" in rest:
        return "benign", "lifecycle", None
    if level in ("Error", "Fatal", "Panic"):
        if ("Connect failed to database" in rest or "Not connected to database" in rest or "LDAP" in rest
                or "ldap" in rest or "Query failed" in rest):
            return "family", "lookup_table", _after(rest, "(", ")") or "dovecot auth backend"
        fam = _errno_family(rest)
        if fam:
            return "family", fam, _path(rest)
        if "No such file" in rest or "Can't open" in rest or "Unknown" in rest or "configuration" in rest:
            return "family", "config", _path(rest)
        if "Support not compiled in" in rest:
            return "family", "version", _after(rest, "driver '", "'")
    return None


def _dovecot_master(level, rest):
    if "starting up" in rest or "Killed with signal" in rest or "SIGHUP received" in rest:
        return "benign", "lifecycle", None
    if "process_limit" in rest or "client_limit" in rest or "vsz_limit" in rest:
        return "family", "resource", _after(rest, "service(", ")")
    if "net_listen_unix(" in rest or "bind(" in rest or "Socket already exists" in rest:
        path = _path(rest)
        if rest.startswith("service(auth)") and path and "/private/" in path:
            return "id", "sasl.dovecot_socket", path  # the listener Postfix's smtpd_sasl_path names
        return "family", _errno_family(rest, "config"), path
    if "command startup failed" in rest:
        return "family", "internal", _after(rest, "service(", ")")
    if "killed with signal 9" in rest:
        return "family", "resource", _after(rest, "service(", ")")
    if "Error in configuration" in rest:
        return _dovecot_config(rest)
    return None


def _dovecot_config(rest):
    if "Error in configuration" in rest or "Unknown setting" in rest or "Fatal" in rest or "Error" in rest:
        i = rest.find("Can't open file")  # the file a setting names, rather than the file that sets it
        return "family", "tls" if "ssl_" in rest else "config", _path(rest, max(i, 0))
    return None


def _dovecot_delivery(level, rest):
    if "Connect from local" in rest or "Disconnect from local" in rest:
        return "benign", "session", None
    if ("saved mail to" in rest or "stored mail into mailbox" in rest or "forwarded to" in rest
            or "discarded" in rest or "sieve:" in rest and not level):
        return "benign", "delivery", None
    return _dovecot_storage(level, rest)


def _dovecot_mail(level, rest):
    if not level and ("Logged out" in rest or "Disconnected" in rest or "Connection closed" in rest
                      or "Server shutting down" in rest):
        return "benign", "session", None
    if "Too many invalid" in rest:
        return "statistic", "dovecot_client_protocol_error", None
    return _dovecot_storage(level, rest)


def _dovecot_storage(level, rest):
    """A mailbox process's trouble with the mail store."""
    if "Disk quota exceeded" in rest or "No space left" in rest:
        return "family", "resource", _path(rest)
    if "Quota exceeded" in rest or "quota exceeded" in rest or "Not enough disk quota" in rest:
        return "statistic", "dovecot_quota_exceeded", None  # one user's mailbox: Postfix's line carries it
    if "Corrupted" in rest or "Broken physical size" in rest or "Cached message size" in rest or "rebuilding" in rest:
        return "benign", "self_repair", None
    if level not in ("Error", "Fatal", "Panic"):
        return None
    fam = _errno_family(rest)
    if fam:
        return "family", fam, _path(rest)
    if "Error in configuration" in rest:
        return _dovecot_config(rest)
    return None


# ---------------------------------------------------------------- opendkim, opendmarc
def _opendkim(msg):
    if msg.startswith("OpenDKIM Filter"):
        return _milter_socket(msg) or ("benign", "lifecycle", None)
    if "key retrieval failed" in msg:
        return "statistic", "dkim_inbound_key_unavailable", None  # the sender's DNS
    if "key data is not secure" in msg:
        return "family", "permission", _path(msg, msg.find("not secure"))
    if "error loading key" in msg or "signing table references unknown key" in msg or "can't load key" in msg:
        return "family", "config", _after(msg, "key '", "'") or _path(msg)
    if "no signing table match for" in msg:
        # mail we would sign whose domain is not in SigningTable: the subject is that domain
        addr = _after(msg, "match for '", "'") or ""
        return "family", "config", addr.rpartition("@")[2] or None
    if "dkimf_db_" in msg:
        return "family", _errno_family(msg, "lookup_table"), _path(msg)
    if "configuration error" in msg:
        return "family", "config", _path(msg)
    if "resource unavailable" in msg:
        if "PrivateKey" in msg:
            return "family", "config", "private key"
        return "family", _errno_family(msg, "resource"), None
    sock = _milter_socket(msg)
    if sock:
        return sock
    if "bad signature data" in msg or "signature verification failed" in msg or "DKIM verification failed" in msg or (
            "SSL error:" in msg and "s=" in msg):
        # the catalog's own words for it: routed as inbound (a statistic unless the client is internal)
        return "id", "auth.dkim_fail", None
    if "no signature data" in msg:
        return "statistic", "dkim_inbound_no_signature", None
    if "syntax error" in msg or "can't parse From: header" in msg or "no sender header" in msg:
        return "statistic", "dkim_inbound_malformed", None
    if "attempted to send as" in msg:
        return "statistic", "dkim_inbound_spoofed_sender", None
    if "DKIM verification successful" in msg:
        return "benign", "verdict", None
    if "DKIM-Signature field added" in msg or "DKIM-Signature header added" in msg:
        return "benign", "signing", None
    if ("not internal" in msg or "not authenticated" in msg or "message has signatures from" in msg
            or "ADSP" in msg or "failed to parse Authentication-Results" in msg or "ignoring header field" in msg):
        return "benign", "decision_note", None
    return None


_DMARC_RESULTS = {"pass": ("benign", "verdict", None), "none": ("benign", "verdict", None),
                  "bestguesspass": ("benign", "verdict", None),
                  "fail": ("statistic", "dmarc_inbound_fail", None),
                  "temperror": ("statistic", "dmarc_inbound_temperror", None),
                  "permerror": ("statistic", "dmarc_inbound_fail", None)}


def _opendmarc(msg):
    if msg.startswith("OpenDMARC Filter"):
        return _milter_socket(msg) or ("benign", "lifecycle", None)
    words = msg.split(" ")
    if len(words) == 3 and words[0].endswith(":"):  # "QID: from-domain result"
        return _DMARC_RESULTS.get(words[2])
    if "fopen()" in msg or "fwrite()" in msg or "flock(" in msg or "lockf(" in msg or "popen()" in msg:
        return "family", _errno_family(msg, "config"), _path(msg)
    if "can't configure" in msg or "configuration error" in msg or "public suffix" in msg.lower():
        return "family", "config", _path(msg)
    sock = _milter_socket(msg)
    if sock:
        return sock
    if "From header" in msg or "From field" in msg or "RFC5322" in msg:
        return "statistic", "dmarc_inbound_malformed", None
    if "ignoring Authentication-Results" in msg or "SPF(mailfrom)" in msg or "SPF(helo)" in msg:
        return "benign", "decision_note", None
    return None


# ---------------------------------------------------------------- amavis
_AMAVIS_BLOCKED = {"SPAM": "amavis_blocked_spam", "SPAMMY": "amavis_blocked_spam", "INFECTED": "amavis_blocked_infected",
                   "BANNED": "amavis_blocked_banned", "OVERSIZED": "amavis_blocked_oversized",
                   "UNCHECKED-ENCRYPTED": "amavis_unchecked_encrypted"}
_AMAVIS_START = ("starting.", "Net::Server: ", "Found decoder", "No decoder", "Internal decoder", "Found primary av",
                 "Found secondary av", "Using primary internal av", "Using secondary internal av", "Module ",
                 "Amavis::", "SpamControl: ", "ANTI-VIRUS code", "ANTI-SPAM", "extra modules loaded", "Deleting db files",
                 "Creating db in", "initializing Mail::SpamAssassin", "loaded policy bank", "Requesting process rundown",
                 "TERM received", "perl=", "Perl version", "user=", "config files read", "Lookup::SQL", "mail_via_smtp",
                 "SA info: ", "SA dbg: ", "Tests: ", "Checking: ", "p.path", "lookup_")


def _amavis(msg):
    if msg.startswith("(") and AMAVIS_ID.match(msg):
        msg = msg[msg.find(") ") + 2:]
    head = msg.split(" ", 2)
    verdict = head[0]
    if verdict in ("Passed", "Blocked") and len(head) > 1:
        return _amavis_verdict(verdict, head[1], msg)
    if "Net::Server" in msg and ("Couldn't" in msg or "Address already in use" in msg or "Can't connect" in msg):
        return "family", "config", _after(msg, "port ") or _path(msg)
    if msg.startswith(_AMAVIS_START) or msg.startswith("(!)Net::Server"):
        return "benign", "lifecycle", None
    if msg.startswith(("FWD from", "SEND from")) and " 250 " in msg:
        return "benign", "delivery", None
    if "fwd-connect" in msg or "Negative greeting" in msg or msg.startswith("(!)FWD from"):
        return "family", "filter", _after(msg, "MTA(", ")") or "re-injection to Postfix"
    if "lstat() failed" in msg or ("run_av" in msg and _errno_family(msg)):
        where = _path(msg) or ""  # amavis' work directory, not the message's own subdirectory
        return "family", _errno_family(msg, "filter"), where.partition("/amavis-")[0] or None
    if ("Can't connect to" in msg or "failed connecting to" in msg or "Too many retries to talk to" in msg
            or "Connecting to socket" in msg):
        return "family", "filter", (_after(msg, "talk to ") or _after(msg, "connecting to ", ",")
                                    or _after(msg, "socket ") or _path(msg))
    if "VIRUS SCANNERS FAILED" in msg or "virus scanners failed" in msg or "av-scanner FAILED" in msg:
        return "family", "filter", "virus scanners"
    bayes = _bayes(msg)
    if bayes:
        return bayes
    if "TROUBLE in" in msg:
        return "family", "internal", _after(msg, "TROUBLE in ", ":") or "amavis"
    if "DENIED ACCESS from IP" in msg:
        return "family", "config", "inet_acl"
    if "Decoding of" in msg and "failed" in msg:
        return "statistic", "amavis_decode_failed", None
    return None


def _amavis_verdict(verdict, category, msg):
    """"Passed CLEAN {RelayedInbound}, ..." / "Blocked SPAM {DiscardedInbound,Quarantined}, ..."."""
    category = category.rstrip(",")
    if category == "CLEAN":
        return "benign", "verdict", None
    if category == "UNCHECKED":  # the scanners could not look at it: ours to fix
        return "family", "filter", "virus scanners"
    if category == "MTA-BLOCKED":
        return "family", "filter", "re-injection to Postfix"
    if verdict == "Passed":
        if category == "UNCHECKED-ENCRYPTED":
            return "statistic", "amavis_unchecked_encrypted", None
        return "statistic", "amavis_tagged", None
    if "Outbound" in msg or "Internal" in msg or " ORIGINATING" in msg:
        return "statistic", "amavis_blocked_outbound", None  # our users' mail: counted apart from the Internet's
    if category.startswith("BAD-HEADER"):
        return "statistic", "amavis_blocked_bad_header", None
    return "statistic", _AMAVIS_BLOCKED.get(category, "amavis_blocked_spam"), None


# ---------------------------------------------------------------- spamd, spamc, rspamd
_SPAMD_LIFECYCLE = ("server started on", "server pid", "server successfully spawned", "server killed by",
                    "server hit by", "restarting", "server socket closed", "creating INET socket", "creating IPv4 socket",
                    "creating IPv6 socket", "removing stderr method", "child states", "adjust: ",
                    "handled cleanup of child")
_SPAMD_SESSION = ("connection from", "setuid to", "processing message", "checking message", "result: ",
                  "got connection over", "learned message")


def _spamd(msg):
    if "identified spam" in msg:
        return "statistic", "spamd_identified_spam", None
    bayes = _bayes(msg)
    if bayes:
        return bayes
    if "could not create" in msg or "server socket setup failed" in msg or "Address already in use" in msg:
        return "family", "config", _after(msg, " on ", ": ") or _after(msg, "socket ")
    if msg.startswith("config: ") or "failed to parse" in msg:
        return "family", "config", _after(msg, 'in "', '"') or _path(msg)
    if "still running as root" in msg:
        return "family", "config", "spamd --username"
    if msg.startswith("spamd: clean message"):
        return "benign", "verdict", None
    if any(w in msg for w in _SPAMD_SESSION):
        return "benign", "session", None
    if any(w in msg for w in _SPAMD_LIFECYCLE):
        return "benign", "lifecycle", None
    return None


def _spamc(msg):
    if "connect to spamd" in msg or "connection attempt to spamd" in msg:
        return "family", "filter", "spamd " + (_after(msg, "spamd on ") or "").strip()
    if "skipped message" in msg:
        return "benign", "decision_note", None
    return None


_RSPAMD_ACTIONS = {"no action": ("benign", "verdict", None), "reject": ("statistic", "rspamd_rejected", None),
                   "discard": ("statistic", "rspamd_rejected", None), "quarantine": ("statistic", "rspamd_rejected", None),
                   "soft reject": ("statistic", "rspamd_soft_rejected", None),
                   "greylist": ("statistic", "rspamd_greylisted", None),
                   "add header": ("statistic", "rspamd_tagged", None),
                   "rewrite subject": ("statistic", "rspamd_tagged", None)}
_RSPAMD_SESSION = ("accept_socket", "rspamd_message_parse", "rspamd_task_", "rspamd_protocol_", "rspamd_milter_",
                   "proxy_", "rspamd_controller_", "rspamd_worker_", "fuzzy_", "rspamd_stat_")


def _rspamd(msg):
    m = RSPAMD_HEAD.match(msg)
    if not m:
        return None
    module, func, text = m.group("module"), m.group("func"), msg[m.end():]
    if func == "rspamd_task_write_log":
        i = text.find("(default: ")
        act = text[i + 13:text.find(")", i + 13)] if i >= 0 else ""  # "(default: F (no action)"
        return _RSPAMD_ACTIONS.get(act, ("benign", "verdict", None))
    low = text.lower()
    if "cannot" in low or "failed" in low or "error" in low:
        fam = _errno_family(text)
        if fam:
            return "family", fam, _path(text)
        if "redis" in low:
            return "family", "filter", ("redis " + (_after(text, "redis ") or "").strip(":")).strip()
        if module in ("cfg", "config", "map") or "config" in func or "rcl" in func or "ucl" in low or "cannot bind" in low:
            return "family", "config", _path(text)
        return None
    if module == "main" or func.startswith(("rspamd_main", "main", "spawn", "rspamd_log_", "rspamd_config")):
        return "benign", "lifecycle", None
    if func.startswith(_RSPAMD_SESSION):
        return "benign", "session", None
    return None


# ---------------------------------------------------------------- clamav-milter
_CLAMD_TROUBLE = ("Failed to initiate streaming/fdpassing", "No clamd server appears to be available",
                  "No reply from clamd", "Streaming failed", "Failed to flush STREAM", "Unknown reply from clamd",
                  "FD send failed", "returned: failed")


def _clamav_milter(msg):
    if "infected by" in msg:
        return "statistic", "clamav_infected", None
    if "Clean message" in msg:
        return "benign", "verdict", None
    if any(w in msg for w in _CLAMD_TROUBLE):
        return "family", "filter", "clamd (ClamdSocket)"
    if "Failed to write temporary file" in msg:
        return "family", "resource", "TemporaryDirectory"
    if "Can't resolve hostname" in msg or "Unknown action" in msg:
        return "family", "config", _after(msg, "hostname ") or _after(msg, "action ")
    sock = _milter_socket(msg)
    if sock:
        return sock
    if "added to the pool" in msg or "Started at" in msg or "Stopped at" in msg or "returned: success" in msg:
        return "benign", "lifecycle", None
    if "Skipping scan" in msg or "Not scanning" in msg:
        return "benign", "decision_note", None
    return None


# ---------------------------------------------------------------- saslauthd
_SASLAUTHD_DOWN = ("could not bind to socket", "could not chdir to", "can not mkdir", "could not open pid lock file",
                   "could not lock pid lock file", "could not listen on socket", "could not chmod socket",
                   "could not open accept lock file", "could not create socket")
_SASLAUTHD_ROUTINE = ("master pid is", "listening on socket", "starting ", "master exited", "caught signal",
                      "num_procs", "mech_option", "run_path", "auth_mech", "accept lock", "response: ",
                      "using process model", "socket removed")


def _saslauthd(msg):
    head, sep, rest = msg.partition(": ")
    if sep and (not head.strip() or head.endswith(" ") or head.isidentifier()) and len(head) <= 32:
        msg = rest  # logger()'s "function        : " prefix
    if msg.startswith("auth failure: "):
        if "internal" in msg or "mechanism" in msg:
            return "family", "sasl", _after(msg, "[mech=", "]")
        return "statistic", "saslauthd_auth_failed", None
    if "authentication failure" in msg or "check pass; user unknown" in msg:
        return "statistic", "saslauthd_auth_failed", None
    if any(w in msg for w in _SASLAUTHD_DOWN):
        return "id", "sasl.saslauthd_down", _path(msg)
    if msg.startswith(("bind: ", "chdir: ", "listen: ", "open: ", "fcntl: ", "socket: ", "chmod: ", "Check to make sure",
                       "writeable by the user")):
        return "id", "sasl.saslauthd_down", None  # the continuation lines of the above
    if "unknown authentication mechanism" in msg or "failed to initialize mechanism" in msg or (
            "no authentication mechanism" in msg):
        return "family", "config", _after(msg, "mechanism: ") or _after(msg, "mechanism ") or "MECHANISMS"
    if "PAM unable to dlopen" in msg or "PAM adding faulty module" in msg:
        return "family", "sasl", _after(msg, "dlopen(", ")") or _after(msg, "module: ") or _path(msg)
    if "mechanism returned unknown response" in msg or "internal mechanism failure" in msg:
        return "family", "sasl", _after(msg, "response: ")
    if "exceeded MAX_REQ_LEN" in msg or "NULL login received" in msg or "NULL password received" in msg:
        return "statistic", "saslauthd_bad_request", None
    if "session opened" in msg or "session closed" in msg or msg.startswith("auth success"):
        return "benign", "session", None
    if any(w in msg for w in _SASLAUTHD_ROUTINE):
        return "benign", "lifecycle", None
    return None


# ---------------------------------------------------------------- policyd-spf (python and perl)
_SPF_RESULTS = {"pass": ("benign", "verdict", None), "none": ("benign", "verdict", None),
                "neutral": ("benign", "verdict", None), "fail": ("statistic", "spf_inbound_fail", None),
                "softfail": ("statistic", "spf_inbound_softfail", None),
                "permerror": ("id", "auth.spf_permerror", None),  # the catalog's: inbound, a statistic
                "temperror": ("statistic", "spf_inbound_temperror", None)}


def _policyd_spf(msg):
    i = msg.find("Received-SPF: ")
    if i >= 0:  # "prepend Received-SPF: Softfail (mailfrom) identity=..." / perl's "action=PREPEND Received-SPF: pass"
        return _SPF_RESULTS.get(msg[i + 14:i + 24].split(" ", 1)[0].rstrip(";").lower())
    first = msg.split(";", 1)[0].split(" ", 1)[0].lower()
    if first in _SPF_RESULTS and "identity=" in msg:  # "Softfail; identity=mailfrom; client-ip=..."
        return _SPF_RESULTS[first]
    if "SPF permanent error" in msg or "Permanent Error" in msg or "PermError" in msg:  # perl policy-spf
        return "id", "auth.spf_permerror", None
    if "rejected due to: SPF fail" in msg or "action=550" in msg or "action=5" in msg and "openspf" in msg:
        return "statistic", "spf_inbound_fail", None
    if "deferred due to" in msg or "action=DEFER_IF_PERMIT" in msg or "action=450" in msg:
        return "statistic", "spf_inbound_temperror", None
    if "ModuleNotFoundError" in msg or "ImportError" in msg or "No module named" in msg:
        return "family", "version", _after(msg, "named ", None)
    exc = msg.partition(": ")[0]
    if "Traceback" in msg or msg.startswith("File \"") or (exc.endswith(("Error", "Exception")) and exc.isidentifier()):
        return "family", "internal", "policyd-spf"  # Python's traceback: the daemon died on this request
    if msg.startswith(("Starting", "Config: ", "Config Options", "spfcheck: ", "Whitelist", "skip_addresses",
                       "Policy action=DUNNO", "action=DUNNO", "Found the end of entry", "Read line", "Attributes: ")):
        return "benign", "debug", None
    return None


# ---------------------------------------------------------------- postgrey, postsrsd
_POSTGREY_ROUTINE = ("cleaning up old", "cleaning main database finished", "cleaning clients database finished",
                     "HUP received", "rm /")
_NET_SERVER = ("Process Backgrounded", "starting! pid(", "Binding to ", "Setting gid to", "Setting uid to",
               "Server closing!", "Exiting!", "Resolved [", "Group Not Defined", "User Not Defined")


def _postgrey(msg):
    head, sep, rest = msg.partition(": ")
    if sep and head.isalnum() and rest.startswith("action="):  # "QID: action=..."
        msg = rest
    if msg.startswith("action=greylist"):
        return "statistic", "postgrey_greylisted", None
    if msg.startswith("action=pass") or msg.startswith("whitelisted: "):
        return "benign", "decision_note", None
    if msg.startswith(_POSTGREY_ROUTINE):
        return "benign", "housekeeping", None
    low = msg[:12].lower()
    if low.startswith(("fatal: ", "warning: ")) or "ERROR: " in msg:
        if "locked: " in msg:
            return "family", "config", _path(msg)  # another postgrey holds the database
        if "lock file" in msg:
            return "family", _errno_family(msg, "permission"), _path(msg)
        if "DB environment" in msg or "database" in msg or "checkpoint" in msg:
            where = _after(msg, "dbdir: ", " ") or _path(msg) or "postgrey database"
            return "family", _errno_family(msg, "lookup_table"), where
        if "can't open" in msg:
            return "family", _errno_family(msg, "config"), _path(msg)
        return None
    if any(w in msg for w in _NET_SERVER):
        if "Couldn't" in msg or "Address already in use" in msg or "Can't connect" in msg:
            return "family", "config", _after(msg, "port ")
        return "benign", "lifecycle", None
    return None


_SRS_FORGED = ("Hash invalid", "Time stamp out of date", "Hash too short", "No hash", "Time stamp",
               "Invalid SRS", "not an SRS", "No at sign")


def _postsrsd(msg):
    if msg.startswith("postsrsd: "):
        msg = msg[10:]
    if msg.startswith(("srs_forward: ", "srs_reverse: ")):
        if " rewritten as " in msg:
            return "benign", "rewrite", None
        if "excluded by policy" in msg or "Valid SRS address" in msg:
            return "benign", "decision_note", None
        if msg.startswith("srs_reverse") and any(w in msg for w in _SRS_FORGED):
            return "statistic", "postsrsd_bad_srs", None  # a bounce to an address we never wrote: backscatter
        if "not rewritten" in msg:
            return "statistic", "postsrsd_not_rewritten", None
        return None
    if "secret" in msg and ("Cannot" in msg or "cannot" in msg or "must set" in msg or "No " in msg or "no " in msg):
        return "family", _errno_family(msg, "config"), _path(msg) or "SRS_SECRET"
    if "home domain" in msg:
        return "family", "config", "SRS_DOMAIN"
    if "Cannot write PID" in msg:
        return "family", "permission", _path(msg)
    if "chroot" in msg or "No such user" in msg or "Failed to lookup user" in msg or "bind" in msg:
        return "family", "config", _path(msg) or _after(msg, "user: ")
    if "starting" in msg or "listening on" in msg or "shutting down" in msg:
        return "benign", "lifecycle", None
    return None


# ---------------------------------------------------------------- dispatch
_BY_PROGRAM = {
    "dovecot": _dovecot, "opendkim": _opendkim, "opendmarc": _opendmarc,
    "amavis": _amavis, "amavisd": _amavis, "amavisd-new": _amavis,
    "spamd": _spamd, "spamc": _spamc, "rspamd": _rspamd, "clamav-milter": _clamav_milter,
    "saslauthd": _saslauthd, "policyd-spf": _policyd_spf, "policy-spf": _policyd_spf,
    "postfix-policyd-spf-python": _policyd_spf, "postgrey": _postgrey, "postsrsd": _postsrsd,
}
PROGRAMS = frozenset(_BY_PROGRAM)


def classify(program, message):
    """(kind, name, subject) for one line of a neighbour program, or None (see the module doc)."""
    handler = _BY_PROGRAM.get(program)
    if handler is None:
        if not isinstance(program, str):
            return None
        handler = _BY_PROGRAM.get(program.rpartition("/")[2].lower())
        if handler is None:
            return None
    if isinstance(message, bytes):
        message = message[:MAX_MESSAGE].decode("utf-8", "replace")
    elif not isinstance(message, str):
        return None
    message = message[:MAX_MESSAGE].strip()
    if message.startswith("message repeated ") and ": [" in message:  # rsyslog's repeat reduction
        message = message.partition(": [")[2].rstrip("]").strip()
    return handler(message) if message else None
