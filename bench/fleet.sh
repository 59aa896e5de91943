#!/usr/bin/env bash
# Check-in benchmark: `picket-agent simulate` against a release `picket serve`, at 10,000 and
# 100,000 simulated sensors. In the same run, the same simulator (same client, bodies,
# credentials, concurrency) first drives the bare axum handler of the Graph API benchmark
# (`picket-bench baseline-server`) answering a captured check-in, in alternating slices, so the ratio compares only the
# servers' own work. Prints check-ins/s, p99, the ratio to the bare handler and the server's RSS;
# then the sweeps' times, and a Graph write's (PATCH) p99 idle and while a full sweep runs.
#   bash bench/fleet.sh [SENSOR_COUNTS…]   (default: 10000 100000)
# With PICKET_BENCH_DATABASE=postgres://… the same runs on PostgreSQL, in a schema of its own
# (created, migrated, dropped at the end), e.g.
#   PICKET_BENCH_DATABASE=postgres://root@127.0.0.1:5432/test bash bench/fleet.sh 100000
set -euo pipefail
cd "$(dirname "$0")/.."
counts=("${@:-10000 100000}")
read -r -a counts <<< "${counts[*]}"

cargo build --release -p picket-cli -p picket-agent -p picket-bench
bin=target/release
data="$(mktemp -d /tmp/picket-fleet-bench.XXXXXX)"
server_pid=""
baseline_pid=""
pg="${PICKET_BENCH_DATABASE:-}"
schema=""
cleanup() {
  for pid in $server_pid $baseline_pid; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  if [ -n "$schema" ]; then psql "$pg" -q -c "DROP SCHEMA IF EXISTS $schema CASCADE" > /dev/null 2>&1 || true; fi
  rm -rf "$data"
}
trap cleanup EXIT
store="SQLite"
if [ -n "$pg" ]; then
  # Every picket command below (serve, releases publish) reads PICKET_DATABASE_URL.
  schema="picket_fleet_$$"
  psql "$pg" -q -c "CREATE SCHEMA $schema" > /dev/null
  export PICKET_DATABASE_URL="${pg}?options=-c%20search_path%3D${schema}"
  "$bin/picket" migrate --data-dir "$data" > /dev/null
  store="PostgreSQL (schema $schema)"
fi

echo "== picket serve on $store (release, manual clock: no sweeps during the run, throttling off)"
"$bin/picket" serve --listen 127.0.0.1:0 --data-dir "$data" --demo --clock manual \
  --throttle-app-reads off --throttle-app-writes off --throttle-tenant-reads off --throttle-tenant-writes off \
  > "$data/serve.out" 2> "$data/serve.err" &
server_pid=$!
for _ in $(seq 1 100); do grep -q "^Picket listening on http://" "$data/serve.out" 2>/dev/null && break; sleep 0.1; done
base="$(sed -n 's/^Picket listening on \(http:[^ ]*\).*/\1/p' "$data/serve.out")"
token="$(sed -n 's/^export PICKET_TOKEN=//p' "$data/serve.out")"
tenant="$(sed -n 's/^Demo tenant: //p' "$data/serve.out")"
key="$(curl -fsS -H "Authorization: Bearer $token" "$base/v1.0/security/identities/sensors/getDeploymentAccessKey()" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["deploymentAccessKey"])')"

echo "== baseline: bare axum handler (picket-bench baseline-server) answering a captured check-in"
probe="$(curl -fsS -H 'Content-Type: application/json' "$base/agent/v1/enroll" \
  -d "{\"tenantId\":\"$tenant\",\"accessKey\":\"$key\",\"computerDnsName\":\"probe.bench.test\",\"sensorType\":\"domainControllerIntegrated\",\"version\":\"2.239.18124.58593\"}")"
probe_id="$(echo "$probe" | python3 -c 'import json,sys; print(json.load(sys.stdin)["sensorId"])')"
probe_cred="$(echo "$probe" | python3 -c 'import json,sys; print(json.load(sys.stdin)["credential"])')"
curl -fsS -H 'Content-Type: application/json' -H "Authorization: Bearer $probe_cred" \
  "$base/agent/v1/tenants/$tenant/sensors/$probe_id/checkIn" \
  -d '{"serviceStatus":"running","version":"2.239.18124.58593","appliedSettingsVersion":0}' > "$data/check-in.json"
echo "captured check-in answer: $(wc -c < "$data/check-in.json") bytes"
mkfifo "$data/hold"
exec 3<>"$data/hold"   # the baseline exits when its stdin closes; this keeps it open
"$bin/picket-bench" baseline-server --entity "$data/check-in.json" --list "$data/check-in.json" \
  --check-in "$data/check-in.json" <&3 > "$data/baseline.out" &
