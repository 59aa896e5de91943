#!/usr/bin/env bash
# The whole test suite: formatting, lints, every Rust test (unit, integration, CLI), and
# Microsoft's own Graph SDKs (Python) against a real Picket server.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --quiet -- -D warnings
echo "== cargo test"
cargo test --workspace
echo "== SDK compatibility (msgraph-beta-sdk, msgraph-sdk)"
cargo build -p picket-cli --quiet
PICKET_BIN="$PWD/target/debug/picket" bash tests/sdk/run.sh
