"""Asymmetric, HMAC and key-agreement KMS keys, checked against independent
implementations: `cryptography` (RSA, ECDSA, Ed25519, ML-DSA, ECDH, PKCS#8), a small
pure-Python Ed25519ph verifier (RFC 8032), and `gmssl` (SM2 / SM3).

One trent serves the whole module and each (key spec, key usage, region) KMS key is
created once, so the slow RSA key generations happen only a few times."""

import hashlib
import os
import subprocess

import pytest
from botocore.exceptions import ClientError
from conftest import Trent
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, mldsa, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    Prehashed,
    decode_dss_signature,
    encode_dss_signature,
)
from gmssl.sm2 import CryptSM2, default_ecc_table

MESSAGE = b"trent asymmetric test message"


# --- helpers ------------------------------------------------------------------------


def error(excinfo):
    e = excinfo.value.response["Error"]
    return e["Code"], e.get("Message", "")


def tamper(blob: bytes) -> bytes:
    """Flip the lowest bit of the last byte (for DER ECDSA that byte belongs to s)."""
    return blob[:-1] + bytes([blob[-1] ^ 0x01])


def spki(key) -> bytes:
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


HASHES = {"SHA_256": hashes.SHA256, "SHA_384": hashes.SHA384, "SHA_512": hashes.SHA512}
HASHLIB = {"SHA_256": hashlib.sha256, "SHA_384": hashlib.sha384, "SHA_512": hashlib.sha512}


def hash_suffix(algorithm: str) -> str:
    return algorithm[-7:]


# Minimal DER reader/writer, enough for SPKI, PKCS#8 and the SM2 ciphertext.


def der_read(data: bytes, pos: int = 0):
    """Returns (tag, value, next_pos) of the TLV at `pos`."""
    tag = data[pos]
    length = data[pos + 1]
    pos += 2
    if length & 0x80:
        n = length & 0x7F
        length = int.from_bytes(data[pos : pos + n], "big")
        pos += n
    return tag, data[pos : pos + length], pos + length


def der_items(data: bytes):
    """The (tag, value) children of a constructed value."""
    items, pos = [], 0
    while pos < len(data):
        tag, value, pos = der_read(data, pos)
        items.append((tag, value))
    return items


def der_oid(value: bytes) -> str:
    first, rest = divmod(value[0], 40)
    arcs, n = [first, rest], 0
    for b in value[1:]:
        n = (n << 7) | (b & 0x7F)
        if not b & 0x80:
            arcs.append(n)
            n = 0
    return ".".join(map(str, arcs))


def der_tlv(tag: int, value: bytes) -> bytes:
    n = len(value)
    if n < 0x80:
        return bytes([tag, n]) + value
    length = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(length)]) + length + value


