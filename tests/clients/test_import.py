"""Imported key material (KMS keys of Origin EXTERNAL): GetParametersForImport,
ImportKeyMaterial, DeleteImportedKeyMaterial, expiry, and on-demand rotation to newly
imported material.

Key material is wrapped offline, as a client would, with `cryptography` (RSAES-OAEP with
SHA-1 / SHA-256, and RSA-OAEP of an AES-256 key followed by AES Key Wrap with Padding,
RFC 5649) and with `gmssl` for SM2PKE. trent's outputs are then checked independently:
HMAC tags against Python's `hmac`, signatures against the public key derived offline from
the imported private key, RSA-OAEP both ways, and symmetric ciphertext by opening it with
AES-256-GCM under the imported bytes.

One trent serves most of the module; the tests that move the clock or restart the server
start their own."""

import hashlib
import hmac
import json
import os
import re
import urllib.request
from datetime import datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError
from conftest import Trent
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import (
    aes_key_unwrap_with_padding,
    aes_key_wrap_with_padding,
)
from test_asymmetric import gmssl_sm2, sm2_ciphertext_to_der, sm2_spki_point

MESSAGE = b"trent imported key material test message"
CN = "cn-north-1"
DAY = 24 * 3600
MATERIAL_ID = re.compile(r"[0-9a-f]{64}")


# --- helpers ------------------------------------------------------------------------


def error(excinfo):
    e = excinfo.value.response["Error"]
    return e["Code"], e.get("Message", "")


def now() -> datetime:
    return datetime.now(timezone.utc)


def oaep(algorithm: str) -> padding.OAEP:
    """RSA-OAEP with the algorithm's hash for both the digest and MGF1, no label."""
    h = hashes.SHA256 if algorithm.endswith("_SHA_256") else hashes.SHA1
    return padding.OAEP(mgf=padding.MGF1(h()), algorithm=h(), label=None)


def wrap(public_der: bytes, algorithm: str, material: bytes) -> bytes:
    """`material` wrapped for ImportKeyMaterial under the GetParametersForImport public key.

    - RSAES_OAEP_SHA_*: the material encrypted with RSA-OAEP.
    - RSA_AES_KEY_WRAP_SHA_*: a fresh AES-256 key encrypted with RSA-OAEP, followed by
      the material wrapped under that key with AES Key Wrap with Padding.
    - SM2PKE: SM2 encryption (gmssl's C1||C3||C2) as the DER SM2Cipher AWS uses."""
    if algorithm == "SM2PKE":
        raw = gmssl_sm2(sm2_spki_point(public_der)).encrypt(material)
        return sm2_ciphertext_to_der(raw)
    public = serialization.load_der_public_key(public_der)
    if algorithm.startswith("RSAES_OAEP_"):
        return public.encrypt(material, oaep(algorithm))
    if algorithm.startswith("RSA_AES_KEY_WRAP_"):
        aes_key = os.urandom(32)
        return public.encrypt(aes_key, oaep(algorithm)) + aes_key_wrap_with_padding(
            aes_key, material
        )
    raise ValueError(algorithm)


def parameters(kms, meta, algorithm="RSAES_OAEP_SHA_256", spec="RSA_2048"):
    resp = kms.get_parameters_for_import(
        KeyId=meta["KeyId"], WrappingAlgorithm=algorithm, WrappingKeySpec=spec
    )
    assert resp["KeyId"] == meta["Arn"]
    return resp


def import_material(kms, meta, material, algorithm="RSAES_OAEP_SHA_256", spec="RSA_2048",
                    **extra):
    """Fresh import parameters, `material` wrapped with them, ImportKeyMaterial. Material
    does not expire unless `extra` says otherwise."""
    params = parameters(kms, meta, algorithm, spec)
    if "ValidTo" not in extra:
        extra.setdefault("ExpirationModel", "KEY_MATERIAL_DOES_NOT_EXPIRE")
    resp = kms.import_key_material(
        KeyId=meta["KeyId"],
        ImportToken=params["ImportToken"],
        EncryptedKeyMaterial=wrap(params["PublicKey"], algorithm, material),
        **extra,
    )
    assert resp["KeyId"] == meta["Arn"]
    return resp


