//! Key material as seed files write it: bytes in hex or base64 for symmetric and HMAC
//! keys, private keys as PEM (PKCS#8, SEC1 `EC PRIVATE KEY` or PKCS#1 `RSA PRIVATE KEY`).

use base64_simd::STANDARD;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::EncodePrivateKey;
use sha2::{Digest, Sha256};

use crate::crypto::{Secret, SecretKey};
use crate::model::KeySpec;

/// Hex when the text is all hex digits (of even length), base64 otherwise.
pub fn decode_bytes(text: &str) -> Result<Secret, String> {
    let text = text.trim();
    if !text.is_empty()
        && text.len().is_multiple_of(2)
        && text.bytes().all(|b| b.is_ascii_hexdigit())
    {
        let bytes = crate::crypto::unhex(text).ok_or("key material is not valid hex")?;
        return Ok(Secret::new(bytes));
    }
    STANDARD
        .decode_to_vec(text)
        .map(Secret::new)
        .map_err(|_| "key material is neither hex nor base64".to_owned())
}

/// The byte lengths AWS accepts for imported material of a symmetric or HMAC spec.
fn length_range(spec: KeySpec) -> Option<(usize, usize)> {
    match spec {
        KeySpec::SymmetricDefault => Some((32, 32)),
        KeySpec::Hmac224 => Some((28, 64)),
        KeySpec::Hmac256 => Some((32, 64)),
        KeySpec::Hmac384 => Some((48, 128)),
        KeySpec::Hmac512 => Some((64, 128)),
        _ => None,
    }
}

/// Symmetric or HMAC key material of `spec` from its bytes.
pub fn symmetric_key(spec: KeySpec, bytes: &Secret) -> Result<SecretKey, String> {
    let (min, max) = length_range(spec)
        .ok_or_else(|| format!("a {spec} key takes a private_key in PEM, not material bytes"))?;
    if !(min..=max).contains(&bytes.len()) {
        let wanted = if min == max {
            format!("{min}")
        } else {
            format!("{min} to {max}")
        };
        return Err(format!(
            "{spec} material must be {wanted} bytes, not {}",
            bytes.len()
        ));
    }
    SecretKey::from_storage(spec, bytes.expose()).map_err(str::to_owned)
}

/// A private key from PEM, as PKCS#8 DER.
pub fn pkcs8_from_pem(pem: &str) -> Result<(String, Secret), String> {
    let (label, der) = pem_rfc7468::decode_vec(pem.trim().as_bytes())
        .map_err(|e| format!("private_key is not PEM: {e}"))?;
    let der = Secret::new(der);
    let pkcs8 = match label {
        "PRIVATE KEY" => der,
        "RSA PRIVATE KEY" => {
            let key = rsa::PrivateKey::from_pkcs1_der(der.expose())
                .map_err(|e| format!("private_key is not a PKCS #1 RSA key: {e}"))?;
            Secret::new(
                key.to_pkcs8_der()
                    .map_err(|e| e.to_string())?
                    .as_bytes()
                    .to_vec(),
            )
        }
        "EC PRIVATE KEY" => sec1_to_pkcs8(der.expose())?,
        other => return Err(format!("private_key is a PEM {other:?}, not a private key")),
    };
    Ok((label.to_owned(), pkcs8))
}

/// SEC1 keys carry their curve; try each curve AWS offers.
fn sec1_to_pkcs8(der: &[u8]) -> Result<Secret, String> {
    macro_rules! try_curve {
        ($curve:ident) => {
            if let Ok(key) = $curve::SecretKey::from_sec1_der(der) {
                return key
                    .to_pkcs8_der()
                    .map(|d| Secret::new(d.as_bytes().to_vec()))
                    .map_err(|e| e.to_string());
            }
        };
    }
    try_curve!(p256);
    try_curve!(p384);
    try_curve!(p521);
    try_curve!(k256);
    try_curve!(sm2);
    Err("private_key is an EC key on a curve AWS KMS does not offer".to_owned())
}

