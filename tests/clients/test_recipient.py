"""Recipient (AWS Nitro Enclaves attestation): trent answers with CiphertextForRecipient,
a CMS envelope that `openssl cms` opens with the enclave's private key."""

import subprocess

import cbor2
import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


@pytest.fixture(scope="module")
def enclave_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def attestation_document(private_key) -> bytes:
    """An untagged COSE_Sign1 document, shaped as a Nitro enclave sends it."""
    spki = private_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    payload = cbor2.dumps(
        {
            "module_id": "i-0123456789abcdef0-enc0123456789abcd",
            "digest": "SHA384",
            "timestamp": 1764000000000,
            "pcrs": {i: bytes(48) for i in range(4)},
            "certificate": b"\x30\x00",
            "cabundle": [b"\x30\x00"],
            "public_key": spki,
            "user_data": None,
            "nonce": None,
        }
    )
    return cbor2.dumps([cbor2.dumps({1: -35}), {}, payload, bytes(96)])


def recipient(private_key):
    return {
        "KeyEncryptionAlgorithm": "RSAES_OAEP_SHA_256",
        "AttestationDocument": attestation_document(private_key),
    }


def open_envelope(tmp_path, private_key, envelope: bytes) -> bytes:
    key_pem = tmp_path / "enclave.pem"
    key_pem.write_bytes(
        private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    (tmp_path / "envelope.der").write_bytes(envelope)
    result = subprocess.run(
        ["openssl", "cms", "-decrypt", "-inform", "DER", "-binary",
         "-in", str(tmp_path / "envelope.der"), "-inkey", str(key_pem)],
        capture_output=True,
        check=True,
    )
    return result.stdout


def test_decrypt_for_an_enclave(kms, enclave_key, tmp_path):
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"enclave secret")["CiphertextBlob"]
    out = kms.decrypt(CiphertextBlob=blob, Recipient=recipient(enclave_key))
    assert "Plaintext" not in out or not out["Plaintext"]
    assert open_envelope(tmp_path, enclave_key, out["CiphertextForRecipient"]) == b"enclave secret"


def test_generate_data_key_and_random_for_an_enclave(kms, enclave_key, tmp_path):
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    out = kms.generate_data_key(KeyId=key_id, KeySpec="AES_256", Recipient=recipient(enclave_key))
    assert "Plaintext" not in out or not out["Plaintext"]
    data_key = open_envelope(tmp_path, enclave_key, out["CiphertextForRecipient"])
    assert len(data_key) == 32
    # The ordinary encrypted copy holds the same key.
    assert kms.decrypt(CiphertextBlob=out["CiphertextBlob"])["Plaintext"] == data_key

    out = kms.generate_random(NumberOfBytes=48, Recipient=recipient(enclave_key))
    assert "Plaintext" not in out or not out["Plaintext"]
    assert len(open_envelope(tmp_path, enclave_key, out["CiphertextForRecipient"])) == 48


def test_unusable_attestation_documents_are_refused(kms, enclave_key):
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"x")["CiphertextBlob"]
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    for doc in (b"not cbor", cbor2.dumps([b"", {}, cbor2.dumps({"nonce": None}), b""]),
                attestation_document(small)):
        with pytest.raises(ClientError) as e:
            kms.decrypt(CiphertextBlob=blob, Recipient={"AttestationDocument": doc})
        assert e.value.response["Error"]["Code"] == "ValidationException"


def test_data_key_pair_and_shared_secret_for_an_enclave(kms, enclave_key, tmp_path):
    """GenerateDataKeyPair and DeriveSharedSecret seal their secret for the enclave too."""
    from cryptography.hazmat.primitives.asymmetric import ec

    wrapping = kms.create_key()["KeyMetadata"]["KeyId"]
    out = kms.generate_data_key_pair(
        KeyId=wrapping, KeyPairSpec="ECC_NIST_P256", Recipient=recipient(enclave_key)
    )
    assert "PrivateKeyPlaintext" not in out or not out["PrivateKeyPlaintext"]
    private_der = open_envelope(tmp_path, enclave_key, out["CiphertextForRecipient"])
    private = serialization.load_der_private_key(private_der, password=None)
    assert private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ) == out["PublicKey"]
    assert kms.decrypt(CiphertextBlob=out["PrivateKeyCiphertextBlob"])["Plaintext"] == private_der

    agreeing = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="KEY_AGREEMENT")["KeyMetadata"]
    peer = ec.generate_private_key(ec.SECP256R1())
    peer_spki = peer.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    out = kms.derive_shared_secret(
        KeyId=agreeing["KeyId"], KeyAgreementAlgorithm="ECDH", PublicKey=peer_spki,
        Recipient=recipient(enclave_key),
    )
    assert "SharedSecret" not in out or not out["SharedSecret"]
    trent_public = serialization.load_der_public_key(
        kms.get_public_key(KeyId=agreeing["KeyId"])["PublicKey"]
    )
    expected = peer.exchange(ec.ECDH(), trent_public)
    assert open_envelope(tmp_path, enclave_key, out["CiphertextForRecipient"]) == expected
