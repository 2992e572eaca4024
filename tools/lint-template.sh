#!/usr/bin/env bash
# Lints template.yaml offline: cfn-lint, SAM's own translation and `sam validate --lint`, then
# checkov's AWS checks (every check we judge not to apply is skipped in the template with its
# reason; any other failure fails this script).
# No AWS credentials or network needed beyond the package registry on first use (installs the
# tools, see setup-deploy-tools.sh). checkov has its own venv: it pins many of the libraries
# aws-sam-cli and cfn-lint also pin, and one venv for all three would not resolve stably.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup-deploy-tools.sh >/dev/null
export PATH="$PWD/target/deploy-venv/bin:$PATH" SAM_CLI_TELEMETRY=0
cfn-lint template.yaml
sam validate --region us-east-1
sam validate --lint --region us-east-1

checkov_venv=target/checkov-venv
checkov_version=3.3.30
if [ ! -x "$checkov_venv/bin/checkov" ] || ! "$checkov_venv/bin/pip" show checkov 2>/dev/null | grep -qx "Version: $checkov_version"; then
  mkdir -p target
  python3 -m venv "$checkov_venv"
  "$checkov_venv/bin/pip" install --quiet --disable-pip-version-check "checkov==$checkov_version"
fi
# Offline: no guideline download from the vendor's API, no version check.
BC_SKIP_MAPPING=TRUE CHECKOV_RUN_SCA_PACKAGE_SCAN_V2=false "$checkov_venv/bin/checkov" \
  -f template.yaml --framework cloudformation --compact --quiet --skip-download