def der_uint(n: int) -> bytes:
    body = n.to_bytes(max(1, (n.bit_length() + 8) // 8), "big")
    return der_tlv(0x02, body)


# Ed25519ph: `cryptography` verifies only pure Ed25519, so RFC 8032 §5.1.7 here.

ED_P = 2**255 - 19
ED_L = 2**252 + 27742317777372353535851937790883648493
ED_D = -121665 * pow(121666, ED_P - 2, ED_P) % ED_P
ED_I = pow(2, (ED_P - 1) // 4, ED_P)


def _ed_x(y: int, sign: int):
    if y >= ED_P:
        return None
    x2 = (y * y - 1) * pow(ED_D * y * y + 1, ED_P - 2, ED_P) % ED_P
    if x2 == 0:
        return None if sign else 0
    x = pow(x2, (ED_P + 3) // 8, ED_P)
    if (x * x - x2) % ED_P:
        x = x * ED_I % ED_P
    if (x * x - x2) % ED_P:
        return None
    return ED_P - x if (x & 1) != sign else x


def _ed_add(p, q):
    x1, y1, z1, t1 = p
    x2, y2, z2, t2 = q
    a = (y1 - x1) * (y2 - x2) % ED_P
    b = (y1 + x1) * (y2 + x2) % ED_P
    c = 2 * t1 * t2 * ED_D % ED_P
    d = 2 * z1 * z2 % ED_P
    e, f, g, h = b - a, d - c, d + c, b + a
    return e * f % ED_P, g * h % ED_P, f * g % ED_P, e * h % ED_P


def _ed_mul(s: int, p):
    q = (0, 1, 1, 0)
    while s:
        if s & 1:
            q = _ed_add(q, p)
        p = _ed_add(p, p)
        s >>= 1
    return q


def _ed_decode(b: bytes):
    y = int.from_bytes(b, "little")
    x = _ed_x(y & ((1 << 255) - 1), y >> 255)
    if x is None:
        return None
    y &= (1 << 255) - 1
    return x, y, 1, x * y % ED_P


_ED_GY = 4 * pow(5, ED_P - 2, ED_P) % ED_P
_ED_G = (_ed_x(_ED_GY, 0), _ED_GY, 1, _ed_x(_ED_GY, 0) * _ED_GY % ED_P)


def ed25519_verify(public: bytes, message: bytes, signature: bytes, prehash: bool) -> bool:
    """RFC 8032 verification: Ed25519, or Ed25519ph (empty context) when `prehash`."""
    a, r = _ed_decode(public), _ed_decode(signature[:32])
    s = int.from_bytes(signature[32:], "little")
    if a is None or r is None or s >= ED_L:
        return False
    if prehash:
        dom, m = b"SigEd25519 no Ed25519 collisions\x01\x00", hashlib.sha512(message).digest()
    else:
        dom, m = b"", message
    k = int.from_bytes(hashlib.sha512(dom + signature[:32] + public + m).digest(), "little")
    left, right = _ed_mul(s, _ED_G), _ed_add(r, _ed_mul(k % ED_L, a))
    return (left[0] * right[2] - right[0] * left[2]) % ED_P == 0 and (
        left[1] * right[2] - right[1] * left[2]
    ) % ED_P == 0


# SM2 (GB/T 32918) through gmssl.

SM2_P = int(default_ecc_table["p"], 16)
SM2_A = int(default_ecc_table["a"], 16)
SM2_B = int(default_ecc_table["b"], 16)
SM2_N = int(default_ecc_table["n"], 16)
OID_EC_PUBLIC_KEY = "1.2.840.10045.2.1"
OID_SM2 = "1.2.156.10197.1.301"


def gmssl_sm2(point: bytes, private_key: str | None = None) -> CryptSM2:
    """A gmssl SM2 object for the 64-byte x||y `point`.

    The public key is set after construction: the constructor's `lstrip("04")` would also
    strip leading '0'/'4' hex digits of x."""
    sm2 = CryptSM2(private_key=private_key, public_key="", mode=1)
    sm2.public_key = point.hex()
    return sm2


def sm2_on_curve(x: int, y: int) -> bool:
    return (y * y - (x * x * x + SM2_A * x + SM2_B)) % SM2_P == 0


def sm2_spki_point(der: bytes) -> bytes:
    """Checks an SM2 SubjectPublicKeyInfo and returns its 64-byte x||y point."""
    tag, body, end = der_read(der)
    assert tag == 0x30 and end == len(der)
    (alg_tag, alg), (bits_tag, bits) = der_items(body)
    assert alg_tag == 0x30 and bits_tag == 0x03
    assert [der_oid(v) for t, v in der_items(alg)] == [OID_EC_PUBLIC_KEY, OID_SM2]
    assert bits[0] == 0 and bits[1] == 0x04 and len(bits) == 66
    point = bits[2:]
    assert sm2_on_curve(int.from_bytes(point[:32], "big"), int.from_bytes(point[32:], "big"))
    return point


def sm2_spki(point: bytes) -> bytes:
    alg = der_tlv(0x30, bytes.fromhex("06072a8648ce3d0201" "06082a811ccf5501822d"))
    return der_tlv(0x30, alg + der_tlv(0x03, b"\x00\x04" + point))


def sm2_mul(k: int, point_hex: str) -> bytes:
    """k * point with gmssl's scalar multiplication; returns x||y."""
    return bytes.fromhex(gmssl_sm2(b"")._kg(k, point_hex))


def sm2_ciphertext_to_der(raw: bytes) -> bytes:
    """gmssl C1||C3||C2 (C1 = x||y without 04) to the GM/T 0009 SM2Cipher that AWS uses:
    SEQUENCE { INTEGER x, INTEGER y, OCTET STRING C3 (SM3 hash), OCTET STRING C2 }."""
    x, y = int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:64], "big")
    c3, c2 = raw[64:96], raw[96:]
    return der_tlv(
        0x30, der_uint(x) + der_uint(y) + der_tlv(0x04, c3) + der_tlv(0x04, c2)
    )


# --- fixtures -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = Trent(tmp_path_factory.mktemp("asymmetric") / "data")
    yield s
    s.stop()


@pytest.fixture(scope="module")
def client(server):
    clients = {}

    def get(region="us-east-1"):
        if region not in clients:
            clients[region] = server.client(region)
        return clients[region]

    return get


@pytest.fixture(scope="module")
def kms(client):
    return client()


@pytest.fixture(scope="module")
def key(client):
    """key(spec, usage, region) -> KeyMetadata, one KMS key per combination."""
    cache = {}

    def get(spec, usage, region="us-east-1"):
        if (spec, usage, region) not in cache:
            meta = client(region).create_key(KeySpec=spec, KeyUsage=usage)["KeyMetadata"]
            cache[spec, usage, region] = meta
        return cache[spec, usage, region]

    return get


@pytest.fixture(scope="module")
def wrapping_key(kms):
    return kms.create_key()["KeyMetadata"]


def public_key_of(kms, meta):
    resp = kms.get_public_key(KeyId=meta["KeyId"])
    assert resp["KeyId"] == meta["Arn"]
    return resp["PublicKey"]


def assert_trent_verifies(kms, meta, message, message_type, algorithm, signature):
    """trent's Verify accepts the signature and rejects it with one bit flipped."""
    resp = kms.verify(
        KeyId=meta["KeyId"], Message=message, MessageType=message_type,
        Signature=signature, SigningAlgorithm=algorithm,
    )
    assert (resp["KeyId"], resp["SignatureValid"], resp["SigningAlgorithm"]) == (
        meta["Arn"], True, algorithm,
    )
    with pytest.raises(kms.exceptions.KMSInvalidSignatureException):
        kms.verify(
            KeyId=meta["KeyId"], Message=message, MessageType=message_type,
            Signature=tamper(signature), SigningAlgorithm=algorithm,
        )


def sign(kms, meta, message, message_type, algorithm):
    resp = kms.sign(
        KeyId=meta["KeyId"], Message=message, MessageType=message_type,
        SigningAlgorithm=algorithm,
    )
    assert (resp["KeyId"], resp["SigningAlgorithm"]) == (meta["Arn"], algorithm)
    return resp["Signature"]


# --- the independent verifier checks itself ----------------------------------------


def test_ed25519ph_verifier_matches_rfc8032_vector():
    """The pure-Python verifier accepts RFC 8032 §7.3 (Ed25519ph, "abc") and nothing else."""
    public = bytes.fromhex("ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf")
    signature = bytes.fromhex(
        "98a70222f0b8121aa9d30f813d683f809e462b469c7ff87639499bb94e6dae41"
        "31f85042463c2a355a2003d062adf5aaa10b8c61e636062aaad11c2a26083406"
    )
    assert ed25519_verify(public, b"abc", signature, prehash=True) is True
    assert ed25519_verify(public, b"abd", signature, prehash=True) is False
    assert ed25519_verify(public, b"abc", signature, prehash=False) is False
    assert ed25519_verify(public, b"abc", tamper(signature), prehash=True) is False


def test_sm2_helpers_interoperate_with_openssl(tmp_path):
    """The SM2 helpers agree with OpenSSL (which AWS names as compatible with KMS's SM2
    formats): our SPKI loads as an SM2 key, the gmssl ciphertext converted to DER
    SM2Cipher decrypts with `openssl pkeyutl`, and a gmssl SM2 signature with the
    default ID verifies there."""
    d = int.from_bytes(os.urandom(32), "big") % (SM2_N - 1) + 1
    point = sm2_mul(d, default_ecc_table["g"])
    assert sm2_spki_point(sm2_spki(point)) == point
    (tmp_path / "pub.der").write_bytes(sm2_spki(point))
    sec1 = der_tlv(
        0x30,
        der_uint(1) + der_tlv(0x04, d.to_bytes(32, "big"))
        + der_tlv(0xA0, bytes.fromhex("06082a811ccf5501822d"))
        + der_tlv(0xA1, der_tlv(0x03, b"\x00\x04" + point)),
    )
    (tmp_path / "key.der").write_bytes(sec1)
    sm2 = gmssl_sm2(point, private_key="%064x" % d)
    (tmp_path / "ct.der").write_bytes(sm2_ciphertext_to_der(sm2.encrypt(MESSAGE)))
    out = subprocess.run(
        ["openssl", "pkeyutl", "-decrypt", "-keyform", "DER", "-inkey", str(tmp_path / "key.der"),
         "-in", str(tmp_path / "ct.der")],
        capture_output=True, check=True,
    )
    assert out.stdout == MESSAGE

    rs = sm2.sign_with_sm3(MESSAGE)
    r, s = int(rs[:64], 16), int(rs[64:], 16)
    (tmp_path / "sig").write_bytes(encode_dss_signature(r, s))
    (tmp_path / "msg").write_bytes(MESSAGE)
    out = subprocess.run(
        ["openssl", "pkeyutl", "-verify", "-pubin", "-keyform", "DER",
         "-inkey", str(tmp_path / "pub.der"), "-rawin", "-digest", "sm3",
         "-pkeyopt", "distid:1234567812345678",
         "-in", str(tmp_path / "msg"), "-sigfile", str(tmp_path / "sig")],
        capture_output=True, text=True,
    )
    assert out.returncode == 0 and "Signature Verified Successfully" in out.stdout


def test_ed25519_verifier_agrees_with_cryptography():
    """The same code in pure mode accepts a `cryptography` Ed25519 signature."""
    private = ed25519.Ed25519PrivateKey.generate()
    public = private.public_key().public_bytes_raw()
    assert ed25519_verify(public, MESSAGE, private.sign(MESSAGE), prehash=False) is True


# --- signatures ---------------------------------------------------------------------

RSA_ECDSA_CASES = [
    ("RSA_2048", "RSASSA_PSS_SHA_256"),
    ("RSA_2048", "RSASSA_PSS_SHA_384"),
    ("RSA_2048", "RSASSA_PSS_SHA_512"),
    ("RSA_2048", "RSASSA_PKCS1_V1_5_SHA_256"),
    ("RSA_2048", "RSASSA_PKCS1_V1_5_SHA_384"),
    ("RSA_2048", "RSASSA_PKCS1_V1_5_SHA_512"),
    ("RSA_3072", "RSASSA_PSS_SHA_384"),
    ("RSA_4096", "RSASSA_PKCS1_V1_5_SHA_512"),
    ("ECC_NIST_P256", "ECDSA_SHA_256"),
    ("ECC_NIST_P384", "ECDSA_SHA_384"),
    ("ECC_NIST_P521", "ECDSA_SHA_512"),
    ("ECC_SECG_P256K1", "ECDSA_SHA_256"),
]


@pytest.mark.parametrize("message_type", ["RAW", "DIGEST"])
@pytest.mark.parametrize("spec,algorithm", RSA_ECDSA_CASES)
def test_rsa_and_ecdsa_signatures_verify_with_cryptography(
    kms, key, spec, algorithm, message_type
):
    """RSA PSS (salt = digest length) / PKCS#1 v1.5 and DER ECDSA signatures from Sign
    verify with `cryptography` under the GetPublicKey SPKI, for a raw message and for a
    precomputed digest; trent's Verify agrees, also across RAW and DIGEST."""
    meta = key(spec, "SIGN_VERIFY")
    public = serialization.load_der_public_key(public_key_of(kms, meta))
    suffix = hash_suffix(algorithm)
    digest = HASHLIB[suffix](MESSAGE).digest()
    message = MESSAGE if message_type == "RAW" else digest
    signature = sign(kms, meta, message, message_type, algorithm)

    h = HASHES[suffix]()
    chosen = h if message_type == "RAW" else Prehashed(h)
    if spec.startswith("RSA"):
        assert len(signature) == public.key_size // 8
        pad = (
            padding.PSS(mgf=padding.MGF1(HASHES[suffix]()), salt_length=h.digest_size)
            if "PSS" in algorithm
            else padding.PKCS1v15()
        )
        public.verify(signature, message, pad, chosen)
        with pytest.raises(InvalidSignature):
            public.verify(tamper(signature), message, pad, chosen)
    else:
        r, s = decode_dss_signature(signature)
        assert encode_dss_signature(r, s) == signature
        public.verify(signature, message, ec.ECDSA(chosen))
        with pytest.raises(InvalidSignature):
            public.verify(tamper(signature), message, ec.ECDSA(chosen))

    assert_trent_verifies(kms, meta, message, message_type, algorithm, signature)
    other_type, other_message = ("DIGEST", digest) if message_type == "RAW" else ("RAW", MESSAGE)
    resp = kms.verify(
        KeyId=meta["KeyId"], Message=other_message, MessageType=other_type,
        Signature=signature, SigningAlgorithm=algorithm,
    )
    assert resp["SignatureValid"] is True


@pytest.mark.parametrize(
    "spec,algorithm,length",
    [("ECC_NIST_P256", "ECDSA_SHA_256", 31), ("RSA_2048", "RSASSA_PSS_SHA_256", 33)],
)
def test_digest_of_wrong_length_is_rejected(kms, key, spec, algorithm, length):
    """A DIGEST message whose length is not the algorithm's hash length is refused with
    AWS's message."""
    meta = key(spec, "SIGN_VERIFY")
    with pytest.raises(ClientError) as e:
        kms.sign(
            KeyId=meta["KeyId"], Message=b"\x01" * length, MessageType="DIGEST",
            SigningAlgorithm=algorithm,
        )
    assert error(e) == ("ValidationException", f"Digest is invalid length for algorithm {algorithm}.")


def test_ed25519_raw_signature_verifies_with_cryptography(kms, key):
    """ED25519_SHA_512 over a RAW message is a pure Ed25519 (RFC 8032) signature."""
    meta = key("ECC_NIST_EDWARDS25519", "SIGN_VERIFY")
    public = serialization.load_der_public_key(public_key_of(kms, meta))
    assert isinstance(public, ed25519.Ed25519PublicKey)
    signature = sign(kms, meta, MESSAGE, "RAW", "ED25519_SHA_512")
    assert len(signature) == 64
    public.verify(signature, MESSAGE)
    assert ed25519_verify(public.public_bytes_raw(), MESSAGE, signature, prehash=False) is True
    with pytest.raises(InvalidSignature):
        public.verify(tamper(signature), MESSAGE)
    assert_trent_verifies(kms, meta, MESSAGE, "RAW", "ED25519_SHA_512", signature)


def test_ed25519ph_digest_signature_is_ed25519ph_of_the_digest(kms, key):
    """ED25519_PH_SHA_512 with MessageType DIGEST: AWS documents that KMS still applies
    the SHA-512 prehash, so the signature is Ed25519ph (RFC 8032, empty context) whose
    message is the 64-byte digest, i.e. the input is hashed twice."""
    meta = key("ECC_NIST_EDWARDS25519", "SIGN_VERIFY")
    public = serialization.load_der_public_key(public_key_of(kms, meta))
    raw = public.public_bytes_raw()
    digest = hashlib.sha512(MESSAGE).digest()
    signature = sign(kms, meta, digest, "DIGEST", "ED25519_PH_SHA_512")
    assert len(signature) == 64
    assert ed25519_verify(raw, digest, signature, prehash=True) is True
    assert ed25519_verify(raw, MESSAGE, signature, prehash=True) is False
    assert ed25519_verify(raw, digest, signature, prehash=False) is False
    assert ed25519_verify(raw, digest, tamper(signature), prehash=True) is False
    assert_trent_verifies(kms, meta, digest, "DIGEST", "ED25519_PH_SHA_512", signature)


ML_DSA = {
    "ML_DSA_44": (mldsa.MLDSA44PublicKey, 1312, 2420),
    "ML_DSA_65": (mldsa.MLDSA65PublicKey, 1952, 3309),
    "ML_DSA_87": (mldsa.MLDSA87PublicKey, 2592, 4627),
}


def fips204_mu(public_raw: bytes, message: bytes) -> bytes:
    """FIPS 204 mu for an empty context: SHAKE256(SHAKE256(pk, 64) || 0 || 0 || M, 64)."""
    tr = hashlib.shake_256(public_raw).digest(64)
    return hashlib.shake_256(tr + b"\x00\x00" + message).digest(64)


@pytest.mark.parametrize("spec", list(ML_DSA))
def test_ml_dsa_raw_signature_verifies_with_cryptography(kms, key, spec):
    """ML_DSA_SHAKE_256 over a RAW message is pure ML-DSA (FIPS 204, empty context)."""
    cls, pk_len, sig_len = ML_DSA[spec]
    meta = key(spec, "SIGN_VERIFY")
    public = serialization.load_der_public_key(public_key_of(kms, meta))
    assert isinstance(public, cls) and len(public.public_bytes_raw()) == pk_len
    signature = sign(kms, meta, MESSAGE, "RAW", "ML_DSA_SHAKE_256")
    assert len(signature) == sig_len
    public.verify(signature, MESSAGE)
    with pytest.raises(InvalidSignature):
        public.verify(signature, MESSAGE + b"!")
    assert_trent_verifies(kms, meta, MESSAGE, "RAW", "ML_DSA_SHAKE_256", signature)


@pytest.mark.parametrize("spec", list(ML_DSA))
def test_ml_dsa_external_mu_signature_verifies_over_the_message(kms, key, spec):
    """Signing an independently computed mu (EXTERNAL_MU) gives a signature that
    verifies over the original message, offline and in trent."""
    cls, _, sig_len = ML_DSA[spec]
    meta = key(spec, "SIGN_VERIFY")
    public = serialization.load_der_public_key(public_key_of(kms, meta))
    mu = fips204_mu(public.public_bytes_raw(), MESSAGE)
    hasher = mldsa.MLDSAMuHasher(public)
    hasher.update(MESSAGE)
    assert hasher.finalize() == mu

    signature = sign(kms, meta, mu, "EXTERNAL_MU", "ML_DSA_SHAKE_256")
    assert len(signature) == sig_len
    public.verify(signature, MESSAGE)
    public.verify_mu(signature, mu)
    assert_trent_verifies(kms, meta, mu, "EXTERNAL_MU", "ML_DSA_SHAKE_256", signature)
    resp = kms.verify(
        KeyId=meta["KeyId"], Message=MESSAGE, MessageType="RAW", Signature=signature,
        SigningAlgorithm="ML_DSA_SHAKE_256",
    )
    assert resp["SignatureValid"] is True


# --- public keys --------------------------------------------------------------------

RSA_SIGNING = [
    "RSASSA_PKCS1_V1_5_SHA_256", "RSASSA_PKCS1_V1_5_SHA_384", "RSASSA_PKCS1_V1_5_SHA_512",
    "RSASSA_PSS_SHA_256", "RSASSA_PSS_SHA_384", "RSASSA_PSS_SHA_512",
]
RSA_ENCRYPTION = ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"]
CURVES = {
    "ECC_NIST_P256": "secp256r1", "ECC_NIST_P384": "secp384r1",
    "ECC_NIST_P521": "secp521r1", "ECC_SECG_P256K1": "secp256k1",
}
ECDSA = {
    "ECC_NIST_P256": "ECDSA_SHA_256", "ECC_NIST_P384": "ECDSA_SHA_384",
    "ECC_NIST_P521": "ECDSA_SHA_512", "ECC_SECG_P256K1": "ECDSA_SHA_256",
}
ALGORITHM_FIELDS = {
    "ENCRYPT_DECRYPT": "EncryptionAlgorithms",
    "SIGN_VERIFY": "SigningAlgorithms",
    "KEY_AGREEMENT": "KeyAgreementAlgorithms",
}
LEGACY_SPECS = {"RSA_2048", "RSA_3072", "RSA_4096", *CURVES, "SM2"}

PUBLIC_KEY_CASES = [
    ("RSA_2048", "ENCRYPT_DECRYPT", RSA_ENCRYPTION),
    ("RSA_3072", "ENCRYPT_DECRYPT", RSA_ENCRYPTION),
    ("RSA_2048", "SIGN_VERIFY", RSA_SIGNING),
    ("RSA_3072", "SIGN_VERIFY", RSA_SIGNING),
    ("RSA_4096", "SIGN_VERIFY", RSA_SIGNING),
    *[(spec, "SIGN_VERIFY", [alg]) for spec, alg in ECDSA.items()],
    ("ECC_NIST_P256", "KEY_AGREEMENT", ["ECDH"]),
    ("ECC_NIST_P384", "KEY_AGREEMENT", ["ECDH"]),
    ("ECC_NIST_P521", "KEY_AGREEMENT", ["ECDH"]),
    ("ECC_NIST_EDWARDS25519", "SIGN_VERIFY", ["ED25519_SHA_512", "ED25519_PH_SHA_512"]),
    *[(spec, "SIGN_VERIFY", ["ML_DSA_SHAKE_256"]) for spec in ML_DSA],
]


def assert_public_key_fields(resp, meta, spec, usage, algorithms):
    assert resp["KeyId"] == meta["Arn"]
    assert resp["KeySpec"] == spec and resp["KeyUsage"] == usage
    if spec in LEGACY_SPECS:
        assert resp["CustomerMasterKeySpec"] == spec
    field = ALGORITHM_FIELDS[usage]
    if spec == "ECC_NIST_EDWARDS25519":
        assert sorted(resp[field]) == sorted(algorithms)
    else:
        assert resp[field] == algorithms
    assert meta[field] == resp[field]
    for other in set(ALGORITHM_FIELDS.values()) - {field}:
        assert other not in resp


@pytest.mark.parametrize("spec,usage,algorithms", PUBLIC_KEY_CASES)
def test_get_public_key_fields_and_der(kms, key, spec, usage, algorithms):
    """GetPublicKey names the key's spec, usage and algorithms (only the field that fits
    the usage), and its PublicKey is a canonical DER SPKI of the right type and size."""
    meta = key(spec, usage)
    resp = kms.get_public_key(KeyId=meta["KeyId"])
    assert_public_key_fields(resp, meta, spec, usage, algorithms)

    der = resp["PublicKey"]
    public = serialization.load_der_public_key(der)
    assert spki(public) == der
    if spec.startswith("RSA"):
        assert isinstance(public, rsa.RSAPublicKey)
        assert public.key_size == int(spec[4:])
        assert public.public_numbers().e == 65537
    elif spec in CURVES:
        assert isinstance(public, ec.EllipticCurvePublicKey)
        assert public.curve.name == CURVES[spec]
    elif spec == "ECC_NIST_EDWARDS25519":
        assert isinstance(public, ed25519.Ed25519PublicKey) and len(der) == 44
    else:
        cls, pk_len, _ = ML_DSA[spec]
        assert isinstance(public, cls) and len(public.public_bytes_raw()) == pk_len


# --- RSA encryption -----------------------------------------------------------------

OAEP = {"RSAES_OAEP_SHA_1": hashes.SHA1, "RSAES_OAEP_SHA_256": hashes.SHA256}


def oaep(algorithm):
    h = OAEP[algorithm]
    return padding.OAEP(mgf=padding.MGF1(h()), algorithm=h(), label=None)


@pytest.mark.parametrize("algorithm", list(OAEP))
@pytest.mark.parametrize("spec", ["RSA_2048", "RSA_3072"])
def test_rsa_oaep_offline_encryption_decrypts_in_trent(kms, key, spec, algorithm):
    """Data encrypted offline with the public key (OAEP, MGF1 with the same hash, empty
    label) decrypts in trent; trent's own Encrypt output is raw OAEP of modulus length
    and round-trips; the other OAEP hash does not decrypt it."""
    meta = key(spec, "ENCRYPT_DECRYPT")
    public = serialization.load_der_public_key(public_key_of(kms, meta))
    plaintext = os.urandom(100)

    offline = public.encrypt(plaintext, oaep(algorithm))
    resp = kms.decrypt(CiphertextBlob=offline, KeyId=meta["KeyId"], EncryptionAlgorithm=algorithm)
    assert (resp["Plaintext"], resp["KeyId"], resp["EncryptionAlgorithm"]) == (
        plaintext, meta["Arn"], algorithm,
    )

    enc = kms.encrypt(KeyId=meta["KeyId"], Plaintext=plaintext, EncryptionAlgorithm=algorithm)
    assert (enc["KeyId"], enc["EncryptionAlgorithm"]) == (meta["Arn"], algorithm)
    assert len(enc["CiphertextBlob"]) == public.key_size // 8
    assert enc["CiphertextBlob"] != offline
    resp = kms.decrypt(
        CiphertextBlob=enc["CiphertextBlob"], KeyId=meta["KeyId"], EncryptionAlgorithm=algorithm
    )
    assert resp["Plaintext"] == plaintext

    other = next(a for a in OAEP if a != algorithm)
    with pytest.raises(kms.exceptions.InvalidCiphertextException):
        kms.decrypt(CiphertextBlob=offline, KeyId=meta["KeyId"], EncryptionAlgorithm=other)


@pytest.mark.parametrize(
    "spec,algorithm,limit",
    [
        ("RSA_2048", "RSAES_OAEP_SHA_256", 190),
        ("RSA_2048", "RSAES_OAEP_SHA_1", 214),
        ("RSA_3072", "RSAES_OAEP_SHA_256", 318),
        ("RSA_3072", "RSAES_OAEP_SHA_1", 342),
    ],
)
def test_rsa_plaintext_limits(kms, key, spec, algorithm, limit):
    """The largest plaintext AWS allows encrypts; one byte more is refused with AWS's
    message."""
    meta = key(spec, "ENCRYPT_DECRYPT")
    plaintext = os.urandom(limit)
    blob = kms.encrypt(KeyId=meta["KeyId"], Plaintext=plaintext, EncryptionAlgorithm=algorithm)[
        "CiphertextBlob"
    ]
    assert kms.decrypt(
        CiphertextBlob=blob, KeyId=meta["KeyId"], EncryptionAlgorithm=algorithm
    )["Plaintext"] == plaintext
    with pytest.raises(ClientError) as e:
        kms.encrypt(KeyId=meta["KeyId"], Plaintext=os.urandom(limit + 1), EncryptionAlgorithm=algorithm)
    assert error(e) == (
        "ValidationException",
        f"Algorithm {algorithm} and key spec {spec} cannot encrypt data larger than {limit} bytes.",
    )


def test_re_encrypt_between_rsa_and_symmetric_keys(kms, key, wrapping_key):
    """ReEncrypt moves offline RSA-OAEP ciphertext to a symmetric key and back to RSA."""
    meta = key("RSA_2048", "ENCRYPT_DECRYPT")
    public = serialization.load_der_public_key(public_key_of(kms, meta))
    plaintext = b"moved between key types"
    offline = public.encrypt(plaintext, oaep("RSAES_OAEP_SHA_256"))

    moved = kms.re_encrypt(
        CiphertextBlob=offline, SourceKeyId=meta["KeyId"],
        SourceEncryptionAlgorithm="RSAES_OAEP_SHA_256", DestinationKeyId=wrapping_key["KeyId"],
    )
    assert (moved["SourceKeyId"], moved["KeyId"]) == (meta["Arn"], wrapping_key["Arn"])
    assert moved["SourceEncryptionAlgorithm"] == "RSAES_OAEP_SHA_256"
    assert moved["DestinationEncryptionAlgorithm"] == "SYMMETRIC_DEFAULT"
    assert kms.decrypt(CiphertextBlob=moved["CiphertextBlob"])["Plaintext"] == plaintext

    back = kms.re_encrypt(
        CiphertextBlob=moved["CiphertextBlob"], DestinationKeyId=meta["KeyId"],
        DestinationEncryptionAlgorithm="RSAES_OAEP_SHA_1",
    )
    assert (back["SourceKeyId"], back["KeyId"]) == (wrapping_key["Arn"], meta["Arn"])
    assert back["DestinationEncryptionAlgorithm"] == "RSAES_OAEP_SHA_1"
    assert len(back["CiphertextBlob"]) == 256
    assert kms.decrypt(
        CiphertextBlob=back["CiphertextBlob"], KeyId=meta["KeyId"],
        EncryptionAlgorithm="RSAES_OAEP_SHA_1",
    )["Plaintext"] == plaintext


# --- data key pairs -----------------------------------------------------------------

DATA_KEY_PAIRS = {
    "RSA_2048": (rsa.RSAPrivateKey, 2048),
    "RSA_3072": (rsa.RSAPrivateKey, 3072),
    "RSA_4096": (rsa.RSAPrivateKey, 4096),
    "ECC_NIST_P256": (ec.EllipticCurvePrivateKey, "secp256r1"),
    "ECC_NIST_P384": (ec.EllipticCurvePrivateKey, "secp384r1"),
    "ECC_NIST_P521": (ec.EllipticCurvePrivateKey, "secp521r1"),
    "ECC_SECG_P256K1": (ec.EllipticCurvePrivateKey, "secp256k1"),
    "ECC_NIST_EDWARDS25519": (ed25519.Ed25519PrivateKey, None),
}
CONTEXT = {"purpose": "data-key-pair"}


def check_private_key(spec, pkcs8: bytes, public_der: bytes):
    cls, size = DATA_KEY_PAIRS[spec]
    private = serialization.load_der_private_key(pkcs8, password=None)
    assert isinstance(private, cls)
    if cls is rsa.RSAPrivateKey:
        assert private.key_size == size
    elif cls is ec.EllipticCurvePrivateKey:
        assert private.curve.name == size
    assert spki(private.public_key()) == public_der


@pytest.mark.parametrize("spec", list(DATA_KEY_PAIRS))
def test_generate_data_key_pair(kms, wrapping_key, spec):
    """The plaintext private key is PKCS#8 DER matching the SPKI public key, and its
    encrypted copy decrypts (with the encryption context) to the same bytes."""
    resp = kms.generate_data_key_pair(
        KeyId=wrapping_key["KeyId"], KeyPairSpec=spec, EncryptionContext=CONTEXT
    )
    assert (resp["KeyId"], resp["KeyPairSpec"]) == (wrapping_key["Arn"], spec)
    check_private_key(spec, resp["PrivateKeyPlaintext"], resp["PublicKey"])
    out = kms.decrypt(CiphertextBlob=resp["PrivateKeyCiphertextBlob"], EncryptionContext=CONTEXT)
    assert (out["Plaintext"], out["KeyId"]) == (resp["PrivateKeyPlaintext"], wrapping_key["Arn"])
    with pytest.raises(kms.exceptions.InvalidCiphertextException):
        kms.decrypt(CiphertextBlob=resp["PrivateKeyCiphertextBlob"])


@pytest.mark.parametrize("spec", list(DATA_KEY_PAIRS))
def test_generate_data_key_pair_without_plaintext(kms, wrapping_key, spec):
    """No plaintext private key is returned; the encrypted one decrypts to a PKCS#8 key
    that matches the returned public key."""
    resp = kms.generate_data_key_pair_without_plaintext(
        KeyId=wrapping_key["KeyId"], KeyPairSpec=spec
    )
    assert (resp["KeyId"], resp["KeyPairSpec"]) == (wrapping_key["Arn"], spec)
    assert "PrivateKeyPlaintext" not in resp
    out = kms.decrypt(CiphertextBlob=resp["PrivateKeyCiphertextBlob"])
    check_private_key(spec, out["Plaintext"], resp["PublicKey"])


# --- key agreement ------------------------------------------------------------------

NIST_CURVES = {
    "ECC_NIST_P256": ec.SECP256R1, "ECC_NIST_P384": ec.SECP384R1, "ECC_NIST_P521": ec.SECP521R1,
}


@pytest.mark.parametrize("spec", list(NIST_CURVES))
def test_derive_shared_secret_matches_cryptography_ecdh(kms, key, spec):
    """DeriveSharedSecret with our SPKI public key gives the raw ECDH x-coordinate that
    `cryptography` computes from our private key and the KMS public key."""
    meta = key(spec, "KEY_AGREEMENT")
    kms_public = serialization.load_der_public_key(public_key_of(kms, meta))
    ours = ec.generate_private_key(NIST_CURVES[spec]())
    resp = kms.derive_shared_secret(
        KeyId=meta["KeyId"], KeyAgreementAlgorithm="ECDH", PublicKey=spki(ours.public_key())
    )
    expected = ours.exchange(ec.ECDH(), kms_public)
    assert resp["SharedSecret"] == expected
    assert len(expected) == (ours.curve.key_size + 7) // 8
    assert (resp["KeyId"], resp["KeyAgreementAlgorithm"], resp["KeyOrigin"]) == (
        meta["Arn"], "ECDH", "AWS_KMS",
    )


def test_two_kms_keys_derive_the_same_secret(kms):
    """Two KEY_AGREEMENT keys derive the same secret from each other's public keys."""
    a = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="KEY_AGREEMENT")["KeyMetadata"]
    b = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="KEY_AGREEMENT")["KeyMetadata"]
    ab = kms.derive_shared_secret(
        KeyId=a["KeyId"], KeyAgreementAlgorithm="ECDH", PublicKey=public_key_of(kms, b)
    )["SharedSecret"]
    ba = kms.derive_shared_secret(
        KeyId=b["KeyId"], KeyAgreementAlgorithm="ECDH", PublicKey=public_key_of(kms, a)
    )["SharedSecret"]
    assert ab == ba and len(ab) == 32


