#!/usr/bin/env bash
# The cost curve (issue 15): the same measurements at 10,000, 100,000 and 1,000,000 sensors in one
# tenant and at 1,000 tenants of 1,000, each on a freshly seeded SQLite store served by a release
# `picket serve` (throttling off, manual clock); one table and the targets with PASS or MISS.
#   bash bench/scale.sh                  # every size (the 1,000,000 seed alone takes ~40-70 s)
#   bash bench/scale.sh --quick          # 10,000 and 100,000 only
#   bash bench/scale.sh --sizes 10k,1m   # any of 10k, 100k, 1m, 1000x1000
# Other options: target/release/picket-bench scale --help
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release -p picket-cli -p picket-bench
exec target/release/picket-bench scale "$@"
