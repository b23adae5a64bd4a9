//! Bytes that must never be seen: key material and plaintexts. Wiped on drop, redacted in
//! `Debug`, base64 on the wire.

use std::fmt;
use std::ops::{Deref, DerefMut};

use base64_simd::STANDARD;
use serde::de::{Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use zeroize::Zeroize;

/// A byte buffer wiped, capacity and all, when dropped. `zeroize` wipes a `Vec` one
/// byte at a time; this wipes it in bulk (still behind `zeroize`'s barrier), which for a
/// kilobyte is the difference between a memset and a loop as long as sealing it.
#[derive(Clone, PartialEq, Eq)]
pub struct Wiped(Vec<u8>);

impl Wiped {
    pub fn with_capacity(capacity: usize) -> Self {
        Self(Vec::with_capacity(capacity))
    }
}

impl Drop for Wiped {
    fn drop(&mut self) {
        zeroize::zeroize_bytes(&mut self.0);
        self.0.spare_capacity_mut().zeroize();
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

/// Bytes, which trent's JSON writer ([`to_json`]) writes as a base64 string, as AWS JSON
/// 1.1 writes every blob.
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
    fn decode<E: serde::de::Error>(text: &[u8]) -> Result<Vec<u8>, E> {
        STANDARD
            .decode_to_vec(text)
            .map_err(|_| E::custom("a blob member is not valid base64"))
    }
    d.deserialize_str(Blob)
}

/// A response as JSON, in a buffer that is wiped when freed: answers such as Decrypt's
/// and GenerateDataKey's hold a plaintext. Growing the buffer wipes the one it replaces.
/// Bytes ([`Secret`], `Base64`) are written as base64 strings.
pub fn to_json(value: &impl Serialize) -> serde_json::Result<Wiped> {
    let mut out = WipingWriter(Wiped::with_capacity(2048));
    value.serialize(&mut serde_json::Serializer::with_formatter(&mut out, Wire))?;
    Ok(out.0)
}

/// serde_json's compact output, except that bytes are a base64 string. Base64 never
/// needs escaping, so it goes out as it is encoded, without the escape scan of a string.
struct Wire;

impl serde_json::ser::Formatter for Wire {
    fn write_byte_array<W: ?Sized + std::io::Write>(
        &mut self,
        out: &mut W,
        bytes: &[u8],
    ) -> std::io::Result<()> {
        /// Input bytes per chunk: a multiple of 3, so chunks concatenate into one text.
        const CHUNK: usize = 768;
        let mut text = [0u8; CHUNK / 3 * 4];
        let written = (|| {
            out.write_all(b"\"")?;
            for part in bytes.chunks(CHUNK) {
                out.write_all(STANDARD.encode(part, base64_simd::Out::from_slice(&mut text)))?;
            }
            out.write_all(b"\"")
        })();
        zeroize::zeroize_bytes(&mut text);
        written
    }
}

struct WipingWriter(Wiped);

impl WipingWriter {
    /// Inlined into serde_json's writes (a few dozen an answer, most of a byte or two),
    /// with growing kept out of line.
    #[inline]
    fn append(&mut self, bytes: &[u8]) {
        if self.0.len() + bytes.len() > self.0.capacity() {
            self.grow(bytes.len());
        }
        self.0.extend_from_slice(bytes);
    }

    #[cold]
    fn grow(&mut self, more: usize) {
        let needed = self.0.len() + more;
        let mut grown = Wiped::with_capacity(needed.max(self.0.capacity() * 2));
        grown.extend_from_slice(&self.0);
        // The old buffer is wiped as it is dropped.
        self.0 = grown;
    }
}

/// Every write is whole: `write_all` is one append, not std's retry loop around `write`
/// (serde_json writes an answer in a few dozen small pieces).
impl std::io::Write for WipingWriter {
    #[inline]
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.append(bytes);
        Ok(bytes.len())
    }

    #[inline]
    fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.append(bytes);
        Ok(())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
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
        assert_eq!(*to_json(&s).unwrap(), b"\"aGVsbG8=\"");
        let s: Secret = serde_json::from_value(serde_json::json!("aGVsbG8=")).unwrap();
        assert_eq!(s.expose(), b"hello");
        let err = serde_json::from_str::<Secret>("\"not base64!\"").unwrap_err();
        assert!(!err.to_string().contains("not base64!"));
    }

    #[test]
    fn json_grows_and_writes_bytes_as_base64() {
        #[derive(Serialize)]
        struct Answer {
            #[serde(rename = "Plaintext")]
            plaintext: Secret,
            n: &'static str,
        }
        let bytes: Vec<u8> = (0..5000).map(|i| (i * 7) as u8).collect();
        let value = Answer {
            plaintext: Secret::new(bytes.clone()),
            n: "\\",
        };
        let wiped = to_json(&value).unwrap();
        let expected =
            serde_json::json!({"Plaintext": STANDARD.encode_to_string(&bytes), "n": "\\"});
        assert_eq!(*wiped, serde_json::to_vec(&expected).unwrap());
    }
}
