#!/usr/bin/python
# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# postfix-remedy: inspect and act on the mail queue with one postsuper call per action.
from __future__ import annotations

DOCUMENTATION = r"""
---
module: postfix_queue
short_description: Inspect the Postfix queue and flush, requeue, hold, release or delete selected mail
description:
  - Reads the queue through C(postqueue -j), streamed so memory does not grow with the queue,
    and returns counts per queue, a qshape-style table (domain x age) and the selected messages.
  - Selects by queue, sender, recipient, age, size, deferral reason or explicit queue IDs.
  - Acts on the selection with ONE C(postsuper -r/-h/-H/-d -) call fed by standard input, never
    one process per message. C(flush) uses C(postqueue -f), C(-s SITE) or C(-i ID).
  - C(delete) needs I(confirm=true) and first keeps every selected message under I(backup_dir),
    the queue file itself (a hard link on the queue's filesystem, else a copy), and the list of
    IDs in C(ids.txt); nothing is deleted if keeping one fails. The readable C(postcat)
    renderings (C(messages-NNNN.txt), 500 messages each) follow after the delete
    (I(render_copies)). Files in the C(corrupt) queue are moved into I(backup_dir) (quarantine)
    instead of being deleted.
  - Returns the number of messages before and after, so a caller can prove that nothing outside
    the selection disappeared.
version_added: "1.0.0"
author: postfix-remedy maintainers (@postfix-remedy)
options:
  action:
    description: What to do with the selected messages.
    type: str
    choices: [list, flush, requeue, hold, release, delete]
    default: list
  queue:
    description: Restrict the selection to these queues.
    type: list
    elements: str
    choices: [maildrop, incoming, active, deferred, hold, corrupt]
  sender:
    description:
      - Sender pattern. An address matches exactly, C(@example.org) or C(example.org) matches the
        domain, C(MAILER-DAEMON) matches the null sender (bounces), C(/regex/) is a Python regex.
    type: str
  recipient:
    description: Recipient pattern (any recipient of the message), same syntax as I(sender).
    type: str
  min_age:
    description: Only messages at least this old (C(30m), C(4h), C(2d); plain numbers are seconds).
    type: str
  max_age:
    description: Only messages at most this old.
    type: str
  min_size:
    description: Only messages of at least this many bytes.
    type: int
  max_size:
    description: Only messages of at most this many bytes.
    type: int
  reason:
    description: Deferral reason of any recipient contains this text (or matches C(/regex/)).
    type: str
  ids:
    description:
      - Explicit queue IDs (validated; anything but 5-20 letters and digits is refused).
      - IDs that are in no queue are returned in RV(missing_ids), with a warning.
    type: list
    elements: str
  site:
    description:
      - For I(action=flush), flush mail for this destination (C(postqueue -s)).
      - A flush (C(postqueue -f) or C(-s)) runs only when there is mail outside the hold queue;
        otherwise nothing is run and C(changed) is false.
    type: str
  confirm:
    description: Must be true for I(action=delete).
    type: bool
    default: false
  backup_dir:
    description: Where I(action=delete) keeps its copies (a timestamped subdirectory is created).
    type: path
    default: /var/backups/postfix-remedy/queue
  render_copies:
    description:
      - When I(action=delete) writes the readable C(postcat) renderings of the kept queue files
        (C(messages-NNNN.txt), then C(rendered.done)) in its backup directory. The queue files
        themselves are kept before anything is deleted, whatever this says.
      - C(background) (a detached process, after the delete; the module returns at once),
        C(foreground) (before the module returns), or C(no) (render later with
        C(postcat BACKUP/*.queuefile)).
    type: str
    choices: [background, foreground, 'no']
    default: background
  qshape_queues:
    description:
      - Queues summarised in the C(qshape) table. Default C([deferred]) for I(action=list); an
        action computes the table only when this is given (it costs a pass over every message).
    type: list
    elements: str
  qshape_by:
    description: Group the qshape table by recipient or sender domain.
    type: str
    choices: [recipient, sender]
    default: recipient
  limit:
    description: At most this many selected messages are returned in C(messages).
    type: int
    default: 100
  ids_limit:
    description:
      - At most this many selected IDs are returned in C(selected_ids); the action still covers the
        whole selection (a delete writes every ID it removed to C(ids.txt) in its backup directory).
        Bounded so the module's memory and output do not grow with a 100,000-message selection.
    type: int
    default: 1000
  config_dir:
    description: Postfix configuration directory (C(-c)), for multi-instance hosts.
    type: path
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: 'Check mode reports the selected messages and the counts an action would change, and acts on none.'
  diff_mode:
    support: none
    details: 'No diff: the result lists the selected queue IDs instead.'
  platform:
    platforms: posix
notes:
  - Supports check mode, which reports exactly which IDs would be touched and changes nothing.
  - Queue IDs of messages that leave the queue between listing and action (delivered meanwhile)
    are reported by postsuper and counted, not treated as errors.
"""