def test_derive_shared_secret_rejects_invalid_public_keys(kms, key):
    """Bytes that are no SPKI public key give ValidationException (AWS sends no message
    for b"InvalidPublicKey")."""
    meta = key("ECC_NIST_P256", "KEY_AGREEMENT")
    with pytest.raises(ClientError) as e:
        kms.derive_shared_secret(
            KeyId=meta["KeyId"], KeyAgreementAlgorithm="ECDH", PublicKey=b"InvalidPublicKey"
        )
    assert error(e) == ("ValidationException", "")
    with pytest.raises(ClientError) as e:
        kms.derive_shared_secret(
            KeyId=meta["KeyId"], KeyAgreementAlgorithm="ECDH", PublicKey=os.urandom(91)
        )
    assert error(e)[0] == "ValidationException"


# --- HMAC ---------------------------------------------------------------------------

HMAC_CASES = [
    ("HMAC_224", "HMAC_SHA_224", 28),
    ("HMAC_256", "HMAC_SHA_256", 32),
    ("HMAC_384", "HMAC_SHA_384", 48),
    ("HMAC_512", "HMAC_SHA_512", 64),
]


@pytest.mark.parametrize("spec,algorithm,length", HMAC_CASES)
def test_hmac_generate_and_verify(kms, key, spec, algorithm, length):
    """GenerateMac is deterministic with the hash's length; VerifyMac accepts it and
    rejects a changed MAC or message with KMSInvalidMacException."""
    meta = key(spec, "GENERATE_VERIFY_MAC")
    assert meta["MacAlgorithms"] == [algorithm]
    resp = kms.generate_mac(KeyId=meta["KeyId"], Message=MESSAGE, MacAlgorithm=algorithm)
    assert (resp["KeyId"], resp["MacAlgorithm"]) == (meta["Arn"], algorithm)
    mac = resp["Mac"]
    assert len(mac) == length
    assert kms.generate_mac(KeyId=meta["KeyId"], Message=MESSAGE, MacAlgorithm=algorithm)["Mac"] == mac
    assert kms.generate_mac(KeyId=meta["KeyId"], Message=b"other", MacAlgorithm=algorithm)["Mac"] != mac

    ok = kms.verify_mac(KeyId=meta["KeyId"], Message=MESSAGE, MacAlgorithm=algorithm, Mac=mac)
    assert (ok["KeyId"], ok["MacValid"], ok["MacAlgorithm"]) == (meta["Arn"], True, algorithm)
    with pytest.raises(kms.exceptions.KMSInvalidMacException):
        kms.verify_mac(KeyId=meta["KeyId"], Message=MESSAGE, MacAlgorithm=algorithm, Mac=tamper(mac))
    with pytest.raises(kms.exceptions.KMSInvalidMacException):
        kms.verify_mac(KeyId=meta["KeyId"], Message=b"other", MacAlgorithm=algorithm, Mac=mac)


