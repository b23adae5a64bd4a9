//! A key as its row stores it. The row's columns are the key's identity (account,
//! region, id) and its policy (most keys share one document, which start-up compares
//! rather than parses); everything else, metadata, material history and tags, is one
//! document in `record`: written as JSON text, stored by SQLite as JSONB, read back here
//! with [`jsonb`](super::jsonb). Start-up reads a key in one row of five columns; as
//! columns of their own (21 for a key, 13 for each material entry) it spent most of its
//! time in SQLite handing over values nearly all NULL or the same.
//!
//! Members are written only when they say something (no nulls, empty lists or empty
//! description); unknown members are ignored. Migration `0009_key_records.sql` writes the
//! same document in SQL: the two must agree.

use std::sync::Arc;

use serde::{Serialize, Serializer};
use zeroize::Zeroizing;

use super::jsonb::Element;
use crate::BoxError;
use crate::clock::Timestamp;
use crate::crypto::json_out::to_json;
use crate::crypto::secret::Wiped;
use crate::crypto::{Material, Secret, SecretKey, hex, hex_into, unhex_into};
use crate::model::custom_key_store::StoreLink;
use crate::model::enums::RotationType;
use crate::model::key::AutoRotation;
use crate::model::multi_region::MultiRegion;
use crate::model::{Key, KeyManager, KeySpec, KeyState, KeyUsage, MaterialState, Origin};
use crate::model::{Scope, Tag};

/// What a key's row holds outside its document.
pub struct Identity {
    pub scope: Scope,
    pub id: String,
    pub policy: Arc<str>,
}

/// The document of `key` as JSON text, in a buffer wiped when dropped: it holds key
/// material.
pub fn to_text(key: &Key) -> serde_json::Result<Wiped> {
    to_json(&Record::of(key))
}

#[derive(Serialize)]
struct Record<'a> {
    created_at: i64,
    #[serde(skip_serializing_if = "str::is_empty")]
    description: &'a str,
    state: KeyState,
    #[serde(skip_serializing_if = "Option::is_none")]
    deletion_date: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pending_window_days: Option<u32>,
    spec: KeySpec,
    usage: KeyUsage,
    origin: Origin,
    manager: KeyManager,
    #[serde(skip_serializing_if = "Option::is_none")]
    multi_region: Option<MultiRegionRecord<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    custom_key_store: Option<StoreRecord<'a>>,
    /// While Creating or Updating: when the key settles, and in which state.
    #[serde(skip_serializing_if = "Option::is_none")]
    settles: Option<Settles>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rotation: Option<Rotation>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    materials: Vec<MaterialRecord<'a>>,
    /// Key and value, in the order the tags were first added.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<(&'a str, &'a str)>,
}

#[derive(Serialize)]
struct MultiRegionRecord<'a> {
    primary: &'a str,
    /// In the order they were made.
    replicas: &'a [String],
}

#[derive(Serialize)]
struct StoreRecord<'a> {
    id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    xks_key_id: Option<&'a str>,
}

#[derive(Serialize)]
struct Settles {
    at: i64,
    to: KeyState,
}

#[derive(Serialize)]
struct Rotation {
    period_days: u32,
    next: i64,
}

#[derive(Serialize)]
struct MaterialRecord<'a> {
    #[serde(serialize_with = "hex32")]
    id: [u8; 32],
    created_at: i64,
    state: MaterialState,
    /// The key in its stored encoding (see `SecretKey::to_storage`), hex; absent once its
    /// bytes were removed.
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<HexSecret>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rotated: Option<Rotated>,
    #[serde(skip_serializing_if = "Option::is_none")]
    valid_to: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
}

/// When and how a material entry became current by a rotation.
#[derive(Serialize)]
struct Rotated {
    at: i64,
    #[serde(rename = "type")]
    kind: RotationType,
}

