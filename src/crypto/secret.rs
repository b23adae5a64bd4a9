//! Bytes that must never be seen: key material and plaintexts. Wiped on drop, redacted in
//! `Debug`, base64 on the wire.

use std::fmt;
use std::ops::{Deref, DerefMut};

use base64_simd::STANDARD;
use serde::de::{Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use zeroize::Zeroize;

use super::buffers;

/// A byte buffer wiped, capacity and all, when dropped, and then kept by its thread for
/// reuse ([`buffers`]). `zeroize` wipes a `Vec` one byte at a time; this wipes it in bulk
/// (still behind `zeroize`'s barrier), which for a kilobyte is the difference between a
/// memset and a loop as long as sealing it.
#[derive(Clone, PartialEq, Eq)]
pub struct Wiped(Vec<u8>);

impl Wiped {
    pub fn with_capacity(capacity: usize) -> Self {
        Self(buffers::take(capacity))
    }
}

impl Drop for Wiped {
    fn drop(&mut self) {
        zeroize::zeroize_bytes(&mut self.0);
        self.0.spare_capacity_mut().zeroize();
        buffers::give(std::mem::take(&mut self.0));
    }
}

impl Deref for Wiped {
    type Target = Vec<u8>;
    fn deref(&self) -> &Vec<u8> {
        &self.0
    }
}

impl DerefMut for Wiped {
    fn deref_mut(&mut self) -> &mut Vec<u8> {
        &mut self.0
    }
}

impl AsRef<[u8]> for Wiped {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Wiped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[REDACTED; {} bytes]", self.0.len())
    }
}

#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Wiped);

impl Secret {
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(Wiped(bytes))
    }

    /// `len` zero bytes to be filled (a decryption's output, random bytes), in a kept
    /// buffer.
    pub fn zeroed(len: usize) -> Self {
        let mut bytes = Wiped::with_capacity(len);
        bytes.resize(len, 0);
        Self(bytes)
    }

    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    pub fn expose_mut(&mut self) -> &mut [u8] {
        &mut self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret([REDACTED; {} bytes])", self.0.len())
    }
}

/// Bytes, which trent's JSON writer ([`to_json`](super::json_out::to_json)) writes as a
/// base64 string, as AWS JSON 1.1 writes every blob.
impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(self.expose())
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        deserialize_base64(d).map(Secret::new)
    }
}

/// A blob member's bytes from its base64 string. A string borrowed from the request is
/// decoded in place; one handed over is wiped once decoded (it may spell a plaintext).
/// The text may also come as bytes, as the flat path ([`crate::protocol::flat`]) hands
/// it over, unchecked for UTF-8: the decoder refuses whatever is not base64.
pub fn deserialize_base64<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
    struct Blob;
    impl Visitor<'_> for Blob {
        type Value = Vec<u8>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a base64 string")
        }

        fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Vec<u8>, E> {
            decode(text.as_bytes())
        }

        fn visit_string<E: serde::de::Error>(self, text: String) -> Result<Vec<u8>, E> {
            decode(&Wiped(text.into_bytes()))
        }

        fn visit_bytes<E: serde::de::Error>(self, text: &[u8]) -> Result<Vec<u8>, E> {
            decode(text)
        }
    }
    /// Into a kept buffer, wiped if the text turns out not to be base64 halfway.
    fn decode<E: serde::de::Error>(text: &[u8]) -> Result<Vec<u8>, E> {
        let mut bytes = Wiped::with_capacity(text.len() / 4 * 3);
        match STANDARD.decode_append(text, &mut *bytes) {
            Ok(()) => Ok(std::mem::take(&mut bytes.0)),
            Err(_) => Err(E::custom("a blob member is not valid base64")),
        }
    }
    d.deserialize_str(Blob)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_bytes() {
        let s = Secret::new(b"hunter2".to_vec());
        let shown = format!("{s:?}");
        assert!(!shown.contains("hunter2"));
        assert_eq!(shown, "Secret([REDACTED; 7 bytes])");
    }

    #[test]
    fn base64_round_trip_and_bad_input() {
        let s: Secret = serde_json::from_str("\"aGVsbG8=\"").unwrap();
        assert_eq!(s.expose(), b"hello");
        let s: Secret = serde_json::from_value(serde_json::json!("aGVsbG8=")).unwrap();
        assert_eq!(s.expose(), b"hello");
        let err = serde_json::from_str::<Secret>("\"not base64!\"").unwrap_err();
        assert!(!err.to_string().contains("not base64!"));
    }
}
