//! Encryption: Encrypt, Decrypt, ReEncrypt with symmetric keys (trent's ciphertext blob)
//! and with RSA and SM2 keys (the raw RSAES-OAEP or SM2PKE output, as AWS returns it);
//! GenerateDataKey, GenerateDataKeyWithoutPlaintext, GenerateRandom. The hot path: no
//! disk, no writer lock.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::recipient::{RecipientInfo, deliver, recipient};
use super::{Base64, Ctx, usage};
use crate::crypto::blob::{self, EncryptionContext};
use crate::crypto::{Secret, hex, random_bytes};
use crate::error::{ErrorCode, KmsError, Result};
use crate::model::enums::{DataKeySpec, DryRunModifier};
use crate::model::ids::is_key_id;
use crate::model::{EncryptionAlgorithm, Key, KeyUsage, Operation};

/// State, usage and algorithm of a key that encrypts or decrypts; the algorithm is
/// SYMMETRIC_DEFAULT unless named, as on AWS.
fn check_encryption_key(
    key: &Key,
    op: Operation,
    algorithm: Option<EncryptionAlgorithm>,
) -> Result<EncryptionAlgorithm> {
    usage::check(key, op, KeyUsage::EncryptDecrypt)?;
    let algorithm = algorithm.unwrap_or(EncryptionAlgorithm::SymmetricDefault);
    if !key.algorithms().encryption.contains(&algorithm) {
        return Err(usage::incompatible(algorithm, key));
    }
    Ok(algorithm)
}

/// An encryption context belongs to symmetric encryption only.
fn check_context(key: &Key, context: &Option<EncryptionContext>) -> Result<()> {
    if key.spec.is_asymmetric() && context.as_ref().is_some_and(|c| !c.is_empty()) {
        return Err(KmsError::validation(
            "EncryptionContext is not supported when encrypting/decrypting with asymmetric CMKs.",
        ));
    }
    Ok(())
}

/// Encrypts under the key's current material: a blob for symmetric keys, the raw
/// algorithm output for asymmetric ones. Returns the ciphertext and, for symmetric keys,
/// the id of the material used (the KeyMaterialId, in hex, of answers that show it).
fn seal(
    key: &Key,
    algorithm: EncryptionAlgorithm,
    plaintext: &[u8],
    context: &EncryptionContext,
) -> Result<(Vec<u8>, Option<[u8; 32]>)> {
    let material = key
        .current_material()
        .ok_or_else(|| KmsError::internal(format!("{} has no key material", key.arn())))?;
    if let Some(aes) = material.aes() {
        let blob = blob::seal(&key.id, &material.id, aes, plaintext, context);
        return Ok((blob, Some(material.id)));
    }
    let secret = usage::current_key(key)?;
    let max = secret.max_plaintext(algorithm);
    if plaintext.len() > max {
        return Err(KmsError::validation(format!(
            "Algorithm {algorithm} and key spec {} cannot encrypt data larger than {max} bytes.",
            key.spec
        )));
    }
    let ciphertext = secret
        .encrypt(algorithm, plaintext)
        .ok_or_else(|| KmsError::internal(format!("{} cannot encrypt", key.arn())))?;
    Ok((ciphertext, None))
}

/// The key a Decrypt or ReEncrypt reads with. Symmetric ciphertexts name their key;
/// asymmetric ones don't, so the caller names it (KeyId and EncryptionAlgorithm).
enum Source<'b> {
    Symmetric(Arc<Key>, blob::Parsed<'b>),
    Asymmetric(Arc<Key>, EncryptionAlgorithm),
}

/// What a Source gives up once opened.
struct Opened {
    key: Arc<Key>,
    algorithm: EncryptionAlgorithm,
    material_id: Option<String>,
    plaintext: Secret,
}

/// Finds and checks the source key. With DryRun and IGNORE_CIPHERTEXT the ciphertext is
/// not read: only a named key is checked, and there is no source.
async fn source<'b>(
    ctx: &Ctx,
    op: Operation,
    ciphertext: &'b Secret,
    named: Option<&str>,
    algorithm: Option<EncryptionAlgorithm>,
    context: &Option<EncryptionContext>,
    ignore_ciphertext: bool,
) -> Result<Option<Source<'b>>> {
    let named = match named {
        Some(id) => Some(ctx.svc.resolve(&ctx.scope, id).await?),
        None => None,
    };
    if let Some(key) = named.as_ref().filter(|k| k.spec.is_asymmetric()) {
        let algorithm = check_encryption_key(key, op, algorithm)?;
        check_context(key, context)?;
        return Ok((!ignore_ciphertext).then(|| Source::Asymmetric(key.clone(), algorithm)));
    }
    if ignore_ciphertext {
        if let Some(key) = &named {
            check_encryption_key(key, op, algorithm)?;
        }
        return Ok(None);
    }
    let parsed = blob::parse(ciphertext.expose())
        .filter(|p| is_key_id(p.key_id))
        .ok_or_else(KmsError::invalid_ciphertext)?;
    // AWS answers a ciphertext whose key is gone, or lives in another region, this way.
    let key = ctx.svc.store.key(&ctx.scope, parsed.key_id).ok_or_else(|| {
        KmsError::new(
            ErrorCode::AccessDenied,
            "The ciphertext refers to a customer master key that does not exist, does not exist in this region, or you are not allowed to access.",
        )
    })?;
    if named.is_some_and(|n| n.id != key.id) {
        return Err(KmsError::new(
            ErrorCode::IncorrectKey,
            "The key ID in the request does not identify a CMK that can perform this operation.",
        ));
    }
    check_encryption_key(&key, op, algorithm)?;
    Ok(Some(Source::Symmetric(key, parsed)))
}

