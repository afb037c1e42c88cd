# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One diagnosis log scan in its own process (so its peak memory is its own), as the
postfix_diagnose module runs it: load the state file, scan, save the state. Prints JSON."""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import ansible.module_utils

ROOT = Path(__file__).resolve().parents[2]
ansible.module_utils.__path__.append(str(ROOT / "module_utils"))
from ansible.module_utils import journal_scan, log_scan  # noqa: E402


def main(log, state_file, window_days):
    t0 = time.perf_counter()
    state = log_scan.load_state(state_file) if state_file else None
    since = time.time() - window_days * 86400
    new_state, agg, infos = log_scan.scan([log], state, since=since, masked=True)
    if state_file:
        log_scan.save_state(state_file, new_state)
    print(json.dumps(dict(seconds=time.perf_counter() - t0, lines=agg["lines"], faultish=agg["faultish"],
                          ids=len(agg["ids"]) if "ids" in agg else None, hits=sum(v["count"] for v in agg.get("ids", {}).values()),
                          modes=[i.get("mode") for i in infos], read=sum(i.get("read_bytes", 0) for i in infos))))


def main_journal(directory, state_file):
    """The same for a journal directory (journal_scan, incremental by cursor)."""
    t0 = time.perf_counter()
    state = log_scan.load_state(state_file) if state_file else {}
    journal = journal_scan.Journal(journal_scan.journalctl(), directory)
    jstate, agg, info = journal_scan.scan(journal, state.get("journal"), since=0, masked=True)
    if state_file:
        log_scan.save_state(state_file, dict(state or log_scan.load_state("/nonexistent"), journal=jstate))
    print(json.dumps(dict(seconds=time.perf_counter() - t0, lines=agg["lines"], faultish=agg["faultish"],
                          ids=len(agg["ids"]), hits=sum(v["count"] for v in agg["ids"].values()),
                          modes=[info["mode"]], read=info["lines_read"])))


if __name__ == "__main__" and sys.argv[1] == "--journal":
    main_journal(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None)
elif __name__ == "__main__":
    main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 and sys.argv[2] != "-" else None,
         float(sys.argv[3]) if len(sys.argv) > 3 else 7)