EXAMPLES = r"""
- name: What is stuck, and where
  postfix_remedy.toolkit.postfix_queue:
    queue: [deferred]
  register: q
  # q.counts.deferred, q.qshape.domains[0].domain

- name: Hold everything for a dead relay during the change window
  postfix_remedy.toolkit.postfix_queue:
    action: hold
    queue: [deferred]
    reason: "/connect to .* Connection timed out/"

- name: Release and requeue after the fix
  postfix_remedy.toolkit.postfix_queue:
    action: release

- name: Delete backscatter bounces older than a day (a copy is kept)
  postfix_remedy.toolkit.postfix_queue:
    action: delete
    sender: MAILER-DAEMON
    min_age: 1d
    confirm: true
"""

RETURN = r"""
counts:
  description: Messages per queue before the action.
  type: dict
  returned: always
  sample: {maildrop: 0, incoming: 0, active: 2, deferred: 4187, hold: 0, corrupt: 0}
  contains:
    maildrop:
      description: "Messages in maildrop."
      type: int
      returned: always
    incoming:
      description: "Messages in incoming."
      type: int
      returned: always
    active:
      description: "Messages in active."
      type: int
      returned: always
    deferred:
      description: "Messages in deferred."
      type: int
      returned: always
    hold:
      description: "Messages in hold."
      type: int
      returned: always
    corrupt:
      description: "Files in corrupt."
      type: int
      returned: always
total_before:
  description: All messages before the action.
  type: int
  returned: always
total_after:
  description: All messages after the action (equal to total_before in check mode and for list).
  type: int
  returned: always
counts_after:
  description: Messages per queue after the action.
  type: dict
  returned: always
  contains:
    maildrop:
      description: "Messages in maildrop."
      type: int
      returned: always
    incoming:
      description: "Messages in incoming."
      type: int
      returned: always
    active:
      description: "Messages in active."
      type: int
      returned: always
    deferred:
      description: "Messages in deferred."
      type: int
      returned: always
    hold:
      description: "Messages in hold."
      type: int
      returned: always
    corrupt:
      description: "Files in corrupt."
      type: int
      returned: always
selected_count:
  description: Number of selected messages.
  type: int
  returned: always
selected_ids:
  description: IDs of the selected messages (what an action touches or would touch), the first I(ids_limit) of them.
  type: list
  elements: str
  returned: always
selected_ids_truncated:
  description: True when the selection holds more than I(ids_limit) messages (see C(selected_count)).
  type: bool
  returned: always
missing_ids:
  description:
    - The IDs of I(ids) that are in no queue (delivered or deleted since, or mistyped); nothing was
      done to them. Also a warning. Empty when I(ids) is not given.
  type: list
  elements: str
  returned: always
flush_calls:
  description: The postqueue calls of a flush (0 when nothing outside the hold queue was there to flush).
  type: int
  returned: when action=flush
messages:
  description: Details of the first I(limit) selected messages.
  type: list
  elements: dict
  returned: always
  contains:
    queue_id:
      description: "The queue ID."
      type: str
      returned: always
    queue_name:
      description: "The queue it is in."
      type: str
      returned: always
    arrival_time:
      description: "Epoch of arrival."
      type: int
      returned: always
    message_size:
      description: "Size in bytes."
      type: int
      returned: always
    sender:
      description: "The envelope sender."
      type: str
      returned: always
    recipients:
      description: "Each recipient with its delay_reason."
      type: list
      elements: dict
      returned: always
qshape:
  description:
    - Domain x age table of I(qshape_queues), buckets in minutes as in qshape(1); the 20 biggest
      domains, C(more_domains) for the rest.
    - At most 10,000 domains get a row of their own; after that they are summed in one
      C((other domains)) row and C(capped) is true, so totals stay exact and memory bounded.
  type: dict
  returned: always
  contains:
    buckets:
      description: "The age buckets in minutes."
      type: list
      elements: int
      returned: always
    total:
      description: "Messages per bucket over all domains."
      type: list
      elements: int
      returned: always
    domains:
      description: "The biggest domains, each with its counts per bucket."
      type: list
      elements: dict
      returned: always
    more_domains:
      description: "Domains not listed."
      type: int
      returned: always
    capped:
      description: "True when domains past 10,000 were summed in one row."
      type: bool
      returned: always
affected:
  description: Number of messages postsuper reported as changed.
  type: int
  returned: when an action ran
backup_dir:
  description: Directory holding the copies made before delete or quarantine.
  type: str
  returned: when action=delete
command:
  description: The argv of the action command (of the first call, for a flush by ID); empty when a flush had nothing to flush.
  type: list
  returned: when an action ran
elapsed:
  description: Seconds the module spent (listing, selection, backup and action).
  type: float
  returned: always
timings:
  description: Where the seconds went, per step, in the order the steps ran; only the steps that ran are present.
  type: dict
  returned: always
  sample: {"start": 0.1, "listing": 4.1, "backup": 0.4, "action": 3.9, "render": 0.0, "recount": 0.3}
  contains:
    start:
      description: "Arguments and the postconf reads."
      type: float
      returned: always
    listing:
      description: "postqueue -j, read and selected."
      type: float
      returned: always
    backup:
      description: "The copies kept before a delete."
      type: float
      returned: when action=delete
    action:
      description: "postsuper (or postqueue for a flush)."
      type: float
      returned: when an action ran
    render:
      description: "The postcat renderings, when not left to the background."
      type: float
      returned: when action=delete
    recount:
      description: "The queue files counted again afterwards."
      type: float
      returned: when an action ran
peak_rss_kb:
  description:
    - Peak memory of the module process in KiB. The listing is streamed and the selection kept in
      a temporary file, so memory grows neither with the queue nor with the selection.
  type: int
  returned: always
"""

