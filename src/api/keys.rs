//! Key lifecycle: CreateKey, DescribeKey, ListKeys, EnableKey, DisableKey,
//! UpdateKeyDescription, ScheduleKeyDeletion, CancelKeyDeletion.

use std::sync::Arc;

use serde::ser::SerializeStruct;
use serde::{Deserialize, Serialize};

use super::paging::{self, PageInfo};
use super::policies::{self, validate_policy_member};
use super::tags::{self, TagInput};
use super::{Ctx, Empty, change_key};
use crate::clock::Timestamp;
use crate::error::{ErrorCode, KmsError, Result};
use crate::model::enums::CustomerMasterKeySpec;
use crate::model::ids::is_key_id;
use crate::model::{Key, KeyManager, KeySpec, KeyState, KeyUsage, Operation, Origin, Wire};
use crate::protocol::validate::{Validate, Violations};
use crate::service::NewKey;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateKeyRequest {
    policy: Option<String>,
    description: Option<String>,
    key_usage: Option<Wire<KeyUsage>>,
    customer_master_key_spec: Option<Wire<CustomerMasterKeySpec>>,
    key_spec: Option<Wire<KeySpec>>,
    origin: Option<Wire<Origin>>,
    custom_key_store_id: Option<String>,
    /// Accepted; trent stores policies without evaluating them, so there is no lockout
    /// check to bypass.
    #[allow(dead_code)]
    bypass_policy_lockout_safety_check: Option<bool>,
    tags: Option<Vec<TagInput>>,
    multi_region: Option<bool>,
    xks_key_id: Option<String>,
}

impl Validate for CreateKeyRequest {
    fn validate(&self, v: &mut Violations) {
        validate_policy_member(v, self.policy.as_deref());
        v.length("description", self.description.as_deref(), 0, 8192);
        v.member_of("keyUsage", &self.key_usage);
        v.member_of("customerMasterKeySpec", &self.customer_master_key_spec);
        v.member_of("keySpec", &self.key_spec);
        v.member_of("origin", &self.origin);
        v.length(
            "customKeyStoreId",
            self.custom_key_store_id.as_deref(),
            1,
            64,
        );
        tags::validate_tags(v, &self.tags);
        v.length("xksKeyId", self.xks_key_id.as_deref(), 1, 128);
        v.pattern(
            "xksKeyId",
            self.xks_key_id.as_deref(),
            "^[a-zA-Z0-9-_.]+$",
            |s| {
                s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
            },
        );
    }
}

/// `{"KeyMetadata": {...}}`, serialised straight from the key.
#[derive(Debug)]
pub struct KeyMetadataResponse(Arc<Key>);

impl Serialize for KeyMetadataResponse {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut out = s.serialize_struct("KeyMetadataResponse", 1)?;
        out.serialize_field("KeyMetadata", &self.0.metadata())?;
        out.end()
    }
}