def test_hmac_algorithm_must_match_key_spec(kms, key):
    """A MAC algorithm of another size is refused with AWS's InvalidKeyUsageException."""
    k224 = key("HMAC_224", "GENERATE_VERIFY_MAC")
    with pytest.raises(ClientError) as e:
        kms.generate_mac(KeyId=k224["KeyId"], Message=MESSAGE, MacAlgorithm="HMAC_SHA_256")
    assert error(e) == (
        "InvalidKeyUsageException", "Algorithm HMAC_SHA_256 is incompatible with key spec HMAC_224."
    )
    k256 = key("HMAC_256", "GENERATE_VERIFY_MAC")
    mac = kms.generate_mac(KeyId=k256["KeyId"], Message=MESSAGE, MacAlgorithm="HMAC_SHA_256")["Mac"]
    with pytest.raises(ClientError) as e:
        kms.verify_mac(KeyId=k256["KeyId"], Message=MESSAGE, MacAlgorithm="HMAC_SHA_512", Mac=mac)
    assert error(e) == (
        "InvalidKeyUsageException", "Algorithm HMAC_SHA_512 is incompatible with key spec HMAC_256."
    )


# --- SM2 (China Regions) ------------------------------------------------------------

CN = "cn-north-1"


def test_sm2_keys_live_in_china_regions_only(client, key):
    """SM2 keys get aws-cn ARNs in cn-north-1; CreateKey with SM2 in us-east-1 fails
    (AWS's exact error for that is not recorded, so only the failure is asserted)."""
    for usage in ("SIGN_VERIFY", "ENCRYPT_DECRYPT", "KEY_AGREEMENT"):
        meta = key("SM2", usage, CN)
        assert meta["Arn"].startswith(f"arn:aws-cn:kms:{CN}:")
        assert (meta["KeySpec"], meta["KeyUsage"]) == ("SM2", usage)
    with pytest.raises(ClientError):
        client().create_key(KeySpec="SM2", KeyUsage="SIGN_VERIFY")


