# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fault catalog as data: one entry per fault ID, every fact about it in that entry.

IDs are the public contract (findings, tags, report rows, remediation switches). Each entry
gives the fix class, a default severity, the cause in plain words and the documented fix steps.
Detectors add the host-specific parts (which resolver, which file, which parameter value).
"""
from __future__ import annotations

AUTO, OPT_IN, ADVISORY = "auto", "opt-in", "advisory"
SEVERITIES = ("critical", "high", "medium", "low", "info")


# Where each log ID's lines come from, and what a match means (issue 17). Postfix daemons are
# named without their syslog prefix (postfix/smtpd, postfix-out/smtp and
# postfix/submission/smtpd all give "smtpd"); other programs by their syslog tag.
#   programs: who may write a line of this ID; a line of another program does not count.
#             "postfix" = any Postfix daemon (the default for every ID not listed here).
#   inbound:  what a line written by a server for a client (smtpd, postscreen) means:
#             "fault"    - a fault of ours either way (the default);
#             "internal" - policy working or Internet noise, a statistic, unless the client is in
#                          our internal networks (then a finding).
INBOUND_DAEMONS = ("smtpd", "postscreen", "tlsproxy", "dnsblog")
OUTBOUND_DAEMONS = ("smtp", "lmtp")
DELIVERY_DAEMONS = ("local", "virtual", "pipe")
# Programs that check incoming mail (milters, content filters, policy daemons): their lines are
# about mail others sent us, so they count as inbound.
CONTENT_CHECKERS = ("opendkim", "opendmarc", "amavis", "amavisd", "rspamd", "spamd", "policyd-spf", "policy-spf",
                    "postfix-policyd-spf-python", "postgrey")


# Every per-ID fact beside class, severity, title, cause and steps, with its default. Roles, rules and
# the report read these (through the findings or this module); no other place lists fault IDs.
FACTS = dict(
    # log: who may write a line of this ID and what a server-side (inbound) line means; see above.
    log=None,
    # inbound_finding: (class or None, summary %d) when an inbound line of an internal client is a finding.
    inbound_finding=None,
    # peer: what these words mean when another server says them (an SMTP client's "host X said: ..."):
    # "theirs" - that server's own state (its user's quota, its tables, its size limit, its disk, its
    #            policy): a delivery statistic of the recipient domain (delivery.remote_refusal), never
    #            this ID; "ours" - the peer says something about us (a blocklist names our address).
    peer="theirs",
    # sporadic: every healthy server logs it now and then; a finding only from log_min_count lines.
    sporadic=False,
    # live_check: the probe group that also decides it (probes, config, no_sasl); when that check ran
    # and passed, log lines of this ID are history.
    live_check=None,
    # explained_by: root-cause IDs; when one is found too, this finding is its symptom.
    explained_by=(),
    # outside: who has to act when the fix is not on this box (the report's "needs someone outside").
    outside=None,
    # releases_mail: its fix lets deferred mail go out again (the remediation flushes the queue).
    releases_mail=False,
    # phase: when the remediation applies the fix: "config" (before the reload/restart) or "queue"
    # (after Postfix is up again).
    phase="config",
    # starts_postfix: the fix is to start a stopped Postfix.
    starts_postfix=False,
    # verify_gone: the second diagnosis must not show it again (false: it drains over time).
    verify_gone=True,
    # opt_in: the data an operator gives in postfix_remediate_opt_in[ID]: name -> (type, required, meaning).
    opt_in=None,
    # signature: how the scanner knows this ID's log lines (sig(), below); None: not a log ID.
    signature=None,
    # settings: main.cf parameters whose values on this host the finding shows (evidence.settings):
    # what the fault does here depends on them (milter_default_action for an unreachable milter).
    settings=(),
)

# Pieces of signature regexes: a destination host[addr]:port, a client name[addr] (it starts only
# where a field starts, so a hostile run of name characters is not tried at every position).
DEST = r"(?P<dest>[^\s\[\]]+\[(?P<ip>[^\]]+)\](?::\d+)?)"
CLIENT = r"(?<![^\s\[\]])(?P<client>[^\s\[\]]*\[(?P<ip>[^\s\[\]]+)\])"


def sig(words, rx, info=(), rank=0):
    """A log signature (module_utils/log_signatures.py reads them all from here).

    words: plain substrings; the regex is tried only on a line holding one of them, and never
      matches without one. rx: the regex; its named groups become evidence counters (dest, ip,
      client, user, domain, file, rbl, param, rcpt, mech, where, table). info: the words that also
      come without "warning:"/"fatal:"/a reject/a non-sent status (an info-level line): they make a
      line a scan candidate too. rank: the first matching signature wins, in rank order (then
      catalog order): -1 first (a full disk explains everything), 1 for broad wordings that more
      specific IDs must be tried before."""
    if not words or not set(info) <= set(words):
        raise ValueError("a signature needs words, and its info words among them: %r" % (rx,))
    return dict(words=list(words), rx=rx, info=tuple(info), rank=rank)


def _e(cls, severity, title, cause, steps, seeds, **facts):
    unknown = set(facts) - set(FACTS)
    if unknown:  # a typo in a fact name must not pass silently
        raise ValueError("unknown catalog facts: %s" % ", ".join(sorted(unknown)))
    return dict(dict(FACTS, **facts), cls=cls, severity=severity, title=title, cause=cause, steps=list(steps),
                seeds=seeds)


CATALOG = {
    "dns.resolver_dead": _e(
        AUTO, "critical", "A resolver in /etc/resolv.conf does not answer",
        "A dead or nonexistent nameserver slows or breaks every DNS lookup Postfix makes; MX and relay "
        "lookups then time out (seed 004's root cause of relay timeouts).",
        ["Remove the nameservers that do not answer from /etc/resolv.conf (never leave none).",
         "Copy /etc/resolv.conf to $queue_directory/etc/resolv.conf for chrooted services.",
         "Restart Postfix: postfix check && postfix stop && postfix start",
         "Flush the deferred mail: postqueue -f"], "000, 004",
        releases_mail=True),
    "dns.name_service_error": _e(
        ADVISORY, "medium", "DNS lookups for destination domains fail",
        "The domain has no MX/A record, or the local resolver is broken.",
        ["If a local resolver is dead, fix dns.resolver_dead first.",
         "Otherwise check the domain: dig MX DOMAIN; dig A DOMAIN"], "000, 001",
        outside="the destination domain's DNS administrator",
        explained_by=("dns.resolver_dead",),
        signature=sig(["Name service error"],
            r"Name service error for (?:name=)?(?P<domain>[^\s:]+)(?: type=(?P<where>\S+))?")),
    "dns.mx_connect_timeout": _e(
        ADVISORY, "high", "Connections to MX hosts or relays time out",
        "The MX or relay is unreachable: firewall, routing or port 25 blocked (or a slow resolver, 004).",
        ["Compare the destinations below: which relays time out and which do not.",
         "From this host: nc -zv HOST 25 (or telnet HOST 25) for each one.",
         "Check dns.resolver_dead first: a dead resolver makes connections look like timeouts."], "000, 002, 004",
        outside='the network team or the remote mail administrator',
        explained_by=("dns.resolver_dead",),
        signature=sig(["Connection timed out"],
            r"connect to " + DEST + r": Connection timed out",
            info=['Connection timed out'])),
    "dns.ptr_mismatch": _e(
        ADVISORY, "low", "Reverse DNS of the outbound address does not match myhostname",
        "No PTR record, or a PTR that does not name this host; it hurts deliverability.",
        ["Ask the owner of the address block to publish the PTR shown below."], "000, 001",
        outside='the owner of the IP address block (PTR record)'),
    "net.connection_refused": _e(
        AUTO, "high", "SMTP connections are refused",
        "Locally: Postfix is not listening (service down or inet_interfaces). Remotely: the peer's "
        "firewall or service refuses.",
        ["Local: postfix check && postfix start; check inet_interfaces and the smtp/submission services in master.cf.",
         "Remote: report the destinations below to their administrators."], "000, 001",
        starts_postfix=True,
        signature=sig(["Connection refused"],
            r"connect to " + DEST + r": Connection refused",
            info=['Connection refused'])),
    "net.port25_blocked": _e(
        ADVISORY, "high", "Outbound port 25 seems blocked",
        "DNS works but no MX answers on port 25: the ISP or cloud provider blocks outbound SMTP.",
        ["Ask the provider to open port 25, or send through a relayhost on port 587 with SASL."], "001",
        outside='the ISP or cloud provider'),
    "tls.wrong_version": _e(
        OPT_IN, "medium", "TLS handshakes fail on protocol version",
        "Our SMTP client and a peer share no protocol version (TLSv1.0/1.1), or internal clients "
        "cannot talk to our server. Internet clients failing the handshake are noise (scanners).",
        ["Outbound: set smtp_tls_protocols to the operator's target (default >=TLSv1.2).",
         "Internal clients: upgrade the client; do not lower smtpd_tls_protocols for the Internet."], "000",
        log=dict(programs=OUTBOUND_DAEMONS + INBOUND_DAEMONS, inbound="internal",
                 means="outbound: our client and a peer share no TLS version; inbound: a client's handshake"),
        inbound_finding=('advisory', '%d TLS handshake failure(s) of internal client(s): upgrade the client'),
        opt_in={'protocols': ('str', False, 'smtp_tls_protocols to set (default >=TLSv1.2)')},
        signature=sig(["wrong version number", "unsupported protocol", "no protocols available",
                      "version too low", "tlsv1 alert protocol version"],
            r"wrong version number|unsupported protocol|no protocols available|version too low|tlsv1 alert protocol version")),
    "tls.untrusted_issuer": _e(
        AUTO, "medium", "Peer certificates cannot be verified (untrusted issuer)",
        "Missing intermediate or root certificate, or a stale CA store.",
        ["apt-get install ca-certificates / dnf install ca-certificates; update-ca-certificates",
         "Point smtp_tls_CAfile at the system bundle (/etc/ssl/certs/ca-certificates.crt or "
         "/etc/pki/tls/certs/ca-bundle.crt), or add the missing intermediate."], "000, 001, 004",
        releases_mail=True,
        signature=sig(["untrusted issuer", "unable to get local issuer certificate"],
            r"certificate verification failed for (?P<dest>\S+?): untrusted issuer|unable to get local issuer certificate",
            info=['untrusted issuer', 'unable to get local issuer certificate'])),
    "tls.cert_unreadable": _e(
        AUTO, "high", "The TLS key or certificate cannot be used",
        "The key or certificate file is missing, or has the wrong owner or mode.",
        ["Key: chown root:root KEY; chmod 0600 KEY. Certificate: readable (0644).",
         "A missing file must be restored or reissued (not automated)."], "000, 001",
        live_check='probes',
        signature=sig(["private key", "certificate and key", "certificate from file", "cannot load certificate"],
            r"cannot get (?:\w+ )?private key from file \"?(?P<file>[^\"\s:]+)"
            r"|cannot load (?:\w+ )?certificate and key data|cannot get (?:\w+ )?certificate from file \"?(?P<domain>[^\"\s:]+)"
            r"|cannot load certificate")),
    "tls.cert_expiry": _e(
        ADVISORY, "high", "The TLS certificate expires soon, has expired, or does not match its key",
        "The certificate was not renewed (or the key belongs to another certificate).",
        ["Renew the certificate (e.g. certbot renew) and reload Postfix: postfix reload",
         "Check: openssl x509 -enddate -noout -in CERT"], "001",
        outside="whoever issues this host's certificate"),
    "tls.delivery_handshake": _e(
        OPT_IN, "medium", "Outbound TLS handshakes fail while TLS is mandatory",
        "The remote TLS stack is incompatible and smtp_tls_security_level requires encryption.",
        ["Set smtp_tls_security_level = may, or add a per-destination policy in smtp_tls_policy_maps."], "000",
        releases_mail=True,
        opt_in={'level': ('str', False, 'smtp_tls_security_level to set (default may)')},
        signature=sig(["Cannot start TLS", "SSL_connect error to", "TLS is required, but"],
            r"Cannot start TLS: handshake failure|SSL_connect error to (?P<dest>\S+?):|TLS is required, but",
            info=['SSL_connect error to', 'Cannot start TLS', 'TLS is required, but'])),
    "auth.spf_permerror": _e(
        ADVISORY, "medium", "SPF record missing or invalid",
        "The domain publishes no valid SPF record.",
        ["Publish a TXT record like: v=spf1 ip4:<outbound IPs> -all"], "000, 001",
        outside='the DNS zone owner (SPF record)',
        log=dict(programs=CONTENT_CHECKERS + INBOUND_DAEMONS + ("spawn",), inbound="internal",
                 means="a policy daemon checking the SPF record of an incoming sender's domain (our own record is checked by the DNS probe)"),
        inbound_finding=('advisory', '%d SPF error(s) on mail from internal client(s)'),
        signature=sig(["SPF permanent error", "No valid SPF record", "SPF PermError", "spf=permerror",
                      "Received-SPF: PermError", "Received-SPF: permerror"],
            r"(?:(?:RCPT|MAIL|END-OF-MESSAGE) from " + CLIENT + r": .*?)?"
            r"(?:SPF permanent error|No valid SPF record|(?i:spf[=:] ?permerror|SPF PermError))",
            info=['SPF permanent error', 'No valid SPF record', 'SPF PermError', 'spf=permerror',
                  'Received-SPF: PermError', 'Received-SPF: permerror'])),
    "auth.dkim_fail": _e(
        ADVISORY, "medium", "DKIM verification fails",
        "Wrong selector, or a key truncated by quoting in the DNS zone.",
        ["Check: dig TXT SELECTOR._domainkey.DOMAIN and compare with the signing key."], "000, 001",
        outside='the DKIM signer and the DNS zone owner',
        log=dict(programs=CONTENT_CHECKERS + INBOUND_DAEMONS + ("cleanup",), inbound="internal",
                 means="verification of incoming mail: other domains' signatures (a statistic) unless the client is internal"),
        inbound_finding=('advisory', '%d DKIM failure(s) on mail from internal client(s): check our signer'),
        signature=sig(["DKIM verification failed", "bad signature data", "dkim=fail"],
            r"(?:(?:RCPT|MAIL|END-OF-MESSAGE) from " + CLIENT + r": .*?)?(?:DKIM verification failed|bad signature data|dkim=fail)",
            info=['DKIM verification failed', 'bad signature data', 'dkim=fail'])),
    "auth.dmarc_missing": _e(
        ADVISORY, "low", "No DMARC policy published",
        "The domain has no _dmarc TXT record.",
        ["Publish a TXT record at _dmarc.DOMAIN like: v=DMARC1; p=none; rua=mailto:postmaster@DOMAIN"], "001",
        outside='the DNS zone owner (DMARC record)'),
    "queue.size_limit": _e(
        OPT_IN, "medium", "Messages are refused as too large",
        "The message is larger than our message_size_limit (our cleanup or smtpd refuses it). A remote "
        "server's 552 5.3.4 'Message size exceeds fixed limit' is its own limit: a statistic of that domain "
        "(delivery.remote_refusal), never this ID.",
        ["Raise message_size_limit to the operator's target (001 uses 52428800) and keep "
         "mailbox_size_limit >= it, or 0."], "000, 001",
        explained_by=("queue.write_error",),
        releases_mail=True,
        opt_in={'message_size_limit': ('int', True, 'the new message_size_limit in bytes')},
        signature=sig(["queue file size limit exceeded", "message file too big", "Message size exceeds fixed limit",
                      "File too large", "exceeds file system imposed limit"],
            r"queue file size limit exceeded|message file too big|Message size exceeds (?:fixed|file system imposed) limit"
            r"|uid=\d+: File too large",
            info=['queue file size limit exceeded'])),
    "queue.deferred_backlog": _e(
        AUTO, "high", "Deferred mail is piling up",
        "A blocked destination, DNS, TLS or network fault keeps mail in the deferred queue.",
        ["Fix the cause first (see the other findings).",
         "Then: postqueue -f, or postqueue -s DOMAIN for one destination, or postsuper -r ALL deferred."], "001, 003",
        explained_by=("dns.resolver_dead",),
        releases_mail=True,
        verify_gone=False),
    "queue.corrupt_files": _e(
        OPT_IN, "medium", "Damaged files in the corrupt queue",
        "Queue files were damaged (disk, crash, manual edits).",
        ["Quarantine a copy, then remove them: postsuper -d ALL corrupt"], "001",
        phase="queue"),
    "queue.bounce_flood": _e(
        OPT_IN, "medium", "Many bounces (MAILER-DAEMON) in the queue",
        "Backscatter or a bounce storm.",
        ["Back up, then delete just those IDs (postfix_queue action=delete sender=MAILER-DAEMON confirm=true)."], "003",
        phase="queue"),
    "queue.sender_flood": _e(
        OPT_IN, "high", "One sender holds a large share of the queue",
        "Probably a compromised account sending spam.",
        ["Hold its mail (postsuper -h), check the account, then release or delete on decision."], "001",
        phase="queue"),
    "queue.write_error": _e(
        ADVISORY, "critical", "The queue cannot be written (disk full?)",
        "The file system holding our queue is full or failing. A remote server's '452 4.3.1 Insufficient "
        "system storage' is its disk: a statistic of that domain (delivery.remote_refusal), never this ID.",
        ["df -h /var/spool/postfix; find what fills the disk; qshape deferred for the biggest queues."], "000, 001",
        outside='the system administrator (disk, filesystem)',
        signature=sig(["queue file write error", "Insufficient system storage", "not enough free space in mail queue",
                      "No space left on device"],
            r"queue file write error|Insufficient system storage|not enough free space in mail queue|No space left on device", rank=-1)),
    "relay.access_denied": _e(
        OPT_IN, "medium", "Internal clients get 'Relay access denied'",
        "The client is not in mynetworks, or SASL authentication is broken.",
        ["Add the operator's internal networks to mynetworks (postconf mynetworks)."], "000",
        log=dict(programs=INBOUND_DAEMONS, inbound="fault",
                 means="inbound: relay refused; the rule keeps only our own (internal) clients"),
        opt_in={'networks': ('list', True, 'networks of our own clients to add to mynetworks')},
        signature=sig(["Relay access denied"],
            r"reject: RCPT from " + CLIENT + r".*Relay access denied|Relay access denied")),
    "relay.open_relay": _e(
        AUTO, "critical", "The server is an open relay",
        "Neither smtpd_relay_restrictions nor smtpd_recipient_restrictions rejects unauthorized "
        "destinations, or mynetworks covers the whole Internet.",
        ["Set smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, defer_unauth_destination"], "003"),
    "sasl.saslauthd_down": _e(
        AUTO, "high", "saslauthd is not reachable",
        "saslauthd is not running, or its socket path is wrong (chroot: $queue_directory/var/run/saslauthd).",
        ["Start and enable saslauthd; fix run_path / the socket path for the chroot."], "000",
        live_check='no_sasl',
        signature=sig(["cannot connect to saslauthd server"],
            r"cannot connect to saslauthd server(?:: (?P<where>.*))?")),
    "sasl.dovecot_socket": _e(
        AUTO, "high", "The Dovecot auth socket is missing",
        "Dovecot auth is not running, or smtpd_sasl_path points elsewhere.",
        ["Start dovecot; check smtpd_sasl_path against dovecot's service auth { unix_listener } path."], "001",
        sporadic=True,
        live_check='no_sasl',
        signature=sig(["SASL: Connect to ", "Connection lost to authentication server"],
            r"SASL: Connect to (?:Dovecot auth socket '(?P<file>[^']*)'|(?P<domain>\S+)) failed"
            r"|" + CLIENT + r": SASL [\w-]+ authentication failed: Connection lost to authentication server")),
    "sasl.auth_failed": _e(
        ADVISORY, "medium", "SASL authentication failures",
        "Wrong credentials, realm or backend; many failures from one address are a brute-force attempt.",
        ["Check the users and clients below; block brute-forcing clients (fail2ban)."], "000, 001",
        outside='security: the account owner, or a client blocklist',
        sporadic=True,
        log=dict(programs=INBOUND_DAEMONS + OUTBOUND_DAEMONS, inbound="fault",
                 means="inbound: failed logins (brute force when many); outbound: our relay credentials"),
        signature=sig(["authentication failed"],
            CLIENT + r"(?::\d+)?: SASL (?P<mech>[\w-]+) authentication failed:(?: [^,]*?)?(?:, sasl_username=(?P<user>\S*))?\s*$"
            r"|SASL (?:\[CACHED\] )?authentication failed; (?:server|cannot authenticate to server) (?P<dest>\S+)",
            info=['authentication failed'])),
    "sasl.lost_after_auth": _e(
        OPT_IN, "low", "Clients drop the connection right after AUTH",
        "The client cannot use the offered mechanism.",
        ["Keep PLAIN and LOGIN offered: smtpd_sasl_security_options = noanonymous, broken_sasl_auth_clients = yes"], "000",
        sporadic=True,
        signature=sig(["lost connection after AUTH"],
            r"lost connection after AUTH from " + CLIENT,
            info=['lost connection after AUTH'])),
    "rbl.listed": _e(
        ADVISORY, "medium", "Our mail is refused because a blocklist lists us",
        "Peers refuse our outbound mail naming a blocklist (our address is listed); or our own RBL "
        "rejects clients in our internal networks. Our RBL rejecting Internet clients is policy "
        "working, counted as a statistic, never a finding.",
        ["Look the outbound address up on the list's page named in the refusal; fix the cause "
         "(open relay, compromised account, no PTR) and request delisting.",
         "Internal clients rejected by our RBL: exempt the network (permit_mynetworks before "
         "reject_rbl_client) rather than dropping the list."], "000",
        outside='the blacklist operator (delisting request)',
        peer="ours",  # a peer naming a blocklist says our address is listed
        log=dict(programs=OUTBOUND_DAEMONS + INBOUND_DAEMONS, inbound="internal",
                 means="outbound: a peer refuses our mail naming a blocklist (we are listed); inbound: our RBL"),
        inbound_finding=('advisory', 'our RBL rejects %d line(s) from internal client(s): exempt them, keep the list'),
        signature=sig(["blocked using "],
            r"reject: \w+ from " + CLIENT + r": .*?blocked using (?P<rbl>[^\s;,]+)|blocked using (?P<domain>[^\s;,)]+)")),
    "delivery.mailbox_full": _e(
        OPT_IN, "medium", "Mailboxes are full",
        "mailbox_size_limit or a quota of our own mailbox store is reached: local, virtual, pipe (dovecot-lda), "
        "LMTP to our store, or our smtpd refusing. A remote server's over-quota answer ('host X said: 452 4.2.2 "
        "... over quota') is its user's mailbox: a statistic of that domain (delivery.remote_refusal), never this "
        "ID, and raising our mailbox_size_limit would not change it.",
        ["Raise mailbox_size_limit to the operator's target; for Dovecot quota, tell the user or raise the quota."], "000, 001",
        releases_mail=True,
        opt_in={'mailbox_size_limit': ('int', True, 'the new mailbox_size_limit in bytes')},
        signature=sig(["ailbox full", "uota exceeded", "over quota", "dsn=5.2.2", "dsn=4.2.2", "5.2.2 ",
                      "error writing message: File too large", "exceeds mailbox size limit"],
            r"(?i:mailbox full|quota exceeded|over quota)|dsn=[45]\.2\.2|\b5\.2\.2 |error writing message: File too large"
            r"|exceeds mailbox size limit")),
    "delivery.unknown_user": _e(
        OPT_IN, "low", "Mail for unknown users",
        "The address is missing from our recipient tables (virtual_mailbox_maps, aliases). A remote server's "
        "'User unknown' is an address of its own: a statistic of that domain (delivery.remote_refusal), never "
        "this ID.",
        ["Add the operator's entries to the table, postmap it and reload."], "000, 001",
        log=dict(programs=DELIVERY_DAEMONS + OUTBOUND_DAEMONS + INBOUND_DAEMONS + ("cleanup",), inbound="internal",
                 means="delivery: accepted mail bounces (our tables); inbound: a sender guessed an address"),
        inbound_finding=(None, '%d unknown-recipient reject(s) for internal client(s)'),
        opt_in={'table': ('path', True, 'the recipient table to add the entries to'),
                'entries': ('dict', True, 'address -> destination entries to add')},
        signature=sig(["unknown user: ", "User unknown in ", "status=bounced (user unknown)"],
            r"unknown user: \"(?P<rcpt>[^\"]*)\"|(?:RCPT from " + CLIENT + r": .*?)?<(?P<user>[^<>]*)>: Recipient address rejected: "
            r"User unknown in (?P<where>[\w ]+?) table"
            r"|User unknown in (?:[\w ]+?) table"
            # a delivery agent's own answer (pipe to dovecot-lda, lmtp): accepted mail, then no such user
            r"|status=bounced \(user unknown\)",
            info=['User unknown in '])),
    "delivery.remote_refusal": _e(
        ADVISORY, "low", "A destination domain keeps refusing our mail",
        "The servers of one recipient domain answered our SMTP client with a refusal about their own side "
        "('host X said: ...'): the recipient's mailbox is over quota there, the address is unknown there, the "
        "message is over their size limit, their policy, content filter, disk or tables refuse; or the domain "
        "publishes a null MX (RFC 7505: 'does not accept mail (nullMX)') and accepts no mail at any address. "
        "Nothing on this server is wrong and no local fix (mailbox_size_limit, message_size_limit, our tables) "
        "changes it. Every such line is a statistic of its domain (log.remote); log_min_count refusals of one "
        "domain make this finding. Greylisting (a 4xx 'Greylisted', delivered at a later retry) is counted, never "
        "a refusal. LMTP to our own store, local/virtual/pipe delivery and a content filter on loopback speak "
        "for this server: their words keep their own IDs. A server reached by SMTP, an internal one included, "
        "speaks for itself (its quotas, its tables).",
        ["Read each domain's reasons, relays and samples below, and the advice given for them.",
         "Unknown user or null MX: the address is wrong or gone; correct it, or remove it from the mailing list "
         "(list hygiene). A null MX domain accepts no mail at any address.",
         "Mailbox full or message too big: the limit is the recipient's; tell the sender (or send a link).",
         "Policy, content, relaying or system refusals: send the samples to the domain's postmaster; for "
         "SPF/DKIM/DMARC refusals check our own records (the probes' auth.* findings)."], "001",
        outside="the destination domain's postmaster, or the sender (a wrong or stale address)"),
    "maps.db_permission": _e(
        AUTO, "high", "A lookup table index cannot be read",
        "Wrong owner or mode on the index (or its SELinux context).",
        ["chown root:postfix INDEX; chmod 0644 INDEX (restorecon INDEX where SELinux is on)."], "000",
        live_check='probes',
        releases_mail=True,
        signature=sig(["open database"],
            r"open database (?P<file>\S+?):? Permission denied")),
    "maps.stale_db": _e(
        AUTO, "medium", "A lookup table index is older than its source",
        "postmap was not run after the source file was edited.",
        ["postmap TYPE:FILE (postalias / newaliases for aliases)."], "003",
        live_check='probes',
        releases_mail=True,
        signature=sig(["is older than source file"],
            r"database (?P<file>\S+) is older than source file (?P<domain>\S+)")),
    "maps.missing_db": _e(
        AUTO, "high", "A lookup table index is missing",
        "The table was never built.",
        ["postmap TYPE:FILE (postalias / newaliases for aliases)."], "000",
        live_check='probes',
        releases_mail=True,
        signature=sig(["open database"],
            r"open database (?P<file>\S+?):? No such file or directory")),
    "maps.unsupported_type": _e(
        OPT_IN, "high", "A table type is not supported by this Postfix",
        "The distribution moved from Berkeley DB (hash:) to lmdb.",
        ["Rewrite references to $default_database_type and rebuild the tables."], "FAULTS",
        live_check='probes',
        signature=sig(["unsupported dictionary type", "support for '"],
            r"unsupported dictionary type: (?P<domain>\S+)|Berkeley DB support for '(?P<file>[^']+)' is not available")),
    "service.hostname_invalid": _e(
        AUTO, "high", "myhostname is not a valid fully-qualified name",
        "/etc/hostname is empty or short, so Postfix derives a bad myhostname.",
        ["postconf -e myhostname=FQDN; postfix set-permissions; restart Postfix."], "000",
        live_check='config',
        signature=sig(["parameter myhostname: bad parameter value", "is not a fully qualified name"],
            r"parameter myhostname: bad parameter value|(?:My hostname|myhostname) \S+ is not a fully qualified name")),
    "service.not_running": _e(
        AUTO, "critical", "Postfix is not running",
        "It was stopped or crashed.",
        ["postfix check, then postfix start."], "001",
        releases_mail=True,
        starts_postfix=True),
    "service.check_fails": _e(
        AUTO, "medium", "postfix check reports problems",
        "Ownership or permission drift, or a bad configuration.",
        ["postfix set-permissions for ownership drift; fix the other messages by hand."], "001, 003"),
    "service.chroot_incomplete": _e(
        AUTO, "high", "The Postfix chroot lacks system files",
        "Services marked chroot in master.cf read services, hosts, resolv.conf, nsswitch.conf and "
        "localtime from $queue_directory/etc. Debian's start script copies them before every start; "
        "Postfix started another way (postfix start by hand, a custom unit) or files changed since "
        "leave them missing or stale. Before Postfix 3.6 a missing services file kills every chrooted "
        "smtp with 'fatal: unknown service: smtp/tcp'.",
        ["Copy the files from /etc into $queue_directory/etc, as Debian's configure-instance.sh does "
         "(localtime services resolv.conf hosts host.conf nsswitch.conf), world-readable.",
         "postfix check && postfix reload, so new daemons read them."], "000",
        live_check='probes',
        releases_mail=True,
        signature=sig(["unknown service: "],
            r"fatal: unknown service: (?P<where>\S+)", rank=1)),
    "maps.lookup_failed": _e(
        ADVISORY, "high", "Table lookups fail (mail is deferred)",
        "A lookup table or its backend does not answer: an LDAP or SQL server down or unreachable, a "
        "proxymap problem, a table file missing, or a wrong query. smtpd answers 451 4.3.0 'Temporary "
        "lookup failure' and cleanup/trivial-rewrite defer mail until it works again. A remote server's 451 "
        "4.3.0 'Temporary lookup failure' is its tables: a statistic of that domain (delivery.remote_refusal).",
        ["Find the table in the evidence (the map name before 'lookup error').",
         "Test it: postmap -q KEY TYPE:NAME (as the postfix user for LDAP/SQL: sudo -u postfix postmap -q ...).",
         "Fix the backend (LDAP/SQL server, credentials, network) or the table file; then postqueue -f."], "000",
        signature=sig(["lookup error for ", "table lookup problem", "map lookup problem", "lookup failure", "is unavailable. ",
                      "Temporary lookup failure", "Temporary lookup error", "Search error",
                      "Can't contact LDAP server"],
            r"(?<![\w:./-])(?P<file>[\w:./-]+?):? lookup error for (?!DNS query)"
            r"|(?<!\w)(?P<param>\w+): (?P<domain>[\w:./-]+): table lookup problem"
            r"|(?<!\w)(?P<where>\w+) map lookup problem|(?<!\w)\w+ lookup failure|Temporary lookup (?:failure|error)"
            r"|dict_\w+_lookup: Search error|Can't contact LDAP server|(?<!\S)(?P<table>\w+:\S+) is unavailable\.", rank=1)),
    "config.invalid_setting": _e(
        ADVISORY, "medium", "Postfix rejects or ignores a setting",
        "main.cf, master.cf or a table holds something Postfix cannot use: an undefined $parameter, a "
        "comment after a value, a read-only or removed parameter or restriction, an invalid master.cf "
        "field, a broken {} list, a duplicate table entry. Postfix ignores it, or answers 451 4.3.5 "
        "'Server configuration error' and defers mail. A remote server saying so describes its own "
        "configuration: a statistic of that domain (delivery.remote_refusal).",
        ["Read the warning in the evidence: it names the file and the setting.",
         "postconf -n and postconf -M show what Postfix uses; postfix check shows what it refuses.",
         "Fix the setting (the warning often names the replacement), then postfix check && postfix reload."], "000",
        signature=sig(["undefined parameter: ", "comment after other text is not allowed",
                      "read-only parameter assignment", "invalid ", "syntax error after '}'", "missing '}'",
                      "has been removed", "unknown DNS filter action", "non-null host address bits",
                      "entry without value", "requires transport:destination", "unknown user name value",
                      "duplicate entry", "non-postfix directory", "Server configuration error",
                      "is larger than maximal_queue_lifetime", "unmatched request",
                      "map requires O_RDONLY access mode", "unknown table: ", "cf: No such file"],
            r"(?<!\S)(?P<file>\S*(?:main|master)\.cf): (?:undefined parameter|#comment after other text is not allowed"
            r"|read-only parameter assignment|syntax error after '}'|missing '}')"
            r"|undefined parameter: |fatal: invalid \w+ field|support for (?:parameter|restriction) \S+ has been removed"
            r"|unknown DNS filter action|non-null host address bits|has FILTER entry without value"
            r"|requires transport:destination|parameter (?P<param>\w+): unknown user name value"
            r"|(?<!\S)(?P<domain>\S+): duplicate entry|in non-postfix directory|\d{3} 4\.3\.5 Server configuration error"
            r"|is larger than maximal_queue_lifetime|unmatched request: |map requires O_RDONLY access mode"
            r"|unknown table: |open \S*(?:main|master)\.cf: No such file", rank=1)),
    "service.daemon_failure": _e(
        ADVISORY, "high", "Postfix daemons crash or do not answer",
        "A Postfix daemon was killed by a signal (a crash: a broken milter/library, memory) or an internal "
        "service (scache, tlsmgr, proxymap) did not answer; master throttles a service that keeps failing.",
        ["Find which daemon in the evidence; check dmesg and the lines before it.",
         "postfix check; compare master.cf with the package's; test with the daemon's -v flag.",
         "Restart Postfix once the cause is fixed: postfix stop && postfix start."], "000",
        signature=sig(["killed by signal", "problem talking to service", "bad command startup",
                      "terminated abnormally"],
            r"process \S+ pid \d+ killed by signal (?P<where>\d+)|problem talking to service (?P<domain>\S+?):"
            r"|bad command startup -- throttling|terminated abnormally", rank=1)),
    "config.change_window_expired": _e(
        AUTO, "high", "A change window outlived its deadline",
        "A change window (soft_bounce = yes, maybe debug logging) is still open: past its deadline (the "
        "controller died and the host-side switch that closes it did not run), or its close failed (main.cf "
        "immutable, the config directory moved: the marker keeps the last error and the switch keeps trying), "
        "or its marker is damaged and says neither what to restore nor when it ends. Every permanent error "
        "is deferred until maximal_queue_lifetime; senders learn nothing for days (seed 002).",
        ["Close it: /usr/local/sbin/postfix-remedy-window close [--config-dir DIR] (restores the values it "
         "replaced, postfix check, reload); after a failed close, first fix what its last error names.",
         "A damaged marker: restore soft_bounce / debug_peer_list by hand (reported on their own) and delete "
         "the marker.",
         "Then flush the mail held back: postqueue -f"], "002",
        releases_mail=True),
    "ipv6.unreachable": _e(
        AUTO, "medium", "IPv6 destinations are unreachable",
        "The host has no IPv6 route but Postfix tries IPv6.",
        ["postconf -e inet_protocols=ipv4; restart Postfix."], "000",
        releases_mail=True,
        signature=sig(["Network is unreachable"],
            r"connect to (?P<dest>[^\s\[\]]+\[(?P<ip>[0-9A-Fa-f]*:[0-9A-Fa-f:.]*)\](?::\d+)?): Network is unreachable",
            info=['Network is unreachable'])),
    "smtp.illegal_address": _e(
        ADVISORY, "low", "Clients send illegal address syntax",
        "A broken client or bad quoting.",
        ["Report the clients below; optionally add reject_non_fqdn_sender."], "000",
        outside='the administrator of the sending client',
        sporadic=True,
        log=dict(programs=INBOUND_DAEMONS, inbound="fault", means="inbound: a broken client"),
        signature=sig(["Illegal address syntax from"],
            r"Illegal address syntax from " + CLIENT + r" in (?P<where>\S+) command")),
    "timeout.end_of_data": _e(
        OPT_IN, "medium", "Timeouts at the end of DATA",
        "Outbound: a slow link or peer, or a resolver fault (004). Inbound from our own networks: "
        "a content filter or relay re-injecting mail times out (fixed at that side, not with smtp_*).",
        ["Check dns.resolver_dead first.",
         "Outbound: raise smtp_data_done_timeout and smtp_data_xfer_timeout to 600s.",
         "Inbound from an internal client (content filter re-injection): raise the filter's own "
         "timeout, or smtpd_timeout on the re-injection service in master.cf."], "000, 004",
        sporadic=True,
        explained_by=("dns.resolver_dead",),
        log=dict(programs=OUTBOUND_DAEMONS + INBOUND_DAEMONS, inbound="internal",
                 means="outbound: a peer or link is slow; inbound: a client (a filter's re-injection if internal)"),
        inbound_finding=('advisory', "%d end-of-message timeout(s) of internal client(s) (a content filter's "
                                     "re-injection?): fix at the filter or its smtpd service, not smtp_*"),
        opt_in={'timeout': ('str', False, 'smtp_data_done_timeout and smtp_data_xfer_timeout (default 600s)')},
        signature=sig(["END-OF-MESSAGE", "end of data", "sending message body"],
            r"timeout after END-OF-MESSAGE(?: \(\d+ bytes\))? from " + CLIENT
            + r"|timeout while receiving end of data|timed out while (?:sending end of data|sending message body)",
            info=['END-OF-MESSAGE'])),
    "timeout.mx_rotation": _e(
        ADVISORY, "medium", "Several MX hosts of a destination time out in turn",
        "Several MX hosts are down or unreachable; each costs smtp_connect_timeout.",
        ["Report the MX set and the delays to the destination's administrators."], "002",
        outside='the remote mail administrator',
        explained_by=("dns.resolver_dead",)),
    "config.unused_parameter": _e(
        ADVISORY, "low", "main.cf/master.cf set a parameter Postfix does not use",
        "Usually a typo in the parameter name.",
        ["Fix the name (closest known parameter shown), or remove it: postconf -X NAME"], "003",
        live_check='config',
        signature=sig(["unused parameter: "],
            r"unused parameter: (?P<param>[^=\s]+)=")),
    "config.soft_bounce_on": _e(
        AUTO, "high", "soft_bounce is on outside a change window",
        "Left on after testing: permanent errors are turned into deferrals and mail piles up.",
        ["postconf -e soft_bounce=no; postfix reload"], "002",
        releases_mail=True,
        explained_by=("config.change_window_expired",)),
    "config.debug_left_on": _e(
        AUTO, "low", "Verbose logging is left on",
        "-v on a master.cf service or debug_peer_list set outside a change window.",
        ["Remove -v from master.cf services and empty debug_peer_list; postfix reload"], "002",
        explained_by=("config.change_window_expired",)),
    "config.mailbox_lt_message": _e(
        AUTO, "high", "mailbox_size_limit is smaller than message_size_limit",
        "Postfix refuses to deliver (local: fatal configuration error).",
        ["Raise mailbox_size_limit to at least message_size_limit (or 0 = unlimited)."], "FAULTS"),
    "config.loops_to_myself": _e(
        OPT_IN, "high", "Mail loops back to this host",
        "The domain is missing from mydestination/virtual domains, or its MX points here.",
        ["Add the operator's domain to mydestination or the virtual domains; or fix the MX."], "FAULTS",
        opt_in={'domains': ('list', True, 'domains to add to mydestination')},
        signature=sig(["loops back to myself"],
            r"mail for (?P<domain>\S+) loops back to myself")),
    "bounce.dsn": _e(
        ADVISORY, "info", "Delivery status notifications (bounces)",
        "Whatever the remote server said.",
        ["Read the status codes and remote replies below (001's table: 4.x.x temporary, 5.x.x permanent)."], "001",
        outside="the recipients' mail administrators"),
}


def log_source(fault_id):
    """Who may write a line of this ID and what an inbound line means, defaults filled in."""
    return dict(dict(programs="postfix", inbound="fault", means="any Postfix daemon"), **(CATALOG[fault_id]["log"] or {}))


def ids_with(fact, value=True):
    """The IDs whose catalog entry has fact == value (sorted): the only way code lists IDs."""
    return sorted(fid for fid, e in CATALOG.items() if e[fact] == value)


def entry(fault_id):
    return CATALOG[fault_id]


def remedy(fault_id):
    """The catalog facts the roles act on, carried by every finding (roles keep no ID lists)."""
    e = CATALOG[fault_id]
    return dict(releases_mail=e["releases_mail"], phase=e["phase"], starts_postfix=e["starts_postfix"],
                verify_gone=e["verify_gone"], opt_in=e["opt_in"])


def make_finding(fault_id, summary, evidence=None, fix=None, severity=None, cls=None, **extra):
    """A finding in the shape every consumer (remediation, report) reads."""
    cat = CATALOG[fault_id]
    out = dict(id=fault_id, cls=cls or cat["cls"], severity=severity or cat["severity"], title=cat["title"],
               summary=summary, evidence=evidence or {}, cause=cat["cause"],
               fix=dict(steps=list(cat["steps"]), **(fix or {})), seeds=cat["seeds"], remedy=remedy(fault_id))
    out.update(extra)
    # `class` is the documented key; `cls` is only the Python-side spelling.
    out["class"] = out.pop("cls")
    # Whether the documented fix can be applied on this host (a rule sets False when, e.g.,
    # removing the dead nameservers would leave none); advisory findings are never applied.
    out["fix"].setdefault("can_fix", out["class"] != "advisory")
    if cat["outside"]:
        out.setdefault("outside", cat["outside"])
    return out