impl<'a> Record<'a> {
    fn of(key: &'a Key) -> Self {
        Self {
            created_at: key.created_at.millis(),
            description: &key.description,
            state: key.state,
            deletion_date: key.deletion_date.map(Timestamp::millis),
            pending_window_days: key.pending_window_days,
            spec: key.spec,
            usage: key.usage,
            origin: key.origin,
            manager: key.manager,
            multi_region: key.multi_region.as_ref().map(|m| MultiRegionRecord {
                primary: &m.primary,
                replicas: &m.replicas,
            }),
            custom_key_store: key.custom_key_store.as_ref().map(|link| StoreRecord {
                id: &link.store_id,
                xks_key_id: link.xks_key_id.as_deref(),
            }),
            settles: key.settles.map(|(at, to)| Settles {
                at: at.millis(),
                to,
            }),
            rotation: key.rotation.map(|r| Rotation {
                period_days: r.period_days,
                next: r.next.millis(),
            }),
            materials: key
                .materials
                .iter()
                .map(|m| MaterialRecord {
                    id: m.id,
                    created_at: m.created_at.millis(),
                    state: m.state,
                    key: m.key().map(|k| HexSecret(k.to_storage())),
                    rotated: m.rotated.map(|(at, kind)| Rotated {
                        at: at.millis(),
                        kind,
                    }),
                    valid_to: m.valid_to.map(Timestamp::millis),
                    description: m.description.as_deref(),
                })
                .collect(),
            tags: key
                .tags
                .iter()
                .map(|t| (t.tag_key.as_str(), t.tag_value.as_str()))
                .collect(),
        }
    }
}

/// Key material as lowercase hex, spelled out in a buffer that is wiped.
struct HexSecret(Secret);

impl Serialize for HexSecret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut text = Wiped::with_capacity(self.0.len() * 2);
        hex_into(self.0.expose(), &mut text);
        s.serialize_str(std::str::from_utf8(&text).expect("hex digits are ASCII"))
    }
}

fn hex32<S: Serializer>(id: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&hex(id))
}

/// The key a stored document describes, with its identity and policy from the row's own
/// columns. Material is parsed here, once, so that no request parses it again.
pub fn from_jsonb(bytes: &[u8], identity: Identity) -> Result<Key, BoxError> {
    // The members every document has.
    let (mut created_at, mut state, mut spec, mut usage, mut origin, mut manager) =
        (None, None, None, None, None, None);
    let (mut description, mut deletion_date, mut pending_window_days) = (None, None, None);
    let (mut multi_region, mut custom_key_store, mut settles, mut rotation) =
        (None, None, None, None);
    // Material is read once the key spec is known.
    let (mut materials, mut tags) = (None, Vec::new());
    for member in Element::document(bytes)?.members()? {
        let (label, value) = member?;
        match label {
            b"created_at" => created_at = Some(Timestamp(value.int()?)),
            b"description" => description = Some(value.string()?.into_owned()),
            b"state" => state = Some(name(value, KeyState::parse_bytes)?),
            b"deletion_date" => deletion_date = Some(Timestamp(value.int()?)),
            b"pending_window_days" => pending_window_days = Some(value.int()?.try_into()?),
            b"spec" => spec = Some(name(value, KeySpec::parse_bytes)?),
            b"usage" => usage = Some(name(value, KeyUsage::parse_bytes)?),
            b"origin" => origin = Some(name(value, Origin::parse_bytes)?),
            b"manager" => manager = Some(name(value, KeyManager::parse_bytes)?),
            b"multi_region" => multi_region = Some(Box::new(read_multi_region(value)?)),
            b"custom_key_store" => custom_key_store = Some(Box::new(store_link(value)?)),
            b"settles" => settles = Some(dated(value, b"to", KeyState::parse_bytes)?),
            b"rotation" => {
                let (mut period_days, mut next) = (None, None);
                for member in value.members()? {
                    match member? {
                        (b"period_days", v) => period_days = Some(v.int()?.try_into()?),
                        (b"next", v) => next = Some(Timestamp(v.int()?)),
                        _ => {}
                    }
                }
                let (period_days, next) = period_days
                    .zip(next)
                    .ok_or("rotation without period or next")?;
                rotation = Some(AutoRotation { period_days, next });
            }
            b"materials" => materials = Some(value),
            b"tags" => {
                for tag in value.items()? {
                    let mut pair = tag?.items()?;
                    let mut next = || -> Result<String, BoxError> {
                        Ok(pair
                            .next()
                            .ok_or("a tag without its value")??
                            .string()?
                            .into_owned())
                    };
                    let (tag_key, tag_value) = (next()?, next()?);
                    tags.push(Tag { tag_key, tag_value });
                }
            }
            _ => {}
        }
    }
    let spec = spec.ok_or("a key record without its spec")?;
    let materials = match materials {
        Some(list) => {
            // Exactly as many as there are: most keys have one.
            let mut read = Vec::with_capacity(list.items()?.count());
            for entry in list.items()? {
                read.push(material(entry?, spec)?);
            }
            read
        }
        None => Vec::new(),
    };
    Ok(Key {
        scope: identity.scope,
        id: identity.id,
        policy: identity.policy,
        created_at: created_at.ok_or("a key record without its created_at")?,
        description: description.unwrap_or_default(),
        state: state.ok_or("a key record without its state")?,
        deletion_date,
        pending_window_days,
        spec,
        usage: usage.ok_or("a key record without its usage")?,
        origin: origin.ok_or("a key record without its origin")?,
        manager: manager.ok_or("a key record without its manager")?,
        multi_region,
        tags,
        materials,
        rotation,
        settles,
        custom_key_store,
    })
}

