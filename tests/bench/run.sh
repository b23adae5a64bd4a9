#!/usr/bin/env bash
# Throughput and latency against the release binary, with wrk (Debian package `wrk`) at 16
# connections: the symmetric hot path (Encrypt 1 KiB, Decrypt, GenerateDataKey), signing
# (ECDSA P-256 Sign and Verify, RSA-2048 PSS Sign), GenerateMac, then CreateKey RSA_4096
# latency while the RSA key pool has keys and once it has run dry.
#
#   tests/bench/run.sh                 # builds target/release/trent, 10 s per operation
#   DURATION=30s CONNECTIONS=64 tests/bench/run.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
duration="${DURATION:-10s}"
connections="${CONNECTIONS:-16}"
pool="${POOL:-24}"
command -v wrk >/dev/null || { echo "wrk is required: apt-get install wrk" >&2; exit 1; }

if [ -z "${TRENT_BIN:-}" ]; then
  (cd "$root" && cargo build --release --quiet --bin trent)
  TRENT_BIN="${CARGO_TARGET_DIR:-$root/target}/release/trent"
fi
log="$(mktemp)"
"$TRENT_BIN" --listen 127.0.0.1:0 --in-memory --rsa-key-pool "$pool" --log warn,trent=info 2>"$log" &
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
field() { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval('d' + sys.argv[1]))" "$1"; }
key() { call CreateKey "$1" | field '["KeyMetadata"]["KeyId"]'; }

# The pool fills on one core after start; wait for it so that it does not share the CPU
# with the benchmarks.
echo "== waiting for the RSA key pool ($pool keys per size)"
for _ in $(seq 600); do grep -q "RSA key pool full" "$log" && break; sleep 0.5; done
grep -q "RSA key pool full" "$log" || { echo "the pool did not fill" >&2; exit 1; }

aes="$(key '{}')"
p256="$(key '{"KeySpec":"ECC_NIST_P256","KeyUsage":"SIGN_VERIFY"}')"
rsa="$(key '{"KeySpec":"RSA_2048","KeyUsage":"SIGN_VERIFY"}')"
hmac="$(key '{"KeySpec":"HMAC_256","KeyUsage":"GENERATE_VERIFY_MAC"}')"
kib="$(head -c 1024 /dev/zero | base64 -w0)"
blob="$(call Encrypt "{\"KeyId\":\"$aes\",\"Plaintext\":\"$kib\"}" | field '["CiphertextBlob"]')"
sleep 1  # the pool replaces the RSA key just taken
sig="$(call Sign "{\"KeyId\":\"$p256\",\"Message\":\"$kib\",\"SigningAlgorithm\":\"ECDSA_SHA_256\"}" | field '["Signature"]')"

bench() {
  echo "== $1, $connections connections, $duration"
  OP="$2" BODY="$3" wrk -t1 -c"$connections" -d"$duration" --latency -s "$here/kms.lua" "$endpoint/" \
    | grep -E 'Requests/sec|Latency|50%|90%|99%|Non-2xx|requests in'
}
bench "Encrypt 1 KiB" Encrypt "{\"KeyId\":\"$aes\",\"Plaintext\":\"$kib\"}"
bench "Decrypt" Decrypt "{\"CiphertextBlob\":\"$blob\"}"
bench "GenerateDataKey AES_256" GenerateDataKey "{\"KeyId\":\"$aes\",\"KeySpec\":\"AES_256\"}"
bench "Sign ECDSA P-256 (1 KiB RAW)" Sign "{\"KeyId\":\"$p256\",\"Message\":\"$kib\",\"SigningAlgorithm\":\"ECDSA_SHA_256\"}"
bench "Verify ECDSA P-256" Verify "{\"KeyId\":\"$p256\",\"Message\":\"$kib\",\"Signature\":\"$sig\",\"SigningAlgorithm\":\"ECDSA_SHA_256\"}"
bench "Sign RSA-2048 PSS" Sign "{\"KeyId\":\"$rsa\",\"Message\":\"$kib\",\"SigningAlgorithm\":\"RSASSA_PSS_SHA_256\"}"
bench "GenerateMac HMAC_SHA_256" GenerateMac "{\"KeyId\":\"$hmac\",\"Message\":\"$kib\",\"MacAlgorithm\":\"HMAC_SHA_256\"}"

# CreateKey RSA_4096, one request at a time: from the pool, then with the pool dry.
echo "== CreateKey RSA_4096, one at a time"
times=()
for _ in $(seq $((pool + 8))); do
  times+=("$(curl -s -o /dev/null -w '%{time_total}' "$endpoint/" -H 'X-Amz-Target: TrentService.CreateKey' \
    -H 'Content-Type: application/x-amz-json-1.1' -d '{"KeySpec":"RSA_4096","KeyUsage":"SIGN_VERIFY"}')")
done
python3 - "$pool" "${times[@]}" <<'PY'
import statistics, sys
pool, times = int(sys.argv[1]), [float(t) * 1000 for t in sys.argv[2:]]
pooled, dry = times[:pool], times[pool:]
print(f"from the pool ({len(pooled)}): p50 {statistics.median(pooled):.1f} ms, max {max(pooled):.1f} ms")
print(f"pool dry ({len(dry)}):     p50 {statistics.median(dry):.1f} ms, max {max(dry):.1f} ms")
PY
