#!/bin/bash
# `make bench`: on this machine, one after the other, the floor server, the herd (one
# process, five servers, flooding and logging on), and the asyncio herd
# (tests/bench/asyncio_herd.py, five processes) in its plain and its tuned
# (HERD_PERSISTENT=1) variant; each is driven by `herd bench` and the figures and
# their ratios are printed at the end (tests/bench/bench_summary.cc).
# Everything listens on 127.0.0.1; every process started here is stopped on exit.
# Only the asyncio herd needs Python (BENCH_PYTHON, default /usr/bin/python3): without
# it the bench says so and prints every other figure.
#
# Throughput is measured twice: deep (BENCH_PIPELINE requests in flight per
# connection, where the floor amortizes each syscall over many lines) and shallow (one
# in flight per connection: one request, one reply, one wake-up).
# Knobs (environment): BENCH_DURATION_S (5), BENCH_CONNECTIONS (4), BENCH_PIPELINE
# (16), BENCH_CLIENTS (1000), BENCH_HOLD (10000), BENCH_MEMORY_IAMATS (1000000),
# BENCH_MEMORY_CAP_S (40), BENCH_PROFILE=1 (perf record the herd's peak run),
# BENCH_ALLOC_IAMATS (100000: the allocation count's IAMATs), BENCH_KEEP=1 (keep the work
# directory: logs, JSON, perf data), BENCH_PYTHON (the
# interpreter for the asyncio herd).
set -u

ROOT=$(pwd)
HERD_BIN=${HERD_BIN:-$ROOT/build/herd}
BENCH_DIR=${BENCH_DIR:-$ROOT/build/bench}
PY=${BENCH_PYTHON:-/usr/bin/python3}
DUR=${BENCH_DURATION_S:-5}
CONNS=${BENCH_CONNECTIONS:-4}
PIPE=${BENCH_PIPELINE:-16}
CLIENTS=${BENCH_CLIENTS:-1000}
HOLD=${BENCH_HOLD:-10000}
MEM_IAMATS=${BENCH_MEMORY_IAMATS:-1000000}
MEM_CAP_S=${BENCH_MEMORY_CAP_S:-40}
TOPOLOGY=$ROOT/topologies/cs131-spring21.json
ASYNCIO=$ROOT/tests/bench/asyncio_herd.py

WORK=$(mktemp -d /tmp/herd-bench.XXXXXX)
PIDS=""

stop_pids() {  # stop_pids PID...: TERM, up to 3 s, then KILL; reaps them.
  [ $# -eq 0 ] && return
  kill "$@" 2>/dev/null
  for _ in $(seq 30); do
    alive=0
    for p in "$@"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ $alive = 0 ] && break
    sleep 0.1
  done
  kill -9 "$@" 2>/dev/null
  wait "$@" 2>/dev/null
  for p in "$@"; do PIDS=$(echo " $PIDS " | sed "s/ $p / /"); done
}
cleanup() {
  # shellcheck disable=SC2086
  stop_pids $PIDS
  if [ "${BENCH_KEEP:-0}" = 1 ]; then echo "bench: work directory kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { echo "bench: $*"; }
die() { say "$*"; exit 1; }

wait_for_line() {  # wait_for_line FILE REGEX PID: up to 15 s.
  for _ in $(seq 150); do
    grep -qE "$2" "$1" 2>/dev/null && return 0
    kill -0 "$3" 2>/dev/null || break
    sleep 0.1
  done
  cat "$1"; return 1
}

cpu_ticks() {  # cpu_ticks PID...: their user + system CPU time so far, in clock ticks.
  local t=0 p
  for p in "$@"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0))); done
  echo "$t"
}
# wait_idle PID...: until they use under 5% of a core over half a second, at most 30 s.
# Why: the plain asyncio herd can still be flooding the previous run's records for
# seconds after its load stops, and the next run must not measure that backlog.
wait_idle() {
  local before after hz
  hz=$(getconf CLK_TCK)
  for _ in $(seq 60); do
    before=$(cpu_ticks "$@"); sleep 0.5; after=$(cpu_ticks "$@")
    [ $(((after - before) * 100 * 2)) -lt $((5 * hz)) ] && return 0
  done
  say "the servers were still busy after 30 s; going on"
}

