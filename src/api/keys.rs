//! Key lifecycle: CreateKey, DescribeKey, ListKeys, EnableKey, DisableKey,
//! UpdateKeyDescription, ScheduleKeyDeletion, CancelKeyDeletion.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::custom_key_stores;
use super::paging::{self, PageInfo};
use super::policies;
use super::tags::{self, TagInput};
use super::{Ctx, Empty, change_key};
use crate::clock::Timestamp;
use crate::crypto::{Material, Secret};
use crate::error::{ErrorCode, KmsError, Result};
use crate::model::enums::CustomerMasterKeySpec;
use crate::model::ids::is_key_id;
use crate::model::key_policy;
use crate::model::{
    Key, KeyManager, KeySpec, KeyState, KeyUsage, MaterialState, Operation, Origin,
};
use crate::protocol::Json;
use crate::seed;
use crate::service::NewKey;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateKeyRequest {
    policy: Option<String>,
    description: Option<String>,
    key_usage: Option<KeyUsage>,
    customer_master_key_spec: Option<CustomerMasterKeySpec>,
    key_spec: Option<KeySpec>,
    origin: Option<Origin>,
    custom_key_store_id: Option<String>,
    bypass_policy_lockout_safety_check: Option<bool>,
    tags: Option<Vec<TagInput>>,
    multi_region: Option<bool>,
    xks_key_id: Option<String>,
    /// LocalStack's `_custom_id_` tag (see [`lift_localstack_tags`]).
    local_stack_custom_id: Option<String>,
    /// LocalStack's `_custom_key_material_` tag, base64.
    local_stack_custom_key_material: Option<Secret>,
}

/// A key's `KeyMetadata`, serialised straight from the key.
#[derive(Debug)]
pub struct Metadata(pub Arc<Key>);

