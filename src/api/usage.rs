//! What every cryptographic operation checks before it uses a key, in AWS's order and
//! words: the key state (the state table), the key usage, the algorithm for the key spec,
//! and that the key has material to use.

use crate::crypto::SecretKey;
use crate::error::{ErrorCode, KmsError, Result};
use crate::model::{Key, KeySpec, KeyUsage, Operation, state};

/// State and usage: `<key-arn> key usage is SIGN_VERIFY which is not valid for Encrypt.`
pub fn check(key: &Key, op: Operation, usage: KeyUsage) -> Result<()> {
    state::check(op, key)?;
    if key.usage != usage {
        return Err(KmsError::new(
            ErrorCode::InvalidKeyUsage,
            format!(
                "{} key usage is {} which is not valid for {}.",
                key.arn(),
                key.usage,
                op.name()
            ),
        ));
    }
    Ok(())
}

/// Operations that only symmetric encryption keys serve (data keys, data key pairs).
pub fn check_symmetric(key: &Key, op: Operation) -> Result<()> {
    check(key, op, KeyUsage::EncryptDecrypt)?;
    if key.spec != KeySpec::SymmetricDefault {
        return Err(KmsError::new(
            ErrorCode::InvalidKeyUsage,
            format!(
                "{} key KeySpec is {} which is not valid for {}.",
                key.arn(),
                key.spec,
                op.name()
            ),
        ));
    }
    Ok(())
}

/// Operations for one origin only: `<key-arn> origin is AWS_KMS which is not valid for
/// this operation.`
pub fn wrong_origin(key: &Key) -> KmsError {
    KmsError::unsupported(format!(
        "{} origin is {} which is not valid for this operation.",
        key.arn(),
        key.origin
    ))
}

/// `Algorithm HMAC_SHA_256 is incompatible with key spec HMAC_224.`
pub fn incompatible(algorithm: impl std::fmt::Display, key: &Key) -> KmsError {
    KmsError::new(
        ErrorCode::InvalidKeyUsage,
        format!(
            "Algorithm {algorithm} is incompatible with key spec {}.",
            key.spec
        ),
    )
}

/// The key of the key's current material. The state table admits only keys that have
/// material, so a missing one is an internal fault.
pub fn current_key(key: &Key) -> Result<&SecretKey> {
    key.current_material()
        .and_then(|m| m.key())
        .ok_or_else(|| KmsError::internal(format!("{} has no key material", key.arn())))
}

/// The DryRun answer once every check passed.
pub fn dry_run(dry_run: Option<bool>) -> Result<()> {
    match dry_run {
        Some(true) => Err(KmsError::dry_run()),
        _ => Ok(()),
    }
}