@pytest.mark.parametrize(
    "usage,algorithms",
    [("SIGN_VERIFY", ["SM2DSA"]), ("ENCRYPT_DECRYPT", ["SM2PKE"]), ("KEY_AGREEMENT", ["ECDH"])],
)
def test_sm2_get_public_key(client, key, usage, algorithms):
    """An SM2 public key is an id-ecPublicKey SPKI on curve sm2p256v1 with a point on
    the curve, and GetPublicKey lists the SM2 algorithms for the usage."""
    cn = client(CN)
    meta = key("SM2", usage, CN)
    resp = cn.get_public_key(KeyId=meta["KeyId"])
    assert_public_key_fields(resp, meta, "SM2", usage, algorithms)
    sm2_spki_point(resp["PublicKey"])


def test_sm2dsa_signatures_verify_with_gmssl(client, key):
    """SM2DSA over a RAW message verifies with gmssl (SM3 of Z_A with the default ID
    1234567812345678, then the message); over a DIGEST (that SM3 value) it verifies as
    the bare e. Signatures are DER r,s; trent's Verify agrees."""
    cn = client(CN)
    meta = key("SM2", "SIGN_VERIFY", CN)
    point = sm2_spki_point(public_key_of(cn, meta))
    sm2 = gmssl_sm2(point)

    signature = sign(cn, meta, MESSAGE, "RAW", "SM2DSA")
    r, s = decode_dss_signature(signature)
    assert encode_dss_signature(r, s) == signature and 0 < r < SM2_N and 0 < s < SM2_N
    assert sm2.verify_with_sm3("%064x%064x" % (r, s), MESSAGE) is True
    assert sm2.verify_with_sm3("%064x%064x" % (r, s), MESSAGE + b"!") is False
    assert_trent_verifies(cn, meta, MESSAGE, "RAW", "SM2DSA", signature)

    e = bytes.fromhex(sm2._sm3_z(MESSAGE))
    assert len(e) == 32
    signature = sign(cn, meta, e, "DIGEST", "SM2DSA")
    r, s = decode_dss_signature(signature)
    assert sm2.verify("%064x%064x" % (r, s), e) is True
    assert_trent_verifies(cn, meta, e, "DIGEST", "SM2DSA", signature)
    assert cn.verify(
        KeyId=meta["KeyId"], Message=MESSAGE, MessageType="RAW", Signature=signature,
        SigningAlgorithm="SM2DSA",
    )["SignatureValid"] is True