/// `{"at": <ms>, <label>: <name>}`: when something happened or happens, and what.
fn dated<T>(
    value: Element,
    label: &[u8],
    parse: fn(&[u8]) -> Option<T>,
) -> Result<(Timestamp, T), BoxError> {
    let (mut at, mut what) = (None, None);
    for member in value.members()? {
        match member? {
            (b"at", v) => at = Some(Timestamp(v.int()?)),
            (l, v) if l == label => what = Some(name(v, parse)?),
            _ => {}
        }
    }
    at.zip(what)
        .ok_or_else(|| format!("a member without at or {}", label.escape_ascii()).into())
}

/// An enumeration's value from its name.
fn name<T>(value: Element, parse: fn(&[u8]) -> Option<T>) -> Result<T, BoxError> {
    let text = value.raw()?;
    parse(text).ok_or_else(|| format!("unknown stored value {:?}", text.escape_ascii()).into())
}

fn read_multi_region(value: Element) -> Result<MultiRegion, BoxError> {
    let (mut primary, mut replicas) = (None, Vec::new());
    for member in value.members()? {
        match member? {
            (b"primary", v) => primary = Some(v.string()?.into_owned()),
            (b"replicas", v) => {
                for replica in v.items()? {
                    replicas.push(replica?.string()?.into_owned());
                }
            }
            _ => {}
        }
    }
    let primary = primary.ok_or("multi_region without its primary")?;
    Ok(MultiRegion { primary, replicas })
}

/// Tied to its store's connection when the stores are loaded.
fn store_link(value: Element) -> Result<StoreLink, BoxError> {
    let (mut store_id, mut xks_key_id) = (None, None);
    for member in value.members()? {
        match member? {
            (b"id", v) => store_id = Some(v.string()?.into_owned()),
            (b"xks_key_id", v) => xks_key_id = Some(v.string()?.into_owned()),
            _ => {}
        }
    }
    Ok(StoreLink {
        store_id: store_id.ok_or("custom_key_store without its id")?,
        xks_key_id,
        shared: Default::default(),
    })
}

