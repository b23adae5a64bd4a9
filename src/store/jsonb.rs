//! Reading SQLite's JSONB (<https://sqlite.org/jsonb.html>). Every element starts with
//! its type and its size, so stepping over one is a few comparisons where text JSON is
//! scanned byte by byte: a key's record is stored as JSONB (SQLite converts the text trent
//! writes, `jsonb(?)`), and start-up reads 100,000 of them.
//!
//! Only what a key's record holds is read: integers, strings (with or without escapes),
//! arrays and objects. Anything else (null, booleans, floats, JSON5 forms) is refused.

use std::borrow::Cow;

use crate::BoxError;

const INT: u8 = 3;
const TEXT: u8 = 7;
const TEXTJ: u8 = 8;
const TEXTRAW: u8 = 10;
const ARRAY: u8 = 11;
const OBJECT: u8 = 12;

/// One element: its type and its payload.
#[derive(Clone, Copy, Debug)]
pub struct Element<'a> {
    kind: u8,
    payload: &'a [u8],
}

impl<'a> Element<'a> {
    /// The document `bytes` holds, which must be exactly one element.
    pub fn document(bytes: &'a [u8]) -> Result<Self, BoxError> {
        match Self::split(bytes)? {
            (element, []) => Ok(element),
            _ => Err("bytes after the JSONB document".into()),
        }
    }

    /// The element at the start of `bytes`, and what follows it.
    #[inline]
    fn split(bytes: &'a [u8]) -> Result<(Self, &'a [u8]), &'static str> {
        const TRUNCATED: &str = "truncated JSONB";
        let (&first, rest) = bytes.split_first().ok_or(TRUNCATED)?;
        // The high four bits are the payload's size, or how many bytes (big-endian) hold it.
        let (size, rest) = match first >> 4 {
            small @ 0..=11 => (usize::from(small), rest),
            12 => match rest.split_first() {
                Some((&size, rest)) => (usize::from(size), rest),
                None => return Err(TRUNCATED),
            },
            wide => {
                let (size, rest) = rest.split_at_checked(1 << (wide - 12)).ok_or(TRUNCATED)?;
                let size = size.iter().fold(0u64, |n, &b| n << 8 | u64::from(b));
                (usize::try_from(size).map_err(|_| TRUNCATED)?, rest)
            }
        };
        let (payload, rest) = rest.split_at_checked(size).ok_or(TRUNCATED)?;
        let kind = first & 0x0f;
        Ok((Self { kind, payload }, rest))
    }

    /// An integer, read from its digits here: std's parse would check their UTF-8 first.
    pub fn int(self) -> Result<i64, BoxError> {
        const BAD: &str = "a JSONB integer out of range";
        if self.kind != INT {
            return Err(self.unexpected("an integer"));
        }
        let (negative, digits) = match self.payload {
            [b'-', digits @ ..] => (true, digits),
            digits => (false, digits),
        };
        if digits.is_empty() {
            return Err(BAD.into());
        }
        let mut n: i64 = 0;
        for &d in digits {
            let digit = d.wrapping_sub(b'0');
            if digit > 9 {
                return Err(BAD.into());
            }
            // Eighteen digits never overflow; only longer numbers are checked.
            n = match digits.len() {
                ..=18 => n * 10 + i64::from(digit),
                _ => n
                    .checked_mul(10)
                    .and_then(|n| n.checked_add(i64::from(digit)))
                    .ok_or(BAD)?,
            };
        }
        Ok(if negative { -n } else { n })
    }

    /// A string's bytes as stored, for strings that never hold escapes (hex, names).
    pub fn raw(self) -> Result<&'a [u8], BoxError> {
        match self.kind {
            TEXT | TEXTRAW => Ok(self.payload),
            _ => Err(self.unexpected("a plain string")),
        }
    }

    /// A string, borrowed unless it had escapes to undo.
    pub fn string(self) -> Result<Cow<'a, str>, BoxError> {
        match self.kind {
            TEXT | TEXTRAW => Ok(Cow::Borrowed(std::str::from_utf8(self.payload)?)),
            TEXTJ => {
                // The payload is a JSON string's inside, escapes and all.
                let inside = std::str::from_utf8(self.payload)?;
                Ok(Cow::Owned(serde_json::from_str(&format!("\"{inside}\""))?))
            }
            _ => Err(self.unexpected("a string")),
        }
    }

    /// An array's items, in order.
    pub fn items(self) -> Result<Items<'a>, BoxError> {
        match self.kind {
            ARRAY => Ok(Items(self.payload)),
            _ => Err(self.unexpected("an array")),
        }
    }

    /// An object's labels (as stored: trent's labels need no escapes) and values, in order.
    pub fn members(self) -> Result<Members<'a>, BoxError> {
        match self.kind {
            OBJECT => Ok(Members(Items(self.payload))),
            _ => Err(self.unexpected("an object")),
        }
    }

    fn unexpected(self, wanted: &str) -> BoxError {
        format!(
            "a JSONB element of type {} where {wanted} belongs",
            self.kind
        )
        .into()
    }
}

