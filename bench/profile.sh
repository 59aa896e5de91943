#!/usr/bin/env bash
# Where the time goes: profiles a release `picket serve` with `perf` while `picket-bench drive`
# loads it, and prints, per scenario, the server's CPU per request split by request stage
# (HTTP, authentication, routing, query parsing, store, rendering, logging, runtime/other;
# the rules are in bench/stages.py).
#
# Scenarios (PROFILE_SCENARIOS, default all four, in this order):
#   baseline-get   GET /entity on the bare axum handler (Picket's answer for one sensor)
#   picket-get     GET /beta/security/identities/sensors/{id}, a random seeded sensor each time
#   baseline-list  GET /list on the bare axum handler (Picket's answer for one filtered page)
#   picket-list    GET /beta/security/identities/sensors?$filter=healthStatus eq 'notHealthyHigh'&$top=100
#
# Settings (environment): PROFILE_SENSORS (100000), PROFILE_CONNECTIONS (64),
# PROFILE_WARMUP (2 s), PROFILE_DURATION (10 s measured per scenario), PROFILE_FREQ (sampling
# rate, 499 Hz: each sample copies 64 KiB of stack), PROFILE_OUT (reports, folded stacks and
# SVGs; target/profile).
# Needs perf and python3; flame graphs when inferno-flamegraph or flamegraph.pl is on PATH.
# Usage: bash bench/profile.sh
set -euo pipefail
cd "$(dirname "$0")/.."

sensors=${PROFILE_SENSORS:-100000}
connections=${PROFILE_CONNECTIONS:-64}
warmup=${PROFILE_WARMUP:-2}
duration=${PROFILE_DURATION:-10}
freq=${PROFILE_FREQ:-499}
out=${PROFILE_OUT:-target/profile}
scenarios=${PROFILE_SCENARIOS:-"baseline-get picket-get baseline-list picket-list"}

die() { echo "profile.sh: $*" >&2; exit 1; }
command -v perf >/dev/null || die "perf is not installed"
command -v python3 >/dev/null || die "python3 is not installed"
command -v curl >/dev/null || die "curl is not installed"
[ "$duration" -ge 2 ] || die "PROFILE_DURATION must be at least 2 s"

# The ordinary release build (the binary bench/run.sh measures): Cargo.toml's release profile
# already keeps line tables, which is all perf needs for symbols; the variable below only makes
# sure of it. Stacks are unwound from DWARF call-frame information (`--call-graph dwarf`):
# frame pointers (`-Cforce-frame-pointers=yes`) were tried and are no use here, since glibc
# (malloc, memcpy, send, fcntl, ...) has none and every stack through it stopped there.
export CARGO_PROFILE_RELEASE_DEBUG=line-tables-only
cargo build --release -p picket-cli -p picket-bench
bin=target/release
mkdir -p "$out"

# Everything large (the data directory, perf.data) stays in here and goes at the end.
work=$(mktemp -d -t picket-profile-XXXXXX)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# What perf runs while it samples, so the server's CPU time (user + system, fields 14 and 15
# of /proc/PID/stat, in clock ticks) and the wall clock are read exactly as sampling starts and
# stops: "seconds ticks" before, then after.
cat >"$work/window.sh" <<'WINDOW'
snap() { echo "$EPOCHREALTIME $(sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }')"; }
snap "$1" >"$3"; sleep "$2"; snap "$1" >>"$3"
WINDOW
hz=$(getconf CLK_TCK)
field() { sed -n "s|^$1: ||p" "$2"; }
forget() { # a child we waited for: not ours to kill any more
    local keep=() p
    for p in "${pids[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
    pids=("${keep[@]}")
}

echo "seeding $sensors sensors ..."
token=$("$bin/picket-bench" seed --dir "$work/data" --sensors "$sensors" --ids "$work/ids" 2>"$work/seed.log") \
    || { cat "$work/seed.log"; die "seeding failed"; }
sed 's|^|/beta/security/identities/sensors/|' "$work/ids" >"$work/get.paths"
list_path='/beta/security/identities/sensors?$filter=healthStatus%20eq%20%27notHealthyHigh%27&$top=100'
echo "$list_path" >"$work/list.paths"

# The server as bench/cli.sh and picket-bench start it: loopback, ephemeral port, the
# fixture's issuer, throttling off (one token drives all the load), no PICKET_* from outside.
unset_picket=()
while IFS= read -r name; do unset_picket+=(-u "$name"); done < <(env | sed -n 's/^\(PICKET_[A-Za-z0-9_]*\)=.*/\1/p')
env "${unset_picket[@]}" PICKET_LOG=warn "$bin/picket" serve --listen 127.0.0.1:0 --data-dir "$work/data" \
    --issuer https://sts.picket.local \
    --throttle-app-reads off --throttle-tenant-reads off \
    --throttle-app-writes off --throttle-tenant-writes off >"$work/serve.log" 2>&1 &
picket_pid=$!
pids+=("$picket_pid")
listening() { # URL printed by a server on "… listening on http://ADDR", waiting up to 20 s
    local url=
    for _ in $(seq 1 400); do
        url=$(sed -n 's/.*[Ll]istening on \(http:\/\/[^ ]*\)$/\1/p' "$1" | head -n 1)
        [ -n "$url" ] && { echo "$url"; return 0; }
        sleep 0.05
    done
    return 1
}
picket_url=$(listening "$work/serve.log") || { cat "$work/serve.log"; die "picket serve did not start"; }
echo "picket (pid $picket_pid) on $picket_url"

# The bare handler answers Picket's own bytes, with its content type.
first=$(head -n 1 "$work/get.paths")
auth="Authorization: Bearer $token"
content_type=$(curl -sS -f -H "$auth" -o "$work/entity.json" -w '%{content_type}' "$picket_url$first") \
    || die "GET $first failed"
