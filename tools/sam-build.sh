#!/usr/bin/env bash
# `sam build` with the deployable optimisation. SAM's Rust builder (BuildMethod rust-cargolambda)
# always runs `cargo lambda build --release` and cannot select a Cargo profile, and the release
# profile is tuned for a quick local build (no LTO). So this gives the release profile the
# settings of [profile.lambda] in Cargo.toml through Cargo's environment overrides (keep the two
# in step): fat LTO, one codegen unit, opt-level "s" (strip and panic = "unwind" are already in
# [profile.release]). The binaries are then the ones `bash tools/lambda-build.sh` builds.
# Arguments go to sam build. Needs the deploy tools on PATH (tools/setup-deploy-tools.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_PROFILE_RELEASE_LTO=fat
export CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1
export CARGO_PROFILE_RELEASE_OPT_LEVEL=s
exec sam build "$@"