pub struct Items<'a>(&'a [u8]);

impl<'a> Iterator for Items<'a> {
    type Item = Result<Element<'a>, &'static str>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.0.is_empty() {
            return None;
        }
        Some(Element::split(self.0).map(|(element, rest)| {
            self.0 = rest;
            element
        }))
    }
}

pub struct Members<'a>(Items<'a>);

impl<'a> Iterator for Members<'a> {
    type Item = Result<(&'a [u8], Element<'a>), &'static str>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        let label = match self.0.next()? {
            Ok(Element {
                kind: TEXT | TEXTRAW,
                payload,
            }) => payload,
            Ok(_) => return Some(Err("a JSONB label that is not a plain string")),
            Err(e) => return Some(Err(e)),
        };
        Some(match self.0.next() {
            Some(Ok(value)) => Ok((label, value)),
            Some(Err(e)) => Err(e),
            None => Err("a JSONB label without a value"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn jsonb(text: &str) -> Vec<u8> {
        let pool = sqlx::SqlitePool::connect("sqlite::memory:").await.unwrap();
        sqlx::query_scalar("SELECT jsonb(?)")
            .bind(text)
            .fetch_one(&pool)
            .await
            .unwrap()
    }

    /// Rebuilds serde_json's value from the elements, to compare with the text's.
    fn value(e: Element) -> serde_json::Value {
        use serde_json::Value;
        match e.kind {
            0 => return Value::Null,
            1 | 2 => return Value::Bool(e.kind == 1),
            _ => {}
        }
        if let Ok(n) = e.int() {
            return n.into();
        }
        if let Ok(s) = e.string() {
            return s.into_owned().into();
        }
        if let Ok(items) = e.items() {
            return items.map(|i| value(i.unwrap())).collect();
        }
        let members = e.members().unwrap().map(Result::unwrap);
        Value::Object(
            members
                .map(|(k, v)| (String::from_utf8(k.to_vec()).unwrap(), value(v)))
                .collect(),
        )
    }

    /// What SQLite's own `jsonb()` makes of a document reads back as serde_json reads the
    /// text; strings that need no unescaping are borrowed.
    #[tokio::test]
    async fn reads_what_sqlite_writes() {
        let text = r#"{"n":1764489600000,"neg":-7,"s":"plain","e":"a \"quoted\" \\ é 🙂\nline",
            "t":true,"f":false,"z":null,"list":[1,"two",[3],{"four":4}],"empty":{},
            "long":"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789"}"#;
        let bytes = jsonb(text).await;
        let document = Element::document(&bytes).unwrap();
        assert_eq!(
            value(document),
            serde_json::from_str::<serde_json::Value>(text).unwrap()
        );
        let mut members = document.members().unwrap().map(Result::unwrap);
        let (label, plain) = members.nth(2).unwrap();
        assert_eq!(label, b"s");
        assert!(matches!(plain.string().unwrap(), Cow::Borrowed("plain")));
        let (_, escaped) = members.next().unwrap();
        assert_eq!(escaped.string().unwrap(), "a \"quoted\" \\ é 🙂\nline");
        assert!(escaped.raw().is_err());
    }

    #[test]
    fn refuses_what_it_cannot_read() {
        for bad in [&[][..], &[0x13], &[0xc7, 5, b'a'], &[0x00, 0x00]] {
            assert!(Element::document(bad).is_err(), "{bad:?}");
        }
        // A float and a reserved type are elements, but not ones read here.
        for kind in [[0x05], [0x0d]] {
            let e = Element::document(&kind).unwrap();
            assert!(e.int().is_err() && e.string().is_err() && e.members().is_err());
        }
        // An object with a label and no value.
        let e = Element::document(&[0x2c, 0x17, b'k']).unwrap();
        assert!(e.members().unwrap().next().unwrap().is_err());
    }
}
