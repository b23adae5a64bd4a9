//! Key agreement: DeriveSharedSecret (ECDH with NIST-curve and SM2 keys).

use serde::{Deserialize, Serialize};

use super::recipient::{RecipientInfo, deliver, recipient};
use super::{Base64, Ctx, usage};
use crate::crypto::Secret;
use crate::error::{KmsError, Result};
use crate::model::{KeyAgreementAlgorithm, KeyUsage, Operation, Origin};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeriveSharedSecretRequest {
    key_id: String,
    key_agreement_algorithm: KeyAgreementAlgorithm,
    public_key: Base64,
    dry_run: Option<bool>,
    recipient: Option<RecipientInfo>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeriveSharedSecretResponse {
    key_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    shared_secret: Option<Secret>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ciphertext_for_recipient: Option<Base64>,
    key_agreement_algorithm: KeyAgreementAlgorithm,
    key_origin: Origin,
}

pub async fn derive_shared_secret(
    ctx: Ctx,
    req: DeriveSharedSecretRequest,
) -> Result<DeriveSharedSecretResponse> {
    let recipient = recipient(&req.recipient)?;
    let key = ctx.svc.resolve(&ctx.scope, &req.key_id).await?;
    usage::check(&key, Operation::DeriveSharedSecret, KeyUsage::KeyAgreement)?;
    if !key
        .algorithms()
        .key_agreement
        .contains(&req.key_agreement_algorithm)
    {
        return Err(usage::incompatible(req.key_agreement_algorithm, &key));
    }
    // AWS answers a public key that does not parse, or is on another curve, with an
    // empty ValidationException.
    let secret = usage::current_key(&key)?
        .derive_shared_secret(&req.public_key.0)
        .ok_or_else(|| KmsError::validation(""))?;
    usage::dry_run(req.dry_run)?;
    let (shared_secret, ciphertext_for_recipient) = deliver(secret, recipient.as_ref());
    ctx.used(&key, Operation::DeriveSharedSecret);
    Ok(DeriveSharedSecretResponse {
        key_id: key.arn(),
        shared_secret,
        ciphertext_for_recipient,
        key_agreement_algorithm: req.key_agreement_algorithm,
        key_origin: key.origin,
    })
}
