//! Bytes that must never be seen: key material and plaintexts. Zeroed on drop, redacted in
//! `Debug`, base64 on the wire.

use base64_simd::STANDARD;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use zeroize::Zeroizing;

#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Zeroizing<Vec<u8>>);

impl Secret {
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(Zeroizing::new(bytes))
    }

    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secret([REDACTED; {} bytes])", self.0.len())
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serialize_base64(self.expose(), s)
    }
}

/// Bytes as a base64 JSON string. Base64 never needs escaping, so the text goes out as
/// it is (a `RawValue`): escaping a kilobyte of ciphertext byte by byte was the largest
/// single cost of an Encrypt answer. The buffer is wiped afterwards, as it may hold a
/// plaintext. Only serde_json writes a `RawValue` as it is; every answer of trent is JSON.
pub fn serialize_base64<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
    let len = STANDARD.encoded_length(bytes.len());
    let mut quoted = Zeroizing::new(vec![b'"'; len + 2]);
    // Fills exactly the `len` bytes between the quotes.
    let _ = STANDARD.encode(bytes, base64_simd::Out::from_slice(&mut quoted[1..=len]));
    let text =
        String::from_utf8(std::mem::take(&mut *quoted)).map_err(serde::ser::Error::custom)?;
    let raw: Box<serde_json::value::RawValue> =
        serde_json::value::RawValue::from_string(text).map_err(serde::ser::Error::custom)?;
    let result = raw.serialize(s);
    // The raw value owns the text now: wipe it before it is freed.
    let mut text: Box<str> = raw.into();
    zeroize::Zeroize::zeroize(&mut text);
    result
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = Zeroizing::new(String::deserialize(d)?);
        decode_base64(&text).map(Secret::new)
    }
}

/// A blob member's bytes, with the error every blob member reports.
pub fn decode_base64<E: serde::de::Error>(text: &str) -> Result<Vec<u8>, E> {
    STANDARD
        .decode_to_vec(text.as_bytes())
        .map_err(|_| E::custom("a blob member is not valid base64"))
}

/// A response as JSON, in a buffer that is wiped when freed: answers such as Decrypt's
/// and GenerateDataKey's hold a plaintext. Growing the buffer wipes the one it replaces.
pub fn to_json(value: &impl Serialize) -> serde_json::Result<Zeroizing<Vec<u8>>> {
    let mut out = WipingWriter(Zeroizing::new(Vec::with_capacity(1024)));
    serde_json::to_writer(&mut out, value)?;
    Ok(out.0)
}

struct WipingWriter(Zeroizing<Vec<u8>>);

impl std::io::Write for WipingWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let needed = self.0.len() + bytes.len();
        if needed > self.0.capacity() {
            let mut grown = Vec::with_capacity(needed.max(self.0.capacity() * 2));
            grown.extend_from_slice(&self.0);
            // The old buffer is wiped as it is dropped.
            self.0 = Zeroizing::new(grown);
        }
        self.0.extend_from_slice(bytes);
        Ok(bytes.len())
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
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"aGVsbG8=\"");
        let err = serde_json::from_str::<Secret>("\"not base64!\"").unwrap_err();
        assert!(!err.to_string().contains("not base64!"));
    }

    #[test]
    fn json_grows_without_leaving_copies_and_matches_serde_json() {
        let value = serde_json::json!({"Plaintext": Secret::new(vec![7; 5000]), "n": 1});
        let wiped = to_json(&value).unwrap();
        assert_eq!(*wiped, serde_json::to_vec(&value).unwrap());
    }
}
