# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every Postfix message gets a meaning (issue 31 item 2): the rows that give a warning, error,
fatal or panic message that no catalog signature and no benign kind of log_signatures claimed
one of three classes, and the advice of each family.

- statistic: noise from the Internet or from a peer (a client's bad HELO, its rate limits, its
  TLS, a remote server's DNS or protocol): counted by name, never a finding;
- benign: a notice or the second line of a two-line warning: counted, with its reason;
- family: a fault of this host whose fix is here (config, lookup_table, permission, resource,
  tls, sasl, dns, network, filter, queue_file, internal, version), with the subject the message
  names (a file, parameter, table, peer, service...), parsed by the row's pattern.

A row is (kind, name, words, pattern[, programs]). Rows are found by their words: the message's
lower-cased words are looked up in an index, so a line costs one pass over its words plus the
patterns of the few rows that share a word with it, first row first. Every pattern is matched
at the start of the message (re.match, one attempt per row) and holds at most one lazy run, so
a hostile 4 KB message stays linear (tests/unit/test_log_families.py times every row). After
the rows: a message that ends in an errno text (Postfix's %m) takes that error's family, then
the topic rows (a message about TLS, a table, a milter...), then a fatal that nothing placed is
internal; a panic is always internal (a Postfix bug or a corrupted process: report it).
"""
from __future__ import annotations

import datetime as _dt
import re

MAX_MESSAGE = 1024  # the words that say what a message means come first; the rest is data
MAX_SUBJECT = 200

# family: (title, what to do). The advice is the finding's fix; a family finding is advisory.
FAMILIES = {
    "config": ("Configuration error",
               "Fix the parameter or file the messages name: postconf -n and postconf -nf to read it, "
               "postfix check to validate, then postfix reload. A command-line message means a script or "
               "cron job calls the Postfix command wrongly."),
    "lookup_table": ("Lookup table or its backend",
                     "Check the named table: the source file exists and is rebuilt (postmap / postalias), the "
                     "type is installed (postconf -m; the postfix-<type> package), and its backend answers "
                     "(LDAP, SQL, memcache, socketmap, proxymap): postmap -q KEY TYPE:NAME."),
    "permission": ("Permission or ownership",
                   "Check the owner and mode of the named file or directory and the user the command runs "
                   "as: postfix set-permissions repairs Postfix's own files, postfix check reports the rest."),
    "resource": ("Disk, memory, processes or file descriptors",
                 "Check what runs out on this host: df -h and df -i of the queue and log file systems, free -m, "
                 "the open-file limit (ulimit -n, LimitNOFILE) and the process limits (default_process_limit, "
                 "master.cf maxproc)."),
    "tls": ("TLS material or settings",
            "Check the named certificate, key or CA file and the TLS parameters: the file exists and is "
            "readable by Postfix, key and certificate match (openssl x509 -noout -modulus vs openssl pkey), "
            "the chain is complete, and the protocol and cipher settings are valid."),
    "sasl": ("SASL authentication setup",
             "Check the authentication backend the messages name (Dovecot's auth socket, saslauthd, Cyrus "
             "SASL configuration) and the smtpd_sasl_* / smtp_sasl_* parameters; the socket must exist inside "
             "Postfix's chroot when smtpd runs chrooted."),
    "dns": ("DNS resolution on this host",
            "Check this host's resolvers (/etc/resolv.conf, and its copy in the chroot), that they answer "
            "(dig @resolver), and the DNS-related parameters (smtp_dns_support_level, DNSBL sites)."),
    "network": ("Network, addresses or peers",
                "Check the named address, port or peer: that it is configured on this host (inet_interfaces, "
                "master.cf), free (ss -ltnp), reachable (routes, firewall) and that the service behind it runs."),
    "filter": ("Content filter or milter",
               "Check the named milter or content filter: that it runs and listens where smtpd_milters, "
               "non_smtpd_milters or content_filter say, its own log, and milter_default_action for when it is down."),
    "queue_file": ("Queue file integrity",
                   "Look at the named queue file (postcat -q QUEUE_ID), run postsuper -s to repair the queue "
                   "structure, check the corrupt/ directory, and never edit queue files by hand."),
    "internal": ("Internal error or panic",
                 "Collect postfix check output, postconf -n and these log lines, restart Postfix (postfix stop; "
                 "postfix start), and report it upstream (postfix-users) when it comes back."),
    "version": ("Version or compatibility",
                "A setting or feature of another Postfix or library version: follow the message's own advice, "
                "install the missing support (a postfix-<type> package, a library), or set compatibility_level "
                "once the change is reviewed."),
}

# Counted by name, never a finding: what other parties do to this server.
STATISTICS = {
    "client_limit": "a client over a smtpd or anvil rate or concurrency limit: the limit doing its job",
    "client_protocol": "a client breaking the SMTP or SASL protocol (long or malformed commands, aborted AUTH)",
    "client_syntax": "a client's malformed HELO name or address, as smtpd's checks report it",
    "peer_tls": "a peer's TLS (its certificate, SNI, handshake, policy): that peer's setup, not ours",
    "peer_dns": "another domain's DNS (malformed or oversized records, a name server loop)",
    "peer_protocol": "a remote SMTP server's malformed or overlong replies",
    "upstream_proxy": "a connection through the haproxy front that ended or timed out early",
    "mail_loop": "a message that went round too many hops (a forwarding loop, often outside this host)",
}

# Benign kinds added here, with their reason (log_signatures' own kinds keep their comments).
BENIGN = {
    "continuation": "the second line of a two-line warning: its meaning is counted with the first line",
    "clock_notice": "the clock of this host or its file server moved: Postfix adapts (keep NTP running)",
    "admin_notice": "an operator notice of Postfix (a repair it made, a performance hint), not a fault",
    "other_program": "a line of a program that is neither Postfix nor a known neighbour: not Postfix's vocabulary",
}

SEVERITY_OF = {"panic": "high", "fatal": "high", "error": "medium", "warning": "low"}
SEVERITY_RANK = ("panic", "fatal", "error", "warning")

# Named groups a pattern may capture, in the order the subject is picked, and how it is shown.
SUBJECTS = (("table", "table"), ("file", "file"), ("param", "parameter"), ("milter", "milter"),
            ("service", "service"), ("peer", "peer"), ("address", "address"), ("command", "command"),
            ("user", "user"), ("domain", "domain"), ("queue_id", "queue ID"), ("call", "call"),
            ("function", "function"))

# Pieces of patterns. A path, a table (type:name), a parameter name, a peer (host[addr]:port).
_F = r"(?P<file>/[^\s:;,\"'()<>]*)"
_FA = r"(?P<file>[^\s:;,\"'()<>]+)"  # any file name, absolute or relative
_T = r"(?P<table>[a-z][\w+-]*:[^\s,;\"'()<>]+)"
_TQ = r"\"?(?P<table>[a-z][\w+-]*:[^\s,;\"'()<>]+)\"?"
_P = r"(?P<param>[a-z][a-z0-9_]*)"
_QID = r"(?P<queue_id>[0-9A-F]{6,12}|[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-z]{10,15})\b"
_PEER = r"(?P<peer>[^\s\[\]]*\[(?:[0-9A-Fa-f:.]+|unknown)\](?::\d+)?)"
_SVC = r"(?P<service>[\w./-]+)"
_FN = r"(?:(?P<function>[\w-]+): )?"  # Postfix's "myname: " prefix
_ANY = r".*?"  # the one lazy run a pattern may hold (anchored at the message start: linear)

# (kind, name, pattern[, programs]); programs: only lines of these syslog programs.
INBOUND = ("smtpd", "postscreen", "tlsproxy", "dnsblog", "qmqpd")
# The commands an operator or a script runs (their fatals about options are command-line mistakes).
COMMANDS = ("postconf", "postmulti", "sendmail", "postqueue", "postsuper", "postcat", "postmap", "postalias", "postlog",
            "postlock", "postdrop", "postkick", "posttls-finger", "postfix", "master", "anvil", "smtpd", "qmqpd")
_PFX = r"(?:\S+: ){0,2}"  # up to two "myname: " / "file: " / "table: " prefixes
ROWS = [
    # ============================================================ statistics: Internet and peer noise
    ("statistic", "client_limit",
     r"(?:Connection concurrency|Connection rate|Message delivery request rate|Recipient address rate"
     r"|New TLS session rate|AUTH command rate) limit exceeded: \d+ from " + _PEER),
    ("statistic", "client_protocol",
     _PFX + r"(?:\S+ command payload \S+ exceeds SMTP protocol limit|BDAT request from \S+ exceeds message size limit"
     r"|malformed BDAT command syntax from |null BDAT request from |too much BDAT content -- disabling further input"
     r"|bad ETRN .{0,110} from |reject: ETRN |do not use ETRN in \"sendmail -bs\" mode|request longer than \d+: "
     r"|SASL \S+ authentication aborted|no @domain in address: )", INBOUND),
    ("statistic", "client_protocol",
     r"(?:getpeername|getsockname): .{0,80} -- dropping this connection"
     r"|cannot convert (?:client|server) address/port to string: .{0,100} -- dropping", INBOUND),
    ("statistic", "client_protocol", r"ciphertext read/write \S+ for ", ("tlsproxy",)),
    ("statistic", "client_protocol", r"write \[[^\]]*\]:\S+: ", ("postscreen",)),
    ("statistic", "client_protocol", r"(?:\S+: )?(?:cannot )?accept connection: Software caused connection abort"),
    ("statistic", "upstream_proxy", r"haproxy read: "),
    # smtpd's checks of a client's HELO name and addresses (valid_hostname, valid_hostaddr, valid_mailhost_addr)
    ("statistic", "client_syntax",
     r"(?:valid_\w+: )?(?:numeric hostname: |hostname label too long: |empty hostname|bad length \d+ for "
     r"|misplaced (?:hyphen|dot|delimiter): |invalid character \d+\(decimal\)|empty (?:domain name|address)$"
     r"|malformed (?:IPv6|IPv4-in-IPv6) address: |too (?:few|many) `::?' in IPv6 address|bad null (?:first|last) field"
     r"|invalid octet (?:value|count): |bad initial octet value: |'\*' can be the first label only"
     r"|'\[' expected at start: |'\]' expected at end: |unexpected text after '\]': |too much text: )"),
    ("statistic", "client_syntax", r"midna_domain_to_\w+: Problem translating domain \""),
    ("statistic", "client_syntax", r"\S+: malformed UTF-8 domain name"),
    # a peer's TLS: its certificate, SNI, policy (ours is a tls family below)
    ("statistic", "peer_tls", r"TLS library problem: "),
    ("statistic", "peer_tls",
     _PFX + r"(?:\S+: )?(?:error reading peer certificate |peer certificate has no |non-printable content in peer "
     r"|NULL character in peer |peer \S+ too long|error decoding peer )"),
    ("statistic", "peer_tls",
     r"(?:TLS SNI from \S+ is invalid|TLS SNI changed from |server \S+ violates \S+ policy"
     r"|MX name '[^']*' does not match STS MX pattern|Too many TLSRPT policies for"
     r"|\S+: all TLSA records unusable|DANE TLSA lookup problem: |DNSSEC status lookup error for )"),
    ("statistic", "peer_tls",
     r"(?:TLSRPT support: |\S+: )?(?:Too many TLSRPT policies for |ignoring malformed policy for |truncated TLSA RR length"
     r"|policy lookup failed for )"),
    ("statistic", "peer_tls", r"\S+ while sending (?:QUIT command|STARTTLS)", ("posttls-finger",)),
    # another domain's DNS
    ("statistic", "peer_dns",
     r"(?:[\w ]{1,60} in [\w ]{1,40} of \S+ record for |DNS record count limit \(\d+\) exceeded|reply length \d+ > buffer length"
     r"|\S+: skipping (?:reply )?record type \S+ for |skipping record type \S+: |cannot convert type \S+ record"
     r"|extract_answer: bad |dns_lookup: Name server loop for |Unable to look up \S+ host )"),
    # smtpd's and postscreen's DNS checks of a client, a sender, a HELO name, and DNSBL answers: their DNS
    ("statistic", "peer_dns",
     r"(?:\S+: )?(?:address or MX|MX or address|TXT|RBL|A or AAAA|NS|MX) lookup error: (?!.*Name service error)"),
    ("statistic", "peer_dns", r"(?:dnsblog reply timeout \d+s for |(?:\S+: )?lookup error for DNS query )"),
    # a remote SMTP server's replies
    ("statistic", "peer_protocol",
     r"(?:\S+: )?(?:(?:multi-line )?response longer than \d+|non-\S+ response from |host \S+ said: "
     r"|bad EHLO SIZE limit \"[^\"]*\" from )"),
    ("statistic", "mail_loop", r"message rejected: hopcount exceeded"),
    ("statistic", "mail_loop", r"(?:recipient nesting limit exceeded for |resolve_addr: <[^>]*>: giving up after )"),

    # ============================================================ benign: notices and continuations
    ("benign", "continuation",
     r"(?:to turn off these warnings specify|you may need (?:to increase|to reduce|a separate master\.cf transport)"
     r"|so that Postfix (?:quickly skips|wastes less)|this may slow down other mail deliveries"
     r"|see https?://www\.postfix\.org/STRESS_README|to avoid this condition, increase the process count"
     r"|to change \S+, stop and start Postfix|old value: |for instructions see the bounce\(5\) manual"
     r"|-- ignoring this template for now|perhaps you need to create the maildirs|specify \"\S+ = no\" to ignore"
     r"|define a restriction class and specify its name|use DUNNO instead of OK|this is not allowed for security reasons"
     r"|See earlier parsing error messages|please update the \S+ file; the new queue manager|\(old name: nqmgr\)"
     r"|to prevent loss of mail, turn off|possible solution: recompile|or the command is run from a set-uid root"
     r"|to approve this table for|to avoid this warning, 1\)|if this file was created by Postfix < 1\.1"
     r"|support for the name old name \(nqmgr\))"),
    ("benign", "clock_notice",
     r"(?:\S*backward time jump (?:detected|recovered)|another backward time jump|file system clock is \d+ seconds"
     r"|(?:\S+: )?message (?:\S+ )?dated \d+ seconds into the future)"),
    ("benign", "admin_notice",
     r"(?:resetting file time stamps|\S+: removed spurious \S+ log|removing zero-length database file"
     r"|QUEUE FILE NAMES WERE CHANGED|(?:\S+: )?dictionary has changed|old name: nqmgr)"),

    # ============================================================ families, most specific first
    # --- permission: who may do what, who owns what
    ("family", "permission", r"User (?P<user>\S+) is not allowed to (?:flush|view|submit)"),
    ("family", "permission",
     r"(?:the (?:postfix|master) command is reserved for the superuser|use of this command is reserved for the superuser"
     r"|(?:the|this) (?:postfix |master )?(?:command|postfix command) must not run as a set-uid"
     r"|the master command must not run|incorrect (?:SMTP|QMQP) server privileges|the Postfix \w+ server must run with"
     r"|the Postfix sendmail command (?:has set-uid root|must be installed without set-uid))"),
    ("family", "permission",
     r"(?:" + _F + r": )?(?:file is owned or writable by non-root users|:include: file " + _F + r" is world writable"
     r"|file " + _F + r" (?:is world writable|has bad owner uid))"),
    ("family", "permission", r"unsupported dictionary type: \S+ \((?P<file>[^\s:]+): file is owned or writable"),
    ("family", "permission",
     r"(?:\S+: )?(?:cannot change file ownership|cannot find alias database owner|cannot find :include: file owner"
     r"|maildir access problem for UID/GID=(?P<user>\S+):|expire file (?P<file>\S+): cannot set permission"
     r"|unauthorized configuration directory name: " + _F + r")"),
    ("family", "permission",
     r"(?:request to (?:deliver as|use) (?:mail system owner|root|privileged group)|user= command-line attribute specifies"
     r" (?:mail system|root|privileged)|user must not have (?:user|group) ID -1"
     r"|\S+: bad open file status)"),

    # --- resource: disk, memory, processes, descriptors
    ("family", "resource",
     r"(?:\S+: )?(?:insufficient memory|out of memory|mymalloc of pldb failed|my(?:m|re)alloc: insufficient memory)"),
    ("family", "resource", r"(?:(?P<service>\S+): )?fork: .{0,60} -- throttling"),
    ("family", "resource", r"service \"(?P<service>[^\"]*)\" \([^)]*\) has reached its process limit"),
    ("family", "resource", r"mail for (?P<domain>\S+) is using up \d+ of \d+ active queue entries"),
    ("family", "resource",
     r"(?:could allocate space for only \d+ open files|descriptor \d+ does not fit FD_SETSIZE"
     r"|unable to determine open file limit|this program was built for 32-bit file handles)"),
    ("family", "resource",
     r"(?:\S+: )?(?:process id \d+: command time limit exceeded|child wait time limit exceeded|watchdog timeout"
     r"|(?:read|write) time limit exceeded)"),
    ("family", "resource", r"not enough free space in mail queue"),

    # --- queue files
    ("family", "queue_file",
     r"(?:corrupted queue file: (?P<file>\S+)|saving corrupt file \"(?P<queue_id>[^\"]+)\"|\S+: save corrupt file queue )"),
    ("family", "queue_file",
     r"(?:\S+: )?(?:message rejected: (?!hopcount)|unexpected record type|bad record type|record type \d+ not allowed"
     r"|malformed (?:record|pointer record value|attribute: )|(?:invalid|malformed|weird) (?:flags in )?size record"
     r"|ignoring (?:malformed|out-of-order) (?:DSN|dsn|original)|ignoring multiple \S+ attribute"
     r"|too many (?:length bits|reverse jump records)|illegal length \d+, record"
     r"|unexpected EOF (?:in data|reading length), record|seek error after|bad attribute record|envelope records out of order"
     r"|file contains multiple size records|out-of-order (?:extracted|message)|Unexpected record type"
     r"|uid=\d+: (?:ignoring|unexpected or malformed record|unexpected record type|malformed input)"
     r"|spurious null attribute value|missing \S+ envelope record|\S+ envelope record)"),
    ("family", "queue_file",
     r"(?:\S+: )?(?:bad mail queue (?:name|ID)|malformed queue (?:id|name)|invalid mail queue id|bad queue id \""
     r"|readdir loop on queue|name/inode mismatch|bogus file name|\S+ queue must not be hashed|input is not a valid queue file"
     r"|OPERATION INCOMPLETE|CHECK YOUR QUEUE IDS|rcpt count mismatch|premature disconnect|queue file read error"
     r"|message (?:\S+ )?has been queued for \d+ days|invalid directory name|ignored: queue \S+ id (?P<queue_id>\S+)"
     r"|uid=\d+: no envelope sender|(?:missing|duplicate) sender address: |no sender before message content record"
     r"|no recipients in delivery request|bad pointer record|record read error|bad offset|skip \d+ bytes failed"
     r"|ignoring bad (?:delay time|extra flags): |(?:vstream_fseek|vstream_ftell)(?: file)? (?P<file3>\S+?):"
     r"|uid \d+: file has \d+ links|uid \d+: not a regular file"
     r"|open input file (?P<file>\S+?):|rename (?P<file2>\S+) to \S+: giving up)"),
    ("family", "queue_file",
     r"(?:\S+: ){0,2}(?:(?:open|close|seek|truncate|append|remove|read|lock|unlock|update)(?: file| message file| bounce log)?"
     r" (?:\S+ )?" + _QID + r"(?::| from )|(?:rename|remove) " + _QID + r" from |rename from \S+ to \S+: "
     r"|move to \S+ queue failed|update (?:\S+ )?(?:file )?time stamps|mark_corrupt: |(?:open|read|write|lock|unlock|truncate)"
     r" fast flush logfile |remove logfile |reset time stamps|remove subdirectory )"),
    ("family", "queue_file",
     r"(?:\S+: )?(?:write queue file|update queue file (?P<file>\S+?):|seek queue file|open queue file|error writing queue file"
     r"|seek or write error|bad write|create file (?P<file2>\S+?):|seek (?:file|message file|mailbox file) (?P<file3>\S+?):)"),

    # --- content filters, milters and policy servers
    ("family", "filter",
     r"(?:\S+: )?(?:milter (?P<milter>\S+?): |connect to Milter service (?P<milter2>\S+?): |Milter service needs"
     r"|invalid transport name: \S+ in Milter service: (?P<milter3>\S+)|cannot (?:receive|send) milters"
     r"|empty milter definition|milter service syntax error|milter configuration error|malformed default macro entry"
     r"|ignoring multiple default macro|attempt to send event \S+ to milter (?P<milter4>\S+)|(?:Bad \w+ parameter|ignoring"
     r" ESMTP argument|ignoring attempt) from Milter|Milter (?:or header/body_checks )?request to|the milter_header"
     r"|cleanup_milter_receive: |Ignoring bad ESMTP parameter \"[^\"]*\" in SMFI_|unexpected SMFIC_UNKNOWN"
     r"|MIME problem |left-over data \d+ bytes|message not accepted, try again later$|ignoring malformed header: )"),
    ("family", "filter",
     r"(?:connect to proxy filter (?P<service>\S+?): |lost connection with proxy (?P<peer>\S+)|timeout talking to proxy "
     r"|received garbage from proxy |proxy \S+ rejected |proxy speed-adjust|(?:remove|seek|truncate) before-queue filter"
     r"|smtpd_proxy \S+ support is not available)"),
    ("family", "filter", r"malformed UTF-8 in policy server (?P<service>\S+) response"),
    ("family", "config", r"(?:empty policy service: |policy service syntax error: )"),

    # --- SASL
    ("family", "sasl",
     r"(?:\S+: )?(?:SASL(?:: | authentication (?:failure|problem)| library| per-| auth failure map (?P<table>\S+):)"
     r"|Cyrus SASL|set per-session SASL|per-session SASL|bad per-session SASL|incorrect SASL library|missing Dovecot"
     r"|unsupported SASL|failed to set Cyrus SASL|no applicable SASL|SASL mechanism filter|(?:\S+ )?is true, but SASL"
     r"|restriction `\S+' ignored: no SASL|SASL authentication cache name)"),
    ("family", "sasl",
     r"(?:\S+: )?(?:(?P<peer>\S+) offered (?:no supported|null) AUTH mechanism|\S+ discards all mechanisms"
     r"|no SASL authentication mechanisms|bad smtp_sasl_auth_cache entry|specify a password table via)"),

    # --- TLS material and settings of this host (a peer's TLS is a statistic above)
    ("family", "tls",
     r"(?:\S+: )?(?:cannot get \S+ (?:certificate|private key) from file \"?" + _FA +
     r"|error loading (?:certificate|private key)(?: \(PEM object number \d+\))? from " + _FA +
     r"|error loading (?:chain from|client CA names from:?|private keys and certificates from:?) " + _FA +
     r"|error loading certificate chain: key at index \d+ in " + _FA +
     r"|No (?:PEM data|private key found) in " + _FA + r"|No certs for key at index \d+ in " + _FA +
     r"|No server certs available|Need a server cert|key at index \d+ in " + _FA +
     r"|error opening (?:chain|trust anchor) file: " + _FA + r"|ignoring 2nd key at index \d+ in " + _FA +
     r"|loading " + _FA + r": ignoring PEM type|\S+ private key in " + _FA + r" does not match"
     r"|ECDSA not supported\. Ignoring ECDSA certificate file \"" + _FA + r"|Failed to load trust anchor file: " + _FA +
     r"|error reading: " + _FA + r": malformed trust-anchor|error computing \S+ message digest"
     r"|load_pkey: internal error|tls_pkey_fprint: error extracting|failed to configure ECDHE curves|ignoring unknown ECDHE curve"
     r"|none of the configured ECDHE curves)"),
    ("family", "tls",
     r"(?:cannot load DH parameters from file " + _FA + r"|error (?:opening|decoding) DH parameters? (?:file|from file) \"?" + _FA +
     r"|error (?:loading compiled-in|configuring (?:auto|explicit)) DH)"),
    ("family", "tls",
     r"(?:\S+: )?(?:cannot (?:open|lock|read|seek|unlock|write|fstat\(\) the) PRNG exchange file (?P<file>/\S+?)?"
     r"|close PRNG exchange file " + _F + r"|PRNG exchange file was removed|no entropy|cannot (?:open|read from) entropy"
     r" (?:device|file) " + _F + r"|cannot connect to EGD server|encryption keys etc\. may be predictable"
     r"|no entropy source specified with parameter " + _P + r")"),
    ("family", "tls",
     r"(?:Refusing (?:STARTTLS|TLS service) request from \S+ for service (?P<service>\S+)"
     r"|Wrapper-mode request dropped from \S+ for service (?P<service2>\S+)\. TLS context initialization failed"
     r"|\S+ service role \"\S+\" is not available|TLS (?:client|server) role is disabled|TLS client initialization failed"
     r"|(?:\S+: )?TLS is required but unavailable|SSL wrapper mode requires|TLS has been selected, but TLS support"
     r"|not compiled with TLS support -- ignoring the (?P<param>\S+) setting|no \S+ key exchange group - OpenSSL"
     r"|(?:\S+: )?(?:error (?:setting|clearing) \S+ TLS version|error setting (?:cipher grade|SNI hostname)"
     r"|invalid cipher grade|invalid unary '!\+-@' in cipher exclusion|Invalid TLS protocol list|error configuring"
     r" (?:local trust anchors|matching type)|error enabling (?:DANE|fingerprint)|error loading match name"
     r"|ignoring invalid match name|ignoring too long SNI|could not configure peer name checks|digest algorithm"
     r"|matching type \d+ (?:specified more than once|can only be)|invalid value: \S+ session tickets disabled"
     r"|all (?:fingerprints|trust anchors) unusable|i2d_SSL_SESSION failed|unexpected SSL_ERROR code"
     r"|Unable to set tls_\w+ to|Unable to allocate new TLS context|Unable to set STARTTLS|\S+ start_tls requires"
     r"|\S+ TLS cache: (?:malformed|truncated) entry|missing trw_set_tls_policy|invalid session ticket key"
     r"|disabling TLS support|(?:cannot allocate|error allocating|error initializing|Cannot allocate|Could not allocate)"
     r" |Could not (?:set application data|report TLS handshake)|Error location in tlsrpt|OpenSSL DANE initialization"
     r"|non-default " + _P + r" = \S+ (?:is not an absolute pathname|requires OpenSSL)|error loading the '\S+' settings"
     r"|(?:failed to set up|none of) the \S+ key exchange groups|using (?:OpenSSL|Postfix) default key exchange"
     r"|Failed to enable \S+ to \S+ raw public key|Digest algorithm \"|error duplicating client CA names"
     r"|error opening memory BIO|(?:Invalid|Reserved) matching type number in (?P<param2>\w+)|malformed fingerprint value"
     r"|TLSRPT (?:is selected|support is not)|unknown tlsrpt_failure_t|trw_report_\w+: success or failure"
     r"|\S+: Invalid TLS protocol list|dictionary \S+ does not support \w+ operations|do not use the same TLS cache file"
     r"|bogus (?:cache type|seed length)|Can't require client certs unless TLS|\S+: \S+: \S+: Fragile access policy: "
     r"(?P<param3>\w+)=))"),
    ("family", "tls",
     r"(?:\S+: )?(?:invalid (?:tls )?security level|unsupported TLS level \"|Invalid TLS level \"|\S+ requires \""
     r"\S+ = encrypt\"|the \"dane\" security level is invalid|opportunistic TLS encryption is not appropriate"
     r"|nexthop domain \S+: configured at fingerprint security level|\S+ is requested, but \"(?P<param>\w+) = no\""
     r"|TLS level '\S+' does not implement|DANE TLS support is not available|TLS policy lookup (?:error )?for "
     r"|unknown TLS policy '|\S+: ignoring attribute \"\S+\" with TLS disabled|\S+: \S+ configured, but no requisite library)"),

    # --- DNS on this host
    ("family", "config",
     r"(?:TLSRPT support: )?(?:Cannot enable .{1,40}: DNS is disabled|parameter (?P<param>\w+) has empty value"
     r"|(?P<param2>\w+) configuration problem$|(?P<param3>\w+) file (?P<file>\S+) is empty|mynetworks_core: unknown address class"
     r"|\S+: bad (?P<param4>\w+) parameter: |\S+: malformed (?P<param5>\w+) parameter: |malformed (?P<param6>\w+) value: .{0,100}"
     r" format is|invalid (?P<param7>\w+) value: |\S+: \S+ server address count limit|(?:\S+: )?address with illegal extension"
     r"|no @ in recipient address: |file (?P<file2>\S+) is not a regular file|[^\"]{1,100} in \"[^\"]*\"$"
     r"|[^\"]{1,100}? in server description: |recipient \S+: destination (?P<file3>\S+) is not a regular file)"),
    ("family", "config", r"[\w ,.'-]{1,100}: \"[^\"]*\"$", ("postconf",)),
    ("family", "config", r"(?P<file>\S*master\.cf): .{1,200}: \"[^\"]*\"$"),
    ("family", "dns",
     r"(?:DNSSEC validation may be unavailable|reason: dnssec_probe |res_nsearch\("
     r"|negative caching disables |system library does not support (?P<param>\w+)=yes|\S+: dns resolver options"
     r"|dns_get_fixed: |\S+: \S+ configured with (?:MX lookup errors ignored|dnssec lookups disabled))"),
    ("family", "dns",
     r"(?:bad DNSBL (?:domain name \"(?P<domain>[^\"]*)\"|filter syntax|weight factor)|RBL reply error"
     r"|\S+: bad (?:default )?rbl reply template|rbl response code configuration error)"),
    ("family", "dns",
     r"(?:\S+: )?(?:host not found: (?P<domain>\S+)|host or service (?P<service>\S+) not found|host found but no usable"
     r"|config variable (?P<param>\S+): host not found|unable to use my own hostname|no (?:MX|SRV) host for (?P<domain2>\S+)"
     r" has a valid address record|hostaddr_to_sockaddr (?P<address>\S+):)"),
    ("family", "config",
     r"(?:unable to look up (?P<user>\S+?):|cannot find username for uid|error looking up passwd info for (?P<user2>\S+?):"
     r"|service not found: (?P<service>\S+)|cannot access UNIX (?:password|group) database|getpwnam_r: |getpwuid_r: "
     r"|no login name found for user ID)"),

    # --- lookup tables and their backends
    ("family", "lookup_table",
     r"(?:\S+: )?(?:open database " + _F + r"|database " + _F + r"|database " + _T + r": |create DB|open DB environment"
     r"|get DB cache size|set DB |(?:initialize|finish|flush|close) database " + _F + r"|rename database from " + _F +
     r"|error writing (?:S?DBM) database " + _F + r"|shared-lock database " + _F + r"|unlock database " + _F +
     r"|get database file descriptor|incorrect version of Berkeley DB|cannot remove zero-length database file " + _F +
     r"|open database (?P<file2>[^\s:]+))"),
    ("family", "lookup_table",
     r"(?:\S+: )?(?:table " + _TQ + r"|table (?P<table2>\S+?):? |dictionary (?P<table3>[^\s:]*[:/]\S*?):? |(?:cidr|pcre|regexp) map " + _F +
     r"|(?:TCP|socketmap) map (?P<table4>\S+)|unsupported dictionary type: (?P<table5>\S+)|unsupported map type"
     r"|unknown table: |empty map specification|malformed map (?:attribute|specification)|unknown map attribute"
     r"|expected maptype:mapname|open dictionary: |request for unapproved table|refusing \S+ (?:update|delete) request"
     r"|unknown search type|no 'map create' support|dict_\w+|dict \w+|map " + _T + r"|read TCP map reply from"
     r"|(?P<table7>\S+): skipping \S+ for name \""
     r"|connect to TCP map (?P<table6>\S+?):|\S+ map requires O_RDONLY|\S+ map is not allowed for security"
     r"|\S+ map open requires|ambiguous match|lookup \S+, NIS|requested column \d+ > max column)"),
    ("family", "lookup_table",
     r"(?:\S+: )?(?P<table>[a-z][\w+-]*:[^\s,;\"'()<>]+?):? (?:lookup error|lookup failure|map lookup problem"
     r"|should return NO RESULT|is unavailable|lookup of |'domain' pattern match|socketmap server|\S+: )"),
    ("family", "lookup_table",
     r"(?:\S+: )?(?:(?P<table>\S+) map lookup (?:problem|error)|\S+ lookup (?:error|failure|problem)"
     r"|\S+ lookup of \S+ returns|unable to lookup|cache lookup for '|cache cleanup scan terminated|policy lookup failed"
     r"|policy table lookup error|per-site table lookup error|\S+ should return NO RESULT|\S+ (?:lookup|open|update|delete"
     r"|sequence) failed for table \"(?P<table2>[^\"]*)\"|\S+ (?:update access|service) is not configured for table"
     r"|null (?:recipient|transport) result for|ignoring null lookup result|unexpected dictionary|transport_lookup: "
     r"|empty (?:lookup result|query string)|smtp (?:body|header) checks lookup error|mynetworks lookup error"
     r"|multi-valued (?:\S+ entry for|(?P<table3>\S+) result for)|unreasonable (?P<table4>\S+) (?:map|result)"
     r"|\S+ average delay is \d+ ms|unable to look up (?:\S+ )?host)"),
    ("family", "lookup_table",
     r"(?:\S+: )?(?:alias database loop for |no owner UID for alias database |required alias not found: "
     r"|no recipient in alias lookup result|recipient \S+: (?:not found in|bad [ug]id \S+ in) (?P<table>\S+)|:include: file " + _F +
     r" is not a regular file|unable to lookup :include: file " + _F + r"|cannot open include file " + _F +
     r"|:include: nesting limit|:include:\S+ uses a relative path|\S+: no owner UID for alias database " + _F + r")"),
    ("family", "lookup_table", r".{1,300}?: (?:per-site table lookup error|invalid UTF-8 in lookup result)"),
    ("family", "lookup_table", r"(?:\S+: )?(?P<table>\S+) \S+ average delay is [\d.]+ ms"),
    ("family", "lookup_table",
     r"(?:[^\"]{0,100}: )?(?:\"(?P<table>[^\"]*)\"; need \"|(?P<table2>[a-z]\w*:\S+) host target '[^']*' requires)"),
    ("family", "lookup_table",
     r"(?:\S+: ){1,2}(?:Expansion limit exceeded|expansion limit exceeded|Recursion limit exceeded|Query size limit"
     r"|Search base|Search error|Unable to (?:bind|connect|init|set|get|allocate)|Had some trouble|Unknown version"
     r"|Unrecognized value|Fixed query_filter|URL scheme|error parsing URL|SQL (?:step|prepare|finalize) failed"
     r"|query failed|failed to (?:create|append|parse|get|retrieve)|cursor error|lookup key '|specify exactly one of"
     r"|'\w+' parameter not defined|host target '|invalid \S+ template|key \"|non-UTF-8 key|\S+ ignoring cache"
     r"|mynetworks lookup error|table lookup error|EOF receiving memcache|unexpected memcache|Error (?:setting|resetting)"
     r" signal handler|ldap_get_option\(|incompatible TLS support: compile-time OpenLDAP|run-time API|domain match list"
     r"|db_common_parse: |Invalid \S+ template|delete error|query error|sequence error|write error|internal error: "
     r"|unable to (?:get exclusive lock|update))"),
    ("family", "lookup_table",
     r"(?:\S+\[\d+\]: )(?:\S+: )?(?:Expansion limit|Query size limit|Recursion limit|DN \S+ not found|malformed URL"
     r"|search error)"),
    ("family", "lookup_table",
     r"(?:connect to (?:mysql|pgsql) server (?P<service>\S+?):|pgsql query failed|dict_(?:mysql|pgsql|sqlite)[:_ ]"
     r"|dict (?:mysql|pgsql|sqlite)[: ]|couldn't initialize pldb|mymalloc of pldb|ni_open[ :]"
     r"|error \[\d+\] (?:initializing cursor for|seeking) (?P<file>\S+?):"
     r"|error (?:reading|seeking|writing|deleting from|updating) (?P<table>[a-z]\w*:\S+?):"
     r"|error (?:reading|seeking|deleting from) " + _F + r": |cannot open (?P<table2>[a-z]\w*:\S+?): "
     r"|unknown MDB error|unknown access mode|\S+: (?:lock|unlock|flush) dictionary|can't (?:create|sequence)"
     r" maps via the proxy|\S+: dlopen failure|\S+: dlsym failure|\S+: shl_findsym failure"
     r"|\S+, line \d+: Expected \"dict-type|bad column field in NIS\+|\S+: \S+: (?:Unrecognized|Unknown|Fixed))"),

    # --- version and compatibility
    ("family", "version",
     r"(?:\S+: )?(?:bad (?:compatibility (?:major )?level|major version|minor version|patch level): "
     r"|malformed compatibility level syntax|Postfix library version mis-match|run-time library vs\. compile-time"
     r"|incorrect version of Berkeley DB|\S+ is obsolete; instead|\(old name: nqmgr\)|support for restriction \""
     r"|\S+ is not empty, but setting the Cyrus SASL configuration path is not supported|option \S+ is deprecated"
     r"|deprecated parameter, use|unsupported dictionary type: \S+\. Is the postfix-(?P<service>\S+) package installed"
     r"|open database \S+: cannot support GDBM|\S+ is true, but EAI support is not compiled in"
     r"|your system has no support for file descriptor passing|stream connections are not implemented"
     r"|smtpd_proxy \S+ support is not available|\S+ support is not implemented for LMTP|\S+: \S+ Unknown version"
     r"|\S+: (?:URL scheme \S+ requires|\S+ start_tls requires) protocol version)"),

    # --- network: addresses, ports and sockets of this host's configuration
    ("family", "network", r"(?:\S+: )?bind (?:(?P<address>\S+ port \S+)|(?P<address2>\S+?)):"),
    ("family", "network",
     r"(?:could not (?:find any active network interfaces|get list of wildcard addresses)|all network protocols are disabled"
     r"|parameter (?P<param>\S+): no local interface found|ignoring interface with null netmask"
     r"|\S+: no valid IP address found|\S+: bad hostname or network address|can't open \S+ \(.*\) - skipping IPv6"
     r"|unexpected data in \S+ - skipping IPv6|\S+: inet service cannot be private|\S+: service definition requires valid host"
     r"|bad (?:IPv[46] )?(?:client|server) address syntax from proxy|bad TCP (?:client|server) port number syntax from proxy"
     r"|missing (?:client|server) (?:address|port) from proxy|bad network port: |\S+: getifaddrs|\S+: ioctl SIOCG"
     r"|\S+: ioctl\(SIOCG|\S+: skip address type|\S+: skipping address family|\S+: skipping unknown address family"
     r"|\S+: unable to convert address|bad port number: )"),
    ("family", "network", r"host (?P<peer>\S+) (?:greeted me with|replied to HELO/EHLO with) my own hostname"),
    ("family", "internal",
     r"(?:\w+_trigger: )?connect to (?:service: )?(?P<service>(?:private|public)/[\w.-]+|[\w.-]+/[\w.-]+|[a-z][\w-]*): "),
    ("family", "network",
     r"(?:\S+: )?connect to (?!Milter|proxy|TCP map|mysql|pgsql|transport|subsystem|the |service)(?P<address>\S+?): "),
    ("family", "network", r"(?:\S+: )?(?:unix-domain name too long: (?P<file>\S+)|cannot handle socket type)"),

    # --- config: parameters, files, master.cf, restrictions, templates, command lines
    ("family", "config",
     r"(?:file \S+: )?parameters? " + _P + r"(?: and (?P<param2>\w+))?(?:[ :]|$)"),
    ("family", "config",
     r"(?:\S+: )?(?:bad (?:boolean|numerical) configuration: " + _P + r"|bad configuration: " + _P +
     r"|bad parameter value: '" + _P + r"|invalid " + _P + r" parameter value|bad string length \(?\d+ [<>] \d+\)?: " + _P +
     r"|invalid parameter setting \"" + _P + r"|invalid setting: \"" + _P + r"|unknown option: \"" + _P +
     r"|unsupported parameter value: " + _P + r"|" + _P + r" value '[^']*' does not match|" + _P +
     r" and \S+ parameter settings must not|" + _P + r" parameter setting must not|bad (?:\S+ )?parameter: " + _P +
     r"|malformed \S+ parameter: " + _P + r"|bad " + _P + r" value: |invalid " + _P + r": |unsupported " + _P + r" value: "
     r"|" + _P + r" = '[^']*' is not a directory|" + _P + r" = '[^']*': directory not found"
     r"|unrecognized suffix \"[^\"]*\" in parameter \"" + _P + r"|bad (?P<param2>\w+) parameter value: "
     r"|do not specify relative pathname: " + _P + r"|in parameter " + _P + r", specify at least one"
     r"|" + _P + r"\(\d+\) should be at least|" + _P + r" is (?:smaller|larger) than \S+ - adjusting"
     r"|configuration error: " + _P + r" is|\"?(?P<param3>\w+) = [^\"]*\"? specifies an invalid hostname"
     r"|" + _P + r" ignored when |ignoring \"" + _P + r" = |ignoring " + _P + r" parameter value change"
     r"|ignoring bad permissions: " + _P + r"|ignoring non-empty " + _P + r" setting|" + _P + r" is true, but "
     r"|Both " + _P + r" and one or more|" + _P + r" is not empty, but|specify \"" + _P + r" = "
     r"|do not specify both " + _P + r"=|flag `\w' requires " + _P + r"|pipe flag `\w' requires " + _P +
     r"|\S+ requires server:socketmap|all network protocols are disabled \(" + _P + r")"),
    ("family", "config",
     r"(?:\S+: )?(?:(?P<file>/\S*(?:main|master)\.cf), line \d+: |file (?P<file2>\S+): line \d+: "
     r"|file \S+/(?:main|master)\.cf: |duplicate master\.cf entry for service \"(?P<service>[^\"]*)\""
     r"|disabling all type \"inet\" services in master\.cf|Cannot parse (?P<file3>\S+) file|unmatched service_name"
     r"|open \"\S+\" configuration \"(?P<file4>[^\"]*)\"|read \"\S+\" configuration \"(?P<file5>[^\"]*)\"|unmatched request"
     r"|\S+/\S+: (?:read-only parameter|support for parameter|undefined parameter|unused parameter)|\S+: close configuration file"
     r"|Failed to obtain all required (?P<file6>\S+) parameters|Invalid (?P<file7>\S+) parameter: )"),
    ("family", "config",
     r"(?:\S+: )?(?:restriction (?:class )?[`\"']?(?P<command>[^\s`'\"]+)[`\"']? (?:must|requires|returns|after|needs"
     r"|ignored)|restriction (?P<command2>\S+): bad argument|unknown smtpd restriction: \"(?P<command3>[^\"]*)\""
     r"|specify one of \(|support for restriction|access table (?P<table>\S+)|do not specify lookup tables inside SMTPD"
     r"|\S+ requires domain name argument|don't know (?:if|what)|restriction `\S+' ignored)"),
    ("family", "config",
     r"(?:\S+: )?(?:service (?P<service>\S+?)(?:\(\S+\))?: ignoring|unknown service: (?P<service2>\S+)"
     r"|invalid transport name: |bad transport type|unsupported transport type|no transport type specified"
     r"|need service transport:endpoint|missing transport name|wrong service name|malformed service name"
     r"|bad error service name|invalid service name|Flush service is not configured|service ignores"
     r"|service (?P<service3>\S+) requires (?:a process limit|privileged)|bad protocol stage|unexpected process name"
     r"|\S+: field \"[^\"]*\"|\S+: missing \"[^\"]*\" field|invalid (?:process_limit|type|wakeup|\S+) field \""
     r"|invalid service attribute|invalid parameter override|invalid \"-o |invalid retirement time|invalid socket_count"
     r"|file \S+/\S+: service (?P<service4>\S+): unknown macro|file \S+/\S+: parameter (?P<param>\S+): null transport"
     r"|missing (?:argv|user)= |empty nexthop hostname|bad size= value|unknown (?:user|group)(?: name)?: "
     r"|\S+: unknown (?:user|group)name: |unknown flag: |unknown attribute name: )"),
    ("family", "config",
     r"(?:\S+: )?(?:\S+, line \d+: (?:\S+: \"|missing \"|malformed end marker|missing end marker|unknown template name)"
     r"|bad \$name syntax in |undefined \$name in |8-bit message text in |\S+ \"[^\"]*\" header (?:label|value) in "
     r"|empty \"[^\"]*\" header value|inapplicable \"[^\"]*\" header label|unknown \"[^\"]*\" header label"
     r"|missing message text in |excessive result |zero result in |conversion \"[^\"]*\" failed"
     r"|please (?:increase|reduce) time unit|please specify a charset)"),
    ("family", "config",
     r"(?:\S+: )?(?:bad (?:\S+ )?header text|bad (?:BCC address|REDIRECT target|FILTER command|DSN action)|bad PREPEND"
     r"|bad REPLACE|(?:PREPEND|REPLACE) action without text|missing (?:DELAY|FILTER) (?:argument|command)"
     r"|ignoring bad DELAY|unknown command in \S+ map|unsupported command in \S+ map|unexpected action '"
     r"|do not list domain \S+ in BOTH (?P<param>\w+)|unknown (?:\S+ )?value \"|unknown macro name \"|empty macro name"
     r"|truncated macro reference|unreasonable macro call nesting|bad home directory syntax|unknown home directory"
     r"|bad parameter value syntax for (?P<param2>\w+)|bad address size|host not found: localhost|service not found: biff"
     r"|malformed verp delimiter|request to send VERP|ignoring VERP|ignoring bad VERP|mail_addr_find_opt: do not specify)"),
    ("family", "config",
     r"(?:\S+: )?(?:bad (?:UTF-8 )?syntax: \"(?P<table>[^\"]*)\"|bad \S+:name syntax|\"[^\"]*\" expected at|\"[^\"]*\" or \":\" "
     r"expected at|\S+ expected at: |unexpected input at: |unbalanced \{\}|attribute name syntax error|bad operator suffix"
     r"|\"(?P<table2>[^\"]*)\"; need \"|#comment after other text|in \"[^\"]*\" is not in \"name = value\""
     r"|malformed option: |macro processing error|mac_exp_eval: |clean_env: |update_env: |bad time value or unit"
     r"|\S+ <= 0$|configured with MX lookup|\"[^:]{1,80}\" expected at: |valid_hostport: "
     r"|DSN detail code configuration error|SMTP reply code configuration error|\S+: bad \S+ address prefix length"
     r"|\S+: address family was \d+|attribute \"[^\"]*\" (?:has|invalid|is)|invalid (?:empty policy|attribute name)"
     r"|ignoring malformed policy for|built-in policy has unexpected|bad ETRN|malformed header|ignoring malformed header"
     r"|-f option specified malformed sender|to submit mail, use the Postfix sendmail command|no login name found)"),
    ("family", "config",
     r"(?:.{0,120}?[ '(])?-[A-Za-z#]\w*(?:[ ,'\)]|$)", COMMANDS),
    ("family", "config",
     r"(?:bad severity: |Invalid request: |\S+: unable to extract recipients|[\w ]{1,30} mode requires no recipient"
     r"|Specity no more than one|Usage:)", COMMANDS),
    ("family", "config",
     r"(?:Usage: |usage: |-\S* (?:option|requires|does not|or -|is not|can be|cannot|accepts|needs)|option \S+ |option -"
     r"|options -|specify (?:one of|exactly|only|at most|no more|new|-b|:)|Specify |Specity |\S+ mode requires no recipient|\S+ requires no recipient"
     r"|\S+ requires (?:pathname|name=value)|At most one|The '-|When the '-|Cannot assign|Command (?:not|required)"
     r"|Select an instance|Invalid '-e'|Unsafe characters|Illegal '/'|New instance name|No (?:instance|matching)"
     r"|Cannot remove|instance \S+, |new \S+ is already in use|Parameter |Malformed parameter|Missing \S+ parameter"
     r"|Invalid default|Non-default configuration|Unexpected \S+ entry|multi-instance support|invalid option"
     r"|unsupported: -|unexpected command-line|\S+ accept no|bad -\w option|bad '-\w' option|too long -V|ignoring -\w option"
     r"|bad syntax in -V|alias initialization mode|-c requires|with option \S+, do not|\S+\(\d+\): (?:-|No recipient"
     r"|Recipient addresses must)|display queue mode|flush (?:queue|site|queue_id) requires|stand-alone mode|daemon mode"
     r"|ignoring earlier request|unknown 'postconf -T' mode|invalid mail queue id|Cannot flush (?:mail )?queue(?: ID)? - invalid"
     r"|-\w requires|\S+ is not implemented|-q\w can be used|-\w can be used|do not run this command by hand"
     r"|\S+ accept no comment|\S+ accept no multi-line|\S+ requires service_name|missing service argument"
     r"|\S+ in server description)"),

    # --- a line of a file no row above placed: a table's source (postmap, postalias, cidr...)
    ("family", "config",
     r"(?P<file>\S+), line \d+: (?:Expected \"dict-type|unsupported syntax \"|(?:malformed|missing) end marker"
     r"|missing \"[^\"]*\" end marker|unknown template name)"),
    ("family", "lookup_table", r"(?!\S*(?:main|master)\.cf,)(?P<table>[^\s,]+), line \d+(?:-\d+)?: "),

    # --- internal: Postfix's own services and the protocols between its daemons
    ("family", "internal",
     r"(?:\S+: )?(?:(?:problem|error) talking to (?:service|server) (?P<service>\S+?)[: ]|unable to (?:contact|connect to)"
     r" the (?P<service2>\S+)|unable to talk to (?P<service3>.{1,40}?) service|Cannot contact class \S+ service (?P<service4>\S+)"
     r"|timeout connecting to (?:service|transport): (?P<service5>\S+)|error connecting to service: (?P<service6>\S+)"
     r"|connect to (?:service: )?(?P<service7>\S+?) service: |connect to (?:transport|subsystem) (?P<service8>\S+?): "
     r"|connect #\d+ to subsystem (?P<service9>\S+?): |cannot (?:connect to|pass connection to) service (?P<service10>\S+?): "
     r"|error sending (?:request )?to (?P<service11>\S+) service|\S+ receiving (?:status|\S+ attribute) from (?P<service12>\S+)"
     r" service|problem sending file handle to (?P<service13>\S+)|timeout sending connection to service (?P<service14>\S+)"
     r"|error receiving \S+ service|sending file handle to (?P<service15>\S+) service|(?P<service16>\S+) service failure"
     r"|Mail system is down|Cannot flush mail queue - mail system is down|Queue report unavailable"
     r"|timeout receiving delivery status from transport: (?P<service17>\S+)|daemon initialization failure"
     r"|write to process \((?P<service18>[^)]*)\)|service (?P<service19>\S+): |unable to execute (?P<command>\S+)"
     r"|Error running (?P<command2>\S+)|Connect to the \S+ (?P<service20>\S+) service|\S+ service failure"
     r"|Unexpected flush server reply|Unknown flush server reply|malformed showq server response|error talking to service)"),
    ("family", "config", r"(?:\S+: ){0,2}unknown command: (?P<command>\S+) -- ignoring the remainder"),
    ("family", "config", r"(?P<param>internal_mail_filter_classes|smtputf8_autodetect_classes): bad input: "),
    ("family", "lookup_table", r"(?P<table>\S+): bad status code: "),
    ("family", "lookup_table", r"(?P<table>[a-z]\w*:\S+?): update failed$"),
    ("family", "config", r"service name must be one of "),
    ("family", "internal", r"(?:\S+: )?ignoring malformed Message-ID"),
    ("family", "internal", r"problem talking to server (?P<service>(?:private|public)/\S+?): "),
    ("family", "network", r"problem talking to server (?P<service>\S+?): "),
    # IPv6 (or IPv4) absent on this host while inet_protocols asks for it
    ("family", "config", r"(?:(?P<param>inet_protocols): |\S+: )?disabling IPv[46] name/address support"),
    ("family", "filter", r"command (?P<command>\S+) (?:exit status|killed by signal) \d+", ("spawn",)),
    ("family", "internal", r"(?P<file>\S+) is not a socket or a fifo"),
    ("family", "internal",
     r"(?:\S.{0,80} while waiting for daemon initialization|vbuf_print: bad (?:precision|width) "
     r"|TLSRPT support: (?:cannot convert IP address|getsockname\(\) failed))"),
    ("family", "internal",
     r"(?:\S+: )?(?:(?:unexpected|duplicate|missing|multiple values for|unknown) attribute|attribute count exceeds limit"
     r"|missing value for \w+ attribute|error receiving (?:common|recipient) attributes|bad or missing request parameter"
     r"|malformed (?:numerical|base64) data from|unexpected end-of-input from|invalid size \d+ from|unexpected \S+ \S+ from"
     r"|\S+ on \S+ while reading |timeout (?:while waiting|receiving file descriptor)|end-of-input while reading"
     r"|read timeout (?:for service|on )|cannot examine read buffer|deadlock on (?:ciphertext|plaintext) stream"
     r"|request from tlsproxy client with unexpected|receive (?:client TLS|remote SMTP|request attributes)"
     r"|cannot send TLS context|can't serialize|bad request flags|error receiving TLS proxy context"
     r"|(?:\S+: )?malformed (?:request|response|reply)|malformed Message-ID attribute|unrecognized request"
     r"|(?:unable to|cannot) (?:receive|send) file descriptor|your system has no support for file descriptor)"),
    ("family", "internal",
     r"(?:\S+: )?(?:unexpected (?:EOF|event|SSL_ERROR|address|command)|bogus |unknown (?:command|context|status|address"
     r" verification status|\w+ bit in mask)|bad (?:command|status code|cached|address verify|recipient status|input|request)"
     r"|sequence error|internal error|spurious flush|success or failure|\S+ save failed with status|encoder called with"
     r"|invalid character: 0x\w+ in charset|unreasonable charset name|msg_stats_scan: |rewrite_addr: null|stripping too many"
     r"|message format error|recipient count|refresh exclusive lock|listen file descriptor collision"
     r"|status file descriptor collision|flow pipe|read\(\) returns EAGAIN|write\(\) returns EAGAIN|pausing to avoid"
     r"|kill myself|ignoring unknown status|child \(pid \d+\) sent partial|dictionary name exists|control (?:level|type) \d+"
     r"|conversion error for|vstring_extend: |too many errors - program terminated|ucasemap_open |ICU library|time lookup failed"
     r"|no time|no \S+ variable set up|null parser name|cannot convert |address conversion error|don't know how to print"
     r"|is not a socket or a fifo|not a fifo: |\S+ operation is not supported|redirecting the request|refusing \S+ request"
     r"|(?:undeliverable postmaster|postmaster notice failed)|bounce message failure|trace logfile update error"
     r"|verify service update error|ignoring dsn code|file status changed unexpectedly|process \S+ pid \d+ (?:exit status"
     r"|stopped by signal)|command \S+ (?:exit status|killed by signal)|command \"\S+\" exited with status"
     r"|doze: |event_loop: |ignoring -q|bad extra offset|recipient count: |unexpected address (?:family|length)"
     r"|disabling (?:input from|connection caching)|write watchdog_pipe|cannot kill process|premature end-of-input"
     r"|\S+: file status changed|smtp_session_activate: |smtp_session_passivate: |\S+ failed while|unknown content encoding"
     r"|unknown encoding: |malformed queue|postmaster notify: |biff_notify: |mail_stream_cleanup: close error"
     r"|cannot update lock file|write to \S+ failed)"),
]

# After an errno text (the strerror() of Postfix's %m) has no row: the error's family.
ERRNO = {
    "permission": ("Permission denied", "Operation not permitted"),
    "resource": ("No space left on device", "Disk quota exceeded", "File too large", "Too many open files",
                 "Too many open files in system", "Cannot allocate memory", "Resource temporarily unavailable",
                 "No buffer space available", "Too many links", "Read-only file system", "Input/output error",
                 "Value too large for defined data type", "Argument list too long"),
    "network": ("Connection refused", "Connection timed out", "Network is unreachable", "No route to host",
                "Connection reset by peer", "Address already in use", "Cannot assign requested address",
                "Host is down", "Network is down", "Address family not supported by protocol",
                "Transport endpoint is not connected", "Software caused connection abort",
                "Protocol not available", "Protocol not supported", "Socket type not supported"),
    "config": ("No such file or directory", "Not a directory", "Is a directory", "Too many levels of symbolic links",
               "No such device or address", "Exec format error", "Invalid cross-device link", "Directory not empty",
               "File exists", "No such device"),
    "internal": ("Bad file descriptor", "Invalid argument", "Interrupted system call", "Function not implemented",
                 "Operation not supported", "Inappropriate ioctl for device", "Illegal seek", "Success",
                 "Resource deadlock avoided", "No child processes", "Bad address", "Broken pipe"),
}
_ERRNO_FAMILY = {text: fam for fam, texts in ERRNO.items() for text in texts}
# Errors that decide the family before any row: what was refused or ran out is what to fix, whatever
# the operation (EAGAIN is not here: on a lock it means another process holds it).
STRONG_ERRNO = frozenset(t for t in ERRNO["permission"] + ERRNO["resource"] if t != "Resource temporarily unavailable")
# ": <errno>" and what may follow it: " -- throttling", ")" of "(%m)", " (trying again)", ":".
ERRNO_RX = re.compile(r": (%s)(?:$| --| \(|\)|:|,)" % "|".join(
    re.escape(t) for t in sorted(_ERRNO_FAMILY, key=len, reverse=True)))
_OBJECT = re.compile(r"(?P<table>[a-z][\w+-]*:/\S+)|(?<![\w.-])(?P<file>/[^\s:;,\"'()<>]+)"
                     r"|(?P<peer>[^\s\[\]]*\[(?:[0-9A-Fa-f:.]+|unknown)\](?::\d+)?)")
_CALL = re.compile(r"(?:[\w-]+: )*(?P<call>[a-z_]\w*(?:\([\w, &]*\))?)(?: \S+)?$")

# Topics: what a message is about when no row and no errno placed it (the words decide).
TOPICS = [
    ("queue_file", ("queue file", "queue id", "queue_id")),
    ("filter", ("milter", "Milter", "content filter")),
    ("sasl", ("SASL", "sasl")),
    ("tls", ("TLS", "SSL", "certificate", "private key", "OpenSSL")),
    ("dns", ("DNS", "dns_", "resolver")),
    ("lookup_table", ("table", "database", "dictionary", " map", "dict_", "lookup")),
    ("config", ("parameter", "main.cf", "master.cf", "configuration", "restriction")),
    ("resource", ("memory", "file descriptor", "process limit")),
    ("network", ("socket", "connect", "listen", "accept connection", "address")),
]

WORD = re.compile(r"[a-z0-9_]+")
QUEUE_ID = re.compile(r"(?:[0-9A-F]{6,12}|[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-z]{10,15}): ")
FUNCTION = re.compile(r"(?P<function>[a-z_]\w*): ")  # Postfix's "myname: " (a C function's name)


_GROUP = re.compile(r"\(\?P<([a-z_]+)\d*>")


def _numbered(rx):
    """A pattern whose alternatives capture the same thing under one name: the second and later
    groups of a name get 2, 3... (Python's re wants unique group names)."""
    seen = {}

    def name(m):
        n = seen[m.group(1)] = seen.get(m.group(1), 0) + 1
        return "(?P<%s%s>" % (m.group(1), n if n > 1 else "")
    return _GROUP.sub(name, rx)


def _compile(rows):
    """The compiled rows and the index word -> rows (ALWAYS: rows whose pattern has no index word)."""
    out, index, always = [], {}, []
    for i, row in enumerate(rows):
        kind, name, rx = row[:3]
        programs = frozenset(row[3]) if len(row) > 3 else None
        if kind == "family" and name not in FAMILIES or kind == "statistic" and name not in STATISTICS \
                or kind == "benign" and name not in BENIGN:
            raise ValueError("row %d: unknown %s %s" % (i, kind, name))
        rx = _numbered(rx)
        out.append((kind, name, re.compile(rx), programs))
        words = index_words(rx)
        for word in words or ():
            index.setdefault(word, []).append(i)
        if not words:
            always.append(i)
    return out, index, always


# ------------------------------------------------------------------ index words of a pattern
# A row is tried on a message only when the message holds one of the row's index words: a set of
# whole words, at least one of which every match of the pattern contains (one per alternative).
# Read from the parsed pattern, so a new alternative can never be unreachable; without the parser
# (an unknown Python) every row is tried, slower and the same.
try:  # Python 3.11+
    from re import _constants as _C
    from re import _parser as _P
except ImportError:  # pragma: no cover - Python < 3.11
    try:
        import sre_constants as _C  # noqa: N812
        import sre_parse as _P  # noqa: N812
    except ImportError:
        _C = _P = None

_WORDCH = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")
# Words in most Postfix messages (or in their paths: /etc/postfix/...): a poor index word. A cover
# avoids them when the pattern offers another word.
COMMON = frozenset((
    "postfix", "etc", "file", "bad", "no", "not", "unknown", "invalid", "malformed", "error", "failed", "cannot",
    "unable", "ignoring", "unexpected", "missing", "directory", "parameter", "service", "line", "for", "from", "the",
    "in", "of", "to", "is", "with", "and", "or", "support", "lookup", "table", "map", "open", "read", "write",
    "mail", "example", "smtp", "smtpd", "host", "address", "request", "message", "value", "name", "type"))


def index_words(rx):
    """Words (lower case) at least one of which is a whole word of every message rx matches at
    its start, or None when no such set is known."""
    if _P is None:
        return None
    try:
        return _cover(list(_P.parse(rx)), True, False)[0]
    except Exception:  # noqa: BLE001 - a parser this code does not know: try the row always
        return None


def _cover(items, bounded, tail):
    """(cover, bounded after) of a parsed sequence. The cover: the longest whole word of its
    literal runs, else the smallest cover of a group, an alternation (the union of its
    alternatives' covers) or a repeat of at least one. bounded: what comes before is the message
    start or a non-word character; tail: what comes after the sequence starts with one."""
    candidates, run, run_bounded = [], [], bounded
    for pos, (op, av) in enumerate(items + [(None, None)]):
        if op is _C.LITERAL:
            if not run:
                run_bounded = bounded
            run.append(chr(av).lower())
            bounded = chr(av).lower() not in _WORDCH
            continue
        rest = items[pos + 1:]
        after = tail if not rest else _starts_nonword(rest, tail)
        if run:
            text = "".join(run)
            follows = tail if op is None else _starts_nonword(items[pos:], tail)
            candidates += [{w} for w in _run_words(text + (" " if follows else ""), run_bounded)]
            if op is _C.BRANCH:  # the parser factors a common prefix out: "vstream_f" + (seek|tell)
                joined = _joined_words(text, run_bounded, av[1], after)
                if joined:
                    candidates.append(joined)
            run = []
        if op is None:
            break
        c = None
        if op is _C.SUBPATTERN:
            c, ends = _cover(list(av[-1]), bounded, after)
        elif op is _C.BRANCH:
            found = [_cover(list(alt), bounded, after) for alt in av[1]]
            c = set().union(*[f[0] for f in found]) if all(f[0] for f in found) else None
            ends = all(f[1] for f in found)
        elif op in (_C.MAX_REPEAT, _C.MIN_REPEAT):
            inner, last = _cover(list(av[2]), False, after)
            c = inner if av[0] >= 1 else None
            ends = last and (bounded or av[0] >= 1)
        elif op in (_C.AT, _C.ASSERT, _C.ASSERT_NOT):
            ends = bounded  # zero-width
        elif op is _C.IN:
            ends = all(o is _C.LITERAL and chr(a).lower() not in _WORDCH for o, a in av)
        else:
            ends = False
        bounded = ends
        if c:
            candidates.append(c)
    return min(candidates, key=_cost) if candidates else None, bounded


def _cost(cover):
    """Which cover to index a row by: fewest words, then fewest common ones, then the longest."""
    return len(cover), sum(w in COMMON for w in cover), -min(len(w) for w in cover)


def _joined_words(text, bounded, alternatives, after):
    """The words a literal run makes with each alternative that follows it ("vstream_f" + "seek"):
    the run's last (partial) word joined to each alternative's first word, when every alternative
    starts with literal characters and its first word ends inside it (or the alternation is followed
    by a non-word character). None when one alternative does not."""
    head = len(text)
    while head and text[head - 1] in _WORDCH:
        head -= 1
    if head == len(text) or not (head > 0 or bounded):
        return None
    words = set()
    for alt in alternatives:
        lead = []
        for op, av in alt:
            if op is not _C.LITERAL:
                break
            lead.append(chr(av).lower())
        k = 0
        while k < len(lead) and lead[k] in _WORDCH:
            k += 1
        if k == len(lead) and not (len(lead) == len(alt) and after):
            return None  # the word may go on past what the alternative spells
        words.add(text[head:] + "".join(lead[:k]))
    return words


def _starts_nonword(items, tail=False):
    """Every match of the sequence starts with a non-word character, or is empty before a tail that does."""
    if not items:
        return tail
    op, av = items[0]
    if op is _C.LITERAL:
        return chr(av).lower() not in _WORDCH
    if op is _C.AT:
        return av is _C.AT_END or _starts_nonword(items[1:], tail)
    if op is _C.IN:
        return all(o is _C.LITERAL and chr(a).lower() not in _WORDCH for o, a in av)
    if op is _C.BRANCH:
        return all(_starts_nonword(list(alt) + items[1:], tail) for alt in av[1])
    if op is _C.SUBPATTERN:
        return _starts_nonword(list(av[-1]) + items[1:], tail)
    if op in (_C.MAX_REPEAT, _C.MIN_REPEAT):
        first = _starts_nonword(list(av[2]), False)
        return first and (av[0] >= 1 or _starts_nonword(items[1:], tail))
    return False


def _run_words(text, left_bounded):
    """The whole words of a literal run: a word at the run's left edge counts only at the
    message start; one at its right edge never (the next character is not known)."""
    words, i = [], 0
    while i < len(text):
        if text[i] in _WORDCH:
            j = i
            while j < len(text) and text[j] in _WORDCH:
                j += 1
            if (i > 0 or left_bounded) and j < len(text):
                words.append(text[i:j])
            i = j
        else:
            i += 1
    return words


_COMPILED = []


def compiled():
    """(rows, index, always): the rows compiled on first use. Compiling them costs a fifth of a
    second; a scan whose lines all have a fault ID or a benign kind never pays it."""
    if not _COMPILED:
        _COMPILED.append(_compile(ROWS))
    return _COMPILED[0]


def subject_of(groups):
    """The subject a match names ("table hash:/etc/postfix/virtual"), or None."""
    found = {}
    for key, value in groups.items():
        if value:
            found.setdefault(key.rstrip("0123456789"), value)
    for name, label in SUBJECTS:
        value = (found.get(name) or "").strip("\"'.,;:")
        if value:
            return "%s %s" % (label, value[:MAX_SUBJECT])
    return None


def classify(message, severity, daemon=None):
    """(kind, name, subject) of a Postfix message (the text after "warning: ", "fatal: "...), or None.

    severity: warning, error, fatal or panic; daemon: the syslog program ("smtpd"), for the rows
    that count only one side's words (a client's noise is smtpd's, not smtp's)."""
    msg = message[:MAX_MESSAGE]
    qid = QUEUE_ID.match(msg)
    queue_id = None
    if qid:
        queue_id, msg = qid.group()[:-2], msg[qid.end():]
    if severity == "panic":  # a Postfix bug or a damaged process, whatever its words
        fn = FUNCTION.match(msg)
        return "family", "internal", "function %s" % fn.group("function") if fn else None
    err = ERRNO_RX.search(msg)
    if err and err.group(1) in STRONG_ERRNO:  # the system said what ran out or was refused: that is the fix
        return "family", _ERRNO_FAMILY[err.group(1)], _object(msg[:err.start()], True)
    rows, index, always = compiled()
    candidates = set(always)
    for word in set(WORD.findall(msg.lower())):
        found = index.get(word)
        if found:
            candidates.update(found)
    for i in sorted(candidates):
        kind, name, rx, programs = rows[i]
        if programs is not None and daemon is not None and daemon not in programs:
            continue
        if kind != "family" and severity == "fatal":
            continue  # a fatal stopped a Postfix program: always a fault of this host
        m = rx.match(msg)
        if m:
            subject = subject_of(m.groupdict())
            if subject is None and kind == "family":  # the row names none: the first table, file or peer
                subject = _object(msg, False, first=True) or ("queue ID %s" % queue_id if queue_id else None)
            return kind, name, subject
    if err:
        family = _ERRNO_FAMILY[err.group(1)]
        if err.group(1) == "Resource temporarily unavailable" and "lock" in msg[:err.start()]:
            family = "internal"  # a lock another process holds (a second master, a running postsuper)
        return "family", family, _object(msg[:err.start()], True)
    for family, words in TOPICS:
        if any(w in msg for w in words):
            return "family", family, _object(msg, False)
    if severity == "fatal":  # a fatal that nothing placed: Postfix stopped on something of its own
        fn = FUNCTION.match(msg)
        return "family", "internal", "function %s" % fn.group("function") if fn else None
    return None


def _object(head, call, first=False):
    """What a message names: the last (or first) file, table or peer in it, else (call: the text
    before an errno) the system call it reports, "fork" of "fork: Resource temporarily unavailable"."""
    found = None
    for m in _OBJECT.finditer(head[-400:]):
        found = m
        if first:
            break
    if found is not None:
        return subject_of(found.groupdict())
    m = _CALL.match(head) if call else None
    return "call %s" % m.group("call") if m else None


# ------------------------------------------------------------------ what reaches the user
MAX_SUBJECTS = 10


def worst(severities):
    """The worst message severity of {severity: count}: panic, fatal, error or warning."""
    return next((s for s in SEVERITY_RANK if severities.get(s)), "warning")


def summary(agg):
    """log.families: {family: {count, severity, subjects: {subject: count}, samples, advice}}."""
    out = {}
    for name, rec in sorted(agg.get("families", {}).items()):
        if name not in FAMILIES:
            continue
        groups = rec.get("groups", {})
        subjects = sorted(groups.get("subject", {}).items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_SUBJECTS]
        out[name] = dict(count=rec["count"], severity=worst(groups.get("severity", {})), subjects=dict(subjects),
                         samples=list(rec.get("samples", [])), advice=FAMILIES[name][1], title=FAMILIES[name][0])
    return out


def finding_id(family):
    return "family." + family


def is_finding_id(fid):
    return isinstance(fid, str) and fid.startswith("family.") and fid[len("family."):] in FAMILIES


def _iso(ts):
    return _dt.datetime.fromtimestamp(ts, _dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") if ts else None


def findings(agg):
    """One advisory finding per family seen, in the shape fault_catalog.make_finding gives
    (remediation never acts on one: class advisory, fix.can_fix false, no fix file)."""
    out = []
    for name, fam in summary(agg).items():
        rec = agg["families"][name]
        named = ", ".join("%s (%d)" % kv for kv in list(fam["subjects"].items())[:4]) or "no subject named"
        summary_text = "%d %s message(s) of %s: %s" % (fam["count"], fam["severity"], fam["title"].lower(), named)
        evidence = dict(count=fam["count"], severity=fam["severity"], subjects=fam["subjects"], samples=fam["samples"],
                        first=_iso(rec.get("first")), last=_iso(rec.get("last")))
        out.append({
            "id": finding_id(name), "class": "advisory", "severity": SEVERITY_OF[fam["severity"]],
            "title": fam["title"] + " (log message family)", "summary": summary_text, "evidence": evidence,
            "cause": "Postfix logged %s messages of this family on this host; the subjects are what they name." % (
                fam["severity"]),
            "fix": dict(steps=[fam["advice"]], can_fix=False), "seeds": "issue 31", "family": name, "source": "log",
            "remedy": dict(releases_mail=False, phase="config", starts_postfix=False, verify_gone=False, opt_in=None),
        })
    return out
