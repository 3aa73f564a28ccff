#!/bin/sh
# Runs the doctest binary and ends with the plain line "N passed, N failed".
# Exits non-zero on any failure, including a crash that prints no summary.
# Without arguments the suites that start herds run a second time with a herd
# secret (HERD_SECRET_FILE, which every herd they start reads), so peers
# authenticate and seal every message: the herd must behave the same.
bin=$1; shift
passed=0
failed=0
ok=1

# One run of the binary with the given arguments; adds to the counts.
run_pass() {
  out=$(mktemp)
  "$bin" --no-version "$@" 2>&1 | tee "$out"
  success=$(tail -n 1 "$out" | grep -c 'Status: SUCCESS')
  summary=$(grep -E '^\[doctest\] test cases:' "$out" | tail -n 1)
  rm -f "$out"
  if [ -z "$summary" ]; then
    failed=$((failed + 1))
    ok=0
    return
  fi
  p=$(echo "$summary" | sed -E 's/.*\|[[:space:]]*([0-9]+) passed.*/\1/')
  f=$(echo "$summary" | sed -E 's/.*\|[[:space:]]*([0-9]+) failed.*/\1/')
  passed=$((passed + p))
  failed=$((failed + f))
  [ "$f" = 0 ] && [ "$success" = 1 ] || ok=0
}

run_pass "$@"
if [ $# -eq 0 ]; then
  secret=$(mktemp)
  echo "the suite's herd secret, for its second pass" > "$secret"
  chmod 644 "$secret"  # Some tests run herd as another user.
  echo "== again with a herd secret (HERD_SECRET_FILE): the suites that start herds"
  export HERD_SECRET_FILE="$secret"
  run_pass -tc='e2e run*,e2e nodes*,e2e sync*,e2e faults*,e2e net*,e2e hosts*,e2e peer*,e2e record*,e2e replay*,e2e console*,e2e limits*'
  unset HERD_SECRET_FILE
  rm -f "$secret"
fi
echo "$passed passed, $failed failed"
[ "$failed" = 0 ] && [ "$ok" = 1 ]
