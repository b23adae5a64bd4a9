//! Seed files: keys with fixed ids, specs and material, and their aliases, declared in
//! YAML and loaded at start (`--seed`), so that ciphertexts committed as test fixtures
//! decrypt on every machine that loads the same seed.
//!
//! Two formats are read: trent's own ([`trent_format`], also what `GET /_trent/seed`
//! writes) and nsmithuk/local-kms's (`local_kms`). A file is checked whole before
//! anything of it is loaded; a broken entry is reported with its line and key id.
//! Loading is idempotent: keys and aliases that already exist are left as they are.

mod local_kms;
pub(crate) mod material;
pub mod trent_format;

use std::path::Path;

use crate::crypto::Material;
use crate::error::Result;
use crate::model::{
    Key, KeyManager, KeySpec, KeyState, KeyUsage, MaterialState, Origin, Scope, Tag,
};
use crate::service::{NewKey, Service};
use crate::store::Alias;

/// A checked seed, ready to load.
#[derive(Debug, Default)]
pub struct Seed {
    pub keys: Vec<SeedKey>,
    pub aliases: Vec<SeedAlias>,
}

/// One key of a seed. `materials` is its history, oldest first, the last one current;
/// empty for a key whose material trent generates when it loads.
#[derive(Debug)]
pub struct SeedKey {
    pub scope: Scope,
    pub id: String,
    pub description: String,
    pub spec: KeySpec,
    pub usage: KeyUsage,
    pub enabled: bool,
    pub tags: Vec<Tag>,
    pub policy: Option<String>,
    pub materials: Vec<Material>,
}

#[derive(Debug)]
pub struct SeedAlias {
    pub scope: Scope,
    pub name: String,
    pub target_key_id: String,
}

/// What is wrong with a seed file, and where.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SeedError(pub String);

impl SeedError {
    /// A YAML or shape error: its first line, with the position, and not the snippet of
    /// the file the parser adds (it may quote key material).
    fn syntax(e: serde_saphyr::Error) -> Self {
        let text = e.to_string();
        Self(
            text.lines()
                .next()
                .unwrap_or_default()
                .trim_start_matches("error: ")
                .to_owned(),
        )
    }

    fn at(line: u64, key_id: &str, why: impl std::fmt::Display) -> Self {
        Self(format!("line {line}, key {key_id}: {why}"))
    }
}

