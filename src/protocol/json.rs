//! A request body's JSON, read into a tree whose strings borrow from the body.
//!
//! A request is mostly one long base64 string (a plaintext or a ciphertext). serde_json's
//! `Value` scans it eight bytes at a time, checks its UTF-8 in a second pass and copies it;
//! here the closing quote is found with `memchr`, one vectorized pass checks that it holds
//! no control character, std checks its UTF-8, and the tree points into the body. The tree
//! then feeds the model check and, through [`serde::Deserializer`], the operation's request
//! type.
//!
//! An object keeps one entry per key, the last one written, sorted by key: serde_json's
//! own map does the same, and request types see the same members either way.

use std::borrow::Cow;
use std::fmt;

use serde::de::value::BorrowedStrDeserializer;
use serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};
use serde::forward_to_deserialize_any;

/// serde_json's limit, so that a deeply nested body is refused, not a stack overflow.
const MAX_DEPTH: usize = 128;

#[derive(Debug, Clone, PartialEq)]
pub enum Json<'a> {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(Cow<'a, str>),
    Array(Vec<Json<'a>>),
    /// Sorted by key, each key once.
    Object(Vec<(Cow<'a, str>, Json<'a>)>),
}

/// Why a body is not JSON, and where.
#[derive(Debug)]
pub struct SyntaxError {
    what: &'static str,
    line: usize,
    column: usize,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at line {} column {}",
            self.what, self.line, self.column
        )
    }
}

impl<'a> Json<'a> {
    /// Reads one JSON value that fills `text` (whitespace around it aside).
    pub fn parse(text: &'a [u8]) -> Result<Self, SyntaxError> {
        let mut parser = Parser { text, at: 0 };
        let value = parser.value(0)?;
        parser.skip_whitespace();
        if parser.at < text.len() {
            return Err(parser.error("trailing characters"));
        }
        Ok(value)
    }

    pub fn empty_object() -> Self {
        Json::Object(Vec::new())
    }

