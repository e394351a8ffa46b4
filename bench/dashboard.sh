#!/usr/bin/env bash
# Reproduces BENCHMARKS.md's dashboard figures (issue 13) on this machine:
#
#   bash bench/dashboard.sh          # N=2800000 by default
#
# 1. fills a SQLite database with N registrations (bench/dashboard fill);
# 2. serves it and times the dashboard's first catch-up over all of them;
# 3. registers 2,000 people a second for DUR (vegeta, open loop) while every
#    figure is read over and over (bench/dashboard probe): each figure's
#    latency, and intake's;
# 4. the same with -dashboard=false (no worker: the figures stand still),
#    the baseline of intake's latency in the same run.
# Needs vegeta (go install github.com/tsenart/vegeta/v12@v12.13.0).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-2800000}
DUR=${DUR:-60s}
RATE=${RATE:-2000}
# OUT=DIR reuses the database of an earlier run (its fill and first
# catch-up done), for more rounds.
out=${OUT:-$(mktemp -d /tmp/turnero-dash.XXXX)}
ROUNDS=${ROUNDS:-1}
VEGETA=${VEGETA:-$(command -v vegeta || echo "$HOME/go/bin/vegeta")}
ADDR=127.0.0.1:18190
go build -o "$out/turnero" ./cmd/turnero
go build -o "$out/dash" ./bench/dashboard
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

if [[ -z ${OUT:-} ]]; then
  echo "== fill: $N registrations"
  "$out/dash" fill -data "$out/data" -keys "$out/keys" -n "$N"
fi
du -sh "$out/data"

serve() {
  "$out/turnero" serve --addr $ADDR --data "$out/data" --key-file "$out/keys" --allocate=false "$@" 2>>"$out/serve.log" &
  pids+=($!)
  for _ in $(seq 1 300); do curl -sf "http://$ADDR/readyz" >/dev/null && return; sleep 0.2; done
  echo "turnero did not start" >&2; exit 1
}
stop() { kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true; unset 'pids[-1]'; }

serve
TOKEN=$("$out/turnero" tokens create --data "$out/data" --role analyst --label "bench" 2>/dev/null)
echo "== the first catch-up over $N registrations"
"$out/dash" wait -url "http://$ADDR" -token "$TOKEN" -n "$N"

# People of seed 1 (documents from 2,000,003): none of the filled ones;
# each round registers new ones.
go run ./bench/targets -url "http://$ADDR" -n 600000 -seed 1 > "$out/targets.json"
run() {
  echo "-- intake at $RATE/s for $DUR while every figure is read"
  head -n "$2" "$out/targets.json" | tail -n "$3" > "$out/t.json"
  "$out/dash" probe -url "http://$ADDR" -token "$TOKEN" -for "$DUR" > "$out/probe-$1.txt" &
  probe=$!
  "$VEGETA" attack -format=json -targets="$out/t.json" -rate="$RATE" -duration="$DUR" -max-workers=4000 | "$VEGETA" report -type=text
  wait $probe
  cat "$out/probe-$1.txt"
}
stop
# Rounds alternate with and without the worker, so that what else runs on
# a shared machine weighs on both alike.
per=$(( ${RATE} * ${DUR%s} ))
skip=$(( ${OFFSET:-0} ))
for r in $(seq 1 "$ROUNDS"); do
  for mode in on off; do
    skip=$(( skip + per ))
    if [[ $mode == on ]]; then echo "== round $r: with the dashboard worker"; serve; else echo "== round $r: baseline, -dashboard=false"; serve -dashboard=false; fi
    run "$mode-$r" "$skip" "$per"
    uptime
    stop
  done
done
