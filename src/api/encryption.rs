//! Symmetric cryptography: Encrypt, Decrypt, ReEncrypt, GenerateDataKey,
//! GenerateDataKeyWithoutPlaintext, GenerateRandom. The hot path: no disk, no writer lock.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::keys::validate_key_id;
use super::recipient::{RecipientInfo, deliver, recipient, validate_recipient};
use super::{Base64, Ctx};
use crate::crypto::blob::{self, EncryptionContext};
use crate::crypto::{Secret, hex, random_bytes};
use crate::error::{ErrorCode, KmsError, Result};
use crate::model::enums::{DataKeySpec, DryRunModifier, EncryptionAlgorithm};
use crate::model::ids::is_key_id;
use crate::model::state;
use crate::model::{Key, KeyUsage, Operation, Wire};
use crate::protocol::validate::{Validate, Violations};

/// The key must be a symmetric encryption key, and the algorithm (if named) its own.
fn check_encryption_key(
    key: &Key,
    op: Operation,
    algorithm: Option<EncryptionAlgorithm>,
) -> Result<()> {
    state::check(op, key)?;
    if key.usage != KeyUsage::EncryptDecrypt {
        return Err(KmsError::new(
            ErrorCode::InvalidKeyUsage,
            format!(
                "{} key usage is {} which is not valid for {}.",
                key.arn,
                key.usage,
                op.name()
            ),
        ));
    }
    let algorithm = algorithm.unwrap_or(EncryptionAlgorithm::SymmetricDefault);
    if !key.encryption_algorithms().contains(&algorithm) {
        return Err(KmsError::new(
            ErrorCode::InvalidKeyUsage,
            format!(
                "Encryption algorithm {algorithm} is not valid for {} with key spec {}.",
                key.arn, key.spec
            ),
        ));
    }
    Ok(())
}

/// Encrypts under the key's current material.
fn seal(key: &Key, plaintext: &[u8], context: &EncryptionContext) -> Result<(Vec<u8>, String)> {
    // The state machine admits only keys with material (PendingImport is refused).
    let material = key
        .current_material()
        .ok_or_else(|| KmsError::internal(format!("{} has no key material", key.arn)))?;
    Ok((
        blob::seal(&key.id, material, plaintext, context),
        material.id_hex(),
    ))
}

/// The source of a Decrypt or ReEncrypt: the key its ciphertext names, which must be the
/// key the caller named (if any), checked for `op`. With DryRun and IGNORE_CIPHERTEXT the
/// ciphertext is not read: only the named key is checked, and there is no source.
async fn source<'b>(
    ctx: &Ctx,
    op: Operation,
    ciphertext: Option<&'b Secret>,
    named: Option<&str>,
    algorithm: Option<EncryptionAlgorithm>,
    ignore_ciphertext: bool,
) -> Result<Option<(Arc<Key>, blob::Parsed<'b>)>> {
    if ignore_ciphertext {
        if let Some(named) = named {
            let key = ctx.svc.resolve(&ctx.scope, named).await?;
            check_encryption_key(&key, op, algorithm)?;
        }
        return Ok(None);
    }
    let parsed = ciphertext
        .and_then(|c| blob::parse(c.expose()))
        .filter(|p| is_key_id(p.key_id))
        .ok_or_else(KmsError::invalid_ciphertext)?;
    // AWS answers a ciphertext whose key is gone, or lives in another region, this way.
    let key = ctx.svc.store.key(&ctx.scope, parsed.key_id).ok_or_else(|| {
        KmsError::new(
            ErrorCode::AccessDenied,
            "The ciphertext refers to a customer master key that does not exist, does not exist in this region, or you are not allowed to access.",
        )
    })?;
    if let Some(named) = named
        && ctx.svc.resolve(&ctx.scope, named).await?.id != key.id
    {
        return Err(KmsError::new(
            ErrorCode::IncorrectKey,
            "The key ID in the request does not identify a KMS key that can perform this operation",
        ));
    }
    check_encryption_key(&key, op, algorithm)?;
    Ok(Some((key, parsed)))
}

/// Decrypts a blob after every check passed.
fn open(key: &Key, parsed: &blob::Parsed<'_>, context: &EncryptionContext) -> Result<Secret> {
    let material = key
        .material(&parsed.material_id)
        .ok_or_else(KmsError::invalid_ciphertext)?;
    parsed
        .open(material, context)
        .ok_or_else(KmsError::invalid_ciphertext)
}

