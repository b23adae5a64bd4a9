//! Multi-Region keys: ReplicateKey and UpdatePrimaryRegion. The set each key belongs to
//! and what its members share live in `model::multi_region`; the store keeps the members
//! in step on every write.

use serde::{Deserialize, Serialize};

use super::keys::Metadata;
use super::tags::{self, TagInput};
use super::{Ctx, Empty, policies};
use crate::clock::Timestamp;
use crate::error::{ErrorCode, KmsError, Result};
use crate::model::multi_region::{self, MultiRegion, SETTLE_MS};
use crate::model::{Key, KeyState, Operation, Scope, Tag, key_policy, state};

/// UnsupportedOperationException, in AWS's words, for a key that is not a primary.
pub fn not_primary(key: &Key) -> KmsError {
    KmsError::unsupported(format!("{} is not a multi-region primary key.", key.arn()))
}

/// The set of a primary key; a replica or a single-Region key is refused.
fn primary_set(key: &Key) -> Result<&MultiRegion> {
    match &key.multi_region {
        Some(set) if !key.is_replica() => Ok(set),
        _ => Err(not_primary(key)),
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ReplicateKeyRequest {
    key_id: String,
    replica_region: String,
    policy: Option<String>,
    bypass_policy_lockout_safety_check: Option<bool>,
    description: Option<String>,
    tags: Option<Vec<TagInput>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ReplicateKeyResponse {
    replica_key_metadata: Metadata,
    replica_policy: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    replica_tags: Option<Vec<Tag>>,
}

/// A replica in another Region of the same account: the same key id and material, its
/// own description, policy and tags. It is Creating for a moment, then Enabled (or
/// PendingImport for imported material, which each Region imports itself).
pub async fn replicate_key(ctx: Ctx, req: ReplicateKeyRequest) -> Result<ReplicateKeyResponse> {
    if let Some(policy) = &req.policy {
        let replica_scope = Scope::new(ctx.scope.account.clone(), req.replica_region.as_str());
        key_policy::check(
            policy,
            policies::lockout_check(&replica_scope, req.bypass_policy_lockout_safety_check),
        )?;
    }
    let tags = tags::merge_tags(Vec::new(), req.tags.unwrap_or_default())?;
    let mut txn = ctx.svc.store.begin().await?;
    let primary = ctx.svc.resolve_key_only(&ctx.scope, &req.key_id)?;
    let set = primary_set(&primary)?;
    state::check(Operation::ReplicateKey, &primary)?;
    let region = Scope::new(primary.scope.account.clone(), req.replica_region.as_str());
    // Another key of the same id there (a set's former member, say) is not overwritten.
    if set.holds(&req.replica_region) || txn.key(&region, &primary.id).is_some() {
        return Err(KmsError::new(
            ErrorCode::AlreadyExists,
            format!(
                "A multi-Region key with the id {} already exists in {}.",
                primary.id, req.replica_region
            ),
        ));
    }
    let now = ctx.svc.now();
    let mut replica = multi_region::new_replica(&primary, &req.replica_region, now);
    replica.description = req.description.unwrap_or_default();
    replica.policy = req
        .policy
        .unwrap_or_else(|| key_policy::default(&replica.scope))
        .into();
    replica.tags = tags;
    let mut primary = (*primary).clone();
    if let Some(set) = &mut primary.multi_region {
        set.replicas.push(req.replica_region.clone());
    }
    txn.save_key(primary);
    let replica = txn.save_key(replica);
    txn.commit().await?;
    tracing::info!(key_id = %replica.id, region = %replica.scope.region, "replicated key");
    Ok(ReplicateKeyResponse {
        replica_policy: replica.policy.to_string(),
        replica_tags: (!replica.tags.is_empty()).then(|| replica.tags.clone()),
        replica_key_metadata: Metadata(replica),
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdatePrimaryRegionRequest {
    key_id: String,
    primary_region: String,
}

/// Makes the replica in `PrimaryRegion` the primary and the primary a replica. Both are
/// Updating for a moment, then Enabled again.
pub async fn update_primary_region(ctx: Ctx, req: UpdatePrimaryRegionRequest) -> Result<Empty> {
    let mut txn = ctx.svc.store.begin().await?;
    let primary = ctx.svc.resolve_key_only(&ctx.scope, &req.key_id)?;
    let set = primary_set(&primary)?;
    state::check(Operation::UpdatePrimaryRegion, &primary)?;
    if *req.primary_region == *primary.scope.region {
        return Ok(Empty {});
    }
    let region = Scope::new(primary.scope.account.clone(), req.primary_region.as_str());
    let replica = set
        .replicas
        .contains(&req.primary_region)
        .then(|| txn.key(&region, &primary.id))
        .flatten()
        .ok_or_else(|| {
            KmsError::not_found(format!(
                "The multi-Region key {} has no replica in {}.",
                primary.arn(),
                req.primary_region
            ))
        })?;
    state::check(Operation::UpdatePrimaryRegion, &replica)?;
    let settles = Some((
        Timestamp(ctx.svc.now().millis() + SETTLE_MS),
        KeyState::Enabled,
    ));
    let mut set = set.clone();
    set.replicas.retain(|r| *r != req.primary_region);
    set.replicas.push(primary.scope.region.to_string());
    set.primary = req.primary_region;
    // The new primary first: the old one (now a replica) takes the set from it.
    for member in [&replica, &primary] {
        let mut member = (**member).clone();
        member.multi_region = Some(Box::new(set.clone()));
        member.state = KeyState::Updating;
        member.settles = settles;
        txn.save_key(member);
    }
    txn.commit().await?;
    Ok(Empty {})
}