def test_sm2pke_gmssl_ciphertext_decrypts_in_trent(client, key):
    """gmssl's SM2 encryption (C1||C3||C2), put in the DER SM2Cipher form AWS uses,
    decrypts in trent with SM2PKE."""
    cn = client(CN)
    meta = key("SM2", "ENCRYPT_DECRYPT", CN)
    sm2 = gmssl_sm2(sm2_spki_point(public_key_of(cn, meta)))
    for plaintext in (b"x", b"sm2 offline plaintext", os.urandom(200)):
        der = sm2_ciphertext_to_der(sm2.encrypt(plaintext))
        resp = cn.decrypt(CiphertextBlob=der, KeyId=meta["KeyId"], EncryptionAlgorithm="SM2PKE")
        assert (resp["Plaintext"], resp["KeyId"], resp["EncryptionAlgorithm"]) == (
            plaintext, meta["Arn"], "SM2PKE",
        )


def test_re_encrypt_gmssl_sm2_ciphertext_to_a_symmetric_key(client, key):
    """ReEncrypt takes offline SM2PKE ciphertext to a symmetric key in cn-north-1."""
    cn = client(CN)
    meta = key("SM2", "ENCRYPT_DECRYPT", CN)
    sm2 = gmssl_sm2(sm2_spki_point(public_key_of(cn, meta)))
    symmetric = cn.create_key()["KeyMetadata"]
    der = sm2_ciphertext_to_der(sm2.encrypt(MESSAGE))
    moved = cn.re_encrypt(
        CiphertextBlob=der, SourceKeyId=meta["KeyId"], SourceEncryptionAlgorithm="SM2PKE",
        DestinationKeyId=symmetric["KeyId"],
    )
    assert (moved["SourceKeyId"], moved["KeyId"]) == (meta["Arn"], symmetric["Arn"])
    assert moved["SourceEncryptionAlgorithm"] == "SM2PKE"
    assert cn.decrypt(CiphertextBlob=moved["CiphertextBlob"])["Plaintext"] == MESSAGE


