#!/usr/bin/env bash
# Intake on PostgreSQL against SQLite, in one run so that the ratios hold on a
# shared machine; then three nodes on one database. Writes a summary to stdout
# (figures for BENCHMARKS.md, "PostgreSQL" section).
#
#   PG=postgres://postgres@127.0.0.1:5432/test?sslmode=disable bench/postgres.sh [ROUNDS]
#
# Needs wrk and a local PostgreSQL; each run uses a fresh SQLite directory or
# a fresh PostgreSQL schema, and distinct people (TURNERO_DOC_BASE).
set -euo pipefail
cd "$(dirname "$0")/.."
PG="${PG:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}"
ROUNDS="${1:-2}"
DUR="${DUR:-20s}"
ulimit -n "$(ulimit -Hn)" # at least twice the connections
# Tests that stop PostgreSQL (internal/postgres, pgtest.Exclusive) wait for
# this shared lock, so they cannot pull the server out from under the figures.
exec 9>"${TMPDIR:-/tmp}/turnero-pgtest.lock"
flock -s 9
work=$(mktemp -d /tmp/turnero-pgbench.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
go build -o "$work/turnero" ./cmd/turnero
"$work/turnero" keygen --out "$work/keys" >/dev/null
psql_() { psql "$PG" -qAtX -c "$1"; }
# Every run has fresh storage, so runs may reuse people; cédulas have 7
# digits, so the bases stay below 10M.
base=1000000
node_pids=()
stop_nodes() { kill "${node_pids[@]}" 2>/dev/null || true; wait "${node_pids[@]}" 2>/dev/null || true; node_pids=(); }

# start_node NAME PORT ARGS...: starts a node and waits for /readyz.
start_node() {
  local name=$1 port=$2; shift 2
  "$work/turnero" serve --addr "127.0.0.1:$port" --key-file "$work/keys" "$@" 2>"$work/$name.log" &
  node_pids+=($!)
  for _ in $(seq 1 100); do
    curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "node $name did not start" >&2; cat "$work/$name.log" >&2; exit 1
}

wal() { psql_ "SELECT wal_write, wal_sync, wal_records, wal_bytes FROM pg_stat_wal"; }

# run_wrk PORT CONNS THREADS: one wrk run with the people from $base on;
# prints req/s and the count of non-2xx answers.
run_wrk() {
  TURNERO_DOC_BASE=$base wrk -t"$3" -c"$2" -d"$DUR" -s bench/register.lua "http://127.0.0.1:$1" >"$work/wrk.$1.out"
  local rps non2xx
  rps=$(awk '/Requests\/sec/ {print $2}' "$work/wrk.$1.out")
  non2xx=$(awk '/Non-2xx/ {print $5}' "$work/wrk.$1.out")
  echo "$rps ${non2xx:-0}"
}

one_sqlite() {
  local dir="$work/sqlite.$1"
  start_node sqlite 18301 --data "$dir"
  read -r rps bad < <(run_wrk 18301 1000 2)
  stop_nodes
  echo "sqlite   round $1: $rps registrations/s (non-2xx $bad)"
}

one_postgres() {
  local schema="bench_$1_$$"
  psql_ "CREATE SCHEMA $schema"
  start_node pg 18302 --db "$PG&search_path=$schema"
  read -r w0 s0 r0 b0 < <(wal | tr '|' ' ')
  read -r rps bad < <(run_wrk 18302 1000 2)
  read -r w1 s1 r1 b1 < <(wal | tr '|' ' ')
  local regs; regs=$(psql_ "SELECT count(*) FROM $schema.registrations")
  local size; size=$(psql_ "SELECT pg_total_relation_size('$schema.registrations')")
  stop_nodes
  echo "postgres round $1: $rps registrations/s (non-2xx $bad); $regs stored;" \
    "wal_write $((w1 - w0)) wal_sync $((s1 - s0)) → $(awk "BEGIN {printf \"%.4f\", ($s1 - $s0) / $regs}") syncs and" \
    "$(awk "BEGIN {printf \"%.4f\", ($w1 - $w0) / $regs}") writes per registration;" \
    "$(awk "BEGIN {printf \"%.0f\", ($b1 - $b0) / $regs}") WAL bytes and $(awk "BEGIN {printf \"%.0f\", $size / $regs}") table+index bytes per registration"
  psql_ "DROP SCHEMA $schema CASCADE"
}

three_postgres() {
  local schema="bench3_$1_$$"
  psql_ "CREATE SCHEMA $schema"
  for k in 0 1 2; do start_node "pg$k" $((18310 + k)) --db "$PG&search_path=$schema"; done
  read -r w0 s0 r0 b0 < <(wal | tr '|' ' ')
  local pids=()
  for k in 0 1 2; do
    # distinct people on each node: 1M, 3M, 5M on (one wrk thread each)
    TURNERO_DOC_BASE=$((base + 2000000 * k)) wrk -t1 -c333 -d"$DUR" -s bench/register.lua "http://127.0.0.1:$((18310 + k))" >"$work/wrk3.$k.out" &
    pids+=($!)
  done
  wait "${pids[@]}"
  read -r w1 s1 r1 b1 < <(wal | tr '|' ' ')
  local total; total=$(awk '/Requests\/sec/ {s += $2} END {printf "%.0f", s}' "$work"/wrk3.*.out)
  local each; each=$(awk '/Requests\/sec/ {printf "%s ", $2}' "$work"/wrk3.*.out)
  local bad; bad=$(awk '/Non-2xx/ {s += $5} END {print s + 0}' "$work"/wrk3.*.out)
  local regs; regs=$(psql_ "SELECT count(*) FROM $schema.registrations")
  local maxseq; maxseq=$(psql_ "SELECT max(sequence) FROM $schema.registrations")
  stop_nodes
  echo "3 nodes  round $1: $total registrations/s in total ($each; non-2xx $bad); $regs stored, max sequence $maxseq;" \
    "$(awk "BEGIN {printf \"%.4f\", ($s1 - $s0) / $regs}") WAL syncs per registration"
  psql_ "DROP SCHEMA $schema CASCADE"
}

echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(psql_ 'SHOW server_version'), wal_sync_method $(psql_ 'SHOW wal_sync_method'), commit_delay $(psql_ 'SHOW commit_delay')"
for r in $(seq 1 "$ROUNDS"); do
  one_sqlite "$r"
  one_postgres "$r"
  three_postgres "$r"
done
