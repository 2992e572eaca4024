#!/usr/bin/env bash
# Lints template.yaml offline: cfn-lint, then SAM's own translation and `sam validate --lint`.
# No AWS credentials or network needed (installs the tools on first use, see setup-deploy-tools.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup-deploy-tools.sh >/dev/null
export PATH="$PWD/target/deploy-venv/bin:$PATH" SAM_CLI_TELEMETRY=0
cfn-lint template.yaml
sam validate --region us-east-1
sam validate --lint --region us-east-1