SERVER_PIDS=""  # The servers under test, comma-separated: their CPU time is reported.
# bench NAME ARGS...: runs the load generator, JSON to $WORK/NAME.json, and prints its
# line. A failed --verify is a figure (the summary reports it), not a failed bench;
# anything else that fails returns 1.
bench() {
  local name=$1; shift
  # shellcheck disable=SC2086
  if ! timeout 240 $BENCH "$@" --cpu-pids "$SERVER_PIDS" --json >"$WORK/$name.json" 2>"$WORK/$name.err"; then
    if grep -q '^herd: bench: verify' "$WORK/$name.err" && ! grep -qv '^herd: bench: verify' "$WORK/$name.err"; then
      say "$name: not every record was current:"; sed 's/^/  /' "$WORK/$name.err"
    else
      cat "$WORK/$name.err"; say "$name: the load generator failed"; rm -f "$WORK/$name.json"
      return 1
    fi
  fi
  "$SUMMARY" line "$name" "$WORK/$name.json"
}

# Private copies: a rebuild while the bench runs must not pull a binary from under it.
mkdir -p "$WORK/bin"
cp "$HERD_BIN" "$WORK/bin/herd" || die "no $HERD_BIN"
for b in floor_server places_standin record_memory bench_setup bench_summary herd_counting; do
  cp "$BENCH_DIR/$b" "$WORK/bin/$b" || die "no $BENCH_DIR/$b"
done
HERD_BIN=$WORK/bin/herd; BENCH_DIR=$WORK/bin
# The load generator, and the summary of its JSON.
BENCH="$HERD_BIN bench"
SUMMARY=$BENCH_DIR/bench_summary

ulimit -n "$(ulimit -Hn)" 2>/dev/null
# The asyncio herd needs Python; its WHATSAT needs aiohttp too, and the bench's
# WHATSATs read only the AT line, so without aiohttp it still runs.
ASYNCIO_SKIPPED=""
if [ ! -x "$PY" ]; then
  ASYNCIO_SKIPPED="no $PY: the asyncio herd is a Python program; install Debian's python3"
  say "asyncio herd skipped: $ASYNCIO_SKIPPED"
elif ! "$PY" -c 'import aiohttp' 2>/dev/null; then
  say "python3-aiohttp is missing (the asyncio herd's WHATSAT uses it for Places); installing it with apt-get"
  SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
  if $SUDO apt-get install -y -q python3-aiohttp >/dev/null 2>&1 ||
     { $SUDO apt-get update -q >/dev/null 2>&1 && $SUDO apt-get install -y -q python3-aiohttp >/dev/null 2>&1; }; then
    say "python3-aiohttp installed"
  else
    say "apt-get could not install python3-aiohttp: the asyncio herd runs without it (its WHATSAT replies carry an UNKNOWN_ERROR body; the bench reads only their AT line)"
  fi
fi

# 40 free consecutive ports below the ephemeral range (the clients' ports come from it).
BASE=$("$BENCH_DIR/bench_setup" ports 40) || die "no free port range"
FLOOR_PORT=$((BASE + 10)); PLACES_PORT=$((BASE + 11))
PLACES_URL=http://127.0.0.1:$PLACES_PORT/maps/api/place/nearbysearch/json
export GOOGLE_API_KEY=bench-no-key  # Only ever sent to the stand-in.
# Target: the first server; far: the one most hops from it (ties: the last in file order).
SERVERS=$("$BENCH_DIR/bench_setup" servers "$TOPOLOGY") || die "cannot read $TOPOLOGY"
read -r -a NAMES <<<"$(echo "$SERVERS" | head -n 1)"
FAR_INDEX=$(echo "$SERVERS" | tail -n 1)
ports_list() { local s=""; for i in 0 1 2 3 4; do s="$s,127.0.0.1:$(($1 + i))"; done; echo "${s#,}"; }

