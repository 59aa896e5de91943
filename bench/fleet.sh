#!/usr/bin/env bash
# Check-in benchmark: `picket-agent simulate` against a release `picket serve`, at 10,000 and
# 100,000 simulated sensors, beside the bare axum handler of the Graph API benchmark measured in
# the same run. Prints check-ins/s, p99, the ratio to the bare handler and the server's RSS.
#   bash bench/fleet.sh [SENSOR_COUNTS…]   (default: 10000 100000)
set -euo pipefail
cd "$(dirname "$0")/.."
counts=("${@:-10000 100000}")
read -r -a counts <<< "${counts[*]}"

cargo build --release -p picket-cli -p picket-agent -p picket-bench
bin=target/release
data="$(mktemp -d /tmp/picket-fleet-bench.XXXXXX)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$data"
}
trap cleanup EXIT

echo "== baseline: bare axum handler (from picket-bench, same machine, same run)"
baseline="$("$bin/picket-bench" --sensors 100 --duration 5 --warmup 1 | tee /dev/stderr | awk '$1 == "baseline-entity" && $2 ~ /^[0-9]+$/ {print $5}')"
echo "bare handler: ${baseline} req/s"

echo "== picket serve (release, manual clock: no sweeps during the run, throttling off)"
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

enrolled=0
for n in "${counts[@]}"; do
  add=$((n - enrolled))
  echo "== $n sensors (enrolling $add more, then check-ins back to back for 10 s on 64 connections)"
  out="$("$bin/picket-agent" simulate --server "$base" --tenant "$tenant" --access-key "$key" \
    --sensors "$add" --prefix "n$n-" --interval 0 --duration 10 --concurrency 64 --failure-rate 0)"
  echo "$out"
  enrolled=$n
  rate="$(echo "$out" | sed -n 's/^check-ins: [0-9]* in [0-9.]* s = \([0-9]*\)\/s.*/\1/p')"
  rss="$(awk '/VmHWM/ {print $2}' "/proc/$server_pid/status")"
  awk -v r="$rate" -v b="$baseline" -v m="$rss" -v n="$n" 'BEGIN {
    printf "  %d sensors: %d check-ins/s = %.2f x bare handler (target >= 0.5); server peak RSS %.1f MB (target <= 300 MB)\n", n, r, r / b, m / 1000 }'
done
