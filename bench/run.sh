#!/usr/bin/env bash
# Builds Picket and the bench in release mode, then runs the load benchmark.
# Arguments go to picket-bench, e.g.: bash bench/run.sh --duration 10
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release -p picket-cli -p picket-bench
exec target/release/picket-bench "$@"
