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
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
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