def test_sm2pke_trent_ciphertext_is_der_sm2cipher(client, key):
    """trent's SM2PKE ciphertext is DER SEQUENCE { x, y, C3, C2 } with C1 on the curve,
    a 32-byte SM3 hash and C2 as long as the plaintext, and it decrypts in trent.

    gmssl cannot decrypt it: that needs the private key, which a KMS key never exports."""
    cn = client(CN)
    meta = key("SM2", "ENCRYPT_DECRYPT", CN)
    plaintext = b"encrypted by trent"
    enc = cn.encrypt(KeyId=meta["KeyId"], Plaintext=plaintext, EncryptionAlgorithm="SM2PKE")
    assert (enc["KeyId"], enc["EncryptionAlgorithm"]) == (meta["Arn"], "SM2PKE")
    tag, body, end = der_read(enc["CiphertextBlob"])
    assert tag == 0x30 and end == len(enc["CiphertextBlob"])
    (tx, x), (ty, y), (th, c3), (tc, c2) = der_items(body)
    assert (tx, ty, th, tc) == (0x02, 0x02, 0x04, 0x04)
    assert sm2_on_curve(int.from_bytes(x, "big"), int.from_bytes(y, "big"))
    assert len(c3) == 32 and len(c2) == len(plaintext)
    resp = cn.decrypt(
        CiphertextBlob=enc["CiphertextBlob"], KeyId=meta["KeyId"], EncryptionAlgorithm="SM2PKE"
    )
    assert resp["Plaintext"] == plaintext


