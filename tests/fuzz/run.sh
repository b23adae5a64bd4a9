#!/usr/bin/env bash
# The wire-protocol fuzzer (tests/fuzz/fuzz.py): starts a trent binary on a free port, in
# memory and without an RSA key pool, sends it mutated KMS and test-control requests, then
# stops it. Exits non-zero on any finding. Arguments go to fuzz.py (--requests, --seed,
# --concurrency, --skip, --replay, --report; see tests/fuzz/fuzz.py --help).
#
#   tests/fuzz/run.sh                                    # builds target/debug/trent, 20,000 requests
#   TRENT_BIN=target/release/trent tests/fuzz/run.sh --requests 1000000
#   tests/fuzz/run.sh --endpoint http://127.0.0.1:8080   # a running trent instead: nothing is built
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"

for arg in "$@"; do
  case "$arg" in
    --endpoint|--endpoint=*) exec python3 "$here/fuzz.py" "$@" ;;
  esac
done
if [ -z "${TRENT_BIN:-}" ]; then
  (cd "$root" && cargo build --quiet --bin trent)
  TRENT_BIN="${CARGO_TARGET_DIR:-$root/target}/debug/trent"
fi
exec python3 "$here/fuzz.py" --bin "$TRENT_BIN" "$@"
