#!/usr/bin/env bash
# The whole test suite: formatting, lints, every Rust test (unit, integration, CLI), and
# Microsoft's own Graph SDKs (Python) against a real Picket server, and the console in a real
# headless Chromium (Debian's `chromium` package must be installed: tests/console/run.sh says so). With
# PICKET_TEST_DATABASE_URL set (e.g. postgres://root@127.0.0.1:5432/test), the store and server
# suites run on PostgreSQL in the workspace run, then once more on SQLite, and the SDK suite runs
# on both.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --quiet -- -D warnings
echo "== cargo test"
if [ -n "${PICKET_TEST_DATABASE_URL:-}" ]; then
    cargo test --workspace
else
    # Said once; the tests that need PostgreSQL (named *_on_postgres) count as "filtered out".
    echo "NOTE: PICKET_TEST_DATABASE_URL is not set: the store and server suites run on SQLite only, and the tests that need PostgreSQL (*_on_postgres) are skipped (counted as filtered out)"
    cargo test --workspace -- --skip on_postgres
fi
if [ -n "${PICKET_TEST_DATABASE_URL:-}" ]; then
    echo "== cargo test: store and server suites on SQLite (the run above used PostgreSQL)"
    PICKET_TEST_DATABASE_URL= cargo test -p picket-store -p picket-server --test it
fi
echo "== fuzzing (cargo-fuzz: the OData parser, agent and Graph body decoders; ${PICKET_FUZZ_SECONDS:-20} s each)"
bash scripts/fuzz.sh
echo "== SDK compatibility (msgraph-beta-sdk, msgraph-sdk)"
cargo build -p picket-cli -p picket-agent --quiet
PICKET_BIN="$PWD/target/debug/picket" bash tests/sdk/run.sh
echo "== console in a real browser (headless Chromium driven by Playwright; screenshots to docs/console/)"
PICKET_BIN="$PWD/target/debug/picket" bash tests/console/run.sh
echo "== README and --help examples (every sh and python block of README.md, every example line of picket --help, against picket serve --demo)"
python3 tests/readme/run_examples.py --picket "$PWD/target/debug/picket"
if [ -n "${PICKET_TEST_DATABASE_URL:-}" ]; then
    echo "== SDK compatibility on PostgreSQL (each server in a schema of its own)"
    PICKET_SDK_DATABASE_URL="$PICKET_TEST_DATABASE_URL" PICKET_BIN="$PWD/target/debug/picket" bash tests/sdk/run.sh
else
    echo "NOTE: SDK compatibility on PostgreSQL skipped: PICKET_TEST_DATABASE_URL is not set"
fi
