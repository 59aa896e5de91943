#!/usr/bin/env bash
# Runs every cargo-fuzz target in fuzz/ for a bounded time (PICKET_FUZZ_SECONDS each, default
# 20), starting from the committed seed corpus in fuzz/corpus/<target>/. The corpus is copied to
# a temporary directory first, so a run never adds files to the committed corpus. Prints
# libFuzzer's summary line per target; exits non-zero if any target crashes (the crashing input
# is left in fuzz/artifacts/<target>/).
#
# cargo-fuzz needs nightly-only rustc flags (-Zsanitizer, sancov passes); on the stable toolchain
# RUSTC_BOOTSTRAP=1 unlocks them. PICKET_FUZZ_SANITIZER picks the sanitizer (default: address;
# `none` is faster and also finds panics).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${PICKET_FUZZ_SECONDS:-20}"
sanitizer="${PICKET_FUZZ_SANITIZER:-address}"
export RUSTC_BOOTSTRAP=1

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "== cargo-fuzz is missing: installing it (cargo install cargo-fuzz --locked)"
    cargo install cargo-fuzz --locked
fi

targets=$(cargo fuzz list --fuzz-dir fuzz)
work=$(mktemp -d "${TMPDIR:-/tmp}/picket-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT

echo "== cargo fuzz build (sanitizer: $sanitizer)"
cargo fuzz build --fuzz-dir fuzz --sanitizer "$sanitizer"

failed=()
for target in $targets; do
    echo "== fuzz $target for ${seconds}s"
    corpus="$work/corpus-$target"
    mkdir -p "$corpus"
    if [ -d "fuzz/corpus/$target" ]; then
        cp -R "fuzz/corpus/$target/." "$corpus/"
    fi
    log="$work/$target.log"
    status=0
    # -timeout: an input that takes this long counts as a failure (a hang), and keeps the run
    # bounded; libFuzzer's default is 20 minutes.
    cargo fuzz run --fuzz-dir fuzz --sanitizer "$sanitizer" "$target" "$corpus" -- \
        -max_total_time="$seconds" -timeout=10 >"$log" 2>&1 || status=$?
    summary=$(grep -E '^Done [0-9]+ runs in [0-9]+ second' "$log" | tail -n 1 || true)
    if [ "$status" -eq 0 ]; then
        echo "$target: ${summary:-"(no summary line from libFuzzer)"}"
    else
        echo "$target: FAILED (exit $status)"
        # The panic message, the sanitizer's or libFuzzer's verdict and the crashing input.
        report=$(grep -E -A2 'panicked at' "$log" | head -n 20 || true)
        report+=$'\n'$(grep -E 'ERROR: (libFuzzer|[A-Za-z]+Sanitizer)|^SUMMARY:|Test unit written to|^Base64:' "$log" || true)
        if [ -z "${report//[[:space:]]/}" ]; then
            report=$(grep -v -E '^#[0-9]+' "$log" | tail -n 40) # e.g. a build failure
        fi
        echo "$report"
        failed+=("$target")
    fi
done

if [ "${#failed[@]}" -ne 0 ]; then
    echo "== fuzzing found failures in: ${failed[*]} (inputs in fuzz/artifacts/)"
    exit 1
fi
echo "== fuzzing: all targets ran ${seconds}s without a crash"
