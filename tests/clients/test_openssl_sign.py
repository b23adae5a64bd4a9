"""Signatures made with `aws kms sign` against trent verify with `openssl`, using the
public key from `aws kms get-public-key` converted from DER by `openssl pkey`."""

import base64
import hashlib
import subprocess

from test_cli import aws, out

MESSAGE = b"signed through the AWS CLI\n"


def openssl(*args, check=True):
    result = subprocess.run(["openssl", *args], capture_output=True, text=True)
    if check and result.returncode != 0:
        raise AssertionError(result.stderr)
    return result


def public_key_pem(ep, key_id, tmp_path):
    """get-public-key -> DER file -> PEM via openssl; returns (pem path, openssl text)."""
    resp = out(aws(ep, "get-public-key", "--key-id", key_id))
    der = tmp_path / f"{key_id}.der"
    der.write_bytes(base64.b64decode(resp["PublicKey"]))
    pem = tmp_path / f"{key_id}.pem"
    openssl("pkey", "-pubin", "-inform", "DER", "-in", str(der), "-out", str(pem))
    text = openssl("pkey", "-pubin", "-in", str(pem), "-text", "-noout").stdout
    return resp, pem, text


def cli_sign(ep, key_id, message_file, algorithm, message_type, sig_file):
    resp = out(aws(ep, "sign", "--key-id", key_id, "--message", f"fileb://{message_file}",
                   "--message-type", message_type, "--signing-algorithm", algorithm))
    assert resp["SigningAlgorithm"] == algorithm
    sig_file.write_bytes(base64.b64decode(resp["Signature"]))
    return resp


def tampered(sig_file):
    sig = bytearray(sig_file.read_bytes())
    sig[-1] ^= 0x01
    bad = sig_file.with_suffix(".bad")
    bad.write_bytes(bytes(sig))
    return bad


def test_ecdsa_p256_signature_verifies_with_openssl(trent, tmp_path):
    """ECDSA_SHA_256 over a RAW message verifies with `openssl dgst -sha256 -verify`, and
    over a DIGEST with `openssl pkeyutl -verify`; a flipped bit fails both."""
    ep = trent.endpoint
    key = out(aws(ep, "create-key", "--key-spec", "ECC_NIST_P256",
                  "--key-usage", "SIGN_VERIFY"))["KeyMetadata"]
    resp, pem, text = public_key_pem(ep, key["KeyId"], tmp_path)
    assert resp["KeySpec"] == "ECC_NIST_P256" and resp["SigningAlgorithms"] == ["ECDSA_SHA_256"]
    assert "Public-Key: (256 bit)" in text and "ASN1 OID: prime256v1" in text

    msg = tmp_path / "msg"
    msg.write_bytes(MESSAGE)
    sig = tmp_path / "raw.sig"
    signed = cli_sign(ep, key["KeyId"], msg, "ECDSA_SHA_256", "RAW", sig)
    assert signed["KeyId"] == key["Arn"]
    ok = openssl("dgst", "-sha256", "-verify", str(pem), "-signature", str(sig), str(msg))
    assert ok.stdout.strip() == "Verified OK"
    bad = openssl("dgst", "-sha256", "-verify", str(pem), "-signature", str(tampered(sig)),
                  str(msg), check=False)
    assert bad.returncode != 0 and "Verification failure" in bad.stdout

    digest = tmp_path / "digest"
    digest.write_bytes(hashlib.sha256(MESSAGE).digest())
    dsig = tmp_path / "digest.sig"
    cli_sign(ep, key["KeyId"], digest, "ECDSA_SHA_256", "DIGEST", dsig)
    ok = openssl("pkeyutl", "-verify", "-pubin", "-inkey", str(pem),
                 "-in", str(digest), "-sigfile", str(dsig))
    assert "Signature Verified Successfully" in ok.stdout

    verified = out(aws(ep, "verify", "--key-id", key["KeyId"], "--message", f"fileb://{msg}",
                       "--message-type", "RAW", "--signing-algorithm", "ECDSA_SHA_256",
                       "--signature", f"fileb://{dsig}"))
    assert verified["SignatureValid"] is True


def test_rsa_pss_signature_verifies_with_openssl(trent, tmp_path):
    """RSASSA_PSS_SHA_256 signatures (salt length 32) verify with openssl for a RAW
    message (`dgst -sigopt`) and a DIGEST (`pkeyutl -pkeyopt`); openssl insisting on
    salt length 32 proves KMS's salt = digest length."""
    ep = trent.endpoint
    key = out(aws(ep, "create-key", "--key-spec", "RSA_2048",
                  "--key-usage", "SIGN_VERIFY"))["KeyMetadata"]
    resp, pem, text = public_key_pem(ep, key["KeyId"], tmp_path)
    assert resp["KeySpec"] == "RSA_2048" and "RSASSA_PSS_SHA_256" in resp["SigningAlgorithms"]
    assert "Public-Key: (2048 bit)" in text and "Exponent: 65537 (0x10001)" in text

    msg = tmp_path / "msg"
    msg.write_bytes(MESSAGE)
    sig = tmp_path / "raw.sig"
    cli_sign(ep, key["KeyId"], msg, "RSASSA_PSS_SHA_256", "RAW", sig)
    assert len(sig.read_bytes()) == 256
    pss = ["-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:32"]
    ok = openssl("dgst", "-sha256", *pss, "-verify", str(pem), "-signature", str(sig), str(msg))
    assert ok.stdout.strip() == "Verified OK"
    bad = openssl("dgst", "-sha256", *pss, "-verify", str(pem), "-signature",
                  str(tampered(sig)), str(msg), check=False)
    assert bad.returncode != 0 and "Verification failure" in bad.stdout
    wrong_salt = openssl("dgst", "-sha256", "-sigopt", "rsa_padding_mode:pss",
                         "-sigopt", "rsa_pss_saltlen:20", "-verify", str(pem),
                         "-signature", str(sig), str(msg), check=False)
    assert wrong_salt.returncode != 0

    digest = tmp_path / "digest"
    digest.write_bytes(hashlib.sha256(MESSAGE).digest())
    dsig = tmp_path / "digest.sig"
    cli_sign(ep, key["KeyId"], digest, "RSASSA_PSS_SHA_256", "DIGEST", dsig)
    ok = openssl("pkeyutl", "-verify", "-pubin", "-inkey", str(pem), "-in", str(digest),
                 "-sigfile", str(dsig), "-pkeyopt", "rsa_padding_mode:pss",
                 "-pkeyopt", "rsa_pss_saltlen:32", "-pkeyopt", "digest:sha256")
    assert "Signature Verified Successfully" in ok.stdout
