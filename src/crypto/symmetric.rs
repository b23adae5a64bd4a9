//! Symmetric key material: 256-bit AES-GCM keys named by a 32-byte material id.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};

use super::{Secret, hex, random_array, random_bytes};
use crate::clock::Timestamp;

pub const KEY_LEN: usize = 32;
pub const NONCE_LEN: usize = 12;
pub const TAG_LEN: usize = 16;

/// One generation of a key's material, with its AES key schedule ready for use.
pub struct KeyMaterial {
    id: [u8; 32],
    created_at: Timestamp,
    bytes: Secret,
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for KeyMaterial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyMaterial")
            .field("id", &self.id_hex())
            .field("created_at", &self.created_at)
            .field("bytes", &self.bytes)
            .finish()
    }
}

impl KeyMaterial {
    pub fn generate(created_at: Timestamp) -> Self {
        Self::from_parts(random_array(), random_bytes(KEY_LEN), created_at)
            .expect("generated material has the AES-256 key length")
    }

    /// Rebuilds material read from storage; `None` if the bytes are not an AES-256 key.
    pub fn from_parts(id: [u8; 32], bytes: Secret, created_at: Timestamp) -> Option<Self> {
        let cipher = Aes256Gcm::new_from_slice(bytes.expose()).ok()?;
        Some(Self {
            id,
            created_at,
            bytes,
            cipher,
        })
    }

    pub fn id(&self) -> &[u8; 32] {
        &self.id
    }

    /// The 64-hex KeyMaterialId AWS reports.
    pub fn id_hex(&self) -> String {
        hex(&self.id)
    }

    pub fn created_at(&self) -> Timestamp {
        self.created_at
    }

    /// The raw key, for persistence only.
    pub fn bytes(&self) -> &Secret {
        &self.bytes
    }

    /// AES-256-GCM: ciphertext followed by the 16-byte tag.
    pub fn seal(&self, nonce: &[u8; NONCE_LEN], plaintext: &[u8], aad: &[u8]) -> Vec<u8> {
        self.cipher
            .encrypt(
                &Nonce::from(*nonce),
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .expect("AES-GCM encrypts any input below 64 GiB")
    }

    /// `None` when the tag does not verify: wrong key, wrong AAD or a damaged blob.
    pub fn open(&self, nonce: &[u8; NONCE_LEN], sealed: &[u8], aad: &[u8]) -> Option<Secret> {
        self.cipher
            .decrypt(&Nonce::from(*nonce), Payload { msg: sealed, aad })
            .ok()
            .map(Secret::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_the_id_but_never_the_key() {
        let m = KeyMaterial::generate(Timestamp(0));
        let shown = format!("{m:?}");
        assert!(shown.contains(&m.id_hex()));
        assert!(!shown.contains(&hex(m.bytes().expose())));
        assert!(!shown.contains(&format!("{:?}", m.bytes().expose())));
    }

    #[test]
    fn seal_and_open_need_the_same_nonce_and_aad() {
        let m = KeyMaterial::generate(Timestamp(0));
        let sealed = m.seal(&[1; NONCE_LEN], b"data", b"aad");
        assert_eq!(sealed.len(), 4 + TAG_LEN);
        assert_eq!(
            m.open(&[1; NONCE_LEN], &sealed, b"aad").unwrap().expose(),
            b"data"
        );
        assert!(m.open(&[2; NONCE_LEN], &sealed, b"aad").is_none());
        assert!(m.open(&[1; NONCE_LEN], &sealed, b"other").is_none());
        assert!(KeyMaterial::from_parts([0; 32], Secret::new(vec![0; 16]), Timestamp(0)).is_none());
    }
}
