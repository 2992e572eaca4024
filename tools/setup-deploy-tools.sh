#!/usr/bin/env bash
# Creates target/deploy-venv with the deploy tools: aws-sam-cli (sam), cfn-lint and cargo-lambda
# (which pulls ziglang, its cross-linker). One venv on purpose: `sam build` runs cargo-lambda, which
# finds zig through the first `python3` on PATH, so all three must share an environment.
# Idempotent. Prints the versions. Use: PATH="$PWD/target/deploy-venv/bin:$PATH".
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/deploy-venv
if [ ! -x "$venv/bin/sam" ] || [ ! -x "$venv/bin/cfn-lint" ] || [ ! -x "$venv/bin/cargo-lambda" ]; then
  mkdir -p target
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check aws-sam-cli cfn-lint cargo-lambda
fi
export PATH="$PWD/$venv/bin:$PATH"
sam --version
cfn-lint --version
cargo lambda --version