fn material(value: Element, spec: KeySpec) -> Result<Material, BoxError> {
    let (mut id, mut created_at, mut state, mut key) = (None, None, None, None);
    let (mut rotated, mut valid_to, mut description) = (None, None, None);
    for member in value.members()? {
        match member? {
            (b"id", v) => {
                let mut bytes = [0; 32];
                unhex_into(v.raw()?, &mut bytes).ok_or("a material id is not 64 hex digits")?;
                id = Some(bytes);
            }
            (b"created_at", v) => created_at = Some(Timestamp(v.int()?)),
            (b"state", v) => state = Some(name(v, MaterialState::parse_bytes)?),
            (b"key", v) => {
                // Symmetric and HMAC keys (most) are decoded on the stack, private keys in a
                // buffer of their size; both are wiped.
                let text = v.raw()?;
                let mut small = Zeroizing::new([0; 64]);
                let mut large;
                let bytes = match small.get_mut(..text.len() / 2) {
                    Some(bytes) => bytes,
                    None => {
                        large = Secret::zeroed(text.len() / 2);
                        large.expose_mut()
                    }
                };
                unhex_into(text, bytes).ok_or("stored key material is not hex")?;
                key = Some(SecretKey::from_storage(spec, bytes)?);
            }
            (b"rotated", v) => rotated = Some(dated(v, b"type", RotationType::parse_bytes)?),
            (b"valid_to", v) => valid_to = Some(Timestamp(v.int()?)),
            (b"description", v) => description = Some(v.string()?.into_owned()),
            _ => {}
        }
    }
    let (Some(id), Some(created_at), Some(state)) = (id, created_at, state) else {
        return Err("a material entry without its id, created_at or state".into());
    };
    let mut material = Material::from_parts(id, created_at, state, key);
    material.rotated = rotated;
    material.valid_to = valid_to;
    material.description = description;
    Ok(material)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A key with every member its document can hold.
    fn full_key() -> Key {
        let aes = |byte| SecretKey::from_storage(KeySpec::SymmetricDefault, &[byte; 32]).unwrap();
        let mut first =
            Material::from_parts([1; 32], Timestamp(1_000), MaterialState::NonCurrent, None);
        first.valid_to = Some(Timestamp(9_000));
        first.description = Some("imported \"first\" é".into());
        let mut second = Material::from_parts(
            [2; 32],
            Timestamp(2_000),
            MaterialState::Current,
            Some(aes(7)),
        );
        second.rotated = Some((Timestamp(2_500), RotationType::OnDemand));
        Key {
            scope: Scope::new("111122223333", "eu-west-1"),
            id: "mrk-1234".into(),
            policy: Arc::from("{}"),
            created_at: Timestamp(1_764_489_600_123),
            description: "a \"quoted\" \\ description é 🙂\nwith a newline".into(),
            state: KeyState::PendingDeletion,
            deletion_date: Some(Timestamp(1_765_000_000_000)),
            pending_window_days: Some(7),
            spec: KeySpec::SymmetricDefault,
            usage: KeyUsage::EncryptDecrypt,
            origin: Origin::External,
            manager: KeyManager::Customer,
            multi_region: Some(Box::new(MultiRegion {
                primary: "us-east-1".into(),
                replicas: vec!["eu-west-1".into(), "ap-south-1".into()],
            })),
            tags: vec![
                Tag {
                    tag_key: "b".into(),
                    tag_value: "two \"2\"".into(),
                },
                Tag {
                    tag_key: "a".into(),
                    tag_value: String::new(),
                },
            ],
            materials: vec![first, second],
            rotation: Some(AutoRotation {
                period_days: 400,
                next: Timestamp(3_000),
            }),
            settles: Some((Timestamp(4_000), KeyState::Disabled)),
            custom_key_store: Some(Box::new(StoreLink {
                store_id: "cks-1".into(),
                xks_key_id: Some("xks-key".into()),
                shared: Default::default(),
            })),
        }
    }

    /// A key written as trent writes it and stored as SQLite stores it reads back whole:
    /// its document written again is the same, member for member.
    #[tokio::test]
    async fn a_key_reads_back_as_it_was_written() {
        let pool = sqlx::SqlitePool::connect("sqlite::memory:").await.unwrap();
        let key = full_key();
        let text = to_text(&key).unwrap();
        let stored: Vec<u8> = sqlx::query_scalar("SELECT jsonb(?)")
            .bind(std::str::from_utf8(&text).unwrap())
            .fetch_one(&pool)
            .await
            .unwrap();
        let identity = Identity {
            scope: key.scope.clone(),
            id: key.id.clone(),
            policy: key.policy.clone(),
        };
        let read = from_jsonb(&stored, identity).unwrap();
        assert_eq!(*to_text(&read).unwrap(), *text);
        assert_eq!(read.description, key.description);
        assert_eq!(read.tags, key.tags);
        assert_eq!(
            read.materials[1].aes().map(|k| k.bytes().expose().to_vec()),
            Some(vec![7; 32])
        );
        assert!(read.materials[0].key().is_none());
        // Nothing is written that says nothing.
        let minimal = Key {
            description: String::new(),
            deletion_date: None,
            pending_window_days: None,
            multi_region: None,
            tags: Vec::new(),
            materials: Vec::new(),
            rotation: None,
            settles: None,
            custom_key_store: None,
            ..full_key()
        };
        assert_eq!(
            std::str::from_utf8(&to_text(&minimal).unwrap()).unwrap(),
            r#"{"created_at":1764489600123,"state":"PendingDeletion","spec":"SYMMETRIC_DEFAULT","usage":"ENCRYPT_DECRYPT","origin":"EXTERNAL","manager":"CUSTOMER"}"#
        );
    }

    #[test]
    fn a_damaged_record_is_an_error_not_a_panic() {
        let identity = || Identity {
            scope: Scope::new("111122223333", "us-east-1"),
            id: "k".into(),
            policy: Arc::from("{}"),
        };
        // {} (no required members); {"state":"Nope"}; a truncated document.
        for bad in [
            &[0x0c][..],
            &[
                0xcc, 11, 0x57, b's', b't', b'a', b't', b'e', 0x47, b'N', b'o', b'p', b'e',
            ],
            &[0xcc, 20],
        ] {
            assert!(from_jsonb(bad, identity()).is_err(), "{bad:?}");
        }
    }
}
