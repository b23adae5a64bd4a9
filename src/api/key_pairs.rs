//! Data key pairs: GenerateDataKeyPair and GenerateDataKeyPairWithoutPlaintext. The
//! private key (PKCS#8 DER) comes back encrypted under a symmetric KMS key, so it opens
//! with Decrypt; the public key is DER SubjectPublicKeyInfo.

use serde::{Deserialize, Serialize};

use super::encryption::{wrap, wrapping_key};
use super::recipient::{RecipientInfo, deliver, recipient};
use super::{Base64, Ctx};
use crate::crypto::Secret;
use crate::crypto::blob::EncryptionContext;
use crate::error::{KmsError, Result};
use crate::model::{DataKeyPairSpec, Operation};

/// A new key pair of `spec`: the private key as PKCS#8 DER and the public key.
async fn generate_pair(ctx: &Ctx, spec: DataKeyPairSpec) -> Result<(Secret, Vec<u8>)> {
    let spec = spec.key_spec();
    if !spec.offered_in(&ctx.scope) {
        return Err(KmsError::unsupported(format!(
            "KeyPairSpec {spec} is not supported in this Region"
        )));
    }
    let key = ctx.svc.generate_key(spec).await;
    let public = key
        .public_key_der()
        .ok_or_else(|| KmsError::internal(format!("{spec} has no public key")))?;
    Ok((key.to_storage(), public))
}

/// The shared part of both operations: the pair, its private key wrapped under `key_id`.
async fn wrapped_pair(
    ctx: &Ctx,
    op: Operation,
    key_id: &str,
    spec: DataKeyPairSpec,
    dry_run: Option<bool>,
    context: &EncryptionContext,
) -> Result<Pair> {
    // Checked (and a DryRun answered) before the slow key generation.
    let key = wrapping_key(ctx, op, key_id, dry_run).await?;
    let (private, public) = generate_pair(ctx, spec).await?;
    let (wrapped, key_material_id) = wrap(&key, &private, context)?;
    ctx.used(&key, op);
    Ok(Pair {
        key_id: key.arn(),
        private,
        public,
        wrapped,
        key_material_id,
    })
}

struct Pair {
    key_id: String,
    private: Secret,
    public: Vec<u8>,
    wrapped: Vec<u8>,
    key_material_id: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GenerateDataKeyPairRequest {
    encryption_context: Option<EncryptionContext>,
    key_id: String,
    key_pair_spec: DataKeyPairSpec,
    recipient: Option<RecipientInfo>,
    dry_run: Option<bool>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GenerateDataKeyPairResponse {
    private_key_ciphertext_blob: Base64,
    #[serde(skip_serializing_if = "Option::is_none")]
    private_key_plaintext: Option<Secret>,
    public_key: Base64,
    key_id: String,
    key_pair_spec: DataKeyPairSpec,
    #[serde(skip_serializing_if = "Option::is_none")]
    ciphertext_for_recipient: Option<Base64>,
    key_material_id: String,
}

pub async fn generate_data_key_pair(
    ctx: Ctx,
    req: GenerateDataKeyPairRequest,
) -> Result<GenerateDataKeyPairResponse> {
    let recipient = recipient(&req.recipient)?;
    let pair = wrapped_pair(
        &ctx,
        Operation::GenerateDataKeyPair,
        &req.key_id,
        req.key_pair_spec,
        req.dry_run,
        &req.encryption_context.unwrap_or_default(),
    )
    .await?;
    let (private_key_plaintext, ciphertext_for_recipient) =
        deliver(pair.private, recipient.as_ref());
    Ok(GenerateDataKeyPairResponse {
        private_key_ciphertext_blob: Base64(pair.wrapped),
        private_key_plaintext,
        public_key: Base64(pair.public),
        key_id: pair.key_id,
        key_pair_spec: req.key_pair_spec,
        ciphertext_for_recipient,
        key_material_id: pair.key_material_id,
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GenerateDataKeyPairWithoutPlaintextRequest {
    encryption_context: Option<EncryptionContext>,
    key_id: String,
    key_pair_spec: DataKeyPairSpec,
    dry_run: Option<bool>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GenerateDataKeyPairWithoutPlaintextResponse {
    private_key_ciphertext_blob: Base64,
    public_key: Base64,
    key_id: String,
    key_pair_spec: DataKeyPairSpec,
    key_material_id: String,
}

pub async fn generate_data_key_pair_without_plaintext(
    ctx: Ctx,
    req: GenerateDataKeyPairWithoutPlaintextRequest,
) -> Result<GenerateDataKeyPairWithoutPlaintextResponse> {
    let pair = wrapped_pair(
        &ctx,
        Operation::GenerateDataKeyPairWithoutPlaintext,
        &req.key_id,
        req.key_pair_spec,
        req.dry_run,
        &req.encryption_context.unwrap_or_default(),
    )
    .await?;
    Ok(GenerateDataKeyPairWithoutPlaintextResponse {
        private_key_ciphertext_blob: Base64(pair.wrapped),
        public_key: Base64(pair.public),
        key_id: pair.key_id,
        key_pair_spec: req.key_pair_spec,
        key_material_id: pair.key_material_id,
    })
}