impl Source<'_> {
    fn open(self, ciphertext: &Secret, context: &Option<EncryptionContext>) -> Result<Opened> {
        match self {
            Source::Symmetric(key, parsed) => {
                let aes = key
                    .material(&parsed.material_id)
                    .and_then(|m| m.aes())
                    .ok_or_else(KmsError::invalid_ciphertext)?;
                let plaintext = parsed
                    .open(aes, context.as_ref().unwrap_or(&blob::NO_CONTEXT))
                    .ok_or_else(KmsError::invalid_ciphertext)?;
                Ok(Opened {
                    key,
                    algorithm: EncryptionAlgorithm::SymmetricDefault,
                    material_id: Some(hex(&parsed.material_id)),
                    plaintext,
                })
            }
            Source::Asymmetric(key, algorithm) => {
                let plaintext = usage::current_key(&key)?
                    .decrypt(algorithm, ciphertext.expose())
                    .ok_or_else(KmsError::invalid_ciphertext)?;
                Ok(Opened {
                    key,
                    algorithm,
                    material_id: None,
                    plaintext,
                })
            }
        }
    }
}

/// DryRun with the IGNORE_CIPHERTEXT modifier: check everything but the ciphertext.
fn ignores_ciphertext(dry_run: Option<bool>, modifiers: &Option<Vec<DryRunModifier>>) -> bool {
    dry_run == Some(true)
        && modifiers
            .iter()
            .flatten()
            .any(|m| *m == DryRunModifier::IgnoreCiphertext)
}

