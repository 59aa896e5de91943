#!/usr/bin/env bash
# The client's list speed and memory: seeds a tenant of N sensors, starts a release
# `picket serve` on it, and times `picket sensors list --output jsonl --top 1000 > /dev/null`
# over every sensor, printing sensors/s and the CLI's peak RSS. Runs at 10,000 and 100,000
# sensors (or the counts given as arguments) to show memory does not grow with the result.
# Usage: bash bench/cli.sh [N ...]
set -euo pipefail
cd "$(dirname "$0")/.."

counts=("$@")
[ ${#counts[@]} -eq 0 ] && counts=(10000 100000)

cargo build --release -p picket-cli -p picket-bench
bin=target/release
work=$(mktemp -d -t picket-cli-bench-XXXXXX)
server_pid=
cleanup() {
    if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

printf '%-9s %-10s %-12s %-14s %s\n' sensors seconds sensors/s "peak RSS" "server peak RSS"
for n in "${counts[@]}"; do
    dir="$work/$n"
    token=$("$bin/picket-bench" seed --dir "$dir" --sensors "$n" 2>"$work/seed.log")
    env -u PICKET_TOKEN "$bin/picket" serve --listen 127.0.0.1:0 --data-dir "$dir" --issuer https://sts.picket.local \
        --throttle-app-reads off --throttle-tenant-reads off >"$work/serve-$n.log" 2>&1 &
    server_pid=$!
    url=
    for _ in $(seq 1 200); do
        url=$(sed -n 's/^Picket listening on \(http:\/\/[^ ]*\)$/\1/p' "$work/serve-$n.log")
        [ -n "$url" ] && break
        sleep 0.05
    done
    [ -n "$url" ] || { echo "server did not start:"; cat "$work/serve-$n.log"; exit 1; }

    # One warm-up pass (page cache, SQLite caches), then the measured one.
    PICKET_TOKEN=$token "$bin/picket" sensors list --endpoint "$url" --output jsonl --top 1000 | wc -l >"$work/count"
    [ "$(cat "$work/count")" -eq "$n" ] || { echo "listed $(cat "$work/count") of $n sensors"; exit 1; }
    # Wall time from the shell's microsecond clock (time -v rounds to 10 ms); RSS from time -v.
    started=$EPOCHREALTIME
    PICKET_TOKEN=$token /usr/bin/time -v "$bin/picket" sensors list --endpoint "$url" --output jsonl --top 1000 \
        >/dev/null 2>"$work/time"
    ended=$EPOCHREALTIME
    secs=$(awk -v a="$started" -v b="$ended" 'BEGIN { printf "%.3f", b - a }')
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time")
    server_rss=$(awk '/VmHWM/ {print $2}' "/proc/$server_pid/status")
    rate=$(awk -v n="$n" -v s="$secs" 'BEGIN { printf "%.0f", (s > 0 ? n / s : 0) }')
    printf '%-9s %-10s %-12s %-14s %s\n' "$n" "$secs" "$rate" "$((rss / 1024)) MiB" "$((server_rss / 1024)) MiB"

    kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=
    rm -rf "$dir"
done
