#!/bin/sh
# Runs each fuzz target named on the command line for $FUZZ_S seconds, one after
# another, and prints one line per target: its time, executions, corpus and coverage,
# or the failure with the input libFuzzer saved. Exits non-zero when any target found
# something (a crash, a failed invariant, a sanitizer report, a leak, a timeout or
# running out of memory). New corpus inputs go to $FUZZ_BUILD/corpus/<target>/; the
# committed seeds in tests/fuzz/corpus/<target>/ are only read.
: "${FUZZ_S:=60}" "${FUZZ_BUILD:=build-fuzz}" "${FUZZ_TIMEOUT_S:=20}" "${FUZZ_RSS_MB:=2048}"
failed=
for t in "$@"; do
  corpus=$FUZZ_BUILD/corpus/$t
  artifacts=$FUZZ_BUILD/artifacts/$t
  log=$FUZZ_BUILD/logs/$t.log
  mkdir -p "$corpus" "$artifacts" "$FUZZ_BUILD/logs"
  dict=; [ -f "tests/fuzz/$t.dict" ] && dict="-dict=tests/fuzz/$t.dict"
  seeds=; [ -d "tests/fuzz/corpus/$t" ] && seeds="tests/fuzz/corpus/$t"
  # shellcheck disable=SC2086 # $dict and $seeds are one word or none.
  "$FUZZ_BUILD/$t" -max_total_time="$FUZZ_S" -timeout="$FUZZ_TIMEOUT_S" -rss_limit_mb="$FUZZ_RSS_MB" \
    $dict -artifact_prefix="$artifacts/" -print_final_stats=1 "$corpus" $seeds >"$log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
  status=$(grep -E '^#[0-9]+[[:space:]]+(DONE|INITED|pulse|NEW|REDUCE)' "$log" | tail -n 1)
  corp=$(echo "$status" | sed -n 's/.* corp: \([0-9]*\)\/\([^ ]*\).*/\1 inputs (\2)/p')
  cov=$(echo "$status" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
  if [ "$rc" = 0 ]; then
    echo "fuzz: $t: no finding in ${FUZZ_S} s: ${execs:-?} execs (${rate:-?}/s), corpus ${corp:-?}, coverage ${cov:-?} edges"
    continue
  fi
  artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
  echo "fuzz: $t: FAILED (exit $rc), after ${execs:-?} execs; the report:"
  # What failed and where in the project's code (libFuzzer's own frames left out).
  { grep -A 3 'fuzz invariant failed' "$log" | head -n 4
    grep -E 'ERROR: |runtime error|SUMMARY|^ +#[0-9]+ .* (node|net|sim|tests)/' "$log" | head -n 12; } | sed 's/^/  /'
  echo "fuzz: $t: input saved as ${artifact:-(none; see $log)}"
  echo "fuzz: $t: reproduce with $FUZZ_BUILD/$t ${artifact:-INPUT}; the whole log is $log"
  failed="$failed $t"
done
if [ -n "$failed" ]; then
  echo "fuzz: FAILED:$failed"
  exit 1
fi