impl Serialize for Metadata {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.0.metadata().serialize(s)
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyMetadataResponse {
    key_metadata: Metadata,
}

impl KeyMetadataResponse {
    fn of(key: Arc<Key>) -> Self {
        Self {
            key_metadata: Metadata(key),
        }
    }
}

pub async fn create_key(ctx: Ctx, req: CreateKeyRequest) -> Result<KeyMetadataResponse> {
    let spec = match (req.key_spec, req.customer_master_key_spec) {
        (Some(_), Some(_)) => {
            return Err(KmsError::validation(
                "You cannot specify KeySpec and CustomerMasterKeySpec in the same request. CustomerMasterKeySpec is deprecated.",
            ));
        }
        (Some(spec), None) => spec,
        (None, Some(spec)) => spec.key_spec(),
        (None, None) => KeySpec::SymmetricDefault,
    };
    let usage = match req.key_usage {
        Some(usage) => usage,
        None if spec == KeySpec::SymmetricDefault => KeyUsage::EncryptDecrypt,
        None => {
            return Err(KmsError::validation(
                "You must specify a KeyUsage value for all KMS keys except for symmetric encryption keys.",
            ));
        }
    };
    if !spec.usages().contains(&usage) {
        return Err(KmsError::validation(format!(
            "KeyUsage {usage} is not compatible with KeySpec {spec}"
        )));
    }
    if !spec.offered_in(&ctx.scope) {
        return Err(KmsError::unsupported(format!(
            "KeySpec {spec} is not supported in this Region"
        )));
    }
    let (custom_key_store, origin) = match &req.custom_key_store_id {
        Some(store_id) => {
            let (link, origin) = custom_key_stores::link_new_key(
                &ctx,
                store_id,
                spec,
                usage,
                req.origin,
                req.multi_region.unwrap_or(false),
                req.xks_key_id,
            )?;
            (Some(link), origin)
        }
        None => {
            let origin = req.origin.unwrap_or(Origin::AwsKms);
            if matches!(origin, Origin::AwsCloudHsm | Origin::ExternalKeyStore) {
                return Err(KmsError::unsupported(format!(
                    "Origin {origin} requires a CustomKeyStoreId."
                )));
            }
            if req.xks_key_id.is_some() {
                return Err(KmsError::unsupported(
                    "XksKeyId is only valid for a key with Origin EXTERNAL_KEY_STORE.",
                ));
            }
            (None, origin)
        }
    };
    if let Some(policy) = &req.policy {
        key_policy::check(
            policy,
            policies::lockout_check(&ctx.scope, req.bypass_policy_lockout_safety_check),
        )?;
    }
    let tags = req.tags.unwrap_or_default();
    let (custom_id, custom_material) = localstack_custom_key(
        req.local_stack_custom_id,
        req.local_stack_custom_key_material,
        spec,
    )?;
    // CreateKey words a tag count over the limit its own way (TagResource: LimitExceeded).
    if tags.len() > tags::MAX_TAGS {
        return Err(KmsError::new(ErrorCode::Tag, "Too many tags"));
    }
    let tags = tags::merge_tags(Vec::new(), tags)?;
    // A fixed id decides whether the key is multi-Region.
    let multi_region = match &custom_id {
        Some(id) => id.starts_with("mrk-"),
        None => req.multi_region.unwrap_or(false),
    };

    let key = ctx
        .svc
        .build_key(
            &ctx.scope,
            NewKey {
                description: req.description.unwrap_or_default(),
                spec,
                usage,
                origin,
                manager: KeyManager::Customer,
                multi_region,
                policy: req.policy,
                tags,
                id: custom_id,
                materials: custom_material,
                custom_key_store,
            },
        )
        .await;
    let mut txn = ctx.svc.store.begin().await?;
    let mut key = key;
    if let Some(store_id) = &req.custom_key_store_id {
        // Again under the writer: the store may have been disconnected or deleted.
        let (link, _) = custom_key_stores::link_new_key(
            &ctx,
            store_id,
            spec,
            usage,
            Some(key.origin),
            false,
            key.custom_key_store
                .as_ref()
                .and_then(|l| l.xks_key_id.clone()),
        )?;
        custom_key_stores::check_xks_key_free(&ctx, &link)?;
        key.custom_key_store = Some(Box::new(link));
    }
    // Checked under the writer: two requests for one fixed id make one key.
    if txn.key(&ctx.scope, &key.id).is_some() {
        return Err(KmsError::new(
            ErrorCode::AlreadyExists,
            format!("A key with the id {} already exists", key.id),
        ));
    }
    let key = txn.save_key(key);
    txn.commit().await?;
    tracing::info!(key_id = %key.id, "created key");
    Ok(KeyMetadataResponse::of(key))
}

/// LocalStack's way to fix a new key's id and material: the tags `_custom_id_` and
/// `_custom_key_material_` (base64: raw bytes for symmetric and HMAC keys, PKCS#8 DER for
/// asymmetric ones). They are instructions, not tags: taken out of the request before the
/// model check (a private key is longer than a tag value may be, and a validation message
/// would quote it), into members of their own.
pub fn lift_localstack_tags(body: &mut Json<'_>) {
    let Some(tags) = body.get_mut("Tags").and_then(|t| t.as_array_mut()) else {
        return;
    };
    let mut lifted = Vec::new();
    tags.retain(|tag| {
        let name = tag.get("TagKey").and_then(|k| k.as_str());
        match name.and_then(|n| LOCALSTACK_TAGS.iter().find(|(tag, _)| *tag == n)) {
            Some((_, member)) => {
                lifted.push((*member, tag.get("TagValue").cloned()));
                false
            }
            None => true,
        }
    });
    for (member, value) in lifted {
        if let Some(value) = value {
            body.insert(member, value);
        }
    }
}

/// LocalStack's tag, and the request member it becomes.
const LOCALSTACK_TAGS: [(&str, &str); 2] = [
    ("_custom_id_", "LocalStackCustomId"),
    ("_custom_key_material_", "LocalStackCustomKeyMaterial"),
];

/// The key id and material the LocalStack members ask for.
fn localstack_custom_key(
    id: Option<String>,
    material: Option<Secret>,
    spec: KeySpec,
) -> Result<(Option<String>, Vec<Material>)> {
    if let Some(id) = id.as_deref().filter(|id| !is_key_id(id)) {
        return Err(KmsError::validation(format!(
            "_custom_id_ {id} is not a key id (a UUID, or mrk- and 32 hex digits)"
        )));
    }
    let Some(bytes) = material else {
        return Ok((id, Vec::new()));
    };
    let key = if spec.is_asymmetric() {
        seed::material::private_key(spec, &bytes)
    } else {
        seed::material::symmetric_key(spec, &bytes)
    }
    .map_err(|why| KmsError::validation(format!("_custom_key_material_: {why}")))?;
    let material_id = seed::material::material_id(id.as_deref().unwrap_or_default(), &bytes);
    let material =
        Material::from_parts(material_id, Timestamp(0), MaterialState::Current, Some(key));
    Ok((id, vec![material]))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyIdRequest {
    pub key_id: String,
}

pub async fn describe_key(ctx: Ctx, req: KeyIdRequest) -> Result<KeyMetadataResponse> {
    let key = ctx.svc.resolve(&ctx.scope, &req.key_id).await?;
    Ok(KeyMetadataResponse::of(key))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListKeysRequest {
    limit: Option<i64>,
    marker: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyListEntry {
    key_id: String,
    key_arn: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListKeysResponse {
    keys: Vec<KeyListEntry>,
    #[serde(flatten)]
    page: PageInfo,
}

pub async fn list_keys(ctx: Ctx, req: ListKeysRequest) -> Result<ListKeysResponse> {
    let from = paging::marker(req.marker.as_deref(), is_key_id)?;
    let limit = paging::page_size(req.limit, 100, 1000);
    let (keys, next) = ctx.svc.store.keys_from(&ctx.scope, from, limit);
    Ok(ListKeysResponse {
        keys: keys
            .iter()
            .map(|k| KeyListEntry {
                key_id: k.id.clone(),
                key_arn: k.arn(),
            })
            .collect(),
        page: PageInfo::new(next),
    })
}

pub async fn enable_key(ctx: Ctx, req: KeyIdRequest) -> Result<Empty> {
    change_key(&ctx, &req.key_id, Operation::EnableKey, |key, now| {
        // A key enabled again after its rotation date passed rotates now, as on AWS.
        if let Some(rotation) = &mut key.rotation {
            rotation.next = rotation.next.max(now);
        }
        Ok(())
    })
    .await?;
    Ok(Empty {})
}

pub async fn disable_key(ctx: Ctx, req: KeyIdRequest) -> Result<Empty> {
    change_key(&ctx, &req.key_id, Operation::DisableKey, |_, _| Ok(())).await?;
    Ok(Empty {})
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateKeyDescriptionRequest {
    key_id: String,
    description: String,
}

pub async fn update_key_description(ctx: Ctx, req: UpdateKeyDescriptionRequest) -> Result<Empty> {
    let description = req.description;
    change_key(
        &ctx,
        &req.key_id,
        Operation::UpdateKeyDescription,
        |key, _| {
            key.description = description;
            Ok(())
        },
    )
    .await?;
    Ok(Empty {})
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ScheduleKeyDeletionRequest {
    key_id: String,
    pending_window_in_days: Option<i64>,
}

/// AWS accepts a waiting period of 7 to 30 days; the model's 1–365 is checked first.
const MIN_WINDOW_DAYS: i64 = 7;
const MAX_WINDOW_DAYS: i64 = 30;

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ScheduleKeyDeletionResponse {
    key_id: String,
    /// Absent while a primary key waits for its replicas to be deleted.
    #[serde(skip_serializing_if = "Option::is_none")]
    deletion_date: Option<Timestamp>,
    key_state: KeyState,
    pending_window_in_days: u32,
}

pub async fn schedule_key_deletion(
    ctx: Ctx,
    req: ScheduleKeyDeletionRequest,
) -> Result<ScheduleKeyDeletionResponse> {
    let days = req.pending_window_in_days.unwrap_or(MAX_WINDOW_DAYS);
    if !(MIN_WINDOW_DAYS..=MAX_WINDOW_DAYS).contains(&days) {
        return Err(KmsError::validation(format!(
            "PendingWindowInDays must be between {MIN_WINDOW_DAYS} and {MAX_WINDOW_DAYS}"
        )));
    }
    let days = days as u32;
    let key = change_key(
        &ctx,
        &req.key_id,
        Operation::ScheduleKeyDeletion,
        |key, now| {
            // The window of a primary with replicas starts when its last replica is gone.
            key.deletion_date =
                (key.state == KeyState::PendingDeletion).then(|| now.plus_days(days));
            key.pending_window_days = Some(days);
            Ok(())
        },
    )
    .await?;
    Ok(ScheduleKeyDeletionResponse {
        key_id: key.arn(),
        deletion_date: key.deletion_date,
        key_state: key.state,
        pending_window_in_days: days,
    })
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CancelKeyDeletionResponse {
    key_id: String,
}

pub async fn cancel_key_deletion(ctx: Ctx, req: KeyIdRequest) -> Result<CancelKeyDeletionResponse> {
    let key = change_key(&ctx, &req.key_id, Operation::CancelKeyDeletion, |key, _| {
        key.deletion_date = None;
        key.pending_window_days = None;
        Ok(())
    })
    .await?;
    Ok(CancelKeyDeletionResponse { key_id: key.arn() })
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyLastUsageData {
    #[serde(skip_serializing_if = "Option::is_none")]
    operation: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    timestamp: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cloud_trail_event_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    kms_request_id: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetKeyLastUsageResponse {
    key_id: String,
    /// Empty when the key has not been used since tracking began.
    key_last_usage: KeyLastUsageData,
    tracking_start_date: Timestamp,
    key_creation_date: Timestamp,
}

/// The last successful cryptographic operation with a key (key id or ARN; no aliases).
pub async fn get_key_last_usage(ctx: Ctx, req: KeyIdRequest) -> Result<GetKeyLastUsageResponse> {
    let key = ctx.svc.resolve_key_only(&ctx.scope, &req.key_id)?;
    let (usage, tracking_start) = ctx.svc.store.last_use(&key.scope, &key.id);
    Ok(GetKeyLastUsageResponse {
        key_id: key.arn(),
        key_last_usage: KeyLastUsageData {
            operation: usage.as_ref().map(|u| u.operation),
            timestamp: usage.as_ref().map(|u| u.at),
            cloud_trail_event_id: usage.as_ref().map(|u| u.event_id.to_string()),
            kms_request_id: usage.map(|u| u.request_id.to_string()),
        },
        tracking_start_date: tracking_start.max(key.created_at),
        key_creation_date: key.created_at,
    })
}
