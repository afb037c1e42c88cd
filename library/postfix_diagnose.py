#!/usr/bin/python
# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# postfix-remedy: find the cataloged Postfix faults on one host, with evidence. Read-only.
from __future__ import annotations

DOCUMENTATION = r"""
---
module: postfix_diagnose
short_description: Find the cataloged Postfix faults on a host (log, config, probes, queue, bounces)
description:
  - Gathers everything in one call and returns findings keyed by the fault IDs of the catalog
    (the module_utils C(fault_catalog.py), under C(module_utils/) in the repository and C(plugins/module_utils/)
    in the collection), each with C(id), C(class) (auto, opt-in, advisory), C(severity),
    C(summary), C(evidence), C(cause) and C(fix) (documented steps plus the exact parameter
    changes or commands a remediation would make).
  - B(log) scans the mail log (I(log_paths), or C(maillog_file), C(/var/log/mail.log),
    C(/var/log/maillog) with their rotated and C(.gz) siblings inside I(log_window)) in one pass,
    classifying every cataloged wording of Postfix 3.5 to 3.10+. Candidate lines (a severity, a
    reject, a delivery status other than sent, or one of the few wordings Postfix and the policy
    daemons log without one) are found with C(grep -E) for plain files over 4 MB (about 190 MB/s
    on two cores, one C(grep) per core; the host's grep, argv only), and with C(bytes.find)
    otherwise; only those lines are classified. With
    I(incremental) the offset and the aggregates are kept per file identity (device and inode) in
    I(state_file), so a re-run reads only appended bytes and a rotated file is not read again.
    On a host that logs only to the systemd journal it reads C(journalctl) output instead (see
    I(log_source)), with the same signatures, masking and counts, incremental by journal cursor.
  - B(config) reads C(postconf -n), C(postconf -x), C(postconf -M), C(postfix check) and the
    unused-parameter warnings (with the closest known parameter name).
  - B(probes) queries each nameserver of C(/etc/resolv.conf) (and compares the chroot copy),
    checks listeners for the enabled smtpd services, the master process, TLS certificate/key files
    (owner, mode, expiry, key match), referenced lookup tables (index missing, stale,
    unreadable, unsupported type), SASL sockets, and DNS records (SPF, DMARC, PTR of the
    outbound address) through the host's resolver. I(probe_outbound) also tries port 25 of the
    MX hosts of the top deferred domains.
  - B(queue) streams C(postqueue -j) (memory does not grow with the queue) for counts, the qshape
    table of the deferred queue, top senders and deferral reasons, and the corrupt queue.
  - B(bounce) parses RFC 3464 reports and Postfix bounce text from I(bounce_files) and from
    bounces (MAILER-DAEMON) found in the queue, and says why each recipient failed in sisimai's
    reason set; a refusal that points at this server (our address on a blocklist, no PTR, SPF or
    DKIM failing, our rate too high for a provider) names its catalog ID and fix, and the finding
    groups bounces by destination domain and reason.
  - Correlates where the seeds show it (a dead resolver explains MX timeouts and name-service errors).
  - Never changes Postfix, its configuration or the queue. The only files it writes are its own scan
    state (I(state_file), mode 0600) and, with I(metrics_dir), its metrics file for node_exporter, and
    neither in check mode. C(changed) is always false.
  - B(metrics) with I(metrics_dir) writes C(postfix_remedy_diagnose.prom) there (Prometheus text format,
    mode 0644, through a temporary file renamed into place) for node_exporter's textfile collector; each
    current finding with its severity, class, first-seen and last-seen times, log counts per ID, inbound
    statistics and the unclassified share, queue sizes and the oldest message's arrival per queue, when the
    diagnosis ran, how long it took and its result. The names are listed in the role README and
    C(module_utils/remedy_metrics.py). A directory that is missing (node_exporter not installed) or
    not writable, a full disk, or a file there that is not ours is a warning, and the findings are
    returned as always.
version_added: "1.0.0"
author: postfix-remedy maintainers (@postfix-remedy)
options:
  config_dir:
    description: Postfix configuration directory (C(-c)); default is the system one.
    type: path
  checks:
    description: Which evidence to gather.
    type: list
    elements: str
    choices: [log, config, probes, queue, bounce]
    default: [log, config, probes, queue, bounce]
  log_paths:
    description:
      - Log files to scan (each with its rotated siblings). Default is discovered.
      - Paths, not patterns (a C(*) is not expanded). A path that matches no file is said in
        RV(errors); when no file at all is read, RV(log.read) is false and the summary says
        C(no log read).
    type: list
    elements: path
  log_window:
    description: Only log files and lines from this period (C(30m), C(12h), C(7d)).
    type: str
    default: 7d
  log_source:
    description:
      - Where Postfix's log is read. One source only, so nothing is counted twice.
      - C(auto) reads the mail log file when Postfix writes one (a file modified inside
        I(log_window)), else the systemd journal; RV(log.source) and RV(log.source_reason) say which and why.
      - C(journal) reads C(journalctl) output (the mail facility and every Postfix syslog
        identifier, C(postfix/*) and multi-instance names such as C(postfix-out/*)), incrementally by
        journal cursor kept in I(state_file). The host fails when the journal is not readable or
        there are no journal files (none on the host, or none under I(journal_directory)).
      - C(file) reads only log files.
      - When no log could be read (no file, no journal files), RV(log.read) is false, RV(log.note)
        says why, and the reason is a warning, an entry of RV(errors) and part of RV(summary)
        (C(no log read)), never a clean scan of nothing.
    type: str
    choices: [auto, file, journal]
    default: auto
  journal_directory:
    description: Read the journal files under this directory (C(journalctl --directory)) instead of
      the host's journal; implies I(log_source=journal).
    type: path
  incremental:
    description: Keep offsets and aggregates in I(state_file) so a re-run reads only new lines.
    type: bool
    default: true
  state_file:
    description:
      - Where the incremental scan state lives on the host (JSON, mode 0600, written under a fresh
        name and renamed into place).
      - An existing path that is not a postfix-remedy scan state (main.cf, a symlink, a directory,
        a device, any other content) fails the host, naming it, before anything is read or written.
    type: path
    default: /var/lib/postfix-remedy/logscan.json
  mask:
    description: Mask address local parts and SASL user names in evidence.
    type: bool
    default: true
  resolv_conf:
    description: Resolver configuration to probe.
    type: path
    default: /etc/resolv.conf
  resolver_timeout:
    description: Seconds to wait for each nameserver's answer.
    type: float
    default: 2.0
  dns_records:
    description: Check SPF and DMARC records of I(domains) and the PTR of I(outbound_ip).
    type: bool
    default: true
  domains:
    description: Mail domains whose DNS records are checked. Default is C($mydomain).
    type: list
    elements: str
  outbound_ip:
    description: Outbound address for the PTR check. Default is C(smtp_bind_address), else the
      source address of the default route; no PTR check when neither exists.
    type: str
  probe_outbound:
    description: Try TCP port 25 of the MX hosts of the top deferred domains (net.port25_blocked).
    type: bool
    default: false
  internal_networks:
    description:
      - Our internal and partner networks. Default is private and loopback addresses.
      - A relay denial, an RBL reject, an unknown recipient, a TLS handshake or end-of-message
        failure of a client in them is a finding; from anywhere else it is policy or Internet
        noise, counted in C(log.inbound).
    type: list
    elements: str
  backlog:
    description: Deferred messages at which queue.deferred_backlog is reported.
    type: int
    default: 1000
  cert_days:
    description: Report tls.cert_expiry when a certificate has fewer days left.
    type: int
    default: 21
  flood_count:
    description: Minimum messages of one sender (or MAILER-DAEMON) for a flood finding.
    type: int
    default: 100
  flood_share:
    description: Minimum share of the queue (0-1) of one sender for a flood finding.
    type: float
    default: 0.3
  brute_force:
    description: SASL failures from one client at which it is called brute force.
    type: int
    default: 10
  log_min_count:
    description:
      - Lines needed in the window before a sporadic log ID is reported (SASL failures, lost
        connections after AUTH or DATA, Dovecot auth drops, illegal addresses), because every
        healthy server logs a few of those.
      - Also the refusals of one recipient domain (its servers' answers about their own side, or
        its null MX) before they are reported as C(delivery.remote_refusal).
    type: int
    default: 5
  fix_ledger:
    description:
      - JSON object fault ID -> time (epoch) at which postfix_remediate fixed it on this host. Log
        findings whose lines all predate that time are reported as historical advisories, so a
        fixed fault found only in old log lines is not fixed again.
    type: path
    default: /var/lib/postfix-remedy/fixed.json
  change_window_marker:
    description:
      - When this file exists a change window is open, and soft_bounce/debug settings are expected
        (written by the postfix_change_window role). This is the default instance's marker; with
        I(config_dir) naming another instance, its own marker has the directory in its name
        (C(change-window.etc-postfix-out-1a2b3c4d.json)), one window per instance.
      - A marker past its deadline, one whose close failed, or one that is damaged (not JSON, no
        deadline, not a regular file) is a C(config.change_window_expired) finding and explains
        nothing; soft_bounce and debug are reported too.
    type: path
    default: /var/lib/postfix-remedy/change-window.json
  bounce_files:
    description:
      - Files holding bounce messages (one message, or an mbox) to analyze.
      - Only regular files are read, at most their first 50 MiB (a larger one is reported in I(errors)).
    type: list
    elements: path
  bounce_from_queue:
    description: How many bounce messages (MAILER-DAEMON) from the queue to analyze with postcat.
    type: int
    default: 10
  fqdn:
    description: This host's fully-qualified name, used in the suggested myhostname fix.
    type: str
  metrics_dir:
    description:
      - node_exporter's textfile collector directory (Debian's C(prometheus-node-exporter) reads
        C(/var/lib/prometheus/node-exporter)). When given, the diagnosis writes its metrics there as
        C(postfix_remedy_diagnose.prom) (another instance than C(/etc/postfix) has its directory in the
        file name). Not given (the default), no metrics.
      - The directory is never created. Missing, not a directory, not writable or full, or a file at
        that name that is not ours (a symlink, other content) is a warning, and nothing is written there.
      - The first-seen time of a finding still present is read back from the previous file.
    type: path
    version_added: "1.1.0"
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: 'Read-only: the same run with or without check mode.'
  diff_mode:
    support: N/A
    details: 'Read-only: nothing to diff.'
  platform:
    platforms: posix
notes:
  - Supports check mode (the result is the same; the scan state is not saved).
"""