/// The key spec of a PKCS#8 private key, for formats that do not name it.
pub fn spec_of(pkcs8: &Secret) -> Option<KeySpec> {
    [
        KeySpec::Rsa2048,
        KeySpec::Rsa3072,
        KeySpec::Rsa4096,
        KeySpec::EccNistP256,
        KeySpec::EccNistP384,
        KeySpec::EccNistP521,
        KeySpec::EccSecgP256k1,
        KeySpec::EccNistEdwards25519,
        KeySpec::Sm2,
        KeySpec::MlDsa44,
        KeySpec::MlDsa65,
        KeySpec::MlDsa87,
    ]
    .into_iter()
    .find_map(|spec| SecretKey::from_storage(spec, pkcs8.expose()).ok())
    .map(|key| key.spec())
}

/// An asymmetric key of `spec` from PKCS#8 DER.
pub fn private_key(spec: KeySpec, pkcs8: &Secret) -> Result<SecretKey, String> {
    let key = SecretKey::from_storage(spec, pkcs8.expose())
        .map_err(|_| format!("private_key is not a {spec} key"))?;
    if key.spec() != spec {
        return Err(format!("private_key is a {} key, not {spec}", key.spec()));
    }
    Ok(key)
}

/// Seeded material gets an id derived from its key and bytes, so that ciphertexts made
/// under it decrypt wherever the same seed is loaded.
pub fn material_id(key_id: &str, bytes: &Secret) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"trent seed material\0");
    h.update(key_id.as_bytes());
    h.update([0]);
    h.update(bytes.expose());
    h.finalize().into()
}

/// A 64-hex material id.
pub fn parse_material_id(text: &str) -> Result<[u8; 32], String> {
    let bytes = decode_bytes(text)?;
    bytes
        .expose()
        .try_into()
        .map_err(|_| format!("material id {text:?} is not 64 hex digits"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::pkcs8::DecodePrivateKey;

    #[test]
    fn hex_and_base64_material() {
        let hex = decode_bytes(&"ab".repeat(32)).unwrap();
        assert_eq!(hex.expose(), &[0xab; 32]);
        let b64 = decode_bytes(&STANDARD.encode_to_string([7u8; 32])).unwrap();
        assert_eq!(b64.expose(), &[7; 32]);
        assert!(decode_bytes("not material!").is_err());
        assert!(symmetric_key(KeySpec::SymmetricDefault, &Secret::new(vec![0; 16])).is_err());
        assert!(symmetric_key(KeySpec::Hmac256, &Secret::new(vec![0; 40])).is_ok());
    }

    #[test]
    fn pem_forms_become_pkcs8() {
        let key = SecretKey::generate(KeySpec::EccNistP384);
        let der = key.to_storage();
        let pem =
            pem_rfc7468::encode_string("PRIVATE KEY", Default::default(), der.expose()).unwrap();
        let (_, pkcs8) = pkcs8_from_pem(&pem).unwrap();
        assert_eq!(spec_of(&pkcs8), Some(KeySpec::EccNistP384));
        let sec1 = p384::SecretKey::from_pkcs8_der(der.expose())
            .unwrap()
            .to_sec1_der()
            .unwrap();
        let pem = pem_rfc7468::encode_string("EC PRIVATE KEY", Default::default(), &sec1).unwrap();
        let (_, pkcs8) = pkcs8_from_pem(&pem).unwrap();
        assert_eq!(
            private_key(KeySpec::EccNistP384, &pkcs8)
                .unwrap()
                .public_key_der(),
            key.public_key_der()
        );
        assert!(private_key(KeySpec::EccNistP256, &pkcs8).is_err());
    }

    #[test]
    fn material_ids_are_stable_per_key_and_bytes() {
        let bytes = Secret::new(vec![1; 32]);
        assert_eq!(material_id("a", &bytes), material_id("a", &bytes));
        assert_ne!(material_id("a", &bytes), material_id("b", &bytes));
    }
}
