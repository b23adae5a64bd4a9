#!/usr/bin/env bash
# The AWS SDK for JavaScript v3 against trent, with Node's own test runner.
#
#   tests/js/run.sh                                         # starts target/debug/trent
#   TRENT_BIN=target/release/trent tests/js/run.sh
#   AWS_ENDPOINT_URL_KMS=http://127.0.0.1:8080 tests/js/run.sh  # a trent already running
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"

command -v node >/dev/null || { echo "node is required" >&2; exit 1; }
command -v npm >/dev/null || { echo "npm is required" >&2; exit 1; }

cd "$here"
if [ -f package-lock.json ]; then
  npm ci --silent --no-audit --no-fund
else
  npm install --silent --no-audit --no-fund
fi

export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true

if [ -z "${AWS_ENDPOINT_URL_KMS:-}" ]; then
  bin="${TRENT_BIN:-${CARGO_TARGET_DIR:-$root/target}/debug/trent}"
  [ -x "$bin" ] || { echo "no trent binary at $bin (build it, or set TRENT_BIN)" >&2; exit 1; }
  work="$(mktemp -d)"
  "$bin" --listen 127.0.0.1:0 --data-dir "$work/data" --log info --rsa-key-pool 0 \
    >/dev/null 2>"$work/trent.log" &
  trent_pid=$!
  trap 'kill "$trent_pid" 2>/dev/null; wait "$trent_pid" 2>/dev/null; rm -rf "$work"' EXIT
  for _ in $(seq 300); do
    endpoint="$(grep -o 'serving the AWS KMS API on http://[^ ]*' "$work/trent.log" | awk '{print $NF}' || true)"
    [ -n "$endpoint" ] && break
    kill -0 "$trent_pid" 2>/dev/null || { cat "$work/trent.log" >&2; exit 1; }
    sleep 0.1
  done
  [ -n "$endpoint" ] || { echo "trent did not report its address" >&2; exit 1; }
  export AWS_ENDPOINT_URL_KMS="$endpoint"
fi

node --test "$@"
