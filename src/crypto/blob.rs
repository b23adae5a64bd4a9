//! The ciphertext blob of symmetric Encrypt / GenerateDataKey, opaque to clients:
//!
//! ```text
//! u8        format version (1)
//! u8        length of the key id, then the key id (ASCII)
//! 32 bytes  key material id
//! 12 bytes  AES-GCM nonce (random)
//! ..        AES-256-GCM ciphertext || 16-byte tag
//! AAD = every byte before the nonce || canonical(encryption context)
//! ```
//!
//! Decrypt finds the key and the material generation from the header alone, so old
//! material keeps decrypting after rotation. The header is authenticated as AAD, and the
//! encryption context is bound with length prefixes, so `{"ab":"c"}` and `{"a":"bc"}`
//! can never be confused.

use std::borrow::Cow;
use std::collections::BTreeMap;

use super::symmetric::{AesKey, NONCE_LEN, TAG_LEN};
use super::{Secret, random_array};

pub const VERSION: u8 = 1;

/// An encryption context; the map keeps pairs sorted by key bytes.
pub type EncryptionContext = BTreeMap<String, String>;

/// No encryption context: what a request without one is sealed and opened with.
pub static NO_CONTEXT: EncryptionContext = BTreeMap::new();

/// A blob split into its parts; nothing is verified until [`Parsed::open`].
#[derive(Debug)]
pub struct Parsed<'a> {
    pub key_id: &'a str,
    pub material_id: [u8; 32],
    header: &'a [u8],
    nonce: [u8; NONCE_LEN],
    sealed: &'a [u8],
}

/// Seals `plaintext` under the AES key of material `material_id` of key `key_id`.
pub fn seal(
    key_id: &str,
    material_id: &[u8; 32],
    aes: &AesKey,
    plaintext: &[u8],
    context: &EncryptionContext,
) -> Vec<u8> {
    let mut blob =
        super::buffers::take(2 + key_id.len() + 32 + NONCE_LEN + plaintext.len() + TAG_LEN);
    blob.push(VERSION);
    blob.push(key_id.len() as u8);
    blob.extend_from_slice(key_id.as_bytes());
    blob.extend_from_slice(material_id);
    let header_len = blob.len();
    let nonce: [u8; NONCE_LEN] = random_array();
    blob.extend_from_slice(&nonce);
    // The plaintext is copied into the blob and encrypted there.
    blob.extend_from_slice(plaintext);
    let (header, sealed) = blob.split_at_mut(header_len + NONCE_LEN);
    let tag = aes.seal_in_place(&nonce, sealed, &aad(&header[..header_len], context));
    blob.extend_from_slice(&tag);
    blob
}

/// Splits a blob; `None` if it is not one of ours.
pub fn parse(blob: &[u8]) -> Option<Parsed<'_>> {
    let (&version, rest) = blob.split_first()?;
    if version != VERSION {
        return None;
    }
    let (&id_len, rest) = rest.split_first()?;
    let id_len = usize::from(id_len);
    let header_len = 2 + id_len + 32;
    if rest.len() < id_len + 32 + NONCE_LEN + TAG_LEN {
        return None;
    }
    let key_id = std::str::from_utf8(&rest[..id_len]).ok()?;
    let material_id = rest[id_len..id_len + 32].try_into().ok()?;
    let nonce = blob[header_len..header_len + NONCE_LEN].try_into().ok()?;
    Some(Parsed {
        key_id,
        material_id,
        header: &blob[..header_len],
        nonce,
        sealed: &blob[header_len + NONCE_LEN..],
    })
}

impl Parsed<'_> {
    /// The plaintext, or `None` if the material, the context or the blob is wrong.
    pub fn open(&self, aes: &AesKey, context: &EncryptionContext) -> Option<Secret> {
        aes.open(&self.nonce, self.sealed, &aad(self.header, context))
    }
}

/// The header alone when there is no context (no copy), else the header and the context.
fn aad<'h>(header: &'h [u8], context: &EncryptionContext) -> Cow<'h, [u8]> {
    if context.is_empty() {
        return Cow::Borrowed(header);
    }
    let mut aad = header.to_vec();
    for (k, v) in context {
        for part in [k, v] {
            aad.extend_from_slice(&(part.len() as u32).to_be_bytes());
            aad.extend_from_slice(part.as_bytes());
        }
    }
    Cow::Owned(aad)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(pairs: &[(&str, &str)]) -> EncryptionContext {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn round_trip_and_context_binding() {
        let m = AesKey::generate();
        let key_id = "1234abcd-12ab-34cd-56ef-1234567890ab";
        let blob = seal(key_id, &[9; 32], &m, b"secret", &ctx(&[("ab", "c")]));
        let parsed = parse(&blob).unwrap();
        assert_eq!(parsed.key_id, key_id);
        assert_eq!(parsed.material_id, [9; 32]);
        assert_eq!(
            parsed.open(&m, &ctx(&[("ab", "c")])).unwrap().expose(),
            b"secret"
        );
        assert!(parsed.open(&m, &ctx(&[("a", "bc")])).is_none());
        assert!(parsed.open(&m, &ctx(&[])).is_none());
    }

    #[test]
    fn tampered_or_foreign_blobs_are_rejected() {
        let m = AesKey::generate();
        let mut blob = seal("k", &[0; 32], &m, b"x", &ctx(&[]));
        let last = blob.len() - 1;
        blob[last] ^= 1;
        assert!(parse(&blob).unwrap().open(&m, &ctx(&[])).is_none());
        assert!(parse(b"").is_none());
        assert!(parse(&[2, 0]).is_none());
        assert!(parse(&[1, 200, 1, 2, 3]).is_none());
    }
}