/// DryRun with the IGNORE_CIPHERTEXT modifier: check everything but the ciphertext.
fn ignores_ciphertext(
    dry_run: Option<bool>,
    modifiers: &Option<Vec<Wire<DryRunModifier>>>,
) -> bool {
    dry_run == Some(true)
        && modifiers
            .iter()
            .flatten()
            .any(|m| m.known() == Some(DryRunModifier::IgnoreCiphertext))
}

fn validate_modifiers(v: &mut Violations, modifiers: &Option<Vec<Wire<DryRunModifier>>>) {
    for (i, m) in modifiers.iter().flatten().enumerate() {
        v.member_of(
            &format!("dryRunModifiers.{}.member", i + 1),
            &Some(m.clone()),
        );
    }
}

fn validate_ciphertext(v: &mut Violations, field: &str, blob: &Option<Secret>) {
    v.size(field, blob.as_ref().map(Secret::len), 1, 6144);
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EncryptRequest {
    key_id: Option<String>,
    plaintext: Option<Secret>,
    encryption_context: Option<EncryptionContext>,
    grant_tokens: Option<Vec<String>>,
    encryption_algorithm: Option<Wire<EncryptionAlgorithm>>,
    dry_run: Option<bool>,
}

impl Validate for EncryptRequest {
    fn validate(&self, v: &mut Violations) {
        validate_key_id(v, "keyId", &self.key_id);
        v.required("plaintext", &self.plaintext);
        v.size(
            "plaintext",
            self.plaintext.as_ref().map(Secret::len),
            1,
            4096,
        );
        v.grant_tokens(&self.grant_tokens);
        v.member_of("encryptionAlgorithm", &self.encryption_algorithm);
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EncryptResponse {
    ciphertext_blob: Base64,
    key_id: String,
    encryption_algorithm: EncryptionAlgorithm,
}

pub async fn encrypt(ctx: Ctx, req: EncryptRequest) -> Result<EncryptResponse> {
    let algorithm = req.encryption_algorithm.as_ref().and_then(Wire::known);
    let key = ctx
        .svc
        .resolve(&ctx.scope, &req.key_id.unwrap_or_default())
        .await?;
    check_encryption_key(&key, Operation::Encrypt, algorithm)?;
    if req.dry_run == Some(true) {
        return Err(KmsError::dry_run());
    }
    let plaintext = req.plaintext.unwrap_or_else(|| Secret::new(Vec::new()));
    let (ciphertext_blob, _) = seal(
        &key,
        plaintext.expose(),
        &req.encryption_context.unwrap_or_default(),
    )?;
    Ok(EncryptResponse {
        ciphertext_blob: Base64(ciphertext_blob),
        key_id: key.arn.clone(),
        encryption_algorithm: algorithm.unwrap_or(EncryptionAlgorithm::SymmetricDefault),
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DecryptRequest {
    ciphertext_blob: Option<Secret>,
    encryption_context: Option<EncryptionContext>,
    grant_tokens: Option<Vec<String>>,
    key_id: Option<String>,
    encryption_algorithm: Option<Wire<EncryptionAlgorithm>>,
    recipient: Option<RecipientInfo>,
    dry_run: Option<bool>,
    dry_run_modifiers: Option<Vec<Wire<DryRunModifier>>>,
}

impl Validate for DecryptRequest {
    fn validate(&self, v: &mut Violations) {
        if !ignores_ciphertext(self.dry_run, &self.dry_run_modifiers) {
            v.required("ciphertextBlob", &self.ciphertext_blob);
        }
        validate_ciphertext(v, "ciphertextBlob", &self.ciphertext_blob);
        v.grant_tokens(&self.grant_tokens);
        v.length("keyId", self.key_id.as_deref(), 1, 2048);
        v.member_of("encryptionAlgorithm", &self.encryption_algorithm);
        validate_recipient(v, &self.recipient);
        validate_modifiers(v, &self.dry_run_modifiers);
    }
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
    key_material_id: String,
}

pub async fn decrypt(ctx: Ctx, req: DecryptRequest) -> Result<DecryptResponse> {
    let algorithm = req.encryption_algorithm.as_ref().and_then(Wire::known);
    let recipient = recipient(&req.recipient)?;
    let ignore = ignores_ciphertext(req.dry_run, &req.dry_run_modifiers);
    let ciphertext = req.ciphertext_blob;
    let source = source(
        &ctx,
        Operation::Decrypt,
        ciphertext.as_ref(),
        req.key_id.as_deref(),
        algorithm,
        ignore,
    )
    .await?;
    let Some((key, parsed)) = source.filter(|_| req.dry_run != Some(true)) else {
        return Err(KmsError::dry_run());
    };
    let plaintext = open(&key, &parsed, &req.encryption_context.unwrap_or_default())?;
    let (plaintext, ciphertext_for_recipient) = deliver(plaintext, recipient.as_ref());
    Ok(DecryptResponse {
        key_id: key.arn.clone(),
        plaintext,
        ciphertext_for_recipient,
        encryption_algorithm: algorithm.unwrap_or(EncryptionAlgorithm::SymmetricDefault),
        key_material_id: hex(&parsed.material_id),
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ReEncryptRequest {
    ciphertext_blob: Option<Secret>,
    source_encryption_context: Option<EncryptionContext>,
    source_key_id: Option<String>,
    destination_key_id: Option<String>,
    destination_encryption_context: Option<EncryptionContext>,
    source_encryption_algorithm: Option<Wire<EncryptionAlgorithm>>,
    destination_encryption_algorithm: Option<Wire<EncryptionAlgorithm>>,
    grant_tokens: Option<Vec<String>>,
    dry_run: Option<bool>,
    dry_run_modifiers: Option<Vec<Wire<DryRunModifier>>>,
}

impl Validate for ReEncryptRequest {
    fn validate(&self, v: &mut Violations) {
        if !ignores_ciphertext(self.dry_run, &self.dry_run_modifiers) {
            v.required("ciphertextBlob", &self.ciphertext_blob);
        }
        validate_ciphertext(v, "ciphertextBlob", &self.ciphertext_blob);
        v.length("sourceKeyId", self.source_key_id.as_deref(), 1, 2048);
        validate_key_id(v, "destinationKeyId", &self.destination_key_id);
        v.member_of(
            "sourceEncryptionAlgorithm",
            &self.source_encryption_algorithm,
        );
        v.member_of(
            "destinationEncryptionAlgorithm",
            &self.destination_encryption_algorithm,
        );
        v.grant_tokens(&self.grant_tokens);
        validate_modifiers(v, &self.dry_run_modifiers);
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ReEncryptResponse {
    ciphertext_blob: Base64,
    source_key_id: String,
    key_id: String,
    source_encryption_algorithm: EncryptionAlgorithm,
    destination_encryption_algorithm: EncryptionAlgorithm,
    source_key_material_id: String,
    destination_key_material_id: String,
}

pub async fn re_encrypt(ctx: Ctx, req: ReEncryptRequest) -> Result<ReEncryptResponse> {
    let source_alg = req
        .source_encryption_algorithm
        .as_ref()
        .and_then(Wire::known);
    let dest_alg = req
        .destination_encryption_algorithm
        .as_ref()
        .and_then(Wire::known);
    let destination = ctx
        .svc
        .resolve(&ctx.scope, &req.destination_key_id.unwrap_or_default())
        .await?;
    let ignore = ignores_ciphertext(req.dry_run, &req.dry_run_modifiers);
    let ciphertext = req.ciphertext_blob;
    let source = source(
        &ctx,
        Operation::ReEncrypt,
        ciphertext.as_ref(),
        req.source_key_id.as_deref(),
        source_alg,
        ignore,
    )
    .await?;
    check_encryption_key(&destination, Operation::ReEncrypt, dest_alg)?;
    let Some((source, parsed)) = source.filter(|_| req.dry_run != Some(true)) else {
        return Err(KmsError::dry_run());
    };
    let plaintext = open(
        &source,
        &parsed,
        &req.source_encryption_context.unwrap_or_default(),
    )?;
    let (ciphertext_blob, destination_material) = seal(
        &destination,
        plaintext.expose(),
        &req.destination_encryption_context.unwrap_or_default(),
    )?;
    Ok(ReEncryptResponse {
        ciphertext_blob: Base64(ciphertext_blob),
        source_key_id: source.arn.clone(),
        key_id: destination.arn.clone(),
        source_encryption_algorithm: source_alg.unwrap_or(EncryptionAlgorithm::SymmetricDefault),
        destination_encryption_algorithm: dest_alg.unwrap_or(EncryptionAlgorithm::SymmetricDefault),
        source_key_material_id: hex(&parsed.material_id),
        destination_key_material_id: destination_material,
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GenerateDataKeyRequest {
    key_id: Option<String>,
    encryption_context: Option<EncryptionContext>,
    number_of_bytes: Option<i64>,
    key_spec: Option<Wire<DataKeySpec>>,
    grant_tokens: Option<Vec<String>>,
    recipient: Option<RecipientInfo>,
    dry_run: Option<bool>,
}

impl Validate for GenerateDataKeyRequest {
    fn validate(&self, v: &mut Violations) {
        validate_key_id(v, "keyId", &self.key_id);
        v.range("numberOfBytes", self.number_of_bytes, 1, 1024);
        v.member_of("keySpec", &self.key_spec);
        v.grant_tokens(&self.grant_tokens);
        validate_recipient(v, &self.recipient);
    }
}

/// The data key length from exactly one of KeySpec and NumberOfBytes.
fn data_key_len(
    key_spec: &Option<Wire<DataKeySpec>>,
    number_of_bytes: Option<i64>,
) -> Result<usize> {
    match (key_spec.as_ref().and_then(Wire::known), number_of_bytes) {
        (Some(spec), None) => Ok(spec.byte_len()),
        (None, Some(n)) => Ok(n as usize),
        _ => Err(KmsError::validation(
            "Please specify either number of bytes or key spec.",
        )),
    }
}

/// The shared part of GenerateDataKey and GenerateDataKeyWithoutPlaintext.
async fn generate_data_key_inner(
    ctx: &Ctx,
    op: Operation,
    key_id: &str,
    len: usize,
    dry_run: Option<bool>,
    context: &EncryptionContext,
) -> Result<(Arc<Key>, Secret, Vec<u8>, String)> {
    let key = ctx.svc.resolve(&ctx.scope, key_id).await?;
    check_encryption_key(&key, op, None)?;
    if dry_run == Some(true) {
        return Err(KmsError::dry_run());
    }
    let plaintext = random_bytes(len);
    let (blob, material_id) = seal(&key, plaintext.expose(), context)?;
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
    let len = data_key_len(&req.key_spec, req.number_of_bytes)?;
    let recipient = recipient(&req.recipient)?;
    let (key, plaintext, ciphertext_blob, key_material_id) = generate_data_key_inner(
        &ctx,
        Operation::GenerateDataKey,
        &req.key_id.unwrap_or_default(),
        len,
        req.dry_run,
        &req.encryption_context.unwrap_or_default(),
    )
    .await?;
    let (plaintext, ciphertext_for_recipient) = deliver(plaintext, recipient.as_ref());
    Ok(GenerateDataKeyResponse {
        ciphertext_blob: Base64(ciphertext_blob),
        plaintext,
        ciphertext_for_recipient,
        key_id: key.arn.clone(),
        key_material_id,
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GenerateDataKeyWithoutPlaintextRequest {
    key_id: Option<String>,
    encryption_context: Option<EncryptionContext>,
    key_spec: Option<Wire<DataKeySpec>>,
    number_of_bytes: Option<i64>,
    grant_tokens: Option<Vec<String>>,
    dry_run: Option<bool>,
}

impl Validate for GenerateDataKeyWithoutPlaintextRequest {
    fn validate(&self, v: &mut Violations) {
        validate_key_id(v, "keyId", &self.key_id);
        v.member_of("keySpec", &self.key_spec);
        v.range("numberOfBytes", self.number_of_bytes, 1, 1024);
        v.grant_tokens(&self.grant_tokens);
    }
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
    let len = data_key_len(&req.key_spec, req.number_of_bytes)?;
    let (key, _, ciphertext_blob, key_material_id) = generate_data_key_inner(
        &ctx,
        Operation::GenerateDataKeyWithoutPlaintext,
        &req.key_id.unwrap_or_default(),
        len,
        req.dry_run,
        &req.encryption_context.unwrap_or_default(),
    )
    .await?;
    Ok(GenerateDataKeyWithoutPlaintextResponse {
        ciphertext_blob: Base64(ciphertext_blob),
        key_id: key.arn.clone(),
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

impl Validate for GenerateRandomRequest {
    fn validate(&self, v: &mut Violations) {
        v.required("numberOfBytes", &self.number_of_bytes);
        v.range("numberOfBytes", self.number_of_bytes, 1, 1024);
        v.length(
            "customKeyStoreId",
            self.custom_key_store_id.as_deref(),
            1,
            64,
        );
        validate_recipient(v, &self.recipient);
    }
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
    if let Some(id) = &req.custom_key_store_id {
        return Err(KmsError::new(
            ErrorCode::CustomKeyStoreNotFound,
            format!("Custom key store {id} does not exist."),
        ));
    }
    let recipient = recipient(&req.recipient)?;
    let random = random_bytes(req.number_of_bytes.unwrap_or(0) as usize);
    let (plaintext, ciphertext_for_recipient) = deliver(random, recipient.as_ref());
    Ok(GenerateRandomResponse {
        plaintext,
        ciphertext_for_recipient,
    })
}
