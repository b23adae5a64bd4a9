"""boto3 against trent: success paths, AWS error types, and data keys checked with
an independent AES implementation (`cryptography`)."""

import os

import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives.ciphers.aead import AESGCM


def error(excinfo):
    e = excinfo.value.response["Error"]
    return e["Code"], e.get("Message", "")


def test_encrypt_decrypt_and_errors(kms):
    key = kms.create_key(Description="boto3")["KeyMetadata"]
    arn = key["Arn"]
    kms.create_alias(AliasName="alias/boto", TargetKeyId=key["KeyId"])
    blob = kms.encrypt(KeyId="alias/boto", Plaintext=b"hello", EncryptionContext={"app": "web"})[
        "CiphertextBlob"
    ]
    out = kms.decrypt(CiphertextBlob=blob, EncryptionContext={"app": "web"})
    assert out["Plaintext"] == b"hello"
    assert out["KeyId"] == arn

    with pytest.raises(kms.exceptions.InvalidCiphertextException):
        kms.decrypt(CiphertextBlob=blob, EncryptionContext={"app": "api"})

    kms.disable_key(KeyId=key["KeyId"])
    with pytest.raises(kms.exceptions.DisabledException) as e:
        kms.encrypt(KeyId=key["KeyId"], Plaintext=b"x")
    assert error(e) == ("DisabledException", f"{arn} is disabled.")

    kms.schedule_key_deletion(KeyId=key["KeyId"], PendingWindowInDays=7)
    with pytest.raises(kms.exceptions.KMSInvalidStateException) as e:
        kms.decrypt(CiphertextBlob=blob, EncryptionContext={"app": "web"})
    assert error(e) == ("KMSInvalidStateException", f"{arn} is pending deletion.")

    with pytest.raises(kms.exceptions.NotFoundException) as e:
        kms.describe_key(KeyId="nope")
    assert error(e) == ("NotFoundException", "Invalid keyId 'nope'")

    with pytest.raises(ClientError) as e:
        kms.encrypt(KeyId=key["KeyId"], Plaintext=b"x" * 4097)
    assert error(e) == (
        "ValidationException",
        "1 validation error detected: Value at 'plaintext' failed to satisfy constraint: "
        "Member must have length less than or equal to 4096",
    )


def test_data_key_works_with_an_independent_aes_implementation(kms):
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    dk = kms.generate_data_key(KeyId=key_id, KeySpec="AES_256", EncryptionContext={"file": "a"})
    assert len(dk["Plaintext"]) == 32

    nonce = os.urandom(12)
    sealed = AESGCM(dk["Plaintext"]).encrypt(nonce, b"envelope payload", b"")

    # Later: recover the data key from its encrypted copy alone, then open the payload.
    recovered = kms.decrypt(CiphertextBlob=dk["CiphertextBlob"], EncryptionContext={"file": "a"})
    assert recovered["Plaintext"] == dk["Plaintext"]
    assert AESGCM(recovered["Plaintext"]).decrypt(nonce, sealed, b"") == b"envelope payload"

    wp = kms.generate_data_key_without_plaintext(KeyId=key_id, NumberOfBytes=16)
    assert len(kms.decrypt(CiphertextBlob=wp["CiphertextBlob"])["Plaintext"]) == 16
    randoms = {kms.generate_random(NumberOfBytes=32)["Plaintext"] for _ in range(20)}
    assert len(randoms) == 20


def test_re_encrypt_and_paginators(kms):
    a = kms.create_key()["KeyMetadata"]["KeyId"]
    b = kms.create_key()["KeyMetadata"]["KeyId"]
    blob = kms.encrypt(KeyId=a, Plaintext=b"move me")["CiphertextBlob"]
    moved = kms.re_encrypt(CiphertextBlob=blob, DestinationKeyId=b)
    assert moved["SourceKeyId"].endswith(a) and moved["KeyId"].endswith(b)
    assert kms.decrypt(CiphertextBlob=moved["CiphertextBlob"])["Plaintext"] == b"move me"

    for _ in range(3):
        kms.create_key()
    pages = list(kms.get_paginator("list_keys").paginate(PaginationConfig={"PageSize": 2}))
    assert len(pages) == 3
    ids = [k["KeyId"] for page in pages for k in page["Keys"]]
    assert len(ids) == len(set(ids)) == 5


