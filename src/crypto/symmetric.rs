//! AES-256-GCM keys: the material of SYMMETRIC_DEFAULT keys. A key holds only its 32
//! bytes, since an expanded AES-GCM key takes over a kilobyte and every key of the store is
//! in memory. Each thread keeps the last key it expanded, so that a run of requests under
//! one key (the usual load) expands it once.

use std::cell::RefCell;

use aes_gcm::aead::inout::InOutBuf;
use aes_gcm::aead::{AeadInOut, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce, Tag};
use zeroize::Zeroizing;

use rand::Rng;

use super::Secret;

pub const KEY_LEN: usize = 32;
pub const NONCE_LEN: usize = 12;
pub const TAG_LEN: usize = 16;

thread_local! {
    /// The key bytes and expanded cipher of the last key this thread used.
    static LAST: RefCell<Option<(Zeroizing<[u8; KEY_LEN]>, Aes256Gcm)>> =
        const { RefCell::new(None) };
}

/// Whether two keys are the same, in time that does not depend on where they differ.
fn same(a: &[u8; KEY_LEN], b: &[u8; KEY_LEN]) -> bool {
    a.iter().zip(b).fold(0, |diff, (x, y)| diff | (x ^ y)) == 0
}

/// The bytes are held in place, not in an allocation of their own (one fewer per key).
pub struct AesKey {
    bytes: Zeroizing<[u8; KEY_LEN]>,
}

impl AesKey {
    pub fn generate() -> Self {
        let mut bytes = Zeroizing::new([0; KEY_LEN]);
        rand::rng().fill_bytes(&mut *bytes);
        Self { bytes }
    }

    /// `None` if the bytes are not an AES-256 key. Copied straight into place: no copy
    /// is left behind unwiped.
    pub fn from_bytes(from: &[u8]) -> Option<Self> {
        let mut bytes = Zeroizing::new([0; KEY_LEN]);
        (from.len() == KEY_LEN).then(|| bytes.copy_from_slice(from))?;
        Some(Self { bytes })
    }

    /// `f` with this key's expanded cipher: the thread's last one if it is this key's,
    /// else expanded now and kept in its place. A replaced cipher is wiped as it is dropped
    /// (aes-gcm's `zeroize`).
    fn with_cipher<R>(&self, f: impl FnOnce(&Aes256Gcm) -> R) -> R {
        LAST.with_borrow_mut(|last| {
            if let Some((bytes, cipher)) = last
                && same(bytes, &self.bytes)
            {
                return f(cipher);
            }
            let cipher = Aes256Gcm::new_from_slice(&*self.bytes).expect("the key is 32 bytes");
            let (_, cipher) = last.insert((self.bytes.clone(), cipher));
            f(cipher)
        })
    }

    pub fn bytes(&self) -> Secret {
        Secret::new(self.bytes.to_vec())
    }

    /// AES-256-GCM in place: `buffer` turns from plaintext into ciphertext, and the tag
    /// is returned (no buffer of its own for the ciphertext).
    pub fn seal_in_place(
        &self,
        nonce: &[u8; NONCE_LEN],
        buffer: &mut [u8],
        aad: &[u8],
    ) -> [u8; TAG_LEN] {
        self.with_cipher(|cipher| {
            cipher
                .encrypt_inout_detached(&Nonce::from(*nonce), aad, buffer.into())
                .expect("AES-GCM encrypts any input below 64 GiB")
                .into()
        })
    }

    /// The plaintext of `sealed` (ciphertext followed by the 16-byte tag), decrypted
    /// straight into its own buffer; `None` when the tag does not verify: wrong key, wrong
    /// AAD or a damaged blob.
    pub fn open(&self, nonce: &[u8; NONCE_LEN], sealed: &[u8], aad: &[u8]) -> Option<Secret> {
        let (ciphertext, tag) = sealed.split_at_checked(sealed.len().checked_sub(TAG_LEN)?)?;
        let tag = Tag::from(<[u8; TAG_LEN]>::try_from(tag).ok()?);
        let mut plaintext = Secret::zeroed(ciphertext.len());
        let buffer = InOutBuf::new(ciphertext, plaintext.expose_mut()).ok()?;
        self.with_cipher(|cipher| {
            cipher.decrypt_inout_detached(&Nonce::from(*nonce), aad, buffer, &tag)
        })
        .ok()?;
        Some(plaintext)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_and_open_need_the_same_nonce_and_aad() {
        let k = AesKey::generate();
        let mut sealed = b"data".to_vec();
        let tag = k.seal_in_place(&[1; NONCE_LEN], &mut sealed, b"aad");
        assert_ne!(sealed, b"data");
        sealed.extend_from_slice(&tag);
        assert_eq!(
            k.open(&[1; NONCE_LEN], &sealed, b"aad").unwrap().expose(),
            b"data"
        );
        assert!(k.open(&[2; NONCE_LEN], &sealed, b"aad").is_none());
        assert!(k.open(&[1; NONCE_LEN], &sealed, b"other").is_none());
        assert!(
            k.open(&[1; NONCE_LEN], &sealed[..TAG_LEN - 1], b"aad")
                .is_none()
        );
        assert!(AesKey::from_bytes(&[0; 16]).is_none());
    }

    /// The thread's kept cipher is only ever the key's own: keys taking turns on one
    /// thread each seal as a cipher expanded afresh does, and none opens another's.
    #[test]
    fn keys_taking_turns_each_use_their_own_cipher() {
        let keys = [AesKey::generate(), AesKey::generate(), AesKey::generate()];
        let nonce = [7; NONCE_LEN];
        for turn in [0, 1, 0, 2, 2, 1, 0] {
            let key = &keys[turn];
            let mut sealed = b"plaintext".to_vec();
            let tag = key.seal_in_place(&nonce, &mut sealed, b"aad");
            let fresh = Aes256Gcm::new_from_slice(&*key.bytes).unwrap();
            let mut expected = b"plaintext".to_vec();
            let expected_tag: [u8; TAG_LEN] = fresh
                .encrypt_inout_detached(&Nonce::from(nonce), b"aad", expected.as_mut_slice().into())
                .unwrap()
                .into();
            assert_eq!((&sealed, tag), (&expected, expected_tag));
            sealed.extend_from_slice(&tag);
            for (other, k) in keys.iter().enumerate() {
                assert_eq!(k.open(&nonce, &sealed, b"aad").is_some(), other == turn);
            }
        }
    }
}