    /// An object's member.
    pub fn get(&self, key: &str) -> Option<&Json<'a>> {
        let Json::Object(entries) = self else {
            return None;
        };
        let i = entries.binary_search_by(|(k, _)| (**k).cmp(key)).ok()?;
        Some(&entries[i].1)
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut Json<'a>> {
        let Json::Object(entries) = self else {
            return None;
        };
        let i = entries.binary_search_by(|(k, _)| (**k).cmp(key)).ok()?;
        Some(&mut entries[i].1)
    }

    /// Sets an object's member, in its place among the others.
    pub fn insert(&mut self, key: &str, value: Json<'a>) {
        let Json::Object(entries) = self else {
            return;
        };
        match entries.binary_search_by(|(k, _)| (**k).cmp(key)) {
            Ok(i) => entries[i].1 = value,
            Err(i) => entries.insert(i, (Cow::Owned(key.to_owned()), value)),
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[Json<'a>]> {
        match self {
            Json::Array(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_array_mut(&mut self) -> Option<&mut Vec<Json<'a>>> {
        match self {
            Json::Array(items) => Some(items),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Json::Null)
    }

    pub fn is_object(&self) -> bool {
        matches!(self, Json::Object(_))
    }
}

/// How a list or an object ends, and the words for one that doesn't.
struct Brackets {
    close: u8,
    expected: &'static str,
    eof: &'static str,
}

const LIST: Brackets = Brackets {
    close: b']',
    expected: "expected `,` or `]`",
    eof: "EOF while parsing a list",
};

const OBJECT: Brackets = Brackets {
    close: b'}',
    expected: "expected `,` or `}`",
    eof: "EOF while parsing an object",
};

struct Parser<'a> {
    text: &'a [u8],
    at: usize,
}

impl<'a> Parser<'a> {
    fn error(&self, what: &'static str) -> SyntaxError {
        let before = &self.text[..self.at.min(self.text.len())];
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let column = before.len()
            - before
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |i| i + 1)
            + 1;
        SyntaxError { what, line, column }
    }

    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.text.get(self.at) {
            self.at += 1;
        }
    }

    fn value(&mut self, depth: usize) -> Result<Json<'a>, SyntaxError> {
        self.skip_whitespace();
        let Some(&first) = self.text.get(self.at) else {
            return Err(self.error("EOF while parsing a value"));
        };
        match first {
            b'{' | b'[' if depth >= MAX_DEPTH => Err(self.error("recursion limit exceeded")),
            b'{' => self.object(depth + 1),
            b'[' => self.array(depth + 1),
            b'"' => self.string().map(Json::String),
            b't' => self.literal(b"true", Json::Bool(true)),
            b'f' => self.literal(b"false", Json::Bool(false)),
            b'n' => self.literal(b"null", Json::Null),
            b'-' | b'0'..=b'9' => self.number(),
            _ => Err(self.error("expected value")),
        }
    }

    fn literal(&mut self, word: &[u8], value: Json<'a>) -> Result<Json<'a>, SyntaxError> {
        if !self.text[self.at..].starts_with(word) {
            return Err(self.error("expected value"));
        }
        self.at += word.len();
        Ok(value)
    }

    /// A number's characters, read by serde_json: its range and precision rules.
    fn number(&mut self) -> Result<Json<'a>, SyntaxError> {
        let start = self.at;
        while let Some(b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E') = self.text.get(self.at) {
            self.at += 1;
        }
        serde_json::from_slice(&self.text[start..self.at])
            .map(Json::Number)
            .map_err(|_| {
                self.at = start;
                self.error("invalid number")
            })
    }

    /// The string starting at the opening quote. Without escapes (every base64 string) it
    /// is borrowed; one with escapes is read by serde_json, with JSON's escape rules.
    fn string(&mut self) -> Result<Cow<'a, str>, SyntaxError> {
        let start = self.at + 1;
        let mut end = start;
        let mut escaped = false;
        loop {
            let Some(i) = memchr::memchr2(b'"', b'\\', &self.text[end..]) else {
                self.at = self.text.len();
                return Err(self.error("EOF while parsing a string"));
            };
            end += i;
            if self.text[end] == b'"' {
                break;
            }
            escaped = true;
            end += 2;
            if end > self.text.len() {
                self.at = self.text.len();
                return Err(self.error("EOF while parsing a string"));
            }
        }
        let raw = &self.text[start..end];
        if escaped {
            let quoted = &self.text[start - 1..=end];
            let text: String =
                serde_json::from_slice(quoted).map_err(|_| self.error("invalid string"))?;
            self.at = end + 1;
            return Ok(Cow::Owned(text));
        }
        // Control characters must be escaped in JSON. The smallest byte is a reduction the
        // compiler vectorizes (an `any` over the bytes, or a fold of `bool`s, it does not).
        let control = raw.iter().fold(u8::MAX, |min, &b| min.min(b)) < 0x20;
        if control {
            return Err(
                self.error("control character (\\u0000-\\u001F) found while parsing a string")
            );
        }
        let text =
            std::str::from_utf8(raw).map_err(|_| self.error("invalid unicode code point"))?;
        self.at = end + 1;
        Ok(Cow::Borrowed(text))
    }

    /// Skips whitespace, then steps over `byte` if it is next.
    fn eat(&mut self, byte: u8) -> bool {
        self.skip_whitespace();
        let next = self.text.get(self.at) == Some(&byte);
        self.at += usize::from(next);
        next
    }

    /// After an element of a list or object: whether another follows (a `,`) or it
    /// closes here.
    fn another(&mut self, brackets: &Brackets) -> Result<bool, SyntaxError> {
        if self.eat(b',') {
            return Ok(true);
        }
        match self.text.get(self.at) {
            Some(&b) if b == brackets.close => {
                self.at += 1;
                Ok(false)
            }
            Some(_) => Err(self.error(brackets.expected)),
            None => Err(self.error(brackets.eof)),
        }
    }

    fn array(&mut self, depth: usize) -> Result<Json<'a>, SyntaxError> {
        self.at += 1;
        let mut items = Vec::new();
        if !self.eat(b']') {
            loop {
                items.push(self.value(depth)?);
                if !self.another(&LIST)? {
                    break;
                }
            }
        }
        Ok(Json::Array(items))
    }

    fn object(&mut self, depth: usize) -> Result<Json<'a>, SyntaxError> {
        self.at += 1;
        let mut entries = Vec::new();
        if self.eat(b'}') {
            return Ok(Json::Object(entries));
        }
        loop {
            self.skip_whitespace();
            match self.text.get(self.at) {
                Some(b'"') => {}
                Some(_) => return Err(self.error("key must be a string")),
                None => return Err(self.error(OBJECT.eof)),
            }
            let key = self.string()?;
            if !self.eat(b':') {
                return Err(self.error("expected `:`"));
            }
            entries.push((key, self.value(depth)?));
            if !self.another(&OBJECT)? {
                break;
            }
        }
        // Sorted, the last of each key kept: reversed first, a stable sort puts each key's
        // last entry first among its own, and dedup keeps the first.
        entries.reverse();
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        entries.dedup_by(|a, b| a.0 == b.0);
        Ok(Json::Object(entries))
    }
}

