//! Key rotation: EnableKeyRotation, DisableKeyRotation, GetKeyRotationStatus,
//! RotateKeyOnDemand, ListKeyRotations. Automatic rotations happen on the store's
//! schedule (`model::timed`); these handlers change the settings and rotate on demand.

use serde::{Deserialize, Serialize};

use super::keys::KeyIdRequest;
use super::multi_region::not_primary;
use super::paging::{self, PageInfo};
use super::usage::wrong_origin;
use super::{Ctx, Empty, change_key};
use crate::clock::Timestamp;
use crate::crypto::{Material, SecretKey};
use crate::error::{ErrorCode, KmsError, Result};
use crate::model::enums::{ExpirationModel, ImportState, IncludeKeyMaterial, RotationType};
use crate::model::key::AutoRotation;
use crate::model::{Key, KeySpec, KeyState, MaterialState, Operation, Origin, state};

/// RotationPeriodInDays when the request leaves it out.
const DEFAULT_PERIOD_DAYS: u32 = 365;

/// On-demand rotations AWS allows per key.
pub const ON_DEMAND_LIMIT: usize = 25;

/// Automatic rotation exists for symmetric encryption keys with AWS-generated material.
/// AWS words the refusal by origin for imported material, and says nothing otherwise.
fn check_rotatable(key: &Key) -> Result<()> {
    // A multi-Region key set rotates through its primary.
    if key.is_replica() {
        return Err(not_primary(key));
    }
    if key.origin == Origin::External {
        return Err(wrong_origin(key));
    }
    if key.spec != KeySpec::SymmetricDefault || key.origin != Origin::AwsKms {
        return Err(KmsError::unsupported(""));
    }
    Ok(())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EnableKeyRotationRequest {
    key_id: String,
    rotation_period_in_days: Option<i64>,
}

pub async fn enable_key_rotation(ctx: Ctx, req: EnableKeyRotationRequest) -> Result<Empty> {
    // The model check has held the period to 90..=2560.
    let period_days = req
        .rotation_period_in_days
        .and_then(|days| u32::try_from(days).ok())
        .unwrap_or(DEFAULT_PERIOD_DAYS);
    change_key(
        &ctx,
        &req.key_id,
        Operation::EnableKeyRotation,
        |key, now| {
            check_rotatable(key)?;
            let next = match key.rotation {
                // A new period counts from the last rotation, or from when rotation began.
                // Never in the past: a shorter period rotates now, not in a backdated burst.
                Some(r) => r
                    .next
                    .minus_days(r.period_days)
                    .plus_days(period_days)
                    .max(now),
                None => now.plus_days(period_days),
            };
            key.rotation = Some(AutoRotation { period_days, next });
            Ok(())
        },
    )
    .await?;
    Ok(Empty {})
}

pub async fn disable_key_rotation(ctx: Ctx, req: KeyIdRequest) -> Result<Empty> {
    change_key(
        &ctx,
        &req.key_id,
        Operation::DisableKeyRotation,
        |key, _| {
            check_rotatable(key)?;
            key.rotation = None;
            Ok(())
        },
    )
    .await?;
    Ok(Empty {})
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetKeyRotationStatusResponse {
    key_id: String,
    key_rotation_enabled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    rotation_period_in_days: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_rotation_date: Option<Timestamp>,
}

pub async fn get_key_rotation_status(
    ctx: Ctx,
    req: KeyIdRequest,
) -> Result<GetKeyRotationStatusResponse> {
    let key = ctx.svc.resolve_key_only(&ctx.scope, &req.key_id)?;
    state::check(Operation::GetKeyRotationStatus, &key)?;
    match key.origin {
        Origin::External => return Err(wrong_origin(&key)),
        Origin::AwsCloudHsm | Origin::ExternalKeyStore => return Err(KmsError::unsupported("")),
        Origin::AwsKms => {}
    }
    // Keys that can't rotate (asymmetric, HMAC) report rotation off, as AWS does; so does
    // a key pending deletion, until the deletion is cancelled.
    let rotation = key.rotation.filter(|_| {
        !matches!(
            key.state,
            KeyState::PendingDeletion | KeyState::PendingReplicaDeletion
        )
    });
    Ok(GetKeyRotationStatusResponse {
        key_id: key.arn(),
        key_rotation_enabled: rotation.is_some(),
        rotation_period_in_days: rotation.map(|r| r.period_days),
        next_rotation_date: rotation.map(|r| r.next),
    })
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RotateKeyOnDemandResponse {
    key_id: String,
}

/// Rotates at once (AWS rotates in the background within moments). Imported keys rotate
/// to the material imported with ImportType NEW_KEY_MATERIAL. The automatic schedule
/// does not move.
pub async fn rotate_key_on_demand(
    ctx: Ctx,
    req: KeyIdRequest,
) -> Result<RotateKeyOnDemandResponse> {
    let key = change_key(&ctx, &req.key_id, Operation::RotateKeyOnDemand, |key, now| {
        if key.is_replica() {
            return Err(not_primary(key));
        }
        if key.spec != KeySpec::SymmetricDefault
            || !matches!(key.origin, Origin::AwsKms | Origin::External)
        {
            return Err(KmsError::unsupported(""));
        }
        if key.on_demand_rotations() >= ON_DEMAND_LIMIT {
            return Err(KmsError::new(
                ErrorCode::LimitExceeded,
                format!(
                    "The on-demand rotations limit has been reached for the given keyId. No more on-demand rotations can be performed for this key: {}",
                    key.arn()
                ),
            ));
        }
        let material = match key.origin {
            Origin::External => take_pending(key)?,
            _ => Material::new(
                SecretKey::generate(KeySpec::SymmetricDefault),
                now,
                MaterialState::Current,
            ),
        };
        key.rotate_to(material, now, RotationType::OnDemand);
        Ok(())
    })
    .await?;
    Ok(RotateKeyOnDemandResponse { key_id: key.arn() })
}

/// Removes and returns the imported material waiting for rotation.
fn take_pending(key: &mut Key) -> Result<Material> {
    let pending = key
        .materials
        .iter()
        .position(|m| m.state == MaterialState::PendingRotation && m.key().is_some())
        .ok_or_else(|| {
            KmsError::invalid_state(format!(
                "No available key material pending rotation for the key: {}.",
                key.arn()
            ))
        })?;
    Ok(key.materials.remove(pending))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListKeyRotationsRequest {
    key_id: String,
    include_key_material: Option<IncludeKeyMaterial>,
    limit: Option<i64>,
    marker: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RotationsListEntry {
    key_id: String,
    key_material_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    key_material_description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    import_state: Option<ImportState>,
    key_material_state: MaterialState,
    #[serde(skip_serializing_if = "Option::is_none")]
    expiration_model: Option<ExpirationModel>,
    #[serde(skip_serializing_if = "Option::is_none")]
    valid_to: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rotation_date: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rotation_type: Option<RotationType>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListKeyRotationsResponse {
    rotations: Vec<RotationsListEntry>,
    #[serde(flatten)]
    page: PageInfo,
}

/// Material in history order. ROTATIONS_ONLY (the default) lists what rotations made;
/// ALL_KEY_MATERIAL adds the first material and imported material pending rotation. The
/// marker is the id of the next entry.
pub async fn list_key_rotations(
    ctx: Ctx,
    req: ListKeyRotationsRequest,
) -> Result<ListKeyRotationsResponse> {
    let key = ctx.svc.resolve_key_only(&ctx.scope, &req.key_id)?;
    state::check(Operation::ListKeyRotations, &key)?;
    if key.spec != KeySpec::SymmetricDefault || key.custom_key_store.is_some() {
        return Err(KmsError::unsupported(""));
    }
    let all = req.include_key_material == Some(IncludeKeyMaterial::AllKeyMaterial);
    let listed: Vec<&Material> = key
        .materials
        .iter()
        .filter(|m| all || m.rotated.is_some())
        .collect();
    let from = paging::marker(req.marker.as_deref(), |m| {
        listed.iter().any(|e| e.id_hex() == m)
    })?;
    let start = listed
        .iter()
        .position(|m| from.is_empty() || m.id_hex() == from)
        .unwrap_or(0);
    let limit = paging::page_size(req.limit, 100, 1000);
    let page = &listed[start..listed.len().min(start + limit)];
    let next = listed.get(start + page.len()).map(|m| m.id_hex());
    let imported = key.origin == Origin::External;
    Ok(ListKeyRotationsResponse {
        rotations: page
            .iter()
            .map(|m| RotationsListEntry {
                key_id: key.id.clone(),
                key_material_id: m.id_hex(),
                key_material_description: m.description.clone().filter(|_| imported),
                import_state: imported.then(|| match m.key() {
                    Some(_) => ImportState::Imported,
                    None => ImportState::PendingImport,
                }),
                key_material_state: m.state,
                expiration_model: (imported && m.key().is_some())
                    .then_some(ExpirationModel::of(m.valid_to)),
                valid_to: m.valid_to.filter(|_| imported),
                rotation_date: m.rotated.map(|(at, _)| at),
                rotation_type: m.rotated.map(|(_, kind)| kind),
            })
            .collect(),
        page: PageInfo::new(next),
    })
}
