//! trent's JSON writer, for answers and stored records: serde_json's compact output, byte
//! for byte, written into a buffer that is wiped when freed (answers such as Decrypt's and
//! GenerateDataKey's hold a plaintext; records hold key material).
//!
//! It differs from serde_json's own serializer in two ways, both for speed:
//! - bytes ([`Secret`](super::Secret), `Base64`) are base64 strings, encoded straight into
//!   the buffer (base64 never needs escaping);
//! - a string is checked for what needs escaping eight bytes at a time and copied whole,
//!   where serde_json looks each byte up in a table. A string that does need escaping,
//!   and every number, is written by serde_json itself, so the text is serde_json's.

use std::fmt::Display;

use base64_simd::STANDARD;
use serde::Serialize;
use serde::ser::{self, Error as _};

use super::secret::Wiped;

type Result<T = ()> = serde_json::Result<T>;

/// `value` as JSON, in a buffer that is wiped when freed. Growing it wipes the one it
/// replaces.
pub fn to_json(value: &impl Serialize) -> Result<Wiped> {
    let mut out = Writer(Wiped::with_capacity(2048));
    value.serialize(&mut out)?;
    Ok(out.0)
}

struct Writer(Wiped);

impl Writer {
    /// Inlined into every write (a few dozen an answer, most of a byte or two), with
    /// growing kept out of line.
    #[inline]
    fn reserve(&mut self, more: usize) {
        if self.0.len() + more > self.0.capacity() {
            self.grow(more);
        }
    }

    #[cold]
    fn grow(&mut self, more: usize) {
        let needed = self.0.len() + more;
        let mut grown = Wiped::with_capacity(needed.max(self.0.capacity() * 2));
        grown.extend_from_slice(&self.0);
        // The old buffer is wiped as it is dropped.
        self.0 = grown;
    }

    #[inline]
    fn append(&mut self, bytes: &[u8]) {
        self.reserve(bytes.len());
        self.0.extend_from_slice(bytes);
    }

    /// serde_json's own writing of a value (numbers, strings that need escaping).
    fn by_serde_json(&mut self, value: &impl Serialize) -> Result {
        serde_json::to_writer(&mut *self, value)
    }

    fn open(&mut self, open: &[u8], close: &'static [u8]) -> Compound<'_> {
        self.append(open);
        Compound {
            out: self,
            first: true,
            close,
        }
    }

    /// `{"<variant>":` before a variant's value.
    fn variant(&mut self, variant: &str) -> Result {
        self.append(b"{");
        self.string(variant)?;
        self.append(b":");
        Ok(())
    }

    /// A variant whose value is an array or object: closed by its own bracket, then `}`.
    fn variant_compound(
        &mut self,
        variant: &str,
        open: &[u8],
        close: &'static [u8],
    ) -> Result<Compound<'_>> {
        self.variant(variant)?;
        Ok(self.open(open, close))
    }

    fn string(&mut self, s: &str) -> Result {
        if needs_escape(s.as_bytes()) {
            return self.by_serde_json(&s);
        }
        self.reserve(s.len() + 2);
        self.0.push(b'"');
        self.0.extend_from_slice(s.as_bytes());
        self.0.push(b'"');
        Ok(())
    }
}

/// Whether JSON must escape any of `bytes` (a control character, `"` or `\`), eight
/// bytes at a time: every answer's names and ids pass through here.
fn needs_escape(bytes: &[u8]) -> bool {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    /// The high bit of some byte of `word` is set if one is below `n` (for `n` up to
    /// 0x80), and of none if none is: the classic test, exact as a yes or no.
    fn below(word: u64, n: u8) -> u64 {
        word.wrapping_sub(ONES * u64::from(n)) & !word & HIGHS
    }
    fn escapes(word: u64) -> u64 {
        below(word, 0x20)
            | below(word ^ (ONES * u64::from(b'"')), 1)
            | below(word ^ (ONES * u64::from(b'\\')), 1)
    }
    let mut words = bytes.chunks_exact(8);
    let found = words.by_ref().fold(0, |found, chunk| {
        found | escapes(u64::from_ne_bytes(chunk.try_into().unwrap_or_default()))
    });
    // The last few bytes as one more word, filled out with a byte that needs nothing.
    let mut last = [b'a'; 8];
    last[..words.remainder().len()].copy_from_slice(words.remainder());
    (found | escapes(u64::from_ne_bytes(last))) != 0
}

/// For serde_json's writing into the same buffer: every write is whole, one append.
impl std::io::Write for Writer {
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

/// An array, object or enum variant being written: whether a comma comes first, and what
/// closes it (`]`, `}`, or `}}` for a variant's object around its value).
struct Compound<'a> {
    out: &'a mut Writer,
    first: bool,
    close: &'static [u8],
}