say "work directory $WORK; ports $BASE..$((BASE + 39)); load generator: $BENCH"
say "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); the load generator and the servers share these cores"
LOAD=(--connections "$CONNS" --pipeline "$PIPE" --clients "$CLIENTS" --duration-s "$DUR")

"$BENCH_DIR/places_standin" --port "$PLACES_PORT" >"$WORK/places.out" 2>&1 & PIDS="$PIDS $!"
wait_for_line "$WORK/places.out" "listening" $! || die "the Places stand-in did not start"

# --- floor -------------------------------------------------------------------
"$BENCH_DIR/floor_server" --port "$FLOOR_PORT" >"$WORK/floor.out" 2>&1 & FLOOR_PID=$!; PIDS="$PIDS $FLOOR_PID"
wait_for_line "$WORK/floor.out" "listening" $FLOOR_PID || die "the floor server did not start"
SERVER_PIDS=$FLOOR_PID
bench floor_peak --target "127.0.0.1:$FLOOR_PORT" "${LOAD[@]}" || exit 1
bench floor_shallow --target "127.0.0.1:$FLOOR_PORT" "${LOAD[@]}" --pipeline 1 || exit 1
stop_pids $FLOOR_PID

# --- herd --------------------------------------------------------------------
HB=$BASE
"$HERD_BIN" run --topology "$TOPOLOGY" --log-dir "$WORK/herd-logs" --port-base $HB --host 127.0.0.1 \
  --places-url "$PLACES_URL" >"$WORK/herd.out" 2>&1 & HERD_PID=$!; PIDS="$PIDS $HERD_PID"
wait_for_line "$WORK/herd.out" "^herd: ready" $HERD_PID || die "the herd did not start"
SERVER_PIDS=$HERD_PID
TARGET=127.0.0.1:$HB; FAR=127.0.0.1:$((HB + FAR_INDEX))
say "herd: target ${NAMES[0]} $TARGET, farthest ${NAMES[$FAR_INDEX]} $FAR"
if [ "${BENCH_PROFILE:-0}" = 1 ] && command -v perf >/dev/null; then
  perf record -F 999 -g -p $HERD_PID -o "$WORK/perf.data" -- sleep "$DUR" >/dev/null 2>&1 & PERF_PID=$!
fi
bench herd_peak --target "$TARGET" "${LOAD[@]}" --verify "$(ports_list $HB)" || exit 1
[ -n "${PERF_PID:-}" ] && wait "$PERF_PID"
bench herd_shallow --target "$TARGET" "${LOAD[@]}" --pipeline 1 || exit 1
PEAK=$("$SUMMARY" field "$WORK/herd_peak.json" replies_per_s); HALF=$((PEAK / 2)); [ "$HALF" -ge 1 ] || HALF=1
bench herd_half --target "$TARGET" "${LOAD[@]}" --rate "$HALF" || exit 1
bench herd_visibility --target "$TARGET" --connections 0 --visibility "$FAR" --visibility-samples 200 || exit 1
bench herd_hold --target "$TARGET" --connections 1 --pipeline 1 --duration-s 2 --hold "$HOLD" || exit 1
RSS0=$(awk '/^VmRSS/ {print $2}' /proc/$HERD_PID/status)
bench herd_memory --target "$TARGET" --connections "$CONNS" --pipeline "$PIPE" --clients "$MEM_IAMATS" \
  --count "$MEM_IAMATS" --warmup-s 0 --duration-s "$MEM_CAP_S" --verify "$FAR" --verify-max 1000 || exit 1
