#!/usr/bin/env bash
# The second test tier: drives a trent binary with boto3, the AWS CLI, the AWS
# Encryption SDK for Python and its CLI, SOPS, Google Tink and the AWS SDK for
# JavaScript v3 (tests/js), and checks results with `cryptography` and `openssl`.
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
# aws-encryption-sdk-cli requires aws-encryption-sdk<4, which the keyring tests can't use.
if [ ! -x "$venv/esdk-cli/bin/python" ]; then
  "$venv/bin/python" -m venv "$venv/esdk-cli"
fi
"$venv/esdk-cli/bin/pip" install --quiet --disable-pip-version-check "aws-encryption-sdk-cli~=4.3"

if [ -z "${TRENT_BIN:-}" ]; then
  (cd "$root" && cargo build --quiet --bin trent)
  export TRENT_BIN="${CARGO_TARGET_DIR:-$root/target}/debug/trent"
fi
command -v openssl >/dev/null || { echo "openssl is required" >&2; exit 1; }
command -v node >/dev/null && command -v npm >/dev/null \
  || { echo "node and npm are required (tests/js)" >&2; exit 1; }
npm ci --prefix "$root/tests/js" --silent --no-audit --no-fund

export PATH="$venv/bin:$PATH"
cd "$here"
exec "$venv/bin/python" -m pytest -q "$@"