EXAMPLES = r"""
- name: Diagnose this host
  postfix_remedy.toolkit.postfix_diagnose:
  register: diag

- name: Only configuration and probes, with a stricter backlog threshold
  postfix_remedy.toolkit.postfix_diagnose:
    checks: [config, probes]
    backlog: 200

- name: Analyze a mailbox of bounces too
  postfix_remedy.toolkit.postfix_diagnose:
    bounce_files: [/var/mail/postmaster]
"""

RETURN = r"""
findings:
  description: Findings ordered by severity; each has id, class, severity, title, summary, evidence, cause, fix, seeds.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description:
        - "The fault ID (the catalog's key), or C(family.FAMILY) for the advice on one family of this host's log
          messages that no fault ID claims (see C(log.families)): class advisory, never fixed automatically."
      type: str
      returned: always
    class:
      description: "Fix class: auto, opt-in or advisory."
      type: str
      returned: always
    severity:
      description: "critical, high, medium, low or info."
      type: str
      returned: always
    title:
      description: "The catalog's one-line title."
      type: str
      returned: always
    summary:
      description: "What was found on this host."
      type: str
      returned: always
    evidence:
      description: "The host-specific facts behind the finding (log counts and samples, files, values)."
      type: dict
      returned: always
    cause:
      description: "The cause in plain words."
      type: str
      returned: always
    fix:
      description: The documented steps, C(can_fix) (whether the fix applies on this host) and the data the fix task needs.
      type: dict
      returned: always
    seeds:
      description: "The support cases the fault comes from."
      type: str
      returned: always
    remedy:
      description: The catalog's facts for the roles that act on the finding (releases held mail, queue phase, starts Postfix).
      type: dict
      returned: always
    root_cause:
      description: "The finding that explains this one, when one does."
      type: str
      returned: when explained
    historical:
      description: "True when every line predates a fix or the live check passes now."
      type: bool
      returned: when historical
ids:
  description: The fault IDs found, sorted.
  returned: always
  type: list
  elements: str
counts:
  description: Number of findings by class and by severity.
  returned: always
  type: dict
  contains:
    total:
      description: "All findings."
      type: int
      returned: always
    by_class:
      description: "Findings per fix class."
      type: dict
      returned: always
    by_severity:
      description: "Findings per severity."
      type: dict
      returned: always
postconf_n:
  description: Output of C(postconf -n) as a name/value mapping (for the report and for help requests).
  returned: when config is checked
  type: dict
queue:
  description: Counts per queue, total, MAILER-DAEMON count, top senders and reasons, qshape of the deferred queue.
  returned: when queue is checked
  type: dict
  contains:
    counts:
      description: "Messages per queue (active, deferred, hold, incoming, maildrop, corrupt)."
      type: dict
      returned: always
    total:
      description: "Messages in all queues."
      type: int
      returned: always
    mailer_daemon:
      description: "Bounces (sender MAILER-DAEMON) in the queue."
      type: int
      returned: always
    top_senders:
      description: "The senders with the most queued messages."
      type: list
      elements: dict
      returned: always
    top_reasons:
      description: "The most common deferral reasons."
      type: list
      elements: dict
      returned: always
    qshape:
      description: "Deferred messages per destination domain and age bucket."
      type: dict
      returned: always
    corrupt:
      description: "Files in the corrupt queue."
      type: list
      elements: str
      returned: always
    not_held:
      description: "Messages outside the hold queue."
      type: int
      returned: always
    unparsable_lines:
      description: "Lines of postqueue output that could not be read."
      type: int
      returned: always
    oldest:
      description: "Per queue, the arrival time (epoch) of its oldest message."
      type: dict
      returned: always
log:
  description: Files scanned (mode full/incremental/cached, bytes read), line and status counts,
    fault-looking lines and the share left unclassified with their most common shapes, and
    C(inbound) - lines of servers about clients per fault ID (our RBL, unknown recipients, TLS
    handshakes of scanners...) that are policy or Internet noise, findings only for internal
    clients. Lines of other programs that only look like Postfix faults (dovecot's TLS errors)
    count as C(benign.other_program). C(source) (file or journal) and C(source_reason) say which
    log was read and why; C(journal) has the journal scan's mode, cursor, identifiers read and any
    fallback (a vacuumed journal or refused cursor makes a window scan, said in C(note)).
  returned: when log is checked
  type: dict
  contains:
    source:
      description: "file or journal."
      type: str
      returned: always
    source_reason:
      description: "Why that source was read."
      type: str
      returned: always
    read:
      description: "False when no log was read at all (no file found or readable, no journal files)."
      type: bool
      returned: always
    note:
      description: "Why no log was read."
      type: str
      returned: when read is false
    files:
      description: "Per file scanned, its mode (full, incremental, cached) and bytes read."
      type: list
      elements: dict
      returned: always
    journal:
      description: "The journal scan's mode, cursor, identifiers and any fallback note."
      type: dict
      returned: when the journal is read
    lines:
      description: "Lines read in the window."
      type: int
      returned: always
    bytes:
      description: "Bytes read."
      type: int
      returned: always
    ids:
      description: "Per fault ID, its lines in the window (a finding needs log_min_count of a sporadic ID)."
      type: dict
      returned: when read
    scan_seconds:
      description: "How long the log scan took."
      type: float
      returned: always
    skipped_old:
      description: "Lines older than the window."
      type: int
      returned: always
    window_seconds:
      description: "The log window in seconds."
      type: float
      returned: always
    status:
      description: "Delivery status counts (sent, deferred, bounced...)."
      type: dict
      returned: always
    faultish:
      description: "Lines that look like a fault."
      type: int
      returned: always
    inbound:
      description: "Per fault ID, lines about clients that are policy or Internet noise (statistics)."
      type: dict
      returned: always
    remote:
      description: "Per recipient domain (the 50 busiest), what other servers answered about their own side
        (over quota, unknown user, size limit, policy, greylisting, a null MX): C(count) and C(reasons).
        A statistic, never a local fault ID; delivery.remote_refusal when one domain refuses log_min_count times."
      type: dict
      returned: always
    benign:
      description: "Fault-looking lines explained as benign, per kind."
      type: dict
      returned: always
    statistics:
      description: "Internet and peer noise no fault ID claims, counted per name (client_limit, client_protocol,
        client_syntax, peer_tls, peer_dns, peer_protocol, upstream_proxy, mail_loop, and the neighbour programs'):
        never a finding."
      type: dict
      returned: always
    families:
      description:
        - "Per family of this host's faults (config, lookup_table, permission, resource, tls, sasl, dns, network,
          filter, queue_file, internal, version), the Postfix warnings, errors, fatals and panics no fault ID claims:
          C(count), C(severity) (the worst message's), C(subjects) (what the messages name - a file, parameter,
          table, peer, service - with counts), C(samples) (masked), C(title) and C(advice)."
        - "Each family seen is also an advisory finding C(family.FAMILY): severity high for a fatal or panic,
          medium for an error, low for a warning."
      type: dict
      returned: always
    unclassified:
      description: "Fault-looking lines no signature or benign kind claims."
      type: int
      returned: always
    unclassified_share:
      description: "unclassified / faultish."
      type: float
      returned: always
    unclassified_top:
      description: "The most common unclassified line shapes."
      type: list
      elements: dict
      returned: always
probes:
  description: Raw probe results (resolvers, master, listeners, TLS, tables, SASL, DNS records).
  returned: when probes are checked
  type: dict
  contains:
    mail_version:
      description: "Postfix's mail_version."
      type: str
      returned: always
    master:
      description: "Whether master runs (pid, state)."
      type: dict
      returned: always
    resolvers:
      description: "Per nameserver of resolv.conf, whether it answers."
      type: dict
      returned: always
    listening:
      description: "The addresses and ports Postfix listens on."
      type: dict
      returned: always
    inet_interfaces:
      description: "The inet_interfaces in effect."
      type: str
      returned: always
    inet_services:
      description: "The inet services of master.cf."
      type: list
      elements: dict
      returned: always
    smtp_services:
      description: "The smtpd services and their ports."
      type: list
      elements: dict
      returned: always
    port_holders:
      description: "Who holds a Postfix port while master is down."
      type: list
      elements: dict
      returned: always
    tls:
      description: "Certificate and key checks (readable, expiry, match)."
      type: list
      elements: dict
      returned: always
    tables:
      description: "Each lookup table with its type, source and database state."
      type: list
      elements: dict
      returned: always
    sasl:
      description: "The SASL backends and whether they answer."
      type: list
      elements: dict
      returned: always
    chroot:
      description: "Missing or stale system files in the chroot."
      type: dict
      returned: always
    dns:
      description: "PTR, SPF, DMARC and MX records of the host's domains."
      type: dict
      returned: always
bounces:
  description:
    - Parsed bounce recipients (status, class, meaning, remote MTA reply) and why each failed.
    - Each message is read within a bound (its first 4 MiB, 12 nesting levels, 1000 recipients); what a bound
      cut, or a message that could not be read, is a line in I(errors). At most 5000 recipients are returned.
  returned: when bounce is checked
  type: list
  elements: dict
  contains:
    recipient:
      description: "The bounced recipient."
      type: str
      returned: always
    status:
      description: "The DSN status code (5.1.1)."
      type: str
      returned: always
    class:
      description: "permanent or temporary."
      type: str
      returned: always
    meaning:
      description: "What the status code means."
      type: str
      returned: always
    action:
      description: "The DSN action (failed, delayed)."
      type: str
      returned: always
    outcome:
      description: "What happened to the message."
      type: str
      returned: always
    diagnostic:
      description: "The remote MTA's reply."
      type: str
      returned: always
    remote_mta:
      description: "The MTA that refused."
      type: str
      returned: always
    reason:
      description:
        - "Why it failed, in the reason set of sisimai, the reference bounce classifier: userunknown, filtered,
          suspend, hasmoved, mailboxfull, mesgtoobig, exceedlimit, hostunknown, notaccept, networkerror, expired,
          norelaying, blocked, rejected (our sender was refused), policyviolation, badreputation, toomanyconn,
          ratelimited (sisimai's speeding), requireptr, spamdetected, virusdetected, contenterror, authfailure,
          securityerror, failedstarttls, systemerror, systemfull, mailererror, syntaxerror, onhold, undefined."
        - "A message returned after its queue lifetime is C(expired), with the last attempt's reason in I(cause),
          when that attempt failed on the network, timed out or said nothing useful; a last attempt refused for a
          reason of its own (mailbox full, our address blocked) keeps that reason, as sisimai does (see I(expired))."
      type: str
      returned: always
    group:
      description: "The coarser group of the reason (user unknown, blocked/policy, network/timeout...)."
      type: str
      returned: always
    side:
      description: "Whose side the refusal is on: recipient, destination, message, ours (our server, address,
        domain or rate) or unknown."
      type: str
      returned: always
    cause:
      description: "For an expired recipient, the reason of its last attempt (networkerror, mailboxfull...)."
      type: str
      returned: when reason is expired and the last attempt said why
    expired:
      description: "True when the message was returned after its queue lifetime (a temporary failure made final)."
      type: bool
      returned: when true
    domain:
      description: "The recipient's domain (kept when the address is masked)."
      type: str
      returned: always
    sender:
      description: "The envelope sender of the bounced message (X-Postfix-Sender), when the report names it."
      type: str
      returned: when the report names it
    final_recipient:
      description: "The address the remote side reported, when it differs from the one the sender wrote."
      type: str
      returned: when it differs
    fault_id:
      description: "The catalog ID this bounce points at, if any."
      type: str
      returned: always
    source:
      description: "The file or queue ID the bounce came from."
      type: str
      returned: always
errors:
  description: Evidence that could not be gathered (the other checks still ran).
  returned: always
  type: list
  elements: str
generated_at:
  description: When the diagnosis finished, in UTC (ISO 8601), by the host's clock (the report takes the controller's).
  returned: always
  type: str
  sample: "2026-12-06T03:30:00Z"
check_mode:
  description: Whether the diagnosis ran in check mode (the report says it was a dry run).
  returned: always
  type: bool
metrics:
  description: The metrics file (I(metrics_dir)), whether it was written, and why not.
  returned: when metrics_dir is given
  type: dict
  contains:
    path:
      description: "The file (null when the metrics could not be computed)."
      type: str
      returned: always
    written:
      description: "Whether it was written (never in check mode)."
      type: bool
      returned: always
    warnings:
      description: "What went wrong (also module warnings): directory missing, not writable, disk full, odd label values."
      type: list
      elements: str
      returned: always
summary:
  description: One line for the play's summary, the same words as the report's.
  returned: always
  type: str
  sample: "2 finding(s) (high 1, medium 1): dns.resolver_dead, dns.mx_connect_timeout"
  # without a log: "no findings, but no log read (log_paths match no file)"
"""