def external_key(kms, **args):
    meta = kms.create_key(Origin="EXTERNAL", **args)["KeyMetadata"]
    assert (meta["Origin"], meta["KeyState"], meta["Enabled"]) == (
        "EXTERNAL", "PendingImport", False,
    )
    return meta


def describe(kms, meta):
    return kms.describe_key(KeyId=meta["KeyId"])["KeyMetadata"]


def assert_pending_import(kms, meta):
    """The key waits for material: no ExpirationModel, and Encrypt says so as AWS does."""
    described = describe(kms, meta)
    assert (described["KeyState"], described["Enabled"]) == ("PendingImport", False)
    assert "ExpirationModel" not in described and "ValidTo" not in described
    with pytest.raises(kms.exceptions.KMSInvalidStateException) as excinfo:
        kms.encrypt(KeyId=meta["KeyId"], Plaintext=MESSAGE)
    assert error(excinfo) == ("KMSInvalidStateException", f"{meta['Arn']} is pending import.")
    return described


def open_blob(material: bytes, blob: bytes, context: dict | None = None):
    """Opens a trent symmetric ciphertext blob with AES-256-GCM under `material`; returns
    (key id, material id hex, plaintext). trent's blob layout: version 1, key-id length
    and key id, 32-byte material id, 12-byte nonce, ciphertext || tag; the AAD is every
    byte before the nonce, then each context pair sorted by key as 4-byte big-endian
    length-prefixed UTF-8 key and value."""
    assert blob[0] == 1
    id_end = 2 + blob[1]
    header = blob[: id_end + 32]
    aad = header + b"".join(
        len(part).to_bytes(4, "big") + part
        for k, v in sorted((context or {}).items())
        for part in (k.encode(), v.encode())
    )
    nonce, sealed = blob[len(header) : len(header) + 12], blob[len(header) + 12 :]
    plaintext = AESGCM(material).decrypt(nonce, sealed, aad)
    return blob[2:id_end].decode(), blob[id_end : id_end + 32].hex(), plaintext


