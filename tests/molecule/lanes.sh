#!/bin/bash
# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# Run Molecule scenarios in two lanes at once (make test on 2 cores: the scenarios wait on Postfix
# timers and containers much of the time). Each argument is one lane: "scenario:suite ...", run in
# order. A scenario name appears in one lane only (Molecule keeps one state directory per
# scenario, and the container names are the scenario's). Every scenario's output goes to
# .cache/molecule-logs/SUITE-SCENARIO.log; a failing one is printed whole. Times are appended to
# .cache/test-times.log ("scenario suite seconds").
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
LOGS=$ROOT/.cache/molecule-logs
TIMES=$ROOT/.cache/test-times.log
mkdir -p "$LOGS"

lane() {
  local failed=0
  for item in $1; do
    s=${item%%:*}; suite=${item#*:}; log=$LOGS/$suite-$s.log; start=$(date +%s)
    echo "=== molecule scenario $s ($suite) started"
    if (cd "$ROOT/tests" && LAB_SUITE=$suite molecule -c "$ROOT/tests/molecule/base.yml" test -s "$s") >"$log" 2>&1; then
      took=$(( $(date +%s) - start )); echo "$s $suite $took" >>"$TIMES"
      echo "=== molecule scenario $s ($suite) passed in $took s"
    else
      took=$(( $(date +%s) - start ))
      echo "=== molecule scenario $s ($suite) FAILED after $took s; its output:"; cat "$log"
      failed=1  # the lane goes on: one CI run reports every failing scenario
    fi
  done
  return $failed
}

pids=()
for spec in "$@"; do
  lane "$spec" & pids+=($!)
done
rc=0
for p in "${pids[@]}"; do wait "$p" || rc=1; done
exit $rc