/// Request types read from the tree as they would from serde_json's `Value`, strings
/// borrowed.
impl<'de, 'a: 'de> de::Deserializer<'de> for &'de Json<'a> {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self {
            Json::Null => visitor.visit_unit(),
            Json::Bool(b) => visitor.visit_bool(*b),
            Json::Number(n) => n.clone().deserialize_any(visitor),
            Json::String(s) => visitor.visit_borrowed_str(s),
            Json::Array(items) => visitor.visit_seq(Items(items.iter())),
            Json::Object(entries) => visitor.visit_map(Entries {
                entries: entries.iter(),
                value: None,
            }),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self {
            Json::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        match self {
            Json::String(s) => visitor.visit_enum(BorrowedStrDeserializer::new(s)),
            other => Err(de::Error::invalid_type(other.unexpected(), &"a string")),
        }
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct seq tuple tuple_struct map struct identifier ignored_any
    }
}

impl Json<'_> {
    fn unexpected(&self) -> de::Unexpected<'_> {
        match self {
            Json::Null => de::Unexpected::Unit,
            Json::Bool(b) => de::Unexpected::Bool(*b),
            Json::Number(_) => de::Unexpected::Other("number"),
            Json::String(s) => de::Unexpected::Str(s),
            Json::Array(_) => de::Unexpected::Seq,
            Json::Object(_) => de::Unexpected::Map,
        }
    }
}

struct Items<'de, 'a>(std::slice::Iter<'de, Json<'a>>);

impl<'de, 'a: 'de> de::SeqAccess<'de> for Items<'de, 'a> {
    type Error = serde_json::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Self::Error> {
        self.0.next().map(|item| seed.deserialize(item)).transpose()
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.0.len())
    }
}

struct Entries<'de, 'a> {
    entries: std::slice::Iter<'de, (Cow<'a, str>, Json<'a>)>,
    value: Option<&'de Json<'a>>,
}

