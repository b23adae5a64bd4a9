//! A KMS key as trent holds it, and the `KeyMetadata` AWS reports for it.

use std::sync::Arc;

use serde::Serialize;

use super::custom_key_store::StoreLink;
use super::enums::{
    CustomerMasterKeySpec, EncryptionAlgorithm, ExpirationModel, KeyAgreementAlgorithm, KeyManager,
    KeySpec, KeyState, KeyUsage, MacAlgorithm, MaterialState, MultiRegionKeyType, Origin,
    RotationType, SigningAlgorithm,
};
use super::ids::Scope;
use super::multi_region::MultiRegion;
use super::spec::Algorithms;
use crate::clock::Timestamp;
use crate::crypto::Material;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    pub tag_key: String,
    pub tag_value: String,
}

/// One key. Held immutably behind an `Arc` in the cache; a change clones, edits and swaps it.
#[derive(Debug, Clone)]
pub struct Key {
    pub scope: Scope,
    pub id: String,
    pub created_at: Timestamp,
    pub description: String,
    pub state: KeyState,
    pub deletion_date: Option<Timestamp>,
    pub pending_window_days: Option<u32>,
    pub spec: KeySpec,
    pub usage: KeyUsage,
    pub origin: Origin,
    pub manager: KeyManager,
    /// The multi-Region key set this key belongs to, if any.
    pub multi_region: Option<Box<MultiRegion>>,
    /// Shared by the keys whose policy documents are the same (most keep the default).
    pub policy: Arc<str>,
    /// In the order they were first added.
    pub tags: Vec<Tag>,
    /// Every material this key has had, oldest first; one is current once it has any.
    pub materials: Vec<Material>,
    /// Automatic rotation, while enabled.
    pub rotation: Option<AutoRotation>,
    /// While Creating or Updating: when the key settles, and in which state.
    pub settles: Option<(Timestamp, KeyState)>,
    /// The custom key store that holds the key, if any.
    pub custom_key_store: Option<Box<StoreLink>>,
}

/// Automatic rotation settings: every `period_days`, the next one at `next`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AutoRotation {
    pub period_days: u32,
    pub next: Timestamp,
}

impl Key {
    /// The key's state as AWS reports it: a key in a disconnected custom key store is
    /// Unavailable (unless on its way out) and back in its own state once reconnected.
    pub fn status(&self) -> KeyState {
        match (&self.custom_key_store, self.state) {
            (Some(link), KeyState::Enabled | KeyState::Disabled) if !link.is_connected() => {
                KeyState::Unavailable
            }
            (_, state) => state,
        }
    }

    /// The key's ARN, made when asked for: every key is in memory, and an ARN per key
    /// held there would cost more than making it for the answers that carry it.
    pub fn arn(&self) -> String {
        self.scope.key_arn(&self.id)
    }

    /// A key whose deletion date has passed no longer exists, even before the sweeper runs.
    pub fn is_deleted(&self, now: Timestamp) -> bool {
        self.state == KeyState::PendingDeletion && self.deletion_date.is_some_and(|d| d <= now)
    }

    /// The material new ciphertexts and signatures use.
    pub fn current_material(&self) -> Option<&Material> {
        self.materials
            .iter()
            .find(|m| m.state == MaterialState::Current)
    }

    /// Whether the key can be used: it has current material, and no material that
    /// belongs to it for good (current or non-current) has lost its bytes. Imported
    /// material that was deleted or expired takes this away ("any key material deleted
    /// or expired" sends an imported key back to PendingImport).
    pub fn has_material(&self) -> bool {
        self.current_material().is_some()
            && self
                .materials
                .iter()
                .filter(|m| m.state != MaterialState::PendingRotation)
                .all(|m| m.key().is_some())
    }

    pub fn material(&self, id: &[u8; 32]) -> Option<&Material> {
        self.materials.iter().find(|m| &m.id == id)
    }

    /// Makes `new` the current material; the current one stays for decryption only.
    pub fn rotate_to(&mut self, mut new: Material, at: Timestamp, kind: RotationType) {
        for m in &mut self.materials {
            if m.state == MaterialState::Current {
                m.state = MaterialState::NonCurrent;
            }
        }
        new.state = MaterialState::Current;
        new.rotated = Some((at, kind));
        self.materials.push(new);
    }

    /// How many on-demand rotations the key has had (AWS limits them).
    pub fn on_demand_rotations(&self) -> usize {
        self.materials
            .iter()
            .filter(|m| matches!(m.rotated, Some((_, RotationType::OnDemand))))
            .count()
    }

    /// The algorithms the key supports for its usage.
    pub fn algorithms(&self) -> Algorithms {
        Algorithms::of(self.spec, self.usage)
    }