def test_sm2pke_plaintext_limit(client, key):
    """SM2PKE encrypts up to 1024 bytes; 1025 is a ValidationException."""
    cn = client(CN)
    meta = key("SM2", "ENCRYPT_DECRYPT", CN)
    plaintext = os.urandom(1024)
    blob = cn.encrypt(KeyId=meta["KeyId"], Plaintext=plaintext, EncryptionAlgorithm="SM2PKE")[
        "CiphertextBlob"
    ]
    assert cn.decrypt(
        CiphertextBlob=blob, KeyId=meta["KeyId"], EncryptionAlgorithm="SM2PKE"
    )["Plaintext"] == plaintext
    with pytest.raises(ClientError) as e:
        cn.encrypt(KeyId=meta["KeyId"], Plaintext=os.urandom(1025), EncryptionAlgorithm="SM2PKE")
    assert error(e)[0] == "ValidationException"


def test_sm2_derive_shared_secret_matches_gmssl(client, key):
    """ECDH on the SM2 curve: the secret is the x-coordinate of d * Q_kms computed with
    gmssl's point arithmetic from our own private scalar d."""
    cn = client(CN)
    meta = key("SM2", "KEY_AGREEMENT", CN)
    kms_point = sm2_spki_point(public_key_of(cn, meta))
    d = int.from_bytes(os.urandom(32), "big") % (SM2_N - 1) + 1
    ours = sm2_mul(d, default_ecc_table["g"])
    resp = cn.derive_shared_secret(
        KeyId=meta["KeyId"], KeyAgreementAlgorithm="ECDH", PublicKey=sm2_spki(ours)
    )
    assert resp["SharedSecret"] == sm2_mul(d, kms_point.hex())[:32]
    assert (resp["KeyId"], resp["KeyAgreementAlgorithm"]) == (meta["Arn"], "ECDH")


@pytest.mark.parametrize("without_plaintext", [False, True])
def test_sm2_data_key_pair(client, without_plaintext):
    """An SM2 data key pair's PKCS#8 private scalar d gives, through gmssl, d*G equal to
    the returned SPKI point; the encrypted copy decrypts to the same PKCS#8."""
    cn = client(CN)
    wrapping = cn.create_key()["KeyMetadata"]
    assert wrapping["Arn"].startswith(f"arn:aws-cn:kms:{CN}:")
    call = (
        cn.generate_data_key_pair_without_plaintext
        if without_plaintext
        else cn.generate_data_key_pair
    )
    resp = call(KeyId=wrapping["KeyId"], KeyPairSpec="SM2")
    assert (resp["KeyId"], resp["KeyPairSpec"]) == (wrapping["Arn"], "SM2")
    pkcs8 = cn.decrypt(CiphertextBlob=resp["PrivateKeyCiphertextBlob"])["Plaintext"]
    if without_plaintext:
        assert "PrivateKeyPlaintext" not in resp
    else:
        assert resp["PrivateKeyPlaintext"] == pkcs8

    (version_tag, version), (alg_tag, alg), (oct_tag, inner) = der_items(der_read(pkcs8)[1])[:3]
    assert (version_tag, version, alg_tag, oct_tag) == (0x02, b"\x00", 0x30, 0x04)
    assert [der_oid(v) for _, v in der_items(alg)] == [OID_EC_PUBLIC_KEY, OID_SM2]
    ec_private = der_items(der_read(inner)[1])
    assert ec_private[0] == (0x02, b"\x01") and ec_private[1][0] == 0x04
    d = int.from_bytes(ec_private[1][1], "big")
    assert 0 < d < SM2_N
    assert sm2_mul(d, default_ecc_table["g"]) == sm2_spki_point(resp["PublicKey"])


# --- wrong key usage ----------------------------------------------------------------


def test_wrong_key_usage_errors_match_aws(kms, key):
    """Each operation refuses a key of the wrong usage with AWS's exact error."""
    sign_rsa = key("RSA_2048", "SIGN_VERIFY")
    sign_ecc = key("ECC_NIST_P256", "SIGN_VERIFY")
    hmac_key = key("HMAC_224", "GENERATE_VERIFY_MAC")
    agreement = key("ECC_NIST_P256", "KEY_AGREEMENT")
    symmetric = kms.create_key()["KeyMetadata"]
    peer = public_key_of(kms, agreement)

    calls = [
        (lambda: kms.encrypt(KeyId=sign_rsa["KeyId"], Plaintext=b"test message 123!@#"),
         sign_rsa, "SIGN_VERIFY", "Encrypt"),
        (lambda: kms.encrypt(KeyId=sign_ecc["KeyId"], Plaintext=b"x"),
         sign_ecc, "SIGN_VERIFY", "Encrypt"),
        (lambda: kms.sign(KeyId=hmac_key["KeyId"], Message=b"test message 123!@#",
                          MessageType="RAW", SigningAlgorithm="RSASSA_PSS_SHA_256"),
         hmac_key, "GENERATE_VERIFY_MAC", "Sign"),
        (lambda: kms.verify(KeyId=symmetric["KeyId"], Message=b"test message",
                            MessageType="RAW", Signature=b"random text",
                            SigningAlgorithm="ECDSA_SHA_256"),
         symmetric, "ENCRYPT_DECRYPT", "Verify"),
        (lambda: kms.generate_mac(KeyId=symmetric["KeyId"], Message=b"m",
                                  MacAlgorithm="HMAC_SHA_224"),
         symmetric, "ENCRYPT_DECRYPT", "GenerateMac"),
        (lambda: kms.derive_shared_secret(KeyId=sign_ecc["KeyId"],
                                          KeyAgreementAlgorithm="ECDH", PublicKey=peer),
         sign_ecc, "SIGN_VERIFY", "DeriveSharedSecret"),
        (lambda: kms.derive_shared_secret(KeyId=symmetric["KeyId"],
                                          KeyAgreementAlgorithm="ECDH", PublicKey=peer),
         symmetric, "ENCRYPT_DECRYPT", "DeriveSharedSecret"),
    ]
    for call, meta, usage, operation in calls:
        with pytest.raises(ClientError) as e:
            call()
        assert error(e) == (
            "InvalidKeyUsageException",
            f"{meta['Arn']} key usage is {usage} which is not valid for {operation}.",
        )


def test_key_spec_and_usage_must_be_compatible(kms):
    """RSA cannot be a KEY_AGREEMENT key (AWS's ValidationException wording)."""
    with pytest.raises(ClientError) as e:
        kms.create_key(KeySpec="RSA_2048", KeyUsage="KEY_AGREEMENT")
    assert error(e) == (
        "ValidationException", "KeyUsage KEY_AGREEMENT is not compatible with KeySpec RSA_2048"
    )
