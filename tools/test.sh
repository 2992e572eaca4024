#!/usr/bin/env bash
# The test command: every unit, golden, property and end-to-end test in the workspace.
# End-to-end tests start their own moto server and Dataverse emulator on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup-python.sh >/dev/null
cargo test --workspace --locked "$@"