curl -sS -f -H "$auth" -o "$work/list.json" "$picket_url$list_path" || die "GET the filtered list failed"
mkfifo "$work/hold"
exec 7<>"$work/hold" # the baseline server exits when its stdin closes: hold it open
"$bin/picket-bench" baseline-server --entity "$work/entity.json" --list "$work/list.json" \
    --content-type "$content_type" <"$work/hold" >"$work/baseline.log" 2>&1 &
baseline_pid=$!
pids+=("$baseline_pid")
baseline_url=$(listening "$work/baseline.log") || { cat "$work/baseline.log"; die "the baseline did not start"; }
echo "baseline (pid $baseline_pid) on $baseline_url"

flamegraph=
if command -v inferno-flamegraph >/dev/null; then flamegraph=inferno-flamegraph
elif command -v flamegraph.pl >/dev/null; then flamegraph=flamegraph.pl
fi

export PICKET_BENCH_TOKEN=$token
perf_seconds=$((duration - 1)) # inside the drive's window, with room for perf to start
summary=()
for name in $scenarios; do
    case $name in
        baseline-get) pid=$baseline_pid; url=$baseline_url; paths=(--path /entity) ;;
        picket-get) pid=$picket_pid; url=$picket_url; paths=(--paths-file "$work/get.paths") ;;
        baseline-list) pid=$baseline_pid; url=$baseline_url; paths=(--path /list) ;;
        picket-list) pid=$picket_pid; url=$picket_url; paths=(--paths-file "$work/list.paths") ;;
        *) die "unknown scenario $name" ;;
    esac
    echo "profiling $name ..."
    drive_out="$work/$name.drive"
    "$bin/picket-bench" drive --url "$url" "${paths[@]}" --connections "$connections" \
        --warmup "$warmup" --duration "$duration" --server-pid "$pid" >"$drive_out" 2>&1 &
    drive_pid=$!
    pids+=("$drive_pid")
    opened=
    for _ in $(seq 1 $(((warmup + 30) * 20))); do
        grep -qx measuring "$drive_out" && { opened=1; break; }
        kill -0 "$drive_pid" 2>/dev/null || break
        sleep 0.05
    done
    [ -n "$opened" ] || { cat "$drive_out"; die "$name: the load's window never opened"; }

    # 64 KiB of stack per sample: with less, deep request stacks were cut short of the runtime.
    # 8 MiB ring buffers: with the default, perf lost a tenth of the samples.
    perf record -e cpu-clock -F "$freq" --call-graph dwarf,65528 -m 8M -p "$pid" -o "$work/$name.data" \
        -- bash "$work/window.sh" "$pid" "$perf_seconds" "$work/$name.window" >"$work/$name.perf.log" 2>&1 \
        || { cat "$work/$name.perf.log"; die "$name: perf record failed"; }
    status=0; wait "$drive_pid" || status=$?
    forget "$drive_pid"
    [ "$status" -eq 0 ] || { cat "$drive_out"; die "$name: the load failed (see its errors above)"; }

    rate=$(field "req/s" "$drive_out")
    gen_us=$(field "generator CPU us/req" "$drive_out")
    # Requests in the sampled interval: the drive's rate (over its whole window) times its length.
    read -r cpu wall requests < <(awk -v hz="$hz" -v r="$rate" \
        'NR == 1 { s = $1; a = $2 } NR == 2 { printf "%.3f %.3f %.0f\n", ($2 - a) / hz, $1 - s, r * ($1 - s) }' \
        "$work/$name.window")
    title="$name: $(field "req/s" "$drive_out") req/s, p50 $(field "p50 ms" "$drive_out") ms, p99 $(field "p99 ms" "$drive_out") ms, errors $(field errors "$drive_out"); perf over $wall s"
    grep -i lost "$work/$name.perf.log" || true
    # --no-inline: symbols of the real (not inlined) frames, fully qualified; resolving inlined
    # frames forks addr2line per address (minutes) and names them without their module path.
    perf script --no-inline -i "$work/$name.data" -F comm,tid,period,ip,sym,dso 2>"$work/$name.script.log" \
        | python3 bench/stages.py --cpu-seconds "$cpu" --requests "$requests" --rate "$rate" \
            --generator-us "$gen_us" --title "$title" \
            --folded "$out/$name.folded" --json "$out/$name.json" >"$out/$name.txt"
    rm -f "$work/$name.data"
    cat "$out/$name.txt"
    if [ -n "$flamegraph" ]; then
        "$flamegraph" --title "$name (stage;stack)" <"$out/$name.folded" >"$out/$name.svg"
        echo "flame graph: $out/$name.svg"
    fi
    echo
    summary+=("$name")
done

if [ -z "$flamegraph" ]; then
    echo "no inferno-flamegraph or flamegraph.pl on PATH: SVGs skipped (folded stacks are in $out;"
    echo "'cargo install inferno' then 'inferno-flamegraph < $out/picket-get.folded > get.svg')"
fi
for pair in "baseline-get picket-get" "baseline-list picket-list"; do
    read -r bare picket <<<"$pair"
    if [ -f "$out/$bare.json" ] && [ -f "$out/$picket.json" ] \
        && [[ " ${summary[*]} " == *" $bare "* ]] && [[ " ${summary[*]} " == *" $picket "* ]]; then
        echo "== $picket against $bare =="
        python3 bench/stages.py lever "$out/$bare.json" "$out/$picket.json" --ratio 0.6 | tee "$out/$picket.lever.txt"
        echo
    fi
done
echo "reports in $out"
