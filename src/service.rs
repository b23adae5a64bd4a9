//! The service layer's shared state and the lookups every operation needs: resolving a
//! key identifier to a key (creating AWS managed keys on first use, as AWS does) and
//! building new keys.

use std::sync::Arc;

use crate::clock::{Clock, Timestamp};
use crate::config::Config;
use crate::crypto::pool::RsaPool;
use crate::crypto::secret_key::RsaKey;
use crate::crypto::{Material, SecretKey};
use crate::error::{KmsError, Result};
use crate::model::custom_key_store::StoreLink;
use crate::model::ids::is_aws_service_alias;
use crate::model::key::AutoRotation;
use crate::model::multi_region::MultiRegion;
use crate::model::{
    Accepts, Key, KeyManager, KeyRef, KeySpec, KeyState, KeyUsage, MaterialState, Origin, Scope,
    Tag, key_policy,
};
use crate::store::{Alias, Store};

pub struct Service {
    pub config: Config,
    /// The configured account and region, shared by the requests (and so the keys) in it.
    pub default_scope: Scope,
    pub clock: Arc<Clock>,
    pub store: Store,
    pub rsa_pool: Arc<RsaPool>,
    /// The seed file loaded at start, loaded again by a reset.
    pub seed: Option<crate::seed::Seed>,
}

/// What a new key is made of; everything else (id, ARN, dates) is assigned.
#[derive(Debug)]
pub struct NewKey {
    pub description: String,
    pub spec: KeySpec,
    pub usage: KeyUsage,
    pub origin: Origin,
    pub manager: KeyManager,
    pub multi_region: bool,
    /// `None`: AWS's default key policy.
    pub policy: Option<String>,
    pub tags: Vec<Tag>,
    /// A fixed key id (seed files, LocalStack's `_custom_id_` tag); `None`: a new one.
    pub id: Option<String>,
    /// Given material, oldest first, the last current; empty: new random material.
    pub materials: Vec<Material>,
    /// The custom key store that holds the key (its material is still trent's).
    pub custom_key_store: Option<StoreLink>,
}

impl Service {
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Finds the key that `key_id` (key id, key ARN, alias name or alias ARN) names in
    /// `scope`. Must not be called while holding a [`crate::store::Txn`]: an
    /// `alias/aws/...` name may create its AWS managed key.
    pub async fn resolve(self: &Arc<Self>, scope: &Scope, key_id: &str) -> Result<Arc<Key>> {
        match KeyRef::parse(key_id, Accepts::KeyOrAlias)? {
            KeyRef::Key { scope: named, id } => self.key_by_id(scope, named.as_ref(), id),
            KeyRef::Alias { scope: named, name } => {
                if named.as_ref().is_some_and(|s| s != scope) {
                    return Err(alias_not_found(named.as_ref().unwrap_or(scope), name));
                }
                if let Some(alias) = self.store.alias(scope, name) {
                    return self.key_by_id(scope, None, &alias.target_key_id);
                }
                if is_aws_service_alias(name) {
                    // A task of its own: operations that only read run on the request's
                    // task, which a client hanging up would cancel mid-write.
                    let (svc, scope, name) = (self.clone(), scope.clone(), name.to_owned());
                    return on_own_task(async move { svc.aws_managed_key(&scope, &name).await })
                        .await;
                }
                Err(alias_not_found(scope, name))
            }
        }
    }

    /// A key by id; `named` is the scope of an ARN, which must be the request's own. AWS
    /// answers an ARN of another region with `Invalid arn <its region>`.
    fn key_by_id(&self, scope: &Scope, named: Option<&Scope>, id: &str) -> Result<Arc<Key>> {
        let not_found = || key_not_found(&named.unwrap_or(scope).key_arn(id));
        if let Some(named) = named.filter(|s| s.region != scope.region) {
            return Err(KmsError::not_found(format!("Invalid arn {}", named.region)));
        }
        if named.is_some_and(|s| s != scope) {
            return Err(not_found());
        }
        self.store.key(scope, id).ok_or_else(not_found)
    }

    /// Finds the key a key id or key ARN names (operations that refuse aliases). Never
    /// waits, so it may be called inside a write.
    pub fn resolve_key_only(&self, scope: &Scope, key_id: &str) -> Result<Arc<Key>> {
        match KeyRef::parse(key_id, Accepts::KeyOnly)? {
            KeyRef::Key { scope: named, id } => self.key_by_id(scope, named.as_ref(), id),
            KeyRef::Alias { .. } => Err(KmsError::invalid_key_id(key_id)),
        }
    }

    /// A new random key of `spec`; RSA keys come from the pool.
    pub async fn generate_key(&self, spec: KeySpec) -> SecretKey {
        match spec.rsa_bits() {
            Some(bits) => SecretKey::Rsa(Box::new(RsaKey::new(self.rsa_pool.take(bits).await))),
            None => SecretKey::generate(spec),
        }
    }

