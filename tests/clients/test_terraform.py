"""Terraform's AWS provider against trent, offline, with nothing but `endpoints { kms }`
pointing it there: the configuration in terraform/main.tf (a symmetric key with
rotation every 180 days and tags, an alias for it, an ECC_NIST_P256 signing key, an
`aws_kms_ciphertext`, `data.aws_kms_secrets` and `data.aws_kms_public_key`) applies,
its outputs and trent's state agree, a second plan finds no changes, and destroy leaves
both keys pending deletion and the alias gone.

The provider comes from a filesystem mirror (TRENT_TF_PLUGINS, by default
/opt/tf-plugins, holding registry.terraform.io/hashicorp/aws); without terraform or
that mirror the test is skipped."""

import base64
import datetime
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import CLIENT_ENV
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

HERE = Path(__file__).resolve().parent
CONFIGURATION = HERE / "terraform" / "main.tf"
MIRROR = Path(os.environ.get("TRENT_TF_PLUGINS", "/opt/tf-plugins"))

# Starting the provider plugin alone takes seconds; a whole apply may take a minute.
TIMEOUT = 600
SECRET = "the launch code is 0000"
ALIAS = "alias/terraform-app"


class Terraform:
    """The terraform CLI in a working directory of its own, pointed at one trent."""

    def __init__(self, binary: str, workdir: Path, trent):
        self.binary = binary
        self.workdir = workdir
        self.trent = trent
        cli_config = workdir.parent / "terraform.rc"
        cli_config.write_text(
            "provider_installation {\n"
            "  filesystem_mirror {\n"
            f"    path    = {json.dumps(str(MIRROR))}\n"
            '    include = ["registry.terraform.io/hashicorp/*"]\n'
            "  }\n"
            "  direct {\n"
            '    exclude = ["registry.terraform.io/*/*"]\n'
            "  }\n"
            "}\n"
        )
        # No TF_ setting of the caller's (TF_PLUGIN_CACHE_DIR, TF_CLI_ARGS, TF_LOG...),
        # and no AWS_ setting either: the provider must need only its own block.
        self.env = {
            k: v for k, v in os.environ.items() if not k.startswith(("TF_", "AWS_"))
        }
        self.env.update(
            CLIENT_ENV,
            TF_CLI_CONFIG_FILE=str(cli_config),
            TF_DATA_DIR=str(workdir / ".terraform"),
            TF_IN_AUTOMATION="1",
            CHECKPOINT_DISABLE="1",
        )
        self.vars = ["-var", f"endpoint={trent.endpoint}", "-var", f"secret={SECRET}"]

    def run(self, *args: str, codes=(0,)) -> subprocess.CompletedProcess:
        """Runs `terraform args...`; an exit code outside `codes` fails the test with
        terraform's output and the requests trent saw."""
        result = subprocess.run(
            [self.binary, *args], cwd=self.workdir, env=self.env,
            capture_output=True, text=True, timeout=TIMEOUT,
        )
        if result.returncode not in codes:
            raise AssertionError(self.report(result))
        return result

    def report(self, result: subprocess.CompletedProcess) -> str:
        requests = [line for line in self.trent.log_text().splitlines() if "request" in line]
        return (
            f"terraform {result.args[1]} exited with {result.returncode}\n"
            f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}\n"
            f"--- trent's requests\n" + "\n".join(requests)
        )

    def outputs(self) -> dict:
        values = json.loads(self.run("output", "-json").stdout)
        return {name: output["value"] for name, output in values.items()}


@pytest.fixture
def terraform(start, tmp_path):
    binary = shutil.which("terraform")
    if binary is None:
        pytest.skip("terraform is not on PATH")
    if not any(MIRROR.glob("registry.terraform.io/hashicorp/aws/**/terraform-provider-aws*")):
        pytest.skip(
            f"the plugin mirror {MIRROR} holds no registry.terraform.io/hashicorp/aws "
            "provider (set TRENT_TF_PLUGINS to a Terraform filesystem mirror that does)"
        )
    workdir = tmp_path / "terraform"
    workdir.mkdir()
    shutil.copy(CONFIGURATION, workdir / "main.tf")
    # Debug logging writes one line per request: the operation, its status and error.
    return Terraform(binary, workdir, start(None, "--log", "info,trent=debug"))


