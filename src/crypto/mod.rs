//! Cryptography, all from RustCrypto crates: secrets that cannot leak through `Debug`,
//! key material of every key spec, the symmetric ciphertext blob, signatures, public-key
//! encryption, key agreement, MACs, and the envelope an attested enclave receives
//! (`Recipient`).

pub mod agreement;
pub mod attestation;
pub mod blob;
pub mod cms;
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
    let mut bytes = vec![0u8; len];
    rand::rng().fill_bytes(&mut bytes);
    Secret::new(bytes)
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
/// anything else. A table lookup a digit: start-up reads a few hundred thousand.
pub fn unhex_into(text: &[u8], out: &mut [u8]) -> Option<()> {
    const INVALID: u8 = 0xff;
    const VALUES: [u8; 256] = {
        let mut table = [INVALID; 256];
        let mut i = 0;
        while i < 10 {
            table[b'0' as usize + i] = i as u8;
            i += 1;
        }
        let mut i = 0;
        while i < 6 {
            table[b'a' as usize + i] = 10 + i as u8;
            table[b'A' as usize + i] = 10 + i as u8;
            i += 1;
        }
        table
    };
    if text.len() != out.len() * 2 {
        return None;
    }
    let mut invalid = 0;
    for (byte, pair) in out.iter_mut().zip(text.chunks_exact(2)) {
        let (high, low) = (VALUES[usize::from(pair[0])], VALUES[usize::from(pair[1])]);
        invalid |= high | low;
        *byte = high << 4 | low;
    }
    (invalid & 0xf0 == 0).then_some(())
}

/// Lowercase hex, for key material ids.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    out
}
