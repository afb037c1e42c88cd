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
    # names: (signature groups, words): a log finding's summary names what its lines name, e.g.
    # (("daemon",), "abnormal exit(s) of") -> "12 abnormal exit(s) of: smtpd (10), cleanup (2)".
    names=None,
)

# Pieces of signature regexes: a destination host[addr]:port, a client name[addr] (it starts only
# where a field starts, so a hostile run of name characters is not tried at every position).
DEST = r"(?P<dest>[^\s\[\]]+\[(?P<ip>[^\]]+)\](?::\d+)?)"
CLIENT = r"(?<![^\s\[\]])(?P<client>[^\s\[\]]*\[(?P<ip>[^\s\[\]]+)\])"


def sig(words, rx, info=(), rank=0, within=()):
    """A log signature (module_utils/log_signatures.py reads them all from here).

    words: plain substrings; the regex is tried only on a line holding one of them, and never
      matches without one. rx: the regex; its named groups become evidence counters (dest, ip,
      client, user, domain, file, rbl, param, rcpt, mech, where, table). info: the words that also
      come without "warning:"/"fatal:"/a reject/a non-sent status (an info-level line): they make a
      line a scan candidate too. rank: the first matching signature wins, in rank order (then
      catalog order): -1 first (a full disk explains everything), 1 for broad wordings that more
      specific IDs must be tried before. within: words every line of the ID holds besides (the
      regex requires one of them, e.g. " said: "): the many words are then looked for only in
      those lines (the scan's cost per line stays flat)."""
    if not words or not set(info) <= set(words):
        raise ValueError("a signature needs words, and its info words among them: %r" % (rx,))
    return dict(words=list(words), rx=rx, info=tuple(info), rank=rank, within=tuple(within))


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
        signature=sig([": Connection refused"],
                      r"connect to " + DEST + r": Connection refused",
                      info=[': Connection refused'])),
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
        signature=sig([": untrusted issuer", "unable to get local issuer certificate"],
                      r"certificate verification failed for (?P<dest>\S+?): untrusted issuer|unable to get local issuer certificate",
                      info=[': untrusted issuer', 'unable to get local issuer certificate'])),
    "tls.cert_unreadable": _e(
        AUTO, "high", "The TLS key or certificate cannot be used",
        "The key or certificate file is missing, or has the wrong owner or mode.",
        ["Key: chown root:root KEY; chmod 0600 KEY. Certificate: readable (0644).",
         "A missing file must be restored or reissued (not automated)."], "000, 001",
        live_check='probes',
        signature=sig(["private key from", "certificate and key", "certificate from file", "cannot load certificate"],
                      r"cannot get (?:\w+ )?private key from file \"?(?P<file>[^\"\s:]+)"
                      r"|cannot load (?:\w+ )?certificate and key data|cannot get (?:\w+ )?certificate from file \"?(?P<domain>[^\"\s:]+)"
                      r"|cannot load certificate")),
    "tls.cert_expiry": _e(
        ADVISORY, "high", "The TLS certificate expires soon, has expired, or does not match its key",
        "The certificate was not renewed (or the key belongs to another certificate).",
        ["Renew the certificate (e.g. certbot renew) and reload Postfix: postfix reload",
         "Check: openssl x509 -enddate -noout -in CERT"], "001",
        outside="whoever issues this host's certificate"),
    "tls.disabled": _e(
        ADVISORY, "high", "TLS is switched off: a key, certificate, chain or TLS setting cannot be used",
        "When smtpd or smtp cannot use its TLS material - the private key does not belong to the certificate, a "
        "chain file (smtpd_tls_chain_files) cannot be opened, holds no key or is out of order, a PEM object is "
        "damaged - or a TLS setting is invalid, Postfix logs a warning and goes on WITHOUT TLS. smtpd stops "
        "offering STARTTLS: senders deliver in clear text or, where they require TLS, not at all; with "
        "smtpd_tls_auth_only = yes no client can log in. smtp sends in clear text, or defers where TLS is "
        "mandatory. Nothing else fails, so it goes unnoticed. A probe finding tls.cert_expiry (a key that does "
        "not match its certificate) or tls.cert_unreadable is then the cause.",
        ["Read the file and problem in the evidence. A key and certificate belong together when "
         "`openssl x509 -noout -pubkey -in CERT | sha256sum` and `openssl pkey -pubout -in KEY | sha256sum` "
         "print the same.",
         "A chain file (smtpd_tls_chain_files) is PEM with the key first, then its certificate, then the "
         "intermediates, in that order; check it is readable by root.",
         "An invalid setting (tls protocol list, a non-absolute tls_config_file): postconf -n | grep tls.",
         "postfix reload, then check STARTTLS is offered and shows the certificate: "
         "posttls-finger -c -l may localhost (or openssl s_client -starttls smtp -connect localhost:25)."], "000",
        explained_by=("tls.cert_expiry", "tls.cert_unreadable"),
        settings=("smtpd_tls_security_level", "smtpd_tls_auth_only", "smtp_tls_security_level"),
        signature=sig(["does not match public key", "No private key found in", "error opening chain file",
                      "error loading ", "does not match next certificate", "Invalid TLS protocol list",
                       "disabling TLS support"],
                      r"private key in (?P<file>\S+) does not match public key in (?P<cert>[^\s:]+)"
                      r"|(?:error opening chain file: |No private key found in |error loading chain from "
                      r"|error loading certificate chain: key at index \d+ in |key at index \d+ in "
                      r"|error loading private keys and certificates from: "
                      r"|error loading (?:private key|certificate) \(PEM object number \d+\) from )(?P<chain>[^\s:]+)"
                      r"|(?P<where>Invalid TLS protocol list|is not an absolute pathname|OpenSSL configuration file)"
                      r"(?:, | \"[^\"]*\": )disabling TLS support"),
        names=(("file", "chain", "where"), "warning(s) that turned TLS off, about")),
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
    "filter.milter_unreachable": _e(
        ADVISORY, "high", "A milter cannot be reached or breaks off",
        "smtpd (smtpd_milters) or cleanup (non_smtpd_milters: mail from sendmail and pickup) cannot connect to a "
        "milter - the milter daemon is down, listens on another address or socket, its unix socket is outside "
        "smtpd's chroot or not writable by postfix - or the milter times out or breaks off the protocol. What "
        "happens to the mail then is milter_default_action (shown below): tempfail (the default) answers 451 "
        "4.7.1 and the sender retries, so mail is delayed and piles up at the senders; accept passes mail on "
        "without that milter (no DKIM signature, no spam or virus scan); reject refuses it for good with 5xx "
        "(senders get bounces); quarantine accepts it into the hold queue, where it stays until released.",
        ["Find the milter in the evidence (inet:host:port or unix:/path) and compare it with smtpd_milters and "
         "non_smtpd_milters below.",
         "Is it running and listening there? systemctl status MILTER (opendkim, opendmarc, rspamd, "
         "clamav-milter...); ss -lntp | grep PORT, or ls -l SOCKET.",
         "A unix socket of a chrooted smtpd is relative to the queue directory (unix:/opendkim/opendkim.sock is "
         "/var/spool/postfix/opendkim/opendkim.sock) and must be writable by postfix (add postfix to the "
         "milter's group, then restart the milter).",
         "Timeouts or handshake errors with a running milter: look at the milter's own log; raise "
         "milter_connect_timeout / milter_command_timeout only for a slow milter; set milter_protocol for an old one.",
         "Once it answers: with tempfail the senders retry by themselves; with quarantine the mail waits in the "
         "hold queue (postqueue -p marks it with '!'): release it with postsuper -H QUEUEID (or ALL)."], "000",
        settings=("milter_default_action", "smtpd_milters", "non_smtpd_milters"),
        signature=sig(["connect to Milter service", "reply packet header", "error writing command",
                      "in initial handshake", "EOF while reading", "conflict with MTA protocol",
                       "no protocol version information", "unexpected protocol version"],
                      r"(?:connect to Milter service|(?<![\w-])milter) (?P<where>\S+?): (?:(?P<error>Connection refused"
                      r"|Connection timed out|No such file or directory|Permission denied|Connection reset by peer"
                      r"|No route to host|Network is unreachable|Resource temporarily unavailable)"
                      r"|can't read \w+ reply packet header|error writing command"
                      r"|(?:read|write) error in initial handshake|unexpected reply \S+ in initial handshake"
                      r"|EOF while reading (?:command code|network long|data|string)|protocol version \d+ conflict with MTA"
                      r"|no protocol version information|unexpected protocol version)"),
        names=(("where",), "failure(s) to reach or talk to milter(s)")),
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
    "queue.maildrop_permission": _e(
        AUTO, "high", "Local submission fails: postdrop cannot write the maildrop",
        "sendmail hands mail from local programs (cron, scripts, web applications) to the set-group-ID postdrop, "
        "which writes it into $queue_directory/maildrop. When that directory lost its owner, group (postdrop) "
        "or mode, or postdrop lost its set-gid bit or group, postdrop cannot create the file: it logs the error "
        "and retries, and the program that sends waits or gives up - locally submitted mail is lost or stuck "
        "while SMTP mail still flows. postfix check names the drift.",
        ["postfix set-permissions (restores Postfix's owners and modes from postfix-files: maildrop "
         "postfix:postdrop 1730, postdrop and postqueue root:postdrop 2555).",
         "Check: postfix check; ls -ld $(postconf -h queue_directory)/maildrop; ls -l /usr/sbin/postdrop",
         "Then test: echo test | sendmail -v root"], "000",
        signature=sig(["create file maildrop/", "postdrop: Permission denied"],
                      r"mail_queue_enter: create file (?P<file>maildrop)/\S+: (?P<error>Permission denied|Read-only file system)"
                      r"|execv (?P<where>\S*/postdrop): Permission denied"),
        names=(("file", "where"), "local submission failure(s), in")),
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
        signature=sig([" authentication failed"],
                      CLIENT + r"(?::\d+)?: SASL (?P<mech>[\w-]+) authentication failed:(?: [^,]*?)?(?:, sasl_username=(?P<user>\S*))?\s*$"
                      r"|SASL (?:\[CACHED\] )?authentication failed; (?:server|cannot authenticate to server) (?P<dest>\S+)",
                      info=[' authentication failed'])),
    "sasl.lost_after_auth": _e(
        OPT_IN, "low", "Clients drop the connection right after AUTH",
        "The client cannot use the offered mechanism.",
        ["Keep PLAIN and LOGIN offered: smtpd_sasl_security_options = noanonymous, broken_sasl_auth_clients = yes"], "000",
        sporadic=True,
        signature=sig(["lost connection after AUTH"],
                      r"lost connection after AUTH from " + CLIENT,
                      info=['lost connection after AUTH'])),
    "sasl.no_mechanisms": _e(
        ADVISORY, "critical", "smtpd exits: no SASL authentication mechanism is available",
        "smtpd_sasl_auth_enable = yes, but the SASL backend offers no mechanism, or "
        "smtpd_sasl_mechanism_filter discards all of them. Every smtpd of that service exits at startup "
        "(master throttles it): no mail is received there, not only no AUTH. Cyrus: the mechanism plugins are "
        "not installed (Debian: libsasl2-modules) or mech_list in the smtpd.conf names none that is; Dovecot: "
        "the auth socket cannot be reached (sasl.dovecot_socket) or auth_mechanisms is empty.",
        ["Which backend: postconf smtpd_sasl_type smtpd_sasl_path smtpd_sasl_mechanism_filter (and postconf -P "
         "for the submission services).",
         "Cyrus: apt-get install libsasl2-modules (PLAIN, LOGIN); compare mech_list in "
         "/etc/postfix/sasl/smtpd.conf with the installed plugins (saslpluginviewer, package sasl2-bin).",
         "Dovecot: fix the auth socket first (sasl.dovecot_socket), check auth_mechanisms in dovecot.conf.",
         "smtpd_sasl_mechanism_filter must leave at least one mechanism; then postfix reload."], "000",
        explained_by=("sasl.dovecot_socket",),
        settings=("smtpd_sasl_type", "smtpd_sasl_path", "smtpd_sasl_mechanism_filter"),
        signature=sig(["no SASL authentication mechanisms", "discards all mechanisms in"],
                      r"no SASL authentication mechanisms|(?<!\w)(?P<param>\w+) discards all mechanisms in '(?P<mech>[^']*)'")),
    "sasl.sasldb_missing": _e(
        ADVISORY, "high", "The Cyrus sasldb cannot be opened: every login fails",
        "smtpd authenticates through Cyrus SASL against a sasldb (pwcheck_method: auxprop, auxprop_plugin: "
        "sasldb), and libsasl cannot open it: the file does not exist (never created with saslpasswd2), or the "
        "postfix user may not read it. A chrooted smtpd (master.cf) looks for it inside the chroot, "
        "$queue_directory/etc/sasldb2, not /etc/sasldb2. Every AUTH fails with 535 and users cannot send.",
        ["The file and the error are in the evidence; compare with sasldb_path in /etc/postfix/sasl/smtpd.conf.",
         "Missing: create the users with saslpasswd2 -c -u DOMAIN USER (sasldblistusers2 lists them).",
         "Permission denied: chgrp postfix FILE; chmod 0640 FILE.",
         "Chrooted smtpd: copy it into $queue_directory/etc/ (and keep the copy current), or set "
         "sasldb_path to a path inside the chroot, or run smtpd unchrooted (master.cf chroot column n).",
         "postfix reload, then log in from a client (or: swaks --auth -s localhost -au USER -ap PASS)."], "000",
        settings=("smtpd_sasl_type", "smtpd_sasl_path"),
        signature=sig(["unable to open Berkeley db", "unable to open MDB environment"],
                      r"SASL authentication (?:problem|failure): unable to open (?:Berkeley db|MDB environment) "
                      r"(?P<file>[^\s:]+): (?P<error>[^\n]{1,80})"),
        names=(("file",), "failure(s) to open the sasldb")),
    "sasl.client_password_maps_missing": _e(
        ADVISORY, "critical", "SMTP AUTH to the relay is on, but no password table is set",
        "smtp_sasl_auth_enable = yes (in main.cf or a master.cf -o override) with smtp_sasl_password_maps "
        "empty: every smtp process exits with a fatal error before delivering, so all mail for that transport "
        "stays deferred ('transport smtp failure'). The same holds for lmtp_sasl_auth_enable and "
        "lmtp_sasl_password_maps.",
        ["Create the table with the relay's credentials: [relay.example]:587 user:password in "
         "/etc/postfix/sasl_passwd (mode 0600, root), postmap /etc/postfix/sasl_passwd.",
         "postconf -e smtp_sasl_password_maps=hash:/etc/postfix/sasl_passwd (and smtp_sasl_security_options = "
         "noanonymous, smtp_tls_security_level = encrypt for the relay).",
         "Or, if no relay needs AUTH: postconf -e smtp_sasl_auth_enable=no. Then postfix reload; postqueue -f."],
        "000",
        live_check='config',
        settings=("smtp_sasl_auth_enable", "smtp_sasl_password_maps", "relayhost"),
        signature=sig(["specify a password table via the"],
                      r"specify a password table via the `(?P<param>\w+)' configuration parameter")),
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
    "delivery.rate_limited": _e(
        ADVISORY, "medium", "A provider slows us down: we send too fast or too much",
        "A recipient's provider answers that this server sends too much, too fast or over too many connections "
        "(Gmail's 4.7.28 'unusual rate', 421/450/452 'too many messages/connections from your IP', 'rate "
        "limited', 'throttled', Yahoo's TSS04, Microsoft's 'exceeded the rate limit'). The words are about us "
        "(our address and our sending), not about their system; mail is deferred and retried, and a provider "
        "that keeps seeing the rate may block the address. A sudden rise is often a compromised account or "
        "script sending spam; a new address has no reputation yet. A per-message 'too many recipients' (452 "
        "4.5.3) is not this: Postfix sends the rest in the next transaction.",
        ["Look for a sender flooding the queue first (queue.sender_flood; qshape -s deferred; the "
         "sasl_username= of the senders in the log): a compromised account must be stopped, not slowed down.",
         "Slow down for that provider only: a transport of its own in master.cf (slow unix - - y - - smtp), "
         "transport_maps: DOMAIN slow:, and in main.cf slow_destination_concurrency_limit = 2, "
         "slow_destination_rate_delay = 1s (smtp_destination_concurrency_limit / smtp_destination_rate_delay "
         "would slow every destination); postmap the table, postfix reload.",
         "A new address or a sudden volume: warm it up (raise the volume over days to weeks); keep PTR, SPF, DKIM "
         "and DMARC right; read the provider's postmaster page the reply names.",
         "Do not flush the deferred mail for that provider (postqueue -f repeats the burst): let it drain at the new rate."],
        "001",
        sporadic=True,
        peer="ours",  # a provider saying that we send too fast speaks about us
        log=dict(programs=("smtp",), inbound="fault",
                 means="our SMTP client: a provider answers that we send too fast or too much"),
        signature=sig(["rate limit", "ratelimit", "rate-limit", "4.7.28", "throttl", "Throttl", "TSS04",
                      "too many messages", "too many connections", "too many concurrent", "Too many messages",
                       "Too many connections", "Too many concurrent", "too many emails", "Too many emails",
                       "unusual rate", "sending rate", "exceeded the rate", "Server busy"],
                      r"(?:to=<[^<>\s@]*@(?P<domain>[^<>\s@]+)>.{0,600}?)?host " + DEST
                      + r" (?:said|refused to talk to me): (?!.{0,400}?(?i:receiving mail|to this recipient|recipient rate))"
                      r".{0,400}?(?i:(?P<why>4\.7\.28|unusual rate of|rate[ -]?limit|throttl|\[?tss04\]?|sending rate"
                      r"|too many (?:messages|e?mails|connections|concurrent (?:smtp )?(?:connections|sessions)"
                      r"|(?:smtp )?sessions) (?:from|for) (?:your|this|the sending) (?:ip|host|address|server|network)"
                      r"|exceeded the (?:rate|message|connection) limit|server busy\. please try again later))",
                      within=[" said: ", " refused to talk to me: "]),
        names=(("domain",), "reply(s) that we send too fast, from the provider(s) of")),
    "maps.db_permission": _e(
        AUTO, "high", "A lookup table index cannot be read",
        "Wrong owner or mode on the index (or its SELinux context).",
        ["chown root:postfix INDEX; chmod 0644 INDEX (restorecon INDEX where SELinux is on)."], "000",
        live_check='probes',
        releases_mail=True,
        signature=sig(["open database "],
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
        signature=sig(["open database "],
                      r"open database (?P<file>\S+?):? No such file or directory")),
    "maps.unsupported_type": _e(
        OPT_IN, "high", "A table type is not supported by this Postfix",
        "The distribution moved from Berkeley DB (hash:) to lmdb.",
        ["Rewrite references to $default_database_type and rebuild the tables."], "FAULTS",
        live_check='probes',
        explained_by=("config.dynamicmaps_unsafe",),
        signature=sig(["unsupported dictionary type", "support for '"],
                      r"unsupported dictionary type: (?P<domain>\S+)|Berkeley DB support for '(?P<file>[^']+)' is not available")),
    "maps.regex_syntax": _e(
        ADVISORY, "medium", "A pcre: or regexp: table has a rule Postfix cannot use",
        "A rule of a pcre: or regexp: table (header_checks, body_checks, an access or transport table) does not "
        "compile, lacks its closing delimiter or replacement, uses a $number it does not capture, or has an "
        "unbalanced IF/ENDIF. Postfix skips that rule (or the rest of the IF block) with only this warning: "
        "the check it should do is silently not done.",
        ["The evidence names the file and the line; fix the rule there (man pcre_table / regexp_table).",
         "Test the table: postmap -q 'SAMPLE' pcre:/etc/postfix/FILE (the warning repeats until it is fixed); "
         "postmap -fq - pcre:FILE < SAMPLES tests several.",
         "postfix reload (tables of proxymap or long-running daemons are re-read then)."], "000",
        signature=sig(["pcre map ", "regexp map "],
                      r"(?<!panic: )(?<![\w-])(?:pcre|regexp) map (?P<file>\S+), line (?P<where>\d+): (?:.*?(?:skipping|ignoring) this rule"
                      r"|error in regex|error while studying regex|IF has no matching ENDIF|ignoring |do not prepend whitespace"
                      r"|non-numeric replacement index|out.of.range replacement index|no replacement text|bad replacement syntax)")),
    "maps.proxy_unapproved": _e(
        ADVISORY, "high", "proxymap refuses a table that is not in proxy_read_maps or proxy_write_maps",
        "A parameter names a table through proxy: (proxy:ldap:..., proxy:mysql:...) that is not listed in "
        "proxy_read_maps (or proxy_write_maps for a cache Postfix writes). proxymap refuses every lookup of it, "
        "so the lookup fails and mail that needs it is deferred.",
        ["The evidence names the table. Add it, keeping the default list: "
         "postconf -e \"proxy_read_maps = $(postconf -h proxy_read_maps) TYPE:NAME\" "
         "(proxy_write_maps for a table Postfix updates: address verification or postscreen caches).",
         "Or drop proxy: from the parameter that names it, if the table need not go through proxymap.",
         "postfix reload; postqueue -f."], "000",
        releases_mail=True,
        settings=("proxy_read_maps", "proxy_write_maps"),
        signature=sig(["request for unapproved table"],
                      r"request for unapproved table: \"(?P<table>[^\"]*)\"")),
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
        explained_by=("service.port_in_use",),
        releases_mail=True,
        starts_postfix=True),
    "service.port_in_use": _e(
        ADVISORY, "critical", "Postfix cannot bind its port: another process holds it",
        "master could not listen on a port of master.cf's inet services (bind ... Address already in use) and "
        "exited: Postfix is down. Another MTA (exim, sendmail), a second Postfix instance, a proxy or a "
        "container publishing the port holds it, or an old master is still running. The live finding names the "
        "process that holds the port now.",
        ["Who holds it: ss -ltnp 'sport = :PORT' (the evidence names the process when Postfix is down now).",
         "Stop and disable the other service (systemctl disable --now exim4), or move one of them to another "
         "address (inet_interfaces, or host:port in master.cf).",
         "postfix check && postfix start"], "000",
        live_check='probes',
        signature=sig(["Address already in use"],
                      r"bind (?P<ip>\S+) port (?P<where>\w+): Address already in use"),
        names=(("where",), "failure(s) to bind, port")),
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
        # the backend's own words (server unreachable, login refused, table not approved) are the cause
        explained_by=("maps.backend_unreachable", "maps.backend_bind_failed", "maps.proxy_unapproved"),
        signature=sig(["lookup error for ", "table lookup problem", "map lookup problem", " lookup failure", "is unavailable. ",
                      "Temporary lookup failure", "Temporary lookup error", ": Search error"],
                      r"(?<![\w:./-])(?P<file>[\w:./-]+?):? lookup error for (?!DNS query)"
                      r"|(?<!\w)(?P<param>\w+): (?P<domain>[\w:./-]+): table lookup problem"
                      r"|(?<!\w)(?P<where>\w+) map lookup problem|(?<!\w)\w+ lookup failure|Temporary lookup (?:failure|error)"
                      r"|dict_\w+_lookup: Search error|(?<!\S)(?P<table>\w+:\S+) is unavailable\.", rank=1)),
    "maps.backend_bind_failed": _e(
        ADVISORY, "high", "An LDAP or SQL table backend refuses our login",
        "The LDAP server refuses the bind (wrong bind_dn or bind_pw, an expired or locked account, an "
        "unknown DN), or the MySQL/PostgreSQL server refuses the user (wrong password, the user lacks a "
        "grant for this client host, no pg_hba.conf entry). Every lookup of the table fails, and mail that "
        "needs it is deferred.",
        ["The evidence names the server (and the bind DN); the .cf file of the table holds bind_dn/bind_pw or "
         "user/password (postconf -n | grep ldap: / mysql: / pgsql:).",
         "Test as Postfix does: sudo -u postfix postmap -q KEY ldap:/etc/postfix/FILE.cf (or mysql:/pgsql:); "
         "ldapwhoami -x -H URL -D BIND_DN -W; mysql -h HOST -u USER -p.",
         "Fix the credentials in the .cf file (keep it 0640 root:postfix) or the account/grant on the server; "
         "postfix reload; postqueue -f."], "000",
        outside="the LDAP or database administrator (account, grants, pg_hba.conf)",
        releases_mail=True,
        signature=sig(["Unable to bind to server", "connect to mysql server", "connect to pgsql server"],
                      r"(?:Unable to bind to|connect to (?P<where>mysql|pgsql)) server (?P<dest>\S+?)(?: with dn (?P<user>[^:]*): \d"
                      r"|: (?:Access denied|.*?(?:password authentication failed|no pg_hba\.conf entry)))")),
    "maps.backend_unreachable": _e(
        ADVISORY, "high", "An LDAP, SQL or TCP table server cannot be reached",
        "Postfix cannot connect to the server behind an ldap:, mysql:, pgsql: or tcp: table: the server is "
        "down, the host name or port in the table's .cf file is wrong, a firewall drops the connection, or TLS "
        "to it fails. Every lookup of the table fails: smtpd answers 451 4.3.0 and mail that needs it is deferred.",
        ["The evidence names the server; check it from this host: nc -zv HOST PORT (389/636 LDAP, 3306 MySQL, "
         "5432 PostgreSQL).",
         "Compare server_host/hosts in the table's .cf file with the real server; test as Postfix does: "
         "sudo -u postfix postmap -q KEY ldap:/etc/postfix/FILE.cf",
         "Once it answers: postqueue -f."], "000",
        outside="the LDAP or database administrator, or the network team",
        releases_mail=True,
        signature=sig(["Unable to bind to server", "Unable to connect to LDAP server", "Can't contact LDAP server",
                      "connect to mysql server", "connect to pgsql server", "connect to TCP map "],
                      r"(?:Unable to bind to|Unable to connect to LDAP|connect to (?P<where>mysql|pgsql)) server (?P<dest>\S+?)"
                      r"(?: with dn [^:]*: -\d+ |: (?!Access denied|.*?(?:password authentication failed|no pg_hba\.conf entry))|$)"
                      r"|Can't contact LDAP server|connect to TCP map (?P<table>\S+?): ")),
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
        # smtpd's 451 4.3.5 after a restriction it cannot use
        explained_by=("config.unknown_restriction",),
        signature=sig(["undefined parameter: ", "comment after other text is not allowed",
                      "read-only parameter assignment", " invalid ", "syntax error after '}'", ": missing '}'",
                       "has been removed", "unknown DNS filter action", "non-null host address bits",
                       "entry without value", "requires transport:destination", "unknown user name value",
                       ": duplicate entry", " non-postfix directory", "Server configuration error",
                       "is larger than maximal_queue_lifetime", "unmatched request: ",
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
        # master throttles a daemon that exits at start on a configuration fatal
        explained_by=("config.bad_value", "config.relay_restrictions_missing"),
        signature=sig(["killed by signal", "problem talking to service", "bad command startup",
                      "terminated abnormally"],
                      r"process \S+ pid \d+ killed by signal (?P<where>\d+)|problem talking to service (?P<domain>\S+?):"
                      r"|bad command startup -- throttling|terminated abnormally", rank=1)),
    "service.daemon_dying": _e(
        ADVISORY, "high", "A Postfix daemon keeps exiting with an error",
        "master logs 'process ... exit status N' each time a daemon exits abnormally. One follows every fatal "
        "error of a daemon (the fatal line says why, and is its own finding); many in the window mean a daemon "
        "that dies again and again - each new process meets the same fault, mail for that service waits, and "
        "master throttles the service. Crashes (killed by signal) are service.daemon_failure.",
        ["The evidence names the daemon; read its fatal/panic lines just before: grep 'postfix/DAEMON' "
         "/var/log/mail.log | grep -E 'fatal|panic' | tail",
         "postfix check; postconf -n and postconf -M DAEMON for the settings it reads.",
         "Fix what the fatal line names, then postfix reload (or stop && start)."], "000",
        sporadic=True,
        explained_by=("sasl.no_mechanisms", "sasl.client_password_maps_missing", "sasl.dovecot_socket",
                      "service.chroot_incomplete", "service.hostname_invalid", "maps.missing_db",
                      "maps.db_permission", "maps.unsupported_type", "config.mailbox_lt_message",
                      "config.bad_value", "config.relay_restrictions_missing", "config.inet_interfaces_not_local",
                      "config.dynamicmaps_unsafe", "tls.disabled", "config.invalid_setting", "queue.write_error",
                      "service.daemon_failure"),
        signature=sig(["exit status "],
                      r"process (?:\S*/)?(?P<daemon>[^\s/]+) pid \d+ exit status (?P<where>\d+)"),
        names=(("daemon",), "abnormal exit(s) of")),
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
        signature=sig([" END-OF-MESSAGE ", "end of data", "sending message body"],
                      r"timeout after END-OF-MESSAGE(?: \(\d+ bytes\))? from " + CLIENT
                      + r"|timeout while receiving end of data|timed out while (?:sending end of data|sending message body)",
                      info=[' END-OF-MESSAGE '])),
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
    "config.domain_in_two_classes": _e(
        ADVISORY, "medium", "A domain is listed in mydestination and in a virtual domain class",
        "A domain belongs to one address class only. Listed in mydestination too, it is delivered as a "
        "local domain (local(8), the UNIX accounts and aliases) and its virtual_alias_maps or "
        "virtual_mailbox_maps entries are not used as intended; trivial-rewrite warns on every address of it.",
        ["Decide which class the domain belongs to (the evidence names the domain and both parameters).",
         "Virtual: remove it from mydestination (postconf mydestination; postconf -e 'mydestination = ...'). "
         "Local: remove it from virtual_alias_domains or virtual_mailbox_domains (or its table).",
         "postfix check && postfix reload; test with: sendmail -bv user@DOMAIN"], "000",
        settings=("mydestination", "virtual_alias_domains", "virtual_mailbox_domains"),
        signature=sig(["do not list domain "],
                      r"do not list domain (?P<domain>\S+) in BOTH (?P<param>\w+) and (?P<where>\w+)")),
    "config.unknown_restriction": _e(
        ADVISORY, "high", "An smtpd restriction list names an unknown restriction or lacks an argument",
        "A misspelt restriction, one removed in this Postfix version, an undefined restriction class, or a "
        "restriction without its table or argument. smtpd stops evaluating the list and answers "
        "'451 4.3.5 Server configuration error': mail that reaches it is deferred, not accepted.",
        ["The evidence names the restriction; find it: postconf -n | grep -n RESTRICTION",
         "Fix the name (postconf(5) lists the valid ones for this version), define the restriction class in "
         "smtpd_restriction_classes, or give the missing table (check_client_access hash:/etc/postfix/access).",
         "postfix check && postfix reload; then postqueue -f for the mail senders retried."], "000",
        settings=("smtpd_client_restrictions", "smtpd_helo_restrictions", "smtpd_sender_restrictions",
                  "smtpd_relay_restrictions", "smtpd_recipient_restrictions"),
        signature=sig(["unknown smtpd restriction", "needs a definition", "must be followed by",
                      "requires domain name argument", "need maptype:mapname"],
                      r"unknown smtpd restriction: \"(?P<param>[^\"]*)\"|restriction class `(?P<where>[^']*)' needs a definition"
                      r"|restriction (?P<table>[^\s:]+)(?: must be followed by| requires domain name argument"
                      r"|: bad argument \"[^\"]*\": need maptype:mapname)")),
    "config.bad_value": _e(
        ADVISORY, "critical", "A parameter has a value Postfix cannot parse",
        "A numerical, boolean or time parameter holds text Postfix cannot read ('ten', 'maybe', '30x'), in "
        "main.cf, a master.cf -o override, or a table's .cf file (LDAP/SQL). Every daemon that reads it exits "
        "with a fatal error, so the service it belongs to stops working (smtpd: no mail accepted).",
        ["The evidence names the parameter (and the file, for a table's .cf): postconf PARAMETER; postconf -P | grep PARAMETER",
         "Set a valid value: a number, yes/no, or a time with its unit (s, m, h, d, w), or remove it to get the "
         "default: postconf -X PARAMETER (for -o overrides: postconf -P -X SERVICE/TYPE/PARAMETER).",
         "postfix check && postfix reload"], "000",
        signature=sig(["bad numerical configuration", "bad boolean configuration", "bad time value or unit",
                      "bad configuration: "],
                      r"(?:(?<!\S)(?P<file>/\S+): )?bad (?:(?:numerical|boolean) )?configuration: (?P<param>\w+) ="
                      r"|(?:parameter |(?<!\S))(?P<where>\w+): bad time value or unit")),
    "config.overriding_entry": _e(
        ADVISORY, "low", "A parameter is set twice in one file",
        "main.cf (or a table's .cf file) sets the same parameter twice; the later line wins, silently. An "
        "edit of the earlier line then changes nothing, which is how a fix 'does not work'.",
        ["The evidence names the file, the line and the parameter; keep one line: "
         "grep -n '^PARAMETER' FILE, delete the duplicate you do not mean.",
         "postconf -e PARAMETER=VALUE rewrites the setting in place; postfix reload."], "000",
        signature=sig(["overriding earlier entry"],
                      r"(?<!\S)(?P<file>\S+), line (?P<where>\d+): overriding earlier entry: (?P<param>[^=\s]+)=")),
    "config.relay_restrictions_missing": _e(
        AUTO, "critical", "smtpd refuses to run: no relay restriction rejects unauthorized destinations",
        "Neither smtpd_relay_restrictions nor smtpd_recipient_restrictions holds reject_unauth_destination, "
        "defer_unauth_destination, reject, defer or defer_if_permit before a 'permit'. Postfix refuses to "
        "become an open relay: every smtpd exits with a fatal error and no mail is received.",
        ["Set smtpd_relay_restrictions to Postfix's default: permit_mynetworks, permit_sasl_authenticated, "
         "defer_unauth_destination (or add reject_unauth_destination to the site's own list).",
         "postfix check && postfix reload; test: telnet localhost 25."], "003",
        live_check='config',
        settings=("smtpd_relay_restrictions", "smtpd_recipient_restrictions"),
        signature=sig(["specify at least one working instance of"],
                      r"in parameter (?P<param>\w+)(?: or \w+)?, specify at least one working instance of")),
    "config.inet_interfaces_not_local": _e(
        ADVISORY, "critical", "inet_interfaces names an address this host does not have",
        "inet_interfaces (or proxy_interfaces) lists an IP address no interface of this host carries: a typo, an "
        "address that moved, or an interface (a VPN, a failover address) not up yet at boot. master and every "
        "daemon exit with a fatal error: Postfix does not start.",
        ["Compare the address in the evidence with: ip -brief address",
         "Fix inet_interfaces (postconf -e 'inet_interfaces = ...', or 'all'), or bring the interface up first "
         "(order the service after network-online.target).",
         "postfix check && postfix start"], "000",
        settings=("inet_interfaces", "proxy_interfaces"),
        signature=sig(["no local interface found for "],
                      r"parameter (?P<param>\w+): no local interface found for (?P<ip>\S+)")),
    "config.dynamicmaps_unsafe": _e(
        AUTO, "high", "dynamicmaps.cf is owned or writable by a non-root user, and Postfix skips it",
        "Postfix loads its map type plugins (pcre, lmdb, mysql, ldap... on Debian) from dynamicmaps.cf and the "
        "files of dynamicmaps.cf.d only when root owns them and no one else can write them. Otherwise it skips "
        "the file, and every table of those types fails: 'unsupported dictionary type'.",
        ["chown root:root the file named in the evidence; chmod go-w it (Debian: 0644).",
         "postfix check && postfix reload"], "000",
        releases_mail=True,
        signature=sig(["file is owned or writable by non-root users"],
                      r"(?<!\S)(?P<file>\S+): file is owned or writable by non-root users"
                      r"|unsupported dictionary type: (?P<domain>\S+) \((?P<table>\S+): file is owned or writable by non-root users",
                      rank=-1)),
    "config.postmaster_alias_missing": _e(
        ADVISORY, "medium", "The postmaster alias is missing",
        "RFC 5321 requires a postmaster address; local(8) found no 'postmaster' in alias_maps and warns on every "
        "message for it, then delivers it to a UNIX account of that name if there is one (usually none: it bounces).",
        ["Add 'postmaster: root' (or an admin's address) to the alias file of alias_maps (postconf -h alias_maps), "
         "then rebuild it: newaliases (or postalias TYPE:FILE).",
         "Check: postalias -q postmaster TYPE:FILE; sendmail -bv postmaster"], "000",
        settings=("alias_maps", "alias_database"),
        signature=sig(["required alias not found: "],
                      r"required alias not found: (?P<param>\S+)")),
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
