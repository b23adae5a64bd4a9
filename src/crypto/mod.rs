//! Cryptography, all from RustCrypto crates: secrets that cannot leak through `Debug`,
//! key material of every key spec, the symmetric ciphertext blob, signatures, public-key
//! encryption, key agreement, MACs, and the envelope an attested enclave receives
//! (`Recipient`).

pub mod agreement;
pub mod attestation;
pub mod blob;
pub mod buffers;
pub mod cms;
pub mod json_out;
pub mod mac;
pub mod material;
pub mod pke;
pub mod pool;
pub mod secret;
pub mod secret_key;
pub mod sign;
pub mod symmetric;
pub mod unwrap;

pub use material::Material;
pub use secret::Secret;
pub use secret_key::SecretKey;

use rand::Rng;

/// `len` bytes from the thread-local CSPRNG (ChaCha, seeded from the OS).
pub fn random_bytes(len: usize) -> Secret {
    let mut bytes = Secret::zeroed(len);
    rand::rng().fill_bytes(bytes.expose_mut());
    bytes
}

pub fn random_array<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    rand::rng().fill_bytes(&mut bytes);
    bytes
}

/// The bytes of an even-length hex string; `None` for anything else.
pub fn unhex(text: &str) -> Option<Vec<u8>> {
    let mut bytes = vec![0; text.len() / 2];
    unhex_into(text.as_bytes(), &mut bytes)?;
    Some(bytes)
}

/// Fills `out` from hex digits (either case), exactly two for each byte; `None` for
/// anything else. Checked in one pass and converted in another, both without branches:
/// start-up reads a few hundred thousand.
pub fn unhex_into(text: &[u8], out: &mut [u8]) -> Option<()> {
    if text.len() != out.len() * 2 || !text.iter().fold(true, |ok, c| ok & c.is_ascii_hexdigit()) {
        return None;
    }
    // '0'..='9' are 0x30..0x39, 'a'..='f' 0x61..0x66, 'A'..='F' 0x41..0x46: the low four bits,
    // plus nine for a letter (bit 6).
    let value = |c: u8| (c & 0x0f) + 9 * (c >> 6);
    for (byte, pair) in out.iter_mut().zip(text.chunks_exact(2)) {
        *byte = value(pair[0]) << 4 | value(pair[1]);
    }
    Some(())
}

/// Lowercase hex, for key material ids.
pub fn hex(bytes: &[u8]) -> String {
    let mut out = Vec::with_capacity(bytes.len() * 2);
    hex_into(bytes, &mut out);
    String::from_utf8(out).expect("hex digits are ASCII")
}

/// Appends the lowercase hex of `bytes` to `out` (a wiped buffer, for key material).
pub fn hex_into(bytes: &[u8], out: &mut Vec<u8>) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for b in bytes {
        out.extend([DIGITS[usize::from(b >> 4)], DIGITS[usize::from(b & 0xf)]]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips_and_refuses_what_is_not_hex() {
        let every: Vec<u8> = (0..=255).collect();
        assert_eq!(unhex(&hex(&every)), Some(every.clone()));
        assert_eq!(unhex(&hex(&every).to_uppercase()), Some(every));
        assert_eq!(unhex("00aAfF9"), None);
        assert_eq!(unhex(""), Some(Vec::new()));
        // Every byte that is not a hex digit, in either place of a pair.
        for c in (0..=255u8).filter(|c| !c.is_ascii_hexdigit()) {
            for pair in [[c, b'0'], [b'0', c]] {
                let mut out = [0];
                assert_eq!(unhex_into(&pair, &mut out), None, "{pair:?}");
            }
        }
    }
}