def advance_clock(server: Trent, seconds: int):
    request = urllib.request.Request(
        f"{server.endpoint}/_trent/clock",
        data=json.dumps({"advanceSeconds": seconds}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request) as resp:
        return json.load(resp)


def pkcs8(private) -> bytes:
    return private.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def spki(public) -> bytes:
    return public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


# --- fixtures -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = Trent(tmp_path_factory.mktemp("import") / "data")
    yield s
    s.stop()


@pytest.fixture(scope="module")
def kms(server):
    return server.client()


# --- the offline wrapping checks itself ---------------------------------------------


@pytest.mark.parametrize("algorithm", [
    "RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256", "RSA_AES_KEY_WRAP_SHA_1", "RSA_AES_KEY_WRAP_SHA_256",
])
def test_wrap_helper_opens_with_cryptography(algorithm):
    """The wrapping helper is what its name says: the RSA part opens with OAEP of the
    named hash (and no other), and the rest unwraps with RFC 5649."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    material = os.urandom(45)
    wrapped = wrap(spki(private.public_key()), algorithm, material)
    other_hash = "RSAES_OAEP_SHA_1" if algorithm.endswith("_SHA_256") else "RSAES_OAEP_SHA_256"
    with pytest.raises(ValueError):
        private.decrypt(wrapped[:256], oaep(other_hash))
    if algorithm.startswith("RSAES"):
        assert private.decrypt(wrapped, oaep(algorithm)) == material
    else:
        aes_key = private.decrypt(wrapped[:256], oaep(algorithm))
        assert len(aes_key) == 32
        assert aes_key_unwrap_with_padding(aes_key, wrapped[256:]) == material


# --- symmetric encryption keys ------------------------------------------------------


@pytest.mark.parametrize("algorithm,spec,region", [
    ("RSAES_OAEP_SHA_1", "RSA_2048", "us-east-1"),
    ("RSAES_OAEP_SHA_256", "RSA_3072", "us-east-1"),
    ("RSA_AES_KEY_WRAP_SHA_1", "RSA_4096", "us-east-1"),
    ("RSA_AES_KEY_WRAP_SHA_256", "RSA_2048", "us-east-1"),
    ("RSAES_OAEP_SHA_256", "RSA_2048", CN),
    ("SM2PKE", "SM2", CN),
])
def test_symmetric_import_round_trip_and_reimport(server, algorithm, spec, region):
    """32 random bytes wrapped with each algorithm import into a symmetric key; trent's
    ciphertext opens offline with AES-256-GCM under those bytes; after
    DeleteImportedKeyMaterial the same bytes (under fresh parameters) import again with
    the same KeyMaterialId, and the earlier ciphertext decrypts again."""
    kms = server.client(region)
    meta = external_key(kms, Description="imported")
    material = os.urandom(32)

    params = parameters(kms, meta, algorithm, spec)
    valid_to = params["ParametersValidTo"]
    assert abs((valid_to - now()).total_seconds() - DAY) < 120
    if spec.startswith("RSA_"):
        public = serialization.load_der_public_key(params["PublicKey"])
        assert isinstance(public, rsa.RSAPublicKey)
        assert public.key_size == int(spec[4:])
    else:
        sm2_spki_point(params["PublicKey"])

    resp = kms.import_key_material(
        KeyId=meta["KeyId"],
        ImportToken=params["ImportToken"],
        EncryptedKeyMaterial=wrap(params["PublicKey"], algorithm, material),
        ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE",
    )
    assert resp["KeyId"] == meta["Arn"]
    material_id = resp["KeyMaterialId"]
    assert MATERIAL_ID.fullmatch(material_id)

    described = describe(kms, meta)
    assert (described["KeyState"], described["Enabled"]) == ("Enabled", True)
    assert described["ExpirationModel"] == "KEY_MATERIAL_DOES_NOT_EXPIRE"
    assert "ValidTo" not in described
    assert described["CurrentKeyMaterialId"] == material_id

    context = {"purpose": "import", "a": "b"}
    enc = kms.encrypt(KeyId=meta["KeyId"], Plaintext=MESSAGE, EncryptionContext=context)
    assert enc["KeyId"] == meta["Arn"]
    blob = enc["CiphertextBlob"]
    assert open_blob(material, blob, context) == (meta["KeyId"], material_id, MESSAGE)
    dec = kms.decrypt(CiphertextBlob=blob, EncryptionContext=context)
    assert (dec["Plaintext"], dec["KeyId"], dec["KeyMaterialId"]) == (
        MESSAGE, meta["Arn"], material_id,
    )

    deleted = kms.delete_imported_key_material(KeyId=meta["KeyId"])
    assert deleted["KeyId"] == meta["Arn"]
    described = assert_pending_import(kms, meta)
    assert described["CurrentKeyMaterialId"] == material_id
    with pytest.raises(kms.exceptions.KMSInvalidStateException) as excinfo:
        kms.decrypt(CiphertextBlob=blob, EncryptionContext=context)
    assert error(excinfo)[1] == f"{meta['Arn']} is pending import."

    again = import_material(kms, meta, material, algorithm, spec)
    assert again["KeyMaterialId"] == material_id
    described = describe(kms, meta)
    assert (described["KeyState"], described["Enabled"]) == ("Enabled", True)
    assert described["CurrentKeyMaterialId"] == material_id
    dec = kms.decrypt(CiphertextBlob=blob, EncryptionContext=context)
    assert (dec["Plaintext"], dec["KeyMaterialId"]) == (MESSAGE, material_id)


@pytest.mark.parametrize("length", [16, 31, 33, 64])
def test_symmetric_material_must_be_32_bytes(kms, length):
    meta = external_key(kms)
    with pytest.raises(ClientError) as excinfo:
        import_material(kms, meta, os.urandom(length), "RSA_AES_KEY_WRAP_SHA_256")
    assert error(excinfo)[0] in ("IncorrectKeyMaterialException", "ValidationException")
    assert_pending_import(kms, meta)


# --- HMAC keys ----------------------------------------------------------------------


@pytest.mark.parametrize("spec,length", [
    ("HMAC_224", 28), ("HMAC_224", 64),
    ("HMAC_256", 40),
    ("HMAC_384", 48), ("HMAC_384", 100),
    ("HMAC_512", 64), ("HMAC_512", 128),
])
def test_hmac_import_matches_python_hmac(kms, spec, length):
    """GenerateMac under imported HMAC material equals Python's HMAC of the same bytes,
    also for material longer than the digest; VerifyMac accepts it and rejects a wrong
    tag."""
    meta = external_key(kms, KeySpec=spec, KeyUsage="GENERATE_VERIFY_MAC")
    material = os.urandom(length)
    resp = import_material(kms, meta, material, "RSA_AES_KEY_WRAP_SHA_256")
    assert "KeyMaterialId" not in resp
    assert describe(kms, meta)["KeyState"] == "Enabled"

    bits = spec[5:]
    algorithm = f"HMAC_SHA_{bits}"
    expected = hmac.new(material, MESSAGE, getattr(hashlib, f"sha{bits}")).digest()
    mac = kms.generate_mac(KeyId=meta["KeyId"], Message=MESSAGE, MacAlgorithm=algorithm)
    assert (mac["KeyId"], mac["MacAlgorithm"], mac["Mac"]) == (meta["Arn"], algorithm, expected)
    verified = kms.verify_mac(
        KeyId=meta["KeyId"], Message=MESSAGE, MacAlgorithm=algorithm, Mac=expected
    )
    assert verified["MacValid"] is True
    with pytest.raises(kms.exceptions.KMSInvalidMacException):
        kms.verify_mac(
            KeyId=meta["KeyId"], Message=MESSAGE + b"!", MacAlgorithm=algorithm, Mac=expected
        )


@pytest.mark.parametrize("spec,length", [
    ("HMAC_224", 27), ("HMAC_224", 65), ("HMAC_256", 31), ("HMAC_384", 47), ("HMAC_512", 129),
])
def test_hmac_material_outside_the_allowed_lengths_is_refused(kms, spec, length):
    meta = external_key(kms, KeySpec=spec, KeyUsage="GENERATE_VERIFY_MAC")
    with pytest.raises(ClientError) as excinfo:
        import_material(kms, meta, os.urandom(length), "RSA_AES_KEY_WRAP_SHA_256")
    assert error(excinfo)[0] in ("IncorrectKeyMaterialException", "ValidationException")
    assert_pending_import(kms, meta)


# --- asymmetric keys ----------------------------------------------------------------

SIGNING_CASES = [
    ("RSA_2048", "RSA_AES_KEY_WRAP_SHA_256", "RSA_2048",
     ["RSASSA_PSS_SHA_256", "RSASSA_PKCS1_V1_5_SHA_384"]),
    ("RSA_4096", "RSA_AES_KEY_WRAP_SHA_1", "RSA_3072", ["RSASSA_PSS_SHA_512"]),
    ("ECC_NIST_P256", "RSAES_OAEP_SHA_256", "RSA_2048", ["ECDSA_SHA_256"]),
    ("ECC_NIST_P384", "RSAES_OAEP_SHA_1", "RSA_2048", ["ECDSA_SHA_384"]),
    ("ECC_NIST_P521", "RSAES_OAEP_SHA_256", "RSA_3072", ["ECDSA_SHA_512"]),
    ("ECC_SECG_P256K1", "RSAES_OAEP_SHA_256", "RSA_2048", ["ECDSA_SHA_256"]),
]
CURVES = {
    "ECC_NIST_P256": ec.SECP256R1,
    "ECC_NIST_P384": ec.SECP384R1,
    "ECC_NIST_P521": ec.SECP521R1,
    "ECC_SECG_P256K1": ec.SECP256K1,
}
SIGN_HASHES = {"256": hashes.SHA256, "384": hashes.SHA384, "512": hashes.SHA512}


def generate_private(spec):
    if spec.startswith("RSA_"):
        return rsa.generate_private_key(public_exponent=65537, key_size=int(spec[4:]))
    return ec.generate_private_key(CURVES[spec]())


@pytest.mark.parametrize("spec,algorithm,wrapping_spec,signing_algorithms", SIGNING_CASES)
def test_imported_private_key_signs(kms, spec, algorithm, wrapping_spec, signing_algorithms):
    """A PKCS#8 private key made with `cryptography` imports into a SIGN_VERIFY key;
    GetPublicKey is the SPKI derived offline, and trent's signatures verify under it."""
    meta = external_key(kms, KeySpec=spec, KeyUsage="SIGN_VERIFY")
    private = generate_private(spec)
    public = private.public_key()
    resp = import_material(kms, meta, pkcs8(private), algorithm, wrapping_spec)
    assert "KeyMaterialId" not in resp
    described = describe(kms, meta)
    assert (described["KeyState"], described["Enabled"]) == ("Enabled", True)
    assert described["ExpirationModel"] == "KEY_MATERIAL_DOES_NOT_EXPIRE"

    got = kms.get_public_key(KeyId=meta["KeyId"])
    assert (got["KeyId"], got["KeySpec"], got["PublicKey"]) == (meta["Arn"], spec, spki(public))

    for signing_algorithm in signing_algorithms:
        h = SIGN_HASHES[signing_algorithm[-3:]]
        signature = kms.sign(
            KeyId=meta["KeyId"], Message=MESSAGE, MessageType="RAW",
            SigningAlgorithm=signing_algorithm,
        )["Signature"]
        if spec.startswith("RSA_"):
            pad = (
                padding.PSS(mgf=padding.MGF1(h()), salt_length=h.digest_size)
                if "PSS" in signing_algorithm
                else padding.PKCS1v15()
            )
            public.verify(signature, MESSAGE, pad, h())
        else:
            public.verify(signature, MESSAGE, ec.ECDSA(h()))


def test_imported_rsa_encryption_key_and_reimport(kms):
    """An imported RSA ENCRYPT_DECRYPT key decrypts what `cryptography` encrypted to the
    offline public key and the other way round; after DeleteImportedKeyMaterial only the
    same private key imports again."""
    meta = external_key(kms, KeySpec="RSA_2048", KeyUsage="ENCRYPT_DECRYPT")
    private = generate_private("RSA_2048")
    import_material(kms, meta, pkcs8(private), "RSA_AES_KEY_WRAP_SHA_256")

    offline = private.public_key().encrypt(MESSAGE, oaep("RSAES_OAEP_SHA_256"))
    dec = kms.decrypt(
        KeyId=meta["KeyId"], CiphertextBlob=offline, EncryptionAlgorithm="RSAES_OAEP_SHA_256"
    )
    assert dec["Plaintext"] == MESSAGE
    blob = kms.encrypt(
        KeyId=meta["KeyId"], Plaintext=MESSAGE, EncryptionAlgorithm="RSAES_OAEP_SHA_1"
    )["CiphertextBlob"]
    assert private.decrypt(blob, oaep("RSAES_OAEP_SHA_1")) == MESSAGE

    kms.delete_imported_key_material(KeyId=meta["KeyId"])
    assert_pending_import(kms, meta)
    with pytest.raises(kms.exceptions.IncorrectKeyMaterialException):
        import_material(kms, meta, pkcs8(generate_private("RSA_2048")), "RSA_AES_KEY_WRAP_SHA_256")
    assert_pending_import(kms, meta)
    import_material(kms, meta, pkcs8(private), "RSA_AES_KEY_WRAP_SHA_1", "RSA_3072")
    dec = kms.decrypt(
        KeyId=meta["KeyId"], CiphertextBlob=offline, EncryptionAlgorithm="RSAES_OAEP_SHA_256"
    )
    assert dec["Plaintext"] == MESSAGE


# --- errors -------------------------------------------------------------------------


def test_different_material_is_incorrect(kms):
    """Once a key has material, other bytes don't import into it: not while the material
    is there, and not after it was deleted."""
    meta = external_key(kms)
    material = os.urandom(32)
    material_id = import_material(kms, meta, material)["KeyMaterialId"]
    with pytest.raises(kms.exceptions.IncorrectKeyMaterialException):
        import_material(kms, meta, os.urandom(32))
    kms.delete_imported_key_material(KeyId=meta["KeyId"])
    with pytest.raises(kms.exceptions.IncorrectKeyMaterialException):
        import_material(kms, meta, os.urandom(32))
    assert_pending_import(kms, meta)
    assert import_material(kms, meta, material)["KeyMaterialId"] == material_id
    assert describe(kms, meta)["KeyState"] == "Enabled"


def test_token_of_another_key_is_refused(kms):
    first, second = external_key(kms), external_key(kms)
    params = parameters(kms, first)
    with pytest.raises(kms.exceptions.InvalidImportTokenException):
        kms.import_key_material(
            KeyId=second["KeyId"],
            ImportToken=params["ImportToken"],
            EncryptedKeyMaterial=wrap(params["PublicKey"], "RSAES_OAEP_SHA_256", os.urandom(32)),
            ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE",
        )
    assert_pending_import(kms, second)
    with pytest.raises(kms.exceptions.InvalidImportTokenException):
        kms.import_key_material(
            KeyId=first["KeyId"],
            ImportToken=b"not a token",
            EncryptedKeyMaterial=wrap(params["PublicKey"], "RSAES_OAEP_SHA_256", os.urandom(32)),
            ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE",
        )


def test_material_wrapped_wrongly_is_invalid_ciphertext(kms):
    """Garbage, material wrapped with another algorithm than the token's, and material
    wrapped for an older wrapping key all fail as InvalidCiphertextException."""
    meta = external_key(kms)
    older = parameters(kms, meta, "RSAES_OAEP_SHA_1")
    params = parameters(kms, meta, "RSAES_OAEP_SHA_1")
    material = os.urandom(32)
    for encrypted in (
        os.urandom(256),
        wrap(params["PublicKey"], "RSAES_OAEP_SHA_256", material),
        wrap(older["PublicKey"], "RSAES_OAEP_SHA_1", material),
    ):
        with pytest.raises(kms.exceptions.InvalidCiphertextException):
            kms.import_key_material(
                KeyId=meta["KeyId"],
                ImportToken=params["ImportToken"],
                EncryptedKeyMaterial=encrypted,
                ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE",
            )
    assert_pending_import(kms, meta)
    # Both tokens stay usable, each with its own wrapping key.
    kms.import_key_material(
        KeyId=meta["KeyId"],
        ImportToken=older["ImportToken"],
        EncryptedKeyMaterial=wrap(older["PublicKey"], "RSAES_OAEP_SHA_1", material),
        ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE",
    )
    assert describe(kms, meta)["KeyState"] == "Enabled"


def test_aws_kms_origin_key_is_not_importable(kms):
    meta = kms.create_key()["KeyMetadata"]
    message = f"{meta['Arn']} origin is AWS_KMS which is not valid for this operation."
    with pytest.raises(kms.exceptions.UnsupportedOperationException) as excinfo:
        parameters(kms, meta)
    assert error(excinfo) == ("UnsupportedOperationException", message)
    with pytest.raises(kms.exceptions.UnsupportedOperationException) as excinfo:
        kms.delete_imported_key_material(KeyId=meta["KeyId"])
    assert error(excinfo) == ("UnsupportedOperationException", message)


def test_valid_to_is_required_by_default(kms):
    meta = external_key(kms)
    params = parameters(kms, meta)
    encrypted = wrap(params["PublicKey"], "RSAES_OAEP_SHA_256", os.urandom(32))
    for model in ({}, {"ExpirationModel": "KEY_MATERIAL_EXPIRES"}):
        with pytest.raises(ClientError) as excinfo:
            kms.import_key_material(
                KeyId=meta["KeyId"], ImportToken=params["ImportToken"],
                EncryptedKeyMaterial=encrypted, **model,
            )
        assert error(excinfo) == (
            "ValidationException",
            "A validTo date must be set if the ExpirationModel is KEY_MATERIAL_EXPIRES",
        )
    assert_pending_import(kms, meta)
    # The token is still good for a valid request.
    kms.import_key_material(
        KeyId=meta["KeyId"], ImportToken=params["ImportToken"],
        EncryptedKeyMaterial=encrypted, ValidTo=now() + timedelta(days=30),
    )
    described = describe(kms, meta)
    assert described["ExpirationModel"] == "KEY_MATERIAL_EXPIRES"
    assert abs((described["ValidTo"] - now()).total_seconds() - 30 * DAY) < 120


def test_rsaes_pkcs1_v1_5_wrapping_is_refused(kms):
    meta = external_key(kms)
    with pytest.raises(ClientError) as excinfo:
        parameters(kms, meta, "RSAES_PKCS1_V1_5")
    assert error(excinfo)[0] == "ValidationException"


def test_sm2_wrapping_only_in_china_regions(kms):
    meta = external_key(kms)
    with pytest.raises(ClientError) as excinfo:
        parameters(kms, meta, "SM2PKE", "SM2")
    assert error(excinfo)[0] in ("UnsupportedOperationException", "ValidationException")


# --- expiry -------------------------------------------------------------------------


def test_material_expires_and_reimport_restores_it(start):
    """Material imported with ValidTo a day ahead expires when the clock passes it: the
    key is PendingImport and its import token has expired too. The same material,
    imported again under fresh parameters, brings the key and its ciphertext back."""
    trent = start()
    kms = trent.client()
    meta = external_key(kms)
    material = os.urandom(32)
    params = parameters(kms, meta)
    valid_to = now() + timedelta(days=1)
    material_id = kms.import_key_material(
        KeyId=meta["KeyId"], ImportToken=params["ImportToken"],
        EncryptedKeyMaterial=wrap(params["PublicKey"], "RSAES_OAEP_SHA_256", material),
        ValidTo=valid_to,
    )["KeyMaterialId"]
    described = describe(kms, meta)
    assert (described["KeyState"], described["ExpirationModel"]) == (
        "Enabled", "KEY_MATERIAL_EXPIRES",
    )
    assert abs((described["ValidTo"] - valid_to).total_seconds()) < 2
    blob = kms.encrypt(KeyId=meta["KeyId"], Plaintext=MESSAGE)["CiphertextBlob"]

    advance_clock(trent, 2 * DAY)
    assert_pending_import(kms, meta)
    with pytest.raises(kms.exceptions.ExpiredImportTokenException):
        kms.import_key_material(
            KeyId=meta["KeyId"], ImportToken=params["ImportToken"],
            EncryptedKeyMaterial=wrap(params["PublicKey"], "RSAES_OAEP_SHA_256", material),
            ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE",
        )

    assert import_material(kms, meta, material)["KeyMaterialId"] == material_id
    described = describe(kms, meta)
    assert (described["KeyState"], described["ExpirationModel"]) == (
        "Enabled", "KEY_MATERIAL_DOES_NOT_EXPIRE",
    )
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == MESSAGE


def test_expiry_survives_a_restart(start):
    """The material and its ValidTo are stored: after SIGKILL, a new trent on the same
    data directory decrypts with the material, then expires it when its (reset) clock is
    moved past ValidTo."""
    first = start()
    kms = first.client()
    meta = external_key(kms)
    valid_to = now() + timedelta(days=1)
    import_material(kms, meta, os.urandom(32), ValidTo=valid_to)
    blob = kms.encrypt(KeyId=meta["KeyId"], Plaintext=MESSAGE)["CiphertextBlob"]
    first.kill()

    second = start(first.data_dir)
    kms = second.client()
    described = describe(kms, meta)
    assert (described["KeyState"], described["ExpirationModel"]) == (
        "Enabled", "KEY_MATERIAL_EXPIRES",
    )
    assert abs((described["ValidTo"] - valid_to).total_seconds()) < 2
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == MESSAGE
    advance_clock(second, 2 * DAY)
    assert_pending_import(kms, meta)
    with pytest.raises(kms.exceptions.KMSInvalidStateException):
        kms.decrypt(CiphertextBlob=blob)


# --- on-demand rotation -------------------------------------------------------------


def rotations(kms, meta, include=None):
    args = {"IncludeKeyMaterial": include} if include else {}
    entries = kms.list_key_rotations(KeyId=meta["KeyId"], **args)["Rotations"]
    return {e["KeyMaterialId"]: e for e in entries}


def test_on_demand_rotation_to_imported_material(kms):
    """NEW_KEY_MATERIAL waits as PENDING_ROTATION until RotateKeyOnDemand makes it
    current; ciphertext keeps decrypting with the material that made it, and Decrypt
    names that material. Only one import may wait at a time."""
    meta = external_key(kms)
    m1, m2, m3 = os.urandom(32), os.urandom(32), os.urandom(32)
    id1 = import_material(kms, meta, m1)["KeyMaterialId"]
    c1 = kms.encrypt(KeyId=meta["KeyId"], Plaintext=b"one")["CiphertextBlob"]

    id2 = import_material(kms, meta, m2, "RSA_AES_KEY_WRAP_SHA_256",
                          ImportType="NEW_KEY_MATERIAL")["KeyMaterialId"]
    assert MATERIAL_ID.fullmatch(id2) and id2 != id1
    listed = rotations(kms, meta, "ALL_KEY_MATERIAL")
    assert set(listed) == {id1, id2}
    assert listed[id1]["KeyMaterialState"] == "CURRENT"
    assert listed[id2]["KeyMaterialState"] == "PENDING_ROTATION"
    assert listed[id2]["ImportState"] == "IMPORTED"
    assert rotations(kms, meta) == {}
    assert describe(kms, meta)["CurrentKeyMaterialId"] == id1
    # Still the first material until the rotation.
    blob = kms.encrypt(KeyId=meta["KeyId"], Plaintext=b"still one")["CiphertextBlob"]
    assert open_blob(m1, blob)[1:] == (id1, b"still one")

    with pytest.raises(kms.exceptions.KMSInvalidStateException) as excinfo:
        import_material(kms, meta, m3, ImportType="NEW_KEY_MATERIAL")
    message = error(excinfo)[1]
    pattern = (
        r"New key material \(id: ([0-9a-f]{64})\) cannot be imported into KMS key "
        + re.escape(meta["Arn"])
        + r", because another key material \(id: ([0-9a-f]{64})\) is pending rotation\."
    )
    match = re.fullmatch(pattern, message)
    assert match, message
    assert match.group(2) == id2

    assert kms.rotate_key_on_demand(KeyId=meta["KeyId"])["KeyId"] == meta["Arn"]
    assert describe(kms, meta)["CurrentKeyMaterialId"] == id2
    listed = rotations(kms, meta, "ALL_KEY_MATERIAL")
    assert (listed[id1]["KeyMaterialState"], listed[id2]["KeyMaterialState"]) == (
        "NON_CURRENT", "CURRENT",
    )
    done = rotations(kms, meta)
    assert list(done) == [id2] and done[id2]["RotationType"] == "ON_DEMAND"

    dec = kms.decrypt(CiphertextBlob=c1)
    assert (dec["Plaintext"], dec["KeyMaterialId"]) == (b"one", id1)
    c2 = kms.encrypt(KeyId=meta["KeyId"], Plaintext=b"two")["CiphertextBlob"]
    assert open_blob(m2, c2) == (meta["KeyId"], id2, b"two")
    dec = kms.decrypt(CiphertextBlob=c2)
    assert (dec["Plaintext"], dec["KeyMaterialId"]) == (b"two", id2)

    # With nothing pending the third material imports, and it is the one the refusal named.
    id3 = import_material(kms, meta, m3, ImportType="NEW_KEY_MATERIAL")["KeyMaterialId"]
    assert match.group(1) == id3
    assert message == (
        f"New key material (id: {id3}) cannot be imported into KMS key {meta['Arn']}, "
        f"because another key material (id: {id2}) is pending rotation."
    )
    # Material the key already has is not new.
    with pytest.raises(kms.exceptions.IncorrectKeyMaterialException):
        import_material(kms, meta, m1, ImportType="NEW_KEY_MATERIAL")


def test_rotate_on_demand_without_pending_material(kms):
    meta = external_key(kms)
    import_material(kms, meta, os.urandom(32))
    with pytest.raises(kms.exceptions.KMSInvalidStateException) as excinfo:
        kms.rotate_key_on_demand(KeyId=meta["KeyId"])
    assert meta["Arn"] in error(excinfo)[1]
    with pytest.raises(kms.exceptions.UnsupportedOperationException):
        kms.enable_key_rotation(KeyId=meta["KeyId"])
