-- wrk script: one KMS request, repeated. OP is the operation (X-Amz-Target) and BODY its
-- JSON body, both from the environment.
wrk.method = "POST"
wrk.path = "/"
wrk.headers["Content-Type"] = "application/x-amz-json-1.1"
wrk.headers["X-Amz-Target"] = "TrentService." .. os.getenv("OP")
wrk.body = os.getenv("BODY")
