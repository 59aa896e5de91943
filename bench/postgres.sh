#!/usr/bin/env bash
# PostgreSQL beside SQLite, in one run on this machine:
#  1. the Graph API read benchmark (picket-bench) on SQLite, then on PostgreSQL (the same seeded
#     data, copied with `picket migrate-data`);
#  2. the check-in benchmark (picket-agent simulate) on SQLite, on PostgreSQL with one replica,
#     and on PostgreSQL with two replicas (two simulators, one per replica, at the same time).
# Each PostgreSQL run gets a schema of its own in the local database, dropped at the end.
#   bash bench/postgres.sh [SENSORS] [CHECK_IN_SENSORS]     (defaults: 20000 10000)
# Needs PostgreSQL on 127.0.0.1:5432 (trust auth, database `test`), as CI has.
set -euo pipefail
cd "$(dirname "$0")/.."
sensors="${1:-20000}"
fleet="${2:-10000}"
pg="${PICKET_BENCH_POSTGRES:-postgres://root@127.0.0.1:5432/test}"

cargo build --release -p picket-cli -p picket-agent -p picket-bench
bin=target/release
work="$(mktemp -d /tmp/picket-pg-bench.XXXXXX)"
schemas=()
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  for s in "${schemas[@]}"; do psql "$pg" -q -c "DROP SCHEMA IF EXISTS $s CASCADE" > /dev/null 2>&1 || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# These set globals (not `$(…)`, whose subshell would lose what cleanup must stop and drop).
new_schema() {  # sets $url to a URL selecting a fresh schema
  local s="picket_bench_$$_${#schemas[@]}"
  psql "$pg" -q -c "CREATE SCHEMA $s" > /dev/null
  schemas+=("$s")
  url="${pg}?options=-c%20search_path%3D${s}"
}

echo "== 1. Graph API reads, $sensors sensors: SQLite"
"$bin/picket-bench" --sensors "$sensors" --duration 5 --warmup 1 > "$work/sqlite.txt"
cat "$work/sqlite.txt"
echo "== 1. Graph API reads, $sensors sensors: PostgreSQL"
new_schema
"$bin/picket-bench" --sensors "$sensors" --duration 5 --warmup 1 --database "$url" > "$work/postgres.txt"
cat "$work/postgres.txt"
rate() { awk -v s="$2" '$1 == s && $2 ~ /^[0-9]+$/ {print $5}' "$1"; }
p99() { awk -v s="$2" '$1 == s && $2 ~ /^[0-9]+$/ {print $7}' "$1"; }
for s in picket-get picket-list; do
  awk -v s="$s" -v a="$(rate "$work/sqlite.txt" "$s")" -v b="$(rate "$work/postgres.txt" "$s")" \
      -v pa="$(p99 "$work/sqlite.txt" "$s")" -v pb="$(p99 "$work/postgres.txt" "$s")" 'BEGIN {
    printf "  %-11s SQLite %8d req/s (p99 %6.2f ms)  PostgreSQL %8d req/s (p99 %6.2f ms)  PostgreSQL/SQLite %.2f (target >= 0.5)\n", s, a, pa, b, pb, b / a }'
done

serve() {  # serve NAME ARGS…: starts picket, sets $base to its URL
  local name="$1"; shift
  "$bin/picket" serve --listen 127.0.0.1:0 --data-dir "$work/$name" --clock manual \
    --throttle-app-reads off --throttle-app-writes off --throttle-tenant-reads off --throttle-tenant-writes off \
    "$@" > "$work/$name.out" 2> "$work/$name.err" &
  pids+=($!)
  for _ in $(seq 1 200); do grep -q "^Picket listening on http://" "$work/$name.out" 2>/dev/null && break; sleep 0.1; done
  base="$(sed -n 's/^Picket listening on \(http:[^ ]*\).*/\1/p' "$work/$name.out")"
}
access_key() {  # access_key BASE TOKEN
  curl -fsS -H "Authorization: Bearer $2" "$1/v1.0/security/identities/sensors/getDeploymentAccessKey()" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["deploymentAccessKey"])'
}
simulate() {  # simulate BASE TENANT KEY SENSORS PREFIX: shows its output on stderr, prints check-ins/s
  "$bin/picket-agent" simulate --server "$1" --tenant "$2" --access-key "$3" --sensors "$4" --prefix "$5" \
    --interval 0 --duration 10 --concurrency 64 --failure-rate 0 --first-round > "$work/sim-$5.txt"
  sed 's/^/   /' "$work/sim-$5.txt" >&2
  sed -n 's/^check-ins: [0-9]* in [0-9.]* s = \([0-9]*\)\/s.*/\1/p' "$work/sim-$5.txt"
}

echo "== 2. check-ins, $fleet sensors, 10 s back to back on 64 connections per simulator"
serve sqlite --demo
token="$(sed -n 's/^export PICKET_TOKEN=//p' "$work/sqlite.out")"
tenant="$(sed -n 's/^Demo tenant: //p' "$work/sqlite.out")"
echo "-- SQLite"
sqlite_rate="$(simulate "$base" "$tenant" "$(access_key "$base" "$token")" "$fleet" s-)"

new_schema
"$bin/picket" migrate --database "$url" --data-dir "$work/pg1" > /dev/null
serve pg1 --demo --database "$url"
token="$(sed -n 's/^export PICKET_TOKEN=//p' "$work/pg1.out")"
echo "-- PostgreSQL, one replica"
pg1_rate="$(simulate "$base" "$tenant" "$(access_key "$base" "$token")" "$fleet" p-)"

new_schema
"$bin/picket" migrate --database "$url" --data-dir "$work/pg2a" > /dev/null
serve pg2a --demo --database "$url"
base_a="$base"
serve pg2b --database "$url"
base_b="$base"
token="$(sed -n 's/^export PICKET_TOKEN=//p' "$work/pg2a.out")"
key="$(access_key "$base_a" "$token")"
half=$((fleet / 2))
echo "-- PostgreSQL, two replicas (a simulator each, at the same time)"
simulate "$base_a" "$tenant" "$key" "$half" a- > "$work/a.rate" &
sim_a=$!
simulate "$base_b" "$tenant" "$key" "$half" b- > "$work/b.rate" &
sim_b=$!
wait "$sim_a" "$sim_b"
pg2_rate=$(( $(cat "$work/a.rate") + $(cat "$work/b.rate") ))

awk -v s="$sqlite_rate" -v p1="$pg1_rate" -v p2="$pg2_rate" 'BEGIN {
  printf "  SQLite %d/s; PostgreSQL, one replica %d/s (%.2f x SQLite, target >= 0.5); two replicas %d/s (%.2f x one replica, target >= 1)\n",
    s, p1, p1 / s, p2, p2 / p1 }'