    pub fn metadata(&self) -> KeyMetadata<'_> {
        let algorithms = self.algorithms();
        KeyMetadata {
            aws_account_id: &self.scope.account,
            key_id: &self.id,
            arn: self.arn(),
            creation_date: self.created_at,
            enabled: self.status() == KeyState::Enabled,
            description: &self.description,
            key_usage: self.usage,
            key_state: self.status(),
            deletion_date: self.deletion_date,
            origin: self.origin,
            key_manager: self.manager,
            customer_master_key_spec: self.spec.customer_master_key_spec(),
            key_spec: self.spec,
            encryption_algorithms: algorithms.encryption,
            signing_algorithms: algorithms.signing,
            mac_algorithms: algorithms.mac,
            key_agreement_algorithms: algorithms.key_agreement,
            multi_region: self.is_multi_region(),
            multi_region_configuration: self.multi_region.as_ref().map(|set| {
                let member = |region: &str| MultiRegionKey {
                    arn: Scope::new(self.scope.account.clone(), region).key_arn(&self.id),
                    region: region.to_owned(),
                };
                MultiRegionConfiguration {
                    multi_region_key_type: if self.is_replica() {
                        MultiRegionKeyType::Replica
                    } else {
                        MultiRegionKeyType::Primary
                    },
                    primary_key: member(&set.primary),
                    replica_keys: set.replicas.iter().map(|r| member(r)).collect(),
                }
            }),
            pending_deletion_window_in_days: self.pending_window_days,
            // AWS reports material ids only for symmetric encryption keys whose material
            // it generated or imported, and not while a replica is being created.
            current_key_material_id: (self.spec == KeySpec::SymmetricDefault
                && matches!(self.origin, Origin::AwsKms | Origin::External)
                && self.state != KeyState::Creating)
                .then(|| self.current_material().map(Material::id_hex))
                .flatten(),
            custom_key_store_id: self.custom_key_store.as_ref().map(|l| l.store_id.as_str()),
            cloud_hsm_cluster_id: self
                .custom_key_store
                .as_ref()
                .and_then(|l| l.cloud_hsm_cluster_id()),
            xks_key_configuration: self
                .custom_key_store
                .as_ref()
                .and_then(|l| l.xks_key_id.as_deref())
                .map(|id| XksKeyConfiguration { id }),
            expiration_model: self.expiration().map(|(model, _)| model),
            valid_to: self.expiration().and_then(|(_, valid_to)| valid_to),
        }
    }

    /// Imported material present: whether it expires, and the earliest ValidTo of the
    /// material that belongs to the key for good (AWS omits both otherwise).
    fn expiration(&self) -> Option<(ExpirationModel, Option<Timestamp>)> {
        if self.origin != Origin::External || !self.has_material() {
            return None;
        }
        let valid_to = self
            .materials
            .iter()
            .filter(|m| m.state != MaterialState::PendingRotation)
            .filter_map(|m| m.valid_to)
            .min();
        Some((ExpirationModel::of(valid_to), valid_to))
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyMetadata<'a> {
    #[serde(rename = "AWSAccountId")]
    aws_account_id: &'a str,
    key_id: &'a str,
    arn: String,
    creation_date: Timestamp,
    enabled: bool,
    description: &'a str,
    key_usage: KeyUsage,
    key_state: KeyState,
    #[serde(skip_serializing_if = "Option::is_none")]
    deletion_date: Option<Timestamp>,
    origin: Origin,
    key_manager: KeyManager,
    #[serde(skip_serializing_if = "Option::is_none")]
    customer_master_key_spec: Option<CustomerMasterKeySpec>,
    key_spec: KeySpec,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    encryption_algorithms: &'static [EncryptionAlgorithm],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    signing_algorithms: &'static [SigningAlgorithm],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    mac_algorithms: &'static [MacAlgorithm],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    key_agreement_algorithms: &'static [KeyAgreementAlgorithm],
    multi_region: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    multi_region_configuration: Option<MultiRegionConfiguration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pending_deletion_window_in_days: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    current_key_material_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    custom_key_store_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cloud_hsm_cluster_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    xks_key_configuration: Option<XksKeyConfiguration<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expiration_model: Option<ExpirationModel>,
    #[serde(skip_serializing_if = "Option::is_none")]
    valid_to: Option<Timestamp>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct XksKeyConfiguration<'a> {
    id: &'a str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct MultiRegionConfiguration {
    multi_region_key_type: MultiRegionKeyType,
    primary_key: MultiRegionKey,
    replica_keys: Vec<MultiRegionKey>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct MultiRegionKey {
    arn: String,
    region: String,
}

#[cfg(test)]
impl Key {
    /// A customer's symmetric key without material, for unit tests.
    pub fn for_test(scope: &Scope, id: &str, state: KeyState) -> Self {
        Self {
            scope: scope.clone(),
            id: id.to_owned(),
            created_at: Timestamp(0),
            description: String::new(),
            state,
            deletion_date: None,
            pending_window_days: None,
            spec: KeySpec::SymmetricDefault,
            usage: KeyUsage::EncryptDecrypt,
            origin: Origin::AwsKms,
            manager: KeyManager::Customer,
            multi_region: None,
            policy: Arc::from(""),
            tags: Vec::new(),
            materials: Vec::new(),
            rotation: None,
            settles: None,
            custom_key_store: None,
        }
    }
}