impl<'de, 'a: 'de> de::MapAccess<'de> for Entries<'de, 'a> {
    type Error = serde_json::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Self::Error> {
        let Some((key, value)) = self.entries.next() else {
            return Ok(None);
        };
        self.value = Some(value);
        let key: &'de str = key;
        seed.deserialize(key.into_deserializer()).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, Self::Error> {
        match self.value.take() {
            Some(value) => seed.deserialize(value),
            None => Err(de::Error::custom("a value without its key")),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(text: &str) -> Json<'_> {
        Json::parse(text.as_bytes()).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn refused(text: &str) -> String {
        Json::parse(text.as_bytes())
            .map(|v| panic!("{text} parsed as {v:?}"))
            .unwrap_err()
            .to_string()
    }

    /// The tree read back as serde_json's own value, for comparison.
    fn as_value(json: &Json<'_>) -> serde_json::Value {
        serde::Deserialize::deserialize(json).unwrap()
    }

    #[test]
    fn reads_what_serde_json_reads() {
        for text in [
            r#"{"KeyId": "k", "Plaintext": "aGVsbG8=", "N": 12, "F": -1.5e3, "B": [true, false, null]}"#,
            r#"{"a": {"b": {"c": []}}, "e": {}, "u": "\u00e9\n\"x\"\\", "w": "été ✓"}"#,
            r#"  [1, "two", {"3": 4}]  "#,
            "18446744073709551615",
            "-9223372036854775808",
            "\"\"",
        ] {
            let expected: serde_json::Value = serde_json::from_str(text).unwrap();
            assert_eq!(as_value(&parse(text)), expected, "{text}");
        }
    }

    #[test]
    fn strings_without_escapes_are_borrowed() {
        let json = parse(r#"{"Plaintext": "aGVsbG8=", "Escaped": "a\"b"}"#);
        assert!(matches!(
            json.get("Plaintext"),
            Some(Json::String(Cow::Borrowed("aGVsbG8=")))
        ));
        assert!(matches!(json.get("Escaped"), Some(Json::String(Cow::Owned(s))) if s == "a\"b"));
    }

    #[test]
    fn objects_keep_the_last_of_each_key_sorted() {
        let json = parse(r#"{"b": 1, "a": 2, "b": 3, "c": 4, "a": 5}"#);
        assert_eq!(as_value(&json), json!({"a": 5, "b": 3, "c": 4}));
        let Json::Object(entries) = &json else {
            panic!("an object")
        };
        let keys: Vec<&str> = entries.iter().map(|(k, _)| &**k).collect();
        assert_eq!(keys, ["a", "b", "c"]);
    }

    #[test]
    fn insert_and_lookup_keep_the_order() {
        let mut json = parse(r#"{"b": 1, "d": 2}"#);
        json.insert("c", Json::Bool(true));
        json.insert("a", Json::Null);
        json.insert("d", Json::Bool(false));
        assert_eq!(
            as_value(&json),
            json!({"a": null, "b": 1, "c": true, "d": false})
        );
        assert_eq!(json.get("c"), Some(&Json::Bool(true)));
        assert_eq!(json.get("z"), None);
    }

    #[test]
    fn refuses_what_is_not_json() {
        assert_eq!(refused(""), "EOF while parsing a value at line 1 column 1");
        assert_eq!(
            refused("{\"a\": 1,\n \"b\" 2}"),
            "expected `:` at line 2 column 6"
        );
        for text in [
            "{",
            "{\"a\"",
            "{\"a\": }",
            "[1, 2",
            "[1 2]",
            "{1: 2}",
            "\"open",
            "\"ends in a backslash\\",
            "\"bad escape \\q\"",
            "\"lone surrogate \\ud800\"",
            "\"raw\ncontrol\"",
            "tru",
            "nul",
            "01",
            "1.",
            "--1",
            "1e999",
            "{} {}",
            "{}x",
            "\u{feff}{}",
        ] {
            refused(text);
        }
        let invalid_utf8 = b"\"\xff\xfe\"";
        assert!(Json::parse(invalid_utf8).is_err());
        // Anywhere in a long string: the check runs over the whole of it.
        for at in [0, 63, 64, 1000, 1399] {
            let mut text = format!("\"{}\"", "A".repeat(1400)).into_bytes();
            text[1 + at] = 0x1f;
            assert!(Json::parse(&text).is_err(), "a control character at {at}");
        }
    }

    #[test]
    fn deep_nesting_is_refused_not_a_crash() {
        let deep = "[".repeat(100_000);
        assert!(refused(&deep).starts_with("recursion limit exceeded"));
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        parse(&ok);
    }

    #[test]
    fn request_types_read_from_the_tree() {
        #[derive(serde::Deserialize, Debug, PartialEq)]
        #[serde(rename_all = "PascalCase")]
        struct Request {
            key_id: String,
            limit: Option<i64>,
            tags: Vec<(String, bool)>,
            missing: Option<String>,
            null: Option<String>,
            spec: Spec,
        }
        #[derive(serde::Deserialize, Debug, PartialEq)]
        enum Spec {
            #[serde(rename = "RSA_2048")]
            Rsa2048,
        }
        let json = parse(
            r#"{"KeyId": "k", "Limit": 7, "Tags": [["a", true]], "Null": null, "Spec": "RSA_2048"}"#,
        );
        let request: Request = serde::Deserialize::deserialize(&json).unwrap();
        assert_eq!(
            request,
            Request {
                key_id: "k".into(),
                limit: Some(7),
                tags: vec![("a".into(), true)],
                missing: None,
                null: None,
                spec: Spec::Rsa2048,
            }
        );
        let wrong = parse(r#"{"KeyId": 1, "Tags": [], "Spec": "RSA_2048"}"#);
        let err = <Request as serde::Deserialize>::deserialize(&wrong).unwrap_err();
        assert!(err.to_string().starts_with("invalid type"), "{err}");
    }
}
