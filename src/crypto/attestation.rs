//! The public key inside an attestation document (AWS Nitro Enclaves, NitroTPM): a
//! COSE_Sign1 structure (CBOR) whose payload is a CBOR map with a `public_key` entry.
//!
//! trent reads the key but cannot check the document's signature against AWS's Nitro
//! PKI: a local service has no attested hardware behind it, so documents are trusted.

use rsa::PublicKey;
use rsa::pkcs8::DecodePublicKey;
use rsa::traits::PublicKeyParts;

use super::cms::Recipient;

/// CBOR nesting this reader follows before it gives up (attestation documents use 3).
const MAX_DEPTH: usize = 16;
/// The smallest enclave key KMS encrypts to.
const MIN_RSA_BITS: usize = 2048;

/// Why a document was refused, for the ValidationException message.
pub type Refusal = &'static str;

/// The enclave the document describes: the RSA public key it carries.
pub fn recipient(document: &[u8]) -> Result<Recipient, Refusal> {
    let mut r = Reader {
        data: document,
        pos: 0,
    };
    let (mut major, mut arg) = r.head()?;
    if major == TAG {
        // COSE_Sign1 may be tagged (18) or, as Nitro sends it, untagged.
        (major, arg) = r.head()?;
    }
    if (major, arg) != (ARRAY, 4) {
        return Err("it is not a COSE_Sign1 structure");
    }
    r.bytes()?; // protected header
    r.skip(0)?; // unprotected header
    let payload = r.bytes()?;
    r.bytes()?; // signature

    let mut p = Reader {
        data: payload,
        pos: 0,
    };
    let (major, entries) = p.head()?;
    if major != MAP {
        return Err("its payload is not a CBOR map");
    }
    let mut key = None;
    for _ in 0..entries {
        let name = p.text()?;
        if name == "public_key" {
            key = Some(p.bytes()?);
        } else {
            p.skip(0)?;
        }
    }
    let der = key.ok_or("it has no public_key")?;
    let key = PublicKey::from_public_key_der(der)
        .map_err(|_| "its public_key is not an RSA SubjectPublicKeyInfo")?;
    if key.size() * 8 < MIN_RSA_BITS {
        return Err("its public_key is shorter than 2048 bits");
    }
    Ok(Recipient {
        key,
        spki_der: der.to_vec(),
    })
}

const UINT: u8 = 0;
const NINT: u8 = 1;
const BYTES: u8 = 2;
const TEXT: u8 = 3;
const ARRAY: u8 = 4;
const MAP: u8 = 5;
const TAG: u8 = 6;
const SIMPLE: u8 = 7;

/// A definite-length CBOR reader: just what an attestation document needs.
struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], Refusal> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.data.len());
        let end = end.ok_or("it is truncated")?;
        let out = &self.data[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    /// A data item's major type and argument.
    fn head(&mut self) -> Result<(u8, u64), Refusal> {
        let first = self.take(1)?[0];
        let (major, info) = (first >> 5, first & 0x1f);
        let arg = match info {
            0..=23 => u64::from(info),
            24..=27 => {
                let len = 1usize << (info - 24);
                self.take(len)?
                    .iter()
                    .fold(0u64, |acc, b| (acc << 8) | u64::from(*b))
            }
            _ => return Err("it uses indefinite-length CBOR"),
        };
        Ok((major, arg))
    }

    fn bytes(&mut self) -> Result<&'a [u8], Refusal> {
        match self.head()? {
            (BYTES, len) => self.take(usize::try_from(len).map_err(|_| "it is truncated")?),
            _ => Err("a byte string is missing"),
        }
    }

    fn text(&mut self) -> Result<&'a str, Refusal> {
        match self.head()? {
            (TEXT, len) => {
                let raw = self.take(usize::try_from(len).map_err(|_| "it is truncated")?)?;
                std::str::from_utf8(raw).map_err(|_| "a text string is not UTF-8")
            }
            _ => Err("a map key is not text"),
        }
    }

    /// Skips one complete data item.
    fn skip(&mut self, depth: usize) -> Result<(), Refusal> {
        if depth > MAX_DEPTH {
            return Err("it nests too deeply");
        }
        let (major, arg) = self.head()?;
        let len = usize::try_from(arg).map_err(|_| "it is truncated")?;
        match major {
            UINT | NINT | SIMPLE => Ok(()),
            BYTES | TEXT => self.take(len).map(drop),
            ARRAY => (0..len).try_for_each(|_| self.skip(depth + 1)),
            MAP => (0..len.saturating_mul(2)).try_for_each(|_| self.skip(depth + 1)),
            TAG => self.skip(depth + 1),
            _ => Err("it is not CBOR"),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use rsa::pkcs8::EncodePublicKey;

    fn head(major: u8, arg: usize) -> Vec<u8> {
        match arg {
            0..=23 => vec![(major << 5) | arg as u8],
            24..=0xff => vec![(major << 5) | 24, arg as u8],
            _ => {
                let mut v = vec![(major << 5) | 25];
                v.extend_from_slice(&(arg as u16).to_be_bytes());
                v
            }
        }
    }

    fn bstr(b: &[u8]) -> Vec<u8> {
        [head(BYTES, b.len()), b.to_vec()].concat()
    }

    fn tstr(s: &str) -> Vec<u8> {
        [head(TEXT, s.len()), s.as_bytes().to_vec()].concat()
    }

    /// An untagged COSE_Sign1 document, as an enclave would send, around `public_key`.
    pub(crate) fn document(public_key: Option<&[u8]>) -> Vec<u8> {
        let mut payload = head(MAP, 3 + usize::from(public_key.is_some()));
        payload.extend(tstr("module_id"));
        payload.extend(tstr("i-0123-enc0123"));
        payload.extend(tstr("pcrs"));
        payload.extend(head(MAP, 1));
        payload.push(0);
        payload.extend(bstr(&[0; 48]));
        if let Some(k) = public_key {
            payload.extend(tstr("public_key"));
            payload.extend(bstr(k));
        }
        payload.extend(tstr("nonce"));
        payload.push(0xf6); // null
        let mut doc = head(ARRAY, 4);
        doc.extend(bstr(&[0xa1, 0x01, 0x38, 0x22]));
        doc.extend(head(MAP, 0));
        doc.extend(bstr(&payload));
        doc.extend(bstr(&[0; 96]));
        doc
    }

    pub(crate) fn rsa_key() -> rsa::PrivateKey {
        rsa::PrivateKey::new(&mut rand::rng(), 2048).unwrap()
    }

    #[test]
    fn finds_the_public_key() {
        let private = rsa_key();
        let der = PublicKey::from(&private).to_public_key_der().unwrap();
        let found = recipient(&document(Some(der.as_bytes()))).unwrap();
        assert_eq!(found.key, PublicKey::from(&private));
        assert_eq!(found.spki_der, der.as_bytes());
        // Tagged (18) works too.
        let tagged = [vec![0xd2], document(Some(der.as_bytes()))].concat();
        assert!(recipient(&tagged).is_ok());
    }

    #[test]
    fn refuses_what_is_not_a_usable_document() {
        assert_eq!(
            recipient(&document(None)).unwrap_err(),
            "it has no public_key"
        );
        assert!(recipient(&document(Some(b"not a key"))).is_err());
        assert!(recipient(b"").is_err());
        assert!(recipient(&[0x84, 0x41]).is_err());
        assert!(recipient(&[0x9f; 64]).is_err());
        let deep = [vec![0x84, 0x40], vec![0x81; 100]].concat();
        assert!(recipient(&deep).is_err());
    }
}