import collections
import errno
import os
import re
import resource
import shutil
import tempfile
import time

try:  # from this repository: ansible.cfg puts module_utils/ on the module_utils path
    from ansible.module_utils import bounded_match, safe_io
    from ansible.module_utils import postfix_queue_lib as ql
    from ansible.module_utils.postfix_cmd import Postfix, run_together, with_config
except ImportError:  # from the installed collection postfix_remedy.toolkit
    from ansible_collections.postfix_remedy.toolkit.plugins.module_utils import bounded_match, safe_io
    from ansible_collections.postfix_remedy.toolkit.plugins.module_utils import postfix_queue_lib as ql
    from ansible_collections.postfix_remedy.toolkit.plugins.module_utils.postfix_cmd import Postfix, run_together, with_config

POSTSUPER_FLAG = {"requeue": "-r", "hold": "-h", "release": "-H", "delete": "-d"}
POSTCAT_BATCH = 500  # queue files rendered per postcat call in a backup
AFFECTED_RE = re.compile(r"postsuper: (?:Requeued|Placed on hold|Released from hold|Deleted): (\d+) messages?")
SITE_RE = re.compile(r"^[A-Za-z0-9.\[\]:_-]{1,255}$")


def scan(module, pf, selection, qshape, limit, ids_limit, queue_directory):
    """Stream the listing: counters, qshape, the first `limit` selected messages; the selected IDs
    go to a SelectionFile, so memory does not grow with the queue or the selection."""
    counts = dict.fromkeys(ql.QUEUES, 0)
    selected, details = ql.SelectionFile(keep=ids_limit), []
    seen = set()  # the requested IDs (ids) found in the queue: as many as the caller gave, no more

    def on_message(msg):
        q = msg.get("queue_name", "?")
        counts[q] = counts.get(q, 0) + 1
        if selection.ids is not None and msg.get("queue_id") in selection.ids:
            seen.add(msg["queue_id"])
        if qshape is not None:
            qshape.add(msg)
        if selection.matches(msg) and ql.QUEUE_ID_RE.match(str(msg.get("queue_id"))):
            selected.add(q, msg["queue_id"])
            if len(details) < limit:
                details.append(msg)

    argv = with_config([pf.bin("postqueue"), "-j"], pf.config_dir)
    rc, err, bad = ql.stream(argv, on_message)
    if rc != 0:
        module.fail_json(msg="postqueue -j failed (rc=%d): %s" % (rc, err.strip()))
    corrupt = {}
    for path in ql.corrupt_files(queue_directory):
        corrupt[os.path.basename(path)] = path
    counts["corrupt"] = len(corrupt)
    if selection.takes_corrupt():
        for qid in corrupt:
            if selection.ids is None or qid in selection.ids:
                selected.add("corrupt", qid)
    missing = sorted((selection.ids or set()) - seen - set(corrupt))
    return counts, selected, corrupt, details, bad, err, missing