baseline_pid=$!
for _ in $(seq 1 100); do grep -q "^Baseline listening on http://" "$data/baseline.out" 2>/dev/null && break; sleep 0.1; done
baseline_url="$(sed -n 's/^Baseline listening on \(http:[^ ]*\).*/\1/p' "$data/baseline.out")"

enrolled=0
for n in "${counts[@]}"; do
  add=$((n - enrolled))
  echo "== $n sensors (enrolling $add more, each checks in once, then check-ins back to back on 64 connections: 5 slices of 4 s alternating bare handler and Picket)"
  out="$("$bin/picket-agent" simulate --server "$base" --tenant "$tenant" --access-key "$key" \
    --sensors "$add" --prefix "n$n-" --interval 0 --duration 20 --concurrency 64 --failure-rate 0 --first-round --baseline "$baseline_url")"
  echo "$out"
  enrolled=$n
  ratio="$(echo "$out" | sed -n 's/^check-in throughput = \([0-9.]*\) x.*/\1/p')"
  p99="$(echo "$out" | grep '^check-ins:' | sed -n 's/.*p99 \([0-9.]*\) ms.*/\1/p')"
  rss="$(awk '/VmHWM/ {print $2}' "/proc/$server_pid/status")"
  awk -v r="$ratio" -v p="$p99" -v m="$rss" -v n="$n" 'BEGIN {
    printf "  %d sensors: check-ins %.2f x bare handler (target >= 0.5: %s); p99 %.2f ms (target <= 20 ms: %s); server peak RSS %.1f MB (target <= 300 MB: %s)\n",
      n, r, (r >= 0.5 ? "PASS" : "MISS"), p, (p <= 20 ? "PASS" : "MISS"), m / 1000, (m / 1000 <= 300 ? "PASS" : "MISS") }'
done

echo "== sweeps over $enrolled enrolled sensors (picket clock advance: a full sweep, then the silent ones only)"
for what in "first sweep (every sensor)" "next sweep (silent sensors only)" "after a release (every sensor)"; do
  if [ "$what" = "after a release (every sensor)" ]; then
    "$bin/picket" releases publish 2.250.18300.1 --data-dir "$data" > /dev/null
  fi
  start=$(date +%s.%N)
  out="$("$bin/picket" clock advance 1s --server "$base" --token "$token")"
  end=$(date +%s.%N)
  awk -v s="$start" -v e="$end" -v w="$what" -v o="$out" 'BEGIN { printf "  %-34s %7.2f s  (%s)\n", w, e - s, o }'
done

echo "== a Graph write beside a full sweep of $enrolled sensors (PATCH settings/description on 4 connections: idle, then while the sweep runs)"
curl -fsS -H "Authorization: Bearer $token" "$base/v1.0/security/identities/sensors?\$select=id&\$top=200" \
  | python3 -c 'import json,sys; [print("/v1.0/security/identities/sensors/" + s["id"]) for s in json.load(sys.stdin)["value"]]' \
  > "$data/patch-paths.txt"
patch_drive() {  # drive PATCHes for $1 s, printing picket-bench drive's report
  PICKET_BENCH_TOKEN="$token" "$bin/picket-bench" drive --url "$base" --paths-file "$data/patch-paths.txt" \
    --patch '{"settings":{"description":"bench"}}' --connections 4 --warmup 0 --duration "$1"
}
idle="$(patch_drive 4)"
# A new release makes the next sweep look at every sensor again.
"$bin/picket" releases publish 2.250.18400.1 --data-dir "$data" > /dev/null
patch_drive 5 > "$data/during.txt" &
drive_pid=$!
for _ in $(seq 1 50); do grep -q '^measuring' "$data/during.txt" 2>/dev/null && break; sleep 0.1; done
start=$(date +%s.%N)
"$bin/picket" clock advance 1s --server "$base" --token "$token" > /dev/null
end=$(date +%s.%N)
wait "$drive_pid"
during="$(cat "$data/during.txt")"
field() { echo "$1" | sed -n "s|^$2: ||p"; }
awk -v ip="$(field "$idle" 'p99 ms')" -v im="$(field "$idle" 'max ms')" -v ir="$(field "$idle" 'req/s')" \
    -v dp="$(field "$during" 'p99 ms')" -v dm="$(field "$during" 'max ms')" -v dr="$(field "$during" 'req/s')" \
    -v s="$start" -v e="$end" 'BEGIN {
  printf "  idle:                 %6.0f PATCH/s, p99 %7.2f ms, max %7.2f ms\n", ir, ip, im
  printf "  during the sweep:     %6.0f PATCH/s, p99 %7.2f ms, max %7.2f ms (the sweep took %.2f s of the 5 s window)\n", dr, dp, dm, e - s
  printf "  p99 above idle: %+.2f ms (target <= 50 ms: %s)\n", dp - ip, (dp - ip <= 50 ? "PASS" : "MISS") }'
