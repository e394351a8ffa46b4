#!/usr/bin/env bash
# Reproduces the intake figures of BENCHMARKS.md on this machine, each
# turnero figure next to the bare net/http baseline measured in the same run.
#
#   bash bench/run.sh [all|intake|status|latency|launch|alloc]
#
# Needs wrk (apt-get install wrk) and vegeta
# (go install github.com/tsenart/vegeta/v12@v12.13.0). Everything listens on
# 127.0.0.1 only. Takes about 6 minutes for "all".
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
out=$(mktemp -d /tmp/turnero-bench.XXXX)
ulimit -n 20000 2>/dev/null || true
go build -o "$out/turnero" ./cmd/turnero
go build -o "$out/bare" ./bench/bare
VEGETA=${VEGETA:-$(command -v vegeta || echo "$HOME/go/bin/vegeta")}
TURNERO=127.0.0.1:18180
BARE=127.0.0.1:18181
DUR=${DUR:-20s}

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

start_turnero() {
  rm -rf "$out/data"
  # SERVE_ARGS: extra serve flags, e.g. SERVE_ARGS="--allocate-batch 250"
  "$out/turnero" serve --addr $TURNERO --data "$out/data" ${SERVE_ARGS:-} "$@" 2>"$out/serve.log" &
  pids+=($!)
  for _ in $(seq 1 50); do curl -sf "http://$TURNERO/readyz" >/dev/null && return; sleep 0.1; done
  echo "turnero did not start" >&2; exit 1
}
stop_turnero() { kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true; unset 'pids[-1]'; }
start_bare() { "$out/bare" -addr $BARE & pids+=($!); sleep 0.3; }
rate() { grep Requests/sec | awk '{print $2}'; }
server_rss() { grep VmHWM "/proc/$1/status" | awk '{print $2/1024 " MB"}'; }

if [[ $what == all || $what == intake ]]; then
  echo "== Intake: wrk -t2 -c1000 -d$DUR, a distinct valid person per request (bench/register.lua)"
  start_bare
  b1=$(wrk -t2 -c1000 -d$DUR -s bench/register.lua "http://$BARE" | rate)
  start_turnero
  t=$(TURNERO_DOC_BASE=1000000 wrk -t2 -c1000 -d$DUR -s bench/register.lua "http://$TURNERO" --latency | tee "$out/wrk-intake.txt" | rate)
  b2=$(wrk -t2 -c1000 -d$DUR -s bench/register.lua "http://$BARE" | rate)
  bad=$(grep -c "Non-2xx" "$out/wrk-intake.txt" || true)
  echo "bare before: $b1/s  turnero: $t/s  bare after: $b2/s  (non-2xx lines: $bad)"
  echo "ratio turnero / mean bare: $(echo "$t / (($b1 + $b2) / 2)" | bc -l | cut -c1-5)"
  curl -s "http://$TURNERO/metrics" | grep -E "^turnero_intake_commit_batch_size_(sum|count)" | tr '\n' ' '; echo
  stop_turnero
fi