impl Compound<'_> {
    fn comma(&mut self) {
        if !std::mem::take(&mut self.first) {
            self.out.append(b",");
        }
    }

    fn element(&mut self, value: &(impl Serialize + ?Sized)) -> Result {
        self.comma();
        value.serialize(&mut *self.out)
    }

    fn field(&mut self, key: &str, value: &(impl Serialize + ?Sized)) -> Result {
        self.comma();
        self.out.string(key)?;
        self.out.append(b":");
        value.serialize(&mut *self.out)
    }

    fn close(self) -> Result {
        self.out.append(self.close);
        Ok(())
    }
}

/// Numbers are written by serde_json itself, so their text (floats above all) is its own.
macro_rules! numbers_by_serde_json {
    ($($method:ident: $type:ty),+ $(,)?) => {$(
        fn $method(self, v: $type) -> Result {
            self.by_serde_json(&v)
        }
    )+};
}

impl<'a> ser::Serializer for &'a mut Writer {
    type Ok = ();
    type Error = serde_json::Error;
    type SerializeSeq = Compound<'a>;
    type SerializeTuple = Compound<'a>;
    type SerializeTupleStruct = Compound<'a>;
    type SerializeTupleVariant = Compound<'a>;
    type SerializeMap = Compound<'a>;
    type SerializeStruct = Compound<'a>;
    type SerializeStructVariant = Compound<'a>;

    fn serialize_bool(self, v: bool) -> Result {
        self.append(if v { b"true" } else { b"false" });
        Ok(())
    }

    numbers_by_serde_json!(
        serialize_i8: i8,
        serialize_i16: i16,
        serialize_i32: i32,
        serialize_i64: i64,
        serialize_i128: i128,
        serialize_u8: u8,
        serialize_u16: u16,
        serialize_u32: u32,
        serialize_u64: u64,
        serialize_u128: u128,
        serialize_f32: f32,
        serialize_f64: f64,
    );

    fn serialize_char(self, v: char) -> Result {
        self.string(v.encode_utf8(&mut [0; 4]))
    }

    fn serialize_str(self, v: &str) -> Result {
        self.string(v)
    }

    /// Base64, straight into the buffer: sized first, so the encoder never grows it.
    fn serialize_bytes(self, v: &[u8]) -> Result {
        self.reserve(STANDARD.encoded_length(v.len()) + 2);
        self.0.push(b'"');
        STANDARD.encode_append(v, &mut *self.0);
        self.0.push(b'"');
        Ok(())
    }

