#!/bin/sh
# Runs the doctest binary and ends with the plain line "N passed, N failed".
# Exits non-zero on any failure, including a crash that prints no summary.
bin=$1; shift
out=$(mktemp)
"$bin" --no-version "$@" 2>&1 | tee "$out"
rc=$(tail -n 1 "$out" | grep -c 'Status: SUCCESS')
summary=$(grep -E '^\[doctest\] test cases:' "$out" | tail -n 1)
rm -f "$out"
if [ -z "$summary" ]; then
  echo "0 passed, 1 failed"
  exit 1
fi
passed=$(echo "$summary" | sed -E 's/.*\|[[:space:]]*([0-9]+) passed.*/\1/')
failed=$(echo "$summary" | sed -E 's/.*\|[[:space:]]*([0-9]+) failed.*/\1/')
echo "$passed passed, $failed failed"
[ "$failed" = 0 ] && [ "$rc" = 1 ]
