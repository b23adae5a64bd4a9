#!/usr/bin/env bash
# Throughput and latency of the hot path against the release binary, with wrk
# (Debian package `wrk`): Encrypt (1 KiB), Decrypt and GenerateDataKey at 16 connections.
#
#   tests/bench/run.sh                 # builds target/release/trent, 10 s per operation
#   DURATION=30s CONNECTIONS=64 tests/bench/run.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
duration="${DURATION:-10s}"
connections="${CONNECTIONS:-16}"
command -v wrk >/dev/null || { echo "wrk is required: apt-get install wrk" >&2; exit 1; }

if [ -z "${TRENT_BIN:-}" ]; then
  (cd "$root" && cargo build --release --quiet --bin trent)
  TRENT_BIN="$root/target/release/trent"
fi
log="$(mktemp)"
"$TRENT_BIN" --listen 127.0.0.1:0 --in-memory --log warn,trent=info 2>"$log" &
pid=$!
trap 'kill $pid 2>/dev/null; rm -f "$log"' EXIT
for _ in $(seq 100); do
  endpoint="$(grep -o 'http://[0-9.:]*' "$log" | head -1 || true)"
  [ -n "$endpoint" ] && break
  sleep 0.1
done
[ -n "$endpoint" ] || { echo "trent did not start" >&2; cat "$log" >&2; exit 1; }

call() {
  curl -sf "$endpoint/" -H "X-Amz-Target: TrentService.$1" \
    -H 'Content-Type: application/x-amz-json-1.1' -d "$2"
}
json() { python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
export KEY_ID="$(call CreateKey '{}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["KeyMetadata"]["KeyId"])')"
export BLOB="$(call Encrypt "{\"KeyId\":\"$KEY_ID\",\"Plaintext\":\"$(head -c 1024 /dev/zero | base64 -w0)\"}" | json CiphertextBlob)"

for op in Encrypt Decrypt GenerateDataKey; do
  echo "== $op, $connections connections, $duration"
  OP=$op wrk -t1 -c"$connections" -d"$duration" --latency -s "$here/kms.lua" "$endpoint/" \
    | grep -E 'Requests/sec|Latency|50%|90%|99%|Non-2xx|requests in'
done
