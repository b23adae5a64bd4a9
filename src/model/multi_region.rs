//! Multi-Region keys: a primary and its replicas, one key per Region with the same id.
//! Every member holds the same [`MultiRegion`] (the set), written together whenever the
//! set changes; the properties the set shares (generated key material, rotation) are
//! copied from the primary to the replicas on every write of the primary ([`share`]).

use super::enums::{KeyState, Origin};
use super::key::Key;
use crate::clock::Timestamp;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MultiRegion {
    /// The Region of the primary key.
    pub primary: String,
    /// The Regions of the replicas, in the order they were made.
    pub replicas: Vec<String>,
}

impl MultiRegion {
    /// A new primary key in `region`, without replicas.
    pub fn primary_in(region: &str) -> Self {
        Self {
            primary: region.to_owned(),
            replicas: Vec::new(),
        }
    }

    pub fn holds(&self, region: &str) -> bool {
        self.primary == region || self.replicas.iter().any(|r| r == region)
    }
}

impl Key {
    pub fn is_multi_region(&self) -> bool {
        self.multi_region.is_some()
    }

    /// A replica (not the primary) of a multi-Region key.
    pub fn is_replica(&self) -> bool {
        self.multi_region
            .as_ref()
            .is_some_and(|m| *m.primary != *self.scope.region)
    }

    /// The Regions of this key's replicas, if it is a primary that has any.
    pub fn replica_regions(&self) -> &[String] {
        match &self.multi_region {
            Some(m) if !self.is_replica() => &m.replicas,
            _ => &[],
        }
    }
}

/// `replica` brought in step with `primary`: the set, the rotation settings and, for keys
/// whose material AWS generates, the material (imported material is imported into each
/// Region).
pub fn share(primary: &Key, replica: &Key) -> Key {
    let mut shared = replica.clone();
    shared.multi_region.clone_from(&primary.multi_region);
    shared.rotation = primary.rotation;
    if primary.origin == Origin::AwsKms {
        shared.materials.clone_from(&primary.materials);
    }
    shared
}

/// How long a new replica is Creating, and a primary-Region change Updating: enough for
/// a client to see the state, short enough never to wait on.
pub const SETTLE_MS: i64 = 1_000;

/// A new replica of `primary` in `region`: the same id and properties, its own
/// description, policy and tags; Creating until it settles.
pub fn new_replica(primary: &Key, region: &str, now: Timestamp) -> Key {
    let scope = crate::model::Scope::new(primary.scope.account.clone(), region);
    let mut replica = primary.clone();
    replica.scope = scope;
    replica.created_at = now;
    replica.description = String::new();
    replica.tags = Vec::new();
    replica.deletion_date = None;
    replica.pending_window_days = None;
    if primary.origin != Origin::AwsKms {
        replica.materials.clear();
    }
    let settled = if replica.origin == Origin::External {
        KeyState::PendingImport
    } else {
        KeyState::Enabled
    };
    replica.state = KeyState::Creating;
    replica.settles = Some((Timestamp(now.millis() + SETTLE_MS), settled));
    replica
}

/// `member` once the replica in `region` is gone: the set without it, and a primary that
/// waited for its replicas to be deleted now pending deletion itself.
pub fn drop_replica(member: &Key, region: &str, at: Timestamp) -> Key {
    let mut key = member.clone();
    if let Some(set) = &mut key.multi_region {
        set.replicas.retain(|r| r != region);
    }
    if key.state == KeyState::PendingReplicaDeletion && key.replica_regions().is_empty() {
        key.state = KeyState::PendingDeletion;
        key.deletion_date = Some(at.plus_days(key.pending_window_days.unwrap_or(30)));
    }
    key
}
