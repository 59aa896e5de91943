#!/usr/bin/env bash
# What the request journal costs: the load benchmark twice in one go, journal on (the default,
# 1,000 requests per tenant) and off (`serve --journal-size 0`), each against its bare-axum
# baseline; compare the "vs baseline" ratios of the GET scenarios (the machine's noise hits
# both runs' baselines alike).
#   bash bench/journal.sh [picket-bench options, e.g. --sensors 10000 --duration 5]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p picket-cli -p picket-bench --quiet
OFF="$(mktemp -d)"
trap 'rm -rf "$OFF"' EXIT
# picket-bench starts `picket serve …` through --picket-bin: this one turns the journal off.
cat > "$OFF/picket" <<SH
#!/bin/sh
if [ "\$1" = serve ]; then exec "$PWD/target/release/picket" "\$@" --journal-size 0; fi
exec "$PWD/target/release/picket" "\$@"
SH
chmod +x "$OFF/picket"
echo "== journal on (default)"
target/release/picket-bench "$@"
echo "== journal off (--journal-size 0)"
target/release/picket-bench --picket-bin "$OFF/picket" "$@"