def test_regions_are_isolated(trent):
    east, west = trent.client("us-east-1"), trent.client("eu-central-1")
    key = east.create_key()["KeyMetadata"]
    with pytest.raises(west.exceptions.NotFoundException):
        west.describe_key(KeyId=key["KeyId"])
    with pytest.raises(west.exceptions.NotFoundException):
        west.describe_key(KeyId=key["Arn"])
    assert west.create_key()["KeyMetadata"]["Arn"].startswith("arn:aws:kms:eu-central-1:")


def test_acknowledged_writes_survive_kill_9(start):
    first = start()
    kms = first.client()
    key_id = kms.create_key(Description="durable")["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/durable", TargetKeyId=key_id)
    kms.tag_resource(KeyId=key_id, Tags=[{"TagKey": "k", "TagValue": "v"}])
    blob = kms.encrypt(KeyId="alias/durable", Plaintext=b"still here")["CiphertextBlob"]
    kms.disable_key(KeyId=key_id)
    first.kill()

    second = start(first.data_dir)
    kms = second.client()
    meta = kms.describe_key(KeyId="alias/durable")["KeyMetadata"]
    assert meta["KeyId"] == key_id and meta["KeyState"] == "Disabled"
    assert kms.list_resource_tags(KeyId=key_id)["Tags"] == [{"TagKey": "k", "TagValue": "v"}]
    kms.enable_key(KeyId=key_id)
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"still here"


def test_logs_never_show_plaintext_or_key_material(trent, kms):
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    secret = b"top-secret-plaintext-marker"
    blob = kms.encrypt(KeyId=key_id, Plaintext=secret)["CiphertextBlob"]
    dk = kms.generate_data_key(KeyId=key_id, KeySpec="AES_256")
    kms.decrypt(CiphertextBlob=blob)
    log = trent.log_text()
    assert "serving the AWS KMS API" in log
    assert secret.decode() not in log
    import base64

    for sensitive in (secret, dk["Plaintext"]):
        assert base64.b64encode(sensitive).decode() not in log
        assert sensitive.hex() not in log


def test_json_logs_have_a_line_per_request_and_no_secrets(start):
    """--log-format json: every line is a JSON object; each request has one line at info
    with its operation, key id, status, duration and request id; no plaintext anywhere,
    even at trace."""
    import base64
    import json

    trent = start(None, "--log-format", "json", "--log", "trace")
    kms = trent.client()
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    secret = b"json-log-plaintext-marker"
    response = kms.encrypt(KeyId=key_id, Plaintext=secret)
    with pytest.raises(kms.exceptions.NotFoundException):
        kms.describe_key(KeyId="alias/missing")
    log = trent.log_text()
    lines = [json.loads(line) for line in log.splitlines() if line.strip()]
    requests = [l for l in lines if l.get("message") == "request"]
    encrypt = next(l for l in requests if l["operation"] == "Encrypt")
    assert encrypt["level"] == "INFO"
    assert encrypt["key_id"] == key_id and encrypt["status"] == 200
    assert encrypt["duration_ms"] >= 0
    assert encrypt["request_id"] == response["ResponseMetadata"]["RequestId"]
    missing = next(l for l in requests if l["operation"] == "DescribeKey" and l["status"] == 400)
    assert missing["error"] == "NotFoundException"
    for sensitive in (secret.decode(), base64.b64encode(secret).decode(), secret.hex()):
        assert sensitive not in log