if [[ $what == all || $what == status ]]; then
  echo "== Status lookups: wrk -t2 -c1000 -d$DUR over 100,000 tracking codes (bench/status.lua)"
  start_turnero
  "$out/turnero" loadtest --url "http://$TURNERO" -n 100000 -c 200 --seed 9 --no-verify --codes-out "$out/codes.txt" >/dev/null
  [[ ${#pids[@]} -gt 0 ]]
  pgrep -f "$out/bare" >/dev/null || start_bare
  b1=$(TURNERO_CODES="$out/codes.txt" wrk -t2 -c1000 -d$DUR -s bench/status.lua "http://$BARE" | rate)
  t=$(TURNERO_CODES="$out/codes.txt" wrk -t2 -c1000 -d$DUR -s bench/status.lua "http://$TURNERO" | tee "$out/wrk-status.txt" | rate)
  b2=$(TURNERO_CODES="$out/codes.txt" wrk -t2 -c1000 -d$DUR -s bench/status.lua "http://$BARE" | rate)
  bad=$(grep -c "Non-2xx" "$out/wrk-status.txt" || true)
  echo "bare before: $b1/s  turnero: $t/s  bare after: $b2/s  (non-2xx lines: $bad)"
  echo "ratio turnero / mean bare: $(echo "$t / (($b1 + $b2) / 2)" | bc -l | cut -c1-5)"
  stop_turnero
fi

if [[ $what == all || $what == latency ]]; then
  echo "== Latency at a fixed offered rate: vegeta, 2,000 registrations/s for 30 s (open loop)"
  start_turnero
  go run ./bench/targets -url "http://$TURNERO" -n 60000 -seed 11 > "$out/targets.json"
  "$VEGETA" attack -format=json -targets="$out/targets.json" -rate=2000 -duration=30s -max-workers=4000 |
    "$VEGETA" report -type=text
  stop_turnero
fi

if [[ $what == all || $what == launch ]]; then
  echo "== Launch evening: 800,000 registrations at 1,000 connections (turnero loadtest, then read every code back)"
  start_turnero
  pid=${pids[-1]}
  "$out/turnero" loadtest --url "http://$TURNERO" -n 800000 -c 1000 --seed 1000000
  echo "server peak RSS: $(server_rss "$pid")"
  sync
  bytes=$(du -cb "$out/data"/turnero.db* | tail -1 | awk '{print $1}')
  echo "storage: $bytes bytes for 800,000 registrations = $(echo "$bytes / 800000" | bc) bytes each"
  stop_turnero
fi

if [[ $what == all || $what == alloc ]]; then
  echo "== Intake latency while the allocator runs: vegeta 2,000 registrations/s for 30 s, with and without a full allocation"
  export TURNERO_ADMIN_TOKEN=bench-admin-token-0123456789abcdef
  N=${ALLOC_N:-400000}
  start_turnero --allocate=false
  "$out/turnero" loadtest --url "http://$TURNERO" -n "$N" -c 200 --seed 21 --no-verify >/dev/null
  go run ./bench/targets -url "http://$TURNERO" -n 120000 -seed 23 > "$out/targets.json"
  head -60000 "$out/targets.json" > "$out/targets-a.json"; tail -60000 "$out/targets.json" > "$out/targets-b.json"
  echo "-- without allocation"
  "$VEGETA" attack -format=json -targets="$out/targets-a.json" -rate=2000 -duration=30s -max-workers=4000 |
    tee "$out/vegeta-idle.bin" | "$VEGETA" report -type=text | grep -E "Latencies|Success|Status"
  for g in $(curl -s -H "Authorization: Bearer $TURNERO_ADMIN_TOKEN" "http://$TURNERO/v1/admin/groups" |
             grep -o '"group":"[^"]*"' | cut -d'"' -f4); do
    curl -s -o /dev/null -X POST -H "Authorization: Bearer $TURNERO_ADMIN_TOKEN" "http://$TURNERO/v1/admin/groups/$g/open"
  done
  echo "-- while allocating $N waiting registrations (the allocation starts 2 s into the run)"
  ( sleep 2; /usr/bin/time -f "allocation took %e s" curl -s -o "$out/alloc.json" -X POST \
      -H "Authorization: Bearer $TURNERO_ADMIN_TOKEN" "http://$TURNERO/v1/admin/allocations" ) &
  allocator=$!
  "$VEGETA" attack -format=json -targets="$out/targets-b.json" -rate=2000 -duration=30s -max-workers=4000 |
    tee "$out/vegeta-allocating.bin" | "$VEGETA" report -type=text | grep -E "Latencies|Success|Status"
  wait "$allocator" || true
  echo "allocation answer: $(head -c 300 "$out/alloc.json")"
  echo "vegeta results (per-request, for vegeta encode/plot): $out/vegeta-idle.bin $out/vegeta-allocating.bin"
  stop_turnero
fi
