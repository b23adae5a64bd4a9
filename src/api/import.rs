//! Imported key material (keys of Origin EXTERNAL): GetParametersForImport,
//! ImportKeyMaterial, DeleteImportedKeyMaterial. Expiry of imported material and of
//! import tokens happens on the store's schedule.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::usage::wrong_origin;
use super::{Base64, Ctx, change_key};
use crate::clock::Timestamp;
use crate::crypto::{Material, Secret, SecretKey, hex, random_array, unwrap};
use crate::error::{ErrorCode, KmsError, Result};
use crate::model::enums::{ExpirationModel, ImportType, WrappingAlgorithm, WrappingKeySpec};
use crate::model::import_token::{self, ImportToken, TokenClaims};
use crate::model::{Key, KeySpec, MaterialState, Operation, Origin, Scope, state};

/// ValidTo may be at most this far ahead.
const MAX_VALID_DAYS: u32 = 365;

/// Import operations serve only keys whose material comes from outside.
fn check_importable(key: &Key, op: Operation) -> Result<()> {
    if key.origin != Origin::External {
        return Err(wrong_origin(key));
    }
    state::check(op, key)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetParametersForImportRequest {
    key_id: String,
    wrapping_algorithm: WrappingAlgorithm,
    wrapping_key_spec: WrappingKeySpec,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetParametersForImportResponse {
    key_id: String,
    import_token: Base64,
    public_key: Base64,
    parameters_valid_to: Timestamp,
}

/// Which wrapping algorithms go with which wrapping keys, and where.
fn check_wrapping(
    algorithm: WrappingAlgorithm,
    spec: WrappingKeySpec,
    scope: &Scope,
) -> Result<()> {
    if algorithm == WrappingAlgorithm::RsaesPkcs1V15 {
        // AWS stopped accepting it on 10 October 2023.
        return Err(KmsError::validation(
            "The wrapping algorithm RSAES_PKCS1_V1_5 is no longer supported. Use RSAES_OAEP_SHA_256 or RSA_AES_KEY_WRAP_SHA_256.",
        ));
    }
    if !spec.key_spec().offered_in(scope) {
        return Err(KmsError::unsupported(format!(
            "WrappingKeySpec {spec} is not supported in this Region"
        )));
    }
    if (algorithm == WrappingAlgorithm::Sm2Pke) != (spec == WrappingKeySpec::Sm2) {
        return Err(KmsError::validation(format!(
            "WrappingAlgorithm {algorithm} is not compatible with WrappingKeySpec {spec}"
        )));
    }
    Ok(())
}

/// A new wrapping key pair for each call, and a token that names it and the key; both
/// valid for 24 hours. Earlier tokens stay valid until their own expiry.
pub async fn get_parameters_for_import(
    ctx: Ctx,
    req: GetParametersForImportRequest,
) -> Result<GetParametersForImportResponse> {
    let op = Operation::GetParametersForImport;
    // Refuse before generating a wrapping key, which may take a while.
    check_importable(&*ctx.svc.resolve_key_only(&ctx.scope, &req.key_id)?, op)?;
    check_wrapping(req.wrapping_algorithm, req.wrapping_key_spec, &ctx.scope)?;
    let wrapping_key = ctx.svc.generate_key(req.wrapping_key_spec.key_spec()).await;
    let public_key = wrapping_key
        .public_key_der()
        .ok_or_else(|| KmsError::internal("a wrapping key without a public key"))?;

    let mut txn = ctx.svc.store.begin().await?;
    let key = ctx.svc.resolve_key_only(&ctx.scope, &req.key_id)?;
    check_importable(&key, op)?;
    let token = ImportToken {
        id: random_array(),
        scope: key.scope.clone(),
        key_id: key.id.clone(),
        algorithm: req.wrapping_algorithm,
        spec: req.wrapping_key_spec,
        wrapping_key: Arc::new(wrapping_key),
        expires_at: Timestamp(ctx.svc.now().millis() + import_token::VALID_FOR_MS),
    };
    let response = GetParametersForImportResponse {
        key_id: key.arn(),
        import_token: Base64(token.encode()),
        public_key: Base64(public_key),
        parameters_valid_to: token.expires_at,
    };
    txn.save_token(token);
    txn.commit().await?;
    Ok(response)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImportKeyMaterialRequest {
    key_id: String,
    import_token: Base64,
    encrypted_key_material: Base64,
    valid_to: Option<Timestamp>,
    expiration_model: Option<ExpirationModel>,
    import_type: Option<ImportType>,
    key_material_description: Option<String>,
    key_material_id: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImportKeyMaterialResponse {
    key_id: String,
    /// Material ids are reported for symmetric encryption keys only.
    #[serde(skip_serializing_if = "Option::is_none")]
    key_material_id: Option<String>,
}

/// The expiry the request asks for: `None` for material that does not expire.
fn valid_to(
    model: Option<ExpirationModel>,
    valid_to: Option<Timestamp>,
    now: Timestamp,
) -> Result<Option<Timestamp>> {
    match (
        model.unwrap_or(ExpirationModel::KeyMaterialExpires),
        valid_to,
    ) {
        (ExpirationModel::KeyMaterialExpires, None) => Err(KmsError::validation(
            "A validTo date must be set if the ExpirationModel is KEY_MATERIAL_EXPIRES",
        )),
        (ExpirationModel::KeyMaterialDoesNotExpire, Some(_)) => Err(KmsError::validation(
            "A validTo date must not be set if the ExpirationModel is KEY_MATERIAL_DOES_NOT_EXPIRE",
        )),
        (ExpirationModel::KeyMaterialDoesNotExpire, None) => Ok(None),
        (ExpirationModel::KeyMaterialExpires, Some(at)) if at <= now => Err(KmsError::validation(
            "The validTo date must be in the future",
        )),
        (ExpirationModel::KeyMaterialExpires, Some(at)) if at > now.plus_days(MAX_VALID_DAYS) => {
            Err(KmsError::validation(
                "The validTo date must be no more than 365 days from the request date",
            ))
        }
        (ExpirationModel::KeyMaterialExpires, at) => Ok(at),
    }
}

fn invalid_token() -> KmsError {
    KmsError::new(
        ErrorCode::InvalidImportToken,
        "The provided import token is invalid or is associated with a different KMS key.",
    )
}

/// The parameters behind a token that was issued for `key` and has not expired.
fn token_for(
    ctx: &Ctx,
    claims: &TokenClaims,
    key: &Key,
    now: Timestamp,
) -> Result<Arc<ImportToken>> {
    if claims.key_arn != key.arn() {
        return Err(invalid_token());
    }
    if claims.expires_at <= now {
        return Err(KmsError::new(
            ErrorCode::ExpiredImportToken,
            "The specified import token is expired. Use GetParametersForImport to get a new import token and public key, use the new public key to encrypt the key material, and then try the request again.",
        ));
    }
    ctx.svc
        .store
        .token(&claims.id)
        .filter(|t| t.scope == key.scope && t.key_id == key.id && t.expires_at == claims.expires_at)
        .ok_or_else(invalid_token)
}

fn incorrect_material() -> KmsError {
    KmsError::new(
        ErrorCode::IncorrectKeyMaterial,
        "The key material in the request is, expired, invalid, or does not meet expectations. For example, it is not the same key material that was previously imported or KMS expected new key material but the key material being imported is already associated with the KMS key.",
    )
}

/// The key sizes AWS accepts for imported HMAC material, in bytes.
fn hmac_lengths(spec: KeySpec) -> Option<std::ops::RangeInclusive<usize>> {
    match spec {
        KeySpec::Hmac224 => Some(28..=64),
        KeySpec::Hmac256 => Some(32..=64),
        KeySpec::Hmac384 => Some(48..=128),
        KeySpec::Hmac512 => Some(64..=128),
        _ => None,
    }
}

/// Unwrapped material as a key of `spec`: 32 bytes for symmetric keys, raw bytes of an
/// accepted length for HMAC keys, PKCS#8 DER for private keys.
fn parse_material(spec: KeySpec, bytes: &Secret) -> Result<SecretKey> {
    let detail = match hmac_lengths(spec) {
        Some(lengths) if !lengths.contains(&bytes.expose().len()) => Some(format!(
            "{spec} key material is {} to {} bytes",
            lengths.start(),
            lengths.end()
        )),
        _ => None,
    };
    let parsed = SecretKey::from_storage(spec, bytes.expose());
    let detail = match (detail, parsed) {
        (None, Ok(key)) => return Ok(key),
        (Some(detail), _) => detail,
        (None, Err(_)) if spec == KeySpec::SymmetricDefault => {
            format!("{spec} key material is 256 bits (32 bytes)")
        }
        (None, Err(_)) => {
            format!("{spec} key material is a private key of that spec in PKCS#8 DER")
        }
    };
    Err(KmsError::new(
        ErrorCode::IncorrectKeyMaterial,
        format!("The key material in the request is invalid: {detail}."),
    ))
}

/// What one import brings, checked and unwrapped.
struct Import {
    id: [u8; 32],
    key: SecretKey,
    valid_to: Option<Timestamp>,
    description: Option<String>,
}

pub async fn import_key_material(
    ctx: Ctx,
    req: ImportKeyMaterialRequest,
) -> Result<ImportKeyMaterialResponse> {
    let op = Operation::ImportKeyMaterial;
    let now = ctx.svc.now();
    let valid_to = valid_to(req.expiration_model, req.valid_to, now)?;
    let claims = TokenClaims::decode(&req.import_token.0).ok_or_else(invalid_token)?;
    // Unwrapping (RSA decryption) and parsing happen before the writer is taken, so other
    // writes do not wait for them; everything is checked again under the writer.
    let current = ctx.svc.resolve_key_only(&ctx.scope, &req.key_id)?;
    check_importable(&current, op)?;
    let token = token_for(&ctx, &claims, &current, now)?;
    let bytes = unwrap::unwrap(
        &token.wrapping_key,
        token.algorithm,
        &req.encrypted_key_material.0,
    )
    .ok_or_else(|| {
        KmsError::new(
            ErrorCode::InvalidCiphertext,
            "The EncryptedKeyMaterial could not be decrypted with the wrapping key of the import token and its wrapping algorithm.",
        )
    })?;
    let material = parse_material(current.spec, &bytes)?;
    let mut txn = ctx.svc.store.begin().await?;
    let current = ctx.svc.resolve_key_only(&ctx.scope, &req.key_id)?;
    check_importable(&current, op)?;
    token_for(&ctx, &claims, &current, now)?;
    let mut key = (*current).clone();
    // Material a database held before it had its secret keeps the id it was given.
    let earlier = Material::earlier_imported_id(&key.id, bytes.expose());
    let id = match key.material(&earlier) {
        Some(_) => earlier,
        None => Material::imported_id(ctx.svc.store.material_id_key(), &key.id, bytes.expose()),
    };
    let import = Import {
        id,
        key: material,
        valid_to,
        description: req.key_material_description,
    };
    let import_type = req.import_type.unwrap_or(if key.materials.is_empty() {
        ImportType::NewKeyMaterial
    } else {
        ImportType::ExistingKeyMaterial
    });
    match import_type {
        ImportType::NewKeyMaterial => import_new(&mut key, import, req.key_material_id, now)?,
        ImportType::ExistingKeyMaterial => {
            import_existing(&mut key, import, req.key_material_id.as_deref())?
        }
    }
    state::settle(&mut key);
    let key = txn.save_key(key);
    txn.commit().await?;
    Ok(ImportKeyMaterialResponse {
        key_id: key.arn(),
        key_material_id: (key.spec == KeySpec::SymmetricDefault).then(|| hex(&id)),
    })
}

/// NEW_KEY_MATERIAL: the key's first material, or (symmetric keys) material that waits
/// for RotateKeyOnDemand, one at a time.
fn import_new(
    key: &mut Key,
    import: Import,
    material_id: Option<String>,
    now: Timestamp,
) -> Result<()> {
    if material_id.is_some() {
        return Err(KmsError::validation(
            "A KeyMaterialId cannot be specified when the ImportType is NEW_KEY_MATERIAL",
        ));
    }
    if key.material(&import.id).is_some() {
        return Err(incorrect_material());
    }
    let state = if key.materials.is_empty() {
        MaterialState::Current
    } else if key.spec != KeySpec::SymmetricDefault {
        // Only symmetric keys rotate; other keys keep their first material for good.
        return Err(incorrect_material());
    } else if let Some(pending) = key
        .materials
        .iter()
        .find(|m| m.state == MaterialState::PendingRotation)
    {
        return Err(KmsError::invalid_state(format!(
            "New key material (id: {}) cannot be imported into KMS key {}, because another key material (id: {}) is pending rotation.",
            hex(&import.id),
            key.arn(),
            pending.id_hex()
        )));
    } else {
        MaterialState::PendingRotation
    };
    let mut material = Material::from_parts(import.id, now, state, Some(import.key));
    material.valid_to = import.valid_to;
    material.description = import.description;
    key.materials.push(material);
    Ok(())
}

/// EXISTING_KEY_MATERIAL: the same bytes again, for the material named (by default the
/// current one), with the expiry of this request.
fn import_existing(key: &mut Key, import: Import, material_id: Option<&str>) -> Result<()> {
    let target = match material_id {
        Some(id) => id.to_owned(),
        None => key
            .current_material()
            .map(Material::id_hex)
            .ok_or_else(incorrect_material)?,
    };
    if hex(&import.id) != target {
        return Err(incorrect_material());
    }
    let entry = key
        .materials
        .iter_mut()
        .find(|m| m.id == import.id)
        .ok_or_else(incorrect_material)?;
    let mut material = entry.with_key(import.key);
    material.valid_to = import.valid_to;
    if import.description.is_some() {
        material.description = import.description;
    }
    *entry = material;
    Ok(())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteImportedKeyMaterialRequest {
    key_id: String,
    key_material_id: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteImportedKeyMaterialResponse {
    key_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    key_material_id: Option<String>,
}

/// Deletes the bytes of the named (by default the current) material; its entry and id
/// stay, so the same material can be imported again. Material still pending rotation
/// goes entirely. A key left without usable material is PendingImport.
pub async fn delete_imported_key_material(
    ctx: Ctx,
    req: DeleteImportedKeyMaterialRequest,
) -> Result<DeleteImportedKeyMaterialResponse> {
    let mut deleted = None;
    let key = change_key(
        &ctx,
        &req.key_id,
        Operation::DeleteImportedKeyMaterial,
        |key, _| {
            if key.origin != Origin::External {
                return Err(wrong_origin(key));
            }
            let target = match req.key_material_id.as_deref() {
                Some(id) => key
                    .materials
                    .iter()
                    .position(|m| m.id_hex() == id)
                    .ok_or_else(|| {
                        KmsError::not_found(format!(
                            "Key material {id} is not associated with the key {}",
                            key.arn()
                        ))
                    })?,
                None => match key
                    .materials
                    .iter()
                    .position(|m| m.state == MaterialState::Current)
                {
                    Some(index) => index,
                    // Nothing imported yet: nothing to delete.
                    None => return Ok(()),
                },
            };
            deleted = Some(key.materials[target].id_hex());
            if key.materials[target].state == MaterialState::PendingRotation {
                key.materials.remove(target);
            } else {
                let material = &mut key.materials[target];
                material.remove_key();
                material.valid_to = None;
            }
            state::settle(key);
            Ok(())
        },
    )
    .await?;
    Ok(DeleteImportedKeyMaterialResponse {
        key_id: key.arn(),
        key_material_id: deleted.filter(|_| key.spec == KeySpec::SymmetricDefault),
    })
}
