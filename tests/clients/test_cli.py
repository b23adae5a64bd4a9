"""The README's AWS CLI walkthrough, run for real, with envelope encryption of a file
by `openssl` using a data key from trent."""

import base64
import json
import subprocess


def aws(endpoint, *args, check=True):
    result = subprocess.run(
        ["aws", "kms", *args, "--endpoint-url", endpoint, "--output", "json"],
        capture_output=True,
        text=True,
    )
    if check and result.returncode != 0:
        raise AssertionError(result.stderr)
    return result


def out(result):
    return json.loads(result.stdout) if result.stdout.strip() else None


def test_walkthrough(trent, tmp_path):
    ep = trent.endpoint
    key = out(aws(ep, "create-key", "--description", "demo"))["KeyMetadata"]
    aws(ep, "create-alias", "--alias-name", "alias/demo", "--target-key-id", key["KeyId"])

    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"the launch codes\n")
    blob = out(
        aws(ep, "encrypt", "--key-id", "alias/demo", "--plaintext", f"fileb://{secret}",
            "--encryption-context", "app=web")
    )["CiphertextBlob"]
    enc = tmp_path / "secret.enc"
    enc.write_bytes(base64.b64decode(blob))
    plain = out(aws(ep, "decrypt", "--ciphertext-blob", f"fileb://{enc}",
                    "--encryption-context", "app=web"))
    assert base64.b64decode(plain["Plaintext"]) == b"the launch codes\n"
    assert plain["KeyId"] == key["Arn"]

    wrong = aws(ep, "decrypt", "--ciphertext-blob", f"fileb://{enc}",
                "--encryption-context", "app=api", check=False)
    assert wrong.returncode != 0 and "InvalidCiphertextException" in wrong.stderr

    aws(ep, "disable-key", "--key-id", key["KeyId"])
    denied = aws(ep, "encrypt", "--key-id", "alias/demo", "--plaintext", f"fileb://{secret}",
                 check=False)
    assert "DisabledException" in denied.stderr and f"{key['Arn']} is disabled." in denied.stderr
    aws(ep, "enable-key", "--key-id", key["KeyId"])

    scheduled = out(aws(ep, "schedule-key-deletion", "--key-id", key["KeyId"],
                        "--pending-window-in-days", "7"))
    assert scheduled["KeyState"] == "PendingDeletion"
    aws(ep, "cancel-key-deletion", "--key-id", key["KeyId"])
    meta = out(aws(ep, "describe-key", "--key-id", "alias/demo"))["KeyMetadata"]
    assert meta["KeyState"] == "Disabled"


def test_envelope_encryption_with_openssl(trent, tmp_path):
    ep = trent.endpoint
    key_id = out(aws(ep, "create-key"))["KeyMetadata"]["KeyId"]
    dk = out(aws(ep, "generate-data-key", "--key-id", key_id, "--key-spec", "AES_256"))
    data_key = base64.b64decode(dk["Plaintext"])
    (tmp_path / "key.enc").write_bytes(base64.b64decode(dk["CiphertextBlob"]))

    document = tmp_path / "document.txt"
    document.write_bytes(b"a large document\n" * 1000)
    iv = "00112233445566778899aabbccddeeff"
    subprocess.run(
        ["openssl", "enc", "-aes-256-cbc", "-K", data_key.hex(), "-iv", iv,
         "-in", str(document), "-out", str(tmp_path / "document.enc")],
        check=True,
    )

    # Decrypt side: only key.enc and document.enc are kept.
    recovered = out(aws(ep, "decrypt", "--ciphertext-blob", f"fileb://{tmp_path / 'key.enc'}"))
    recovered_key = base64.b64decode(recovered["Plaintext"])
    assert recovered_key == data_key
    result = subprocess.run(
        ["openssl", "enc", "-d", "-aes-256-cbc", "-K", recovered_key.hex(), "-iv", iv,
         "-in", str(tmp_path / "document.enc")],
        check=True,
        capture_output=True,
    )
    assert result.stdout == document.read_bytes()