impl Seed {
    /// Reads and checks a seed file; `default` is the account and region of entries that
    /// name none.
    pub fn read(path: &Path, default: &Scope) -> Result<Self, SeedError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| SeedError(format!("cannot read {}: {e}", path.display())))?;
        Self::parse(&text, default).map_err(|e| SeedError(format!("{}: {e}", path.display())))
    }

    /// Checks a seed in either format: local-kms's has the top-level `Keys:` / `Aliases:`.
    pub fn parse(text: &str, default: &Scope) -> Result<Self, SeedError> {
        let local_kms = text
            .lines()
            .any(|l| l.starts_with("Keys:") || l.starts_with("Aliases:"));
        let seed = if local_kms {
            local_kms::parse(text, default)?
        } else {
            trent_format::parse(text, default)?
        };
        seed.check_whole()?;
        Ok(seed)
    }

    /// What no single entry shows: every key is declared once, and every alias is a
    /// customer alias name that names a key of the seed.
    fn check_whole(&self) -> Result<(), SeedError> {
        for (i, key) in self.keys.iter().enumerate() {
            if self.keys[..i]
                .iter()
                .any(|k| k.id == key.id && k.scope == key.scope)
            {
                return Err(SeedError(format!("key {}: declared twice", key.id)));
            }
        }
        for alias in &self.aliases {
            if !self
                .keys
                .iter()
                .any(|k| k.id == alias.target_key_id && k.scope == alias.scope)
            {
                return Err(SeedError(format!(
                    "alias {}: its key {} is not in the seed",
                    alias.name, alias.target_key_id
                )));
            }
            if !crate::model::ids::is_alias_name(&alias.name)
                || crate::model::ids::is_aws_managed_alias(&alias.name)
            {
                return Err(SeedError(format!(
                    "alias {}: not a customer alias name (alias/<name>, not alias/aws/...)",
                    alias.name
                )));
            }
        }
        Ok(())
    }

    /// `3 keys, 2 aliases`.
    pub fn summary(&self) -> String {
        format!("{} keys, {} aliases", self.keys.len(), self.aliases.len())
    }

    /// Loads the seed: keys and aliases that do not exist yet are created, all in one
    /// transaction; existing ones are left alone, so loading the same seed at every
    /// start changes nothing.
    pub async fn apply(&self, svc: &Service) -> Result<usize> {
        // Keys are built before the writer is taken: an RSA key may take a while.
        let mut built = Vec::new();
        for entry in &self.keys {
            if svc.store.key(&entry.scope, &entry.id).is_none() {
                built.push((entry, entry.build(svc).await));
            }
        }
        let mut txn = svc.store.begin().await?;
        let mut created = 0;
        for (entry, key) in built {
            // A request may have made it meanwhile (a reset runs beside requests).
            if txn.key(&entry.scope, &entry.id).is_none() {
                txn.save_key(key);
                created += 1;
            }
        }
        let now = svc.now();
        for alias in &self.aliases {
            if txn.alias(&alias.scope, &alias.name).is_none() {
                txn.save_alias(
                    &alias.scope,
                    Alias {
                        name: alias.name.clone(),
                        target_key_id: alias.target_key_id.clone(),
                        created_at: now,
                        updated_at: now,
                    },
                );
            }
        }
        txn.commit().await?;
        if created > 0 {
            tracing::info!(keys = created, "loaded keys from the seed");
        }
        Ok(created)
    }
}

impl SeedKey {
    async fn build(&self, svc: &Service) -> Key {
        let mut key = svc
            .build_key(
                &self.scope,
                NewKey {
                    description: self.description.clone(),
                    spec: self.spec,
                    usage: self.usage,
                    origin: Origin::AwsKms,
                    manager: KeyManager::Customer,
                    multi_region: self.id.starts_with("mrk-"),
                    policy: self.policy.clone(),
                    tags: self.tags.clone(),
                    id: Some(self.id.clone()),
                    materials: self.materials.clone(),
                    custom_key_store: None,
                },
            )
            .await;
        if !self.enabled {
            key.state = KeyState::Disabled;
        }
        key
    }
}

/// The usage a seed entry names, or the one its spec allows when there is only one.
fn usage_for(spec: KeySpec, usage: Option<KeyUsage>) -> Result<KeyUsage, String> {
    match usage {
        Some(u) if spec.usages().contains(&u) => Ok(u),
        Some(u) => Err(format!(
            "KeyUsage {u} is not compatible with KeySpec {spec}"
        )),
        None => match spec.usages() {
            [only] => Ok(*only),
            _ => Err(format!("a {spec} key needs a usage")),
        },
    }
}

/// Material history from decoded entries: ids as given or derived, the last current.
fn history(
    key_id: &str,
    spec: KeySpec,
    entries: Vec<(Option<[u8; 32]>, crate::crypto::Secret)>,
) -> Result<Vec<Material>, String> {
    let last = entries.len().saturating_sub(1);
    entries
        .into_iter()
        .enumerate()
        .map(|(i, (id, bytes))| {
            let key = material::symmetric_key(spec, &bytes)?;
            let id = id.unwrap_or_else(|| material::material_id(key_id, &bytes));
            let state = if i == last {
                MaterialState::Current
            } else {
                MaterialState::NonCurrent
            };
            Ok(Material::from_parts(
                id,
                crate::clock::Timestamp(0),
                state,
                Some(key),
            ))
        })
        .collect()
}