import json
import os
import re
import socket
import time

try:  # from this repository: ansible.cfg puts module_utils/ on the module_utils path
    from ansible.module_utils import diagnose_rules as rules
    from ansible.module_utils import dns_probe, dsn_parse, journal_scan, log_families, log_scan, prom_textfile, remedy_metrics, safe_io
    from ansible.module_utils import host_probes as hp
    from ansible.module_utils import postfix_conf as pc
    from ansible.module_utils import postfix_queue_lib as ql
    from ansible.module_utils.fault_catalog import CATALOG, make_finding
    from ansible.module_utils.postfix_cmd import Postfix, with_config
    from ansible.module_utils.secret_params import hide, secret_values
except ImportError:  # from the installed collection postfix_remedy.toolkit
    from ansible_collections.postfix_remedy.toolkit.plugins.module_utils import diagnose_rules as rules
    from ansible_collections.postfix_remedy.toolkit.plugins.module_utils import (
        dns_probe,
        dsn_parse,
        journal_scan,
        log_families,
        log_scan,
        prom_textfile,
        remedy_metrics,
        safe_io,
    )
    from ansible_collections.postfix_remedy.toolkit.plugins.module_utils import host_probes as hp
    from ansible_collections.postfix_remedy.toolkit.plugins.module_utils import postfix_conf as pc
    from ansible_collections.postfix_remedy.toolkit.plugins.module_utils import postfix_queue_lib as ql
    from ansible_collections.postfix_remedy.toolkit.plugins.module_utils.fault_catalog import CATALOG, make_finding
    from ansible_collections.postfix_remedy.toolkit.plugins.module_utils.postfix_cmd import Postfix, with_config
    from ansible_collections.postfix_remedy.toolkit.plugins.module_utils.secret_params import hide, secret_values

