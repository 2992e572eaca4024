#!/usr/bin/env bash
# The deployable build of both Lambda binaries with cargo-lambda (template.yaml: arm64,
# provided.al2023), with the `lambda` profile of Cargo.toml (fat LTO, opt-level "s", stripped):
# target/lambda/{ingest,handoff}/bootstrap. Installs cargo-lambda on first use.
# Arch: LAMBDA_ARCH=arm64 (default) or x86-64. arm64 needs the aarch64-unknown-linux-gnu std; it is
# added with rustup when missing, and if that is impossible the build falls back to x86-64 and says
# so (CI then proves the build, but the binaries are not the arm64 ones the template deploys).
# Extra arguments go to cargo lambda build (e.g. --locked). The lambda profile sets lto, strip,
# codegen-units and panic itself; cargo-lambda adds only target-cpu=neoverse-n1 (Graviton) for arm64.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup-deploy-tools.sh >/dev/null
export PATH="$PWD/target/deploy-venv/bin:$PATH"
arch="${LAMBDA_ARCH:-arm64}"
if [ "$arch" = arm64 ] && ! rustup target list --installed 2>/dev/null | grep -qx aarch64-unknown-linux-gnu; then
  if ! rustup target add aarch64-unknown-linux-gnu; then
    echo "WARNING: no aarch64-unknown-linux-gnu std on this machine: building x86-64 instead" >&2
    arch=x86-64
  fi
fi
start=$SECONDS
cargo lambda build --profile lambda "--$arch" -p ingest -p handoff "$@"
echo "cargo lambda build --profile lambda --$arch: $((SECONDS - start)) s"
out="${CARGO_TARGET_DIR:-target}/lambda"
ls -l "$out"/*/bootstrap
file "$out"/*/bootstrap 2>/dev/null || true