def test_terraform_apply_replan_destroy(terraform):
    tf = terraform
    kms = tf.trent.client()
    tf.run("init", "-input=false", "-no-color")
    tf.run("apply", "-auto-approve", "-input=false", "-no-color", *tf.vars)
    out = tf.outputs()

    # The symmetric key: enabled, described, tagged, rotating every 180 days.
    app = out["app_key_arn"]
    assert app.endswith(f":key/{out['app_key_id']}")
    metadata = kms.describe_key(KeyId=app)["KeyMetadata"]
    assert metadata["KeyState"] == "Enabled"
    assert metadata["Description"] == "application data key"
    assert metadata["KeySpec"] == "SYMMETRIC_DEFAULT"
    assert metadata["KeyUsage"] == "ENCRYPT_DECRYPT"
    rotation = kms.get_key_rotation_status(KeyId=app)
    assert rotation["KeyRotationEnabled"] is True
    assert rotation["RotationPeriodInDays"] == 180
    tags = {t["TagKey"]: t["TagValue"] for t in kms.list_resource_tags(KeyId=app)["Tags"]}
    assert tags == {"Project": "trent", "Tier": "clients"}

    # The alias names it.
    assert out["alias_arn"].endswith(f":{ALIAS}")
    assert out["alias_target_key_arn"] == app
    aliases = kms.list_aliases(KeyId=app)["Aliases"]
    assert [(a["AliasName"], a["AliasArn"]) for a in aliases] == [(ALIAS, out["alias_arn"])]

    # The ciphertext, encrypted through the alias, decrypts back to the secret both in
    # terraform (data.aws_kms_secrets) and here, and only with its context.
    assert out["decrypted_secret"] == SECRET
    blob = base64.b64decode(out["ciphertext_blob"])
    decrypted = kms.decrypt(CiphertextBlob=blob, EncryptionContext={"purpose": "terraform"})
    assert decrypted["Plaintext"] == SECRET.encode() and decrypted["KeyId"] == app
    with pytest.raises(kms.exceptions.InvalidCiphertextException):
        kms.decrypt(CiphertextBlob=blob)

    # The signing key's public key, as terraform read it, is the one trent hands out.
    signing = out["signing_key_arn"]
    assert kms.describe_key(KeyId=signing)["KeyMetadata"]["KeySpec"] == "ECC_NIST_P256"
    # The provider reads the rotation status of every key, asymmetric ones included.
    assert kms.get_key_rotation_status(KeyId=signing)["KeyRotationEnabled"] is False
    public_key = serialization.load_pem_public_key(out["public_key_pem"].encode())
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    assert public_key.curve.name == "secp256r1"
    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert der == kms.get_public_key(KeyId=signing)["PublicKey"]
    assert out["public_key_spec"] == "ECC_NIST_P256"
    assert out["public_key_signing_algorithms"] == ["ECDSA_SHA_256"]

    # Everything terraform reads back matches what it wrote: no changes to plan.
    plan = tf.run("plan", "-detailed-exitcode", "-input=false", "-no-color", *tf.vars,
                  codes=(0, 2))
    if plan.returncode != 0:
        pytest.fail("the second plan has changes:\n" + tf.report(plan))

    tf.run("destroy", "-auto-approve", "-input=false", "-no-color", *tf.vars)
    now = datetime.datetime.now(datetime.timezone.utc)
    for key in (app, signing):
        metadata = kms.describe_key(KeyId=key)["KeyMetadata"]
        assert metadata["KeyState"] == "PendingDeletion", metadata
        # deletion_window_in_days = 7
        days = (metadata["DeletionDate"] - now) / datetime.timedelta(days=1)
        assert 6 < days <= 7.01, metadata
    pages = kms.get_paginator("list_aliases").paginate()
    names = [a["AliasName"] for page in pages for a in page["Aliases"]]
    assert ALIAS not in names, names
    assert tf.run("state", "list").stdout == ""
