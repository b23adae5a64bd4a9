//! Signing: Sign, Verify, GetPublicKey, for RSA, ECC, Ed25519, ML-DSA and SM2 keys.

use serde::{Deserialize, Serialize};

use super::{Base64, Ctx, usage};
use crate::crypto::Secret;
use crate::crypto::sign::Message;
use crate::error::{ErrorCode, KmsError, Result};
use crate::model::enums::CustomerMasterKeySpec;
use crate::model::{
    EncryptionAlgorithm, Key, KeyAgreementAlgorithm, KeySpec, KeyUsage, MessageType, Operation,
    SigningAlgorithm,
};

/// Everything Sign and Verify check before they touch the key, in AWS's order: state,
/// usage, algorithm for the spec, message type for the algorithm, digest length.
fn check_signing<'m>(
    key: &Key,
    op: Operation,
    algorithm: SigningAlgorithm,
    message_type: Option<MessageType>,
    message: &'m [u8],
) -> Result<Message<'m>> {
    usage::check(key, op, KeyUsage::SignVerify)?;
    if !key.algorithms().signing.contains(&algorithm) {
        return Err(usage::incompatible(algorithm, key));
    }
    let message_type = message_type.unwrap_or(MessageType::Raw);
    if !algorithm.message_types().contains(&message_type) {
        // AWS names the key spec for ML-DSA and for external μ, the algorithm otherwise.
        let by_spec = matches!(
            key.spec,
            KeySpec::MlDsa44 | KeySpec::MlDsa65 | KeySpec::MlDsa87
        ) || message_type == MessageType::ExternalMu;
        let subject = if by_spec {
            format!("key spec {}", key.spec)
        } else {
            format!("algorithm {algorithm}")
        };
        return Err(KmsError::validation(format!(
            "Message type {message_type} is incompatible with {subject}."
        )));
    }
    if message_type != MessageType::Raw && message.len() != algorithm.digest_len() {
        return Err(KmsError::validation(format!(
            "Digest is invalid length for algorithm {algorithm}."
        )));
    }
    Ok(match message_type {
        MessageType::Raw => Message::Raw(message),
        MessageType::Digest => Message::Digest(message),
        MessageType::ExternalMu => Message::ExternalMu(message),
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SignRequest {
    key_id: String,
    message: Secret,
    message_type: Option<MessageType>,
    signing_algorithm: SigningAlgorithm,
    dry_run: Option<bool>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SignResponse {
    key_id: String,
    signature: Base64,
    signing_algorithm: SigningAlgorithm,
}

pub async fn sign(ctx: Ctx, req: SignRequest) -> Result<SignResponse> {
    let key = ctx.svc.resolve(&ctx.scope, &req.key_id).await?;
    let message = check_signing(
        &key,
        Operation::Sign,
        req.signing_algorithm,
        req.message_type,
        req.message.expose(),
    )?;
    usage::dry_run(req.dry_run)?;
    let signature = usage::current_key(&key)?
        .sign(req.signing_algorithm, message)
        .ok_or_else(|| KmsError::internal(format!("{} cannot sign", key.arn())))?;
    ctx.used(&key, Operation::Sign);
    Ok(SignResponse {
        key_id: key.arn(),
        signature: Base64(signature),
        signing_algorithm: req.signing_algorithm,
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct VerifyRequest {
    key_id: String,
    message: Secret,
    message_type: Option<MessageType>,
    signature: Base64,
    signing_algorithm: SigningAlgorithm,
    dry_run: Option<bool>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct VerifyResponse {
    key_id: String,
    signature_valid: bool,
    signing_algorithm: SigningAlgorithm,
}

pub async fn verify(ctx: Ctx, req: VerifyRequest) -> Result<VerifyResponse> {
    let key = ctx.svc.resolve(&ctx.scope, &req.key_id).await?;
    let message = check_signing(
        &key,
        Operation::Verify,
        req.signing_algorithm,
        req.message_type,
        req.message.expose(),
    )?;
    usage::dry_run(req.dry_run)?;
    // AWS never answers `SignatureValid: false`: a bad signature is an exception.
    if !usage::current_key(&key)?.verify(req.signing_algorithm, message, &req.signature.0) {
        return Err(KmsError::new(ErrorCode::KmsInvalidSignature, ""));
    }
    ctx.used(&key, Operation::Verify);
    Ok(VerifyResponse {
        key_id: key.arn(),
        signature_valid: true,
        signing_algorithm: req.signing_algorithm,
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetPublicKeyRequest {
    key_id: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetPublicKeyResponse {
    key_id: String,
    public_key: Base64,
    #[serde(skip_serializing_if = "Option::is_none")]
    customer_master_key_spec: Option<CustomerMasterKeySpec>,
    key_spec: KeySpec,
    key_usage: KeyUsage,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    encryption_algorithms: &'static [EncryptionAlgorithm],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    signing_algorithms: &'static [SigningAlgorithm],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    key_agreement_algorithms: &'static [KeyAgreementAlgorithm],
}

pub async fn get_public_key(ctx: Ctx, req: GetPublicKeyRequest) -> Result<GetPublicKeyResponse> {
    let key = ctx.svc.resolve(&ctx.scope, &req.key_id).await?;
    crate::model::state::check(Operation::GetPublicKey, &key)?;
    if !key.spec.is_asymmetric() {
        return Err(KmsError::unsupported(format!(
            "{} key spec is {} which is not valid for GetPublicKey.",
            key.arn(),
            key.spec
        )));
    }
    let public_key = key
        .current_material()
        .and_then(|m| m.public_key())
        .ok_or_else(|| KmsError::internal(format!("{} has no key material", key.arn())))?;
    let algorithms = key.algorithms();
    Ok(GetPublicKeyResponse {
        key_id: key.arn(),
        public_key: Base64(public_key.to_vec()),
        customer_master_key_spec: key.spec.customer_master_key_spec(),
        key_spec: key.spec,
        key_usage: key.usage,
        encryption_algorithms: algorithms.encryption,
        signing_algorithms: algorithms.signing,
        key_agreement_algorithms: algorithms.key_agreement,
    })
}