/// The model leaves CiphertextBlob optional for the sake of IGNORE_CIPHERTEXT; every
/// other request needs it, and AWS says so in its validation words.
fn ciphertext(blob: Option<Secret>, ignore: bool) -> Result<Secret> {
    match blob {
        Some(blob) => Ok(blob),
        None if ignore => Ok(Secret::new(Vec::new())),
        None => Err(KmsError::validation(
            "1 validation error detected: Value null at 'ciphertextBlob' failed to satisfy constraint: Member must not be null",
        )),
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EncryptRequest {
    key_id: String,
    plaintext: Secret,
    encryption_context: Option<EncryptionContext>,
    encryption_algorithm: Option<EncryptionAlgorithm>,
    dry_run: Option<bool>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EncryptResponse {
    ciphertext_blob: Base64,
    key_id: String,
    encryption_algorithm: EncryptionAlgorithm,
}

pub async fn encrypt(ctx: Ctx, req: EncryptRequest) -> Result<EncryptResponse> {
    let key = ctx.svc.resolve(&ctx.scope, &req.key_id).await?;
    let algorithm = check_encryption_key(&key, Operation::Encrypt, req.encryption_algorithm)?;
    check_context(&key, &req.encryption_context)?;
    usage::dry_run(req.dry_run)?;
    let (ciphertext_blob, _) = seal(
        &key,
        algorithm,
        req.plaintext.expose(),
        &req.encryption_context.unwrap_or_default(),
    )?;
    ctx.used(&key, Operation::Encrypt);
    Ok(EncryptResponse {
        ciphertext_blob: Base64(ciphertext_blob),
        key_id: key.arn(),
        encryption_algorithm: algorithm,
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DecryptRequest {
    ciphertext_blob: Option<Secret>,
    encryption_context: Option<EncryptionContext>,
    key_id: Option<String>,
    encryption_algorithm: Option<EncryptionAlgorithm>,
    recipient: Option<RecipientInfo>,
    dry_run: Option<bool>,
    dry_run_modifiers: Option<Vec<DryRunModifier>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DecryptResponse {
    key_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    plaintext: Option<Secret>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ciphertext_for_recipient: Option<Base64>,
    encryption_algorithm: EncryptionAlgorithm,
    #[serde(skip_serializing_if = "Option::is_none")]
    key_material_id: Option<String>,
}

pub async fn decrypt(ctx: Ctx, req: DecryptRequest) -> Result<DecryptResponse> {
    let recipient = recipient(&req.recipient)?;
    let ignore = ignores_ciphertext(req.dry_run, &req.dry_run_modifiers);
    let ciphertext_blob = ciphertext(req.ciphertext_blob, ignore)?;
    let source = source(
        &ctx,
        Operation::Decrypt,
        &ciphertext_blob,
        req.key_id.as_deref(),
        req.encryption_algorithm,
        &req.encryption_context,
        ignore,
    )
    .await?;
    let Some(source) = source.filter(|_| req.dry_run != Some(true)) else {
        return Err(KmsError::dry_run());
    };
    let opened = source.open(&ciphertext_blob, &req.encryption_context)?;
    let (plaintext, ciphertext_for_recipient) = deliver(opened.plaintext, recipient.as_ref());
    ctx.used(&opened.key, Operation::Decrypt);
    Ok(DecryptResponse {
        key_id: opened.key.arn(),
        plaintext,
        ciphertext_for_recipient,
        encryption_algorithm: opened.algorithm,
        key_material_id: opened.material_id,
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ReEncryptRequest {
    ciphertext_blob: Option<Secret>,
    source_encryption_context: Option<EncryptionContext>,
    source_key_id: Option<String>,
    destination_key_id: String,
    destination_encryption_context: Option<EncryptionContext>,
    source_encryption_algorithm: Option<EncryptionAlgorithm>,
    destination_encryption_algorithm: Option<EncryptionAlgorithm>,
    dry_run: Option<bool>,
    dry_run_modifiers: Option<Vec<DryRunModifier>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ReEncryptResponse {
    ciphertext_blob: Base64,
    source_key_id: String,
    key_id: String,
    source_encryption_algorithm: EncryptionAlgorithm,
    destination_encryption_algorithm: EncryptionAlgorithm,
    #[serde(skip_serializing_if = "Option::is_none")]
    source_key_material_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    destination_key_material_id: Option<String>,
}

pub async fn re_encrypt(ctx: Ctx, req: ReEncryptRequest) -> Result<ReEncryptResponse> {
    let destination = ctx.svc.resolve(&ctx.scope, &req.destination_key_id).await?;
    let ignore = ignores_ciphertext(req.dry_run, &req.dry_run_modifiers);
    let ciphertext_blob = ciphertext(req.ciphertext_blob, ignore)?;
    let source = source(
        &ctx,
        Operation::ReEncrypt,
        &ciphertext_blob,
        req.source_key_id.as_deref(),
        req.source_encryption_algorithm,
        &req.source_encryption_context,
        ignore,
    )
    .await?;
    let dest_algorithm = check_encryption_key(
        &destination,
        Operation::ReEncrypt,
        req.destination_encryption_algorithm,
    )?;
    check_context(&destination, &req.destination_encryption_context)?;
    let Some(source) = source.filter(|_| req.dry_run != Some(true)) else {
        return Err(KmsError::dry_run());
    };
    let opened = source.open(&ciphertext_blob, &req.source_encryption_context)?;
    let (ciphertext_blob, destination_material) = seal(
        &destination,
        dest_algorithm,
        opened.plaintext.expose(),
        &req.destination_encryption_context.unwrap_or_default(),
    )?;
    // Both keys were used.
    ctx.used(&opened.key, Operation::ReEncrypt);
    ctx.used(&destination, Operation::ReEncrypt);
    Ok(ReEncryptResponse {
        ciphertext_blob: Base64(ciphertext_blob),
        source_key_id: opened.key.arn(),
        key_id: destination.arn(),
        source_encryption_algorithm: opened.algorithm,
        destination_encryption_algorithm: dest_algorithm,
        source_key_material_id: opened.material_id,
        destination_key_material_id: destination_material.map(|id| hex(&id)),
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GenerateDataKeyRequest {
    key_id: String,
    encryption_context: Option<EncryptionContext>,
    number_of_bytes: Option<i64>,
    key_spec: Option<DataKeySpec>,
    recipient: Option<RecipientInfo>,
    dry_run: Option<bool>,
}

/// The data key length from exactly one of KeySpec and NumberOfBytes.
fn data_key_len(key_spec: Option<DataKeySpec>, number_of_bytes: Option<i64>) -> Result<usize> {
    match (key_spec, number_of_bytes) {
        (Some(spec), None) => Ok(spec.byte_len()),
        (None, Some(n)) => Ok(n as usize),
        _ => Err(KmsError::validation(
            "Please specify either number of bytes or key spec.",
        )),
    }
}

/// The symmetric key data keys and data key pairs are wrapped under, checked for `op`,
/// DryRun answered: all before any key is made.
pub async fn wrapping_key(
    ctx: &Ctx,
    op: Operation,
    key_id: &str,
    dry_run: Option<bool>,
) -> Result<Arc<Key>> {
    let key = ctx.svc.resolve(&ctx.scope, key_id).await?;
    usage::check_symmetric(&key, op)?;
    usage::dry_run(dry_run)?;
    Ok(key)
}

/// `plaintext` sealed under the wrapping key's current material; the blob and the
/// KeyMaterialId.
pub fn wrap(
    key: &Key,
    plaintext: &Secret,
    context: &EncryptionContext,
) -> Result<(Vec<u8>, String)> {
    let (blob, material_id) = seal(
        key,
        EncryptionAlgorithm::SymmetricDefault,
        plaintext.expose(),
        context,
    )?;
    Ok((blob, material_id.map(|id| hex(&id)).unwrap_or_default()))
}

/// A new data key of `len` bytes for `op`: the key, the plaintext, the blob, the id.
async fn data_key(
    ctx: &Ctx,
    op: Operation,
    key_id: &str,
    dry_run: Option<bool>,
    len: usize,
    context: &EncryptionContext,
) -> Result<(Arc<Key>, Secret, Vec<u8>, String)> {
    let key = wrapping_key(ctx, op, key_id, dry_run).await?;
    let plaintext = random_bytes(len);
    let (blob, material_id) = wrap(&key, &plaintext, context)?;
    ctx.used(&key, op);
    Ok((key, plaintext, blob, material_id))
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GenerateDataKeyResponse {
    ciphertext_blob: Base64,
    #[serde(skip_serializing_if = "Option::is_none")]
    plaintext: Option<Secret>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ciphertext_for_recipient: Option<Base64>,
    key_id: String,
    key_material_id: String,
}

pub async fn generate_data_key(
    ctx: Ctx,
    req: GenerateDataKeyRequest,
) -> Result<GenerateDataKeyResponse> {
    let len = data_key_len(req.key_spec, req.number_of_bytes)?;
    let recipient = recipient(&req.recipient)?;
    let (key, plaintext, ciphertext_blob, key_material_id) = data_key(
        &ctx,
        Operation::GenerateDataKey,
        &req.key_id,
        req.dry_run,
        len,
        &req.encryption_context.unwrap_or_default(),
    )
    .await?;
    let (plaintext, ciphertext_for_recipient) = deliver(plaintext, recipient.as_ref());
    Ok(GenerateDataKeyResponse {
        ciphertext_blob: Base64(ciphertext_blob),
        plaintext,
        ciphertext_for_recipient,
        key_id: key.arn(),
        key_material_id,
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GenerateDataKeyWithoutPlaintextRequest {
    key_id: String,
    encryption_context: Option<EncryptionContext>,
    key_spec: Option<DataKeySpec>,
    number_of_bytes: Option<i64>,
    dry_run: Option<bool>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GenerateDataKeyWithoutPlaintextResponse {
    ciphertext_blob: Base64,
    key_id: String,
    key_material_id: String,
}

pub async fn generate_data_key_without_plaintext(
    ctx: Ctx,
    req: GenerateDataKeyWithoutPlaintextRequest,
) -> Result<GenerateDataKeyWithoutPlaintextResponse> {
    let len = data_key_len(req.key_spec, req.number_of_bytes)?;
    let (key, _, ciphertext_blob, key_material_id) = data_key(
        &ctx,
        Operation::GenerateDataKeyWithoutPlaintext,
        &req.key_id,
        req.dry_run,
        len,
        &req.encryption_context.unwrap_or_default(),
    )
    .await?;
    Ok(GenerateDataKeyWithoutPlaintextResponse {
        ciphertext_blob: Base64(ciphertext_blob),
        key_id: key.arn(),
        key_material_id,
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GenerateRandomRequest {
    number_of_bytes: Option<i64>,
    custom_key_store_id: Option<String>,
    recipient: Option<RecipientInfo>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GenerateRandomResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    plaintext: Option<Secret>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ciphertext_for_recipient: Option<Base64>,
}

pub async fn generate_random(
    _ctx: Ctx,
    req: GenerateRandomRequest,
) -> Result<GenerateRandomResponse> {
    // Optional in the model, but AWS requires it, in its own words.
    let Some(len) = req.number_of_bytes else {
        return Err(KmsError::validation("NumberOfBytes is required."));
    };
    if let Some(id) = &req.custom_key_store_id {
        return Err(KmsError::new(
            ErrorCode::CustomKeyStoreNotFound,
            format!("Custom key store {id} does not exist."),
        ));
    }
    let recipient = recipient(&req.recipient)?;
    let random = random_bytes(len as usize);
    let (plaintext, ciphertext_for_recipient) = deliver(random, recipient.as_ref());
    Ok(GenerateRandomResponse {
        plaintext,
        ciphertext_for_recipient,
    })
}
