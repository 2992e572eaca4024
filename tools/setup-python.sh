#!/usr/bin/env bash
# Creates target/moto-venv with moto's server (the local AWS endpoint the tests start).
# Idempotent; the test harness (tools/testkit) runs the same steps itself when this was skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/moto-venv
if [ ! -x "$venv/bin/moto_server" ]; then
  mkdir -p target
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check 'moto[server]'
fi
"$venv/bin/python" -c 'import moto; print("moto", moto.__version__)'
