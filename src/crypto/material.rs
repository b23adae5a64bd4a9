//! One entry of a key's material history: its id (the 64-hex KeyMaterialId AWS reports),
//! its place in the rotation history, and its key, ready for use. Entries are cheap to
//! clone (the key is shared), so a rotation can change an entry's state without copying
//! or re-parsing its key. An entry may have lost its key (imported material deleted):
//! its id and history stay.

use std::fmt;
use std::sync::Arc;

use super::secret_key::SecretKey;
use super::symmetric::AesKey;
use super::{hex, random_array};
use crate::clock::Timestamp;
use crate::model::MaterialState;
use crate::model::enums::RotationType;

#[derive(Clone)]
pub struct Material {
    pub id: [u8; 32],
    pub created_at: Timestamp,
    pub state: MaterialState,
    /// When and how this entry became current by a rotation; `None` for the first
    /// material and for imported material still pending rotation.
    pub rotated: Option<(Timestamp, RotationType)>,
    /// Imported material only: when its bytes expire (ExpirationModel KEY_MATERIAL_EXPIRES).
    pub valid_to: Option<Timestamp>,
    /// Imported material only: the importer's KeyMaterialDescription.
    pub description: Option<String>,
    key: Option<Arc<SecretKey>>,
    /// DER SubjectPublicKeyInfo, encoded once (GetPublicKey answers from it).
    public_key: Option<Arc<[u8]>>,
}

impl fmt::Debug for Material {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Material")
            .field("id", &self.id_hex())
            .field("state", &self.state)
            .field("created_at", &self.created_at)
            .field("rotated", &self.rotated)
            .field("valid_to", &self.valid_to)
            .field("key", &self.key)
            .finish()
    }
}

impl Material {
    /// A new entry with a fresh random id.
    pub fn new(key: SecretKey, created_at: Timestamp, state: MaterialState) -> Self {
        Self::from_parts(random_array(), created_at, state, Some(key))
    }

    pub fn from_parts(
        id: [u8; 32],
        created_at: Timestamp,
        state: MaterialState,
        key: Option<SecretKey>,
    ) -> Self {
        let public_key = key
            .as_ref()
            .and_then(SecretKey::public_key_der)
            .map(Arc::from);
        Self {
            id,
            created_at,
            state,
            rotated: None,
            valid_to: None,
            description: None,
            key: key.map(Arc::new),
            public_key,
        }
    }

    /// The id of imported material, derived from its key id and its bytes: the same
    /// material imported again into the same key (or into a replica of a multi-Region key,
    /// which shares the key id) has the same id, as on AWS. Keyed with the database's
    /// secret, so an id can't confirm a guess of the material.
    pub fn imported_id(secret: &[u8; 32], key_id: &str, material: &[u8]) -> [u8; 32] {
        hmac_sha256(secret, &[key_id.as_bytes(), &[0], material])
    }

    /// The id that material imported before databases had their secret was given (the key
    /// id as the HMAC key), so that such material imported again is still recognised.
    pub fn earlier_imported_id(key_id: &str, material: &[u8]) -> [u8; 32] {
        hmac_sha256(key_id.as_bytes(), &[material])
    }

    /// The 64-hex KeyMaterialId.
    pub fn id_hex(&self) -> String {
        hex(&self.id)
    }

    /// The key, unless its bytes were removed.
    pub fn key(&self) -> Option<&SecretKey> {
        self.key.as_deref()
    }

    /// The AES key of a symmetric encryption key's material.
    pub fn aes(&self) -> Option<&AesKey> {
        match self.key()? {
            SecretKey::Aes(k) => Some(k),
            _ => None,
        }
    }

    pub fn public_key(&self) -> Option<&[u8]> {
        self.public_key.as_deref()
    }

    /// Removes the bytes (deleted or expired imported material); the entry stays.
    pub fn remove_key(&mut self) {
        self.key = None;
        self.public_key = None;
    }

    /// This entry with `key` as its bytes (the same material, imported again).
    pub fn with_key(&self, key: SecretKey) -> Self {
        let mut entry = Self::from_parts(self.id, self.created_at, self.state, Some(key));
        entry.rotated = self.rotated;
        entry.valid_to = self.valid_to;
        entry.description.clone_from(&self.description);
        entry
    }
}

/// HMAC-SHA256 of `parts` in order, keyed with `key`.
fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    use hmac::{KeyInit, Mac};
    let mut mac =
        hmac::Hmac::<sha2::Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::Secret;
    use crate::model::KeySpec;

    #[test]
    fn debug_shows_the_id_but_never_the_key() {
        let m = Material::new(
            SecretKey::generate(KeySpec::SymmetricDefault),
            Timestamp(0),
            MaterialState::Current,
        );
        let shown = format!("{m:?}");
        assert!(shown.contains(&m.id_hex()));
        let bytes: Secret = m.key().unwrap().to_storage();
        assert!(!shown.contains(&hex(bytes.expose())));
        assert!(!shown.contains(&format!("{:?}", bytes.expose())));
    }

    #[test]
    fn public_key_only_for_asymmetric_material() {
        let ec = Material::new(
            SecretKey::generate(KeySpec::EccNistP256),
            Timestamp(0),
            MaterialState::Current,
        );
        assert_eq!(ec.public_key().map(<[u8]>::len), Some(91));
        assert!(ec.aes().is_none());
        let aes = Material::new(
            SecretKey::generate(KeySpec::SymmetricDefault),
            Timestamp(0),
            MaterialState::Current,
        );
        assert!(aes.public_key().is_none() && aes.aes().is_some());
    }
}