UNUSED_RE = re.compile(r"warning: (\S+): unused parameter: ([^=\s]+)=(.*)$")
SMTPD_PORTS = {"smtp": 25, "submission": 587, "smtps": 465, "submissions": 465}
LOG_CANDIDATES = ("/var/log/mail.log", "/var/log/maillog", "/var/log/mail/mail.log")
MAX_BOUNCE_RECORDS = 5000  # bounced recipients returned (each message is bounded too: dsn_parse)
MAX_BOUNCE_FILE = 50 * 1024 * 1024  # bytes read from one bounce file


class Diagnosis:
    def __init__(self, module):
        self.m = module
        self.p = module.params
        self.pf = Postfix(module, module.params["config_dir"])
        self.errors = []
        self.result = dict(changed=False, findings=[], errors=self.errors)
        self.params = {}
        self.no_log = None  # why no log was read, when the log check read nothing

    # -------------------------------------------------------------- config
    def gather_config(self):
        rc, out_n, err_n = self.pf.postconf("-n", check=False)
        rc_x, out_x, err_x = self.pf.postconf("-x", check=False)
        if rc != 0 or rc_x != 0:
            self.errors.append("postconf failed: %s" % (err_n or err_x).strip()[:300])
        explicit, self.params = pc.parse_n(out_n), pc.parse_n(out_x)
        _unused, out_m, _unused = self.pf.postconf("-M", check=False)
        _unused, out_p, _unused = self.pf.postconf("-P", check=False)
        # inline credentials (static:/inline: password maps) never leave the module; main.cf and
        # master.cf are read too, for names postconf does not know (a misspelt
        # smtp_sasl_pasword_maps is only in the file and in an "unused parameter" warning)
        conf_dir = self.pf.config_dir or pc.parse_n(out_x).get("config_directory") or "/etc/postfix"
        files = []
        for name in ("main.cf", "master.cf"):
            try:
                files.append(safe_io.text(safe_io.read_regular(os.path.join(conf_dir, name), missing=b"")))
            except safe_io.InputError as exc:
                self.errors.append(str(exc))
        hide(self.m, secret_values(self.params, texts=(out_n, out_p, out_m, err_n, err_x, *files)))
        _unused, out_types, _unused = self.pf.postconf("-m", check=False)
        self.services, self.overrides = pc.parse_M(out_m), pc.parse_P(out_p)
        self.map_types = set(out_types.split())
        unused, seen = [], set()
        for line in (err_n + "\n" + err_x).splitlines():
            mm = UNUSED_RE.search(line)
            if mm and (mm.group(1), mm.group(2)) not in seen:
                seen.add((mm.group(1), mm.group(2)))
                unused.append(dict(file=mm.group(1), name=mm.group(2), value=mm.group(3)))
        ok, text = self.pf.check(readonly=True)  # read-only even where postfix check syncs the chroot
        self.result["postconf_n"] = explicit
        self.explicit = explicit
        return dict(params=self.params, explicit=explicit, services=self.services, overrides=self.overrides,
                    unused=unused, check=(ok, text))

    def param(self, name, default=""):
        return self.params.get(name, default)

    # -------------------------------------------------------------- probes
    def gather_probes(self):
        queue_dir = self.param("queue_directory", "/var/spool/postfix")
        chrooted = any(s.get("chroot") == "y" for s in self.services.values())
        probes = dict(resolvers=hp.resolvers(self.p["resolv_conf"],
                                             os.path.join(queue_dir, "etc", "resolv.conf") if chrooted else None,
                                             timeout=self.p["resolver_timeout"], probe_name=self._probe_name()))
        probes["master"] = hp.master_status(queue_dir)
        probes["listening"] = hp.listening_ports()
        probes["inet_interfaces"] = self.param("inet_interfaces")
        probes["mail_version"] = self.param("mail_version")
        probes["smtp_services"] = self._smtp_services()
        probes["inet_services"] = self._inet_services()
        if not probes["master"]["running"]:  # who holds the ports master would bind
            probes["port_holders"] = hp.port_holders({s["port"] for s in probes["inet_services"]})
        if chrooted:
            probes["chroot"] = dict(queue_directory=queue_dir, files=hp.chroot_files(queue_dir))
        probes["tls"] = self._tls()
        probes["tables"] = self._tables()
        probes["sasl"] = self._sasl(queue_dir)
        if self.p["dns_records"]:
            probes["dns"] = self._dns(probes["resolvers"])
        return probes

    def _probe_name(self):
        host = self.param("myhostname")
        return host if "." in host else "."

    def _inet_services(self):
        """Every enabled inet service of master.cf: {service, host, port, command}."""
        disabled = set(pc.split_list(self.param("master_service_disable")))
        out = []
        for key, svc in self.services.items():
            name, typ = key.rsplit("/", 1)
            if typ != "inet" or key in disabled or typ in disabled:
                continue
            host, _unused, port_part = name.rpartition(":")
            port = int(port_part) if port_part.isdigit() else SMTPD_PORTS.get(port_part)
            if port is None:
                try:
                    port = socket.getservbyname(port_part, "tcp")
                except OSError:
                    continue
            cmd = svc.get("command", "").split()
            out.append(dict(service=name, host=host.strip("[]") or None, port=port, command=cmd[0] if cmd else ""))
        return out

    def _smtp_services(self):
        return [dict(service=s["service"], port=s["port"]) for s in self._inet_services()
                if s["command"] in ("smtpd", "postscreen")]

    def _tls(self):
        openssl = self.m.get_bin_path("openssl")
        pairs = []
        for role in ("smtpd", "smtp"):
            cert = self.param(role + "_tls_cert_file")
            key = self.param(role + "_tls_key_file") or cert
            if not cert:
                continue
            if role == "smtpd" and self.param("smtpd_tls_security_level") in ("", "none") \
                    and self.param("smtpd_use_tls") != "yes":
                continue
            pair = hp.tls_pair(cert, key, self.m.run_command, openssl)
            pair["role"] = role
            pairs.append(pair)
        level = self.param("smtp_tls_security_level")
        ca = self.param("smtp_tls_CAfile")
        if level in ("verify", "secure", "dane-only") and ca and not os.path.isfile(ca):
            self.errors.append("smtp_tls_CAfile %s does not exist while smtp_tls_security_level = %s" % (ca, level))
            self._untrusted_ca = ca
        return pairs

    def _tables(self):
        values = [self.params.get(k, "") for k in self.explicit]
        for svc in self.overrides.values():
            values.extend(svc.values())
        owner = self.param("mail_owner", "postfix")
        out = []
        for typ, path in hp.table_refs(values):
            if self.map_types and typ not in self.map_types:
                out.append(dict(type=typ, source=path, problem="unknown",
                                detail="%s is not in postconf -m (%s)" % (typ, " ".join(sorted(self.map_types)))))
                continue
            out.append(hp.table_state(typ, path, owner, lambda x: x))
        return out

    def _sasl(self, queue_dir):
        users = []
        if self.param("smtpd_sasl_auth_enable") == "yes":
            users.append(("main.cf", self.param("smtpd_sasl_type"), self.param("smtpd_sasl_path")))
        for svc, over in self.overrides.items():
            if over.get("smtpd_sasl_auth_enable") == "yes":
                users.append((svc, over.get("smtpd_sasl_type", self.param("smtpd_sasl_type")),
                              over.get("smtpd_sasl_path", self.param("smtpd_sasl_path"))))
        out, seen = [], set()
        for where, typ, path in users:
            if (typ, path) in seen:
                continue
            seen.add((typ, path))
            if typ == "dovecot":
                sock = path if path.startswith("/") else os.path.join(queue_dir, path)
                info = hp.file_info(sock)
                out.append(dict(type="dovecot", used_by=where, socket=sock, ok=bool(info.get("is_socket")),
                                detail="not a socket" if info["exists"] else info.get("error")))
            elif typ == "cyrus" and self._saslauthd_wanted(path):
                # A chrooted smtpd only sees the socket inside $queue_directory (Debian's setup).
                chrooted = self._smtpd_chrooted(where)
                socks = ([os.path.join(queue_dir, "var/run/saslauthd/mux")] if chrooted
                         else ["/var/run/saslauthd/mux", "/run/saslauthd/mux"])
                live = [s for s in socks if hp.file_info(s).get("is_socket")]
                out.append(dict(type="saslauthd", used_by=where, socket=socks[0], candidates=socks, ok=bool(live),
                                chroot=chrooted, run_path=os.path.dirname(socks[0]),
                                detail="none of %s is a socket" % ", ".join(socks)))
        return out

    def _smtpd_chrooted(self, where):
        """Is the smtpd that does SASL (one service, or every smtpd when set in main.cf) chrooted?"""
        svcs = [self.services.get(where)] if where in self.services else [
            svc for svc in self.services.values() if svc.get("command", "").split()[:1] == ["smtpd"]]
        return any(svc and svc.get("chroot") == "y" for svc in svcs)

    def _saslauthd_wanted(self, name):
        conf_dir = self.pf.config_dir or "/etc/postfix"
        for d in (os.path.join(conf_dir, "sasl"), "/etc/sasl2", "/usr/lib/sasl2", "/usr/lib64/sasl2"):
            try:
                with open(os.path.join(d, (name or "smtpd") + ".conf")) as fh:
                    return bool(re.search(r"^\s*pwcheck_method:\s*saslauthd", fh.read(), re.M))
            except OSError:
                continue
        return False

    def _dns(self, resolvers):
        Resolver, ptr_name = dns_probe.Resolver, dns_probe.ptr_name
        live = [s["address"] for s in resolvers.get("servers", []) if s["answers"]]
        if not live:
            return dict(skipped="no resolver answers")
        res = Resolver(live, timeout=self.p["resolver_timeout"])
        domains = self.p["domains"] or [self.param("mydomain")]
        out = dict(domains={}, outbound_ips=[])
        for dom in [d for d in domains if d and "." in d]:
            txt, rcode = res.lookup(dom, "TXT")
            dmarc, dmarc_rcode = res.lookup("_dmarc." + dom, "TXT")
            mx, mx_rcode = res.lookup(dom, "MX")
            rec = dict(txt=txt, mx=[dict(pref=p, host=h) for p, h in mx or []], rcode=rcode)
            # a failed lookup is its own evidence, never "record missing": no SPF/DMARC finding
            # and no proposed record rests on it
            asked = (("TXT", txt, rcode), ("_dmarc TXT", dmarc, dmarc_rcode), ("MX", mx, mx_rcode))
            rec["lookup_failed"] = {q: str(rc) for q, v, rc in asked if v is None}
            if txt is not None:
                rec["spf"] = [t for t in txt if t.lower().startswith("v=spf1")]
            if dmarc is not None:
                rec["dmarc"] = [t for t in dmarc if t.lower().startswith("v=dmarc1")]
            out["domains"][dom] = rec
        ip = self.p["outbound_ip"] or self.param("smtp_bind_address") or _route_source()
        if ip:
            out["outbound_ips"] = [ip]
            names, ptr_rcode = res.lookup(ptr_name(ip), "PTR")
            expected = self.param("myhostname")
            if names is None:  # lookup failed: nothing is known about the PTR, so nothing is claimed
                out["ptr"] = dict(ip=ip, ptr_name=ptr_name(ip), names=[], expected=expected, checked=False,
                                  lookup_failed=str(ptr_rcode))
            else:
                names = [n.rstrip(".").lower() for n in names]
                out["ptr"] = dict(ip=ip, ptr_name=ptr_name(ip), names=names, expected=expected, checked=True,
                                  match=expected.lower().rstrip(".") in names)
        return out

    def outbound_probe(self, queue, resolvers):
        Resolver = dns_probe.Resolver
        live = [s["address"] for s in resolvers.get("servers", []) if s["answers"]]
        if not live:
            return None
        res = Resolver(live, timeout=self.p["resolver_timeout"])
        targets = []
        for d in (queue.get("qshape", {}).get("domains") or [])[:3]:
            mx, _unused = res.lookup(d["domain"], "MX")
            hosts = [h for _p, h in sorted(mx or [])][:2] or [d["domain"]]
            for h in hosts:
                addrs, _unused = res.lookup(h, "A")
                for a in (addrs or [])[:1]:
                    outcome, ms = hp.tcp_connect(a, 25, 5.0)
                    targets.append(dict(domain=d["domain"], host=h, address=a, outcome=_norm_outcome(outcome), ms=ms))
        return dict(targets=targets)

    # -------------------------------------------------------------- queue
    def gather_queue(self):
        summary = ql.Summary(keep_bounce_ids=self.p["bounce_from_queue"])
        argv = with_config([self.pf.bin("postqueue"), "-j"], self.pf.config_dir)
        rc, err, bad = ql.stream(argv, summary.add)
        out = summary.result()
        if rc != 0:
            out["error"] = "postqueue -j failed (rc=%d): %s" % (rc, err.strip()[:300])
            self.errors.append(out["error"])
        out["unparsable_lines"] = bad
        queue_dir = self.param("queue_directory", "/var/spool/postfix")
        out["corrupt"] = ql.corrupt_files(queue_dir)
        out["counts"]["corrupt"] = len(out["corrupt"])
        return out

    # -------------------------------------------------------------- log
    def gather_log(self):
        window = ql.parse_duration(self.p["log_window"])
        since = time.time() - window
        paths = self._log_files(since)
        source, why = self._pick_log_source(paths, since)
        if source is None:
            return self._no_log(dict(files=[], source=None, source_reason=why), why), log_scan.new_agg()
        state = log_scan.load_state(self.p["state_file"]) if self.p["incremental"] else None
        if source == "file":
            new_state, agg, infos = log_scan.scan(paths, state, since=since, masked=self.p["mask"])
            journal_info = None
            if state and state.get("journal"):
                new_state["journal"] = state["journal"]  # kept for a later switch back
        else:
            journal = journal_scan.Journal(self.journalctl, self.p["journal_directory"])
            try:
                jstate, agg, journal_info = journal_scan.scan(journal, (state or {}).get("journal"), since=since,
                                                              window=window, masked=self.p["mask"])
            except journal_scan.JournalError as exc:
                if exc.absent and self.p["log_source"] == "auto" and not self.p["journal_directory"]:
                    why = why.replace("; reading the systemd journal", "") + ", and this host has no journal files"
                    return self._no_log(dict(files=[], source=None, source_reason=why), why), log_scan.new_agg()
                self.m.fail_json(msg="log_source journal: %s" % exc, **self.result)
            new_state, infos = dict(state or log_scan.load_state("/nonexistent"), journal=jstate), []
            if journal_info.get("note"):
                self.errors.append("journal: %s" % journal_info["note"])
        if self.p["incremental"] and not self.m.check_mode:
            try:
                log_scan.save_state(self.p["state_file"], new_state)
            except (OSError, safe_io.InputError) as exc:
                self.errors.append("cannot save scan state %s: %s" % (self.p["state_file"], safe_io.oserror_text(exc)))
        shapes = sorted(agg["unclassified_shapes"].values(), key=lambda r: -r["count"])[:10]
        info = dict(files=infos, lines=agg["lines"], bytes=agg["bytes"], status=agg["status"], faultish=agg["faultish"],
                    benign=agg.get("benign", {}), unclassified=agg["unclassified"],
                    inbound=rules.inbound_statistics(agg), remote=rules.remote_statistics(agg),
                    families=log_families.summary(agg), statistics=dict(sorted(agg.get("statistics", {}).items())),
                    unclassified_share=round(agg["unclassified"] / agg["faultish"], 4) if agg["faultish"] else 0.0,
                    unclassified_top=[dict(count=r["count"], sample=r["sample"]) for r in shapes],
                    skipped_old=agg["skipped_old"], window_seconds=window, source=source, source_reason=why,
                    journal=journal_info, read=True, ids={fid: rec["count"] for fid, rec in sorted(agg["ids"].items())})
        unread = [f for f in infos if "mode" not in f]  # could not be opened (a damaged .gz was read up to the damage)
        for f in unread:
            self.errors.append("log file %s not read: %s" % (f["path"], f["error"]))
        if source == "file" and len(unread) == len(infos):
            self._no_log(info, "none of %s could be read" % ", ".join(paths))
        return info, agg

    def _no_log(self, info, why):
        """Nothing was read: a clean scan of nothing must not pass for a healthy log, so it is
        said in log.read/log.note, in errors (the report's "Could not check"), as a warning and
        in the summary line the role prints per host."""
        self.no_log = why
        self.errors.append("no log read: %s" % why)
        self.m.warn("no log read: %s" % why)
        info.update(read=False, note=why)
        return info

    def _log_files(self, since):
        """Mail log files to read: log_paths, or maillog_file and the usual places, with rotated
        siblings inside the window."""
        maillog = self.param("maillog_file")
        bases = list(self.p["log_paths"] or [])
        for base in bases:
            if os.path.lexists(base) and not os.path.isfile(base):
                self.errors.append("log_paths: %s is not a regular file; not read" % base)
            elif not log_scan.discover([base], window_start=since):
                self.errors.append("log_paths: %s matches no file%s; not read" % (
                    base, " (a path, not a pattern: globs are not expanded)" if re.search(r"[*?[]", base) else ""))
        if not bases:
            if maillog.startswith("/") and not maillog.startswith("/dev/"):
                bases.append(maillog)
            bases.extend(LOG_CANDIDATES)
        return log_scan.discover(bases, window_start=since)

    def _pick_log_source(self, paths, since):
        """("file"|"journal"|None, why). One source only, so nothing is counted twice: the file
        when Postfix writes one (modified inside the window), else the journal."""
        choice = self.p["log_source"]
        self.journalctl = journal_scan.journalctl()
        if choice == "file" or self.p["log_paths"]:
            if paths:
                return "file", "log_paths given" if self.p["log_paths"] else "log_source: file"
            if self.p["log_paths"]:
                return None, "log_paths match no file: %s" % ", ".join(self.p["log_paths"])
            return None, "no mail log file found (log_source: file)"
        if choice == "journal" or self.p["journal_directory"]:
            if not self.journalctl:
                self.m.fail_json(msg="log_source journal: journalctl not found on this host (%s)"
                                 % ", ".join(journal_scan.JOURNALCTL_CANDIDATES), **self.result)
            return "journal", ("journal_directory given" if self.p["journal_directory"] else "log_source: journal")
        fresh = [p for p in paths if os.stat(p).st_mtime >= since]
        if fresh:
            return "file", "Postfix writes %s (modified inside the log window)" % fresh[0]
        if self.journalctl:
            why = "no mail log file written inside the log window" if paths else "no mail log file found"
            return "journal", why + "; reading the systemd journal"
        if paths:
            return "file", "no journal on this host; %s is older than the log window" % paths[0]
        return None, "no mail log file found and no journalctl on this host"

    # -------------------------------------------------------------- bounces
    def gather_bounces(self, queue):
        records, sources = [], []
        for path in self.p["bounce_files"] or []:
            try:  # regular files only: a FIFO named here must not hang the run
                data = safe_io.read_regular(path, "bounce file", limit=MAX_BOUNCE_FILE + 1)
            except safe_io.InputError as exc:
                self.errors.append(str(exc))
                continue
            if len(data) > MAX_BOUNCE_FILE:
                self.errors.append("bounce file %s is larger than %d MiB: only its first %d MiB were read"
                                   % (path, MAX_BOUNCE_FILE >> 20, MAX_BOUNCE_FILE >> 20))
                data = data[:MAX_BOUNCE_FILE]
            for i, msg in enumerate(dsn_parse.split_mbox(data)):
                self._add_bounce(dsn_parse.parse_message(msg), "%s#%d" % (path, i), records, sources)
        for qid in (queue or {}).get("bounce_ids", []):
            rc, out, _unused = self.pf.run(["postcat", "-bh", "-q", qid], check=False)
            if rc == 0:
                self._add_bounce(dsn_parse.parse_message(out), "queue:" + qid, records, sources)
        if len(records) > MAX_BOUNCE_RECORDS:
            self.errors.append("bounces: %d recipients parsed, the first %d are reported" % (len(records), MAX_BOUNCE_RECORDS))
            del records[MAX_BOUNCE_RECORDS:]
        if self.p["mask"]:
            for r in records:
                for key in ("recipient", "final_recipient", "diagnostic", "sender"):
                    if r.get(key):
                        r[key] = log_scan.mask(r[key])
        return records, sources

    def _add_bounce(self, parsed, source, records, sources):
        """One parsed message: its recipients (with the envelope sender the report names) and what
        its parse had to cut or skip (a clear line in errors, never an exception)."""
        for note in parsed["notes"]:
            self.errors.append("bounce %s: %s" % (source, note))
        if not parsed["is_bounce"]:
            return
        sources.append(source)
        for r in parsed["recipients"]:
            if parsed["sender"]:
                r["sender"] = parsed["sender"]
            records.append(r)

    def change_window(self):
        """This instance's change window (rules.instance_marker): None when no marker exists, else
        dict(path, marker, problem, expired). problem says why the marker is not a window the
        helper can close (damaged, not ours, another instance's): it then explains nothing."""
        path = rules.instance_marker(self.p["change_window_marker"], self.p["config_dir"])
        if not os.path.lexists(path):
            return None
        marker, problem = {}, None
        try:
            data = safe_io.check_own(path, "change window marker")
            if data is None:  # closed since
                return None
            marker = json.loads(data)
            problem = rules.window_problem(marker)
        except safe_io.InputError as exc:
            problem = str(exc)
        except (ValueError, RecursionError):
            problem = "not JSON (truncated?)"
        if not problem and os.path.normpath(marker.get("config_dir") or "/etc/postfix") != \
                os.path.normpath(self.p["config_dir"] or "/etc/postfix"):
            problem = "it is the window of the instance at %s" % marker["config_dir"]
        if problem:
            return dict(path=path, marker={}, problem=problem, expired=True)
        expired = time.time() > marker["deadline"] or bool(marker.get("close_failed"))
        return dict(path=path, marker=marker, problem=None, expired=expired)

    # -------------------------------------------------------------- run
    def run(self):
        checks = set(self.p["checks"])
        opts = dict(backlog=self.p["backlog"], cert_days=self.p["cert_days"], bounce_flood=self.p["flood_count"],
                    sender_flood=self.p["flood_count"], flood_share=self.p["flood_share"],
                    brute_force=self.p["brute_force"], log_min_count=self.p["log_min_count"],
                    internal_networks=self.p["internal_networks"] or [],
                    change_window_open=False, fqdn=self.p["fqdn"])
        window = self.change_window()
        opts["change_window_open"] = bool(window and not window["expired"])
        findings = []
        if window and window["expired"]:  # past its deadline, a close that failed, or damaged
            findings.append(rules.window_expired(window["marker"], window["path"], window["problem"]))
        config = self.gather_config()  # always: every other check needs the parameters
        if "config" in checks:
            found = rules.config_findings(config, opts)
            if window and window["expired"] and not window["problem"]:  # closing restores them: one fix, not two
                for f in found:  # what the window sets (the catalog: explained_by); correlate() links them
                    if rules.WINDOW_FAULT in CATALOG[f["id"]]["explained_by"]:
                        f["fix"]["can_fix"] = False
                        f["summary"] += "; set by the expired change window, which the fix of %s closes" % rules.WINDOW_FAULT
            findings += found
        queue = None
        if "queue" in checks or "bounce" in checks or self.p["probe_outbound"]:
            queue = self.gather_queue()
            if "queue" in checks:
                self.result["queue"] = {k: v for k, v in queue.items() if k != "bounce_ids"}
                findings += rules.queue_findings(queue, opts)
        if "probes" in checks:
            probes = self.gather_probes()
            if self.p["probe_outbound"] and queue:
                probes["outbound"] = self.outbound_probe(queue, probes["resolvers"])
            probes["listening"] = {str(k): v for k, v in probes["listening"].items() if k in (25, 465, 587)}
            self.result["probes"] = probes
            findings += rules.probe_findings(dict(probes, listening={int(k): v for k, v in probes["listening"].items()}), opts)
            if getattr(self, "_untrusted_ca", None):
                findings.append(make_finding("tls.untrusted_issuer", "smtp_tls_CAfile %s does not exist" % self._untrusted_ca,
                                             evidence=dict(smtp_tls_CAfile=self._untrusted_ca),
                                             fix=dict(params={"smtp_tls_CAfile": _system_ca_bundle()})))
        if "log" in checks:
            started = time.monotonic()
            info, agg = self.gather_log()
            info["scan_seconds"] = round(time.monotonic() - started, 3)
            self.result["log"] = info
            live = set(checks) & {"config", "probes"}
            if "probes" in checks and all(x.get("ok") for x in self.result["probes"].get("sasl", [])):
                live.add("no_sasl")  # SASL sockets fine, or SASL not used at all
            findings += rules.merge_log(findings, rules.log_findings(agg, opts), live, _load_ledger(self.p["fix_ledger"]))
            findings += log_families.findings(agg)  # advice per family of this host's messages; never auto-fixed
        if "bounce" in checks:
            records, sources = self.gather_bounces(queue)
            self.result["bounces"] = records
            findings += rules.bounce_findings(records, sources)
        for f in findings:  # the settings that decide what the fault does on this host (the catalog's)
            wanted = CATALOG.get(f["id"], {}).get("settings")
            if wanted:
                f["evidence"]["settings"] = {k: self.params.get(k) for k in wanted}
        findings = rules.correlate(findings)
        self.result["findings"] = findings
        self.result["ids"] = sorted({f["id"] for f in findings})
        counts = dict(by_class={}, by_severity={}, total=len(findings))
        for f in findings:
            counts["by_class"][f["class"]] = counts["by_class"].get(f["class"], 0) + 1
            counts["by_severity"][f["severity"]] = counts["by_severity"].get(f["severity"], 0) + 1
        self.result["counts"] = counts
        self.result["generated_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        self.result["check_mode"] = self.m.check_mode
        self.result["summary"] = summary_line(counts, self.result["ids"], self.errors, self.no_log)
        return self.result


def summary_line(counts, ids, errors, no_log=None):
    """'healthy, no findings' or 'N finding(s) (high 1, low 2): id, id', and the probe errors.
    no_log: why no log was read (then never "healthy": the log was not looked at)."""
    if not counts["total"]:
        line = "no findings, but no log read (%s)" % no_log if no_log else "healthy, no findings"
    else:
        line = "%d finding(s) (%s): %s" % (counts["total"], ", ".join(
            "%s %d" % kv for kv in sorted(counts["by_severity"].items())), ", ".join(ids))
        line += "; no log read (%s)" % no_log if no_log else ""
    others = len(errors) - (1 if no_log else 0)  # the no-log error is said above already
    return line + ("; %d probe error(s)" % others if others else "")


def _load_ledger(path):
    """{fault_id: epoch} written by postfix_remediate when it fixed an ID; {} when absent or damaged."""
    try:
        data = json.loads(safe_io.read_regular(path, "fix ledger", limit=16 * 1024 * 1024))
        return {k: float(v) for k, v in data.items() if isinstance(v, (int, float))}
    except (safe_io.InputError, ValueError, AttributeError):
        return {}


def _norm_outcome(outcome):
    if outcome in ("open", "refused", "timeout"):
        return outcome
    if "unreachable" in outcome.lower() or "no route" in outcome.lower():
        return "timeout"  # a blocked path, as far as delivery is concerned
    return outcome


def _route_source():
    """Source address the kernel would use for the default route (UDP connect sends nothing)."""
    for family, target in ((socket.AF_INET, "192.0.2.1"), (socket.AF_INET6, "2001:db8::1")):
        s = socket.socket(family, socket.SOCK_DGRAM)
        try:
            s.connect((target, 9))
            addr = s.getsockname()[0]
            if addr and not addr.startswith("127.") and addr != "::1":
                return addr
        except OSError:
            continue
        finally:
            s.close()
    return None


def _system_ca_bundle():
    for path in ("/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt"):
        if os.path.isfile(path):
            return path
    return "/etc/ssl/certs/ca-certificates.crt"


def main():
    module = safe_io.module_class()(
        argument_spec=dict(
            config_dir=dict(type="path"),
            checks=dict(type="list", elements="str", default=["log", "config", "probes", "queue", "bounce"],
                        choices=["log", "config", "probes", "queue", "bounce"]),
            log_paths=dict(type="list", elements="path"),
            log_window=dict(type="str", default="7d"),
            log_source=dict(type="str", default="auto", choices=["auto", "file", "journal"]),
            journal_directory=dict(type="path"),
            incremental=dict(type="bool", default=True),
            state_file=dict(type="path", default="/var/lib/postfix-remedy/logscan.json"),
            mask=dict(type="bool", default=True),
            resolv_conf=dict(type="path", default="/etc/resolv.conf"),
            resolver_timeout=dict(type="float", default=2.0),
            dns_records=dict(type="bool", default=True),
            domains=dict(type="list", elements="str"),
            outbound_ip=dict(type="str"),
            probe_outbound=dict(type="bool", default=False),
            internal_networks=dict(type="list", elements="str"),
            backlog=dict(type="int", default=1000),
            cert_days=dict(type="int", default=21),
            flood_count=dict(type="int", default=100),
            flood_share=dict(type="float", default=0.3),
            brute_force=dict(type="int", default=10),
            log_min_count=dict(type="int", default=5),
            change_window_marker=dict(type="path", default="/var/lib/postfix-remedy/change-window.json"),
            fix_ledger=dict(type="path", default="/var/lib/postfix-remedy/fixed.json"),
            bounce_files=dict(type="list", elements="path"),
            bounce_from_queue=dict(type="int", default=10),
            fqdn=dict(type="str"),
            metrics_dir=dict(type="path"),
        ),
        supports_check_mode=True,
    )
    p = module.params
    for name in ("backlog", "cert_days", "flood_count", "brute_force", "log_min_count", "bounce_from_queue"):
        if p[name] < 0:
            module.fail_json(msg="%s must not be negative (got %d)" % (name, p[name]))
    try:
        ql.parse_duration(p["log_window"])
    except ql.SelectionError as exc:
        module.fail_json(msg="log_window: %s" % exc)
    except ValueError as exc:
        module.fail_json(msg="log_window: %s" % exc)
    if not 0.1 <= p["resolver_timeout"] <= 30:
        module.fail_json(msg="resolver_timeout must be between 0.1 and 30 seconds")
    if not 0 < p["flood_share"] <= 1:
        module.fail_json(msg="flood_share must be in (0, 1]")
    if p["outbound_ip"]:
        import ipaddress
        try:
            ipaddress.ip_address(p["outbound_ip"])
        except ValueError:
            module.fail_json(msg="outbound_ip %r is not an IP address" % p["outbound_ip"])
    for dom in p["domains"] or []:
        if not dom or len(dom) > 253 or any(c.isspace() or c in "\x00/\\" for c in dom):
            module.fail_json(msg="domains: %r is not a domain name" % (dom,))
    for net in p["internal_networks"] or []:
        import ipaddress
        try:
            ipaddress.ip_network(net, strict=False)
        except ValueError:
            module.fail_json(msg="internal_networks: %r is not a network" % net)
    if p["incremental"] and "log" in p["checks"]:
        # the scan state is the one file the diagnosis writes: a state_file naming a file that is
        # not ours (main.cf, a symlink, a directory) fails the host before anything is read
        try:
            safe_io.check_own(p["state_file"], "scan state", log_scan.STATE_IS_OURS)
        except safe_io.InputError as exc:
            module.fail_json(msg="state_file: %s" % exc)
    started = time.monotonic()
    result = Diagnosis(module).run()
    if p["metrics_dir"]:
        try:
            result["metrics"] = write_metrics(module, result, time.monotonic() - started)
        except (KeyError, TypeError, ValueError) as exc:  # a bug in the metrics must not cost the findings
            module.warn("metrics not written: %s: %s" % (type(exc).__name__, exc))
            result["metrics"] = dict(path=None, written=False, warnings=["%s: %s" % (type(exc).__name__, exc)])
    module.exit_json(**result)


def write_metrics(module, result, duration):
    """postfix_remedy_diagnose.prom for node_exporter (module_utils/remedy_metrics.py says what is in
    it). Whatever goes wrong is a warning: the findings are the result, the metrics a copy of it."""
    p = module.params
    config_dir = os.path.normpath(p["config_dir"]) if p["config_dir"] else "/etc/postfix"
    path = prom_textfile.file_path(p["metrics_dir"], "postfix_remedy_diagnose", p["config_dir"])
    samples = remedy_metrics.diagnosis_samples(result, config_dir, prom_textfile.read_own(path), time.time(), duration)
    data, warnings = prom_textfile.render(samples, "postfix_diagnose")
    problem = None if module.check_mode else prom_textfile.write(path, data)  # check mode writes nothing on the host
    if problem:
        warnings.append(problem)
    written = not module.check_mode and problem is None
    for w in warnings:
        module.warn(w)
    return dict(path=path, written=written, warnings=warnings)


if __name__ == "__main__":
    main()
