//! nsmithuk/local-kms's seed format, so its users switch by changing the image name:
//!
//! ```yaml
//! Keys:
//!   Symmetric:
//!     Aes:
//!       - Metadata:
//!           KeyId: bc436485-5092-42b8-92a3-0aa8b93536dc
//!         BackingKeys:                # hex; the last one is current
//!           - 5cdaead27fe7da2de47945d73cd6d79e36494e73802f3cd3869f1d2cb0b5d7a9
//!     Hmac:
//!       - Metadata:
//!           KeyId: ...
//!           KeySpec: HMAC_256
//!         BackingKeys: [...]
//!   Asymmetric:
//!     Rsa:                            # and Ecc: the key spec follows from the key
//!       - Metadata:
//!           KeyId: ...
//!           KeyUsage: SIGN_VERIFY
//!           Description: ...
//!         PrivateKeyPem: |
//!           -----BEGIN RSA PRIVATE KEY-----
//! Aliases:
//!   - AliasName: alias/testing
//!     TargetKeyId: bc436485-5092-42b8-92a3-0aa8b93536dc
//! ```

use serde::Deserialize;
use serde_saphyr::Spanned;

use super::{Seed, SeedAlias, SeedError, SeedKey, history, material, usage_for};
use crate::crypto::Material;
use crate::model::ids::is_key_id;
use crate::model::{KeySpec, KeyUsage, MaterialState, Scope, Tag};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct File {
    #[serde(default)]
    keys: Keys,
    #[serde(default)]
    aliases: Vec<AliasEntry>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Keys {
    #[serde(default)]
    symmetric: Symmetric,
    #[serde(default)]
    asymmetric: Asymmetric,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Symmetric {
    #[serde(default)]
    aes: Vec<SymmetricKey>,
    #[serde(default)]
    hmac: Vec<SymmetricKey>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Asymmetric {
    #[serde(default)]
    rsa: Vec<AsymmetricKey>,
    #[serde(default)]
    ecc: Vec<AsymmetricKey>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Metadata {
    key_id: Spanned<String>,
    key_usage: Option<KeyUsage>,
    key_spec: Option<KeySpec>,
    #[serde(default)]
    description: String,
    enabled: Option<bool>,
    #[serde(default)]
    tags: Vec<TagEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TagEntry {
    tag_key: String,
    tag_value: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SymmetricKey {
    metadata: Metadata,
    backing_keys: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AsymmetricKey {
    metadata: Metadata,
    private_key_pem: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AliasEntry {
    alias_name: String,
    target_key_id: String,
}

pub(super) fn parse(text: &str, scope: &Scope) -> Result<Seed, SeedError> {
    let file: File = serde_saphyr::from_str(text).map_err(SeedError::syntax)?;
    let mut seed = Seed::default();
    let symmetric = file
        .keys
        .symmetric
        .aes
        .into_iter()
        .map(|k| (KeySpec::SymmetricDefault, k))
        .chain(file.keys.symmetric.hmac.into_iter().map(|k| {
            let spec = k.metadata.key_spec.unwrap_or(KeySpec::Hmac256);
            (spec, k)
        }));
    for (spec, entry) in symmetric {
        let (line, id) = (
            entry.metadata.key_id.referenced.line(),
            entry.metadata.key_id.value.clone(),
        );
        let key = symmetric_key(spec, entry, scope).map_err(|why| SeedError::at(line, &id, why))?;
        seed.keys.push(key);
    }
    for entry in file
        .keys
        .asymmetric
        .rsa
        .into_iter()
        .chain(file.keys.asymmetric.ecc)
    {
        let (line, id) = (
            entry.metadata.key_id.referenced.line(),
            entry.metadata.key_id.value.clone(),
        );
        let key = asymmetric_key(entry, scope).map_err(|why| SeedError::at(line, &id, why))?;
        seed.keys.push(key);
    }
    for alias in file.aliases {
        seed.aliases.push(SeedAlias {
            scope: scope.clone(),
            name: alias.alias_name,
            target_key_id: alias.target_key_id,
        });
    }
    Ok(seed)
}

fn seed_key(
    metadata: Metadata,
    spec: KeySpec,
    scope: &Scope,
    materials: Vec<Material>,
) -> Result<SeedKey, String> {
    let id = metadata.key_id.value;
    if !is_key_id(&id) {
        return Err("KeyId must be a UUID or mrk- and 32 hex digits".into());
    }
    Ok(SeedKey {
        scope: scope.clone(),
        usage: usage_for(spec, metadata.key_usage)?,
        id,
        description: metadata.description,
        spec,
        enabled: metadata.enabled.unwrap_or(true),
        tags: metadata
            .tags
            .into_iter()
            .map(|t| Tag {
                tag_key: t.tag_key,
                tag_value: t.tag_value,
            })
            .collect(),
        policy: None,
        materials,
    })
}

fn symmetric_key(spec: KeySpec, entry: SymmetricKey, scope: &Scope) -> Result<SeedKey, String> {
    let id = entry.metadata.key_id.value.clone();
    let decoded = entry
        .backing_keys
        .iter()
        .map(|b| material::decode_bytes(b).map(|bytes| (None, bytes)))
        .collect::<Result<Vec<_>, String>>()?;
    if decoded.is_empty() {
        return Err("BackingKeys is empty".into());
    }
    let materials = history(&id, spec, decoded)?;
    seed_key(entry.metadata, spec, scope, materials)
}

fn asymmetric_key(entry: AsymmetricKey, scope: &Scope) -> Result<SeedKey, String> {
    let id = entry.metadata.key_id.value.clone();
    let (_, pkcs8) = material::pkcs8_from_pem(&entry.private_key_pem)?;
    let spec = match entry.metadata.key_spec {
        Some(spec) => spec,
        None => material::spec_of(&pkcs8).ok_or("PrivateKeyPem is not a key AWS KMS offers")?,
    };
    let key = material::private_key(spec, &pkcs8)?;
    let materials = vec![Material::from_parts(
        material::material_id(&id, &pkcs8),
        crate::clock::Timestamp(0),
        MaterialState::Current,
        Some(key),
    )];
    seed_key(entry.metadata, spec, scope, materials)
}
