#!/bin/sh
# Fuzz the import reader (fuzz/fuzz_targets/import.rs) for a bounded time.
#
#   scripts/fuzz.sh [SECONDS] [extra libFuzzer flags...]
#
# Default 60 seconds. Needs cargo-fuzz (`cargo install cargo-fuzz`); its
# -Z flags need nightly, so RUSTC_BOOTSTRAP=1 lets a stable toolchain build
# it. Honours CARGO_TARGET_DIR. Seeds are written into fuzz/corpus/import
# from sample_data/; what the fuzzer finds is kept there between runs, and
# crashing inputs land in fuzz/artifacts/import/ (replay one with
# `cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run -s none import artifacts/import/crash-...`).
#
# FUZZ_SANITIZER (default none): the code under test is safe Rust plus the
# bundled SQLite, which cargo-fuzz does not instrument, so AddressSanitizer
# finds little here and costs 4-5x the executions; set it to `address` to
# use it anyway. Panics, overflow and the target's assertions are caught
# either way.
#
# To keep fuzzing past a known crash, add `-fork=1 -ignore_crashes=1`.
# Exit status: 0 when the time ran out without a finding, non-zero otherwise.
set -eu

secs=${1:-60}
[ $# -gt 0 ] && shift

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root/fuzz"

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "error: cargo-fuzz is not installed; run: cargo install cargo-fuzz" >&2
    exit 2
fi

corpus=corpus/import
mkdir -p "$corpus"
# The target reads its first byte as the mode (even: import, odd: dry run).
seed() {
    name=$1
    shift
    { printf '\000'; "$@"; } >"$corpus/seed-$name"
}
seed registrations head -n 30 "$root/sample_data/registrations.csv"
seed interventions cat "$root/sample_data/interventions.csv"
seed volume cat "$root/sample_data/volume.csv"
printf '\001event;intervention;pnr;consent;local_id;gender;date;outcome\r\nstart;T;;;L1;K;2021-01-05;\r\nexit;T;;;L1;;2021-06-01;Arbete\r\n' >"$corpus/seed-semicolon"

export RUSTC_BOOTSTRAP=1
exec cargo fuzz run --sanitizer "${FUZZ_SANITIZER:-none}" import "$corpus" -- \
    -dict=import.dict -max_total_time="$secs" -max_len=4096 -timeout=10 \
    -print_final_stats=1 "$@"
