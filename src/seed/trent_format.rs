//! trent's seed format:
//!
//! ```yaml
//! keys:
//!   - id: 9b2b5a6e-3d7c-4e39-9d8e-0c1f2a3b4c5d   # a UUID, or mrk-<32 hex> (multi-Region)
//!     region: us-east-1                         # optional: --region
//!     account: "111122223333"                   # optional: --account-id
//!     description: payments
//!     spec: SYMMETRIC_DEFAULT                   # optional: SYMMETRIC_DEFAULT
//!     usage: ENCRYPT_DECRYPT                    # optional where the spec has one usage
//!     enabled: true                             # optional: true
//!     tags: {team: payments}
//!     policy: '{"Version": "2012-10-17", "Statement": [...]}'
//!     aliases: [alias/payments]
//!     material:                                 # symmetric and HMAC keys: hex or base64;
//!       - 0f1e2d...                             # a list is the rotation history, the last
//!       - id: 5c0f...(64 hex)                   # current; an entry may fix its material id
//!         bytes: q83v...
//!   - id: mrk-0123456789abcdef0123456789abcdef
//!     spec: ECC_NIST_P256
//!     usage: SIGN_VERIFY
//!     private_key: |                            # asymmetric keys: PEM (PKCS#8, SEC1, PKCS#1)
//!       -----BEGIN PRIVATE KEY-----
//!       ...
//! ```
//!
//! A key without material gets new random material when it is first loaded.

use std::collections::BTreeMap;

use base64_simd::STANDARD;
use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;

use super::{Seed, SeedAlias, SeedError, SeedKey, history, material, usage_for};
use crate::crypto::{Material, SecretKey};
use crate::model::ids::is_key_id;
use crate::model::{KeyManager, KeySpec, KeyUsage, MaterialState, Scope, Tag};
use crate::store::Snapshot;

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct File<K> {
    keys: Vec<K>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    id: Spanned<String>,
    region: Option<String>,
    account: Option<String>,
    #[serde(default)]
    description: String,
    spec: Option<KeySpec>,
    usage: Option<KeyUsage>,
    enabled: Option<bool>,
    #[serde(default)]
    tags: BTreeMap<String, String>,
    policy: Option<String>,
    #[serde(default)]
    aliases: Vec<String>,
    material: Option<Materials>,
    private_key: Option<String>,
}

/// One material, or a rotation history.
#[derive(Debug, Deserialize, Serialize)]
#[serde(untagged)]
enum Materials {
    One(MaterialEntry),
    History(Vec<MaterialEntry>),
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(untagged)]
enum MaterialEntry {
    Bytes(String),
    WithId { id: String, bytes: String },
}

pub(super) fn parse(text: &str, default: &Scope) -> Result<Seed, SeedError> {
    let file: File<Entry> = serde_saphyr::from_str(text).map_err(SeedError::syntax)?;
    let mut seed = Seed::default();
    for entry in file.keys {
        let line = entry.id.referenced.line();
        let id = entry.id.value.clone();
        let scope = Scope::new(
            entry
                .account
                .clone()
                .unwrap_or_else(|| default.account.to_string()),
            entry
                .region
                .clone()
                .unwrap_or_else(|| default.region.to_string()),
        );
        for name in &entry.aliases {
            seed.aliases.push(SeedAlias {
                scope: scope.clone(),
                name: name.clone(),
                target_key_id: id.clone(),
            });
        }
        let key = key(entry, scope).map_err(|why| SeedError::at(line, &id, why))?;
        seed.keys.push(key);
    }
    Ok(seed)
}