    pub async fn build_key(&self, scope: &Scope, new: NewKey) -> Key {
        let now = self.now();
        let id = match new.id {
            Some(id) => id,
            None if new.multi_region => format!("mrk-{}", uuid::Uuid::new_v4().simple()),
            None => uuid::Uuid::new_v4().to_string(),
        };
        // Keys with imported material wait for it; all others get theirs now.
        let (state, materials) = match new.origin {
            Origin::External => (KeyState::PendingImport, Vec::new()),
            _ if !new.materials.is_empty() => (
                KeyState::Enabled,
                new.materials
                    .into_iter()
                    .map(|mut m| {
                        m.created_at = now;
                        m
                    })
                    .collect(),
            ),
            _ => (
                KeyState::Enabled,
                vec![Material::new(
                    self.generate_key(new.spec).await,
                    now,
                    MaterialState::Current,
                )],
            ),
        };
        Key {
            policy: new
                .policy
                .unwrap_or_else(|| key_policy::default(scope))
                .into(),
            scope: scope.clone(),
            id,
            created_at: now,
            description: new.description,
            state,
            deletion_date: None,
            pending_window_days: None,
            spec: new.spec,
            usage: new.usage,
            origin: new.origin,
            manager: new.manager,
            multi_region: new
                .multi_region
                .then(|| Box::new(MultiRegion::primary_in(&scope.region))),
            tags: new.tags,
            materials,
            rotation: None,
            settles: None,
            custom_key_store: new.custom_key_store.map(Box::new),
        }
    }

    /// Creates the AWS managed key behind `alias/aws/<service>` on its first use.
    async fn aws_managed_key(&self, scope: &Scope, alias_name: &str) -> Result<Arc<Key>> {
        let mut txn = self.store.begin().await?;
        // Another request may have created it while this one waited for the writer.
        if let Some(key) = txn
            .alias(scope, alias_name)
            .and_then(|alias| txn.key(scope, &alias.target_key_id))
        {
            return Ok(key);
        }
        let service = alias_name.trim_start_matches("alias/aws/");
        let key = self
            .build_key(
                scope,
                NewKey {
                description: format!(
                    "Default key that protects my {service} resources when no other key is defined"
                ),
                spec: KeySpec::SymmetricDefault,
                usage: KeyUsage::EncryptDecrypt,
                origin: Origin::AwsKms,
                manager: KeyManager::Aws,
                multi_region: false,
                policy: Some(aws_managed_policy(scope, service)),
                tags: Vec::new(),
                id: None,
                materials: Vec::new(),
                custom_key_store: None,
            },
            )
            .await;
        // AWS managed keys rotate every year, and that can't be turned off.
        let mut key = key;
        key.rotation = Some(AutoRotation {
            period_days: 365,
            next: key.created_at.plus_days(365),
        });
        // The key and its alias commit together, or neither does.
        let key = txn.save_key(key);
        let now = self.now();
        txn.save_alias(
            scope,
            Alias {
                name: alias_name.to_owned(),
                target_key_id: key.id.clone(),
                created_at: now,
                updated_at: now,
            },
        );
        txn.commit().await?;
        Ok(key)
    }
}

/// Runs `work` as a task of its own, so that a caller dropped midway (its client hung up)
/// cannot cut a write short between its commit and its cache update; a panic in it is
/// an internal error. Spawned at once: the future returned holds only the task's handle,
/// not `work` (which would make every caller's future as large as it).
pub fn on_own_task<T: Send + 'static>(
    work: impl Future<Output = Result<T>> + Send + 'static,
) -> impl Future<Output = Result<T>> {
    let task = tokio::spawn(work);
    async move { task.await.unwrap_or_else(|e| Err(KmsError::internal(e))) }
}

pub fn key_not_found(arn: &str) -> KmsError {
    KmsError::not_found(format!("Key '{arn}' does not exist"))
}

pub fn alias_not_found(scope: &Scope, alias_name: &str) -> KmsError {
    KmsError::not_found(format!(
        "Alias {} is not found.",
        scope.alias_arn(alias_name)
    ))
}

/// An AWS managed key's policy: use only through its service, read by the account.
fn aws_managed_policy(scope: &Scope, service: &str) -> String {
    let (partition, account, region) = (scope.partition(), &scope.account, &scope.region);
    format!(
        r#"{{
  "Version" : "2012-10-17",
  "Id" : "auto-{service}",
  "Statement" : [ {{
    "Sid" : "Allow access through {service} for all principals in the account that are authorized to use {service}",
    "Effect" : "Allow",
    "Principal" : {{
      "AWS" : "*"
    }},
    "Action" : [ "kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:CreateGrant", "kms:DescribeKey" ],
    "Resource" : "*",
    "Condition" : {{
      "StringEquals" : {{
        "kms:CallerAccount" : "{account}",
        "kms:ViaService" : "{service}.{region}.amazonaws.com"
      }}
    }}
  }}, {{
    "Sid" : "Allow direct access to key metadata to the account",
    "Effect" : "Allow",
    "Principal" : {{
      "AWS" : "arn:{partition}:iam::{account}:root"
    }},
    "Action" : [ "kms:Describe*", "kms:Get*", "kms:List*" ],
    "Resource" : "*"
  }} ]
}}"#
    )
}
