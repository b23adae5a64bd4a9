//! HMAC: GenerateMac and VerifyMac.

use serde::{Deserialize, Serialize};

use super::{Base64, Ctx, usage};
use crate::crypto::{Secret, SecretKey};
use crate::error::{ErrorCode, KmsError, Result};
use crate::model::{Key, KeyUsage, MacAlgorithm, Operation};

/// State, usage and algorithm; the HMAC key to use.
fn check_mac(key: &Key, op: Operation, algorithm: MacAlgorithm) -> Result<&SecretKey> {
    usage::check(key, op, KeyUsage::GenerateVerifyMac)?;
    if !key.algorithms().mac.contains(&algorithm) {
        return Err(usage::incompatible(algorithm, key));
    }
    usage::current_key(key)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GenerateMacRequest {
    message: Secret,
    key_id: String,
    mac_algorithm: MacAlgorithm,
    dry_run: Option<bool>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GenerateMacResponse {
    mac: Base64,
    mac_algorithm: MacAlgorithm,
    key_id: String,
}

pub async fn generate_mac(ctx: Ctx, req: GenerateMacRequest) -> Result<GenerateMacResponse> {
    let key = ctx.svc.resolve(&ctx.scope, &req.key_id).await?;
    let secret = check_mac(&key, Operation::GenerateMac, req.mac_algorithm)?;
    usage::dry_run(req.dry_run)?;
    let SecretKey::Hmac(hmac) = secret else {
        return Err(KmsError::internal(format!("{} has no HMAC key", key.arn())));
    };
    ctx.used(&key, Operation::GenerateMac);
    Ok(GenerateMacResponse {
        mac: Base64(hmac.mac(req.message.expose())),
        mac_algorithm: req.mac_algorithm,
        key_id: key.arn(),
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct VerifyMacRequest {
    message: Secret,
    key_id: String,
    mac_algorithm: MacAlgorithm,
    mac: Base64,
    dry_run: Option<bool>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct VerifyMacResponse {
    key_id: String,
    mac_valid: bool,
    mac_algorithm: MacAlgorithm,
}

pub async fn verify_mac(ctx: Ctx, req: VerifyMacRequest) -> Result<VerifyMacResponse> {
    let key = ctx.svc.resolve(&ctx.scope, &req.key_id).await?;
    let secret = check_mac(&key, Operation::VerifyMac, req.mac_algorithm)?;
    usage::dry_run(req.dry_run)?;
    let valid = match secret {
        SecretKey::Hmac(hmac) => hmac.verify(req.message.expose(), &req.mac.0),
        _ => false,
    };
    // AWS never answers `MacValid: false`: a wrong MAC is an exception.
    if !valid {
        return Err(KmsError::new(ErrorCode::KmsInvalidMac, ""));
    }
    ctx.used(&key, Operation::VerifyMac);
    Ok(VerifyMacResponse {
        key_id: key.arn(),
        mac_valid: true,
        mac_algorithm: req.mac_algorithm,
    })
}