fn key(entry: Entry, scope: Scope) -> Result<SeedKey, String> {
    let id = entry.id.value;
    if !is_key_id(&id) {
        return Err("the id must be a UUID or mrk- and 32 hex digits".into());
    }
    if scope.account.len() != 12 || !scope.account.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("account {:?} is not 12 digits", scope.account));
    }
    let spec = entry.spec.unwrap_or(KeySpec::SymmetricDefault);
    let usage = usage_for(spec, entry.usage)?;
    if !spec.offered_in(&scope) {
        return Err(format!("KeySpec {spec} exists only in the China Regions"));
    }
    if let Some(policy) = &entry.policy {
        crate::model::key_policy::check_document(policy).map_err(|e| e.message)?;
    }
    let materials = match (spec.is_asymmetric(), entry.material, entry.private_key) {
        (false, Some(_), Some(_)) | (true, Some(_), _) => {
            return Err(format!(
                "a {spec} key takes {}",
                if spec.is_asymmetric() {
                    "a private_key"
                } else {
                    "material"
                }
            ));
        }
        (false, None, Some(_)) => {
            return Err(format!("a {spec} key takes material, not a private_key"));
        }
        (false, Some(m), None) => {
            let entries = match m {
                Materials::One(e) => vec![e],
                Materials::History(list) => list,
            };
            let decoded = entries
                .into_iter()
                .map(|e| match e {
                    MaterialEntry::Bytes(b) => Ok((None, material::decode_bytes(&b)?)),
                    MaterialEntry::WithId { id, bytes } => Ok((
                        Some(material::parse_material_id(&id)?),
                        material::decode_bytes(&bytes)?,
                    )),
                })
                .collect::<Result<Vec<_>, String>>()?;
            history(&id, spec, decoded)?
        }
        (true, None, Some(pem)) => {
            let (_, pkcs8) = material::pkcs8_from_pem(&pem)?;
            let key = material::private_key(spec, &pkcs8)?;
            vec![Material::from_parts(
                material::material_id(&id, &pkcs8),
                crate::clock::Timestamp(0),
                MaterialState::Current,
                Some(key),
            )]
        }
        (_, None, None) => Vec::new(),
    };
    let tags = entry
        .tags
        .into_iter()
        .map(|(tag_key, tag_value)| Tag { tag_key, tag_value })
        .collect();
    Ok(SeedKey {
        scope,
        id,
        description: entry.description,
        spec,
        usage,
        enabled: entry.enabled.unwrap_or(true),
        tags,
        policy: entry.policy,
        materials,
    })
}

/// A key as the export writes it.
#[derive(Debug, Serialize)]
struct Exported {
    id: String,
    region: String,
    account: String,
    description: String,
    spec: KeySpec,
    usage: KeyUsage,
    enabled: bool,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    tags: BTreeMap<String, String>,
    policy: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    aliases: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    material: Option<Materials>,
    #[serde(skip_serializing_if = "Option::is_none")]
    private_key: Option<String>,
}

/// Every key (enabled or disabled; keys pending deletion or import are left out) and
/// alias, in this format, so that a hand-built setup can be frozen into a fixture. The
/// material ids go with the material, so existing ciphertexts decrypt after a reload.
pub fn export(partitions: &[Snapshot]) -> String {
    let mut out = Vec::new();
    for Snapshot {
        scope,
        keys,
        aliases,
    } in partitions
    {
        for key in keys.iter().filter(|k| k.manager == KeyManager::Customer) {
            let enabled = match key.state {
                crate::model::KeyState::Enabled => true,
                crate::model::KeyState::Disabled => false,
                _ => continue,
            };
            // Material waiting for an on-demand rotation is not yet the key's.
            let mut history: Vec<&Material> = key
                .materials
                .iter()
                .filter(|m| m.key().is_some() && m.state != MaterialState::PendingRotation)
                .collect();
            // The current material goes last.
            history.sort_by_key(|m| m.state == MaterialState::Current);
            let (material, private_key) = if key.spec.is_asymmetric() {
                let pem = history.last().and_then(|m| m.key()).map(|k| {
                    pem_rfc7468::encode_string(
                        "PRIVATE KEY",
                        pem_rfc7468::LineEnding::LF,
                        k.to_storage().expose(),
                    )
                    .unwrap_or_default()
                });
                (None, pem)
            } else {
                let entries = history
                    .iter()
                    .filter_map(|m| {
                        m.key().map(|k: &SecretKey| MaterialEntry::WithId {
                            id: m.id_hex(),
                            bytes: STANDARD.encode_to_string(k.to_storage().expose()),
                        })
                    })
                    .collect();
                (Some(Materials::History(entries)), None)
            };
            out.push(Exported {
                id: key.id.clone(),
                region: scope.region.to_string(),
                account: scope.account.to_string(),
                description: key.description.clone(),
                spec: key.spec,
                usage: key.usage,
                enabled,
                tags: key
                    .tags
                    .iter()
                    .map(|t| (t.tag_key.clone(), t.tag_value.clone()))
                    .collect(),
                policy: key.policy.to_string(),
                aliases: aliases
                    .iter()
                    .filter(|a| a.target_key_id == key.id)
                    .map(|a| a.name.clone())
                    .collect(),
                material,
                private_key,
            });
        }
    }
    let header = "# A trent seed: load it with --seed (TRENT_SEED). It holds key material.\n";
    match serde_saphyr::to_string(&File { keys: out }) {
        Ok(yaml) => format!("{header}{yaml}"),
        Err(e) => format!("{header}# export failed: {e}\n"),
    }
}
