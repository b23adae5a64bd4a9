-- wrk script: one KMS operation, repeated. Set OP (Encrypt | GenerateDataKey | Decrypt)
-- and KEY_ID (and BLOB, base64, for Decrypt) in the environment.
local op = os.getenv("OP") or "Encrypt"
local key = os.getenv("KEY_ID")
local bodies = {
  -- 1 KiB of plaintext: 1366 base64 'A's and padding.
  Encrypt = '{"KeyId":"' .. key .. '","Plaintext":"' .. string.rep("A", 1366) .. '=="}',
  GenerateDataKey = '{"KeyId":"' .. key .. '","KeySpec":"AES_256"}',
  Decrypt = '{"CiphertextBlob":"' .. (os.getenv("BLOB") or "") .. '"}',
}

wrk.method = "POST"
wrk.path = "/"
wrk.headers["Content-Type"] = "application/x-amz-json-1.1"
wrk.headers["X-Amz-Target"] = "TrentService." .. op
wrk.body = bodies[op]
