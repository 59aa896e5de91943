#!/usr/bin/env bash
# Snapshot restore time for the demo tenant, through the admin API of a release `picket serve
# --demo` (SQLite, or PostgreSQL with PICKET_BENCH_DATABASE_URL=postgres://…): 50 restores,
# each answered 200, and the median and worst times as the client saw them.
#   bash bench/snapshots.sh [restores]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p picket-cli --quiet
N="${1:-50}"
DATA="$(mktemp -d)"
trap 'kill "$PID" 2>/dev/null || true; rm -rf "$DATA"' EXIT
EXTRA=()
if [ -n "${PICKET_BENCH_DATABASE_URL:-}" ]; then
  EXTRA=(--database "$PICKET_BENCH_DATABASE_URL")
  target/release/picket migrate --database "$PICKET_BENCH_DATABASE_URL" >/dev/null
fi
target/release/picket serve --demo --listen 127.0.0.1:0 --data-dir "$DATA" "${EXTRA[@]}" > "$DATA/out" 2>/dev/null &
PID=$!
for _ in $(seq 100); do grep -q "^Picket listening on http://" "$DATA/out" && break; sleep 0.1; done
BASE="$(grep -m1 '^Picket listening on http://' "$DATA/out" | awk '{print $4}')"
TOKEN="$(target/release/picket token --tenant 7b3f4c8e-2a51-4d8e-9c3a-5e1f0b6d2c47 \
  --role SecurityIdentitiesSensors.ReadWrite.All --data-dir "$DATA" "${EXTRA[@]}" | tail -1)"
python3 - "$BASE" "$TOKEN" "$N" <<'PY'
import json, statistics, sys, time, urllib.request
base, token, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
def post(path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method="POST",
                                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req) as r:
        return r.status, json.loads(r.read())
status, saved = post("/admin/v1/snapshots", {"name": "bench"})
assert status == 201, status
times = []
for _ in range(n):
    t = time.perf_counter()
    status, _ = post("/admin/v1/snapshots/bench/restore")
    times.append((time.perf_counter() - t) * 1000)
    assert status == 200, status
times.sort()
print(f"snapshot restore of the demo tenant ({saved['rows']} rows), {n} restores, all 200: "
      f"median {statistics.median(times):.1f} ms, p95 {times[int(0.95 * (n - 1))]:.1f} ms, worst {times[-1]:.1f} ms")
PY