RSS1=$(awk '/^VmRSS/ {print $2}' /proc/$HERD_PID/status)
echo "{\"rss0_kb\": $RSS0, \"rss1_kb\": $RSS1}" >"$WORK/herd_rss.json"
stop_pids $HERD_PID

# --- the herd at the other log levels (net/log_writer.h), the same loads ------------
for level in events off; do
  "$HERD_BIN" run --topology "$TOPOLOGY" --log "$level" --log-dir "$WORK/herd-logs-$level" --port-base $HB \
    --host 127.0.0.1 --places-url "$PLACES_URL" >"$WORK/herd_$level.out" 2>&1 & HERD_PID=$!; PIDS="$PIDS $HERD_PID"
  wait_for_line "$WORK/herd_$level.out" "^herd: ready" $HERD_PID || die "the herd (--log $level) did not start"
  SERVER_PIDS=$HERD_PID
  bench "herd_${level}_peak" --target "$TARGET" "${LOAD[@]}" --verify "$(ports_list $HB)" || exit 1
  bench "herd_${level}_shallow" --target "$TARGET" "${LOAD[@]}" --pipeline 1 || exit 1
  stop_pids $HERD_PID
done

# --- heap allocations per IAMAT (build/bench/herd_counting: tests/bench/counting/) ---
# One counting process per server (`herd node`), so each server's allocations are its
# own. After a warm-up that gives every server every client's record, SIGUSR2 makes
# each print its totals, before and after ALLOC_IAMATS pipelined IAMATs at the target;
# each difference over the replies is that server's allocations per IAMAT.
ALLOC_IAMATS=${BENCH_ALLOC_IAMATS:-100000}
alloc_counts() {  # alloc_counts FILE N: the Nth "herd_counting:" line's two counts.
  for _ in $(seq 50); do
    [ "$(grep -c '^herd_counting: ' "$1")" -ge "$2" ] && break
    sleep 0.1
  done
  grep '^herd_counting: ' "$1" | sed -n "$2p" | awk '{print $3, $5}'
}
for level in all events; do
  pids=""
  for n in "${NAMES[@]}"; do
    "$BENCH_DIR/herd_counting" node "$n" --topology "$TOPOLOGY" --log "$level" --log-dir "$WORK/herd-logs-counting-$level" \
      --port-base $HB --host 127.0.0.1 --places-url "$PLACES_URL" >"$WORK/counting_${level}_$n.out" 2>&1 & pids="$pids $!"
  done
  PIDS="$PIDS $pids"; SERVER_PIDS=$(echo $pids | tr ' ' ',')
  i=0
  for p in $pids; do
    wait_for_line "$WORK/counting_${level}_${NAMES[$i]}.out" "^herd: ready" "$p" || die "the counting herd did not start"
    i=$((i + 1))
  done
  bench "alloc_${level}_warmup" --target "$TARGET" "${LOAD[@]}" --count "$((CLIENTS * 20))" --warmup-s 0 >/dev/null || exit 1
  # shellcheck disable=SC2086
  kill -USR2 $pids
  bench "alloc_${level}" --target "$TARGET" "${LOAD[@]}" --count "$ALLOC_IAMATS" --warmup-s 0 --duration-s 60 || exit 1
  # shellcheck disable=SC2086
  kill -USR2 $pids
  json="{\"replies\": $("$SUMMARY" field "$WORK/alloc_$level.json" replies), \"servers\": ["
  sep=""
  for n in "${NAMES[@]}"; do
    read -r A0 N0 <<<"$(alloc_counts "$WORK/counting_${level}_$n.out" 1)"
    read -r A1 N1 <<<"$(alloc_counts "$WORK/counting_${level}_$n.out" 2)"
    json="$json$sep{\"server\": \"$n\", \"allocations\": $((A1 - A0)), \"news\": $((N1 - N0))}"; sep=", "
  done
  echo "$json]}" >"$WORK/alloc_${level}_count.json"
  # shellcheck disable=SC2086
  stop_pids $pids