    fn serialize_none(self) -> Result {
        self.serialize_unit()
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result {
        self.append(b"null");
        Ok(())
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result {
        self.serialize_unit()
    }

    fn serialize_unit_variant(self, _name: &'static str, _i: u32, variant: &'static str) -> Result {
        self.string(variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _i: u32,
        variant: &'static str,
        value: &T,
    ) -> Result {
        self.variant(variant)?;
        value.serialize(&mut *self)?;
        self.append(b"}");
        Ok(())
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<Compound<'a>> {
        Ok(self.open(b"[", b"]"))
    }

    fn serialize_tuple(self, len: usize) -> Result<Compound<'a>> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Result<Compound<'a>> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _i: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Compound<'a>> {
        self.variant_compound(variant, b"[", b"]}")
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<Compound<'a>> {
        Ok(self.open(b"{", b"}"))
    }

    fn serialize_struct(self, _name: &'static str, len: usize) -> Result<Compound<'a>> {
        self.serialize_map(Some(len))
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _i: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Compound<'a>> {
        self.variant_compound(variant, b"{", b"}}")
    }

    fn collect_str<T: Display + ?Sized>(self, value: &T) -> Result {
        self.string(&value.to_string())
    }
}

/// serde has a trait for each kind of array and object; an array's four are the same,
/// and so are a structure's two.
macro_rules! compound {
    ($($kind:ident: $method:ident($($key:ident)?) => $write:ident),+ $(,)?) => {$(
        impl ser::$kind for Compound<'_> {
            type Ok = ();
            type Error = serde_json::Error;

            fn $method<T: Serialize + ?Sized>(
                &mut self,
                $($key: &'static str,)?
                value: &T,
            ) -> Result {
                self.$write($($key,)? value)
            }

            fn end(self) -> Result {
                self.close()
            }
        }
    )+};
}

compound!(
    SerializeSeq: serialize_element() => element,
    SerializeTuple: serialize_element() => element,
    SerializeTupleStruct: serialize_field() => element,
    SerializeTupleVariant: serialize_field() => element,
    SerializeStruct: serialize_field(key) => field,
    SerializeStructVariant: serialize_field(key) => field,
);

/// A map's keys must be strings, as JSON's are (trent's maps are keyed by strings).
impl ser::SerializeMap for Compound<'_> {
    type Ok = ();
    type Error = serde_json::Error;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result {
        self.comma();
        let at = self.out.0.len();
        key.serialize(&mut *self.out)?;
        if self.out.0.get(at) != Some(&b'"') {
            return Err(serde_json::Error::custom("a map key must be a string"));
        }
        self.out.append(b":");
        Ok(())
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        value.serialize(&mut *self.out)
    }

    fn end(self) -> Result {
        self.close()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::crypto::Secret;

    /// serde_json's own compact output with bytes as base64: what [`to_json`] must write.
    fn reference(value: &impl Serialize) -> Vec<u8> {
        struct Base64Bytes;
        impl serde_json::ser::Formatter for Base64Bytes {
            fn write_byte_array<W: ?Sized + std::io::Write>(
                &mut self,
                out: &mut W,
                bytes: &[u8],
            ) -> std::io::Result<()> {
                write!(out, "\"{}\"", STANDARD.encode_to_string(bytes))
            }
        }
        let mut out = Vec::new();
        value
            .serialize(&mut serde_json::Serializer::with_formatter(
                &mut out,
                Base64Bytes,
            ))
            .unwrap();
        out
    }

    #[derive(Serialize)]
    enum Variant {
        Unit,
        Newtype(u8),
        Tuple(i32, &'static str),
        Struct { a: bool, b: Option<f64> },
    }

    #[derive(Serialize)]
    struct Unit;

    #[derive(Serialize)]
    struct Newtype(&'static str);

    #[derive(Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct Answer {
        key_id: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        plaintext: Option<Secret>,
        absent: Option<u32>,
        integers: (i8, i16, i32, i64, u8, u16, u32, u64, i128, u128),
        floats: Vec<f64>,
        single: f32,
        flags: [bool; 2],
        letters: (char, char, char),
        strings: Vec<String>,
        tags: BTreeMap<String, String>,
        variants: Vec<Variant>,
        nested: Vec<Answer>,
        unit: (),
        unit_struct: Unit,
        newtype: Newtype,
        empty: Vec<u8>,
        empty_map: BTreeMap<String, u8>,
    }

    fn answer(nested: Vec<Answer>) -> Answer {
        let every_byte: String = (0..=127u8).map(char::from).collect();
        Answer {
            key_id: "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
                .into(),
            plaintext: Some(Secret::new((0..5000).map(|i| (i * 7) as u8).collect())),
            absent: None,
            integers: (
                i8::MIN,
                -300,
                i32::MIN,
                i64::MIN,
                u8::MAX,
                0,
                u32::MAX,
                u64::MAX,
                i128::MIN,
                u128::MAX,
            ),
            floats: vec![
                0.0,
                -0.0,
                1.5,
                1_732_953_600.123,
                1e21,
                1e-7,
                f64::MAX,
                f64::NAN,
                f64::INFINITY,
            ],
            single: 0.1,
            flags: [true, false],
            letters: ('a', '"', 'é'),
            strings: vec![
                String::new(),
                every_byte,
                "quote \" backslash \\ slash / tab \t newline \n".into(),
                "é ü 𝄞 \u{7f} \u{2028}".into(),
                "x".repeat(3000),
            ],
            tags: [("b", "2"), ("a", "1"), ("\"", "\\")]
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
            variants: vec![
                Variant::Unit,
                Variant::Newtype(7),
                Variant::Tuple(-1, "t"),
                Variant::Struct { a: true, b: None },
            ],
            nested,
            unit: (),
            unit_struct: Unit,
            newtype: Newtype("n"),
            empty: Vec::new(),
            empty_map: BTreeMap::new(),
        }
    }

    #[test]
    fn writes_what_serde_json_writes() {
        let value = answer(vec![answer(Vec::new()), answer(Vec::new())]);
        let written = to_json(&value).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&written),
            String::from_utf8_lossy(&reference(&value))
        );
        // Grown more than once from its first 2 KiB, and still one document.
        assert!(written.len() > 8 * 2048);
        serde_json::from_slice::<serde_json::Value>(&written).unwrap();
    }

    /// The check runs eight bytes at a time: every character, at every place in strings
    /// on both sides of a word's length, is escaped exactly where serde_json escapes it.
    #[test]
    fn strings_escape_wherever_the_character_falls() {
        let characters = (0..=127u8).map(char::from).chain(['é', '\u{2028}', '𝄞']);
        for c in characters {
            for len in 1..=20 {
                for at in 0..len {
                    let text: String = (0..len).map(|i| if i == at { c } else { 'a' }).collect();
                    let written = to_json(&text).unwrap();
                    assert_eq!(*written, serde_json::to_vec(&text).unwrap(), "{text:?}");
                }
            }
        }
    }

    #[test]
    fn bytes_are_base64_and_keys_must_be_strings() {
        let s = Secret::new(b"hello".to_vec());
        assert_eq!(*to_json(&s).unwrap(), b"\"aGVsbG8=\"");
        let by_number: BTreeMap<u8, u8> = [(1, 2)].into_iter().collect();
        assert!(to_json(&by_number).is_err());
    }
}
