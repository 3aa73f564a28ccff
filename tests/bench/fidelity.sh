#!/bin/bash
# `make bench-fidelity`: how well the simulator predicts the live herd. Each scenario
# runs twice with the same seed: `herd sim` (virtual time) and `herd run --scenario`
# (the live herd on loopback, in real time: about a minute in all); `herd compare
# --fidelity` prints the two reports side by side and checks the simulator's promise
# (reached all within 5 points, latency p50 within 10% + 2 ms). A table of every
# scenario ends the output; the exit status is 1 when any is outside the bounds.
# Knobs (environment): FIDELITY_SCENARIOS (names under sim/scenarios/, default
# "clean_flood lossy ring5_crash net_faults"), FIDELITY_SEED (1), FIDELITY_KEEP=1
# (keep the work directory: both reports and the live logs of each scenario).
set -u

ROOT=$(pwd)
HERD_BIN=${HERD_BIN:-$ROOT/build/herd}
SCENARIOS=${FIDELITY_SCENARIOS:-clean_flood lossy ring5_crash net_faults}
SEED=${FIDELITY_SEED:-1}
WORK=$(mktemp -d /tmp/herd-fidelity.XXXXXX)
cleanup() { [ "${FIDELITY_KEEP:-0}" = 1 ] && echo "fidelity: kept $WORK" || rm -rf "$WORK"; }
trap cleanup EXIT

row() {  # row FILE LABEL: the A and B columns of a compare row.
  grep -E "^  $2 " "$1" | sed -E "s|^  $2 +||" | awk '{print $1, $2}'
}

summary=""
outside=0
for name in $SCENARIOS; do
  file=$ROOT/sim/scenarios/$name.json
  if [ ! -f "$file" ]; then
    echo "fidelity: $file: no such scenario" >&2
    exit 2
  fi
  echo "== $name"
  if ! "$HERD_BIN" sim "$file" --seed "$SEED" --json --quiet > "$WORK/$name.sim.json"; then
    echo "fidelity: $name: herd sim failed (its checks or its run; see above)"
  fi
  if ! "$HERD_BIN" run --scenario "$file" --seed "$SEED" --json --log-dir "$WORK/$name.logs" \
      > "$WORK/$name.live.json" 2> "$WORK/$name.live.err"; then
    echo "fidelity: $name: herd run --scenario failed (its checks or its run):"
    grep -v '^herd run: timeline' "$WORK/$name.live.err" | tail -n 5
  fi
  "$HERD_BIN" compare --fidelity "$WORK/$name.sim.json" "$WORK/$name.live.json" | tee "$WORK/$name.compare"
  status=${PIPESTATUS[0]}
  [ "$status" = 0 ] && verdict=within || { verdict=OUTSIDE; outside=$((outside + 1)); }
  [ "$status" = 2 ] && verdict=error
  read -r ra rb <<< "$(row "$WORK/$name.compare" 'reached all %')"
  read -r pa pb <<< "$(row "$WORK/$name.compare" 'latency p50 ms')"
  read -r ma mb <<< "$(row "$WORK/$name.compare" 'msgs/update')"
  read -r xa xb <<< "$(row "$WORK/$name.compare" 'latency max ms')"
  read -r za zb <<< "$(row "$WORK/$name.compare" 'residue')"
  summary+=$(printf '  %-12s %6s %6s  %8s %8s  %9s %9s  %6s %6s  %8s %8s  %s' \
    "$name" "$ra" "$rb" "$pa" "$pb" "$xa" "$xb" "$ma" "$mb" "$za" "$zb" "$verdict")$'\n'
  echo
done

echo "fidelity: simulated (sim) against live on loopback (live), seed $SEED"
printf '  %-12s %13s  %17s  %19s  %13s  %17s\n' "" "reached all %" "latency p50 ms" "latency max ms" "msgs/update" "residue"
printf '  %-12s %6s %6s  %8s %8s  %9s %9s  %6s %6s  %8s %8s  %s\n' scenario sim live sim live sim live sim live sim live bounds
printf '%s' "$summary"
count=$(echo $SCENARIOS | wc -w)
echo "fidelity: $((count - outside)) of $count scenarios within the bounds (reached all within 5 points, p50 within 10% + 2 ms)"
[ "$outside" = 0 ]