done

# --- the floor again, at the herd's half-peak rate (same latency question) -------
"$BENCH_DIR/floor_server" --port "$FLOOR_PORT" >"$WORK/floor2.out" 2>&1 & FLOOR_PID=$!; PIDS="$PIDS $FLOOR_PID"
wait_for_line "$WORK/floor2.out" "listening" $FLOOR_PID || die "the floor server did not start"
SERVER_PIDS=$FLOOR_PID
bench floor_half --target "127.0.0.1:$FLOOR_PORT" "${LOAD[@]}" --rate "$HALF" || exit 1
stop_pids $FLOOR_PID

# --- asyncio herd, plain and persistent -------------------------------------------
run_asyncio() {  # run_asyncio NAME PORT_BASE PERSISTENT; on failure 1, and why in ASYNCIO_SKIPPED
  local name=$1 pb=$2 dir=$WORK/$1 pids="" i=0 failed=0
  mkdir -p "$dir"
  for n in "${NAMES[@]}"; do
    HERD_TOPOLOGY=$TOPOLOGY HERD_PORT_BASE=$pb HERD_LOG_DIR=$dir HERD_PLACES_URL=$PLACES_URL \
      HERD_PERSISTENT=$3 "$PY" "$ASYNCIO" "$n" >"$dir/$n.out" 2>&1 </dev/null & pids="$pids $!"
  done
  PIDS="$PIDS $pids"
  SERVER_PIDS=$(echo $pids | tr ' ' ',')
  for p in $pids; do
    if ! wait_for_line "$dir/${NAMES[$i]}.out" "listening on" "$p"; then
      ASYNCIO_SKIPPED="$name: ${NAMES[$i]} did not start (see above)"
      # shellcheck disable=SC2086
      stop_pids $pids; return 1
    fi
    i=$((i + 1))
  done
  # shellcheck disable=SC2086
  if ! { bench "${name}_visibility" --target "127.0.0.1:$pb" --connections 0 \
           --visibility "127.0.0.1:$((pb + FAR_INDEX))" --visibility-samples 50 &&
         bench "${name}_peak" --target "127.0.0.1:$pb" "${LOAD[@]}" --verify "$(ports_list "$pb")" \
           --verify-max 100 --verify-timeout-s 3 && wait_idle $pids &&
         bench "${name}_shallow" --target "127.0.0.1:$pb" "${LOAD[@]}" --pipeline 1; }; then
    failed=1; ASYNCIO_SKIPPED="$name: the load generator failed (see above)"
  fi
  # shellcheck disable=SC2086
  stop_pids $pids
  return $failed
}
if [ -z "$ASYNCIO_SKIPPED" ]; then
  run_asyncio asyncio $((BASE + 20)) 0 && run_asyncio asyncio_persistent $((BASE + 30)) 1
fi
[ -z "$ASYNCIO_SKIPPED" ] || echo "$ASYNCIO_SKIPPED" >"$WORK/asyncio_skipped"

# --- one record table, in process ---------------------------------------------------
"$BENCH_DIR/record_memory" --records 1000000 >"$WORK/record_memory.out" 2>&1 ||
  say "record_memory failed: $(cat "$WORK/record_memory.out")"
tail -n 1 "$WORK/record_memory.out" >"$WORK/record_memory.json"

"$SUMMARY" summary "$WORK" "$MEM_IAMATS"
if [ -f "$WORK/perf.data" ]; then
  say "profile of the herd during herd_peak (perf, cpu-clock, top symbols):"
  perf report -i "$WORK/perf.data" --no-children --sort dso,symbol -g none --stdio 2>/dev/null |
    grep -E '^ +[0-9]' | sed 's/[[:space:]]*-[[:space:]]*-[[:space:]]*$//' | cut -c1-110 | head -n 30
fi
