#!/usr/bin/env bash
# The second test tier: drives a trent binary with boto3, the AWS CLI and the AWS
# Encryption SDK for Python, and checks results with `cryptography` and `openssl`.
#
#   tests/clients/run.sh            # builds target/debug/trent, then runs the tests
#   TRENT_BIN=target/release/trent tests/clients/run.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="$here/.venv"

if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"

if [ -z "${TRENT_BIN:-}" ]; then
  (cd "$root" && cargo build --quiet --bin trent)
  export TRENT_BIN="$root/target/debug/trent"
fi
command -v openssl >/dev/null || { echo "openssl is required" >&2; exit 1; }

export PATH="$venv/bin:$PATH"
cd "$here"
exec "$venv/bin/python" -m pytest -q "$@"
