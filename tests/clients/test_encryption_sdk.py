"""The AWS Encryption SDK for Python encrypting and decrypting a file through an AWS KMS
keyring (and the older master key provider) pointed at trent."""

import boto3
import aws_encryption_sdk
import pytest
from aws_cryptographic_material_providers.mpl import AwsCryptographicMaterialProviders
from aws_cryptographic_material_providers.mpl.config import MaterialProvidersConfig
from aws_cryptographic_material_providers.mpl.models import CreateAwsKmsKeyringInput
from aws_encryption_sdk import CommitmentPolicy
from aws_encryption_sdk.exceptions import AWSEncryptionSDKClientError


@pytest.fixture
def esdk():
    return aws_encryption_sdk.EncryptionSDKClient(
        commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT
    )


def keyring_for(trent, key_arn):
    mpl = AwsCryptographicMaterialProviders(config=MaterialProvidersConfig())
    return mpl.create_aws_kms_keyring(
        input=CreateAwsKmsKeyringInput(kms_key_id=key_arn, kms_client=trent.client())
    )


def test_file_round_trip_through_a_kms_keyring(trent, kms, esdk, tmp_path):
    arn = kms.create_key()["KeyMetadata"]["Arn"]
    keyring = keyring_for(trent, arn)
    source = tmp_path / "report.csv"
    source.write_bytes(b"id,amount\n" + b"".join(b"%d,%d\n" % (i, i * 7) for i in range(5000)))
    context = {"purpose": "test", "owner": "trent"}

    with open(source, "rb") as fin, open(tmp_path / "report.enc", "wb") as fout:
        with esdk.stream(mode="e", source=fin, keyring=keyring, encryption_context=context) as enc:
            for chunk in enc:
                fout.write(chunk)
    assert (tmp_path / "report.enc").read_bytes()[:1] in (b"\x01", b"\x02")

    with open(tmp_path / "report.enc", "rb") as fin, open(tmp_path / "report.out", "wb") as fout:
        with esdk.stream(mode="d", source=fin, keyring=keyring) as dec:
            for chunk in dec:
                fout.write(chunk)
            header = dec.header
    assert (tmp_path / "report.out").read_bytes() == source.read_bytes()
    for k, v in context.items():
        assert header.encryption_context[k] == v


def test_disabled_key_stops_the_keyring(trent, kms, esdk):
    arn = kms.create_key()["KeyMetadata"]["Arn"]
    keyring = keyring_for(trent, arn)
    ciphertext, _ = esdk.encrypt(source=b"short message", keyring=keyring)
    kms.disable_key(KeyId=arn)
    with pytest.raises(AWSEncryptionSDKClientError) as failure:
        esdk.decrypt(source=ciphertext, keyring=keyring)
    # The keyring reports the KMS error it met: the message AWS gives a disabled key.
    assert f"{arn} is disabled." in repr(failure.value), repr(failure.value)
    kms.enable_key(KeyId=arn)
    plaintext, _ = esdk.decrypt(source=ciphertext, keyring=keyring)
    assert plaintext == b"short message"


def test_master_key_provider(trent, kms, esdk, monkeypatch):
    # The master key provider builds its own clients: point them at trent.
    monkeypatch.setenv("AWS_ENDPOINT_URL_KMS", trent.endpoint)
    session = boto3.session.Session()._session
    arn = kms.create_key()["KeyMetadata"]["Arn"]
    provider = aws_encryption_sdk.StrictAwsKmsMasterKeyProvider(key_ids=[arn], botocore_session=session)
    ciphertext, _ = esdk.encrypt(source=b"via master key provider", key_provider=provider)
    plaintext, _ = esdk.decrypt(source=ciphertext, key_provider=provider)
    assert plaintext == b"via master key provider"

    other = kms.create_key()["KeyMetadata"]["Arn"]
    strict_other = aws_encryption_sdk.StrictAwsKmsMasterKeyProvider(
        key_ids=[other], botocore_session=session
    )
    with pytest.raises(AWSEncryptionSDKClientError):
        esdk.decrypt(source=ciphertext, key_provider=strict_other)