pub async fn create_key(ctx: Ctx, req: CreateKeyRequest) -> Result<KeyMetadataResponse> {
    let spec = match (req.key_spec.as_ref(), req.customer_master_key_spec.as_ref()) {
        (Some(_), Some(_)) => {
            return Err(KmsError::validation(
                "You cannot specify KeySpec and CustomerMasterKeySpec in the same request. CustomerMasterKeySpec is deprecated.",
            ));
        }
        (Some(s), None) => s.known(),
        (None, Some(s)) => s.known().map(CustomerMasterKeySpec::key_spec),
        (None, None) => Some(KeySpec::SymmetricDefault),
    }
    .unwrap_or(KeySpec::SymmetricDefault);
    let usage = req
        .key_usage
        .as_ref()
        .and_then(Wire::known)
        .unwrap_or(KeyUsage::EncryptDecrypt);
    let origin = req
        .origin
        .as_ref()
        .and_then(Wire::known)
        .unwrap_or(Origin::AwsKms);

    if !spec.usages().contains(&usage) {
        return Err(KmsError::validation(format!(
            "KeyUsage {usage} is not compatible with KeySpec {spec}"
        )));
    }
    if spec != KeySpec::SymmetricDefault {
        return Err(KmsError::unsupported(format!(
            "KeySpec {spec} is not supported by trent yet."
        )));
    }
    if let Some(store_id) = &req.custom_key_store_id {
        return Err(KmsError::new(
            ErrorCode::CustomKeyStoreNotFound,
            format!("Custom key store {store_id} does not exist."),
        ));
    }
    match origin {
        Origin::AwsKms | Origin::External => {}
        Origin::AwsCloudHsm | Origin::ExternalKeyStore => {
            return Err(KmsError::unsupported(format!(
                "Origin {origin} requires a CustomKeyStoreId."
            )));
        }
    }
    if req.xks_key_id.is_some() {
        return Err(KmsError::unsupported(
            "XksKeyId is only valid for a key with Origin EXTERNAL_KEY_STORE.",
        ));
    }
    if let Some(policy) = &req.policy {
        policies::check_policy_document(policy)?;
    }
    let tags = tags::merge_tags(Vec::new(), req.tags.unwrap_or_default())?;

    let key = ctx.svc.build_key(
        &ctx.scope,
        NewKey {
            description: req.description.unwrap_or_default(),
            spec,
            usage,
            origin,
            manager: KeyManager::Customer,
            multi_region: req.multi_region.unwrap_or(false),
            policy: req.policy,
            tags,
        },
    );
    let mut txn = ctx.svc.store.begin().await?;
    let key = txn.save_key(key).await?;
    tracing::info!(key_id = %key.id, "created key");
    Ok(KeyMetadataResponse(key))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyIdRequest {
    key_id: Option<String>,
    grant_tokens: Option<Vec<String>>,
}

impl Validate for KeyIdRequest {
    fn validate(&self, v: &mut Violations) {
        validate_key_id(v, "keyId", &self.key_id);
        v.grant_tokens(&self.grant_tokens);
    }
}

/// A required KeyId member: present, 1 to 2048 characters.
pub fn validate_key_id(v: &mut Violations, field: &str, key_id: &Option<String>) {
    v.required(field, key_id);
    v.length(field, key_id.as_deref(), 1, 2048);
}

pub async fn describe_key(ctx: Ctx, req: KeyIdRequest) -> Result<KeyMetadataResponse> {
    let key_id = req.key_id.unwrap_or_default();
    let key = ctx.svc.resolve(&ctx.scope, &key_id).await?;
    Ok(KeyMetadataResponse(key))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListKeysRequest {
    limit: Option<i64>,
    marker: Option<String>,
}

impl Validate for ListKeysRequest {
    fn validate(&self, v: &mut Violations) {
        paging::validate(v, self.limit, self.marker.as_deref());
    }
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
                key_arn: k.arn.clone(),
            })
            .collect(),
        page: PageInfo::new(next),
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyOnlyRequest {
    key_id: Option<String>,
}

impl Validate for KeyOnlyRequest {
    fn validate(&self, v: &mut Violations) {
        validate_key_id(v, "keyId", &self.key_id);
    }
}

pub async fn enable_key(ctx: Ctx, req: KeyOnlyRequest) -> Result<Empty> {
    change_key(
        &ctx,
        &req.key_id.unwrap_or_default(),
        Operation::EnableKey,
        |_, _| Ok(()),
    )
    .await?;
    Ok(Empty {})
}

pub async fn disable_key(ctx: Ctx, req: KeyOnlyRequest) -> Result<Empty> {
    change_key(
        &ctx,
        &req.key_id.unwrap_or_default(),
        Operation::DisableKey,
        |_, _| Ok(()),
    )
    .await?;
    Ok(Empty {})
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateKeyDescriptionRequest {
    key_id: Option<String>,
    description: Option<String>,
}

impl Validate for UpdateKeyDescriptionRequest {
    fn validate(&self, v: &mut Violations) {
        validate_key_id(v, "keyId", &self.key_id);
        v.required("description", &self.description);
        v.length("description", self.description.as_deref(), 0, 8192);
    }
}

pub async fn update_key_description(ctx: Ctx, req: UpdateKeyDescriptionRequest) -> Result<Empty> {
    let description = req.description.unwrap_or_default();
    change_key(
        &ctx,
        &req.key_id.unwrap_or_default(),
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
    key_id: Option<String>,
    pending_window_in_days: Option<i64>,
}

/// AWS accepts a waiting period of 7 to 30 days; the model's 1–365 is checked first.
const MIN_WINDOW_DAYS: i64 = 7;
const MAX_WINDOW_DAYS: i64 = 30;

impl Validate for ScheduleKeyDeletionRequest {
    fn validate(&self, v: &mut Violations) {
        validate_key_id(v, "keyId", &self.key_id);
        v.range("pendingWindowInDays", self.pending_window_in_days, 1, 365);
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ScheduleKeyDeletionResponse {
    key_id: String,
    deletion_date: Timestamp,
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
        &req.key_id.unwrap_or_default(),
        Operation::ScheduleKeyDeletion,
        |key, now| {
            key.deletion_date = Some(now.plus_days(days));
            key.pending_window_days = Some(days);
            Ok(())
        },
    )
    .await?;
    Ok(ScheduleKeyDeletionResponse {
        key_id: key.arn.clone(),
        deletion_date: key.deletion_date.unwrap_or(key.created_at),
        key_state: key.state,
        pending_window_in_days: days,
    })
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CancelKeyDeletionResponse {
    key_id: String,
}

pub async fn cancel_key_deletion(
    ctx: Ctx,
    req: KeyOnlyRequest,
) -> Result<CancelKeyDeletionResponse> {
    let key = change_key(
        &ctx,
        &req.key_id.unwrap_or_default(),
        Operation::CancelKeyDeletion,
        |key, _| {
            key.deletion_date = None;
            key.pending_window_days = None;
            Ok(())
        },
    )
    .await?;
    Ok(CancelKeyDeletionResponse {
        key_id: key.arn.clone(),
    })
}