def backup(module, pf, queue_directory, selected, backup_dir):
    """Keep every selected queue file in backup_dir/<stamp>/ before anything is deleted (the
    message itself, restorable) and write the IDs kept to ids.txt, which then feeds postsuper.
    A hard link when the backup directory is on the queue's filesystem (the same bytes, kept
    when postsuper removes the queue's name; no data copied), else a copy. Readable renderings
    come later (render_copies). Each file is first looked for where Postfix's hash_queue_names /
    hash_queue_depth put it; the few not there (moved since the listing, another layout) are
    found by a merge join of sorted lists (ql.locate): memory does not follow the queue.
    Returns (dest, number kept, path of ids.txt)."""
    os.makedirs(backup_dir, mode=0o700, exist_ok=True)
    # one new directory per run (0700), even for two runs in the same second
    dest = tempfile.mkdtemp(prefix=time.strftime("%Y%m%dT%H%M%S-"), dir=backup_dir)
    id_list = os.path.join(dest, "ids.txt")
    hashed = set(re.split(r"[\s,]+", pf.param("hash_queue_names") or "")) - {""}
    try:
        depth = max(0, int(pf.param("hash_queue_depth") or 1))
    except ValueError:
        depth = 1
    state = dict(saved=0, link=True)

    def keep(path, copy):
        if state["link"]:
            try:
                os.link(path, copy)
                return
            except OSError as exc:
                if exc.errno == errno.ENOENT:
                    raise
                if exc.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP):
                    raise
                state["link"] = False  # another filesystem (or no links there): copy from now on
        shutil.copy2(path, copy)

    misses = ql.SelectionFile(keep=0)
    with open(id_list, "w", encoding="ascii") as ids:
        for queue_name, qid in selected:
            if queue_name == "corrupt":
                continue
            sub = list(qid[:depth]) if queue_name in hashed else []
            path = os.path.join(queue_directory, queue_name, *sub, qid)
            try:
                keep(path, os.path.join(dest, "%s.%s.queuefile" % (qid, queue_name)))
            except FileNotFoundError:
                misses.add(queue_name, qid)
                continue
            ids.write(qid + "\n")
            state["saved"] += 1
        if misses.count:
            for queue_name, qid, path in ql.locate(module, queue_directory, misses, dest):
                try:
                    keep(path, os.path.join(dest, "%s.%s.queuefile" % (qid, queue_name)))
                except FileNotFoundError:
                    continue  # delivered or moved since the listing: nothing to delete either
                ids.write(qid + "\n")
                state["saved"] += 1
    misses.close()
    return dest, state["saved"], id_list


