#!/usr/bin/env bash
# Run every fuzz target for SECONDS each (default 60); exit 1 when any target finds a crash.
#   tools/fuzz.sh [SECONDS]            all targets
#   FUZZ_TARGETS="compose" tools/fuzz.sh 600
# Needs Rust 1.95 stable (nightly-only sanitizer flags are enabled with RUSTC_BOOTSTRAP=1) and
# installs cargo-fuzz from crates.io when it is missing. The working corpus grows in
# fuzz/corpus/<target>/ (ignored by git); the repository's fixtures are read as seeds in place.
# Crashes land in fuzz/artifacts/<target>/; reproduce one with
#   RUSTC_BOOTSTRAP=1 cargo fuzz run <target> fuzz/artifacts/<target>/crash-...   (in the repo root)
# Logs: fuzz/target/logs/<target>.log (last lines: executions, exec/s, corpus size).
set -euo pipefail

SECONDS_PER_TARGET="${1:-60}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
export RUSTC_BOOTSTRAP=1
# cargo-fuzz 0.13.2 builds with Rust 1.95 (`--locked`: the versions its lock file was tested with).
CARGO_FUZZ_VERSION="${CARGO_FUZZ_VERSION:-0.13.2}"
SANITIZER="${FUZZ_SANITIZER:-address}"
TARGETS="${FUZZ_TARGETS:-parse_strip ses_event compose}"
# Release build without debug assertions, as Lambda runs it: mail-parser 0.11.9 has a
# `debug_assert!(false)` (message.rs:485) that odd nested multiparts reach and that release
# builds compile out. FUZZ_DEBUG_ASSERTIONS=1 turns them (and overflow checks) back on.
if [ "${FUZZ_DEBUG_ASSERTIONS:-0}" = 1 ]; then BUILD="--debug-assertions"; else BUILD="-O"; fi

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "installing cargo-fuzz $CARGO_FUZZ_VERSION" >&2
    cargo install cargo-fuzz --locked --version "$CARGO_FUZZ_VERSION"
fi

seeds() {
    local dirs=()
    case "$1" in
        parse_strip | compose)
            dirs=(shared/mail/tests/fixtures/eml shared/mail/tests/fixtures/reply
                  shared/mail/tests/corpus shared/mail/tests/fuzz-regressions
                  tools/mailcase/demo events/ingest) ;;
        ses_event)
            dirs=(events/ingest events/handoff fuzz/seeds/ses_event) ;;
    esac
    for d in "${dirs[@]}"; do
        [ -d "$d" ] && echo "$d"
    done
    return 0
}

max_len() {
    case "$1" in
        parse_strip) echo 65536 ;;
        compose) echo 16384 ;;
        *) echo 8192 ;;
    esac
}

mkdir -p fuzz/target/logs
failed=()
for t in $TARGETS; do
    mkdir -p "fuzz/corpus/$t"
    log="fuzz/target/logs/$t.log"
    echo "== $t: ${SECONDS_PER_TARGET}s (log: $log)" >&2
    # shellcheck disable=SC2046
    if cargo fuzz run $BUILD --sanitizer "$SANITIZER" "$t" "fuzz/corpus/$t" $(seeds "$t") -- \
        -max_total_time="$SECONDS_PER_TARGET" -max_len="$(max_len "$t")" \
        -dict="fuzz/dict/$t.dict" -timeout=20 -rss_limit_mb=3072 -print_final_stats=1 \
        >"$log" 2>&1; then
        runs=$(grep -o 'Done [0-9]* runs in [0-9]* second' "$log" | tail -1 || true)
        rate=$(grep -o 'exec/s: [0-9]*' "$log" | tail -1 || true)
        echo "   ok: ${runs:-?} (${rate:-?})" >&2
    else
        echo "   FAILED: see $log and fuzz/artifacts/$t/" >&2
        grep -E 'panicked at|ERROR: libFuzzer|SUMMARY|Test unit written' "$log" | head -5 >&2 || true
        failed+=("$t")
    fi
done

if [ "${#failed[@]}" -gt 0 ]; then
    echo "crashes in: ${failed[*]}" >&2
    exit 1
fi