def render_copies(pf, dest):
    """postcat renderings of the kept queue files, POSTCAT_BATCH files per call, into
    messages-NNNN.txt; rendered.done when finished. The mail is safe before this runs."""
    copies = sorted(f for f in os.listdir(dest) if f.endswith(".queuefile"))
    for n in range(0, len(copies), POSTCAT_BATCH):
        batch = [os.path.join(dest, f) for f in copies[n:n + POSTCAT_BATCH]]
        rc, out, _err = pf.run(["postcat", *batch], check=False)
        if rc == 0:
            with open(os.path.join(dest, "messages-%04d.txt" % (n // POSTCAT_BATCH)), "w", encoding="utf-8",
                      errors="replace") as fh:
                fh.write(out)
    with open(os.path.join(dest, "rendered.done"), "w", encoding="ascii") as fh:
        fh.write("%d files\n" % len(copies))


def render_in_background(pf, dest):
    """render_copies() in a detached process (its own session, no terminal, fds on /dev/null):
    the module returns as soon as the mail is deleted; the renderings follow. Returns its pid."""
    pid = os.fork()
    if pid:
        return pid
    try:
        os.setsid()
        if os.fork():  # the grandchild is adopted by init: no zombie under the module
            os._exit(0)
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        render_copies(pf, dest)
    finally:
        os._exit(0)


STARTED = time.monotonic()


POSTSUPER_PART_MIN = 2000  # IDs per extra postsuper process


def _cpus():
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def postsuper_stdin(pf, argv, queue_ids):
    """Run postsuper with the IDs on stdin from files, one postsuper per CPU when there are
    many IDs (disjoint parts: each message is renamed or unlinked by exactly one of them).
    Feeding a pipe (run_command's data=) deadlocks above ~64 KB of IDs, and its per-message
    output goes to a file, read afterwards: only the summary lines and a short tail are kept.
    `queue_ids` is a path (one ID per line) or an iterable of IDs."""
    keep, tail = collections.deque(maxlen=50), collections.deque(maxlen=5)  # bounded, like all else
    full = with_config([pf.bin(argv[0])] + list(argv[1:]), pf.config_dir)
    with tempfile.TemporaryDirectory(prefix="postsuper-") as work:
        # count the IDs, then deal them out (memory does not follow the selection); a list of
        # IDs given as a file is read where it is, not copied first
        if isinstance(queue_ids, str):
            allp = queue_ids
            with open(allp, "rb") as fh:
                count = sum(1 for _line in fh)
        else:
            allp, count = os.path.join(work, "ids"), 0
            with open(allp, "wb") as fh:
                for qid in queue_ids:
                    fh.write(qid.encode("ascii") + b"\n")
                    count += 1
        n = max(1, min(_cpus(), 4, count // POSTSUPER_PART_MIN))
        parts = [os.path.join(work, "ids-%d" % i) for i in range(n)]
        outs = [open(path, "wb") for path in parts]  # noqa: SIM115 - closed below
        try:
            with open(allp, "rb") as fh:
                for i, line in enumerate(fh):
                    outs[i % n].write(line)
        finally:
            for out in outs:
                out.close()
        rcs = run_together(full, [(path, os.path.join(work, "out-%d" % i)) for i, path in enumerate(parts)])
        for i in range(len(rcs)):
            with open(os.path.join(work, "out-%d" % i), "rb") as out:
                for raw in out:
                    line = raw.decode("utf-8", "replace").rstrip("\n")
                    if AFFECTED_RE.search(line) or "fatal" in line or "warning" in line:
                        keep.append(line)
                    tail.append(line)
    text = "\n".join(list(keep) + [t for t in tail if t not in keep])
    return max(rcs, key=abs) if rcs else 0, "", text


class Timer:
    """Seconds per step of the run, for the result's timings."""

    def __init__(self):
        self.reset()

    def reset(self):
        self.steps, self.t = {}, time.monotonic()

    def lap(self, step):
        now = time.monotonic()
        self.steps[step] = round(self.steps.get(step, 0) + now - self.t, 3)
        self.t = now


TIMER = Timer()


def done(module, result):
    result["timings"] = TIMER.steps
    result["peak_rss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result["elapsed"] = round(time.monotonic() - STARTED, 3)
    module.exit_json(**result)


def main():
    TIMER.reset()
    module = safe_io.module_class()(
        argument_spec=dict(
            action=dict(type="str", default="list", choices=["list", "flush", "requeue", "hold", "release", "delete"]),
            queue=dict(type="list", elements="str", choices=list(ql.QUEUES)),
            sender=dict(type="str"),
            recipient=dict(type="str"),
            min_age=dict(type="str"),
            max_age=dict(type="str"),
            min_size=dict(type="int"),
            max_size=dict(type="int"),
            reason=dict(type="str"),
            ids=dict(type="list", elements="str"),
            site=dict(type="str"),
            confirm=dict(type="bool", default=False),
            backup_dir=dict(type="path", default="/var/backups/postfix-remedy/queue"),
            render_copies=dict(type="str", default="background", choices=["background", "foreground", "no"]),
            qshape_queues=dict(type="list", elements="str"),
            qshape_by=dict(type="str", default="recipient", choices=["recipient", "sender"]),
            limit=dict(type="int", default=100),
            ids_limit=dict(type="int", default=1000),
            config_dir=dict(type="path"),
        ),
        supports_check_mode=True,
    )
    p = module.params
    action = p["action"]
    for name in ("limit", "ids_limit"):
        if p[name] < 0:
            module.fail_json(msg="%s must not be negative (got %d)" % (name, p[name]))
    if action == "delete" and not p["confirm"]:
        module.fail_json(msg="action=delete removes mail: set confirm=true to say you mean it (a copy is kept in backup_dir)")
    if p["site"] is not None and (action != "flush" or not SITE_RE.match(p["site"])):
        module.fail_json(msg="site is only for action=flush and must be a domain or [address]")
    try:
        selection = ql.Selection(queues=p["queue"], sender=p["sender"], recipient=p["recipient"],
                                 min_age=p["min_age"], max_age=p["max_age"], min_size=p["min_size"],
                                 max_size=p["max_size"], reason=p["reason"], ids=p["ids"])
        if p["qshape_queues"] is None:  # the table is the listing's; an action computes it when asked
            p["qshape_queues"] = ["deferred"] if action == "list" else []
        for q in p["qshape_queues"]:
            if q not in ql.QUEUES:
                raise ql.SelectionError("unknown queue %r in qshape_queues" % q)
    except ql.SelectionError as exc:
        module.fail_json(msg=str(exc))

    pf = Postfix(module, p["config_dir"])
    queue_directory = pf.param("queue_directory")
    qshape = ql.QShape(p["qshape_queues"], by=p["qshape_by"])
    TIMER.lap("start")
    try:
        counts, selected, corrupt_paths, details, bad, err, missing = scan(
            module, pf, selection, qshape if p["qshape_queues"] else None, p["limit"], p["ids_limit"], queue_directory)
    except bounded_match.PatternTimeout as exc:
        module.fail_json(msg="%s; nothing was changed" % exc)
    TIMER.lap("listing")
    total = sum(counts.values())
    result = dict(changed=False, counts=counts, total_before=total, counts_after=counts, total_after=total,
                  selected_count=selected.count, selected_ids=selected.first,
                  selected_ids_truncated=selected.count > len(selected.first), messages=details,
                  qshape=qshape.table(), unparsed_lines=bad, postqueue_warnings=[ln for ln in err.splitlines() if ln.strip()],
                  missing_ids=missing)
    if missing:  # delivered or deleted since the caller looked, or mistyped: nothing was done to them
        module.warn("%d queue ID(s) given in ids are not in the queue: %s%s" % (
            len(missing), ", ".join(missing[:20]), " ..." if len(missing) > 20 else ""))
    if action == "list":
        done(module, result)

    if action == "flush":
        if "Mail system is down" in err:
            module.fail_json(msg="cannot flush: the Postfix mail system is not running (start it first)", **result)
        # -f and -s act on mail outside the hold queue: with none, a flush has nothing to do,
        # so it is not run and is no change
        flushable = sum(counts.get(q, 0) for q in ("maildrop", "incoming", "active", "deferred"))
        if p["site"]:
            argvs = [["postqueue", "-s", p["site"]]] if flushable else []
        elif selection.empty:
            argvs = [["postqueue", "-f"]] if flushable else []
        else:
            # postqueue has no batch form of -i: one call per selected deferred message.
            argvs = (["postqueue", "-i", qid] for q, qid in selected if q == "deferred")
        n_calls = len(argvs) if isinstance(argvs, list) else selected.by_queue.get("deferred", 0)
        first = (argvs or [None])[0] if isinstance(argvs, list) else next(
            (["postqueue", "-i", qid] for q, qid in selected if q == "deferred"), None)
        result["changed"] = n_calls > 0
        result["command"] = with_config([pf.bin(first[0])] + first[1:], pf.config_dir) if first else []
        result["flush_calls"] = n_calls
        if not module.check_mode:
            done_calls = 0
            for argv in argvs:
                rc, out, e = pf.run(argv, check=False)
                if rc != 0:
                    result["changed"] = done_calls > 0
                    module.fail_json(msg="%s failed: %s" % (" ".join(argv), (e or out).strip()), **result)
                done_calls += 1
            TIMER.lap("action")
        done(module, result)

    maillog = pf.param("maillog_file")
    if "Mail system is down" in err and selected.count and maillog and not maillog.startswith("/dev/"):
        # Seen on Postfix 3.7: postsuper logs through postlogd when maillog_file is set; with the
        # master down it opens the file itself as the postfix user, dies after the first ID and
        # leaves the action half done. Refuse before touching anything.
        module.fail_json(msg="the Postfix mail system is not running and maillog_file = %s: postsuper cannot log "
                             "without postlogd; start Postfix first" % maillog, **result)

    n_corrupt = selected.by_queue.get("corrupt", 0)
    n_queued = selected.count - n_corrupt
    if action != "delete" and n_corrupt:
        module.fail_json(msg="corrupt queue files can only be quarantined with action=delete", **result)
    if not selected.count:
        done(module, result)
    result["changed"] = True
    flag = POSTSUPER_FLAG[action]
    argv = ["postsuper", flag, "-"]
    result["command"] = with_config([pf.bin("postsuper"), flag, "-"], pf.config_dir)
    if module.check_mode:
        done(module, result)

    feed = selected.ids()
    if action == "delete":
        try:
            dest, saved, feed = backup(module, pf, queue_directory, selected, p["backup_dir"])
        except OSError as exc:  # disk full, read-only backup_dir...: nothing has been deleted yet
            result["changed"] = False
            module.fail_json(msg="backup before delete failed, nothing was deleted: %s" % safe_io.oserror_text(exc), **result)
        TIMER.lap("backup")
        result["backup_dir"] = dest
        result["backed_up"] = saved
        n_queued = saved  # what left the queue since the listing is neither copied nor deleted
        for q, qid in selected:
            if q == "corrupt" and os.path.exists(corrupt_paths.get(qid, "")):
                shutil.move(corrupt_paths[qid], os.path.join(dest, qid + ".corrupt"))
        result["quarantined"] = n_corrupt
    affected = 0
    if n_queued:
        rc, out, e = postsuper_stdin(pf, argv, feed)
        if rc != 0:
            module.fail_json(msg="postsuper %s failed: %s" % (flag, (e or out).strip()), **result)
        affected = sum(int(n) for n in AFFECTED_RE.findall(e + out))
        TIMER.lap("action")
    selected.close()
    result["affected"] = affected + n_corrupt
    if action == "delete" and result.get("backed_up"):
        if p["render_copies"] == "background":
            _child = render_in_background(pf, result["backup_dir"])
            os.waitpid(_child, 0)  # the intermediate child exits at once; the renderer is on its own
            result["rendering"] = "background"
        elif p["render_copies"] == "foreground":
            render_copies(pf, result["backup_dir"])
            result["rendering"] = "done"
        else:
            result["rendering"] = "none"
        TIMER.lap("render")  # ~0 unless render_copies=foreground (the background renderer is not waited for)

    after = ql.count_files(queue_directory)
    result["counts_after"] = after
    result["total_after"] = sum(after.values())
    TIMER.lap("recount")
    done(module, result)


if __name__ == "__main__":
    main()
